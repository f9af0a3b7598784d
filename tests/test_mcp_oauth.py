"""OAuth2 for Streamable HTTP MCP servers, over real HTTP: an SDK-built MCP server that is an
RFC 9728 protected resource of an SDK-built authorization server (tests/fakes/mcp_oauth.py). The
test plays the browser: it follows the authorization URL with httpx, and the authorization server
redirects to the CLI's loopback listener (or to the kernel's callback)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes.mcp_http import FakeMcpHttpServer
from tests.fakes.mcp_oauth import FakeMcpAuthServer, FakeOAuthMcpServer
from tftsr_kernel.integrations.errors import OAuthError
from tftsr_kernel.mcp import oauth as mcp_oauth
from tftsr_kernel.mcp.errors import McpAuthError

REPO = Path(__file__).resolve().parents[1]
CALLBACK = "http://127.0.0.1:{}/oauth/callback"


@pytest.fixture
def auth():
    with FakeMcpAuthServer() as srv:
        yield srv


@pytest.fixture
def protected(auth):
    with FakeOAuthMcpServer(auth) as srv:
        yield srv


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _kernel_login(wb, auth, name="ops", port=8799):
    """begin_login, the browser at the authorization server, complete_login with what came back."""
    start = wb.mcp.begin_login(name, CALLBACK.format(port))
    back = _query(auth.authorize(start.auth_url))
    wb.mcp.complete_login(back["state"], back["code"])
    return start, back


def _secrets_of(auth) -> list[str]:
    return [*auth.provider.access, *auth.provider.refresh,
            *(c.client_secret for c in auth.provider.clients.values() if c.client_secret)]


def _audit_text(wb) -> str:
    return "\n".join(str(tuple(r)) for r in wb.db.query("SELECT action, details FROM audit_log"))


def test_cli_login_discovers_calls_refreshes_and_never_shows_a_token(wb, cli, auth, protected, data_dir):
    r = cli("mcp", "add", "ops", "--http", protected.url, "--auth", "oauth2")
    assert r.code == 0, r.stderr
    assert "tftsr mcp login ops" in r.stdout
    # no token yet: discovery is an error that says what to do, and nothing was sent to the server
    status = wb.mcp.discover_mcp_server("ops")
    assert status.status == "error" and "tftsr mcp login ops" in status.error
    assert protected.requests == []

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "tftsr_kernel.cli", "mcp", "login", "ops", "--no-browser",
                             "--port", str(port), "--timeout", "90"], stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("http"):
                break
        auth_url = lines[-1].strip()
        q = _query(auth_url)
        assert q["response_type"] == "code" and q["code_challenge_method"] == "S256" and q["code_challenge"]
        assert q["redirect_uri"] == CALLBACK.format(port) and len(q["state"]) >= 43
        assert q["resource"] == protected.url and q["scope"] == "mcp"  # RFC 8707, the scope the server asks for
        assert q["client_id"] in auth.provider.clients  # dynamic client registration (RFC 7591)
        location = auth.authorize(auth_url)  # the browser at the authorization server
        assert location.startswith(CALLBACK.format(port) + "?")
        page = httpx.get(location, timeout=60)  # ... and back at the loopback listener
        assert page.status_code == 200 and "signed in" in page.text.lower()
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "signed in to MCP server ops" in out
    assert auth.grants == ["authorization_code"]
    token_form = [r["form"] for r in auth.requests if r["path"] == "/token"][0]
    assert token_form["resource"] == protected.url and token_form["code_verifier"]
    # only the client id, redirect URI, state, challenge, scope and resource left in the authorization request
    assert set(q) == {"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                      "code_challenge_method", "resource"}

    # discovery and a tool call with the token (a bearer on every request)
    status = wb.mcp.discover_mcp_server("ops")
    assert status.status == "connected" and status.tool_count == 2, status.error
    first_token = next(iter(auth.provider.access))
    assert protected.tokens_seen and set(protected.tokens_seen) == {first_token}
    res = wb.mcp.call_tool("ops", "echo", {"text": "hello"}, allow=["ops.echo"])
    assert res.status == "ok" and res.content == "received: hello"

    # a forced expiry: the server refuses the token, the client refreshes once and goes on
    auth.provider.expire_access_tokens()
    res = wb.mcp.call_tool("ops", "echo", {"text": "again"}, allow=["ops.echo"])
    assert res.status == "ok" and res.content == "received: again", res.content
    assert auth.grants == ["authorization_code", "refresh_token"]
    assert [r["form"]["resource"] for r in auth.requests if r["path"] == "/token"] == [protected.url] * 2
    assert protected.tokens_seen[-1] != first_token

    # the tokens are nowhere in clear: not in the database file, not in show/list, not in the audit log
    secrets = _secrets_of(auth) + [first_token]
    shown = cli("mcp", "show", "ops", "--json")
    listed = cli("mcp", "list", "--json")
    assert shown.code == 0 and listed.code == 0
    assert shown.json["oauth"]["signed_in"] is True and shown.json["has_auth"] is True
    assert shown.json["auth_value"] is None
    raw = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    for secret in secrets:
        for text in (shown.stdout, listed.stdout, out, err, _audit_text(wb), str(wb.mcp.list_mcp_servers())):
            assert secret not in text
        assert secret.encode() not in raw


def test_a_token_about_to_expire_is_refreshed_before_it_is_used(wb):
    with FakeMcpAuthServer(expires_in=30) as auth, FakeOAuthMcpServer(auth) as protected:  # < the 60 s margin
        wb.mcp.create_mcp_server("ops", "http", url=protected.url, auth_type="oauth2")
        _kernel_login(wb, auth)
        first = next(iter(auth.provider.access))
        assert wb.mcp.discover_mcp_server("ops").status == "connected"
        assert auth.grants[:2] == ["authorization_code", "refresh_token"]
        assert first not in protected.tokens_seen  # refreshed before the first MCP request


def test_an_unrefreshable_sign_in_asks_to_sign_in_again(wb, auth, protected):
    wb.mcp.create_mcp_server("ops", "http", url=protected.url, auth_type="oauth2")
    _kernel_login(wb, auth)
    assert wb.mcp.discover_mcp_server("ops").status == "connected"
    auth.provider.expire_access_tokens()
    auth.provider.revoke_refresh_tokens()
    res = wb.mcp.call_tool("ops", "echo", {"text": "x"}, allow=["ops.echo"])
    assert res.status == "error" and "tftsr mcp login ops" in res.content
    assert wb.mcp.get_mcp_server("ops").oauth["signed_in"] is False
    status = wb.mcp.discover_mcp_server("ops")
    assert status.status == "error" and "tftsr mcp login ops" in status.error
    for secret in _secrets_of(auth):
        assert secret not in res.content and secret not in status.error
    with pytest.raises(McpAuthError, match="tftsr mcp login ops"):
        wb.mcp.read_mcp_resource("ops", "runbook://none")


def test_a_reused_or_forged_state_is_refused_and_stores_nothing(wb, auth, protected):
    wb.mcp.create_mcp_server("ops", "http", url=protected.url, auth_type="oauth2")
    start = wb.mcp.begin_login("ops", CALLBACK.format(8799))
    back = _query(auth.authorize(start.auth_url))
    with pytest.raises(OAuthError, match="unknown") as forged:
        wb.mcp.complete_login("forged-" + back["state"][7:], back["code"])
    assert back["code"] not in str(forged.value)
    assert not any(r["path"] == "/token" for r in auth.requests)  # refused before anything was sent
    assert wb.mcp.get_mcp_server("ops").oauth["signed_in"] is False
    wb.mcp.complete_login(back["state"], back["code"])
    with pytest.raises(OAuthError, match="already used"):
        wb.mcp.complete_login(back["state"], back["code"])
    assert auth.grants == ["authorization_code"]
    # the dashboard's callback handler sends MCP states to wb.mcp and refuses a replay the same way
    from tftsr_kernel.integrations.oauth import handle_callback

    status, page = handle_callback(wb, {"state": back["state"], "code": back["code"]})
    assert status == 400 and "already used" in page and back["code"] not in page
    start2 = wb.mcp.begin_login("ops", CALLBACK.format(8799))
    back2 = _query(auth.authorize(start2.auth_url))
    status, page = handle_callback(wb, back2)
    assert status == 200 and "MCP server ops is signed in" in page
    # removing the server removes its pending states
    wb.mcp.begin_login("ops", CALLBACK.format(8799))
    wb.mcp.delete_mcp_server("ops")
    assert wb.db.query_one("SELECT count(*) FROM oauth_states WHERE service = 'mcp'")[0] == 0


def test_a_configured_client_id_and_the_openid_configuration_fallback(wb):
    port = _free_port()
    with FakeMcpAuthServer(registration=False, openid_only=True) as auth, FakeOAuthMcpServer(auth) as protected:
        wb.mcp.create_mcp_server("plain", "http", url=protected.url, auth_type="oauth2")
        with pytest.raises(McpAuthError, match="no dynamic client registration"):
            wb.mcp.begin_login("plain", CALLBACK.format(port))
        auth.provider.preregister("tftsr-pre", [CALLBACK.format(port)], secret="confidential-s3cret-value-77")
        wb.mcp.create_mcp_server("ops", "http", url=protected.url, auth_type="oauth2", oauth_client_id="tftsr-pre",
                                 oauth_client_secret="confidential-s3cret-value-77")
        start, _back = _kernel_login(wb, auth, port=port)
        assert _query(start.auth_url)["client_id"] == "tftsr-pre"
        paths = [r["path"] for r in auth.requests]
        assert "/register" not in paths and "/.well-known/openid-configuration" in paths
        assert [r["form"].get("client_secret") for r in auth.requests if r["path"] == "/token"] == [
            "confidential-s3cret-value-77"]
        assert wb.mcp.discover_mcp_server("ops").status == "connected"
        shown = wb.mcp.get_mcp_server("ops")
        assert shown.oauth["has_client_secret"] and "confidential-s3cret" not in json.dumps(shown.to_dict())


def test_discovery_refusals_are_clear(wb):
    with FakeMcpHttpServer(token=None) as open_srv:
        wb.mcp.create_mcp_server("open", "http", url=open_srv.url, auth_type="oauth2")
        with pytest.raises(McpAuthError, match="needs no OAuth2"):
            wb.mcp.begin_login("open", CALLBACK.format(8799))
    with FakeMcpHttpServer(token="static-token-1234") as bearer_srv:  # 401, but no RFC 9728 metadata
        wb.mcp.create_mcp_server("bearer-only", "http", url=bearer_srv.url, auth_type="oauth2")
        with pytest.raises(McpAuthError, match="protected resource metadata"):
            wb.mcp.begin_login("bearer-only", CALLBACK.format(8799))
    with pytest.raises(McpAuthError, match="https"):
        mcp_oauth.check_endpoint("http://auth.example.com/token", "token endpoint")
    assert mcp_oauth.check_endpoint("https://auth.example.com/token", "t")
    parsed = mcp_oauth.parse_www_authenticate(
        'Bearer error="invalid_token", resource_metadata="https://x.example/.well-known/oauth-protected-resource/mcp",'
        ' scope="files:read files:write"')
    assert parsed["resource_metadata"].endswith("/mcp") and parsed["scope"] == "files:read files:write"
    assert mcp_oauth.canonical("HTTPS://Example.COM:443/mcp#x") == "https://example.com/mcp"
    wb.mcp.create_mcp_server("tok", "http", url="http://127.0.0.1:9/mcp", auth_type="bearer", auth_value="abcd1234")
    with pytest.raises(Exception, match="not oauth2"):
        wb.mcp.begin_login("tok", CALLBACK.format(8799))


def test_roles_sign_in_is_admin_and_the_callback_needs_none(wb, auth, protected):
    from tftsr_kernel import errors
    from tftsr_kernel.team import acting_as

    wb.team.create_user("ada", "admin")
    wb.team.create_user("vic", "viewer")
    ada, vic = wb.team.actor_for("ada", "session"), wb.team.actor_for("vic", "session")
    with acting_as(ada):
        wb.mcp.create_mcp_server("ops", "http", url=protected.url, auth_type="oauth2")
        start = wb.mcp.begin_login("ops", CALLBACK.format(8799))
    back = _query(auth.authorize(start.auth_url))
    with acting_as(vic):
        with pytest.raises(errors.PermissionDeniedError):
            wb.mcp.begin_login("ops", CALLBACK.format(8799))
        assert wb.mcp.complete_login(back["state"], back["code"]) == "ops"  # the state is the proof
    with acting_as(ada):
        assert wb.mcp.get_mcp_server("ops").oauth["signed_in"]


def test_updates_keep_or_drop_the_sign_in_and_the_cli_refuses_mixed_options(wb, cli, auth, protected):
    wb.mcp.create_mcp_server("ops", "http", url=protected.url, auth_type="oauth2")
    _kernel_login(wb, auth)
    server = wb.mcp.update_mcp_server("ops", oauth_client_secret="a-new-client-secret-123")
    assert server.oauth["signed_in"] and server.oauth["has_client_secret"]  # a new secret keeps the sign-in
    server = wb.mcp.update_mcp_server("ops", url=protected.url + "/")
    assert not server.oauth["signed_in"] and server.oauth["has_client_secret"]  # another URL: sign in again
    assert "tftsr mcp login ops" in wb.mcp.discover_mcp_server("ops").error
    server = wb.mcp.update_mcp_server("ops", auth_type="none")
    assert server.auth_type == "none" and server.oauth is None and not server.has_auth
    assert wb.mcp.update_mcp_server("ops", auth_type="oauth2").oauth["signed_in"] is False
    with pytest.raises(Exception, match="needs a value"):  # the stored sign-in is no bearer token
        wb.mcp.update_mcp_server("ops", auth_type="bearer")
    r = cli("mcp", "add", "x", "--http", protected.url, "--auth", "oauth2", "--auth-env", "HOME")
    assert r.code != 0 and "tftsr mcp login" in r.stderr
    r = cli("mcp", "add", "y", "--http", protected.url, "--client-id", "abc")
    assert r.code != 0 and "--auth oauth2" in r.stderr
