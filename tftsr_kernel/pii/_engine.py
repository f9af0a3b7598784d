"""Scanning engine: one hyperscan database of anchor patterns, Python confirmation, merging.

Why this design (measured on loghub text; see ``benchmarks/README.md``):

* Python ``re`` with the reference app's 13 regexes runs at about 1.7 MB/s: every pattern is
  tried at every position.
* google-re2 was measured at the same moment on the same 2 MB: one pass per pattern was ~21x
  faster than ``re``, one combined alternation ~54x.  That is still below the target once the
  per-match Python work is added, and an alternation reports only leftmost-first,
  non-overlapping matches, so overlapping findings of different types get lost.
* hyperscan scans all anchor patterns (~350 with the secret families) in a single pass (~400x ``re`` at the same moment;
  170-250 MB/s on one core of this VM) and reports every match, including overlapping ones.
  The Python handlers in ``rules/`` then run only where an anchor matched: octet ranges,
  Luhn, mod-97, context words, key names, value extraction.
* Start-of-match (``SOM_LEFTMOST``) is requested only where it is cheap; host names, e-mail
  and IPv6 anchors report end offsets and the handler finds the start (a SOM host-name
  pattern scanned ~4x slower).  Some anchor shapes were chosen by measurement because
  hyperscan's compiled layout is sensitive to them (see the comments in ``RULES``).
* The cyclic garbage collector is paused while scanning: hundreds of thousands of small
  tuples otherwise trigger collections that cost more than the scan.
* The compiled database is cached on disk (``$TFTSR_CACHE_DIR`` or ``~/.cache/tftsr``):
  compiling takes ~0.1 s, loading well under 1 ms.

There is no pure-``re`` fallback: hyperscan reports every end offset while ``re`` reports
non-overlapping leftmost matches, so the same handlers would not give the same spans without a
second implementation of every rule.  hyperscan is a hard dependency, and the engine fails
closed: when hyperscan cannot be imported, a database cannot be compiled or scanned, or a rule
handler raises, every call raises :class:`~tftsr_kernel.errors.EgressBlockedError` (so the
egress guard sends nothing) instead of returning fewer findings.  A cached database that does
not pass its checksum or does not load is rebuilt.

User patterns run in a second hyperscan database (``rules/custom.py``): linear time, so no
pattern can hang the scanner; patterns hyperscan cannot run are refused when saved.

Text is handed to hyperscan as one byte per character: pure-ASCII text as is, other text with
every non-ASCII character replaced by byte 0x80 (a non-word byte), so hyperscan offsets are
character offsets of the ``str`` and no offset translation is needed.  Anchors are ASCII;
handlers that extend a match (e-mail local parts, host labels) accept Unicode letters, so
``jörg@example.de`` and ``café.example.com`` are covered whole.
"""

from __future__ import annotations

import _thread
import codecs
import gc
import os
import zlib
from collections.abc import Iterable

try:
    import hyperscan
except Exception as _exc:  # noqa: BLE001 -- ImportError, or a broken shared library (OSError)
    hyperscan = None
    _HS_IMPORT_ERROR = f"hyperscan cannot be imported: {type(_exc).__name__}: {_exc}"
else:
    _HS_IMPORT_ERROR = ""

from ..errors import EgressBlockedError
from .rules import CASELESS, RULES, SOM, Rule
from .rules import custom as _custom_rules
from ._types import PRIORITY, SECRET_TYPES, DetectorConfig, Span


def _one_byte_handler(err: UnicodeEncodeError):
    return (b"\x80" * (err.end - err.start), err.end)


codecs.register_error("tftsr-pii-1byte", _one_byte_handler)


class gc_paused:
    """Pause the cyclic garbage collector: scanning allocates hundreds of thousands of small
    tuples, and the collections they trigger cost more than the scan itself."""

    __slots__ = ("was",)

    def __enter__(self):
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *_exc):
        if self.was:
            gc.enable()


