"""What an uploaded file is stored as: a text log as it is, or the text of a PDF, DOCX, capture or
archive (:mod:`.extract`) with its original bytes kept beside it.

Every upload path (``tftsr log upload``, ``wb.attachments.upload_log_file``, the dashboard's
chunked uploader, the server-path import, ``upload_log_file_by_content``) ends in
``AttachmentService._store_log``, which calls :func:`prepare_log` before anything is written: a
refusal (damaged, encrypted, a bomb, a missing ``tshark``, a name that lies, binary) raises and
stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._text import is_utf8, sniff_text, utf8_clean
from ..errors import FileTooLargeError
from .extract import KIND_LABELS, KIND_MIME, Extracted, extract_text, sniff_kind


@dataclass
class PreparedLog:
    #: the bytes stored as the log's content: the upload itself, or the extracted text as UTF-8
    text: bytes
    #: how ``text`` decodes (``decode_text``): 'utf-8', 'utf-8-sig', 'utf-16' or 'utf-8+invalid'
    encoding: str
    #: what the text was extracted from, or ``None`` for a plain text log
    extracted: Extracted | None = None

    @property
    def mime_type(self) -> str | None:
        return KIND_MIME[self.extracted.kind] if self.extracted else None


def is_container(data) -> bool:
    """Whether ``data`` starts like a PDF, DOCX/ZIP, capture or gzip (extraction will run)."""
    try:
        return sniff_kind(data) is not None
    except Exception:  # noqa: BLE001 -- a damaged ZIP is still a container; extract_text says why
        return True


def prepare_log(name: str, data, max_text_bytes: int) -> PreparedLog:
    """The stored form of an upload named ``name``; raises a :class:`FileRefusedError` subclass
    (``ExtractionError`` and its kinds, ``BinaryFileError``, ``FileTooLargeError``)."""
    ex = extract_text(name, data)
    if ex is None:
        return PreparedLog(data, sniff_text(data))  # text as it is; binary refused as before
    try:
        text = ex.text.encode("utf-8", "surrogateescape")  # bytes kept from an archive's member
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte (a PDF's text layer)
        text = utf8_clean(ex.text).encode("utf-8")
    if len(text) > max_text_bytes:
        raise FileTooLargeError(f"the text extracted from {name} ({KIND_LABELS[ex.kind]}) is "
                                f"{len(text) / 1048576:.0f} MB; the limit is {max_text_bytes // 1048576} MB. "
                                "Split the file and upload the parts")
    return PreparedLog(text, "utf-8" if is_utf8(text) else "utf-8+invalid", ex)


def source_label(extracted_from: str | None, note: str | None = None) -> str:
    """``'text extracted from PDF (3 page(s))'``, or ``''`` for a plain text log."""
    if not extracted_from:
        return ""
    label = KIND_LABELS.get(extracted_from, extracted_from)
    return f"text extracted from {label}" + (f" ({note})" if note else "")
