"""Headless widget tests: build panels over a real encrypted store, set child widget values, click
buttons and send the uploader's messages as its front end does (tests/upload_frontend.py). No browser, no kernel."""

from __future__ import annotations

import base64

import pytest

from tests.fakes.pytest_plugin import fake_server  # noqa: F401  (fixture)
from tests.upload_frontend import FrontEnd

XSS = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
LOG = (b"2024-05-01T10:00:00Z ERROR pool exhausted for user alice@example.com from 10.1.2.3\n"
       b"2024-05-01T10:00:01Z WARN retry from 10.1.2.4 password=hunter2\n")


def assert_escaped(html: str):
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img" in html or "&lt;script" in html


@pytest.fixture
def demo(wb):
    from tftsr_kernel.demo import create_demo

    return create_demo(wb)


# -- display and static renderings -------------------------------------------------------------------
def test_display_bundle_has_widget_view_and_static_html(wb, issue):
    from widgets import WhysPanel

    panel = WhysPanel(issue.id, wb)
    captured = {}

    import IPython.display as disp

    orig = disp.display
    disp.display = lambda obj, raw=False, **kw: captured.update(obj)
    try:
        panel._ipython_display_()
    finally:
        disp.display = orig
    assert "application/vnd.jupyter.widget-view+json" in captured
    assert "5-Whys analysis" in captured["text/html"]
    assert captured["text/markdown"].startswith("### 5-Whys")


def test_kernel_errors_go_to_the_status_line(wb):
    from widgets import IssueList

    lst = IssueList(wb)
    lst.show_new_form()
    lst._w_new_title.value = "   "
    lst._w_create.click()  # no exception escapes
    assert lst.status_kind == "error" and "title" in lst.status
    assert "<" not in lst.status
    assert lst._w_status.value.startswith('<span class="tftsr-status')


# -- issue list ---------------------------------------------------------------------------------------
def test_issue_list_filters_search_pagination_and_open(wb):
    from widgets import IssueList

    for i in range(30):
        wb.issues.create_issue(f"Disk full on node {i}", "inode exhaustion", "high" if i % 2 else "low",
                               "linux" if i < 20 else "kubernetes")
    opened = []
    lst = IssueList(wb, page_size=10, on_open=opened.append)
    lst.layout
    assert lst.total == 30 and len(lst.issues) == 10 and lst._w_prev.disabled
    assert len(lst._w_titles.children) == 10
    assert "1\u201310 of 30" in lst._w_page_label.value
    lst._w_next.click()
    assert lst.page == 1 and "11\u201320 of 30" in lst._w_page_label.value
    lst._w_severity_filter.value = "high"
    assert lst.page == 0 and lst.total == 15
    lst._w_category_filter.value = "kubernetes"
    assert lst.total == 5
    lst._w_severity_filter.value = ""
    lst._w_category_filter.value = ""
    lst._w_search.value = "node 2"
    assert lst.total is None and lst.issues and all("node" in i.title for i in lst.issues)
    lst._w_search.value = 'AND OR "( *'
    assert lst.status_kind != "error"
    lst._w_search.value = ""
    lst._w_titles.children[0].click()
    assert opened == [lst.issues[0].id] == [lst.selected_issue_id]
    assert "badge" in lst._w_meta.value and "Disk full" in lst.to_html()
    assert lst._repr_markdown_().startswith("| Title |")


def test_new_issue_form_creates_and_opens(wb):
    from tftsr_kernel.categories import CATEGORIES
    from widgets import IssueList

    opened = []
    lst = IssueList(wb, on_open=opened.append)
    lst.show_new_form()
    assert len(lst._w_new_category.options) == len(CATEGORIES) + 1 == 17
    lst._w_new_title.value = "VPN tunnel flapping"
    lst._w_new_description.value = "BGP sessions reset every 5 minutes"
    lst._w_new_severity.value = "critical"
    lst._w_new_category.value = "network"
    lst._w_create.click()
    assert lst.status_kind == "ok"
    created = wb.issues.get_issue_record(opened[0])
    assert (created.title, created.severity, created.category) == ("VPN tunnel flapping", "critical", "network")
    assert lst._w_new_title.value == "" and lst.total == 1


def test_untrusted_issue_text_is_escaped_everywhere(wb):
    from widgets import HistoryPanel, IssueHeader, IssueList

    issue = wb.issues.create_issue(XSS + SCRIPT, SCRIPT + XSS, "high", "security", tags=[XSS])
    lst = IssueList(wb)
    assert lst._w_titles.children[0].description.startswith("<img")  # a Button shows text, not HTML
    for html in (lst.to_html(), lst._repr_markdown_(), IssueHeader(issue.id, wb).to_html(),
                 IssueHeader(issue.id, wb)._w_summary.value, HistoryPanel(wb).to_html()):
        assert_escaped(html)


