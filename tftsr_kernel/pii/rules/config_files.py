"""Secrets whose key is not a secret-ish word, recognised by the file format around them:

* Kubernetes ``Secret`` manifests: every value under ``data:`` / ``stringData:`` (YAML, and the
  ``"data": {…}`` object of ``kubectl -o json``), when the document is ``kind: Secret``;
* container env lists: ``- name: DB_PASSWORD`` followed by ``value: …`` (YAML and JSON);
* ``.pgpass`` lines ``host:port:database:user:password``.

``.netrc`` entries are read by the prose-password rule in ``generic.py``; Docker's
``config.json`` ``"auth": "…"`` by the key rule (``auth`` is a keyword).
"""

from __future__ import annotations

import re

from . import _values
from ._common import CASELESS, Rule, _A, _line_bounds
from .generic import ident_is_secret_key, type_for, value_ok

_WINDOW = 16 * 1024
_KIND_SECRET = re.compile(r"^[ \t]*kind:[ \t]*[\"']?Secret[\"']?[ \t]*(?:#.*)?\r?$|\"kind\"[ \t]*:[ \t]*\"Secret\"", re.M | _A)
_DOC_SEP = re.compile(r"^---", re.M | _A)


def _is_secret_document(text: str, ls: int, le: int) -> bool:
    """``kind: Secret`` in the same YAML document (between ``---`` lines), within 16 kB."""
    lo = max(0, ls - _WINDOW)
    hi = min(len(text), le + _WINDOW)
    start = lo
    for m in _DOC_SEP.finditer(text, lo, ls):
        start = m.end()
    m = _DOC_SEP.search(text, le, hi)
    end = m.start() if m else hi
    return _KIND_SECRET.search(text, start, end) is not None


_YAML_ENTRY = re.compile(r"[ \t]*(?:-[ \t]+)?[\"']?[\w.\-/]+[\"']?[ \t]*:[ \t]*", _A)


def _h_k8s_yaml(text: str, hits, out) -> None:
    done = set()
    for _s, e in hits:
        ls, le = _line_bounds(text, e - 1)
        if ls in done:
            continue
        done.add(ls)
        head = text[ls:e]
        key = head.strip()
        if not (key.startswith(("data:", "stringData:")) and key.split(":", 1)[1].strip() == ""):
            continue  # "data:" must be the line's key, with nothing after it
        if not _is_secret_document(text, ls, le):
            continue
        base = len(head) - len(head.lstrip(" \t"))
        pos = le + 1
        n = len(text)
        while pos < n:
            nl = text.find("\n", pos)
            line_end = n if nl < 0 else nl
            line = text[pos:line_end]
            if line.strip():
                ind = len(line) - len(line.lstrip(" \t"))
                if ind <= base:
                    break
                m = _YAML_ENTRY.match(text, pos, line_end)
                if m and not line.lstrip().startswith("#"):
                    v = _values.extract(text, m.end(), pos, line_end, line_mode=True, cli=False, query=False)
                    if v is not None and v[1] > v[0]:
                        out.append((v[0], v[1], "Secret"))
                        if v[1] > line_end:  # a block scalar: skip its lines
                            nl = text.find("\n", v[1])
                            line_end = n if nl < 0 else nl
            if nl < 0:
                break
            pos = nl + 1


_JSON_PAIR = re.compile(r"\"((?:[^\"\\]|\\.)*)\"[ \t]*:[ \t]*\"", _A)


def _h_k8s_json(text: str, hits, out) -> None:
    for _s, e in hits:
        ls, le = _line_bounds(text, e)
        if not _is_secret_document(text, ls, le):
            continue
        close = text.find("}", e)
        if close < 0:
            close = min(len(text), e + _WINDOW)
        pos = e
        while True:
            m = _JSON_PAIR.search(text, pos, close)
            if not m:
                break
            q = m.end() - 1
            j = _values.quoted_end(text, q, close)
            if j > q + 1:
                out.append((q + 1, j, "Secret"))
            pos = j + 1


_NAME_YAML = re.compile(r"name:[ \t]*[\"']?([\w.\-]+)[\"']?[ \t]*\r?\n[ \t]*-?[ \t]*value:\Z", re.I | _A)
_NAME_JSON = re.compile(r"\"name\"[ \t]*:[ \t]*\"([\w.\-]+)\"[ \t]*,[ \t]*\"value\"[ \t]*:\Z", re.I | _A)


