"""The Voila server behind ``tftsr dashboard``: Voila 0.5 standalone with one preheated kernel,
its safe defaults (sources stripped, no tracebacks, a strict CSP, an offline template), every
handler behind :mod:`.access` and kernels bounded by :mod:`.kernels`."""

from __future__ import annotations

import os
from pathlib import Path

from .plan import WILDCARD_HOSTS, DashboardPlan

VOILA_TEMPLATE = "tftsr"
#: defence in depth for the served page: nothing may be loaded from, or sent to, another origin
DASHBOARD_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
                 "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
                 "connect-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'self'; "
                 "form-action 'self'; frame-ancestors 'self'")
#: what the kernel of a page reads to authenticate to Voila's request-info socket
KERNEL_TOKEN_ENV = "TFTSR_DASHBOARD_TOKEN"
#: request headers passed to the page's kernel (to show the incident link as the browser sees it)
HEADER_ENVS = ["X-Forwarded-Proto"]


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
    c.MappingKernelManager.cull_idle_timeout = plan.cull_idle
    c.MappingKernelManager.cull_interval = cull_interval(plan.cull_idle, plan.connect_grace)
    c.MappingKernelManager.cull_connected = False  # an open page keeps its kernel
    c.MappingKernelManager.cull_busy = False
    # code is never shown, so its syntax-highlighting extension is not loaded
    c.VoilaConfiguration.extension_denylist = ["jupyterlab_pygments"]
    return c


def _voila_class():
    from jupyter_server.utils import url_path_join
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    from .access import KernelListHandler, guard_handlers

    class DashboardVoila(Voila):
        """Voila, with every handler behind the access guard and a read-only kernel list."""

        def init_handlers(self):
            handlers = super().init_handlers()
            handlers.insert(0, (url_path_join(self.server_url, r"/api/kernels/?"), KernelListHandler))
            return guard_handlers(handlers, page_classes=(TornadoVoilaHandler,))

    return DashboardVoila


def kernel_environment(plan: DashboardPlan) -> dict:
    """Variables the page kernels inherit: the token for the request-info socket, and the
    address to reach this server on (Voila assumes 127.0.0.1)."""
    host = plan.host
    if host in WILDCARD_HOSTS:
        host = "::1" if host == "::" else "127.0.0.1"
    return {KERNEL_TOKEN_ENV: plan.token, "VOILA_APP_IP": f"[{host}]" if ":" in host else host}


def serve(plan: DashboardPlan, notebook: Path) -> None:
    """Serve ``notebook`` until Ctrl-C or SIGTERM."""
    os.environ.update(kernel_environment(plan))
    app = _voila_class()(config=voila_config(plan, notebook))
    app.initialize([str(notebook)])
    app.start()
