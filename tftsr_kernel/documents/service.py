"""Documents: generate RCAs and post-mortems, edit them (earlier versions kept), export them offline.

``DocumentService(wb)`` is ``wb.documents``. Operation names follow the seed's command reference:
``generate_rca``, ``generate_postmortem``, ``list_documents``, ``get_document``,
``update_document``, ``export_document``; plus ``list_document_versions`` and
``get_document_version``. The ``documents`` table keeps INTEGER millisecond timestamps.
"""

from __future__ import annotations

import errno
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .._util import now_ms, sha256_hex, utc_now, uuid7
from ..errors import ExportError, NotFoundError, ValidationError
from ..models import Document, Record
from . import templates
from .templates import IncidentData

DOC_TYPES = ("rca", "postmortem")
FORMATS = ("md", "html", "pdf", "docx")
_FORMAT_ALIASES = {"md": "md", "markdown": "md", "html": "html", "htm": "html", "pdf": "pdf", "docx": "docx",
                   "word": "docx"}
MAX_CONTENT_CHARS = 2_000_000
MAX_TITLE_CHARS = 500
_DOC_COLS = "id, issue_id, doc_type, title, content_md, created_at, updated_at"
_VERSION_COLS = "id, document_id, version, title, content_md, created_at"
_DOC_LABEL = {"rca": "RCA", "postmortem": "Post-mortem"}


@dataclass
class DocumentVersion(Record):
    """An earlier version of a document, saved when it was edited (version 1 = as generated)."""

    id: str
    document_id: str
    version: int
    title: str
    content_md: str
    created_at: int  # ms: when this content was saved


