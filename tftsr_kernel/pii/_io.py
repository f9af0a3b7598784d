"""Lossless decoding and chunked (memory-bounded) scanning and redaction of files.

Why one module past 700 lines: the chunk windows (look-ahead, look-behind, line-end cuts), the
forked scan helper that runs the hyperscan pass over those same windows and the in-process
fallback after the helper dies share one piece of offset arithmetic; split across files, a
change to the window on one side would silently break the byte-identical output of the other.

A file is cut into chunks of about ``chunk_size`` bytes, at line ends when possible.  Each
chunk is scanned in a *window*: the chunk plus ``margin`` bytes of look-ahead and ``BACK``
bytes of look-behind, so a finding that straddles a chunk boundary is seen whole.  A finding
belongs to the chunk in which it starts; output of the next chunk resumes after the end of the
last finding written, so a straddling finding is replaced once and completely.  A private key
block still open at the end of a chunk makes the window grow (up to ``PEM_LIMIT``) until its
END line is in view.  Memory is a few chunks, whatever the file size.

With ``workers > 1`` (Linux) a forked helper process does whole chunks (the hyperscan pass, the
rule handlers, merging and cutting) from the end of the file backwards while this process does
them forwards; this process alone gives out the placeholders and writes, in file order
(:class:`_ScanHelper`); results are identical to ``workers=1``.
UTF-16 files (BOM) take a sequential path over decoded text with the same windowing.
"""

from __future__ import annotations

import codecs
import gc
import os
import sys
from bisect import bisect_left, bisect_right
from itertools import compress
from operator import gt
from collections.abc import Callable, Iterator
from io import BufferedIOBase as BinaryIO

from ..errors import PiiError
from ._engine import _rank, engine_for, gc_paused, resolve, to_scan_bytes
from ._redact import Pseudonymizer, type_token
from .rules import PEM_LIMIT
from ._types import DetectorConfig, RedactStats, Span

CHUNK_SIZE = 2 * 1024 * 1024
MARGIN = 16 * 1024
BACK = 1024

Progress = Callable[[int, int], None]


def _codec_for(head: bytes) -> tuple[str, str]:
    """UTF-16 when the data starts with a UTF-16 BOM and looks like UTF-16 (text in UTF-16 has
    NUL bytes); UTF-8 otherwise.  ``head``: the first 64 bytes or more."""
    if b"\x00" in head[2:64] and not head.startswith(codecs.BOM_UTF32_LE):
        if head.startswith(codecs.BOM_UTF16_LE):
            return "utf-16-le", "surrogatepass"
        if head.startswith(codecs.BOM_UTF16_BE):
            return "utf-16-be", "surrogatepass"
    return "utf-8", "surrogateescape"


def decode_bytes(data: bytes) -> str:
    """Decode without loss: UTF-8 with ``surrogateescape`` (undecodable bytes survive as lone
    surrogates, a BOM stays as U+FEFF), so ``text.encode("utf-8", "surrogateescape") == data``.
    Data starting with a UTF-16 BOM is decoded as UTF-16 (BOM kept)."""
    codec, errors = _codec_for(data[:64])
    if codec != "utf-8":
        try:
            return data.decode(codec, errors)
        except UnicodeDecodeError:
            pass
    return data.decode("utf-8", "surrogateescape")


def encode_text(text: str, codec: str = "utf-8") -> bytes:
    """Inverse of :func:`decode_bytes` for the given codec."""
    return text.encode(codec, "surrogateescape" if codec == "utf-8" else "surrogatepass")


def _open(path) -> tuple[BinaryIO, int]:
    try:
        f = open(path, "rb")
        size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise PiiError(f"cannot read {os.fspath(path)!s}: {exc.strerror or exc}") from None
    return f, size


