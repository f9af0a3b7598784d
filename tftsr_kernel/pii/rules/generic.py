"""Generic secrets: values of secret-ish key names (``password=``, ``api_key:``), XML elements, CLI
flags and passwords named in prose."""

from __future__ import annotations

import re

from ._common import CASELESS, SOM, Rule, _A, _PLACEHOLDER_RX, _aws_secret_shape, _back, _line_bounds, _longest_by_start

_KEYWORDS = (
    r"(?:passw(?:or)?d|passphrase|passcode|pass|pwd|secret|token|api[_\-]?key|apikey"
    r"|access[_\-]?key|secret[_\-]?key|private[_\-]?key|credentials?|auth[_\-]?key"
    r"|encryption[_\-]?key|signing[_\-]?key|master[_\-]?key|account[_\-]?key|session[_\-]?key)"
)
_PASS_FAMILY = ("passw", "passphrase", "passcode", "pass", "pwd")
_IDENT_REV = re.compile(r"[A-Za-z0-9_.\-]{0,64}", _A)
_UNQUOTED_VALUE = re.compile(r"[^\s,;&]+", _A)
_NON_SECRET_VALUES = frozenset(
    "null none nil true false undefined empty yes no n/a na - -- redacted masked hidden "
    "filtered removed omitted required optional string str int bool secret password token "
    "<redacted> [redacted] [filtered] [hidden] ... ''".split()
)
_BAD_VALUE_START = ("${", "$(", "{{", "%(", "<%", "#{", "{", "[", "<", "=", "|", ">", "&", "\\")


def _key_boundary_ok(text: str, s: int, ident_start: int, kw: str) -> bool:
    if s == ident_start:
        return True
    c = text[s - 1]
    if c in "_-.":
        return True
    if c.islower() and text[s].isupper():
        return True  # camelCase: userPassword, SecretAccessKey
    ident = text[ident_start : s + len(kw)]
    if ident.isupper() and kw.lower().startswith(("passw", "secret", "token")):
        return True  # PGPASSWORD, MYSQL_PWD-like env names written as one word
    return False


# a Java / reverse-DNS identifier, optionally with "@hash" or "/id": android.os.BinderProxy@2bd79ce
_DOTTED_IDENT = re.compile(r"[A-Za-z_][\w$\-]*(?:\.[A-Za-z_][\w$\-]*){2,}(?:[/@#:][\w.\-]*)?\Z", _A)


def _value_ok(v: str, quoted: bool, ident: str, password: bool = True) -> bool:
    if not v or len(v) < 2:
        return False
    low = v.lower()
    if low in _NON_SECRET_VALUES:
        return False
    if set(v) <= {"*", "x", "X", "#", "."}:
        return False  # already masked
    if v.startswith(_BAD_VALUE_START) and not (quoted and v[0] not in "${[<%#"):
        return False
    if _PLACEHOLDER_RX.match(v):
        return False
    if not quoted and "{" in v:
        return False  # an object repr such as Token{a64f992
    if v.isdigit() and len(v) < 4:
        return False
    il = ident.lower()
    if il.endswith("pwd") and v[:1] in "/~.":
        return False  # PWD=/home/user is a working directory
    if not password and not quoted and _DOTTED_IDENT.match(v):
        return False  # "token: com.apple.xpc.activity/4505" names an object, it is no secret
    return True


def _line_start_key(text: str, ls: int, ident_start: int) -> bool:
    head = text[ls:ident_start].strip()
    return head in ("", "-", "export", "set", "- export") or head.startswith("#")


def _extract_value(text: str, pos: int, ls: int, le: int, line_mode: bool):
    """(start, end, quoted) of the value that begins at or after ``pos``, or None."""
    i = pos
    while i < le and text[i] in " \t":
        i += 1
    if i >= le:
        return None
    c = text[i]
    if c in "\"'`":
        j = i + 1
        while True:
            j = text.find(c, j, le)
            if j < 0:
                j = le
                break
            if text[j - 1] != "\\":
                break
            j += 1
        return (i + 1, j, True)
    if c == "\\" and text.startswith('\\"', i):  # JSON string inside a JSON string
        j = text.find('\\"', i + 2, le)
        return (i + 2, le if j < 0 else j, True)
    if line_mode:
        j = le
        k = text.find(" #", i, le)
        if k >= 0:
            j = k
        while j > i and text[j - 1] in " \t\r,;":
            j -= 1
        return (i, j, False)
    m = _UNQUOTED_VALUE.match(text, i, le)
    if not m:
        return None
    j = m.end()
    while j > i and text[j - 1] in ")]}>\"'.:":
        j -= 1
    return (i, j, False)


_SEP_REV = re.compile(r"(?:>=|=:|[=:])[ \t]*[\"']?", _A)
_KW_SUFFIX = re.compile(_KEYWORDS + r"\Z", re.I | _A)


