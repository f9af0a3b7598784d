"""RCA and post-mortem Markdown, built from an issue's stored data (no AI needed).

Pure functions over :class:`IncidentData`. Every untrusted value passes through
``md_inline``/``md_cell``/``md_text``, so a hostile title or answer cannot break a table, start
a heading or inject HTML. Where data is missing the document says so plainly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..incident_metrics import MISSING, IncidentMetrics, incident_metrics
from ..incident_metrics import format_duration as metric_duration
from ..models import Issue, LogFile, ResolutionStep, TimelineEvent
from .markdown import md_cell, md_inline, md_text

PRODUCT = "TFTSR Workbench"
RCA_SECTIONS = ("Issue Summary", "Description", "Incident Timeline", "Incident Metrics", "5 Whys Analysis",
                "Root Cause", "Log Files Analyzed", "Corrective Actions", "Lessons Learned")
POSTMORTEM_SECTIONS = ("Metadata", "Executive Summary", "Impact", "Timeline", "Root Cause Analysis",
                       "Contributing Factors", "What Went Well", "What Could Be Improved", "Action Items",
                       "Appendix: Log Files")
EVENT_LABELS = {
    "triage_started": "Triage Started",
    "log_uploaded": "Log Uploaded",
    "why_level_advanced": "Why Level Advanced",
    "root_cause_identified": "Root Cause Identified",
    "rca_generated": "RCA Generated",
    "postmortem_generated": "Post-Mortem Generated",
    "document_exported": "Document Exported",
    "alert_received": "Alert Received",
    "alert_resolved": "Alert Resolved",
    "note": "Note",
    "action": "Action",
    "mitigation": "Mitigation",
    "page": "Page",
    "escalation": "Escalation",
    "customer_communication": "Customer Communication",
    "status_change": "Status Change",
    "severity_change": "Severity Change",
}
_WHY_PREFIX = re.compile(r"^\s*why\s*#?\s*\d\s*[:.)-]\s*", re.IGNORECASE)


@dataclass
class IncidentData:
    """Everything a document is built from (read in one go by the service)."""

    issue: Issue
    steps: list[ResolutionStep]
    events: list[TimelineEvent]
    logs: list[LogFile]
    root_cause: str | None
    image_count: int = 0
    conversation_count: int = 0
    message_counts: dict[str, int] = field(default_factory=dict)  # role -> count
    generated_at: str = ""  # 'YYYY-MM-DD HH:MM:SS' UTC

    @property
    def message_total(self) -> int:
        return sum(self.message_counts.get(r, 0) for r in ("user", "assistant"))


# --- small formatting helpers ----------------------------------------------------------------------
def format_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1048576:.1f} MB"


def _question(step: ResolutionStep) -> str:
    q = _WHY_PREFIX.sub("", step.why_question or "").strip()
    return q or (step.why_question or "").strip() or "(no question recorded)"


def _labelled(label: str, text: str | None, missing: str) -> str:
    body = md_text(text) if text and text.strip() else ""
    if not body:
        return f"**{label}:** _{missing}_"
    return f"**{label}:** {body}"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in md_text(text).split("\n"))


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _first_event(data: IncidentData, event_type: str) -> TimelineEvent | None:
    return next((e for e in data.events if e.event_type == event_type), None)


def metrics(data: IncidentData) -> IncidentMetrics:
    """The incident metrics: the one definition (``incident_metrics``), as the timeline panel and
    ``tftsr timeline --json`` compute them."""
    return incident_metrics(data.events, data.issue.created_at, data.issue.resolved_at)


def _metric_rows(m: IncidentMetrics) -> list[list[str]]:
    rows = [["Incident Start (UTC)", m.started_at or "N/A"]]
    rows += [[label, value] for label, value in m.rows(MISSING)]
    rows.append(["Incident Duration", f"{metric_duration(m.duration_s)} (incident start to resolution)"
                 if m.duration_s is not None else "N/A (not resolved yet)"])
    return rows


def _answered(data: IncidentData) -> list[ResolutionStep]:
    return [s for s in data.steps if s.answer]


def _issue_fields(i: Issue) -> list[tuple[str, str]]:
    return [("Category", i.category or "Uncategorised"), ("Status", i.status), ("Severity", i.severity)]


def _log_rows(data: IncidentData) -> list[list[str]]:
    return [[md_cell(lf.file_name), format_size(lf.file_size), "Yes" if lf.redacted else "No",
             f"`{(lf.content_hash or '')[:8]}`"] for lf in data.logs]


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def _event_text(e: TimelineEvent) -> str:
    """'Label - description', or just the label when the description only repeats it."""
    label = EVENT_LABELS.get(e.event_type, md_cell(e.event_type))
    if " ".join(e.description.split()).lower() == label.lower():
        return label
    return f"{label} - {md_cell(e.description)}"


def _footer(data: IncidentData) -> str:
    basis = (f"{plural(len(data.events), 'timeline event')}, {plural(len(data.steps), '5-Whys step')}, "
             f"{plural(len(data.logs), 'log file')} and {plural(data.message_total, 'AI conversation message')}")
    return f"---\n\n_Generated by {PRODUCT} on {data.generated_at} UTC from {basis}._\n"


def _join(parts: list[str]) -> str:
    return "\n\n".join(p.strip("\n") for p in parts if p is not None) + "\n"


# --- RCA -----------------------------------------------------------------------------------------
def rca_title(issue: Issue) -> str:
    return f"Root Cause Analysis: {' '.join(issue.title.split())}"


def build_rca(data: IncidentData) -> str:
    i = data.issue
    out = [f"# Root Cause Analysis: {md_inline(i.title)}"]

    summary = [("Issue ID", f"`{i.id}`"), ("Title", md_cell(i.title))]
    summary += [(k, md_cell(v)) for k, v in _issue_fields(i)]
    summary += [("Source", md_cell(i.source)), ("Assigned To", md_cell(i.assigned_to or "Unassigned")),
                ("Created (UTC)", i.created_at), ("Last Updated (UTC)", i.updated_at)]
    if i.resolved_at:
        summary.append(("Resolved (UTC)", i.resolved_at))
    if i.tags:
        summary.append(("Tags", md_cell(", ".join(i.tags))))
    out += ["## Issue Summary", _table(["Field", "Value"], [[k, v] for k, v in summary])]

    out += ["## Description", md_text(i.description) if i.description else "_No description recorded._"]

    out.append("## Incident Timeline")
    if data.events:
        out.append(_table(["Time (UTC)", "Event", "Description", "By"],
                          [[e.at, EVENT_LABELS.get(e.event_type, md_cell(e.event_type)),
                            md_cell(e.description), md_cell(e.actor)] for e in data.events]))
    else:
        out.append("_No timeline events recorded._")

    answered = _answered(data)
    metrics_rows = [
        ["Total Events", str(len(data.events))],
        *_metric_rows(metrics(data)),
        ["5-Whys Steps", f"{len(data.steps)} recorded, {len(answered)} answered"],
        ["Log Files", str(len(data.logs))],
        ["AI Conversation", f"{plural(data.message_total, 'message')} in "
                            f"{plural(data.conversation_count, 'conversation')}"],
    ]
    out += ["## Incident Metrics", _table(["Metric", "Value"], metrics_rows)]

    out.append("## 5 Whys Analysis")
    if data.steps:
        for s in data.steps:
            out.append(f"### Why {s.step_order}: {md_inline(_question(s))}")
            out.append(_labelled("Answer", s.answer, "Awaiting answer."))
            out.append(_labelled("Evidence", s.evidence, "No evidence recorded."))
    else:
        out.append("_No 5-Whys steps recorded._")

    out.append("## Root Cause")
    out.append(_quote(data.root_cause) if data.root_cause else
               "_No root cause identified yet: answer the 5 Whys or record the root cause on the timeline._")

    out.append("## Log Files Analyzed")
    out.append(_table(["File", "Size", "Redacted", "SHA-256"], _log_rows(data)) if data.logs
               else "_No log files uploaded._")

    out.append("## Corrective Actions")
    out.append("### Immediate Actions")
    out.append(f"- [ ] Remediate the root cause: {md_inline(data.root_cause)}" if data.root_cause
               else "_No immediate actions recorded yet._")
    out.append("### Long-Term Actions")
    factors = [s for s in answered if s.answer != data.root_cause]
    if factors:
        out.append("\n".join(f"- [ ] Prevent recurrence of: {md_inline(_short(s.answer))} (why {s.step_order})"
                             for s in factors))
    else:
        out.append("_No long-term actions recorded yet._")

    out += ["## Lessons Learned", "_No lessons recorded yet._", _footer(data)]
    return _join(out)


def _short(text: str | None, limit: int = 200) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


# --- post-mortem ---------------------------------------------------------------------------------
def postmortem_title(issue: Issue) -> str:
    return f"Blameless Post-Mortem: {' '.join(issue.title.split())}"


def build_postmortem(data: IncidentData) -> str:
    i = data.issue
    out = [f"# Blameless Post-Mortem: {md_inline(i.title)}"]

    meta = [("Date (UTC)", i.created_at[:10]), ("Severity", i.severity), ("Category", md_cell(i.category or "Uncategorised")),
            ("Status", i.status), ("Last Updated (UTC)", i.updated_at),
            ("Assigned To", md_cell(i.assigned_to or "Unassigned")), ("Authors", "Not recorded"),
            ("Reviewers", "Not recorded"), ("Issue ID", f"`{i.id}`")]
    out += ["## Metadata", _table(["Field", "Value"], [[k, v] for k, v in meta])]

    out.append("## Executive Summary")
    state = f"resolved at {i.resolved_at} UTC" if i.resolved_at else f"currently {i.status}"
    summary = (f"A {i.severity}-severity {md_inline(i.category or 'uncategorised')} incident, opened "
               f"{i.created_at} UTC and {state}.")
    if data.root_cause:
        summary += f" Root cause: {md_inline(_short(data.root_cause, 300))}"
    else:
        summary += " The root cause has not been identified yet."
    out += [md_text(i.description) if i.description else "_No description recorded._", summary]

    m = metrics(data)
    impact = _metric_rows(m)
    impact = [impact[-1], *impact[:-1]]  # the duration first, then when it started and each metric
    impact += [["Users Affected", "Not recorded"], ["Revenue Impact", "Not recorded"], ["SLA Impact", "Not recorded"]]
    out += ["## Impact", _table(["Measure", "Value"], impact)]

    rows = [(i.created_at, "Issue created")]
    rows += [(e.at, _event_text(e)) for e in data.events]
    resolved_events = [e for e in data.events if e.event_type == "status_change"
                       and (e.metadata or {}).get("to") in ("resolved", "closed")]
    if i.resolved_at and not resolved_events:  # older issues: resolved before changes were recorded
        rows.append((i.resolved_at, "Issue resolved"))
    rows.sort(key=lambda r: r[0])
    out += ["## Timeline", _table(["Time (UTC)", "Event"], [[t, d] for t, d in rows])]
    if not data.events:
        out.append("_No timeline events recorded beyond the issue's creation._")

    out += ["## Root Cause Analysis", "### 5 Whys"]
    if data.steps:
        out.append("\n".join(
            f"{n}. **Why?** {md_inline(_question(s))} → "
            + (md_inline(_short(s.answer, 500)) if s.answer else "_Awaiting answer._")
            for n, s in enumerate(data.steps, 1)))
    else:
        out.append("_No 5-Whys steps recorded._")
    out.append(f"**Root Cause:** {md_inline(data.root_cause)}" if data.root_cause
               else "**Root Cause:** _Not identified yet._")

    out.append("## Contributing Factors")
    out.append("_This review is blameless: it looks at systems and processes, not at individuals._")
    factors = [s for s in _answered(data) if s.answer != data.root_cause]
    out.append("\n".join(f"- {md_inline(_short(s.answer))} (why {s.step_order})" for s in factors) if factors
               else "_No contributing factors recorded._")

    out.append("## What Went Well")
    good = []
    if data.steps:
        good.append(f"- 5-Whys analysis conducted ({len(data.steps)} steps, {len(_answered(data))} answered).")
    rc_ev = _first_event(data, "root_cause_identified")
    if rc_ev is not None and m.time_to_root_cause_s is not None:
        good.append(f"- Root cause identified at {rc_ev.at} UTC, {metric_duration(m.time_to_root_cause_s)} "
                    "after the incident started.")
    if m.time_to_mitigate_s is not None:
        good.append(f"- Impact mitigated {metric_duration(m.time_to_mitigate_s)} after the incident started.")
    if data.logs:
        red = sum(1 for lf in data.logs if lf.redacted)
        good.append(f"- {plural(len(data.logs), 'log file')} collected as evidence, {red} reviewed and redacted for PII.")
    if data.message_total:
        good.append(f"- AI-assisted investigation: {plural(data.message_total, 'message')} in "
                    f"{plural(data.conversation_count, 'conversation')}.")
    out.append("\n".join(good) if good else "_Nothing recorded yet._")

    out.append("## What Could Be Improved")
    bad = []
    if not data.root_cause:
        bad.append("- The root cause has not been identified yet.")
    unanswered = [s for s in data.steps if not s.answer]
    if unanswered:
        bad.append(f"- {plural(len(unanswered), '5-Whys step has', '5-Whys steps have')} no answer.")
    unredacted = [lf for lf in data.logs if not lf.redacted]
    if unredacted:
        bad.append(f"- {plural(len(unredacted), 'log file was', 'log files were')} not reviewed for PII redaction.")
    if not data.logs:
        bad.append("- No log files were attached as evidence.")
    out.append("\n".join(bad) if bad else "_Nothing recorded yet._")

    out.append("## Action Items")
    owner = md_cell(i.assigned_to or "Unassigned")
    items = []
    if data.root_cause:
        items.append(["P0", f"Remediate the root cause: {md_cell(_short(data.root_cause))}", owner, "-", "Open"])
    items += [["P1", f"Prevent recurrence of: {md_cell(_short(s.answer))}", owner, "-", "Open"] for s in factors]
    out.append(_table(["Priority", "Action", "Owner", "Due", "Status"], items) if items
               else "_No action items recorded yet._")

    out.append("## Appendix: Log Files")
    out.append(_table(["File", "Size", "Redacted", "SHA-256"], _log_rows(data)) if data.logs
               else "_No log files uploaded._")
    out.append(_footer(data))
    return _join(out)


def count_sections(md: str) -> int:
    """The number of ``##`` sections of a generated document."""
    return sum(1 for line in md.splitlines() if line.startswith("## "))
