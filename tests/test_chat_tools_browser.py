"""The chat's approval card in a real browser (Playwright + Debian's Chromium against a ``tftsr
dashboard`` the test starts, a local fake provider over HTTP): the model asks for a tier-2 shell
command, the card shows its tier and reason, the user clicks Allow once, the command runs in the
dashboard's kernel and its result shows inline; hostile HTML in the output stays text; only
placeholders reach the provider. Then Settings → Shell, MCP and Integrations and the Logs
panel's template chart, each screenshotted to /tmp/shots/chat-tools/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, click_tab, running_dashboard, screenshot
from tests.fakes.servers import FakeProviderServer
from tests.incident_log import add_events, incident_log

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")

TOKEN = "chat-tools-browser-token-0123456789"
SHOTS = Path("/tmp/shots/chat-tools")
EMAIL = "oncall.lead@example.org"
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
TIME_SERVER = Path(sys.executable).parent / "mcp-server-time"
KUBECONFIG = """apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-eu
  cluster: {server: "https://10.20.0.1:6443"}
contexts:
- name: prod
  context: {cluster: prod-eu, user: sre, namespace: checkout}
- name: prod-payments
  context: {cluster: prod-eu, user: sre, namespace: payments}
users:
- name: sre
  user: {token: planted-kube-token-000111}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import tftsr_kernel

    base = tmp_path_factory.mktemp("chat-tools-browser")
    out = base / "owner.txt"
    command = f"printf '%s\\n' 'owner={EMAIL} {HOSTILE}' | tee {out}"  # tier 2: tee writes a file

    def reply(rec):
        if not rec.tool_results:
            return {"tool_calls": [{"name": "run_shell_command",
                                    "arguments": {"command": command, "reason": "find who owns the checkout config"}}]}
        return "The config belongs to the on-call lead; I will not change it."

    fake = FakeProviderServer("openai", reply_fn=reply).start()
    data = base / "data"
    wb = tftsr_kernel.open(data, shared=False)
    issue = wb.issues.create_issue("Checkout 502s", "pool exhausted after release 4.2", "critical", "application")
    text, start = incident_log()
    wb.attachments.upload_log_file_by_content(issue.id, "checkout.log", text)
    add_events(wb, issue.id, start)
    wb.providers.add_provider("team-llm", "openai", fake.url, "gpt-4o-mini", api_key="k-0123456789abcdef")
    wb.settings.update_settings({"chat_shell_tool": True})
    wb.shell.add_kubeconfig("prod-eu", KUBECONFIG)
    wb.shell.save_sudo_credentials("planted-sudo-pw-4242")
    wb.shell.add_policy("restarts-need-admin", "program == systemctl and subcommand == restart", "require_approval",
                        approval_level="admin", priority=10, description="service restarts")
    wb.shell.add_policy("no-deletes", "program == kubectl and subcommand == delete", "deny", priority=20)
    wb.shell.run_shell_command(issue.id, "systemctl restart nginx", reason="reload the edge config")  # pending
    if TIME_SERVER.exists():
        wb.mcp.create_mcp_server("time", "stdio", command=str(TIME_SERVER), args=["--local-timezone", "UTC"])
        wb.mcp.discover_mcp_server("time")
        wb.mcp.toggle_mcp_server("time", False)  # listed, not offered to the model in this test's chat
    wb.integrations.add_integration("confluence", "http://127.0.0.1:9/wiki", username="sam@example.org",
                                    token="ATATT3x-planted-0000", space_key="OPS")
    wb.integrations.add_integration("servicenow", "http://127.0.0.1:9/sn", username="svc", password="sn-pass-123")
    wb.close()
    try:
        with running_dashboard(data, "--token", TOKEN) as dash:
            yield {"dash": dash, "issue": issue, "fake": fake, "out": out}
    finally:
        fake.stop()



