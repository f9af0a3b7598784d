"""Generic secrets: values of secret-ish key names in every common assignment syntax, HTTP
``Authorization`` and ``Cookie`` headers, XML elements and key/value attributes, ``--flag value``
command-line options and passwords named in prose (also ``.netrc``).

Assignment syntaxes: ``=``, ``:``, ``:=``, ``?=``, ``::=``, ``=>``, ``.=``, ``+=``, quoted keys
(JSON, also JSON inside a JSON string, Python/PHP dicts, ``os.environ["X"] = …``) and call
arguments (``System.setProperty("X_TOKEN", "…")``).  Where a value ends is decided by its
syntax (``_values.py``).  Keyword discipline: the key must *end* in a keyword at a word
boundary (``db_password``, ``clientSecret``, ``PGPASSWORD``; not ``password_file`` or
``bypass``), and placeholders, variable references, masked values, booleans, ``null``, file
paths and short numbers are not secrets.  Weak keywords (``auth``, ``sig``, ``signature``,
session ids) also need a value that looks random.
"""

from __future__ import annotations

import re

from . import _values
from ._common import CASELESS, SOM, Rule, _A, _PLACEHOLDER_RX, _aws_secret_shape, _back, _line_bounds, _longest_by_start

_KEYWORDS = (
    r"(?:passw(?:or)?d|passphrase|passcode|pass|pwd|secret|token|api[_\-]?key|apikey"
    r"|access[_\-]?key|secret[_\-]?key|private[_\-]?key|credentials?|auth[_\-]?key|auth"
    r"|encryption[_\-]?key|signing[_\-]?key|master[_\-]?key|account[_\-]?key|session[_\-]?key"
    r"|sig|signature|session[_\-]?id|sessid|secret[_\-]?key[_\-]?base)"
)
_PASS_FAMILY = ("passw", "passphrase", "passcode", "pass", "pwd")
#: keywords that also name non-secrets ("auth: ldap", "sig=SIGTERM", "session_id=42"): the value
#: must look random
_WEAK = ("auth", "sig", "signature", "session_id", "session-id", "sessionid", "sessid")
_IDENT_REV = re.compile(r"[A-Za-z0-9_.\-]{0,64}", _A)
_NON_SECRET_VALUES = frozenset(
    "null none nil true false undefined empty yes no on off n/a na - -- redacted masked hidden "
    "filtered removed omitted required optional string str int bool secret password token "
    "<redacted> [redacted] [filtered] [hidden] ... '' \"\" changeit_placeholder "
    "********".split()
)
_BAD_VALUE_START = ("${", "$(", "{{", "%(", "<%", "#{", "{", "[", "<", "=", "|", ">", "&", "\\")
_REFERENCE = re.compile(
    r"(?:\$[A-Za-z_]\w*|\$\{[^}]*\}|%[A-Za-z_]\w*%|\{\{.*\}\}|<[A-Za-z_][\w \-]*>|%\(\w+\)s"
    r"|(?:env|vault|secret|ref|arn|projects|sm|op|awssm|gcpsm)[:/]{1,2}\S*"
    r"|process\.env\.\w+|os\.environ\S*|ENV\[\S+\])\Z",
    _A,
)
_HEX_NUMBER = re.compile(r"0x[0-9A-Fa-f]{1,16}\Z", _A)
_PATH = re.compile(r"(?:~?/|\./|\.\./|[A-Za-z]:\\)[\w.\-@+]+(?:[/\\][\w.\-@+]+)+/?\Z", _A)


def _key_boundary_ok(text: str, s: int, ident_start: int, kw: str) -> bool:
    if s == ident_start:
        return True
    c = text[s - 1]
    if c in "_-.":
        return True
    if c.islower() and text[s].isupper():
        return True  # camelCase: userPassword, SecretAccessKey
    if text[ident_start : s + len(kw)].isupper():
        kl = kw.lower()
        # PGPASSWORD, JSESSIONID, MYAPPTOKEN: env names written as one word (not BYPASS, OAUTH)
        return kl.startswith("passw") or not kl.startswith(("pass", "auth", "sig"))
    return False


# a Java / reverse-DNS identifier, optionally with "@hash" or "/id": android.os.BinderProxy@2bd79ce
_DOTTED_IDENT = re.compile(r"[A-Za-z_][\w$\-]*(?:\.[A-Za-z_][\w$\-]*){2,}(?:[/@#:][\w.\-]*)?\Z", _A)


