"""Readable log text in a report (``tftsr export``): lines that wrap where a reader expects.

:func:`prepare_report` rewrites each log excerpt of a report page (``<pre class="tftsr-pre">``,
whose content the panels build from escaped text only) so that

- every log line is its own block (``<span class="tftsr-line">``): the report's stylesheet
  indents a wrapped line under its start, and never splits one line across two pages;
- a table cell's long tokens get the same break opportunities, so a hash or a URL cannot push a
  table past the page's edge while short words keep their column readable;
- a short token of a log line (``cart=C-483452``, ``/v1/checkout``) is kept whole, so the line
  wraps at a space instead of after a hyphen or a slash;
- a long unbroken token (a URL, a stack frame, a base64 blob) gets break opportunities
  (``<wbr>``) right after its own separators (``/ ? & = , ; : . | ) ]``), so it wraps there first
  and only falls back to a break anywhere when a run has no separator at all. Short tokens and
  normal words are never broken: lines wrap at spaces.

With ``open_attachments`` (the PDF), attached logs in the chat (``<details>`` chips) are printed
open, since paper has no click. The text itself is unchanged (``<wbr>`` adds no character), so
copying from the HTML, or extracting text from the PDF, gives the log lines back.
"""

from __future__ import annotations

import html
import re

__all__ = ["prepare_report", "LONG_TOKEN"]

#: a run of non-space characters longer than this gets break opportunities at its separators
LONG_TOKEN = 24
#: and one at least every this many characters when it has no separator in reach
HARD_RUN = 48

_PRE = re.compile(r'(<pre class="tftsr-pre"[^>]*>)(.*?)(</pre>)', re.DOTALL)
_CELL = re.compile(r"(<t[dh]\b[^>]*>)(.*?)(</t[dh]>)", re.DOTALL)
_TEXT = re.compile(r"(?<=>)[^<]+|^[^<]+")
_DETAILS = re.compile(r'<details class="tftsr-attachment\b')
_TOKEN = re.compile(r"\S+")
_SEPARATORS = "/?&=,;:.|)]"
_BREAKABLE = re.compile(r"[^\w\s]")  # characters after which a browser may wrap on its own
_PLACEHOLDER = re.compile(r"\[[A-Za-z][A-Za-z0-9]*_\d+\]")  # [Email_1]: never split


def _segment(text: str, whole: bool = True) -> str:
    """One piece, escaped; with ``whole`` kept from wrapping where a browser would otherwise
    break it on its own, at a hyphen or a slash ("cart=C-|483452")."""
    out = html.escape(text, quote=False)
    return f'<span class="tftsr-nb">{out}</span>' if whole and _BREAKABLE.search(text) else out


def _break_token(token: str, whole: bool = True) -> str:
    """``token`` escaped; a long one cut into pieces after its separators (not between two
    separators, not inside a placeholder, and at least every HARD_RUN characters), joined by
    ``<wbr>``; with ``whole`` (log lines) each piece is kept from wrapping inside. Table cells
    pass ``whole=False``: a narrow column may still wrap a file name at its hyphens."""
    if len(token) <= LONG_TOKEN:
        return _segment(token, whole)
    keep = set()
    for m in _PLACEHOLDER.finditer(token):
        keep.update(range(m.start(), m.end() - 1))
    pieces, start = [], 0
    for i, ch in enumerate(token[:-1]):
        if i in keep:
            continue
        if (ch in _SEPARATORS and token[i + 1] not in _SEPARATORS) or i + 1 - start >= HARD_RUN:
            pieces.append(token[start:i + 1])
            start = i + 1
    pieces.append(token[start:])
    return "<wbr>".join(_segment(p, whole) for p in pieces)


def _line(text: str) -> str:
    if not text:
        return '<span class="tftsr-line">\u00a0</span>'
    body = _TOKEN.sub(lambda m: "\x00" + m.group(0) + "\x01", text)
    parts = re.split(r"\x00(.*?)\x01", body, flags=re.DOTALL)
    # odd indexes are tokens, even ones the spaces between them
    rendered = "".join(_break_token(p) if i % 2 else html.escape(p, quote=False) for i, p in enumerate(parts))
    return f'<span class="tftsr-line">{rendered}</span>'


def _log_block(m: re.Match) -> str:
    inner = m.group(2)
    if "<" in inner:  # not a plain escaped excerpt: leave it as it is
        return m.group(0)
    text = html.unescape(inner)
    if text.endswith("\n"):
        text = text[:-1]
    return m.group(1) + "".join(_line(t) for t in text.split("\n")) + m.group(3)


def _cell(m: re.Match) -> str:
    """A table cell whose long tokens (a hash, a URL) may wrap at their separators, so one
    cell cannot push the table past the page's edge; its markup is kept."""
    def text(t: re.Match) -> str:
        if not any(len(w) > LONG_TOKEN for w in t.group(0).split()):
            return t.group(0)
        # every token is escaped again by _break_token; only white space stays between them
        return _TOKEN.sub(lambda w: _break_token(w.group(0), whole=False), html.unescape(t.group(0)))

    inner = m.group(2)
    if "<pre" in inner or "<style" in inner:
        return m.group(0)
    return m.group(1) + _TEXT.sub(text, inner) + m.group(3)


def prepare_report(page: str, *, open_attachments: bool = False) -> str:
    """The report page with its log excerpts laid out for reading (see the module docstring)."""
    page = _PRE.sub(_log_block, page)
    page = _CELL.sub(_cell, page)
    if open_attachments:
        page = _DETAILS.sub('<details open class="tftsr-attachment', page)
    return page
