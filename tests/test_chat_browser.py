"""The chat in a real browser (Playwright + Debian's Chromium against a ``tftsr dashboard`` the
test starts, a local fake provider): a provider added in Settings shows in the open chat,
Ctrl+Enter sends, the question stays while the reply streams, both attached logs are chips that
open to their whole text, and a failed send leaves the message in the box. Screenshots go to
/tmp/shots/reports-chat/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, click_tab, running_dashboard, screenshot
from tests.fakes.servers import FakeProviderServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")

TOKEN = "chat-browser-token-0123456789"
SHOTS = Path("/tmp/shots/reports-chat")
REPLY = ("The pool log shows every request waiting for one of 8 connections since 14:05, and the auth log "
         "shows the retries piling up behind them. " + " ".join(f"detail{i}" for i in range(40)) + "\n"
         "[[WHY-LEVEL: 1]]\n[[WHY-1-QUESTION: Why do checkout requests fail?]]\n"
         "[[WHY-1-ANSWER: They time out waiting for a DB connection.]]\n"
         "[[WHY-1-EVIDENCE: pool wait in_use=8 (pool.log)]]")


def _log(tag: str, n: int) -> str:
    return "\n".join(f"2026-12-01T14:0{i % 10}:{i:02d}Z WARN {tag} pool wait {i * 13} ms in_use=8"
                     for i in range(n)) + f"\n2026-12-01T14:09:59Z INFO {tag} user=ops.{tag}@example.com last line END-{tag}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    data = tmp_path_factory.mktemp("chat-browser") / "data"
    fake = FakeProviderServer("openai", replies=[REPLY], chunk_delay=0.03).start()
    wb = tftsr_kernel.open(data, shared=False)
    issue, _log_file = create_demo(wb)
    for name, tag, n in (("pool.log", "pool", 30), ("auth.log", "auth", 25)):
        log = wb.attachments.upload_log_file_by_content(issue.id, name, _log(tag, n))
        wb.pii.detect_pii(log.id)
        wb.pii.apply_redactions(log.id, "all")
    wb.close()  # no provider yet: it is added in the browser
    try:
        with running_dashboard(data, "--token", TOKEN) as dash:
            yield {"dash": dash, "issue": issue, "fake": fake}
    finally:
        fake.stop()


@pytest.fixture
def pg(server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 1100})
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        dash = server["dash"]
        page.goto(f"{dash.base}?issue={server['issue'].id}&token={TOKEN}")
        page.locator(".tftsr-issue-title").wait_for()
        yield page
        assert not errors, errors
        browser.close()



def test_chat_in_the_browser(pg, server):
    fake = server["fake"]
    click_tab(pg, ".tftsr-incident-tabs", "Chat & 5-Whys")
    chat = pg.locator(".tftsr-chat")
    chat.locator(".tftsr-status-error", has_text="No AI provider").wait_for()
    assert chat.locator("button.tftsr-chat-send").is_disabled()

    # a provider added in Settings shows in the open chat, no reopen
    click_tab(pg, ".tftsr-sections", "Settings")
    pg.locator(".tftsr-provider-name input").fill("team-llm")
    pg.locator(".tftsr-provider-type select").select_option("openai")
    pg.locator(".tftsr-provider-url input").fill(fake.url)
    pg.locator(".tftsr-provider-model input").fill("gpt-4o-mini")
    pg.locator(".tftsr-provider-key input").fill("k-0123456789abcdef")
    pg.locator("button.tftsr-provider-add").click()
    pg.locator(".tftsr-settings .tftsr-status-ok", has_text="team-llm added").wait_for()
    click_tab(pg, ".tftsr-sections", "Issues")
    chat.locator(".tftsr-chat-provider select option", has_text="team-llm").wait_for(state="attached")
    assert chat.locator("button.tftsr-chat-send").is_enabled()

    # Ctrl+Enter sends; the question stays above the streaming reply
    box = chat.locator(".tftsr-chat-input textarea")
    chat.locator(".tftsr-chat-attach select").select_option(
        label=["pool.log (redacted after review)", "auth.log (redacted after review)"])
    box.fill("Checkout fails since 14:05. Why are requests failing?")
    box.press("Control+Enter")
    live = chat.locator(".tftsr-chat-live")
    live.locator(".tftsr-streaming", has_text="detail1").wait_for()
    streaming = live.inner_text()
    assert "Why are requests failing?" in streaming and "detail39" not in streaming
    screenshot(chat, SHOTS, "chat-streaming")
    chat.locator(".tftsr-chat-transcript", has_text="detail39").wait_for()
    assert box.input_value() == ""  # sent: the box is empty
    assert fake.chat_requests[-1].last_user_text.startswith("Checkout fails since 14:05.")

    # both attachments are chips; each opens to its whole text
    chips = chat.locator(".tftsr-chat-transcript details.tftsr-attachment")
    assert chips.count() == 2
    assert "redacted" in chips.nth(0).locator("summary").inner_text()
    assert "```" not in chat.locator(".tftsr-chat-transcript").inner_text()
    assert not chips.nth(1).locator("pre").is_visible()
    chips.nth(1).locator("summary").click()
    chips.nth(1).locator("pre", has_text="END-auth").wait_for()
    assert chips.nth(1).locator("pre").inner_text().count("pool wait") == 25
    screenshot(chat, SHOTS, "chat-chips")

    # the why came from the reply's markers
    pg.locator(".tftsr-whys-refresh").click()
    pg.wait_for_function("() => document.querySelector('.tftsr-why-answer-1 textarea').value.length > 0")
    assert pg.locator(".tftsr-why-question-1 input").input_value() == "Why do checkout requests fail?"
    assert pg.locator(".tftsr-why-answer-1 textarea").input_value() == "They time out waiting for a DB connection."

    # a failed send keeps the message in the box
    fake.add_statuses((401, {"error": {"message": "Incorrect API key provided"}}))
    box.fill("And why was the pool lowered?")
    box.press("Control+Enter")
    chat.locator(".tftsr-status-error", has_text="still in the box").wait_for()
    assert box.input_value() == "And why was the pool lowered?"
    screenshot(chat, SHOTS, "chat-failed-send")
