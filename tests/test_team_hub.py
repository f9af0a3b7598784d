"""JupyterHub: `tftsr hub` starts JupyterHub (configurable-http-proxy from npm); two project users
sign in with Chromium and each sees the dashboard as themselves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import json

import httpx
import pytest

pytest.importorskip("jupyterhub")
from tftsr_kernel.team.hub import chp_command  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(chp_command() is None,
                                 reason="needs configurable-http-proxy (.ci/workbench test installs it from npm)")]
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/shots/team")
PASSWORDS = {"ana": "ana's long password", "vic": "vic's long password"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hub(tmp_path, data_dir):
    import tftsr_kernel

    wb = tftsr_kernel.open(data_dir)
    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst", password=PASSWORDS["ana"])
    wb.team.create_user("vic", "viewer", password=PASSWORDS["vic"])
    wb.issues.create_issue("Checkout 503s", "pool exhausted", "high")
    ports = [_free_port() for _ in range(3)]
    env = dict(os.environ, TFTSR_DATA_DIR=str(data_dir), PYTHONPATH=str(Path(__file__).resolve().parents[1]),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    for k in ("TFTSR_SESSION_TOKEN", "TFTSR_API_KEY", "TFTSR_PASSWORD"):
        env.pop(k, None)
    log = open(tmp_path / "hub.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "tftsr_kernel.cli", "hub", "--port", str(ports[0]),
                             "--hub-port", str(ports[1]), "--proxy-api-port", str(ports[2])],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{ports[0]}"
    end = time.monotonic() + 120
    while time.monotonic() < end:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(url + "/hub/login", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    assert proc.poll() is None, (tmp_path / "hub.log").read_text()[-3000:]
    yield {"url": url, "wb": wb, "log": tmp_path / "hub.log"}
    os.killpg(proc.pid, signal.SIGTERM)  # the hub stops the users' servers and the proxy
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def test_two_users_sign_in_and_each_sees_the_dashboard_as_themselves(hub):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    url, wb = hub["url"], hub["wb"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-background-networking"])
        try:
            # a wrong password is refused by the users table (and audited)
            page = browser.new_page()
            page.goto(url + "/hub/login")
            page.fill("#username_input", "ana")
            page.fill("#password_input", "not the password")
            page.click("#login_submit")
            page.wait_for_selector("text=Invalid username or password", timeout=60_000)
            page.close()
            pages = {}
            for name in ("ana", "vic"):  # separate browser profiles: two people
                page = browser.new_context().new_page()
                page.goto(url + "/hub/login")
                page.fill("#username_input", name)
                page.fill("#password_input", PASSWORDS[name])
                page.click("#login_submit")
                pages[name] = page
            for name, page in pages.items():
                page.wait_for_url(f"**/user/{name}/voila/render/dashboard.ipynb", timeout=300_000)
                page.wait_for_selector(".tftsr-whoami", timeout=240_000)
            for name, role in (("ana", "analyst"), ("vic", "viewer")):
                page = pages[name]
                who = page.inner_text(".tftsr-whoami")
                assert f"Signed in as {name} ({role})" in who, who
                page.wait_for_selector("text=Checkout 503s", timeout=60_000)
                page.screenshot(path=str(SHOTS / f"hub_{name}.png"), full_page=True)
            # what each page's kernel does is done as its user: the analyst creates, the viewer is refused
            for name in ("ana", "vic"):
                page = pages[name]
                page.locator(".tftsr-new-issue").get_by_text("New issue").click()
                page.locator(".tftsr-new-title input").fill(f"Opened by {name}")
                page.locator("button.tftsr-create").click()
            pages["ana"].locator(".tftsr-issue-title").wait_for(timeout=60_000)
            pages["vic"].wait_for_selector("text=needs the analyst role", timeout=60_000)
            pages["vic"].screenshot(path=str(SHOTS / "hub_vic_refused.png"), full_page=True)
            # a viewer's server runs no code of the browser's and writes no file
            for name, allowed in (("ana", True), ("vic", False)):
                page = pages[name]
                xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
                base = f"{url}/user/{name}"
                put = page.request.put(f"{base}/api/contents/evil.ipynb", headers={"X-XSRFToken": xsrf},
                                       data=json.dumps({"type": "notebook", "content": {
                                           "cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}))
                assert (put.status in (200, 201)) is allowed, (name, put.status, put.text()[:200])
                started = page.request.post(f"{base}/api/kernels", headers={"X-XSRFToken": xsrf}, data="{}")
                assert started.ok, started.text()[:200]
                kid = started.json()["id"]
                ran = page.evaluate("""async ([base, kid]) => {
                    const ws = new WebSocket(base.replace('http', 'ws') + '/api/kernels/' + kid + '/channels');
                    await new Promise(r => ws.onopen = r);
                    const id = 'm' + Math.random();
                    const got = [];
                    ws.onmessage = e => { const m = JSON.parse(e.data);
                        if (m.parent_header && m.parent_header.msg_id === id) got.push(m.msg_type); };
                    ws.send(JSON.stringify({header: {msg_id: id, msg_type: 'execute_request', username: '',
                        session: 's' + id, date: '', version: '5.3'}, parent_header: {}, metadata: {},
                        content: {code: '1+1', silent: false, store_history: false, user_expressions: {},
                                  allow_stdin: false, stop_on_error: true}, channel: 'shell', buffers: []}));
                    await new Promise(r => setTimeout(r, 8000));
                    ws.close();
                    return got.includes('execute_reply');
                }""", [base, kid])
                assert ran is allowed, (name, ran)
        finally:
            browser.close()
    created = wb.audit.get_audit_log(action="create_issue", limit=5)
    assert [r.user_id for r in created][:1] == ["ana"]
    assert [i.title for i in wb.issues.list_issues()] == ["Opened by ana", "Checkout 503s"]
    failed = wb.audit.get_audit_log(action="sign_in_failed")
    assert failed and failed[0].details["username"] == "ana"
    hub_sessions = wb.db.query("SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id"
                               " WHERE s.via = 'hub' AND s.revoked_at IS NULL")
    assert sorted(r[0] for r in hub_sessions) == ["ana", "vic"]
