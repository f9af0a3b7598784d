"""JupyterHub for many investigators: an authenticator that checks the project's users table and
a spawner that starts each user's dashboard (Voila) and JupyterLab on the shared encrypted store,
with the kernel's actor being the hub user.

``tftsr hub`` writes ``<data_dir>/hub/jupyterhub_config.py`` (it calls :func:`configure`) and
starts ``jupyterhub`` on it. JupyterHub and this module run as one OS account, the owner of the
data directory and its key; each user's server is a process of that account, and what separates
the users is the project's roles, enforced by the kernel:

- :class:`TftsrAuthenticator` checks the name and password with ``wb.team.check_password``
  (Argon2id, rate-limited per user and per client, every failure audited). Admins of the project
  are JupyterHub admins.
- :class:`TftsrSpawner` opens a session of ``sessions`` for the hub user (``via = hub``) and
  hands its token to the user's server as ``TFTSR_SESSION_TOKEN``; every kernel of that server
  acts as that user (:meth:`TeamService.environment_actor`: with a session token set, nothing
  else is tried). The browser never sees the token. Stopping the server signs the session out.

Another authenticator (OAuth, LDAP, ...) can replace ours: set ``c.JupyterHub.authenticator_class``
in the written config; the spawner then maps each hub user name to a project user (same name, or
``c.TftsrSpawner.username_map``), and refuses to start for a name that is no enabled project user.

Imports jupyterhub, so only ``tftsr hub`` and the hub process load it.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import sys
from pathlib import Path

from jupyterhub.auth import Authenticator
from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Dict, Float, Unicode

from .. import paths
from ..errors import AuthenticationError, NotFoundError, TftsrError

DASHBOARD_URL = "/voila/render/dashboard.ipynb"
NOTEBOOKS = ("dashboard.ipynb", "incident.ipynb", "history.ipynb", "settings.ipynb")


@functools.lru_cache(maxsize=4)
def _workbench(data_dir: str):
    import tftsr_kernel

    return tftsr_kernel.open(data_dir)


def chp_command() -> str | None:
    """configurable-http-proxy: on PATH, else installed by the README's set-up under the venv."""
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    local = Path(sys.prefix) / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else None


class TftsrAuthenticator(Authenticator):
    """Sign in with a project user's name and password."""

    data_dir = Unicode(help="the TFTSR data directory (TFTSR_DATA_DIR)").tag(config=True)

    async def authenticate(self, handler, data):
        name = (data or {}).get("username", "")
        password = (data or {}).get("password", "")
        client = handler.request.remote_ip if handler is not None else ""
        wb = _workbench(self.data_dir)
        try:
            actor = await asyncio.to_thread(wb.team.check_password, name, password, client=client or "")
        except AuthenticationError as exc:
            self.log.warning("tftsr sign-in refused for %r from %s: %s", name[:64], client, exc.reason)
            return None
        return {"name": actor.name, "admin": actor.role == "admin"}

    async def check_allowed(self, username, authentication=None):
        wb = _workbench(self.data_dir)
        row = await asyncio.to_thread(wb.db.query_one, "SELECT enabled FROM users WHERE username = ?", (username,))
        return bool(row and row["enabled"])


