"""PII review flow over the database, and the egress guard every outgoing path must call.

- Uploads are scanned as they are stored (``summarize``: findings by type on the log row).
- ``detect_pii(log_file_id)`` stores spans in ``pii_spans`` (status ``pending``), each with the
  issue's consistent placeholder as its replacement; ``list_spans`` does it on first use.
- ``apply_redactions(log_file_id, approved_span_ids)`` marks the review, stores the redacted text
  (gzip) in the database — never next to the user's file — sets ``redacted`` and audits the
  SHA-256 of the original and of the redacted text.
- ``redact_for_egress`` / ``egress_log``: redact one text, or a stored log (its reviewed redaction,
  else every detected span).
- ``guard_outbound(issue_id, payload)``: the one door out. Every request to a provider (the whole
  message list, system prompt and history included) and every later path (integrations, MCP tool
  arguments, shell output, exports) passes it. It re-redacts every string with the current rules
  and the issue's placeholders and its known values; only inside a reviewed log's own text
  (``mark_reviewed``) do the values its reviewer rejected stay. It fails closed: if it cannot
  finish it raises :class:`EgressBlockedError` and nothing is sent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re

from .._util import sha256_hex, to_json, utc_now, uuid7, uuid7_batch
from ..attachments import decode_text, gunzip_guarded, gzip_bytes
# EgressBlockedError: one class for the whole kernel (the PII engine raises it when it cannot run)
from ..errors import EgressBlockedError, NotFoundError, TftsrError, ValidationError
from ..models import EgressText, PiiDetectionResult, PiiSpanRecord, RedactedLogFile
from . import PII_TYPES, DetectorConfig, Pseudonymizer, Span, detect, redact, restore
from ._mdview import MdView

class Outbound:
    """A payload cleared by :meth:`PiiService.guard_outbound`, exactly as it may leave.

    ``payload`` has the shape it was given (a message list, a dict, a string); ``sha256`` is the
    SHA-256 of its canonical JSON (for a message list: ``[{"role", "content"}, ...]``), which is
    what the audit log records.
    """

    __slots__ = ("issue_id", "payload", "sha256", "spans_redacted", "types", "released")

    def __init__(self, issue_id, payload, spans_redacted, types, released):
        self.issue_id = issue_id
        self.payload = payload
        self.sha256 = sha256_hex(canonical_json(payload))
        self.spans_redacted = spans_redacted
        self.types = types
        self.released = released

    @property
    def messages(self):
        return self.payload

    def intact(self) -> bool:
        """True when the payload is still what the guard cleared (nothing changed it since)."""
        return sha256_hex(canonical_json(self.payload)) == self.sha256


def _plain(value):
    """The JSON shape of a payload: a message object becomes ``{"role", "content"}``."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "role") and hasattr(value, "content"):
        out = {"role": value.role, "content": value.content}
        for extra in ("tool_calls", "tool_call_id", "name"):  # tool turns: hashed with what they carry
            if getattr(value, extra, None) is not None:
                out[extra] = _plain(getattr(value, extra))
        return out
    return value


