"""Local fake AI-provider servers speaking the real wire formats, for tests and manual use.

    with FakeProviderServer("openai", replies=["Hello there."]) as srv:
        provider = make_provider(srv.config())
        provider.chat([ChatMessage("user", "hi")])
        assert srv.chat_requests[0].body["stream"] is True

Kinds: ``openai`` (``/v1/chat/completions`` JSON + SSE, ``/v1/models``), ``ollama``
(``/api/chat`` JSON + NDJSON, ``/api/tags``, ``/api/version``, ``/api/pull``, ``/api/delete``),
``anthropic`` (``/v1/messages`` JSON + SSE), ``gemini`` (``/v1beta/models/M:generateContent``
and ``:streamGenerateContent?alt=sse``) and ``custom`` (Custom REST: any POST path,
``{model, prompt, system, sessionId?, modelConfig}`` in, ``{msg, sessionId}`` out).

Standalone: ``python -m tests.fakes.servers --kind openai --port 8011 --reply "Hi"``.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FakeProviderServer", "RecordedRequest", "KINDS", "DEFAULT_MODELS", "split_words"]

KINDS = ("openai", "ollama", "anthropic", "gemini", "custom")
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "ollama": "llama3.2:3b",
    "anthropic": "claude-sonnet-4-20250514",
    "gemini": "gemini-2.0-flash",
    "custom": "ChatGPT4o",
}
_AUTH_HEADERS = {
    "openai": "authorization",
    "ollama": "authorization",
    "anthropic": "x-api-key",
    "gemini": "x-goog-api-key",
    "custom": "authorization",
}
_DISCONNECT = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass
class RecordedRequest:
    """One request the fake received, and what happened to its response."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or None
    raw: bytes
    kind: str
    is_chat: bool = False
    stream: bool = False
    status: int = 0
    reply: str | None = None
    chunks_total: int = 0
    chunks_sent: int = 0
    completed: bool = False
    client_disconnected: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def model(self) -> str | None:
        if self.kind == "gemini":
            m = re.search(r"/models/([^/:]+):", self.path)
            return m.group(1) if m else None
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def messages(self) -> list[dict[str, str]]:
        """The conversation as [{role, content}] whatever the wire format (system first)."""
        b = self.body if isinstance(self.body, dict) else {}
        out: list[dict[str, str]] = []
        if self.kind in ("openai", "ollama"):
            return [{"role": m.get("role"), "content": m.get("content")} for m in b.get("messages") or []]
        if self.kind == "anthropic":
            if b.get("system"):
                out.append({"role": "system", "content": b["system"]})
            out += [{"role": m.get("role"), "content": _text_of(m.get("content"))} for m in b.get("messages") or []]
            return out
        if self.kind == "gemini":
            sys_parts = (b.get("systemInstruction") or {}).get("parts") or []
            if sys_parts:
                out.append({"role": "system", "content": "".join(p.get("text", "") for p in sys_parts)})
            for c in b.get("contents") or []:
                role = "assistant" if c.get("role") == "model" else "user"
                out.append({"role": role, "content": "".join(p.get("text", "") for p in c.get("parts") or [])})
            return out
        if self.kind == "custom":
            if b.get("system"):
                out.append({"role": "system", "content": b["system"]})
            out.append({"role": "user", "content": b.get("prompt", "")})
        return out

    @property
    def tool_names(self) -> list[str]:
        """The names of the tools the request declared, whatever the wire format."""
        b = self.body if isinstance(self.body, dict) else {}
        if self.kind == "gemini":
            return [d.get("name") for t in b.get("tools") or [] for d in t.get("functionDeclarations") or []]
        if self.kind == "anthropic":
            return [t.get("name") for t in b.get("tools") or []]
        return [(t.get("function") or {}).get("name") for t in b.get("tools") or []]

    @property
    def tool_results(self) -> list[dict]:
        """Tool results the request sends back: [{"id", "name", "content"}] (id or name per format)."""
        b = self.body if isinstance(self.body, dict) else {}
        out: list[dict] = []
        if self.kind in ("openai", "ollama"):
            for m in b.get("messages") or []:
                if m.get("role") == "tool":
                    out.append({"id": m.get("tool_call_id"), "name": m.get("tool_name"), "content": m.get("content")})
        elif self.kind == "anthropic":
            for m in b.get("messages") or []:
                for blk in m.get("content") if isinstance(m.get("content"), list) else []:
                    if blk.get("type") == "tool_result":
                        out.append({"id": blk.get("tool_use_id"), "name": None, "content": blk.get("content")})
        elif self.kind == "gemini":
            for c in b.get("contents") or []:
                for p in c.get("parts") or []:
                    fr = p.get("functionResponse")
                    if fr:
                        out.append({"id": fr.get("id"), "name": fr.get("name"),
                                    "content": (fr.get("response") or {}).get("result")})
        return out

    @property
    def prompt_text(self) -> str:
        return "\n".join(m["content"] or "" for m in self.messages)

    @property
    def last_user_text(self) -> str:
        users = [m for m in self.messages if m["role"] == "user"]
        return users[-1]["content"] if users else ""


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def split_words(text: str, words_per_chunk: int = 1) -> list[str]:
    """Split ``text`` into stream chunks of N words each (whitespace kept with the word)."""
    tokens = re.findall(r"\s*\S+\s*", text) if text else []
    if not tokens and text:
        tokens = [text]
    n = max(1, words_per_chunk)
    return ["".join(tokens[i : i + n]) for i in range(0, len(tokens), n)]


