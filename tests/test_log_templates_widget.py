"""The log-templates panel (headless): table, chart with timeline events on the same axis, escaping."""

from __future__ import annotations

import time

from widgets.log_templates import LogTemplatesPanel


def _log_around_now() -> str:
    now = int(time.time())
    lines = []
    for k in range(-600, 300, 5):  # from 10 minutes ago to 5 minutes ahead
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + k))
        lines.append(f"{stamp} INFO api: request {k} served in 12ms")
        if k > 0:
            lines.append(f"{stamp} ERROR api: upstream <script>alert(1)</script> refused {k}")
    return "\n".join(lines) + "\n"


def test_panel_table_chart_and_events(wb, issue):
    log = wb.attachments.upload_log_file_by_content(issue.id, "api.log", _log_around_now())
    wb.timeline.add_timeline_event(issue.id, "triage_started", "on-call started triage")
    panel = LogTemplatesPanel(log.id, wb=wb)
    assert panel.status == ""
    s = panel.template_set
    assert len(s.templates) == 2 and s.lines == 180 + 59
    html = panel._w_table.value
    assert "&lt;script&gt;" in html and "<script>" not in html  # the log is untrusted
    assert "new at" in html  # the error template appears late: a burst
    svg = panel._w_chart.value
    assert svg.count('class="tftsr-template-series"') == 2
    # the upload and the triage event happen inside the log's time range: drawn on the same axis
    assert svg.count('class="tftsr-event-marker"') == 2 and "on-call started triage" in svg
    static = panel.to_html()
    assert "Log templates: api.log" in static and "<svg" in static and "<script>" not in static
    panel.refresh(recompute=True)
    assert panel.status == "Templates mined again."


def test_panel_without_timestamps_and_missing_log(wb, issue):
    log = wb.attachments.upload_log_file_by_content(issue.id, "plain.log", "alpha beta\nalpha gamma\n")
    panel = LogTemplatesPanel(log.id, wb=wb)
    assert "No timestamps found" in panel._w_chart.value
    wb.attachments.delete_log_file(log.id)
    panel.refresh()
    assert panel.status_kind == "error" and "not found" in panel.status