def test_issue_header_status_severity_edit_delete(wb, issue):
    from widgets import IssueHeader

    changed, deleted = [], []
    h = IssueHeader(issue.id, wb, on_changed=changed.append, on_deleted=deleted.append)
    h.layout
    h._w_status_select.value = "resolved"
    assert wb.issues.get_issue_record(issue.id).resolved_at and changed
    h._w_severity_select.value = "critical"
    assert wb.issues.get_issue_record(issue.id).severity == "critical"
    h._w_edit_title.value = "Checkout latency (EU)"
    h._w_save.click()
    assert h.issue.title == "Checkout latency (EU)" and "Checkout latency (EU)" in h._w_summary.value
    h._w_delete.click()
    assert h.status_kind == "error" and not deleted
    h._w_confirm_delete.value = True
    h._w_delete.click()
    assert deleted == [issue.id] and wb.issues.count_issues() == 0


# -- logs, PII and images ----------------------------------------------------------------------------
def test_log_upload_pii_review_and_apply(wb, issue):
    from widgets import LogsPanel

    p = LogsPanel(issue.id, wb)
    p.layout
    fe = FrontEnd(p._w_upload)
    assert fe.upload("app<b>.log", LOG)[-1]["type"] == "done"
    assert fe.upload("empty.log", b"")[-1]["type"] == "error"
    assert [l.file_name for l in p.logs] == ["app<b>.log"]
    assert p.status_kind == "error" and "empty" in p.status  # the bad file is reported, the good one kept
    p._w_view.click()
    assert "app&lt;b&gt;.log" in p._w_log_view.value and "alice@example.com" in p._w_log_view.value
    p._w_detect.click()
    assert p.status_kind == "ok" and len(p.spans) >= 4
    assert p.approved_span_ids == {s.id for s in p.spans}
    types = {cb._tftsr_type: cb for cb in p._w_type_boxes.children}
    assert {"Email", "IPv4"} <= set(types)
    types["IPv4"].value = False  # keep the addresses
    kept = {s.id for s in p.spans if s.pii_type == "IPv4"}
    assert not (p.approved_span_ids & kept)
    assert "tftsr-pii-rejected" in p._w_highlight.value and "tftsr-pii-approved" in p._w_highlight.value
    p._w_preview.click()
    assert "10.1.2.3" in p._w_redacted.value and "alice@example.com" not in p._w_redacted.value
    p._w_apply.click()
    assert p.status_kind == "ok", p.status
    assert p.logs[0].redacted
    stored = wb.pii.get_redacted_content(p.logs[0].id)
    assert "10.1.2.3" in stored and "alice@example.com" not in stored and "hunter2" not in stored
    static = p.to_html()
    assert "Redacted excerpt" in static and "alice@example.com" not in static  # never the original text
    assert "app&lt;b&gt;.log" in static
    types = {cb._tftsr_type: cb for cb in p._w_type_boxes.children}  # rebuilt from the stored review
    assert not types["IPv4"].value and types["Email"].value
    p._w_reject_all.click()
    assert not p.approved_span_ids and not types["Email"].value
    p._w_approve_all.click()
    assert p.approved_span_ids == {s.id for s in p.spans} and types["IPv4"].value


def test_log_text_and_file_names_are_escaped(wb, issue):
    from widgets import LogsPanel

    p = LogsPanel(issue.id, wb)
    FrontEnd(p._w_upload).upload(XSS + ".log", (SCRIPT + " from 10.0.0.1 " + XSS + "\n").encode())
    p._w_view.click()
    p._w_detect.click()
    for html in (p._w_log_view.value, p._w_highlight.value, p.to_html(), p._w_pii_summary.value):
        assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;script&gt;" in p._w_highlight.value


def test_images_upload_paste_thumbnails_delete(wb, issue):
    from widgets import LogsPanel

    p = LogsPanel(issue.id, wb)
    images = FrontEnd(p._w_image_upload)
    images.upload(XSS + ".png", PNG)
    assert p.status_kind == "ok"
    p._w_paste.value = "data:image/png;base64," + base64.b64encode(PNG).decode()
    p._w_paste_button.click()
    assert p.status_kind == "ok" and p._w_paste.value == ""
    assert p._w_gallery.value.count("<img src=\"data:image/png;base64,") == 2
    assert "<img src=x" not in p._w_gallery.value
    images.upload("evil.svg", b"<svg onload=alert(1)>")
    assert p.status_kind == "error" and "SVG" in p.status
    p._w_image_delete.click()
    assert len(wb.attachments.list_image_attachments(issue.id)) == 1


