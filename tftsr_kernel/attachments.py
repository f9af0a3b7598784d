"""Attachments: log files (gzip of the original bytes in the row) and images (bytes in the row).

Logs keep their original bytes exactly (``get_log_file_bytes``) and are decoded losslessly for
reading (``get_log_file_content``). List queries name their columns and never select BLOBs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ._text import decode_text, sniff_text  # noqa: F401  (re-exported)
from ._util import from_json, to_json, utc_now, uuid7
from .audit import AuditService
from .db import Database
from .errors import DecompressionBombError, FileRefusedError, NotFoundError, ValidationError
from .models import ImageAttachment, ImageAttachmentSummary, LogFile, LogFileSummary
from .timeline import TimelineService

MAX_LOG_BYTES = 100 * 1024 * 1024            # refuse bigger uploads
MAX_DECOMPRESSED_BYTES = 100 * 1024 * 1024   # decompression-bomb guard on read
MAX_IMAGE_BYTES = 10 * 1024 * 1024
GZIP_LEVEL = 1                               # logs compress well even at level 1, and it is fast
_LOG_COLS = ("id, issue_id, file_name, file_path, file_size, mime_type, content_hash, uploaded_at,"
             " redacted, text_encoding, pii_summary")
_IMAGE_COLS = ("id, issue_id, file_name, file_path, file_size, mime_type, upload_hash, uploaded_at,"
               " pii_warning_acknowledged, is_paste")
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def gzip_bytes(data: bytes) -> bytes:
    comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


def gunzip_guarded(blob: bytes, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Decompress gzip data, refusing anything that expands beyond ``limit`` bytes."""
    dec = zlib.decompressobj(31)
    try:
        out = dec.decompress(blob, limit + 1)
    except zlib.error as exc:
        raise DecompressionBombError(f"stored content is damaged and cannot be decompressed ({exc})") from None
    if len(out) > limit or dec.unconsumed_tail:
        raise DecompressionBombError(
            f"stored content expands beyond {limit // (1024 * 1024)} MB; refused (possible decompression bomb)")
    if not dec.eof:
        raise DecompressionBombError("stored content is truncated and cannot be decompressed")
    return out


def _safe_name(name: str) -> str:
    name = os.path.basename(str(name).replace("\\", "/")).replace("\x00", "").strip()
    if not name:
        raise ValidationError("a file name is required")
    return name[:255]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _sniff_image(data: bytes) -> str:
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise FileRefusedError("not a supported image (PNG, JPEG, GIF, WebP or BMP); SVG is refused because it can carry scripts")


def _log(row) -> LogFile:
    return LogFile.from_row(row, pii_summary=from_json(row["pii_summary"]))


