"""PII and secret detection for logs: find, redact, pseudonymise, restore.

    >>> from tftsr_kernel import pii
    >>> text = "login from 10.0.0.7 as bob@example.com password=hunter2"
    >>> spans = pii.detect(text)
    >>> [(s.type, s.text) for s in spans]
    [('IPv4', '10.0.0.7'), ('Email', 'bob@example.com'), ('Password', 'hunter2')]
    >>> ps = pii.Pseudonymizer()
    >>> pii.redact(text, spans, ps.placeholder)
    'login from [IPv4_1] as [Email_1] password=[Password_1]'

Engine: a single hyperscan database of anchor patterns finds candidate places in one pass and
Python code confirms them (checksums, context, key names); see ``_engine.py`` for the measured
reasons.  Offsets are character offsets into the decoded text, end exclusive.  Files are
scanned in bounded-memory chunks (:func:`scan_file`, :func:`redact_file`).
"""

from __future__ import annotations

from ._engine import engine_for as _engine_for
from ._io import auto_workers, decode_bytes, redact_file, scan_file
from ._redact import Pseudonymizer, redact, restore, type_token
from ._types import PII_TYPES, DetectorConfig, RedactStats, Span


def detect(text: str, config: DetectorConfig | None = None) -> list[Span]:
    """Findings in ``text``: sorted by start, non-overlapping (overlapping findings are merged
    into one span that covers all of them)."""
    return _engine_for(config).detect(text, config)


__all__ = [
    "PII_TYPES",
    "DetectorConfig",
    "Pseudonymizer",
    "RedactStats",
    "Span",
    "auto_workers",
    "decode_bytes",
    "detect",
    "redact",
    "redact_file",
    "restore",
    "scan_file",
    "type_token",
]