def to_scan_bytes(text: str) -> bytes:
    """One byte per character of ``text`` (non-ASCII characters become 0x80)."""
    if text.isascii():
        return text.encode("ascii")
    return text.encode("ascii", "tftsr-pii-1byte")


def _hs_flags(flags: int) -> int:
    f = 0
    if flags & SOM:
        f |= hyperscan.HS_FLAG_SOM_LEFTMOST
    if flags & CASELESS:
        f |= hyperscan.HS_FLAG_CASELESS
    return f


def _cache_dir() -> str | None:
    d = os.environ.get("TFTSR_CACHE_DIR")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "tftsr")
    return d


def _compile(rules) -> "hyperscan.Database":
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(
            expressions=[r.pattern for r in rules],
            ids=list(range(len(rules))),
            elements=len(rules),
            flags=[_hs_flags(r.flags) for r in rules],
        )
    except hyperscan.error as exc:  # a bug in the built-in table, not a user error
        raise EgressBlockedError.engine_failed(f"the pattern database could not be compiled: {exc}") from None
    return db


_CACHE_MAGIC = b"TFTSR-HSDB-1\n"


def _pack(payload: bytes) -> bytes:
    return _CACHE_MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload


def _unpack(blob: bytes) -> bytes | None:
    """The serialized database in a cache file, or None when the file is not one of ours or
    its checksum does not match (truncated, overwritten, bit rot)."""
    n = len(_CACHE_MAGIC)
    if not blob.startswith(_CACHE_MAGIC) or len(blob) < n + 5:
        return None
    payload = blob[n + 4 :]
    if zlib.crc32(payload) != int.from_bytes(blob[n : n + 4], "big"):
        return None
    return payload


def _base_database(rules) -> "hyperscan.Database":
    """The compiled anchor database, from the on-disk cache when possible.

    Compiling takes about 0.1 s; loading a serialized database takes well under 1 ms, which
    matters for ``tftsr pii redact`` start-up.  The cache file name hashes the patterns, the
    hyperscan version and the machine; the file carries a CRC-32 of the database, and a file
    that fails it or does not load is recompiled and rewritten.
    """
    spec = repr(([(r.pattern, r.flags) for r in rules], hyperscan.__version__, os.uname().machine))
    key = f"{zlib.crc32(spec.encode()):08x}{len(spec):x}"
    d = _cache_dir()
    path = os.path.join(d, f"pii-{key}.hsdb") if d else None
    if path and os.path.isfile(path):
        try:
            with open(path, "rb") as fh:
                payload = _unpack(fh.read())
            if payload is not None:
                db = hyperscan.loadb(payload, hyperscan.HS_MODE_BLOCK)
                db.scratch = hyperscan.Scratch(db)
                return db
        except (OSError, hyperscan.error, TypeError, ValueError):
            pass  # rebuilt below
    db = _compile(rules)
    if path:
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(_pack(hyperscan.dumpb(db)))
            os.replace(tmp, path)
        except (OSError, hyperscan.error):
            pass  # no cache: the next process compiles again
    return db


class _Custom:
    __slots__ = ("type",)

    def __init__(self, name: str, pattern: str):
        self.type = _custom_rules.validate(name, pattern)


