"""Role checks on every service call (team/guard.py), through the kernel API."""

from __future__ import annotations

import pytest

from tftsr_kernel import errors
from tftsr_kernel.team import acting_as
from tftsr_kernel.team.guard import METHOD_PERMISSIONS, NO_CHECK, public_methods
from tftsr_kernel.team.roles import PERMISSIONS

LOG = b"2026-12-01 09:00:01 ERROR login failed for jane.doe@example.org from 10.1.2.3\n" * 20


@pytest.fixture(autouse=True)
def _no_credentials_in_env(monkeypatch):
    for name in ("TFTSR_SESSION_TOKEN", "TFTSR_API_KEY", "TFTSR_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store(wb):
    """An admin, an analyst and a viewer; an issue with a reviewed log (made by the analyst)."""
    t = wb.team
    t.create_user("ada", "admin")
    t.create_user("ana", "analyst")
    t.create_user("vic", "viewer")
    ana = t.actor_for("ana", "session")
    with acting_as(ana):
        issue = wb.issues.create_issue("Login failures", "after the deploy", "high")
        log = wb.attachments.upload_log_file_by_content(issue.id, "auth.log", LOG)
        wb.pii.apply_redactions(log.id, "all")
    return {"wb": wb, "issue": issue, "log": log, "ana": ana, "vic": t.actor_for("vic", "session"),
            "ada": t.actor_for("ada", "session")}


def test_every_public_service_method_has_a_permission(wb):
    for name, table in METHOD_PERMISSIONS.items():
        methods = public_methods(getattr(wb, name))
        assert sorted(table) == methods, f"wb.{name}: listed {sorted(set(table) ^ set(methods))} differ"
        for rule in table.values():
            assert callable(rule) or rule in PERMISSIONS or rule == NO_CHECK


def test_single_user_mode_keeps_working(wb):
    issue = wb.issues.create_issue("Still works", None, "low")
    assert wb.issues.get_issue(issue.id).issue.title == "Still works"
    assert wb.team.actor.name == "local"


def test_viewer_reads_redacted_but_not_originals(store):
    wb, log, issue = store["wb"], store["log"], store["issue"]
    with acting_as(store["vic"]):
        assert wb.issues.get_issue(issue.id).issue.title == "Login failures"
        assert [l.id for l in wb.attachments.list_log_files(issue.id)] == [log.id]
        redacted = wb.pii.get_redacted_content(log.id)
        assert "jane.doe@example.org" not in redacted and "10.1.2.3" not in redacted
        assert wb.timeline.get_timeline_events(issue.id)
        for call in (lambda: wb.attachments.get_log_file_bytes(log.id),
                     lambda: wb.attachments.get_log_file_content(log.id),
                     lambda: wb.pii.list_spans(log.id),
                     lambda: wb.chat.list_messages(issue.id, display=True)):
            with pytest.raises(errors.PermissionDeniedError, match="needs the analyst role") as e:
                call()
            assert e.value.needed_role == "analyst"
        assert wb.chat.list_messages(issue.id) == []  # the redacted transcript is readable


def test_viewer_changes_nothing(store):
    wb, log, issue = store["wb"], store["log"], store["issue"]
    before = wb.db.query_one("SELECT count(*) FROM audit_log")[0]
    refused = {
        "create issue": lambda: wb.issues.create_issue("x"),
        "update issue": lambda: wb.issues.update_issue(issue.id, status="resolved"),
        "delete issue": lambda: wb.issues.delete_issue(issue.id),
        "upload": lambda: wb.attachments.upload_log_file_by_content(issue.id, "a.log", b"x\n"),
        "delete log": lambda: wb.attachments.delete_log_file(log.id),
        "timeline": lambda: wb.timeline.add_timeline_event(issue.id, "triage_started", "x"),
        "5 whys": lambda: wb.whys.add_five_why(issue.id, 1, "why?", "because"),
        "pii review": lambda: wb.pii.apply_redactions(log.id, "all"),
        "chat": lambda: wb.chat.chat_message(issue.id, "hello"),
        "rca": lambda: wb.documents.generate_rca(issue.id),
        "settings": lambda: wb.settings.update_settings({"default_model": "x"}),
        "provider": lambda: wb.providers.add_provider("p", "ollama", "http://127.0.0.1:1", "m"),
        "audit row": lambda: wb.audit.write_audit_event("x", "issue", issue.id),
    }
    with acting_as(store["vic"]):
        for what, call in refused.items():
            with pytest.raises(errors.PermissionDeniedError, match="vic has the viewer role") as e:
                call()
            assert e.value.needed_role in ("analyst", "admin"), what
    assert wb.db.query_one("SELECT count(*) FROM audit_log")[0] == before
    assert wb.issues.get_issue_record(issue.id).status == "open"


def test_analyst_investigates_and_original_reads_are_audited(store):
    wb, log, issue = store["wb"], store["log"], store["issue"]
    with acting_as(store["ana"]):
        assert wb.attachments.get_log_file_bytes(log.id) == LOG
        assert "jane.doe@example.org" in wb.attachments.get_log_file_content(log.id)
        wb.issues.update_issue(issue.id, status="investigating")
        wb.whys.add_five_why(issue.id, 1, "Why did logins fail?", "The IdP certificate expired")
        wb.documents.generate_rca(issue.id)
        for call in (lambda: wb.settings.update_settings({"default_model": "x"}),
                     lambda: wb.providers.add_provider("p", "ollama", "http://127.0.0.1:1", "m"),
                     lambda: wb.audit.verify()):
            with pytest.raises(errors.PermissionDeniedError, match="needs the admin role"):
                call()
    with acting_as(store["ada"]):
        reads = wb.audit.get_audit_log(action="read_original")
        assert [(r.entity_type, r.entity_id) for r in reads] == [("log_file", log.id)] * 2
        assert {r.details["via"] for r in reads} == {"attachments.get_log_file_bytes",
                                                     "attachments.get_log_file_content"}
        wb.settings.update_settings({"default_model": "llama3.2:3b"})  # an admin may


def test_internal_reads_are_not_audited_as_original_reads(store):
    wb, log = store["wb"], store["log"]
    with acting_as(store["vic"]):
        wb.pii.get_redacted_content(log.id)
    with acting_as(store["ana"]):
        wb.pii.apply_redactions(log.id, "all")  # reads the original inside: one operation, no read_original
    with acting_as(store["ada"]):
        assert wb.audit.get_audit_log(action="read_original") == []


def test_nobody_is_refused_everything(store, monkeypatch):
    wb = store["wb"]
    monkeypatch.setenv("TFTSR_SESSION_TOKEN", "x" * 43)  # no such session: fail closed
    wb.team.act_as(None)
    with pytest.raises(errors.PermissionDeniedError, match="nobody is signed in"):
        wb.issues.list_issues()


def test_audit_rows_and_timeline_events_name_the_actor(store):
    wb, issue = store["wb"], store["issue"]
    with acting_as(store["ana"]):
        wb.timeline.add_timeline_event(issue.id, "triage_started", "paged")
    with acting_as(store["ada"]):
        rows = wb.audit.get_audit_log(entity_id=issue.id)
        assert {r.user_id for r in rows} == {"ana"}
        assert {r.action for r in rows} >= {"create_issue", "triage_started"}
        assert wb.audit.get_audit_log(user_id="vic") == []
        events = wb.timeline.get_timeline_events(issue.id)
        assert [(e.event_type, e.actor) for e in events][-1] == ("triage_started", "ana")
        assert wb.issues.get_issue(issue.id).timeline_events[-1].actor == "ana"
        assert wb.audit.verify().ok
    with pytest.raises(errors.AuthenticationError):
        wb.team.check_password("ana", "wrong password")
    with acting_as(store["ada"]):
        failed = wb.audit.get_audit_log(action="sign_in_failed")
        assert [r.user_id for r in failed] == ["nobody"] and failed[0].details["username"] == "ana"


def test_single_user_rows_say_local(wb):
    issue = wb.issues.create_issue("Solo", None, "low")
    assert wb.audit.get_audit_log(entity_id=issue.id)[0].user_id == "local"
