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

**Team mode** (once the project has users): the token alone is not enough. The sign-in page also
asks for a user name and password (``wb.team.sign_in``: Argon2id, rate-limited, audited); the
session's random token goes into a second HttpOnly cookie and is checked against ``sessions`` on
every request, so signing out, expiry, a disabled account or a revoked session end it at once.
The page's kernel acts as that user: the server hands it the session in the page's request
info (:data:`SESSION_HEADER`, which the guard strips from every browser request), and a kernel
belongs to the session whose page started it (:data:`~.kernels.KERNEL_OWNERS`): another
browser may not open its channels, shut it down or read its request info. Browsers cannot run
code in a page kernel at all (``allowed_message_types`` in :mod:`.app`), so a page cannot change
whom its kernel acts as.
"""

from __future__ import annotations

import hmac
import inspect
import json
import logging

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.auth.login import LoginFormHandler
from jupyter_server.auth.logout import LogoutHandler
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketHandler

from ..errors import AuthenticationError, RateLimitedError, TftsrError
from .kernels import KERNEL_OWNERS
from .pages import error_page, login_page, logout_page, refused_page, team_login_page

SETTINGS_KEY = "tftsr_host_policy"
#: the server's own workbench (sign-in, sessions, the HTTP API); acts as nobody by itself
WB_KEY = "tftsr_wb"
#: the secret only the server and its page kernels know (the request-info socket)
KERNEL_SECRET_KEY = "tftsr_kernel_secret"
#: request header through which the page handler gives its kernel the signed-in session; any
#: value a browser sends is removed before a handler sees the request
SESSION_HEADER = "X-Tftsr-Session"
log = logging.getLogger("tftsr.serve")


def _wb_of(handler):
    return handler.settings.get(WB_KEY)


def team_mode(handler) -> bool:
    """True once the project has users: the dashboard then needs a signed-in user."""
    wb = _wb_of(handler)
    if wb is None:
        return False
    try:
        return not wb.team.single_user
    except TftsrError:  # the database is unreadable: refuse rather than fall back to token-only
        return True


# --- identity -------------------------------------------------------------------------------------
class DashboardIdentityProvider(IdentityProvider):
    """jupyter_server's token identity provider, with a constant-time token comparison, a
    SameSite=Lax, HttpOnly session cookie (Secure behind HTTPS) and this project's login page;
    in team mode, also the user's sign-in and session (see the module docstring)."""

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

    # -- team mode ---------------------------------------------------------------------------------
    def session_cookie_name(self, handler) -> str:
        return "tftsr-session-" + self.get_cookie_name(handler).split("-", 1)[-1]

    def token_proven(self, handler) -> bool:
        """The access token was shown (in this request, or earlier: its signed cookie)."""
        if self._matches(self.get_token(handler)):
            return True
        user = self.get_user_cookie(handler)
        return user is not None and not inspect.isawaitable(user)

    async def get_user(self, handler):
        user = await self._get_user(handler)  # the access token: URL, header or its cookie
        if user is None or not team_mode(handler):
            return user
        token = handler.get_cookie(self.session_cookie_name(handler)) or ""
        if not token:
            return None
        try:
            actor = _wb_of(handler).team.authenticate_session(token)
        except AuthenticationError:
            return None
        handler._tftsr_actor = actor
        handler._tftsr_session_token = token
        return User(username=actor.name, name=actor.name, display_name=actor.name)

    def process_login_form(self, handler):
        if not team_mode(handler):
            if self._matches(handler.get_argument("password", default="")):
                return self.generate_anonymous_user(handler)
            return None
        if not (self._matches(handler.get_argument("token", default="")) or self.token_proven(handler)):
            handler._tftsr_login_error = ("That access token is not right. Check the URL printed by "
                                          "tftsr dashboard.")
            return None
        name = handler.get_argument("username", default="")
        password = handler.get_argument("password", default="")
        try:
            signed = _wb_of(handler).team.sign_in(name, password, client=handler.request.remote_ip or "")
        except RateLimitedError as exc:
            handler._tftsr_login_error = str(exc)
            handler._tftsr_login_status = 429
            handler.set_header("Retry-After", str(exc.retry_after))
            return None
        except AuthenticationError as exc:
            handler._tftsr_login_error = str(exc)
            return None
        except TftsrError as exc:  # the store is busy or damaged: say so, sign nobody in
            log.warning("sign-in failed: %s", exc)
            handler._tftsr_login_error = f"The sign-in could not be checked: {exc}"
            handler._tftsr_login_status = 503
            return None
        handler.set_cookie(self.session_cookie_name(handler), signed.token, **self._cookie_options(handler))
        s = signed.session
        return User(username=s.username, name=s.username, display_name=s.username)

    def sign_out(self, handler) -> None:
        """End this browser's session (if any) and clear both cookies."""
        name = self.session_cookie_name(handler)
        token = handler.get_cookie(name)
        wb = _wb_of(handler)
        if token and wb is not None:
            try:
                actor = wb.team.authenticate_session(token)
            except AuthenticationError:
                actor = None
            if actor is not None:
                from ..team.actor import acting_as

                with acting_as(actor):
                    wb.team.sign_out(token)
        handler.clear_cookie(name, path=handler.base_url)
        self.clear_login_cookie(handler)

    # -- cookies -----------------------------------------------------------------------------------
    def _cookie_options(self, handler) -> dict:
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
        return options

    def set_login_cookie(self, handler, user):
        handler.set_secure_cookie(self.get_cookie_name(handler), self.user_to_cookie(user),
                                  **self._cookie_options(handler))


# --- the guard ------------------------------------------------------------------------------------
class AccessGuard:
    """Mixed in front of every handler: Host allow-list, Origin check, a user required."""

    _tftsr_public = False  # the login and logout pages
    _tftsr_page = False  # the dashboard page itself (gets the XSRF cookie its scripts send back)
    _tftsr_kernel_only = False  # the request-info socket: the page kernels, with the kernel secret
    _tftsr_kernel_owned = False  # a kernel's channels, REST entry and shutdown: its page's session only
    _tftsr_refused = False
    _tftsr_actor = None  # team mode: the signed-in user (set by the identity provider)
    _tftsr_session_token = None

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

    def _kernel_secret_ok(self) -> bool:
        secret = self.settings.get(KERNEL_SECRET_KEY) or ""
        scheme, _, given = (self.request.headers.get("Authorization") or "").partition(" ")
        return bool(secret) and scheme == "tftsr-kernel" and hmac.compare_digest(
            given.strip().encode("utf-8", "surrogatepass"), secret.encode("utf-8"))

    def _kernel_id(self) -> str | None:
        if self.path_kwargs.get("kernel_id"):
            return self.path_kwargs["kernel_id"]
        return self.path_args[0] if self.path_args else None

    async def prepare(self, *args, **kwargs):
        if SESSION_HEADER in self.request.headers:  # only the server sets it, after sign-in
            del self.request.headers[SESSION_HEADER]
        if not self.check_host():
            self.current_user = self._jupyter_current_user = None
            self._tftsr_refused = True
            raise web.HTTPError(403, "Host not allowed")
        if self._is_upgrade() and not self.check_origin():
            self.current_user = self._jupyter_current_user = None
            raise web.HTTPError(403, "cross-origin WebSocket refused")
        if self._tftsr_kernel_only:  # no browser, token or cookie opens it: only the kernel secret
            if not self._kernel_secret_ok():
                self.current_user = self._jupyter_current_user = None
                raise web.HTTPError(403, "only the page's kernel may open this socket")
            self.current_user = self._jupyter_current_user = User(username="kernel", name="kernel")
            return None
        result = super().prepare(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if self._finished or self._tftsr_public:
            return result
        if self.current_user is None:  # a handler jupyter_server lets through (static files): not here
            raise web.HTTPError(403, "the dashboard token is required")
        if self._tftsr_kernel_owned and self._tftsr_actor is not None:
            owner = KERNEL_OWNERS.get(self._kernel_id() or "")
            if owner is None or owner != self._tftsr_actor.session_id:
                log.warning("Refused %s for %s: the kernel is not one of this session's pages",
                            self.request.path, self._tftsr_actor.name)
                raise web.HTTPError(403, "this kernel belongs to another page")
        if self._tftsr_page:
            km = self.settings.get("kernel_manager")
            limit = getattr(km, "max_kernels", None)
            if limit and km.page_kernel_count() >= limit:
                log.warning("Refused a page: %d pages already have a kernel (--max-kernels %d)",
                            km.page_kernel_count(), limit)
                self._tftsr_error_text = (f"The dashboard already serves {limit} open pages, its limit: close a "
                                          "tab and reload (an admin can raise --max-kernels).")
                raise web.HTTPError(503, "max kernels reached")
            _ = self.xsrf_token  # sets the _xsrf cookie the page's scripts send back
            if self._tftsr_session_token:  # the page's kernel acts as this session's user
                self.request.headers[SESSION_HEADER] = self._tftsr_session_token
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
        reason = getattr(self, "_tftsr_error_text", None) or getattr(exc, "reason", None) or self._reason
        if status_code == 503:
            self.set_header("Retry-After", "30")
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
        xsrf = self.xsrf_token.decode()
        if team_mode(self):
            if error:
                self.set_status(getattr(self, "_tftsr_login_status", 401))
            self.write(team_login_page(
                action=self.base_url + "login", next_url=nxt, xsrf=xsrf,
                ask_token=not self.identity_provider.token_proven(self),
                username=self.get_argument("username", default="")[:64] if error else "",
                error=getattr(self, "_tftsr_login_error", "") or ("Sign-in failed." if error else "")))
            return
        self.write(login_page(action=self.base_url + "login", next_url=nxt, xsrf=xsrf,
                              error="That token is not right. Check the URL printed by tftsr dashboard."
                              if error else ""))


class LogoutPage(AccessGuard, LogoutHandler):
    _tftsr_public = True

    @allow_unauthenticated
    def get(self):
        self.identity_provider.sign_out(self)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(logout_page(self.base_url + "login"))


class KernelListHandler(APIHandler):
    """``GET /api/kernels``: the running kernels (id, state, connections, pooled). Read only:
    the dashboard starts kernels for pages, never on request."""

    @web.authenticated
    def get(self):
        actor = getattr(self, "_tftsr_actor", None)
        if team_mode(self) and (actor is None or actor.role != "admin"):
            raise web.HTTPError(403, "the kernel list needs the admin role")
        report = getattr(self.kernel_manager, "kernel_report", None)
        if report is None:
            raise web.HTTPError(501, "this kernel manager cannot list its kernels")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps([{k: v for k, v in row.items() if k != "pid"} for row in report()]))


