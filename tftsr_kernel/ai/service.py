"""AI services over the database: provider configurations and the investigation chat.

Every outgoing text passes the PII egress guard (``wb.pii``) first; the audit log records the
SHA-256 of exactly what was sent, never the text. API keys are AES-256-GCM encrypted in
``ai_providers`` and leave the kernel only inside the HTTP request to that provider.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Callable, Sequence

from .._util import sha256_hex, utc_now, uuid7
from ..errors import CancelledError, ConflictError, NotFoundError, ProviderError, ValidationError
from ..models import AiConversation, AiMessage, AnalysisReport, ChatResponse, ProviderInfo
from .analysis import build_analysis_messages, chunk_for_analysis, parse_analysis
from .prompts import build_system_prompt
from .providers import ChatMessage, ConnectionResult, ProviderConfig, estimate_tokens, make_provider
from .whys import MarkerStreamFilter, parse_progress, strip_markers

_PROVIDER_COLS = ("id, name, provider_type, api_url, model, max_tokens, temperature, custom_endpoint_path,"
                  " custom_auth_header, custom_auth_prefix, api_format, is_active, created_at, updated_at")
_EDITABLE = ("provider_type", "api_url", "model", "max_tokens", "temperature", "custom_endpoint_path",
             "custom_auth_header", "custom_auth_prefix", "api_format")
ATTACHMENT_BUDGET_CHARS = 8_000
_PLACEHOLDER_TAIL = re.compile(r"\[[A-Za-z0-9_]{0,40}$")


class ProviderService:
    def __init__(self, wb, *, transport=None):
        self._wb = wb
        self._db = wb.db
        #: an httpx transport for every client made here (tests leave it None: real HTTP)
        self.transport = transport

    def _info(self, row) -> ProviderInfo:
        return ProviderInfo.from_row(row, has_api_key=row["encrypted_api_key"] is not None)

    def list_providers(self) -> list[ProviderInfo]:
        return [self._info(r) for r in self._db.query(
            f"SELECT {_PROVIDER_COLS}, encrypted_api_key FROM ai_providers ORDER BY name")]

    def get_provider(self, name: str) -> ProviderInfo:
        row = self._db.query_one(f"SELECT {_PROVIDER_COLS}, encrypted_api_key FROM ai_providers WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"no AI provider named {name!r}; see: tftsr provider list")
        return self._info(row)

    def active_provider(self) -> ProviderInfo | None:
        row = self._db.query_one(f"SELECT {_PROVIDER_COLS}, encrypted_api_key FROM ai_providers WHERE is_active = 1")
        return self._info(row) if row else None

    def add_provider(self, name: str, provider_type: str, api_url: str, model: str, *, api_key: str | None = None,
                     max_tokens: int = 4096, temperature: float = 0.7, custom_endpoint_path: str | None = None,
                     custom_auth_header: str | None = None, custom_auth_prefix: str | None = None,
                     api_format: str | None = None, activate: bool | None = None) -> ProviderInfo:
        """Store a provider (the key encrypted). The first provider becomes the active one.

        An empty ``model`` takes the ``default_model`` setting.
        """
        name = (name or "").strip()
        model = (model or "").strip() or self._wb.settings.get("default_model")
        cfg = ProviderConfig(name, provider_type, api_url, model, api_key or None, max_tokens, temperature,
                             custom_endpoint_path or None, custom_auth_header or None, custom_auth_prefix,
                             api_format or None)
        cfg.validate()
        now = utc_now()
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM ai_providers WHERE name = ?", (name,)).fetchone():
                raise ConflictError(f"a provider named {name!r} exists; delete it first or choose another name")
            first = conn.execute("SELECT count(*) FROM ai_providers").fetchone()[0] == 0
            enc = self._wb.secrets.encrypt(api_key, "ai_provider_api_key") if api_key else None
            pid = uuid7()
            conn.execute(
                "INSERT INTO ai_providers(id, name, provider_type, api_url, encrypted_api_key, model, max_tokens,"
                " temperature, custom_endpoint_path, custom_auth_header, custom_auth_prefix, api_format,"
                " is_active, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?,?)",
                (pid, name, cfg.kind if provider_type != "custom" else "custom", cfg.base_url, enc, cfg.model,
                 cfg.max_tokens, float(cfg.temperature), cfg.custom_endpoint_path, cfg.custom_auth_header,
                 custom_auth_prefix, cfg.api_format, now, now))
            self._wb.audit.write_audit_event("add_provider", "ai_provider", pid, {
                "name": name, "provider_type": provider_type, "model": cfg.model, "has_api_key": bool(api_key)})
            if activate or (activate is None and first):
                self.set_active_provider(name)
        return self.get_provider(name)

    def update_provider(self, name: str, *, api_key: str | None = None, clear_api_key: bool = False,
                        **fields) -> ProviderInfo:
        unknown = set(fields) - set(_EDITABLE)
        if unknown:
            raise ValidationError(f"cannot change {', '.join(sorted(unknown))}")
        current = self._config(name)
        for k, v in fields.items():
            setattr(current, k, v)
        if api_key:
            current.api_key = api_key
        if clear_api_key:
            current.api_key = None
        current.validate()
        with self._db.write() as conn:
            values = {k: getattr(current, k) for k in fields}
            values["encrypted_api_key"] = (self._wb.secrets.encrypt(current.api_key, "ai_provider_api_key")
                                           if current.api_key else None)
            values["updated_at"] = utc_now()
            conn.execute(f"UPDATE ai_providers SET {', '.join(f'{k} = ?' for k in values)} WHERE name = ?",
                         list(values.values()) + [name])
            self._wb.audit.write_audit_event("update_provider", "ai_provider", self.get_provider(name).id,
                                             {"name": name, "fields": sorted(fields) + (["api_key"] if api_key or clear_api_key else [])})
        return self.get_provider(name)

    def delete_provider(self, name: str) -> None:
        info = self.get_provider(name)
        with self._db.write() as conn:
            conn.execute("DELETE FROM ai_providers WHERE name = ?", (name,))
            self._wb.audit.write_audit_event("delete_provider", "ai_provider", info.id, {"name": name})

    def set_active_provider(self, name: str) -> ProviderInfo:
        """Make ``name`` the one active provider."""
        info = self.get_provider(name)
        with self._db.write() as conn:
            conn.execute("UPDATE ai_providers SET is_active = 0 WHERE is_active = 1")
            conn.execute("UPDATE ai_providers SET is_active = 1 WHERE name = ?", (name,))
            self._wb.audit.write_audit_event("set_active_provider", "ai_provider", info.id, {"name": name})
        return self.get_provider(name)

    def _config(self, name: str | None = None) -> ProviderConfig:
        """The full configuration with the decrypted key; stays inside the kernel."""
        if name is None:
            active = self.active_provider()
            if active is None:
                raise ValidationError("no AI provider is configured; add one with: tftsr provider add NAME "
                                      "--type openai|ollama|anthropic|gemini|custom --url URL --model M")
            name = active.name
        row = self._db.query_one(f"SELECT {_PROVIDER_COLS}, encrypted_api_key FROM ai_providers WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"no AI provider named {name!r}; see: tftsr provider list")
        key = self._wb.secrets.decrypt(row["encrypted_api_key"], "ai_provider_api_key") if row["encrypted_api_key"] else None
        return ProviderConfig(row["name"], row["provider_type"], row["api_url"], row["model"], key, row["max_tokens"],
                              row["temperature"], row["custom_endpoint_path"], row["custom_auth_header"],
                              row["custom_auth_prefix"], row["api_format"])

    def client(self, name: str | None = None):
        return make_provider(self._config(name), transport=self.transport)

    def test_provider_connection(self, name: str | None = None) -> ConnectionResult:
        """One tiny request to the provider; never raises for provider problems."""
        config = self._config(name)
        with make_provider(config, transport=self.transport) as provider:
            result = provider.test_connection()
        self._wb.audit.write_audit_event("test_provider_connection", "ai_provider", config.name,
                                         {"success": result.success})
        return result


class _RestoringStream:
    """Restores placeholders in streamed text, holding back a placeholder cut between chunks."""

    def __init__(self, restore: Callable[[str], str], sink: Callable[[str], None]):
        self._restore, self._sink, self._held = restore, sink, ""

    def feed(self, text: str) -> None:
        text = self._held + text
        m = _PLACEHOLDER_TAIL.search(text)
        self._held, text = (text[m.start():], text[:m.start()]) if m else ("", text)
        if text:
            self._sink(self._restore(text))

    def flush(self) -> None:
        if self._held:
            self._sink(self._restore(self._held))
            self._held = ""


class ChatService:
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db

    # -- conversations and messages
    def _conversation(self, issue_id: str, provider: ProviderConfig, conversation_id: str | None) -> AiConversation:
        if conversation_id:
            row = self._db.query_one("SELECT * FROM ai_conversations WHERE id = ? AND issue_id = ?",
                                     (conversation_id, issue_id))
            if row is None:
                raise NotFoundError(f"conversation {conversation_id} not found for this issue")
            return AiConversation.from_row(row)
        row = self._db.query_one("SELECT id, issue_id, provider, model, created_at, title FROM ai_conversations"
                                 " WHERE issue_id = ? ORDER BY created_at DESC, id DESC LIMIT 1", (issue_id,))
        if row is not None:
            return AiConversation.from_row(row)
        return self.new_conversation(issue_id, provider_name=provider.name, model=provider.model)

    def new_conversation(self, issue_id: str, title: str | None = None, *, provider_name: str | None = None,
                         model: str | None = None) -> AiConversation:
        self._wb.issues.require(issue_id)
        if provider_name is None:
            active = self._wb.providers.active_provider()
            provider_name, model = (active.name, active.model) if active else ("none", "none")
        conv = AiConversation(uuid7(), issue_id, provider_name, model or "", utc_now(), title)
        with self._db.write() as conn:
            conn.execute("INSERT INTO ai_conversations(id, issue_id, provider, model, created_at, title)"
                         " VALUES (?,?,?,?,?,?)", (conv.id, issue_id, conv.provider, conv.model, conv.created_at, title))
            # every stored object has its creating audit entry (tftsr verify checks it)
            self._wb.audit.write_audit_event("new_conversation", "ai_conversation", conv.id,
                                             {"issue_id": issue_id, "provider": conv.provider, "model": conv.model})
        return conv

    def list_conversations(self, issue_id: str) -> list[AiConversation]:
        return [AiConversation.from_row(r) for r in self._db.query(
            "SELECT id, issue_id, provider, model, created_at, title FROM ai_conversations WHERE issue_id = ?"
            " ORDER BY created_at, id", (issue_id,))]

    def list_messages(self, issue_id: str, conversation_id: str | None = None, *, display: bool = False) -> list[AiMessage]:
        """Messages of the issue's current (or given) conversation, oldest first.

        Stored messages hold exactly what the model saw (placeholders); ``display=True`` restores
        the original values for showing on this machine.
        """
        if conversation_id is None:
            row = self._db.query_one("SELECT id FROM ai_conversations WHERE issue_id = ?"
                                     " ORDER BY created_at DESC, id DESC LIMIT 1", (issue_id,))
            if row is None:
                return []
            conversation_id = row[0]
        msgs = [AiMessage.from_row(r) for r in self._db.query(
            "SELECT id, conversation_id, role, content, token_count, created_at FROM ai_messages"
            " WHERE conversation_id = ? ORDER BY created_at, id", (conversation_id,))]
        if display:
            mapping = self._wb.pii.placeholder_map(issue_id)
            from ..pii import restore

            for m in msgs:
                m.content = restore(m.content, mapping)
        return msgs

    def current_why_level(self, issue_id: str) -> int:
        """The deepest answered why (0 when none): levels only move forward."""
        row = self._db.query_one("SELECT max(step_order) FROM resolution_steps WHERE issue_id = ?"
                                 " AND answer IS NOT NULL AND answer != ''", (issue_id,))
        return int(row[0] or 0)

    # -- the chat turn
    def chat_message(self, issue_id: str, message: str, *, attach_log_ids: Sequence[str] = (),
                     system_prompt: str | None = None, conversation_id: str | None = None,
                     on_chunk: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
                     stream: bool = True) -> ChatResponse:
        """Send one message about an issue and store the turn.

        The message, the attached logs and the issue context pass the PII egress guard first. The
        reply streams to ``on_chunk`` (markers hidden, placeholders restored); ``cancel`` stops it
        (``CancelledError``, with what arrived stored). Answered why-levels become resolution steps.
        """
        message = (message or "").strip()
        if not message:
            raise ValidationError("the message is empty")
        wb = self._wb
        issue = wb.issues.get_issue_record(issue_id)
        config = wb.providers._config()
        guard = wb.pii
        user = guard.redact_for_egress(issue_id, message)
        content = user.text
        redacted_count = user.spans_redacted
        names = []
        for log_id in attach_log_ids:
            log = wb.attachments.get_log_file(log_id)
            cleared = guard.egress_log(issue_id, log_id)
            text, note = chunk_for_analysis(cleared.text, ATTACHMENT_BUDGET_CHARS)
            names.append(log.file_name)
            label = guard.redact_for_egress(issue_id, log.file_name).text
            content += (f"\n\nAttached log `{label}` (PII redacted{'; ' + note if note else ''}):\n"
                        f"```log\n{text.replace('```', chr(39) * 3)}\n```")
            redacted_count += cleared.spans_redacted
        context = guard.redact_for_egress(issue_id, _issue_context(issue)).text
        extra = "\n\n".join(p for p in (context, wb.settings.get("chat_system_prompt"), system_prompt) if p and p.strip())
        system = guard.redact_for_egress(issue_id, build_system_prompt(issue.category, extra)).text
        conv = self._conversation(issue_id, config, conversation_id)
        history = [ChatMessage(m.role, m.content) for m in self.list_messages(issue_id, conv.id) if m.role != "system"]
        outgoing = [ChatMessage("system", system), *history, ChatMessage("user", content)]
        payload_sha = sha256_hex(json.dumps([{"role": m.role, "content": m.content} for m in outgoing],
                                            ensure_ascii=False, separators=(",", ":")))
        sent_sha = sha256_hex(content)
        first_turn = not history
        audit = {"conversation_id": conv.id, "provider": config.name, "provider_type": config.kind,
                 "model": config.model, "sent_sha256": sent_sha, "payload_sha256": payload_sha,
                 "pii_redacted": redacted_count, "pii_types": user.types, "attached_log_ids": list(attach_log_ids)}

        mapping = guard.placeholder_map(issue_id)
        from ..pii import restore

        display_sink = None
        markers = MarkerStreamFilter()
        if on_chunk is not None:
            restorer = _RestoringStream(lambda t: restore(t, mapping), on_chunk)
            display_sink = restorer
        def chunk(text: str) -> None:
            if display_sink is not None:
                shown = markers.feed(text)
                if shown:
                    display_sink.feed(shown)

        level_before = self.current_why_level(issue_id)
        try:
            with wb.providers.client(config.name) as provider:
                result = provider.chat(outgoing, stream=stream, on_chunk=chunk, cancel=cancel)
        except CancelledError as exc:
            partial = getattr(exc, "partial", "") or ""
            self._store_turn(conv.id, content, estimate_tokens(content),
                             (strip_markers(partial) + "\n\n_(stopped)_").strip() if partial else None, 0)
            wb.audit.write_audit_event("ai_chat", "issue", issue_id, {**audit, "outcome": "cancelled"})
            raise
        except ProviderError as exc:
            wb.audit.write_audit_event("ai_chat", "issue", issue_id, {**audit, "outcome": "error",
                                                                      "error": type(exc).__name__})
            raise
        if display_sink is not None:
            rest = markers.flush()
            if rest:
                display_sink.feed(rest)
            display_sink.flush()

        progress = parse_progress(result.content, level_before)
        answer = progress.answer_text
        user_msg, asst_msg = self._store_turn(conv.id, content, result.prompt_tokens, answer, result.completion_tokens)
        wb.audit.write_audit_event("ai_chat", "issue", issue_id, {
            **audit, "outcome": "ok", "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens, "reply_sha256": sha256_hex(result.content)})
        if first_turn and not any(e.event_type == "triage_started" for e in wb.timeline.get_timeline_events(issue_id)):
            wb.timeline.add_timeline_event(issue_id, "triage_started", "Triage started with the AI assistant",
                                           {"severity": issue.severity, "category": issue.category,
                                            "provider": config.name, "model": config.model})
            if issue.status == "open":
                wb.issues.update_issue(issue_id, status="investigating")
        display = restore(answer, mapping)  # no egress since the request: the mapping is current
        steps = self._record_progress(issue_id, level_before, progress, restore(message, mapping), display, names)
        return ChatResponse(conv.id, user_msg, asst_msg, display, max(progress.level, level_before),
                            restore(progress.root_cause, mapping) if progress.root_cause else None,
                            steps, sent_sha, payload_sha, redacted_count)

    def _store_turn(self, conversation_id, user_content, user_tokens, reply, reply_tokens):
        now = utc_now()
        user = AiMessage(uuid7(), conversation_id, "user", user_content, int(user_tokens or 0), now)
        asst = AiMessage(uuid7(), conversation_id, "assistant", reply, int(reply_tokens or 0), utc_now()) if reply else None
        with self._db.write() as conn:
            for m in (user, asst):
                if m is not None:
                    conn.execute("INSERT INTO ai_messages(id, conversation_id, role, content, token_count, created_at)"
                                 " VALUES (?,?,?,?,?,?)", (m.id, m.conversation_id, m.role, m.content, m.token_count,
                                                           m.created_at))
        return user, asst

    def _record_progress(self, issue_id, level_before, progress, question_text, answer_text, log_names):
        whys = self._wb.whys
        existing = {s.step_order: s for s in whys.list_five_whys(issue_id)}
        steps = []
        evidence = ("Logs: " + ", ".join(log_names)) if log_names else None
        for level in range(level_before + 1, min(progress.level, 5) + 1):
            question = f"Why {level}: {_first_line(question_text, 300)}"
            answer = _first_line(answer_text, 2000, keep_lines=True)
            if level in existing:
                if not existing[level].answer:
                    steps.append(whys.update_five_why(existing[level].id, answer, evidence=evidence))
            else:
                steps.append(whys.add_five_why(issue_id, level, question, answer, evidence))
        if progress.root_cause:
            root = self._wb.pii.restore_placeholders(issue_id, progress.root_cause)
            if whys.root_cause(issue_id) != root or not any(
                    e.event_type == "root_cause_identified" for e in self._wb.timeline.get_timeline_events(issue_id)):
                whys.record_root_cause(issue_id, root)
        return steps

    # -- log analysis
    def analyze_logs(self, issue_id: str, log_file_ids: Sequence[str], *, cancel=None) -> AnalysisReport:
        """Ask the model for a summary, key findings, a first why and a severity, from redacted logs."""
        if not log_file_ids:
            raise ValidationError("choose at least one log to analyse")
        wb = self._wb
        issue = wb.issues.get_issue_record(issue_id)
        config = wb.providers._config()
        parts, names = [], []
        for log_id in log_file_ids:
            log = wb.attachments.get_log_file(log_id)
            cleared = wb.pii.egress_log(issue_id, log_id)
            label = wb.pii.redact_for_egress(issue_id, log.file_name).text
            parts.append(f"===== {label} =====\n{cleared.text}")
            names.append(label)
        budget = int(wb.settings.get("analysis_max_chars"))
        combined = "\n\n".join(parts)
        _, note = chunk_for_analysis(combined, budget)
        title = wb.pii.redact_for_egress(issue_id, issue.title).text
        messages = build_analysis_messages(combined, filename=", ".join(names), category=issue.category,
                                           issue_title=title, budget_chars=budget)
        sent = sha256_hex(messages[-1].content)
        audit = {"log_file_ids": list(log_file_ids), "provider": config.name, "model": config.model,
                 "sent_sha256": sent}
        try:
            with wb.providers.client(config.name) as provider:
                result = provider.chat(messages, stream=False, cancel=cancel)
        except (ProviderError, CancelledError) as exc:
            wb.audit.write_audit_event("ai_analyze_logs", "issue", issue_id, {**audit, "outcome": type(exc).__name__})
            raise
        wb.audit.write_audit_event("ai_analyze_logs", "issue", issue_id, {**audit, "outcome": "ok"})
        parsed = parse_analysis(result.content)
        r = lambda t: wb.pii.restore_placeholders(issue_id, t)
        return AnalysisReport(issue_id, list(log_file_ids), r(parsed.summary), [r(f) for f in parsed.key_findings],
                              r(parsed.first_why), parsed.severity_suggestion, note, sent)


def _issue_context(issue) -> str:
    lines = [f"Incident under investigation: {issue.title}", f"Severity: {issue.severity}. Status: {issue.status}."]
    if issue.category:
        lines.append(f"Category: {issue.category}.")
    if issue.description:
        lines.append(f"Description: {issue.description[:4000]}")
    return "\n".join(lines)


def _first_line(text: str, limit: int, keep_lines: bool = False) -> str:
    text = (text or "").strip()
    if not keep_lines:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