class Engine:
    """Compiled rules (built-in plus a config's custom patterns).  Thread-safe."""

    def __init__(self, custom_patterns: tuple[tuple[str, str], ...] = (), rules: tuple[Rule, ...] | None = None):
        if hyperscan is None:
            raise EgressBlockedError.engine_failed(_HS_IMPORT_ERROR)
        self.rules: tuple[Rule, ...] = RULES if rules is None else tuple(rules)
        self._lock = _thread.allocate_lock()
        self.customs = [_Custom(n, p) for n, p in custom_patterns]  # ValidationError first
        try:
            self.db = _base_database(self.rules)
            self.custom_db = _custom_rules.compile_database(list(custom_patterns)) if self.customs else None
        except hyperscan.error as exc:
            raise EgressBlockedError.engine_failed(f"a pattern database could not be built: {exc}") from None

    # -- raw findings ------------------------------------------------------------------------
    def scan(self, data: bytes) -> list[list]:
        """The built-in anchors' hits in ``data``: one list of ``(start, end)`` per rule."""
        buckets: list[list] = [[] for _ in self.rules]
        apps = [b.append for b in buckets]

        def on_match(i, f, t, _flags, _ctx, apps=apps):  # no context object: measured cheaper
            apps[i]((f, t))

        with self._lock:
            try:
                self.db.scan(data, match_event_handler=on_match)
            except hyperscan.error as exc:
                raise EgressBlockedError.engine_failed(f"the pattern scan failed: {exc}") from None
        return buckets

    def raw(self, text: str, data: bytes, enabled: frozenset[str] | None, buckets: list | None = None) -> list:
        """Unmerged findings ``(start, end, type)`` of ``text`` (``data``: its scan bytes).
        ``buckets``: the result of :meth:`scan` for ``data`` when it was scanned already (by a
        helper process)."""
        rules = self.rules
        if buckets is None:
            buckets = self.scan(data)
        out: list = []
        try:
            for i, hits in enumerate(buckets):
                if hits:
                    rule = rules[i]
                    if enabled is None or not enabled.isdisjoint(rule.types):
                        rule.handler(text, hits, out)
        except Exception as exc:  # noqa: BLE001 -- fail closed; the message names no text
            name = getattr(rules[i].handler, "__name__", "?")
            raise EgressBlockedError.engine_failed(f"the rule {name} raised {type(exc).__name__}") from None
        if enabled is not None:
            out = [r for r in out if r[2] in enabled]
        if self.customs:
            self._custom(text, data, enabled, out)
        return out

    def _custom(self, text: str, data: bytes, enabled, out: list) -> None:
        """User patterns: one hyperscan pass over the UTF-8 text (the same bytes as ``data``
        when the text is ASCII); the matches of each pattern are merged into spans."""
        wanted = {
            i
            for i, c in enumerate(self.customs)
            if enabled is None or "Custom" in enabled or c.type in enabled
        }
        if not wanted:
            return
        utf8 = data if text.isascii() else _custom_rules.utf8_for_scan(text)
        hits: dict[int, dict[int, int]] = {}

        def on_match(i, f, t, _flags, _ctx):
            if i in wanted:
                d = hits.get(i)
                if d is None:
                    d = hits[i] = {}
                if d.get(f, -1) < t:
                    d[f] = t

        with self._lock:
            try:
                self.custom_db.scan(utf8, match_event_handler=on_match)
            except hyperscan.error as exc:
                raise EgressBlockedError.engine_failed(f"the custom pattern scan failed: {exc}") from None
        if not hits:
            return
        if utf8 is not data:
            pos = _custom_rules.char_offsets(
                text, utf8, [x for d in hits.values() for kv in d.items() for x in kv]
            )
        else:
            pos = None
        for i, d in hits.items():
            typ = self.customs[i].type
            cs = ce = -1
            for f in sorted(d):
                t = d[f]
                if f < ce:  # overlaps the previous match: one span
                    if t > ce:
                        ce = t
                    continue
                if ce > cs:
                    out.append((cs, ce, typ) if pos is None else (pos[cs], pos[ce], typ))
                cs, ce = f, t
            if ce > cs:
                out.append((cs, ce, typ) if pos is None else (pos[cs], pos[ce], typ))

    # -- public-facing -----------------------------------------------------------------------
    def detect(self, text: str, config: DetectorConfig | None) -> list[Span]:
        enabled = config.enabled_types if config else None
        if enabled is not None:
            enabled = frozenset(enabled)
        allow = frozenset(config.allowlist) if config and config.allowlist else None
        with gc_paused():
            raw = self.raw(text, to_scan_bytes(text), enabled)
            return [Span(t, s, e, text[s:e]) for s, e, t in resolve(text, raw, allow)]