def looks_random(v: str) -> bool:
    """At least 8 characters from two or more classes (lower, upper, digit, other)."""
    if len(v) < 8:
        return False
    classes = 0
    if any(c.islower() for c in v):
        classes += 1
    if any(c.isupper() for c in v):
        classes += 1
    if any(c.isdigit() for c in v):
        classes += 1
    if any(not c.isalnum() for c in v):
        classes += 1
    return classes >= 2


def value_ok(v: str, quoted: bool, ident: str = "", password: bool = True, weak: bool = False) -> bool:
    """Is ``v``, the value of a secret-ish key, a secret?  Placeholders, references, masked
    values, booleans, ``null``, paths and short numbers are not."""
    if not v or len(v) < 2:
        return False
    low = v.lower()
    if low in _NON_SECRET_VALUES:
        return False
    if set(v) <= {"*", "x", "X", "#", ".", "•", "-"}:
        return False  # already masked
    if v.startswith(_BAD_VALUE_START) and not (quoted and v[0] not in "${[<%#"):
        return False
    if _PLACEHOLDER_RX.match(v) or _REFERENCE.match(v):
        return False
    if not quoted and "{" in v:
        return False  # an object repr such as Token{a64f992
    if v.isdigit() and len(v) < 4:
        return False
    if _PATH.match(v) and " " not in v:
        return False  # a file holding the secret: /run/secrets/db_password, ~/.ssh/id_rsa
    il = ident.lower()
    if il.endswith("pwd") and v[:1] in "/~.":
        return False  # PWD=/home/user is a working directory
    if not password and not quoted and _DOTTED_IDENT.match(v):
        return False  # "token: com.apple.xpc.activity/4505" names an object, it is no secret
    if weak and (not looks_random(v) or _HEX_NUMBER.match(v)):
        return False  # "sessionid: 0x24ede63a01b003b" (ZooKeeper) is a number
    return True


def _line_start_key(text: str, ls: int, ident_start: int) -> bool:
    head = text[ls:ident_start].strip()
    return head in ("", "-", "export", "set", "- export", "setx", "env") or head.startswith("#")


_KW_SUFFIX = re.compile(_KEYWORDS + r"\Z", re.I | _A)
# the separator and the key's closing quote, read backwards from the anchor's end
_SEP_REV = re.compile(
    r"(?P<sep>>=|=::|=:|=\?|=\.|=\+|=|:|[ \t]*,(?=[ \t]*[\"']\\{0,3}))[ \t]*\]?(?P<q>[\"']\\{0,3})?", _A
)


def secret_key(text: str, kw_end: int, limit: int = 64):
    """If the identifier ending at ``kw_end`` ends in a keyword at a word boundary:
    ``(ident_start, kw_start, keyword)``, else None."""
    ident_start = _back(text, kw_end, _IDENT_REV, limit)
    k = _KW_SUFFIX.search(text, ident_start, kw_end)
    if not k:
        return None
    s = k.start()
    kw = k.group()
    while ident_start < s and text[ident_start] in ".-":
        ident_start += 1
    if not _key_boundary_ok(text, s, ident_start, kw):
        return None
    return ident_start, s, kw


def ident_is_secret_key(ident: str):
    """The keyword an identifier (``DB_PASSWORD``, ``SmtpPassword``) ends in, or None."""
    r = secret_key(ident, len(ident), len(ident))
    return r[2] if r and r[0] == 0 else None


def type_for(kw: str) -> str:
    return "Password" if kw.lower().startswith(_PASS_FAMILY) else "Secret"


