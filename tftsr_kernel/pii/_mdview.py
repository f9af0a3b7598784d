"""Markdown as the egress guard reads it: backslash escapes removed, with the way back.

Documents are Markdown built from stored fields with ``md_inline``/``md_text``, which escape
ASCII punctuation (``~`` -> ``\\~``) and re-flow whitespace. A secret there reads
``FZg0Q\\~s\\~ogr...``: neither a rule nor a known value matches it. :class:`MdView` is the text a
reader sees (CommonMark backslash escapes of ASCII punctuation undone; optionally every run of
whitespace as one space), with offsets back into the escaped text, so the guard can detect on
the view and replace the whole escaped span (backslashes included): no ``abc\\~def`` survives.
"""

from __future__ import annotations

from bisect import bisect_right
import re

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESCAPE_OR_SPACE = re.compile(r"\\([!-/:-@\[-`{-~])|\s{2,}|[^\S ]")


class MdView:
    """``text`` with each escape (and, with ``collapse_space``, each whitespace run) read as one
    character; :meth:`start` / :meth:`end` map view offsets back to ``source`` offsets."""

    __slots__ = ("source", "text", "_vpos", "_ostart", "_oend")

    def __init__(self, source: str, *, collapse_space: bool = False):
        rx = _ESCAPE_OR_SPACE if collapse_space else _ESCAPE
        parts: list[str] = []
        vpos: list[int] = []
        ostart: list[int] = []
        oend: list[int] = []
        pos = vlen = 0
        for m in rx.finditer(source):
            if m.start() > pos:
                parts.append(source[pos:m.start()])
                vlen += m.start() - pos
            parts.append(m.group(1) if m.group(1) is not None else " ")
            vpos.append(vlen)
            ostart.append(m.start())
            oend.append(m.end())
            vlen += 1
            pos = m.end()
        parts.append(source[pos:])
        self.source = source
        self.text = "".join(parts) if vpos else source
        self._vpos, self._ostart, self._oend = vpos, ostart, oend

    def start(self, i: int) -> int:
        """Where view character ``i`` begins in the source (at its backslash when escaped)."""
        k = bisect_right(self._vpos, i) - 1
        if k < 0:
            return i
        if self._vpos[k] == i:
            return self._ostart[k]
        return self._oend[k] + (i - self._vpos[k] - 1)

    def end(self, j: int) -> int:
        """Where the view span ending (exclusive) at ``j`` ends in the source."""
        if j <= 0:
            return 0
        i = j - 1
        k = bisect_right(self._vpos, i) - 1
        if k < 0:
            return j
        if self._vpos[k] == i:
            return self._oend[k]
        return self._oend[k] + (i - self._vpos[k])

    def replace(self, spans) -> str:
        """The source with each ``(view_start, view_end, replacement)`` (sorted, disjoint) put in."""
        out, pos = [], 0
        for s, e, repl in spans:
            a, b = self.start(s), self.end(e)
            if a < pos:
                continue
            out.append(self.source[pos:a])
            out.append(repl)
            pos = b
        out.append(self.source[pos:])
        return "".join(out)
