"""The Voila app: issue list, incident view (tabs built on first use), history and settings."""

from __future__ import annotations

import ipywidgets as W

from . import _html
from ._base import Panel, button, get_wb, guarded, lazy_tabs, service
from .issues import IssueHeader, IssueList


def _unavailable(what: str, module: str) -> W.HTML:
    return W.HTML(f'<div class="tftsr-muted">{_html.esc(what)} is not available in this installation '
                  f"({_html.esc(module)} is missing).</div>")


class IncidentView(Panel):
    """One incident: the header, then tabs Logs & PII, Chat & 5-Whys, Timeline, Documents. Each
    tab is built the first time it is selected."""

    title = "Incident"
    css_class = "tftsr-incident"
    TABS = ("Logs & PII", "Chat & 5-Whys", "Timeline", "Documents")

    def __init__(self, issue_id: str, wb=None, *, on_back=None, on_changed=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._on_back = on_back
        self.header = IssueHeader(issue_id, self._wb, on_deleted=self._deleted, on_changed=on_changed)
        self.panels: dict[str, Panel] = {}
        self._w_back = button("\u2190 All issues", "tftsr-back")
        self._w_back.on_click(self._back)
        self._w_tabs = lazy_tabs([(t, (lambda name=t: self._make_tab(name))) for t in self.TABS],
                                 css="tftsr-incident-tabs")

    def _build(self):
        return W.VBox([self._w_back, self.header.layout, self._w_tabs, self._w_status])

    @property
    def tabs(self) -> W.Tab:
        return self._w_tabs

    def select_tab(self, name: str) -> None:
        """Switch to (and build) a tab by title."""
        index = self.TABS.index(name)
        self._w_tabs._tftsr_build(index)
        self._w_tabs.selected_index = index

    def _make_tab(self, name: str) -> W.Widget:
        wb, iid = self._wb, self.issue_id
        if name == "Logs & PII":
            from .logs import LogsPanel

            self.panels["logs"] = LogsPanel(iid, wb)
            return self.panels["logs"].layout
        if name == "Chat & 5-Whys":
            from .whys import WhysPanel

            self.panels["whys"] = WhysPanel(iid, wb)
            parts = []
            if service(wb, "chat") is not None:
                from .chat import ChatPanel

                self.panels["chat"] = ChatPanel(iid, wb, on_reply=lambda _r: self.panels["whys"].refresh())
                parts.append(self.panels["chat"].layout)
            else:
                parts.append(_unavailable("AI chat", "tftsr_kernel.ai.service"))
            parts.append(self.panels["whys"].layout)
            return W.VBox(parts)
        if name == "Timeline":
            from .timeline import TimelinePanel

            self.panels["timeline"] = TimelinePanel(iid, wb)
            return self.panels["timeline"].layout
        if name == "Documents":
            if service(wb, "documents") is None:
                return _unavailable("RCA and post-mortem documents", "tftsr_kernel.documents.service")
            from .documents import DocumentsPanel

            self.panels["documents"] = DocumentsPanel(iid, wb)
            return self.panels["documents"].layout
        raise KeyError(name)

    def _back(self, _b=None):
        if self._on_back:
            self._on_back()

    def _deleted(self, _issue_id):
        self._back()

    def to_html(self) -> str:
        return "".join([self.header.to_html()] + [p.to_html() for p in self.panels.values()])


class Dashboard(Panel):
    """The team dashboard served by ``tftsr dashboard``: Issues (list, new issue, incident view),
    History and Settings. Only the first page of issues is built at start."""

    title = "TFTSR Workbench"
    css_class = "tftsr-dashboard"
    SECTIONS = ("Issues", "History", "Settings")

    def __init__(self, wb=None, *, page_size: int = 25):
        super().__init__(wb)
        self.issue_list = IssueList(self._wb, page_size=page_size, on_open=self.open_issue)
        self.incident: IncidentView | None = None
        self.history = None
        self.settings = None
        self._w_issues_page = W.VBox([self.issue_list.layout])
        self._w_issues_page.add_class("tftsr-issues-page")
        self._w_sections = lazy_tabs([("Issues", lambda: self._w_issues_page),
                                      ("History", self._make_history),
                                      ("Settings", self._make_settings)], css="tftsr-sections")

    def _build(self):
        head = W.HTML(_html.style_tag() + '<h2 class="tftsr-app-title" style="margin:2px 0 6px 0">'
                      "TFTSR Workbench</h2>")
        self._w_whoami = W.HTML(self._whoami_html())
        return W.VBox([W.HBox([head, self._w_whoami], layout=W.Layout(justify_content="space-between",
                                                                     align_items="center")),
                       self._w_sections, self._w_status])

    @property
    def signed_in(self):
        """Who this page's kernel acts as (the kernel decides; the browser cannot choose)."""
        return self._wb.team.actor

    def _whoami_html(self) -> str:
        actor = self.signed_in
        if actor.is_local:
            text = "Single-user mode (no users yet)"
        elif actor.role is None:
            text = "Not signed in"
        else:
            text = f"Signed in as {actor.name} ({actor.role})"
        return f'<div class="tftsr-whoami tftsr-muted" style="font-size:13px">{_html.esc(text)}</div>'

    @property
    def sections(self) -> W.Tab:
        return self._w_sections

    def select_section(self, name: str) -> None:
        index = self.SECTIONS.index(name)
        self._w_sections._tftsr_build(index)
        self._w_sections.selected_index = index

    @guarded
    def open_issue(self, issue_id: str) -> None:
        """Show the incident view of ``issue_id`` in place of the list."""
        old = self.incident
        self.incident = IncidentView(issue_id, self._wb, on_back=self.show_list,
                                     on_changed=lambda _iid: self.issue_list.refresh())
        self._w_issues_page.children = (self.incident.layout,)
        if old is not None:
            old.layout.close()
        if self._w_sections.selected_index != 0:
            self._w_sections.selected_index = 0

    def show_list(self) -> None:
        self.issue_list.refresh()
        self._w_issues_page.children = (self.issue_list.layout,)

    def _make_history(self):
        from .history import HistoryPanel

        self.history = HistoryPanel(self._wb, on_open=self.open_issue)
        return self.history.layout

    def _make_settings(self):
        from .settings import SettingsPanel

        self.settings = SettingsPanel(self._wb)
        return self.settings.layout

    def to_html(self) -> str:
        return _html.heading("TFTSR Workbench", 2) + self.issue_list.to_html()


def prepare(wb=None) -> None:
    """Warm-up done before a viewer arrives (Voila preheats kernels): open the encrypted database
    (one key derivation) and import the panels of the first screen."""
    from . import issues as _issues  # noqa: F401

    _ = get_wb(wb).issues


def wait_for_viewer() -> None:
    """In a preheated Voila kernel, pause here until a browser asks for the page, so the issue
    list is read when it is shown; anywhere else, return at once."""
    try:
        from voila.utils import wait_for_request
    except ImportError:
        return
    wait_for_request()