def _text_windows(
    f: BinaryIO,
    size: int,
    config: DetectorConfig | None,
    progress: Progress | None,
    chunk_size: int,
    margin: int,
):
    """Yield ``(buf, base, w0, w1, spans)``: the window text ``buf`` starting at global offset
    ``base``; the consumer owns global range ``[w0, w1)``; ``spans`` are the merged findings in
    it as ``(start, end, type)`` with global offsets."""
    if chunk_size < 1 or margin < 0:
        raise PiiError("chunk size must be positive")
    eng = engine_for(config)
    enabled = frozenset(config.enabled_types) if config and config.enabled_types is not None else None
    allow = frozenset(config.allowlist) if config and config.allowlist else None
    head = f.read(64)
    codec, errors = _codec_for(head)
    dec = codecs.getincrementaldecoder(codec)(errors)
    buf = dec.decode(head) if head else ""
    done = len(head)
    eof = not head
    if eof:
        buf += dec.decode(b"", final=True)
    base = 0
    w0 = 0
    extra = 0
    while True:
        need = w0 + chunk_size + margin + extra
        while not eof and base + len(buf) < need:
            try:
                data = f.read(max(need - base - len(buf), 1 << 16))
            except OSError as exc:
                raise PiiError(f"reading the file failed: {exc.strerror or exc}") from None
            if not data:
                buf += dec.decode(b"", final=True)
                eof = True
            else:
                done += len(data)
                buf += dec.decode(data)
        end = base + len(buf)
        if eof:
            cut = end
        else:
            target = min(w0 + chunk_size, end)
            j = buf.rfind("\n", w0 - base, target - base)
            cut = base + j + 1 if j >= 0 else target
            # a private key block open at the cut: grow the window until its END is in view
            k = buf.rfind("-----BEGIN", max(0, w0 - base - 100), cut - base + 9)
            if k >= 0 and "PRIVATE KEY" in buf[k : k + 80] and buf.find("-----END", k) < 0:
                if extra < PEM_LIMIT + margin:
                    extra += 1 << 16
                    continue
        extra = 0
        with gc_paused():
            raw = eng.raw(buf, to_scan_bytes(buf), enabled)
        spans = []
        w1 = cut
        for s, e, t in resolve(buf, raw, allow):
            s += base
            e += base
            if e <= w0 or s >= cut:
                continue
            if s < w0:
                s = w0
            spans.append((s, e, t))
            if e > w1:
                w1 = e
        if w1 > end:
            w1 = end
        if progress is not None:
            progress(done, size)
        yield buf, base, w0, w1, spans, codec, errors
        if w1 >= end and eof:
            return
        w0 = w1
        keep = max(0, w0 - BACK - base)
        if keep:
            buf = buf[keep:]
            base += keep



# --- UTF-8 byte-chunk path ---------------------------------------------------------------------
def _cuts(f: BinaryIO, size: int, chunk_size: int):
    """Byte ranges ``(a, b)`` covering the file, cut after a newline when there is one."""
    a = 0
    while a < size:
        target = a + chunk_size
        if target >= size:
            yield a, size
            return
        lo = max(a, target - MARGIN)
        f.seek(lo)
        blk = f.read(target + 1 - lo)
        j = blk.rfind(b"\n", 0, target - lo)
        if j >= 0:
            b = lo + j + 1
        else:  # no line end near: cut at a character boundary
            k = target - lo
            while k > max(1, a + 1 - lo) and 0x80 <= blk[k] < 0xC0:
                k -= 1
            b = lo + k
        if b <= a:
            b = target
        yield a, b
        a = b


def _read_at(f: BinaryIO, a: int, n: int) -> bytes:
    f.seek(a)
    return f.read(n)


def _decode_window(raw: bytes) -> tuple[str, bytes, bool]:
    if raw.isascii():
        return raw.decode("ascii"), raw, True
    text = raw.decode("utf-8", "surrogateescape")
    return text, to_scan_bytes(text), False


def _window(f: BinaryIO, size: int, a: int, b: int, margin: int):
    """The scan window of chunk ``[a, b)`` of a UTF-8 file: ``(wa, raw, text, data, ascii_, ca,
    cb)``: its bytes ``raw`` starting at global byte ``wa``, their text and scan bytes, whether
    they are pure ASCII, and the chunk's character range ``[ca, cb)`` in ``text``.  The window
    grows while a private key block is open at the chunk's end."""
    wa = max(0, a - BACK)
    wb = min(size, b + margin)
    grown = 0
    while True:
        raw = _read_at(f, wa, wb - wa)
        skip = 0
        while skip < a - wa and 0x80 <= raw[skip] < 0xC0:
            skip += 1  # start the look-behind on a character boundary
        if skip:
            raw = raw[skip:]
            wa += skip
        text, data, ascii_ = _decode_window(raw)
        if ascii_:
            ca, cb = a - wa, b - wa
        else:
            ca = len(raw[: a - wa].decode("utf-8", "surrogateescape"))
            cb = ca + len(raw[a - wa : b - wa].decode("utf-8", "surrogateescape"))
        k = text.rfind("-----BEGIN", max(0, ca - 100), cb + 9)  # a marker starting before cb
        if (
            k >= 0
            and wb < size
            and grown < PEM_LIMIT
            and "PRIVATE KEY" in text[k : k + 80]
            and text.find("-----END", k) < 0
        ):
            grown += PEM_LIMIT
            wb = min(size, wb + PEM_LIMIT)
            continue
        return wa, raw, text, data, ascii_, ca, cb


def _detect_range(
    f: BinaryIO, size: int, a: int, b: int, config, margin: int, fuse: bool = False, hits: list | None = None
):
    """Findings of chunk ``[a, b)`` of a UTF-8 file.

    Returns ``(nchars, merged, text, raw, wa, ca, cb, ascii_)``: the number of characters in
    the chunk, the merged findings of the whole window (offsets into ``text``), the window's
    text and bytes (``raw`` starts at global byte ``wa``), the chunk's character range
    ``[ca, cb)`` in ``text`` and whether the window is pure ASCII.  With ``fuse`` and an ASCII
    window without allow-list, the findings are returned unmerged (the caller merges).
    ``hits``: the anchor hits of this chunk's window when a helper process scanned it.
    """
    eng = engine_for(config)
    enabled = frozenset(config.enabled_types) if config and config.enabled_types is not None else None
    allow = frozenset(config.allowlist) if config and config.allowlist else None
    wa, raw, text, data, ascii_, ca, cb = _window(f, size, a, b, margin)
    found = eng.raw(text, data, enabled, hits)
    if fuse and ascii_ and not allow:
        return cb - ca, found, text, raw, wa, ca, cb, ascii_
    return cb - ca, resolve(text, found, allow), text, raw, wa, ca, cb, ascii_


def _byte_spans(merged, text: str, wa: int, ca: int, cb: int, ascii_: bool) -> list:
    """``(byte_start, byte_end, type, value, char_start, char_end)`` of the findings that end
    after ``ca`` and start before ``cb``; bytes global, characters relative to ``ca``."""
    out = []
    if ascii_:
        for s, e, t in merged:
            if e > ca and s < cb:
                out.append((wa + s, wa + e, t, text[s:e], s - ca, e - ca))
    else:
        pos_c, pos_b = 0, wa
        for s, e, t in merged:
            if e > ca and s < cb:
                pos_b += len(text[pos_c:s].encode("utf-8", "surrogateescape"))
                bs = pos_b
                pos_b += len(text[s:e].encode("utf-8", "surrogateescape"))
                pos_c = e
                out.append((bs, pos_b, t, text[s:e], s - ca, e - ca))
    return out


def _merge_groups(found: list, bad: list) -> list:
    """``found`` sorted; ``bad``: indices i where found[i] overlaps found[i + 1].  Returns the
    list with each run of overlapping findings merged into one (as :func:`resolve` does)."""
    out = []
    n = len(found)
    prev = 0
    j = 0
    nb = len(bad)
    while j < nb:
        k = bad[j]
        out.extend(found[prev:k])
        cs, ce, ct = found[k]
        best = _rank(ct, ce - cs)
        m = k + 1
        while m < n and found[m][0] < ce:
            s, e, t = found[m]
            r = _rank(t, e - s)
            if r > best:
                best, ct = r, t
            if e > ce:
                ce = e
            m += 1
        out.append((cs, ce, ct))
        prev = m
        while j < nb and bad[j] < m:
            j += 1
    out.extend(found[prev:])
    return out


def _redact_range(f: BinaryIO, size: int, a: int, b: int, config, margin: int, hits: list | None = None):
    """Chunk ``[a, b)`` prepared for output: ``(nchars, end, segs, keys, counts)`` where the
    output is ``segs[0] + R(keys[0]) + segs[1] + ... + segs[-1]`` covering bytes ``[a, end)``.
    ``segs`` is None when the first finding starts before ``a`` (the caller then re-does the
    chunk with :func:`_detect_range`)."""
    nchars, found, text, raw, wa, ca, cb, ascii_ = _detect_range(f, size, a, b, config, margin, True, hits)
    segs = []
    keys = []
    counts: dict[str, int] = {}
    sapp = segs.append
    kapp = keys.append
    if ascii_ and not (config and config.allowlist):
        # character offsets are byte offsets here
        if not found:
            sapp(raw[ca : b - wa])
            return nchars, b, segs, keys, counts
        found.sort()
        starts = [r[0] for r in found]
        ends = [r[1] for r in found]
        bad = list(compress(range(len(found)), map(gt, ends, starts[1:])))
        if bad:  # merge the few overlapping groups, keep the rest as is
            found = _merge_groups(found, bad)
            starts = [r[0] for r in found]
            ends = [r[1] for r in found]
        # cut with comprehensions: findings are sorted and non-overlapping now
        lo = bisect_right(ends, ca)
        hi = bisect_left(starts, cb)
        if lo < hi and starts[lo] < ca:
            return nchars, b, None, None, None
        sel = found[lo:hi]
        if not sel:
            sapp(raw[ca : b - wa])
            return nchars, b, segs, keys, counts
        tail = ends[hi - 1] if ends[hi - 1] > b - wa else b - wa
        segs = [raw[x:y] for x, y in zip([ca] + ends[lo:hi], starts[lo:hi] + [tail])]
        keys = [(t, text[x:y]) for x, y, t in sel]
        types = [k[0] for k in keys]  # a few distinct types: list.count beats Counter 4x
        return nchars, wa + tail, segs, keys, {t: types.count(t) for t in set(types)}
    merged = found
    spans = _byte_spans(merged, text, wa, ca, cb, ascii_)
    if spans and spans[0][0] < a:
        return nchars, b, None, None, None
    pos = a - wa
    for bs, be, t, value, _cs, _ce in spans:
        sapp(raw[pos : bs - wa])
        kapp((t, value))
        counts[t] = counts.get(t, 0) + 1
        pos = be - wa
    end = wa + pos if wa + pos > b else b
    sapp(raw[pos : end - wa])
    return nchars, end, segs, keys, counts


def _scan_only(f, size, a, b, config, margin, hits=None):
    nchars, merged, text, _raw, wa, ca, cb, ascii_ = _detect_range(f, size, a, b, config, margin, False, hits)
    return nchars, _byte_spans(merged, text, wa, ca, cb, ascii_)


