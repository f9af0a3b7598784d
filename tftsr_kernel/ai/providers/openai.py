"""The OpenAI-compatible chat-completions format: OpenAI, Azure OpenAI, Mistral, LM Studio,
vLLM, LiteLLM and custom providers with ``api_format`` openai."""

from __future__ import annotations

import json
from typing import Any

from .._net import error_detail
from ._http import Provider, _Parsed, _assemble_tools, _int_or_none, _join_path, _sse_events


def openai_message(m) -> dict:
    """One turn in the chat-completions shape (tool calls and tool results included)."""
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
    if m.role == "assistant" and m.tool_calls:
        return {"role": "assistant", "content": m.content or None, "tool_calls": [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments") or {}, ensure_ascii=False)}}
            for c in m.tool_calls]}
    return {"role": m.role, "content": m.content}


def openai_tools(tools) -> list[dict]:
    return [{"type": "function", "function": {"name": t["name"], "description": t.get("description") or "",
                                              "parameters": t.get("parameters") or {"type": "object"}}}
            for t in tools]


class OpenAIProvider(Provider):
    kind = "openai"
    display_name = "OpenAI-compatible API"
    supports_tools = True

    def _endpoint(self, stream: bool) -> str:
        base = self.config.base_url
        if not (self.config.custom_endpoint_path or "").strip() and base.endswith("/chat/completions"):
            return base
        return _join_path(base, self.config.custom_endpoint_path, "/chat/completions")

    def _headers(self) -> dict[str, str]:
        return {**super()._headers(), **self._configured_auth_headers()}

    def _body(self, system, turns, *, stream, max_tokens, tools=None):
        messages = ([{"role": "system", "content": system}] if system else []) + [openai_message(m) for m in turns]
        body: dict[str, Any] = {
            "model": self.config.model.strip(),
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": float(self.config.temperature),
            "stream": bool(stream),
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        if tools:
            body["tools"] = openai_tools(tools)
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
        calls = {i: {"id": c.get("id"), "name": (c.get("function") or {}).get("name"),
                     "arguments": (c.get("function") or {}).get("arguments")}
                 for i, c in enumerate(message.get("tool_calls") or []) if isinstance(c, dict)}
        return _Parsed(
            content=content or "",
            model=data.get("model"),
            finish=choice.get("finish_reason"),
            prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
            completion_tokens=_int_or_none(usage.get("completion_tokens")),
            tool_calls=_assemble_tools(calls),
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
                for part in (choice.get("delta") or {}).get("tool_calls") or []:
                    if not isinstance(part, dict):
                        continue
                    state.tool_parts = state.tool_parts or {}
                    slot = state.tool_parts.setdefault(part.get("index", 0), {"id": None, "name": "", "arguments": ""})
                    fn = part.get("function") or {}
                    slot["id"] = part.get("id") or slot["id"]
                    slot["name"] += fn.get("name") or ""
                    slot["arguments"] += fn.get("arguments") or ""
                text = (choice.get("delta") or {}).get("content")
                if text:
                    yield text
            yield ""
