"""Incident timeline: events dual-written to ``timeline_events`` and the audit log.

An event has the time it was recorded (``created_at``) and, when someone gives it, the time it
happened (``occurred_at``: a backfilled "14:02 paged"); the timeline is ordered by the latter
(``event.at``). People add notes, actions, mitigations, pages, escalations and customer
communications; the workbench adds the rest (triage, uploads, 5-Whys, documents, alerts, and
every change of an issue's status or severity, from ``IssueService.update_issue``).

Edits and deletions keep every earlier text: the replaced revision is copied to
``timeline_event_revisions`` in the same transaction as the change and its audit entry, and a
deleted event stays in the table (``deleted_at``), left out of the timeline and the metrics.
The incident metrics are computed by :mod:`tftsr_kernel.incident_metrics`, the one definition.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from ._text import is_valid_utf8
from ._util import from_json, sha256_hex, to_json, utc_now, uuid7
from .audit import AuditService
from .db import Database
from .errors import ConflictError, NotFoundError, ValidationError
from .incident_metrics import IncidentMetrics, incident_metrics
from .models import (CHANGE_EVENT_TYPES, HUMAN_EVENT_TYPES, TIMELINE_EVENT_TYPES, TimelineEvent,
                     TimelineEventRevision)

MAX_METADATA_BYTES = 10 * 1024
MAX_DESCRIPTION = 20_000
#: a backfilled time may be this far ahead of the clock (clock skew), no further
FUTURE_SLACK = timedelta(minutes=5)
EVENT_COLUMNS = ("id, issue_id, event_type, description, metadata, created_at, actor, occurred_at, revision,"
                 " updated_at, updated_by, deleted_at, deleted_by")
#: the timeline's order: when each event happened (backfilled time, else recorded), then recorded
EVENT_ORDER = "coalesce(occurred_at, created_at), created_at, id"
_REVISION_COLUMNS = ("id, event_id, issue_id, revision, event_type, description, metadata, occurred_at,"
                     " written_at, written_by, replaced_at, replaced_by, change")
_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
                      r"\s*(Z|UTC|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_UNSET = object()


def event_from_row(r) -> TimelineEvent:
    """A ``timeline_events`` row (selected with :data:`EVENT_COLUMNS`) as a record."""
    return TimelineEvent(r["id"], r["issue_id"], r["event_type"], r["description"], from_json(r["metadata"]),
                         r["created_at"], r["actor"], r["occurred_at"], r["revision"], r["updated_at"],
                         r["updated_by"], r["deleted_at"], r["deleted_by"])


def parse_event_time(value) -> str:
    """A user's time for an event as stored: ``'YYYY-MM-DD HH:MM:SS'`` UTC.

    Accepts ``YYYY-MM-DD HH:MM[:SS]`` (a ``T`` separator, fractions, and ``Z`` / ``UTC`` / an
    offset such as ``+02:00`` too; without an offset the time is UTC) or a ``datetime``. Refuses,
    with what to give instead, anything else, an impossible date, and a time in the future.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    else:
        if not isinstance(value, str):
            raise ValidationError("the event time must be text such as 2024-05-01 14:02:00 (UTC)")
        text = " ".join(value.split())
        shown = text[:40] + ("..." if len(text) > 40 else "")
        m = _TIME_RE.match(text) if is_valid_utf8(text) else None
        if m is None:
            raise ValidationError(f"cannot read the event time {shown!r}: give it as YYYY-MM-DD HH:MM:SS "
                                  "(UTC), e.g. 2024-05-01 14:02:00")
        day, clock, zone = m.groups()
        zone = (zone or "").upper()
        offset = "+00:00" if zone in ("", "Z", "UTC") else (zone if ":" in zone else zone[:3] + ":" + zone[3:])
        try:
            moment = datetime.fromisoformat(f"{day}T{clock}{offset}")
        except ValueError as exc:
            raise ValidationError(f"the event time {shown!r} is not a real date and time ({exc}); "
                                  "give it as YYYY-MM-DD HH:MM:SS (UTC)") from None
    moment = moment.astimezone(timezone.utc)
    if moment.year < 1970:
        raise ValidationError("the event time is before 1970; give the time the event happened (UTC)")
    if moment > datetime.now(timezone.utc) + FUTURE_SLACK:
        raise ValidationError(f"the event time {moment:%Y-%m-%d %H:%M:%S} UTC is in the future; give the time "
                              "the event happened (times are UTC)")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _clean_description(description) -> str:
    if not isinstance(description, str) or not description.strip():
        raise ValidationError("a timeline event needs a description")
    if not is_valid_utf8(description):
        raise ValidationError("the description is not valid UTF-8 text; give it in UTF-8")
    description = description.replace("\x00", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"the description is longer than {MAX_DESCRIPTION:,} characters")
    return description


def _check_type(event_type) -> str:
    if event_type not in TIMELINE_EVENT_TYPES:
        raise ValidationError(
            f"unknown timeline event type {event_type!r}; use one of: {', '.join(TIMELINE_EVENT_TYPES)}")
    return event_type


