"""OAuth2 authorization code with PKCE (S256) and a single-use, expiring ``state``.

:class:`OAuthFlow` does the protocol over the store:

- :meth:`OAuthFlow.begin` makes a 32-byte ``state`` and a 32-byte PKCE verifier (base64url, no
  padding), stores the state's SHA-256, the verifier (encrypted) and the redirect URI with an
  expiry (:data:`STATE_TTL`), and returns the authorization URL (``response_type=code``,
  ``client_id``, ``redirect_uri``, ``scope``, ``state``, ``code_challenge`` =
  base64url(SHA-256(verifier)), ``code_challenge_method=S256``).
- :meth:`OAuthFlow.complete` looks the state up by its hash; an unknown, used or expired state is
  refused before anything is sent. The state is marked used *before* the code is exchanged, so
  it can never be replayed, even if the exchange fails. The code is exchanged with the verifier
  and the same redirect URI at the token endpoint (a form POST); only a successful answer stores
  a token (encrypted, with its expiry and refresh token).
- :meth:`OAuthFlow.refresh` trades the refresh token for a new access token shortly before the
  old one expires (:data:`REFRESH_MARGIN`).

The same flow signs in to OAuth2-protected MCP servers (``wb.mcp.begin_login``): their states
have service ``mcp`` and the server's id (``subject``), their extra request parameters (the
RFC 8707 ``resource``) come in the ``oauth`` dict (``params`` for the authorization URL,
``token_params`` for every token request), and their tokens go to the store the caller gives
(``store=``) instead of the integrations' ``credentials`` table.

Two ways to receive the callback, both calling :meth:`complete`: :class:`LoopbackListener` (the
CLI's ``tftsr integration login`` and ``tftsr mcp login``: ``http://127.0.0.1:PORT/oauth/callback``)
and :func:`tornado_callback_handler` (to mount at ``/oauth/callback`` in the dashboard's server);
:func:`handle_callback` sends a state to the service that began it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import secrets as _secrets
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from .._util import sha256_hex, uuid7
from .errors import OAuthError
from .models import OAuthStart

STATE_TTL = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(seconds=60)
CALLBACK_PATH = "/oauth/callback"
VERIFIER_PURPOSE = "oauth_verifier"
_TS = "%Y-%m-%d %H:%M:%S"

#: each service's real endpoints and scopes (``--auth-url``/``--token-url``/``--scope`` override them)
DEFAULTS = {
    "confluence": {
        "auth_url": "https://auth.atlassian.com/authorize",
        "token_url": "https://auth.atlassian.com/oauth/token",
        "scope": "read:confluence-space.summary read:confluence-content.summary write:confluence-content "
                 "search:confluence read:me offline_access",
        "extra": {"audience": "api.atlassian.com", "prompt": "consent"},
    },
    "azuredevops": {
        "auth_url": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "token_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "scope": "499b84ac-1321-427f-aa17-267ca6975798/vso.work_write offline_access",
        "extra": {},
    },
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_verifier() -> str:
    return b64url(_secrets.token_bytes(32))


def challenge_for(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _ts(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime(_TS)


def _parse_ts(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, _TS).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def loopback_redirect(port: int) -> str:
    return f"http://127.0.0.1:{int(port)}{CALLBACK_PATH}"


def _again(service: str | None) -> str:
    """How to start a sign-in again, for the service a state belongs to."""
    if service == "mcp":
        return "Start again with tftsr mcp login NAME (or Sign in under Settings \u2192 MCP)"
    if service is None:
        return "Start again with tftsr integration login SERVICE or tftsr mcp login NAME"
    return "Start again with tftsr integration login"


def state_service(db, state: str) -> tuple[str, str | None] | None:
    """(service, subject) of the login that made ``state``, or None for an unknown one."""
    if not isinstance(state, str) or not state or len(state) > 200:
        return None
    row = db.query_one("SELECT service, server_id FROM oauth_states WHERE state_hash = ?", (sha256_hex(state),))
    return (row["service"], row["server_id"]) if row else None


class OAuthFlow:
    """The protocol steps over one workbench (used by the integrations service)."""

    def __init__(self, wb, credentials, http_timeout: float = 30.0):
        self._wb = wb
        self._db = wb.db
        self._creds = credentials
        self._timeout = http_timeout

    # -- begin
    def begin(self, service: str, oauth: dict, redirect_uri: str, *, now: datetime | None = None,
              subject: str | None = None) -> OAuthStart:
        """A new login: ``subject`` is the MCP server's id for service ``mcp``; ``oauth["params"]``
        are extra authorization-request parameters (e.g. ``resource``)."""
        now = now or datetime.now(timezone.utc)
        state, verifier = b64url(_secrets.token_bytes(32)), new_verifier()
        expires = now + STATE_TTL
        sid = uuid7()
        with self._db.write() as conn:
            # expired states are of no use to anyone: drop them as new ones are made
            conn.execute("DELETE FROM oauth_states WHERE expires_at < ?", (_ts(now - timedelta(days=1)),))
            conn.execute("INSERT INTO oauth_states(id, service, server_id, state_hash, encrypted_verifier,"
                         " redirect_uri, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?)",
                         (sid, service, subject, sha256_hex(state),
                          self._wb.secrets.encrypt(verifier, VERIFIER_PURPOSE), redirect_uri, _ts(now), _ts(expires)))
            self._wb.audit.write_audit_event("oauth_begin", "oauth_state", sid, {
                "service": service, "redirect_uri": redirect_uri, "expires_at": _ts(expires),
                **({"server_id": subject} if subject else {})})
        params = {"response_type": "code", "client_id": oauth["client_id"], "redirect_uri": redirect_uri,
                  "scope": oauth.get("scope") or "", "state": state, "code_challenge": challenge_for(verifier),
                  "code_challenge_method": "S256"}
        params.update(DEFAULTS.get(service, {}).get("extra", {}) if oauth.get("default_endpoints") else {})
        params.update(oauth.get("params") or {})
        if not params["scope"] and service == "mcp":  # no scope known: the server's default applies
            del params["scope"]
        sep = "&" if "?" in oauth["auth_url"] else "?"
        return OAuthStart(service, oauth["auth_url"] + sep + urlencode(params), state, redirect_uri, _ts(expires))

    # -- complete
    def claim_state(self, state: str, *, service: str | None = None, now: datetime | None = None,
                    subject: str | None = None):
        """Mark the state used and return (id, service, verifier, redirect_uri); refuse an unknown,
        used or expired one, or one of another service or MCP server (nothing is sent then)."""
        now = now or datetime.now(timezone.utc)
        if not isinstance(state, str) or not state or len(state) > 200:
            raise OAuthError("the login callback has no valid state; no token was stored. " + _again(service))
        with self._db.write() as conn:
            row = conn.execute("SELECT id, service, server_id, encrypted_verifier, redirect_uri, expires_at, used_at"
                               " FROM oauth_states WHERE state_hash = ?", (sha256_hex(state),)).fetchone()
            if row is None:
                raise OAuthError("the login callback's state is unknown (not started here, or forged); "
                                 "no token was stored. " + _again(service))
            if row["used_at"]:
                raise OAuthError("the login callback's state was already used; a state is single-use, so no "
                                 "token was stored. " + _again(row["service"]))
            if service is not None and row["service"] != service:
                raise OAuthError(f"the login callback's state belongs to {row['service']}, not {service}; "
                                 "no token was stored")
            if subject is not None and row["server_id"] != subject:
                raise OAuthError("the login callback's state belongs to another MCP server; no token was stored")
            expires = _parse_ts(row["expires_at"])
            conn.execute("UPDATE oauth_states SET used_at = ? WHERE id = ?", (_ts(now), row["id"]))
            expired = expires is None or now > expires
            if expired:
                self._wb.audit.write_audit_event("oauth_refused", "oauth_state", row["id"],
                                                 {"service": row["service"], "reason": "expired"})
        if expired:  # raised after the commit: the state stays spent
            raise OAuthError("the login took too long and its state expired; no token was stored. "
                             + _again(row["service"]))
        verifier = self._wb.secrets.decrypt(row["encrypted_verifier"], VERIFIER_PURPOSE)
        return row["id"], row["service"], verifier, row["redirect_uri"]

    def complete(self, state: str, code: str, oauth: dict, client_secret: str | None, *,
                 service: str | None = None, error: str | None = None, subject: str | None = None,
                 store=None):
        """Finish a login: check and spend the state, exchange the code, store the token
        (``store(secret, expires_at)`` when given, else the integrations' credentials)."""
        sid, svc, verifier, redirect_uri = self.claim_state(state, service=service, subject=subject)
        label = oauth.get("label") or svc  # how messages name what is signed in to
        if error:
            self._wb.audit.write_audit_event("oauth_refused", "oauth_state", sid, {"service": svc, "reason": "denied"})
            raise OAuthError(f"the {label} login was not granted ({error[:100]}); no token was stored")
        if not isinstance(code, str) or not code or len(code) > 4096:
            raise OAuthError("the login callback has no authorization code; no token was stored")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": oauth["client_id"], "code_verifier": verifier}
        if client_secret:
            form["client_secret"] = client_secret
        form.update(oauth.get("token_params") or {})
        try:
            tokens = self._token_request(label, oauth["token_url"], form, (code, verifier, client_secret))
        except OAuthError:
            self._wb.audit.write_audit_event("oauth_refused", "oauth_state", sid,
                                             {"service": svc, "reason": "token endpoint refused"})
            raise
        return svc, self._store(svc, tokens, None, store)

    def refresh(self, service: str, secret: dict, oauth: dict, client_secret: str | None, *,
                store=None, login_hint: str | None = None) -> dict:
        """A new access token from the refresh token; stored and returned."""
        if not secret.get("refresh_token"):
            raise OAuthError(f"the {service} access token expired and there is no refresh token; "
                             + (login_hint or f"log in again with tftsr integration login {service}"))
        form = {"grant_type": "refresh_token", "refresh_token": secret["refresh_token"],
                "client_id": oauth["client_id"]}
        if client_secret:
            form["client_secret"] = client_secret
        form.update(oauth.get("token_params") or {})
        tokens = self._token_request(oauth.get("label") or service, oauth["token_url"], form,
                                     (secret["refresh_token"], client_secret))
        return self._store(service, tokens, secret.get("refresh_token"), store)

    @staticmethod
    def needs_refresh(secret: dict, now: datetime | None = None) -> bool:
        expires = _parse_ts(secret.get("expires_at"))
        return expires is not None and (now or datetime.now(timezone.utc)) + REFRESH_MARGIN >= expires

    def _token_request(self, service: str, token_url: str, form: dict, hide) -> dict:
        from ..ai._net import display_url, scrub
        from ._http import service_message

        try:
            resp = httpx.post(token_url, data=form, timeout=self._timeout, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OAuthError(f"cannot reach the {service} token endpoint {display_url(token_url)} "
                             f"({scrub(str(exc), [h for h in hide if h])}); no token was stored") from None
        if resp.status_code >= 400:
            msg = scrub(service_message(resp.text), [h for h in hide if h])
            raise OAuthError(f"the {service} token endpoint refused the request ({resp.status_code}: {msg}); "
                             "no token was stored")
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise OAuthError(f"the {service} token endpoint answered without an access token; no token was stored")
        return data

    def _store(self, service: str, tokens: dict, old_refresh: str | None, store=None) -> dict:
        try:
            lifetime = int(tokens.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600
        expires_at = _ts(datetime.now(timezone.utc) + timedelta(seconds=max(1, lifetime)))
        secret = {"type": "oauth", "access_token": tokens["access_token"],
                  "refresh_token": tokens.get("refresh_token") or old_refresh,
                  "token_type": tokens.get("token_type") or "Bearer", "expires_at": expires_at}
        if store is not None:
            store(secret, expires_at)
        else:
            self._creds.save(service, secret, expires_at)
        return secret


# --- receiving the callback ------------------------------------------------------------------------
def callback_page(ok: bool, message: str) -> str:
    title = "Signed in" if ok else "Sign-in failed"
    return ("<!doctype html><html><head><meta charset='utf-8'><title>TFTSR " + title + "</title></head>"
            "<body><h1>" + title + "</h1><p>" + html.escape(message) + "</p>"
            "<p>You can close this window.</p></body></html>")


def handle_callback(wb, query: dict[str, str]) -> tuple[int, str]:
    """Complete a login from the callback's query parameters; (HTTP status, HTML page).

    The page never holds a token; a refused state or code gives 400 and stores nothing."""
    from ..errors import TftsrError

    state = query.get("state") or ""
    try:
        found = state_service(wb.db, state)
        if found is not None and found[0] == "mcp":
            name = wb.mcp.complete_login(state, query.get("code") or "", error=query.get("error"))
            return 200, callback_page(True, f"MCP server {name} is signed in to TFTSR Workbench.")
        service = wb.integrations.complete_login(state, query.get("code") or "", error=query.get("error"))
    except TftsrError as exc:
        return 400, callback_page(False, str(exc))
    return 200, callback_page(True, f"{service} is connected to TFTSR Workbench.")


class LoopbackListener:
    """``http://127.0.0.1:PORT/oauth/callback`` for the CLI: receives one callback.

    The HTTP thread only hands the query to the thread that waits (:meth:`wait`), which completes
    the login on the workbench's own connection and gives the page back to the browser."""

    def __init__(self, port: int = 0, *, command: str = "tftsr integration login"):
        listener = self
        self.command = command

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # no query strings (codes) in any log
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self.send_error(404)
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                status, page = listener._deliver(query)
                body = page.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()
        self._query: dict | None = None
        self._got = threading.Event()
        self._answered = threading.Event()
        self._answer: tuple[int, str] = (500, callback_page(False, "no answer"))

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def redirect_uri(self) -> str:
        return loopback_redirect(self.port)

    def start(self) -> "LoopbackListener":
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _deliver(self, query: dict) -> tuple[int, str]:
        with self._lock:
            if self._query is not None:
                return 409, callback_page(False, "this login already received its callback")
            self._query = query
        self._got.set()
        self._answered.wait(60)
        return self._answer

    def wait(self, handle, timeout: float) -> str:
        """Wait for the callback, ``handle(query) -> (status, page)``; returns the page's message."""
        if not self._got.wait(timeout):
            raise OAuthError(f"no login callback arrived within {int(timeout)} s; no token was stored. "
                             f"Run {self.command} again")
        try:
            self._answer = handle(self._query)
        finally:
            self._answered.set()
        return self._answer


def tornado_callback_handler():
    """A tornado ``RequestHandler`` class for ``/oauth/callback`` in the dashboard's server.

    Mount it with the workbench: ``(r"/oauth/callback", tornado_callback_handler(), {"workbench": wb})``;
    the login must have been begun with that server's redirect URI
    (``wb.integrations.begin_login(service, redirect_uri="https://HOST/oauth/callback")``).
    """
    import tornado.web

    class OAuthCallbackHandler(tornado.web.RequestHandler):
        def initialize(self, workbench):
            self._workbench = workbench

        def get(self):
            query = {k: self.get_query_argument(k, "") for k in ("state", "code", "error")}
            status, page = handle_callback(self._workbench, {k: v for k, v in query.items() if v})
            self.set_status(status)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(page)

    return OAuthCallbackHandler
