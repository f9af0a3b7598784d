"""``tftsr timeline ISSUE_ID``: an incident's timeline and its metrics; add (backfilled with
``--at``), edit and delete events, and read an event's history."""

from __future__ import annotations

from ..errors import NotFoundError, ValidationError
from ._common import Output, UsageError, _records, _table, _wb


def _metadata(text):
    if not text:
        return None
    import json

    try:
        meta = json.loads(text)
    except ValueError:
        raise ValidationError("--metadata must be a JSON object") from None
    if not isinstance(meta, dict):
        raise ValidationError("--metadata must be a JSON object")
    return meta


def _on_issue(wb, issue_id: str, event_id: str):
    ev = wb.timeline.get_timeline_event(event_id)
    if ev.issue_id != issue_id:
        raise NotFoundError(f"timeline event {event_id} is not on issue {issue_id}")
    return ev


def _metrics_text(m) -> str:
    lines = [f"Incident start: {m.started_at or '-'} UTC"]
    lines += [f"{label}: {value}" for label, value in m.rows()]
    return "\n".join(lines)


def cmd_timeline(args):
    wb = _wb(args)
    wb.issues.require(args.issue_id)
    if args.at is not None and not (args.add or args.edit):
        raise UsageError("tftsr timeline: --at goes with --add or --edit")
    if args.type and not args.edit:
        raise UsageError("tftsr timeline: --type goes with --edit (with --add, give the type to --add)")
    if args.add:
        ev = wb.timeline.add_timeline_event(args.issue_id, args.add, args.description or args.add,
                                            _metadata(args.metadata), occurred_at=args.at)
        when = f"at {ev.occurred_at} (backfilled; recorded {ev.created_at})" if ev.occurred_at else f"at {ev.created_at}"
        return Output(ev.to_dict(), f"recorded {ev.event_type} {ev.id} {when}")
    if args.edit:
        _on_issue(wb, args.issue_id, args.edit)
        changes = {}
        if args.description is not None:
            changes["description"] = args.description
        if args.type:
            changes["event_type"] = args.type
        if args.at is not None:
            changes["occurred_at"] = args.at
        if not changes:
            raise UsageError("tftsr timeline: --edit needs --description, --type or --at (--at '' clears a time)")
        ev = wb.timeline.edit_timeline_event(args.edit, **changes)
        return Output(ev.to_dict(), f"edited {ev.id}: now revision {ev.revision} (earlier text kept: "
                                    f"tftsr timeline {args.issue_id} --history {ev.id})")
    if args.delete:
        _on_issue(wb, args.issue_id, args.delete)
        ev = wb.timeline.delete_timeline_event(args.delete)
        return Output(ev.to_dict(), f"deleted {ev.id} from the timeline (kept with its history: "
                                    f"tftsr timeline {args.issue_id} --history {ev.id})")
    if args.history:
        ev = _on_issue(wb, args.issue_id, args.history)
        revisions = _records(wb.timeline.get_event_history(args.history))
        state = f"deleted {ev.deleted_at} by {ev.deleted_by}" if ev.deleted_at else "current"
        text = (f"{ev.id} ({ev.event_type}, revision {ev.revision}, {state}): {ev.description}\n"
                "Earlier revisions:\n" + _table(revisions, ["revision", "written_at", "written_by", "event_type",
                                                             "occurred_at", "description", "change", "replaced_by"]))
        return Output({"event": ev.to_dict(), "revisions": revisions}, text)
    events = _records(wb.timeline.get_timeline_events(args.issue_id, include_deleted=args.deleted))
    metrics = wb.timeline.incident_metrics(args.issue_id)
    cols = ["at", "actor", "event_type", "description", "id"] + (["deleted_at"] if args.deleted else [])
    text = _table(events, cols) + "\n\n" + _metrics_text(metrics)
    return Output({"events": events, "metrics": metrics.metrics(), "started_at": metrics.started_at}, text)


def register(sub, add):
    sp = add(sub, "timeline", cmd_timeline,
             "show an issue's timeline and incident metrics; --add (optionally --at a past time), --edit or "
             "--delete an event, or show its --history")
    sp.add_argument("issue_id")
    act = sp.add_mutually_exclusive_group()
    act.add_argument("--add", metavar="EVENT_TYPE",
                     help="record an event: note, action, mitigation, page, escalation, customer_communication, ...")
    act.add_argument("--edit", metavar="EVENT_ID", help="change an event's --description, --type or --at")
    act.add_argument("--delete", metavar="EVENT_ID", help="take an event off the timeline (its history is kept)")
    act.add_argument("--history", metavar="EVENT_ID", help="an event's earlier revisions")
    sp.add_argument("--description")
    sp.add_argument("--at", metavar="'YYYY-MM-DD HH:MM:SS'",
                    help="when it happened (UTC; an offset such as +02:00 is converted); '' with --edit clears it")
    sp.add_argument("--type", metavar="EVENT_TYPE", help="with --edit: the new type (people's types only)")
    sp.add_argument("--metadata", help="with --add: a JSON object")
    sp.add_argument("--deleted", action="store_true", help="list deleted events too")
