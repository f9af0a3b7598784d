"""5-Whys steps (``resolution_steps``): written by the chat tracker or by hand, levels 1-5.

A step's question is stored without a leading "Why N:" (the level is shown beside it). The root
cause is only what was recorded as identified (by hand, or from the model's ROOT-CAUSE marker).
"""

from __future__ import annotations

import re

from ._util import utc_now, uuid7
from .audit import AuditService
from .db import Database
from .errors import ConflictError, NotFoundError, ValidationError
from .models import ResolutionStep
from .timeline import TimelineService

#: a leading "Why 2:", "why #2 -", "Why 3)" at the start of a question (repeated prefixes too)
_WHY_PREFIX = re.compile(r"^(?:\s*[*_]*\s*why\s*#?\s*[1-9]\s*[*_]*\s*[:.)\-–—][*_]*\s*)+", re.IGNORECASE)


def strip_why_prefix(text: str | None) -> str:
    """``text`` without a leading "Why 2:" (or a repeated "Why 1: Why 1:"); unchanged when
    nothing else would be left."""
    text = (text or "").strip()
    rest = _WHY_PREFIX.sub("", text, count=1).strip()
    return rest or text


def _step(row) -> ResolutionStep:
    step = ResolutionStep.from_row(row)
    step.why_question = strip_why_prefix(step.why_question)
    return step


_COLS = "id, issue_id, step_order, why_question, answer, evidence, created_at"


class WhysService:
    def __init__(self, db: Database, audit: AuditService, timeline: TimelineService):
        self._db = db
        self._audit = audit
        self._timeline = timeline

    def list_five_whys(self, issue_id: str) -> list[ResolutionStep]:
        """The issue's steps by level (questions without a "Why N:" prefix, also for steps that
        older versions stored with one)."""
        return [_step(r) for r in self._db.query(
            f"SELECT {_COLS} FROM resolution_steps WHERE issue_id = ? ORDER BY step_order, created_at",
            (issue_id,))]

    def get_five_why(self, entry_id: str) -> ResolutionStep:
        row = self._db.query_one(f"SELECT {_COLS} FROM resolution_steps WHERE id = ?", (entry_id,))
        if row is None:
            raise NotFoundError(f"5-Whys entry {entry_id} not found")
        return _step(row)

    def add_five_why(self, issue_id: str, why_number: int, question: str, answer: str | None = None,
                     evidence: str | None = None, *, record_event: bool = True) -> ResolutionStep:
        """Add the step for level ``why_number`` (1-5); one step per level.

        An answered step records ``why_level_advanced`` on the timeline.
        """
        if not isinstance(why_number, int) or not 1 <= why_number <= 5:
            raise ValidationError("the why number must be between 1 and 5")
        question = strip_why_prefix(question)
        if not question:
            raise ValidationError("a 5-Whys step needs a question")
        step = ResolutionStep(uuid7(), issue_id, why_number, question[:2000],
                              (answer or "").strip() or None, (evidence or "").strip() or None, utc_now())
        with self._db.write() as conn:
            if not conn.execute("SELECT 1 FROM issues WHERE id = ?", (issue_id,)).fetchone():
                raise NotFoundError(f"issue {issue_id} not found")
            if conn.execute("SELECT 1 FROM resolution_steps WHERE issue_id = ? AND step_order = ?",
                            (issue_id, why_number)).fetchone():
                raise ConflictError(f"why {why_number} already exists for this issue; update it instead")
            conn.execute(f"INSERT INTO resolution_steps({_COLS}) VALUES (?,?,?,?,?,?,?)",
                         (step.id, issue_id, why_number, step.why_question, step.answer, step.evidence,
                          step.created_at))
            self._audit.write_audit_event("add_five_why", "resolution_step", step.id,
                                          {"issue_id": issue_id, "step_order": why_number})
            if record_event and step.answer:
                self._timeline.add_timeline_event(
                    issue_id, "why_level_advanced", f"Why {why_number} answered",
                    {"from_level": why_number, "to_level": why_number + 1, "step_id": step.id})
        return step

    def update_five_why(self, entry_id: str, answer: str | None = None, *, question: str | None = None,
                        evidence: str | None = None) -> ResolutionStep:
        """Set or correct the answer (and optionally question/evidence) of a step."""
        fields = {}
        if answer is not None:
            fields["answer"] = answer.strip() or None
        if question is not None:
            if not question.strip():
                raise ValidationError("the question must not be empty")
            fields["why_question"] = strip_why_prefix(question)[:2000]
        if evidence is not None:
            fields["evidence"] = evidence.strip() or None
        if not fields:
            raise ValidationError("nothing to update: give an answer, question or evidence")
        with self._db.write() as conn:
            before = self.get_five_why(entry_id)
            conn.execute(f"UPDATE resolution_steps SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                         list(fields.values()) + [entry_id])
            self._audit.write_audit_event("update_five_why", "resolution_step", entry_id,
                                          {"issue_id": before.issue_id, "fields": sorted(fields)})
            after = self.get_five_why(entry_id)
            if after.answer and not before.answer:
                self._timeline.add_timeline_event(
                    before.issue_id, "why_level_advanced", f"Why {before.step_order} answered",
                    {"from_level": before.step_order, "to_level": before.step_order + 1, "step_id": entry_id})
        return after

    def record_root_cause(self, issue_id: str, root_cause: str, confidence: float | None = None):
        """Record ``root_cause_identified`` on the timeline (once per distinct statement)."""
        root_cause = (root_cause or "").strip()
        if not root_cause:
            raise ValidationError("the root cause must not be empty")
        meta = {"root_cause": root_cause[:2000]}
        if confidence is not None:
            meta["confidence"] = confidence
        return self._timeline.add_timeline_event(issue_id, "root_cause_identified",
                                                 "Root cause identified", meta)

    def root_cause(self, issue_id: str) -> str | None:
        """The latest recorded root cause (``root_cause_identified``), or None while none has
        been identified: an answered why is not a root cause until someone says so."""
        for ev in reversed(self._timeline.get_timeline_events(issue_id)):
            if ev.event_type == "root_cause_identified" and ev.metadata and ev.metadata.get("root_cause"):
                return ev.metadata["root_cause"]
        return None
