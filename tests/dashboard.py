"""A real ``tftsr dashboard`` for tests: started as a subprocess on a free loopback port with its
own data directory, the URL (with the token) read from its ``--json`` document, stopped with
SIGTERM. Reusable by any test module::

    from tests.dashboard import running_dashboard

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        with running_dashboard(tmp_path_factory.mktemp("x") / "data", "--cull-idle", "60") as dash:
            yield dash

``dash.url`` has the token (open it first: the browser then keeps the session cookie),
``dash.base`` has not; ``dash.kernels()`` lists the server's kernels through its API.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("TFTSR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def click_tab(pg, bar: str, title: str) -> None:
    """Click the Lumino tab called ``title`` in the tab bar under ``bar`` (a CSS selector)."""
    pg.locator(f"{bar} > .lm-TabBar .lm-TabBar-tab", has_text=title).first.click()


def screenshot(target, folder: Path, name: str, **options) -> Path:
    """Save a screenshot of ``target`` (a Playwright page or locator) as ``folder/name.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    target.screenshot(path=str(path), **options)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tftsr_command() -> list[str]:
    exe = Path(sys.executable).with_name("tftsr")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tftsr_kernel.cli"]


class Dashboard:
    def __init__(self, proc: subprocess.Popen, info: dict, log_path: Path):
        self.proc, self.info, self.log_path = proc, info, log_path
        self.port = info["port"]
        self.token = info["token"]
        self.url = info["url"]  # http://127.0.0.1:PORT/?token=...
        self.base = f"http://127.0.0.1:{self.port}/"

    def get(self, path: str = "", *, token: bool = True, headers: dict | None = None):
        """(status, body, headers) of a GET, redirects not followed (headers: an HTTPMessage,
        ``get_all("Set-Cookie")`` for every cookie)."""
        url = self.base + path.lstrip("/")
        hdrs = dict(headers or {})
        if token:
            hdrs.setdefault("Authorization", f"token {self.token}")
        req = urllib.request.Request(url, headers=hdrs)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=60) as resp:
                return resp.status, resp.read().decode("utf-8", "replace"), resp.headers
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace"), err.headers

    def kernels(self) -> list[dict]:
        if self.admin is not None:  # team mode: the kernel list is for admins
            resp = self.admin.get("api/kernels")
            assert resp.status_code == 200, (resp.status_code, resp.text)
            return resp.json()
        status, body, _ = self.get("api/kernels")
        assert status == 200, (status, body)
        return json.loads(body)

    admin = None  # team mode: an httpx client signed in as an admin (see sign_in)

    def sign_in(self, username: str, password: str, *, token: bool = True):
        """An httpx client that opened the token link and signed in through the login form.
        Returns (client, response of the form's POST)."""
        import re

        import httpx

        client = httpx.Client(base_url=self.base, follow_redirects=False, timeout=60)
        if token:
            client.get("?token=" + self.token)  # leaves the token cookie, redirects to /login
        page = client.get("login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        resp = client.post("login", data={"_xsrf": xsrf, "next": "/", "username": username,
                                          "password": password})
        return client, resp

    def kernel_ids(self) -> dict[str, bool]:
        """Kernel id -> whether it is the preheated (pooled) one."""
        return {k["id"]: k["pooled"] for k in self.kernels()}

    def kernels_started_since(self, before: dict[str, bool]) -> set[str]:
        """Kernels now serving a page that did not serve one in ``before`` (a new kernel, or the
        pooled one handed out). The pool refilling itself is not counted: a refill is pooled."""
        return {k["id"] for k in self.kernels() if not k["pooled"] and before.get(k["id"], True)}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _drain(stream, sink):
    for chunk in iter(lambda: stream.read(4096), b""):
        try:
            sink.write(chunk)
            sink.flush()
        except ValueError:      # the log was closed after the server stopped: nothing left to keep
            return


@contextlib.contextmanager
def running_dashboard(data_dir: Path, *args: str, env: dict | None = None, timeout: float = 90,
                      admin: tuple[str, str] | None = None):
    """Serve ``data_dir`` (made on first use) with ``tftsr dashboard --json ARGS``. ``admin``:
    (name, password) of an admin to sign in as (team mode), for the kernel list."""
    data_dir = Path(data_dir)
    run_env = {k: v for k, v in os.environ.items() if k not in ("TFTSR_DB_KEY", "TFTSR_NEW_DB_KEY")}
    run_env.update(env or {})
    run_env["TFTSR_DATA_DIR"] = str(data_dir)
    port = free_port()
    log_path = data_dir.parent / f"dashboard-{port}.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(tftsr_command() + ["dashboard", "--json", "--port", str(port), *args], env=run_env,
                            stdout=subprocess.PIPE, stderr=log, start_new_session=True)
    dash = drain = None
    try:
        text = b""
        deadline = time.monotonic() + timeout
        info = None
        while info is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"tftsr dashboard exited: {log_path.read_text(errors='replace')}")
            text += line
            try:
                info = json.loads(text)
            except ValueError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no JSON document from tftsr dashboard: {text!r}") from None
        drain = threading.Thread(target=_drain, args=(proc.stdout, log), daemon=True)
        drain.start()
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text(errors="replace"))
            time.sleep(0.1)
        dash = Dashboard(proc, info, log_path)
        if admin is not None:
            dash.admin, resp = dash.sign_in(*admin)
            assert resp.status_code == 302, resp.text
        _wait_for_pool(dash, deadline)
        yield dash
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if drain is not None:
            drain.join(5)       # its stream ends with the server; then the log may close
        log.close()
        if dash is not None and dash.admin is not None:
            dash.admin.close()


def _wait_for_pool(dash: Dashboard, deadline: float) -> None:
    """Until the preheated kernel is ready (so tests count kernels from a known state)."""
    while time.monotonic() < deadline:
        try:
            if any(k["pooled"] for k in dash.kernels()):
                return
        except (OSError, AssertionError):
            pass
        time.sleep(0.2)
    raise RuntimeError("the dashboard's preheated kernel did not start")


def team_store(data_dir: Path, passwords: dict[str, str], roles: dict[str, str]):
    """A demo store with users (``roles``: name -> role; the first must be the admin), opened
    as that admin. The caller closes it."""
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    wb = tftsr_kernel.open(data_dir, shared=False)
    create_demo(wb)
    (admin, role), *others = roles.items()
    assert role == "admin"
    wb.team.create_user(admin, "admin", password=passwords[admin], os_user="nobody-here")
    wb.team.act_as(wb.team.check_password(admin, passwords[admin]))
    for name, role in others:
        wb.team.create_user(name, role, password=passwords[name])
    return wb
