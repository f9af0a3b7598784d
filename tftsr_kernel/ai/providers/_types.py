"""The provider layer's data: how to reach a provider (:class:`ProviderConfig`), the messages
that go in, the results that come out, and the shaping of a conversation for formats that need it
(one system text, alternating turns, a single rendered prompt). No HTTP here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Iterable, Mapping, Sequence

import httpx

from tftsr_kernel.errors import ValidationError

from .._net import display_url

#: the wire formats; :data:`tftsr_kernel.ai.providers.PROVIDER_CLASSES` maps each to its client
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

SYSTEM_SEPARATOR = "\n\n---\n\n"
ROLES = ("system", "user", "assistant", "tool")
#: how much rendered history the Custom REST format sends in its ``prompt``
HISTORY_CHAR_BUDGET = 60_000


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
    #: assistant turns that asked for tools: [{"id", "name", "arguments": dict}]
    tool_calls: list[dict] | None = None
    #: tool turns: the id of the call answered and the tool's name
    tool_call_id: str | None = None
    name: str | None = None


@dataclass
class ToolCallRequest:
    """A tool call the model asked for (``arguments`` parsed from its JSON)."""

    id: str
    name: str
    arguments: dict

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


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
    #: the tools the model asked to call (empty when it answered in text)
    tool_calls: list[ToolCallRequest] = field(default_factory=list)


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
        extra: dict[str, Any] = {}
        if isinstance(m, ChatMessage):
            role, content = m.role, m.content
            extra = {"tool_calls": m.tool_calls, "tool_call_id": m.tool_call_id, "name": m.name}
        elif isinstance(m, Mapping):
            role, content = m.get("role"), m.get("content")
            extra = {k: m.get(k) for k in ("tool_calls", "tool_call_id", "name")}
        else:
            raise ValidationError("Each message must be a ChatMessage or a {role, content} mapping.")
        role = (role or "").strip().lower()
        if role not in ROLES:
            raise ValidationError(f"Message role {role!r} is not one of {', '.join(ROLES)}.")
        if role == "tool" and not extra.get("tool_call_id"):
            raise ValidationError("A tool message needs the id of the tool call it answers (tool_call_id).")
        out.append(ChatMessage(role, "" if content is None else str(content), **extra))
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
        if m.tool_calls or m.role == "tool" or (merged and (merged[-1].tool_calls or merged[-1].role == "tool")):
            merged.append(m)  # tool turns keep their own structure
        elif merged and merged[-1].role == m.role:
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
