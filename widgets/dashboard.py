"""The Voila app: issue list, incident view (tabs built on first use), history and settings."""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.serve import viewer

from . import _html
from ._base import Panel, button, get_wb, guarded, lazy_tabs, service
from .issues import IssueHeader, IssueList

#: longest ``?issue=`` value echoed back in the status line
_SHOWN_ID = 60


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
        self._on_changed = on_changed
        self.header = IssueHeader(issue_id, self._wb, on_deleted=self._deleted, on_changed=self._changed)
        self.panels: dict[str, Panel] = {}
        self._w_back = button("\u2190 All issues", "tftsr-back")
        self._w_back.on_click(self._back)
        self._w_link = W.HTML(self._link_html())
        self._w_link.add_class("tftsr-issue-link")
        self._w_tabs = lazy_tabs([(t, (lambda name=t: self._make_tab(name))) for t in self.TABS],
                                 css="tftsr-incident-tabs")

    def _build(self):
        return W.VBox([self._w_back, self.header.layout, self._w_link, self._w_tabs, self._w_status])

    @property
    def link(self) -> str:
        """The address that opens this incident in the dashboard (without the token)."""
        return viewer.issue_link(self.issue_id)

    def _link_html(self) -> str:
        url = self.link
        return ('<div style="margin:6px 0;font-size:13px"><span class="tftsr-muted">Link to this incident '
                "(click to select, then copy; it carries no token):</span> "
                '<code class="tftsr-issue-url" style="user-select:all;background:#eef1f4;padding:2px 6px;'
                f'border-radius:3px">{_html.esc(url)}</code></div>')

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

    def _changed(self, issue_id):
        """The header changed the issue: a status or severity change is a new timeline event."""
        if "timeline" in self.panels:
            self.panels["timeline"].refresh()
        if self._on_changed:
            self._on_changed(issue_id)

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

    def __init__(self, wb=None, *, page_size: int = 25, issue_id: str | None = None):
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
        if issue_id is not None:
            self.open_link(issue_id)

    @classmethod
    def from_request(cls, wb=None, **kwargs) -> "Dashboard":
        """The dashboard for the page being served: ``?issue=ID`` opens that incident."""
        return cls(wb, issue_id=viewer.requested_issue(), **kwargs)

    @guarded
    def open_link(self, issue_id: str) -> bool:
        """Open the incident a link asks for; an unknown or malformed id is said in the status
        line (the issue list stays). True when the incident was opened."""
        shown = _html.one_line(issue_id, _SHOWN_ID)
        if not viewer.is_issue_id(issue_id.strip()):
            self.set_status(f"The link asks for issue \u201c{shown}\u201d, which is not an issue id "
                            "(it looks like 01234567-89ab-7cde-8f01-23456789abcd). Showing all issues.", "error")
            return False
        if not self._issue_exists(issue_id.strip()):
            self.set_status(f"Issue {shown} was not found: it may have been deleted, or the link is from "
                            "another dashboard. Showing all issues.", "error")
            return False
        self.open_issue(issue_id.strip())
        return self.incident is not None

    def _issue_exists(self, issue_id: str) -> bool:
        from tftsr_kernel.errors import NotFoundError

        try:
            self._wb.issues.require(issue_id)
        except NotFoundError:
            return False
        return True

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
        out = ""
        if actor.is_local:
            text = "Single-user mode (no users yet)"
        elif actor.role is None:
            text = "Not signed in"
            out = viewer.sign_out_link("Sign in")
        else:
            text = f"Signed in as {actor.name} ({actor.role})"
            out = viewer.sign_out_link("Sign out", hub=actor.via == "hub")
        return (f'<div class="tftsr-whoami tftsr-muted" style="font-size:13px">{_html.esc(text)}'
                f'{" &middot; " + out if out else ""}</div>')

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


def wait_for_viewer(wb=None) -> None:
    """In a preheated Voila kernel, pause here until a browser asks for the page (its URL, with
    ``?issue=``, and in team mode the signed-in session arrive then), so the issue list is read
    when it is shown, as that user; anywhere else, return at once."""
    viewer.wait_for_request()
    get_wb(wb).team.act_as(None)  # whom the environment now proves (the page's session)
