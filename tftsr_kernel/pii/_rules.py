"""Built-in detection rules.

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
from operator import itemgetter
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


def card_prefix_ok(d: str) -> bool:
    n = len(d)
    p2 = int(d[:2])
    p4 = int(d[:4])
    p6 = int(d[:6])
    if d[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p4 == 6011 or p2 == 65 or 644 <= int(d[:3]) <= 649 or 622126 <= p6 <= 622925:
        return 16 <= n <= 19
    if 300 <= int(d[:3]) <= 305 or p2 in (36, 38, 39) or p4 == 3095:
        return 14 <= n <= 19
    if 3500 <= p4 <= 3599:  # JCB (3528-3589; test generators use all of 35xx)
        return 16 <= n <= 19
    if p4 in (2131, 1800):
        return n == 15
    if p2 == 62:
        return 16 <= n <= 19
    if p4 in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763) or 56 <= p2 <= 58:
        return 12 <= n <= 19  # Maestro
    if p2 == 50 or 56 <= p2 <= 69:
        return 13 <= n <= 19
    return False


_IBAN_LEN = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def iban_ok(compact: str) -> bool:
    """``compact``: upper-case IBAN without spaces."""
    if _IBAN_LEN.get(compact[:2]) != len(compact):
        return False
    if not compact[2:4].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


# --- network ---------------------------------------------------------------------------------
_VERSION_BEFORE = re.compile(r"\b(?:version|ver\.?|v)[ :=]*\Z", re.I | _A)
_IPV4_OK: dict[str, int] = {}


def _ipv4_octets_ok(tok: str) -> bool:
    return max(map(int, tok.split("."))) <= 255


_DIGITS = frozenset("0123456789")


def _ipv4_verdict(w: str) -> int:
    """Verdict for an IPv4 anchor hit seen with two characters of context on each side
    (``w`` = ``text[s - 2 : e + 2]`` of the text padded with two newlines at both ends; a
    hit at offset 1 gets two newlines before it, as the checks skip the context there): 0 reject, 1 accept, 2
    accept unless a version word precedes (checked on the text)."""
    tok = w[2:-2]
    if not _ipv4_octets_ok(tok) or tok in ("0.0.0.0", "255.255.255.255"):
        return 0
    c = w[1]
    v = 1
    if c == "." or c == "-":
        if w[0].isalnum():
            return 0  # a longer dotted run, or a package version: linux-2.6.18.8
    elif c == "~":
        return 0  # Windows package versions: amd64~~6.1.1.0
    elif c in " :=" and w[0] in "nNrRvV:= ":
        v = 2
    if w[-2] == "." and w[-1].isdigit():
        return 0
    return v


_IPV4_KEY = 17  # characters before a hit's end in its cache key: an address has at most 15


def _ipv4_length(key: str) -> int:
    """Length of the address whose hit ends at offset ``_IPV4_KEY`` of ``key``: the anchor
    matched four dot-separated groups ending there, with a word boundary before them."""
    k = _IPV4_KEY
    i = k
    while i and (key[i - 1] in _DIGITS or key[i - 1] == "."):
        i -= 1
    return len(".".join(key[i:k].split(".")[-4:]))


def _ipv4_key_verdict(key: str) -> int:
    """Verdict for the IPv4 anchor hit whose end is at offset ``_IPV4_KEY`` of ``key``
    (``text[e - 17 : e + 2]``, shorter at the text's end): the address's length when it is
    accepted, minus the length when it is accepted unless a version word precedes it, 0 when
    it is rejected."""
    length = _ipv4_length(key)
    w = key[_IPV4_KEY - length - 2 :]
    w += "\n" * (length + 4 - len(w))
    v = _ipv4_verdict(w)
    return length if v == 1 else (-length if v == 2 else 0)


def _h_ipv4(text: str, hits, out) -> None:
    """Reject octets over 255, dotted runs longer than four numbers (1.2.3.4.5, x.1.2.3.4),
    package versions (linux-2.6.18.8, amd64~~6.1.1.0), version numbers ("version 0.0.0.6") and
    the addresses 0.0.0.0 / 255.255.255.255.  This runs for every address in a log, so it is
    written for speed.  The anchor reports end offsets only (asking hyperscan for the start
    slowed the whole scan by ~8 %): the verdict and the address's length depend only on the
    17 characters before the end and two after (plus, rarely, a version word before it), so
    they are cached by that key, and the hits are filtered with comprehensions."""
    cache = _IPV4_OK
    if len(cache) > 100_000:
        cache.clear()
    if not hits:
        return
    k = _IPV4_KEY
    # a key would reach before the text (an address has three dots before its end): by hand
    if "." in text[: k + 2] and min(map(itemgetter(1), hits)) < k + 2:
        early = [h for h in hits if h[1] < k + 2]
        hits = [h for h in hits if h[1] >= k + 2]
        pad = "\n" * k + text[: 2 * k]
        for _s, e in early:
            key = pad[e : e + k + 2]
            length = _ipv4_length(key)
            s = e - length
            if s == 1:  # as for the first character: no context before the text
                key = "\n" * (k - length) + key[k - length :]
            n = _ipv4_key_verdict(key)
            if n < 0:
                n = 0 if _VERSION_BEFORE.search(text, max(0, s - 12), s) else -n
            if n:
                out.append((s, e, "IPv4"))
    keys = [text[e - k : e + 2] for _s, e in hits]
    for key in set(keys).difference(cache):
        cache[key] = _ipv4_key_verdict(key)
    vs = list(map(cache.__getitem__, keys))
    if min(vs, default=0) < 0:  # a version word may come before: look at the text
        search = _VERSION_BEFORE.search
        for i, n in enumerate(vs):
            if n < 0:
                s = hits[i][1] + n
                vs[i] = 0 if search(text, max(0, s - 12), s) else -n
    out.extend([(e - n, e, "IPv4") for (_s, e), n in zip(hits, vs) if n])


_HEXCOLON_REV = re.compile(r"[0-9A-Fa-f:.]*", _A)
_HEXCOLON_FWD = re.compile(r"[0-9A-Fa-f:.]*", _A)
_ZONE = re.compile(r"%[A-Za-z0-9_.\-]+", _A)
_PORT_TAIL = re.compile(r":\d{1,5}\Z", _A)


_V6_CACHE: dict[str, bool] = {}


def _ipv6_valid(tok: str) -> bool:
    ok = _V6_CACHE.get(tok)
    if ok is not None:
        return ok
    ok = False
    if ":" in tok and (tok.count(":") >= 7 or "::" in tok or "." in tok):
        import ipaddress  # imported here: it costs start-up time and IPv6 is rare

        try:
            ok = int(ipaddress.IPv6Address(tok)) != 0  # not the unspecified address "::"
        except ValueError:
            ok = False
    if len(_V6_CACHE) > 50_000:
        _V6_CACHE.clear()
    _V6_CACHE[tok] = ok
    return ok


_HEX = frozenset("0123456789abcdefABCDEF")


def _h_ipv6(text: str, hits, out) -> None:
    seen = set()
    n = len(text)
    hexd = _HEX
    for _s, e in hits:
        if e >= 3 and text[e - 2] == ":" and text[e - 1] == ":":
            # "::" anchor: Foo::bar, std::string and the like are rejected without a scan
            c = text[e - 3]
            if c not in hexd and (c.isalnum() or c == "_"):
                continue
            if e < n:
                c = text[e]
                if c not in hexd and (c.isalnum() or c == "_"):
                    continue
        left = _back(text, e, _HEXCOLON_REV, 80)
        right = _HEXCOLON_FWD.match(text, e).end()
        if (left, right) in seen:
            continue
        seen.add((left, right))
        s, t = left, right
        while s < t and text[s] == ".":
            s += 1
        while t > s and text[t - 1] == ".":
            t -= 1
        if text.startswith(":", s) and not text.startswith("::", s):
            s += 1
        if t - s > 1 and text[t - 1] == ":" and text[t - 2] != ":":
            t -= 1
        if s and _isword(text[s - 1]):
            continue
        if t < n and _isword(text[t]):
            continue
        tok = text[s:t]
        if not _ipv6_valid(tok):
            m = _PORT_TAIL.search(tok)
            if not m or not _ipv6_valid(tok[: m.start()]):
                continue
            t = s + m.start()
        if t < n and text[t] == "%":
            z = _ZONE.match(text, t)
            if z:
                t = z.end()
        out.append((s, t, "IPv6"))


_HEXSEP_REV = re.compile(r"[0-9A-Fa-f:\-]*", _A)
_MAC_FULL = re.compile(r"[0-9A-Fa-f]{2}([:\-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}\Z", _A)


def _h_hexsep(text: str, hits, out) -> None:
    """End offsets of runs of hex groups joined by five or more ``:``/``-``: a MAC address
    (exactly six pairs, one kind of separator), a full-form IPv6 address, or neither
    (fingerprints, 12-pair chip ids, dashed serial numbers)."""
    n = len(text)
    seen = set()
    v6 = []
    last_right = -1
    for _s, e in hits:
        if e <= last_right:
            continue  # another end inside the run already handled (hits come in end order)
        left = _back(text, e, _HEXSEP_REV, 64)
        right = _HEXSEP_REV.match(text, e).end()
        last_right = right
        if (left, right) in seen:
            continue
        seen.add((left, right))
        if text.count(":", left, right) >= 5:
            v6.append((0, e))
        while left < right and text[left] in ":-":
            left += 1
        while right > left and text[right - 1] in ":-":
            right -= 1
        if right - left != 17 or not _MAC_FULL.match(text, left, right):
            continue
        if (left and _isword(text[left - 1])) or (right < n and _isword(text[right])):
            continue
        compact = text[left:right].replace(text[left + 2], "").lower()
        if compact in ("000000000000", "ffffffffffff"):
            continue
        out.append((left, right, "MAC"))
    if v6:
        _h_ipv6(text, v6, out)


def _h_mac(text: str, hits, out) -> None:
    n = len(text)
    for s, e in _longest_by_start(hits).items():
        tok = text[s:e]
        sep = tok[2] if tok[2] in ":-" else "."
        if sep != "." and tok.count(sep) != 5:
            continue  # mixed separators
        if s >= 2 and text[s - 1] in ":-." and text[s - 2].isalnum():
            continue  # longer colon/dash sequence: fingerprint, IPv6, UUID
        if e + 1 < n and text[e] in ":-." and text[e + 1].isalnum():
            continue
        compact = tok.replace(sep, "").lower()
        if compact in ("000000000000", "ffffffffffff"):
            continue
        if sep == "." and compact.isdigit():
            continue
        out.append((s, e, "MAC"))


# TLDs accepted as the last label of a host name.  Country codes that are common file
# extensions (sh, py, rs, md, so, cc, pm, ps, mk, tf, am, ac, mo, ml) and gTLDs that are file
# or bundle extensions (app, zip, mov) are left out on purpose.
_GTLDS = (
    "com net org edu gov mil int info biz name pro mobi asia tel travel jobs aero coop museum "
    "io co ai dev cloud online site tech xyz top club store shop blog page live news email link "
    "click space website network systems solutions services software host hosting company center "
    "global group media zone tools works run ltd inc llc arpa "
    "local localdomain internal intranet corp lan home private"
)
_CCTLDS = (
    "ad ae af ag al ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw "
    "by bz ca cd cf cg ch ci ck cl cm cn cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es "
    "et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn "
    "hr ht hu id ie il im in iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc "
    "li lk lr ls lt lu lv ly ma mc me mg mh mn mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng "
    "ni nl no np nr nu nz om pa pe pf pg ph pk pl pn pr pt pw py qa re ro ru rw sa sb sc sd se sg "
    "si sk sl sm sn sr ss st sv sx sy sz tc td tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us "
    "uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw"
)
_NOT_TLD = {"py"}
TLDS = frozenset(_GTLDS.split()) | (frozenset(_CCTLDS.split()) - _NOT_TLD)
# first labels that mark a Java / reverse-DNS package name rather than a host
_PACKAGE_ROOTS = frozenset(
    "java javax jdk sun android androidx kotlin kotlinx scala groovy com org net io edu gov".split()
)
_HOST_REV = re.compile(r"[\w.\-]*")  # Unicode, so café.example.com is covered whole
_HOST_CACHE: dict[str, bool] = {}


def _host_ok(tok: str) -> bool:
    labels = tok.split(".")
    if len(labels) < 2:
        return False
    for lab in labels:
        if not lab or len(lab) > 63 or lab[0] == "-" or lab[-1] == "-":
            return False
    tld = labels[-1]
    if tld.lower() not in TLDS or not (tld.islower() or tld.isupper()):
        return False
    if len(labels) >= 3 and labels[0].lower() in _PACKAGE_ROOTS:
        return False
    if all(lab.isdigit() for lab in labels[:-1]):
        return False
    return True


_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _host_start(tok: str) -> int:
    """Offset of the host name in ``tok`` (a run of name characters ending in a TLD), or -1."""
    k = 0
    while k < len(tok) and tok[k] in ".-_":
        k += 1
    return k if _host_ok(tok[k:]) else -1


_HOST_KEY = 32  # characters before the anchor's end that key the per-hit verdict cache
_HOST_WCACHE: dict[str, tuple | None] = {}


def _host_verdict(key: str):
    """Where the host name lies for an anchor hit ending at the end of ``key`` (the
    ``_HOST_KEY`` characters before the hit's end, fewer at the text's start): ``(start, end)``
    relative to the hit's end, None when there is no host name, ``()`` when the name may run
    on before ``key`` (the caller looks at the text)."""
    n = len(key)
    # the anchor consumed up to two terminator characters after the TLD: step back to it
    e = n if key[n - 1 : n] in _ASCII_LETTERS else (n - 1 if key[n - 2 : n - 1] in _ASCII_LETTERS else n - 2)
    s = e - _HOST_REV.match(key[:e][::-1]).end()
    if s == 0 and n == _HOST_KEY:
        return ()
    tok = key[s:e]
    k = _HOST_CACHE.get(tok)
    if k is None:
        k = _HOST_CACHE[tok] = _host_start(tok)
    return None if k < 0 else (s + k - n, e - n)


def _h_host_text(text: str, hits, out) -> None:
    match = _HOST_REV.match
    # the anchor consumed up to two terminator characters after the TLD: step back to it
    ends = [e if text[e - 1 : e] in _ASCII_LETTERS else (e - 1 if text[e - 2 : e - 1] in _ASCII_LETTERS else e - 2) for _s, e in hits]
    starts = [e - match(text[e - 128 if e > 128 else 0 : e][::-1]).end() for e in ends]
    for i, (s, e) in enumerate(zip(starts, ends)):
        if e - s == 128:  # the run may go on: look further back
            starts[i] = _back(text, e, _HOST_REV, 4096)
    cache = _HOST_CACHE
    toks = [text[s:e] for s, e in zip(starts, ends)]
    for tok in set(toks).difference(cache):
        cache[tok] = _host_start(tok)
    get = cache.__getitem__
    out.extend([(s + k, e, "Hostname") for s, e, tok in zip(starts, ends, toks) if (k := get(tok)) >= 0])


def _h_host(text: str, hits, out) -> None:
    """Host names end where the anchor (TLD plus terminator) matched; the start is found
    backwards.  Logs repeat the same few names, so the verdict is cached by the text just
    before the hit's end, which determines it whenever the name starts inside that key."""
    if not hits:
        return
    if len(_HOST_CACHE) > 100_000:
        _HOST_CACHE.clear()
    wc = _HOST_WCACHE
    if len(wc) > 100_000:
        wc.clear()
    kl = _HOST_KEY
    if "." not in text[:kl] or min(map(itemgetter(1), hits)) >= kl:  # an anchor has a "."
        keys = [text[e - kl : e] for _s, e in hits]
    else:
        keys = [text[e - kl if e > kl else 0 : e] for _s, e in hits]
    for key in set(keys).difference(wc):
        wc[key] = _host_verdict(key)
    vs = list(map(wc.__getitem__, keys))
    out.extend([(e + v[0], e + v[1], "Hostname") for (_s, e), v in zip(hits, vs) if v])
    if () in vs:  # names longer than the key: the text decides
        _h_host_text(text, [h for h, v in zip(hits, vs) if v == ()], out)


_EMAIL_LOCAL_REV = re.compile(r"[\w.%+\-]{1,65}")  # Unicode: jörg@example.de
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+", _A)
_URL_USERINFO_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@]*:\Z", _A)


