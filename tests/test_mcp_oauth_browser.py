"""Settings → MCP with an OAuth2 server, and the chat's *Attach resource* picker, in a browser:
Playwright drives Chromium against a real ``tftsr dashboard``; a resource attached in the chat
reaches the local provider with placeholders only. Screenshots go to /tmp/shots/mcp-oauth/."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, click_tab, running_dashboard, screenshot
from tests.fakes.mcp_oauth import FakeMcpAuthServer, FakeOAuthMcpServer
from tests.fakes.mcp_resources import PLANTED, FakeMcpResourceServer
from tests.fakes.servers import FakeProviderServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "mcp-oauth-browser-token-0123456789"
SHOTS = Path("/tmp/shots/mcp-oauth")

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")



def test_settings_sign_in_and_chat_attach_resource(tmp_path):
    import tftsr_kernel

    with FakeMcpAuthServer() as auth, FakeOAuthMcpServer(auth) as protected, FakeMcpResourceServer() as docs, \
            FakeProviderServer("openai", replies=["Noted."] * 3) as provider:
        data = tmp_path / "data"
        wb = tftsr_kernel.open(data, shared=False)
        issue = wb.issues.create_issue("Gateway restarts", "pods restarted at 14:02", "high")
        wb.providers.add_provider("fake", "openai", provider.url, provider.config().model,
                                  api_key=provider.config().api_key, activate=True)
        wb.mcp.create_mcp_server("files", "http", url=protected.url, auth_type="oauth2")
        wb.mcp.create_mcp_server("docs", "http", url=docs.url)
        assert wb.mcp.discover_mcp_server("docs").status == "connected"
        wb.close()
        with running_dashboard(data, "--token", TOKEN) as dash, playwright_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                pg = b.new_context(viewport={"width": 1280, "height": 1100}).new_page()
                pg.set_default_timeout(60_000)
                pg.goto(f"{dash.base}?issue={issue.id}&token={TOKEN}")
                pg.locator(".tftsr-issue-title").wait_for()
                # the chat: pick the resource, send, the provider gets placeholders only
                click_tab(pg, ".tftsr-incident-tabs", "Chat & 5-Whys")
                pg.locator(".tftsr-chat-resource-server").wait_for()
                pg.locator(".tftsr-chat-resource-uri select").select_option(label="incident-notes (incident://notes)")
                pg.locator("button.tftsr-chat-resource-add").click()
                pg.locator(".tftsr-chat-resources .tftsr-chip", has_text="docs: incident://notes").wait_for()
                pg.locator(".tftsr-chat-input textarea").fill("What happened to the gateway?")
                screenshot(pg, SHOTS, "chat-attach-resource", full_page=True)
                pg.locator("button.tftsr-chat-send").click()
                pg.locator(".tftsr-chat-transcript .tftsr-attachment", has_text="docs: incident://notes").wait_for()
                pg.locator(".tftsr-chat-transcript .tftsr-attachment summary").first.click()
                screenshot(pg, SHOTS, "chat-resource-chip", full_page=True)
                sent = provider.chat_requests[0].prompt_text
                assert "[Email_1]" in sent and not any(s in sent for s in PLANTED)
                # Settings -> MCP: the OAuth2 server, Sign in gives the authorization link
                click_tab(pg, ".tftsr-sections", "Settings")
                click_tab(pg, ".tftsr-settings-tabs", "MCP")
                pg.locator(".tftsr-mcp-servers", has_text="oauth2 (not signed in)").wait_for()
                pg.locator(".tftsr-mcp select").first.select_option(label="files")
                pg.locator("button.tftsr-mcp-login").click()
                link = pg.locator(".tftsr-mcp-login-link a")
                link.wait_for()
                q = parse_qs(urlsplit(link.get_attribute("href")).query)
                assert q["code_challenge_method"] == ["S256"] and q["resource"] == [protected.url]
                assert q["redirect_uri"][0].endswith("/oauth/callback")
                screenshot(pg, SHOTS, "settings-mcp-sign-in", full_page=True)
            finally:
                b.close()
