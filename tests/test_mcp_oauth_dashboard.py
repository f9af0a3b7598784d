"""Settings → MCP's *Sign in* for an OAuth2 MCP server: headless, and against a real
``tftsr dashboard`` whose own ``/oauth/callback`` (behind its sign-in) stores the token."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.dashboard import running_dashboard
from tests.fakes.mcp_oauth import FakeMcpAuthServer, FakeOAuthMcpServer
from widgets.settings import SettingsPanel


def _mcp_panel(wb):
    settings = SettingsPanel(wb)
    settings.select_tab("MCP")
    return settings.mcp_panel


def test_sign_in_button_is_for_oauth2_servers_and_needs_a_served_page(wb, monkeypatch):
    monkeypatch.delenv("SERVER_NAME", raising=False)
    with FakeMcpAuthServer() as auth, FakeOAuthMcpServer(auth) as srv:
        p = _mcp_panel(wb)
        p._w_name.value, p._w_transport.value, p._w_target.value = "ops", "http", srv.url
        p._w_auth.value = "oauth2"
        p._w_add.click()
        assert p.status_kind == "success" and "Sign in" in p.status, p.status
        assert "oauth2 (not signed in)" in p._w_table.value
        assert not p._w_login.disabled
        p._w_login.click()  # no dashboard around this kernel: the CLI is the way
        assert p.status_kind == "error" and "tftsr mcp login ops" in p.status
        p._w_discover.click()
        assert "needs a sign-in" in p.status and "tftsr mcp login ops" in p.status
        wb.mcp.create_mcp_server("plain", "http", url=srv.url)
        p.refresh()
        p._w_server.value = wb.mcp.get_mcp_server("plain").id
        assert p._w_login.disabled


@pytest.mark.slow
def test_the_dashboard_completes_an_mcp_sign_in_begun_in_settings(tmp_path, monkeypatch):
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    data = tmp_path / "data"
    with FakeMcpAuthServer() as auth, FakeOAuthMcpServer(auth) as srv:
        wb = tftsr_kernel.open(data, shared=False)
        create_demo(wb)
        wb.mcp.create_mcp_server("ops", "http", url=srv.url, auth_type="oauth2")
        wb.close()
        with running_dashboard(data) as dash:
            callback = dash.base + "oauth/callback"
            # Settings -> MCP -> Sign in, as the page's kernel sees its request
            monkeypatch.setenv("SERVER_NAME", "127.0.0.1")
            monkeypatch.setenv("SERVER_PORT", str(dash.port))
            monkeypatch.setenv("SCRIPT_NAME", "/")
            wb = tftsr_kernel.open(data, shared=False)
            p = _mcp_panel(wb)
            p._w_server.value = wb.mcp.get_mcp_server("ops").id
            p._w_login.click()
            assert p.status_kind == "success", p.status
            auth_url = unescape(re.search(r'href="([^"]+)"', p._w_login_link.value).group(1))
            q = parse_qs(urlsplit(auth_url).query)
            assert q["redirect_uri"] == [callback] and q["resource"] == [srv.url]
            location = auth.authorize(auth_url)  # the browser at the authorization server
            assert location.startswith(callback + "?")
            refused = httpx.get(location, follow_redirects=False, timeout=30)  # no dashboard sign-in
            assert refused.status_code in (302, 403)
            assert not wb.mcp.get_mcp_server("ops").oauth["signed_in"]
            done = httpx.get(location, headers={"Authorization": f"token {dash.token}"}, timeout=30)
            assert done.status_code == 200 and "MCP server ops is signed in" in done.text, done.text
            assert wb.mcp.get_mcp_server("ops").oauth["signed_in"]
            p._w_discover.click()
            assert "connected, 2 tool(s)" in p.status, p.status
            assert "oauth2 (signed in)" in p._w_table.value
            again = httpx.get(location, headers={"Authorization": f"token {dash.token}"}, timeout=30)
            assert again.status_code == 400 and "already used" in again.text  # the state is single-use
            for token in auth.provider.access:
                assert token not in done.text and token not in p._w_table.value and token not in p.status
            wb.close()
