"""Inside a page's kernel: the request that asked for the page, and the link to an incident.

A preheated Voila kernel runs its notebook up to ``wait_for_viewer()`` before anyone asks for the
page; when a browser does, Voila sends that request's details (path, query string, host, port)
over its ``/voila/query/<kernel>`` WebSocket and the kernel puts them into ``os.environ``
(``voila.utils.wait_for_request``). Only the page kernels may open that socket: they prove it
with a secret of the server's run (``TFTSR_DASHBOARD_KERNEL_SECRET``), which Voila's helper cannot
send, so :func:`wait_for_request` makes the same call with an ``Authorization: tftsr-kernel ...``
header. A kernel started for one request (the pool was empty) has the same variables in its
environment from the start.

In team mode the request info also carries the signed-in session (``HTTP_X_TFTSR_SESSION``, set
by the server, never by the browser); it becomes ``TFTSR_SESSION_TOKEN``, so the kernel acts as
that user (:meth:`TeamService.environment_actor`).

The ``token`` parameter is removed from ``QUERY_STRING``: nothing in the kernel needs it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from urllib.parse import parse_qsl, quote, urlencode

SECRET_ENV = "TFTSR_DASHBOARD_KERNEL_SECRET"
#: where the page's request info carries the signed-in session, and where the kernel keeps it
SESSION_INFO = "HTTP_X_TFTSR_SESSION"
SESSION_ENV = "TFTSR_SESSION_TOKEN"
#: issue ids are UUIDs (v7 for new ones); anything else in ``?issue=`` is malformed
ISSUE_ID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SAFE_ENV = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def _strip_token(query: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=True) if k != "token"]
    return urlencode(pairs)


def _query_url() -> str:
    ip = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    port = os.environ.get("VOILA_APP_PORT", "8866")
    base = os.environ.get("VOILA_WS_BASE_URL") or os.environ.get("VOILA_SERVER_URL", "/")
    return f"ws://{ip}:{port}{base}voila/query/{os.environ.get('VOILA_KERNEL_ID', '')}"


async def _receive(url: str, secret: str, timeout: float):
    import websockets

    async with websockets.connect(url, open_timeout=timeout,
                                  additional_headers={"Authorization": f"tftsr-kernel {secret}"}) as ws:
        return await ws.recv()


def _adopt_session() -> None:
    """The session the server handed this page becomes the kernel's (team mode)."""
    value = os.environ.pop(SESSION_INFO, None)
    if value is not None:
        os.environ[SESSION_ENV] = value


def wait_for_request(timeout: float = 10.0) -> bool:
    """In a preheated kernel, block until Voila hands this kernel a page request and put the
    request's variables into ``os.environ``; elsewhere return at once. True when a request
    arrived (or was there from the start)."""
    if os.environ.get("VOILA_PREHEAT", "False") != "True":
        _adopt_session()
        if "QUERY_STRING" in os.environ:
            os.environ["QUERY_STRING"] = _strip_token(os.environ["QUERY_STRING"])
            return True
        return False
    secret = os.environ.get(SECRET_ENV, "")
    url = _query_url()
    box: dict = {}

    def run():  # the kernel's own event loop is busy running this cell
        try:
            box["info"] = asyncio.new_event_loop().run_until_complete(_receive(url, secret, timeout))
        except Exception as exc:  # noqa: BLE001 - a page without its request info still works
            box["error"] = exc

    thread = threading.Thread(target=run, name="tftsr-wait-for-request", daemon=True)
    thread.start()
    thread.join()
    if "info" not in box:
        return False
    try:
        info = json.loads(box["info"])
    except (TypeError, ValueError):
        return False
    os.environ.pop(SESSION_INFO, None)
    for key, value in info.items():
        if isinstance(key, str) and _SAFE_ENV.fullmatch(key) and isinstance(value, str):
            os.environ[key] = value
    _adopt_session()
    os.environ["QUERY_STRING"] = _strip_token(os.environ.get("QUERY_STRING", ""))
    os.environ["VOILA_PREHEAT"] = "False"  # this kernel now serves its page
    return True


def query_params() -> dict[str, str]:
    """The page's query string (first value of each name; ``token`` removed)."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(os.environ.get("QUERY_STRING", ""), keep_blank_values=True):
        if k != "token":
            out.setdefault(k, v)
    return out


def requested_issue() -> str | None:
    """The ``?issue=`` value of the page's URL, as given (None when there is none)."""
    value = query_params().get("issue")
    return value if value is not None else None


def is_issue_id(value: str) -> bool:
    return bool(value) and ISSUE_ID_RE.fullmatch(value) is not None


def page_base_url() -> str | None:
    """The dashboard's address as the browser used it (scheme, host, port, path), or None
    outside a served page."""
    host = os.environ.get("SERVER_NAME")
    if not host:
        return None
    scheme = os.environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
    scheme = scheme if scheme in ("http", "https") else "http"
    port = os.environ.get("SERVER_PORT", "")
    default = {"http": "80", "https": "443"}[scheme]
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    netloc = shown if not port or port == default else f"{shown}:{port}"
    path = os.environ.get("SCRIPT_NAME") or "/"
    return f"{scheme}://{netloc}{quote(path, safe='/')}"


def issue_link(issue_id: str) -> str:
    """The link that opens ``issue_id`` in the dashboard (no token in it), or a relative
    ``?issue=...`` outside a served page."""
    base = page_base_url()
    query = urlencode({"issue": issue_id})
    return f"{base}?{query}" if base else f"?{query}"


def sign_out_link(label: str = "Sign out", *, hub: bool = False) -> str:
    """An HTML link to the server's sign-out (``/logout``, or JupyterHub's ``/hub/logout``), or
    "" outside a served page."""
    from html import escape

    if page_base_url() is None:
        return ""
    if hub:
        href = (os.environ.get("JUPYTERHUB_BASE_URL") or "/").rstrip("/") + "/hub/logout"
    else:
        base = os.environ.get("VOILA_BASE_URL") or os.environ.get("VOILA_SERVER_URL") or "/"
        href = base.rstrip("/") + ("/logout" if label != "Sign in" else "/login")
    return f'<a class="tftsr-signout" href="{escape(href, quote=True)}" target="_top">{escape(label)}</a>'