def _is_weak(kw: str) -> bool:
    return kw.lower().replace("-", "_") in _WEAK or kw.lower() in _WEAK


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
        call = "," in m.group("sep")
        key = secret_key(text, kw_end)
        if key is None:
            continue
        ident_start, s, kw = key
        if text.startswith("://", ident_start - 3):
            continue  # scheme://user:password@ -- the URL credentials rule covers it
        raw_start = _back(text, kw_end, _IDENT_REV, 64)
        if e < n and text[e] in "=:" and not call:
            continue  # "==" comparison, or the first ":" of "::=" (the longer hit follows)
        ls, le = _line_bounds(text, s)
        before = text[raw_start - 1] if raw_start > 0 else "\n"
        key_quoted = m.group("q") is not None
        if call and not (key_quoted and before in "\"'" and text[max(0, raw_start - 3) : raw_start - 1].strip()[-1:] == "("):
            continue  # f("X_TOKEN", "…"): a quoted key, the first argument of a call
        sep = m.group("sep")
        cli = text[raw_start] == "-" and before in " \t\n\"'=" and not key_quoted
        query = before in "?&" or text.endswith("&amp;", 0, raw_start)
        # a whole-line value only in config syntax: "key: value" (YAML) or "key = value" (INI)
        line_mode = (
            not (cli or call or key_quoted)
            and _line_start_key(text, ls, raw_start)
            and text[e : e + 1] in (" ", "\t", "\r", "\n", "")  # YAML "key: value", INI "key = value"
            and (":" in sep or sep == "=")
        )
        v = _values.extract(text, e, ls, le, line_mode=line_mode, cli=cli, query=query)
        if v is None:
            continue
        vs, ve, quoted = v
        if call and not quoted:
            continue
        val = text[vs:ve]
        if not quoted and _ASSIGNMENT.match(val):
            continue  # "auth: SNYK_TOKEN=…": another assignment, found by its own key
        is_pass = kw.lower().startswith(_PASS_FAMILY)
        if not value_ok(val, quoted, text[ident_start:kw_end], is_pass, _is_weak(kw)):
            continue
        typ = "Password" if is_pass else "Secret"
        if typ == "Secret":
            il = text[ident_start:kw_end].lower()
            if "secret" in il and ("aws" in il or "access" in il) and _aws_secret_shape(val):
                typ = "AWSSecretKey"
        out.append((vs, ve, typ))


# --- HTTP headers ------------------------------------------------------------------------------
_SCHEMES = frozenset(
    "bearer basic digest token negotiate ntlm apikey api-key ssws aws4-hmac-sha256 aws oauth key "
    "splunk geniekey hawk hoba mutual scram-sha-1 scram-sha-256 vapid dpop jwt mac signature "
    "sharedkey sharedkeylite googlelogin client-id sentry zoho-oauthtoken sso-key klaviyo-api-key "
    "privatetoken private-token token68 bot".split()
)
# schemes whose credentials are a parameter list ("Digest username=..., response=...")
_PARAM_SCHEMES = frozenset("digest aws4-hmac-sha256 hawk signature mutual scram-sha-1 scram-sha-256 vapid oauth".split())
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*", _A)
_ASSIGNMENT = re.compile(r"[A-Za-z_][\w.\-]{0,40}=", _A)
_HEADER_NAME_REV = re.compile(r"[ \t]*[:=][ \t]*(?:[\"']\\{0,3})?[A-Za-z\-]{0,40}", _A)


def _header_value(text: str, e: int, name_start: int):
    """``(start, end)`` of a header's value starting at ``e``: to the end of the line, or to
    the quote that encloses the whole header (``-H "Authorization: …"``), or the value's own
    quotes (``"Authorization": "…"``)."""
    ls, le = _line_bounds(text, e)
    i = e
    while i < le and text[i] in " \t":
        i += 1
    if i >= le:
        return None
    if text[i] in "\"'":
        return (i + 1, _values.quoted_end(text, i, le))
    before = text[name_start - 1] if name_start > 0 else ""
    if before and before in "\"'":
        j = text.find(before, i, le)
        if j >= 0:
            le = j
    j = le
    while j > i and text[j - 1] in " \t\r":
        j -= 1
    return (i, j) if j > i else None


def _h_authz(text: str, hits, out) -> None:
    """``Authorization:`` / ``Proxy-Authorization:`` (any scheme): the credentials after the
    scheme word, to the header's end."""
    seen = set()
    for _s, e in hits:
        if e in seen:
            continue
        seen.add(e)
        m = _HEADER_NAME_REV.match(text[max(0, e - 60) : e][::-1])
        name_start = e - m.end() if m else e
        hv = _header_value(text, e, name_start)
        if hv is None:
            continue
        vs, ve = hv
        val = text[vs:ve]
        if _PLACEHOLDER_RX.match(val) or _REFERENCE.match(val):
            continue
        parts = val.split(None, 1)
        if len(parts) == 2 and parts[0].lower() in _SCHEMES:
            cs = vs + val.index(parts[1], len(parts[0]))
            if parts[0].lower() not in _PARAM_SCHEMES:  # one token68 (RFC 7235)
                t68 = _TOKEN68.match(text, cs, ve)
                end = t68.end() if t68 else cs
                if end < ve and text[end] not in " \t,;\"'":
                    end = _values.shell_word_end(text, cs, ve)  # an odd character: the whole word
                ve = end
            cred = text[cs:ve]
            if not value_ok(cred, True) or _PLACEHOLDER_RX.match(cred):
                continue
            typ = {"bearer": "BearerToken", "basic": "BasicAuth"}.get(parts[0].lower(), "Secret")
            out.append((cs, ve, typ))
        elif len(parts) >= 1:
            we = _values.shell_word_end(text, vs, ve)
            a = _ASSIGNMENT.match(text, vs, we)
            if a:  # "Authorization: key=AAAA…": the value of the assignment
                vs = a.end()
            if value_ok(text[vs:we], True, weak=True) and (a or len(parts) == 1):
                out.append((vs, we, "Secret"))


