"""A base for the fake REST services (Confluence, ServiceNow, Azure DevOps, an OAuth server).

A threaded HTTP server on 127.0.0.1 with a random port. Each fake subclass implements
``route(req) -> (status, body, headers)``; the base records every request (method, path, query,
headers, raw and parsed body), checks the ``Authorization`` header against ``accept_auth``
(401 with the service's error body otherwise) and can be told to answer the next requests with
a status first (``fail_next(429, retry_after="1")``), as a rate-limited service does.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    body: Any = None
    form: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def basic_auth(user: str, secret: str) -> str:
    """The ``Authorization`` header value of HTTP basic auth (RFC 7617)."""
    import base64

    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


class FakeRest:
    #: a header value the fake accepts as Authorization (None: no check)
    accept_auth: set[str] | None = None

    def __init__(self):
        self.requests: list[Request] = []
        self._faults: list[tuple[int, dict, Any]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _do(self):
                parts = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                req = Request(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                              {k.lower(): v for k, v in self.headers.items()}, raw)
                ctype = req.header("content-type") or ""
                if raw and "json" in ctype:
                    try:
                        req.body = json.loads(raw)
                    except ValueError:
                        req.body = None
                elif raw and "x-www-form-urlencoded" in ctype:
                    req.form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                with fake._lock:
                    fake.requests.append(req)
                    fault = fake._faults.pop(0) if fake._faults else None
                if fault is not None:
                    status, headers, body = fault
                elif fake.accept_auth is not None and req.header("authorization") not in fake.accept_auth:
                    status, body, headers = fake.unauthorized(req)
                else:
                    status, body, headers = fake.route(req)
                data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
                self.send_response(status)
                headers = dict(headers or {})
                headers.setdefault("Content-Type", "application/json; charset=utf-8")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _do

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle
    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- behaviour
    def fail_next(self, status: int, body: Any = None, *, retry_after: str | None = None, times: int = 1):
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._faults += [(status, headers, body if body is not None else self.error_body(status, "injected"))] * times

    def error_body(self, status: int, message: str) -> Any:
        return {"message": message}

    def unauthorized(self, req: Request):
        return 401, self.error_body(401, "Authentication required"), {"WWW-Authenticate": "Basic realm=\"fake\""}

    def route(self, req: Request):
        raise NotImplementedError

    def seen(self, method: str, path_part: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def all_text(self) -> str:
        """Every request body and query received, as text (to check nothing secret arrived)."""
        return "\n".join(r.raw.decode("utf-8", "replace") + " " + json.dumps(r.query) for r in self.requests)
