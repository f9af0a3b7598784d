"""Where a secret value ends, decided by the syntax it is written in.

A detected secret is redacted to its end whatever characters it holds; these functions find
that end.  The rules (tested case by case in ``tests/fixtures/secrets/syntaxes.jsonl``):

* quoted (``"…"``, ``'…'``, `````…`````): to the matching quote that is not escaped by a backslash
  (an even number of backslashes before it); in single quotes ``''`` is an escaped quote (YAML,
  SQL).  ``\\"…\\"`` (JSON inside a JSON string) ends at the next ``\\"``.  No closing quote on
  the line: to the end of the line.
* unquoted in a command line (the key is a ``-flag``): one shell word, to whitespace, with
  quotes inside the word (``-p'a b'``) honoured.
* unquoted elsewhere: to whitespace or a quote, and to the list separator of the syntax the key
  sits in, and only then:

  - ``&`` ends the value only in a URL query string (the key follows ``?`` or ``&``), or as
    ``&&`` (shell);
  - ``;`` ends it only when what follows is the next ``key=`` (connection strings:
    ``Password=x;Encrypt=True``), a word and a blank (``pw;export X``: the next shell command)
    or the end of the line/word;
  - ``,`` ends it only before whitespace, the next ``key=`` or the end;
  - a closing ``)`` ``]`` ``}`` ``>`` ends it only before whitespace, punctuation or the end
    (``{user=a, password=b}``), a final ``.`` or ``:`` only before whitespace or the end.

  So ``password=Tr0ub4dor&3xQ`` and ``--password=abc;99`` are covered whole.
* a whole-line value (``key: value`` in YAML, ``key = value`` in INI/TOML at the start of a
  line): to the end of the line, before a `` #`` comment; a YAML block scalar (``key: |``) takes
  the following, more indented lines.
"""

from __future__ import annotations

import re

from ._common import _A

_QUOTES = "\"'`"
_NEXT_KEY = re.compile(r"[ \t]*[A-Za-z_][\w.\- ]{0,40}?[ \t]*[=:]", _A)
_NEXT_COMMAND = re.compile(r"[ \t]*[A-Za-z]+[ \t]", _A)  # "pw;export X": a new shell command
_CLOSERS = ")]}>"
_INLINE_KEY = re.compile(r",[ \t]+[A-Za-z_][\w.\-]*[ \t]*[=:](?:[ \t]|\Z)", _A)
_AFTER_CLOSER = " \t\r\n,;)]}>\"'"


def quoted_end(text: str, i: int, le: int) -> int:
    """``text[i]`` is a quote: offset of the matching closing quote (or ``le``)."""
    q = text[i]
    j = i + 1
    while True:
        j = text.find(q, j, le)
        if j < 0:
            return le
        k = j
        while k > i + 1 and text[k - 1] == "\\":
            k -= 1
        if (j - k) % 2 == 0:  # not escaped
            if q == "'" and j + 1 < le and text[j + 1] == "'":
                j += 2  # '' inside single quotes
                continue
            return j
        j += 1


def escaped_quoted_end(text: str, i: int, le: int) -> tuple[int, int]:
    """``text[i:]`` starts with ``k >= 1`` backslashes and a quote (a string inside a JSON
    string, ``\\"``, or nested deeper, ``\\\\\\"``): ``(value start, value end)``, the end being
    the next quote preceded by exactly ``k`` backslashes."""
    k = 0
    while i + k < le and text[i + k] == "\\":
        k += 1
    q = text[i + k]
    vs = i + k + 1
    j = vs
    while True:
        j = text.find(q, j, le)
        if j < 0:
            return vs, le
        b = 0
        while j - b - 1 >= vs and text[j - b - 1] == "\\":
            b += 1
        if b == k:
            return vs, j - k
        j += 1


def shell_word_end(text: str, i: int, le: int) -> int:
    """End of the shell word starting at ``i``: whitespace ends it outside quotes."""
    j = i
    while j < le:
        c = text[j]
        if c in " \t\r\n":
            return j
        if c in "\"'":
            k = text.find(c, j + 1, le)
            j = le if k < 0 else k + 1
            continue
        if c == "\\":
            j += 2
            continue
        j += 1
    return min(j, le)