class DocumentService:
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db
        self._audit = wb.audit
        self._timeline = wb.timeline

    # -- generation -------------------------------------------------------------------------------
    def generate_rca(self, issue_id: str, *, ai_draft: bool = False) -> Document:
        """Build an RCA from the issue's data and store it as a new document."""
        return self._generate(issue_id, "rca", ai_draft)

    def generate_postmortem(self, issue_id: str, *, ai_draft: bool = False) -> Document:
        """Build a blameless post-mortem from the issue's data and store it as a new document."""
        return self._generate(issue_id, "postmortem", ai_draft)

    def incident_data(self, issue_id: str) -> IncidentData:
        """Everything a document is built from, read in one go."""
        wb = self._wb
        with self._db.read():
            issue = wb.issues.get_issue_record(issue_id)
            steps = wb.whys.list_five_whys(issue_id)
            events = wb.timeline.get_timeline_events(issue_id)
            logs = wb.attachments.list_log_files(issue_id)
            images = self._db.query_one("SELECT count(*) FROM image_attachments WHERE issue_id = ?", (issue_id,))[0]
            convs = self._db.query_one("SELECT count(*) FROM ai_conversations WHERE issue_id = ?", (issue_id,))[0]
            counts = {r[0]: r[1] for r in self._db.query(
                "SELECT m.role, count(*) FROM ai_messages m JOIN ai_conversations c ON c.id = m.conversation_id"
                " WHERE c.issue_id = ? GROUP BY m.role", (issue_id,))}
            root_cause = wb.whys.root_cause(issue_id)
        return IncidentData(issue, steps, events, logs, root_cause, images, convs, counts, utc_now())

    def _generate(self, issue_id: str, doc_type: str, ai_draft: bool) -> Document:
        data = self.incident_data(issue_id)
        if doc_type == "rca":
            title, content = templates.rca_title(data.issue), templates.build_rca(data)
        else:
            title, content = templates.postmortem_title(data.issue), templates.build_postmortem(data)
        ai_meta = None
        if ai_draft:
            content, ai_meta = self._ai_draft(issue_id, doc_type, content)
        title = _clean_title(title)
        now = now_ms()
        doc = Document(uuid7(), issue_id, doc_type, title, content, now, now)
        sections = templates.count_sections(content)
        event_type = "rca_generated" if doc_type == "rca" else "postmortem_generated"
        with self._db.write() as conn:
            if not conn.execute("SELECT 1 FROM issues WHERE id = ?", (issue_id,)).fetchone():
                raise NotFoundError(f"issue {issue_id} not found")
            conn.execute(f"INSERT INTO documents({_DOC_COLS}) VALUES (?,?,?,?,?,?,?)",
                         (doc.id, issue_id, doc_type, doc.title, doc.content_md, now, now))
            details = {"issue_id": issue_id, "doc_type": doc_type, "content_length": len(content),
                       "content_sha256": sha256_hex(content), "title_length": len(title),
                       "section_count": sections, "timeline_events_count": len(data.events),
                       "ai_draft": bool(ai_draft)}
            if ai_meta:
                details.update(ai_meta)
            self._audit.write_audit_event("generate_rca" if doc_type == "rca" else "generate_postmortem",
                                          "document", doc.id, details)
            self._timeline.add_timeline_event(
                issue_id, event_type, f"{_DOC_LABEL[doc_type]} generated",
                {"doc_id": doc.id, "section_count": sections, "timeline_events_count": len(data.events),
                 "ai_draft": bool(ai_draft)})
        return doc

    def _ai_draft(self, issue_id: str, doc_type: str, content: str):
        """The judgement sections drafted by the active AI provider (text PII-redacted on the way out)."""
        from .ai_draft import ai_draft

        return ai_draft(self._wb, issue_id, doc_type, content)

    # -- read -------------------------------------------------------------------------------------
    def list_documents(self, issue_id: str) -> list[Document]:
        """The issue's documents, oldest first."""
        self._wb.issues.require(issue_id)
        return [Document.from_row(r) for r in self._db.query(
            f"SELECT {_DOC_COLS} FROM documents WHERE issue_id = ? ORDER BY created_at, id", (issue_id,))]

    def get_document(self, doc_id: str) -> Document:
        row = self._db.query_one(f"SELECT {_DOC_COLS} FROM documents WHERE id = ?", (doc_id,))
        if row is None:
            raise NotFoundError(f"document {doc_id} not found")
        return Document.from_row(row)

    def current_version(self, doc_id: str) -> int:
        """The current version number of a document (1 until it is edited)."""
        self.get_document(doc_id)
        n = self._db.query_one("SELECT coalesce(max(version), 0) FROM document_versions WHERE document_id = ?",
                               (doc_id,))[0]
        return n + 1

    def list_document_versions(self, doc_id: str) -> list[DocumentVersion]:
        """Earlier versions, oldest first (version 1 is the text as generated); the current text is the document."""
        self.get_document(doc_id)
        return [DocumentVersion.from_row(r) for r in self._db.query(
            f"SELECT {_VERSION_COLS} FROM document_versions WHERE document_id = ? ORDER BY version", (doc_id,))]

    def get_document_version(self, doc_id: str, version: int) -> DocumentVersion:
        """One earlier version; the current version number returns the current text."""
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise ValidationError("the version must be a whole number") from None
        row = self._db.query_one(f"SELECT {_VERSION_COLS} FROM document_versions WHERE document_id = ? AND version = ?",
                                 (doc_id, version))
        if row is not None:
            return DocumentVersion.from_row(row)
        current = self.current_version(doc_id)  # raises NotFoundError for an unknown document
        if version == current:
            doc = self.get_document(doc_id)
            return DocumentVersion(doc.id, doc.id, current, doc.title, doc.content_md, doc.updated_at)
        raise NotFoundError(f"document {doc_id} has no version {version} (versions 1-{current})")

    # -- edit -------------------------------------------------------------------------------------
    def update_document(self, doc_id: str, content_md: str, title: str | None = None) -> Document:
        """Save edited Markdown (and optionally a new title); returns the saved document.

        The previous text is kept in ``document_versions``. Saving identical text and title is a
        no-op (no new version).
        """
        if not isinstance(content_md, str):
            raise ValidationError("the document content must be text (Markdown)")
        content_md = content_md.replace("\x00", "")
        if not content_md.strip():
            raise ValidationError("the document content must not be empty")
        if len(content_md) > MAX_CONTENT_CHARS:
            raise ValidationError(f"the document is longer than {MAX_CONTENT_CHARS} characters")
        if title is not None:
            title = _clean_title(title)
        with self._db.write() as conn:
            row = conn.execute(f"SELECT {_DOC_COLS} FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"document {doc_id} not found")
            before = Document.from_row(row)
            new_title = title if title is not None else before.title
            if content_md == before.content_md and new_title == before.title:
                return before
            version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM document_versions WHERE document_id = ?",
                                   (doc_id,)).fetchone()[0]
            conn.execute(f"INSERT INTO document_versions({_VERSION_COLS}) VALUES (?,?,?,?,?,?)",
                         (uuid7(), doc_id, version, before.title, before.content_md, before.updated_at))
            now = max(now_ms(), before.updated_at + 1)
            conn.execute("UPDATE documents SET title = ?, content_md = ?, updated_at = ? WHERE id = ?",
                         (new_title, content_md, now, doc_id))
            self._audit.write_audit_event("update_document", "document", doc_id, {
                "issue_id": before.issue_id, "archived_version": version, "version": version + 1,
                "content_length": len(content_md), "content_sha256": sha256_hex(content_md),
                "previous_sha256": sha256_hex(before.content_md), "title_changed": new_title != before.title})
        return Document(doc_id, before.issue_id, before.doc_type, new_title, content_md, before.created_at, now)

    # -- export -----------------------------------------------------------------------------------
    def render_html(self, doc_id: str) -> str:
        """The document as a self-contained, sanitised, printable HTML page (stored text, for local
        display; exports use :meth:`export_view`)."""
        from .export import document_html

        return document_html(self.get_document(doc_id))

    def export_view(self, doc_id: str, *, unredacted: bool = False) -> tuple[Document, str]:
        """The document as an export shows it, and the title its file is named after.

        By default every field is redacted with the issue's placeholders, exactly as the model sees
        them (``wb.pii.guard_outbound``: the current rules; values a reviewer released stay). The
        Markdown is guarded through its escapes after the issue's stored fields were cleared raw
        (``documents.egress.guard_markdown``), so a value the templates escaped or re-flowed is
        still replaced whole. With
        ``unredacted=True`` the text is the stored one. The file-name title is always the redacted
        one, so an e-mail or password in a title never reaches a file name.
        """
        from .egress import guard_markdown

        doc = self.get_document(doc_id)
        content = guard_markdown(self._wb, doc.issue_id, doc.content_md).payload  # the fields first, then the Markdown
        red_title = self._wb.pii.guard_outbound(doc.issue_id, {"title": doc.title}).payload["title"]
        if unredacted:
            return doc, red_title
        return (Document(doc.id, doc.issue_id, doc.doc_type, red_title, content, doc.created_at,
                         doc.updated_at), red_title)

    def export_document(self, doc_id: str, fmt: str = "md", output_dir: str | os.PathLike | None = None, *,
                        unredacted: bool = False) -> Path:
        """Write the saved document as ``md``, ``html`` (self-contained), ``pdf`` or ``docx`` (Word:
        headings, tables and lists as Word styles), for sharing.

        Redacted by default (see :meth:`export_view`); ``unredacted=True`` writes the stored text
        and is audited as ``export_unredacted`` with the actor. The file is named after the
        redacted title (``root-cause-analysis-checkout-latency.pdf``); an existing file is never
        overwritten (``-2``, ``-3``, ... are added). ``output_dir`` defaults to
        ``<data_dir>/exports``. Returns the absolute path written.
        """
        from .export import document_html

        fmt_key = _FORMAT_ALIASES.get(str(fmt or "").strip().lower())
        if fmt_key is None:
            raise ValidationError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
        stored = self.get_document(doc_id)
        doc, file_title = self.export_view(doc_id, unredacted=bool(unredacted))
        out_dir = Path(output_dir).expanduser() if output_dir else Path(self._wb.data_dir) / "exports"
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ExportError(f"{out_dir} exists and is not a directory; choose another output directory") from None
        except OSError as exc:
            raise ExportError(f"cannot create the output directory {out_dir}: {exc.strerror}") from None
        if not out_dir.is_dir():
            raise ExportError(f"{out_dir} is not a directory; choose another output directory")
        path = reserve_path(out_dir, slugify(file_title), fmt_key)
        try:
            if fmt_key == "md":
                data = doc.content_md.encode("utf-8", "surrogatepass")
                path.write_bytes(data)
            elif fmt_key == "html":
                data = document_html(doc).encode("utf-8", "surrogatepass")
                path.write_bytes(data)
            elif fmt_key == "docx":
                from datetime import datetime, timezone

                from .docx_render import markdown_to_docx

                # the same redacted view as every format: the Markdown and the title
                data = markdown_to_docx(doc.content_md, title=doc.title, subject=_DOC_LABEL.get(doc.doc_type),
                                        when=datetime.fromtimestamp(doc.updated_at / 1000, timezone.utc))
                path.write_bytes(data)
            else:
                from .pdf import html_to_pdf

                html_to_pdf(document_html(doc), path)
                data = path.read_bytes()
        except BaseException:
            try:
                path.unlink()
            except OSError:
                pass
            raise
        path = path.resolve()
        with self._db.write():
            self._audit.write_audit_event("export_unredacted" if unredacted else "export_document", "document", doc.id, {
                "issue_id": doc.issue_id, "format": fmt_key, "file_name": path.name, "bytes": len(data),
                "file_sha256": sha256_hex(data), "content_sha256": sha256_hex(stored.content_md),
                "exported_sha256": sha256_hex(doc.content_md), "redacted": not unredacted,
                "actor": self._audit.user_id})
            self._timeline.add_timeline_event(
                doc.issue_id, "document_exported",
                f"{_DOC_LABEL.get(doc.doc_type, 'Document')} exported as {fmt_key}"
                + (" (unredacted)" if unredacted else ""),
                {"doc_id": doc.id, "format": fmt_key, "file_name": path.name, "redacted": not unredacted})
        return path


def _clean_title(title: str) -> str:
    if not isinstance(title, str):
        raise ValidationError("the document title must be text")
    title = " ".join(title.replace("\x00", "").split())
    if not title:
        raise ValidationError("the document title must not be empty")
    return title[:MAX_TITLE_CHARS]


def slugify(title: str, limit: int = 80) -> str:
    """A file-name-safe slug of a title: 'Root Cause Analysis: Disk full' -> 'root-cause-analysis-disk-full'."""
    text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] or slug[:limit]
    return slug or "document"


def reserve_path(out_dir: Path, stem: str, ext: str) -> Path:
    """Create ``stem.ext`` (or ``stem-2.ext``, ...) exclusively, so nothing is ever overwritten."""
    for n in range(1, 10_000):
        path = out_dir / (f"{stem}.{ext}" if n == 1 else f"{stem}-{n}.{ext}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise ExportError(f"cannot write to {out_dir}: {exc.strerror}") from None
            raise ExportError(f"cannot create {path.name} in {out_dir}: {exc.strerror}") from None
        os.close(fd)
        return path
    raise ExportError(f"too many files named {stem}-N.{ext} in {out_dir}; choose another output directory")