class _ScanHelper:
    """A forked helper process that does whole chunks, ``fn(f, size, a, b, config, margin)``
    (:func:`_redact_range`: scan, rule handlers, merge and cut; or :func:`_scan_only`), *from the
    end of the file backwards*, while this process works forwards, doing a chunk itself unless
    the helper has already delivered it.  The two meet somewhere in the file; nobody ever waits
    for the other (under load, every hand-off of a lock-step pipeline cost a scheduling delay),
    and the split adapts to how much CPU each process gets.  What depends on order (the
    placeholders' numbering, the output) stays in this process.

    The helper writes each chunk's result, pickled, into a memfd (an anonymous file in memory:
    the results hold the values found, which must not reach a disk; ``pwrite``: no shared file
    offset) and then announces ``(chunk, offset, length)`` on a
    pipe; it stops when it reaches a chunk this process has started (a shared counter).
    Results never depend on the helper: if it fails or is killed, :meth:`result` returns None
    and this process does the chunk."""

    _REC = 24  # three unsigned 64-bit integers per announcement

    def __init__(self, path, size: int, cuts: list, margin: int, fn, config) -> None:
        import mmap
        import pickle
        import struct
        import tempfile

        self._pickle = pickle
        self._struct = struct
        # the chunks' results hold the values found (secrets): keep them in memory, never on a
        # disk (a memfd is an anonymous RAM file both processes share; a temporary file only
        # where memfd does not exist)
        if hasattr(os, "memfd_create"):
            self._store = open(os.memfd_create("tftsr-pii-chunks", getattr(os, "MFD_CLOEXEC", 0)), "r+b",
                               buffering=0)
        else:  # pragma: no cover - Linux without memfd
            self._store = tempfile.TemporaryFile(prefix="tftsr-pii-chunks-")
        self._pos = mmap.mmap(-1, 8)  # shared: the chunk this process works on
        self._pos[:8] = struct.pack("q", -1)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper: never returns
            code = 1
            try:
                os.close(r)
                # hold no end of the command's stdin/stdout pipes: readers see EOF when it ends
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 0)
                os.dup2(null, 1)
                gc.disable()
                fd = self._store.fileno()
                off = 0
                dump = pickle.dumps
                with open(path, "rb") as f:
                    for i in range(len(cuts) - 1, -1, -1):
                        if struct.unpack("q", self._pos[:8])[0] >= i:
                            break  # this process got here first
                        a, b = cuts[i]
                        blob = dump(fn(f, size, a, b, config, margin), pickle.HIGHEST_PROTOCOL)
                        os.pwrite(fd, blob, off)
                        os.write(w, struct.pack("QQQ", i, off, len(blob)))
                        off += len(blob)
                code = 0
            except BaseException:  # noqa: BLE001 -- the parent scans what is missing itself
                pass
            finally:
                os._exit(code)
        os.close(w)
        os.set_blocking(r, False)
        self.pid = pid
        self._r = r
        self._buf = b""
        self._ready: dict[int, tuple[int, int]] = {}
        self.delivered = 0  # chunks the helper did

    def _drain(self) -> None:
        if self._r < 0:
            return
        while True:
            try:
                data = os.read(self._r, 1 << 16)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:  # the helper finished (or died): nothing more will come
                os.close(self._r)
                self._r = -1
                break
            self._buf += data
        n = len(self._buf) // self._REC * self._REC
        for k in range(0, n, self._REC):
            i, off, ln = self._struct.unpack_from("QQQ", self._buf, k)
            self._ready[i] = (off, ln)
        self._buf = self._buf[n:]

    def result(self, i: int):
        """Chunk ``i``'s result if the helper has it, else None (the caller does the chunk).
        Tells the helper that this process is at chunk ``i``."""
        self._pos[:8] = self._struct.pack("q", i)
        self._drain()
        got = self._ready.pop(i, None)
        if got is None:
            return None
        off, ln = got
        try:
            res = self._pickle.loads(os.pread(self._store.fileno(), ln, off))
        except Exception:  # noqa: BLE001 -- a truncated record: do it here
            return None
        self.delivered += 1
        return res

    def close(self) -> None:
        if self._r >= 0:
            os.close(self._r)
            self._r = -1
        if self.pid:
            try:
                os.kill(self.pid, 15)
            except OSError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = 0
        self._store.close()
        self._pos.close()


def auto_workers(path) -> int:
    """Workers for :func:`redact_file` / :func:`scan_file` of the file at ``path`` from a
    command-line process: 2 (a helper process does whole chunks from the end) for files of 8 MB
    or more on Linux with two or more CPUs available, else 1 (also when the file cannot be read:
    the scan reports that).  Also on a busy machine: the scheduler shares the CPUs out per
    process, so the pair finishes sooner than one process would (measured with both CPUs
    already busy: 1.10 s against 1.68 s for 49 MB, see benchmarks/README.md), for about 15 %
    more CPU time in all.  The 1-minute load average is no guide either way: it still shows a
    job that ended a minute ago.  Library callers (a Jupyter kernel has threads, which do not
    mix with ``fork``) keep the default of 1."""
    try:
        size = os.path.getsize(path)
    except (OSError, TypeError, ValueError):
        return 1
    if size < 8 << 20 or not sys.platform.startswith("linux"):
        return 1
    try:
        ncpu = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        ncpu = os.cpu_count() or 1
    return 2 if ncpu >= 2 else 1


