"""Personal data: phone numbers (NANP, international, by context word) and US social security numbers."""

from __future__ import annotations

import re

from ._common import CASELESS, SOM, Rule, _A, _isword, _longest_by_start

_NANP_PREFIX = re.compile(r"(?:\+1|\b1|\b001)[ .\-]?\Z", _A)
_EXT = re.compile(r"[ ]?(?:x|ext\.?[ ]?)\d{1,5}\b", _A)


def _h_phone_nanp(text: str, hits, out) -> None:
    n = len(text)
    for s, e in _longest_by_start(hits).items():
        tok = text[s:e]
        if tok[0] != "(" and tok[3] != tok[7]:
            continue  # mixed separators: 123-456.7890
        if e < n and (text[e].isdigit() or (text[e] in ".-" and e + 1 < n and text[e + 1].isdigit())):
            continue
        if s and text[s - 1] in ".-" and s >= 2 and text[s - 2].isdigit():
            p = _NANP_PREFIX.search(text, max(0, s - 5), s)
            if not p:
                continue
        m = _NANP_PREFIX.search(text, max(0, s - 5), s)
        if m:
            s = m.start()
        x = _EXT.match(text, e)
        if x:
            e = x.end()
        out.append((s, e, "Phone"))


_INTL_PHONE = re.compile(r"\+\d{1,3}(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]?\d{1,5}){1,6}", _A)


def _phone_digits(tok: str) -> int:
    return sum(c.isdigit() for c in tok.replace("(0)", ""))


def _h_phone_intl(text: str, hits, out) -> None:
    n = len(text)
    for s in _longest_by_start(hits):
        if s and (_isword(text[s - 1]) or text[s - 1] in "+/="):
            continue
        m = _INTL_PHONE.match(text, s)
        if not m:
            continue
        e = m.end()
        if e < n and (_isword(text[e]) or text[e] in "+/="):
            continue
        if not 8 <= _phone_digits(m.group()) <= 15:
            continue
        x = _EXT.match(text, e)
        if x:
            e = x.end()
        out.append((s, e, "Phone"))


_LOOSE_NUM = r"\+?(?:\(\d{1,4}\)[ .\-]?)?\d[\d .\-]{4,18}\d(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?"
_PHONE_AFTER_WORD = re.compile(
    r"(?:[ \t]*(?:number|no\.?|nr\.?|#))?[ \t]*[:=]?[ \t]*(?:\r?\n[ \t]*)?(" + _LOOSE_NUM + r")(?![\w\-]|\.\d)",
    re.I | _A,
)
_PHONE_BEFORE_WORD = re.compile(r"(?<![\w.\-])(" + _LOOSE_NUM + r")[ \t]*-?[ \t]*\Z", re.I | _A)
_IPV4_FULL = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}\Z", _A)


def _loose_phone_ok(tok: str) -> bool:
    if not 7 <= _phone_digits(tok) <= 15:
        return False
    if _IPV4_FULL.match(tok):
        return False
    return True


def _h_phone_ctx_before(text: str, hits, out) -> None:
    """A phone context word ("Phone:", "call me at", ...) followed by a number."""
    seen = set()
    for _s, e in hits:
        if e in seen:
            continue
        seen.add(e)
        m = _PHONE_AFTER_WORD.match(text, e)
        if m and _loose_phone_ok(m.group(1)):
            out.append((m.start(1), m.end(1), "Phone"))


def _h_phone_ctx_after(text: str, hits, out) -> None:
    """A number directly followed by "office" / "fax"."""
    for s, _e in _longest_by_start(hits).items():
        ls = text.rfind("\n", 0, s) + 1
        m = _PHONE_BEFORE_WORD.search(text, max(ls, s - 40), s)
        if m and _loose_phone_ok(m.group(1)):
            out.append((m.start(1), m.end(1), "Phone"))


def _h_ssn(text: str, hits, out) -> None:
    n = len(text)
    for s, e in hits:
        a, g, ser = text[s : s + 3], text[s + 4 : s + 6], text[s + 7 : e]
        if a in ("000", "666") or a[0] == "9" or g == "00" or ser == "0000":
            continue
        if s >= 2 and text[s - 1] in "-." and text[s - 2].isdigit():
            continue
        if e + 1 < n and text[e] in "-." and text[e + 1].isdigit():
            continue
        out.append((s, e, "SSN"))



RULES: tuple[Rule, ...] = (
    Rule(rb"(?:\(\d{3}\)[ .\-]?|\b\d{3}[ .\-])\d{3}[ .\-]\d{4}", SOM, _h_phone_nanp, ("Phone",)),
    Rule(rb"\+\d{1,3}[ .\-]?[(\d]", SOM, _h_phone_intl, ("Phone",)),
    Rule(
        rb"\b(?:phone|tel|telephone|mobile|cell|fax|desk|whatsapp|sms|call me (?:at|on)"
        rb"|reach me at|text me at|answering at|messages to|registered)\b",
        CASELESS,
        _h_phone_ctx_before,
        ("Phone",),
    ),
    Rule(rb"\b(?:office|fax)\b", SOM | CASELESS, _h_phone_ctx_after, ("Phone",)),
    Rule(rb"\b\d{3}-\d{2}-\d{4}\b", SOM, _h_ssn, ("SSN",)),
)
