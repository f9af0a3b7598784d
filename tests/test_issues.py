"""Issues: create, nested get, list with filters/sort/pages, partial update, cascade delete, search."""

from __future__ import annotations

import pytest

from tftsr_kernel import errors
from tftsr_kernel.models import IssueDetail


def test_create_and_get_nested_detail(wb):
    i = wb.issues.create_issue("DNS flaps", "resolver timeouts in eu-west", "critical", "network", tags=["dns"])
    d = wb.issues.get_issue(i.id)
    assert isinstance(d, IssueDetail)
    assert d.issue.title == "DNS flaps" and d.issue.severity == "critical" and d.issue.status == "open"
    assert d.issue.tags == ["dns"]
    assert d.log_files == [] and d.resolution_steps == [] and d.conversations == []
    assert len(d.issue.created_at) == 19 and d.issue.created_at[10] == " "  # 'YYYY-MM-DD HH:MM:SS'
    assert i.id[14] == "7"  # UUID v7


@pytest.mark.parametrize("kwargs,match", [
    ({"title": ""}, "title must not be empty"),
    ({"title": "   "}, "title must not be empty"),
    ({"title": "x", "severity": "P1"}, "severity must be one of"),
    ({"title": "x", "category": "mainframe"}, "category must be one of"),
    ({"title": "x" * 501}, "longer than 500"),
])
def test_create_validates(wb, kwargs, match):
    with pytest.raises(errors.ValidationError, match=match):
        wb.issues.create_issue(**kwargs)
    assert wb.issues.count_issues() == 0


def test_list_filters_sort_and_pagination(wb):
    made = []
    for n, (sev, cat) in enumerate([("low", "linux"), ("critical", "network"), ("high", "linux"),
                                    ("medium", "databases"), ("critical", "linux")]):
        made.append(wb.issues.create_issue(f"issue {n}", severity=sev, category=cat))
    wb.issues.update_issue(made[0].id, status="resolved")
    newest_first = wb.issues.list_issues()
    assert [s.id for s in newest_first] == [m.id for m in reversed(made)]
    assert [s.title for s in wb.issues.list_issues(sort_order="asc", limit=2)] == ["issue 0", "issue 1"]
    assert [s.title for s in wb.issues.list_issues(sort_order="asc", limit=2, offset=2)] == ["issue 2", "issue 3"]
    assert {s.title for s in wb.issues.list_issues(severity="critical")} == {"issue 1", "issue 4"}
    assert {s.title for s in wb.issues.list_issues(category="linux", status="open")} == {"issue 2", "issue 4"}
    assert [s.severity for s in wb.issues.list_issues(sort_by="severity")][:2] == ["critical", "critical"]
    assert wb.issues.count_issues(category="linux") == 3
    with pytest.raises(errors.ValidationError):
        wb.issues.list_issues(sort_by="id; DROP TABLE issues")
    with pytest.raises(errors.ValidationError):
        wb.issues.list_issues(limit=0)


def test_partial_update_changes_only_given_fields(wb, issue):
    d = wb.issues.update_issue(issue.id, status="investigating")
    assert d.issue.status == "investigating" and d.issue.title == issue.title
    assert d.issue.description == issue.description and d.issue.resolved_at is None
    d = wb.issues.update_issue(issue.id, status="resolved")
    assert d.issue.resolved_at is not None
    d = wb.issues.update_issue(issue.id, title="Renamed")
    assert d.issue.title == "Renamed" and d.issue.status == "resolved"
    with pytest.raises(errors.ValidationError):
        wb.issues.update_issue(issue.id, id="other")
    with pytest.raises(errors.NotFoundError):
        wb.issues.update_issue("missing", title="x")


def test_search_follows_inserts_updates_and_deletes(wb):
    a = wb.issues.create_issue("Checkout errors", "the payment gateway returned teapots")
    wb.issues.create_issue("Disk full", "var partition filled by journald")
    assert [s.id for s in wb.issues.search_issues("teapots")] == [a.id]
    assert [s.id for s in wb.issues.search_issues("tea")] == [a.id]  # prefix of the last word
    wb.issues.update_issue(a.id, description="the gateway returned kettles")
    assert wb.issues.search_issues("teapots") == []
    assert [s.id for s in wb.issues.search_issues("kettles")] == [a.id]
    wb.issues.update_issue(a.id, title="Naïve retry storm")
    assert [s.id for s in wb.issues.search_issues("naive")] == [a.id]
    assert [s.id for s in wb.issues.search_issues("naïve")] == [a.id]
    wb.issues.delete_issue(a.id)
    assert wb.issues.search_issues("kettles") == []
    assert wb.db.integrity_check() == []


