"""Typed results returned by the kernel services.

Every record is a dataclass with ``to_dict()`` (JSON-ready) so the CLI, the widgets and the
tests share one shape. Field names follow the seed's schema and command reference.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low")
STATUSES = ("open", "investigating", "resolved", "closed")
#: what people record on an incident's timeline (the panel's form and ``tftsr timeline --add``)
HUMAN_EVENT_TYPES = (
    "note",
    "action",
    "mitigation",
    "page",
    "escalation",
    "customer_communication",
)
#: recorded by the workbench itself when an issue's status or severity changes
CHANGE_EVENT_TYPES = ("status_change", "severity_change")
#: the seed's seven, and the alert intake's two
RECORDED_EVENT_TYPES = (
    "triage_started",
    "log_uploaded",
    "why_level_advanced",
    "root_cause_identified",
    "rca_generated",
    "postmortem_generated",
    "document_exported",
    "alert_received",
    "alert_resolved",
    "shell_command_proposed",
    "shell_command_approved",
    "shell_command_denied",
    "shell_command_executed",
)
TIMELINE_EVENT_TYPES = RECORDED_EVENT_TYPES + HUMAN_EVENT_TYPES + CHANGE_EVENT_TYPES


class Record:
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_row(cls, row, **extra):
        names = {f.name for f in dataclasses.fields(cls)}
        data = {k: row[k] for k in row.keys() if k in names}
        data.update(extra)
        for f in dataclasses.fields(cls):
            if f.type in ("bool", bool) and f.name in data and data[f.name] is not None:
                data[f.name] = bool(data[f.name])
        return cls(**data)


@dataclass
class Issue(Record):
    id: str
    title: str
    description: str | None
    severity: str
    status: str
    category: str | None
    source: str | None
    created_at: str
    updated_at: str
    resolved_at: str | None
    assigned_to: str | None
    tags: list[str] = field(default_factory=list)


@dataclass
class IssueSummary(Record):
    id: str
    title: str
    severity: str
    status: str
    category: str | None
    created_at: str
    updated_at: str
    log_count: int = 0
    step_count: int = 0


@dataclass
class LogFile(Record):
    id: str
    issue_id: str
    file_name: str
    file_path: str
    file_size: int
    mime_type: str | None
    content_hash: str
    uploaded_at: str
    redacted: bool
    text_encoding: str = "utf-8"
    pii_summary: dict | None = None   # {"total": N, "by_type": {...}} found at upload
    #: 'pdf', 'docx', 'pcap', 'gzip' or 'zip' when the text was extracted from such a file (its
    #: original bytes are kept; file_size and content_hash are theirs), else None
    extracted_from: str | None = None
    extraction_note: str | None = None  # e.g. '3 page(s)'

    @property
    def source(self) -> str:
        """'text extracted from PDF (3 page(s))', or '' for a plain text log."""
        from .logs.evidence import source_label

        return source_label(self.extracted_from, self.extraction_note)


@dataclass
class LogFileSummary(Record):
    id: str
    issue_id: str
    issue_title: str
    file_name: str
    file_path: str
    file_size: int
    mime_type: str | None
    content_hash: str
    uploaded_at: str
    redacted: bool


@dataclass
class ImageAttachment(Record):
    id: str
    issue_id: str
    file_name: str
    file_path: str
    file_size: int
    mime_type: str
    upload_hash: str
    uploaded_at: str
    pii_warning_acknowledged: bool
    is_paste: bool


@dataclass
class ImageAttachmentSummary(ImageAttachment):
    issue_title: str = ""


@dataclass
class ResolutionStep(Record):
    id: str
    issue_id: str
    step_order: int
    why_question: str
    answer: str | None
    evidence: str | None
    created_at: str


@dataclass
class AiConversation(Record):
    id: str
    issue_id: str
    provider: str
    model: str
    created_at: str
    title: str | None


@dataclass
class AiMessage(Record):
    id: str
    conversation_id: str
    role: str
    content: str
    token_count: int
    created_at: str


@dataclass
class TimelineEvent(Record):
    id: str
    issue_id: str
    event_type: str
    description: str
    metadata: dict | None
    created_at: str          # when it was recorded
    actor: str = "local"     # the acting user's name (who recorded it)
    #: when it happened, when given (a backfilled event); None: at ``created_at``
    occurred_at: str | None = None
    revision: int = 1        # 1 until edited; earlier revisions: ``timeline.get_event_history``
    updated_at: str | None = None
    updated_by: str | None = None
    deleted_at: str | None = None   # set: deleted (kept with its history, left out of the timeline)
    deleted_by: str | None = None
    #: when it happened: ``occurred_at`` or else ``created_at`` (what the timeline is ordered by)
    at: str = ""

    def __post_init__(self):
        self.at = self.occurred_at or self.created_at


@dataclass
class TimelineEventRevision(Record):
    """An earlier text of a timeline event, kept when an edit or a deletion replaced it."""

    id: str
    event_id: str
    issue_id: str
    revision: int
    event_type: str
    description: str
    metadata: dict | None
    occurred_at: str | None
    written_at: str          # when this revision was written
    written_by: str
    replaced_at: str         # when the edit or deletion replaced it
    replaced_by: str
    change: str              # edit | delete


@dataclass
class Document(Record):
    id: str
    issue_id: str
    doc_type: str
    title: str
    content_md: str
    created_at: int
    updated_at: int


@dataclass
class AuditEntry(Record):
    id: str
    timestamp: str
    action: str
    entity_type: str
    entity_id: str
    user_id: str
    details: dict | None
    prev_hash: str
    entry_hash: str


@dataclass
class AuditVerification(Record):
    ok: bool
    entries: int
    first_bad_id: str | None = None
    first_bad_index: int | None = None
    reason: str | None = None


@dataclass
class IssueDetail(Record):
    """Nested, as the seed's ``get_issue`` returns it: ``detail.issue.title``."""

    issue: Issue
    log_files: list[LogFile]
    resolution_steps: list[ResolutionStep]
    conversations: list[AiConversation]
    image_attachments: list[ImageAttachment]
    timeline_events: list[TimelineEvent]
    documents: list[Document]


