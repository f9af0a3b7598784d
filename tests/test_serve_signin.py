"""Team mode of a real ``tftsr dashboard``: users sign in over the access token, each page's
kernel acts as the signed-in user and belongs to that session, browsers cannot run code in a
kernel, and the HTTP API is served by the same server.

HTTP and WebSocket clients here; tests/test_serve_signin_browser.py clicks through it in Chromium."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid

import httpx
import pytest

from tests.dashboard import running_dashboard, team_store

pytestmark = [pytest.mark.slow]
websockets_sync = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import InvalidStatus  # noqa: E402

PASSWORDS = {"ada": "ada's admin password", "ana": "ana's long password", "vic": "vic's long password",
             "rita": "rita's long password"}
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    data = tmp_path_factory.mktemp("signin") / "data"
    wb = team_store(data, PASSWORDS, {"ada": "admin", "ana": "analyst", "vic": "viewer", "rita": "analyst"})
    keys = {"ana": wb.team.create_api_key("ana-ci", ["issues:read", "issues:write"], user="ana").key,
            "vic": wb.team.create_api_key("vic-ro", ["issues:read"], user="vic").key}
    wb.close()
    with running_dashboard(data, admin=("ada", PASSWORDS["ada"])) as dash:
        yield {"dash": dash, "data": data, "keys": keys}


def _store(team):
    import tftsr_kernel

    return tftsr_kernel.open(team["data"], shared=False)


def _signed(team, name):
    client, resp = team["dash"].sign_in(name, PASSWORDS[name])
    assert resp.status_code == 302, resp.text
    return client


def _cookie_header(client) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)


def _page_kernel(client) -> str:
    resp = client.get("")
    assert resp.status_code == 200, resp.status_code
    config = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', resp.text, re.S)
    kid = json.loads(config.group(1)).get("kernelId") if config else None
    if not kid:
        kid = re.search(r'kernelId["\']?\s*[:=]\s*["\'](' + UUID_RE + ")", resp.text).group(1)
    return kid


def _channels(team, kernel_id: str, client):
    port = team["dash"].port
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    return websockets_sync.connect(f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels", sock=sock,
                                   additional_headers={"Cookie": _cookie_header(client)}, open_timeout=20)


def _msg(msg_type: str, content: dict, channel: str = "shell") -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "", "session": uuid.uuid4().hex,
                       "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": content, "channel": channel, "buffers": []}


def _replies(ws, msg_id: str, seconds: float) -> list[dict]:
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            raw = ws.recv(timeout=max(0.05, end - time.monotonic()))
        except TimeoutError:
            break
        if isinstance(raw, bytes):
            continue
        m = json.loads(raw)
        if m.get("parent_header", {}).get("msg_id") == msg_id:
            out.append(m)
    return out


def test_the_token_alone_leads_to_the_user_sign_in(team):
    dash = team["dash"]
    before = dash.kernel_ids()
    client = httpx.Client(base_url=dash.base, follow_redirects=False, timeout=60)
    resp = client.get("?token=" + dash.token)
    assert resp.status_code == 302 and resp.headers["location"].startswith("/login?next=")
    form = client.get("login")
    assert form.status_code == 200
    assert 'name="username"' in form.text and 'name="password"' in form.text
    assert 'name="token"' not in form.text  # this browser has shown the token already
    assert "<script" not in form.text and "src=" not in form.text
    fresh = httpx.get(dash.base + "login", timeout=60)
    assert 'name="token"' in fresh.text and 'name="username"' in fresh.text  # a browser without the token
    assert httpx.get(dash.base, timeout=60, follow_redirects=False).status_code == 302
    time.sleep(0.5)
    assert not dash.kernels_started_since(before)


def test_a_password_without_the_token_is_refused(team):
    client, resp = team["dash"].sign_in("ana", PASSWORDS["ana"], token=False)
    assert resp.status_code == 401 and "access token is not right" in resp.text
    assert not any(c.name.startswith("tftsr-session-") for c in client.cookies.jar)


def test_wrong_passwords_are_refused_audited_and_rate_limited(team):
    dash = team["dash"]
    for _ in range(5):
        _, resp = dash.sign_in("rita", "not rita's password")
        assert resp.status_code == 401 and "wrong user name or password" in resp.text
    _, resp = dash.sign_in("rita", PASSWORDS["rita"])  # even the right password, while locked
    assert resp.status_code == 429 and "too many failed sign-ins" in resp.text
    assert int(resp.headers["Retry-After"]) > 0
    _, resp = dash.sign_in("nosuchuser", "whatever password")
    assert resp.status_code == 401 and "wrong user name or password" in resp.text
    wb = _store(team)
    try:
        rows = wb.db.query("SELECT action, user_id, details FROM audit_log WHERE action LIKE 'sign_in%'")
        names = [(r["action"], json.loads(r["details"]).get("username")) for r in rows]
        assert names.count(("sign_in_failed", "rita")) == 5
        assert ("sign_in_rate_limited", "rita") in names and ("sign_in_failed", "nosuchuser") in names
        assert all(r["user_id"] == "nobody" for r in rows if r["action"] != "sign_in")
    finally:
        wb.close()


def test_sign_in_sets_an_httponly_session_cookie_and_opens_a_session(team):
    client, resp = team["dash"].sign_in("ana", PASSWORDS["ana"])
    assert resp.status_code == 302 and resp.headers["location"] == "/"
    cookie = next(h for h in resp.headers.get_list("set-cookie") if h.startswith("tftsr-session-"))
    low = cookie.lower()
    assert "httponly" in low and "samesite=lax" in low and "path=/" in low and "expires" not in low
    token = cookie.split("=", 1)[1].split(";", 1)[0]
    wb = _store(team)
    try:
        import hashlib

        row = wb.db.query_one("SELECT s.via, s.expires_at, s.revoked_at, u.username FROM sessions s"
                              " JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
                              (hashlib.sha256(token.encode()).hexdigest(),))
        assert row["username"] == "ana" and row["via"] == "password" and row["revoked_at"] is None
        assert not wb.db.query("SELECT 1 FROM sessions WHERE token_hash = ?", (token,))  # only its hash is kept
    finally:
        wb.close()
    page = client.get("")
    assert page.status_code == 200 and "jupyter-config-data" in page.text
    assert token not in page.text  # the page never shows the session
    client.close()


def test_a_kernel_belongs_to_the_session_whose_page_started_it(team):
    ana, vic = _signed(team, "ana"), _signed(team, "vic")
    kid = _page_kernel(ana)
    with pytest.raises(InvalidStatus) as exc:
        with _channels(team, kid, vic):
            pass
    assert exc.value.response.status_code == 403
    xsrf = {"X-XSRFToken": vic.cookies.get("_xsrf")}
    assert vic.get(f"api/kernels/{kid}").status_code == 403
    assert vic.delete(f"api/kernels/{kid}", headers=xsrf).status_code == 403
    assert vic.post(f"voila/api/shutdown/{kid}", headers=xsrf).status_code == 403
    assert vic.get("api/kernels").status_code == 403  # the kernel list is for admins
    assert kid in {k["id"] for k in team["dash"].kernels()}  # still running
    with _channels(team, kid, ana) as ws:  # its own page's session connects
        info = _msg("kernel_info_request", {})
        ws.send(json.dumps(info))
        assert any(m["msg_type"] == "kernel_info_reply" for m in _replies(ws, info["header"]["msg_id"], 15))
    ana.close()
    vic.close()


def test_a_browser_cannot_run_code_in_its_page_kernel(team):
    ana = _signed(team, "ana")
    kid = _page_kernel(ana)
    with _channels(team, kid, ana) as ws:
        run = _msg("execute_request", {"code": "import os; print(os.environ.get('TFTSR_SESSION_TOKEN'))",
                                       "silent": False, "store_history": True, "user_expressions": {},
                                       "allow_stdin": False, "stop_on_error": True})
        ws.send(json.dumps(run))
        seen = _replies(ws, run["header"]["msg_id"], 4)
        assert not seen, [m["msg_type"] for m in seen]  # ignored: no reply, no output, nothing ran
        info = _msg("kernel_info_request", {})
        ws.send(json.dumps(info))
        assert any(m["msg_type"] == "kernel_info_reply" for m in _replies(ws, info["header"]["msg_id"], 15))
    assert "not allowed. Ignoring" in team["dash"].log()
    ana.close()


def test_sign_out_ends_the_session_and_its_kernels_access(team):
    ana = _signed(team, "ana")
    kid = _page_kernel(ana)
    saved = _cookie_header(ana)
    resp = ana.get("logout")
    assert resp.status_code == 200 and "Signed out" in resp.text
    assert ana.get("").status_code == 302
    sock = socket.create_connection(("127.0.0.1", team["dash"].port), timeout=20)
    with pytest.raises(InvalidStatus):
        with websockets_sync.connect(f"ws://127.0.0.1:{team['dash'].port}/api/kernels/{kid}/channels", sock=sock,
                                     additional_headers={"Cookie": saved}, open_timeout=20):
            pass
    replay = httpx.get(team["dash"].base, headers={"Cookie": saved}, timeout=60, follow_redirects=False)
    assert replay.status_code == 302  # the old cookie no longer signs anyone in
    wb = _store(team)
    try:
        assert wb.db.query("SELECT 1 FROM audit_log WHERE action = 'sign_out' AND user_id = 'ana'")
    finally:
        wb.close()


def test_revoking_a_users_sessions_signs_them_out_of_the_dashboard(team):
    vic = _signed(team, "vic")
    assert vic.get("").status_code == 200
    wb = _store(team)
    try:
        wb.team.act_as(wb.team.check_password("ada", PASSWORDS["ada"]))
        assert wb.team.revoke_sessions("vic") >= 1
    finally:
        wb.close()
    assert vic.get("").status_code == 302


def test_the_http_api_is_served_by_the_dashboard(team):
    base, keys = team["dash"].base + "api/v1/", team["keys"]
    me = httpx.get(base + "me", headers={"Authorization": f"Bearer {keys['ana']}"}, timeout=30)
    assert me.status_code == 200 and me.json()["name"] == "ana" and me.json()["role"] == "analyst"
    none = httpx.get(base + "issues", timeout=30)
    assert none.status_code == 401 and none.json()["status"] == 401
    assert "Bearer" in none.headers["WWW-Authenticate"]
    # the access token is no API key, and neither is a signed-in browser's cookie
    tok = httpx.get(base + "issues", headers={"Authorization": f"Bearer {team['dash'].token}"}, timeout=30)
    assert tok.status_code == 401
    made = httpx.post(base + "issues", headers={"Authorization": f"Bearer {keys['ana']}"},
                      json={"title": "Opened through the dashboard's API", "severity": "high"}, timeout=30)
    assert made.status_code == 201, made.text
    refused = httpx.post(base + "issues", headers={"Authorization": f"Bearer {keys['vic']}"},
                         json={"title": "a viewer tries"}, timeout=30)
    assert refused.status_code == 403 and refused.json()["needed_role"] == "analyst"
    got = httpx.get(base + f"issues/{made.json()['id']}", headers={"Authorization": f"Bearer {keys['vic']}"},
                    timeout=30)
    assert got.status_code == 200 and got.json()["issue"]["title"] == "Opened through the dashboard's API"
    wb = _store(team)
    try:
        row = wb.db.query_one("SELECT user_id FROM audit_log WHERE action = 'create_issue' AND entity_id = ?",
                              (made.json()["id"],))
        assert row["user_id"] == "ana"
    finally:
        wb.close()
