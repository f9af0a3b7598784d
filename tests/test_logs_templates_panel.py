"""The templates of the selected log inside the Logs panel (headless): the user uploads logs,
selects one, and sees its templates table and the SVG chart with bursts and the incident's
timeline events on the same time axis; hostile template text and event descriptions stay text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.incident_log import EVENT_XSS, SCRIPT, add_events, incident_log
from tests.upload_frontend import FrontEnd

SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg(html: str) -> ET.Element:
    """The chart's SVG parsed as XML: proves it is well formed and nothing in it is markup from the log."""
    m = re.search(r"<svg.*?</svg>", html, re.S)
    assert m, html[:300]
    return ET.fromstring(m.group(0))


def _panel(wb, issue, auto_bytes=None):
    from widgets import LogsPanel

    text, start = incident_log()
    p = LogsPanel(issue.id, wb)
    if auto_bytes is not None:
        p.auto_templates_bytes = auto_bytes
    p.layout
    fe = FrontEnd(p._w_upload)
    assert fe.upload("checkout.log", text.encode())[-1]["type"] == "done"
    assert fe.upload("other.log", b"2024-05-01 10:00:00 INFO boot ok\n2024-05-01 10:00:01 INFO boot ok\n"
                     )[-1]["type"] == "done"
    events = add_events(wb, issue.id, start)
    return p, events


def test_selecting_a_log_shows_its_templates_chart_and_events(wb, issue):
    p, events = _panel(wb, issue)
    checkout = next(l for l in p.logs if l.file_name == "checkout.log")
    other = next(l for l in p.logs if l.file_name == "other.log")
    assert p.selected_log_id == other.id  # the last upload is selected
    assert p.templates.log_file_id == other.id and len(p.templates.template_set.templates) == 1

    p._w_log_select.value = checkout.id  # the user picks the incident's log
    view = p.templates
    assert view.status == "", view.status
    assert view.log_file_id == checkout.id
    s = view.template_set
    assert s.lines == len(incident_log()[0].splitlines())
    table = view._w_table.value
    # the table: the four templates with counts, first/last seen and the bursts
    assert table.count("<tr>") == 1 + len(s.templates) == 5
    assert "pool exhausted" in table and "jump to" in table and "new at" in table
    rows = re.findall(r"<tr><td>T(\d+)</td><td>([\d,]+)</td>", table)
    counts = [int(c.replace(",", "")) for _i, c in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] == 900  # INFO every 2 s for 30 min
    assert "checkout.log" in view._w_summary.value and "4 templates" in view._w_summary.value

    html = view._w_chart.value
    svg = _svg(html)
    series = svg.findall(f"{SVG_NS}polyline")
    assert len(series) == 4 and {e.get("class") for e in series} == {"tftsr-template-series"}
    bursts = [e for e in svg.iter() if e.get("class") == "tftsr-burst-marker"]
    kinds = {b.get("data-kind") for b in bursts}
    assert kinds == {"rate_jump", "new_template"}
    burst_ids = {int(b.get("data-template-id")) for b in bursts}
    by_text = {t.id: t.template for t in s.templates}
    assert any("pool exhausted" in by_text[i] for i in burst_ids) and any("circuit" in by_text[i] for i in burst_ids)
    # the timeline events (created with the issue's upload, plus the incident's own) on the same axis
    markers = [g for g in svg.iter() if g.get("class") == "tftsr-event-marker"]
    timeline = wb.timeline.get_timeline_events(issue.id)
    assert len(markers) == len(timeline) >= 4
    titles = " ".join(g.find(f"{SVG_NS}title").text for g in markers)
    assert EVENT_XSS in titles and "rolled back release 4.2" in titles  # as text, parsed back from escaped XML
    xs = sorted(float(g.find(f"{SVG_NS}line").get("x1")) for g in markers)
    rect = svg.find(f"{SVG_NS}rect")
    assert float(rect.get("x")) <= xs[0] and xs[-1] <= float(rect.get("x")) + float(rect.get("width"))
    assert "Description" in html and "rolled back release 4.2" in html  # the numbered event list

    # hostile text from the log and the timeline is escaped everywhere it is shown
    for part in (html, table, view.to_html()):
        assert "<script" not in part and "<img" not in part
    assert "&lt;script&gt;" in table and "&lt;img src=x" in table
    # ... and reads back as the very text of the template (the chart's tooltips)
    tips = {int(e.get("data-template-id")): e.find(f"{SVG_NS}title").text for e in series}
    hostile = [t for t in s.templates if "<script>" in t.template or "<img" in t.template]
    assert len(hostile) == 2 and SCRIPT[:20] in hostile[0].template + hostile[1].template
    for t in hostile:
        assert tips[t.id] == f"T{t.id}: {t.template}"
    assert "<img src=x onerror=window.__xss=" in " ".join(tips.values())

    # the table's size is the user's choice; "Mine again" recomputes and says so
    view._w_top.value = 10
    assert view._w_table.value.count("<tr>") == 5
    view._w_recompute.click()
    assert view.status_kind == "ok" and view.status == "Templates mined again."

    # back to the other log: its own templates, no events in its (2024) range
    p._w_log_select.value = other.id
    assert p.templates.log_file_id == other.id
    assert "timeline event(s) fall outside" in p.templates._w_chart.value
    assert 'class="tftsr-event-marker"' not in p.templates._w_chart.value


