"""Shared parts of the built-in rules: the :data:`Rule` record, its flags and the helpers and
validators several families use.

Each rule is one *anchor* pattern for the hyperscan prefilter plus a Python *handler* that
confirms the anchor hits and turns them into exact spans.  Anchors are chosen so that ordinary
log text produces few hits; the handlers then do the expensive checks (octet ranges, Luhn, mod-97,
context words, key names, value extraction) only at those places.

Anchor patterns are bytes regexes in the common subset of hyperscan and Python ``re`` syntax
(ASCII semantics: ``\\b``, ``\\d`` and ``\\w`` are ASCII).  Flag ``SOM`` asks for the start of
the match (hyperscan's leftmost start of match); without it a handler only gets end offsets
(start is reported as 0) and finds the start itself.  Hyperscan reports *every* end offset at
which a pattern matches, so handlers dedupe.

A handler has the signature ``handler(text, hits, out)``: ``text`` is the decoded ``str``
(offsets in hits index it directly), ``hits`` a list of ``(start, end)`` and ``out`` a list
that receives ``(start, end, type)`` tuples.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable

SOM = 1
CASELESS = 2

Handler = Callable[[str, list, list], None]


#: ``pattern`` (bytes), ``flags`` (SOM | CASELESS), ``handler`` (a :data:`Handler`), ``types``
#: (the PII types the handler can report).  A plain namedtuple: ``typing`` costs start-up time.
Rule = namedtuple("Rule", "pattern flags handler types")


_A = re.ASCII


# --- helpers ---------------------------------------------------------------------------------
def _back(text: str, end: int, rx: re.Pattern, limit: int = 256) -> int:
    """Start of the longest run ending at ``end`` whose reversed text ``rx`` matches."""
    lo = end - limit
    if lo < 0:
        lo = 0
    m = rx.match(text[lo:end][::-1])
    return end - m.end()


def _longest_by_start(hits) -> dict[int, int]:
    d: dict[int, int] = {}
    get = d.get
    for s, e in hits:
        if get(s, -1) < e:
            d[s] = e
    return d


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    ls = text.rfind("\n", 0, pos) + 1
    le = text.find("\n", pos)
    if le < 0:
        le = len(text)
    return ls, le


def _isword(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


_PLACEHOLDER_RX = re.compile(r"\[[A-Za-z][A-Za-z0-9]*_\d+\]\Z", _A)


# --- validators ------------------------------------------------------------------------------
def luhn_ok(digits: str) -> bool:
    total = 0
    parity = len(digits) % 2
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# --- token formats and shapes shared by several families -------------------------------------
def _token_rule(type_: str, tail_rx: re.Pattern | None = None) -> Handler:
    """Exact token patterns: keep the longest match per start; optional check of what follows."""

    def handler(text: str, hits, out) -> None:
        for s, e in _longest_by_start(hits).items():
            if tail_rx is not None and tail_rx.match(text, e):
                continue
            out.append((s, e, type_))

    handler.__name__ = f"_h_{type_}"
    return handler


def _aws_secret_shape(v: str) -> bool:
    """A 40-character AWS secret access key: mixed case or ``/`` / ``+``, not a sha1."""
    if len(v) != 40:
        return False
    if all(c in "0123456789abcdefABCDEF" for c in v):
        return False  # a sha1
    has_upper = any(c.isupper() for c in v)
    has_lower = any(c.islower() for c in v)
    return (has_upper and has_lower) or "/" in v or "+" in v