def _chunk_results(
    path, f: BinaryIO, size: int, config, chunk_size: int, margin: int, workers: int, fn=_scan_only
):
    """Yield ``(a, b, fn(...))`` per chunk, in file order.  ``workers > 1`` (Linux): a helper
    process does chunks from the end of the file (see :class:`_ScanHelper`)."""
    if chunk_size < 1 or margin < 0:
        raise PiiError("chunk size must be positive")
    engine_for(config)  # compile (or load) before forking, so the helper inherits it
    cut_f = open(path, "rb")
    try:
        cuts = list(_cuts(cut_f, size, chunk_size))
    finally:
        cut_f.close()
    helper = None
    if workers > 1 and len(cuts) > 1 and sys.platform.startswith("linux"):
        try:
            helper = _ScanHelper(path, size, cuts, margin, fn, config)
        except OSError:
            helper = None
    try:
        for i, (a, b) in enumerate(cuts):
            res = helper.result(i) if helper is not None else None
            if res is None:
                with gc_paused():
                    res = fn(f, size, a, b, config, margin)
            yield a, b, res
    finally:
        if helper is not None:
            helper.close()


def _is_utf16(f: BinaryIO) -> bool:
    f.seek(0)
    codec = _codec_for(f.read(64))[0]
    f.seek(0)
    return codec != "utf-8"


def scan_file(
    path,
    config: DetectorConfig | None = None,
    progress: Progress | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    margin: int = MARGIN,
    workers: int = 1,
) -> Iterator[Span]:
    """Spans of the file at ``path`` (character offsets into :func:`decode_bytes` of its
    content), read chunk by chunk with bounded memory.  ``progress(bytes_done, total)``."""
    f, size = _open(path)
    with f:
        if _is_utf16(f):
            for buf, base, _w0, _w1, spans, _c, _e in _text_windows(
                f, size, config, progress, chunk_size, margin
            ):
                for s, e, t in spans:
                    yield Span(t, s, e, buf[s - base : e - base])
            return
        char_base = 0
        written_c = 0  # global character offset up to which findings were reported
        for _a, b, (nchars, spans) in _chunk_results(path, f, size, config, chunk_size, margin, workers):
            for _bs, _be, t, value, cs, ce in spans:
                cs += char_base
                ce += char_base
                if ce <= written_c:
                    continue
                if cs < written_c:
                    value = value[written_c - cs :]
                    cs = written_c
                yield Span(t, cs, ce, value)
                written_c = ce
            char_base += nchars
            if progress is not None:
                progress(b, size)


