"""Timeline: the incident's events as a table and an inline SVG chart (no JavaScript, offline),
its metrics (the kernel's one definition), a form to add an event (optionally backfilled to
when it happened), and editing or deleting an event with its earlier revisions shown.

A viewer reads only: the form is disabled and says why, and the kernel refuses the call anyway.
"""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.incident_metrics import METRIC_KEYS, METRIC_LABELS, format_duration
from tftsr_kernel.models import HUMAN_EVENT_TYPES, RECORDED_EVENT_TYPES

from . import _html
from ._base import Panel, button, guarded, set_options

#: what the add form offers: people's types first, then the ones the workbench also records
ADDABLE_TYPES = HUMAN_EVENT_TYPES + tuple(t for t in RECORDED_EVENT_TYPES if t not in HUMAN_EVENT_TYPES)
_REPLACED = {"edit": "edited", "delete": "deleted"}


def _label(event_type: str) -> str:
    return event_type.replace("_", " ")


def _subheading(text: str) -> W.HTML:
    return W.HTML(f'<div style="font-weight:600;margin:10px 0 2px">{_html.esc(text)}</div>')


def metrics_html(m) -> str:
    """The metrics line: when the incident started and each metric ('-' until it happens)."""
    if m is None:  # the timeline could not be read (the status line says why)
        return ""
    parts = [f'<span class="tftsr-metric" data-metric="{k}"><b>{_html.esc(METRIC_LABELS[k])}</b> '
             f'{_html.esc(format_duration(getattr(m, k)))}</span>' for k in METRIC_KEYS]
    start = _html.esc(m.started_at + " UTC" if m.started_at else "-")
    return (f'<div class="tftsr-timeline-metrics tftsr-muted" style="margin:4px 8px 4px 0;line-height:1.8">'
            f'Incident start {start} &middot; ' + " &middot; ".join(parts) + "</div>")


