"""The timeline panel (headless, by setting child widget values and clicking), and the
acceptance check of the human timeline: a backfilled incident shows the same time to mitigate
in the timeline panel, the RCA and the post-mortem."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest

from tftsr_kernel.incident_metrics import format_duration

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def ago(minutes: float) -> str:
    t = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def text_of(html: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def assert_escaped(html: str):
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x" in html and "&lt;script&gt;" in html


@pytest.fixture
def panel(wb, issue):
    from widgets import TimelinePanel

    p = TimelinePanel(issue.id, wb)
    p.layout
    return p


def test_add_with_and_without_a_time(panel, wb, issue):
    panel._w_event_type.value = "page"
    panel._w_event_description.value = "on-call paged"
    panel._w_event_time.value = ago(30)
    panel._w_add.click()
    assert panel.status_kind == "ok" and "page" in panel.status
    panel._w_event_type.value = "mitigation"
    panel._w_event_description.value = "rolled back to v41"
    panel._w_add.click()  # no time: now
    assert [e.event_type for e in panel.events] == ["page", "mitigation"]
    assert panel.events[0].occurred_at and panel.events[1].occurred_at is None
    assert "backfilled, recorded" in text_of(panel._w_table.value)
    assert panel._w_event_description.value == "" and panel._w_event_time.value == ""
    m = panel.metrics
    assert m.time_to_detect_s == 0 and 1790 <= m.time_to_mitigate_s <= 1810
    shown = text_of(panel._w_metrics.value)
    assert f"Time to mitigate {format_duration(m.time_to_mitigate_s)}" in shown and "Time to resolve -" in shown


def test_a_bad_time_is_refused_and_the_form_kept(panel):
    panel._w_event_type.value = "mitigation"
    panel._w_event_description.value = "rolled back"
    for bad, message in (("14:10", "YYYY-MM-DD HH:MM:SS"), ("2024-02-30 14:10:00", "not a real date"),
                         ("2999-01-01 00:00:00", "in the future")):
        panel._w_event_time.value = bad
        panel._w_add.click()
        assert panel.status_kind == "error" and message in panel.status
        assert "Traceback" not in panel.status
        assert panel.events == [] and panel._w_event_description.value == "rolled back"


def test_edit_delete_and_history(panel, wb, issue):
    ev = wb.timeline.add_timeline_event(issue.id, "note", "rolled back v42", occurred_at=ago(20))
    panel._w_refresh.click()
    panel._w_select.value = ev.id
    assert panel._w_edit_description.value == "rolled back v42" and panel._w_edit_time.value == ev.occurred_at
    assert "never edited" in text_of(panel._w_history.value)
    panel._w_edit_type.value = "mitigation"
    panel._w_edit_description.value = "rolled back v42 to v41"
    panel._w_save.click()
    assert panel.status_kind == "ok" and "revision 2" in panel.status
    assert panel.events[0].event_type == "mitigation" and panel.metrics.time_to_mitigate_s == 0
    history = text_of(panel._w_history.value)
    assert "Now revision 2" in history and "rolled back v42 edited" in history
    assert "edited by local (1 earlier revision)" in text_of(panel._w_table.value)
    panel._w_save.click()  # nothing changed: the kernel says so
    assert panel.status_kind == "error" and "nothing to change" in panel.status
    panel._w_edit_time.value = ""  # clear the backfilled time
    panel._w_save.click()
    assert panel.events[0].occurred_at is None and panel.events[0].revision == 3
    panel._w_delete.click()
    assert panel.status_kind == "ok" and panel.events == [] and panel.metrics.time_to_mitigate_s is None
    assert "rolled back" not in text_of(panel._w_table.value)
    panel._w_show_deleted.value = True
    shown = text_of(panel._w_table.value)
    assert "rolled back v42 to v41" in shown and "deleted" in shown
    assert [r.revision for r in wb.timeline.get_event_history(ev.id)] == [1, 2, 3]


def test_a_status_change_in_the_header_lands_on_the_open_timeline(wb, issue):
    from widgets.dashboard import IncidentView

    view = IncidentView(issue.id, wb)
    view.layout
    view.select_tab("Timeline")
    view.header._w_status_select.value = "resolved"
    tl = view.panels["timeline"]
    assert [e.event_type for e in tl.events] == ["status_change"]
    assert "Status changed from open to resolved" in text_of(tl._w_table.value)
    assert tl.metrics.time_to_resolve_s == 0


def test_hostile_text_renders_as_text(panel, wb, issue):
    ev = wb.timeline.add_timeline_event(issue.id, "note", "first " + HOSTILE)
    panel._w_refresh.click()
    panel._w_select.value = ev.id
    panel._w_edit_description.value = "second " + HOSTILE
    panel._w_save.click()
    for html in (panel._w_table.value, panel._w_chart.value, panel._w_history.value, panel.to_html()):
        assert_escaped(html)
    assert "<img" not in panel._repr_markdown_() and "&lt;img" in panel._repr_markdown_()
    # the edit fields and the chooser hold plain text (ipywidgets shows them as text)
    assert panel._w_edit_description.value == "second " + HOSTILE


def test_viewer_reads_only(wb, issue):
    from widgets import TimelinePanel

    wb.team.create_user("ada", "admin")
    wb.team.create_user("vic", "viewer")
    ev = wb.timeline.add_timeline_event(issue.id, "note", "seen")
    wb.team.act_as(wb.team.actor_for("vic", "session"))
    try:
        p = TimelinePanel(issue.id, wb)
        p.layout
        assert [e.id for e in p.events] == [ev.id] and p.metrics is not None
        assert "Read-only: vic has the viewer role" in text_of(p._w_access.value)
        assert p._w_add.disabled and p._w_save.disabled and p._w_delete.disabled and p._w_event_time.disabled
        p._w_select.value = ev.id
        assert "never edited" in text_of(p._w_history.value)  # the history is readable
        # the kernel refuses even when a handler is called directly
        p._w_event_description.value = "x"
        p._on_add()
        assert p.status_kind == "error" and "viewer" in p.status
        p._on_delete()
        assert p.status_kind == "error" and "viewer" in p.status
        assert [e.id for e in wb.timeline.get_timeline_events(issue.id)] == [ev.id]
    finally:
        wb.team.act_as(None)


# --- acceptance ----------------------------------------------------------------------------------
def _metric(text: str, label: str) -> str:
    m = re.search(rf"{label}\s*\|?\s*([0-9dhms ]+?)\s*(\||·|$)", text, re.IGNORECASE)
    assert m, (label, text[:2000])
    return m.group(1).strip()


def test_backfilled_incident_shows_one_time_to_mitigate_in_panel_rca_and_postmortem(cli, wb):
    """The on-call backfills what happened with the CLI; the timeline panel, the RCA and the
    post-mortem then agree on the time to mitigate (and on the other metrics)."""
    from widgets import TimelinePanel

    issue_id = cli("issue", "create", "--title", "Checkout 503s after deploy", "--severity", "critical",
                   "--json").json["id"]
    t0 = ago(120)
    steps = [("note", "first 5xx alerts on checkout", 0), ("page", "on-call paged", 2 * 60),
             ("action", "acknowledged; looking at the v42 deploy", 4 * 60 + 30),
             ("mitigation", "rolled back to v41", 8 * 60 + 40),
             ("root_cause_identified", "db_pool_max lowered from 50 to 10 in v42", 31 * 60)]
    start = datetime.strptime(t0, "%Y-%m-%d %H:%M:%S")
    for kind, text, offset in steps:
        at = (start + timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S")
        r = cli("timeline", issue_id, "--add", kind, "--description", text, "--at", at)
        assert r.code == 0, r.stderr
    assert cli("issue", "update", issue_id, "--status", "resolved").code == 0
    metrics = cli("timeline", issue_id, "--json").json["metrics"]
    assert metrics["time_to_mitigate_s"] == 520 and metrics["time_to_detect_s"] == 120
    expected = format_duration(520)
    assert expected == "8m 40s"

    panel = TimelinePanel(issue_id, wb)
    panel.layout
    panel_text = text_of(panel._w_metrics.value)
    rca = cli("rca", issue_id, "--json").json["content_md"]
    pm = cli("postmortem", issue_id, "--json").json["content_md"]
    for label, seconds in (("Time to mitigate", 520), ("Time to detect", 120), ("Time to acknowledge", 270),
                           ("Time to root cause", 31 * 60)):
        shown = {_metric(panel_text, label), _metric(rca, label), _metric(pm, label)}
        assert shown == {format_duration(seconds)}, (label, shown)
    assert _metric(panel_text, "Time to mitigate") == _metric(rca, "Time to mitigate") == \
        _metric(pm, "Time to mitigate") == expected
    # the documents list the backfilled events at the times they happened, oldest first
    assert f"| {t0} | Note | first 5xx alerts on checkout |" in rca
    assert "Mitigation - rolled back to v41" in pm
    # and the panel after the documents were generated still shows the same (rca/pm events are later)
    panel._w_refresh.click()
    assert _metric(text_of(panel._w_metrics.value), "Time to mitigate") == expected
