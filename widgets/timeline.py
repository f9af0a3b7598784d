"""Timeline: the incident's events as a table and an inline SVG chart (no JavaScript, offline)."""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.models import TIMELINE_EVENT_TYPES

from . import _html
from ._base import Panel, button, guarded


def metrics(events) -> dict:
    """Total events, duration (first to last event) and time to root cause, as in the RCA."""
    times = [_html.parse_ts(e.created_at) for e in events]
    times = [t for t in times if t is not None]
    duration = (max(times) - min(times)).total_seconds() if len(times) > 1 else None
    ttrc = None
    for e in events:
        if e.event_type == "root_cause_identified" and times:
            t = _html.parse_ts(e.created_at)
            ttrc = (t - min(times)).total_seconds() if t else None
            break
    return {"total": len(events), "duration": _html.duration_text(duration),
            "time_to_root_cause": _html.duration_text(ttrc)}


class TimelinePanel(Panel):
    """Events of one incident, oldest first, with a chart of events over time."""

    title = "Timeline"
    css_class = "tftsr-timeline"

    def __init__(self, issue_id: str, wb=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._wb.issues.require(issue_id)
        self._events = []
        self._w_chart = W.HTML()
        self._w_chart.add_class("tftsr-timeline-svg")
        self._w_table = W.HTML()
        self._w_table.add_class("tftsr-timeline-table")
        self._w_metrics = W.HTML()
        self._w_refresh = button("Refresh", "tftsr-timeline-refresh", icon="refresh")
        self._w_event_type = W.Dropdown(options=[(t.replace("_", " "), t) for t in TIMELINE_EVENT_TYPES],
                                        description="Event", layout=W.Layout(width="300px"))
        self._w_event_description = W.Text(placeholder="What happened", layout=W.Layout(width="360px"))
        self._w_event_description.add_class("tftsr-event-description")
        self._w_add = button("Add event", "tftsr-add-event", icon="plus")
        self._w_refresh.on_click(lambda _b: self.refresh())
        self._w_add.on_click(self._on_add)
        self.refresh()

    @property
    def events(self):
        return list(self._events)

    def _build(self):
        return W.VBox([W.HTML(_html.style_tag()), W.HBox([self._w_metrics, self._w_refresh]), self._w_chart,
                       self._w_table, W.HBox([self._w_event_type, self._w_event_description, self._w_add]),
                       self._w_status])

    @guarded
    def refresh(self) -> None:
        self._events = self._wb.timeline.get_timeline_events(self.issue_id)
        self._w_chart.value = _html.timeline_svg(self._events)
        self._w_table.value = self._table()
        m = metrics(self._events)
        self._w_metrics.value = (f'<div class="tftsr-muted" style="margin:4px 8px 4px 0">{m["total"]} event(s) '
                                 f'&middot; duration {_html.esc(m["duration"])} &middot; time to root cause '
                                 f'{_html.esc(m["time_to_root_cause"])}</div>')

    def _table(self) -> str:
        return _html.table([(e.created_at, e.event_type.replace("_", " "), e.description) for e in self._events],
                           ["Time (UTC)", "Event", "Description"])

    @guarded
    def _on_add(self, _b=None):
        self._wb.timeline.add_timeline_event(self.issue_id, self._w_event_type.value, self._w_event_description.value)
        self._w_event_description.value = ""
        self.refresh()
        self.set_status("Event added.", "ok")

    def to_html(self) -> str:
        m = metrics(self._events)
        return (_html.style_tag() + _html.heading("Timeline") +
                f'<div class="tftsr-muted">{m["total"]} event(s) &middot; duration {_html.esc(m["duration"])} '
                f'&middot; time to root cause {_html.esc(m["time_to_root_cause"])}</div>' +
                _html.timeline_svg(self._events) + self._table())

    def _repr_markdown_(self) -> str:
        lines = ["### Timeline", "", "| Time (UTC) | Event | Description |", "|---|---|---|"]
        lines += [f"| {e.created_at} | {e.event_type.replace('_', ' ')} | "
                  f"{_html.esc(_html.one_line(e.description, 200)).replace('|', chr(92) + '|')} |" for e in self._events]
        return "\n".join(lines)
