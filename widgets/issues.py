"""Issue list (filters, search, pagination, new issue) and the incident header."""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.categories import CATEGORIES
from tftsr_kernel.models import SEVERITIES, STATUSES

from . import _html
from ._base import Panel, button, guarded, service


def _md_cell(value) -> str:
    """A Markdown table cell: HTML-escaped, one line, pipes escaped."""
    return _html.esc(_html.one_line(value, 120)).replace("|", "\\|") if value is not None else "-"


def category_label(key: str | None) -> str:
    return CATEGORIES.get(key, key or "-") if key else "-"


class IssueList(Panel):
    """Issues with status/severity/category filters, full-text search, pagination, badges and a
    new-issue form. Clicking a title calls the ``on_open`` callbacks with the issue id."""

    title = "Issues"
    css_class = "tftsr-issue-list"

    def __init__(self, wb=None, *, page_size: int = 25, on_open=None, show_new_form: bool = True):
        super().__init__(wb)
        self.page_size = int(page_size)
        self._page = 0
        self._items = []
        self._total: int | None = None
        self._has_next = False
        self._selected: str | None = None
        self._callbacks = [on_open] if on_open else []
        self._show_new_form = show_new_form
        # A page is one column of title buttons (sharing one layout and one style) beside one HTML
        # column of badges, row heights fixed so they line up: few widget models, fast first render.
        self._row_button_layout = W.Layout(width="100%", height="28px", margin="1px 0px")
        self._row_button_style = W.ButtonStyle()
        self._w_status_filter = W.Dropdown(options=[("All statuses", "")] + [(s.title(), s) for s in STATUSES],
                                           value="", layout=W.Layout(width="150px"))
        self._w_severity_filter = W.Dropdown(options=[("All severities", "")] + [(s.title(), s) for s in SEVERITIES],
                                             value="", layout=W.Layout(width="150px"))
        self._w_category_filter = W.Dropdown(options=[("All categories", "")] + [(v, k) for k, v in CATEGORIES.items()],
                                             value="", layout=W.Layout(width="190px"))
        self._w_search = W.Text(placeholder="Search titles and descriptions", continuous_update=False,
                                layout=W.Layout(width="260px"))
        self._w_status_filter.add_class("tftsr-filter-status")
        self._w_severity_filter.add_class("tftsr-filter-severity")
        self._w_category_filter.add_class("tftsr-filter-category")
        self._w_search.add_class("tftsr-search")
        self._w_search_button = button("Search", "tftsr-search-button", icon="search")
        self._w_refresh = button("Refresh", "tftsr-refresh", icon="refresh")
        self._w_prev = button("\u2039 Prev", "tftsr-prev")
        self._w_next = button("Next \u203a", "tftsr-next")
        self._w_page_label = W.HTML()
        self._w_counts = W.HTML()
        self._w_titles = W.VBox(layout=W.Layout(width="45%", min_width="240px", margin="0px"))
        self._w_titles.add_class("tftsr-issue-titles")
        self._w_meta = W.HTML(layout=W.Layout(width="55%", margin="0px 0px 0px 8px"))
        self._w_meta.add_class("tftsr-issue-meta")
        self._w_rows = W.HBox([self._w_titles, self._w_meta], layout=W.Layout(width="100%"))
        self._w_rows.add_class("tftsr-issue-rows")

        # the new-issue form is built when first opened (fewer widgets on the first screen)
        self._w_new_form = W.Accordion(children=[W.VBox()], titles=("New issue",), selected_index=None)
        self._w_new_form.add_class("tftsr-new-issue")
        self._w_new_form.observe(lambda _c: self._ensure_form(), names="selected_index")

        for w in (self._w_status_filter, self._w_severity_filter, self._w_category_filter):
            w.observe(self._on_filter, names="value")
        self._w_search.observe(self._on_filter, names="value")
        self._w_search_button.on_click(self._on_filter)
        self._w_refresh.on_click(lambda _b: self.refresh())
        self._w_prev.on_click(self._on_prev)
        self._w_next.on_click(self._on_next)
        self.refresh()

    # -- public values --------------------------------------------------------------------------
    @property
    def issues(self):
        """The issues on the current page (IssueSummary records)."""
        return list(self._items)

    @property
    def page(self) -> int:
        return self._page

    @property
    def total(self) -> int | None:
        """How many issues match the filters (None while searching)."""
        return self._total

    @property
    def selected_issue_id(self) -> str | None:
        return self._selected

    @property
    def filters(self) -> dict:
        return {"status": self._w_status_filter.value or None, "severity": self._w_severity_filter.value or None,
                "category": self._w_category_filter.value or None, "query": self._w_search.value.strip()}

    def on_open(self, callback) -> None:
        """Register ``callback(issue_id)``, called when an issue is opened."""
        self._callbacks.append(callback)

    # -- building -------------------------------------------------------------------------------
    def show_new_form(self) -> None:
        """Open the new-issue form."""
        self._w_new_form.selected_index = 0
        self._ensure_form()

    def _ensure_form(self):
        if hasattr(self, "_w_create"):
            return
        self._w_new_title = W.Text(placeholder="What is broken? (required)", layout=W.Layout(width="95%"))
        self._w_new_title.add_class("tftsr-new-title")
        self._w_new_description = W.Textarea(placeholder="Symptoms, impact, first observations",
                                             layout=W.Layout(width="95%", height="70px"))
        self._w_new_description.add_class("tftsr-new-description")
        self._w_new_severity = W.Dropdown(options=[(s.title(), s) for s in SEVERITIES], value="medium",
                                          description="Severity")
        self._w_new_severity.add_class("tftsr-new-severity")
        self._w_new_category = W.Dropdown(options=[("(none)", "")] + [(v, k) for k, v in CATEGORIES.items()],
                                          value="", description="Category")
        self._w_new_category.add_class("tftsr-new-category")
        self._w_create = button("Create issue", "tftsr-create", style="primary", icon="plus")
        self._w_create.on_click(self._on_create)
        self._w_new_form.children = [W.VBox([self._w_new_title, self._w_new_description,
                                             W.HBox([self._w_new_severity, self._w_new_category]), self._w_create])]

    def _build(self):
        filters = W.HBox([self._w_search, self._w_search_button, self._w_status_filter, self._w_severity_filter,
                          self._w_category_filter, self._w_refresh], layout=W.Layout(flex_flow="row wrap"))
        pager = W.HBox([self._w_prev, self._w_page_label, self._w_next], layout=W.Layout(align_items="center"))
        children = [W.HTML(_html.style_tag()), self._w_counts, filters, self._w_rows, pager, self._w_status]
        if self._show_new_form:
            children.insert(1, self._w_new_form)
        return W.VBox(children)

    # -- data -----------------------------------------------------------------------------------
    @guarded
    def refresh(self) -> None:
        """Reload the current page with the current filters."""
        f = self.filters
        issues = self._wb.issues
        offset = self._page * self.page_size
        if f["query"]:
            items = issues.search_issues(f["query"], status=f["status"], severity=f["severity"],
                                         category=f["category"], limit=self.page_size + 1, offset=offset)
            self._has_next = len(items) > self.page_size
            self._total = None
        else:
            self._total = issues.count_issues(status=f["status"], severity=f["severity"], category=f["category"])
            items = issues.list_issues(status=f["status"], severity=f["severity"], category=f["category"],
                                       limit=self.page_size, offset=offset)
            self._has_next = offset + len(items) < self._total
        self._items = items[: self.page_size]
        self._render_rows()
        self._render_counts()
        if self._status_kind != "ok":
            self.set_status("")

    def _render_counts(self):
        issues = self._wb.issues
        n_open = issues.count_issues(status="open")
        n_inv = issues.count_issues(status="investigating")
        n_crit = issues.count_issues(severity="critical", status="open")
        self._w_counts.value = (
            f'<div class="tftsr-counts" style="font-size:13px;margin:4px 0">'
            f"<b>{n_open:,}</b> open &middot; <b>{n_inv:,}</b> investigating &middot; "
            f"<b>{n_crit:,}</b> critical open</div>")

    def _render_rows(self):
        old = self._w_titles.children
        buttons, meta = [], []
        for item in self._items:
            b = W.Button(description=_html.one_line(item.title, 70), tooltip=_html.one_line(item.title, 300),
                         layout=self._row_button_layout, style=self._row_button_style)
            b.add_class("tftsr-open-issue")
            b.on_click(lambda _b, iid=item.id: self.open_issue(iid))
            buttons.append(b)
            meta.append(
                '<div class="tftsr-issue-row" style="height:30px;line-height:30px;white-space:nowrap;'
                f'overflow:hidden;text-overflow:ellipsis">{_html.badge("severity", item.severity)}'
                f'{_html.badge("status", item.status)}<span class="tftsr-muted">'
                f"{_html.esc(category_label(item.category))} &middot; {_html.esc(item.created_at)} &middot; "
                f"{item.log_count} log(s) &middot; {item.step_count} why(s)</span></div>")
        if not buttons:
            msg = "No issues match." if any(self.filters.values()) else "No issues yet \u2014 create one above."
            meta = [f'<div class="tftsr-muted tftsr-empty">{_html.esc(msg)}</div>']
        self._w_titles.children = buttons
        self._w_meta.value = "".join(meta)
        for b in old:
            b.close()
        offset = self._page * self.page_size
        first, last = (offset + 1, offset + len(self._items)) if self._items else (0, 0)
        of = f" of {self._total:,}" if self._total is not None else ""
        self._w_page_label.value = f'<span class="tftsr-page-label">&nbsp;{first:,}\u2013{last:,}{of}&nbsp;</span>'
        self._w_prev.disabled = self._page == 0
        self._w_next.disabled = not self._has_next

    # -- handlers -------------------------------------------------------------------------------
    def _on_filter(self, _change=None):
        self._page = 0
        self.refresh()

    def _on_prev(self, _b=None):
        if self._page > 0:
            self._page -= 1
            self.refresh()

    def _on_next(self, _b=None):
        if self._has_next:
            self._page += 1
            self.refresh()

    @guarded
    def open_issue(self, issue_id: str) -> None:
        self._wb.issues.require(issue_id)
        self._selected = issue_id
        for cb in list(self._callbacks):
            cb(issue_id)

    @guarded
    def _on_create(self, _b=None):
        issue = self._wb.issues.create_issue(self._w_new_title.value, self._w_new_description.value or None,
                                             self._w_new_severity.value, self._w_new_category.value or None)
        self._w_new_title.value = ""
        self._w_new_description.value = ""
        self.set_status(f"Created issue: {issue.title}", "ok")
        self._page = 0
        self.refresh()
        self.open_issue(issue.id)

    # -- static ---------------------------------------------------------------------------------
    def to_html(self) -> str:
        rows = [(i.title, _html.badge("severity", i.severity), _html.badge("status", i.status),
                 category_label(i.category), i.created_at, i.log_count, i.step_count) for i in self._items]
        total = f" ({self._total:,} total)" if self._total is not None else ""
        return (_html.style_tag() + _html.heading(f"Issues{total}") +
                _html.table(rows, ["Title", "Severity", "Status", "Category", "Created (UTC)", "Logs", "Whys"],
                            raw_columns=(1, 2)))

    def _repr_markdown_(self) -> str:
        lines = ["| Title | Severity | Status | Category | Created (UTC) |", "|---|---|---|---|---|"]
        lines += [f"| {_md_cell(i.title)} | {i.severity} | {i.status} | {_md_cell(category_label(i.category))} "
                  f"| {i.created_at} |" for i in self._items]
        return "\n".join(lines)