class TftsrSpawner(LocalProcessSpawner):
    """Each user's Jupyter server (Voila dashboard + JupyterLab) as a process of the hub's OS
    account, acting in the kernel as the project user named like the hub user."""

    data_dir = Unicode(help="the TFTSR data directory (TFTSR_DATA_DIR)").tag(config=True)
    username_map = Dict(help="hub user name -> project user name, for other authenticators").tag(config=True)
    session_hours = Float(24.0, help="how long the user's server may act before it must be restarted").tag(config=True)

    def _workspace(self) -> Path:
        return Path(self.data_dir) / "hub" / "users" / self.user.name

    def project_user(self) -> str:
        return self.username_map.get(self.user.name, self.user.name)

    def make_preexec_fn(self, name):  # same OS account: no setuid, just the workspace
        workspace = str(self._workspace())

        def preexec():
            os.chdir(workspace)

        return preexec

    def user_env(self, env):
        env["HOME"] = str(self._workspace())
        env["USER"] = os.environ.get("USER", "")
        return env

    def get_env(self):
        env = super().get_env()
        env["TFTSR_DATA_DIR"] = self.data_dir
        env["TFTSR_SESSION_TOKEN"] = self._tftsr_token
        if os.environ.get("TFTSR_DB_KEY"):
            env["TFTSR_DB_KEY"] = os.environ["TFTSR_DB_KEY"]
        templates = str(paths.notebooks_dir() / "templates")
        env["JUPYTER_PATH"] = templates + (os.pathsep + os.environ["JUPYTER_PATH"] if os.environ.get("JUPYTER_PATH") else "")
        env.pop("TFTSR_API_KEY", None)
        env.pop("TFTSR_PASSWORD", None)
        return env

    def get_args(self):
        args = super().get_args()
        if getattr(self, "_tftsr_role", None) == "viewer":
            # viewers read: no terminal, no code from the browser (kernels get only the widget
            # messages, so JupyterLab cannot run cells) and no new or changed files (Voila would
            # run a notebook a viewer wrote). What they can do is what the dashboard lets them.
            from ..serve.app import BROWSER_MESSAGE_TYPES

            args += ["--ServerApp.terminals_enabled=False",
                     f"--MappingKernelManager.allowed_message_types={BROWSER_MESSAGE_TYPES!r}",
                     "--ServerApp.contents_manager_class=tftsr_kernel.team.hub_contents.ReadOnlyContentsManager"]
        return args

    def _prepare_workspace(self) -> None:
        ws = self._workspace()
        ws.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in NOTEBOOKS:  # fresh copies of the templates at every start
            src = paths.notebooks_dir() / name
            if src.is_file():
                shutil.copyfile(src, ws / name)

    async def start(self):
        wb = _workbench(self.data_dir)
        try:
            signed = await asyncio.to_thread(wb.team.open_session, self.project_user(), via="hub",
                                             client="jupyterhub", hours=self.session_hours)
        except (AuthenticationError, NotFoundError) as exc:
            raise RuntimeError(f"{self.user.name} is not an enabled TFTSR user: {exc}") from None
        self._tftsr_token = signed.token
        self._tftsr_role = (await asyncio.to_thread(wb.team.actor_for, self.project_user(), "hub")).role
        await asyncio.to_thread(self._prepare_workspace)
        return await super().start()

    async def stop(self, now=False):
        try:
            return await super().stop(now=now)
        finally:
            token = getattr(self, "_tftsr_token", None)
            if token:
                self._tftsr_token = None
                try:
                    await asyncio.to_thread(_workbench(self.data_dir).team.sign_out, token)
                except TftsrError as exc:
                    self.log.warning("could not sign out the tftsr session of %s: %s", self.user.name, exc)


def configure(c, *, data_dir: str, ip: str = "127.0.0.1", port: int = 8000, hub_port: int | None = None,
              proxy_api_port: int | None = None) -> None:
    """Fill a JupyterHub config ``c`` (called from the written jupyterhub_config.py). The hub's
    own API and the proxy's API listen on loopback, by default on ``port`` + 1 and + 2."""
    hub_dir = Path(data_dir) / "hub"
    hub_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    c.JupyterHub.ip = ip
    c.JupyterHub.port = int(port)
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = int(hub_port or port + 1)
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(proxy_api_port or port + 2)}"
    c.JupyterHub.db_url = f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(hub_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(hub_dir / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.pid_file = str(hub_dir / "jupyterhub-proxy.pid")
    chp = chp_command()
    if chp:
        c.ConfigurableHTTPProxy.command = [chp]
    c.JupyterHub.authenticator_class = TftsrAuthenticator
    c.TftsrAuthenticator.data_dir = str(data_dir)
    c.Authenticator.any_allow_config = True  # check_allowed asks the users table
    c.JupyterHub.spawner_class = TftsrSpawner
    c.TftsrSpawner.data_dir = str(data_dir)
    c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
    c.Spawner.default_url = DASHBOARD_URL
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = 180
    c.Spawner.args = [
        "--VoilaConfiguration.template=tftsr",
        "--VoilaConfiguration.theme=light",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.extension_denylist=['jupyterlab_pygments']",
    ] + (["--allow-root"] if hasattr(os, "getuid") and os.getuid() == 0 else [])
    c.JupyterHub.shutdown_on_logout = True


CONFIG_TEMPLATE = '''# JupyterHub configuration written by `tftsr hub` (edit freely; `tftsr hub --write-config`
# rewrites it). Users sign in with their TFTSR name and password; each user's server acts as
# that user on the shared encrypted store in {data_dir}.
from tftsr_kernel.team.hub import configure

configure(c, data_dir={data_dir!r}, ip={ip!r}, port={port!r}, hub_port={hub_port!r},
          proxy_api_port={proxy_api_port!r})

# Another authenticator (OAuth, LDAP, ...): set it here. Hub user names must be project users
# (tftsr user add NAME --role analyst --no-password), or map them:
# c.JupyterHub.authenticator_class = "oauthenticator.generic.GenericOAuthenticator"
# c.TftsrSpawner.username_map = {{"jane.doe@example.org": "jane"}}
'''


def write_config(data_dir: str | os.PathLike, *, ip: str = "127.0.0.1", port: int = 8000,
                 hub_port: int | None = None, proxy_api_port: int | None = None) -> Path:
    hub_dir = Path(data_dir) / "hub"
    hub_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = hub_dir / "jupyterhub_config.py"
    path.write_text(CONFIG_TEMPLATE.format(data_dir=str(Path(data_dir).resolve()), ip=ip, port=int(port),
                                           hub_port=int(hub_port or port + 1),
                                           proxy_api_port=int(proxy_api_port or port + 2)))
    return path
