"""Anthropic's Messages API (``/v1/messages``, server-sent events when streaming)."""

from __future__ import annotations

import json
from typing import Any

from .._net import error_detail
from ._http import Provider, _Parsed, _assemble_tools, _int_or_none, _join_path, _sse_events
from ._types import _alternate


def _anthropic_messages(turns) -> list[dict]:
    """Turns as Messages API blocks: tool calls are ``tool_use``; tool results are ``tool_result``
    blocks in one user turn (consecutive results together)."""
    out: list[dict] = []
    for m in turns:
        if m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content}
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list) and all(
                    b.get("type") == "tool_result" for b in out[-1]["content"]):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif m.role == "assistant" and m.tool_calls:
            blocks = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [{"type": "tool_use", "id": c["id"], "name": c["name"], "input": c.get("arguments") or {}}
                       for c in m.tool_calls]
            out.append({"role": "assistant", "content": blocks})
        else:
            out.append({"role": m.role, "content": m.content})
    return out

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider(Provider):
    kind = "anthropic"
    display_name = "Anthropic"
    supports_tools = True

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

    def _body(self, system, turns, *, stream, max_tokens, tools=None):
        turns = _alternate(turns, first_user_placeholder="(The conversation so far follows.)")
        body: dict[str, Any] = {
            "model": self.config.model.strip(),
            "max_tokens": max_tokens,
            "temperature": min(max(float(self.config.temperature), 0.0), 1.0),
            "messages": _anthropic_messages(turns),
            "stream": bool(stream),
        }
        if system:
            body["system"] = system
        if tools:
            body["tools"] = [{"name": t["name"], "description": t.get("description") or "",
                              "input_schema": t.get("parameters") or {"type": "object"}} for t in tools]
        return body

    def _parse(self, data):
        if isinstance(data, dict) and data.get("type") == "error":
            raise self._stream_error(error_detail(json.dumps(data)))
        text = "".join(
            block.get("text", "") for block in (data.get("content") or []) if block.get("type") == "text"
        )
        usage = data.get("usage") or {}
        calls = {i: {"id": b.get("id"), "name": b.get("name"), "arguments": b.get("input")}
                 for i, b in enumerate(data.get("content") or []) if b.get("type") == "tool_use"}
        return _Parsed(
            tool_calls=_assemble_tools(calls),
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
            elif kind == "content_block_start":
                block = obj.get("content_block") or {}
                if block.get("type") == "tool_use":
                    state.tool_parts = state.tool_parts or {}
                    state.tool_parts[obj.get("index", len(state.tool_parts))] = {
                        "id": block.get("id"), "name": block.get("name"), "arguments": ""}
            elif kind == "content_block_delta":
                delta = obj.get("delta") or {}
                if delta.get("type") == "input_json_delta":
                    slot = (state.tool_parts or {}).get(obj.get("index"))
                    if slot is not None:
                        slot["arguments"] += delta.get("partial_json") or ""
                elif delta.get("type", "text_delta") == "text_delta" and delta.get("text"):
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
