"""Documents: generate an RCA or a blameless post-mortem, edit, preview, export md/html/pdf/docx."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import ipywidgets as W

from . import _html
from ._base import Panel, button, guarded

LABELS = {"rca": "RCA", "postmortem": "Post-mortem"}
MIME = {"md": "text/markdown", "html": "text/html", "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def _ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")


class DocumentsPanel(Panel):
    """RCA and post-mortem documents of one incident."""

    title = "Documents"
    css_class = "tftsr-documents"

    def __init__(self, issue_id: str, wb=None):
        super().__init__(wb)
        self.issue_id = issue_id
        self._docs = self._wb.documents
        self._list = []
        self._last_export = None
        self._w_gen_rca = button("Generate RCA", "tftsr-generate-rca", style="primary", icon="file")
        self._w_gen_pm = button("Generate post-mortem", "tftsr-generate-postmortem", icon="file")
        self._w_select = W.Dropdown(options=[], description="Document", layout=W.Layout(width="560px"))
        self._w_select.add_class("tftsr-doc-select")
        self._w_editor = W.Textarea(layout=W.Layout(width="98%", height="320px"))
        self._w_editor.add_class("tftsr-doc-editor")
        self._w_save = button("Save", "tftsr-doc-save", style="success", icon="save")
        self._w_preview_button = button("Preview", "tftsr-doc-preview-button", icon="eye")
        self._w_export = {fmt: button(f"Export {fmt.upper()}", f"tftsr-doc-export-{fmt}", icon="download")
                          for fmt in ("md", "html", "pdf", "docx")}
        self._w_unredacted = W.Checkbox(value=False, description="Export unredacted (audited)", indent=False,
                                        layout=W.Layout(width="260px"))
        self._w_unredacted.add_class("tftsr-doc-unredacted")
        self._w_export_note = W.HTML(
            '<span class="tftsr-muted">Exports are for sharing: redacted with the issue\'s placeholders, '
            "as the AI model sees them.</span>")
        self._w_export_note.add_class("tftsr-doc-export-note")
        self._w_preview = W.HTML()
        self._w_preview.add_class("tftsr-doc-preview")
        self._w_download = W.HTML()
        self._w_download.add_class("tftsr-doc-download")
        self._w_gen_rca.on_click(lambda _b: self.generate("rca"))
        self._w_gen_pm.on_click(lambda _b: self.generate("postmortem"))
        self._w_select.observe(self._on_select, names="value")
        self._w_save.on_click(self._on_save)
        self._w_preview_button.on_click(self._on_preview)
        for fmt, b in self._w_export.items():
            b.on_click(lambda _b, f=fmt: self.export(f))
        # Publish to Confluence (widgets/integrations.py), when the integrations service is installed
        from ._base import service

        self._publish = None
        if service(self._wb, "integrations") is not None:
            from .integrations import PublishSection

            self._publish = PublishSection(self._wb, lambda: self.selected_document_id)
        self.refresh()

    # -- public values --------------------------------------------------------------------------
    @property
    def documents(self):
        return list(self._list)

    @property
    def selected_document_id(self) -> str | None:
        return self._w_select.value or None

    @property
    def content(self) -> str:
        """The text in the editor."""
        return self._w_editor.value

    @property
    def last_export(self):
        """The path of the last exported file."""
        return self._last_export

    # -- build ----------------------------------------------------------------------------------
    def _build(self):
        return W.VBox([W.HTML(_html.style_tag()), W.HBox([self._w_gen_rca, self._w_gen_pm]), self._w_select,
                       self._w_editor,
                       W.HBox([self._w_save, self._w_preview_button, *self._w_export.values()]),
                       W.HBox([self._w_unredacted, self._w_export_note]), self._w_download, self._w_status,
                       *([self._publish.layout] if self._publish is not None else []), self._w_preview])

    @property
    def publish(self):
        """The Publish section (None without the integrations service)."""
        return self._publish

    @guarded
    def refresh(self, select: str | None = None) -> None:
        self._list = self._docs.list_documents(self.issue_id)
        current = select or self._w_select.value
        self._w_select.options = [(f"{LABELS.get(d.doc_type, d.doc_type)} \u2014 {_html.one_line(d.title, 60)} "
                                   f"\u2014 {_ms(d.updated_at)}", d.id) for d in reversed(self._list)]
        ids = [d.id for d in self._list]
        value = current if current in ids else (ids[-1] if ids else None)
        if self._w_select.value != value:
            self._w_select.value = value
        else:
            self._load()
        has = bool(self._list)
        for b in (self._w_save, self._w_preview_button, *self._w_export.values()):
            b.disabled = not has

    def _load(self):
        doc_id = self.selected_document_id
        if getattr(self, "_publish", None) is not None:
            self._publish._clear_preview()
            self._publish.refresh()
        if not doc_id:
            self._w_editor.value = ""
            self._w_preview.value = ('<div class="tftsr-muted">No documents yet: generate an RCA once the '
                                     "whys are answered.</div>")
            return
        doc = self._docs.get_document(doc_id)
        self._w_editor.value = doc.content_md
        self._w_preview.value = _html.markdown(doc.content_md)

    # -- handlers -------------------------------------------------------------------------------
    @guarded
    def generate(self, doc_type: str) -> None:
        doc = (self._docs.generate_rca if doc_type == "rca" else self._docs.generate_postmortem)(self.issue_id)
        self.refresh(select=doc.id)
        self.set_status(f"{LABELS[doc_type]} generated: {doc.title}", "ok")

    @guarded
    def _on_select(self, _change):
        self._w_download.value = ""
        self._load()

    @guarded
    def _on_save(self, _b=None):
        doc = self._docs.update_document(self.selected_document_id, self._w_editor.value)
        self.refresh(select=doc.id)
        self.set_status("Document saved (the previous text is kept as a version).", "ok")

    @guarded
    def _on_preview(self, _b=None):
        self._w_preview.value = _html.markdown(self._w_editor.value)

    @property
    def unredacted(self) -> bool:
        """Whether the next export writes the stored text (audited) instead of the redacted one."""
        return bool(self._w_unredacted.value)

    @guarded
    def export(self, fmt: str) -> None:
        """Save pending edits, then export the selected document as md, html, pdf or docx: redacted,
        unless 'Export unredacted' is ticked (audited as ``export_unredacted``)."""
        doc_id = self.selected_document_id
        if not doc_id:
            self.set_status("Generate a document first.", "error")
            return
        if self._w_editor.value != self._docs.get_document(doc_id).content_md:
            self._docs.update_document(doc_id, self._w_editor.value)
        self.set_status(f"Exporting {fmt}\u2026", "busy")
        unredacted = self.unredacted
        path = self._docs.export_document(doc_id, fmt, unredacted=unredacted)
        self._last_export = path
        self._w_download.value = self._download_link(path, fmt)
        how = "UNREDACTED, recorded in the audit log" if unredacted else "redacted for sharing"
        self.set_status(f"Document exported to: {path} ({how})", "ok")

    @staticmethod
    def _download_link(path, fmt) -> str:
        data = path.read_bytes()
        if len(data) > MAX_DOWNLOAD_BYTES:
            return '<span class="tftsr-muted">The file is too large to download from here.</span>'
        url = f"data:{MIME[fmt]};base64," + base64.b64encode(data).decode("ascii")
        return (f'<a class="tftsr-download" download="{_html.esc(path.name)}" href="{url}">'
                f"Download {_html.esc(path.name)}</a>")

    # -- static ---------------------------------------------------------------------------------
    def to_html(self) -> str:
        """The latest RCA (else the latest document), rendered as an export shows it (redacted:
        static renderings end up in shared reports)."""
        docs = self._list
        if not docs:
            return _html.heading("Documents") + '<div class="tftsr-muted">No RCA or post-mortem yet.</div>'
        rcas = [d for d in docs if d.doc_type == "rca"]
        doc, _title = self._docs.export_view((rcas or docs)[-1].id)
        others = [d for d in docs if d.id != doc.id]
        more = (f'<div class="tftsr-muted">{len(others)} other document(s): '
                + _html.esc(", ".join(f"{LABELS.get(d.doc_type, d.doc_type)} {_ms(d.updated_at)}" for d in others))
                + "</div>") if others else ""
        return _html.style_tag() + _html.markdown(doc.content_md) + more

    def _repr_markdown_(self) -> str:
        docs = self._list
        if not docs:
            return "_No RCA or post-mortem yet._"
        rcas = [d for d in docs if d.doc_type == "rca"]
        return self._docs.export_view((rcas or docs)[-1].id)[0].content_md
