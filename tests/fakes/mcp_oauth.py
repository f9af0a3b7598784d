"""An OAuth2-protected Streamable HTTP MCP server and its authorization server, for tests.

Both are built from the official SDK's own pieces and served by uvicorn on 127.0.0.1:

- :class:`FakeMcpAuthServer`: an authorization server (``mcp.server.auth.routes.create_auth_routes``
  over :class:`MemoryProvider`): RFC 8414 metadata at ``/.well-known/oauth-authorization-server``
  (or, with ``openid_only=True``, only at ``/.well-known/openid-configuration``), ``/authorize``
  (PKCE S256 required; the "user" consents at once and is redirected to the client's registered
  redirect URI with the code and the state as given), ``/token`` (authorization code with the
  verifier, refresh token with rotation), ``/register`` (RFC 7591, unless ``registration=False``)
  and ``/revoke``. Every request is recorded (``requests``: method, path, query, form) and every
  grant (``grants``).
- :class:`FakeOAuthMcpServer`: a FastMCP server that is an RFC 9728 protected resource of that
  authorization server: ``/.well-known/oauth-protected-resource/mcp``, a 401 with
  ``WWW-Authenticate: Bearer ... resource_metadata=...`` without a valid token, and tokens are
  accepted only when issued for its URL (the RFC 8707 ``resource``). Tools ``echo(text)`` and
  ``lookup_host(host)``; the bearer tokens it saw are in ``tokens_seen``.

    with FakeMcpAuthServer() as auth, FakeOAuthMcpServer(auth) as srv:
        ... srv.url ...; auth.provider.expire_access_tokens()   # a forced expiry
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import parse_qs

from .asgi import Served, ServedFake, reserve_port

__all__ = ["FakeMcpAuthServer", "FakeOAuthMcpServer", "MemoryProvider", "serve_asgi"]


def serve_asgi(app) -> Served:
    return Served(app).start()


class MemoryProvider:
    """``OAuthAuthorizationServerProvider`` in memory: clients, codes and tokens in dicts."""

    def __init__(self, expires_in: int = 3600):
        from mcp.shared.auth import OAuthClientInformationFull  # noqa: F401  (the SDK is needed)

        self.expires_in = expires_in
        self.clients: dict = {}
        self.codes: dict = {}
        self.access: dict = {}
        self.refresh: dict = {}
        self.grants: list[str] = []
        self.authorize_params: list = []

    def preregister(self, client_id: str, redirect_uris, scope: str | None = "mcp", secret: str | None = None):
        from mcp.shared.auth import OAuthClientInformationFull

        self.clients[client_id] = OAuthClientInformationFull(
            client_id=client_id, client_secret=secret, redirect_uris=list(redirect_uris), scope=scope,
            grant_types=["authorization_code", "refresh_token"], response_types=["code"],
            token_endpoint_auth_method="client_secret_post" if secret else "none")

    async def get_client(self, client_id):
        return self.clients.get(client_id)

    async def register_client(self, client_info):
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client, params):
        from mcp.server.auth.provider import AuthorizationCode, construct_redirect_uri

        self.authorize_params.append(params)
        code = "code-" + secrets.token_urlsafe(16)
        self.codes[code] = AuthorizationCode(
            code=code, scopes=params.scopes or [], expires_at=time.time() + 300, client_id=client.client_id,
            code_challenge=params.code_challenge, redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly, resource=params.resource)
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client, authorization_code):
        return self.codes.get(authorization_code)

    def _issue(self, client_id, scopes, resource):
        from mcp.server.auth.provider import AccessToken, RefreshToken
        from mcp.shared.auth import OAuthToken

        at, rt = "mcp-at-" + secrets.token_urlsafe(24), "mcp-rt-" + secrets.token_urlsafe(24)
        self.access[at] = AccessToken(token=at, client_id=client_id, scopes=scopes,
                                      expires_at=int(time.time()) + self.expires_in, resource=resource)
        self.refresh[rt] = RefreshToken(token=rt, client_id=client_id, scopes=scopes, resource=resource)
        return OAuthToken(access_token=at, token_type="Bearer", expires_in=self.expires_in, refresh_token=rt,
                          scope=" ".join(scopes) or None)

    async def exchange_authorization_code(self, client, authorization_code):
        self.grants.append("authorization_code")
        self.codes.pop(authorization_code.code, None)  # single-use
        return self._issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(self, client, refresh_token):
        return self.refresh.get(refresh_token)

    async def exchange_refresh_token(self, client, refresh_token, scopes):
        self.grants.append("refresh_token")
        self.refresh.pop(refresh_token.token, None)  # rotated
        return self._issue(client.client_id, scopes, refresh_token.resource)

    async def load_access_token(self, token):
        return self.access.get(token)

    async def revoke_token(self, token):
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)

    # -- what a test does to the server
    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now expired (the resource server refuses it)."""
        for t in self.access.values():
            t.expires_at = int(time.time()) - 10

    def revoke_refresh_tokens(self) -> None:
        self.refresh.clear()


