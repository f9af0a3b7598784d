"""A Streamable HTTP MCP server (official SDK, FastMCP, no auth) whose resources a chat attaches.

    with FakeMcpResourceServer() as srv:
        srv.url        # http://127.0.0.1:PORT/mcp
        srv.reads      # URIs read so far

Resources: ``incident://notes`` (text holding an e-mail, a password, an API token and a JWT:
:data:`PLANTED`), ``incident://big`` (:data:`BIG_CHARS` characters of log lines),
``blob://diagram`` (binary, ``image/png``).
"""

from __future__ import annotations

from .asgi import Served, ServedFake, reserve_port

__all__ = ["FakeMcpResourceServer", "NOTES", "PLANTED", "BIG_CHARS"]

#: the secrets planted in incident://notes (none may reach a provider)
PLANTED = ("ops.lead@example.org", "Tr0ub4dor-Planted-99", "sk_live_4eC39HqLyjWDarjtT1zdp7dcPlanted",
           "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHMifQ.c2lnbmF0dXJlUGxhbnRlZA")
NOTES = (f"# Incident notes\nowner: {PLANTED[0]}\npassword={PLANTED[1]}\napi_token={PLANTED[2]}\n"
         f"Authorization: Bearer {PLANTED[3]}\nThe payment gateway pods restarted at 14:02.")
BIG_CHARS = 300_000


class FakeMcpResourceServer(ServedFake):
    def __init__(self, name: str = "fake-resources"):
        from mcp.server.fastmcp import FastMCP

        self.port = reserve_port()
        self.reads: list[str] = []
        mcp = FastMCP(name, host="127.0.0.1", stateless_http=False)
        reads = self.reads

        @mcp.resource("incident://notes", name="incident-notes", mime_type="text/markdown")
        def notes() -> str:
            reads.append("incident://notes")
            return NOTES

        @mcp.resource("incident://big", name="big-log", mime_type="text/plain")
        def big() -> str:
            reads.append("incident://big")
            line = "2026-12-01T14:02:00Z gateway-7 WARN upstream latency 4s\n"
            return (line * (BIG_CHARS // len(line) + 1))[:BIG_CHARS]

        @mcp.resource("blob://diagram", name="diagram", mime_type="image/png")
        def diagram() -> bytes:
            reads.append("blob://diagram")
            return b"\x89PNG\r\n\x1a\n" + bytes(range(256))

        @mcp.tool()
        def ping() -> str:
            """Answer pong."""
            return "pong"

        self._served = Served(mcp.streamable_http_app(), self.port)