def _h_env_pair(text: str, hits, out) -> None:
    for _s, e in hits:
        m = _NAME_YAML.search(text, max(0, e - 160), e) or _NAME_JSON.search(text, max(0, e - 160), e)
        if not m:
            continue
        kw = ident_is_secret_key(m.group(1))
        if kw is None:
            continue
        ls, le = _line_bounds(text, e)
        v = _values.extract(text, e, ls, le, line_mode=True, cli=False, query=False)
        if v is None:
            continue
        vs, ve, quoted = v
        if value_ok(text[vs:ve], quoted, m.group(1), type_for(kw) == "Password"):
            out.append((vs, ve, type_for(kw)))


_PGPASS = re.compile(
    r"[ \t]*((?:[^:\s\\#]|\\.)+):(\d{1,5}|\*):((?:[^:\s\\]|\\.)+):((?:[^:\s\\]|\\.)+):(\S+)[ \t]*\r?\Z", _A
)
_HEXISH = re.compile(r"[0-9A-Fa-f]{1,4}\Z", _A)


def _pgpass_line(text: str, ls: int, le: int, out) -> bool:
    m = _PGPASS.match(text, ls, le)
    if not m:
        return False
    host, _port, db, user, pw = m.groups()
    if not (host == "*" or any(c.isalpha() for c in host) or host.count(".") == 3):
        return False
    if all(_HEXISH.match(f) for f in (host, db, user)):
        return False  # an IPv6 address or a MAC-like run
    if ":" in pw.replace("\\:", ""):
        return False  # more fields than a .pgpass line has
    if value_ok(pw, True):
        out.append((m.start(5), m.end(5), "Password"))
    return True


def _h_pgpass(text: str, hits, out) -> None:
    """``.pgpass`` lines (``host:port:database:user:password``) after a mention of the file
    (``cat ~/.pgpass``, ``PGPASSFILE=…``), and wildcard lines (``*:*:*:postgres:pw``) anywhere.
    Without that context the shape alone is too common in logs (chip ids, hex dumps), and
    matching it at every line start made the whole scan ~30 % slower."""
    done = set()
    n = len(text)
    for _s, e in hits:
        ls, le = _line_bounds(text, e - 1 if e and text[e - 1] == ":" else e)
        if ls in done:
            continue
        done.add(ls)
        if text[ls:e].lstrip().startswith("*:"):
            _pgpass_line(text, ls, le, out)
            continue
        # the mention: this line (after the name) and the following lines while they match
        k = text.rfind(" ", e, le)
        _pgpass_line(text, k + 1 if k >= 0 else e, le, out)
        pos = le + 1
        limit = min(n, e + 8192)
        while pos < limit:
            nl = text.find("\n", pos)
            line_end = n if nl < 0 else nl
            if text[pos:line_end].strip() and not _pgpass_line(text, pos, line_end, out):
                if pos > le + 1:
                    break  # the block of .pgpass lines ended
            if nl < 0:
                break
            pos = nl + 1


_KW = rb"(?:passw(?:or)?d|passphrase|pass|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|secret[_\-]?key|private[_\-]?key|credentials?|auth)"

RULES: tuple[Rule, ...] = (
    Rule(rb"\b(?:data|stringData):[ \t]*\r?\n", 0, _h_k8s_yaml, ("Secret",)),
    Rule(rb"\"(?:data|stringData)\"[ \t]*:[ \t]*\{", 0, _h_k8s_json, ("Secret",)),
    Rule(
        rb"\bname:[ \t]*[\"']?[\w.\-]*" + _KW + rb"[\"']?[ \t]*\r?\n[ \t]*-?[ \t]*value:",
        CASELESS,
        _h_env_pair,
        ("Password", "Secret"),
    ),
    Rule(
        rb"\"name\"[ \t]*:[ \t]*\"[\w.\-]*" + _KW + rb"\"[ \t]*,[ \t]*\"value\"[ \t]*:",
        CASELESS,
        _h_env_pair,
        ("Password", "Secret"),
    ),
    Rule(rb"pgpass|(?:^|\n)[ \t]*\*:(?:\d{1,5}|\*):", CASELESS, _h_pgpass, ("Password",)),
)