def test_a_large_log_waits_for_the_button_and_errors_stay_in_the_status_line(wb, issue):
    p, _events = _panel(wb, issue, auto_bytes=1024)  # checkout.log (~60 KB) counts as large here
    checkout = next(l for l in p.logs if l.file_name == "checkout.log")
    p._w_log_select.value = checkout.id
    assert p.templates.template_set is None and not wb.logs.has_log_templates(checkout.id)
    assert "mining its templates takes a few seconds" in p._w_templates_note.value
    assert p._w_templates_show.layout.display is None  # the button is shown
    p._w_templates_show.click()
    assert p.templates.log_file_id == checkout.id and p.templates.template_set is not None
    assert wb.logs.has_log_templates(checkout.id) and p._w_templates_show.layout.display == "none"
    # once stored, selecting it again shows the templates at once
    p._w_log_select.value = p.logs[-1].id
    p._w_log_select.value = checkout.id
    assert p.templates.template_set is not None and p._w_templates_note.value == ""
    # the log is deleted behind the panel's back: a clear message, no traceback
    wb.attachments.delete_log_file(checkout.id)
    p.templates.refresh(recompute=True)
    assert p.templates.status_kind == "error" and "not found" in p.templates.status


def test_a_log_without_timestamps_and_an_empty_incident(wb, issue):
    from widgets import LogsPanel

    p = LogsPanel(issue.id, wb)
    p.layout
    assert p.templates.log_file_id is None and p.templates._w_chart.value == ""
    FrontEnd(p._w_upload).upload("plain.log", b"alpha beta\nalpha gamma\n<b>bold</b> x\n")
    assert p.templates.template_set is not None
    assert "No timestamps found" in p.templates._w_chart.value
    assert "&lt;b&gt;bold&lt;/b&gt;" in p.templates._w_table.value


def test_a_viewer_is_told_templates_are_original_text(wb, issue):
    """Templates hold the original text: a viewer (no logs:read_original) sees why, not a traceback."""
    from widgets import LogsPanel

    text, _start = incident_log()
    wb.attachments.upload_log_file_by_content(issue.id, "checkout.log", text)
    wb.team.create_user("ada", "admin")
    wb.team.create_user("vic", "viewer")
    wb.team.act_as(wb.team.actor_for("vic", "session"))
    p = LogsPanel(issue.id, wb)
    p.layout
    assert p.templates.template_set is None
    note = p.templates._w_summary.value
    assert "Templates hold the original log text" in note and "viewer" in note
    assert p.templates._w_chart.value == "" and p.templates.status == ""


def test_chart_takes_any_event_type_and_backfilled_times():
    """Event records as the timeline grows them: a type the chart has no colour for, a backfilled
    ``occurred_at`` (drawn there, not at ``created_at``), one far outside the log (counted)."""
    import time
    from types import SimpleNamespace as Ev

    from tftsr_kernel.logs import mine_lines
    from widgets.log_templates import templates_svg

    text, start = incident_log()
    ts = mine_lines(text.splitlines())
    at = lambda m: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + m * 60))  # noqa: E731
    events = [Ev(event_type="pager_<b>duty</b>", description="x " + SCRIPT, occurred_at=at(5), created_at=at(29)),
              Ev(event_type="note", description="no backfill", created_at=at(25)),
              Ev(event_type="note", description="years ago", occurred_at="2020-01-01 00:00:00", created_at=at(1))]
    html = templates_svg(ts, events)
    svg = _svg(html)
    markers = [g for g in svg.iter() if g.get("class") == "tftsr-event-marker"]
    assert [g.get("data-event-type") for g in markers] == ["pager_<b>duty</b>", "note"]  # attribute, escaped
    rect = svg.find(f"{SVG_NS}rect")
    x0, w = float(rect.get("x")), float(rect.get("width"))
    first = float(markers[0].find(f"{SVG_NS}line").get("x1"))
    assert abs((first - x0) / w - 5 / 30) < 0.03  # at minute 5 of the 30-minute log
    assert "1 timeline event(s) fall outside" in html and "<script" not in html and "<b>duty" not in html
