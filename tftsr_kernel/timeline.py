"""Incident timeline: events dual-written to ``timeline_events`` and the audit log."""

from __future__ import annotations

import json

from ._util import from_json, to_json, utc_now, uuid7
from .audit import AuditService
from .db import Database
from .errors import NotFoundError, ValidationError
from .models import TIMELINE_EVENT_TYPES, TimelineEvent

MAX_METADATA_BYTES = 10 * 1024


class TimelineService:
    def __init__(self, db: Database, audit: AuditService):
        self._db = db
        self._audit = audit
        self.actor_name = None  #: who is acting (set by the workbench); None: local

    def add_timeline_event(self, issue_id: str, event_type: str, description: str,
                           metadata: dict | None = None) -> TimelineEvent:
        """Record an event; one transaction writes the event, its audit entry and bumps the issue."""
        if event_type not in TIMELINE_EVENT_TYPES:
            raise ValidationError(
                f"unknown timeline event type {event_type!r}; use one of: {', '.join(TIMELINE_EVENT_TYPES)}")
        if not isinstance(description, str) or not description.strip():
            raise ValidationError("a timeline event needs a description")
        meta_text = None
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise ValidationError("timeline metadata must be a JSON object")
            try:
                meta_text = to_json(metadata)
            except (TypeError, ValueError):
                raise ValidationError("timeline metadata must be JSON-serialisable") from None
            if len(meta_text.encode()) > MAX_METADATA_BYTES:
                raise ValidationError("timeline metadata is larger than 10 KB")
        actor = self.actor_name() if self.actor_name is not None else "local"
        event = TimelineEvent(uuid7(), issue_id, event_type, description.strip(), metadata, utc_now(), actor)
        with self._db.write() as conn:
            cur = conn.execute("UPDATE issues SET updated_at = ? WHERE id = ?", (event.created_at, issue_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"issue {issue_id} not found")
            conn.execute(
                "INSERT INTO timeline_events(id, issue_id, event_type, description, metadata, created_at, actor)"
                " VALUES (?,?,?,?,?,?,?)",
                (event.id, issue_id, event_type, event.description, meta_text, event.created_at, actor),
            )
            self._audit.write_audit_event(event_type, "issue", issue_id,
                                          {"timeline_event_id": event.id, "metadata": metadata})
        return event

    def get_timeline_events(self, issue_id: str) -> list[TimelineEvent]:
        """Events of an issue, oldest first."""
        rows = self._db.query(
            "SELECT id, issue_id, event_type, description, metadata, created_at, actor FROM timeline_events"
            " WHERE issue_id = ? ORDER BY created_at, id", (issue_id,))
        return [TimelineEvent(r["id"], r["issue_id"], r["event_type"], r["description"],
                              from_json(r["metadata"]), r["created_at"], r["actor"]) for r in rows]

    def timeline_frame(self, issue_id: str):
        """The timeline as a pandas DataFrame (imported lazily)."""
        import pandas as pd

        events = self.get_timeline_events(issue_id)
        frame = pd.DataFrame([e.to_dict() for e in events],
                             columns=["id", "issue_id", "event_type", "description", "metadata", "created_at", "actor"])
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame
