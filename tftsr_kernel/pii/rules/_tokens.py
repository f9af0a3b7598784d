"""Building blocks of the service-specific secret families (cloud, code hosts, chat, SaaS, AI,
keys): a compact table row per format, turned into anchor rules.

Two kinds of row:

* :func:`tok` -- a token with a recognisable shape, usually a distinctive literal prefix
  (``dop_v1_``, ``SG.``, ``hvs.``).  The hyperscan anchor is the literal itself (or a short,
  fixed-length shape when the prefix is too common on its own); the handler steps back to the
  token's start, matches the full shape with Python ``re`` there, checks the characters around
  it and, where the format has one, a checksum or a minimum entropy.
* :func:`kw` -- a value that has no shape of its own and is only a secret because of the key it
  is assigned to (``DATADOG_APP_KEY=...``, ``"sentry_auth_token": "..."``, ``X-Postmark-Server-
  Token: ...``).  The anchor is the keyword (case-insensitive literals); the handler reads the
  rest of the key, an assignment in any common syntax (``=``, ``:``, ``:=``, ``=>``, ``?=``,
  ``,`` as in ``setProperty("X", "v")``, a space in HTTP-header or CLI form) and a value of the
  family's charset and length, and requires a minimum Shannon entropy so ``changeme`` or
  ``xxxxxxxx`` is not reported as a Datadog key.

Python regexes are compiled on first use: a process that never meets a Mailgun key does not pay
for compiling its shape (there are a few hundred of them and ``tftsr pii`` start-up is measured).
"""

from __future__ import annotations

import math
import re
import zlib

from ._common import CASELESS, SOM, Rule

_A = re.ASCII
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
#: characters that continue a token: a match touching one of these on either side is a part of a
#: longer word (``xhvs.``, ``ghp_...x``) and is not reported
TOKEN_CHARS = _WORD | frozenset("-")
#: what must not come right before a token: a token character or a dot (``video_box.ico-7a38...``
#: is a file name, not an Infracost key)
TOKEN_BEFORE = TOKEN_CHARS | frozenset(".")
B64_CHARS = _WORD | frozenset("+/=-")
#: what must not come right before a base64 token ("=" may: ``key=FwoG...``)
B64_BEFORE = _WORD | frozenset("+/")


def entropy(s: str) -> float:
    """Shannon entropy of ``s`` in bits per character."""
    if not s:
        return 0.0
    n = len(s)
    counts: dict[str, int] = {}
    for c in s:
        counts[c] = counts.get(c, 0) + 1
    return -sum(k / n * math.log2(k / n) for k in counts.values())


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62_crc32(s: str, width: int = 6) -> str:
    """CRC32 of ``s`` in base 62, left-padded with ``0`` to ``width``: the checksum GitHub puts
    at the end of its tokens (and npm copied for ``npm_`` tokens)."""
    n = zlib.crc32(s.encode())
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = _B62[r] + out
    return out.rjust(width, "0")


def github_checksum_ok(token: str) -> bool:
    """``ghp_`` + 30 random characters + their base-62 CRC32 (6 characters)."""
    body = token.split("_", 1)[-1]
    return len(body) == 36 and base62_crc32(body[:30]) == body[30:]


class _Lazy:
    """A regex compiled on first use."""

    __slots__ = ("src", "flags", "rx")

    def __init__(self, src: str, flags: int = 0):
        self.src = src
        self.flags = flags | _A
        self.rx = None

    def get(self) -> re.Pattern:
        rx = self.rx
        if rx is None:
            rx = self.rx = re.compile(self.src, self.flags)
        return rx


_FILLER = re.compile(r"([A-Za-z0-9*#])\1{7,}", _A)


def placeholder(body: str) -> bool:
    """A documentation placeholder rather than a credential: ``ghp_xxxx...``, ``pnu_XXXX...``,
    ``glc_1111...``: two or fewer distinct characters besides separators, or a run of eight or
    more of the same character."""
    return len(set(body) - set("-_.=")) <= 2 or _FILLER.search(body) is not None


def lit(s: str) -> bytes:
    """A literal as a hyperscan pattern."""
    return re.escape(s).encode()


