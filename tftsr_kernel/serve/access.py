"""Who may use the dashboard: the token or its session cookie, the Host allow-list and the
WebSocket Origin check, on every endpoint Voila serves.

What jupyter_server already does is used as it is: its IdentityProvider checks the token (URL
``?token=``, ``Authorization: token ...`` or the login form) and keeps a signed session cookie;
``JupyterHandler.prepare`` refuses requests without a user. Three things are missing, and are
added here by wrapping each of Voila's handler classes in :class:`AccessGuard`:

- Voila hard-codes ``allow_remote_access=True``, so no handler checks ``Host`` (DNS rebinding);
  and jupyter_server's ``check_host`` only knows loopback addresses and host names, not the
  address the dashboard is bound to. ``AccessGuard.check_host`` uses :class:`HostPolicy`.
- jupyter_server lets token-authenticated and same-Host WebSockets through whatever their
  ``Origin``; here a browser's Origin must be this server under an allowed name.
- Voila's ``/voila/query/<kernel>`` socket and its static-file handlers are plain tornado
  handlers with no authentication at all; wrapped, they become JupyterHandlers (as
  jupyter_server's own ``AuthenticatedFileHandler`` is) and need a user like the rest.

Only ``/login`` and ``/logout`` answer without a user; their pages are this project's own and
load nothing.
"""

from __future__ import annotations

import hmac
import inspect
import json

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import IdentityProvider
from jupyter_server.auth.login import LoginFormHandler
from jupyter_server.auth.logout import LogoutHandler
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketHandler

from .pages import error_page, login_page, logout_page, refused_page

SETTINGS_KEY = "tftsr_host_policy"


# --- identity -------------------------------------------------------------------------------------
class DashboardIdentityProvider(IdentityProvider):
    """jupyter_server's token identity provider, with a constant-time token comparison, a
    SameSite=Lax, HttpOnly session cookie (Secure behind HTTPS) and this project's login page."""

    def get_handlers(self):
        return [(r"/login", LoginPage), (r"/logout", LogoutPage)]

    def _matches(self, given: str | None) -> bool:
        token = self.token or ""
        return bool(token and given) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                             token.encode("utf-8"))

    async def get_user_token(self, handler):
        if not self._matches(self.get_token(handler)):
            return None
        user = self.get_user_cookie(handler)
        if inspect.isawaitable(user):
            user = await user
        return user or self.generate_anonymous_user(handler)

    def process_login_form(self, handler):
        if self._matches(handler.get_argument("password", default="")):
            return self.generate_anonymous_user(handler)
        return None

    def set_login_cookie(self, handler, user):
        options = dict(self.cookie_options)
        options.setdefault("httponly", True)
        options.setdefault("samesite", "Lax")
        options.setdefault("path", handler.base_url)
        options.setdefault("expires_days", None)  # a session cookie: gone when the browser closes
        forwarded = handler.request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        secure = self.secure_cookie
        if secure is None:
            secure = handler.request.protocol == "https" or forwarded == "https"
        if secure:
            options.setdefault("secure", True)
        handler.set_secure_cookie(self.get_cookie_name(handler), self.user_to_cookie(user), **options)


