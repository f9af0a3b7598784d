"""Where notification events come from: the workbench's own issue and 5-Whys calls.

Kept apart from ``notifications.py`` so opening a workbench loads nothing of the delivery code.
"""

from __future__ import annotations

import logging

from ..errors import TftsrError

log = logging.getLogger("tftsr.notifications")

_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def install_events(wb) -> None:
    """Wrap the workbench's issue and 5-Whys calls so their changes emit events (after the call
    returned, i.e. after the change was committed). Nothing is loaded while no channel exists."""
    import functools

    def has_channels() -> bool:
        try:
            return wb.db.query_one("SELECT 1 FROM notification_channels WHERE enabled = 1 LIMIT 1") is not None
        except Exception:
            return False

    def fire(event, issue_id, detail=None):
        try:
            wb.notifications.emit_later(event, issue_id, detail)   # delivered in the background, in order
        except TftsrError as exc:  # an event never fails the change
            log.warning("notification %s for issue %s not queued: %s", event, issue_id, exc)

    issues, whys = wb.issues, wb.whys
    create, update, root = issues.create_issue, issues.update_issue, whys.record_root_cause

    @functools.wraps(create)
    def create_issue(*args, **kwargs):
        issue = create(*args, **kwargs)
        if has_channels():
            fire("issue_created", issue.id)
        return issue

    @functools.wraps(update)
    def update_issue(issue_id, **updates):
        before = wb.db.query_one("SELECT severity, status FROM issues WHERE id = ?", (issue_id,)) \
            if has_channels() else None
        detail = update(issue_id, **updates)
        if before is not None:
            after = detail.issue
            if _SEVERITY_RANK.get(after.severity, 0) > _SEVERITY_RANK.get(before[0], 0):
                fire("severity_raised", issue_id, f"Severity raised from {before[0]} to {after.severity}.")
            if after.status in ("resolved", "closed") and before[1] not in ("resolved", "closed"):
                fire("resolved", issue_id)
        return detail

    @functools.wraps(root)
    def record_root_cause(issue_id, root_cause, *args, **kwargs):
        result = root(issue_id, root_cause, *args, **kwargs)
        if has_channels():
            fire("root_cause_identified", issue_id, f"Root cause: {root_cause}")
        return result

    for target, name, fn in ((issues, "create_issue", create_issue), (issues, "update_issue", update_issue),
                             (whys, "record_root_cause", record_root_cause)):
        setattr(target, name, fn)