def redact_file(
    path,
    out: BinaryIO,
    config: DetectorConfig | None = None,
    progress: Progress | None = None,
    *,
    pseudonymizer: Pseudonymizer | None = None,
    replacement_for: Callable[[Span], str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    margin: int = MARGIN,
    workers: int = 1,
) -> RedactStats:
    """Write the file at ``path`` to ``out`` with every finding replaced, chunk by chunk.

    Replacements: ``replacement_for(span)`` if given, else consistent placeholders from
    ``pseudonymizer`` (a fresh :class:`Pseudonymizer` when None; pass one to keep its mapping
    and read its ``new_entries``).  Bytes outside findings are copied unchanged, so the output
    keeps the input's encoding.  ``workers > 1``: a helper process scans ahead (see
    :func:`auto_workers`).
    """
    ps = pseudonymizer if pseudonymizer is not None else Pseudonymizer()
    stats = RedactStats()
    f, size = _open(path)
    with f, gc_paused():
        if _is_utf16(f):
            _redact_text_windows(f, size, out, config, progress, ps, replacement_for, chunk_size, margin, stats)
            stats.bytes_in = size
            return stats
        by_type = stats.by_type
        if replacement_for is None or replacement_for is type_token:
            if replacement_for is None:
                key_rep = ps.for_value
            else:
                key_rep = lambda t, v: type_token(Span(t, 0, 0, v))  # noqa: E731
        else:
            key_rep = None
        bcache: dict[tuple[str, str], bytes] = {}
        bget = bcache.get
        written = 0  # global byte offset written so far
        written_c = 0  # the same, in characters
        char_base = 0  # character offset of the current chunk's start
        fn = _redact_range if key_rep is not None else _scan_only
        for a, b, res in _chunk_results(path, f, size, config, chunk_size, margin, workers, fn):
            nchars = res[0]
            if key_rep is not None and written == a and res[2] is not None:
                _n, end, segs, keys, counts = res
                if keys:
                    reps = list(map(bget, keys))
                    if None in reps:
                        for i, k in enumerate(keys):
                            if reps[i] is None:
                                rb = bget(k)
                                if rb is None:
                                    rb = bcache[k] = key_rep(k[0], k[1]).encode("utf-8", "surrogateescape")
                                reps[i] = rb
                    parts = [b""] * (2 * len(reps) + 1)
                    parts[0::2] = segs
                    parts[1::2] = reps
                    chunk_out = b"".join(parts)
                    for t, c in counts.items():
                        by_type[t] = by_type.get(t, 0) + c
                    stats.spans += len(reps)
                    # characters up to ``end``: exact unless the last finding ran past the cut,
                    # in which case the next chunk takes the slow path, which clips by bytes
                    written_c = char_base + nchars
                else:
                    chunk_out = bytes(segs[0])
            else:  # a finding straddled the previous cut, or a custom replacement function
                if res[2] is None or len(res) != 2:
                    nchars, spans = _scan_only(f, size, a, b, config, margin)
                else:
                    spans = res[1]
                end = b
                if spans and spans[-1][1] > end:
                    end = spans[-1][1]
                if end < written:
                    end = written
                data = _read_at(f, written, end - written)
                base = written
                parts = []
                app = parts.append
                pos = 0
                for bs, be, t, value, cs, ce in spans:
                    if be <= written:
                        continue
                    if bs < written:  # the part before ``written`` was replaced already
                        cut = value.encode("utf-8", "surrogateescape")[written - bs :]
                        value = cut.decode("utf-8", "surrogateescape")
                        cs = ce - len(value)
                        bs = written
                    app(data[pos : bs - base])
                    if key_rep is not None:
                        rep = key_rep(t, value)
                    else:
                        rep = replacement_for(Span(t, char_base + cs, char_base + ce, value))
                    app(rep.encode("utf-8", "surrogateescape"))
                    by_type[t] = by_type.get(t, 0) + 1
                    stats.spans += 1
                    pos = be - base
                    written = be
                    written_c = char_base + ce
                app(data[pos:])
                chunk_out = b"".join(parts)
            try:
                out.write(chunk_out)
            except OSError as exc:
                raise PiiError(f"writing the redacted output failed: {exc.strerror or exc}") from None
            stats.bytes_out += len(chunk_out)
            written = end
            char_base += nchars
            if written_c < char_base:
                written_c = char_base
            if progress is not None:
                progress(b, size)
        stats.bytes_in = size
    return stats


def _redact_text_windows(f, size, out, config, progress, ps, replacement_for, chunk_size, margin, stats):
    by_type = stats.by_type
    for buf, base, w0, w1, spans, codec, errors in _text_windows(f, size, config, progress, chunk_size, margin):
        parts = []
        app = parts.append
        pos = w0 - base
        for s, e, t in spans:
            s -= base
            e -= base
            app(buf[pos:s])
            value = buf[s:e]
            if replacement_for is not None:
                app(replacement_for(Span(t, s + base, e + base, value)))
            else:
                app(ps.for_value(t, value))
            by_type[t] = by_type.get(t, 0) + 1
            pos = e
        app(buf[pos : w1 - base])
        data = "".join(parts).encode(codec, errors)
        try:
            out.write(data)
        except OSError as exc:
            raise PiiError(f"writing the redacted output failed: {exc.strerror or exc}") from None
        stats.bytes_out += len(data)
        stats.spans += len(spans)
