"""Alert intake: Prometheus Alertmanager webhook notifications (payload version 4) become issues.

One issue per alert group (Alertmanager's ``groupKey``): the first notification with firing
alerts opens it (severity from the ``severity`` label, labels and annotations in the
description); later notifications of the same group add what changed to the issue's timeline:
an alert that joins the group (``alert_received``) and an alert that ends (``alert_resolved``),
each once. A group whose issue was resolved or closed opens a new issue when it fires again.

Everything is untrusted text: it is stored as plain text (panels escape it) and bounded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .._util import utc_now
from ..categories import CATEGORIES
from ..errors import ValidationError
from ..models import Record
from .actor import require
from .guard import internal

MAX_ALERTS = 1000
MAX_LABELS = 64
MAX_VALUE = 4000
TIMELINE_PER_NOTIFICATION = 50
_SEVERITY = {
    "critical": "critical", "crit": "critical", "page": "critical", "emergency": "critical", "fatal": "critical",
    "high": "high", "error": "high", "major": "high", "p1": "critical", "p2": "high",
    "warning": "medium", "warn": "medium", "medium": "medium", "minor": "medium", "p3": "medium",
    "info": "low", "informational": "low", "low": "low", "none": "low", "notice": "low", "p4": "low", "p5": "low",
}
_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
_ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass
class AlertIntakeResult(Record):
    issue_id: str
    group_key: str
    created: bool          # a new issue was opened for this notification
    status: str            # the group's status: firing | resolved
    firing: int
    resolved: int
    events_added: int


def _labels(value, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be an object of strings")
    if len(value) > MAX_LABELS:
        raise ValidationError(f"{what} has more than {MAX_LABELS} entries")
    out = {}
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValidationError(f"{what} must map strings to strings")
        out[k[:200]] = v.replace("\x00", "")[:MAX_VALUE]
    return out


def _text(value, what: str, *, required: bool = False, limit: int = 2000) -> str:
    if value is None or value == "":
        if required:
            raise ValidationError(f"the payload has no {what}")
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string")
    return value.replace("\x00", "")[:limit]


def parse_payload(payload) -> dict:
    """Check an Alertmanager webhook body (version 4) and return its parts, or raise ValidationError."""
    if not isinstance(payload, dict):
        raise ValidationError("the body must be a JSON object (an Alertmanager webhook notification)")
    version = payload.get("version")
    if version != "4":
        raise ValidationError(f"unsupported Alertmanager payload version {version!r}; this receiver reads version \"4\"")
    group_key = _text(payload.get("groupKey"), "groupKey", required=True, limit=4000)
    status = payload.get("status")
    if status not in ("firing", "resolved"):
        raise ValidationError("status must be \"firing\" or \"resolved\"")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise ValidationError("alerts must be a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise ValidationError(f"more than {MAX_ALERTS} alerts in one notification")
    parsed = []
    for i, a in enumerate(alerts):
        if not isinstance(a, dict):
            raise ValidationError(f"alerts[{i}] must be an object")
        a_status = a.get("status")
        if a_status not in ("firing", "resolved"):
            raise ValidationError(f"alerts[{i}].status must be \"firing\" or \"resolved\"")
        labels = _labels(a.get("labels"), f"alerts[{i}].labels")
        fp = _text(a.get("fingerprint"), f"alerts[{i}].fingerprint", limit=200)
        if not fp:  # older senders: derive one from the labels
            fp = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
        parsed.append({
            "status": a_status, "labels": labels,
            "annotations": _labels(a.get("annotations"), f"alerts[{i}].annotations"),
            "startsAt": _text(a.get("startsAt"), f"alerts[{i}].startsAt", required=True, limit=64),
            "endsAt": _text(a.get("endsAt"), f"alerts[{i}].endsAt", limit=64),
            "generatorURL": _text(a.get("generatorURL"), f"alerts[{i}].generatorURL"),
            "fingerprint": fp,
        })
    truncated = payload.get("truncatedAlerts", 0)
    return {
        "group_key": group_key, "status": status, "alerts": parsed,
        "receiver": _text(payload.get("receiver"), "receiver", limit=200),
        "groupLabels": _labels(payload.get("groupLabels"), "groupLabels"),
        "commonLabels": _labels(payload.get("commonLabels"), "commonLabels"),
        "commonAnnotations": _labels(payload.get("commonAnnotations"), "commonAnnotations"),
        "externalURL": _text(payload.get("externalURL"), "externalURL"),
        "truncatedAlerts": truncated if isinstance(truncated, int) and truncated >= 0 else 0,
    }


def severity_of(alerts: list[dict], common: dict[str, str]) -> str:
    found = [_SEVERITY.get(a["labels"].get("severity", "").strip().lower()) for a in alerts]
    found = [s for s in found if s] or ([_SEVERITY[common["severity"].lower()]]
                                        if common.get("severity", "").lower() in _SEVERITY else [])
    return min(found, key=_RANK.__getitem__) if found else "medium"


def _alert_name(p: dict) -> str:
    return (p["commonLabels"].get("alertname") or p["groupLabels"].get("alertname")
            or p["alerts"][0]["labels"].get("alertname") or "alert")


def _title(p: dict) -> str:
    summary = p["commonAnnotations"].get("summary") or p["alerts"][0]["annotations"].get("summary", "")
    extra = ", ".join(f"{k}={v}" for k, v in sorted(p["groupLabels"].items()) if k != "alertname")
    title = f"[Alertmanager] {_alert_name(p)}"
    if extra:
        title += f" ({extra})"
    if summary:
        title += f": {summary}"
    return " ".join(title.split())[:480]


def _kv(d: dict[str, str]) -> str:
    return "\n".join(f"- {k}: {v}" for k, v in sorted(d.items())) or "- (none)"


def _description(p: dict) -> str:
    parts = [f"Opened from an Alertmanager notification (receiver {p['receiver'] or '-'}, "
             f"group key {p['group_key']}).", ""]
    if p["externalURL"]:
        parts.append(f"Alertmanager: {p['externalURL']}")
    parts += ["", "Group labels:", _kv(p["groupLabels"]), "", "Common labels:", _kv(p["commonLabels"]),
              "", "Common annotations:", _kv(p["commonAnnotations"])]
    for i, a in enumerate(p["alerts"][:100], 1):
        parts += ["", f"Alert {i} ({a['status']}, since {a['startsAt']}, fingerprint {a['fingerprint']}):",
                  "Labels:", _kv(a["labels"]), "Annotations:", _kv(a["annotations"])]
        if a["generatorURL"]:
            parts.append(f"Source: {a['generatorURL']}")
    if len(p["alerts"]) > 100:
        parts += ["", f"... and {len(p['alerts']) - 100} more alerts"]
    if p["truncatedAlerts"]:
        parts += ["", f"Alertmanager left out {p['truncatedAlerts']} alerts (max_alerts)."]
    return "\n".join(parts)[:90_000]


def _short(a: dict) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(a["labels"].items()) if k not in ("alertname", "severity"))
    name = a["labels"].get("alertname", "alert")
    return f"{name} ({labels})" if labels else name


class AlertService:
    """``wb.alerts``: the intake behind ``POST /api/v1/alerts/alertmanager``."""

    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db

    def _actor(self):
        return self._wb.team.actor

    def receive_alertmanager(self, payload) -> AlertIntakeResult:
        """Open or update the issue of one Alertmanager notification (one transaction)."""
        actor = require(self._actor(), "alerts:write")
        p = parse_payload(payload)
        wb, gk, now = self._wb, p["group_key"], utc_now()
        # the intake's own steps (create the issue, add timeline events) are allowed by alerts:write
        with internal(), self._db.write() as conn:
            row = conn.execute("SELECT g.issue_id, i.status FROM alert_groups g JOIN issues i ON i.id = g.issue_id"
                               " WHERE g.group_key = ?", (gk,)).fetchone()
            firing = [a for a in p["alerts"] if a["status"] == "firing"]
            created = False
            if row is None or (row["status"] in ("resolved", "closed") and firing):
                if not firing:  # a resolution for a group we never saw open: nothing to attach it to
                    raise ValidationError("a resolved notification for an alert group with no open issue; "
                                          "nothing was recorded")
                category = p["commonLabels"].get("category")
                issue = wb.issues.create_issue(
                    _title(p), _description(p), severity_of(p["alerts"], p["commonLabels"]),
                    category if category in CATEGORIES else None, source="alertmanager",
                    tags=["alertmanager", _alert_name(p)[:60]])
                issue_id, created = issue.id, True
                conn.execute("INSERT INTO alert_groups(group_key, issue_id, receiver, status, created_at, updated_at)"
                             " VALUES (?,?,?,?,?,?) ON CONFLICT(group_key) DO UPDATE SET issue_id = excluded.issue_id,"
                             " status = excluded.status, updated_at = excluded.updated_at",
                             (gk, issue_id, p["receiver"] or None, p["status"], now, now))
                conn.execute("DELETE FROM alert_states WHERE group_key = ?", (gk,))
            else:
                issue_id = row["issue_id"]
                conn.execute("UPDATE alert_groups SET status = ?, updated_at = ? WHERE group_key = ?",
                             (p["status"], now, gk))
            events = 0
            for a in p["alerts"]:
                key = (gk, a["fingerprint"], a["startsAt"])
                prev = conn.execute("SELECT status FROM alert_states WHERE group_key = ? AND fingerprint = ?"
                                    " AND starts_at = ?", key).fetchone()
                ends = a["endsAt"] if a["endsAt"] and a["endsAt"] != _ZERO_TIME else None
                if prev is None:
                    conn.execute("INSERT INTO alert_states(group_key, fingerprint, starts_at, status, ends_at, updated_at)"
                                 " VALUES (?,?,?,?,?,?)", key + (a["status"], ends, now))
                elif prev["status"] != a["status"]:
                    conn.execute("UPDATE alert_states SET status = ?, ends_at = ?, updated_at = ? WHERE group_key = ?"
                                 " AND fingerprint = ? AND starts_at = ?", (a["status"], ends, now) + key)
                else:
                    continue
                if events >= TIMELINE_PER_NOTIFICATION:
                    events += 1
                    continue
                meta = {"group_key": gk[:500], "fingerprint": a["fingerprint"], "starts_at": a["startsAt"],
                        "labels": dict(list(a["labels"].items())[:20]), "via": actor.name}
                if a["status"] == "resolved":
                    meta["ends_at"] = ends
                    wb.timeline.add_timeline_event(issue_id, "alert_resolved",
                                                   f"Alert resolved: {_short(a)}" + (f" at {ends}" if ends else ""),
                                                   meta)
                else:
                    summary = a["annotations"].get("summary", "")
                    wb.timeline.add_timeline_event(issue_id, "alert_received",
                                                   f"Alert firing since {a['startsAt']}: {_short(a)}"
                                                   + (f" - {summary}" if summary else ""), meta)
                events += 1
            if events > TIMELINE_PER_NOTIFICATION:
                wb.timeline.add_timeline_event(issue_id, "alert_received",
                                               f"{events - TIMELINE_PER_NOTIFICATION} more alert changes in this "
                                               "notification (see the description)", {"group_key": gk[:500]})
            wb.audit.write_audit_event("alert_received", "issue", issue_id,
                                       {"source": "alertmanager", "group_key_sha256": hashlib.sha256(gk.encode()).hexdigest(),
                                        "status": p["status"], "alerts": len(p["alerts"]), "created": created,
                                        "via": actor.name})
        return AlertIntakeResult(issue_id, gk, created, p["status"], len(firing),
                                 len(p["alerts"]) - len(firing), min(events, TIMELINE_PER_NOTIFICATION + 1))
