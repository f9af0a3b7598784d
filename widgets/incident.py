"""Helpers for the incident notebook: pick the issue, and make one panel per cell."""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.errors import TftsrError

from . import _html
from ._base import Panel, get_wb, service

#: panel name -> (module, class, kernel service it needs or None)
PANELS = {
    "header": (".issues", "IssueHeader", None),
    "logs": (".logs", "LogsPanel", None),
    "chat": (".chat", "ChatPanel", "chat"),
    "whys": (".whys", "WhysPanel", None),
    "timeline": (".timeline", "TimelinePanel", None),
    "documents": (".documents", "DocumentsPanel", "documents"),
}


class Notice(Panel):
    """A message in place of a panel (no issue yet, or a service that is not installed)."""

    title = "Notice"
    css_class = "tftsr-notice"

    def __init__(self, message: str, kind: str = "info", wb=None):
        self._message = message
        self._kind = kind
        super().__init__(wb)
        self.set_status(message, kind)

    @property
    def message(self) -> str:
        return self._message

    def _build(self):
        return W.VBox([self._w_status])

    def to_html(self) -> str:
        return _html.status_line(self._message, self._kind)

    def _repr_markdown_(self) -> str:
        return f"_{_html.esc(self._message)}_"


def resolve_issue_id(issue_id: str | None = None, wb=None) -> str | None:
    """``issue_id`` itself, or the most recently created issue when it is None."""
    if issue_id:
        return str(issue_id)
    items = get_wb(wb).issues.list_issues(sort_by="created_at", sort_order="desc", limit=1)
    return items[0].id if items else None


def incident_panel(name: str, issue_id: str | None, wb=None) -> Panel:
    """The panel ``name`` (header, logs, chat, whys, timeline, documents) for ``issue_id``, or a
    :class:`Notice` saying why it cannot be shown."""
    import importlib

    wb = get_wb(wb)
    if issue_id is None:
        return Notice("No issue yet: create one with `tftsr issue create --title ...` or in the dashboard.", wb=wb)
    module, cls, needs = PANELS[name]
    if needs and service(wb, needs) is None:
        return Notice(f"The {name} panel is not available in this installation.", wb=wb)
    try:
        return getattr(importlib.import_module(module, __package__), cls)(issue_id, wb)
    except TftsrError as exc:
        return Notice(str(exc), "error", wb=wb)