# -- whys and timeline --------------------------------------------------------------------------------
def test_whys_levels_root_cause_and_static(wb, issue):
    from widgets import WhysPanel

    w = WhysPanel(issue.id, wb)
    w.layout
    assert w.level == 1
    w._w_question[1].value = "Why did checkout fail?"
    w._w_answer[1].value = "The DB pool was exhausted"
    w._w_save[1].click()
    assert w.status_kind == "ok" and w.level == 2 and w._w_save[1].description == "Update why 1"
    w._w_answer[1].value = "The DB pool (max 8) was exhausted"
    w._w_evidence[1].value = "pool 8/8 in use"
    w._w_save[1].click()
    assert wb.whys.list_five_whys(issue.id)[0].answer == "The DB pool (max 8) was exhausted"
    w._w_save[2].click()  # empty question: the kernel refuses, the panel says why
    assert w.status_kind == "error" and "question" in w.status
    w._w_root_cause.value = "A config change lowered db_pool_max from 64 to 8 " + XSS
    w._w_record_root.click()
    assert w.root_cause.startswith("A config change") and "Root cause" in w._w_progress.value
    assert_escaped(w.to_html())
    assert "pool 8/8 in use" in w.to_html()


def test_timeline_table_chart_and_add(wb, issue):
    from widgets import TimelinePanel

    wb.attachments.upload_log_file_by_content(issue.id, "a.log", b"hello\n")
    t = TimelinePanel(issue.id, wb)
    t.layout
    assert len(t.events) == 1 and "<svg" in t._w_chart.value and "<circle" in t._w_chart.value
    t._w_event_type.value = "root_cause_identified"
    t._w_event_description.value = "found it " + SCRIPT
    t._w_add.click()
    assert t.status_kind == "ok" and len(t.events) == 2
    assert_escaped(t._w_table.value)
    assert_escaped(t._w_chart.value)
    html = t.to_html()
    assert "root cause identified" in html and "<svg" in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


# -- history and settings -----------------------------------------------------------------------------
def test_history_search_and_view_attachments(wb, demo):
    from widgets import HistoryPanel

    issue, log = demo
    other = wb.issues.create_issue("Printer offline", None, "low", "hardware")
    wb.attachments.upload_image_attachment_by_content(other.id, "screen.png", PNG)
    opened = []
    h = HistoryPanel(wb, on_open=opened.append)
    h.layout
    assert len(h.issues) == 2
    h._w_query.value = "checkout"
    assert [i.id for i in h.issues] == [issue.id]
    h._w_open.click()
    assert opened == [issue.id]
    h._w_view_log.click()
    assert "checkout-service.log" in h._w_attachment_view.value and "<pre" in h._w_attachment_view.value
    h._w_view_image.click()
    assert "data:image/png;base64," in h._w_attachment_view.value
    h._w_att_query.value = "printer"
    assert not h.log_files and [i.file_name for i in h.images] == ["screen.png"]
    standalone = HistoryPanel(wb)
    standalone._w_open.click()
    assert "<h2" in standalone._w_issue_view.children[0].value


def test_settings_pii_types_patterns_allowlist_and_audit(wb):
    from widgets import SettingsPanel

    s = SettingsPanel(wb)
    s.select_tab("PII")
    boxes = {cb.description: cb for cb in s._w_pii_types.children}
    boxes["Phone"].value = False
    s._w_save_types.click()
    assert "Phone" not in wb.settings.get("pii_enabled_types")
    s._w_pattern_name.value = "TicketId"
    s._w_pattern_regex.value = "TCK-[0-9"  # invalid
    s._w_add_pattern.click()
    assert s.status_kind == "error" and "regular expression" in s.status
    s._w_pattern_regex.value = r"TCK-\d{6}"
    s._w_add_pattern.click()
    assert wb.settings.get("pii_custom_patterns") == [{"name": "TicketId", "pattern": r"TCK-\d{6}"}]
    s._w_patterns.value = 0
    s._w_remove_pattern.click()
    assert wb.settings.get("pii_custom_patterns") == []
    s._w_allowlist.value = "status.example.com\n\n"
    s._w_save_allowlist.click()
    assert wb.settings.get("pii_allowlist") == ["status.example.com"]
    s.select_tab("General")
    s._w_default_model.value = "qwen2.5:14b"
    s._w_save_general.click()
    assert wb.settings.get("default_model") == "qwen2.5:14b"
    s.select_tab("Audit log")
    assert s.audit_ok is True and s.audit_entries[0].action == "update_setting"
    assert "Audit chain intact" in s._w_audit_chain.value and "<details>" in s._w_audit_table.value
    head = str(wb.audit.current_head())
    assert head.split(":")[0] == str(len(wb.audit.get_audit_log(limit=10_000))) and head in s._w_audit_chain.value
    s._w_audit_action.value = "update_setting"
    assert {e.action for e in s.audit_entries} == {"update_setting"}
    assert "local" in s._w_audit_table.value  # the User column (single-user mode)
    s._w_audit_user.value = "someone-else"
    assert s.audit_entries == []
    assert "Audit chain intact" in s.to_html()


