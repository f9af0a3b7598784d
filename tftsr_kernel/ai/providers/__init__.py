"""AI provider clients: OpenAI-compatible, Ollama, Anthropic, Gemini and Custom REST.

Pure: a :class:`ProviderConfig` and a list of :class:`ChatMessage` go in, text (streamed
through ``on_chunk``) and a :class:`ChatResult` come out. No database, no redaction: callers
redact before calling :meth:`Provider.chat`.

Every failure is a typed error from :mod:`tftsr_kernel.errors` whose message says what to do
and never contains the API key, the Authorization header value or unscrubbed response text.

Layout: one module per wire format (``openai``, ``ollama``, ``anthropic``, ``gemini``,
``custom_rest``), each a subclass of :class:`Provider` from ``_http`` (the shared HTTP client,
request loop, retries, streaming and errors); the data types are in ``_types``. A new format is
a module, its name in ``PROVIDER_TYPES`` and one line in :data:`PROVIDER_CLASSES`.
"""

from __future__ import annotations

import httpx

from tftsr_kernel.errors import ValidationError

# every name the single-module providers.py had stays importable from here
from ._http import CONNECT_TIMEOUT, Provider  # noqa: F401
from ._types import (
    DEFAULT_API_URLS,
    HISTORY_CHAR_BUDGET,
    OPENAI_FORMATS,
    PROVIDER_TYPES,
    ROLES,
    SYSTEM_SEPARATOR,
    TYPE_ALIASES,
    ChatMessage,
    ChatResult,
    ConnectionResult,
    ProviderConfig,
    estimate_tokens,
    merge_system,
    render_history_prompt,
)
from .anthropic import ANTHROPIC_VERSION, AnthropicProvider
from .custom_rest import CustomRestProvider
from .gemini import GeminiProvider
from .ollama import OllamaProvider, ollama_base
from .openai import OpenAIProvider

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

#: the registry: wire format (``ProviderConfig.kind``) -> client class
PROVIDER_CLASSES: dict[str, type[Provider]] = {
    cls.kind: cls
    for cls in (OpenAIProvider, OllamaProvider, AnthropicProvider, GeminiProvider, CustomRestProvider)
}


def make_provider(config: ProviderConfig, *, transport: httpx.BaseTransport | None = None) -> Provider:
    """The client for ``config`` (validated first; :class:`ValidationError` when it is wrong)."""
    if not isinstance(config, ProviderConfig):
        raise ValidationError("make_provider needs a ProviderConfig.")
    config.validate()
    return PROVIDER_CLASSES[config.kind](config, transport=transport)
