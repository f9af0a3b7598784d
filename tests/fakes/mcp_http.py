"""A local Streamable HTTP MCP server for tests, built with the official SDK (FastMCP) and served
by uvicorn on 127.0.0.1, behind a bearer-token check (401 without the right token).

    with FakeMcpHttpServer(token="t0ken") as srv:
        srv.url            # http://127.0.0.1:PORT/mcp
        srv.calls          # [(tool, arguments)] as the server received them

Tools: ``lookup_host(host)`` answers with an owner e-mail, a password and an IP address (for the
egress tests), ``echo(text)`` returns its argument, ``restart_service(name)`` is not read-only.
Resources: ``runbook://checkout`` (a short runbook).
"""

from __future__ import annotations

from .asgi import Served, ServedFake


__all__ = ["FakeMcpHttpServer", "SECRET_RESULT"]

#: what lookup_host answers (an e-mail, a password and an IP address)
SECRET_RESULT = ("owner: jane.doe@example.org\npassword=Hunter2-Sup3rSecret\naddress 10.20.30.40\n"
                 "status: degraded")


class _BearerGate:
    """ASGI middleware: HTTP requests need ``Authorization: Bearer <token>``."""

    def __init__(self, app, token: str | None, seen: list):
        self.app, self.token, self.seen = app, token, seen

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
            self.seen.append(headers)
            if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
                body = b'{"error":"invalid_token","error_description":"missing or wrong bearer token"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b'Bearer error="invalid_token"')]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class FakeMcpHttpServer(ServedFake):
    def __init__(self, token: str | None = "t0ken-for-tests", name: str = "fake-http"):
        from mcp.server.fastmcp import FastMCP
        from mcp.types import ToolAnnotations

        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.request_headers: list[dict] = []
        mcp = FastMCP(name, host="127.0.0.1", stateless_http=False)
        calls = self.calls

        @mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
        def lookup_host(host: str) -> str:
            """Look up who owns a host and how to reach it."""
            calls.append(("lookup_host", {"host": host}))
            return SECRET_RESULT

        @mcp.tool()
        def echo(text: str) -> str:
            """Return the text as received."""
            calls.append(("echo", {"text": text}))
            return f"received: {text}"

        @mcp.tool()
        def restart_service(name: str, force: bool = False) -> str:
            """Restart a service (changes state: not read-only)."""
            calls.append(("restart_service", {"name": name, "force": force}))
            return f"restarted {name}"

        @mcp.resource("runbook://checkout", name="checkout-runbook", mime_type="text/markdown")
        def runbook() -> str:
            return "# Checkout runbook\nRestart the payment gateway pods first."

        self._app = _BearerGate(mcp.streamable_http_app(), token, self.request_headers)
        self._served = Served(self._app)
