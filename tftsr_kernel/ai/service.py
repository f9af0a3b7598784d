"""AI services over the database: provider configurations and the investigation chat.

(Past 600 lines because the chat turn, with its tool-call rounds, its storage and its transcript
reads, is one flow kept together with the provider service it drives; the tool loop's parts
that the shell issue reuses live in ``tools.py``.)

Every request to a provider goes through :meth:`ProviderService.client`, whose
:class:`GuardedProvider` passes the whole message list (system prompt, history, the new message,
attached logs) through the egress guard ``wb.pii.guard_outbound`` right before the HTTP call;
if the guard fails, nothing is sent. The audit log records the SHA-256 of exactly what was sent,
never the text. API keys are AES-256-GCM encrypted in ``ai_providers`` and leave the kernel only
inside the HTTP request to that provider.

A conversation keeps its own provider (``ai_conversations.provider``): picking one for a chat
changes that conversation only; the global active provider changes only through
``set_active_provider`` (``tftsr provider use``, the Settings panel).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Callable, Sequence

from .._util import sha256_hex, utc_now, uuid7
from ..errors import CancelledError, ConflictError, NotFoundError, ProviderError, ValidationError
from ..models import AiConversation, AiMessage, AnalysisReport, ChatResponse, ProviderInfo
from .analysis import build_analysis_messages, parse_analysis
from .log_context import log_for_model
from .prompts import build_system_prompt
from ..pii.service import EgressBlockedError, Outbound
from .providers import ChatMessage, ConnectionResult, ProviderConfig, estimate_tokens, make_provider
from ..whys import strip_why_prefix
from .whys import MarkerStreamFilter, parse_progress, steps_to_record, strip_markers

_PROVIDER_COLS = ("id, name, provider_type, api_url, model, max_tokens, temperature, custom_endpoint_path,"
                  " custom_auth_header, custom_auth_prefix, api_format, is_active, created_at, updated_at")
_EDITABLE = ("provider_type", "api_url", "model", "max_tokens", "temperature", "custom_endpoint_path",
             "custom_auth_header", "custom_auth_prefix", "api_format")
#: characters of one log attached to a chat message; a larger log goes as its template summary
#: (ai/log_context.py), told to the model as such
ATTACHMENT_BUDGET_CHARS = 8_000
#: MCP resources attached to one chat message at most (each read from its server, in bounded time)
MAX_ATTACHED_RESOURCES = 5
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

    def client(self, name: str | None = None, *, issue_id: str | None = None) -> "GuardedProvider":
        """A client for provider ``name`` (default: the active one) whose every request passes
        the egress guard for ``issue_id`` right before the HTTP call. The only way the kernel
        talks to a provider."""
        return GuardedProvider(make_provider(self._config(name), transport=self.transport), self._wb.pii, issue_id)

    def test_provider_connection(self, name: str | None = None) -> ConnectionResult:
        """One tiny request to the provider; never raises for provider problems."""
        with self.client(name) as provider:
            config = provider.config_summary
            result = provider.test_connection()
        self._wb.audit.write_audit_event("test_provider_connection", "ai_provider", config["name"],
                                         {"success": result.success})
        return result


class GuardedProvider:
    """A provider client that sends nothing the egress guard has not cleared.

    ``chat`` takes an :class:`~tftsr_kernel.pii.service.Outbound` from ``wb.pii.guard_outbound``
    (checked to be unchanged since) or a plain message list, which it guards itself; the cleared
    payload of the last request is ``last_outbound``. A failing guard raises
    :class:`~tftsr_kernel.pii.service.EgressBlockedError` before any connection is made.
    """

    def __init__(self, inner, guard, issue_id: str | None):
        self._inner = inner
        self._guard = guard
        self._issue_id = issue_id
        self.last_outbound: Outbound | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._inner.close()

    @property
    def config_summary(self) -> dict:
        c = self._inner.config
        return {"name": c.name, "kind": c.kind, "model": c.model}

    @property
    def label(self) -> str:
        return self._inner.label

    def clear(self, messages) -> Outbound:
        """The guard's verdict on ``messages`` for this client's issue (nothing is sent)."""
        if isinstance(messages, Outbound):
            if messages.issue_id != self._issue_id or not messages.intact():
                raise EgressBlockedError("the request changed after the egress guard cleared it (or was cleared "
                                         "for another issue); nothing was sent")
            return messages
        return self._guard.guard_outbound(self._issue_id, [m if isinstance(m, (ChatMessage, dict))
                                                           else ChatMessage(m.role, m.content) for m in messages])

    @property
    def supports_tools(self) -> bool:
        return bool(getattr(self._inner, "supports_tools", False))

    def chat(self, messages, **kwargs):
        out = self.clear(messages)
        self.last_outbound = out
        return self._inner.chat(out.payload, **kwargs)

    def test_connection(self) -> ConnectionResult:
        """The provider's fixed connection-test prompt (no user text)."""
        return self._inner.test_connection()


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

    # -- conversations and their providers
    def _find_conversation(self, issue_id: str, conversation_id: str | None) -> AiConversation | None:
        if conversation_id:
            row = self._db.query_one("SELECT id, issue_id, provider, model, created_at, title FROM ai_conversations"
                                     " WHERE id = ? AND issue_id = ?", (conversation_id, issue_id))
            if row is None:
                raise NotFoundError(f"conversation {conversation_id} not found for this issue")
            return AiConversation.from_row(row)
        row = self._db.query_one("SELECT id, issue_id, provider, model, created_at, title FROM ai_conversations"
                                 " WHERE issue_id = ? ORDER BY created_at DESC, id DESC LIMIT 1", (issue_id,))
        return AiConversation.from_row(row) if row is not None else None

    def current_conversation(self, issue_id: str) -> AiConversation | None:
        """The issue's latest conversation (None before the first message)."""
        self._wb.issues.require(issue_id)
        return self._find_conversation(issue_id, None)

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

    def conversation_provider(self, issue_id: str, conversation_id: str | None = None) -> str | None:
        """The provider a conversation uses: its own while that provider exists, else the active one
        (None when no provider is configured)."""
        conv = self._find_conversation(issue_id, conversation_id)
        names = {p.name for p in self._wb.providers.list_providers()}
        if conv is not None and conv.provider in names:
            return conv.provider
        active = self._wb.providers.active_provider()
        return active.name if active else None

    def set_conversation_provider(self, issue_id: str, provider_name: str,
                                  conversation_id: str | None = None) -> AiConversation:
        """Use ``provider_name`` for this conversation only (made now if the issue has none yet).
        The global active provider is not touched."""
        info = self._wb.providers.get_provider(provider_name)  # NotFoundError for an unknown name
        conv = self._find_conversation(issue_id, conversation_id)
        if conv is None:
            conv = self.new_conversation(issue_id, provider_name=info.name, model=info.model)
        elif conv.provider != info.name or conv.model != info.model:
            with self._db.write() as conn:
                conn.execute("UPDATE ai_conversations SET provider = ?, model = ? WHERE id = ?",
                             (info.name, info.model, conv.id))
                self._wb.audit.write_audit_event("set_conversation_provider", "ai_conversation", conv.id, {
                    "issue_id": issue_id, "provider": info.name, "model": info.model, "previous": conv.provider})
            conv.provider, conv.model = info.name, info.model
        return conv

    def list_conversations(self, issue_id: str) -> list[AiConversation]:
        return [AiConversation.from_row(r) for r in self._db.query(
            "SELECT id, issue_id, provider, model, created_at, title FROM ai_conversations WHERE issue_id = ?"
            " ORDER BY created_at, id", (issue_id,))]

    def _message_rows(self, conversation_id: str):
        return self._db.query(
            "SELECT id, conversation_id, role, content, token_count, created_at, source_content FROM ai_messages"
            " WHERE conversation_id = ? ORDER BY created_at, id", (conversation_id,))

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
        msgs = [AiMessage(*r[:6]) for r in self._message_rows(conversation_id)]
        if display:
            mapping = self._wb.pii.placeholder_map(issue_id)
            from ..pii import restore

            for m in msgs:
                m.content = restore(m.content, mapping)
        return msgs

    def _history(self, conversation_id: str) -> list[ChatMessage]:
        """Earlier turns to re-send: each user message from the text it was composed from (the
        guard redacts it again with the current rules), replies as received."""
        return [ChatMessage(r["role"], r["source_content"] if r["source_content"] is not None else r["content"])
                for r in self._message_rows(conversation_id) if r["role"] != "system"]

    def current_why_level(self, issue_id: str) -> int:
        """The deepest answered why (0 when none): levels only move forward."""
        row = self._db.query_one("SELECT max(step_order) FROM resolution_steps WHERE issue_id = ?"
                                 " AND answer IS NOT NULL AND answer != ''", (issue_id,))
        return int(row[0] or 0)

    def _attachment(self, issue_id: str, log_id: str, budget: int) -> tuple[str, str, dict, int]:
        """(block for the message, file name, review state, values redacted by the review) of one
        log: whole when it fits ``budget``, else its template summary (see :mod:`.log_context`)."""
        wb = self._wb
        log = wb.attachments.get_log_file(log_id)
        part = log_for_model(wb, issue_id, log_id, budget)
        label = part.state["label"] + ("; " + part.note if part.note else "")
        text = part.text.replace("```", chr(39) * 3)
        block = f"\n\nAttached log `{_nul_free(log.file_name)}` ({label}):\n```log\n{text}\n```"
        return block, log.file_name, part.state, part.spans_redacted

    def _resource_attachment(self, issue_id: str, ref, budget: int) -> tuple[str, dict]:
        """(block for the message, attachment record) of one MCP resource ``{"server", "uri"}``:
        read from its server (``wb.mcp.read_mcp_resource``: bounded time, text only), cut at
        ``budget``, and cleared by the egress guard as an attached log is (it fails closed)."""
        if not isinstance(ref, dict) or not isinstance(ref.get("server"), str) or not isinstance(ref.get("uri"), str):
            raise ValidationError('an attached resource is {"server": NAME, "uri": URI}')
        wb = self._wb
        res = wb.mcp.read_mcp_resource(ref["server"], ref["uri"])
        text, notes = _nul_free(res.text), []
        if res.chars > budget:
            text = text[:budget]
            notes.append(f"cut at {budget:,} of {res.chars:,} characters")
        if res.skipped:
            notes.append(f"{len(res.skipped)} binary part(s) left out")
        cleared = wb.pii.guard_outbound(issue_id, text)
        label = (f"PII redacted automatically: {cleared.spans_redacted} value(s)" if cleared.spans_redacted
                 else "MCP resource: no PII detected") + "".join("; " + n for n in notes)
        name = _nul_free(f"{res.server}: {res.uri}").replace("`", "'").replace("\n", " ")[:200]
        body = cleared.payload.replace("```", chr(39) * 3)
        block = f"\n\nAttached resource `{name}` ({label}):\n```text\n{body}\n```"
        return block, {"server": res.server, "resource_uri": res.uri, "file_name": name,
                       "state": "redacted" if cleared.spans_redacted else "clean", "label": label,
                       "redacted": cleared.spans_redacted}

    def system_prompt(self, issue_id: str, extra: str | None = None) -> str:
        """The system prompt of a chat about the issue, before the egress guard: the domain prompt,
        the issue (title, severity, status, category, tags, assignee, description), the 5-Whys so
        far, the ``chat_system_prompt`` setting and ``extra``."""
        wb = self._wb
        issue = wb.issues.get_issue_record(issue_id)
        parts = (_issue_context(issue, wb.whys.list_five_whys(issue_id), wb.whys.root_cause(issue_id)),
                 wb.settings.get("chat_system_prompt"), extra)
        return build_system_prompt(issue.category, "\n\n".join(p for p in parts if p and p.strip()))

    # -- the chat turn
    def chat_message(self, issue_id: str, message: str, *, attach_log_ids: Sequence[str] = (),
                     attach_resources: Sequence[dict] = (), system_prompt: str | None = None, conversation_id: str | None = None,
                     provider: str | None = None,
                     on_chunk: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
                     stream: bool = True, tools: bool = True, approver=None, allow_tools: Sequence[str] = (),
                     on_tool: Callable[[dict], None] | None = None) -> ChatResponse:
        """Send one message about an issue and store the turn.

        The whole request (system prompt with the issue's fields, every earlier turn, the message
        and the attached logs) passes the egress guard right before it is sent. ``provider`` picks
        the provider for this conversation (kept on it; the active provider is not changed). The
        reply streams to ``on_chunk`` (markers hidden, placeholders restored); ``cancel`` stops it
        (``CancelledError``, with what arrived stored). Answered why-levels become resolution steps.
        ``attach_resources`` (``{"server": NAME_OR_ID, "uri": URI}`` each) are read from their MCP
        servers and attached like logs, through the egress guard (a binary resource is refused).

        Tools (``tools=True``, a provider format that has them): the tools of enabled, connected MCP
        servers are declared; the model may call them over at most ``MAX_TOOL_ROUNDS`` rounds. Each
        call goes through its approval (``approver(ApprovalRequest)`` answers ``ask`` calls, else
        ``wb.approvals.decide`` from a panel, else the timeout denies it; ``allow_tools`` holds
        ``SERVER.TOOL`` names approved for this turn) and the egress guard; ``on_tool`` gets each
        call and result as it happens; calls and results are stored (:meth:`list_tool_calls`).
        """
        message = _nul_free(message or "").strip()
        if not message:
            raise ValidationError("the message is empty")
        wb = self._wb
        issue = wb.issues.get_issue_record(issue_id)
        if provider:
            conv = self.set_conversation_provider(issue_id, provider, conversation_id)
        else:
            conv = self._find_conversation(issue_id, conversation_id)
        config = wb.providers._config(self.conversation_provider(issue_id, conv.id) if conv else None)
        if conv is None:
            conv = self.new_conversation(issue_id, provider_name=config.name, model=config.model)
        elif conv.provider != config.name:  # its provider was deleted: record the one it now uses
            conv = self.set_conversation_provider(issue_id, config.name, conv.id)
        source = message
        names, attachments, reviewed = [], [], 0
        for log_id in attach_log_ids:
            block, name, state, approved = self._attachment(issue_id, log_id, ATTACHMENT_BUDGET_CHARS)
            source += block
            names.append(name)
            attachments.append({"log_file_id": log_id, "file_name": name, "state": state["state"],
                                "label": state["label"]})
            reviewed += approved if state["state"] != "unreviewed" else 0
        if len(attach_resources) > MAX_ATTACHED_RESOURCES:
            raise ValidationError(f"attach at most {MAX_ATTACHED_RESOURCES} MCP resources to one message")
        resource_refs = []
        for ref in attach_resources:
            block, att = self._resource_attachment(issue_id, ref, ATTACHMENT_BUDGET_CHARS)
            source += block
            attachments.append(att)
            resource_refs.append({"server": att["server"], "uri": att["resource_uri"]})
        history = self._history(conv.id)
        outgoing = [ChatMessage("system", self.system_prompt(issue_id, system_prompt)), *history,
                    ChatMessage("user", source)]

        mapping_before = None
        level_before = self.current_why_level(issue_id)
        display_sink = None
        markers = MarkerStreamFilter()
        from ..pii import restore

        def chunk(text: str) -> None:
            if display_sink is not None:
                shown = markers.feed(text)
                if shown:
                    display_sink.feed(shown)

        from .tools import MAX_TOOL_ROUNDS, ToolCall, run_calls, tool_message_content

        tool_records: list = []
        with wb.providers.client(config.name, issue_id=issue_id) as client:
            sources = self._tool_sources(issue_id, approver, allow_tools) if tools and client.supports_tools else []
            specs = [t.wire() for src in sources for t in src.tools()]
            out = client.clear(outgoing)  # EgressBlockedError: nothing is sent, nothing stored
            content = out.payload[-1].content
            user_part = wb.pii.guard_outbound(issue_id, source)  # counts for the new message only
            redacted_count = user_part.spans_redacted + reviewed
            sent_sha = sha256_hex(content)
            audit = {"conversation_id": conv.id, "provider": config.name, "provider_type": config.kind,
                     "model": config.model, "sent_sha256": sent_sha, "payload_sha256": out.sha256,
                     "pii_redacted": redacted_count, "pii_types": user_part.types,
                     "payload_pii_redacted": out.spans_redacted, "released_values": out.released,
                     "attached_log_ids": list(attach_log_ids),
                     "attachments": [{"log_file_id": a["log_file_id"], "review": a["state"]} for a in attachments
                                     if "log_file_id" in a],
                     **({"attached_resources": resource_refs} if resource_refs else {})}
            mapping_before = wb.pii.placeholder_map(issue_id)
            if on_chunk is not None:
                display_sink = _RestoringStream(lambda t: restore(t, mapping_before), on_chunk)
            texts: list[str] = []
            try:
                messages, cleared, rounds = list(outgoing), out, 0
                while True:
                    result = client.chat(cleared, stream=stream, on_chunk=chunk, cancel=cancel,
                                         **({"tools": specs} if specs else {}))
                    if result.content.strip():
                        texts.append(result.content.strip())
                    if not result.tool_calls or not specs:
                        break
                    if rounds >= MAX_TOOL_ROUNDS:
                        texts.append(f"_(stopped after {MAX_TOOL_ROUNDS} rounds of tool calls)_")
                        break
                    rounds += 1
                    done = run_calls(sources, [ToolCall(c.id, c.name, c.arguments) for c in result.tool_calls],
                                     on_tool=on_tool, round_no=rounds)
                    messages.append(ChatMessage("assistant", result.content,
                                                tool_calls=[c.to_dict() for c in result.tool_calls]))
                    for call, outcome in done.calls:
                        text = tool_message_content(outcome)
                        messages.append(ChatMessage("tool", text, tool_call_id=call.id, name=call.name))
                        tool_records.append((rounds, call, outcome, text))
                    if texts and on_chunk is not None and display_sink is not None:
                        display_sink.feed("\n\n")
                    cleared = client.clear(messages)  # the whole request again, tool results included
            except CancelledError as exc:
                self._store_tool_calls(conv.id, tool_records, None)
                partial = getattr(exc, "partial", "") or ""
                self._store_turn(conv.id, content, source, estimate_tokens(content),
                                 (strip_markers(partial) + "\n\n_(stopped)_").strip() if partial else None, 0)
                wb.audit.write_audit_event("ai_chat", "issue", issue_id, {**audit, "outcome": "cancelled"})
                raise
            except ProviderError as exc:
                self._store_tool_calls(conv.id, tool_records, None)
                wb.audit.write_audit_event("ai_chat", "issue", issue_id, {**audit, "outcome": "error",
                                                                          "error": type(exc).__name__})
                raise
        if display_sink is not None:
            rest = markers.flush()
            if rest:
                display_sink.feed(rest)
            display_sink.flush()

        first_turn = not history
        reply_text = "\n\n".join(texts)
        progress = parse_progress(reply_text, level_before)
        answer = progress.answer_text
        user_msg, asst_msg = self._store_turn(conv.id, content, source, result.prompt_tokens, answer,
                                              result.completion_tokens)
        calls_out = self._store_tool_calls(conv.id, tool_records, asst_msg.id if asst_msg else None)
        wb.audit.write_audit_event("ai_chat", "issue", issue_id, {
            **audit, "outcome": "ok", "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens, "reply_sha256": sha256_hex(reply_text),
            "tool_calls": len(tool_records)})
        if first_turn and not any(e.event_type == "triage_started" for e in wb.timeline.get_timeline_events(issue_id)):
            wb.timeline.add_timeline_event(issue_id, "triage_started", "Triage started with the AI assistant",
                                           {"severity": issue.severity, "category": issue.category,
                                            "provider": config.name, "model": config.model})
            if issue.status == "open":
                wb.issues.update_issue(issue_id, status="investigating")
        display = restore(answer, mapping_before)
        steps = self._record_progress(issue_id, level_before, progress, message, display, names)
        return ChatResponse(conv.id, user_msg, asst_msg, display, max(progress.level, level_before),
                            restore(progress.root_cause, mapping_before) if progress.root_cause else None,
                            steps, sent_sha, out.sha256, redacted_count, config.name, attachments, calls_out)

    def _tool_sources(self, issue_id, approver, allow_tools) -> list:
        """The tool sources of a chat turn: the MCP tools of enabled, connected servers, and the
        shell tool when the ``chat_shell_tool`` setting is on and the user may run commands."""
        from ..mcp.service import McpToolSource

        sources = []
        source = McpToolSource(self._wb, issue_id, approver=approver, allow=allow_tools)
        if source.tools():
            sources.append(source)
        wb = self._wb
        if issue_id and wb.settings.get("chat_shell_tool") and wb.team.actor.can("shell:run"):
            sources.append(_ChatShellSource(wb, issue_id, approver, allow_tools))
        return sources

    def _store_tool_calls(self, conversation_id, records, message_id) -> list[dict]:
        """Store each call of the turn (what the model sent and what went back to it)."""
        out = []
        if not records:
            return out
        actor = self._wb.team.actor.name
        with self._db.write() as conn:
            for rnd, call, outcome, text in records:
                row = {"id": uuid7(), "conversation_id": conversation_id, "message_id": message_id, "round": rnd,
                       "call_id": call.id, "source": "shell" if call.name == "run_shell_command" else "mcp",
                       "server": outcome.server, "tool": outcome.tool or call.name,
                       "arguments": json.dumps(call.arguments, ensure_ascii=False), "decision": outcome.decision,
                       "status": outcome.status, "result": text, "actor": actor, "created_at": utc_now()}
                conn.execute(f"INSERT INTO ai_tool_calls({', '.join(row)}) VALUES ({','.join('?' * len(row))})",
                             list(row.values()))
                self._wb.audit.write_audit_event("ai_tool_call", "ai_tool_call", row["id"], {
                    "conversation_id": conversation_id, "tool": row["tool"], "server": row["server"],
                    "decision": row["decision"], "status": row["status"]})
                out.append(row)
        return out

    def list_tool_calls(self, issue_id: str, conversation_id: str | None = None, *,
                        display: bool = False) -> list[dict]:
        """Tool calls of the issue's current (or given) conversation, oldest first: what the model
        sent and what went back to it (placeholders; ``display=True`` restores the originals)."""
        conv = self._find_conversation(issue_id, conversation_id)
        if conv is None:
            return []
        rows = [dict(r) for r in self._db.query(
            "SELECT id, conversation_id, message_id, round, call_id, source, server, tool, arguments, decision,"
            " status, result, actor, created_at FROM ai_tool_calls WHERE conversation_id = ?"
            " ORDER BY created_at, rowid", (conv.id,))]
        if display:
            from ..pii import restore

            mapping = self._wb.pii.placeholder_map(issue_id)
            for r in rows:
                r["arguments"], r["result"] = restore(r["arguments"], mapping), restore(r["result"], mapping)
        return rows

    def _store_turn(self, conversation_id, user_content, user_source, user_tokens, reply, reply_tokens):
        now = utc_now()
        user = AiMessage(uuid7(), conversation_id, "user", user_content, int(user_tokens or 0), now)
        asst = AiMessage(uuid7(), conversation_id, "assistant", reply, int(reply_tokens or 0), utc_now()) if reply else None
        with self._db.write() as conn:
            for m, src in ((user, user_source), (asst, None)):
                if m is not None:
                    conn.execute("INSERT INTO ai_messages(id, conversation_id, role, content, token_count, created_at,"
                                 " source_content) VALUES (?,?,?,?,?,?,?)",
                                 (m.id, m.conversation_id, m.role, m.content, m.token_count, m.created_at, src))
        return user, asst

    def _record_progress(self, issue_id, level_before, progress, question_text, answer_text, log_names):
        """Store the whys this reply answered (see :func:`tftsr_kernel.ai.whys.steps_to_record`:
        each from its own markers, no copies; placeholders restored); a step that already has an
        answer is left as it is, one the engineer started keeps their question."""
        whys = self._wb.whys
        restore = lambda t: self._wb.pii.restore_placeholders(issue_id, t) if t else t  # noqa: E731
        existing = {s.step_order: s for s in whys.list_five_whys(issue_id)}
        answered = {n for n, s in existing.items() if s.answer}
        steps = []
        for level, st in steps_to_record(progress, level_before, answered, question_text, answer_text,
                                         log_names).items():
            question, answer, evidence = restore(st.question), restore(st.answer), restore(st.evidence)
            if level not in existing:
                steps.append(whys.add_five_why(issue_id, level, question, answer, evidence))
            else:  # a step the engineer started: their question stays
                steps.append(whys.update_five_why(existing[level].id, answer, evidence=evidence))
        if progress.root_cause:
            root = self._wb.pii.restore_placeholders(issue_id, progress.root_cause)
            if whys.root_cause(issue_id) != root or not any(
                    e.event_type == "root_cause_identified" for e in self._wb.timeline.get_timeline_events(issue_id)):
                whys.record_root_cause(issue_id, root)
        return steps

    # -- log analysis
    def analyze_logs(self, issue_id: str, log_file_ids: Sequence[str], *, cancel=None,
                     provider: str | None = None) -> AnalysisReport:
        """Ask the model for a summary, key findings, a first why and a severity, from redacted logs.

        ``provider`` defaults to the provider of the issue's conversation, else the active one."""
        if not log_file_ids:
            raise ValidationError("choose at least one log to analyse")
        wb = self._wb
        issue = wb.issues.get_issue_record(issue_id)
        config = wb.providers._config(provider or self.conversation_provider(issue_id))
        parts, names, notes = [], [], []
        budget = int(wb.settings.get("analysis_max_chars"))
        # each log is sampled to its share first, so a reviewed log's region stays whole
        share = max(200, (budget - 300 * len(log_file_ids)) // len(log_file_ids))
        for log_id in log_file_ids:
            log = wb.attachments.get_log_file(log_id)
            part = log_for_model(wb, issue_id, log_id, share)  # whole, or its template summary
            text, note, state = part.text, part.note, part.state
            if note:
                notes.append(f"{log.file_name}: {note}")
            parts.append(f"===== {_nul_free(log.file_name)} ({state['label']}{'; ' + note if note else ''})"
                         f" =====\n{text}")
            names.append(_nul_free(log.file_name))
        combined = "\n\n".join(parts)
        note = " ".join(notes) or None
        messages = build_analysis_messages(combined, filename=", ".join(names), category=issue.category,
                                           issue_title=issue.title, budget_chars=budget)
        with wb.providers.client(config.name, issue_id=issue_id) as client:
            out = client.clear(messages)  # EgressBlockedError: nothing is sent
            sent = sha256_hex(out.payload[-1].content)
            audit = {"log_file_ids": list(log_file_ids), "provider": config.name, "model": config.model,
                     "sent_sha256": sent, "payload_sha256": out.sha256, "payload_pii_redacted": out.spans_redacted,
                     "released_values": out.released}
            try:
                result = client.chat(out, stream=False, cancel=cancel)
            except (ProviderError, CancelledError) as exc:
                wb.audit.write_audit_event("ai_analyze_logs", "issue", issue_id, {**audit, "outcome": type(exc).__name__})
                raise
        wb.audit.write_audit_event("ai_analyze_logs", "issue", issue_id, {**audit, "outcome": "ok"})
        parsed = parse_analysis(result.content)
        r = lambda t: wb.pii.restore_placeholders(issue_id, t)
        return AnalysisReport(issue_id, list(log_file_ids), r(parsed.summary), [r(f) for f in parsed.key_findings],
                              r(parsed.first_why), parsed.severity_suggestion, note, sent)


def _issue_context(issue, steps=(), root_cause: str | None = None) -> str:
    """The issue as the model is told about it (before the egress guard)."""
    lines = [f"Incident under investigation: {issue.title}", f"Severity: {issue.severity}. Status: {issue.status}."]
    if issue.category:
        lines.append(f"Category: {issue.category}.")
    if issue.tags:
        lines.append("Tags: " + ", ".join(issue.tags) + ".")
    if issue.assigned_to:
        lines.append(f"Assigned to: {issue.assigned_to}.")
    if issue.description:
        lines.append(f"Description: {issue.description[:4000]}")
    answered = [s for s in steps if s.answer]
    if answered:
        lines.append("5-Whys so far:")
        for s in answered[:5]:
            line = f"- Why {s.step_order}: {_first_line(strip_why_prefix(s.why_question), 300)} Answer: {_first_line(s.answer, 600)}"
            if s.evidence:
                line += f" Evidence: {_first_line(s.evidence, 300)}"
            lines.append(line)
    if root_cause:
        lines.append(f"Root cause recorded: {_first_line(root_cause, 500)}")
    return "\n".join(lines)


def _nul_free(text: str) -> str:
    """User-supplied text cannot carry the guard's region markers."""
    return text.replace("\x00", "")


def _first_line(text: str, limit: int, keep_lines: bool = False) -> str:
    text = (text or "").strip()
    if not keep_lines:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _ChatShellSource:
    """The shell tool in the chat loop: a tier-2 command the model proposes waits for the same
    approval broker as MCP tools (the panel's buttons, ``tftsr chat``'s prompt, ``--allow-tool
    shell.run_shell_command``); tier 1 runs at once, tier 3 never. The output is cleared by the
    egress guard inside the tool."""

    source = "shell"

    def __init__(self, wb, issue_id, approver, allow_tools):
        from ..shell.tool import ShellToolSource

        self._wb, self._approver, self._allow = wb, approver, tuple(allow_tools or ())
        self._inner = ShellToolSource(wb, issue_id, decide=self._decide, session_id=wb.approvals.session_id)

    def tools(self):
        from ..shell.tool import RUN_SHELL_COMMAND_TOOL
        from .tools import ToolSpec

        return [ToolSpec(**RUN_SHELL_COMMAND_TOOL, source="shell")]

    def handles(self, name: str) -> bool:
        return self._inner.handles(name)

    def run(self, call):
        return self._inner.run(call)

    def _decide(self, action):
        allow = ("shell:run_shell_command",) if "shell.run_shell_command" in self._allow else ()
        decision = self._wb.approvals.request(
            "shell:run_shell_command" if allow else f"shell:{action.command}",
            f"tier {action.tier}: {action.tier_reason}: {action.command}", {"command": action.command},
            approver=self._approver, allow=allow, record=False,   # the shell service records the decision
            details={"kind": "shell", "tool": "run_shell_command", "command": action.command, "tier": action.tier,
                     "tier_reason": action.tier_reason, "why": action.reason, "approval_level": action.approval_level,
                     "action_id": action.id, "policy": action.policy_name})
        return None if decision == "timeout" else decision