def _h_email(text: str, hits, out) -> None:
    seen = set()
    for _s, e in hits:
        at = text.rfind("@", 0, e)
        if at in seen or at < 1:
            continue
        seen.add(at)
        m = _EMAIL_LOCAL_REV.match(text[max(0, at - 65) : at][::-1])
        if not m or m.end() > 64:
            continue  # a local part is at most 64 characters: this is a token, not an address
        s = at - m.end()
        while s < at and text[s] in ".":
            s += 1
        if s >= at:
            continue
        if text[s - 1 : s] == ":" and _URL_USERINFO_BEFORE.search(text, max(0, s - 300), s):
            continue  # scheme://user:password@host -- URL credentials, not an e-mail address
        d = _EMAIL_DOMAIN.match(text, at + 1)
        if not d:
            continue
        t = d.end()
        while text[t - 1] in ".-":
            t -= 1
        tld = text[text.rfind(".", at, t) + 1 : t]
        if len(tld) < 2 or not tld.isalpha():
            continue
        out.append((s, t, "Email"))


_AUTHORITY = re.compile(r"[^\s/?#\"'<>\\]*", _A)


def _token_like_user(u: str) -> bool:
    """A user part without password that is itself a credential or an address: long and mixing
    letters and digits (a token), or an encoded e-mail address.  Actor-system names such as
    ``akka.tcp://sparkExecutorActorSystem@host`` are not."""
    if "%40" in u or "@" in u:
        return True
    return len(u) >= 16 and any(c.isdigit() for c in u) and any(c.isalpha() for c in u)


