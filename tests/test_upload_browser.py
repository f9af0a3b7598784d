"""Large uploads through the dashboard in headless Chromium: a 50 MB log goes through the chunked
uploader with the progress bar seen moving and is stored byte for byte and scanned; a file over
the 100 MB limit is refused from its size before any transfer; a failed or cancelled upload is
followed by one that works. The dashboard is the real ``tftsr dashboard``, its URL (token
included) read from ``--json``."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("TFTSR_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
SHOTS = Path("/tmp/shots/serve-upload")
#: each test opens its own incident (an incident with a 50 MB log is slow to open: its review)
TITLES = {"test_50mb_log_through_the_browser_is_stored_byte_for_byte_and_scanned": "Upload incident big",
          "test_over_the_limit_is_refused_before_any_transfer": "Upload incident limit",
          "test_failed_and_cancelled_uploads_then_a_small_one_works": "Upload incident recover"}

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")


def make_log(path: Path, size: int) -> Path:
    """A text log of exactly ``size`` bytes with PII on every line (deterministic)."""
    lines = []
    n = 0
    while n < 1 << 20:
        i = len(lines)
        user = f" user=user{i}@example.com" if i % 20 == 0 else ""
        client = f" client=10.{i % 200}.{i // 200 % 250}.{i % 7 + 1}" if i % 5 == 0 else ""
        line = (f"2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z INFO checkout served in {i % 97} ms{user}{client}"
                f" request_id={i:08x}\n").encode()
        lines.append(line)
        n += len(line)
    block = b"".join(lines)
    with open(path, "wb") as fh:
        left = size
        while left:
            fh.write(block[:left])
            left -= min(left, len(block))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dashboard(data: Path, log_path: Path):
    """Start ``tftsr dashboard --json``; return (process, info) once it accepts connections."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "TFTSR_DB_KEY"}
    env["TFTSR_DATA_DIR"] = str(data)
    exe = Path(sys.executable).with_name("tftsr")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tftsr_kernel.cli"]
    err = open(log_path, "wb")
    proc = subprocess.Popen(cmd + ["dashboard", "--port", str(port), "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=err, start_new_session=True)
    text = ""
    while True:  # the JSON document comes first on stdout
        line = proc.stdout.readline().decode()
        if not line:
            raise RuntimeError("tftsr dashboard ended: " + log_path.read_text())
        text += line
        if line.rstrip() == "}":
            break
    info = json.loads(text)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", info["port"])) == 0:
                break
        time.sleep(0.1)
    proc._tftsr_err = err
    return proc, info


def stop_dashboard(proc) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.stdout.close()
    proc._tftsr_err.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import tftsr_kernel

    root = tmp_path_factory.mktemp("upload-browser")
    data = root / "data"
    wb = tftsr_kernel.open(data, shared=False)
    issues = {test: wb.issues.create_issue(title, "logs from the payments cluster", "high", "application").id
              for test, title in TITLES.items()}
    wb.close()
    proc, info = start_dashboard(data, root / "voila.log")
    yield {**info, "data": data, "issues": issues, "root": root}
    stop_dashboard(proc)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Wire:
    """Everything the page requests and every WebSocket frame it sends (sizes)."""

    def __init__(self, page, port, frames: bool):
        self.port, self.requests, self.failed, self.sent = port, [], [], []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        if frames:  # costly: Chromium hands every frame's payload to Playwright
            page.on("websocket", lambda ws: ws.on("framesent", lambda f: self.sent.append(len(f) if f else 0)))

    def check(self):
        outside = [u for u in self.requests if not u.startswith(
            (f"http://127.0.0.1:{self.port}/", f"ws://127.0.0.1:{self.port}/", "data:", "blob:"))]
        assert not outside, outside  # the page loads nothing from the internet
        assert not self.failed, self.failed


@pytest.fixture
def page(server, browser, request):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    wire = Wire(pg, server["port"], frames=request.node.get_closest_marker("frames") is not None)
    pg.goto(server["url"])
    pg.locator(".tftsr-open-issue", has_text=TITLES[request.node.originalname]).first.click()
    pg.locator(".tftsr-log-upload .tftsr-uploader-pick").wait_for()
    yield pg, wire, server["issues"][request.node.originalname]
    try:
        wire.check()
    finally:
        ctx.close()


def _kernel(server):
    import tftsr_kernel

    return tftsr_kernel.open(server["data"], shared=False)


def _bar(pg):
    return pg.evaluate("""() => { const b = document.querySelector('.tftsr-log-upload .tftsr-uploader-bar');
        const t = document.querySelector('.tftsr-log-upload .tftsr-uploader-text');
        return {done: +(b.dataset.done || 0), total: +(b.dataset.total || 0), shown: b.style.display !== 'none',
                text: t.textContent}; }""")


def _choose(pg, path: Path):
    pg.locator(".tftsr-log-upload input.tftsr-uploader-input").set_input_files(str(path))


TRACE = """() => { window.__bar = []; const b = document.querySelector('.tftsr-log-upload .tftsr-uploader-bar');
  new MutationObserver(() => window.__bar.push([performance.now(), +(b.dataset.done || 0), +(b.dataset.total || 0)]))
    .observe(b, {attributes: true, attributeFilter: ['data-done', 'data-total']}); }"""
#: test harness, not product: the page's outgoing WebSocket frames are held once the bar passes each
#: threshold, until the test has read the bar (on a loaded machine, Playwright round trips are
#: slower than the whole transfer); ``__release()`` sends what was held, in order
HOLD = """(thresholds) => { const send = WebSocket.prototype.send, queue = []; window.__held = 0;
  let hold = false;
  WebSocket.prototype.send = function (data) { if (hold) { queue.push([this, data]); return; } return send.call(this, data); };
  window.__release = () => { hold = false; queue.splice(0).forEach(([ws, data]) => send.call(ws, data)); };
  const b = document.querySelector('.tftsr-log-upload .tftsr-uploader-bar');
  new MutationObserver(() => { const t = +(b.dataset.total || 0), next = thresholds[window.__held];
      if (next !== undefined && t > 0 && +b.dataset.done / t >= next) { hold = true; window.__held += 1; } })
    .observe(b, {attributes: true, attributeFilter: ['data-done']}); }"""


def test_50mb_log_through_the_browser_is_stored_byte_for_byte_and_scanned(page, server, tftsr_proc):
    pg, _wire, issue_id = page
    path = make_log(server["root"] / "payments-50mb.log", 50 * 1024 * 1024)
    size = path.stat().st_size
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.evaluate(TRACE)  # every value the bar shows, recorded in the page as it changes
    pg.evaluate(HOLD, [0.25, 0.6])
    _choose(pg, path)
    seen = []
    for n in (1, 2):  # read the bar from the test at two moments of the transfer
        pg.wait_for_function(f"() => window.__held >= {n}")
        pg.wait_for_timeout(300)  # acknowledgements of pieces already sent still arrive
        b = _bar(pg)
        assert b["shown"] and b["total"] == size and 0 < b["done"] < size, b
        assert f"of {size / 1048576:.1f} MB (" in b["text"] and "%)" in b["text"], b
        seen.append((b["done"], b["text"]))
        if n == 1:
            pg.locator(".tftsr-logs").screenshot(path=str(SHOTS / "test-upload-progress.png"))
        pg.evaluate("window.__release()")
    assert size * 0.25 <= seen[0][0] < size * 0.6 <= seen[1][0] < size, seen  # it moved forward
    done_text = pg.locator(".tftsr-logs .tftsr-status-ok", has_text="payments-50mb.log")
    done_text.wait_for(timeout=240_000)
    moving = [d for _t, d, total in pg.evaluate("window.__bar") if total == size and 0 < d < size]
    assert len(set(moving)) >= 5 and moving == sorted(moving), moving  # shown in steps, always forward
    assert "PII scan found" in pg.locator(".tftsr-logs .tftsr-status-line").last.inner_text()
    assert "payments-50mb.log" in pg.locator(".tftsr-log-select select").inner_text()
    pg.locator(".tftsr-logs").screenshot(path=str(SHOTS / "test-upload-done.png"))

    wb = _kernel(server)
    try:
        [log] = [l for l in wb.attachments.list_log_files(issue_id) if l.file_name == path.name]
        assert log.file_size == path.stat().st_size and log.content_hash == digest
        assert log.pii_summary["total"] > 100_000 and {"Email", "IPv4"} <= set(log.pii_summary["by_type"])
        spans = wb.pii.list_spans(log.id)  # the review's spans, from the stored log
        assert len(spans) == log.pii_summary["total"]
    finally:
        wb.close()
    r = tftsr_proc("log", "cat", log.id, env={"TFTSR_DATA_DIR": str(server["data"])})
    assert r.code == 0 and hashlib.sha256(r.stdout_bytes).hexdigest() == digest
    assert not [p for p in server["data"].iterdir() if p.name.startswith(".tftsr-upload")]


@pytest.mark.frames
def test_over_the_limit_is_refused_before_any_transfer(page, server):
    pg, wire, issue_id = page
    path = server["root"] / "huge.log"
    with open(path, "wb") as fh:  # sparse: 101 MiB of size, nothing to read
        fh.truncate(101 * 1024 * 1024)
    before = len(wire.sent)
    _choose(pg, path)
    pg.locator(".tftsr-logs .tftsr-status-error", has_text="limit is 100 MB").wait_for()
    text = _bar(pg)["text"]
    assert "huge.log is 101.0 MB" in text and "limit is 100.0 MB" in text
    assert sum(wire.sent[before:]) < 4096  # one small "refused" message, no file data
    wb = _kernel(server)
    try:
        assert "huge.log" not in [l.file_name for l in wb.attachments.list_log_files(issue_id)]
    finally:
        wb.close()


def test_failed_and_cancelled_uploads_then_a_small_one_works(page, server):
    pg, _wire, issue_id = page
    bad = bytearray(make_log(server["root"] / "tmp.log", 3 * 1024 * 1024).read_bytes())
    bad[2_500_000] = 0
    bin_path = server["root"] / "binary-late.log"
    bin_path.write_bytes(bytes(bad))
    _choose(pg, bin_path)
    pg.locator(".tftsr-logs .tftsr-status-error", has_text="binary").wait_for()
    assert "offset 2,500,000" in _bar(pg)["text"]

    big = make_log(server["root"] / "to-cancel.log", 95 * 1024 * 1024)  # big enough to click Cancel mid-way
    _choose(pg, big)
    # press Cancel as soon as the first chunk is acknowledged (in the page: no round trip to the test)
    at = pg.evaluate("""() => new Promise((resolve) => {
        const bar = document.querySelector('.tftsr-log-upload .tftsr-uploader-bar');
        const t = setInterval(() => { const done = +(bar.dataset.done || 0);
            if (done > 0) { clearInterval(t);
                document.querySelector('.tftsr-log-upload .tftsr-uploader-cancel').click(); resolve(done); } }, 5);
    })""")
    assert 0 < at < big.stat().st_size
    pg.wait_for_function("() => document.querySelector('.tftsr-log-upload .tftsr-uploader-text')"
                         ".textContent.includes('upload cancelled')")
    assert pg.locator(".tftsr-log-upload .tftsr-uploader-bar").is_hidden()

    small = server["root"] / "after.log"
    small.write_bytes(b"2024-05-01T10:00:00Z INFO recovered user=bob@example.com\n")
    _choose(pg, small)
    pg.locator(".tftsr-logs .tftsr-status-ok", has_text="after.log").wait_for()
    wb = _kernel(server)
    try:
        names = [l.file_name for l in wb.attachments.list_log_files(issue_id)]
        assert "after.log" in names and "to-cancel.log" not in names and "binary-late.log" not in names
    finally:
        wb.close()
    assert not [p for p in server["data"].iterdir() if p.name.startswith(".tftsr-upload")]
