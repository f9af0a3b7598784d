"""``tftsr dashboard``: its options and what it does, called by the CLI module.

``tftsr dashboard [--host H] [--port N] [--token T] [--allow-host NAME]... [--cull-idle SECONDS]``
prints the URL with its token (``--json``: one document with ``url``, ``token``, ``allowed_hosts``,
``cull_idle``, ...) and serves notebooks/dashboard.ipynb until Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import sys

from .. import paths
from ..errors import NotFoundError
from .plan import DEFAULT_CULL_IDLE, WILDCARD_HOSTS, dashboard_plan


def add_arguments(sp) -> None:
    sp.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    sp.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    sp.add_argument("--token", help="the access token (default: a new random one each start); "
                                    "always required, on loopback too")
    sp.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                    help="also answer to this Host name (a DNS name or a reverse proxy's); repeatable")
    sp.add_argument("--cull-idle", type=int, default=None, metavar="SECONDS",
                    help=f"shut down a kernel whose page is gone after this many idle seconds "
                         f"(default {DEFAULT_CULL_IDLE})")


def _notebook():
    path = paths.notebooks_dir() / "dashboard.ipynb"
    if not path.is_file():
        raise NotFoundError(f"the notebook template dashboard.ipynb is missing from {paths.notebooks_dir()}")
    return path


def _templates_env(env) -> None:
    extra = str(paths.notebooks_dir() / "templates")
    current = env.get("JUPYTER_PATH")
    env["JUPYTER_PATH"] = extra + (os.pathsep + current if current else "")


def run_dashboard(args, open_wb) -> None:
    """Check the options, open the store once (key check and migrations before any kernel
    starts), print the URL and serve. ``open_wb(args)`` is the CLI's way to open the store."""
    plan = dashboard_plan(args.host, args.port, args.token, args.allow_host, args.cull_idle)
    wb = open_wb(args)
    data_dir = str(wb.data_dir)
    wb.close()
    notebook = _notebook()
    os.environ["TFTSR_DATA_DIR"] = data_dir
    _templates_env(os.environ)
    info = {**plan.as_dict(), "notebook": str(notebook), "data_dir": data_dir}
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
    else:
        lines = [f"TFTSR dashboard: {plan.url}", f"data directory: {data_dir}",
                 "Open the URL above; the browser then keeps a session cookie and the token leaves the "
                 "address bar. Share it only with your team."]
        if plan.host in WILDCARD_HOSTS:
            lines.append("Listening on every interface: teammates use this machine's name or address "
                         "(add --allow-host NAME for any other name, e.g. a reverse proxy's).")
        if not plan.loopback:
            lines.append("Serve beyond loopback behind TLS (a reverse proxy) so the token is not sent in clear.")
        lines.append(f"Kernels of closed pages are released; idle ones without a page after {plan.cull_idle} s.")
        lines.append("Press Ctrl-C to stop.")
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    from .app import serve

    serve(plan, notebook)
    raise SystemExit(0)  # the document was printed above; print nothing more