class TimelinePanel(Panel):
    """Events of one incident, oldest first (by when they happened), with a chart, the
    metrics, an add form and edit / delete with history."""

    title = "Timeline"
    css_class = "tftsr-timeline"

    def __init__(self, issue_id: str, wb=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._wb.issues.require(issue_id)
        self._events = []
        self._all_events = []
        self._metrics = None
        self._w_chart = W.HTML()
        self._w_chart.add_class("tftsr-timeline-svg")
        self._w_table = W.HTML()
        self._w_table.add_class("tftsr-timeline-table")
        self._w_metrics = W.HTML()
        self._w_refresh = button("Refresh", "tftsr-timeline-refresh", icon="refresh")
        self._w_show_deleted = W.Checkbox(description="Show deleted events", indent=False,
                                          layout=W.Layout(width="auto"))
        self._w_show_deleted.add_class("tftsr-timeline-show-deleted")
        # add
        self._w_event_type = W.Dropdown(options=[(_label(t), t) for t in ADDABLE_TYPES],
                                        description="Event", layout=W.Layout(width="260px"))
        self._w_event_type.add_class("tftsr-event-type")
        self._w_event_description = W.Text(placeholder="What happened", layout=W.Layout(width="420px"))
        self._w_event_description.add_class("tftsr-event-description")
        self._w_event_time = W.Text(placeholder="optional: YYYY-MM-DD HH:MM:SS UTC", description="When",
                                    layout=W.Layout(width="330px"))
        self._w_event_time.add_class("tftsr-event-time")
        self._w_add = button("Add event", "tftsr-add-event", icon="plus")
        # edit / delete
        self._w_select = W.Dropdown(options=[], description="Event", layout=W.Layout(width="600px"))
        self._w_select.add_class("tftsr-timeline-select")
        self._w_edit_type = W.Dropdown(options=[], description="Type", layout=W.Layout(width="260px"))
        self._w_edit_type.add_class("tftsr-timeline-edit-type")
        self._w_edit_description = W.Textarea(description="Text", layout=W.Layout(width="600px", height="60px"))
        self._w_edit_description.add_class("tftsr-timeline-edit-description")
        self._w_edit_time = W.Text(placeholder="YYYY-MM-DD HH:MM:SS UTC (empty: when recorded)",
                                   description="Happened", layout=W.Layout(width="340px"))
        self._w_edit_time.add_class("tftsr-timeline-edit-time")
        self._w_save = button("Save changes", "tftsr-timeline-save", icon="save")
        self._w_delete = button("Delete event", "tftsr-timeline-delete", icon="trash", style="danger")
        self._w_history = W.HTML()
        self._w_history.add_class("tftsr-timeline-history")
        self._w_access = W.HTML()
        self._w_refresh.on_click(lambda _b: self.refresh())
        self._w_show_deleted.observe(lambda _c: self.refresh(), names="value")
        self._w_add.on_click(self._on_add)
        self._w_save.on_click(self._on_save)
        self._w_delete.on_click(self._on_delete)
        self._w_select.observe(lambda _c: self._show_selected(), names="value")
        self._apply_access()
        self.refresh()

    # -- state ------------------------------------------------------------------------------------
    @property
    def events(self):
        """The events on the timeline (deleted ones left out)."""
        return list(self._events)

    @property
    def metrics(self):
        return self._metrics

    @property
    def can_change(self) -> bool:
        return self._wb.team.actor.can("timeline:write")

    def _apply_access(self) -> None:
        """A viewer gets a read-only timeline: the controls are disabled and say why (the kernel
        refuses the calls in any case)."""
        editable = self.can_change
        for w in (self._w_event_type, self._w_event_description, self._w_event_time, self._w_add,
                  self._w_edit_type, self._w_edit_description, self._w_edit_time, self._w_save, self._w_delete):
            w.disabled = not editable
        if editable:
            self._w_access.value = ""
        else:
            actor = self._wb.team.actor
            self._w_access.value = (f'<div class="tftsr-muted tftsr-timeline-readonly">Read-only: {_html.esc(actor.name)} '
                                    f'has the {_html.esc(actor.role or "no")} role; analysts and admins add, edit '
                                    "and delete events.</div>")

    def _build(self):
        add_row = W.VBox([_subheading("Add an event"), W.HBox([self._w_event_type, self._w_event_description]),
                          W.HBox([self._w_event_time, self._w_add])])
        edit_box = W.VBox([_subheading("Edit or delete an event (earlier text is kept)"), self._w_select,
                           W.HBox([self._w_edit_type, self._w_edit_time]),
                           self._w_edit_description, W.HBox([self._w_save, self._w_delete]), self._w_history])
        return W.VBox([W.HTML(_html.style_tag()), W.HBox([self._w_metrics, self._w_refresh]), self._w_chart,
                       self._w_show_deleted, self._w_table, self._w_access, add_row, edit_box, self._w_status])

    @guarded
    def refresh(self) -> None:
        tl = self._wb.timeline
        self._all_events = tl.get_timeline_events(self.issue_id, include_deleted=True)
        self._events = [e for e in self._all_events if not e.deleted_at]
        self._metrics = tl.incident_metrics(self.issue_id)
        self._w_chart.value = _html.timeline_svg(self._events)
        self._w_table.value = self._table(self._all_events if self._w_show_deleted.value else self._events)
        self._w_metrics.value = metrics_html(self._metrics)
        current = self._w_select.value
        set_options(self._w_select, [(self._option(e), e.id) for e in self._events])
        if self._w_select.value == current:
            self._show_selected()  # same event, maybe edited elsewhere: show its fields afresh

    @staticmethod
    def _option(e) -> str:
        return f"{e.at}  {_label(e.event_type)}: {_html.one_line(e.description, 60)}"

    def _table(self, events) -> str:
        rows = []
        for e in events:
            notes = []
            if e.occurred_at:
                notes.append(f"backfilled, recorded {e.created_at}")
            if e.revision > 1:
                notes.append(f"edited by {e.updated_by} ({e.revision - 1} earlier revision"
                             f"{'s' if e.revision > 2 else ''})")
            if e.deleted_at:
                notes.append(f"deleted {e.deleted_at} by {e.deleted_by}")
            kind = _label(e.event_type) + (" (deleted)" if e.deleted_at else "")
            rows.append((e.at, kind, e.description, e.actor, "; ".join(notes)))
        return _html.table(rows, ["Time (UTC)", "Event", "Description", "By", "Notes"])

    def _selected(self):
        return next((e for e in self._events if e.id == self._w_select.value), None)

    def _show_selected(self) -> None:
        e = self._selected()
        if e is None:
            self._w_edit_description.value = self._w_edit_time.value = ""
            self._w_edit_type.options = []
            self._w_history.value = ""
            return
        types = HUMAN_EVENT_TYPES if e.event_type in HUMAN_EVENT_TYPES else (e.event_type,)
        self._w_edit_type.options = [(_label(t), t) for t in types]
        self._w_edit_type.value = e.event_type
        self._w_edit_description.value = e.description
        self._w_edit_time.value = e.occurred_at or ""
        self._w_history.value = self._history_html(e)

    def _history_html(self, e) -> str:
        revisions = self._wb.timeline.get_event_history(e.id)
        if not revisions:
            return f'<div class="tftsr-muted">Revision 1 by {_html.esc(e.actor)}: never edited.</div>'
        rows = [(r.revision, r.written_at, r.written_by, _label(r.event_type), r.occurred_at or "-", r.description,
                 f"{_REPLACED[r.change]} {r.replaced_at} by {r.replaced_by}")
                for r in revisions]
        return (f'<div class="tftsr-muted">Now revision {e.revision}; earlier revisions:</div>' +
                _html.table(rows, ["Rev", "Written (UTC)", "By", "Type", "Happened", "Description", "Replaced"]))

    # -- handlers ---------------------------------------------------------------------------------
    @guarded
    def _on_add(self, _b=None):
        ev = self._wb.timeline.add_timeline_event(self.issue_id, self._w_event_type.value,
                                                  self._w_event_description.value,
                                                  occurred_at=self._w_event_time.value.strip() or None)
        self._w_event_description.value = ""
        self._w_event_time.value = ""
        self.refresh()
        self.set_status(f"Event added ({_label(ev.event_type)} at {ev.at} UTC).", "ok")

    @guarded
    def _on_save(self, _b=None):
        e = self._selected()
        if e is None:
            self.set_status("Choose an event to change first.", "error")
            return
        changes = {}
        if self._w_edit_description.value.strip() != e.description:
            changes["description"] = self._w_edit_description.value
        if self._w_edit_type.value and self._w_edit_type.value != e.event_type:
            changes["event_type"] = self._w_edit_type.value
        if self._w_edit_time.value.strip() != (e.occurred_at or ""):
            changes["occurred_at"] = self._w_edit_time.value.strip()
        ev = self._wb.timeline.edit_timeline_event(e.id, **changes)
        self.refresh()
        self.set_status(f"Event updated (revision {ev.revision}; the earlier text is kept below).", "ok")

    @guarded
    def _on_delete(self, _b=None):
        e = self._selected()
        if e is None:
            self.set_status("Choose an event to delete first.", "error")
            return
        self._wb.timeline.delete_timeline_event(e.id)
        self.refresh()
        self.set_status("Event deleted from the timeline (kept with its history: tick 'Show deleted events').", "ok")

    # -- static renderings ------------------------------------------------------------------------
    def to_html(self) -> str:
        return (_html.style_tag() + _html.heading("Timeline") + metrics_html(self._metrics) +
                _html.timeline_svg(self._events) + self._table(self._events))

    def _repr_markdown_(self) -> str:
        m = self._metrics
        lines = ["### Timeline", ""]
        if m is not None:
            lines += [f"Incident start: {m.started_at or '-'} UTC  ",
                      "  \n".join(f"{label}: {value}" for label, value in m.rows()), ""]
        lines += ["| Time (UTC) | Event | Description | By |", "|---|---|---|---|"]
        lines += [f"| {e.at} | {_label(e.event_type)} | "
                  f"{_html.esc(_html.one_line(e.description, 200)).replace('|', chr(92) + '|')} | "
                  f"{_html.esc(e.actor)} |" for e in self._events]
        return "\n".join(lines)
