"""Ollama's ``/api/chat`` format (newline-delimited JSON when streaming)."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx

from .._net import display_url
from ._http import Provider, _Parsed, _assemble_tools, _int_or_none
from .openai import openai_tools


def _ollama_message(m) -> dict:
    if m.role == "tool":
        return {"role": "tool", "content": m.content, "tool_name": m.name or ""}
    if m.role == "assistant" and m.tool_calls:
        return {"role": "assistant", "content": m.content or "", "tool_calls": [
            {"function": {"name": c["name"], "arguments": c.get("arguments") or {}}} for c in m.tool_calls]}
    return {"role": m.role, "content": m.content}


def _ollama_calls(message: dict) -> dict:
    return {i: {"id": c.get("id") or f"call_{i}", "name": (c.get("function") or {}).get("name"),
                "arguments": (c.get("function") or {}).get("arguments")}
            for i, c in enumerate(message.get("tool_calls") or []) if isinstance(c, dict)}
from ._types import DEFAULT_API_URLS, ConnectionResult


def ollama_base(url: str) -> str:
    base = (url or "").strip().rstrip("/") or DEFAULT_API_URLS["ollama"]
    for suffix in ("/api/chat", "/api"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base


class OllamaProvider(Provider):
    kind = "ollama"
    display_name = "Ollama"
    supports_tools = True
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
        return {**super()._headers(), **self._configured_auth_headers()}  # Ollama behind an authenticating proxy

    def _body(self, system, turns, *, stream, max_tokens, tools=None):
        messages = ([{"role": "system", "content": system}] if system else []) + [_ollama_message(m) for m in turns]
        options: dict[str, Any] = {"temperature": float(self.config.temperature), "num_predict": max_tokens}
        need = math.ceil(sum(len(m["content"]) for m in messages) / 3.5) + max_tokens
        if need > 4096:
            options["num_ctx"] = next((n for n in self.context_steps if n >= need), self.context_steps[-1])
        body = {"model": self.config.model.strip(), "messages": messages, "stream": bool(stream), "options": options}
        if tools:
            body["tools"] = openai_tools(tools)
        return body

    def _parse(self, data):
        if isinstance(data, dict) and data.get("error"):
            raise self._stream_error(str(data["error"]))
        return _Parsed(
            content=(data.get("message") or {}).get("content") or "",
            model=data.get("model"),
            finish=data.get("done_reason") or ("stop" if data.get("done") else None),
            prompt_tokens=_int_or_none(data.get("prompt_eval_count")),
            completion_tokens=_int_or_none(data.get("eval_count")),
            tool_calls=_assemble_tools(_ollama_calls(data.get("message") or {})),
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
            calls = _ollama_calls(obj.get("message") or {})
            if calls:  # Ollama sends each call whole
                state.tool_parts = state.tool_parts or {}
                for c in calls.values():
                    state.tool_parts[len(state.tool_parts)] = c
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