def _h_url_creds(text: str, hits, out) -> None:
    for _s, e in hits:
        m = _AUTHORITY.match(text, e)
        auth = m.group()
        at = auth.rfind("@")
        if at <= 0:
            continue
        userinfo = auth[:at]
        if ":" in userinfo or _token_like_user(userinfo):
            out.append((e, e + at, "URLCredentials"))


# --- personal --------------------------------------------------------------------------------
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


# --- financial -------------------------------------------------------------------------------
def _h_card(text: str, hits, out) -> None:
    n = len(text)
    for s, e in _longest_by_start(hits).items():
        if s:
            c = text[s - 1]
            if c == "_" or (c in "-." and s >= 2 and _isword(text[s - 2])):
                continue  # blk_-1608999687919862906, v1.2345...
        if e + 1 < n and text[e] in ".-" and text[e + 1].isdigit():
            continue
        tok = text[s:e]
        if "-" in tok and " " in tok:
            continue  # mixed separators
        digits = tok.replace(" ", "").replace("-", "")
        if not 12 <= len(digits) <= 19:
            continue
        if not card_prefix_ok(digits) or not luhn_ok(digits):
            continue
        out.append((s, e, "CreditCard"))


def _h_iban(text: str, hits, out) -> None:
    groups: dict[int, list[int]] = {}
    for s, e in hits:
        groups.setdefault(s, []).append(e)
    for s, ends in groups.items():
        for e in sorted(set(ends), reverse=True):
            tok = text[s:e]
            letters = "".join(c for c in tok if c.isalpha())
            if not (letters.isupper() or letters.islower()):
                continue
            compact = tok.replace(" ", "").upper()
            if iban_ok(compact):
                out.append((s, e, "IBAN"))
                break