_SESSIONISH = re.compile(
    r"(?:sess|sid|token|auth|jwt|csrf|xsrf|remember|login|secret|key|pass|identity|saml|oidc|sso)", re.I | _A
)


def _h_cookie(text: str, hits, out) -> None:
    """``Cookie:`` (every pair) and ``Set-Cookie:`` (the first pair): values of session-like
    cookies, and any value that looks random."""
    seen = set()
    for s, e in hits:
        if e in seen:
            continue
        seen.add(e)
        m = _HEADER_NAME_REV.match(text[max(0, e - 60) : e][::-1])
        name_start = e - m.end() if m else e
        hv = _header_value(text, e, name_start)
        if hv is None:
            continue
        vs, ve = hv
        set_cookie = "set-" in text[name_start:e].lower()
        pos = vs
        while pos < ve:
            semi = text.find(";", pos, ve)
            pe = ve if semi < 0 else semi
            eq = text.find("=", pos, pe)
            if eq > pos:
                name = text[pos:eq].strip()
                a, b = eq + 1, pe
                while a < b and text[a] == " ":
                    a += 1
                while b > a and text[b - 1] in " \t":
                    b -= 1
                if b - a >= 2 and text[a] == '"' and text[b - 1] == '"':
                    a, b = a + 1, b - 1
                val = text[a:b]
                if val and value_ok(val, True) and (_SESSIONISH.search(name) or looks_random(val)):
                    out.append((a, b, "Secret"))
            if set_cookie or semi < 0:
                break
            pos = semi + 1


# --- XML -----------------------------------------------------------------------------------------
_XML_VALUE = re.compile(r"[^<\r\n]+", _A)


def _h_xml_keyed(text: str, hits, out) -> None:
    """``<password>…</password>``, ``<ns:secretKey>…``: the element's text (or CDATA)."""
    for s, e in _longest_by_start(hits).items():
        # markdown escapes "<" as "\<": \<password>\<![CDATA[…]]>\</password>
        c = e + 1 if text.startswith("\\<![CDATA[", e) else e
        if text.startswith("<![CDATA[", c):
            j = text.find("]]>", c + 9)
            if j > c + 9:
                typ = "Password" if "pass" in text[s:e].lower() or "pwd" in text[s:e].lower() else "Secret"
                out.append((c + 9, j, typ))
            continue
        m = _XML_VALUE.match(text, e)
        if m and text.startswith("</", m.end()):  # the element's text, up to its closing tag
            v = m.group().rstrip("\\").strip()
            if value_ok(v, True, ""):
                vs = m.start() + (len(m.group()) - len(m.group().lstrip()))
                typ = "Password" if "pass" in text[s:e].lower() or "pwd" in text[s:e].lower() else "Secret"
                out.append((vs, vs + len(v), typ))


_ATTR_KEY = re.compile(r"[\"']([\w.:\-]{1,80})[\"'][ \t]*\Z", _A)
_VALUE_ATTR = re.compile(r"[ \t]*(?:value|val|password)[ \t]*=[ \t]*([\"'])", re.I | _A)


def _h_xml_pair(text: str, hits, out) -> None:
    """``<add key="SmtpPassword" value="…"/>``, ``<property name="password" value="…"/>``,
    ``<entry key="password">…</entry>``."""
    for _s, e in hits:
        m = _ATTR_KEY.search(text, max(0, e - 90), e)
        if not m:
            continue
        kw = ident_is_secret_key(m.group(1))
        if kw is None:
            continue
        ls, le = _line_bounds(text, e)
        v = _VALUE_ATTR.match(text, e, le)
        if v:
            i = v.end(1) - 1
            vs, ve = i + 1, _values.quoted_end(text, i, le)
        elif text.startswith(">", e):
            x = _XML_VALUE.match(text, e + 1)
            if not x:
                continue
            vs, ve = x.start(), x.end()
            while ve > vs and text[ve - 1] in " \t":
                ve -= 1
        else:
            continue
        if value_ok(text[vs:ve], True, m.group(1), type_for(kw) == "Password", _is_weak(kw)):
            out.append((vs, ve, type_for(kw)))


