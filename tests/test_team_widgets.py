"""The dashboard panels as a signed-in user (headless): the header says who, and the kernel's
role checks decide what the panels may do (the refusal is shown in the status line)."""

from __future__ import annotations

import pytest

LOG = b"login failed for jane.doe@example.org from 10.1.2.3\n" * 5


@pytest.fixture(autouse=True)
def _no_credentials_in_env(monkeypatch):
    for name in ("TFTSR_SESSION_TOKEN", "TFTSR_API_KEY", "TFTSR_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def team(wb):
    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    wb.team.create_user("vic", "viewer")
    issue = wb.issues.create_issue("Login failures", "after the deploy", "high")
    log = wb.attachments.upload_log_file_by_content(issue.id, "auth.log", LOG)
    wb.pii.apply_redactions(log.id, "all")
    return {"wb": wb, "issue": issue, "log": log}


def _dashboard_as(wb, name):
    from widgets.dashboard import Dashboard

    wb.team.act_as(wb.team.actor_for(name, "session"))
    d = Dashboard(wb)
    d.layout  # build it, as the page does
    return d


def test_header_shows_who_is_signed_in(team):
    wb = team["wb"]
    for name, role in (("vic", "viewer"), ("ana", "analyst")):
        d = _dashboard_as(wb, name)
        assert f"Signed in as {name} ({role})" in d._w_whoami.value


def test_single_user_header(wb):
    from widgets.dashboard import Dashboard

    d = Dashboard(wb)
    d.layout
    assert "Single-user mode" in d._w_whoami.value


def test_viewer_cannot_create_an_issue_from_the_dashboard(team):
    wb = team["wb"]
    d = _dashboard_as(wb, "vic")
    lst = d.issue_list
    lst.show_new_form()
    lst._w_new_title.value = "Should not exist"
    lst._w_create.click()
    assert "vic has the viewer role" in lst.status and "needs the analyst role" in lst.status
    assert lst.status_kind == "error"
    assert [i.title for i in wb.issues.list_issues()] == ["Login failures"]


def test_analyst_can_create_an_issue_from_the_dashboard(team):
    wb = team["wb"]
    d = _dashboard_as(wb, "ana")
    lst = d.issue_list
    lst.show_new_form()
    lst._w_new_title.value = "Created from the dashboard"
    lst._w_create.click()
    assert "Created issue" in lst.status
    rows = wb.audit.get_audit_log(action="create_issue", limit=1)
    assert rows[0].user_id == "ana"


def _logs_panel(d, issue_id):
    d.open_issue(issue_id)
    if "logs" not in d.incident.panels:  # tabs build lazily: build the logs tab
        d.incident.tabs._tftsr_build(0)
    logs = d.incident.panels["logs"]
    logs.layout
    return logs


def test_viewer_reads_the_redacted_log_never_the_original(team):
    wb = team["wb"]
    unreviewed = wb.attachments.upload_log_file_by_content(team["issue"].id, "raw.log",
                                                           b"token for john.roe@example.net from 10.9.8.7\n")
    d = _dashboard_as(wb, "vic")
    logs = _logs_panel(d, team["issue"].id)
    for log_id in (team["log"].id, unreviewed.id):  # reviewed, and never reviewed
        logs._w_log_select.value = log_id
        assert logs.status_kind != "error", logs.status
        shown = logs._w_redacted.value
        assert "Redacted log" in shown and "[Email_" in shown, shown[:300]
        assert "jane.doe@example.org" not in shown and "john.roe@example.net" not in shown
        logs._on_view()
        assert "jane.doe@example.org" not in logs._w_log_view.value
        assert "john.roe@example.net" not in logs._w_log_view.value
        assert logs._w_review.children == ()  # review is for analysts
    rows = wb.db.query("SELECT 1 FROM audit_log WHERE action = 'read_original' AND user_id = 'vic'")
    assert not rows
    # History's log view, too
    from widgets.history import HistoryPanel

    hist = HistoryPanel(wb)
    hist.layout
    hist.search_attachments()
    hist._w_log_select.value = unreviewed.id
    hist._on_view_log()
    assert "(redacted)" in hist._w_attachment_view.value and "john.roe@example.net" not in hist._w_attachment_view.value


def test_analyst_reads_the_original_and_the_read_is_audited(team):
    wb = team["wb"]
    d = _dashboard_as(wb, "ana")
    logs = _logs_panel(d, team["issue"].id)
    logs._w_log_select.value = team["log"].id
    logs._on_view()
    assert "jane.doe@example.org" in logs._w_log_view.value
    rows = wb.db.query("SELECT entity_id FROM audit_log WHERE action = 'read_original' AND user_id = 'ana'")
    assert team["log"].id in {r["entity_id"] for r in rows}


def test_viewer_reads_the_chat_as_the_model_saw_it(team):
    """An analyst's conversation, read by a viewer: placeholders, never the restored originals,
    and no error (the panel asks only for what the role may read)."""
    from tests.fakes.servers import FakeProviderServer
    from widgets.chat import ChatPanel

    wb = team["wb"]
    with FakeProviderServer("openai", replies=["Looks like a credential stuffing run."]) as srv:
        wb.team.act_as(wb.team.actor_for("ada", "session"))
        wb.providers.add_provider("fake", "openai", srv.url, srv.config().model, api_key=srv.config().api_key,
                                  activate=True)
        wb.team.act_as(wb.team.actor_for("ana", "session"))
        wb.chat.chat_message(team["issue"].id, "Who is jane.doe@example.org?")
    analyst = ChatPanel(team["issue"].id, wb)
    analyst.layout
    assert "jane.doe@example.org" in analyst._w_transcript.value      # analysts see originals restored
    wb.team.act_as(wb.team.actor_for("vic", "session"))
    viewer = ChatPanel(team["issue"].id, wb)
    viewer.layout
    assert viewer.status_kind != "error", viewer.status
    shown = viewer._w_transcript.value
    assert "jane.doe@example.org" not in shown and "[Email_" in shown and "credential stuffing" in shown
    assert "as the model saw it" in shown