# --- secrets with a recognisable format -------------------------------------------------------
def _token_rule(type_: str, tail_rx: re.Pattern | None = None) -> Handler:
    """Exact token patterns: keep the longest match per start; optional check of what follows."""

    def handler(text: str, hits, out) -> None:
        for s, e in _longest_by_start(hits).items():
            if tail_rx is not None and tail_rx.match(text, e):
                continue
            out.append((s, e, type_))

    handler.__name__ = f"_h_{type_}"
    return handler


_AWS_SECRET_IN_LINE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", _A)


def _aws_secret_shape(v: str) -> bool:
    if len(v) != 40:
        return False
    if all(c in "0123456789abcdefABCDEF" for c in v):
        return False  # a sha1
    has_upper = any(c.isupper() for c in v)
    has_lower = any(c.islower() for c in v)
    return (has_upper and has_lower) or "/" in v or "+" in v


def _h_aws_access(text: str, hits, out) -> None:
    lines = set()
    for s, e in _longest_by_start(hits).items():
        out.append((s, e, "AWSAccessKey"))
        lines.add(_line_bounds(text, s))
    for ls, le in lines:  # a 40-character secret on the same line (credentials CSV, env dumps)
        for m in _AWS_SECRET_IN_LINE.finditer(text, ls, le):
            if _aws_secret_shape(m.group()):
                out.append((m.start(), m.end(), "AWSSecretKey"))


