"""Errors of the log-templates and evidence-extraction services."""

from __future__ import annotations

from ..errors import FileRefusedError, TftsrError


class LogTemplatesError(TftsrError):
    """Templates could not be mined or read for a log."""


class ExtractionError(FileRefusedError):
    """Text could not be extracted from a document, capture or archive (damaged, encrypted, empty)."""


class ToolMissingError(ExtractionError):
    """An external tool needed for this format (``tshark`` for pcap) is not installed."""


class ArchiveBombError(ExtractionError):
    """An archive expands beyond the safety limit (possible decompression bomb) and was not opened."""


class EncryptedDocumentError(ExtractionError):
    """A password-protected PDF or ZIP: its text cannot be read without the password."""


class UnsafeArchiveError(ExtractionError):
    """An archive member is a symbolic link or has an absolute or ``..`` path (never unpacked)."""


class FormatMismatchError(ExtractionError):
    """The file's name says one format (``.pdf``, ``.docx``, ``.gz``, ...) and its bytes another."""
