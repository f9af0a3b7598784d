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
TITLE = "Upload incident"

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")


def make_log(path: Path, size: int) -> Path:
    """A text log of exactly ``size`` bytes with PII on every line (deterministic)."""
    lines = []
    n = 0
    while n < 1 << 20:
        i = len(lines)
        line = (f"2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z ERROR pool exhausted user=user{i}@example.com "
                f"client=10.{i % 200}.{i // 200 % 250}.{i % 7 + 1} request_id={i:08x}\n").encode()
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
    issue = wb.issues.create_issue(TITLE, "logs from the payments cluster", "high", "application")
    wb.close()
    proc, info = start_dashboard(data, root / "voila.log")
    yield {**info, "data": data, "issue_id": issue.id, "root": root}
    stop_dashboard(proc)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Wire:
    """Everything the page requests and every WebSocket frame it sends (sizes)."""

    def __init__(self, page, port):
        self.port, self.requests, self.failed, self.sent = port, [], [], []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("websocket", lambda ws: ws.on("framesent", lambda f: self.sent.append(len(f) if f else 0)))

    def check(self):
        outside = [u for u in self.requests if not u.startswith(
            (f"http://127.0.0.1:{self.port}/", f"ws://127.0.0.1:{self.port}/", "data:", "blob:"))]
        assert not outside, outside  # the page loads nothing from the internet
        assert not self.failed, self.failed


@pytest.fixture
def page(server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    wire = Wire(pg, server["port"])
    pg.goto(server["url"])
    pg.locator(".tftsr-open-issue", has_text=TITLE).first.click()
    pg.locator(".tftsr-log-upload .tftsr-uploader-pick").wait_for()
    yield pg, wire
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


def test_50mb_log_through_the_browser_is_stored_byte_for_byte_and_scanned(page, server, tftsr_proc):
    pg, wire = page
    path = make_log(server["root"] / "payments-50mb.log", 50 * 1024 * 1024)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    SHOTS.mkdir(parents=True, exist_ok=True)
    _choose(pg, path)
    seen, shot = [], False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        b = _bar(pg)
        if b["shown"] and 0 < b["done"] < b["total"] and "%" in b["text"]:
            seen.append(b["done"])
            if not shot:
                pg.locator(".tftsr-logs").screenshot(path=str(SHOTS / "upload-progress.png"))
                shot = True
        if pg.locator(".tftsr-logs .tftsr-status-ok", has_text="payments-50mb.log").count():
            break
        pg.wait_for_timeout(40)
    pg.locator(".tftsr-logs .tftsr-status-ok", has_text="payments-50mb.log").wait_for()
    assert len(set(seen)) >= 3 and seen == sorted(seen), seen  # the bar moved forward, seen several times
    assert "PII scan found" in pg.locator(".tftsr-logs .tftsr-status-line").last.inner_text()
    assert "payments-50mb.log" in pg.locator(".tftsr-log-select select").inner_text()
    pg.locator(".tftsr-logs").screenshot(path=str(SHOTS / "upload-done.png"))
    big_frames = [n for n in wire.sent if n > 10 * 1024 * 1024]
    assert not big_frames and sum(wire.sent) > 50 * 1024 * 1024  # chunks, each under the limit

    wb = _kernel(server)
    try:
        [log] = [l for l in wb.attachments.list_log_files(server["issue_id"]) if l.file_name == path.name]
        assert log.file_size == path.stat().st_size and log.content_hash == digest
        assert log.pii_summary["total"] > 100_000 and {"Email", "IPv4"} <= set(log.pii_summary["by_type"])
        spans = wb.pii.list_spans(log.id)  # the review's spans, from the stored log
        assert len(spans) == log.pii_summary["total"]
    finally:
        wb.close()
    r = tftsr_proc("log", "cat", log.id, env={"TFTSR_DATA_DIR": str(server["data"])})
    assert r.code == 0 and hashlib.sha256(r.stdout_bytes).hexdigest() == digest
    assert not [p for p in server["data"].iterdir() if p.name.startswith(".tftsr-upload")]


def test_over_the_limit_is_refused_before_any_transfer(page, server):
    pg, wire = page
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
        assert "huge.log" not in [l.file_name for l in wb.attachments.list_log_files(server["issue_id"])]
    finally:
        wb.close()


def test_failed_and_cancelled_uploads_then_a_small_one_works(page, server):
    pg, _wire = page
    bad = bytearray(make_log(server["root"] / "tmp.log", 3 * 1024 * 1024).read_bytes())
    bad[2_500_000] = 0
    bin_path = server["root"] / "binary-late.log"
    bin_path.write_bytes(bytes(bad))
    _choose(pg, bin_path)
    pg.locator(".tftsr-logs .tftsr-status-error", has_text="binary").wait_for()
    assert "offset 2,500,000" in _bar(pg)["text"]

    big = make_log(server["root"] / "to-cancel.log", 40 * 1024 * 1024)
    _choose(pg, big)
    pg.wait_for_function("() => +document.querySelector('.tftsr-log-upload .tftsr-uploader-bar').dataset.done > 0")
    pg.locator(".tftsr-log-upload .tftsr-uploader-cancel").click()
    pg.wait_for_function("() => document.querySelector('.tftsr-log-upload .tftsr-uploader-text')"
                         ".textContent.includes('cancelled')")

    small = server["root"] / "after.log"
    small.write_bytes(b"2024-05-01T10:00:00Z INFO recovered user=bob@example.com\n")
    _choose(pg, small)
    pg.locator(".tftsr-logs .tftsr-status-ok", has_text="after.log").wait_for()
    wb = _kernel(server)
    try:
        names = [l.file_name for l in wb.attachments.list_log_files(server["issue_id"])]
        assert "after.log" in names and "to-cancel.log" not in names and "binary-late.log" not in names
    finally:
        wb.close()
    assert not [p for p in server["data"].iterdir() if p.name.startswith(".tftsr-upload")]
