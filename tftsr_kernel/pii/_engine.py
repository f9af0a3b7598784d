"""Scanning engine: one hyperscan database of anchor patterns, Python confirmation, merging.

Why this design (measured on loghub text; see ``benchmarks/README.md``):

* Python ``re`` with the reference app's 13 regexes runs at about 1.7 MB/s: every pattern is
  tried at every position.
* google-re2 was measured at the same moment on the same 2 MB: one pass per pattern was ~21x
  faster than ``re``, one combined alternation ~54x.  That is still below the target once the
  per-match Python work is added, and an alternation reports only leftmost-first,
  non-overlapping matches, so overlapping findings of different types get lost.
* hyperscan scans all ~30 anchor patterns in a single pass (~400x ``re`` at the same moment;
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
second implementation of every rule.  hyperscan is a hard dependency.

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
import re
import zlib
from collections.abc import Iterable

import hyperscan

from ..errors import PiiError, ValidationError
from .rules import CASELESS, RULES, SOM, Rule
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
        raise PiiError(f"the PII pattern database could not be compiled: {exc}")
    return db


def _base_database(rules) -> "hyperscan.Database":
    """The compiled anchor database, from the on-disk cache when possible.

    Compiling takes about 0.1 s; loading a serialized database takes well under 1 ms, which
    matters for ``tftsr pii redact`` start-up.  The cache file name hashes the patterns, the
    hyperscan version and the machine, and a file that does not load is simply recompiled.
    """
    spec = repr(([(r.pattern, r.flags) for r in rules], hyperscan.__version__, os.uname().machine))
    key = f"{zlib.crc32(spec.encode()):08x}{len(spec):x}"
    d = _cache_dir()
    path = os.path.join(d, f"pii-{key}.hsdb") if d else None
    if path and os.path.isfile(path):
        try:
            with open(path, "rb") as fh:
                db = hyperscan.loadb(fh.read(), hyperscan.HS_MODE_BLOCK)
            db.scratch = hyperscan.Scratch(db)
            return db
        except (OSError, hyperscan.error, TypeError, ValueError):
            pass
    db = _compile(rules)
    if path:
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(hyperscan.dumpb(db))
            os.replace(tmp, path)
        except OSError:
            pass
    return db


class _Custom:
    __slots__ = ("type", "rx", "hs_ok")

    def __init__(self, name: str, pattern: str):
        self.type = name or "Custom"
        try:
            self.rx = re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            raise ValidationError(f"custom PII pattern {self.type!r} is not a valid regex: {exc}")
        self.hs_ok = False


def _on_match(i, f, t, _flags, apps):
    apps[i]((f, t))


class Engine:
    """Compiled rules (built-in plus a config's custom patterns).  Thread-safe."""

    def __init__(self, custom_patterns: tuple[tuple[str, str], ...] = ()):
        self.rules: tuple[Rule, ...] = RULES
        self._lock = _thread.allocate_lock()
        self.db = _base_database(self.rules)
        self.customs = [_Custom(n, p) for n, p in custom_patterns]
        self.custom_db = None
        hs_customs = []
        for i, c in enumerate(self.customs):
            pat = c.rx.pattern
            if not pat.isascii():
                continue  # hyperscan sees non-ASCII characters as 0x80: Python scans these
            probe = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            try:
                probe.compile(
                    expressions=[pat.encode()],
                    ids=[i],
                    elements=1,
                    flags=hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY,
                )
            except hyperscan.error:
                continue
            c.hs_ok = True
            hs_customs.append((i, pat.encode()))
        if hs_customs:
            self.custom_db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self.custom_db.compile(
                expressions=[p for _, p in hs_customs],
                ids=[i for i, _ in hs_customs],
                elements=len(hs_customs),
                flags=hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY,
            )

    # -- raw findings ------------------------------------------------------------------------
    def scan(self, data: bytes) -> list[list]:
        """The built-in anchors' hits in ``data``: one list of ``(start, end)`` per rule."""
        buckets: list[list] = [[] for _ in self.rules]
        apps = [b.append for b in buckets]
        with self._lock:
            try:
                self.db.scan(data, match_event_handler=_on_match, context=apps)
            except hyperscan.error as exc:
                raise PiiError(f"PII scan failed: {exc}")
        return buckets

    def raw(self, text: str, data: bytes, enabled: frozenset[str] | None, buckets: list | None = None) -> list:
        """Unmerged findings ``(start, end, type)`` of ``text`` (``data``: its scan bytes).
        ``buckets``: the result of :meth:`scan` for ``data`` when it was scanned already (by a
        helper process)."""
        rules = self.rules
        if buckets is None:
            buckets = self.scan(data)
        out: list = []
        for i, hits in enumerate(buckets):
            if hits:
                rule = rules[i]
                if enabled is None or not enabled.isdisjoint(rule.types):
                    rule.handler(text, hits, out)
        if enabled is not None:
            out = [r for r in out if r[2] in enabled]
        if self.customs:
            self._custom(text, data, enabled, out)
        return out

    def _custom(self, text: str, data: bytes, enabled, out: list) -> None:
        wanted = [
            c
            for c in self.customs
            if enabled is None or "Custom" in enabled or c.type in enabled
        ]
        if not wanted:
            return
        lines: dict[int, set] = {}
        if self.custom_db is not None and any(c.hs_ok for c in wanted):

            def on_match(i, f, t, _flags, _ctx):
                lines.setdefault(i, set()).add(t)

            with self._lock:
                self.custom_db.scan(data, match_event_handler=on_match)
        for i, c in enumerate(self.customs):
            if c not in wanted:
                continue
            if c.hs_ok:
                bounds = set()
                for t in lines.get(i, ()):
                    ls = text.rfind("\n", 0, t) + 1
                    if t > ls and text[t - 1] == "\n":
                        ls = text.rfind("\n", 0, t - 1) + 1
                    le = text.find("\n", t)
                    bounds.add((ls, len(text) if le < 0 else le))
                for ls, le in sorted(bounds):
                    for m in c.rx.finditer(text, ls, le):
                        if m.end() > m.start():
                            out.append((m.start(), m.end(), c.type))
            else:
                for m in c.rx.finditer(text):
                    if m.end() > m.start():
                        out.append((m.start(), m.end(), c.type))

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


def resolve(text: str, raw: Iterable, allow: frozenset[str] | None = None) -> list[tuple]:
    """Sorted, non-overlapping ``(start, end, type)``: overlapping findings merge into one span
    covering all of them, named after the best member (credential types first, then the longest
    finding)."""
    items = [r for r in raw if r[1] > r[0]]
    if allow:
        items = [r for r in items if text[r[0] : r[1]] not in allow]
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
