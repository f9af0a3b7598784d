"""Google Gemini's ``generateContent`` / ``streamGenerateContent`` (server-sent events)."""

from __future__ import annotations

import json
from typing import Any

from tftsr_kernel.errors import ProviderResponseError

from .._net import error_detail
from ._http import Provider, _Parsed, _StreamState, _assemble_tools, _int_or_none, _sse_events
from ._types import _alternate


def _gemini_content(m) -> dict:
    if m.role == "tool":
        return {"role": "user", "parts": [{"functionResponse": {
            **({"id": m.tool_call_id} if m.tool_call_id and not m.tool_call_id.startswith("gemini_") else {}),
            "name": m.name or "", "response": {"result": m.content}}}]}
    if m.role == "assistant" and m.tool_calls:
        parts = [{"text": m.content}] if m.content else []
        parts += [{"functionCall": {**({"id": c["id"]} if not c["id"].startswith("gemini_") else {}),
                                    "name": c["name"], "args": c.get("arguments") or {}}} for c in m.tool_calls]
        return {"role": "model", "parts": parts}
    return {"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}


class GeminiProvider(Provider):
    kind = "gemini"
    display_name = "Gemini"
    supports_tools = True

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

    def _body(self, system, turns, *, stream, max_tokens, tools=None):
        turns = _alternate(turns, first_user_placeholder="(The conversation so far follows.)")
        body: dict[str, Any] = {
            "contents": [_gemini_content(m) for m in turns],
            "generationConfig": {"temperature": float(self.config.temperature), "maxOutputTokens": max_tokens},
        }
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        if tools:  # parametersJsonSchema takes the full JSON Schema (enums, nesting) as declared
            body["tools"] = [{"functionDeclarations": [
                {"name": t["name"], "description": t.get("description") or "",
                 "parametersJsonSchema": t.get("parameters") or {"type": "object"}} for t in tools]}]
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
        for p in parts:
            call = p.get("functionCall") if isinstance(p, dict) else None
            if isinstance(call, dict):
                state.tool_parts = state.tool_parts or {}
                n = len(state.tool_parts)
                state.tool_parts[n] = {"id": call.get("id") or f"gemini_{n}", "name": call.get("name"),
                                       "arguments": call.get("args") or {}}
        return "".join(p.get("text", "") for p in parts if isinstance(p, dict) and not p.get("thought"))

    def _parse(self, data):
        state = _StreamState()
        text = self._absorb(data, state)
        return _Parsed(text, state.model, state.finish, state.prompt_tokens, state.completion_tokens,
                       tool_calls=_assemble_tools(state.tool_parts))

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