# --- shaped tokens ---------------------------------------------------------------------------
def tok(
    type_: str,
    anchor: str | bytes,
    shape: str,
    *,
    back: int | None = None,
    som: bool = False,
    caseless: bool = False,
    group: int | str = 0,
    min_entropy: float = 0.0,
    check=None,
    before: frozenset | None = TOKEN_BEFORE,
    after: frozenset | None = TOKEN_CHARS,
    url: bool | str = False,
) -> Rule:
    """A token rule.

    ``anchor``: a literal (``str``) or a hyperscan pattern (``bytes``).  ``shape``: the Python
    regex of the whole token, matched where the token starts: ``back`` characters before the
    anchor's end (default: the literal's length) or, with ``som``, at the anchor's start.
    ``group``: the part of the match that is the secret.  ``before`` / ``after``: characters that
    must not touch the match (None: anything may).  ``check(value) -> bool``: a checksum or
    other test of the secret.  ``min_entropy``: bits per character of the secret.  A value that
    is a documentation placeholder (:func:`placeholder`) is never reported.  ``url``: the match
    is a URL's host and path; the span reaches back over its ``https://`` (the whole URL is
    the credential, as with webhooks); ``url="host"``: the match starts at the dot after the
    host's first label, which the span takes in too.
    """
    if isinstance(anchor, str):
        pattern = lit(anchor)
        if back is None and not som:
            back = len(anchor)
        # the placeholder test looks past the literal when it is the token's prefix
        skip = len(anchor) if back == len(anchor) else 0
    else:
        pattern = anchor
        skip = 0
    if back is None and not som:
        raise ValueError(f"{type_}: a pattern anchor needs back= or som=True")
    rx = _Lazy(shape, re.I if caseless else 0)

    def handler(text: str, hits, out) -> None:
        seen = set()
        m_ = rx.get().match
        n = len(text)
        for s, e in hits:
            if not som:
                s = e - back
                if s < 0:
                    continue
            if s in seen:
                continue
            seen.add(s)
            if before is not None and s and text[s - 1] in before:
                continue
            m = m_(text, s)
            if m is None:
                continue
            t = m.end()
            if after is not None and t < n and text[t] in after:
                continue
            vs, ve = m.span(group)
            if ve <= vs:
                continue
            val = text[vs:ve]
            if min_entropy and entropy(val) < min_entropy:
                continue
            if placeholder(val[skip if vs == s else 0 :]):
                continue
            if check is not None and not check(val):
                continue
            if url:
                if url == "host":  # the match starts at the dot after the first host label
                    while vs and (text[vs - 1].isalnum() or text[vs - 1] == "-") and text[vs - 1].isascii():
                        vs -= 1
                if text.startswith("https://", vs - 8):
                    vs -= 8
                elif text.startswith("http://", vs - 7):
                    vs -= 7
            out.append((vs, ve, type_))

    handler.__name__ = f"_h_{type_}"
    flags = (SOM if som else 0) | (CASELESS if caseless else 0)
    return Rule(pattern, flags, handler, (type_,))


# --- values by key name ----------------------------------------------------------------------
# what may follow a keyword before the value: the rest of the key (``_API_KEY``, ``.token``), a
# closing quote or bracket, the assignment in any common syntax, an opening quote.
_KV_TAIL = re.compile(
    r"[A-Za-z0-9_.\-]{0,32}"
    r"(?:\\?[\"'\]`])?[ \t]*"
    # the assignment: operators of every common syntax; an XML element (<KEY>v); a key/value
    # attribute pair (key="KEY" value="v"); a JSON name/value pair ("name": "KEY", "value": "v")
    r"(?:[ \t]+value[ \t]*=|,[ \t]*\\?\"value\\?\"[ \t]*:|=>|::=|:=|\?=|\.=|\|\|=|\+=|=|:|,|->|>|[ \t])"
    r"[ \t]*(?:\\?[\"'`]|\(|[ \t])?[ \t]*"
    # prose: "datadog api key 0f3a...", "sentry credential is 9c1e..."
    r"(?:(?:api[ _\-]?)?(?:key|token|secret|credentials?|password|pat)[ \t]*(?:is|=|:)?[ \t]*[\"'`]?)?",
    _A,
)
# a header-style value that starts with a scheme word: ``Authorization: SSWS 00a...``
_SCHEME_WORDS = ("bearer ", "token ", "ssws ", "apikey ", "api-key ", "key ", "splunk ", "bot ", "basic ", "genieKey ")


def kw(
    keywords: tuple[str, ...],
    values: tuple[tuple[str, str, float], ...],
) -> Rule:
    """A keyword rule: ``keywords`` (case-insensitive literals that start the key), ``values``:
    ``(type, value regex, min entropy)`` tried in order; the first that matches where the value
    starts names the span.  A value must not run on into more token characters."""
    # each keyword also in its hyphenated form (--datadog-api-key, X-Datadog-Api-Key); sorted by
    # (length, text), not set order: the patterns are the database cache key
    by_len = sorted({v for k in keywords for v in (k.lower(), k.lower().replace("_", "-"))}, key=lambda k: (-len(k), k))
    alts = b"|".join(lit(k) for k in by_len)
    compiled = [(t, _Lazy(v + r"(?![A-Za-z0-9+/_\-])"), h) for t, v, h in values]
    types = tuple(dict.fromkeys(t for t, _v, _h in values))

    def handler(text: str, hits, out) -> None:
        seen = set()
        n = len(text)
        for _s, e in hits:
            if e in seen:
                continue
            seen.add(e)
            low_end = text[max(0, e - 40) : e].lower()
            k = next((k for k in by_len if low_end.endswith(k)), None)
            ks = e - len(k) if k else e
            if ks and text[ks - 1].isalpha() and not (text[ks - 1].islower() and text[ks].isupper()):
                continue  # inside a word: "rookTable" holds no Okta key
            m = _KV_TAIL.match(text, e, min(n, e + 64))
            if m is None:
                continue
            vs = m.end()
            low = text[vs : vs + 10].lower()
            for w in _SCHEME_WORDS:
                if low.startswith(w.lower()):
                    vs += len(w)
                    break
            for t, rx, h in compiled:
                v = rx.get().match(text, vs)
                if v is None or v.end() == vs:
                    continue
                val = v.group()
                if h and entropy(val) < h:
                    continue
                out.append((vs, v.end(), t))
                break

    handler.__name__ = f"_h_kw_{types[0]}"
    return Rule(b"(?:" + alts + b")", CASELESS, handler, types)


# value shapes used by several keyword rules
HEX32 = r"[0-9a-fA-F]{32}"
HEX40 = r"[0-9a-fA-F]{40}"
HEX64 = r"[0-9a-fA-F]{64}"
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ALNUM = r"[A-Za-z0-9]"
TOKEN = r"[A-Za-z0-9_\-]"
B64 = r"[A-Za-z0-9+/]"
