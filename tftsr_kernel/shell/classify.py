"""(Past 600 lines on purpose: the per-program argument rules below are one decision table with the
dispatch that uses them; the plain name lists are in ``rules.py``.)

``classify(command) -> Verdict(tier, reason)``: what a command line would do, before it runs.

Tier 1 reads (runs at once), tier 2 changes something (needs approval), tier 3 destroys (always
refused). Pure: no I/O, no state. The command is read as bash reads it (:mod:`.lexer`); each
simple command is judged on its program (``/bin/rm``, ``RM`` and ``r''m`` are ``rm``) and its
arguments, its redirections (``> file`` writes), its environment prefix and every piece of code
that runs inside it (``$(...)``, backticks, ``bash -c``/``eval``/``ssh host``/``find -exec``/
``xargs``/``sudo`` payloads, here-docs fed to a shell). A chain takes its most dangerous part's
tier; an unknown program is tier 2; a line that cannot be read with certainty is refused.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field

from . import rules
from .lexer import Command, ParseError, Word, _subs_in, expand_braces, parse

MAX_CHARS = 65536
MAX_DEPTH = 8


@dataclass(frozen=True)
class Verdict:
    tier: int
    reason: str
    programs: tuple = field(default=(), compare=False)   # every program name found
    argv: tuple | None = field(default=None, compare=False)   # set when it can run without a shell

    def to_dict(self) -> dict:
        return {"tier": self.tier, "reason": self.reason}


@dataclass(frozen=True)
class SiteCommand:
    """A command this site declared with its tier (table ``shell_commands``): ``template`` is a
    command line whose words match with shell wildcards (``*``, ``?``, ``[...]``) word by word, a
    last word ``*`` standing for any number of words. It may give a program the classifier does
    not know its tier (``ops-status *`` reads only: tier 1), and may raise any command's tier
    (``systemctl restart payments`` is tier 3 here); it never lowers a program the classifier
    knows (``rm`` stays 3, ``curl`` stays 2), nor a command with computed arguments (``$X``,
    wildcards). The program matches as written: ``ops-status`` is not ``/tmp/x/ops-status``."""

    template: str
    tier: int
    description: str | None = None
    words: tuple = ()


def site_command(template: str, tier: int, description: str | None = None) -> SiteCommand:
    """Parse and check a template (one simple command of literal words; a literal program name)."""
    if not isinstance(template, str) or not template.strip():
        raise ValueError("give the command template, e.g. 'ops-status *'")
    if tier not in (1, 2, 3):
        raise ValueError("the tier must be 1, 2 or 3")
    try:
        script = parse(template.strip())
    except ParseError as exc:
        raise ValueError(f"the template cannot be read ({exc})") from None
    if len(script.commands) != 1 or script.operators or script.functions:
        raise ValueError("a template is one simple command (no ;, &&, |, functions)")
    cmd = script.commands[0]
    if cmd.assigns or cmd.redirects or cmd.pseudo or not cmd.words:
        raise ValueError("a template has no variable assignments, redirections or compound commands")
    if any(w.subs or w.expands or w.brace or w.tilde for w in cmd.words):
        raise ValueError("a template holds plain words and wildcards only (no $, `...` or $(...))")
    first = cmd.words[0]
    if first.glob or not first.text.strip():
        raise ValueError("a template starts with the program's name, without wildcards")
    words = tuple(w.text for w in cmd.words)
    return SiteCommand(" ".join(w.raw for w in cmd.words), tier, description, words)


def _site_match(site, name: str, texts: list[str]):
    """The site commands matching a simple command: its program as written (``ops-status`` is
    not ``/tmp/x/ops-status``, a template may name a full path) and its argument ``texts``."""
    import fnmatch

    found = []
    for sc in site:
        pats = sc.words
        if pats[0] != name:
            continue
        rest = list(pats[1:])
        if rest and rest[-1] == "*":
            fixed = rest[:-1]
            ok = len(texts) >= len(fixed)
        else:
            fixed = rest
            ok = len(texts) == len(fixed)
        if ok and all(fnmatch.fnmatchcase(t, p) for t, p in zip(texts, fixed)):
            found.append(sc)
    return found


class _Acc:
    def __init__(self, site=()):
        self.tier, self.reason = 1, ""
        self.programs: list[str] = []
        self.site = tuple(site)

    def add(self, tier: int, reason: str) -> None:
        if tier > self.tier or not self.reason:
            self.tier, self.reason = max(tier, self.tier), reason


def classify(command: str, site=()) -> Verdict:
    """The tier of ``command`` and why (see the module docstring); ``site``: the site's declared
    commands (:class:`SiteCommand`, from ``wb.shell``), none by default."""
    if not isinstance(command, str):
        return Verdict(3, "not a command line (expected text)")
    if len(command) > MAX_CHARS:
        return Verdict(3, f"longer than {MAX_CHARS} characters: refused")
    if not command.strip():
        return Verdict(3, "an empty command: nothing to run")
    acc = _Acc(site)
    try:
        script = _classify_script(command, acc, 0)
    except ParseError as exc:
        return Verdict(3, f"cannot be read with certainty ({exc}): refused; fix the quoting")
    if not acc.reason:
        acc.reason = "reads only"
    argv = None
    if (len(script.commands) == 1 and not script.operators and not (c := script.commands[0]).assigns
            and not c.redirects and not c.pseudo and c.words and all(w.literal and not w.subs for w in c.words)):
        argv = tuple(w.text for w in c.words)
    return Verdict(acc.tier, acc.reason, tuple(dict.fromkeys(acc.programs)), argv)


def _classify_script(src: str, acc: _Acc, depth: int):
    if depth > MAX_DEPTH:
        raise ParseError(f"code nested more than {MAX_DEPTH} levels deep")
    script = parse(src)
    for name in script.functions:
        for cmd in script.commands:
            if name in cmd.funcs and cmd.words and _name(cmd.words[0]) == name.lower():
                acc.add(3, f"defines the function {name} that calls itself (a fork bomb)")
    for cmd in script.commands:
        _classify_command(cmd, acc, depth)
    return script


def _payload(src: str, acc: _Acc, depth: int, at_least: int, why: str) -> None:
    """Classify code that another command runs; the result is at least ``at_least``."""
    sub = _Acc(acc.site)
    _classify_script(src, sub, depth + 1)
    acc.programs.extend(sub.programs)
    if sub.tier >= at_least:
        acc.add(sub.tier, f"{why}: {sub.reason}" if sub.reason else why)
    else:
        acc.add(at_least, why)


def _name(word: Word) -> str:
    n = os.path.basename(word.text.rstrip("/")) or word.text
    n = n.lower()
    for ext in (".exe", ".com", ".bat", ".cmd", ".ps1"):
        if n.endswith(ext) and len(n) > len(ext):
            n = n[: -len(ext)]
    return n


def _target_tier(target: str) -> tuple[int, str]:
    t = target.strip()
    if t in rules.HARMLESS_TARGETS or t.startswith("/dev/fd/") or re.fullmatch(r"&?\d+|-", t):
        return 1, ""
    if t in rules.PROTECTED_FILES or t.startswith(rules.PROTECTED_PREFIXES):
        return 3, f"writes to {t}, which would destroy the system or its data"
    return 2, f"writes to the file {t}"


def _classify_command(cmd: Command, acc: _Acc, depth: int) -> None:
    # code inside words, assignments and redirection targets runs first
    for w in cmd.words + cmd.assigns:
        for sub in w.subs:
            _payload(sub, acc, depth, 1, "runs a command substitution")
    for r in cmd.redirects:
        if r.target is not None:
            for sub in r.target.subs:
                _payload(sub, acc, depth, 1, "runs a command substitution")
        if r.body and r.body_expands:
            for sub in _subs_in(r.body):
                _payload(sub, acc, depth, 1, "runs a command substitution in a here-document")
        if r.op in (">", ">>", ">|", "&>", "&>>", "<>"):
            if r.target is None or not r.target.literal:
                acc.add(2, "writes to a file whose name is computed when it runs")
            else:
                tier, why = _target_tier(r.target.text)
                if tier > 1:
                    acc.add(tier, why)
        elif r.op in (">&",) and r.target is not None and not re.fullmatch(r"\d+-?|-", r.target.text):
            tier, why = _target_tier(r.target.text)
            if tier > 1:
                acc.add(tier, why)
    if cmd.pseudo:
        return
    for a in cmd.assigns:
        name = a.text.split("=", 1)[0].split("[", 1)[0].rstrip("+")
        if name in rules.LOADER_ENV or name.startswith(("LD_", "DYLD_", "BASH_FUNC")):
            acc.add(2, f"sets {name}, which changes which program runs or how it loads")
    if not cmd.words:
        return
    _classify_words(cmd.words, cmd, acc, depth)


def _opts_and_rest(words: list[Word], with_value: set, *, stop_at_first: bool = True):
    """Skip leading options (and the values of those in ``with_value``); return (options, rest)."""
    i, opts = 0, []
    while i < len(words):
        t = words[i].text
        if t == "--":
            i += 1
            break
        if not t.startswith("-") or t == "-":
            break
        opts.append(t)
        if t in with_value and "=" not in t:
            i += 1
            if i < len(words):
                opts.append(words[i].text)
        i += 1
    return opts, words[i:]


def _classify_words(words: list[Word], cmd: Command, acc: _Acc, depth: int) -> None:
    matches = []
    if acc.site and not (words[0].expands or words[0].glob or words[0].brace):
        matches = _site_match(acc.site, words[0].text, [w.text for w in words[1:]])
    if not matches:
        _builtin_words(words, cmd, acc, depth)
        return
    sub = _Acc(acc.site)
    known = _builtin_words(words, cmd, sub, depth)
    acc.programs.extend(sub.programs)
    top = max(matches, key=lambda sc: sc.tier)
    why = f"a site command ({top.template}, tier {top.tier})" + (f": {top.description}" if top.description else "")
    literal = all(w.literal and not w.subs for w in words[1:])
    if not known and literal:
        acc.add(top.tier, why)   # a program the rules do not know: the site's word decides
        return
    acc.add(sub.tier, sub.reason)
    if top.tier > sub.tier:
        acc.add(top.tier, why)


def _builtin_words(words: list[Word], cmd: Command, acc: _Acc, depth: int) -> bool:
    """The built-in rules for one simple command; False when its program is unknown to them."""
    first = words[0]
    if first.brace:
        expanded = expand_braces(first)
        if expanded is None:
            acc.add(2, "the command name is a large brace expansion")
            return True
        rest = [Word(text=t, raw=t) for t in expanded] + words[1:]
        if [w.text for w in rest] != [w.text for w in words]:
            _classify_words(rest, cmd, acc, depth)
            return True
    if first.expands:
        acc.add(2, f"the command name ({first.raw}) is computed when it runs")
        return True
    if first.glob:
        acc.add(2, f"the command name ({first.raw}) holds a wildcard")
        return True
    name = _name(first)
    args = words[1:]
    acc.programs.append(name)
    texts = [w.text for w in args]
    computed = [w for w in args if not w.literal or w.subs]

    if name.startswith("mkfs") or name.startswith("mkfs."):
        acc.add(3, f"{first.text} formats a device")
        return True
    rule = _RULES.get(name)
    if rule is not None:
        rule(name, args, texts, cmd, acc, depth)
        return True
    if name in rules.DESTRUCTIVE:
        acc.add(3, rules.DESTRUCTIVE[name])
        return True
    if name in rules.SHELLS:
        _shell(name, args, texts, cmd, acc, depth)
        return True
    if name in rules.WRAPPERS:
        _wrapper(name, args, texts, cmd, acc, depth)
        return True
    if name in rules.POWERSHELLS:
        _powershell(name, args, texts, cmd, acc, depth)
        return True
    if name in rules.READ_ONLY:
        if name in _ARG_SENSITIVE_NAMES and computed:
            acc.add(2, f"{name}'s arguments are computed when it runs (they could add a writing option)")
        else:
            acc.add(1, f"{name} reads only")
        return True
    if re.fullmatch(r"get-[a-z0-9-]+", name) or re.fullmatch(r"(show|test|find|search|measure|resolve)-[a-z0-9-]+", name):
        acc.add(1, f"{first.text} reads only")
        return True
    if name in rules.CHANGES:
        acc.add(2, rules.CHANGES[name])
        return True
    m = re.fullmatch(r"(set|new|import|export|add|enable|disable|install|update|register|rename|move|copy|"
                     r"mount|dismount|reset|restore|grant|revoke|unblock|block|publish|save|send|connect|"
                     r"start|stop|suspend|resume|receive|lock|unlock|protect|unprotect)-[a-z0-9-]+", name)
    if m or name.endswith("-job"):
        acc.add(2, f"{first.text} changes something")
        return True
    if re.fullmatch(r"(remove|clear|uninstall|unregister|format|erase|delete)-[a-z0-9-]+", name):
        acc.add(3, f"{first.text} deletes or erases something")
        return True
    acc.add(2, f"{name} is not a known read-only command")
    return False


# --- rules for programs whose effect depends on their arguments -----------------------------------


def _tier1(acc, name, reason=None):
    acc.add(1, reason or f"{name} reads only")


def _r_find(name, args, texts, cmd, acc, depth):
    i = 0
    found = False
    while i < len(texts):
        t = texts[i]
        if t in ("-delete",):
            acc.add(3, "find -delete deletes files"); found = True
        elif t in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            payload = []
            while j < len(texts) and texts[j] not in (";", "+"):
                payload.append(args[j])
                j += 1
            if payload:
                _classify_words(payload, cmd, acc, depth + 1) if depth < MAX_DEPTH else acc.add(3, "nested too deep")
                if acc.tier < 2 and t in ("-ok", "-okdir"):
                    acc.add(2, f"find {t} asks on a terminal")
            found = True
            i = j
        elif t in ("-fprint", "-fprint0", "-fprintf", "-fls"):
            target = texts[i + 1] if i + 1 < len(texts) else ""
            tier, why = _target_tier(target)
            acc.add(max(tier, 2) if tier > 1 else 1, why or f"find {t} writes a file"); found = True
        i += 1
    if any(not w.literal or w.subs for w in args if not w.quoted) and any(w.glob and not w.quoted for w in args):
        acc.add(2, "find's arguments hold an unquoted wildcard that could expand to an action such as -delete")
    if any(w.subs or (w.expands and not w.quoted) for w in args):
        acc.add(2, "find's arguments are computed when it runs (they could add -delete or -exec)")
    if not found:
        _tier1(acc, "find")


def _r_sed(name, args, texts, cmd, acc, depth):
    if any(t == "-i" or t.startswith("-i") or t.startswith("--in-place") or
           (t.startswith("-") and not t.startswith("--") and "i" in t[1:] and "e" not in t[1:] and "f" not in t[1:])
           for t in texts):
        acc.add(2, "sed -i edits files in place")
        return
    scripts = []
    opts, rest = _opts_and_rest(args, {"-e", "--expression", "-f", "--file", "-l", "--line-length"})
    for k, t in enumerate(opts):
        if t in ("-e", "--expression") and k + 1 < len(opts):
            scripts.append(opts[k + 1])
        elif t in ("-f", "--file"):
            acc.add(2, "sed -f runs a script file that cannot be read here"); return
        elif t.startswith("--expression="):
            scripts.append(t.split("=", 1)[1])
    if not scripts and rest:
        scripts.append(rest[0].text)
    if any(not w.literal for w in args) or any(re.search(r"[wWeErR]", s) for s in scripts):
        acc.add(2, "sed can write files (w) or run commands (e); this script may")
        return
    _tier1(acc, "sed", "sed prints a transformed copy (no -i, no w/e commands)")


def _r_tee(name, args, texts, cmd, acc, depth):
    files = [t for t in texts if not t.startswith("-")]
    worst = (1, "tee writes only to its output")
    for f in files:
        tier, why = _target_tier(f)
        worst = max(worst, (tier, why or "tee writes files"))
    if any(not w.literal for w in args):
        worst = max(worst, (2, "tee writes to a file whose name is computed when it runs"))
    acc.add(*worst)


def _r_sort(name, args, texts, cmd, acc, depth):
    for t in texts:
        if t in ("-o", "/o") or t.startswith("--output") or (t.startswith("-o") and len(t) > 2) or t.startswith(
                "--compress-program"):
            acc.add(2, "sort -o writes a file" if "compress" not in t else "sort --compress-program runs a program")
            return
        if re.fullmatch(r"-[a-zA-Z]*o[a-zA-Z]*", t):
            acc.add(2, "sort -o writes a file"); return
    if any(w.glob or not w.literal for w in args):
        acc.add(2, "sort's arguments are computed when it runs (a file named -o… would write a file)"); return
    _tier1(acc, "sort")


def _r_uniq(name, args, texts, cmd, acc, depth):
    positional = [t for t in texts if not t.startswith("-")]
    if len(positional) >= 2:
        acc.add(2, "uniq INPUT OUTPUT writes the output file"); return
    _tier1(acc, "uniq")


def _r_date(name, args, texts, cmd, acc, depth):
    if any(t in ("-s", "--set") or t.startswith("--set=") or re.fullmatch(r"-[a-zA-Z]*s.*", t) for t in texts) or any(
            re.fullmatch(r"\d{8,12}(\.\d\d)?", t) for t in texts):
        acc.add(2, "date -s sets the system clock"); return
    _tier1(acc, "date")


def _r_hostname(name, args, texts, cmd, acc, depth):
    if any(t in ("-F", "--file", "-b", "--boot") for t in texts) or [t for t in texts if not t.startswith(("-", "/"))]:
        acc.add(2, "hostname NAME changes the host name"); return
    _tier1(acc, "hostname")


def _r_dmesg(name, args, texts, cmd, acc, depth):
    if any(t in ("-c", "-C", "--clear", "--read-clear", "-D", "--console-off", "-E", "--console-on", "-n",
                 "--console-level") or t.startswith("--console-level") for t in texts):
        acc.add(2, "dmesg with this option clears the ring buffer or changes the console"); return
    _tier1(acc, "dmesg")


def _r_journalctl(name, args, texts, cmd, acc, depth):
    bad = [t for t in texts if t.startswith(("--vacuum", "--rotate", "--flush", "--sync", "--relinquish-var",
                                             "--setup-keys", "--update-catalog", "--smart-relinquish-var"))]
    if bad:
        acc.add(2, f"journalctl {bad[0].split('=')[0]} changes or deletes stored logs"); return
    _tier1(acc, "journalctl")


def _r_less(name, args, texts, cmd, acc, depth):
    if any(t in ("-o", "-O") or t.startswith(("-o", "-O", "--log-file", "--LOG-FILE")) for t in texts):
        acc.add(2, "less -o writes a log file"); return
    _tier1(acc, "less")


def _r_man(name, args, texts, cmd, acc, depth):
    if any(t in ("-P", "-H", "--pager", "--html") or t.startswith(("--pager=", "--html=", "-P", "-H")) for t in texts):
        acc.add(2, "man -P/-H runs another program"); return
    _tier1(acc, "man")


def _r_ss(name, args, texts, cmd, acc, depth):
    if any(t in ("-K", "--kill") or (re.fullmatch(r"-[a-zA-Z]+", t) and "K" in t) for t in texts):
        acc.add(2, "ss -K closes sockets"); return
    _tier1(acc, "ss")


def _r_file(name, args, texts, cmd, acc, depth):
    if any(t in ("-C", "--compile") for t in texts):
        acc.add(2, "file -C writes a magic file"); return
    _tier1(acc, "file")


def _r_xxd(name, args, texts, cmd, acc, depth):
    positional = [t for t in texts if not t.startswith("-")]
    if "-r" in texts or len(positional) >= 2:
        acc.add(2, "xxd with an output file writes it"); return
    _tier1(acc, "xxd")


def _r_smartctl(name, args, texts, cmd, acc, depth):
    ok = {"-a", "-i", "-H", "-x", "-c", "-A", "-l", "--all", "--info", "--health", "--xall", "--capabilities",
          "--attributes", "--log", "-j", "--json", "-d", "--device", "--scan", "--scan-open", "-n", "--nocheck"}
    for t in texts:
        if t.startswith("-") and t.split("=")[0] not in ok:
            acc.add(2, f"smartctl {t} changes the disk or starts a test"); return
    _tier1(acc, "smartctl")


def _r_dmidecode(name, args, texts, cmd, acc, depth):
    if any(t.startswith("--dump-bin") for t in texts):
        acc.add(2, "dmidecode --dump-bin writes a file"); return
    _tier1(acc, "dmidecode")


def _r_tcpdump(name, args, texts, cmd, acc, depth):
    acc.add(2, "tcpdump captures traffic (and can write files)")


def _r_mount(name, args, texts, cmd, acc, depth):
    if not texts or texts in (["-l"], ["--show-labels"]) or all(t in ("-l", "-t") or not t.startswith("/") and t in (
            "ext4", "xfs", "nfs", "tmpfs") for t in texts) and "-t" in texts and len(texts) == 2:
        _tier1(acc, "mount", "mount without a device lists mounts"); return
    acc.add(2, rules.CHANGES["mount"])


def _r_ip(name, args, texts, cmd, acc, depth):
    opts, rest = _opts_and_rest(args, {"-n", "-netns", "-f", "-family", "-b", "-batch", "-rc", "-rcvbuf"})
    words = [w.text for w in rest]
    if any(o in ("-b", "-batch", "-force") for o in opts):
        acc.add(2, "ip -batch runs commands from a file"); return
    if len(words) >= 3 and words[0] in ("netns", "netn") and words[1] == "exec":
        _payload_words(rest[3:], cmd, acc, depth, 2, "ip netns exec runs a command in another namespace"); return
    verbs = words[1:]
    read = {"show", "list", "ls", "lst", "get", "sh", "s", "l", "monitor", "help", "identify", "pids"}
    if not verbs or verbs[0] in read or (verbs[0].startswith("-") and len(verbs) == 1):
        _tier1(acc, "ip", "ip shows network state"); return
    acc.add(2, f"ip {words[0]} {verbs[0]} changes network settings")


def _r_ifconfig(name, args, texts, cmd, acc, depth):
    if len([t for t in texts if t not in ("-a", "-s", "-v")]) <= 1:
        _tier1(acc, "ifconfig"); return
    acc.add(2, "ifconfig with settings changes an interface")


def _r_route(name, args, texts, cmd, acc, depth):
    if not texts or all(t in ("-n", "-e", "-ee", "-v", "print", "-4", "-6", "-A", "inet", "inet6") for t in texts):
        _tier1(acc, "route"); return
    acc.add(2, "route changes the routing table")


def _r_arp(name, args, texts, cmd, acc, depth):
    if any(t in ("-d", "-s", "-f", "--delete", "--set", "--file") for t in texts):
        acc.add(2, "arp changes the neighbour table"); return
    _tier1(acc, "arp")


def _r_sysctl(name, args, texts, cmd, acc, depth):
    if any(t in ("-w", "--write", "-p", "--load", "--system") or t.startswith("--load") or "=" in t for t in texts):
        acc.add(2, "sysctl writes kernel settings"); return
    _tier1(acc, "sysctl")


def _r_iptables(name, args, texts, cmd, acc, depth):
    ok = {"-L", "--list", "-S", "--list-rules", "-n", "--numeric", "-v", "--verbose", "-t", "--table", "-x",
          "--exact", "--line-numbers", "-w", "--wait", "nat", "filter", "mangle", "raw", "security", "INPUT",
          "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING", "-nvL", "-nL", "-vnL", "-Ln", "-Lnv"}
    if texts and all(t in ok or re.fullmatch(r"-[nvxL]+", t) for t in texts) and any("L" in t or "S" in t for t in texts):
        _tier1(acc, name, f"{name} lists rules"); return
    acc.add(2, f"{name} changes firewall rules")


def _r_nft(name, args, texts, cmd, acc, depth):
    words = [t for t in texts if not t.startswith("-")]
    if words and words[0] in ("list", "describe") and "-f" not in texts:
        _tier1(acc, "nft", "nft list reads the ruleset"); return
    acc.add(2, "nft changes firewall rules")


_CTL_READ = {"status", "show", "list", "query", "statistics", "info", "dump", "help", "--help", "--version",
             "cat", "get", "timesync-status", "show-timesync", "list-timezones", "list-sessions", "list-users",
             "list-seats", "show-session", "show-user", "session-status", "user-status", "monitor", "tree",
             "introspect", "list-links", "lldp", "domain", "dns", "llmnr", "mdns", "dnssec", "nta", "log-level",
             "blame", "critical-chain", "time", "verify", "security", "plot", "dot", "list-keymaps",
             "list-locales", "list-x11-keymap-models", "call?"}


def _r_ctl(name, args, texts, cmd, acc, depth):
    words = [t for t in texts if not t.startswith("-")]
    verb = words[0] if words else "status"
    if verb in _CTL_READ or verb.startswith("list") or verb.startswith("show"):
        _tier1(acc, name, f"{name} {verb} reads only"); return
    acc.add(2, f"{name} {verb} changes system settings")


_SYSTEMCTL_READ = {"status", "is-active", "is-enabled", "is-failed", "is-system-running", "list-units",
                   "list-unit-files", "list-timers", "list-sockets", "list-dependencies", "list-jobs",
                   "list-machines", "list-automounts", "list-paths", "show", "cat", "help", "get-default",
                   "show-environment", "--version", "-h", "--help"}
_SYSTEMCTL_POWER = {"poweroff", "reboot", "halt", "kexec", "suspend", "hibernate", "hybrid-sleep",
                    "suspend-then-hibernate", "rescue", "emergency", "isolate", "soft-reboot", "default", "exit",
                    "switch-root"}
_SYSTEMCTL_WITH_VALUE = {"-H", "--host", "-M", "--machine", "-t", "--type", "-p", "--property", "--state", "-n",
                         "--lines", "-o", "--output", "--signal", "-s", "--kill-whom", "--what", "--root", "--job-mode"}


def _r_systemctl(name, args, texts, cmd, acc, depth):
    _, rest = _opts_and_rest(args, _SYSTEMCTL_WITH_VALUE)
    # options may also follow the verb; the verb is the first non-option word
    verb = rest[0].text if rest else "list-units"
    if any(t in ("--version", "-h", "--help") for t in texts) and not rest:
        _tier1(acc, "systemctl"); return
    if not rest[0].literal if rest else False:
        acc.add(2, "the systemctl verb is computed when it runs"); return
    if verb in _SYSTEMCTL_READ:
        _tier1(acc, "systemctl", f"systemctl {verb} reads only"); return
    if verb in _SYSTEMCTL_POWER:
        acc.add(3, f"systemctl {verb} stops, restarts or isolates the machine"); return
    acc.add(2, f"systemctl {verb} changes services")


def _r_service(name, args, texts, cmd, acc, depth):
    if len(texts) >= 2 and texts[1] in ("status",) or texts in (["--status-all"], ["--help"]):
        _tier1(acc, "service"); return
    acc.add(2, "service controls services")


_KUBECTL_WITH_VALUE = {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server",
                       "--token", "--as", "--as-group", "--as-uid", "--request-timeout", "--certificate-authority",
                       "--client-key", "--client-certificate", "-v", "--v", "--cache-dir", "--tls-server-name",
                       "--username", "--password", "--profile", "--profile-output", "--log-file", "--vmodule"}
_KUBECTL_READ = {"get", "describe", "logs", "explain", "api-resources", "api-versions", "cluster-info", "top",
                 "version", "events", "wait", "diff", "help", "completion", "options"}
_KUBECTL_CHANGE = {"apply", "delete", "edit", "scale", "rollout", "drain", "cordon", "uncordon", "exec", "cp",
                   "port-forward", "patch", "create", "replace", "label", "annotate", "taint", "set", "run",
                   "expose", "autoscale", "debug", "attach", "proxy", "certificate", "kustomize", "plugin",
                   "alpha", "config", "auth"}


def _r_kubectl(name, args, texts, cmd, acc, depth):
    opts, rest = _opts_and_rest(args, _KUBECTL_WITH_VALUE)
    all_opts = opts + [t for t in texts if t.startswith("-")]
    for o in all_opts:
        key = o.split("=", 1)[0]
        if key in ("--kubeconfig", "--server", "-s", "--token", "--user", "--username", "--password",
                   "--as", "--as-group", "--as-uid", "--client-key", "--client-certificate",
                   "--certificate-authority", "--insecure-skip-tls-verify"):
            acc.add(2, f"kubectl {key} uses credentials or a cluster other than the active kubeconfig")
        if key in ("--log-file", "--profile-output", "--output-directory", "--cache-dir"):
            acc.add(2, f"kubectl {key} writes files")
    if not rest:
        _tier1(acc, name, f"{name} prints its help"); return
    if not rest[0].literal:
        acc.add(2, "the kubectl subcommand is computed when it runs"); return
    verb = rest[0].text
    sub = [w.text for w in rest[1:] if not w.text.startswith("-")]
    if verb == "exec" or verb == "debug" or verb == "attach":
        dd = [w.text for w in rest].index("--") if "--" in [w.text for w in rest] else -1
        if dd >= 0 and dd + 1 < len(rest):
            _payload_words(rest[dd + 1:], cmd, acc, depth, 2, f"kubectl {verb} runs a command in a container")
        else:
            acc.add(2, f"kubectl {verb} runs a command in a container")
        return
    if verb == "delete":
        if any(t in ("--all", "-A", "--all-namespaces") or t.startswith("--all=") for t in texts) or (
                sub and sub[0].split("/")[0].split(",")[0] in ("namespace", "namespaces", "ns", "node", "nodes", "no",
                                                                "pv", "persistentvolume", "persistentvolumes",
                                                                "crd", "crds", "customresourcedefinition",
                                                                "customresourcedefinitions")):
            acc.add(3, "kubectl delete of whole namespaces, nodes, volumes, CRDs or --all destroys a cluster's data")
        else:
            acc.add(2, "kubectl delete removes resources")
        return
    if verb == "rollout":
        if sub and sub[0] in ("status", "history"):
            _tier1(acc, name, f"kubectl rollout {sub[0]} reads only"); return
        acc.add(2, f"kubectl rollout {sub[0] if sub else ''} changes a rollout".replace("  ", " ")); return
    if verb == "config":
        if sub and sub[0] in ("view", "get-contexts", "current-context", "get-clusters", "get-users"):
            if "--raw" in texts:
                acc.add(2, "kubectl config view --raw prints credentials"); return
            _tier1(acc, name, f"kubectl config {sub[0]} reads only"); return
        acc.add(2, "kubectl config changes the kubeconfig"); return
    if verb == "auth":
        if sub and sub[0] in ("can-i", "whoami"):
            _tier1(acc, name, f"kubectl auth {sub[0]} reads only"); return
        acc.add(2, "kubectl auth reconcile changes RBAC"); return
    if verb == "plugin" and sub and sub[0] == "list":
        _tier1(acc, name); return
    if verb == "cluster-info" and sub and sub[0] == "dump":
        if any(t.startswith("--output-directory") for t in texts):
            acc.add(2, "kubectl cluster-info dump --output-directory writes files"); return
    if verb in _KUBECTL_READ:
        if verb in ("get",) and sub and re.fullmatch(r"(secrets?|secret/.*|secrets/.*)(,.*)?", sub[0]) and any(
                t.startswith(("-o", "--output")) and not t.endswith(("name", "wide")) for t in texts):
            acc.add(2, "kubectl get secret with -o prints the secret values"); return
        _tier1(acc, name, f"kubectl {verb} reads only"); return
    if verb in _KUBECTL_CHANGE:
        acc.add(2, f"kubectl {verb} changes the cluster"); return
    acc.add(2, f"kubectl {verb} is not a known read-only subcommand")


def _r_proxmox(name, args, texts, cmd, acc, depth):
    words = [t for t in texts if not t.startswith("-")]
    verb = words[0] if words else ""
    if verb in ("status", "get", "list", "ls", "config", "pending", "nodes", "expected?", "help", "usage"):
        _tier1(acc, name, f"{name} {verb} reads only"); return
    if verb == "destroy":
        acc.add(3, f"{name} destroy deletes a machine and its disks"); return
    acc.add(2, f"{name} {verb} changes the cluster".replace("  ", " "))


def _r_docker(name, args, texts, cmd, acc, depth):
    words = [t for t in texts if not t.startswith("-")]
    verb = words[0] if words else ""
    obj_verb = " ".join(words[:2])
    if verb in ("ps", "logs", "inspect", "images", "stats", "version", "info", "top", "events", "port", "diff",
                "history", "search") or obj_verb in ("container ls", "container list", "container inspect",
                                                     "image ls", "image list", "image inspect", "volume ls",
                                                     "network ls", "network inspect", "volume inspect",
                                                     "system df", "system info", "compose ps", "compose logs",
                                                     "pods", "ps"):
        _tier1(acc, name, f"{name} {verb} reads only"); return
    if verb == "exec":
        acc.add(2, f"{name} exec runs a command in a container"); return
    if obj_verb in ("system prune", "volume rm", "volume prune", "image prune", "container prune") or verb in (
            "rmp", "rmi") and "-f" in texts:
        acc.add(3, f"{name} {obj_verb} deletes data"); return
    acc.add(2, f"{name} {verb} changes containers".replace("  ", " "))


def _r_helm(name, args, texts, cmd, acc, depth):
    words = [t for t in texts if not t.startswith("-")]
    verb = " ".join(words[:1])
    if verb in ("list", "ls", "status", "get", "history", "show", "version", "search", "template", "lint", "env",
                "help", "verify") or " ".join(words[:2]) == "repo list":
        _tier1(acc, "helm", f"helm {verb} reads only"); return
    acc.add(2, f"helm {verb} changes releases".replace("  ", " "))


def _r_git(name, args, texts, cmd, acc, depth):
    words = [t for t in texts if not t.startswith("-")]
    verb = words[0] if words else ""
    if verb in ("status", "log", "diff", "show", "blame", "rev-parse", "describe", "shortlog", "ls-files",
                "ls-tree", "cat-file", "grep", "reflog", "version", "help") and "--output" not in " ".join(texts):
        _tier1(acc, "git", f"git {verb} reads only"); return
    if verb == "clean" or (verb == "reset" and "--hard" in texts) or (verb == "push" and any(
            t in ("-f", "--force", "--mirror", "--delete") for t in texts)):
        acc.add(3, f"git {verb} {'with --force ' if verb == 'push' else ''}destroys work".replace("  ", " ")); return
    acc.add(2, f"git {verb} changes the repository".replace("  ", " "))


def _r_crontab(name, args, texts, cmd, acc, depth):
    if "-r" in texts:
        acc.add(3, "crontab -r deletes every scheduled job"); return
    if texts and all(t in ("-l", "-u") or not t.startswith("-") for t in texts) and "-l" in texts:
        _tier1(acc, "crontab", "crontab -l lists jobs"); return
    acc.add(2, "crontab replaces scheduled jobs")


def _r_pkg(name, args, texts, cmd, acc, depth):
    words = [t for t in texts if not t.startswith("-")]
    verb = words[0] if words else ""
    read = {"apt": {"list", "show", "search", "policy", "depends", "rdepends", "changelog"},
            "apt-cache": None, "dpkg-query": None, "yum": {"list", "info", "search", "history", "repolist"},
            "dnf": {"list", "info", "search", "history", "repolist", "repoquery"}, "snap": {"list", "info", "find"},
            "pip": {"list", "show", "freeze", "check"}, "pip3": {"list", "show", "freeze", "check"},
            "npm": {"ls", "list", "view", "outdated"}, "zypper": {"search", "info", "se", "if", "lr", "repos"},
            "apk": {"info", "search", "list", "policy"}}
    allowed = read.get(name, set())
    if allowed is None or verb in allowed:
        _tier1(acc, name, f"{name} {verb} reads only".replace("  ", " ")); return
    if name == "dpkg" and any(t in ("-l", "-L", "-s", "-S", "-p", "--list", "--listfiles", "--status", "--search",
                                    "--get-selections", "--print-architecture") for t in texts):
        _tier1(acc, name, "dpkg query reads only"); return
    if name == "rpm" and texts and re.fullmatch(r"-q[a-zA-Z]*|--query|-V|--verify", texts[0]):
        _tier1(acc, name, "rpm query reads only"); return
    acc.add(2, f"{name} {verb} changes installed software".replace("  ", " "))


def _r_tar(name, args, texts, cmd, acc, depth):
    if any(t.startswith(("--to-command", "--checkpoint-action", "--use-compress-program", "-I", "--info-script",
                         "--new-volume-script", "-F", "--rsh-command")) for t in texts):
        acc.add(2, "tar with this option runs a program"); return
    mode = texts[0].lstrip("-") if texts else ""
    if ("t" in mode or "--list" in texts) and not re.search(r"[xcruA]", mode) and not any(
            t in ("--extract", "--create", "--append", "--update", "--delete", "--get") for t in texts):
        _tier1(acc, "tar", "tar -t lists an archive"); return
    acc.add(2, "tar creates or extracts files")


def _r_gzip(name, args, texts, cmd, acc, depth):
    if any(t in ("-c", "--stdout", "-l", "--list", "-t", "--test") or re.fullmatch(r"-[a-zA-Z]*[clt][a-zA-Z]*", t)
           for t in texts):
        _tier1(acc, name, f"{name} -c/-l/-t writes only to its output"); return
    acc.add(2, f"{name} replaces files with their (de)compressed versions")


def _r_yq(name, args, texts, cmd, acc, depth):
    if any(t in ("-i", "--inplace") or t.startswith("--inplace") for t in texts):
        acc.add(2, "yq -i edits files in place"); return
    _tier1(acc, "yq")


def _r_chmod(name, args, texts, cmd, acc, depth):
    recursive = any(t in ("-R", "--recursive") or re.fullmatch(r"-[a-zA-Z]*R[a-zA-Z]*", t) for t in texts)
    targets = [t for t in texts if not t.startswith("-")]
    if recursive and any(t.rstrip("/") in rules.SYSTEM_DIRS or t in ("/",) for t in targets):
        acc.add(3, f"a recursive {name} on a system directory breaks the system"); return
    acc.add(2, rules.CHANGES[name])


def _r_mvcp(name, args, texts, cmd, acc, depth):
    targets = [t for t in texts if not t.startswith("-")]
    if targets:
        tier, why = _target_tier(targets[-1])
        if targets[-1] == "/dev/null" and name == "mv":
            acc.add(3, "mv to /dev/null destroys the files"); return
        if tier == 3:
            acc.add(3, f"{name} {why}"); return
    acc.add(2, rules.CHANGES[name])


def _r_db(name, args, texts, cmd, acc, depth):
    joined = " ".join(texts)
    if re.search(r"\b(drop\s+(database|table|schema|keyspace|index|user|role)|truncate\b)|flushall|flushdb|"
                 r"dropdatabase\s*\(|\.drop\s*\(|\bdelete\s+from\s+\w+\s*(;|$)", joined, re.I):
        acc.add(3, f"{name} is asked to drop or empty data"); return
    acc.add(2, f"{name} runs database statements")


def _r_zpool(name, args, texts, cmd, acc, depth):
    words = [t for t in texts if not t.startswith("-")]
    verb = words[0] if words else ""
    if verb in ("status", "list", "iostat", "history", "get", "events"):
        _tier1(acc, name, f"{name} {verb} reads only"); return
    if name == "zfs" and verb not in ("destroy", "rollback"):
        acc.add(2, f"zfs {verb} changes datasets".replace("  ", " ")); return
    acc.add(3, f"{name} {verb} can destroy pools or datasets".replace("  ", " "))


def _r_readonly_subcmd(read: set, tier3: set = frozenset(), what: str = "changes the system"):
    def rule(name, args, texts, cmd, acc, depth):
        words = [t for t in texts if not t.startswith(("-", "/"))] or [t for t in texts]
        verb = words[0].lstrip("-/").lower() if words else ""
        if verb in read or (not words and "" in read):
            _tier1(acc, name, f"{name} {verb} reads only".replace("  ", " ")); return
        if verb in tier3 or any(t.lower().lstrip("-/") in tier3 for t in texts):
            acc.add(3, f"{name} {verb} destroys data".replace("  ", " ")); return
        acc.add(2, f"{name} {verb} {what}".replace("  ", " "))
    return rule


def _r_ipconfig(name, args, texts, cmd, acc, depth):
    if any(t.lower().lstrip("/-").startswith(("release", "renew", "flushdns", "registerdns", "setclassid")) for t in texts):
        acc.add(2, "ipconfig with this option changes network settings"); return
    _tier1(acc, "ipconfig")


def _r_cipher(name, args, texts, cmd, acc, depth):
    if any(t.lower().startswith("/w") for t in texts):
        acc.add(3, "cipher /w: wipes free space"); return
    acc.add(2, "cipher changes file encryption")


def _r_rmdir(name, args, texts, cmd, acc, depth):
    if any(t.lower() in ("/s", "-recurse", "--ignore-fail-on-non-empty?") for t in texts):
        acc.add(3, f"{name} /s deletes a directory tree"); return
    acc.add(2, rules.CHANGES["rmdir"])


def _r_hash(name, args, texts, cmd, acc, depth):
    if "-p" in texts:
        k = texts.index("-p")
        prog = os.path.basename(texts[k + 1]) if k + 1 < len(texts) else ""
        sub = _Acc(acc.site)
        if prog:
            _classify_words([Word(text=prog, raw=prog)], cmd, sub, depth + 1)
        acc.add(max(2, sub.tier), f"hash -p makes a name run {prog or 'another program'}")
        return
    _tier1(acc, "hash")


def _r_alias(name, args, texts, cmd, acc, depth):
    for t in texts:
        if "=" in t:
            _payload(t.split("=", 1)[1], acc, depth, 2, "alias defines a command")
    _tier1(acc, "alias")


def _r_eval(name, args, texts, cmd, acc, depth):
    if not texts:
        _tier1(acc, "eval"); return
    if any(not w.literal or w.subs for w in args):
        acc.add(2, "eval runs code computed when it runs")
    _payload(" ".join(texts), acc, depth, 1, "eval runs")


def _r_trap(name, args, texts, cmd, acc, depth):
    opts, rest = _opts_and_rest(args, set())
    if rest and len(rest) >= 2 and rest[0].text not in ("-", ""):
        _payload(rest[0].text, acc, depth, 1, "trap runs")
    else:
        _tier1(acc, "trap")


def _r_cmd(name, args, texts, cmd, acc, depth):
    for k, t in enumerate(texts):
        if t.lower() in ("/c", "/k", "/r"):
            payload = " ".join(texts[k + 1:]).replace("^", "")
            if payload.strip():
                _payload(payload, acc, depth, 1, "cmd /c runs"); return
    acc.add(2, "cmd without /c starts an interactive shell")


def _r_su(name, args, texts, cmd, acc, depth):
    for k, t in enumerate(texts):
        if t in ("-c", "--command") and k + 1 < len(texts):
            _payload(texts[k + 1], acc, depth, 2, "su -c runs a command as another user"); return
        if t.startswith("--command="):
            _payload(t.split("=", 1)[1], acc, depth, 2, "su -c runs a command as another user"); return
    acc.add(2, "su switches to another user")


def _r_ssh(name, args, texts, cmd, acc, depth):
    opts, rest = _opts_and_rest(args, {"-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O",
                                       "-o", "-p", "-Q", "-R", "-S", "-W", "-w", "-B"})
    if len(rest) >= 2:
        _payload(" ".join(w.text for w in rest[1:]), acc, depth, 2, "ssh runs a command on another host"); return
    acc.add(2, rules.CHANGES["ssh"])


def _payload_words(words: list[Word], cmd, acc, depth, at_least, why):
    sub = _Acc(acc.site)
    if depth >= MAX_DEPTH:
        raise ParseError(f"code nested more than {MAX_DEPTH} levels deep")
    if words:
        _classify_words(words, cmd, sub, depth + 1)
    acc.programs.extend(sub.programs)
    if sub.tier >= at_least and sub.reason:
        acc.add(sub.tier, f"{why}: {sub.reason}")
    else:
        acc.add(at_least, why)


def _shell(name, args, texts, cmd, acc, depth):
    for k, t in enumerate(texts):
        if t == "-c" or (re.fullmatch(r"-[a-zA-Z]*c[a-zA-Z]*", t) and not t.startswith("--")):
            if k + 1 < len(texts):
                if not args[k + 1].literal or args[k + 1].subs:
                    acc.add(2, f"{name} -c runs code computed when it runs")
                _payload(texts[k + 1], acc, depth, 1, f"{name} -c runs"); return
            acc.add(3, f"{name} -c without code"); return
        if not t.startswith("-") and t != "+o":
            acc.add(2, f"{name} runs the script {t}, which cannot be read here"); return
    # reads its script from stdin: a here-document, a here-string or a pipe
    for r in cmd.redirects:
        if r.op in ("<<", "<<-") and r.body is not None:
            _payload(r.body, acc, depth, 2, f"{name} runs a script from a here-document"); return
        if r.op == "<<<" and r.target is not None:
            _payload(r.target.text, acc, depth, 2, f"{name} runs a script from a here-string"); return
        if r.op == "<":
            acc.add(2, f"{name} runs the script file {r.target.text if r.target else ''}"); return
    src = cmd.pipe_from
    if src is not None and src.words and _name(src.words[0]) == "cat" and len(src.words) == 1:
        for r in src.redirects:
            if r.op in ("<<", "<<-") and r.body is not None:
                _payload(r.body, acc, depth, 2, f"{name} runs a script from a here-document"); return
            if r.op == "<<<" and r.target is not None:
                _payload(r.target.text, acc, depth, 2, f"{name} runs a script from a here-string"); return
    if src is not None and src.words and _name(src.words[0]) in ("echo", "printf") and all(
            w.literal for w in src.words[1:]):
        text = " ".join(w.text for w in src.words[1:] if not (w.text.startswith("-") and w is src.words[1]))
        _payload(text.replace("\\n", "\n"), acc, depth, 2, f"{name} runs a script from its input"); return
    acc.add(2, f"{name} runs a script from its input, which cannot be read here")


def _powershell(name, args, texts, cmd, acc, depth):
    for k, t in enumerate(texts):
        low = t.lower()
        if low in ("-command", "-c", "/c", "-com", "-comm", "-comma", "-comman"):
            payload = " ".join(texts[k + 1:])
            if payload.strip():
                _payload(payload, acc, depth, 1, f"{name} -Command runs"); return
        if low in ("-encodedcommand", "-enc", "-e", "-ec", "-en", "-encodedcomman") and k + 1 < len(texts):
            try:
                payload = base64.b64decode(texts[k + 1], validate=True).decode("utf-16-le")
            except (ValueError, UnicodeDecodeError):
                acc.add(3, f"{name} -EncodedCommand holds something that is not valid code: refused"); return
            _payload(payload, acc, depth, 1, f"{name} -EncodedCommand runs"); return
        if low in ("-file", "-f") :
            acc.add(2, f"{name} -File runs a script that cannot be read here"); return
    acc.add(2, f"{name} without -Command starts an interactive shell")


def _wrapper(name, args, texts, cmd, acc, depth):
    with_value = rules.WRAPPERS[name]
    opts, rest = _opts_and_rest(args, with_value)
    if name == "env":
        while rest and "=" in rest[0].text and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", rest[0].text):
            var = rest[0].text.split("=", 1)[0]
            if var in rules.LOADER_ENV or var.startswith(("LD_", "DYLD_")):
                acc.add(2, f"env sets {var}, which changes which program runs or how it loads")
            rest = rest[1:]
        for k, o in enumerate(opts):
            if o in ("-S", "--split-string") and k + 1 < len(opts):
                _payload(" ".join([opts[k + 1]] + [w.text for w in rest]), acc, depth, 2, "env -S runs"); return
            if o.startswith("--split-string="):
                _payload(" ".join([o.split("=", 1)[1]] + [w.text for w in rest]), acc, depth, 2, "env -S runs")
                return
    if name == "timeout" and rest:
        rest = rest[1:]          # the duration
    if name in ("chrt", "taskset") and rest:
        rest = [w for w in rest if not re.fullmatch(r"[0-9a-fx,.-]+", w.text)] if name == "taskset" else rest[1:]
    if name == "flock" and rest:
        rest = rest[1:]          # the lock file
        if rest and rest[0].text in ("-c", "--command") and len(rest) > 1:
            _payload(rest[1].text, acc, depth, 1, "flock -c runs"); return
    if name == "chroot" and rest:
        rest = rest[1:]
    if name == "watch":
        if rest:
            _payload(" ".join(w.text for w in rest), acc, depth, 1, "watch runs"); return
        _tier1(acc, "watch"); return
    if name == "command" and any(o in ("-v", "-V") for o in opts):
        _tier1(acc, "command", "command -v looks a name up"); return
    at_least = 2 if name in ("sudo", "doas", "runuser", "pkexec", "chroot", "strace", "ltrace") else 1
    why = {"sudo": "sudo runs a command as root", "doas": "doas runs a command as root"}.get(name, f"{name} runs")
    if name == "sudo" and any(o in ("-s", "--shell", "-i", "--login") for o in opts) and not rest:
        acc.add(2, "sudo -s/-i opens a root shell"); return
    if name == "sudo" and any(o in ("-l", "--list", "-v", "--validate", "-k", "-K") for o in opts) and not rest:
        acc.add(2, "sudo checks or lists rights as root"); return
    if name == "sudo" and any(o in ("-e", "--edit") for o in opts):
        acc.add(2, "sudo -e edits files as root"); return
    if not rest:
        if name == "xargs":
            _tier1(acc, "xargs", "xargs runs echo on its input"); return
        _tier1(acc, name) if at_least == 1 else acc.add(at_least, why)
        return
    if name == "xargs" and any(o in ("-I", "-i", "--replace") or o.startswith(("-I", "--replace")) for o in opts):
        why = "xargs -I runs a command with its input inserted"
    _payload_words(rest, cmd, acc, depth, at_least, why)


_RULES = {
    "find": _r_find, "sed": _r_sed, "gsed": _r_sed, "tee": _r_tee, "sort": _r_sort, "uniq": _r_uniq,
    "date": _r_date, "hostname": _r_hostname, "dmesg": _r_dmesg, "journalctl": _r_journalctl, "less": _r_less,
    "man": _r_man, "ss": _r_ss, "file": _r_file, "xxd": _r_xxd, "smartctl": _r_smartctl,
    "dmidecode": _r_dmidecode, "tcpdump": _r_tcpdump, "mount": _r_mount, "ip": _r_ip, "ifconfig": _r_ifconfig,
    "route": _r_route, "arp": _r_arp, "sysctl": _r_sysctl, "iptables": _r_iptables, "ip6tables": _r_iptables,
    "iptables-save": lambda n, a, t, c, acc, d: _tier1(acc, n), "nft": _r_nft,
    "timedatectl": _r_ctl, "hostnamectl": _r_ctl, "localectl": _r_ctl, "loginctl": _r_ctl, "resolvectl": _r_ctl,
    "networkctl": _r_ctl, "coredumpctl": _r_ctl, "busctl": _r_ctl,
    "systemctl": _r_systemctl, "service": _r_service, "kubectl": _r_kubectl, "oc": _r_kubectl,
    "pvecm": _r_proxmox, "pvesh": _r_proxmox, "qm": _r_proxmox, "pct": _r_proxmox,
    "docker": _r_docker, "podman": _r_docker, "nerdctl": _r_docker, "crictl": _r_docker,
    "helm": _r_helm, "git": _r_git, "crontab": _r_crontab,
    "apt": _r_pkg, "apt-get": _r_pkg, "apt-cache": _r_pkg, "dpkg": _r_pkg, "dpkg-query": _r_pkg, "yum": _r_pkg,
    "dnf": _r_pkg, "rpm": _r_pkg, "snap": _r_pkg, "pip": _r_pkg, "pip3": _r_pkg, "npm": _r_pkg, "zypper": _r_pkg,
    "apk": _r_pkg, "tar": _r_tar, "gzip": _r_gzip, "gunzip": _r_gzip, "bzip2": _r_gzip, "bunzip2": _r_gzip,
    "xz": _r_gzip, "unxz": _r_gzip, "zstd": _r_gzip, "yq": _r_yq,
    "chmod": _r_chmod, "chown": _r_chmod, "chgrp": _r_chmod, "mv": _r_mvcp, "cp": _r_mvcp,
    "psql": _r_db, "mysql": _r_db, "mariadb": _r_db, "sqlite3": _r_db, "redis-cli": _r_db, "mongo": _r_db,
    "mongosh": _r_db, "cqlsh": _r_db, "clickhouse-client": _r_db,
    "zpool": _r_zpool, "zfs": _r_zpool,
    "dmsetup": _r_readonly_subcmd({"ls", "info", "status", "table", "deps", "version", "targets"}, set(),
                                  "changes device-mapper devices"),
    "cryptsetup": _r_readonly_subcmd({"status", "luksdump", "isluks", "benchmark"}, {"erase", "luksErase".lower()},
                                     "changes encrypted volumes"),
    "mdadm": _r_readonly_subcmd({"detail", "d", "examine", "e", "query", "q"}, {"zero-superblock"}, "changes RAID arrays"),
    "nvme": _r_readonly_subcmd({"list", "id-ctrl", "id-ns", "smart-log", "error-log", "list-subsys", "version"},
                               {"format", "sanitize", "delete-ns"}, "changes an NVMe device"),
    "reg": _r_readonly_subcmd({"query"}, set(), "changes the Windows registry"),
    "schtasks": _r_readonly_subcmd({"query"}, {"delete"}, "changes scheduled tasks"),
    "sc": _r_readonly_subcmd({"query", "queryex", "qc", "qdescription", "qfailure", "enumdepend", "getdisplayname"},
                             set(), "changes services"),
    "wevtutil": _r_readonly_subcmd({"qe", "el", "gl", "gp", "gli", "enum-logs", "get-log", "query-events"},
                                   {"cl", "clear-log"}, "changes event logs"),
    "vssadmin": _r_readonly_subcmd({"list"}, {"delete", "resize"}, "changes shadow copies"),
    "wbadmin": _r_readonly_subcmd({"get"}, {"delete"}, "changes backups"),
    "ipconfig": _r_ipconfig, "cipher": _r_cipher, "rmdir": _r_rmdir, "rd": _r_rmdir,
    "hash": _r_hash, "alias": _r_alias, "eval": _r_eval, "trap": _r_trap, "cmd": _r_cmd, "su": _r_su,
    "ssh": _r_ssh,
}
#: READ_ONLY programs whose options could make them write, were an argument computed at run time
_ARG_SENSITIVE_NAMES = {"top", "watch", "printf", "ping", "traceroute", "mtr", "base64", "ethtool", "iwconfig"}
