"""Logs & PII: upload logs (chunked, with progress, up to the 100 MB limit) or import them from a
path on the server (only under the ``log_import_dirs`` setting), review PII spans (approve/reject
per span and per type), preview and apply the redaction; see the selected log's templates (a
table and a chart of counts over time with bursts and the incident's timeline events, from
``widgets.log_templates``); upload or paste images and see thumbnails."""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.attachments import MAX_IMAGE_BYTES, MAX_LOG_BYTES

from . import _html
from ._base import Panel, button, guarded, may, service, set_options
from .log_templates import LogTemplatesPanel
from .uploader import ChunkedUploader

VIEW_LIMIT = 60_000          # characters of a log shown in the browser
HIGHLIGHT_LIMIT = 60_000     # characters of the highlighted PII view
MAX_SPAN_OPTIONS = 2_000     # spans listed one by one; beyond that, approve by type
THUMBNAILS = 12
#: logs up to this size have their templates shown (mined if needed) as soon as they are selected;
#: a larger log not mined yet waits for the "Show templates" button (mining 49 MB takes seconds)
AUTO_TEMPLATES_BYTES = 8 * 1024 * 1024


def _kind(log) -> str:
    from tftsr_kernel.logs.extract import KIND_LABELS

    return KIND_LABELS.get(log.extracted_from, log.extracted_from or "")


def _from(log) -> str:
    return " \u00b7 text from " + _kind(log) if log.extracted_from else ""


