"""The HTTP API (tornado handlers) over real HTTP: bearer keys, scopes, JSON errors, issues."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

PW = "correct horse battery"


class ApiServer:
    """The team API on a loopback port, served by tornado in a thread of this process."""

    def __init__(self, wb):
        self.wb = wb
        self.port = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        from tornado.httpserver import HTTPServer
        from tornado.netutil import bind_sockets

        from tftsr_kernel.team.api import make_app

        async def main():
            sockets = bind_sockets(0, "127.0.0.1")
            self.port = sockets[0].getsockname()[1]
            server = HTTPServer(make_app(self.wb), max_body_size=8 * 1024 * 1024)
            server.add_sockets(sockets)
            self._stop = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stop.wait()
            server.stop()

        asyncio.run(main())

    def start(self):
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def api(wb):
    srv = ApiServer(wb).start()
    yield srv
    srv.stop()


@pytest.fixture
def keys(wb):
    t = wb.team
    t.create_user("ada", "admin")
    t.create_user("ana", "analyst")
    t.create_user("vic", "viewer")
    out = {
        "rw": t.create_api_key("rw", ["issues:read", "issues:write"], user="ana").key,
        "ro": t.create_api_key("ro", ["issues:read"], user="ana").key,
        "viewer": t.create_api_key("viewer", ["issues:read"], user="vic").key,
        "alerts": t.create_api_key("am", ["alerts:write"], user="ana").key,
    }
    revoked = t.create_api_key("old", ["issues:read", "alerts:write"], user="ana")
    t.revoke_api_key(revoked.id)
    out["revoked"] = revoked.key
    expired = t.create_api_key("exp", ["issues:read"], expires="1h", user="ana")
    wb.db.execute("UPDATE api_keys SET expires_at = '2000-01-01 00:00:00' WHERE id = ?", (expired.id,))
    out["expired"] = expired.key
    return out


def _h(key):
    return {"Authorization": f"Bearer {key}"}


def test_issues_list_get_create_update(api, keys, wb):
    c = httpx.Client(base_url=api.url, timeout=10)
    r = c.post("/api/v1/issues", headers=_h(keys["rw"]),
               json={"title": "Disk full on db-1", "severity": "high", "tags": ["disk"]})
    assert r.status_code == 201, r.text
    issue = r.json()
    assert r.headers["location"] == f"/api/v1/issues/{issue['id']}"
    assert r.headers["content-type"].startswith("application/json")
    r = c.get("/api/v1/issues", headers=_h(keys["ro"]))
    assert r.status_code == 200 and r.json()["total"] == 1 and r.json()["issues"][0]["id"] == issue["id"]
    r = c.get("/api/v1/issues", params={"q": "disk"}, headers=_h(keys["viewer"]))
    assert [i["id"] for i in r.json()["issues"]] == [issue["id"]]
    r = c.patch(f"/api/v1/issues/{issue['id']}", headers=_h(keys["rw"]), json={"status": "investigating"})
    assert r.status_code == 200 and r.json()["issue"]["status"] == "investigating"
    r = c.get(f"/api/v1/issues/{issue['id']}", headers=_h(keys["viewer"]))
    assert r.status_code == 200 and r.json()["issue"]["title"] == "Disk full on db-1"
    me = c.get("/api/v1/me", headers=_h(keys["viewer"])).json()
    assert me == {"user_id": wb.team.get_user("vic").id, "name": "vic", "role": "viewer", "via": "api_key",
                  "scopes": ["issues:read"]}
    used = {k.name: k.last_used_at for k in wb.team.list_api_keys("vic")}
    assert used["viewer"] is not None
    # the audit rows name the key's owner, the actor of the kernel calls
    rows = wb.audit.get_audit_log(entity_id=issue["id"])
    assert {(r.action, r.user_id) for r in rows} == {("create_issue", "ana"), ("update_issue", "ana"),
                                                      ("status_change", "ana")}
    # the API's status change is on the timeline, by the key's owner (kernel: issues.update_issue)
    changes = [e for e in wb.timeline.get_timeline_events(issue["id"]) if e.event_type == "status_change"]
    assert [(e.metadata["from"], e.metadata["to"], e.actor) for e in changes] == [("open", "investigating", "ana")]


@pytest.mark.parametrize("key,status,reason", [
    (None, 401, "missing"), ("revoked", 401, "revoked"), ("expired", 401, "expired"),
    ("bogus", 401, "invalid"), ("ro", 403, "missing_scope"), ("viewer", 403, "missing_role"),
])
def test_refusals_are_json_with_status(api, keys, key, status, reason):
    headers = {} if key is None else _h(keys.get(key, "tftsr_abcdefgh_" + "x" * 40))
    r = httpx.post(api.url + "/api/v1/issues", headers=headers, json={"title": "x"}, timeout=10)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == status and body["reason"] == reason and body["error"]
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_viewer_key_refusal_names_the_role(api, keys):
    """A viewer's key cannot be given a write scope, and a viewer reading is fine but writing is
    refused naming the scope / role; an analyst's key with the scope can."""
    r = httpx.post(api.url + "/api/v1/issues", headers=_h(keys["viewer"]), json={"title": "x"}, timeout=10)
    assert r.status_code == 403 and r.json()["needed_role"] == "analyst"
    assert "vic has the viewer role" in r.json()["error"] and "needs the analyst role" in r.json()["error"]
    r = httpx.post(api.url + "/api/v1/issues", headers=_h(keys["ro"]), json={"title": "x"}, timeout=10)
    assert r.status_code == 403 and r.json()["needed_scope"] == "issues:write"
    r = httpx.post(api.url + "/api/v1/issues", headers=_h(keys["rw"]), json={"title": "x"}, timeout=10)
    assert r.status_code == 201


