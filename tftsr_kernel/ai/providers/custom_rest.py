"""The Custom REST ("GenAI gateway") format: one request, one ``msg``; no streaming."""

from __future__ import annotations

import json
from typing import Any

from tftsr_kernel.errors import ProviderResponseError

from .._net import error_detail
from ._http import Provider, _Parsed, _int_or_none, _join_path
from ._types import ConnectionResult, render_history_prompt


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

    def _body(self, system, turns, *, stream, max_tokens, tools=None):
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