def test_allow_once_in_the_served_chat_then_the_settings_tabs(server):
    dash, issue, fake = server["dash"], server["issue"], server["fake"]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_context(viewport={"width": 1280, "height": 1200}).new_page()
            pg.set_default_timeout(60_000)
            errors, dialogs = [], []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            pg.goto(f"{dash.base}?issue={issue.id}&token={TOKEN}")
            pg.locator(".tftsr-issue-title").wait_for()

            # the Logs panel's template chart (the incident opens on Logs)
            pg.locator(".tftsr-logs-templates .tftsr-templates-svg").wait_for()
            screenshot(pg.locator(".tftsr-logs-templates"), SHOTS, "logs-template-chart")

            click_tab(pg, ".tftsr-incident-tabs", "Chat & 5-Whys")
            chat = pg.locator(".tftsr-chat")
            chat.locator(".tftsr-chat-input textarea").fill("Who owns the checkout config?")
            chat.locator("button.tftsr-chat-send").click()
            card = chat.locator(".tftsr-approval-card")
            card.wait_for()
            text = card.inner_text()
            assert "Approval needed" in text and "tier 2" in text and "tee" in text
            assert "find who owns the checkout config" in text and "s left of 60 s" in text
            live = chat.locator(".tftsr-chat-live .tftsr-tool", has_text="run_shell_command")
            live.wait_for()
            assert not server["out"].exists()  # nothing ran before the click
            screenshot(chat, SHOTS, "chat-approval-card")
            card.locator("button.tftsr-chat-approve-once").click()
            done = chat.locator(".tftsr-chat-transcript .tftsr-tool", has_text="allowed once")
            done.wait_for()
            chat.locator(".tftsr-chat-transcript", has_text="I will not change it").wait_for()
            assert chat.locator(".tftsr-approval-card").count() == 0  # the turn ended: the card went
            assert server["out"].read_text().startswith(f"owner={EMAIL}")
            shown = done.inner_text()
            assert "Exit code: 0" in shown and "[Email_1]" in shown and HOSTILE in shown  # text, not markup
            assert chat.locator(".tftsr-tool img").count() == 0 and chat.locator(".tftsr-tool script").count() == 0
            assert pg.evaluate("window.__pwned") is None and not dialogs, dialogs
            screenshot(chat, SHOTS, "chat-tool-result")
            for req in fake.chat_requests:
                assert EMAIL not in json.dumps(req.body)
            assert "[Email_" in fake.chat_requests[-1].tool_results[0]["content"]

            # Settings → Shell, MCP, Integrations
            click_tab(pg, ".tftsr-sections", "Settings")
            click_tab(pg, ".tftsr-settings-tabs", "Shell")
            shell = pg.locator(".tftsr-shell-settings")
            shell.locator(".tftsr-kube-table", has_text="payments").wait_for()
            assert shell.locator(".tftsr-shell-chat-tool input").is_checked()
            assert "systemctl restart nginx" in shell.locator(".tftsr-shell-pending").inner_text()
            assert "planted-kube-token" not in pg.content()
            shell.locator(".tftsr-policy-condition input").fill("programme == kubectl")
            shell.locator(".tftsr-policy-name input").fill("typo")
            shell.locator("button.tftsr-policy-add").click()
            shell.locator(".tftsr-status-error", has_text="unknown field").wait_for()
            screenshot(shell, SHOTS, "settings-shell")
            # sudo credentials: stored, tested in the served kernel, never on the page
            shell.locator(".tftsr-sudo-status", has_text="A sudo password is stored for").wait_for()
            shell.locator("button.tftsr-sudo-test").click()
            shell.locator(".tftsr-status-ok", has_text="Sudo test passed").wait_for()
            assert "planted-sudo-pw-4242" not in pg.content()
            shell.locator(".tftsr-sudo-status").scroll_into_view_if_needed()
            screenshot(pg, SHOTS, "settings-shell-sudo")
            click_tab(pg, ".tftsr-settings-tabs", "MCP")
            mcp = pg.locator(".tftsr-mcp")
            mcp.locator(".tftsr-mcp-servers").wait_for()
            if TIME_SERVER.exists():
                mcp.locator(".tftsr-mcp-tools", has_text="get_current_time").wait_for()
            screenshot(mcp, SHOTS, "settings-mcp")
            click_tab(pg, ".tftsr-settings-tabs", "Integrations")
            pg.locator(".tftsr-integrations-table", has_text="ServiceNow").wait_for()
            screenshot(pg.locator(".tftsr-settings"), SHOTS, "settings-integrations")
            assert "sn-pass-123" not in pg.content() and "ATATT3x-planted" not in pg.content()
            assert not errors, errors
        finally:
            browser.close()
