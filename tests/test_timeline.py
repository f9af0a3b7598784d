"""The human timeline (kernel and CLI): people's event types, backfilled times, edits and
deletions with history (audited, role-checked), status and severity changes recorded by
``update_issue``, and ``tftsr timeline --json`` with the incident metrics."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tftsr_kernel import errors
from tftsr_kernel.models import HUMAN_EVENT_TYPES, TIMELINE_EVENT_TYPES


def ago(minutes: float) -> str:
    """A past UTC time, whole seconds (backfilled times must not be in the future)."""
    t = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def test_event_types_keep_the_seeds_and_add_peoples():
    seeds = ("triage_started", "log_uploaded", "why_level_advanced", "root_cause_identified", "rca_generated",
             "postmortem_generated", "document_exported")
    people = ("note", "action", "mitigation", "page", "escalation", "customer_communication")
    assert set(seeds) | set(people) | {"status_change", "severity_change"} <= set(TIMELINE_EVENT_TYPES)
    assert HUMAN_EVENT_TYPES == people


def test_backfill_orders_by_when_it_happened(wb, issue):
    t0 = ago(60)
    late = wb.timeline.add_timeline_event(issue.id, "mitigation", "rolled back to v41", occurred_at=ago(50))
    first = wb.timeline.add_timeline_event(issue.id, "page", "on-call paged", occurred_at=t0)
    now = wb.timeline.add_timeline_event(issue.id, "note", "writing it up")
    assert first.occurred_at == t0 and first.at == t0 and first.created_at > t0
    assert now.occurred_at is None and now.at == now.created_at
    assert [e.id for e in wb.timeline.get_timeline_events(issue.id)] == [first.id, late.id, now.id]
    assert [e.id for e in wb.issues.get_issue(issue.id).timeline_events] == [first.id, late.id, now.id]
    # the audit entry records the backfilled time; verify still passes
    entry = wb.audit.get_audit_log(action="page")[0]
    assert entry.details["timeline_event_id"] == first.id and entry.details["occurred_at"] == t0
    assert wb.audit.verify().ok


@pytest.mark.parametrize("given,stored", [
    ("2024-05-01 14:02:00", "2024-05-01 14:02:00"),
    ("2024-05-01T14:02:00Z", "2024-05-01 14:02:00"),
    ("2024-05-01 14:02", "2024-05-01 14:02:00"),
    ("  2024-05-01   14:02:07.5 UTC ", "2024-05-01 14:02:07"),
    ("2024-05-01 16:02:00+02:00", "2024-05-01 14:02:00"),
    ("2024-05-01 09:02:00 -0500", "2024-05-01 14:02:00"),
])
def test_accepted_times(wb, issue, given, stored):
    assert wb.timeline.add_timeline_event(issue.id, "note", "x", occurred_at=given).occurred_at == stored


@pytest.mark.parametrize("given,message", [
    ("yesterday", "cannot read the event time"),
    ("2024-05-01", "cannot read the event time"),
    ("14:02", "cannot read the event time"),
    ("2024-02-30 10:00:00", "not a real date and time"),
    ("2024-05-01 25:00:00", "not a real date and time"),
    ("2024-05-01 10:00:00; DROP TABLE issues", "cannot read the event time"),
    ("2999-01-01 00:00:00", "in the future"),
    ("1969-12-31 23:59:59", "before 1970"),
    ("2024-05-01 10:00:00\udcff", "cannot read the event time"),
])
def test_refused_times_lose_nothing(wb, issue, given, message):
    before = wb.timeline.get_timeline_events(issue.id)
    with pytest.raises(errors.ValidationError, match=message):
        wb.timeline.add_timeline_event(issue.id, "mitigation", "rolled back", occurred_at=given)
    assert wb.timeline.get_timeline_events(issue.id) == before


def test_bad_descriptions_and_change_types_are_refused(wb, issue):
    with pytest.raises(errors.ValidationError, match="needs a description"):
        wb.timeline.add_timeline_event(issue.id, "note", "   ")
    with pytest.raises(errors.ValidationError, match="not valid UTF-8"):
        wb.timeline.add_timeline_event(issue.id, "note", "bad \udcff byte")
    with pytest.raises(errors.ValidationError, match="recorded when the issue is updated"):
        wb.timeline.add_timeline_event(issue.id, "status_change", "resolved")
    assert wb.timeline.get_timeline_events(issue.id) == []


def test_edit_and_delete_keep_every_revision_and_are_audited(wb, issue):
    ev = wb.timeline.add_timeline_event(issue.id, "note", "rolled back v42", occurred_at="2024-05-01 14:10:00")
    e2 = wb.timeline.edit_timeline_event(ev.id, event_type="mitigation", description="rolled back v42 to v41")
    assert (e2.revision, e2.event_type, e2.description, e2.occurred_at) == (2, "mitigation", "rolled back v42 to v41",
                                                                            "2024-05-01 14:10:00")
    assert e2.actor == "local" and e2.updated_by == "local" and e2.updated_at
    e3 = wb.timeline.edit_timeline_event(ev.id, occurred_at="2024-05-01 14:09:30")
    assert e3.revision == 3 and e3.occurred_at == "2024-05-01 14:09:30"
    e4 = wb.timeline.edit_timeline_event(ev.id, occurred_at="")  # clear the backfilled time
    assert e4.occurred_at is None and e4.at == e4.created_at
    with pytest.raises(errors.ValidationError, match="nothing to change"):
        wb.timeline.edit_timeline_event(ev.id, description="rolled back v42 to v41")
    gone = wb.timeline.delete_timeline_event(ev.id)
    assert gone.deleted_at and gone.deleted_by == "local" and gone.description == "rolled back v42 to v41"
    history = wb.timeline.get_event_history(ev.id)
    assert [(r.revision, r.event_type, r.description, r.occurred_at, r.change) for r in history] == [
        (1, "note", "rolled back v42", "2024-05-01 14:10:00", "edit"),
        (2, "mitigation", "rolled back v42 to v41", "2024-05-01 14:10:00", "edit"),
        (3, "mitigation", "rolled back v42 to v41", "2024-05-01 14:09:30", "edit"),
        (4, "mitigation", "rolled back v42 to v41", None, "delete")]
    # off the timeline and out of the metrics, never lost
    assert wb.timeline.get_timeline_events(issue.id) == []
    assert [e.id for e in wb.timeline.get_timeline_events(issue.id, include_deleted=True)] == [ev.id]
    assert wb.issues.get_issue(issue.id).timeline_events == []
    assert wb.timeline.incident_metrics(issue.id).time_to_mitigate_s is None
    with pytest.raises(errors.ConflictError, match="was deleted"):
        wb.timeline.edit_timeline_event(ev.id, description="again")
    with pytest.raises(errors.ConflictError, match="was deleted"):
        wb.timeline.delete_timeline_event(ev.id)
    with pytest.raises(errors.NotFoundError):
        wb.timeline.edit_timeline_event("no-such-event", description="x")
    # audited: one entry per change, naming the revision kept and the event, with hashes (no text)
    edits = wb.audit.get_audit_log(action="edit_timeline_event")
    deletes = wb.audit.get_audit_log(action="delete_timeline_event")
    assert len(edits) == 3 and len(deletes) == 1
    assert {e.details["timeline_event_id"] for e in edits + deletes} == {ev.id}
    assert {e.entity_id for e in edits + deletes} == {r.id for r in history}
    assert all("rolled back" not in str(e.details) for e in edits + deletes)
    # the chain and every object's creating entry verify (the first type, 'note', is the one recorded)
    v = wb.audit.verify()
    assert v.ok, v.reason


def test_only_peoples_types_change_into_one_another(wb, issue):
    ev = wb.timeline.add_timeline_event(issue.id, "root_cause_identified", "DNS TTL")
    with pytest.raises(errors.ValidationError, match="cannot become note"):
        wb.timeline.edit_timeline_event(ev.id, event_type="note")
    note = wb.timeline.add_timeline_event(issue.id, "note", "x")
    with pytest.raises(errors.ValidationError, match="cannot become root_cause_identified"):
        wb.timeline.edit_timeline_event(note.id, event_type="root_cause_identified")
    assert wb.timeline.edit_timeline_event(ev.id, description="DNS TTL of 1 day").revision == 2


def test_a_tampered_history_is_found_by_verify(wb, issue):
    ev = wb.timeline.add_timeline_event(issue.id, "note", "x")
    wb.timeline.edit_timeline_event(ev.id, description="y")
    # someone with the database key slips a revision in without the kernel (no audit entry)
    wb.db.execute("INSERT INTO timeline_event_revisions(id, event_id, issue_id, revision, event_type, description,"
                  " written_at, written_by, replaced_at, replaced_by, change) VALUES ('r-x', ?, ?, 9, 'note', 'z',"
                  " 'a', 'b', 'c', 'd', 'edit')", (ev.id, issue.id))
    v = wb.audit.verify()
    assert not v.ok and "timeline_event_revision r-x" in v.reason


def test_status_and_severity_changes_are_recorded(wb, issue):
    wb.issues.update_issue(issue.id, status="investigating")
    wb.issues.update_issue(issue.id, status="investigating", title="same status: no event")
    wb.issues.update_issue(issue.id, severity="critical")
    detail = wb.issues.update_issue(issue.id, status="resolved")
    changes = [(e.event_type, e.metadata["from"], e.metadata["to"]) for e in detail.timeline_events]
    assert changes == [("status_change", "open", "investigating"), ("severity_change", "high", "critical"),
                       ("status_change", "investigating", "resolved")]
    assert detail.timeline_events[-1].description == "Status changed from investigating to resolved"
    m = wb.timeline.incident_metrics(issue.id)
    # the first event (the change to investigating) is the start, and acknowledges it
    assert m.started_at == detail.timeline_events[0].at and m.time_to_acknowledge_s == 0
    assert m.time_to_resolve_s is not None and m.time_to_detect_s is None  # no page, escalation or triage
    assert wb.audit.verify().ok


def test_a_refused_update_records_nothing(wb, issue):
    with pytest.raises(errors.ValidationError):
        wb.issues.update_issue(issue.id, status="resolved", title="")
    assert wb.timeline.get_timeline_events(issue.id) == []
    assert wb.issues.get_issue_record(issue.id).status == "open"


def test_roles_analysts_change_viewers_read(wb, issue):
    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    wb.team.create_user("vic", "viewer")
    author = wb.team.actor.name
    ev = wb.timeline.add_timeline_event(issue.id, "note", "seen by local")
    assert ev.actor == author
    wb.team.act_as(wb.team.actor_for("vic", "session"))
    try:
        assert [e.id for e in wb.timeline.get_timeline_events(issue.id)] == [ev.id]
        assert wb.timeline.incident_metrics(issue.id).started_at
        assert wb.timeline.get_event_history(ev.id) == []
        for call in (lambda: wb.timeline.add_timeline_event(issue.id, "note", "x"),
                     lambda: wb.timeline.edit_timeline_event(ev.id, description="x"),
                     lambda: wb.timeline.delete_timeline_event(ev.id),
                     lambda: wb.issues.update_issue(issue.id, status="resolved")):
            with pytest.raises(errors.PermissionDeniedError, match="viewer"):
                call()
        wb.team.act_as(wb.team.actor_for("ana", "session"))
        edited = wb.timeline.edit_timeline_event(ev.id, description="seen by local, confirmed by ana")
        assert edited.actor == author and edited.updated_by == "ana"
        assert wb.timeline.get_event_history(ev.id)[0].replaced_by == "ana"
        wb.issues.update_issue(issue.id, status="investigating")
        assert wb.timeline.get_timeline_events(issue.id)[-1].actor == "ana"
    finally:
        wb.team.act_as(None)
    assert wb.timeline.get_timeline_event(ev.id).description == "seen by local, confirmed by ana"


# --- CLI -----------------------------------------------------------------------------------------
def test_cli_backfill_json_metrics_edit_delete_history(cli, wb):
    issue_id = cli("issue", "create", "--title", "Checkout 503s", "--json").json["id"]
    start = datetime.strptime(ago(90), "%Y-%m-%d %H:%M:%S")

    def at(minutes):  # minutes after the incident's start
        return (start + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")

    t = {k: at(m) for k, m in (("note", 0), ("page", 2), ("ack", 5), ("mit", 10), ("rc", 30))}
    for kind, key, text in (("note", "note", "first 5xx alerts"), ("page", "page", "on-call paged"),
                            ("action", "ack", "acknowledged, looking at the deploy"),
                            ("mitigation", "mit", "rolled back to v41"), ("root_cause_identified", "rc", "pool max")):
        r = cli("timeline", issue_id, "--add", kind, "--description", text, "--at", t[key], "--json")
        assert r.code == 0, r.stderr
        assert r.json["occurred_at"] == t[key] and r.json["event_type"] == kind
    r = cli("timeline", issue_id, "--add", "customer_communication", "--description", "status page updated")
    assert r.code == 0 and "recorded customer_communication" in r.stdout
    doc = cli("timeline", issue_id, "--json").json
    assert set(doc) == {"events", "metrics", "started_at"}
    assert doc["started_at"] == t["note"]
    assert doc["metrics"] == {"time_to_detect_s": 120, "time_to_acknowledge_s": 300, "time_to_mitigate_s": 600,
                              "time_to_resolve_s": None, "time_to_root_cause_s": 1800}
    assert [e["event_type"] for e in doc["events"]][:5] == ["note", "page", "action", "mitigation",
                                                             "root_cause_identified"]
    assert {"id", "event_type", "description", "created_at", "occurred_at", "at", "actor", "revision"} <= set(
        doc["events"][0])
    # resolving through the CLI lands on the timeline and sets time to resolve
    assert cli("issue", "update", issue_id, "--status", "resolved").code == 0
    doc = cli("timeline", issue_id, "--json").json
    assert doc["events"][-1]["event_type"] == "status_change" and doc["metrics"]["time_to_resolve_s"] >= 5400
    text = cli("timeline", issue_id).stdout
    assert "Time to mitigate: 10m 00s" in text and "rolled back to v41" in text
    # edit, delete, history
    mit = next(e for e in doc["events"] if e["event_type"] == "mitigation")
    r = cli("timeline", issue_id, "--edit", mit["id"], "--at", at(8), "--description", "rolled back v42", "--json")
    assert r.code == 0 and r.json["revision"] == 2, r.stderr
    assert cli("timeline", issue_id, "--json").json["metrics"]["time_to_mitigate_s"] == 480
    r = cli("timeline", issue_id, "--delete", mit["id"])
    assert r.code == 0 and "deleted" in r.stdout
    assert cli("timeline", issue_id, "--json").json["metrics"]["time_to_mitigate_s"] is None
    hist = cli("timeline", issue_id, "--history", mit["id"], "--json").json
    assert [r["description"] for r in hist["revisions"]] == ["rolled back to v41", "rolled back v42"]
    assert hist["event"]["deleted_at"]
    listed = cli("timeline", issue_id, "--deleted", "--json").json["events"]
    assert mit["id"] in [e["id"] for e in listed]
    assert cli("verify").code == 0


def test_cli_refusals_are_one_line_and_change_nothing(cli, wb, issue):
    before = wb.timeline.get_timeline_events(issue.id)
    for argv, code, message in (
            (["--add", "mitigation", "--description", "x", "--at", "2024-13-01 10:00:00"], 1, "not a real date"),
            (["--add", "mitigation", "--description", "x", "--at", "soon"], 1, "YYYY-MM-DD HH:MM:SS"),
            (["--add", "mitigation", "--description", "x", "--at", "2999-01-01 00:00:00"], 1, "in the future"),
            (["--add", "mitigation", "--description", "bad \udcff"], 2, "not valid UTF-8"),
            (["--add", "mitigation", "--description", "x", "--at", "2024-05-01 10:00:00\udcff"], 2, "not valid UTF-8"),
            (["--add", "coffee", "--description", "x"], 1, "unknown timeline event type"),
            (["--add", "status_change", "--description", "x"], 1, "issue update"),
            (["--at", "2024-05-01 10:00:00"], 2, "--at goes with --add or --edit"),
            (["--add", "note", "--edit", "x"], 2, "not allowed with"),
            (["--edit", "no-such-event", "--description", "x"], 1, "not found"),
            (["--delete", "no-such-event"], 1, "not found")):
        r = cli("timeline", issue.id, *argv)
        assert r.code == code, (argv, r.stderr)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, (argv, r.stderr)
        assert "Traceback" not in r.stderr
    other = wb.issues.create_issue("other")
    ev = wb.timeline.add_timeline_event(other.id, "note", "elsewhere")
    r = cli("timeline", issue.id, "--delete", ev.id)
    assert r.code == 1 and "is not on issue" in r.stderr
    assert wb.timeline.get_timeline_events(issue.id) == before
    r = cli("timeline", issue.id, "--edit", ev.id, "--json")
    assert r.code == 1 and r.json["error"]["type"] == "NotFoundError"


def test_an_issue_resolved_before_changes_were_recorded(wb, issue):
    """Older data: resolved_at set, no status_change event. The metrics fall back to resolved_at and
    the post-mortem keeps its 'Issue resolved' row."""
    wb.timeline.add_timeline_event(issue.id, "page", "paged", occurred_at="2024-05-01 10:00:00")
    wb.db.execute("UPDATE issues SET status = 'resolved', resolved_at = '2024-05-01 11:30:00' WHERE id = ?",
                  (issue.id,))
    assert wb.timeline.incident_metrics(issue.id).time_to_resolve_s == 5400
    pm = wb.documents.generate_postmortem(issue.id).content_md
    assert "| 2024-05-01 11:30:00 | Issue resolved |" in pm and "| Incident Duration | 1h 30m" in pm
