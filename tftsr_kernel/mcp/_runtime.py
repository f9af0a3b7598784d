"""Live MCP connections on a private event loop, behind synchronous calls.

The official SDK (``mcp``) is asyncio/anyio code. Kernel calls stay synchronous: one daemon thread
runs its own event loop (Jupyter kernels already run a loop in the main thread, so the SDK cannot
share it), and every operation is submitted there with a bounded wait. Each live connection is
one task that enters the transport and the :class:`mcp.ClientSession` and holds them open until
it is told to stop, so anyio's cancel scopes are entered and left in the same task.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .errors import McpAuthError, McpConnectionError, McpError, McpTimeoutError

#: seconds a connection (spawn or HTTP handshake plus ``initialize``) may take (the reference: 60 s)
CONNECT_TIMEOUT_S = 60.0
#: seconds one request (a list or a tool call) may take
REQUEST_TIMEOUT_S = 30.0


class BearerSlot:
    """The current OAuth2 access token of a live connection: the service puts a refreshed one
    here before each use, and :class:`_SlotAuth` reads it on every HTTP request."""

    def __init__(self, token: str):
        self.token = token

    def __repr__(self) -> str:
        return "BearerSlot(<hidden>)"


def _slot_auth(slot: BearerSlot, on_refused):
    """The bearer on every request; a 401 calls ``on_refused`` (the SDK would otherwise leave
    the waiting request to its read timeout)."""
    import httpx

    class _SlotAuth(httpx.Auth):
        def auth_flow(self, request):
            request.headers["Authorization"] = f"Bearer {slot.token}"
            response = yield request
            if response.status_code == 401:
                on_refused()

    return _SlotAuth()


@dataclass
class ServerSpec:
    """How to reach one server (secrets included: never shown, never stored in clear)."""

    kind: str                          # "stdio" | "http"
    name: str
    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    bearer: BearerSlot | None = None       # oauth2: the access token, refreshed by the service

    def secrets(self) -> list[str]:
        extra = [self.bearer.token] if self.bearer is not None else []
        return [v for v in (*self.env.values(), *self.headers.values(), *extra) if v and len(v) >= 4]

    def __repr__(self) -> str:
        return f"ServerSpec({self.kind}, {self.name!r})"


class _Loop:
    _instance: "_Loop | None" = None
    _lock = threading.Lock()

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="tftsr-mcp-loop", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> "_Loop":
        with cls._lock:
            if cls._instance is None:
                cls._instance = _Loop()
            return cls._instance

    def run(self, coro, timeout: float, what: str):
        if threading.current_thread() is self.thread:  # pragma: no cover - a programming error
            raise RuntimeError("MCP calls cannot be made from the MCP loop thread")
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise McpTimeoutError(f"{what} did not finish within {timeout:g} s") from None


class Connection:
    """One live session with a server."""

    def __init__(self, spec: ServerSpec):
        self.spec = spec
        self.session = None
        self.init = None
        self._task: asyncio.Task | None = None
        self._stop: asyncio.Event | None = None
        self._errlog = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self.closed = False
        self._refused: asyncio.Event | None = None  # oauth2: the server refused the token

    def stderr_tail(self, limit: int = 300) -> str:
        try:
            self._errlog.flush()
            self._errlog.seek(0)
            text = self._errlog.read()[-4000:]
        except (OSError, ValueError):
            return ""
        lines = [l for l in text.strip().splitlines() if l.strip()]
        return " | ".join(lines[-3:])[-limit:]

    async def _hold(self, ready: asyncio.Future) -> None:
        from mcp import ClientSession

        self._stop = asyncio.Event()
        if self.spec.bearer is not None:
            self._refused = asyncio.Event()
        try:
            async with contextlib.AsyncExitStack() as stack:
                spec = self.spec
                if spec.kind == "stdio":
                    from mcp.client.stdio import StdioServerParameters, get_default_environment, stdio_client

                    params = StdioServerParameters(command=spec.command, args=list(spec.args),
                                                   env={**get_default_environment(), **spec.env})
                    read, write = await stack.enter_async_context(stdio_client(params, errlog=self._errlog))
                else:
                    import httpx
                    from mcp.client.streamable_http import streamable_http_client

                    http = await stack.enter_async_context(httpx.AsyncClient(
                        headers=dict(spec.headers), follow_redirects=False,
                        auth=_slot_auth(spec.bearer, self._refused.set) if spec.bearer is not None else None,
                        timeout=httpx.Timeout(CONNECT_TIMEOUT_S, read=REQUEST_TIMEOUT_S + 5)))
                    read, write, _ = await stack.enter_async_context(streamable_http_client(spec.url, http_client=http))
                session = await stack.enter_async_context(
                    ClientSession(read, write, read_timeout_seconds=timedelta(seconds=REQUEST_TIMEOUT_S)))
                self.init = await session.initialize()
                self.session = session
                if not ready.done():
                    ready.set_result(self)
                await self._stop.wait()
        except BaseException as exc:  # handed to the waiting caller
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else McpConnectionError("cancelled"))
            if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                raise
        finally:
            self.closed = True
            self.session = None

    async def _start(self):
        ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.ensure_future(self._hold(ready))
        return await ready

    def open(self, timeout: float = CONNECT_TIMEOUT_S) -> "Connection":
        loop = _Loop.get()
        try:
            loop.run(self._start(), timeout, f"connecting to MCP server {self.spec.name!r}")
        except McpTimeoutError:
            self.close()
            raise
        except BaseException as exc:
            err = translate(exc, self)
            self.close()
            raise err from None
        return self

    def request(self, make_coro, what: str, timeout: float = REQUEST_TIMEOUT_S):
        if self.session is None or self.closed:
            raise McpConnectionError(f"the connection to MCP server {self.spec.name!r} is closed")
        session = self.session
        refused = self._refused
        name = self.spec.name

        async def guarded():
            if refused is None:
                return await make_coro(session)
            work = asyncio.ensure_future(make_coro(session))
            waiter = asyncio.ensure_future(refused.wait())
            done, _ = await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if work in done:
                waiter.cancel()
                return work.result()
            work.cancel()
            raise McpAuthError(f"MCP server {name!r} refused its sign-in token (HTTP 401); "
                               f"sign in again: tftsr mcp login {name}")

        try:
            return _Loop.get().run(guarded(), timeout, what)
        except McpError:
            raise
        except BaseException as exc:
            raise translate(exc, self) from None

    def close(self) -> None:
        if self._task is None:
            self.closed = True
            return
        loop = _Loop.get()
        task, stop = self._task, self._stop

        async def _close():
            if stop is not None:
                stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), 5)
            except BaseException:
                task.cancel()

        with contextlib.suppress(BaseException):
            loop.run(_close(), 8, "closing")
        self._task = None
        self.closed = True
        with contextlib.suppress(Exception):
            self._errlog.close()


def _leaves(exc: BaseException):
    if isinstance(exc, BaseExceptionGroup):
        for e in exc.exceptions:
            yield from _leaves(e)
    else:
        yield exc


def translate(exc: BaseException, conn: Connection | None) -> McpError:
    """A typed error with a message a user can act on, from whatever the SDK raised."""
    import httpx

    from ..ai._net import scrub

    leaves = [e for e in _leaves(exc) if not isinstance(e, (asyncio.CancelledError, GeneratorExit))] or [exc]
    first = leaves[0]
    for e in leaves:  # the most telling one
        if isinstance(e, (httpx.HTTPStatusError, FileNotFoundError, PermissionError, httpx.ConnectError)):
            first = e
            break
    spec = conn.spec if conn else None
    where = (spec.url if spec and spec.kind == "http" else (spec.command if spec else "")) or ""
    name = spec.name if spec else "?"
    secrets = spec.secrets() if spec else []
    tail = conn.stderr_tail() if conn and spec and spec.kind == "stdio" else ""
    if isinstance(first, McpError):
        return first
    if isinstance(first, httpx.HTTPStatusError):
        status = first.response.status_code
        if status in (401, 403) and spec is not None and spec.bearer is not None:
            return McpAuthError(f"MCP server {name!r} at {where} refused its sign-in token (HTTP {status}); "
                                f"sign in again: tftsr mcp login {name}")
        if status in (401, 403):
            return McpAuthError(f"MCP server {name!r} at {where} refused the credentials (HTTP {status}); "
                                "check the token or key (tftsr mcp add NAME --http URL --auth bearer --auth-env VAR)")
        return McpConnectionError(f"MCP server {name!r} at {where} answered HTTP {status}; check the URL",
                                  unreachable=status in (404, 502, 503, 504))
    if isinstance(first, httpx.ConnectError):
        return McpConnectionError(f"could not connect to MCP server {name!r} at {where}; is it running?",
                                  unreachable=True)
    if isinstance(first, httpx.TimeoutException):
        return McpTimeoutError(f"MCP server {name!r} at {where} did not answer in time")
    if isinstance(first, (FileNotFoundError, PermissionError)):
        return McpConnectionError(f"could not start MCP server {name!r} ({where}): {type(first).__name__}",
                                  unreachable=True)
    text = scrub(str(first) or type(first).__name__, secrets)
    try:
        from mcp.shared.exceptions import McpError as SdkError
    except ImportError:  # pragma: no cover
        SdkError = ()
    if isinstance(first, SdkError):
        msg = f"MCP server {name!r} reported an error: {text}"
        if "connection closed" in text.lower():
            return McpConnectionError(msg + (f" (its stderr: {scrub(tail, secrets)})" if tail else ""),
                                      unreachable=True)
        return McpError(msg)
    import anyio

    if isinstance(first, (ConnectionError, OSError, EOFError, anyio.BrokenResourceError, anyio.ClosedResourceError,
                          anyio.EndOfStream)) or "closed" in text.lower():
        if spec and spec.kind == "stdio":
            return McpConnectionError(f"MCP server {name!r} ({where}) exited or closed its output before answering"
                                      + (f" (its stderr: {scrub(tail, secrets)})" if tail else ""), unreachable=True)
        return McpConnectionError(f"the connection to MCP server {name!r} failed: {text}"
                                  + (f" (its stderr: {scrub(tail, secrets)})" if tail else ""), unreachable=True)
    return McpError(f"MCP server {name!r}: {type(first).__name__}: {text[:300]}"
                    + (f" (its stderr: {scrub(tail, secrets)})" if tail else ""))


async def _all_pages(list_fn, attr: str) -> list[Any]:
    out, cursor = [], None
    for _ in range(100):  # a server that pages forever is cut off
        result = await (list_fn(cursor) if cursor else list_fn())
        out.extend(getattr(result, attr) or [])
        cursor = getattr(result, "nextCursor", None)
        if not cursor:
            break
    return out


def discover(conn: Connection) -> dict:
    """Tools, resources and prompts of a connected server (resources/prompts only when offered)."""
    caps = getattr(conn.init, "capabilities", None)

    async def run(session):
        tools = await _all_pages(session.list_tools, "tools")
        resources, prompts = [], []
        if caps is None or getattr(caps, "resources", None) is not None:
            try:
                resources = await _all_pages(session.list_resources, "resources")
            except Exception as exc:  # "Method not found" from servers that declare but lack it
                if "not found" not in str(exc).lower():
                    raise
        if caps is None or getattr(caps, "prompts", None) is not None:
            try:
                prompts = await _all_pages(session.list_prompts, "prompts")
            except Exception as exc:
                if "not found" not in str(exc).lower():
                    raise
        return {"tools": tools, "resources": resources, "prompts": prompts}

    return conn.request(run, f"discovery on MCP server {conn.spec.name!r}")


def call_tool(conn: Connection, name: str, arguments: dict, timeout: float = REQUEST_TIMEOUT_S):
    return conn.request(lambda s: s.call_tool(name, arguments, read_timeout_seconds=timedelta(seconds=timeout)),
                        f"the call of tool {name!r} on MCP server {conn.spec.name!r}", timeout + 5)


def read_resource(conn: Connection, uri: str, timeout: float = REQUEST_TIMEOUT_S):
    from pydantic import AnyUrl

    return conn.request(lambda s: s.read_resource(AnyUrl(uri)), f"reading {uri} from MCP server {conn.spec.name!r}",
                        timeout)