@pytest.mark.parametrize("query", ['"', "AND (", "*", "näive", "'; DROP TABLE issues; --", "NEAR(", "title:x",
                                   "a OR", "^", "-", "\x00", "", "   ", "🔥 fire", "x" * 5000, "(((", "NOT"])
def test_search_never_raises(wb, query):
    wb.issues.create_issue("Some issue", "with words")
    assert isinstance(wb.issues.search_issues(query), list)
    assert wb.issues.count_issues() == 1


def test_delete_cascades_but_audit_stays(wb, issue):
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", "user=bob@example.com\n")
    db = wb.db
    db.execute("INSERT INTO pii_spans(id, log_file_id, pii_type, start_offset, end_offset, original_value, replacement)"
               " VALUES ('s1', ?, 'Email', 5, 20, 'bob@example.com', '[Email_1]')", (log.id,))
    db.execute("INSERT INTO ai_conversations(id, issue_id, provider, model, created_at) VALUES ('c1', ?, 'p', 'm', 'now')",
               (issue.id,))
    db.execute("INSERT INTO ai_messages(id, conversation_id, role, content, created_at) VALUES ('m1', 'c1', 'user', 'hi', 'now')")
    db.execute("INSERT INTO resolution_steps(id, issue_id, step_order, why_question, created_at) VALUES ('r1', ?, 1, 'why', 'now')",
               (issue.id,))
    db.execute("INSERT INTO documents(id, issue_id, doc_type, title, content_md, created_at, updated_at)"
               " VALUES ('d1', ?, 'rca', 't', 'x', 1, 1)", (issue.id,))
    wb.attachments.upload_paste_image(issue.id, _PNG_B64, "shot.png")
    audit_before = len(wb.audit.get_audit_log(limit=1000))
    wb.issues.delete_issue(issue.id)
    for table in ("issues", "log_files", "pii_spans", "ai_conversations", "ai_messages", "resolution_steps",
                  "documents", "timeline_events", "image_attachments"):
        assert db.query_one(f"SELECT count(*) FROM {table}")[0] == 0, table
    entries = wb.audit.get_audit_log(entity_id=issue.id, limit=1000)
    assert {"create_issue", "log_uploaded", "delete_issue"} <= {e.action for e in entries}
    assert len(wb.audit.get_audit_log(limit=1000)) == audit_before + 1
    assert wb.audit.verify().ok
    with pytest.raises(errors.NotFoundError):
        wb.issues.delete_issue(issue.id)


def test_issues_frame(wb, issue):
    frame = wb.issues.issues_frame()
    assert list(frame["title"]) == [issue.title]


_PNG_B64 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.mark.parametrize("tags, match", [
    (["ok", "nul\x00byte"], "tags: .* control character \\(U\\+0000\\)"),
    (["line\nbreak"], "tags: .* control character \\(U\\+000A\\)"),
    (["esc\x1b[31m"], "tags: .* control character"),
    (["x" * 65], "tags: .* longer than 64"),
    ([f"t{i}" for i in range(33)], "tags: at most 32 tags"),
    (["bad\udcff"], "tags: .* not valid UTF-8"),
    (["a,b"], "tags: .* comma"),
    ("fine, \x07bell", "tags: .* control character"),
    ([1, 2], "tags must be a list of strings"),
])
def test_tags_are_limited_and_refuse_control_characters(wb, issue, tags, match):
    with pytest.raises(errors.ValidationError, match=match):
        wb.issues.create_issue("tagged", tags=tags)
    with pytest.raises(errors.ValidationError, match=match):
        wb.issues.update_issue(issue.id, tags=tags)
    assert wb.issues.get_issue_record(issue.id).tags == []  # nothing stored
    assert wb.issues.count_issues() == 1


def test_tags_clean_and_keep_unicode(wb, cli):
    i = wb.issues.create_issue("tagged", tags=[" dns ", "", "dns", "résolveur", "x" * 64] + [f"t{n}" for n in range(28)])
    assert i.tags[:3] == ["dns", "résolveur", "x" * 64] and len(i.tags) == 31
    assert wb.issues.get_issue_record(i.id).tags == i.tags
    r = cli("issue", "create", "--title", "from the cli", "--tags", "db,\x00nul", "--json")
    assert r.code == 1 and r.json["error"]["type"] == "ValidationError" and "tags" in r.stderr
    assert "internal error" not in r.stderr