class TimelineService:
    def __init__(self, db: Database, audit: AuditService):
        self._db = db
        self._audit = audit
        self.actor_name = None  #: who is acting (set by the workbench); None: local

    def _actor(self) -> str:
        return self.actor_name() if self.actor_name is not None else "local"

    # -- write ------------------------------------------------------------------------------------
    def add_timeline_event(self, issue_id: str, event_type: str, description: str,
                           metadata: dict | None = None, *, occurred_at=None) -> TimelineEvent:
        """Record an event; one transaction writes the event, its audit entry and bumps the issue.

        ``occurred_at`` backfills when it happened (see :func:`parse_event_time`); the author is
        the acting user. Status and severity changes are recorded by ``issues.update_issue``.
        """
        _check_type(event_type)
        if event_type in CHANGE_EVENT_TYPES:
            raise ValidationError(f"{event_type} events are recorded when the issue is updated; change the "
                                  "issue's status or severity instead (tftsr issue update ID --status ...)")
        description = _clean_description(description)
        meta_text = None
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise ValidationError("timeline metadata must be a JSON object")
            try:
                meta_text = to_json(metadata)
            except (TypeError, ValueError):
                raise ValidationError("timeline metadata must be JSON-serialisable") from None
            if len(meta_text.encode("utf-8", "surrogatepass")) > MAX_METADATA_BYTES:
                raise ValidationError("timeline metadata is larger than 10 KB")
            if not is_valid_utf8(meta_text):
                raise ValidationError("timeline metadata is not valid UTF-8 text")
        occurred = parse_event_time(occurred_at) if occurred_at not in (None, "") else None
        with self._db.write() as conn:
            return self._insert(conn, issue_id, event_type, description, metadata, meta_text, occurred)

    def _insert(self, conn, issue_id, event_type, description, metadata, meta_text, occurred,
                now: str | None = None) -> TimelineEvent:
        actor = self._actor()
        event = TimelineEvent(uuid7(), issue_id, event_type, description, metadata, now or utc_now(), actor, occurred)
        cur = conn.execute("UPDATE issues SET updated_at = ? WHERE id = ?", (event.created_at, issue_id))
        if cur.rowcount == 0:
            raise NotFoundError(f"issue {issue_id} not found")
        conn.execute(
            "INSERT INTO timeline_events(id, issue_id, event_type, description, metadata, created_at, actor,"
            " occurred_at) VALUES (?,?,?,?,?,?,?,?)",
            (event.id, issue_id, event_type, description, meta_text, event.created_at, actor, occurred))
        details = {"timeline_event_id": event.id, "metadata": metadata}
        if occurred:
            details["occurred_at"] = occurred
        self._audit.write_audit_event(event_type, "issue", issue_id, details)
        return event

    def _record_issue_change(self, conn, issue_id: str, field: str, old, new, now: str) -> TimelineEvent:
        """The kernel's record of a status or severity change, inside the update's transaction and
        at its time (so a resolution's event and ``resolved_at`` agree); ``IssueService.update_issue``
        calls it (not a public method)."""
        event_type = f"{field}_change"
        metadata = {"field": field, "from": old, "to": new}
        return self._insert(conn, issue_id, event_type, f"{field.capitalize()} changed from {old} to {new}",
                            metadata, to_json(metadata), None, now)

    def _current(self, conn, event_id: str):
        row = conn.execute(f"SELECT {EVENT_COLUMNS} FROM timeline_events WHERE id = ?", (event_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"timeline event {event_id} not found")
        if row["deleted_at"]:
            raise ConflictError(f"timeline event {event_id} was deleted on {row['deleted_at']} UTC by "
                                f"{row['deleted_by']}; its history is kept, it can no longer be changed")
        return row

    def _keep_revision(self, conn, row, change: str, now: str, actor: str) -> str:
        """Copy the event's current revision to the history; returns the history row's id."""
        rid = uuid7()
        conn.execute(
            f"INSERT INTO timeline_event_revisions({_REVISION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (rid, row["id"], row["issue_id"], row["revision"], row["event_type"], row["description"],
             row["metadata"], row["occurred_at"], row["updated_at"] or row["created_at"],
             row["updated_by"] or row["actor"], now, actor, change))
        conn.execute("UPDATE issues SET updated_at = ? WHERE id = ?", (now, row["issue_id"]))
        return rid

    def edit_timeline_event(self, event_id: str, *, description: str | None = None, event_type: str | None = None,
                            occurred_at=_UNSET) -> TimelineEvent:
        """Change an event's description, time (``occurred_at``; ``""`` clears a backfilled time)
        or type (people's types only: note, action, mitigation, page, escalation,
        customer_communication). The text it replaces is kept (``get_event_history``) and the
        edit is audited. The author stays; ``updated_by`` names who edited."""
        changes: dict = {}
        if description is not None:
            changes["description"] = _clean_description(description)
        if event_type is not None:
            changes["event_type"] = _check_type(event_type)
        if occurred_at is not _UNSET:
            changes["occurred_at"] = parse_event_time(occurred_at) if occurred_at not in (None, "") else None
        with self._db.write() as conn:
            row = self._current(conn, event_id)
            if "event_type" in changes and changes["event_type"] != row["event_type"] and not (
                    row["event_type"] in HUMAN_EVENT_TYPES and changes["event_type"] in HUMAN_EVENT_TYPES):
                raise ValidationError(
                    f"a {row['event_type']} event cannot become {changes['event_type']}: only people's event types "
                    f"({', '.join(HUMAN_EVENT_TYPES)}) can be changed into one another")
            changed = sorted(k for k, v in changes.items() if v != row[k])
            if not changed:
                raise ValidationError("nothing to change: give a new description, type or time")
            now, actor = utc_now(), self._actor()
            rid = self._keep_revision(conn, row, "edit", now, actor)
            revision = row["revision"] + 1
            sets = ", ".join(f"{k} = ?" for k in changed)
            conn.execute(f"UPDATE timeline_events SET {sets}, revision = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                         [changes[k] for k in changed] + [revision, now, actor, event_id])
            self._audit.write_audit_event("edit_timeline_event", "timeline_event_revision", rid, {
                "timeline_event_id": event_id, "issue_id": row["issue_id"], "revision": revision, "fields": changed,
                "previous_description_sha256": sha256_hex(row["description"]),
                **({"description_sha256": sha256_hex(changes["description"])} if "description" in changed else {}),
                **({"event_type": changes["event_type"]} if "event_type" in changed else {}),
                **({"occurred_at": changes["occurred_at"]} if "occurred_at" in changed else {})})
            return event_from_row(conn.execute(f"SELECT {EVENT_COLUMNS} FROM timeline_events WHERE id = ?",
                                               (event_id,)).fetchone())

    def delete_timeline_event(self, event_id: str) -> TimelineEvent:
        """Take an event off the timeline (and out of the metrics). Nothing is lost: the event and
        its history stay readable (``get_timeline_events(..., include_deleted=True)``,
        ``get_event_history``), and the deletion is audited."""
        with self._db.write() as conn:
            row = self._current(conn, event_id)
            now, actor = utc_now(), self._actor()
            rid = self._keep_revision(conn, row, "delete", now, actor)
            conn.execute("UPDATE timeline_events SET deleted_at = ?, deleted_by = ? WHERE id = ?", (now, actor, event_id))
            self._audit.write_audit_event("delete_timeline_event", "timeline_event_revision", rid, {
                "timeline_event_id": event_id, "issue_id": row["issue_id"], "revision": row["revision"],
                "event_type": row["event_type"], "description_sha256": sha256_hex(row["description"])})
            return event_from_row(conn.execute(f"SELECT {EVENT_COLUMNS} FROM timeline_events WHERE id = ?",
                                               (event_id,)).fetchone())

    # -- read -------------------------------------------------------------------------------------
    def get_timeline_events(self, issue_id: str, *, include_deleted: bool = False) -> list[TimelineEvent]:
        """Events of an issue, oldest first (by when they happened: ``event.at``); deleted ones
        only with ``include_deleted``."""
        where = "" if include_deleted else " AND deleted_at IS NULL"
        rows = self._db.query(f"SELECT {EVENT_COLUMNS} FROM timeline_events WHERE issue_id = ?{where}"
                              f" ORDER BY {EVENT_ORDER}", (issue_id,))
        return [event_from_row(r) for r in rows]

    def get_timeline_event(self, event_id: str) -> TimelineEvent:
        """One event, deleted or not."""
        row = self._db.query_one(f"SELECT {EVENT_COLUMNS} FROM timeline_events WHERE id = ?", (event_id,))
        if row is None:
            raise NotFoundError(f"timeline event {event_id} not found")
        return event_from_row(row)

    def get_event_history(self, event_id: str) -> list[TimelineEventRevision]:
        """The revisions an edit or deletion replaced, oldest first (the current one is the event)."""
        self.get_timeline_event(event_id)
        rows = self._db.query(f"SELECT {_REVISION_COLUMNS} FROM timeline_event_revisions WHERE event_id = ?"
                              " ORDER BY revision", (event_id,))
        return [TimelineEventRevision.from_row(r, metadata=from_json(r["metadata"])) for r in rows]

    def incident_metrics(self, issue_id: str) -> IncidentMetrics:
        """Time to detect, acknowledge, mitigate, resolve and to root cause, from the incident's
        start (the one definition, :mod:`tftsr_kernel.incident_metrics`)."""
        with self._db.read():
            issue = self._db.query_one("SELECT created_at, resolved_at FROM issues WHERE id = ?", (issue_id,))
            if issue is None:
                raise NotFoundError(f"issue {issue_id} not found")
            events = self.get_timeline_events(issue_id)
        return incident_metrics(events, issue["created_at"], issue["resolved_at"])

    def timeline_frame(self, issue_id: str):
        """The timeline as a pandas DataFrame (imported lazily)."""
        import pandas as pd

        events = self.get_timeline_events(issue_id)
        frame = pd.DataFrame([e.to_dict() for e in events], columns=list(TimelineEvent.__dataclass_fields__))
        for col in ("created_at", "at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame
