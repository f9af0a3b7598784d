"""The incident metrics, defined once: time to detect, acknowledge, mitigate, resolve and to root cause.

The timeline panel, the RCA and the post-mortem all call :func:`incident_metrics`, so they cannot
disagree. A pure function over the issue's timeline events (dicts or records with
``event_type``, ``created_at``, optionally ``occurred_at`` for a backfilled time and ``metadata``)
and the issue's creation / resolution times.

Definitions (each in whole seconds from the incident's start; ``None`` when it has not happened):

- **start**: the earliest event time (``occurred_at`` when given, else ``created_at``), backfilled
  events included; with no events, the issue's creation time. An event dated before the issue
  was created moves the start back; the issue's creation time never does by itself when events
  exist.
- **detected**: the first ``page`` or ``escalation`` event, else the first ``triage_started``.
- **acknowledged**: the first human response: the first status change to ``investigating``,
  or the first ``action``, ``mitigation``, ``note`` or ``customer_communication`` at or after
  detection, whichever came first.
- **mitigated**: the first ``mitigation`` event.
- **resolved**: the first status change to ``resolved`` or ``closed``, else the issue's
  ``resolved_at``.
- **root cause**: the first ``root_cause_identified`` event.

Any event whose metadata has ``"milestone": "detected" | "acknowledged" | "mitigated" |
"resolved" | "root_cause"`` counts for that milestone too (an imported timeline can say so).

The incident's **duration** is its time to resolve (start to resolution); an unresolved incident
has none yet. Callers pass only the events on the timeline (a deleted event does not count).
Who uses it: ``wb.timeline.incident_metrics`` (the CLI's ``tftsr timeline --json``, the timeline
panel) and ``documents/templates.py`` (the RCA's Incident Metrics, the post-mortem's Impact).
"""

from __future__ import annotations

import calendar
import time
from dataclasses import asdict, dataclass
from typing import Any, Iterable

METRIC_KEYS = ("time_to_detect_s", "time_to_acknowledge_s", "time_to_mitigate_s", "time_to_resolve_s",
               "time_to_root_cause_s")
MILESTONES = ("detected", "acknowledged", "mitigated", "resolved", "root_cause")
#: how the panel and the documents name each metric (one wording everywhere)
METRIC_LABELS = {
    "time_to_detect_s": "Time to detect",
    "time_to_acknowledge_s": "Time to acknowledge",
    "time_to_mitigate_s": "Time to mitigate",
    "time_to_resolve_s": "Time to resolve",
    "time_to_root_cause_s": "Time to root cause",
}
#: what the documents say when a milestone has not happened (the panel shows "-")
MISSING = {
    "time_to_detect_s": "N/A (no page, escalation or triage start recorded)",
    "time_to_acknowledge_s": "N/A (no acknowledgement recorded)",
    "time_to_mitigate_s": "N/A (no mitigation recorded)",
    "time_to_resolve_s": "N/A (not resolved yet)",
    "time_to_root_cause_s": "N/A (no root cause identified yet)",
}


@dataclass
class IncidentMetrics:
    started_at: str | None
    time_to_detect_s: int | None
    time_to_acknowledge_s: int | None
    time_to_mitigate_s: int | None
    time_to_resolve_s: int | None
    time_to_root_cause_s: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def metrics(self) -> dict[str, int | None]:
        """Only the five durations (the ``metrics`` object of ``tftsr timeline --json``)."""
        return {k: getattr(self, k) for k in METRIC_KEYS}

    @property
    def duration_s(self) -> int | None:
        """The incident's duration: start to resolution (None while it is not resolved)."""
        return self.time_to_resolve_s

    def rows(self, missing: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """(label, rendered duration) for each metric, in order: what the panel and the documents
        show; a metric that has not happened is ``missing[key]`` (default ``'-'``)."""
        return [(METRIC_LABELS[k], format_duration(getattr(self, k)) if getattr(self, k) is not None
                 else (missing or {}).get(k, "-")) for k in METRIC_KEYS]


def parse_ts(text: str | None) -> int | None:
    """``'YYYY-MM-DD HH:MM:SS'`` (UTC; a ``T`` separator and fractions accepted) as epoch seconds."""
    if not text:
        return None
    t = str(text).strip().replace("T", " ").rstrip("Z")
    try:
        return calendar.timegm(time.strptime(t[:19], "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return None


def format_ts(epoch: int | None) -> str | None:
    return None if epoch is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def format_duration(seconds: int | None) -> str:
    """``'-'``, ``'45s'``, ``'13m 20s'``, ``'2h 05m'``, ``'3d 4h'``: one rendering everywhere."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _get(ev, name: str, default=None):
    if isinstance(ev, dict):
        return ev.get(name, default)
    return getattr(ev, name, default)


def event_time(ev) -> int | None:
    """When the event happened: its backfilled ``occurred_at``, else when it was recorded."""
    return parse_ts(_get(ev, "occurred_at")) or parse_ts(_get(ev, "created_at"))


def _status_to(ev) -> str | None:
    if _get(ev, "event_type") not in ("status_change", "status_changed"):
        return None
    meta = _get(ev, "metadata") or {}
    new = meta.get("to") or meta.get("new") or meta.get("status") if isinstance(meta, dict) else None
    return str(new).lower() if new else None


def _milestone(ev) -> str | None:
    meta = _get(ev, "metadata") or {}
    m = meta.get("milestone") if isinstance(meta, dict) else None
    return m if m in MILESTONES else None


def incident_metrics(events: Iterable, created_at: str | None, resolved_at: str | None = None) -> IncidentMetrics:
    """The metrics of an incident from its timeline events and the issue's creation / resolution."""
    timed = sorted(((event_time(e), i, e) for i, e in enumerate(events) if event_time(e) is not None),
                   key=lambda x: (x[0], x[1]))
    created = parse_ts(created_at)
    start = timed[0][0] if timed else created
    if start is None:
        return IncidentMetrics(None, None, None, None, None, None)

    def first(pred, after: int | None = None) -> int | None:
        for t, _i, e in timed:
            if (after is None or t >= after) and pred(e):
                return t
        return None

    def typed(*types):
        return lambda e: _get(e, "event_type") in types

    def marked(name):
        return lambda e: _milestone(e) == name

    def either(*preds):
        return lambda e: any(p(e) for p in preds)

    detected = first(either(typed("page", "escalation"), marked("detected")))
    if detected is None:
        detected = first(typed("triage_started"))
    responses = [first(either(lambda e: _status_to(e) == "investigating", marked("acknowledged")))]
    if detected is not None:
        responses.append(first(typed("action", "mitigation", "note", "customer_communication"), after=detected))
    responses = [t for t in responses if t is not None]
    acknowledged = min(responses) if responses else None
    mitigated = first(either(typed("mitigation"), marked("mitigated")))
    resolved = first(either(lambda e: _status_to(e) in ("resolved", "closed"), marked("resolved")))
    if resolved is None:
        resolved = parse_ts(resolved_at)
    root = first(either(typed("root_cause_identified"), marked("root_cause")))

    def since(t: int | None) -> int | None:
        return None if t is None else max(0, t - start)

    return IncidentMetrics(format_ts(start), since(detected), since(acknowledged), since(mitigated),
                           since(resolved), since(root))