def test_bad_payloads(api, keys):
    c = httpx.Client(base_url=api.url, timeout=10, headers=_h(keys["rw"]))
    r = c.post("/api/v1/issues", content=b"{not json")
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    r = c.post("/api/v1/issues", content=b"\xff\xfe")
    assert r.status_code == 400 and "UTF-8" in r.json()["error"]
    r = c.post("/api/v1/issues", json={"title": "x", "owner": "me"})
    assert r.status_code == 400 and "unknown field" in r.json()["error"]
    r = c.post("/api/v1/issues", json={"title": "x", "severity": "urgent"})
    assert r.status_code == 400 and "severity must be one of" in r.json()["error"]
    r = c.post("/api/v1/issues", content=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["reason"] == "too_large"
    r = c.get("/api/v1/issues/0190aaaa-0000-7000-8000-000000000000")
    assert r.status_code == 404 and "not found" in r.json()["error"]
    r = c.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["status"] == 404
    r = c.delete("/api/v1/issues")
    assert r.status_code == 405 and r.json()["status"] == 405
    r = c.get("/api/v1/issues", headers={"Authorization": "Basic YTpi"})
    assert r.status_code == 401 and r.json()["reason"] == "invalid"


def test_tftsr_api_command_serves_the_api(wb, data_dir, tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    key = wb.team.create_api_key("ci", ["issues:read", "issues:write"], user="ana").key
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, TFTSR_DATA_DIR=str(data_dir), PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    for k in ("TFTSR_SESSION_TOKEN", "TFTSR_API_KEY", "TFTSR_PASSWORD"):
        env.pop(k, None)
    out = open(tmp_path / "api.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "tftsr_kernel.cli", "api", "--port", str(port)], env=env,
                            stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/issues"
        end = time.monotonic() + 60
        while True:
            try:
                r = httpx.post(url, json={"title": "From the API command"}, headers=_h(key), timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < end, (tmp_path / "api.log").read_text()
                time.sleep(0.3)
        assert r.status_code == 201, r.text
        assert httpx.get(url, timeout=5).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()
    assert [i.title for i in wb.issues.list_issues()] == ["From the API command"]
