"""OAuth2 authorization code + PKCE (S256) + single-use expiring state, against a fake
authorization server that checks the verifier and the redirect URI (tests/fakes/oauth.py)."""

from __future__ import annotations

import hashlib
import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tftsr_kernel.integrations import oauth as oauth_mod
from tftsr_kernel.integrations.errors import OAuthError
from tests.fakes.azuredevops import FakeAzureDevOps
from tests.fakes.confluence import FakeConfluence
from tests.fakes.oauth import FakeOAuthServer

REDIRECT = "http://127.0.0.1:8765/oauth/callback"
CLIENT_SECRET = "client-secret-planted-9b8a7c6d5e"


@pytest.fixture
def idp():
    with FakeOAuthServer(redirect_uris={REDIRECT}, client_secret=CLIENT_SECRET) as srv:
        yield srv


@pytest.fixture
def confluence(idp):
    with FakeConfluence(auth=idp.bearer_set()) as srv:
        yield srv


def configure(wb, idp, confluence, service="confluence", **kw):
    return wb.integrations.add_integration(
        service, confluence.url, oauth={"auth_url": idp.auth_url, "token_url": idp.token_url,
                                        "client_id": idp.client_id, "scope": "read write"},
        client_secret=CLIENT_SECRET, **kw)


def code_and_state(idp, start) -> tuple[str, str]:
    q = parse_qs(urlsplit(idp.authorize(start.auth_url)).query)
    return q["code"][0], q["state"][0]


def credential_count(wb) -> int:
    return wb.db.query_one("SELECT count(*) FROM credentials")[0]


def test_authorization_url_carries_pkce_s256_and_state(wb, idp, confluence):
    configure(wb, idp, confluence)
    start = wb.integrations.begin_login("confluence", REDIRECT)
    q = {k: v[0] for k, v in parse_qs(urlsplit(start.auth_url).query).items()}
    assert q["response_type"] == "code" and q["client_id"] == idp.client_id and q["redirect_uri"] == REDIRECT
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43 and q["state"] == start.state
    assert len(start.state) >= 43
    # only the state's hash and the encrypted verifier are stored
    row = wb.db.query_one("SELECT state_hash, encrypted_verifier FROM oauth_states")
    assert row[0] == hashlib.sha256(start.state.encode()).hexdigest() and start.state not in row[1]


def test_login_stores_an_encrypted_token_and_the_client_uses_it(wb, idp, confluence):
    configure(wb, idp, confluence)
    assert not wb.integrations.test_connection("confluence").success  # no token yet
    start = wb.integrations.begin_login("confluence", REDIRECT)
    code, state = code_and_state(idp, start)
    assert wb.integrations.complete_login(state, code) == "confluence"
    info = wb.integrations.get_integration("confluence")
    assert info.has_credential and info.auth_type == "oauth" and info.credential_expires_at
    [token] = idp.access_tokens
    stored = wb.db.query_one("SELECT token_hash, encrypted_token FROM credentials")
    assert stored[0] == hashlib.sha256(token.encode()).hexdigest() and token not in stored[1]
    assert wb.integrations.test_connection("confluence").success
    assert confluence.requests[-1].header("authorization") == f"Bearer {token}"
    grant = [r for r in idp.requests if r.path == "/token"][-1].form
    assert grant["grant_type"] == "authorization_code" and grant["redirect_uri"] == REDIRECT
    assert grant["client_secret"] == CLIENT_SECRET
    text = str(info.to_dict()) + "".join(str(dict(r)) for r in wb.db.query("SELECT * FROM audit_log"))
    assert token not in text and CLIENT_SECRET not in text and code not in text


def test_wrong_state_stores_no_token(wb, idp, confluence):
    configure(wb, idp, confluence)
    start = wb.integrations.begin_login("confluence", REDIRECT)
    code, _state = code_and_state(idp, start)
    with pytest.raises(OAuthError, match="unknown") as e:
        wb.integrations.complete_login("forged-" + start.state[7:], code)
    assert credential_count(wb) == 0 and "/token" not in [r.path for r in idp.requests]
    assert code not in str(e.value)


def test_reused_state_stores_no_token(wb, idp, confluence):
    configure(wb, idp, confluence)
    start = wb.integrations.begin_login("confluence", REDIRECT)
    code, state = code_and_state(idp, start)
    wb.integrations.complete_login(state, code)
    first = wb.db.query_one("SELECT id, token_hash FROM credentials")
    with pytest.raises(OAuthError, match="already used"):
        wb.integrations.complete_login(state, code)
    assert tuple(wb.db.query_one("SELECT id, token_hash FROM credentials")) == tuple(first)
    assert [r.path for r in idp.requests].count("/token") == 1


def test_expired_state_stores_no_token(wb, idp, confluence):
    configure(wb, idp, confluence)
    start = wb.integrations.begin_login("confluence", REDIRECT)
    code, state = code_and_state(idp, start)
    wb.db.execute("UPDATE oauth_states SET expires_at = '2020-01-01 00:00:00'")
    with pytest.raises(OAuthError, match="expired"):
        wb.integrations.complete_login(state, code)
    assert credential_count(wb) == 0
    with pytest.raises(OAuthError, match="already used"):  # and it stays spent
        wb.integrations.complete_login(state, code)


