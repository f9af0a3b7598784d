"""Network identifiers: IPv4, IPv6, MAC addresses, host names, e-mail addresses, URL credentials."""

from __future__ import annotations

import re
from operator import itemgetter

from ._common import CASELESS, SOM, Rule, _A, _back, _isword, _longest_by_start

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

# Dotted property names (java.home, os.name, mapred.task.id, spark.app.id, db.host=...) end in
# words that are also TLDs.  TLDs that real host names use are never taken for a property name.
_STRONG_TLDS = frozenset(
    "com net org edu gov mil io co ai dev cloud internal local localdomain intranet corp lan private arpa".split()
)
# first labels of configuration namespaces (JVM system properties, Hadoop, Spark, logging …)
_PROPERTY_ROOTS = frozenset(
    "java javax jdk sun os user file line path awt jvm jmx gc mapred mapreduce spark hadoop yarn "
    "hive hbase dfs fs hdfs log4j log4j2 logback kafka zookeeper akka spring hibernate jdbc maven "
    "gradle sbt elasticsearch solr flink storm presto trino airflow celery django webpack".split()
)


def _property_name(name: str, before: str, term: str) -> bool:
    """Is the dotted ``name`` (which ends in a TLD) a property or configuration key rather than
    a host?  ``before``: the two characters before it (``""`` at the text's start), ``term``:
    the character after it."""
    labels = name.split(".")
    tld = labels[-1].lower()
    if tld in _STRONG_TLDS:
        return False
    if labels[0].lower() in _PROPERTY_ROOTS:
        return True
    key_pos = term == "=" or before[-2:] == "-D" or (term == ":" and before[-1:] in ("\n", ""))
    return key_pos and (len(tld) > 2 or len(labels) >= 3)


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
    if k < 0:
        return None
    if _property_name(tok[k:], key[max(0, s + k - 2) : s + k], key[e : e + 1]):
        return None
    return (s + k - n, e - n)


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
    out.extend(
        [
            (s + k, e, "Hostname")
            for s, e, tok in zip(starts, ends, toks)
            if (k := get(tok)) >= 0 and not _property_name(tok[k:], text[max(0, s + k - 2) : s + k], text[e : e + 1])
        ]
    )


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
_URL_RUN = re.compile(r"[^\s/\"'<>\\]*", _A)  # from "://" to the first "/", whitespace or quote


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
        if _in_url_userinfo(text, at):
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


# what follows the "@" that ends a URL's userinfo: a host (name, IPv4, [IPv6]), a port, then
# the rest of the authority run (query, fragment, more hosts of a MongoDB seed list)
_HOST_AFTER_AT = re.compile(r"(?:\[[\w:.%]+\]|[\w\-.~%]+)(?::\d{0,5})?(?:[?#;,].*)?\Z")
_PORT_THEN_QUERY = re.compile(r"\d{1,5}[?#]")


def url_userinfo(run: str) -> int:
    """In the authority run after ``scheme://`` (up to the first ``/``, whitespace or quote):
    the length of its credentials (``user:password``, which may hold ``# & ; @ ?``: the last
    ``@`` before a host ends them), or 0."""
    at = run.rfind("@")
    while at > 0 and not _HOST_AFTER_AT.match(run, at + 1):
        at = run.rfind("@", 0, at)
    if at <= 0:
        return 0
    userinfo = run[:at]
    user, colon, password = userinfo.partition(":")
    if colon:
        if "?" in user or "#" in user:
            return 0  # the "@" is in the query or fragment of a URL without credentials
        if _PORT_THEN_QUERY.match(password):
            return 0  # host:8080?contact=a@b.example
        return at
    return at if _token_like_user(userinfo) else 0


def _in_url_userinfo(text: str, at: int) -> bool:
    """Is the ``@`` at ``at`` inside or at the end of a URL's credentials (``://u:p@``)?"""
    k = text.rfind("://", max(0, at - 512), at)
    if k < 0:
        return False
    seg = text[k + 3 : at]
    if _URL_RUN.match(seg).end() != len(seg):
        return False
    run = _URL_RUN.match(text, k + 3).group()
    return url_userinfo(run) >= len(seg)


def _token_like_user(u: str) -> bool:
    """A user part without password that is itself a credential or an address: long and mixing
    letters and digits (a token), or an encoded e-mail address.  Actor-system names such as
    ``akka.tcp://sparkExecutorActorSystem@host`` are not."""
    if "%40" in u or "@" in u:
        return True
    return len(u) >= 16 and any(c.isdigit() for c in u) and any(c.isalpha() for c in u)


def _h_url_creds(text: str, hits, out) -> None:
    """``scheme://user:password@host``: the whole userinfo, whatever the password holds."""
    for _s, e in hits:
        n = url_userinfo(_URL_RUN.match(text, e).group())
        if n:
            out.append((e, e + n, "URLCredentials"))



# Octet ranges are checked in Python: an exact-octet pattern made the whole database ~1.7x slower.

_IPV4_P = rb"\b(?:\d{1,3}\.){3}\d{1,3}\b"
_TLD_ALT = "|".join(sorted(TLDS, key=lambda t: (-len(t), t))).encode()

RULES: tuple[Rule, ...] = (
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
)