def test_settings_providers_add_test_activate(wb, fake_server):
    from widgets import SettingsPanel

    srv = fake_server("openai", replies=["pong"])
    s = SettingsPanel(wb)
    s.select_tab("AI providers")
    assert s.providers == []
    s._w_p_name.value = "local"
    s._w_p_type.value = "openai"
    s._w_p_url.value = srv.url
    s._w_p_model.value = "gpt-4o-mini"
    s._w_p_key.value = "sk-test-secret-0123456789"
    s._w_p_add.click()
    assert s.status_kind == "ok" and s.providers == ["local"] and s._w_p_key.value == ""
    assert "sk-test" not in s._w_provider_table.value and "(active)" in s._w_provider_table.value
    s._w_provider_test.click()
    assert s.status_kind == "ok" and "local" in s.status
    s._w_p_name.value = "second"
    s._w_p_add.click()
    s._w_provider_select.value = "second"
    s._w_provider_activate.click()
    assert wb.providers.active_provider().name == "second"
    s._w_p_add.click()  # duplicate name
    assert s.status_kind == "error" and "second" in s.status
    s._w_provider_delete.click()
    assert s.providers == ["local"]


def test_settings_ollama_models_and_pull_progress(wb, fake_server):
    from widgets import SettingsPanel

    srv = fake_server("ollama", models=["llama3.2:3b"], pull_steps=4, pull_delay=0.01)
    wb.settings.update_settings({"ollama_url": srv.root})
    s = SettingsPanel(wb)
    s.select_tab("Ollama")
    s._w_ollama_check.click()
    assert "running" in s._w_ollama_status.value and s.ollama_models == ["llama3.2:3b"]
    s._w_pull_name.value = "phi3.5:3.8b"
    s._w_pull.click()
    assert s.wait_for_pull(10)
    assert s.status_kind == "ok", s.status
    assert s._w_pull_progress.value == 100 and "done" in s._w_pull_label.value
    s._w_pull_name.value = "bad name!"
    s._w_pull.click()
    assert s.wait_for_pull(10)
    assert s.status_kind == "error" and "not a valid Ollama model name" in s.status


# -- chat ----------------------------------------------------------------------------------------------
@pytest.fixture
def chat_issue(wb, issue, fake_server):
    srv = fake_server("openai", replies=["Why 1: the **pool** was exhausted by [IPv4_1]. " + XSS + " What changed?"],
                      chunk_delay=0.005)
    wb.providers.add_provider("fake", "openai", srv.url, "gpt-4o-mini", api_key="k-0123456789abcdef")
    return issue, srv


def test_chat_streams_redacts_and_sanitises(wb, chat_issue):
    from widgets import ChatPanel

    issue, srv = chat_issue
    log = wb.attachments.upload_log_file_by_content(issue.id, "app.log", LOG)
    seen = []
    c = ChatPanel(issue.id, wb, on_reply=seen.append)
    c.layout
    assert c._w_provider.value == "fake"
    original = c._on_chunk
    chunks = []
    c._on_chunk = lambda t: (chunks.append(t), original(t))
    c.send("Checkout fails for alice@example.com from 10.1.2.3", [log.id])
    assert not c.busy and c.status_kind == "ok", c.status
    assert len(chunks) > 3  # the reply streamed
    sent = srv.chat_requests[-1].prompt_text
    assert "alice@example.com" not in sent and "10.1.2.3" not in sent and "hunter2" not in sent
    transcript = c._w_transcript.value
    assert "<strong>pool</strong>" in transcript and "10.1.2.3" in transcript  # restored locally
    assert "<img src=x" not in transcript and "onerror" not in transcript.replace("onerror=&quot;", "")
    assert seen and seen[0].why_level >= 1
    static = c.to_html()
    assert "10.1.2.3" not in static and "[IPv4_1]" in static  # the report shows placeholders
    assert "<img src=x" not in static