class IssueHeader(Panel):
    """One incident: title, badges, description and metadata; change status and severity, edit
    the fields, or delete the issue."""

    title = "Incident"
    css_class = "tftsr-issue-header"

    def __init__(self, issue_id: str, wb=None, *, on_deleted=None, on_changed=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._issue = self._wb.issues.get_issue_record(issue_id)
        self._on_deleted = on_deleted
        self._on_changed = on_changed
        self._w_summary = W.HTML()
        self._w_summary.add_class("tftsr-issue-summary")
        self._w_status_select = W.Dropdown(options=[(s.title(), s) for s in STATUSES], value=self._issue.status,
                                           description="Status", layout=W.Layout(width="220px"))
        self._w_status_select.add_class("tftsr-issue-status")
        self._w_severity_select = W.Dropdown(options=[(s.title(), s) for s in SEVERITIES],
                                             value=self._issue.severity, description="Severity",
                                             layout=W.Layout(width="220px"))
        self._w_severity_select.add_class("tftsr-issue-severity")
        self._w_edit_title = W.Text(layout=W.Layout(width="95%"), description="Title")
        self._w_edit_title.add_class("tftsr-edit-title")
        self._w_edit_description = W.Textarea(layout=W.Layout(width="95%", height="90px"), description="Description")
        self._w_edit_description.add_class("tftsr-edit-description")
        self._w_edit_category = W.Dropdown(options=[("(none)", "")] + [(v, k) for k, v in CATEGORIES.items()],
                                           description="Category")
        self._w_edit_assigned = W.Text(description="Assigned to")
        self._w_save = button("Save changes", "tftsr-save-issue", style="primary")
        self._w_confirm_delete = W.Checkbox(description="Yes, delete this issue and its evidence", indent=False)
        self._w_delete = button("Delete issue", "tftsr-delete-issue", style="danger", icon="trash")
        self._w_status_select.observe(self._on_status, names="value")
        self._w_severity_select.observe(self._on_severity, names="value")
        self._w_save.on_click(self._on_save)
        self._w_delete.on_click(self._on_delete)
        # Open ticket, and the tickets and pages linked to the issue (widgets/integrations.py)
        self._tickets = None
        if service(self._wb, "integrations") is not None:
            from .integrations import TicketsSection

            self._tickets = TicketsSection(issue_id, self._wb)
        self._fill()

    @property
    def issue(self):
        return self._issue

    def _fill(self):
        i = self._issue
        self._w_edit_title.value = i.title
        self._w_edit_description.value = i.description or ""
        self._w_edit_category.value = i.category or ""
        self._w_edit_assigned.value = i.assigned_to or ""
        self._w_summary.value = self._summary_html()

    def _summary_html(self) -> str:
        i = self._issue
        meta = [f"Category: {category_label(i.category)}", f"Created {i.created_at} UTC",
                f"Updated {i.updated_at} UTC"]
        if i.resolved_at:
            meta.append(f"Resolved {i.resolved_at} UTC")
        if i.assigned_to:
            meta.append(f"Assigned to {i.assigned_to}")
        if i.source:
            meta.append(f"Source: {i.source}")
        if i.tags:
            meta.append("Tags: " + ", ".join(i.tags))
        desc = (f'<div style="white-space:pre-wrap;margin:6px 0">{_html.esc(i.description)}</div>'
                if i.description else '<div class="tftsr-muted">No description.</div>')
        return (f'<h2 class="tftsr-issue-title" style="margin:4px 0">{_html.esc(i.title)}</h2>'
                f"<div>{_html.badge('severity', i.severity)}{_html.badge('status', i.status)}"
                f'<span class="tftsr-muted">{_html.esc(" · ".join(meta))}</span></div>{desc}'
                f'<div class="tftsr-muted">Issue id: {_html.esc(i.id)}</div>')

    def _build(self):
        edit = W.VBox([self._w_edit_title, self._w_edit_description,
                       W.HBox([self._w_edit_category, self._w_edit_assigned]), self._w_save,
                       W.HTML("<hr>"), W.HBox([self._w_confirm_delete, self._w_delete])])
        acc = W.Accordion(children=[edit], titles=("Edit issue",), selected_index=None)
        return W.VBox([W.HTML(_html.style_tag()), self._w_summary,
                       W.HBox([self._w_status_select, self._w_severity_select]),
                       *([self._tickets.layout] if self._tickets is not None else []), acc, self._w_status])

    @property
    def tickets(self):
        """The Open ticket section (None without the integrations service)."""
        return self._tickets

    def _changed(self):
        self._w_summary.value = self._summary_html()
        if self._on_changed:
            self._on_changed(self.issue_id)

    @guarded
    def _on_status(self, change):
        if change["new"] == self._issue.status:
            return
        self._issue = self._wb.issues.update_issue(self.issue_id, status=change["new"]).issue
        self.set_status(f"Status set to {self._issue.status}.", "ok")
        self._changed()

    @guarded
    def _on_severity(self, change):
        if change["new"] == self._issue.severity:
            return
        self._issue = self._wb.issues.update_issue(self.issue_id, severity=change["new"]).issue
        self.set_status(f"Severity set to {self._issue.severity}.", "ok")
        self._changed()

    @guarded
    def _on_save(self, _b=None):
        self._issue = self._wb.issues.update_issue(
            self.issue_id, title=self._w_edit_title.value, description=self._w_edit_description.value,
            category=self._w_edit_category.value or None, assigned_to=self._w_edit_assigned.value or None).issue
        self._fill()
        self.set_status("Issue saved.", "ok")
        self._changed()

    @guarded
    def _on_delete(self, _b=None):
        if not self._w_confirm_delete.value:
            self.set_status("Tick the confirmation box to delete this issue.", "error")
            return
        self._wb.issues.delete_issue(self.issue_id)
        self.set_status("Issue deleted.", "ok")
        self._w_delete.disabled = True
        if self._on_deleted:
            self._on_deleted(self.issue_id)

    def to_html(self) -> str:
        return _html.style_tag() + self._summary_html()

    def _repr_markdown_(self) -> str:
        i = self._issue
        desc = _html.esc(i.description or "")
        return (f"## {_html.esc(i.title)}\n\n**Severity:** {i.severity} · **Status:** {i.status} · "
                f"**Category:** {_html.esc(category_label(i.category))} · **Created:** {i.created_at} UTC\n\n{desc}\n")