@dataclass
class PiiSpanRecord(Record):
    id: str
    log_file_id: str
    pii_type: str
    start_offset: int
    end_offset: int
    original_value: str
    replacement: str
    status: str = "pending"  # pending | approved | rejected


@dataclass
class PiiDetectionResult(Record):
    log_file_id: str
    spans: list[PiiSpanRecord]
    total_found: int
    by_type: dict[str, int] = field(default_factory=dict)


@dataclass
class RedactedLogFile(Record):
    log_file_id: str
    original_sha256: str
    redacted_sha256: str
    approved: int
    rejected: int
    redacted_size: int


@dataclass
class EgressText(Record):
    """Text cleared to leave the machine: redacted, with the hash the audit log records."""

    text: str
    sha256: str
    spans_redacted: int
    types: list[str] = field(default_factory=list)


@dataclass
class ProviderInfo(Record):
    """A stored provider configuration, as lists show it: never the key, only whether one is set."""

    id: str
    name: str
    provider_type: str
    api_url: str
    model: str
    max_tokens: int
    temperature: float
    custom_endpoint_path: str | None
    custom_auth_header: str | None
    custom_auth_prefix: str | None
    api_format: str | None
    is_active: bool
    has_api_key: bool
    created_at: str
    updated_at: str


@dataclass
class ChatResponse(Record):
    conversation_id: str
    user_message: AiMessage
    assistant_message: AiMessage
    display_text: str            # the reply with placeholders restored (show locally only)
    why_level: int
    root_cause: str | None
    steps_added: list[ResolutionStep]
    sent_sha256: str             # SHA-256 of the user message content as sent
    payload_sha256: str          # SHA-256 of the whole message list as sent (canonical JSON)
    pii_redacted: int
    provider: str = ""           # the conversation's provider that answered
    #: attached logs: {"log_file_id", "file_name", "state", "label"}; ``label`` says how the log left
    #: ("sent without redaction by the reviewer's choice ..." after every span was rejected)
    attachments: list[dict] = field(default_factory=list)
    #: the tool calls of the turn: {"tool", "server", "arguments", "decision", "status", "result", ...}
    tool_calls: list[dict] = field(default_factory=list)


@dataclass
class AnalysisReport(Record):
    issue_id: str
    log_file_ids: list[str]
    summary: str
    key_findings: list[str]
    first_why: str
    severity_suggestion: str
    note: str | None             # e.g. that a large log was sampled
    sent_sha256: str