class LogsPanel(Panel):
    """Logs and images of one incident, with the PII review."""

    title = "Logs & PII"
    css_class = "tftsr-logs"

    def __init__(self, issue_id: str, wb=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._wb.issues.require(issue_id)
        self._pii = service(self._wb, "pii")
        self._logs = []
        self._spans = []
        self._syncing = False

        att = self._wb.attachments
        self._w_upload = ChunkedUploader(lambda name, size: att.begin_log_upload(self.issue_id, name, size),
                                         done=self._on_log_uploaded, failed=self._on_upload_failed,
                                         label="Upload logs", max_bytes=MAX_LOG_BYTES, multiple=True,
                                         hint=f"text logs, or PDF, DOCX, pcap, .gz, .zip as their text; up to "
                                              f"{MAX_LOG_BYTES // 1048576} MB each",
                                         finishing_label="Preparing the PII review")
        self._w_upload.add_class("tftsr-log-upload")
        self._w_server_path = W.Text(placeholder="/absolute/path/of/a/log/on/the/server",
                                     layout=W.Layout(width="420px"))
        self._w_server_path.add_class("tftsr-server-path")
        self._w_server_import = button("Import from server", "tftsr-server-import", icon="server")
        self._w_server_note = W.HTML()
        self._w_server_note.add_class("tftsr-server-note")
        self._w_log_select = W.Dropdown(options=[], description="Log", layout=W.Layout(width="480px"))
        self._w_log_select.add_class("tftsr-log-select")
        self._w_view = button("Show log", "tftsr-show-log", icon="file-text")
        self._w_log_view = W.HTML()
        self._w_log_view.add_class("tftsr-log-view")

        self._w_detect = button("Detect PII", "tftsr-detect-pii", style="warning", icon="search")
        self._w_pii_summary = W.HTML()
        self._w_pii_summary.add_class("tftsr-pii-summary")
        self._w_type_boxes = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self._w_type_boxes.add_class("tftsr-pii-types")
        self._w_spans = W.SelectMultiple(options=[], rows=8, layout=W.Layout(width="95%"),
                                         description="Approved")
        self._w_spans.add_class("tftsr-pii-spans")
        self._w_approve_all = button("Approve all", "tftsr-approve-all")
        self._w_reject_all = button("Reject all", "tftsr-reject-all")
        self._w_preview = button("Preview redaction", "tftsr-preview-redaction", icon="eye")
        self._w_apply = button("Apply redactions", "tftsr-apply-redactions", style="success", icon="check")
        self._w_highlight = W.HTML()
        self._w_highlight.add_class("tftsr-pii-highlight")
        self._w_redacted = W.HTML()
        self._w_redacted.add_class("tftsr-redacted-preview")
        self._w_review = W.VBox([])

        self._w_image_upload = ChunkedUploader(
            lambda name, size: att.begin_image_upload(self.issue_id, name, size),
            done=self._on_image_uploaded, failed=self._on_upload_failed, label="Upload images",
            hint=f"PNG, JPEG, GIF, WebP or BMP, up to {MAX_IMAGE_BYTES // 1048576} MB",
            max_bytes=MAX_IMAGE_BYTES, multiple=True, accept="image/png,image/jpeg,image/gif,image/webp,image/bmp")
        self._w_image_upload.add_class("tftsr-image-upload")
        self._w_paste = W.Textarea(placeholder="Paste a screenshot as a data:image/...;base64 URL or base64 text",
                                   layout=W.Layout(width="70%", height="48px"))
        self._w_paste.add_class("tftsr-paste")
        self._w_paste_button = button("Add pasted image", "tftsr-paste-button", icon="clipboard")
        self._w_gallery = W.HTML()
        self._w_gallery.add_class("tftsr-gallery")
        self._w_image_select = W.Dropdown(options=[], description="Image", layout=W.Layout(width="360px"))
        self._w_image_delete = button("Delete image", "tftsr-delete-image", style="danger", icon="trash")
        self._init_templates()

        self._w_server_import.on_click(self._on_server_import)
        self._w_log_select.observe(self._on_select_log, names="value")
        self._w_view.on_click(self._on_view)
        self._w_detect.on_click(self._on_detect)
        self._w_spans.observe(self._on_spans_changed, names="value")
        self._w_approve_all.on_click(lambda _b: self._set_approved({s.id for s in self._spans}))
        self._w_reject_all.on_click(lambda _b: self._set_approved(set()))
        self._w_preview.on_click(self._on_preview)
        self._w_apply.on_click(self._on_apply)
        self._w_paste_button.on_click(self._on_paste)
        self._w_image_delete.on_click(self._on_image_delete)
        self.refresh()

    # -- public values --------------------------------------------------------------------------
    @property
    def logs(self):
        return list(self._logs)

    @property
    def selected_log_id(self) -> str | None:
        return self._w_log_select.value or None

    @property
    def spans(self):
        return list(self._spans)

    @property
    def approved_span_ids(self) -> set[str]:
        return set(self._w_spans.value)

    # -- build ----------------------------------------------------------------------------------
    def _build(self):
        server = W.VBox([W.HBox([self._w_server_path, self._w_server_import], layout=W.Layout(align_items="center")),
                         self._w_server_note])
        pick = W.HBox([self._w_log_select, self._w_view], layout=W.Layout(align_items="center"))
        parts = [W.HTML(_html.style_tag()), W.HTML("<b>Logs</b>"), self._w_upload, server, pick]
        if self._pii is not None:
            parts += [W.HBox([self._w_detect]), self._w_review]
        else:
            parts.append(W.HTML('<div class="tftsr-muted">PII review is not available in this installation '
                                "(tftsr_kernel.pii.service is missing).</div>"))
        parts += [self._w_log_view, self._w_status, self._w_templates_box, W.HTML("<hr><b>Images</b>"),
                  W.HBox([self._w_image_upload]), W.HBox([self._w_paste, self._w_paste_button]),
                  self._w_gallery, W.HBox([self._w_image_select, self._w_image_delete])]
        return W.VBox(parts)

    # -- data -----------------------------------------------------------------------------------
    @guarded
    def refresh(self, select: str | None = None) -> None:
        att = self._wb.attachments
        self._logs = att.list_log_files(self.issue_id)
        current = select or self._w_log_select.value
        mark = " \u2713 redacted"
        opts = [(f"{_html.one_line(l.file_name, 60)} ({_html.human_size(l.file_size)})"
                 f"{_from(l)}"
                 f"{mark if l.redacted else ''}", l.id) for l in self._logs]
        self._w_log_select.options = opts
        ids = [l.id for l in self._logs]
        value = current if current in ids else (ids[-1] if ids else None)
        if self._w_log_select.value != value:
            self._w_log_select.value = value
        else:
            self._load_review()
        disabled = not self._logs
        self._w_view.disabled = self._w_detect.disabled = disabled
        self._refresh_import()
        self._refresh_images()

    def _refresh_import(self):
        roots = self._wb.settings.get("log_import_dirs")
        self._w_server_path.disabled = self._w_server_import.disabled = not roots
        if roots:
            self._w_server_note.value = ('<div class="tftsr-muted">Logs already on the server can be imported from: '
                                         + ", ".join(f"<code>{_html.esc(r)}</code>" for r in roots) + "</div>")
            if not self._w_server_path.placeholder.startswith(roots[0]):
                self._w_server_path.placeholder = roots[0].rstrip("/") + "/\u2026"
        else:
            self._w_server_note.value = (
                '<div class="tftsr-muted">Importing logs that are already on the server is off. An administrator '
                "enables it for chosen directories with <code>tftsr settings set log_import_dirs "
                "'[\"/var/log/myapp\"]'</code>.</div>")

    def _refresh_images(self):
        att = self._wb.attachments
        images = att.list_image_attachments(self.issue_id)
        set_options(self._w_image_select, [(_html.one_line(i.file_name, 50), i.id) for i in images])
        self._w_image_delete.disabled = not images
        tiles = []
        for img in images[-THUMBNAILS:]:
            url = att.get_image_attachment_data(img.id)
            tiles.append(f'<figure style="display:inline-block;margin:4px;text-align:center">'
                         f"{_html.image_tag(url, img.file_name)}"
                         f'<figcaption class="tftsr-muted">{_html.esc(_html.one_line(img.file_name, 30))}</figcaption>'
                         f"</figure>")
        more = (f'<div class="tftsr-muted">Showing the latest {THUMBNAILS} of {len(images)} images.</div>'
                if len(images) > THUMBNAILS else "")
        self._w_gallery.value = ("".join(tiles) + more) if tiles else '<div class="tftsr-muted">No images.</div>'

    def _text(self, log_id) -> str:
        cached = getattr(self, "_text_cache", None)
        if cached and cached[0] == log_id:
            return cached[1]
        if may(self._wb, "logs:read_original"):
            text = self._wb.attachments.get_log_file_content(log_id)
        else:  # viewers: the reviewed redaction, else every detected value replaced
            text = self._pii.redacted_view(log_id).text
        self._text_cache = (log_id, text)
        return text

    def _log(self, log_id):
        return next((l for l in self._logs if l.id == log_id), None)

    def _load_review(self):
        """Show the stored spans of the selected log (if it was scanned)."""
        self._w_log_view.value = ""
        self._w_redacted.value = ""
        log_id = self.selected_log_id
        if self._pii is None or not log_id:
            self._spans = []
            self._w_review.children = ()
            return
        if not may(self._wb, "pii:review"):  # viewers read the redacted log; review is for analysts
            self._spans = []
            self._w_review.children = ()
            self._w_redacted.value = ("<b>Redacted log</b> <span class=\"tftsr-muted\">(your role shows "
                                      "redacted text only)</span>" + _html.pre(self._text(log_id), VIEW_LIMIT))
            return
        self._spans = self._pii.list_spans(log_id)
        log = self._log(log_id)
        if not self._spans and not (log and log.redacted):
            self._w_review.children = ()
            return
        approved = {s.id for s in self._spans if s.status in ("approved", "pending")}
        self._show_review(approved)
        if log and log.redacted:
            text = self._pii.get_redacted_content(log_id)
            if text is not None:
                self._w_redacted.value = ("<b>Stored redacted log</b>" + _html.pre(text, VIEW_LIMIT))

    def _show_review(self, approved: set[str]):
        spans = self._spans
        by_type: dict[str, int] = {}
        for s in spans:
            by_type[s.pii_type] = by_type.get(s.pii_type, 0) + 1
        summary = ", ".join(f"{t} \u00d7{n}" for t, n in sorted(by_type.items()))
        log = self._log(self.selected_log_id)
        state = " Redactions applied." if log and log.redacted else " Review, then apply."
        self._w_pii_summary.value = (f"<div><b>{len(spans)} PII finding(s)</b>"
                                     f"{': ' + _html.esc(summary) if summary else ''}.{_html.esc(state)}</div>")
        boxes = []
        for t in sorted(by_type):
            cb = W.Checkbox(value=True, description=f"{t} ({by_type[t]})", indent=False,
                            layout=W.Layout(width="auto"))
            cb.add_class("tftsr-pii-type")
            cb.add_class(f"tftsr-pii-type-{t}")
            cb._tftsr_type = t
            cb.observe(self._on_type_toggle, names="value")
            boxes.append(cb)
        for old in self._w_type_boxes.children:
            old.close()
        self._w_type_boxes.children = boxes
        listed = spans[:MAX_SPAN_OPTIONS]
        self._syncing = True
        try:
            self._w_spans.options = [
                (f"#{n + 1} {s.pii_type}: {_html.one_line(s.original_value, 40)} \u2192 {s.replacement}", s.id)
                for n, s in enumerate(listed)]
            self._w_spans.value = tuple(s.id for s in listed if s.id in approved)
        finally:
            self._syncing = False
        self._extra_approved = {s.id for s in spans[MAX_SPAN_OPTIONS:] if s.id in approved}
        self._sync_type_boxes()
        self._render_highlight()
        note = (f'<div class="tftsr-muted">{len(spans) - MAX_SPAN_OPTIONS:,} more findings are approved or '
                "rejected with their type.</div>" if len(spans) > MAX_SPAN_OPTIONS else "")
        self._w_review.children = (
            self._w_pii_summary, self._w_type_boxes, self._w_spans, W.HTML(note),
            W.HBox([self._w_approve_all, self._w_reject_all, self._w_preview, self._w_apply]),
            self._w_highlight, self._w_redacted)

    def _all_approved(self) -> set[str]:
        return set(self._w_spans.value) | getattr(self, "_extra_approved", set())

    def _set_approved(self, ids: set[str]):
        listed = {sid for _, sid in self._w_spans.options}
        self._extra_approved = {s.id for s in self._spans if s.id in ids and s.id not in listed}
        self._w_spans.value = tuple(sid for _, sid in self._w_spans.options if sid in ids)
        self._sync_type_boxes()
        self._render_highlight()

    def _sync_type_boxes(self):
        approved = self._all_approved()
        self._syncing = True
        try:
            for cb in self._w_type_boxes.children:
                ids = [s.id for s in self._spans if s.pii_type == cb._tftsr_type]
                cb.value = all(i in approved for i in ids)
        finally:
            self._syncing = False

    def _render_highlight(self):
        log_id = self.selected_log_id
        if not log_id:
            return
        text = self._text(log_id)
        self._w_highlight.value = ("<b>Log with findings</b> <span class=\"tftsr-muted\">(green: will be "
                                   "redacted, red: kept)</span>" +
                                   _html.highlight_spans(text, self._spans, self._all_approved(), HIGHLIGHT_LIMIT))

    # -- handlers -------------------------------------------------------------------------------
    def _upload_message(self, log) -> str:
        summary = log.pii_summary or {}
        found = summary.get("total", 0)
        types = ", ".join(f"{t} \u00d7{n}" for t, n in sorted((summary.get("by_type") or {}).items()))
        source = f"; {log.source}, the original file kept" if log.extracted_from else ""
        return (f"Uploaded {_html.one_line(log.file_name, 80)} ({_html.human_size(log.file_size)}{source}); "
                f"the PII scan found {found:,} finding(s){': ' + types if types else ''}. "
                "Review them below, then apply the redactions.")

    @guarded
    def _on_log_uploaded(self, log) -> str:
        self.refresh(select=log.id)
        message = self._upload_message(log)
        self.set_status(message, "ok")
        return message

    @guarded
    def _on_upload_failed(self, message: str) -> None:
        self.set_status(message, "error")

    @guarded
    def _on_server_import(self, _b=None):
        path = self._w_server_path.value.strip()
        if not path:
            self.set_status("Give the absolute path of a log file on the server.", "error")
            return
        self.set_status("Importing\u2026", "busy")
        log = self._wb.attachments.import_server_log(self.issue_id, path)
        self._w_server_path.value = ""
        self.refresh(select=log.id)
        self.set_status(self._upload_message(log).replace("Uploaded", "Imported", 1), "ok")

    def _on_select_log(self, _change):
        self._guarded_load()
        self._show_templates()

    @guarded
    def _guarded_load(self):
        self._load_review()

    @guarded
    def _on_view(self, _b=None):
        log_id = self.selected_log_id
        if not log_id:
            return
        text = self._text(log_id)
        log = self._log(log_id)
        source = (f' <span class="tftsr-muted tftsr-log-source">{_html.esc(log.source)}; the original file is kept'
                  "</span>" if log and log.extracted_from else "")
        self._w_log_view.value = (f"<b>{_html.esc(log.file_name if log else '')}</b>{source}"
                                  + _html.pre(text, VIEW_LIMIT))

    @guarded
    def _on_detect(self, _b=None):
        log_id = self.selected_log_id
        if not log_id:
            self.set_status("Upload a log first.", "error")
            return
        self.set_status("Scanning for PII\u2026", "busy")
        result = self._pii.detect_pii(log_id)
        self.refresh(select=log_id)
        self._spans = self._pii.list_spans(log_id)
        self._show_review({s.id for s in self._spans})
        self.set_status(f"Found {result.total_found} PII finding(s). All are approved for redaction; "
                        "untick what should stay.", "ok")

    @guarded
    def _on_spans_changed(self, _change):
        if self._syncing:
            return
        self._sync_type_boxes()
        self._render_highlight()

    @guarded
    def _on_type_toggle(self, change):
        if self._syncing:
            return
        t = change["owner"]._tftsr_type
        ids = {s.id for s in self._spans if s.pii_type == t}
        approved = self._all_approved()
        approved = approved | ids if change["new"] else approved - ids
        self._set_approved(approved)

    @guarded
    def _on_preview(self, _b=None):
        log_id = self.selected_log_id
        text = self._pii.preview_redaction(log_id, sorted(self._all_approved()))
        self._w_redacted.value = "<b>Redacted preview (not stored yet)</b>" + _html.pre(text, VIEW_LIMIT)
        self.set_status("Preview ready; apply to store it.", "ok")

    @guarded
    def _on_apply(self, _b=None):
        log_id = self.selected_log_id
        approved = sorted(self._all_approved())
        res = self._pii.apply_redactions(log_id, approved)
        self.refresh(select=log_id)
        self.set_status(f"Redactions applied: {getattr(res, 'approved', len(approved))} redacted, "
                        f"{getattr(res, 'rejected', 0)} kept.", "ok")

    @guarded
    def _on_image_uploaded(self, img) -> str:
        self._refresh_images()
        message = f"Added {_html.one_line(img.file_name, 80)} ({_html.human_size(img.file_size)})."
        self.set_status(message, "ok")
        return message

    @guarded
    def _on_paste(self, _b=None):
        data = self._w_paste.value.strip()
        if not data:
            self.set_status("Paste an image (data URL or base64) into the box first.", "error")
            return
        img = self._wb.attachments.upload_paste_image(self.issue_id, data, "pasted.png")
        self._w_paste.value = ""
        self._refresh_images()
        self.set_status(f"Added pasted image ({_html.human_size(img.file_size)}).", "ok")

    @guarded
    def _on_image_delete(self, _b=None):
        image_id = self._w_image_select.value
        if not image_id:
            return
        self._wb.attachments.delete_image_attachment(image_id)
        self._refresh_images()
        self.set_status("Image deleted.", "ok")

    # -- log templates of the selected log ------------------------------------------------------
    # (kept in this one section: the table and chart live in widgets/log_templates.py)
    def _init_templates(self):
        self.auto_templates_bytes = AUTO_TEMPLATES_BYTES
        self._w_templates = LogTemplatesPanel(wb=self._wb)
        # its own status line (mining errors) is not the panel's: the panel keeps one status line
        self._w_templates._w_status.remove_class("tftsr-status-line")
        self._w_templates._w_status.add_class("tftsr-templates-status")
        self._w_templates_show = button("Show templates", "tftsr-show-templates", icon="bar-chart")
        self._w_templates_show.on_click(lambda _b: self._show_templates(force=True))
        self._w_templates_note = W.HTML()
        self._w_templates_note.add_class("tftsr-templates-note")
        self._w_templates_box = W.VBox([W.HTML("<hr>"), W.HBox([self._w_templates_note, self._w_templates_show],
                                                               layout=W.Layout(align_items="center")),
                                        self._w_templates.layout])
        self._w_templates_box.add_class("tftsr-logs-templates")

    @property
    def templates(self) -> LogTemplatesPanel:
        """The templates view of the selected log."""
        return self._w_templates

    @guarded
    def _show_templates(self, force: bool = False) -> None:
        log = self._log(self.selected_log_id)
        view = self._w_templates
        self._w_templates_note.value = ""
        self._w_templates_show.layout.display = "none"
        if log is None:
            view.clear()
            return
        if view.log_file_id == log.id and view.template_set is not None and not force:
            return
        if force or (log.file_size or 0) <= self.auto_templates_bytes or self._wb.logs.has_log_templates(log.id):
            view.show(log.id)
            return
        view.clear()
        self._w_templates_note.value = (
            f'<div class="tftsr-muted" style="margin-right:8px">This log is {_html.human_size(log.file_size)}: '
            "mining its templates takes a few seconds (once; the result is stored).</div>")
        self._w_templates_show.layout.display = None

    # -- static ---------------------------------------------------------------------------------
    def _static_rows(self):
        rows = []
        for l in self._logs:
            rows.append((l.file_name + (f" (text from {_kind(l)})" if l.extracted_from else ""),
                         _html.human_size(l.file_size), l.uploaded_at,
                         "yes" if l.redacted else "no", l.content_hash[:8]))
        return rows

    def _pii_counts(self, log_id):
        if self._pii is None:
            return {}
        counts: dict[str, dict[str, int]] = {}
        for s in self._pii.list_spans(log_id):
            counts.setdefault(s.pii_type, {}).setdefault(s.status, 0)
            counts[s.pii_type][s.status] += 1
        return counts

    def to_html(self) -> str:
        """The log table, PII findings per type and an excerpt of each *redacted* log. Original
        log text never appears in a static rendering (exports are shared)."""
        out = [_html.style_tag(), _html.heading("Logs"),
               _html.table(self._static_rows(), ["File", "Size", "Uploaded (UTC)", "Redacted", "SHA-256"])]
        for l in self._logs:
            counts = self._pii_counts(l.id)
            if counts:
                rows = [(t, c.get("approved", 0) + c.get("pending", 0), c.get("rejected", 0))
                        for t, c in sorted(counts.items())]
                out.append(f"<h4>PII in {_html.esc(l.file_name)}</h4>")
                out.append(_html.table(rows, ["Type", "Redacted", "Kept"]))
            if l.redacted and self._pii is not None:
                text = self._pii.get_redacted_content(l.id) or ""
                excerpt = "\n".join(text.splitlines()[:40])
                out.append(f"<h4>Redacted excerpt of {_html.esc(l.file_name)}</h4>" + _html.pre(excerpt))
        images = self._wb.attachments.list_image_attachments(self.issue_id)
        if images:
            out.append(_html.heading("Images", 4))
            out.append(_html.table([(i.file_name, i.mime_type, _html.human_size(i.file_size), i.uploaded_at)
                                    for i in images], ["File", "Type", "Size", "Uploaded (UTC)"]))
        return "".join(out)

    def _repr_markdown_(self) -> str:
        lines = ["### Logs", "", "| File | Size | Uploaded (UTC) | Redacted | SHA-256 |", "|---|---|---|---|---|"]
        lines += ["| " + " | ".join(_html.esc(str(c)).replace("|", "\\|") for c in r) + " |"
                  for r in self._static_rows()]
        return "\n".join(lines)
