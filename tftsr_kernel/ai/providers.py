"""AI provider clients: OpenAI-compatible, Ollama, Anthropic, Gemini and Custom REST.

Pure: a :class:`ProviderConfig` and a list of :class:`ChatMessage` go in, text (streamed
through ``on_chunk``) and a :class:`ChatResult` come out. No database, no redaction: callers
redact before calling :meth:`Provider.chat`.

Every failure is a typed error from :mod:`tftsr_kernel.errors` whose message says what to do
and never contains the API key, the Authorization header value or unscrubbed response text.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import httpx

from tftsr_kernel.errors import (
    CancelledError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelError,
    ProviderResponseError,
    TftsrError,
    ValidationError,
)

from ._net import display_url, error_detail, is_loopback, one_line, scrub

__all__ = [
    "PROVIDER_TYPES",
    "DEFAULT_API_URLS",
    "ProviderConfig",
    "ChatMessage",
    "ChatResult",
    "ConnectionResult",
    "Provider",
    "OpenAIProvider",
    "OllamaProvider",
    "AnthropicProvider",
    "GeminiProvider",
    "CustomRestProvider",
    "make_provider",
    "merge_system",
    "render_history_prompt",
    "estimate_tokens",
]

PROVIDER_TYPES = ("openai", "ollama", "anthropic", "gemini", "custom")

#: other names accepted for ``provider_type`` (all OpenAI-compatible unless noted)
TYPE_ALIASES = {
    "azure": "openai",
    "azure_openai": "openai",
    "mistral": "openai",
    "lmstudio": "openai",
    "lm_studio": "openai",
    "vllm": "openai",
    "litellm": "openai",
    "openai_compatible": "openai",
    "custom_rest": "custom",
}

#: ``api_format`` values that make a ``custom`` provider speak the OpenAI format
OPENAI_FORMATS = {"openai", "openai_compatible", "openai-compatible", "openai compatible"}

DEFAULT_API_URLS = {
    "openai": "https://api.openai.com/v1",
    "ollama": "http://localhost:11434",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}

CONNECT_TIMEOUT = 10.0
SYSTEM_SEPARATOR = "\n\n---\n\n"
ROLES = ("system", "user", "assistant")
ANTHROPIC_VERSION = "2023-06-01"
#: how much rendered history the Custom REST format sends in its ``prompt``
HISTORY_CHAR_BUDGET = 60_000


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
@dataclass(repr=False)
class ProviderConfig:
    """How to reach one AI provider. ``repr``/``str``/:meth:`to_dict` never show the key.

    Do not pass this to :func:`dataclasses.asdict` for display; use :meth:`to_dict`.
    """

    name: str
    provider_type: str
    api_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    max_tokens: int = 4096
    temperature: float = 0.7
    custom_endpoint_path: str | None = None
    custom_auth_header: str | None = None
    custom_auth_prefix: str | None = None
    api_format: str | None = None
    timeout: float = 60.0
    max_retries: int = 2

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)

    @property
    def kind(self) -> str:
        """The wire format actually spoken: one of :data:`PROVIDER_TYPES`."""
        ptype = (self.provider_type or "").strip().lower()
        ptype = TYPE_ALIASES.get(ptype, ptype)
        if ptype == "custom" and (self.api_format or "").strip().lower() in OPENAI_FORMATS:
            return "openai"
        return ptype

    @property
    def base_url(self) -> str:
        url = (self.api_url or "").strip() or DEFAULT_API_URLS.get(self.kind, "")
        return url.rstrip("/")

    def to_dict(self) -> dict[str, Any]:
        """All fields, JSON-ready, with the key replaced by ``"***"`` (or None when unset)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["api_key"] = "***" if self.api_key else None
        return data

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "api_key":
                value = "***" if value else None
            elif f.name == "api_url" and value:
                value = display_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"ProviderConfig({', '.join(shown)})"

    __str__ = __repr__

    def validate(self) -> None:
        """Raise :class:`ValidationError` naming the first bad field."""
        if not (self.name or "").strip():
            raise ValidationError("The provider needs a name.")
        if self.kind not in PROVIDER_TYPES:
            raise ValidationError(
                f"Unknown provider type {self.provider_type!r}; use one of {', '.join(PROVIDER_TYPES)}."
            )
        if not (self.model or "").strip():
            raise ValidationError(f"Provider {self.name!r} needs a model name.")
        url = self.base_url
        if not url:
            raise ValidationError(f"Provider {self.name!r} needs an API URL.")
        if not (url.startswith("http://") or url.startswith("https://")):
            raise ValidationError(
                f"The API URL of provider {self.name!r} must start with http:// or https://."
            )
        try:
            httpx.URL(url)
        except Exception:
            raise ValidationError(f"The API URL of provider {self.name!r} is not a valid URL.") from None
        if not isinstance(self.max_tokens, int) or not 1 <= self.max_tokens <= 1_000_000:
            raise ValidationError("max_tokens must be a whole number from 1 to 1000000.")
        if not isinstance(self.temperature, (int, float)) or not 0.0 <= float(self.temperature) <= 2.0:
            raise ValidationError("temperature must be between 0 and 2.")
        if not isinstance(self.timeout, (int, float)) or self.timeout <= 0:
            raise ValidationError("timeout must be a positive number of seconds.")
        if not isinstance(self.max_retries, int) or not 0 <= self.max_retries <= 10:
            raise ValidationError("max_retries must be a whole number from 0 to 10.")
        header = self.custom_auth_header
        if header is not None and header.strip() and not _valid_header_name(header.strip()):
            raise ValidationError(f"{header!r} is not a valid HTTP header name.")


