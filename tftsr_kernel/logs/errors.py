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
