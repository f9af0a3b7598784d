"""Local fake AI-provider servers for tests (see :mod:`tests.fakes.servers`).

Names are loaded lazily so that ``python -m tests.fakes.servers`` runs cleanly.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MODELS", "KINDS", "FakeProviderServer", "RecordedRequest", "split_words"]


def __getattr__(name: str):
    if name in __all__:
        from . import servers

        return getattr(servers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