def canonical_json(payload) -> str:
    """The canonical JSON of a payload (what ``Outbound.sha256`` hashes)."""
    return json.dumps(_plain(payload), ensure_ascii=False, separators=(",", ":"))


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

    def redacted_view(self, log_file_id: str) -> EgressText:
        """The log as someone who may not read originals sees it (viewers): its reviewed
        redaction when one was applied, else every detected span redacted (the egress guard's
        view, placeholders in place of values). Never the original text."""
        log = self._log(log_file_id)
        return self.egress_log(log["issue_id"], log_file_id)

    # -- the egress guard
    def redact_for_egress(self, issue_id: str | None, text: str) -> EgressText:
        """Redact every detected span of ``text`` with the issue's consistent placeholders.

        Every path that sends text off the machine (AI chat, log analysis, integrations, MCP tool
        arguments) calls this, or ``egress_log`` for a stored log.
        """
        if not isinstance(text, str):
            raise ValidationError("egress text must be a string")
        with _fail_closed("text"):
            spans = detect(text, self.config())
        if not spans:
            return EgressText(_clean(text), sha256_hex(_clean(text)), 0, [])
        with self._db.write() as conn:
            pseudo = self._pseudonymizer(issue_id)
            out = redact(text, spans, pseudo.placeholder)
            self._persist(conn, issue_id, pseudo)
        out = _clean(out)
        return EgressText(out, sha256_hex(out), len(spans), sorted({s.type for s in spans}))

    def released_by_log(self, issue_id: str | None) -> dict[str, frozenset[str]]:
        """``{log_file_id: values}`` a reviewer released: spans rejected in a reviewed log of the
        issue, unless the same value was approved (redacted) in any log of the issue."""
        if issue_id is None:
            return {}
        rows = self._db.query(
            "SELECT s.log_file_id, s.original_value, s.status FROM pii_spans s JOIN log_files l"
            " ON l.id = s.log_file_id WHERE l.issue_id = ? AND l.redacted = 1 AND s.status != 'pending'", (issue_id,))
        approved = {r[1] for r in rows if r[2] == "approved"}
        out: dict[str, set[str]] = {}
        for log_id, value, status in rows:
            if status == "rejected" and value not in approved:
                out.setdefault(log_id, set()).add(value)
        return {k: frozenset(v) for k, v in out.items()}

    @staticmethod
    def mark_reviewed(log_file_id: str, text: str) -> str:
        """Wrap a reviewed log's text so :meth:`guard_outbound` honours its review: the values the
        reviewer rejected in *that* log stay inside the region, and nowhere else. The markers
        never leave (the guard removes them); NUL characters in ``text`` are dropped first so
        text cannot forge a region."""
        return f"{_REGION_START}{log_file_id}\x00{text.replace(chr(0), '')}{_REGION_END}"

    def guard_outbound(self, issue_id: str | None, payload, *, markdown: bool = False) -> Outbound:
        """Clear a payload to leave the machine: the one door out (see the module docstring).

        ``payload`` is a string, a list of messages (objects with ``role``/``content`` or dicts),
        or any JSON-like structure; every string in it (dict values, message contents) is
        redacted with the current rules and the issue's consistent placeholders, then every
        value already known for the issue (``pii_pseudonyms``, six characters or more) that is
        still there as a whole token is replaced by its placeholder too, so a password found once
        in a log cannot leave later without its ``password=`` context. Only inside a region made
        by :meth:`mark_reviewed` are the values the reviewer rejected in that log left as they
        are; titles, messages, exports and every other text get no such release. Any failure
        raises :class:`EgressBlockedError`: the caller must send nothing.

        ``markdown=True`` is for Markdown built from stored fields (documents, AI drafts, report
        cells): each string is first read as a reader sees it (:class:`~._mdview.MdView`:
        backslash escapes undone), detection runs on that view and known values are matched on
        it with whitespace runs as one space (known values go first, as written and on the view);
        each finding replaces its whole escaped span, so ``abc\\~def`` never leaves half
        redacted. Then the plain pass runs on the result too.
        """
        with _fail_closed("request"):
            released_by_log = self.released_by_log(issue_id)
            config = self.config()
            with self._db.write() as conn:
                pseudo = self._pseudonymizer(issue_id)
                stats = {"spans": 0, "types": set(), "released": 0}
                known_cache: dict[tuple, _KnownValues] = {}

                def known_for(log_id, collapse_space=False):
                    key = (log_id, collapse_space, len(pseudo.mapping))  # new pseudonyms: a new index
                    if key not in known_cache:
                        known_cache[key] = _KnownValues(pseudo.mapping, released_by_log.get(log_id, frozenset()),
                                                        collapse_space=collapse_space)
                    return known_cache[key]

                def clean_markdown(text: str, log_id: str | None, released: frozenset[str]) -> str:
                    # known values first (whole values learned from raw text are the surest
                    # evidence): through the escapes with whitespace runs as one, then as written
                    # (md_text leaves a backslash before '"' as it is)
                    view = MdView(text, collapse_space=True)
                    found = known_for(log_id, True).find(view.text)
                    if found:
                        stats["spans"] += len(found)
                        text = view.replace(found)
                    text, n = known_for(log_id).replace(text)
                    stats["spans"] += n
                    view = MdView(text)
                    spans = [s for s in detect(view.text, config) if s.text not in released]
                    if spans:
                        stats["spans"] += len(spans)
                        stats["types"].update(s.type for s in spans)
                        text = view.replace([(s.start, s.end, pseudo.placeholder(s)) for s in spans])
                    return text

                def clean_part(text: str, log_id: str | None) -> str:
                    if not text:
                        return text
                    released = released_by_log.get(log_id, frozenset()) if log_id else frozenset()
                    if markdown:
                        text = clean_markdown(text, log_id, released)
                    else:  # known values first: a whole known value is surer than a rule's reading of it
                        text, n = known_for(log_id).replace(text)
                        stats["spans"] += n
                    spans = detect(text, config)
                    keep = [s for s in spans if s.text not in released]
                    stats["released"] += len(spans) - len(keep)
                    if keep:
                        stats["spans"] += len(keep)
                        stats["types"].update(s.type for s in keep)
                        text = redact(text, keep, pseudo.placeholder)
                    text, n = known_for(log_id).replace(text)
                    stats["spans"] += n
                    return text

                def clean(text: str) -> str:
                    if "\x00" not in text:
                        return _clean(clean_part(text, None))
                    parts = []
                    for segment, log_id in _regions(text):
                        parts.append(clean_part(segment.replace("\x00", ""), log_id))
                    return _clean("".join(parts))

                out = _walk(payload, clean)
                self._persist(conn, issue_id, pseudo)
        return Outbound(issue_id, out, stats["spans"], sorted(stats["types"]), stats["released"])

    def review_state(self, log_file_id: str) -> dict:
        """How a log leaves: ``state`` is ``unreviewed``, ``redacted``, ``partly_released``,
        ``released`` (every detected value rejected by the reviewer) or ``clean`` (nothing found);
        with the approved/rejected counts and a ``label`` to show wherever the log is sent."""
        log = self._log(log_file_id)
        if not log["redacted"]:
            return {"state": "unreviewed", "approved": 0, "rejected": 0,
                    "label": "PII redacted automatically, not reviewed yet"}
        counts = dict(self._db.query("SELECT status, count(*) FROM pii_spans WHERE log_file_id = ? GROUP BY status",
                                     (log_file_id,)))
        approved, rejected = counts.get("approved", 0), counts.get("rejected", 0)
        if approved == 0 and rejected == 0:
            state, label = "clean", "reviewed: no PII detected"
        elif rejected == 0:
            state, label = "redacted", f"PII redacted after review: {approved} value(s)"
        elif approved == 0:
            state, label = "released", (f"sent without redaction by the reviewer's choice: all {rejected} "
                                        "detected value(s) were rejected in review")
        else:
            state, label = "partly_released", (f"PII redacted after review: {approved} value(s); {rejected} "
                                               "value(s) sent unredacted by the reviewer's choice")
        return {"state": state, "approved": approved, "rejected": rejected, "label": label}

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


    def redact_derived(self, issue_id: str, log_file_id: str, text: str) -> EgressText:
        """Clear a text *derived from a stored log's original* (its template summary) to leave.

        Call it after :meth:`egress_log` of the same log, which learns every value detected in the
        log (its review's values, or every detected one) into the issue's pseudonyms. Then: every
        such value still in ``text`` is replaced by its placeholder, wherever it stands; a token
        holding ``<*>`` (mining masks the digits of a value, so ``key=Ab-<*>-Cd`` may hold the rest
        of a secret the rules no longer recognise) is replaced by ``[REDACTED]`` when a piece of it
        of four characters or more is part of a known value; then the rules run on the result.
        Values the reviewer released in *that* log are left (as in its raw text). Fails closed."""
        if not isinstance(text, str):
            raise ValidationError("egress text must be a string")
        log = self._log(log_file_id)
        if log["issue_id"] != issue_id:
            raise ValidationError("that log belongs to another issue")
        with _fail_closed("text"):
            released = self.released_by_log(issue_id).get(log_file_id, frozenset())
            config = self.config()
            with self._db.write() as conn:
                pseudo = self._pseudonymizer(issue_id)
                known = {v: ph for (_t, v), ph in pseudo.mapping.items() if len(v) >= 4 and v not in released}
                count = 0
                for value in sorted(known, key=len, reverse=True):
                    if value in text:
                        count += text.count(value)
                        text = text.replace(value, known[value])
                joined = "\x00".join(known)

                def piece_of_value(token: str) -> bool:
                    return any(len(p) >= 4 and p in joined for p in _PIECES.split(token.replace("<*>", " ")))

                lines = []
                for line in text.split("\n"):
                    if "<*>" in line:
                        toks = line.split(" ")
                        for i, tok in enumerate(toks):
                            if "<*>" in tok and piece_of_value(tok):
                                toks[i] = "[REDACTED]"
                                count += 1
                        line = " ".join(toks)
                    lines.append(line)
                text = "\n".join(lines)
                spans = [s for s in detect(text, config) if s.text not in released]
                types = sorted({s.type for s in spans})
                if spans:
                    text = redact(text, spans, pseudo.placeholder)
                    count += len(spans)
                self._persist(conn, issue_id, pseudo)
        out = _clean(text)
        return EgressText(out, sha256_hex(out), count, types)


