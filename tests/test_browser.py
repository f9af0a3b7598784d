"""Browser tests: Playwright drives Debian's Chromium against a real ``tftsr dashboard`` (Voila)
started on a free port with a temp data dir and a token (tests/dashboard.py). One server for the
module.

Every test records every request: none may fail and none may leave 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, click_tab, running_dashboard, screenshot
from tests.fakes.servers import FakeProviderServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARGS = CHROMIUM_ARGS
TOKEN = "browser-test-token-0123456789"
PAYLOAD = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2;alert(2)</script>'
REPLY = ("Why 1: the checkout service ran out of database connections because db_pool_max was lowered "
         "to 8 in the 14:00 deploy. **What changed** in that deploy? [[WHY-LEVEL: 1]]")
LOG = (b"2024-05-01T10:00:00Z ERROR pool exhausted user=alice@example.com client=10.20.30.40\n"
       b"2024-05-01T10:00:01Z WARN retry client=10.20.30.41 password=hunter2\n")

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")


def _reply(rec) -> str:
    if "XSS" in rec.last_user_text:
        return f"Echo: {PAYLOAD} [click](javascript:alert(3)) ![x](http://203.0.113.9/x.png) [[WHY-LEVEL: 1]]"
    return REPLY


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    data = tmp_path_factory.mktemp("browser") / "data"
    fake = FakeProviderServer("openai", reply_fn=_reply, chunk_delay=0.04).start()
    wb = tftsr_kernel.open(data, shared=False)
    demo = create_demo(wb)
    wb.providers.add_provider("fake", "openai", fake.url, "gpt-4o-mini", api_key="sk-fake-0123456789")
    wb.close()
    try:
        with running_dashboard(data, "--token", TOKEN) as dash:
            yield {"url": dash.base, "token_url": dash.url, "port": dash.port, "data": data, "fake": fake,
                   "dash": dash, "demo": demo}
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Recorder:
    def __init__(self, page, port):
        self.port = port
        self.requests, self.failed, self.dialogs, self.errors = [], [], [], []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self, page):
        outside = [u for u in self.requests
                   if not u.startswith((f"http://127.0.0.1:{self.port}/", f"ws://127.0.0.1:{self.port}/", "data:",
                                        "blob:"))]
        assert not outside, outside
        assert not self.failed, self.failed
        assert not self.dialogs, self.dialogs
        assert page.evaluate("window.__xss") is None


@pytest.fixture
def page(server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    rec = Recorder(pg, server["port"])
    pg.goto(server["token_url"])
    pg.locator(".tftsr-open-issue").first.wait_for()
    yield pg, rec
    try:
        rec.check(pg)
    finally:
        ctx.close()


def status(pg, root: str):
    return pg.locator(f"{root} .tftsr-status-line").last



def create_issue(pg, title: str, description: str):
    pg.locator(".tftsr-new-issue").get_by_text("New issue").click()
    pg.locator(".tftsr-new-title input").fill(title)
    pg.locator(".tftsr-new-description textarea").fill(description)
    pg.locator(".tftsr-new-severity select").select_option(label="Critical")
    pg.locator("button.tftsr-create").click()
    pg.locator(".tftsr-issue-title").wait_for()


def upload_log(pg, name: str, data: bytes):
    with pg.expect_file_chooser() as chooser:  # the uploader opens a file dialog from its button
        pg.locator(".tftsr-log-upload button.tftsr-uploader-pick").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": "text/plain", "buffer": data}])
    pg.locator(".tftsr-logs .tftsr-status-ok").wait_for()


def test_investigation_flow(page, server):
    pg, rec = page
    create_issue(pg, "Payments API timeouts", "p99 above 5 s since 09:00")
    assert "Payments API timeouts" in pg.locator(".tftsr-issue-title").inner_text()

    # Logs & PII: upload, review (keep the IPv4 addresses), preview, apply
    upload_log(pg, "payments.log", LOG)
    pg.locator("button.tftsr-detect-pii").click()
    pg.locator(".tftsr-logs .tftsr-status-ok", has_text="PII finding").wait_for()
    pg.wait_for_timeout(300)  # the review widgets were just rebuilt
    assert pg.locator(".tftsr-pii-highlight mark").count() >= 3
    pg.locator(".tftsr-pii-type-IPv4 input").uncheck()
    pg.locator(".tftsr-pii-highlight mark.tftsr-pii-rejected").first.wait_for()
    pg.locator("button.tftsr-preview-redaction").click()
    preview = pg.locator(".tftsr-redacted-preview pre")
    preview.wait_for()
    text = preview.inner_text()
    assert "10.20.30.40" in text and "alice@example.com" not in text and "[Email_" in text
    pg.locator("button.tftsr-apply-redactions").click()
    pg.locator(".tftsr-logs .tftsr-status-ok", has_text="Redactions applied").wait_for()

    # Chat & 5-Whys: the reply streams in, the whys advance
    click_tab(pg, ".tftsr-incident-tabs", "Chat & 5-Whys")
    pg.locator(".tftsr-chat-input textarea").fill("Payments time out since 09:00. Why?")
    pg.locator(".tftsr-chat-attach select").select_option(label="payments.log (partly released by the reviewer)")
    pg.locator("button.tftsr-chat-send").click()
    live = pg.locator(".tftsr-streaming")
    live.filter(has_text="checkout").wait_for()
    partial = live.inner_text()
    assert "Why 1" in partial and "deploy?" not in partial  # part of the reply, while it streams
    pg.locator(".tftsr-chat-transcript", has_text="What changed").wait_for()
    assert pg.locator(".tftsr-chat-transcript strong", has_text="What changed").count() == 1
    assert "[[WHY" not in pg.locator(".tftsr-chat-transcript").inner_text()
    sent = server["fake"].chat_requests[-1].prompt_text
    assert "alice@example.com" not in sent and "hunter2" not in sent
    pg.locator(".tftsr-whys-refresh").click()
    answer = pg.locator(".tftsr-why-answer-1 textarea")
    pg.wait_for_function("() => document.querySelector('.tftsr-why-answer-1 textarea').value.length > 0")
    assert "db_pool_max" in answer.input_value()
    pg.locator(".tftsr-why-question-2 input").fill("Why was db_pool_max lowered?")
    pg.locator(".tftsr-why-answer-2 textarea").fill("A values.yaml typo in the release")
    pg.locator("button.tftsr-why-save-2").click()
    pg.locator(".tftsr-whys .tftsr-status-ok", has_text="Why 2 saved").wait_for()

    # Timeline: the chart is an inline SVG
    click_tab(pg, ".tftsr-incident-tabs", "Timeline")
    pg.locator(".tftsr-timeline-svg svg circle").first.wait_for()
    assert "why level advanced" in pg.locator(".tftsr-timeline-table").inner_text()

    # Documents: generate an RCA, export it
    click_tab(pg, ".tftsr-incident-tabs", "Documents")
    pg.locator("button.tftsr-generate-rca").click()
    pg.locator(".tftsr-doc-preview h1", has_text="Root Cause Analysis").wait_for()
    assert "A values.yaml typo" in pg.locator(".tftsr-doc-preview").inner_text()
    pg.locator("button.tftsr-doc-export-md").click()
    pg.locator(".tftsr-documents .tftsr-status-ok", has_text="Document exported to").wait_for()
    assert pg.locator("a.tftsr-download").get_attribute("href").startswith("data:text/markdown;base64,")
    exported = list((server["data"] / "exports").glob("root-cause-analysis-payments-api-timeouts*.md"))
    assert exported and "A values.yaml typo" in exported[0].read_text()

    # back to the list: the new issue is there, investigating
    pg.locator("button.tftsr-back").click()
    pg.locator(".tftsr-open-issue", has_text="Payments API timeouts").wait_for()


def test_untrusted_text_never_executes(page, server):
    pg, rec = page
    pg.add_init_script("window.__xss = undefined")
    create_issue(pg, "XSS " + PAYLOAD, "desc " + PAYLOAD)
    title = pg.locator(".tftsr-issue-title").inner_text()
    assert "<img src=x" in title  # shown as text
    upload_log(pg, "evil" + PAYLOAD.replace("/", "") + ".log", b"line " + PAYLOAD.encode() + b" 10.9.9.9\n")
    pg.locator("button.tftsr-show-log").click()
    pg.locator(".tftsr-log-view pre", has_text="<script>").wait_for()
    pg.locator("button.tftsr-detect-pii").click()
    pg.locator(".tftsr-pii-highlight pre").wait_for()
    click_tab(pg, ".tftsr-incident-tabs", "Chat & 5-Whys")
    pg.locator(".tftsr-why-question-1 input").fill("Q " + PAYLOAD)
    pg.locator(".tftsr-why-answer-1 textarea").fill("A " + PAYLOAD)
    pg.locator(".tftsr-why-evidence-1 input").fill("E " + PAYLOAD)
    pg.locator("button.tftsr-why-save-1").click()
    pg.locator(".tftsr-whys .tftsr-status-ok").wait_for()
    pg.locator(".tftsr-root-cause-input textarea").fill("RC " + PAYLOAD)
    pg.locator("button.tftsr-record-root-cause").click()
    pg.locator(".tftsr-root-cause", has_text="RC <img").wait_for()
    pg.locator(".tftsr-chat-input textarea").fill("XSS " + PAYLOAD)
    pg.locator("button.tftsr-chat-send").click()
    pg.locator(".tftsr-chat-transcript", has_text="Echo:").wait_for()
    assert pg.locator(".tftsr-chat-transcript a[href^='javascript']").count() == 0
    click_tab(pg, ".tftsr-incident-tabs", "Timeline")
    pg.locator(".tftsr-event-description input").fill("T " + PAYLOAD)
    pg.locator("button.tftsr-add-event").click()
    pg.locator(".tftsr-timeline-table", has_text="T <img").wait_for()
    click_tab(pg, ".tftsr-incident-tabs", "Documents")
    pg.locator("button.tftsr-generate-rca").click()
    pg.locator(".tftsr-doc-preview h1").wait_for()
    pg.locator(".tftsr-doc-editor textarea").fill("# Notes\n\n" + PAYLOAD + "\n\n[x](javascript:alert(4))")
    pg.locator("button.tftsr-doc-preview-button").click()
    pg.locator(".tftsr-doc-preview h1", has_text="Notes").wait_for()
    pg.locator("button.tftsr-back").click()
    pg.locator(".tftsr-open-issue", has_text="XSS <img").wait_for()
    click_tab(pg, ".tftsr-sections", "History")
    pg.locator(".tftsr-history-issues", has_text="XSS <img").wait_for()
    click_tab(pg, ".tftsr-history-tabs", "Attachments")
    pg.locator(".tftsr-history-log-select select").select_option(index=0)
    pg.locator("button.tftsr-history-view-log").click()
    pg.locator(".tftsr-attachment-view", has_text="<script>").wait_for()
    click_tab(pg, ".tftsr-sections", "Settings")
    click_tab(pg, ".tftsr-settings-tabs", "PII")
    pg.locator(".tftsr-pattern-name input").fill("N " + PAYLOAD)
    pg.locator(".tftsr-pattern-regex input").fill("TCK-[0-9]{6}")
    pg.locator("button.tftsr-add-pattern").click()
    pg.locator(".tftsr-settings .tftsr-status-ok").wait_for()
    click_tab(pg, ".tftsr-settings-tabs", "Audit log")
    pg.locator(".tftsr-audit-chain", has_text="intact").wait_for()
    pg.wait_for_timeout(300)
    assert pg.evaluate("window.__xss") is None and not rec.dialogs
    assert pg.locator("img[src='x']").count() == 0


SHOTS = Path("/tmp/shots/serve-access")


def test_token_is_required(server, browser):
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(server["url"])
    assert "/login" in pg.url
    assert pg.locator(".tftsr-open-issue").count() == 0 and pg.locator("#jupyter-config-data").count() == 0
    api = ctx.request.get(server["url"] + "api/kernels", max_redirects=0)
    assert api.status in (302, 401, 403) and "execution_state" not in api.text()
    screenshot(pg, SHOTS, "login")
    pg.locator("#password").fill("not-the-token-0123456789")
    pg.locator("#tftsr-login button").click()
    pg.locator("#tftsr-login-error").wait_for()
    assert pg.locator(".tftsr-open-issue").count() == 0
    pg.locator("#password").fill(TOKEN)  # the login form takes the token and sets the session cookie
    pg.locator("#tftsr-login button").click()
    pg.locator(".tftsr-open-issue").first.wait_for()
    ctx.close()


def test_the_session_cookie_replaces_the_token(server, browser):
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(server["token_url"])
    pg.locator(".tftsr-open-issue").first.wait_for()
    pg.wait_for_function("() => !new URLSearchParams(location.search).has('token')")  # out of the address bar
    assert TOKEN not in pg.url
    session = [c for c in ctx.cookies() if c["name"].startswith("username-")]
    assert len(session) == 1 and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"
    assert session[0]["path"] == "/" and session[0]["expires"] == -1  # a session cookie
    assert session[0]["domain"] == "127.0.0.1"  # host-only: this server
    assert "username-" not in pg.evaluate("document.cookie")  # page scripts cannot read it
    second = ctx.new_page()
    second.goto(server["url"])  # no token: the cookie is enough
    second.locator(".tftsr-open-issue").first.wait_for()
    assert "/login" not in second.url
    ctx.close()


def test_a_rebound_name_gets_the_refusal_not_the_dashboard(server, browser):
    """DNS rebinding, for real: Chromium resolves attacker.example to 127.0.0.1."""
    dash = server["dash"]
    before = dash.kernel_ids()
    b = browser.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                    args=ARGS + ["--host-resolver-rules=MAP attacker.example 127.0.0.1"])
    ctx = b.new_context()
    pg = ctx.new_page()
    resp = pg.goto(f"http://attacker.example:{server['port']}/?token={TOKEN}")
    assert resp.status == 403
    assert "Not served under this name" in pg.inner_text("body")
    assert pg.locator("#jupyter-config-data").count() == 0 and pg.locator(".tftsr-open-issue").count() == 0
    screenshot(pg, SHOTS, "refused")
    # the attacker's page cannot use the socket either, with or without the token
    ok = pg.evaluate("""(port) => new Promise(resolve => {
        const ws = new WebSocket(`ws://attacker.example:${port}/voila/query/x?token=` + %r);
        ws.onopen = () => resolve(true); ws.onerror = () => resolve(false);
    })""" % TOKEN, server["port"])
    assert ok is False
    ctx.close()
    b.close()
    time.sleep(1)
    assert not dash.kernels_started_since(before)  # no kernel started for the refused requests


def test_a_deep_link_opens_the_incident(server, browser):
    issue = server["demo"][0]
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.goto(f"{server['url']}?issue={issue.id}&token={TOKEN}")
    pg.locator(".tftsr-issue-title").wait_for()
    assert issue.title in pg.locator(".tftsr-issue-title").inner_text()
    link = pg.locator(".tftsr-issue-url").inner_text().strip()
    assert link == f"{server['url']}?issue={issue.id}"  # no token in it
    screenshot(pg, SHOTS, "deep-link")
    other = ctx.new_page()  # a teammate with a session follows the link
    other.goto(link)
    other.locator(".tftsr-issue-title", has_text=issue.title).wait_for()
    for bad, text in (("not-an-id%3Cb%3E", "not an issue id"),
                      ("01a230e8-a437-71d0-977b-000000000000", "was not found")):
        other.goto(f"{server['url']}?issue={bad}")
        other.locator(".tftsr-open-issue").first.wait_for()
        status = other.locator(".tftsr-dashboard > .widget-html .tftsr-status-error, .tftsr-status-error").first
        status.wait_for()
        assert text in status.inner_text()
        assert other.locator(".tftsr-issue-title").count() == 0
    screenshot(other, SHOTS, "deep-link-bad")
    ctx.close()