def test_wrong_pkce_verifier_stores_no_token(wb, idp, confluence):
    """A code obtained for one login, completed with another login's state (so the other
    verifier): the authorization server refuses it and nothing is stored."""
    configure(wb, idp, confluence)
    a = wb.integrations.begin_login("confluence", REDIRECT)
    b = wb.integrations.begin_login("confluence", REDIRECT)
    code_a, _ = code_and_state(idp, a)
    with pytest.raises(OAuthError, match="PKCE verification failed"):
        wb.integrations.complete_login(b.state, code_a)
    assert credential_count(wb) == 0
    assert wb.db.query_one("SELECT count(*) FROM audit_log WHERE action = 'oauth_refused'")[0] == 1


def test_redirect_uri_must_be_the_registered_one(wb, idp, confluence):
    configure(wb, idp, confluence)
    start = wb.integrations.begin_login("confluence", "http://127.0.0.1:9999/oauth/callback")
    r = httpx.get(start.auth_url, follow_redirects=False)
    assert r.status_code == 400 and "redirect_uri" in r.json()["error_description"]


def test_denied_consent_stores_no_token(wb, idp, confluence):
    configure(wb, idp, confluence)
    start = wb.integrations.begin_login("confluence", REDIRECT)
    with pytest.raises(OAuthError, match="not granted"):
        wb.integrations.complete_login(start.state, "", error="access_denied")
    assert credential_count(wb) == 0


def test_token_is_refreshed_before_it_expires(wb, confluence):
    with FakeOAuthServer(redirect_uris={REDIRECT}, expires_in=30) as idp:  # inside the 60 s margin
        confluence.accept_auth = idp.bearer_set()
        configure_plain = wb.integrations.add_integration(
            "confluence", confluence.url, oauth={"auth_url": idp.auth_url, "token_url": idp.token_url,
                                                 "client_id": idp.client_id})
        assert configure_plain.oauth["has_client_secret"] is False
        start = wb.integrations.begin_login("confluence", REDIRECT)
        code, state = code_and_state(idp, start)
        wb.integrations.complete_login(state, code)
        first = wb.db.query_one("SELECT token_hash FROM credentials")[0]
        assert wb.integrations.test_connection("confluence").success
        assert idp.token_grants == ["authorization_code", "refresh_token"]
        second = wb.db.query_one("SELECT token_hash FROM credentials")[0]
        assert second != first
        used = confluence.requests[-1].header("authorization")[7:]
        assert hashlib.sha256(used.encode()).hexdigest() == second


def test_azuredevops_oauth_and_servicenow_refuses_it(wb, idp):
    with FakeAzureDevOps(auth=idp.bearer_set()) as ado:
        wb.integrations.add_integration("azuredevops", ado.url, project=ado.project,
                                        oauth={"auth_url": idp.auth_url, "token_url": idp.token_url,
                                               "client_id": idp.client_id}, client_secret=CLIENT_SECRET)
        start = wb.integrations.begin_login("azuredevops", REDIRECT)
        code, state = code_and_state(idp, start)
        assert wb.integrations.complete_login(state, code) == "azuredevops"
        assert wb.integrations.test_connection("azuredevops").success
    from tftsr_kernel.errors import ValidationError

    with pytest.raises(ValidationError, match="user and password"):
        wb.integrations.add_integration("servicenow", "https://x.service-now.com", oauth={"client_id": "c"})


def test_loopback_listener_completes_the_login(wb, idp, confluence):
    configure(wb, idp, confluence)
    listener = oauth_mod.LoopbackListener(0).start()
    idp.redirect_uris.add(listener.redirect_uri)
    try:
        start = wb.integrations.begin_login("confluence", listener.redirect_uri)
        location = idp.authorize(start.auth_url)
        assert location.startswith(listener.redirect_uri + "?")
        answer = {}
        browser = threading.Thread(target=lambda: answer.update(r=httpx.get(location, timeout=30)))
        browser.start()
        status, page = listener.wait(lambda q: oauth_mod.handle_callback(wb, q), 10)
        browser.join(10)
    finally:
        listener.close()
    assert status == 200 and answer["r"].status_code == 200 and "connected" in answer["r"].text
    assert wb.integrations.get_integration("confluence").has_credential


def test_tornado_callback_handler_refuses_a_forged_state(wb, idp, confluence):
    """The handler the dashboard's server mounts at /oauth/callback, served by tornado."""
    import asyncio

    import tornado.httpserver
    import tornado.netutil
    import tornado.web

    configure(wb, idp, confluence)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    redirect = f"http://127.0.0.1:{port}/oauth/callback"
    idp.redirect_uris.add(redirect)
    ready, stop = threading.Event(), {}

    def serve():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = tornado.web.Application([(r"/oauth/callback", oauth_mod.tornado_callback_handler(),
                                        {"workbench": wb})])
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets(sockets)
        stop["loop"] = loop
        ready.set()
        loop.run_forever()
        server.stop()
        loop.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    ready.wait(10)
    try:
        start = wb.integrations.begin_login("confluence", redirect)
        location = idp.authorize(start.auth_url)
        code = parse_qs(urlsplit(location).query)["code"][0]
        forged = httpx.get(f"{redirect}?code={code}&state=not-the-state", timeout=30)
        assert forged.status_code == 400 and "unknown" in forged.text and credential_count(wb) == 0
        hostile = httpx.get(f"{redirect}?state=<script>alert(1)</script>", timeout=30)
        assert hostile.status_code == 400 and "<script>" not in hostile.text
        ok = httpx.get(location, timeout=30)
        assert ok.status_code == 200 and credential_count(wb) == 1
        again = httpx.get(location, timeout=30)
        assert again.status_code == 400 and "already used" in again.text
    finally:
        stop["loop"].call_soon_threadsafe(stop["loop"].stop)
        t.join(10)
