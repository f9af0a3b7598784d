"""Pytest fixtures for the fake provider servers.

Use from a test module (``from tests.fakes.pytest_plugin import fake_server``) or register the
module in a conftest: ``pytest_plugins = ["tests.fakes.pytest_plugin"]``.

    def test_something(fake_server):
        srv = fake_server("ollama", replies=["Hi"], chunk_delay=0.01)
        provider = make_provider(srv.config())
"""

from __future__ import annotations

import pytest

from .servers import FakeProviderServer


@pytest.fixture
def fake_server():
    """Factory: ``fake_server(kind, **options)`` starts a server that stops after the test."""
    started: list[FakeProviderServer] = []

    def factory(kind: str = "openai", replies=None, **options) -> FakeProviderServer:
        srv = FakeProviderServer(kind, replies, **options).start()
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        srv.stop()
