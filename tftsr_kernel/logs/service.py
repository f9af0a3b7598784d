"""``wb.logs``: the templates of a stored log, mined on first request and kept in the database.

Mining reads the log's gzip from its row and decompresses it in pieces (with the same bomb guard
as every read), so memory stays near the size of the log rather than several copies of it. The
result (templates with counts, first/last seen and per-minute counts, the template of each line,
bursts) is stored in ``log_template_sets`` / ``log_templates`` (migration 033) and read back on
later calls; deleting the log deletes them. Uploads are not slowed down: nothing is mined until a
panel, the CLI or the AI context asks.
"""

from __future__ import annotations

import codecs
import json
import sys
import zlib
from array import array
from collections.abc import Iterator

from .._util import utc_now
from ..attachments import MAX_DECOMPRESSED_BYTES
from ..errors import DecompressionBombError, NotFoundError, ValidationError
from .errors import LogTemplatesError
from .mine import Burst, Template, TemplateSet, mine_lines
from .summary import summarize_templates

#: bump when the miner's output changes; stored results of older versions are recomputed
MINER_VERSION = 1
_CHUNK = 1 << 20


def iter_gzip_lines(blob: bytes, encoding: str, limit: int = MAX_DECOMPRESSED_BYTES) -> Iterator[str]:
    """The lines (without line endings) of gzip ``blob`` decoded as ``encoding``, decompressed a
    piece at a time; raises :class:`DecompressionBombError` beyond ``limit`` bytes."""
    dec = zlib.decompressobj(31)
    enc = "utf-16" if encoding == "utf-16" else ("utf-8-sig" if encoding == "utf-8-sig" else "utf-8")
    text_dec = codecs.getincrementaldecoder(enc)("strict" if enc == "utf-16" else "surrogateescape")
    total = 0
    rest = ""
    view = memoryview(blob)
    pos = 0
    try:
        while True:
            if dec.unconsumed_tail:
                data = dec.decompress(dec.unconsumed_tail, _CHUNK)
            elif pos < len(view):
                data = dec.decompress(view[pos: pos + _CHUNK], _CHUNK)
                pos += _CHUNK
            else:
                data = b""
            if not data:
                if dec.eof or (pos >= len(view) and not dec.unconsumed_tail):
                    break
                continue
            total += len(data)
            if total > limit:
                raise DecompressionBombError(
                    f"stored content expands beyond {limit // (1024 * 1024)} MB; refused (possible decompression bomb)")
            text = rest + text_dec.decode(data)
            parts = text.split("\n")
            rest = parts.pop()
            for p in parts:
                yield p[:-1] if p.endswith("\r") else p
    except zlib.error as exc:
        raise DecompressionBombError(f"stored content is damaged and cannot be decompressed ({exc})") from None
    except UnicodeDecodeError:
        raise LogTemplatesError("the stored log is not valid UTF-16 text") from None
    if not dec.eof:
        raise DecompressionBombError("stored content is truncated and cannot be decompressed")
    rest += text_dec.decode(b"", final=True)
    if rest:
        yield rest[:-1] if rest.endswith("\r") else rest


def _pack_ids(ids: array) -> bytes:
    if sys.byteorder != "little":
        ids = array("i", ids)
        ids.byteswap()
    return zlib.compress(ids.tobytes(), 1)


def _unpack_ids(blob: bytes) -> array:
    ids = array("i")
    ids.frombytes(zlib.decompress(blob))
    if sys.byteorder != "little":
        ids.byteswap()
    return ids


