"""History: issues and attachments across incidents; search, view a log or an image."""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.categories import CATEGORIES
from tftsr_kernel.models import STATUSES

from . import _html
from ._base import Panel, button, guarded, lazy_tabs, may, set_options
from .issues import IssueHeader, category_label

VIEW_LIMIT = 60_000


class HistoryPanel(Panel):
    """Past incidents (search, filters, sort) and every log and image across incidents."""

    title = "History"
    css_class = "tftsr-history"

    def __init__(self, wb=None, *, on_open=None, limit: int = 100):
        super().__init__(wb)
        self._on_open = on_open
        self.limit = limit
        self._issues = []
        self._logs = []
        self._images = []
        self._w_query = W.Text(placeholder="Search issues", continuous_update=False, layout=W.Layout(width="260px"))
        self._w_query.add_class("tftsr-history-query")
        self._w_status_filter = W.Dropdown(options=[("All statuses", "")] + [(s.title(), s) for s in STATUSES],
                                           value="", layout=W.Layout(width="150px"))
        self._w_category_filter = W.Dropdown(options=[("All categories", "")] + [(v, k) for k, v in CATEGORIES.items()],
                                             value="", layout=W.Layout(width="190px"))
        self._w_sort = W.Dropdown(options=[("Newest", "created_at"), ("Recently updated", "updated_at"),
                                           ("Severity", "severity"), ("Title", "title")], value="created_at",
                                  layout=W.Layout(width="170px"))
        self._w_search = button("Search", "tftsr-history-search", icon="search")
        self._w_issue_table = W.HTML()
        self._w_issue_table.add_class("tftsr-history-issues")
        self._w_issue_select = W.Dropdown(options=[], description="Issue", layout=W.Layout(width="520px"))
        self._w_issue_select.add_class("tftsr-history-issue-select")
        self._w_open = button("Open", "tftsr-history-open", style="primary")
        self._w_issue_view = W.VBox([])

        self._w_att_query = W.Text(placeholder="File name or incident title", continuous_update=False,
                                   layout=W.Layout(width="260px"))
        self._w_att_query.add_class("tftsr-attachment-query")
        self._w_att_search = button("Search", "tftsr-attachment-search", icon="search")
        self._w_log_select = W.Dropdown(options=[], description="Log", layout=W.Layout(width="620px"))
        self._w_log_select.add_class("tftsr-history-log-select")
        self._w_view_log = button("View log", "tftsr-history-view-log", icon="file-text")
        self._w_image_select = W.Dropdown(options=[], description="Image", layout=W.Layout(width="620px"))
        self._w_image_select.add_class("tftsr-history-image-select")
        self._w_view_image = button("View image", "tftsr-history-view-image", icon="image")
        self._w_attachment_view = W.HTML()
        self._w_attachment_view.add_class("tftsr-attachment-view")

        for w in (self._w_query, self._w_status_filter, self._w_category_filter, self._w_sort):
            w.observe(lambda _c: self.search(), names="value")
        self._w_search.on_click(lambda _b: self.search())
        self._w_open.on_click(self._on_open_issue)
        self._w_att_query.observe(lambda _c: self.search_attachments(), names="value")
        self._w_att_search.on_click(lambda _b: self.search_attachments())
        self._w_view_log.on_click(self._on_view_log)
        self._w_view_image.on_click(self._on_view_image)
        self.search()
        self.search_attachments()

    @property
    def issues(self):
        return list(self._issues)

    @property
    def log_files(self):
        return list(self._logs)

    @property
    def images(self):
        return list(self._images)

    def _build(self):
        issues = W.VBox([W.HBox([self._w_query, self._w_search, self._w_status_filter, self._w_category_filter,
                                 self._w_sort], layout=W.Layout(flex_flow="row wrap")),
                         self._w_issue_table, W.HBox([self._w_issue_select, self._w_open]), self._w_issue_view])
        attachments = W.VBox([W.HBox([self._w_att_query, self._w_att_search]),
                              W.HBox([self._w_log_select, self._w_view_log]),
                              W.HBox([self._w_image_select, self._w_view_image]), self._w_attachment_view])
        tabs = lazy_tabs([("Issues", lambda: issues), ("Attachments", lambda: attachments)], css="tftsr-history-tabs")
        return W.VBox([W.HTML(_html.style_tag()), tabs, self._w_status])

    @guarded
    def search(self) -> None:
        q = self._w_query.value.strip()
        status = self._w_status_filter.value or None
        category = self._w_category_filter.value or None
        if q:
            self._issues = self._wb.issues.search_issues(q, status=status, category=category, limit=self.limit)
        else:
            self._issues = self._wb.issues.list_issues(status=status, category=category, sort_by=self._w_sort.value,
                                                       limit=self.limit)
        self._w_issue_table.value = self._issue_table()
        set_options(self._w_issue_select, [(f"{_html.one_line(i.title, 70)} ({i.created_at[:10]})", i.id)
                                           for i in self._issues])
        self._w_open.disabled = not self._issues

    def _issue_table(self) -> str:
        rows = [(i.title, _html.badge("severity", i.severity), _html.badge("status", i.status),
                 category_label(i.category), i.created_at, i.log_count) for i in self._issues]
        return _html.table(rows, ["Title", "Severity", "Status", "Category", "Created (UTC)", "Logs"],
                           raw_columns=(1, 2))

    @guarded
    def search_attachments(self) -> None:
        q = self._w_att_query.value.strip() or None
        att = self._wb.attachments
        self._logs = att.list_all_log_files(q, limit=self.limit)
        self._images = att.list_all_image_attachments(q, limit=self.limit)
        set_options(self._w_log_select, [
            (f"{_html.one_line(l.file_name, 40)} \u2014 {_html.one_line(l.issue_title, 40)} \u2014 "
             f"{l.uploaded_at[:16]} \u2014 {_html.human_size(l.file_size)}", l.id) for l in self._logs])
        set_options(self._w_image_select, [
            (f"{_html.one_line(i.file_name, 40)} \u2014 {_html.one_line(i.issue_title, 40)} \u2014 "
             f"{i.uploaded_at[:16]}", i.id) for i in self._images])
        self._w_view_log.disabled = not self._logs
        self._w_view_image.disabled = not self._images

    @guarded
    def _on_open_issue(self, _b=None):
        iid = self._w_issue_select.value
        if not iid:
            return
        if self._on_open is not None:
            self._on_open(iid)
            return
        header = IssueHeader(iid, self._wb)
        self._w_issue_view.children = (W.HTML(header.to_html()),)

    @guarded
    def _on_view_log(self, _b=None):
        log_id = self._w_log_select.value
        if not log_id:
            return
        log = next(l for l in self._logs if l.id == log_id)
        if may(self._wb, "logs:read_original"):
            text, note = self._wb.attachments.get_log_file_content(log_id), ""
        else:  # viewers: the redacted text only
            text, note = self._wb.pii.redacted_view(log_id).text, " (redacted)"
        self._w_attachment_view.value = (f"<b>{_html.esc(log.file_name)}</b>{_html.esc(note)} "
                                         f'<span class="tftsr-muted">from {_html.esc(log.issue_title)}</span>'
                                         + _html.pre(text, VIEW_LIMIT))

    @guarded
    def _on_view_image(self, _b=None):
        image_id = self._w_image_select.value
        if not image_id:
            return
        img = next(i for i in self._images if i.id == image_id)
        url = self._wb.attachments.get_image_attachment_data(image_id)
        self._w_attachment_view.value = (f"<b>{_html.esc(img.file_name)}</b> "
                                         f'<span class="tftsr-muted">from {_html.esc(img.issue_title)}</span><br>'
                                         + _html.image_tag(url, img.file_name, max_px=720))

    def to_html(self) -> str:
        logs = _html.table([(l.file_name, l.issue_title, l.uploaded_at, _html.human_size(l.file_size),
                             "yes" if l.redacted else "no") for l in self._logs],
                           ["File", "Incident", "Uploaded (UTC)", "Size", "Redacted"])
        images = _html.table([(i.file_name, i.issue_title, i.uploaded_at, _html.human_size(i.file_size))
                              for i in self._images], ["File", "Incident", "Uploaded (UTC)", "Size"])
        return (_html.style_tag() + _html.heading("History") + self._issue_table() +
                _html.heading("Log files", 4) + logs + _html.heading("Images", 4) + images)
