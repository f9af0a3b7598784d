"""An incident's log for the log-templates tests: 30 minutes around now with steady traffic, a rate
jump of database errors and a template that appears late, both carrying hostile HTML; and
timeline events inside the log's time range (backfilled ones when the timeline supports it)."""

from __future__ import annotations

import inspect
import time

from tftsr_kernel.models import TIMELINE_EVENT_TYPES

SCRIPT = "<script>window.__xss=3;alert(3)</script>"
IMG = "<img src=x onerror=window.__xss=4;alert(4)>"
EVENT_XSS = "<img src=y onerror=window.__xss=5;alert(5)> paged the on-call"


def incident_log(now: int | None = None) -> tuple[str, int]:
    """(text, start epoch): 20 minutes before ``now`` to 10 minutes after it."""
    now = int(now or time.time())
    start = now - 20 * 60
    lines = []
    for s in range(0, 30 * 60, 2):
        t = start + s
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        lines.append(f"{stamp} INFO api: GET /checkout/{s % 97} 200 in {10 + s % 13}ms")
        if s % 30 == 0:
            lines.append(f"{stamp} WARN pool: connection wait {s % 300}ms")
        if 12 * 60 <= s < 15 * 60:  # the database burst: 2 lines every 2 s for three minutes
            lines.append(f"{stamp} ERROR db: pool exhausted {SCRIPT} waiting={s % 50}")
            lines.append(f"{stamp} ERROR db: pool exhausted {SCRIPT} waiting={s % 40 + 1}")
        if s >= 14 * 60 and s % 10 == 0:  # a new template, from minute 14 on
            lines.append(f"{stamp} WARN edge: circuit {IMG} opened for payments")
    return "\n".join(lines) + "\n", start


def add_events(wb, issue_id: str, start: int) -> list:
    """Timeline events of the incident, all inside the log's range. With backfill support
    (``occurred_at``) a page at minute 13 and a mitigation at minute 17 (new event types when the
    timeline knows them); without it, notes recorded now (minute 20 of the log)."""
    backfill = "occurred_at" in inspect.signature(wb.timeline.add_timeline_event).parameters
    fallback = "triage_started"
    events = []
    for minute, kind, text in ((13, "page", EVENT_XSS), (17, "mitigation", "rolled back release 4.2")):
        kind = kind if kind in TIMELINE_EVENT_TYPES else fallback
        if backfill:
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + minute * 60))
            events.append(wb.timeline.add_timeline_event(issue_id, kind, text, occurred_at=at))
        else:
            events.append(wb.timeline.add_timeline_event(issue_id, kind, text))
    return events