class LogTemplateService:
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db

    def get_log_templates(self, log_file_id: str, *, recompute: bool = False) -> TemplateSet:
        """The templates of a log: read from the store, or mined now (and stored) the first time."""
        if not recompute:
            stored = self._load(log_file_id)
            if stored is not None:
                return stored
        return self.mine_log_templates(log_file_id)

    def has_log_templates(self, log_file_id: str) -> bool:
        """Whether the templates of a log are stored already (so reading them costs no mining)."""
        row = self._db.query_one("SELECT miner_version FROM log_template_sets WHERE log_file_id = ?", (log_file_id,))
        return row is not None and row["miner_version"] == MINER_VERSION

    def mine_log_templates(self, log_file_id: str) -> TemplateSet:
        row = self._db.query_one(
            "SELECT content_compressed, text_encoding, uploaded_at, issue_id FROM log_files WHERE id = ?",
            (log_file_id,))
        if row is None:
            raise NotFoundError(f"log file {log_file_id} not found")
        if row["content_compressed"] is None:
            raise NotFoundError(f"log file {log_file_id} has no stored content")
        year = int(row["uploaded_at"][:4]) if row["uploaded_at"] else None
        result = mine_lines(iter_gzip_lines(bytes(row["content_compressed"]), row["text_encoding"]), year=year)
        self._store(log_file_id, row["issue_id"], result)
        return result

    def _store(self, log_file_id: str, issue_id: str, ts: TemplateSet) -> None:
        rows = [(log_file_id, t.id, t.template, t.count, t.first_seen, t.last_seen,
                 json.dumps(sorted(t.minute_counts.items()), separators=(",", ":"))) for t in ts.templates]
        with self._db.write() as conn:
            if not conn.execute("SELECT 1 FROM log_files WHERE id = ?", (log_file_id,)).fetchone():
                raise NotFoundError(f"log file {log_file_id} was deleted while its templates were mined")
            conn.execute("DELETE FROM log_template_sets WHERE log_file_id = ?", (log_file_id,))
            conn.execute(
                "INSERT INTO log_template_sets(log_file_id, miner_version, computed_at, line_count, template_count,"
                " timestamp_format, first_seen, last_seen, bursts, line_templates) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (log_file_id, MINER_VERSION, utc_now(), ts.lines, len(ts.templates), ts.timestamp_format,
                 ts.first_seen, ts.last_seen, json.dumps([b.to_dict() for b in ts.bursts]),
                 _pack_ids(ts.line_templates)))
            conn.executemany(
                "INSERT INTO log_templates(log_file_id, template_id, template, count, first_seen, last_seen,"
                " minute_counts) VALUES (?,?,?,?,?,?,?)", rows)
            self._wb.audit.write_audit_event("mine_log_templates", "log_file", log_file_id,
                                             {"issue_id": issue_id, "templates": len(ts.templates),
                                              "lines": ts.lines})

    def _load(self, log_file_id: str) -> TemplateSet | None:
        head = self._db.query_one(
            "SELECT miner_version, line_count, timestamp_format, first_seen, last_seen, bursts, line_templates"
            " FROM log_template_sets WHERE log_file_id = ?", (log_file_id,))
        if head is None or head["miner_version"] != MINER_VERSION:
            return None
        try:
            ids = _unpack_ids(bytes(head["line_templates"]))
            bursts = [Burst(**b) for b in json.loads(head["bursts"])]
            templates = [Template(r["template_id"], r["template"], r["count"], r["first_seen"], r["last_seen"],
                                  {int(m): int(c) for m, c in json.loads(r["minute_counts"])})
                         for r in self._db.query(
                             "SELECT template_id, template, count, first_seen, last_seen, minute_counts"
                             " FROM log_templates WHERE log_file_id = ? ORDER BY template_id", (log_file_id,))]
        except (zlib.error, ValueError, TypeError, KeyError):
            return None  # a damaged stored result is mined again
        return TemplateSet(templates, ids, bursts, head["timestamp_format"], head["line_count"],
                           head["first_seen"], head["last_seen"])

    def template_summary(self, log_file_id: str, top: int = 40, max_chars: int = 6000) -> str:
        """A compact text of a log's templates for the model (see :mod:`.summary`): a header that
        says it is templates, not raw lines, the bursts, then the most frequent templates with
        counts and first/last seen, within ``max_chars``. Built from the original text: the caller
        clears it through the egress guard (``wb.pii.redact_derived``) before it leaves."""
        if top < 1:
            raise ValidationError("top must be at least 1")
        if max_chars < 1000:
            raise ValidationError("a template summary needs at least 1,000 characters")
        return summarize_templates(self.get_log_templates(log_file_id), top=top, max_chars=max_chars)