def _valid_header_name(name: str) -> bool:
    allowed = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return bool(name) and all(c in allowed for c in name)


@dataclass
class ChatMessage:
    role: str
    content: str


@dataclass
class ChatResult:
    content: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    raw_finish_reason: str | None
    #: True when the provider gave no usage and the counts are len/4 estimates
    tokens_estimated: bool = False
    #: Custom REST only: the gateway's session id (send it back to continue the session)
    session_id: str | None = None


@dataclass
class ConnectionResult:
    success: bool
    message: str
    latency_ms: float | None = None


def estimate_tokens(text: str) -> int:
    """Rough token count: one token per four characters."""
    return math.ceil(len(text) / 4) if text else 0


def _coerce_messages(messages: Iterable[ChatMessage | Mapping[str, Any]]) -> list[ChatMessage]:
    out: list[ChatMessage] = []
    for m in messages:
        if isinstance(m, ChatMessage):
            role, content = m.role, m.content
        elif isinstance(m, Mapping):
            role, content = m.get("role"), m.get("content")
        else:
            raise ValidationError("Each message must be a ChatMessage or a {role, content} mapping.")
        role = (role or "").strip().lower()
        if role not in ROLES:
            raise ValidationError(f"Message role {role!r} is not one of {', '.join(ROLES)}.")
        out.append(ChatMessage(role, "" if content is None else str(content)))
    if not any(m.role != "system" for m in out):
        raise ValidationError("There is no user message to send.")
    return out


def merge_system(messages: Sequence[ChatMessage]) -> tuple[str | None, list[ChatMessage]]:
    """All system messages, wherever they are, merged into one text; and the other turns."""
    system_parts = [m.content.strip() for m in messages if m.role == "system" and m.content.strip()]
    rest = [m for m in messages if m.role != "system"]
    return (SYSTEM_SEPARATOR.join(system_parts) if system_parts else None), rest


def _alternate(turns: Sequence[ChatMessage], *, first_user_placeholder: str) -> list[ChatMessage]:
    """Merge consecutive same-role turns and make the conversation start with the user."""
    merged: list[ChatMessage] = []
    for m in turns:
        if merged and merged[-1].role == m.role:
            merged[-1] = ChatMessage(m.role, merged[-1].content + "\n\n" + m.content)
        else:
            merged.append(ChatMessage(m.role, m.content))
    if merged and merged[0].role != "user":
        merged.insert(0, ChatMessage("user", first_user_placeholder))
    return merged