def _rank(t: str, length: int) -> tuple:
    p = PRIORITY.get(t)
    if p is None:  # a named custom pattern
        return (1, PRIORITY["Custom"], length)
    if t in SECRET_TYPES or t == "Custom":
        return (1, p, length)
    return (0, length, p)


def _isword(c: str) -> bool:
    return c.isalnum() or c == "_"


def allowed_ranges(text: str, allow: frozenset[str]) -> list[tuple[int, int]]:
    """Where allow-listed values occur in ``text`` as whole values (not inside a longer word:
    ``admin`` does not occur in ``admin123``), sorted."""
    out = []
    n = len(text)
    for v in allow:
        if not v:
            continue
        lv = len(v)
        wb, we = _isword(v[0]), _isword(v[-1])
        i = text.find(v)
        while i >= 0:
            j = i + lv
            if not (wb and i and _isword(text[i - 1])) and not (we and j < n and _isword(text[j])):
                out.append((i, j))
            i = text.find(v, i + 1)
    out.sort()
    return out


def _apply_allowlist(text: str, items: list, allow: frozenset[str]) -> list:
    """Drop findings that are an allow-listed value or lie inside one; cut findings that cross
    into one back to their part outside it (an allow-listed value is never redacted, in whole
    or in part).  A finding that holds an allowed value and more is another value: it stays."""
    items = [r for r in items if text[r[0] : r[1]] not in allow]
    ranges = allowed_ranges(text, allow)
    if not ranges or not items:
        return items
    from bisect import bisect_right

    starts = [a for a, _b in ranges]
    longest = max(map(len, allow))
    out = []
    for s, e, t in items:
        k = bisect_right(starts, e - 1) - 1  # allowed ranges starting before e
        floor = s - longest  # a range starting before this cannot reach s
        while k >= 0 and ranges[k][0] >= floor:
            a, b = ranges[k]
            k -= 1
            if b <= s:
                continue
            if a <= s and e <= b:
                s = e  # inside: dropped
                break
            if a <= s < b < e:
                s = b
            elif s < a < e <= b:
                e = a
        if e > s:
            out.append((s, e, t))
    return out


def resolve(text: str, raw: Iterable, allow: frozenset[str] | None = None) -> list[tuple]:
    """Sorted, non-overlapping ``(start, end, type)``: overlapping findings merge into one span
    covering all of them, named after the best member (credential types first, then the longest
    finding).  ``allow``: values never redacted (see :func:`_apply_allowlist`)."""
    items = [r for r in raw if r[1] > r[0]]
    if allow:
        items = _apply_allowlist(text, items, allow)
    if not items:
        return []
    items.sort()
    merged = []
    app = merged.append
    cs, ce, ct = items[0]
    best = None
    for s, e, t in items[1:]:
        if s < ce:
            if best is None:
                best = _rank(ct, ce - cs)
            r = _rank(t, e - s)
            if r > best:
                best, ct = r, t
            if e > ce:
                ce = e
        else:
            app((cs, ce, ct))
            cs, ce, ct = s, e, t
            best = None
    app((cs, ce, ct))
    return merged


_ENGINES: dict[tuple, Engine] = {}
_ENGINES_LOCK = _thread.allocate_lock()


def engine_for(config: DetectorConfig | None) -> Engine:
    key = tuple(config.custom_patterns) if config and config.custom_patterns else ()
    eng = _ENGINES.get(key)
    if eng is None:
        with _ENGINES_LOCK:
            eng = _ENGINES.get(key)
            if eng is None:
                if len(_ENGINES) > 16:
                    _ENGINES.clear()
                eng = Engine(key)
                _ENGINES[key] = eng
    return eng