def _h_keyed(text: str, hits, out) -> None:
    n = len(text)
    seen = set()
    for _s, e in hits:
        if e in seen:
            continue
        seen.add(e)
        m = _SEP_REV.match(text[max(0, e - 40) : e][::-1])
        if not m:
            continue
        kw_end = e - m.end()
        ident_start = _back(text, kw_end, _IDENT_REV, 64)
        k = _KW_SUFFIX.search(text, ident_start, kw_end)
        if not k:
            continue
        s = k.start()
        kw = k.group()
        while ident_start < s and text[ident_start] in ".-":
            ident_start += 1
        if not _key_boundary_ok(text, s, ident_start, kw):
            continue
        if text.startswith("://", ident_start - 3):
            continue  # scheme://user:password@ -- the URL credentials rule covers it
        if kw_end < n and (text[kw_end].isalnum()):
            continue
        ls, le = _line_bounds(text, s)
        ident = text[ident_start:kw_end]
        sep = text[kw_end:e]
        if "=" in sep and e < n and text[e] == "=":
            continue  # "==" comparison
        # a whole-line value only in config syntax: "key: value" (YAML) or "key = value" (INI)
        line_mode = _line_start_key(text, ls, ident_start) and (
            ":" in sep or ("=" in sep and text[e : e + 1] in (" ", "\t"))
        )
        v = _extract_value(text, e, ls, le, line_mode)
        if v is None:
            continue
        vs, ve, quoted = v
        val = text[vs:ve]
        is_pass = kw.lower().startswith(_PASS_FAMILY)
        if not _value_ok(val, quoted, ident, is_pass):
            continue
        if is_pass:
            typ = "Password"
        else:
            typ = "Secret"
            il = ident.lower()
            if "secret" in il and ("aws" in il or "access" in il) and _aws_secret_shape(val):
                typ = "AWSSecretKey"
        out.append((vs, ve, typ))


_XML_VALUE = re.compile(r"[^<\r\n]+", _A)


def _h_xml_keyed(text: str, hits, out) -> None:
    for s, e in _longest_by_start(hits).items():
        m = _XML_VALUE.match(text, e)
        if m:
            v = m.group().strip()
            if _value_ok(v, True, ""):
                vs = m.start() + (len(m.group()) - len(m.group().lstrip()))
                typ = "Password" if "pass" in text[s:e].lower() else "Secret"
                out.append((vs, vs + len(v), typ))


_CLI_VALUE = re.compile(r"[\"']?([^\s\"']+)", _A)


def _h_cli_flag(text: str, hits, out) -> None:
    for s, e in _longest_by_start(hits).items():
        m = _CLI_VALUE.match(text, e)
        if not m or m.group(1).startswith("-"):
            continue
        v = m.group(1)
        if _value_ok(v, False, ""):
            typ = "Password" if "pass" in text[s:e].lower() else "Secret"
            out.append((m.start(1), m.end(1), typ))


_PROSE_VALUE = re.compile(
    r"(?:(?:is|was|set\s+to|changed\s+to|reset\s+to|now\s+is|now|of)\b[ \t]*:?[ \t]*)?"
    r"[\"'\u201c\u2018]?([^\s\"'\u201d\u2019]+)",
    re.I,
)
_PROSE_SPECIAL = re.compile(r"[0-9!@#$%^&*_+=~\-]", _A)


def _h_prose_password(text: str, hits, out) -> None:
    seen = set()
    for _s, e in hits:
        m = _PROSE_VALUE.match(text, e)
        if not m or m.start(1) in seen:
            continue
        seen.add(m.start(1))
        vs, ve = m.span(1)
        while ve > vs and text[ve - 1] in ".,;!?)":
            ve -= 1
        val = text[vs:ve]
        if len(val) < 4 or not _PROSE_SPECIAL.search(val) or _PLACEHOLDER_RX.match(val):
            continue
        if val.startswith(("[", "<", "${")):
            continue
        out.append((vs, ve, "Password"))



RULES: tuple[Rule, ...] = (
    Rule(
        _KEYWORDS.encode() + rb"[\"']?[ \t]*(?:=>|:=|=|:)",
        CASELESS,
        _h_keyed,
        ("Password", "Secret", "AWSSecretKey"),
    ),
    Rule(
        rb"<[a-z_:\-]*(?:password|passwd|secret|token|api[_\-]?key)>",
        SOM | CASELESS,
        _h_xml_keyed,
        ("Password", "Secret"),
    ),
    Rule(
        rb"--[a-z\-]*(?:password|passwd|pass|token|secret|api-key|apikey)[ \t]+",
        SOM | CASELESS,
        _h_cli_flag,
        ("Password", "Secret"),
    ),
    Rule(
        rb"\b(?:password|passwd|passphrase|passcode)[ \t]+",
        CASELESS,
        _h_prose_password,
        ("Password",),
    ),
)
