"""The Voila server behind ``tftsr dashboard``: Voila 0.5 standalone with one preheated kernel,
its safe defaults (sources stripped, no tracebacks, a strict CSP, an offline template), every
handler behind :mod:`.access` and kernels bounded by :mod:`.kernels`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .plan import WILDCARD_HOSTS, DashboardPlan

VOILA_TEMPLATE = "tftsr"
#: defence in depth for the served page: nothing may be loaded from, or sent to, another origin.
#: ``blob:`` scripts: anywidget (the Logs & PII chunked uploader) imports its module from a blob
#: URL made in the page; only code already running in the page can make one, so it adds no origin.
DASHBOARD_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
                 "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
                 "connect-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'self'; "
                 "form-action 'self'; frame-ancestors 'self'")
#: what the kernel of a page reads to authenticate to Voila's request-info socket (a secret of
#: this server's run, never the access token: no browser can open that socket)
KERNEL_SECRET_ENV = "TFTSR_DASHBOARD_KERNEL_SECRET"
#: request headers passed to the page's kernel: the scheme (to show the incident link as the
#: browser sees it) and, in team mode, the signed-in session (set by the server, see .access)
HEADER_ENVS = ["X-Forwarded-Proto", "X-Tftsr-Session"]
#: the only kernel messages a browser may send: what ipywidgets and anywidget need. No
#: execute_request, so a page cannot run code in its kernel (nor change whom it acts as).
BROWSER_MESSAGE_TYPES = ["kernel_info_request", "comm_info_request", "comm_open", "comm_msg", "comm_close"]


def voila_config(plan: DashboardPlan, notebook: Path):
    """The traitlets configuration of the Voila server."""
    from traitlets.config import Config

    from .kernels import cull_interval

    c = Config()
    c.Voila.ip = plan.host
    c.Voila.port = plan.port
    c.Voila.port_retries = 0
    c.Voila.open_browser = False
    c.Voila.root_dir = str(notebook.parent)
    c.Voila.token = plan.token
    c.Voila.identity_provider_class = "tftsr_kernel.serve.access.DashboardIdentityProvider"
    c.Voila.tornado_settings = {
        "headers": {"Content-Security-Policy": DASHBOARD_CSP, "Referrer-Policy": "same-origin",
                    "X-Frame-Options": "SAMEORIGIN"},
        # jupyter_server's own Host check, off in Voila; the guard applies the full allow-list
        "allow_remote_access": False,
        "local_hostnames": sorted(plan.policy.names),
        "tftsr_host_policy": plan.policy,
        "xsrf_cookie_kwargs": {"samesite": "Strict"},
    }
    c.VoilaConfiguration.template = VOILA_TEMPLATE
    c.VoilaConfiguration.theme = "light"
    c.VoilaConfiguration.strip_sources = True
    c.VoilaConfiguration.show_tracebacks = False
    c.VoilaConfiguration.file_allowlist = []
    c.VoilaConfiguration.http_header_envs = HEADER_ENVS
    # one kernel is kept ready (the notebook runs up to wait_for_viewer()), so a page opens fast
    c.VoilaConfiguration.preheat_kernel = True
    c.VoilaConfiguration.default_pool_size = 1
    c.VoilaKernelManager.fill_delay = 4.0  # refill after the page has loaded, not while it loads
    # kernels: idle and disconnected ones are culled; one never connected goes after a grace period
    c.VoilaConfiguration.multi_kernel_manager_class = "tftsr_kernel.serve.kernels.DashboardKernelManager"
    c.DashboardKernelManager.connect_grace = plan.connect_grace
    c.DashboardKernelManager.max_kernels = plan.max_kernels
    c.MappingKernelManager.cull_idle_timeout = plan.cull_idle
    c.MappingKernelManager.cull_interval = cull_interval(plan.cull_idle, plan.connect_grace)
    c.MappingKernelManager.cull_connected = False  # an open page keeps its kernel
    c.MappingKernelManager.cull_busy = False
    c.MappingKernelManager.allowed_message_types = BROWSER_MESSAGE_TYPES
    # code is never shown, so its syntax-highlighting extension is not loaded
    c.VoilaConfiguration.extension_denylist = ["jupyterlab_pygments"]
    return c


def _voila_class():
    from jupyter_server.services.kernels.handlers import KernelHandler
    from jupyter_server.utils import url_path_join
    from voila.app import Voila
    from voila.request_info_handler import RequestInfoSocketHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.tornado.execution_request_handler import ExecutionRequestHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    from ..team.api import api_handlers
    from .access import KERNEL_SECRET_KEY, WB_KEY, KernelListHandler, guard_handlers

    class DashboardVoila(Voila):
        """Voila, with every handler behind the access guard, a read-only kernel list and the
        HTTP API (``/api/v1/``, bearer keys) of :mod:`tftsr_kernel.team.api`. ``tftsr_wb``: the
        server's own workbench (sign-in, sessions, the API); ``tftsr_kernel_secret``: what page
        kernels show on the request-info socket. Both are set before ``initialize`` (they are
        no configuration: traitlets would copy them)."""

        tftsr_wb = None
        tftsr_kernel_secret = ""

        def init_settings(self):
            settings = super().init_settings()
            settings[WB_KEY] = self.tftsr_wb
            settings[KERNEL_SECRET_KEY] = self.tftsr_kernel_secret
            return settings

        def init_handlers(self):
            handlers = super().init_handlers()
            handlers.insert(0, (url_path_join(self.server_url, r"/api/kernels/?"), KernelListHandler))
            handlers = guard_handlers(
                handlers, page_classes=(TornadoVoilaHandler,), kernel_only=(RequestInfoSocketHandler,),
                kernel_owned=(KernelHandler, VoilaKernelWebsocketHandler, VoilaShutdownKernelHandler,
                              ExecutionRequestHandler))
            wb = self.tftsr_wb
            if wb is not None:  # bearer keys, not the token: an alerting system has no browser
                from ..integrations.oauth import tornado_callback_handler

                # the OAuth redirect of an integration sign-in begun in Settings: behind the
                # sign-in like every page, and the single-use state is its proof
                callback = guard_handlers([(url_path_join(self.server_url, r"/oauth/callback"),
                                            tornado_callback_handler(), {"workbench": wb})])
                handlers = api_handlers(wb, prefix=self.server_url) + callback + handlers
            return handlers

    return DashboardVoila


def kernel_environment(plan: DashboardPlan, kernel_secret: str) -> dict:
    """Variables the page kernels inherit: the secret for the request-info socket, the address
    to reach this server on (Voila assumes 127.0.0.1), and an empty session: until the server
    hands a kernel its page's session, it acts as nobody (in team mode), never as the OS user
    that runs the dashboard."""
    host = plan.host
    if host in WILDCARD_HOSTS:
        host = "::1" if host == "::" else "127.0.0.1"
    return {KERNEL_SECRET_ENV: kernel_secret, "VOILA_APP_IP": f"[{host}]" if ":" in host else host,
            "TFTSR_SESSION_TOKEN": ""}


def serve(plan: DashboardPlan, notebook: Path, data_dir: str | None = None) -> None:
    """Serve ``notebook`` until Ctrl-C or SIGTERM."""
    import tftsr_kernel

    kernel_secret = secrets.token_urlsafe(32)
    os.environ.update(kernel_environment(plan, kernel_secret))
    for name in ("TFTSR_API_KEY", "TFTSR_PASSWORD"):  # the server and its kernels prove nobody by these
        os.environ.pop(name, None)
    wb = tftsr_kernel.open(data_dir or os.environ.get("TFTSR_DATA_DIR"))
    app = _voila_class()(config=voila_config(plan, notebook))
    app.tftsr_wb, app.tftsr_kernel_secret = wb, kernel_secret
    app.initialize([str(notebook)])
    app.start()
