"""Issues: create, get (nested IssueDetail), list, update, delete, full-text search."""

from __future__ import annotations

import re
import unicodedata

from ._util import from_json, to_json, utc_now, uuid7
from .audit import AuditService
from .categories import CATEGORIES
from .db import Database
from .errors import NotFoundError, ValidationError
from .models import (
    SEVERITIES,
    STATUSES,
    AiConversation,
    Document,
    ImageAttachment,
    Issue,
    IssueDetail,
    IssueSummary,
    LogFile,
    ResolutionStep,
)
from .timeline import EVENT_COLUMNS, EVENT_ORDER, TimelineService, event_from_row

MAX_TITLE = 500
MAX_DESCRIPTION = 100_000
MAX_TAGS = 32
MAX_TAG_LENGTH = 64
SORT_COLUMNS = ("created_at", "updated_at", "severity", "status", "title")
_ISSUE_COLS = ("id, title, description, severity, status, category, source, created_at, updated_at,"
               " resolved_at, assigned_to, tags")
_SUMMARY_SELECT = (
    "SELECT i.id, i.title, i.severity, i.status, i.category, i.created_at, i.updated_at,"
    " (SELECT count(*) FROM log_files l WHERE l.issue_id = i.id) AS log_count,"
    " (SELECT count(*) FROM resolution_steps s WHERE s.issue_id = i.id) AS step_count"
)
_SEVERITY_RANK = "CASE i.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def _clean_text(value, name: str, *, required: bool, limit: int) -> str | None:
    if value is None:
        if required:
            raise ValidationError(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text")
    value = value.replace("\x00", "").strip()
    if required and not value:
        raise ValidationError(f"{name} must not be empty")
    if len(value) > limit:
        raise ValidationError(f"{name} is longer than {limit} characters")
    return value


def _check_choice(value, name: str, choices) -> str:
    if value not in choices:
        raise ValidationError(f"{name} must be one of: {', '.join(choices)} (got {value!r})")
    return value


def _check_category(value):
    if value is None or value == "":
        return None
    return _check_choice(value, "category", tuple(CATEGORIES))


def _check_tags(tags) -> list[str]:
    """At most MAX_TAGS tags of at most MAX_TAG_LENGTH characters, no control characters and no
    commas (a comma separates tags); blanks dropped, duplicates kept once, order kept."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        raise ValidationError("tags must be a list of strings")
    cleaned: list[str] = []
    for raw in tags:
        tag = raw.strip()
        if not tag:
            continue
        bad = next((c for c in tag if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")), None)
        if bad is not None:
            what = "text that is not valid UTF-8" if unicodedata.category(bad) == "Cs" else \
                f"a control character (U+{ord(bad):04X})"
            raise ValidationError(f"tags: the tag {tag[:40]!r} contains {what}; use plain text")
        if "," in tag:
            raise ValidationError(f"tags: the tag {tag[:40]!r} contains a comma (commas separate tags)")
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(f"tags: the tag {tag[:40]!r}... is longer than {MAX_TAG_LENGTH} characters")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError(f"tags: at most {MAX_TAGS} tags per issue (got {len(cleaned)})")
    return cleaned


def fts_query(text: str) -> str | None:
    """Turn any user text into a safe FTS5 query: each word quoted, the last one a prefix.

    Quotes, operators, parentheses and SQL fragments become plain words, so no input raises.
    """
    tokens = _TOKEN_RE.findall(text or "")
    if not tokens:
        return None
    tokens = tokens[:32]
    parts = ['"' + t.replace('"', '""') + '"' for t in tokens]
    parts[-1] += "*"
    return " ".join(parts)


class IssueService:
    def __init__(self, db: Database, audit: AuditService, timeline: TimelineService | None = None):
        self._db = db
        self._audit = audit
        #: records status and severity changes on the timeline (the workbench passes it)
        self._timeline = timeline

    # -- create / read
    def create_issue(self, title: str, description: str | None = None, severity: str = "medium",
                     category: str | None = None, *, source: str | None = None,
                     assigned_to: str | None = None, tags=None) -> Issue:
        title = _clean_text(title, "title", required=True, limit=MAX_TITLE)
        description = _clean_text(description, "description", required=False, limit=MAX_DESCRIPTION)
        _check_choice(severity, "severity", SEVERITIES)
        category = _check_category(category)
        now = utc_now()
        issue = Issue(uuid7(), title, description or None, severity, "open", category,
                      _clean_text(source, "source", required=False, limit=200),
                      now, now, None, _clean_text(assigned_to, "assigned_to", required=False, limit=200),
                      _check_tags(tags))
        with self._db.write() as conn:
            conn.execute(
                f"INSERT INTO issues({_ISSUE_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (issue.id, issue.title, issue.description, issue.severity, issue.status, issue.category,
                 issue.source, issue.created_at, issue.updated_at, None, issue.assigned_to, to_json(issue.tags)),
            )
            self._audit.write_audit_event("create_issue", "issue", issue.id,
                                          {"severity": severity, "category": category})
        return issue

    def _issue_row(self, issue_id: str):
        row = self._db.query_one(f"SELECT {_ISSUE_COLS} FROM issues WHERE id = ?", (issue_id,))
        if row is None:
            raise NotFoundError(f"issue {issue_id} not found")
        return row

    @staticmethod
    def _issue(row) -> Issue:
        return Issue.from_row(row, tags=from_json(row["tags"], []))

    def get_issue_record(self, issue_id: str) -> Issue:
        return self._issue(self._issue_row(issue_id))

    def require(self, issue_id: str) -> None:
        if not self._db.query_one("SELECT 1 FROM issues WHERE id = ?", (issue_id,)):
            raise NotFoundError(f"issue {issue_id} not found")

    def get_issue(self, issue_id: str) -> IssueDetail:
        """The nested detail: the issue and everything attached to it (no BLOBs)."""
        with self._db.read():
            issue = self._issue(self._issue_row(issue_id))
            q = self._db.query
            logs = [LogFile.from_row(r, pii_summary=from_json(r["pii_summary"])) for r in q(
                "SELECT id, issue_id, file_name, file_path, file_size, mime_type, content_hash, uploaded_at,"
                " redacted, text_encoding, pii_summary, extracted_from, extraction_note FROM log_files"
                " WHERE issue_id = ? ORDER BY uploaded_at, id",
                (issue_id,))]
            steps = [ResolutionStep.from_row(r) for r in q(
                "SELECT id, issue_id, step_order, why_question, answer, evidence, created_at"
                " FROM resolution_steps WHERE issue_id = ? ORDER BY step_order, created_at", (issue_id,))]
            convs = [AiConversation.from_row(r) for r in q(
                "SELECT id, issue_id, provider, model, created_at, title FROM ai_conversations"
                " WHERE issue_id = ? ORDER BY created_at, id", (issue_id,))]
            images = [ImageAttachment.from_row(r) for r in q(
                "SELECT id, issue_id, file_name, file_path, file_size, mime_type, upload_hash, uploaded_at,"
                " pii_warning_acknowledged, is_paste FROM image_attachments WHERE issue_id = ?"
                " ORDER BY uploaded_at, id", (issue_id,))]
            events = [event_from_row(r) for r in q(
                f"SELECT {EVENT_COLUMNS} FROM timeline_events WHERE issue_id = ? AND deleted_at IS NULL"
                f" ORDER BY {EVENT_ORDER}", (issue_id,))]
            docs = [Document.from_row(r) for r in q(
                "SELECT id, issue_id, doc_type, title, content_md, created_at, updated_at FROM documents"
                " WHERE issue_id = ? ORDER BY created_at, id", (issue_id,))]
        return IssueDetail(issue, logs, steps, convs, images, events, docs)

    # -- list / count / search
    @staticmethod
    def _filters(status, severity, category):
        where, params = [], []
        if status:
            where.append("i.status = ?")
            params.append(_check_choice(status, "status", STATUSES))
        if severity:
            where.append("i.severity = ?")
            params.append(_check_choice(severity, "severity", SEVERITIES))
        if category:
            where.append("i.category = ?")
            params.append(_check_category(category))
        return where, params

    def list_issues(self, *, status: str | None = None, severity: str | None = None,
                    category: str | None = None, sort_by: str = "created_at", sort_order: str = "desc",
                    limit: int = 50, offset: int = 0) -> list[IssueSummary]:
        """A page of issues, filtered and sorted (newest first by default)."""
        where, params = self._filters(status, severity, category)
        _check_choice(sort_by, "sort_by", SORT_COLUMNS)
        order = _check_choice(str(sort_order).lower(), "sort_order", ("asc", "desc")).upper()
        key = _SEVERITY_RANK if sort_by == "severity" else f"i.{sort_by}"
        if sort_by == "severity":  # most severe first when descending
            order = "ASC" if order == "DESC" else "DESC"
        sql = _SUMMARY_SELECT + " FROM issues i"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {key} {order}, i.id {order} LIMIT ? OFFSET ?"
        limit, offset = _page(limit, offset)
        return [IssueSummary.from_row(r) for r in self._db.query(sql, params + [limit, offset])]

    def count_issues(self, *, status: str | None = None, severity: str | None = None,
                     category: str | None = None) -> int:
        where, params = self._filters(status, severity, category)
        sql = "SELECT count(*) FROM issues i" + (" WHERE " + " AND ".join(where) if where else "")
        return self._db.query_one(sql, params)[0]

    def search_issues(self, query: str, *, status: str | None = None, severity: str | None = None,
                      category: str | None = None, limit: int = 50, offset: int = 0) -> list[IssueSummary]:
        """Full-text search over titles and descriptions, newest matches first. Any text is valid.

        Every word must match (the last one as a prefix). Results come in creation order, newest
        first: FTS5 then stops after ``limit`` rows instead of ranking every match, which keeps
        p99 latency around 2 ms at 100,000 issues (benchmarks/search_fts.py).
        """
        match = fts_query(query)
        if match is None:
            return []
        where, params = self._filters(status, severity, category)
        sql = (_SUMMARY_SELECT + " FROM issues_fts f JOIN issues i ON i.rowid = f.rowid"
               " WHERE issues_fts MATCH ?")
        if where:
            sql += " AND " + " AND ".join(where)
        sql += " ORDER BY f.rowid DESC LIMIT ? OFFSET ?"
        limit, offset = _page(limit, offset)
        return [IssueSummary.from_row(r) for r in self._db.query(sql, [match] + params + [limit, offset])]

    def issues_frame(self, **filters):
        """``list_issues`` as a pandas DataFrame (imported lazily)."""
        import pandas as pd

        rows = [s.to_dict() for s in self.list_issues(**filters)]
        return pd.DataFrame(rows, columns=[f for f in IssueSummary.__dataclass_fields__])

    # -- update / delete
    def update_issue(self, issue_id: str, **updates) -> IssueDetail:
        """Partial update: only the given fields change. Returns the nested detail."""
        allowed = {"title", "description", "severity", "status", "category", "source", "assigned_to", "tags"}
        unknown = set(updates) - allowed
        if unknown:
            raise ValidationError(f"cannot update {', '.join(sorted(unknown))}; fields: {', '.join(sorted(allowed))}")
        fields: dict = {}
        for name, value in updates.items():
            if name == "title":
                fields[name] = _clean_text(value, "title", required=True, limit=MAX_TITLE)
            elif name == "description":
                fields[name] = _clean_text(value, "description", required=False, limit=MAX_DESCRIPTION) or None
            elif name == "severity":
                fields[name] = _check_choice(value, "severity", SEVERITIES)
            elif name == "status":
                fields[name] = _check_choice(value, "status", STATUSES)
            elif name == "category":
                fields[name] = _check_category(value)
            elif name == "tags":
                fields[name] = to_json(_check_tags(value))
            else:
                fields[name] = _clean_text(value, name, required=False, limit=200)
        with self._db.write() as conn:
            current = self._issue_row(issue_id)
            if not fields:
                return self.get_issue(issue_id)
            now = utc_now()
            fields["updated_at"] = now
            if "status" in fields:
                if fields["status"] in ("resolved", "closed") and not current["resolved_at"]:
                    fields["resolved_at"] = now
                elif fields["status"] in ("open", "investigating"):
                    fields["resolved_at"] = None
            assignments = ", ".join(f"{k} = ?" for k in fields)
            conn.execute(f"UPDATE issues SET {assignments} WHERE id = ?", list(fields.values()) + [issue_id])
            if self._timeline is not None:  # status and severity changes land on the timeline
                for name in ("status", "severity"):
                    if name in fields and fields[name] != current[name]:
                        self._timeline._record_issue_change(conn, issue_id, name, current[name], fields[name], now)
            changed = sorted(k for k in updates)
            self._audit.write_audit_event("update_issue", "issue", issue_id, {"fields": changed,
                                          **({"status": fields["status"]} if "status" in fields else {})})
        return self.get_issue(issue_id)

    def delete_issue(self, issue_id: str) -> None:
        """Delete an issue and everything attached to it; its audit entries stay."""
        with self._db.write() as conn:
            cur = conn.execute("DELETE FROM issues WHERE id = ?", (issue_id,))
            if cur.rowcount == 0:
                raise NotFoundError(f"issue {issue_id} not found")
            self._audit.write_audit_event("delete_issue", "issue", issue_id, None)


def _page(limit, offset) -> tuple[int, int]:
    try:
        limit, offset = int(limit), int(offset)
    except (TypeError, ValueError):
        raise ValidationError("limit and offset must be whole numbers") from None
    if limit < 1 or limit > 1000:
        raise ValidationError("limit must be between 1 and 1000")
    if offset < 0:
        raise ValidationError("offset must not be negative")
    return limit, offset