# --- the guard ------------------------------------------------------------------------------------
class AccessGuard:
    """Mixed in front of every handler: Host allow-list, Origin check, a user required."""

    _tftsr_public = False  # the login and logout pages
    _tftsr_page = False  # the dashboard page itself (gets the XSRF cookie its scripts send back)
    _tftsr_refused = False

    @property
    def _tftsr_policy(self):
        return self.settings[SETTINGS_KEY]

    def check_host(self) -> bool:
        ok = self._tftsr_policy.allows(self.request.headers.get("Host") or self.request.host)
        if not ok:
            self.log.warning("Refused a request for %s: Host %r is not in the allow-list (use --allow-host)",
                             self.request.path, self.request.headers.get("Host"))
        return ok

    def _origin(self):
        h = self.request.headers
        return h.get("Origin") or h.get("Sec-Websocket-Origin")

    def check_origin(self, origin_to_satisfy_tornado=None) -> bool:
        origin = self._origin()
        ok = self._tftsr_policy.allows_origin(origin, self.request.headers.get("Host"))
        if not ok:
            self.log.warning("Refused a cross-origin request for %s from Origin %r", self.request.path, origin)
        return ok

    def _is_upgrade(self) -> bool:
        return self.request.headers.get("Upgrade", "").lower() == "websocket"

    async def prepare(self, *args, **kwargs):
        if not self.check_host():
            self.current_user = self._jupyter_current_user = None
            self._tftsr_refused = True
            raise web.HTTPError(403, "Host not allowed")
        if self._is_upgrade() and not self.check_origin():
            self.current_user = self._jupyter_current_user = None
            raise web.HTTPError(403, "cross-origin WebSocket refused")
        result = super().prepare(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if self._finished or self._tftsr_public:
            return result
        if self.current_user is None:  # a handler jupyter_server lets through (static files): not here
            raise web.HTTPError(403, "the dashboard token is required")
        if self._tftsr_page:
            _ = self.xsrf_token  # sets the _xsrf cookie the page's scripts send back
        return result

    def write_error(self, status_code, **kwargs):
        if self._tftsr_refused:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.write(refused_page())
            return None
        if isinstance(self, APIHandler):
            return super().write_error(status_code, **kwargs)  # JSON
        # jupyter_server's error templates need its static files, which Voila does not serve
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        reason = getattr(exc, "reason", None) or self._reason
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(error_page(status_code, reason))
        return None


class LoginPage(AccessGuard, LoginFormHandler):
    """The login form: one field for the token. Its page loads nothing."""

    _tftsr_public = True

    def _render(self, message=None):
        error = (message or {}).get("error")
        nxt = self.get_argument("next", default=self.base_url)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(login_page(action=self.base_url + "login", next_url=nxt, xsrf=self.xsrf_token.decode(),
                              error="That token is not right. Check the URL printed by tftsr dashboard."
                              if error else ""))


class LogoutPage(AccessGuard, LogoutHandler):
    _tftsr_public = True

    @allow_unauthenticated
    def get(self):
        self.identity_provider.clear_login_cookie(self)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(logout_page(self.base_url + "login"))


class KernelListHandler(APIHandler):
    """``GET /api/kernels``: the running kernels (id, state, connections, pooled). Read only:
    the dashboard starts kernels for pages, never on request."""

    @web.authenticated
    def get(self):
        report = getattr(self.kernel_manager, "kernel_report", None)
        if report is None:
            raise web.HTTPError(501, "this kernel manager cannot list its kernels")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps([{k: v for k, v in row.items() if k != "pid"} for row in report()]))


class _NoDefaultHeaders:
    def set_default_headers(self):  # as jupyter_server's kernel socket: headers mean nothing on a socket
        pass


_WRAPPED: dict = {}


def guarded(cls, *, page: bool = False):
    """``cls`` behind the :class:`AccessGuard` (a cached subclass). Plain tornado handlers
    become JupyterHandlers, so jupyter_server's authentication applies to them too."""
    key = (cls, page)
    if key in _WRAPPED:
        return _WRAPPED[key]
    if issubclass(cls, AccessGuard):
        return cls
    if issubclass(cls, JupyterHandler):
        bases = (AccessGuard, cls)
    elif issubclass(cls, WebSocketHandler):
        bases = (AccessGuard, _NoDefaultHeaders, WebSocketMixin, cls, JupyterHandler)
    else:
        bases = (AccessGuard, JupyterHandler, cls)
    wrapped = type(f"Guarded{cls.__name__}", bases, {"_tftsr_page": page, "__module__": __name__})
    _WRAPPED[key] = wrapped
    return wrapped


def guard_handlers(handlers, page_classes=()):
    """Voila's handler list with every class guarded."""
    out = []
    for spec in handlers:
        pattern, cls, *rest = spec
        out.append((pattern, guarded(cls, page=cls in page_classes), *rest))
    return out


__all__ = ["AccessGuard", "DashboardIdentityProvider", "KernelListHandler", "guard_handlers", "guarded",
           "SETTINGS_KEY"]