@contextlib.contextmanager
def _fail_closed(what: str):
    """The guard's rule for failure, in one place: whatever goes wrong while clearing ``what``
    (an engine that cannot run, a bad rule, a bug) becomes :class:`EgressBlockedError`, so the
    caller sends nothing; an ``EgressBlockedError`` raised inside keeps its own message."""
    try:
        yield
    except EgressBlockedError:
        raise
    except TftsrError as exc:
        raise EgressBlockedError(f"the egress guard could not clear the {what} ({exc}); nothing was sent") from None
    except Exception as exc:  # fail closed whatever went wrong
        raise EgressBlockedError(f"the egress guard failed ({type(exc).__name__}: {exc}); nothing was sent") from None


#: what splits a masked token into the pieces checked against known values
_PIECES = re.compile(r"[\s=:,;\"'()\[\]{}<>/|@]+")


class _KnownValues:
    """Replace values already pseudonymised for the issue wherever they stand as a whole token.

    A multi-line value is also known line by line (each stripped line of six characters or
    more), so a secret re-flowed into Markdown or split by HTML line breaks is still found, and
    a value holding backslashes also as Markdown renders it (escapes consumed); with
    ``collapse_space`` every form is matched with its whitespace runs read as one space (for a
    :class:`MdView` that collapses them too). Indexed by their first four characters, so a scan
    costs one dict look-up per position."""

    MIN_CHARS = 6

    def __init__(self, mapping: dict, released: frozenset[str], *, collapse_space: bool = False):
        index: dict[str, list[tuple[str, str]]] = {}
        seen: set[str] = set()

        def add(form: str, placeholder: str) -> None:
            if collapse_space:
                form = " ".join(form.split())
            if len(form) >= self.MIN_CHARS and form not in seen:
                seen.add(form)
                index.setdefault(form[:4], []).append((form, placeholder))

        for (_type, value), placeholder in mapping.items():
            if len(value) < self.MIN_CHARS or value in released:
                continue
            if value.strip() == value:
                add(value, placeholder)
                if "\\" in value:  # as Markdown shows it when a template let the backslash through
                    add(MdView(value).text, placeholder)
            if "\n" in value:
                for line in value.splitlines():
                    add(line.strip(), placeholder)
        for cands in index.values():
            cands.sort(key=lambda c: -len(c[0]))
        self._index = index

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, placeholder)`` of every known value standing as a whole token, in order."""
        index = self._index
        if not index or len(text) < self.MIN_CHARS:
            return []
        found, i, end = [], 0, len(text) - 3
        while i < end:
            cands = index.get(text[i:i + 4])
            if cands:
                for value, placeholder in cands:
                    j = i + len(value)
                    if (text.startswith(value, i) and not (value[0].isalnum() and i and text[i - 1].isalnum())
                            and not (value[-1].isalnum() and j < len(text) and text[j].isalnum())):
                        found.append((i, j, placeholder))
                        i = j
                        break
                else:
                    i += 1
                continue
            i += 1
        return found

    def replace(self, text: str) -> tuple[str, int]:
        found = self.find(text)
        if not found:
            return text, 0
        out, pos = [], 0
        for i, j, placeholder in found:
            out.append(text[pos:i])
            out.append(placeholder)
            pos = j
        out.append(text[pos:])
        return "".join(out), len(found)


_REGION_START = "\x00TFTSR-REVIEWED:"
_REGION_END = "\x00TFTSR-END\x00"
_REGION_RE = re.compile("\x00TFTSR-REVIEWED:([0-9A-Za-z-]{1,64})\x00(.*?)"
                        "(?:\x00TFTSR-END\x00|(?=\x00TFTSR-REVIEWED:)|\\Z)", re.DOTALL)


def _regions(text: str):
    """(segment, log_id or None) pieces of a text holding reviewed-log regions, in order; an
    unterminated region runs to the end of the text."""
    pos = 0
    for m in _REGION_RE.finditer(text):
        if m.start() > pos:
            yield text[pos:m.start()].replace(_REGION_END, ""), None
        yield m.group(2), m.group(1)
        pos = m.end()
    if pos < len(text):
        yield text[pos:].replace(_REGION_END, ""), None


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_FLAG = re.compile(r"--?[A-Za-z][A-Za-z0-9_-]{0,63}")


def _in_context(clean, prefix: str, value: str) -> str:
    """Clear ``value`` as it would read after ``prefix`` (a key or a command-line flag), so
    ``{"DB_PASSWORD": "..."}`` and ``["--password", "..."]`` are as clear as ``DB_PASSWORD=...``."""
    cleared = clean(prefix + value)
    if cleared.startswith(prefix):
        return cleared[len(prefix):]
    return clean(value)  # the key itself was redacted: clear the value on its own


def _walk_list(items, clean):
    out, prev = [], None
    for v in items:
        if isinstance(v, str) and isinstance(prev, str) and _FLAG.fullmatch(prev):
            out.append(_in_context(clean, prev + " ", v) if v else v)
        else:
            out.append(_walk(v, clean))
        prev = v
    return out


def _walk(value, clean):
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return _walk_list(value, clean)
    if isinstance(value, tuple):
        return tuple(_walk_list(value, clean))
    if isinstance(value, dict):
        return {k: (_in_context(clean, f"{k}=", v) if isinstance(v, str) and v and isinstance(k, str)
                    and _NAME.fullmatch(k) and k not in ("role", "content") else _walk(v, clean))
                for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and hasattr(value, "content"):
        extra = {f: _walk(getattr(value, f), clean) for f in ("tool_calls",)  # a tool call's arguments too
                 if getattr(value, f, None) is not None}
        return dataclasses.replace(value, content=_walk(value.content, clean), **extra)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise ValidationError(f"cannot clear a {type(value).__name__} for egress; send text, lists or dicts")


def _clean(text: str) -> str:
    """Text as it goes on the wire: undecodable bytes (kept as surrogates) become "?"."""
    return text.encode("utf-8", "replace").decode("utf-8") if not text.isascii() else text


def _json_list(ids) -> str:
    import json

    return json.dumps(sorted(ids))
