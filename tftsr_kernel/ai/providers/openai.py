"""The OpenAI-compatible chat-completions format: OpenAI, Azure OpenAI, Mistral, LM Studio,
vLLM, LiteLLM and custom providers with ``api_format`` openai."""

from __future__ import annotations

import json
from typing import Any

from .._net import error_detail
from ._http import Provider, _Parsed, _int_or_none, _join_path, _sse_events


class OpenAIProvider(Provider):
    kind = "openai"
    display_name = "OpenAI-compatible API"

    def _endpoint(self, stream: bool) -> str:
        base = self.config.base_url
        if not (self.config.custom_endpoint_path or "").strip() and base.endswith("/chat/completions"):
            return base
        return _join_path(base, self.config.custom_endpoint_path, "/chat/completions")

    def _headers(self) -> dict[str, str]:
        return {**super()._headers(), **self._configured_auth_headers()}

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