def test_chat_stop_cancels_the_stream(wb, issue, fake_server):
    from widgets import ChatPanel

    srv = fake_server("openai", replies=[" ".join(f"word{i}" for i in range(400))], chunk_delay=0.02)
    wb.providers.add_provider("slow", "openai", srv.url, "gpt-4o-mini", api_key="k-0123456789abcdef")
    c = ChatPanel(issue.id, wb)
    c.send("go", wait=False)
    import time

    deadline = time.monotonic() + 10
    while not c.live_text and time.monotonic() < deadline:
        time.sleep(0.01)
    assert c.live_text and not c._w_stop.disabled
    c._w_stop.click()
    assert c.wait(10)
    assert "Stopped" in c.status and c._w_stop.disabled and not c._w_send.disabled
    assert "(stopped)" in c.messages[-1].content


def test_chat_without_provider_says_what_to_do(wb, issue):
    from widgets import ChatPanel

    c = ChatPanel(issue.id, wb)
    assert c._w_send.disabled and c.status_kind == "error" and "Settings" in c.status


# -- documents -----------------------------------------------------------------------------------------
def test_documents_generate_edit_preview_export(wb, demo, tmp_path):
    from widgets import DocumentsPanel

    issue, _ = demo
    wb.whys.add_five_why(issue.id, 1, "Why 503?", "Pool exhausted " + SCRIPT)
    d = DocumentsPanel(issue.id, wb)
    d.layout
    assert d._w_save.disabled and not d.documents
    d._w_gen_rca.click()
    assert d.status_kind == "ok" and d.content.startswith("# Root Cause Analysis")
    assert_escaped(d._w_preview.value)
    d._w_editor.value = d.content + "\n\n## Notes\n\nFollow-up " + XSS + "\n"
    d._w_preview_button.click()
    assert "Notes" in d._w_preview.value and "<img src=x" not in d._w_preview.value
    d._w_export["md"].click()  # saves the edit first
    assert d.status_kind == "ok" and d.last_export.suffix == ".md"
    assert "## Notes" in d.last_export.read_text()
    assert 'download="' in d._w_download.value and "data:text/markdown;base64," in d._w_download.value
    d._w_export["html"].click()
    assert d.last_export.suffix == ".html" and "<script" not in d.last_export.read_text()
    d._w_gen_pm.click()
    assert len(d.documents) == 2 and d.content.startswith("# Blameless Post-Mortem")
    assert "Root Cause Analysis" in d.to_html()  # the report shows the RCA


# -- the dashboard --------------------------------------------------------------------------------------
def test_dashboard_builds_incident_tabs_lazily(wb, demo):
    from widgets import Dashboard

    issue, _ = demo
    d = Dashboard(wb)
    d.layout
    assert d.history is None and d.settings is None and d.incident is None
    d.issue_list._w_titles.children[0].click()
    inc = d.incident
    assert inc.issue_id == issue.id and list(inc.panels) == ["logs"]
    assert d._w_issues_page.children == (inc.layout,)
    inc.select_tab("Timeline")
    inc.select_tab("Documents")
    inc.select_tab("Chat & 5-Whys")
    assert set(inc.panels) == {"logs", "timeline", "documents", "whys", "chat"}
    inc.header._w_status_select.value = "investigating"
    assert d.issue_list.issues[0].status == "investigating"
    inc._w_back.click()
    assert d._w_issues_page.children == (d.issue_list.layout,)
    d.select_section("History")
    d.select_section("Settings")
    assert d.history is not None and d.settings is not None
    d.history._w_open.click()
    assert d.incident.issue_id == issue.id and d.sections.selected_index == 0
    d.incident.header._w_confirm_delete.value = True
    d.incident.header._w_delete.click()
    assert d.issue_list.total == 0 and d._w_issues_page.children == (d.issue_list.layout,)


def test_incident_panels_and_notices(wb, demo):
    from widgets import incident_panel, resolve_issue_id
    from widgets.incident import Notice

    issue, _ = demo
    assert resolve_issue_id(None, wb) == issue.id
    assert resolve_issue_id("abc", wb) == "abc"
    for name in ("header", "logs", "chat", "whys", "timeline", "documents"):
        p = incident_panel(name, issue.id, wb)
        assert not isinstance(p, Notice), name
        assert p.to_html()
    missing = incident_panel("logs", "no-such-issue", wb)
    assert isinstance(missing, Notice) and "not found" in missing.message
    assert isinstance(incident_panel("logs", None, wb), Notice)