def _h_slack_webhook(text: str, hits, out) -> None:
    for s, e in _longest_by_start(hits).items():
        k = text.find("/", s + len("hooks.slack.com/"), e)
        if k > 0:
            out.append((k + 1, e, "SlackToken"))


_PEM_END = re.compile(r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----", _A)
_PEM_BODY = re.compile(
    r"(?:[ \t]*(?:\r?\n|\\r\\n|\\n)?[ \t]*(?:[A-Za-z0-9+/=]+|[A-Za-z][A-Za-z\-]*:[^\r\n]*))*", _A
)
PEM_LIMIT = 256 * 1024


def _h_private_key(text: str, hits, out) -> None:
    last_end = -1
    for s, e in sorted(_longest_by_start(hits).items()):
        if s < last_end:
            continue
        m = _PEM_END.search(text, e, min(len(text), e + PEM_LIMIT))
        if m:
            t = m.end()
        else:  # truncated block: cover every following line that looks like key material
            t = _PEM_BODY.match(text, e).end()
        last_end = t
        out.append((s, t, "PrivateKey"))


_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*", _A)
_BASIC_VALUE = re.compile(r"[A-Za-z0-9+/]{4,}={0,2}(?![A-Za-z0-9+/=])", _A)


def _authz_context(text: str, pos: int) -> bool:
    return "authoriz" in text[max(0, pos - 60) : pos].lower()


def _h_bearer(text: str, hits, out) -> None:
    seen = set()
    for _s, e in hits:
        m = _TOKEN68.match(text, e)
        if not m or m.start() in seen:
            continue
        seen.add(m.start())
        tok = m.group()
        if _authz_context(text, e):
            ok = True
        else:
            has_d = any(c.isdigit() for c in tok)
            has_a = any(c.isalpha() for c in tok)
            ok = len(tok) >= 16 or (len(tok) >= 8 and has_d and has_a)
        if ok:
            out.append((m.start(), m.end(), "BearerToken"))


def _h_basic(text: str, hits, out) -> None:
    seen = set()
    for _s, e in hits:
        m = _BASIC_VALUE.match(text, e)
        if not m or m.start() in seen:
            continue
        seen.add(m.start())
        ok = _authz_context(text, e)
        if not ok:
            import base64
            import binascii

            try:
                raw = base64.b64decode(m.group(), validate=True)
                ok = b":" in raw and raw.isascii() and all(32 <= b < 127 for b in raw)
            except (binascii.Error, ValueError):
                ok = False
        if ok:
            out.append((m.start(), m.end(), "BasicAuth"))


# --- secrets by key name ---------------------------------------------------------------------
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


# --- the table -------------------------------------------------------------------------------
_NOT_KEYCHAR = re.compile(r"[A-Za-z0-9_\-]", _A)
# Octet ranges are checked in Python: an exact-octet pattern made the whole database ~1.7x slower.
_IPV4_P = rb"\b(?:\d{1,3}\.){3}\d{1,3}\b"
_TLD_ALT = "|".join(sorted(TLDS, key=lambda t: (-len(t), t))).encode()

RULES: tuple[Rule, ...] = (
    # network
    Rule(_IPV4_P, 0, _h_ipv4, ("IPv4",)),
    Rule(rb"::", 0, _h_ipv6, ("IPv6",)),
    # MAC addresses and full-form IPv6 share one anchor (two patterns scanned ~6 % slower)
    Rule(rb"(?:[0-9a-f]{1,4}[:\-]){5}[0-9a-f]{1,4}", CASELESS, _h_hexsep, ("IPv6", "MAC")),
    Rule(rb"\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b", SOM | CASELESS, _h_mac, ("MAC",)),
    # a TLD, then a terminator that ends the name (not "." or "-" followed by more name): the
    # anchor does not fire inside x.com.pt or org.net.Foo.  Consuming the terminator instead of
    # "\b" scanned ~8 % faster and reports ~40 % fewer hits.
    Rule(
        rb"\.(?:" + _TLD_ALT + rb")(?:[^A-Za-z0-9_.\-]|[.\-](?:[^A-Za-z0-9_]|$)|$)",
        CASELESS,
        _h_host,
        ("Hostname",),
    ),
    Rule(rb"[a-z0-9._%+\-]@[a-z0-9\-]+\.[a-z0-9]", CASELESS, _h_email, ("Email",)),
    Rule(rb"://", 0, _h_url_creds, ("URLCredentials",)),
    # personal
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
    # financial
    # contiguous card numbers: issuers start with 2-6 (1800 is JCB); 12 digits only for Maestro.
    # One alternation: as three patterns the database scanned ~1.5x slower.
    Rule(
        rb"\b(?:[2-6]\d{12,18}|1800\d{11}|(?:5018|5020|5038|5893|6304|6759|676[1-3]|5[6-8]\d\d)\d{8})\b",
        SOM,
        _h_card,
        ("CreditCard",),
    ),
    Rule(
        rb"\b\d{4}[ \-]\d{4,6}[ \-]\d{4,5}(?:[ \-]\d{1,4}(?:[ \-]\d{3})?)?\b",
        SOM,
        _h_card,
        ("CreditCard",),
    ),
    # upper case only: a case-insensitive IBAN anchor doubled the database's scan time
    Rule(
        rb"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", SOM, _h_iban, ("IBAN",)
    ),
    # secrets with a format
    Rule(
        rb"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b",
        SOM,
        _h_aws_access,
        ("AWSAccessKey", "AWSSecretKey"),
    ),
    Rule(rb"\bgh[pousr]_[A-Za-z0-9]{36,}\b", SOM, _token_rule("GitHubToken"), ("GitHubToken",)),
    Rule(rb"\bgithub_pat_[A-Za-z0-9_]{22,}\b", SOM, _token_rule("GitHubToken"), ("GitHubToken",)),
    Rule(
        rb"\bgl(?:pat|dt|rt|ptt|cbt|oas|soat|ft|imt|agent|wt)-[A-Za-z0-9_\-]{20,}",
        SOM,
        _token_rule("GitLabToken"),
        ("GitLabToken",),
    ),
    Rule(rb"\bxox[abposre]-[A-Za-z0-9\-]{10,}", SOM, _token_rule("SlackToken"), ("SlackToken",)),
    Rule(rb"\bxapp-\d-[A-Za-z0-9\-]{10,}", SOM, _token_rule("SlackToken"), ("SlackToken",)),
    Rule(
        rb"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+\-]{20,}",
        SOM,
        _h_slack_webhook,
        ("SlackToken",),
    ),
    Rule(
        rb"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}", SOM, _token_rule("StripeKey"), ("StripeKey",)
    ),
    Rule(rb"\bwhsec_[A-Za-z0-9]{20,}", SOM, _token_rule("StripeKey"), ("StripeKey",)),
    Rule(
        rb"\bAIza[0-9A-Za-z_\-]{35}",
        SOM,
        _token_rule("GoogleAPIKey", _NOT_KEYCHAR),
        ("GoogleAPIKey",),
    ),
    Rule(
        rb"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        SOM,
        _token_rule("JWT"),
        ("JWT",),
    ),
    Rule(
        rb"\bsk-(?:proj-|ant-[a-z0-9]{2,8}-)?[A-Za-z0-9_\-]{20,}", SOM, _token_rule("Secret"), ("Secret",)
    ),
    Rule(
        rb"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----", SOM, _h_private_key, ("PrivateKey",)
    ),
    Rule(rb"\bbearer[ \t]+", CASELESS, _h_bearer, ("BearerToken",)),
    Rule(rb"\bbasic[ \t]+", CASELESS, _h_basic, ("BasicAuth",)),
    # secrets by key name
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