class _NoDefaultHeaders:
    def set_default_headers(self):  # as jupyter_server's kernel socket: headers mean nothing on a socket
        pass


class _OwnedKernels:
    """The kernel manager as a page handler sees it: every kernel it hands out (from the pool,
    or started for this request) is recorded as belonging to the page's session."""

    def __init__(self, km, session_id: str):
        self._km, self._sid = km, session_id

    def __getattr__(self, name):
        return getattr(self._km, name)

    async def get_rendered_notebook(self, *args, **kwargs):
        result = await self._km.get_rendered_notebook(*args, **kwargs)
        KERNEL_OWNERS[result[2]] = self._sid
        return result

    async def start_kernel(self, *args, **kwargs):
        kid = self._km.start_kernel(*args, **kwargs)
        if inspect.isawaitable(kid):
            kid = await kid
        KERNEL_OWNERS[kid] = self._sid
        return kid


class _PageKernels:
    """Mixed into the page handler: in team mode its kernels belong to the signed-in session."""

    @property
    def kernel_manager(self):
        km = self.settings["kernel_manager"]
        actor = getattr(self, "_tftsr_actor", None)
        if actor is None or not actor.session_id:
            return km
        return _OwnedKernels(km, actor.session_id)


_WRAPPED: dict = {}


def guarded(cls, *, page: bool = False, kernel_only: bool = False, kernel_owned: bool = False):
    """``cls`` behind the :class:`AccessGuard` (a cached subclass). Plain tornado handlers
    become JupyterHandlers, so jupyter_server's authentication applies to them too."""
    key = (cls, page, kernel_only, kernel_owned)
    if key in _WRAPPED:
        return _WRAPPED[key]
    if issubclass(cls, AccessGuard):
        return cls
    front = (_PageKernels, AccessGuard) if page else (AccessGuard,)
    if issubclass(cls, JupyterHandler):
        bases = (*front, cls)
    elif issubclass(cls, WebSocketHandler):
        bases = (*front, _NoDefaultHeaders, WebSocketMixin, cls, JupyterHandler)
    else:
        bases = (*front, JupyterHandler, cls)
    wrapped = type(f"Guarded{cls.__name__}", bases, {
        "_tftsr_page": page, "_tftsr_kernel_only": kernel_only, "_tftsr_kernel_owned": kernel_owned,
        "__module__": __name__})
    _WRAPPED[key] = wrapped
    return wrapped


def guard_handlers(handlers, page_classes=(), kernel_only=(), kernel_owned=()):
    """Voila's handler list with every class guarded."""
    out = []
    for spec in handlers:
        pattern, cls, *rest = spec
        out.append((pattern, guarded(cls, page=cls in page_classes, kernel_only=cls in kernel_only,
                                     kernel_owned=cls in kernel_owned), *rest))
    return out


__all__ = ["AccessGuard", "DashboardIdentityProvider", "KernelListHandler", "guard_handlers", "guarded",
           "KERNEL_SECRET_KEY", "SESSION_HEADER", "SETTINGS_KEY", "WB_KEY", "team_mode"]
