"""Attachments: log files (gzip of the original bytes in the row) and images (bytes in the row).

(Past 600 lines on purpose: every upload path, the chunked upload and the input rules they share
stay in one module, so a rule cannot be applied on one path and forgotten on another.)
A PDF, DOCX, capture or archive is stored as its extracted text with the original bytes kept
beside it (``logs/evidence.py``).

Logs keep their original bytes exactly (``get_log_file_bytes``) and are decoded losslessly for
reading (``get_log_file_content``). List queries name their columns and never select BLOBs.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import mimetypes
import os
import stat
import tempfile
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ._text import decode_text, sniff_text  # noqa: F401  (re-exported)
from ._util import from_json, to_json, utc_now, uuid7
from .audit import AuditService
from .db import Database
from .errors import (DecompressionBombError, FileRefusedError, FileTooLargeError, NotFoundError,
                     NotRegularFileError, UploadError, ValidationError)
from .logs.evidence import is_container, prepare_log
from .models import ImageAttachment, ImageAttachmentSummary, LogFile, LogFileSummary
from .timeline import TimelineService

MAX_LOG_BYTES = 100 * 1024 * 1024            # refuse bigger uploads
MAX_DECOMPRESSED_BYTES = 100 * 1024 * 1024   # decompression-bomb guard on read
MAX_IMAGE_BYTES = 10 * 1024 * 1024
GZIP_LEVEL = 1                               # logs compress well even at level 1, and it is fast
READ_STEP = 4 * 1024 * 1024                  # files are read (and progress reported) in steps of this
MAX_UPLOAD_CHUNK = 8 * 1024 * 1024           # one chunk of a chunked (browser) upload, at most
#: ``progress(stage, done, total)``: stage is "reading" (bytes), then "extracting" (PDF, DOCX,
#: pcap, archives only), "scanning" and "storing"
Progress = Callable[[str, int, int], None]
_LOG_COLS = ("id, issue_id, file_name, file_path, file_size, mime_type, content_hash, uploaded_at,"
             " redacted, text_encoding, pii_summary, extracted_from, extraction_note")
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


def _source_path(path) -> str:
    """Where a file given by content was read from: text that stores as UTF-8 (bytes that were not
    UTF-8 already shown as U+FFFD by the caller; stray surrogates become U+FFFD here)."""
    if not isinstance(path, str):
        raise ValidationError("source_path must be text")
    return path.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")[:4096]


def _mb(n: int) -> str:
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n:,} bytes"


def _too_large(name: str, size: int, limit: int) -> FileTooLargeError:
    return FileTooLargeError(f"{name} is {_mb(size)}; the limit is {limit // 1048576} MB. "
                             "Split it or upload the relevant time window.")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_regular_file(path: str | os.PathLike, what: str = "file") -> tuple[int, os.stat_result]:
    """Open ``path`` for reading, refusing anything but a regular file: the last component may not
    be a symbolic link (``O_NOFOLLOW``), and FIFOs, sockets, devices and directories are refused
    after ``fstat`` on the open descriptor (so nothing can be swapped in between). ``O_NONBLOCK``
    keeps a FIFO from blocking the open. Returns ``(fd, stat)``; the caller closes ``fd``."""
    shown = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise NotFoundError(f"file {shown} not found") from None
    except PermissionError:
        raise FileRefusedError(f"permission denied reading {shown}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFileError(f"{shown} is a symbolic link; symbolic links are refused, "
                                      f"give the path of the {what} itself") from None
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):
            raise NotRegularFileError(f"{shown} is not a regular file (a socket or device); "
                                      f"only regular files can be uploaded") from None
        raise FileRefusedError(f"cannot read {shown}: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegularFileError(f"{shown} is {_kind(st.st_mode)}; only regular files can be uploaded")
    return fd, st


def read_fd(fd: int, size: int, progress: Progress | None = None) -> bytearray:
    """Read ``size`` bytes from the start of ``fd`` (a file that grows meanwhile is stored as it
    was when the upload began; one that shrinks, up to its new end), reporting progress."""
    buf = bytearray(size)
    view = memoryview(buf)
    done = 0
    os.lseek(fd, 0, os.SEEK_SET)
    with open(fd, "rb", buffering=0, closefd=False) as f:
        while done < size:
            try:
                n = f.readinto(view[done:min(size, done + READ_STEP)])
            except OSError as exc:
                raise FileRefusedError(f"reading the file failed: {exc.strerror or exc}") from None
            if not n:
                break
            done += n
            if progress is not None:
                progress("reading", done, size)
    view.release()
    if done < size:
        del buf[done:]
    return buf


def _under(real: str, roots: list[str]) -> bool:
    for root in roots:
        root = os.path.realpath(root)
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            return True
    return False


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
    def upload_log_file(self, issue_id: str, file_path: str | os.PathLike, *,
                        progress: Progress | None = None) -> LogFile:
        """Read a log from disk and store it (hash, gzip, PII summary, metadata) in the database.

        Regular files only: a symbolic link (last component), FIFO, socket, device or directory
        is refused with :class:`NotRegularFileError`; binary content anywhere with
        :class:`BinaryFileError`; more than ``MAX_LOG_BYTES`` with :class:`FileTooLargeError`.
        ``progress(stage, done, total)`` is called while it reads, then as it scans and stores."""
        path = Path(file_path)
        fd, st = open_regular_file(path, "log file")
        try:
            if st.st_size > MAX_LOG_BYTES:
                raise _too_large(path.name, st.st_size, MAX_LOG_BYTES)
            data = read_fd(fd, st.st_size, progress)
        finally:
            os.close(fd)
        return self._store_log(issue_id, path.name, os.path.realpath(path), data, progress)

    def import_server_log(self, issue_id: str, file_path: str | os.PathLike, *,
                          progress: Progress | None = None) -> LogFile:
        """Store a log that is already on the server, for the dashboard: the file's real path
        (symbolic links in its directories resolved) must lie inside one of the directories of
        the ``log_import_dirs`` setting (empty: import is off), and it must be a regular file.
        The CLI's ``tftsr log upload`` takes any path the OS user can read instead."""
        from .settings import SettingsService

        roots = SettingsService(self._db, self._audit).get("log_import_dirs")
        if not roots:
            raise FileRefusedError("importing logs from the server is off; an administrator enables it with "
                                   "`tftsr settings set log_import_dirs '[\"/var/log/myapp\"]'`")
        text = os.fspath(file_path).strip() if isinstance(file_path, (str, os.PathLike)) else ""
        if not text or "\x00" in text or not os.path.isabs(text):
            raise ValidationError("give the absolute path of a log file on the server")
        # resolve the directories, keep the last component as given (a final symlink is refused)
        head, tail = os.path.split(os.path.normpath(text))
        real = os.path.join(os.path.realpath(head), tail)
        if not tail or not _under(real, roots):
            raise FileRefusedError(f"{text} is not inside an allowed import directory "
                                   f"({', '.join(roots)}); ask an administrator to add its directory to "
                                   "log_import_dirs")
        fd, st = open_regular_file(real, "log file")
        try:
            if st.st_size > MAX_LOG_BYTES:
                raise _too_large(tail, st.st_size, MAX_LOG_BYTES)
            data = read_fd(fd, st.st_size, progress)
        finally:
            os.close(fd)
        return self._store_log(issue_id, tail, real, data, progress)

    def begin_log_upload(self, issue_id: str, file_name: str, size: int) -> "ChunkedUpload":
        """Start a chunked upload (the dashboard sends a browser file in pieces): the chunks go to
        a private temporary file in the data directory (mode 0600, unlinked at once where the
        system allows, removed in any case when the upload ends), then the log is stored as by
        :meth:`upload_log_file`. ``size`` is the announced size, checked against the limit first."""
        if not self._db.query_one("SELECT 1 FROM issues WHERE id = ?", (issue_id,)):
            raise NotFoundError(f"issue {issue_id} not found")
        return ChunkedUpload(self, issue_id, _safe_name(file_name), size, self._upload_dir())

    def _upload_dir(self) -> Path:
        return Path(self._db.path).parent

    def upload_log_file_by_content(self, issue_id: str, file_name: str, content: bytes | str, *,
                                   source_path: str = "") -> LogFile:
        """Store a log given as bytes or text (e.g. from a browser upload). ``source_path`` is
        where it was read from, when the caller read it from disk (text; stored as given)."""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise ValidationError("log content must be bytes or text")
        return self._store_log(issue_id, _safe_name(file_name), _source_path(source_path), bytes(content))

    def _store_log(self, issue_id: str, file_name: str, file_path: str, data,
                   progress: Progress | None = None) -> LogFile:
        name = _safe_name(file_name)
        if not data:
            raise FileRefusedError(f"{name} is empty (0 bytes); there is nothing to upload")
        if len(data) > MAX_LOG_BYTES:
            raise FileTooLargeError(f"{name} is larger than {MAX_LOG_BYTES // 1048576} MB")
        if progress is not None and is_container(data):
            progress("extracting", 0, len(data))
        prep = prepare_log(name, data, MAX_LOG_BYTES)  # refusals raise here: nothing is stored
        text, encoding, ex = prep.text, prep.encoding, prep.extracted
        if progress is not None:
            if ex is not None:
                progress("extracting", len(data), len(data))
            progress("scanning", 0, len(text))

        def pack():  # the hash is the original's; the content is the text; the original kept beside
            return (hashlib.sha256(data).hexdigest(), gzip_bytes(text),
                    gzip_bytes(data) if ex is not None else None)

        if self.scanner is not None and len(text) > 1 << 20:
            # hashing and gzip release the GIL: run them beside the PII scan
            with ThreadPoolExecutor(1) as pool:
                packed = pool.submit(pack)
                summary = self.scanner(text, encoding)
                digest, blob, original = packed.result()
        else:
            digest, blob, original = pack()
            summary = self.scanner(text, encoding) if self.scanner is not None else None
        if progress is not None:
            progress("scanning", len(text), len(text))
            progress("storing", 0, len(blob))
        mime = prep.mime_type or mimetypes.guess_type(name)[0] or "text/plain"
        log = LogFile(uuid7(), issue_id, name, file_path, len(data), mime, digest, utc_now(), False, encoding,
                      summary, ex.kind if ex else None, ex.note if ex else None)
        with self._db.write() as conn:
            if not conn.execute("SELECT 1 FROM issues WHERE id = ?", (issue_id,)).fetchone():
                raise NotFoundError(f"issue {issue_id} not found")
            conn.execute(
                "INSERT INTO log_files(id, issue_id, file_name, file_path, file_size, mime_type, content_hash,"
                " uploaded_at, redacted, text_encoding, content_compressed, pii_summary, original_compressed,"
                " extracted_from, extraction_note)"
                " VALUES (?,?,?,?,?,?,?,?,0,?,?,?,?,?,?)",
                (log.id, issue_id, name, file_path, log.file_size, mime, digest, log.uploaded_at, encoding, blob,
                 to_json(summary) if summary is not None else None, original, log.extracted_from,
                 log.extraction_note),
            )
            details = {"issue_id": issue_id, "file_name": name, "file_size": log.file_size, "content_hash": digest}
            meta = {"log_file_id": log.id, "file_name": name, "file_size": log.file_size}
            if ex is not None:
                details.update(extracted_from=ex.kind, text_size=len(text), text_sha256=hashlib.sha256(text).hexdigest())
                meta["extracted_from"] = ex.kind
            self._audit.write_audit_event("upload_log_file", "log_file", log.id, details)
            self._timeline.add_timeline_event(issue_id, "log_uploaded", f"Log file uploaded: {name}"
                                              + (f" ({log.source})" if ex is not None else ""), meta)
        if progress is not None:
            progress("storing", len(blob), len(blob))
        return log

    def get_log_file(self, log_file_id: str) -> LogFile:
        row = self._db.query_one(f"SELECT {_LOG_COLS} FROM log_files WHERE id = ?", (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        return _log(row)

    def get_log_file_bytes(self, log_file_id: str) -> bytes:
        """The original bytes, exactly as uploaded (for a PDF, DOCX, capture or archive: that file,
        not its extracted text)."""
        row = self._db.query_one("SELECT coalesce(original_compressed, content_compressed) FROM log_files"
                                 " WHERE id = ?", (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        if row[0] is None:
            raise NotFoundError(f"log file {log_file_id} has no stored content")
        return gunzip_guarded(bytes(row[0]))

    def get_log_file_content(self, log_file_id: str) -> str:
        """The log as text (decoded losslessly; see ``decode_text``); for a PDF, DOCX, capture or
        archive, the text extracted from it at upload (``LogFile.extracted_from`` says which)."""
        row = self._db.query_one("SELECT content_compressed, text_encoding FROM log_files WHERE id = ?",
                                 (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        if row[0] is None:
            raise NotFoundError(f"log file {log_file_id} has no stored content")
        return decode_text(gunzip_guarded(bytes(row[0])), row[1])

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
        """Store an image from disk; regular files only (as :meth:`upload_log_file`)."""
        path = Path(file_path)
        fd, st = open_regular_file(path, "image")
        try:
            if st.st_size > MAX_IMAGE_BYTES:
                raise _too_large(path.name, st.st_size, MAX_IMAGE_BYTES)
            data = bytes(read_fd(fd, st.st_size))
        finally:
            os.close(fd)
        return self._store_image(issue_id, path.name, os.path.realpath(path), data, pii_warning_acknowledged, False)

    def begin_image_upload(self, issue_id: str, file_name: str, size: int,
                           pii_warning_acknowledged: bool = True) -> "ChunkedUpload":
        """A chunked upload of an image (see :meth:`begin_log_upload`)."""
        if not self._db.query_one("SELECT 1 FROM issues WHERE id = ?", (issue_id,)):
            raise NotFoundError(f"issue {issue_id} not found")
        return ChunkedUpload(self, issue_id, _safe_name(file_name), size, self._upload_dir(), kind="image",
                             pii_warning_acknowledged=pii_warning_acknowledged)

    def upload_image_attachment_by_content(self, issue_id: str, file_name: str, data: bytes,
                                           pii_warning_acknowledged: bool = True, *,
                                           source_path: str = "") -> ImageAttachment:
        return self._store_image(issue_id, file_name, _source_path(source_path), bytes(data),
                                 pii_warning_acknowledged, False)

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
            raise FileTooLargeError(f"{name} is larger than {MAX_IMAGE_BYTES // 1048576} MB")
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


def free_bytes(directory: Path) -> int | None:
    """Bytes available to this user on the file system of ``directory`` (None if unknown)."""
    try:
        st = os.statvfs(directory)
    except (OSError, AttributeError):
        return None
    return st.f_bavail * st.f_frsize


def _private_temp(directory: Path) -> tuple[int, str | None]:
    """A private temporary file in ``directory``: no name at all (``O_TMPFILE``) where the file
    system allows, else a 0600 file unlinked right away, so even a killed kernel leaves nothing
    behind. Returns ``(fd, path_still_to_remove_or_None)``."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmpfile = getattr(os, "O_TMPFILE", 0)
    if tmpfile:
        try:
            return os.open(directory, tmpfile | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600), None
        except OSError:
            pass  # not supported by this file system
    fd, name = tempfile.mkstemp(prefix=".tftsr-upload-", suffix=".part", dir=directory)
    os.fchmod(fd, 0o600)
    try:
        os.unlink(name)
        return fd, None
    except OSError:
        return fd, name


class ChunkedUpload:
    """One file arriving in pieces (the dashboard's uploader sends 4 MiB chunks, each acknowledged):
    the chunks are written at their offsets to a private temporary file (see ``_private_temp``);
    :meth:`finish` checks the size, reads the file back once and stores it as a log or an image;
    :meth:`abort` (also on any error, and when the upload object is collected) removes it.
    Thread-safe; every refusal is an :class:`UploadError` (or a size error before any byte)."""

    def __init__(self, service: AttachmentService, issue_id: str, file_name: str, size, directory: Path, *,
                 kind: str = "log", pii_warning_acknowledged: bool = True):
        self._fd, self._path, self.closed = None, None, True
        limit = MAX_LOG_BYTES if kind == "log" else MAX_IMAGE_BYTES
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValidationError("the upload needs the file size in bytes")
        if size == 0:
            raise FileRefusedError(f"{file_name} is empty (0 bytes); there is nothing to upload")
        if size > limit:
            raise _too_large(file_name, size, limit)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        free = free_bytes(directory)
        if free is not None and free < 2 * size:  # the temporary copy, then the row (compressed) and WAL
            raise UploadError(f"not enough disk space for {file_name} ({_mb(size)}): {_mb(free)} free in the "
                              "data directory; free some space and try again")
        self._service = service
        self.issue_id, self.file_name, self.size, self.kind = issue_id, file_name, size, kind
        self._ack = pii_warning_acknowledged
        self.received = 0
        self._lock = threading.Lock()
        self._fd, self._path = _private_temp(directory)
        self.closed = False

    def write(self, offset: int, data) -> int:
        """Write the chunk that starts at ``offset`` (it must be the next one); returns the bytes
        received so far."""
        with self._lock:
            if self.closed:
                raise UploadError(f"the upload of {self.file_name} is no longer open; start it again")
            n = len(data)
            if offset != self.received:
                self._abort()
                raise UploadError(f"a piece of {self.file_name} arrived out of order (at byte {offset:,}, "
                                  f"expected {self.received:,}); the upload was stopped, start it again")
            if n > MAX_UPLOAD_CHUNK:
                self._abort()
                raise UploadError(f"a piece of {self.file_name} is larger than {MAX_UPLOAD_CHUNK // 1048576} MiB")
            if self.received + n > self.size:
                self._abort()
                raise UploadError(f"{self.file_name} is longer than the {self.size:,} bytes announced; "
                                  "the upload was stopped")
            view = memoryview(data).cast("B")
            done = 0
            try:
                while done < n:
                    done += os.pwrite(self._fd, view[done:], offset + done)
            except OSError as exc:
                self._abort()
                raise UploadError(f"writing the upload failed: {exc.strerror or exc} "
                                  "(is the data directory's disk full?)") from None
            self.received += n
            return self.received

    def finish(self, progress: Progress | None = None):
        """Store the complete file (a :class:`LogFile` or an :class:`ImageAttachment`)."""
        with self._lock:
            try:
                if self.closed:
                    raise UploadError(f"the upload of {self.file_name} is no longer open; start it again")
                if self.received != self.size:
                    raise UploadError(f"{self.file_name} is incomplete ({self.received:,} of {self.size:,} "
                                      "bytes arrived); start it again")
                data = read_fd(self._fd, self.size)
                self._abort()  # the bytes are in memory: free the disk space now
                if len(data) != self.size:
                    raise UploadError(f"the temporary copy of {self.file_name} was changed; start it again")
                if self.kind == "image":
                    return self._service._store_image(self.issue_id, self.file_name, "", bytes(data), self._ack,
                                                      False)
                return self._service._store_log(self.issue_id, self.file_name, "", data, progress)
            finally:
                self._abort()

    def abort(self) -> None:
        """Stop the upload and remove its temporary file (idempotent)."""
        with self._lock:
            self._abort()

    def _abort(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            self._path = None
        self.closed = True

    def __del__(self):
        try:
            self._abort()
        except Exception:  # noqa: BLE001 -- interpreter shutdown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.abort()