class FakeProviderServer:
    """A threaded HTTP server on 127.0.0.1 pretending to be one AI provider.

    Parameters
    ----------
    kind: one of :data:`KINDS`.
    replies: reply texts consumed in order, one per chat request; the last one repeats. A reply
        may be a dict ``{"tool_calls": [{"name", "arguments"}], "content": ""}``: the model asks
        for those tool calls, in the kind's documented format (streamed or not).
    reply_fn: ``fn(RecordedRequest) -> str`` used instead of ``replies``.
    chunk_delay: seconds to sleep between streamed chunks (for cancel tests).
    words_per_chunk: words per streamed chunk.
    statuses: status codes forced on the next chat requests, in order, e.g. ``[500, 500]``
        (then success). An entry may be ``(status, body)`` with ``body`` a dict or str.
    require_key: when set, chat requests whose auth header does not contain it get 401.
    models: installed/known models. For ollama this is what ``/api/tags`` lists (default
        ``["llama3.2:3b"]``); when given, chat requests for other models get 404 (all kinds).
    usage: include token usage in replies.
    drop_after_chunks: abort the connection after this many streamed chunks (no final event).
    pull_error: ollama only — ``/api/pull`` reports this error after the manifest step.
    pull_steps / pull_delay: ollama only — progress lines per pull and the delay between them.
    """

    def __init__(
        self,
        kind: str = "openai",
        replies: Iterable[str] | None = None,
        *,
        reply_fn: Callable[[RecordedRequest], str] | None = None,
        chunk_delay: float = 0.0,
        words_per_chunk: int = 1,
        statuses: Iterable[int | tuple[int, Any]] | None = None,
        require_key: str | None = None,
        models: Iterable[str] | None = None,
        usage: bool = True,
        drop_after_chunks: int | None = None,
        pull_error: str | None = None,
        pull_steps: int = 4,
        pull_delay: float = 0.0,
        version: str = "0.6.0-fake",
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.kind = kind
        self._replies: collections.deque[str] = collections.deque(replies or [])
        self.reply_fn = reply_fn
        self.chunk_delay = chunk_delay
        self.words_per_chunk = words_per_chunk
        self._statuses: collections.deque = collections.deque(statuses or [])
        self.require_key = require_key
        self._models_given = models is not None
        self.models: list[str] = list(models) if models is not None else [DEFAULT_MODELS["ollama"]]
        self.usage = usage
        self.drop_after_chunks = drop_after_chunks
        self.pull_error = pull_error
        self.pull_steps = pull_steps
        self.pull_delay = pull_delay
        self.version = version
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._session_counter = 0
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "FakeProviderServer":
        if self._httpd is not None:
            return self
        handler = type("BoundHandler", (_Handler,), {"fake": self})
        httpd = _Server((self._host, self._port), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> "FakeProviderServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake server is not started")
        return self._httpd.server_address[1]

    @property
    def root(self) -> str:
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The ``api_url`` to configure: ``…/v1`` for openai, the server root otherwise."""
        return self.root + "/v1" if self.kind == "openai" else self.root

    def config(self, **overrides):
        """A :class:`ProviderConfig` pointing at this server (keyword arguments override)."""
        from tftsr_kernel.ai.providers import ProviderConfig

        values: dict[str, Any] = {
            "name": f"fake-{self.kind}",
            "provider_type": self.kind,
            "api_url": self.url,
            "model": (self.models[0] if self._models_given and self.models else DEFAULT_MODELS[self.kind]),
            "api_key": self.require_key or ("test-key-0123456789" if self.kind != "ollama" else None),
            "timeout": 5.0,
            "max_retries": 0,
        }
        values.update(overrides)
        return ProviderConfig(**values)

    # -- scripting and inspection ------------------------------------------------------------------
    def add_replies(self, *texts: str) -> None:
        with self._lock:
            self._replies.extend(texts)

    def add_statuses(self, *statuses: int | tuple[int, Any]) -> None:
        with self._lock:
            self._statuses.extend(statuses)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.is_chat]

    @property
    def last_request(self) -> RecordedRequest | None:
        return self.requests[-1] if self.requests else None

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (e.g. a cut stream has been noticed)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _next_reply(self, rec: RecordedRequest) -> str:
        if self.reply_fn is not None:
            return self.reply_fn(rec)
        with self._lock:
            if not self._replies:
                return "OK"
            return self._replies.popleft() if len(self._replies) > 1 else self._replies[0]

    def _next_status(self) -> tuple[int, Any] | None:
        with self._lock:
            if not self._statuses:
                return None
            entry = self._statuses.popleft()
        return entry if isinstance(entry, tuple) else (int(entry), None)

    def _new_session(self) -> str:
        with self._lock:
            self._session_counter += 1
            return f"fake-session-{self._session_counter}"


# ------------------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # a client that hangs up mid-stream (cancel tests) is expected, not an error to print
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, _DISCONNECT + (OSError,)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeProviderServer  # set on the bound subclass
    protocol_version = "HTTP/1.0"
    server_version = "FakeProvider/1.0"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    # -- entry points ------------------------------------------------------------------------------
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        with fake._lock:
            fake._active += 1
        try:
            rec = self._record(method)
            try:
                self._route(rec)
            except _DISCONNECT:
                rec.client_disconnected = True
        finally:
            with fake._idle:
                fake._active -= 1
                fake._idle.notify_all()

    def _record(self, method: str) -> RecordedRequest:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = RecordedRequest(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw=raw,
            kind=self.fake.kind,
        )
        with self.fake._lock:
            self.fake.requests.append(rec)
        return rec

    # -- plumbing --------------------------------------------------------------------------------
    def _send_json(self, rec: RecordedRequest, status: int, payload: Any) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        rec.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(payload, str) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        rec.completed = True

    def _start_stream(self, rec: RecordedRequest, content_type: str) -> None:
        rec.status = 200
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

    def _write(self, data: str) -> None:
        self.wfile.write(data.encode())
        self.wfile.flush()

    def _drop(self) -> None:
        """Abort the connection with a TCP reset (a close-delimited body would look complete)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.connection.close()

    def _stream_chunks(
        self,
        rec: RecordedRequest,
        chunks: list[str],
        emit: Callable[[int, str], None],
        *,
        delay: float | None = None,
        may_drop: bool = True,
    ) -> bool:
        """Send each chunk through ``emit``; False when the stream was cut on purpose."""
        fake = self.fake
        delay = fake.chunk_delay if delay is None else delay
        rec.chunks_total = len(chunks)
        for i, chunk in enumerate(chunks):
            if may_drop and fake.drop_after_chunks is not None and i >= fake.drop_after_chunks:
                self._drop()
                return False
            if i and delay:
                time.sleep(delay)
            emit(i, chunk)
            rec.chunks_sent += 1
        return True

    # -- routing ---------------------------------------------------------------------------------
    def _route(self, rec: RecordedRequest) -> None:
        kind, path, method = self.fake.kind, rec.path, rec.method
        if kind == "ollama":
            if method == "GET" and path in ("/", ""):
                return self._send_json(rec, 200, "Ollama is running")
            if method == "GET" and path == "/api/version":
                return self._send_json(rec, 200, {"version": self.fake.version})
            if method == "GET" and path == "/api/tags":
                return self._ollama_tags(rec)
            if method == "POST" and path == "/api/pull":
                return self._ollama_pull(rec)
            if method == "DELETE" and path == "/api/delete":
                return self._ollama_delete(rec)
            if method == "POST" and path == "/api/chat":
                return self._chat(rec)
        elif kind == "openai":
            if method == "GET" and path.endswith("/models"):
                return self._send_json(
                    rec, 200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self._model_list()]}
                )
            if method == "POST":
                return self._chat(rec)
        elif kind == "anthropic":
            if method == "POST" and path.endswith("/messages"):
                return self._chat(rec)
        elif kind == "gemini":
            if method == "POST" and re.search(r"/models/[^/:]+:(stream)?[gG]enerateContent$", path):
                return self._chat(rec)
        elif kind == "custom":
            if method == "POST":
                return self._chat(rec)
        self._send_json(rec, 404, self._error_body(404, f"no route for {method} {path}", rec))

    def _model_list(self) -> list[str]:
        return list(self.fake.models) if self.fake._models_given else [DEFAULT_MODELS[self.fake.kind]]

    # -- errors ----------------------------------------------------------------------------------
    def _received_key(self, rec: RecordedRequest) -> str:
        return rec.header(_AUTH_HEADERS[self.fake.kind]) or ""

    def _error_body(self, status: int, message: str, rec: RecordedRequest) -> Any:
        kind = self.fake.kind
        if kind == "openai":
            return {"error": {"message": message, "type": "invalid_request_error", "code": status}}
        if kind == "anthropic":
            return {"type": "error", "error": {"type": "api_error", "message": message}}
        if kind == "gemini":
            return {"error": {"code": status, "message": message, "status": "FAILED_PRECONDITION"}}
        if kind == "ollama":
            return {"error": message}
        return {"error": message, "msg": None}

    # -- chat ------------------------------------------------------------------------------------
    def _chat(self, rec: RecordedRequest) -> None:
        fake = self.fake
        rec.is_chat = True
        body = rec.body if isinstance(rec.body, dict) else {}
        if fake.kind == "gemini":
            rec.stream = ":streamGenerateContent" in rec.path
        elif fake.kind == "custom":
            rec.stream = False
        else:
            rec.stream = bool(body.get("stream"))
        # openai defaults to non-streaming when "stream" is absent; ollama defaults to streaming
        if fake.kind == "ollama" and "stream" not in body:
            rec.stream = True

        forced = fake._next_status()
        if forced is not None:
            status, payload = forced
            if payload is None:
                received = self._received_key(rec)
                payload = self._error_body(
                    status, f"forced status {status}" + (f"; received credentials: {received}" if received else ""), rec
                )
            return self._send_json(rec, status, payload)
        if fake.require_key is not None and fake.require_key not in self._received_key(rec):
            received = self._received_key(rec)
            return self._send_json(
                rec, 401, self._error_body(401, f"Incorrect API key provided: {received or '(none)'}", rec)
            )
        model = rec.model or ""
        if fake._models_given and model not in fake.models and not (
            fake.kind == "ollama" and f"{model}:latest" in fake.models
        ):
            msg = (
                f'model "{model}" not found, try pulling it first'
                if fake.kind == "ollama"
                else f"The model `{model}` does not exist or you do not have access to it."
            )
            return self._send_json(rec, 404, self._error_body(404, msg, rec))

        reply = fake._next_reply(rec)
        if isinstance(reply, dict):
            rec.reply = reply.get("content") or ""
            return self._reply_tools(rec, body, reply, model)
        rec.reply = reply
        prompt_tokens = len(rec.prompt_text.split())
        completion_tokens = len(reply.split())
        getattr(self, f"_reply_{fake.kind}")(rec, body, reply, model, prompt_tokens, completion_tokens)

    def _reply_openai(self, rec, body, reply, model, pt, ct):
        usage = {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}
        if not rec.stream:
            payload = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            }
            if self.fake.usage:
                payload["usage"] = usage
            return self._send_json(rec, 200, payload)
        self._start_stream(rec, "text/event-stream")

        def frame(delta, finish=None, **extra):
            obj = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            obj.update(extra)
            return f"data: {json.dumps(obj)}\n\n"

        self._write(frame({"role": "assistant", "content": ""}))
        if not self._stream_chunks(rec, split_words(reply, self.fake.words_per_chunk),
                                   lambda i, c: self._write(frame({"content": c}))):
            return
        self._write(frame({}, "stop"))
        if self.fake.usage and (body.get("stream_options") or {}).get("include_usage"):
            self._write("data: " + json.dumps({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                                                "model": model, "choices": [], "usage": usage}) + "\n\n")
        self._write("data: [DONE]\n\n")
        rec.completed = True

    def _reply_ollama(self, rec, body, reply, model, pt, ct):
        final = {"model": model, "created_at": "2025-01-01T00:00:00Z",
                 "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
        if self.fake.usage:
            final.update(prompt_eval_count=pt, eval_count=ct)
        if not rec.stream:
            final["message"]["content"] = reply
            return self._send_json(rec, 200, final)
        self._start_stream(rec, "application/x-ndjson")

        def emit(i, chunk):
            self._write(json.dumps({"model": model, "created_at": "2025-01-01T00:00:00Z",
                                    "message": {"role": "assistant", "content": chunk}, "done": False}) + "\n")

        if not self._stream_chunks(rec, split_words(reply, self.fake.words_per_chunk), emit):
            return
        self._write(json.dumps(final) + "\n")
        rec.completed = True

    def _reply_anthropic(self, rec, body, reply, model, pt, ct):
        if not rec.stream:
            payload = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                       "content": [{"type": "text", "text": reply}], "stop_reason": "end_turn",
                       "stop_sequence": None}
            if self.fake.usage:
                payload["usage"] = {"input_tokens": pt, "output_tokens": ct}
            return self._send_json(rec, 200, payload)
        self._start_stream(rec, "text/event-stream")

        def event(name, obj):
            self._write(f"event: {name}\ndata: {json.dumps(obj)}\n\n")

        start_usage = {"input_tokens": pt, "output_tokens": 1} if self.fake.usage else {}
        event("message_start", {"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "usage": start_usage}})
        event("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}})
        event("ping", {"type": "ping"})
        if not self._stream_chunks(rec, split_words(reply, self.fake.words_per_chunk), lambda i, c: event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": c}})):
            return
        event("content_block_stop", {"type": "content_block_stop", "index": 0})
        delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}}
        if self.fake.usage:
            delta["usage"] = {"output_tokens": ct}
        event("message_delta", delta)
        event("message_stop", {"type": "message_stop"})
        rec.completed = True

    def _reply_gemini(self, rec, body, reply, model, pt, ct):
        def chunk_obj(text, finish=None, usage=False):
            cand = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
            if finish:
                cand["finishReason"] = finish
            obj = {"candidates": [cand], "modelVersion": model}
            if usage and self.fake.usage:
                obj["usageMetadata"] = {"promptTokenCount": pt, "candidatesTokenCount": ct,
                                        "totalTokenCount": pt + ct}
            return obj

        if not rec.stream:
            return self._send_json(rec, 200, chunk_obj(reply, "STOP", usage=True))
        self._start_stream(rec, "text/event-stream")
        chunks = split_words(reply, self.fake.words_per_chunk)
        last = len(chunks) - 1

        def emit(i, c):
            obj = chunk_obj(c, "STOP" if i == last else None, usage=(i == last))
            self._write(f"data: {json.dumps(obj)}\r\n\r\n")

        if not self._stream_chunks(rec, chunks, emit):
            return
        if not chunks:
            self._write(f"data: {json.dumps(chunk_obj('', 'STOP', usage=True))}\r\n\r\n")
        rec.completed = True

    def _reply_tools(self, rec, body, reply, model):
        """The model asks for tool calls (each kind's documented shape)."""
        kind, text = self.fake.kind, reply.get("content") or ""
        calls = [{"id": c.get("id") or f"call_{i + 1}", "name": c["name"], "arguments": c.get("arguments") or {}}
                 for i, c in enumerate(reply["tool_calls"])]
        if kind == "openai":
            wire = [{"id": c["id"], "type": "function",
                     "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}} for c in calls]
            if not rec.stream:
                return self._send_json(rec, 200, {"id": "chatcmpl-fake", "object": "chat.completion", "model": model,
                                                   "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                                                       "role": "assistant", "content": text or None,
                                                       "tool_calls": wire}}]})
            self._start_stream(rec, "text/event-stream")

            def frame(delta, finish=None):
                return "data: " + json.dumps({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                                              "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

            self._write(frame({"role": "assistant", "content": text}))
            for i, w in enumerate(wire):  # name first, then the arguments in two pieces
                args = w["function"]["arguments"]
                self._write(frame({"tool_calls": [{"index": i, "id": w["id"], "type": "function",
                                                   "function": {"name": w["function"]["name"], "arguments": ""}}]}))
                for piece in (args[: len(args) // 2], args[len(args) // 2:]):
                    self._write(frame({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
            self._write(frame({}, "tool_calls"))
            self._write("data: [DONE]\n\n")
        elif kind == "ollama":
            msg = {"role": "assistant", "content": text,
                   "tool_calls": [{"function": {"name": c["name"], "arguments": c["arguments"]}} for c in calls]}
            final = {"model": model, "created_at": "2025-01-01T00:00:00Z", "message": msg, "done": True,
                     "done_reason": "stop"}
            if not rec.stream:
                return self._send_json(rec, 200, final)
            self._start_stream(rec, "application/x-ndjson")
            self._write(json.dumps({**final, "done": False}) + "\n")
            self._write(json.dumps({"model": model, "message": {"role": "assistant", "content": ""}, "done": True,
                                    "done_reason": "stop"}) + "\n")
        elif kind == "anthropic":
            blocks = ([{"type": "text", "text": text}] if text else []) + [
                {"type": "tool_use", "id": c["id"].replace("call_", "toolu_"), "name": c["name"], "input": c["arguments"]}
                for c in calls]
            if not rec.stream:
                return self._send_json(rec, 200, {"id": "msg_fake", "type": "message", "role": "assistant",
                                                   "model": model, "content": blocks, "stop_reason": "tool_use"})
            self._start_stream(rec, "text/event-stream")

            def event(name, obj):
                self._write(f"event: {name}\ndata: {json.dumps(obj)}\n\n")

            event("message_start", {"type": "message_start", "message": {"id": "msg_fake", "type": "message",
                                                                          "role": "assistant", "model": model,
                                                                          "content": [], "usage": {}}})
            for i, blk in enumerate(blocks):
                if blk["type"] == "text":
                    event("content_block_start", {"type": "content_block_start", "index": i,
                                                  "content_block": {"type": "text", "text": ""}})
                    event("content_block_delta", {"type": "content_block_delta", "index": i,
                                                  "delta": {"type": "text_delta", "text": blk["text"]}})
                else:
                    event("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                        "type": "tool_use", "id": blk["id"], "name": blk["name"], "input": {}}})
                    args = json.dumps(blk["input"])
                    for piece in (args[: len(args) // 2], args[len(args) // 2:]):
                        event("content_block_delta", {"type": "content_block_delta", "index": i,
                                                      "delta": {"type": "input_json_delta", "partial_json": piece}})
                event("content_block_stop", {"type": "content_block_stop", "index": i})
            event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}})
            event("message_stop", {"type": "message_stop"})
        elif kind == "gemini":
            parts = ([{"text": text}] if text else []) + [
                {"functionCall": {"name": c["name"], "args": c["arguments"]}} for c in calls]
            obj = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                   "modelVersion": model}
            if not rec.stream:
                return self._send_json(rec, 200, obj)
            self._start_stream(rec, "text/event-stream")
            self._write(f"data: {json.dumps(obj)}\r\n\r\n")
        else:
            return self._send_json(rec, 200, {"msg": text or "(this format has no tool calls)"})
        rec.completed = True

    def _reply_custom(self, rec, body, reply, model, pt, ct):
        session = body.get("sessionId") or self.fake._new_session()
        self._send_json(rec, 200, {"msg": reply, "sessionId": session, "model": model})

    # -- ollama management -------------------------------------------------------------------------
    def _ollama_tags(self, rec):
        models = [
            {"name": m, "model": m, "modified_at": "2025-01-01T00:00:00Z", "size": 2_019_393_189,
             "digest": "a80c4f17acd5", "details": {"family": "llama", "parameter_size": "3.2B",
                                                   "quantization_level": "Q4_K_M"}}
            for m in self.fake.models
        ]
        self._send_json(rec, 200, {"models": models})

    def _ollama_pull(self, rec):
        fake = self.fake
        body = rec.body if isinstance(rec.body, dict) else {}
        name = body.get("model") or body.get("name") or ""
        self._start_stream(rec, "application/x-ndjson")
        lines: list[dict] = [{"status": "pulling manifest"}]
        if fake.pull_error:
            lines.append({"error": fake.pull_error})
        else:
            total = 1_000_000
            steps = max(1, fake.pull_steps)
            for i in range(1, steps + 1):
                lines.append({"status": "pulling 6a0746a1ec1a", "digest": "sha256:6a0746a1ec1a",
                              "total": total, "completed": total * i // steps})
            lines += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"}, {"status": "success"}]

        self._stream_chunks(
            rec, [json.dumps(x) + "\n" for x in lines], lambda i, line: self._write(line),
            delay=fake.pull_delay, may_drop=False,
        )
        if not fake.pull_error:
            with fake._lock:
                if name and name not in fake.models:
                    fake.models.append(name)
        rec.completed = True

    def _ollama_delete(self, rec):
        body = rec.body if isinstance(rec.body, dict) else {}
        name = body.get("model") or body.get("name") or ""
        with self.fake._lock:
            present = name in self.fake.models
            if present:
                self.fake.models.remove(name)
        if not present:
            return self._send_json(rec, 404, {"error": f"model '{name}' not found"})
        rec.status = 200
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        rec.completed = True


# ------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a fake AI provider server for manual testing.")
    parser.add_argument("--kind", choices=KINDS, default="openai")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", action="append", default=None, help="reply text (repeat for several)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between streamed chunks")
    parser.add_argument("--words-per-chunk", type=int, default=1)
    parser.add_argument("--status", type=int, action="append", default=None, help="force a status first")
    parser.add_argument("--require-key", default=None)
    parser.add_argument("--model", action="append", default=None, help="known/installed model (repeat)")
    args = parser.parse_args(argv)
    srv = FakeProviderServer(
        args.kind, args.reply, chunk_delay=args.delay, words_per_chunk=args.words_per_chunk,
        statuses=args.status, require_key=args.require_key, models=args.model, host=args.host, port=args.port,
    )
    with srv:
        print(f"Fake {args.kind} server: api_url={srv.url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
