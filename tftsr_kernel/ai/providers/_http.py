"""What every wire format shares: :class:`Provider` (the HTTP client, the request loop with
retries and cancellation, streaming, and the typed errors whose messages never contain the key),
plus the server-sent-events reader and URL joining. A format module subclasses :class:`Provider`
and fills in ``_endpoint``, ``_headers``, ``_body``, ``_parse`` and ``_deltas``."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

import httpx

from tftsr_kernel.errors import (
    CancelledError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelError,
    ProviderResponseError,
    TftsrError,
)

from .._net import display_url, error_detail, is_loopback, one_line, scrub
from ._types import (
    ChatMessage,
    ChatResult,
    ConnectionResult,
    ProviderConfig,
    ToolCallRequest,
    _coerce_messages,
    estimate_tokens,
    merge_system,
)

CONNECT_TIMEOUT = 10.0


class _Retry(Exception):
    """Internal: the attempt failed in a way worth retrying (connection error or 5xx)."""

    def __init__(self, error: ProviderError):
        super().__init__(str(error))
        self.error = error


@dataclass
class _StreamState:
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish: str | None = None
    done: bool = False
    session_id: str | None = None
    #: streamed tool calls being assembled: index -> {"id", "name", "arguments": str | dict}
    tool_parts: dict | None = None


@dataclass
class _Parsed:
    content: str
    model: str | None = None
    finish: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    session_id: str | None = None
    tool_calls: list | None = None


def _tool_args(value) -> dict:
    """Tool-call arguments as a dict (the wire sends a JSON string or an object)."""
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {"_unparsed_arguments": str(value)[:4000]}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def _assemble_tools(parts: dict | None) -> list[ToolCallRequest]:
    out = []
    for i in sorted(parts or {}):
        p = parts[i]
        if p.get("name"):
            out.append(ToolCallRequest(p.get("id") or f"call_{i}", p["name"], _tool_args(p.get("arguments"))))
    return out


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class Provider:
    """One configured AI provider. Thread-safe; call :meth:`close` (or use ``with``) when done."""

    kind = "base"
    display_name = "the AI provider"
    supports_streaming = True
    #: the format can declare tools and return tool calls
    supports_tools = False
    #: first retry waits this long, then doubles (capped at 2 s)
    retry_backoff = 0.25

    def __init__(self, config: ProviderConfig, *, transport: httpx.BaseTransport | None = None):
        config.validate()
        self.config = config
        self._transport = transport
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    # -- plumbing -----------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    @property
    def http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                timeout = httpx.Timeout(
                    float(self.config.timeout), connect=min(CONNECT_TIMEOUT, float(self.config.timeout))
                )
                self._client = httpx.Client(
                    transport=self._transport,
                    timeout=timeout,
                    # a local model server must never be reached through a corporate proxy
                    trust_env=not is_loopback(self.config.base_url),
                    follow_redirects=False,
                )
            return self._client

    @property
    def label(self) -> str:
        return (self.config.name or "").strip() or self.display_name

    @property
    def server_label(self) -> str:
        """The name used in "could not connect" messages."""
        return self.label

    def _secrets(self) -> list[str | None]:
        key = self.config.api_key
        out = [key]
        if key:
            prefix = self.config.custom_auth_prefix
            if prefix:
                out.append(prefix + key)
        return out

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets())

    # -- per-format hooks ---------------------------------------------------------------------
    def _endpoint(self, stream: bool) -> str:
        raise NotImplementedError

    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Accept": "application/json"}

    def _configured_auth_headers(self) -> dict[str, str]:
        """The API key in the configured header (default ``Authorization: Bearer KEY``), or none."""
        if not self.config.api_key:
            return {}
        name = (self.config.custom_auth_header or "").strip() or "Authorization"
        prefix = self.config.custom_auth_prefix if self.config.custom_auth_prefix is not None else "Bearer "
        return {name: f"{prefix}{self.config.api_key}"}

    def _body(self, system: str | None, turns: list[ChatMessage], *, stream: bool, max_tokens: int) -> dict:
        raise NotImplementedError

    def _parse(self, data: Any) -> _Parsed:
        raise NotImplementedError

    def _deltas(self, response: httpx.Response, state: _StreamState) -> Iterator[str]:
        """Yield text pieces in order; yield "" for events without text (so cancel is checked)."""
        raise NotImplementedError

    def _is_auth_failure(self, status: int, detail: str) -> bool:
        return status in (401, 403)

    def _model_hint(self) -> str:
        return f"check the model name and the endpoint URL ({display_url(self._endpoint(False))})"

    # -- errors -------------------------------------------------------------------------------
    def _status_error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        try:
            body = response.text
        except Exception:
            body = ""
        detail = one_line(self._scrub(error_detail(body[:4000])), 200)
        if self._is_auth_failure(status, detail):
            if not self.config.api_key:
                return ProviderAuthError(
                    f"{self.label} requires an API key (HTTP {status}) and none is configured — "
                    "add the key in the provider settings."
                )
            return ProviderAuthError(
                f"The API key was rejected by {self.label} (HTTP {status}) — check or replace the key "
                "in the provider settings."
            )
        if status == 404:
            return ProviderModelError(
                f"{self.label} does not know the model '{self.config.model}' (HTTP 404) — "
                f"{self._model_hint()}."
            )
        if status == 429:
            return ProviderResponseError(
                f"{self.label} is rate-limiting requests (HTTP 429) — wait a moment and try again"
                + (f": {detail}" if detail else ".")
            )
        kind = "server error" if status >= 500 else "error"
        return ProviderResponseError(
            f"{self.label} returned HTTP {status} ({kind})" + (f": {detail}" if detail else ".")
        )

    def _transport_error(self, exc: httpx.HTTPError, *, mid_reply: bool) -> ProviderError:
        url = display_url(self.config.base_url)
        who = self.server_label
        if isinstance(exc, httpx.ConnectTimeout):
            err = ProviderConnectionError(
                f"Timed out connecting to {who} at {url} — check the URL, the network and any proxy."
            )
        elif isinstance(exc, httpx.ConnectError):
            err = ProviderConnectionError(self._connect_message(exc))
        elif isinstance(exc, httpx.TimeoutException):
            err = ProviderConnectionError(
                f"{who} at {url} did not answer within {self.config.timeout:g} s — the model may still be "
                "loading or the server is overloaded; try again or raise the timeout."
            )
        elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            where = "in the middle of the reply" if mid_reply else "before answering"
            err = ProviderConnectionError(
                f"The connection to {who} at {url} was closed {where} — try again."
            )
        else:
            err = ProviderConnectionError(
                f"Could not talk to {who} at {url}: {one_line(self._scrub(str(exc)) or type(exc).__name__, 120)}"
            )
        err.__cause__ = exc
        return err

    def _connect_message(self, exc: Exception) -> str:
        url = display_url(self.config.base_url)
        reason = str(exc).lower()
        if is_loopback(self.config.base_url):
            hint = "is the server running?"
        elif "name or service" in reason or "nodename" in reason or "getaddrinfo" in reason or "resolve" in reason:
            hint = "the host name could not be resolved; check the URL and DNS."
        elif "ssl" in reason or "certificate" in reason or "tls" in reason:
            hint = "the TLS handshake failed; check the URL and the server certificate."
        else:
            hint = "check the URL, the network and any proxy settings."
        return f"Could not connect to {self.server_label} at {url} — {hint}"

    @staticmethod
    def _retryable_transport(exc: httpx.HTTPError) -> bool:
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return True
        # the server dropped the connection before sending anything (restart, idle reset)
        return isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))

    def _cancelled(self, partial: str) -> CancelledError:
        err = CancelledError(f"The request to {self.label} was cancelled.")
        err.partial = partial
        return err

    # -- public API ---------------------------------------------------------------------------
    def chat(
        self,
        messages: Sequence[ChatMessage | Mapping[str, Any]],
        *,
        stream: bool = True,
        on_chunk: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> ChatResult:
        """Send the conversation and return the reply.

        With ``stream=True`` (and a provider that streams) each text piece is passed to
        ``on_chunk`` as it arrives; otherwise ``on_chunk`` gets the whole reply once. When
        ``cancel`` is set the response is closed and :class:`CancelledError` is raised; its
        ``partial`` attribute holds the text received so far. ``tools`` (``{name, description,
        parameters}`` each, formats with ``supports_tools``) are declared to the model; the calls
        it asks for come back in :attr:`ChatResult.tool_calls`.
        """
        msgs = _coerce_messages(messages)
        return self._chat(msgs, stream=stream, on_chunk=on_chunk, cancel=cancel, max_tokens=self.config.max_tokens,
                          tools=list(tools) if tools and self.supports_tools else None)

    def test_connection(self) -> ConnectionResult:
        """Send one tiny request; never raises for provider problems."""
        started = time.monotonic()
        try:
            result = self._chat(
                [ChatMessage("user", "Connection test: reply with the single word OK.")],
                stream=False,
                on_chunk=None,
                cancel=None,
                max_tokens=min(self.config.max_tokens, 32),
            )
        except TftsrError as exc:
            return ConnectionResult(False, str(exc))
        ms = (time.monotonic() - started) * 1000
        return ConnectionResult(
            True, f"Connected to {self.label} (model {result.model or self.config.model}) in {ms:.0f} ms.", ms
        )

    # -- the request loop ---------------------------------------------------------------------
    def _chat(self, msgs, *, stream, on_chunk, cancel, max_tokens, tools=None) -> ChatResult:
        if cancel is not None and cancel.is_set():
            raise self._cancelled("")
        system, turns = merge_system(msgs)
        streaming = bool(stream) and self.supports_streaming
        body = self._body(system, turns, stream=streaming, max_tokens=max_tokens, **({"tools": tools} if tools else {}))
        url = self._endpoint(streaming)
        headers = self._headers()
        prompt_chars = sum(len(m.content) for m in msgs)
        if streaming:
            attempt = lambda: self._attempt_stream(url, headers, body, on_chunk, cancel, prompt_chars)  # noqa: E731
        else:
            attempt = lambda: self._attempt_once(url, headers, body, cancel, prompt_chars)  # noqa: E731
        result = self._with_retries(attempt, cancel)
        if not streaming and on_chunk is not None and result.content:
            if cancel is not None and cancel.is_set():
                raise self._cancelled("")
            on_chunk(result.content)
        return result

    def _with_retries(self, attempt: Callable[[], ChatResult], cancel: threading.Event | None) -> ChatResult:
        tries = max(0, int(self.config.max_retries)) + 1
        for i in range(tries):
            try:
                return attempt()
            except _Retry as retry:
                if i == tries - 1:
                    err = retry.error
                    raise err from err.__cause__
                delay = min(self.retry_backoff * (2**i), 2.0)
                if cancel is not None:
                    if cancel.wait(delay):
                        raise self._cancelled("") from None
                else:
                    time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _result(self, parsed: _Parsed, prompt_chars: int) -> ChatResult:
        estimated = parsed.prompt_tokens is None or parsed.completion_tokens is None
        prompt = parsed.prompt_tokens if parsed.prompt_tokens is not None else math.ceil(prompt_chars / 4)
        completion = (
            parsed.completion_tokens if parsed.completion_tokens is not None else estimate_tokens(parsed.content)
        )
        return ChatResult(
            content=parsed.content,
            prompt_tokens=int(prompt),
            completion_tokens=int(completion),
            model=parsed.model or self.config.model,
            raw_finish_reason=parsed.finish,
            tokens_estimated=estimated,
            session_id=parsed.session_id,
            tool_calls=list(parsed.tool_calls or []),
        )

    def _attempt_once(self, url, headers, body, cancel, prompt_chars) -> ChatResult:
        try:
            response = self.http.post(url, headers=headers, json=body)
        except httpx.HTTPError as exc:
            err = self._transport_error(exc, mid_reply=False)
            if self._retryable_transport(exc):
                raise _Retry(err) from None
            raise err from exc
        if cancel is not None and cancel.is_set():
            raise self._cancelled("")
        if response.status_code >= 400:
            err = self._status_error(response)
            if response.status_code >= 500:
                raise _Retry(err)
            raise err from None
        try:
            data = response.json()
        except ValueError:
            excerpt = one_line(self._scrub(response.text), 120)
            raise ProviderResponseError(
                f"{self.label} answered with something that is not JSON: {excerpt!r} — check the API URL "
                "and the API format."
            ) from None
        try:
            parsed = self._parse(data)
        except ProviderError:
            raise
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ProviderResponseError(
                f"{self.label} answered in an unexpected shape — check that the provider type and API format "
                f"match the server: {one_line(self._scrub(json.dumps(data)[:400]), 160)}"
            ) from None
        return self._result(parsed, prompt_chars)

    def _attempt_stream(self, url, headers, body, on_chunk, cancel, prompt_chars) -> ChatResult:
        parts: list[str] = []
        state = _StreamState()
        try:
            with self.http.stream("POST", url, headers=headers, json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    err = self._status_error(response)
                    if response.status_code >= 500:
                        raise _Retry(err)
                    raise err
                for piece in self._deltas(response, state):
                    if cancel is not None and cancel.is_set():
                        raise self._cancelled("".join(parts))
                    if piece:
                        parts.append(piece)
                        if on_chunk is not None:
                            on_chunk(piece)
                    if state.done:
                        break
        except httpx.HTTPError as exc:
            err = self._transport_error(exc, mid_reply=bool(parts))
            err.partial = "".join(parts)
            if not parts and self._retryable_transport(exc):
                raise _Retry(err) from None
            raise err from exc
        except ProviderError as err:
            if parts and not hasattr(err, "partial"):
                err.partial = "".join(parts)
            raise
        content = "".join(parts)
        tool_calls = _assemble_tools(state.tool_parts)
        if not state.done and state.finish is None:
            # a close-delimited stream that stops without its final event was cut short
            err = ProviderConnectionError(
                f"The connection to {self.server_label} at {display_url(self.config.base_url)} ended before "
                "the reply was complete — try again."
            )
            err.partial = content
            if not parts:
                raise _Retry(err)
            raise err
        return self._result(
            _Parsed(content, state.model, state.finish, state.prompt_tokens, state.completion_tokens, state.session_id,
                    tool_calls),
            prompt_chars,
        )

    # -- stream helpers -----------------------------------------------------------------------
    def _json_line(self, text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            raise ProviderResponseError(
                f"{self.label} sent a stream line that is not JSON: {one_line(self._scrub(text), 120)!r} — "
                "check the API URL and the API format."
            ) from None

    def _stream_error(self, detail: str) -> ProviderResponseError:
        return ProviderResponseError(
            f"{self.label} reported an error during the reply: {one_line(self._scrub(detail), 200)}"
        )


def _sse_events(response: httpx.Response) -> Iterator[tuple[str | None, str | None]]:
    """Server-sent events as (event, data). Comment lines yield (None, None) as a heartbeat."""
    event: str | None = None
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = None, []
            continue
        if line.startswith(":"):
            yield None, None
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


def _join_path(base: str, path: str | None, default: str) -> str:
    if path is None or not path.strip():
        path = default
    path = path.strip()
    if not path:
        return base
    if not path.startswith(("/", "?")):
        path = "/" + path
    return base + path