class AttachmentService:
    def __init__(self, db: Database, audit: AuditService, timeline: TimelineService):
        self._db = db
        self._audit = audit
        self._timeline = timeline
        #: ``scanner(data, encoding) -> dict`` runs on every uploaded log beside hashing and
        #: compression; its JSON summary (the PII findings by type) is stored in the row
        self.scanner = None

    # -- logs
    def upload_log_file(self, issue_id: str, file_path: str | os.PathLike) -> LogFile:
        """Read a log from disk and store it (hash, gzip, metadata) in the database."""
        path = Path(file_path)
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise FileRefusedError(f"{path} is not a regular file")
            if size > MAX_LOG_BYTES:
                raise FileRefusedError(
                    f"{path.name} is {size / 1048576:.0f} MB; the limit is {MAX_LOG_BYTES // 1048576} MB. "
                    "Split it or upload the relevant time window.")
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"file {path} not found") from None
        except IsADirectoryError:
            raise FileRefusedError(f"{path} is a directory, not a log file") from None
        except PermissionError:
            raise FileRefusedError(f"permission denied reading {path}") from None
        return self._store_log(issue_id, path.name, str(path.resolve()), data)

    def upload_log_file_by_content(self, issue_id: str, file_name: str, content: bytes | str) -> LogFile:
        """Store a log given as bytes or text (e.g. from a browser upload)."""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise ValidationError("log content must be bytes or text")
        return self._store_log(issue_id, _safe_name(file_name), "", bytes(content))

    def _store_log(self, issue_id: str, file_name: str, file_path: str, data: bytes) -> LogFile:
        name = _safe_name(file_name)
        if not data:
            raise FileRefusedError(f"{name} is empty (0 bytes); there is nothing to upload")
        if len(data) > MAX_LOG_BYTES:
            raise FileRefusedError(f"{name} is larger than {MAX_LOG_BYTES // 1048576} MB")
        encoding = sniff_text(data)
        if self.scanner is not None and len(data) > 1 << 20:
            # hashing and gzip release the GIL: run them beside the PII scan
            with ThreadPoolExecutor(1) as pool:
                packed = pool.submit(lambda: (hashlib.sha256(data).hexdigest(), gzip_bytes(data)))
                summary = self.scanner(data, encoding)
                digest, blob = packed.result()
        else:
            digest, blob = hashlib.sha256(data).hexdigest(), gzip_bytes(data)
            summary = self.scanner(data, encoding) if self.scanner is not None else None
        mime = mimetypes.guess_type(name)[0] or "text/plain"
        log = LogFile(uuid7(), issue_id, name, file_path, len(data), mime, digest, utc_now(), False, encoding,
                      summary)
        with self._db.write() as conn:
            if not conn.execute("SELECT 1 FROM issues WHERE id = ?", (issue_id,)).fetchone():
                raise NotFoundError(f"issue {issue_id} not found")
            conn.execute(
                "INSERT INTO log_files(id, issue_id, file_name, file_path, file_size, mime_type, content_hash,"
                " uploaded_at, redacted, text_encoding, content_compressed, pii_summary)"
                " VALUES (?,?,?,?,?,?,?,?,0,?,?,?)",
                (log.id, issue_id, name, file_path, log.file_size, mime, digest, log.uploaded_at, encoding, blob,
                 to_json(summary) if summary is not None else None),
            )
            self._audit.write_audit_event("upload_log_file", "log_file", log.id,
                                          {"issue_id": issue_id, "file_name": name, "file_size": log.file_size,
                                           "content_hash": digest})
            self._timeline.add_timeline_event(issue_id, "log_uploaded", f"Log file uploaded: {name}",
                                              {"log_file_id": log.id, "file_name": name,
                                               "file_size": log.file_size})
        return log

    def get_log_file(self, log_file_id: str) -> LogFile:
        row = self._db.query_one(f"SELECT {_LOG_COLS} FROM log_files WHERE id = ?", (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        return _log(row)

    def get_log_file_bytes(self, log_file_id: str) -> bytes:
        """The original bytes, exactly as uploaded."""
        row = self._db.query_one("SELECT content_compressed FROM log_files WHERE id = ?", (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        if row[0] is None:
            raise NotFoundError(f"log file {log_file_id} has no stored content")
        return gunzip_guarded(bytes(row[0]))

    def get_log_file_content(self, log_file_id: str) -> str:
        """The log as text (decoded losslessly; see ``decode_text``)."""
        log = self.get_log_file(log_file_id)
        return decode_text(self.get_log_file_bytes(log_file_id), log.text_encoding)

    def list_log_files(self, issue_id: str) -> list[LogFile]:
        return [_log(r) for r in self._db.query(
            f"SELECT {_LOG_COLS} FROM log_files WHERE issue_id = ? ORDER BY uploaded_at, id", (issue_id,))]

    def list_all_log_files(self, search: str | None = None, issue_id: str | None = None,
                           limit: int = 500) -> list[LogFileSummary]:
        """Logs across incidents (newest first), optionally by file-name search and issue."""
        sql = ("SELECT id, issue_id, issue_title, file_name, file_path, file_size, mime_type, content_hash,"
               " uploaded_at, redacted FROM v_log_files_with_issue")
        where, params = [], []
        if search:
            where.append("(file_name LIKE ? ESCAPE '\\' OR issue_title LIKE ? ESCAPE '\\')")
            params += [_like(search), _like(search)]
        if issue_id:
            where.append("issue_id = ?")
            params.append(issue_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY uploaded_at DESC, id DESC LIMIT ?"
        return [LogFileSummary.from_row(r) for r in self._db.query(sql, params + [int(limit)])]

    def delete_log_file(self, log_file_id: str) -> None:
        with self._db.write() as conn:
            row = conn.execute("SELECT issue_id FROM log_files WHERE id = ?", (log_file_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"log file {log_file_id} not found")
            conn.execute("DELETE FROM log_files WHERE id = ?", (log_file_id,))
            self._audit.write_audit_event("delete_log_file", "log_file", log_file_id, {"issue_id": row[0]})

    # -- images
    def upload_image_attachment(self, issue_id: str, file_path: str | os.PathLike,
                                pii_warning_acknowledged: bool = True) -> ImageAttachment:
        path = Path(file_path)
        try:
            if path.stat().st_size > MAX_IMAGE_BYTES:
                raise FileRefusedError(f"{path.name} is larger than {MAX_IMAGE_BYTES // 1048576} MB")
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"file {path} not found") from None
        except IsADirectoryError:
            raise FileRefusedError(f"{path} is a directory, not an image") from None
        return self._store_image(issue_id, path.name, str(path.resolve()), data, pii_warning_acknowledged, False)

    def upload_image_attachment_by_content(self, issue_id: str, file_name: str, data: bytes,
                                           pii_warning_acknowledged: bool = True) -> ImageAttachment:
        return self._store_image(issue_id, file_name, "", bytes(data), pii_warning_acknowledged, False)

    def upload_paste_image(self, issue_id: str, base64_data: str, file_name: str = "pasted.png",
                           pii_warning_acknowledged: bool = True) -> ImageAttachment:
        """Store a pasted screenshot given as base64 or a ``data:image/...;base64,`` URL."""
        text = (base64_data or "").strip()
        if text.startswith("data:"):
            header, _, text = text.partition(",")
            if ";base64" not in header:
                raise ValidationError("pasted image data URL must be base64 encoded")
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("pasted image is not valid base64") from None
        return self._store_image(issue_id, file_name, "", data, pii_warning_acknowledged, True)

    def _store_image(self, issue_id, file_name, file_path, data, ack, is_paste) -> ImageAttachment:
        name = _safe_name(file_name)
        if not data:
            raise FileRefusedError(f"{name} is empty")
        if len(data) > MAX_IMAGE_BYTES:
            raise FileRefusedError(f"{name} is larger than {MAX_IMAGE_BYTES // 1048576} MB")
        mime = _sniff_image(data)
        img = ImageAttachment(uuid7(), issue_id, name, file_path, len(data), mime,
                              hashlib.sha256(data).hexdigest(), utc_now(), bool(ack), bool(is_paste))
        with self._db.write() as conn:
            if not conn.execute("SELECT 1 FROM issues WHERE id = ?", (issue_id,)).fetchone():
                raise NotFoundError(f"issue {issue_id} not found")
            conn.execute(
                f"INSERT INTO image_attachments({_IMAGE_COLS}, image_data) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (img.id, issue_id, name, file_path, img.file_size, mime, img.upload_hash, img.uploaded_at,
                 int(img.pii_warning_acknowledged), int(img.is_paste), data),
            )
            self._audit.write_audit_event("upload_paste_image" if is_paste else "upload_image_attachment",
                                          "image_attachment", img.id,
                                          {"issue_id": issue_id, "file_name": name, "is_paste": bool(is_paste),
                                           "upload_hash": img.upload_hash})
        return img

    def list_image_attachments(self, issue_id: str) -> list[ImageAttachment]:
        return [ImageAttachment.from_row(r) for r in self._db.query(
            f"SELECT {_IMAGE_COLS} FROM image_attachments WHERE issue_id = ? ORDER BY uploaded_at, id",
            (issue_id,))]

    def get_image_attachment_data(self, attachment_id: str) -> str:
        """The image as a ``data:<mime>;base64,...`` URL."""
        row = self._db.query_one("SELECT mime_type, image_data FROM image_attachments WHERE id = ?",
                                 (attachment_id,))
        if row is None or row["image_data"] is None:
            raise NotFoundError(f"image {attachment_id} not found")
        data = bytes(row["image_data"])
        mime = _sniff_image(data)  # never trust the stored mime type blindly
        return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")

    def delete_image_attachment(self, attachment_id: str) -> None:
        with self._db.write() as conn:
            row = conn.execute("SELECT issue_id FROM image_attachments WHERE id = ?", (attachment_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"image {attachment_id} not found")
            conn.execute("DELETE FROM image_attachments WHERE id = ?", (attachment_id,))
            self._audit.write_audit_event("delete_image_attachment", "image_attachment", attachment_id,
                                          {"issue_id": row[0]})

    def list_all_image_attachments(self, search: str | None = None, issue_id: str | None = None,
                                   limit: int = 500) -> list[ImageAttachmentSummary]:
        sql = (f"SELECT {_IMAGE_COLS}, issue_title FROM v_image_attachments_with_issue")
        where, params = [], []
        if search:
            where.append("(file_name LIKE ? ESCAPE '\\' OR issue_title LIKE ? ESCAPE '\\')")
            params += [_like(search), _like(search)]
        if issue_id:
            where.append("issue_id = ?")
            params.append(issue_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY uploaded_at DESC, id DESC LIMIT ?"
        return [ImageAttachmentSummary.from_row(r) for r in self._db.query(sql, params + [int(limit)])]