def render_history_prompt(turns: Sequence[ChatMessage], budget_chars: int = HISTORY_CHAR_BUDGET) -> str:
    """Render a conversation (no system messages) as one prompt text, oldest turns first.

    Used by formats that take a single ``prompt`` string. The latest user message comes last,
    under its own heading; the oldest turns are dropped (and counted) to fit ``budget_chars``.
    """
    turns = [m for m in turns if m.role != "system"]
    if not turns:
        return ""
    if len(turns) == 1 and turns[0].role == "user":
        return turns[0].content
    if turns[-1].role == "user":
        history, current = list(turns[:-1]), turns[-1]
    else:
        history, current = list(turns), None

    def block(m: ChatMessage) -> str:
        return f"{'User' if m.role == 'user' else 'Assistant'}: {m.content.strip()}"

    tail = f"\n\nCurrent message from the user:\n{current.content}" if current else ""
    blocks = [block(m) for m in history]
    dropped = 0
    head = "Conversation so far (oldest first):\n\n"

    def note(n: int) -> str:
        return f"[{n} earlier message{'s' if n != 1 else ''} omitted to fit the size limit]\n\n" if n else ""

    while blocks and len(head) + len(note(dropped)) + sum(len(b) + 2 for b in blocks) + len(tail) > budget_chars:
        blocks.pop(0)
        dropped += 1
    head += note(dropped)
    if not blocks:
        return (head.rstrip() + tail) if dropped else (current.content if current else "")
    return head + "\n\n".join(blocks) + tail


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


@dataclass
class _Parsed:
    content: str
    model: str | None = None
    finish: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    session_id: str | None = None


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# base provider
# --------------------------------------------------------------------------------------------
class Provider:
    """One configured AI provider. Thread-safe; call :meth:`close` (or use ``with``) when done."""

    kind = "base"
    display_name = "the AI provider"
    supports_streaming = True
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
    ) -> ChatResult:
        """Send the conversation and return the reply.

        With ``stream=True`` (and a provider that streams) each text piece is passed to
        ``on_chunk`` as it arrives; otherwise ``on_chunk`` gets the whole reply once. When
        ``cancel`` is set the response is closed and :class:`CancelledError` is raised; its
        ``partial`` attribute holds the text received so far.
        """
        msgs = _coerce_messages(messages)
        return self._chat(msgs, stream=stream, on_chunk=on_chunk, cancel=cancel, max_tokens=self.config.max_tokens)

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
    def _chat(self, msgs, *, stream, on_chunk, cancel, max_tokens) -> ChatResult:
        if cancel is not None and cancel.is_set():
            raise self._cancelled("")
        system, turns = merge_system(msgs)
        streaming = bool(stream) and self.supports_streaming
        body = self._body(system, turns, stream=streaming, max_tokens=max_tokens)
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
            _Parsed(content, state.model, state.finish, state.prompt_tokens, state.completion_tokens, state.session_id),
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