class _Recorder:
    """ASGI middleware: records each request (method, path, query, form body) before passing it on."""

    def __init__(self, app, log: list):
        self.app, self.log = app, log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()} \
            if b"=" in body and not body.startswith(b"{") else {}
        self.log.append({"method": scope["method"], "path": scope["path"],
                         "query": {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()},
                         "form": form, "body": body})
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


class FakeMcpAuthServer:
    def __init__(self, *, registration: bool = True, openid_only: bool = False, expires_in: int = 3600,
                 scopes=("mcp",)):
        self.provider = MemoryProvider(expires_in)
        self.requests: list[dict] = []
        self.registration = registration
        self.openid_only = openid_only
        self.scopes = list(scopes)
        self._served = None
        self.port = reserve_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grants(self) -> list[str]:
        return self.provider.grants

    def _app(self):
        from pydantic import AnyHttpUrl
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from mcp.server.auth.routes import build_metadata, create_auth_routes
        from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions

        reg = ClientRegistrationOptions(enabled=self.registration, valid_scopes=self.scopes,
                                        default_scopes=self.scopes)
        routes = create_auth_routes(self.provider, AnyHttpUrl(self.url), client_registration_options=reg,
                                    revocation_options=RevocationOptions(enabled=True))
        if self.openid_only:
            meta = build_metadata(AnyHttpUrl(self.url), None, reg, RevocationOptions(enabled=True))
            doc = meta.model_dump(mode="json", exclude_none=True)
            routes = [r for r in routes if r.path != "/.well-known/oauth-authorization-server"]
            routes.append(Route("/.well-known/openid-configuration", lambda _r: JSONResponse(doc)))
        return _Recorder(Starlette(routes=routes), self.requests)

    def start(self):
        self._served = Served(self._app(), self.port)
        self._served.start()
        return self

    def stop(self):
        if self._served is not None:
            self._served.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def authorize(self, auth_url: str) -> str:
        """What the browser does at the authorization server: GET the URL; the redirect's Location."""
        import httpx

        r = httpx.get(auth_url, follow_redirects=False, timeout=30)
        assert r.status_code in (302, 303, 307), (r.status_code, r.text)
        return r.headers["location"]


class FakeOAuthMcpServer(ServedFake):
    def __init__(self, auth: FakeMcpAuthServer, *, name: str = "fake-oauth-mcp", required_scopes=("mcp",)):
        from mcp.server.auth.provider import ProviderTokenVerifier
        from mcp.server.auth.settings import AuthSettings
        from mcp.server.fastmcp import FastMCP
        from mcp.types import ToolAnnotations
        from pydantic import AnyHttpUrl

        from .mcp_http import SECRET_RESULT

        self.port = reserve_port()
        self.calls: list[tuple[str, dict]] = []
        self.tokens_seen: list[str] = []
        self.requests: list[dict] = []
        verifier = ProviderTokenVerifier(auth.provider)
        mcp = FastMCP(name, host="127.0.0.1", stateless_http=False, token_verifier=verifier,
                      auth=AuthSettings(issuer_url=AnyHttpUrl(auth.url), resource_server_url=AnyHttpUrl(self.url),
                                        required_scopes=list(required_scopes), validate_token_resource=True))
        calls = self.calls

        @mcp.tool()
        def echo(text: str) -> str:
            """Return the text as received."""
            calls.append(("echo", {"text": text}))
            return f"received: {text}"

        @mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
        def lookup_host(host: str) -> str:
            """Look up who owns a host."""
            calls.append(("lookup_host", {"host": host}))
            return SECRET_RESULT

        inner = mcp.streamable_http_app()
        seen = self.tokens_seen

        async def app(scope, receive, send):
            if scope["type"] == "http":
                auth_header = dict(scope.get("headers") or []).get(b"authorization", b"").decode()
                if auth_header.lower().startswith("bearer "):
                    seen.append(auth_header[7:])
            await inner(scope, receive, send)

        self._served = Served(_Recorder(app, self.requests), self.port)