def shell_word(text: str, i: int, le: int) -> tuple[int, int] | None:
    """The value span of the shell word at ``i`` (quotes around the whole word excluded)."""
    while i < le and text[i] in " \t":
        i += 1
    if i >= le:
        return None
    if text[i] in "\"'":
        j = text.find(text[i], i + 1, le)
        return (i + 1, le if j < 0 else j)
    j = shell_word_end(text, i, le)
    return (i, j) if j > i else None


def plain_end(text: str, i: int, le: int, query: bool) -> int:
    """End of an unquoted value starting at ``i`` (see the module docstring)."""
    j = i
    while j < le:
        c = text[j]
        if c in " \t\r\n\"'`":
            break
        if c == "&":
            if query or text.startswith("&&", j):
                break
        elif c == ";" or c == ",":
            nxt = text[j + 1 : j + 2]
            if not nxt or nxt in " \t\r\n\"'" or _NEXT_KEY.match(text, j + 1, le):
                break
            if c == ";" and _NEXT_COMMAND.match(text, j + 1, le):
                break
        elif c in _CLOSERS:
            nxt = text[j + 1 : j + 2]
            if not nxt or nxt in _AFTER_CLOSER:
                break
        elif c == "<" and text.startswith("</", j):
            break
        j += 1
    while j > i and text[j - 1] in ".:" and (j == le or text[j] in " \t\r\n"):
        j -= 1
    return j


_BLOCK_SCALAR = re.compile(r"[|>][+\-]?[0-9]?[ \t]*(?:#.*)?\Z", _A)


def _indent(text: str, ls: int) -> int:
    k = ls
    while k < len(text) and text[k] in " \t":
        k += 1
    return k - ls


def block_scalar(text: str, key_ls: int, le: int) -> tuple[int, int] | None:
    """The lines of a YAML block scalar after the key line ending at ``le``: those indented
    more than the key line.  ``(start, end)`` from the first content character to the end of
    the last such line, or None."""
    base = _indent(text, key_ls)
    n = len(text)
    pos = le + 1
    start = end = -1
    while pos < n:
        nl = text.find("\n", pos)
        line_end = n if nl < 0 else nl
        line = text[pos:line_end]
        if line.strip():
            ind = _indent(text, pos)
            if ind <= base:
                break
            if start < 0:
                start = pos + ind
            end = line_end
            while end > start and text[end - 1] in " \t\r":
                end -= 1
        if nl < 0:
            break
        pos = nl + 1
    return (start, end) if start >= 0 and end > start else None


def line_value(text: str, i: int, le: int) -> tuple[int, int]:
    """A whole-line value from ``i``: to the end of the line, before a `` #`` comment."""
    j = le
    k = text.find(" #", i, le)
    if k >= 0:
        j = k
    k = text.find("\t#", i, j)
    if k >= 0:
        j = k
    while j > i and text[j - 1] in " \t\r":
        j -= 1
    return i, j


def extract(text: str, pos: int, ls: int, le: int, *, line_mode: bool, cli: bool, query: bool):
    """``(start, end, quoted)`` of the value that begins at or after ``pos`` on the line
    ``[ls, le)``, or None.  ``line_mode``: a whole-line config value; ``cli``: the key is a
    command-line flag; ``query``: the key is in a URL query string."""
    i = pos
    while i < le and text[i] in " \t":
        i += 1
    if i >= le:
        return None
    c = text[i]
    if c in _QUOTES:
        j = quoted_end(text, i, le)
        return (i + 1, j, True)
    if c == "\\":
        k = i
        while k < le and text[k] == "\\":
            k += 1
        if k < le and text[k] in "\"'" and k - i <= 7:
            vs, ve = escaped_quoted_end(text, i, le)
            return (vs, ve, True)
    if cli:
        j = shell_word_end(text, i, le)
        return (i, j, False) if j > i else None
    if line_mode:
        if _BLOCK_SCALAR.match(text, i, le):
            b = block_scalar(text, ls, le)
            return (b[0], b[1], True) if b else None
        s, j = line_value(text, i, le)
        if _INLINE_KEY.search(text, s, j):  # "api_key: null, token: none": a list, not one value
            j = plain_end(text, i, le, query)
        return (s, j, False) if j > s else None
    j = plain_end(text, i, le, query)
    return (i, j, False) if j > i else None
