"""PII review flow over the database, and the egress guard every outgoing path must call.

- Uploads are scanned as they are stored (``summarize``: findings by type on the log row).
- ``detect_pii(log_file_id)`` stores spans in ``pii_spans`` (status ``pending``), each with the
  issue's consistent placeholder as its replacement; ``list_spans`` does it on first use.
- ``apply_redactions(log_file_id, approved_span_ids)`` marks the review, stores the redacted text
  (gzip) in the database — never next to the user's file — sets ``redacted`` and audits the
  SHA-256 of the original and of the redacted text.
- ``redact_for_egress`` / ``egress_log``: the one gate for text leaving the machine. A log with no
  review yet gets every detected span redacted; free text always does.
"""

from __future__ import annotations

from .._util import sha256_hex, to_json, utc_now, uuid7, uuid7_batch
from ..attachments import decode_text, gunzip_guarded, gzip_bytes
from ..errors import NotFoundError, ValidationError
from ..models import EgressText, PiiDetectionResult, PiiSpanRecord, RedactedLogFile
from . import PII_TYPES, DetectorConfig, Pseudonymizer, Span, detect, redact, restore

_SPAN_COLS = "id, log_file_id, pii_type, start_offset, end_offset, original_value, replacement, status"


class PiiService:
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db

    # -- configuration
    def config(self) -> DetectorConfig:
        s = self._wb.settings.get_settings()
        enabled = s.get("pii_enabled_types")
        return DetectorConfig(
            enabled_types=frozenset(enabled) if enabled is not None else None,
            custom_patterns=tuple((p["name"], p["pattern"]) for p in s.get("pii_custom_patterns") or []),
            allowlist=tuple(s.get("pii_allowlist") or []),
        )

    def enabled_types(self) -> list[str]:
        from ._types import enabled_toggles  # groups ("secrets") stand for their toggles

        return enabled_toggles(self._wb.settings.get("pii_enabled_types"))

    def set_type_enabled(self, pii_type: str, enabled: bool) -> list[str]:
        """Turn detection of one type on or off (audited through the settings service)."""
        if pii_type not in PII_TYPES:
            raise ValidationError(f"unknown PII type {pii_type!r}; types: {', '.join(PII_TYPES)}")
        current = set(self.enabled_types())
        current = current | {pii_type} if enabled else current - {pii_type}
        value = None if current == set(PII_TYPES) else [t for t in PII_TYPES if t in current]
        self._wb.settings.update_settings({"pii_enabled_types": value})
        return self.enabled_types()

    # -- pseudonyms
    def _pseudonymizer(self, issue_id: str | None) -> Pseudonymizer:
        if issue_id is None:
            return Pseudonymizer()
        rows = self._db.query("SELECT pii_type, original_value, placeholder FROM pii_pseudonyms WHERE issue_id = ?",
                              (issue_id,))
        return Pseudonymizer({(r[0], r[1]): r[2] for r in rows})

    def _persist(self, conn, issue_id: str | None, pseudo: Pseudonymizer) -> None:
        if issue_id is None or not pseudo.new_entries:
            return
        now = utc_now()
        conn.executemany(
            "INSERT OR IGNORE INTO pii_pseudonyms(id, issue_id, pii_type, original_value, placeholder, created_at)"
            " VALUES (?,?,?,?,?,?)",
            [(uuid7(), issue_id, t, v, ph, now) for t, v, ph in pseudo.new_entries])
        pseudo.new_entries.clear()

    def placeholder_map(self, issue_id: str) -> dict[str, str]:
        """``{placeholder: original}`` for an issue (kept in the encrypted database only)."""
        return {r[0]: r[1] for r in self._db.query(
            "SELECT placeholder, original_value FROM pii_pseudonyms WHERE issue_id = ?", (issue_id,))}

    def restore_placeholders(self, issue_id: str, text: str) -> str:
        """Put the original values back into an AI answer, for display on this machine only."""
        return restore(text, self.placeholder_map(issue_id))

    # -- review flow
    def _log(self, log_file_id: str):
        row = self._db.query_one("SELECT id, issue_id, text_encoding, content_hash, redacted FROM log_files WHERE id = ?",
                                 (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        return row

    def _text(self, log_file_id: str) -> str:
        return self._wb.attachments.get_log_file_content(log_file_id)

    def detect_pii(self, log_file_id: str) -> PiiDetectionResult:
        """Scan a stored log and store its spans for review (replacing an earlier scan)."""
        log = self._log(log_file_id)
        text = self._text(log_file_id)
        spans = detect(text, self.config())
        return self._store_spans(log["id"], log["issue_id"], spans)

    def summarize(self, data: bytes, encoding: str) -> dict:
        """The PII findings of an uploaded log by type (run as it is uploaded; nothing stored here)."""
        by_type: dict[str, int] = {}
        for s in detect(decode_text(data, encoding), self.config()):
            by_type[s.type] = by_type.get(s.type, 0) + 1
        return {"total": sum(by_type.values()), "by_type": by_type}

    def _store_spans(self, log_file_id: str, issue_id: str, spans: list[Span]) -> PiiDetectionResult:
        with self._db.write() as conn:
            pseudo = self._pseudonymizer(issue_id)
            place = pseudo.placeholder
            rows = [(i, log_file_id, s.type, s.start, s.end, s.text, place(s), "pending")
                    for i, s in zip(uuid7_batch(len(spans)), spans)]
            conn.execute("DELETE FROM pii_spans WHERE log_file_id = ?", (log_file_id,))
            conn.executemany(f"INSERT INTO pii_spans({_SPAN_COLS}) VALUES (?,?,?,?,?,?,?,?)", rows)
            self._persist(conn, issue_id, pseudo)
            by_type: dict[str, int] = {}
            for s in spans:
                by_type[s.type] = by_type.get(s.type, 0) + 1
            conn.execute("UPDATE log_files SET pii_scanned_at = ?, pii_summary = ?, redacted = 0,"
                         " redacted_compressed = NULL, redacted_hash = NULL WHERE id = ?",
                         (utc_now(), to_json({"total": len(spans), "by_type": by_type}), log_file_id))
            self._wb.audit.write_audit_event("detect_pii", "log_file", log_file_id,
                                             {"issue_id": issue_id, "total_found": len(spans), "by_type": by_type})
        return PiiDetectionResult(log_file_id, [PiiSpanRecord(*r) for r in rows], len(rows), by_type)

    def list_spans(self, log_file_id: str) -> list[PiiSpanRecord]:
        """The spans under review, in text order; the first call scans the log (``detect_pii``)."""
        row = self._db.query_one("SELECT pii_scanned_at FROM log_files WHERE id = ?", (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        if row[0] is None:
            return self.detect_pii(log_file_id).spans
        return [PiiSpanRecord.from_row(r) for r in self._db.query(
            f"SELECT {_SPAN_COLS} FROM pii_spans WHERE log_file_id = ? ORDER BY start_offset", (log_file_id,))]

    def _resolve_ids(self, spans: list[PiiSpanRecord], approved_span_ids) -> set[str]:
        if approved_span_ids == "all":
            return {s.id for s in spans}
        ids = set(approved_span_ids or ())
        unknown = ids - {s.id for s in spans}
        if unknown:
            raise ValidationError(f"{len(unknown)} span id(s) do not belong to this log: {', '.join(sorted(unknown)[:3])}")
        return ids

    def preview_redaction(self, log_file_id: str, approved_span_ids="all") -> str:
        """The redacted text the approval would produce (nothing is stored)."""
        spans = self.list_spans(log_file_id)
        ids = self._resolve_ids(spans, approved_span_ids)
        return self._apply(self._text(log_file_id), [s for s in spans if s.id in ids])

    @staticmethod
    def _apply(text: str, records: list[PiiSpanRecord]) -> str:
        repl = {}
        spans = []
        for r in records:
            sp = Span(r.pii_type, r.start_offset, r.end_offset, r.original_value)
            repl[(sp.start, sp.end)] = r.replacement
            spans.append(sp)
        return redact(text, spans, lambda sp: repl[(sp.start, sp.end)])

    def apply_redactions(self, log_file_id: str, approved_span_ids="all") -> RedactedLogFile:
        """Store the redacted text derived from the approved spans; the others are rejected."""
        log = self._log(log_file_id)
        spans = self.list_spans(log_file_id)
        ids = self._resolve_ids(spans, approved_span_ids)
        text = self._text(log_file_id)
        redacted = self._apply(text, [s for s in spans if s.id in ids])
        data = redacted.encode("utf-8", "surrogateescape")
        red_hash = sha256_hex(data)
        with self._db.write() as conn:
            conn.execute("UPDATE pii_spans SET status = CASE WHEN id IN (SELECT value FROM json_each(?))"
                         " THEN 'approved' ELSE 'rejected' END WHERE log_file_id = ?",
                         (_json_list(ids), log_file_id))
            conn.execute("UPDATE log_files SET redacted = 1, redacted_compressed = ?, redacted_hash = ? WHERE id = ?",
                         (gzip_bytes(data), red_hash, log_file_id))
            self._wb.audit.write_audit_event("apply_redactions", "log_file", log_file_id, {
                "issue_id": log["issue_id"], "original_sha256": log["content_hash"],
                "original_text_sha256": sha256_hex(text.encode("utf-8", "surrogateescape")),
                "redacted_sha256": red_hash, "approved": len(ids), "rejected": len(spans) - len(ids)})
        return RedactedLogFile(log_file_id, log["content_hash"], red_hash, len(ids), len(spans) - len(ids), len(data))

    def get_redacted_content(self, log_file_id: str) -> str | None:
        """The stored redacted text, or None when the log has not been reviewed."""
        row = self._db.query_one("SELECT redacted_compressed FROM log_files WHERE id = ?", (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        if row[0] is None:
            return None
        return gunzip_guarded(bytes(row[0])).decode("utf-8", "surrogateescape")

    # -- the egress guard
    def redact_for_egress(self, issue_id: str | None, text: str) -> EgressText:
        """Redact every detected span of ``text`` with the issue's consistent placeholders.

        Every path that sends text off the machine (AI chat, log analysis, integrations, MCP tool
        arguments) calls this, or ``egress_log`` for a stored log.
        """
        if not isinstance(text, str):
            raise ValidationError("egress text must be a string")
        spans = detect(text, self.config())
        if not spans:
            return EgressText(_clean(text), sha256_hex(_clean(text)), 0, [])
        with self._db.write() as conn:
            pseudo = self._pseudonymizer(issue_id)
            out = redact(text, spans, pseudo.placeholder)
            self._persist(conn, issue_id, pseudo)
        out = _clean(out)
        return EgressText(out, sha256_hex(out), len(spans), sorted({s.type for s in spans}))

    def egress_log(self, issue_id: str, log_file_id: str) -> EgressText:
        """A stored log, cleared to leave: its reviewed redaction, else every detected span redacted."""
        log = self._log(log_file_id)
        if log["issue_id"] != issue_id:
            raise ValidationError("that log belongs to another issue")
        reviewed = self.get_redacted_content(log_file_id) if log["redacted"] else None
        if reviewed is not None:
            spans = self._db.query_one("SELECT count(*) FROM pii_spans WHERE log_file_id = ? AND status = 'approved'",
                                       (log_file_id,))[0]
            out = _clean(reviewed)
            return EgressText(out, sha256_hex(out), spans, [])
        return self.redact_for_egress(issue_id, self._text(log_file_id))


def _clean(text: str) -> str:
    """Text as it goes on the wire: undecodable bytes (kept as surrogates) become "?"."""
    return text.encode("utf-8", "replace").decode("utf-8") if not text.isascii() else text


def _json_list(ids) -> str:
    import json

    return json.dumps(sorted(ids))
