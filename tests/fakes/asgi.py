"""Serving the ASGI fakes (the MCP servers, the OAuth authorization server) on 127.0.0.1.

:class:`Served` runs an ASGI app in a uvicorn thread on a given or random port;
:class:`ServedFake` is the lifecycle the fakes share (``start``/``stop``, a context manager,
``url``) once they set ``self._served``.
"""

from __future__ import annotations

import socket
import threading
import time


class Served:
    """An ASGI app on 127.0.0.1 (``port`` 0: a random one), in a uvicorn thread."""

    def __init__(self, app, port: int = 0):
        self._app = app
        self._server = None
        self._thread = None
        self.port = port

    def start(self) -> "Served":
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        # a client still holding its stream open must not keep the test waiting at shutdown
        self._server = uvicorn.Server(uvicorn.Config(self._app, log_level="warning", lifespan="on", access_log=False,
                                                     timeout_graceful_shutdown=1))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None


def reserve_port() -> int:
    """A free port now (for a server whose URL must be known before it starts)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ServedFake:
    """``start``/``stop``/``with`` and ``url`` for a fake whose ``_served`` is a :class:`Served`."""

    _served: Served
    path = "/mcp"

    @property
    def url(self) -> str:
        """A fake whose URL must be known before it starts (its own metadata names it) reserves
        ``self.port`` first; the others get a random one at start."""
        port = self.__dict__.get("port") or self._served.port
        return f"http://127.0.0.1:{port}{self.path}"

    def start(self):
        self._served.start()
        return self

    def stop(self) -> None:
        self._served.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