# --- command-line flags --------------------------------------------------------------------------
def _h_cli_flag(text: str, hits, out) -> None:
    """``--password VALUE``, ``--token 'VALUE'``: the next shell word."""
    for s, e in _longest_by_start(hits).items():
        ls, le = _line_bounds(text, e)
        w = _values.shell_word(text, e, le)
        if w is None or text[w[0] : w[0] + 1] == "-":
            continue
        v = text[w[0] : w[1]]
        if value_ok(v, text[w[0] - 1 : w[0]] in "\"'", ""):
            flag = text[s:e].lower()
            typ = "Password" if "pass" in flag or "pwd" in flag else "Secret"
            out.append((w[0], w[1], typ))


# --- prose and .netrc ----------------------------------------------------------------------------
_PROSE_VALUE = re.compile(
    r"(?:(?:is|was|set\s+to|changed\s+to|reset\s+to|now\s+is|now|of)\b[ \t]*:?[ \t]*)?"
    r"[\"'\u201c\u2018]?([^\s\"'\u201d\u2019]+)",
    re.I,
)
_PROSE_SPECIAL = re.compile(r"[0-9!@#$%^&*_+=~\-]", _A)
_NETRC_LINE = re.compile(r"[ \t]*(?:(?:machine|default)\b.*|(?:login|account)[ \t]+\S+[ \t]+)?\Z", _A)


def _netrc(text: str, s: int, ls: int) -> bool:
    """A ``.netrc`` entry: ``machine h login u password p`` or an indented ``password p`` line."""
    head = text[ls:s]
    return bool(_NETRC_LINE.match(head)) and ("machine" in head or "default" in head or "login" in head or not head.strip())


def _h_prose_password(text: str, hits, out) -> None:
    seen = set()
    for _s, e in hits:
        if text.startswith(("for ", "policy", "authentication", "change", "expired", "reset"), e):
            continue  # sshd's "Failed password for …" and other prose: fast path
        ls, le = _line_bounds(text, e)
        kw_start = e
        while kw_start > ls and text[kw_start - 1] in " \t":
            kw_start -= 1
        while kw_start > ls and text[kw_start - 1].isalpha():
            kw_start -= 1
        if _netrc(text, kw_start, ls):
            w = _values.shell_word(text, e, le)
            if w and w[0] not in seen:
                rest = text[w[1] : le].split()
                v = text[w[0] : w[1]]
                entry = text[ls:kw_start].strip() != ""  # machine … login … password p
                if (
                    (not rest or rest[0] in ("machine", "login", "account", "default", "macdef"))
                    and value_ok(v, True)
                    and (entry or _PROSE_SPECIAL.search(v))
                ):
                    seen.add(w[0])
                    out.append((w[0], w[1], "Password"))
                    continue
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


# --- the rules -----------------------------------------------------------------------------------
_XML_KW = (
    rb"(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|secret[_\-]?key|access[_\-]?key"
    rb"|private[_\-]?key|credentials?|client[_\-]?secret|auth[_\-]?token)"
)

RULES: tuple[Rule, ...] = (
    # key = value in every syntax; and ("KEY", "value") call arguments
    Rule(
        _KEYWORDS.encode() + rb"(?:\\{0,3}[\"'])?\]?[ \t]*(?:=>|::=|:=|\?=|\.=|\+=|=|:)",
        CASELESS,
        _h_keyed,
        ("Password", "Secret", "AWSSecretKey"),
    ),
    Rule(
        _KEYWORDS.encode() + rb"\\{0,3}[\"'][ \t]*,[ \t]*",
        CASELESS,
        _h_keyed,
        ("Password", "Secret", "AWSSecretKey"),
    ),
    Rule(
        rb"\b(?:proxy-)?authorization(?:\\{0,3}[\"'])?[ \t]*[:=]",
        CASELESS,
        _h_authz,
        ("BearerToken", "BasicAuth", "Secret"),
    ),
    Rule(rb"\b(?:set-)?cookie(?:\\{0,3}[\"'])?[ \t]*:", CASELESS, _h_cookie, ("Secret",)),
    Rule(
        rb"<[a-z_:\-.]*" + _XML_KW + rb">",
        SOM | CASELESS,
        _h_xml_keyed,
        ("Password", "Secret"),
    ),
    Rule(
        rb"\b(?:key|name)[ \t]*=[ \t]*[\"'][\w.:\-]*" + _KEYWORDS.encode() + rb"[\"'][ \t]*",
        CASELESS,
        _h_xml_pair,
        ("Password", "Secret"),
    ),
    Rule(
        rb"--[a-z\-]*(?:password|passwd|pass|pwd|token|secret|api-key|apikey|access-key|secret-key|auth-key)[ \t]+",
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