# --------------------------------------------------------------------------------------------
# OpenAI-compatible (OpenAI, Azure OpenAI, Mistral, LM Studio, vLLM, LiteLLM…)
# --------------------------------------------------------------------------------------------
class OpenAIProvider(Provider):
    kind = "openai"
    display_name = "OpenAI-compatible API"

    def _endpoint(self, stream: bool) -> str:
        base = self.config.base_url
        if not (self.config.custom_endpoint_path or "").strip() and base.endswith("/chat/completions"):
            return base
        return _join_path(base, self.config.custom_endpoint_path, "/chat/completions")

    def _headers(self) -> dict[str, str]:
        headers = super()._headers()
        if self.config.api_key:
            name = (self.config.custom_auth_header or "").strip() or "Authorization"
            prefix = self.config.custom_auth_prefix if self.config.custom_auth_prefix is not None else "Bearer "
            headers[name] = f"{prefix}{self.config.api_key}"
        return headers

    def _body(self, system, turns, *, stream, max_tokens):
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": m.role, "content": m.content} for m in turns
        ]
        body: dict[str, Any] = {
            "model": self.config.model.strip(),
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": float(self.config.temperature),
            "stream": bool(stream),
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def _parse(self, data) -> _Parsed:
        if isinstance(data, dict) and data.get("error"):
            raise self._stream_error(error_detail(json.dumps(data)))
        choice = (data.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        content = message.get("content")
        if isinstance(content, list):  # some gateways return content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        usage = data.get("usage") or {}
        return _Parsed(
            content=content or "",
            model=data.get("model"),
            finish=choice.get("finish_reason"),
            prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
            completion_tokens=_int_or_none(usage.get("completion_tokens")),
        )

    def _deltas(self, response, state):
        for _event, data in _sse_events(response):
            if data is None:
                yield ""
                continue
            if data.strip() == "[DONE]":
                state.done = True
                yield ""
                return
            obj = self._json_line(data)
            if not isinstance(obj, dict):
                continue
            if obj.get("error"):
                raise self._stream_error(error_detail(data))
            state.model = obj.get("model") or state.model
            usage = obj.get("usage")
            if isinstance(usage, dict):
                state.prompt_tokens = _int_or_none(usage.get("prompt_tokens"))
                state.completion_tokens = _int_or_none(usage.get("completion_tokens"))
            for choice in obj.get("choices") or []:
                if choice.get("index", 0) != 0:
                    continue
                if choice.get("finish_reason"):
                    state.finish = choice["finish_reason"]
                text = (choice.get("delta") or {}).get("content")
                if text:
                    yield text
            yield ""


# --------------------------------------------------------------------------------------------
# Ollama
# --------------------------------------------------------------------------------------------
def ollama_base(url: str) -> str:
    base = (url or "").strip().rstrip("/") or DEFAULT_API_URLS["ollama"]
    for suffix in ("/api/chat", "/api"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base


class OllamaProvider(Provider):
    kind = "ollama"
    display_name = "Ollama"
    #: Ollama's default context window silently truncates long prompts; ask for more when needed
    context_steps = (8192, 16384, 32768)

    @property
    def server_label(self) -> str:
        return "Ollama"

    def _connect_message(self, exc):
        return f"Could not connect to Ollama at {display_url(ollama_base(self.config.base_url))} — is Ollama running?"

    def _model_hint(self) -> str:
        return f"pull it with `ollama pull {self.config.model.strip()}` or choose an installed model"

    def _endpoint(self, stream):
        return ollama_base(self.config.base_url) + "/api/chat"

    def _headers(self):
        headers = super()._headers()
        if self.config.api_key:  # Ollama behind an authenticating proxy
            name = (self.config.custom_auth_header or "").strip() or "Authorization"
            prefix = self.config.custom_auth_prefix if self.config.custom_auth_prefix is not None else "Bearer "
            headers[name] = f"{prefix}{self.config.api_key}"
        return headers

    def _body(self, system, turns, *, stream, max_tokens):
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": m.role, "content": m.content} for m in turns
        ]
        options: dict[str, Any] = {"temperature": float(self.config.temperature), "num_predict": max_tokens}
        need = math.ceil(sum(len(m["content"]) for m in messages) / 3.5) + max_tokens
        if need > 4096:
            options["num_ctx"] = next((n for n in self.context_steps if n >= need), self.context_steps[-1])
        return {"model": self.config.model.strip(), "messages": messages, "stream": bool(stream), "options": options}

    def _parse(self, data):
        if isinstance(data, dict) and data.get("error"):
            raise self._stream_error(str(data["error"]))
        return _Parsed(
            content=(data.get("message") or {}).get("content") or "",
            model=data.get("model"),
            finish=data.get("done_reason") or ("stop" if data.get("done") else None),
            prompt_tokens=_int_or_none(data.get("prompt_eval_count")),
            completion_tokens=_int_or_none(data.get("eval_count")),
        )

    def _deltas(self, response, state):
        for line in response.iter_lines():
            if not line.strip():
                yield ""
                continue
            obj = self._json_line(line)
            if not isinstance(obj, dict):
                continue
            if obj.get("error"):
                raise self._stream_error(str(obj["error"]))
            state.model = obj.get("model") or state.model
            text = (obj.get("message") or {}).get("content")
            if text:
                yield text
            if obj.get("done"):
                state.finish = obj.get("done_reason") or "stop"
                state.prompt_tokens = _int_or_none(obj.get("prompt_eval_count"))
                state.completion_tokens = _int_or_none(obj.get("eval_count"))
                state.done = True
            yield ""

    def test_connection(self) -> ConnectionResult:
        """Ask Ollama for its installed models and check the configured one is there."""
        started = time.monotonic()
        base = ollama_base(self.config.base_url)
        try:
            response = self.http.get(base + "/api/tags", headers=self._headers(), timeout=httpx.Timeout(5.0))
        except httpx.HTTPError as exc:
            return ConnectionResult(False, str(self._transport_error(exc, mid_reply=False)))
        if response.status_code >= 400:
            return ConnectionResult(False, str(self._status_error(response)))
        try:
            names = [m.get("name") or m.get("model") for m in (response.json().get("models") or [])]
        except (ValueError, AttributeError):
            return ConnectionResult(False, f"{display_url(base)} answered, but not like Ollama — check the URL.")
        wanted = self.config.model.strip()
        candidates = {wanted, wanted + ":latest"} if ":" not in wanted else {wanted}
        ms = (time.monotonic() - started) * 1000
        if not candidates.intersection(n for n in names if n):
            return ConnectionResult(
                False,
                f"Ollama is running at {display_url(base)}, but the model '{wanted}' is not installed — "
                f"pull it with `ollama pull {wanted}` or choose one of: {', '.join(n for n in names if n) or 'none installed'}.",
                ms,
            )
        return ConnectionResult(True, f"Ollama is running at {display_url(base)} and has the model '{wanted}'.", ms)


# --------------------------------------------------------------------------------------------
# Anthropic
# --------------------------------------------------------------------------------------------
class AnthropicProvider(Provider):
    kind = "anthropic"
    display_name = "Anthropic"

    def _endpoint(self, stream):
        base = self.config.base_url
        if (self.config.custom_endpoint_path or "").strip():
            return _join_path(base, self.config.custom_endpoint_path, "")
        if base.endswith("/v1/messages"):
            return base
        if base.endswith("/v1"):
            return base + "/messages"
        return base + "/v1/messages"

    def _headers(self):
        headers = super()._headers()
        headers["anthropic-version"] = ANTHROPIC_VERSION
        if self.config.api_key:
            headers["x-api-key"] = self.config.api_key
        return headers

    def _body(self, system, turns, *, stream, max_tokens):
        turns = _alternate(turns, first_user_placeholder="(The conversation so far follows.)")
        body: dict[str, Any] = {
            "model": self.config.model.strip(),
            "max_tokens": max_tokens,
            "temperature": min(max(float(self.config.temperature), 0.0), 1.0),
            "messages": [{"role": m.role, "content": m.content} for m in turns],
            "stream": bool(stream),
        }
        if system:
            body["system"] = system
        return body

    def _parse(self, data):
        if isinstance(data, dict) and data.get("type") == "error":
            raise self._stream_error(error_detail(json.dumps(data)))
        text = "".join(
            block.get("text", "") for block in (data.get("content") or []) if block.get("type") == "text"
        )
        usage = data.get("usage") or {}
        return _Parsed(
            content=text,
            model=data.get("model"),
            finish=data.get("stop_reason"),
            prompt_tokens=_int_or_none(usage.get("input_tokens")),
            completion_tokens=_int_or_none(usage.get("output_tokens")),
        )

    def _deltas(self, response, state):
        for event, data in _sse_events(response):
            if data is None:
                yield ""
                continue
            obj = self._json_line(data)
            if not isinstance(obj, dict):
                continue
            kind = obj.get("type") or event
            if kind == "error":
                raise self._stream_error(error_detail(data))
            if kind == "message_start":
                message = obj.get("message") or {}
                state.model = message.get("model") or state.model
                usage = message.get("usage") or {}
                state.prompt_tokens = _int_or_none(usage.get("input_tokens"))
                state.completion_tokens = _int_or_none(usage.get("output_tokens"))
            elif kind == "content_block_delta":
                delta = obj.get("delta") or {}
                if delta.get("type", "text_delta") == "text_delta" and delta.get("text"):
                    yield delta["text"]
            elif kind == "message_delta":
                state.finish = (obj.get("delta") or {}).get("stop_reason") or state.finish
                usage = obj.get("usage") or {}
                if usage.get("output_tokens") is not None:
                    state.completion_tokens = _int_or_none(usage.get("output_tokens"))
                if usage.get("input_tokens") is not None:
                    state.prompt_tokens = _int_or_none(usage.get("input_tokens"))
            elif kind == "message_stop":
                state.done = True
            yield ""


# --------------------------------------------------------------------------------------------
# Google Gemini
# --------------------------------------------------------------------------------------------
class GeminiProvider(Provider):
    kind = "gemini"
    display_name = "Gemini"

    def _root(self) -> str:
        base = self.config.base_url
        for version in ("/v1beta", "/v1", "/v1alpha"):
            if base.endswith(version):
                return base
        return base + "/v1beta"

    def _model_path(self) -> str:
        model = self.config.model.strip()
        return model[len("models/"):] if model.startswith("models/") else model

    def _endpoint(self, stream):
        model = self._model_path()
        if stream:
            return f"{self._root()}/models/{model}:streamGenerateContent?alt=sse"
        return f"{self._root()}/models/{model}:generateContent"

    def _headers(self):
        headers = super()._headers()
        if self.config.api_key:
            headers["x-goog-api-key"] = self.config.api_key
        return headers

    def _is_auth_failure(self, status, detail):
        low = detail.lower()
        return status in (401, 403) or (status == 400 and ("api key" in low or "api_key" in low))

    def _body(self, system, turns, *, stream, max_tokens):
        turns = _alternate(turns, first_user_placeholder="(The conversation so far follows.)")
        body: dict[str, Any] = {
            "contents": [
                {"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}
                for m in turns
            ],
            "generationConfig": {"temperature": float(self.config.temperature), "maxOutputTokens": max_tokens},
        }
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        return body

    def _absorb(self, obj: dict, state: _StreamState) -> str:
        if obj.get("error"):
            raise self._stream_error(error_detail(json.dumps(obj)))
        state.model = obj.get("modelVersion") or state.model
        usage = obj.get("usageMetadata") or {}
        if usage.get("promptTokenCount") is not None:
            state.prompt_tokens = _int_or_none(usage.get("promptTokenCount"))
        if usage.get("candidatesTokenCount") is not None:
            state.completion_tokens = _int_or_none(usage.get("candidatesTokenCount"))
        candidates = obj.get("candidates") or []
        if not candidates:
            blocked = (obj.get("promptFeedback") or {}).get("blockReason")
            if blocked:
                raise ProviderResponseError(
                    f"{self.label} refused the prompt (block reason {blocked}) — rephrase the message or "
                    "remove the content it objects to."
                )
            return ""
        cand = candidates[0]
        if cand.get("finishReason"):
            state.finish = cand["finishReason"]
        parts = (cand.get("content") or {}).get("parts") or []
        return "".join(p.get("text", "") for p in parts if isinstance(p, dict) and not p.get("thought"))

    def _parse(self, data):
        state = _StreamState()
        text = self._absorb(data, state)
        return _Parsed(text, state.model, state.finish, state.prompt_tokens, state.completion_tokens)

    def _deltas(self, response, state):
        for _event, data in _sse_events(response):
            if data is None:
                yield ""
                continue
            obj = self._json_line(data)
            if isinstance(obj, dict):
                text = self._absorb(obj, state)
                if text:
                    yield text
            yield ""


# --------------------------------------------------------------------------------------------
# Custom REST ("GenAI gateway") — one request, one ``msg``
# --------------------------------------------------------------------------------------------
class CustomRestProvider(Provider):
    """The reference's "Custom REST" format, but the conversation history *is* sent.

    Body: ``{model, prompt, system, sessionId?, modelConfig{temperature, max_tokens}}``; reply
    ``{msg, sessionId?}``. Prior turns are rendered into ``prompt``. The gateway's session id
    is remembered on the instance (``session_id``) and returned on :class:`ChatResult`.
    """

    kind = "custom"
    display_name = "Custom REST API"
    supports_streaming = False

    def __init__(self, config, *, transport=None, session_id: str | None = None):
        super().__init__(config, transport=transport)
        self.session_id = session_id

    def _endpoint(self, stream):
        return _join_path(self.config.base_url, self.config.custom_endpoint_path, "")

    def test_connection(self) -> ConnectionResult:
        # a connection test must not join, start or replace the conversation's gateway session
        saved, self.session_id = self.session_id, None
        try:
            return super().test_connection()
        finally:
            self.session_id = saved

    def _headers(self):
        headers = super()._headers()
        if self.config.api_key:
            name = (self.config.custom_auth_header or "").strip() or "Authorization"
            prefix = self.config.custom_auth_prefix or ""
            headers[name] = f"{prefix}{self.config.api_key}"
        return headers

    def _body(self, system, turns, *, stream, max_tokens):
        body: dict[str, Any] = {
            "model": self.config.model.strip(),
            "prompt": render_history_prompt(turns),
            "system": system or "",
            "modelConfig": {"temperature": float(self.config.temperature), "max_tokens": max_tokens},
        }
        if self.session_id:
            body["sessionId"] = self.session_id
        return body

    def _parse(self, data):
        if not isinstance(data, dict):
            raise ProviderResponseError(f"{self.label} answered with JSON that is not an object — check the API format.")
        text = None
        for key in ("msg", "message", "response", "content", "text", "output"):
            if isinstance(data.get(key), str):
                text = data[key]
                break
        if text is None:
            if data.get("error"):
                raise self._stream_error(error_detail(json.dumps(data)))
            keys = ", ".join(sorted(map(str, data.keys()))[:10]) or "none"
            raise ProviderResponseError(
                f"{self.label} answered without a 'msg' field (fields: {keys}) — check the API format."
            )
        session = data.get("sessionId") or data.get("session_id")
        if isinstance(session, str) and session:
            self.session_id = session
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return _Parsed(
            content=text,
            model=data.get("model") if isinstance(data.get("model"), str) else None,
            finish=data.get("finish_reason") if isinstance(data.get("finish_reason"), str) else None,
            prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
            completion_tokens=_int_or_none(usage.get("completion_tokens")),
            session_id=self.session_id,
        )


_CLASSES: dict[str, type[Provider]] = {
    "openai": OpenAIProvider,
    "ollama": OllamaProvider,
    "anthropic": AnthropicProvider,
    "gemini": GeminiProvider,
    "custom": CustomRestProvider,
}


def make_provider(config: ProviderConfig, *, transport: httpx.BaseTransport | None = None) -> Provider:
    """The client for ``config`` (validated first; :class:`ValidationError` when it is wrong)."""
    if not isinstance(config, ProviderConfig):
        raise ValidationError("make_provider needs a ProviderConfig.")
    config.validate()
    return _CLASSES[config.kind](config, transport=transport)
