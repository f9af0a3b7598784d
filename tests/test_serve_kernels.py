"""Bounded kernels on a real ``tftsr dashboard --cull-idle 10``: a page that never opens its
WebSocket loses its kernel after the grace period, a disconnected page's kernel is culled after
the idle timeout, an open page keeps its kernel, a closed tab releases it at once, and the
preheated kernel is never culled."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, running_dashboard

pytestmark = [pytest.mark.slow]
websockets_sync = pytest.importorskip("websockets.sync.client")
CULL = 10  # seconds; the grace period is the same, the culler looks every 3 s
SLACK = 25  # a busy machine: the culler's interval plus time to answer


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    data = tmp_path_factory.mktemp("kernels") / "data"
    wb = tftsr_kernel.open(data, shared=False)
    create_demo(wb)
    wb.close()
    with running_dashboard(data, "--cull-idle", str(CULL)) as d:
        yield d


def _page_kernels(dash) -> list[dict]:
    return [k for k in dash.kernels() if not k["pooled"]]


def _wait(predicate, timeout: float, step: float = 0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def _load(dash) -> str:
    """A curl-like GET of the page; returns the kernel id the page was given."""
    status, body, _ = dash.get("?token=" + dash.token, token=False)
    assert status == 200
    marker = '"kernelId": "'
    return body.split(marker, 1)[1].split('"', 1)[0]


def _channels(dash, kernel_id):
    sock = socket.create_connection(("127.0.0.1", dash.port), timeout=20)
    return websockets_sync.connect(f"ws://127.0.0.1:{dash.port}/api/kernels/{kernel_id}/channels",
                                   sock=sock, additional_headers={"Authorization": f"token {dash.token}"},
                                   open_timeout=20)


def test_pages_never_opened_lose_their_kernels_after_the_grace_period(dash):
    ids = set()
    for _ in range(3):  # the first takes the pool kernel, the others start their own
        kid = _load(dash)
        assert kid in {k["id"] for k in dash.kernels()}  # served, not yet connected: still there
        ids.add(kid)
    assert len(ids) == 3
    assert _wait(lambda: not (ids & {k["id"] for k in dash.kernels()}), CULL + SLACK), dash.kernels()
    assert _wait(lambda: [k for k in dash.kernels() if k["pooled"]], 60)  # refilled, still one kept warm
    assert _wait(lambda: not _page_kernels(dash), SLACK), dash.kernels()


def test_a_disconnected_page_is_culled_and_an_open_one_is_kept(dash):
    with contextlib.ExitStack() as open_page:
        kept = _load(dash)
        open_page.enter_context(_channels(dash, kept))  # as a browser would, right after the page
        gone = _load(dash)
        with _channels(dash, gone):
            rows = {k["id"]: k for k in dash.kernels()}
            assert rows[gone]["connections"] == 1 and rows[kept]["connections"] == 1
        # `gone` lost its only connection (a crashed tab): culled after the idle timeout
        assert _wait(lambda: gone not in {k["id"] for k in dash.kernels()}, CULL + SLACK)
        pool = _wait(lambda: {k["id"] for k in dash.kernels() if k["pooled"]}, 60)
        time.sleep(CULL + 6)
        assert kept in {k["id"] for k in dash.kernels()}  # an open page keeps its kernel
        # the preheated kernel, idle and never connected for longer than the timeout, is kept
        assert {k["id"] for k in dash.kernels() if k["pooled"]} == pool
    assert _wait(lambda: kept not in {k["id"] for k in dash.kernels()}, CULL + SLACK)
    assert any(k["pooled"] for k in dash.kernels())


@pytest.mark.browser
def test_closing_a_tab_releases_its_kernel(dash):
    if not Path(CHROMIUM).exists():  # pragma: no cover
        pytest.skip(f"{CHROMIUM} is not installed")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctx = browser.new_context()
        pg = ctx.new_page()
        pg.goto(dash.url)
        pg.locator(".tftsr-open-issue").first.wait_for(timeout=120_000)
        kid = pg.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
        assert _wait(lambda: any(k["id"] == kid and k["connections"] for k in dash.kernels()), 30)
        t0 = time.monotonic()
        pg.close()  # the page asks Voila to shut its kernel down as it goes
        assert _wait(lambda: kid not in {k["id"] for k in dash.kernels()}, 10, 0.2), dash.kernels()
        released = time.monotonic() - t0
        assert released < CULL  # long before the culler could have done it

        # without that request (a crash, a lost network) the culler releases it after the timeout
        pg = ctx.new_page()
        pg.goto(dash.base)  # the session cookie is enough now
        pg.locator(".tftsr-open-issue").first.wait_for(timeout=120_000)
        kid = pg.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
        pg.evaluate("window.fetch = function () { return Promise.resolve(); }")  # the release never leaves
        pg.close()
        time.sleep(1)
        assert kid in {k["id"] for k in dash.kernels()}
        assert _wait(lambda: kid not in {k["id"] for k in dash.kernels()}, CULL + SLACK), dash.kernels()
        ctx.close()
        browser.close()
    assert _wait(lambda: [k for k in dash.kernels() if k["pooled"]], 60)


def test_new_pages_are_refused_past_max_kernels(tmp_path):
    """``--max-kernels 1``: one open page; the next gets a 503 page saying why, and no kernel."""
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    data = tmp_path / "data"
    wb = tftsr_kernel.open(data, shared=False)
    create_demo(wb)
    wb.close()
    with running_dashboard(data, "--max-kernels", "1") as d:
        first = _load(d)
        assert [k["id"] for k in _page_kernels(d)] == [first]
        before = {k["id"] for k in d.kernels()}
        status, body, headers = d.get("?token=" + d.token, token=False)
        assert status == 503 and "503 Busy" in body and "--max-kernels" in body and "serves 1 open pages" in body
        assert headers["Retry-After"] == "30" and "jupyter-config-data" not in body
        time.sleep(1)
        assert [k["id"] for k in _page_kernels(d)] == [first]  # the refused request took no kernel
        assert {k["id"] for k in d.kernels()} - before <= {k["id"] for k in d.kernels() if k["pooled"]}
