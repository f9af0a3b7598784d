"""(Past 600 lines on purpose: the tokenizer and the flat parser share one model of bash's quoting
and expansion rules; split, the two halves would drift apart.)

A reader for POSIX/bash command lines, written for the classifier (not a shell).

It reads what bash would read and keeps what matters for deciding a command's effect: every
simple command (its words with quotes removed, its assignments and redirections, the command it
reads a pipe from), every piece of code that runs inside another (``$(...)``, backticks,
``<(...)``/``>(...)``, ``${...}`` and ``$((...))`` contents, unquoted here-doc bodies) and which
words are computed when the command runs (variables, substitutions, wildcards, brace
expansion, ``~``). Quoting tricks come out as what bash runs: ``r''m``, ``"rm"``, ``\\rm`` and
``$'\\x72m'`` are all the word ``rm``.

Control structures (``if``/``for``/``while``/``case``, ``{ }``, ``( )``, function definitions)
are read through: every command inside them counts, as if it runs. Anything this reader cannot
read with certainty (an unterminated quote or substitution, unbalanced parentheses, a NUL byte)
raises :class:`ParseError`; the classifier refuses such a command rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class ParseError(Exception):
    """The command line cannot be read with certainty."""


_META = set(" \t\n;&|()<>")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_RESERVED_SKIP = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "time",
                  "esac", "{", "}", "coproc"}


@dataclass
class Word:
    text: str = ""          # the value after quote removal (expansions kept as written)
    raw: str = ""           # as written
    quoted: bool = False    # some part was quoted or escaped
    expands: bool = False   # holds a variable, substitution or arithmetic expansion
    glob: bool = False      # an unquoted * ? or [
    brace: bool = False     # an unquoted {a,b} or {a..b}
    tilde: bool = False     # starts with an unquoted ~
    subs: list = field(default_factory=list)   # code run inside: $(...), `...`, <(...), >(...)
    plain_chars: list = field(default_factory=list)  # (char, quoted) for brace expansion

    @property
    def literal(self) -> bool:
        """Nothing in it changes when the shell runs it."""
        return not (self.expands or self.glob or self.brace or self.tilde)


@dataclass
class Redirect:
    op: str                 # > >> >| < << <<- <<< <> >& <& &> &>>
    fd: str | None
    target: Word | None
    body: str | None = None          # here-doc text
    body_expands: bool = False       # unquoted delimiter: $(...) in the body runs


@dataclass
class Command:
    words: list = field(default_factory=list)
    assigns: list = field(default_factory=list)
    redirects: list = field(default_factory=list)
    pipe_from: "Command | None" = None
    funcs: tuple = ()                # names of the functions whose body this is in
    pseudo: bool = False             # words of a for/case/[[ ]] list, not a command

    def text(self) -> str:
        return " ".join(w.raw for w in self.assigns + self.words)


@dataclass
class Script:
    commands: list = field(default_factory=list)
    functions: dict = field(default_factory=dict)   # name -> defined (recursion checked by caller)
    operators: set = field(default_factory=set)


@dataclass
class _Tok:
    kind: str            # word | op | redir | nl
    value: object
    pos: int
    end: int


_ANSI = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
         "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


class _Lexer:
    def __init__(self, src: str):
        if "\x00" in src:
            raise ParseError("the command holds a NUL byte")
        self.s = src
        self.i = 0
        self.toks: list[_Tok] = []
        self.pending_heredocs: list[Redirect] = []

    # -- scanning helpers -------------------------------------------------------------------
    def _match_paren(self, start: int) -> int:
        """``start`` is just after ``(``: the index of the matching ``)`` (a sub-lexer reads it)."""
        sub = _Lexer(self.s)
        sub.i = start
        depth = 0
        while True:
            tok = sub._next(stop_at_paren=True)
            if tok is None:
                raise ParseError("an unterminated $( or ( )")
            if tok.kind == "op" and tok.value == "(":
                depth += 1
            elif tok.kind == "op" and tok.value == ")":
                if depth == 0:
                    return tok.pos
                depth -= 1

    def _match_brace(self, start: int) -> int:
        """``start`` is just after ``${``: index of the matching ``}``."""
        i, depth, s = start, 0, self.s
        while i < len(s):
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == "'":
                j = s.find("'", i + 1)
                if j < 0:
                    raise ParseError("an unterminated quote inside ${...}")
                i = j + 1
                continue
            if c == '"':
                i = self._dquote_end(i + 1) + 1
                continue
            if s.startswith("$(", i):
                i = self._match_paren(i + 2) + 1
                continue
            if s.startswith("${", i):
                depth += 1
                i += 2
                continue
            if c == "`":
                j = self._backtick_end(i + 1)
                i = j + 1
                continue
            if c == "}":
                if depth == 0:
                    return i
                depth -= 1
            i += 1
        raise ParseError("an unterminated ${...}")

    def _backtick_end(self, start: int) -> int:
        i = start
        while i < len(self.s):
            if self.s[i] == "\\":
                i += 2
                continue
            if self.s[i] == "`":
                return i
            i += 1
        raise ParseError("an unterminated backtick")

    def _dquote_end(self, start: int) -> int:
        i, s = start, self.s
        while i < len(s):
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == '"':
                return i
            if s.startswith("$(", i):
                i = self._match_paren(i + 2) + 1
                continue
            if s.startswith("${", i):
                i = self._match_brace(i + 2) + 1
                continue
            if c == "`":
                i = self._backtick_end(i + 1) + 1
                continue
            i += 1
        raise ParseError("an unterminated double quote")

    def _dollar(self, w: Word, quoted: bool) -> None:
        """At ``$``: read one expansion into ``w``."""
        s, i = self.s, self.i
        nxt = s[i + 1] if i + 1 < len(s) else ""
        if s.startswith("$((", i):
            end = self._match_paren(i + 3)   # the inner ( ... )
            if not s.startswith(")", end + 1):
                end2 = self._match_paren(i + 2)  # $( (subshell) ): a command substitution after all
                w.subs.append(s[i + 2:end2])
                self._add(w, s[i:end2 + 1], quoted, expands=True)
                self.i = end2 + 1
                return
            inner = s[i + 3:end]
            w.subs.extend(_subs_in(inner))
            self._add(w, s[i:end + 2], quoted, expands=True)
            self.i = end + 2
            return
        if nxt == "(":
            end = self._match_paren(i + 2)
            w.subs.append(s[i + 2:end])
            self._add(w, s[i:end + 1], quoted, expands=True)
            self.i = end + 1
            return
        if nxt == "{":
            end = self._match_brace(i + 2)
            inner = s[i + 2:end]
            w.subs.extend(_subs_in(inner))
            self._add(w, s[i:end + 1], quoted, expands=True)
            self.i = end + 1
            return
        if nxt == "'" and not quoted:
            j = i + 2
            out = []
            while True:
                if j >= len(s):
                    raise ParseError("an unterminated $'...' quote")
                c = s[j]
                if c == "'":
                    break
                if c == "\\" and j + 1 < len(s):
                    d = s[j + 1]
                    if d in _ANSI:
                        out.append(_ANSI[d]); j += 2; continue
                    m = re.match(r"x([0-9A-Fa-f]{1,2})", s[j + 1:])
                    if m:
                        out.append(chr(int(m.group(1), 16))); j += 1 + len(m.group(0)); continue
                    m = re.match(r"u([0-9A-Fa-f]{1,4})|U([0-9A-Fa-f]{1,8})", s[j + 1:])
                    if m:
                        try:
                            out.append(chr(int(m.group(1) or m.group(2), 16)))
                        except (ValueError, OverflowError):
                            raise ParseError("a bad \\U escape in $'...'") from None
                        j += 1 + len(m.group(0)); continue
                    m = re.match(r"[0-7]{1,3}", s[j + 1:])
                    if m:
                        out.append(chr(int(m.group(0), 8) & 0xFF)); j += 1 + len(m.group(0)); continue
                    if d == "c" and j + 2 < len(s):
                        out.append(chr(ord(s[j + 2]) & 0x1F)); j += 3; continue
                    out.append("\\" + d); j += 2; continue
                out.append(c)
                j += 1
            self._add(w, "".join(out), True, raw=s[i:j + 1])
            self.i = j + 1
            return
        if nxt == '"' and not quoted:  # $"..." locale string: a double-quoted string
            self.i = i + 1
            return
        m = _NAME.match(s, i + 1)
        if m:
            self._add(w, s[i:m.end()], quoted, expands=True)
            self.i = m.end()
            return
        if nxt and nxt in "@*#?$!-0123456789":
            self._add(w, s[i:i + 2], quoted, expands=True)
            self.i = i + 2
            return
        self._add(w, "$", quoted)
        self.i = i + 1

    @staticmethod
    def _add(w: Word, text: str, quoted: bool, *, expands: bool = False, raw: str | None = None) -> None:
        w.text += text
        w.raw += raw if raw is not None else text
        if quoted:
            w.quoted = True
        if expands:
            w.expands = True
        w.plain_chars.extend((c, quoted or expands) for c in text)

    # -- tokens -------------------------------------------------------------------------------
    def _word(self) -> Word:
        s = self.s
        w = Word()
        start = self.i
        while self.i < len(s):
            c = s[self.i]
            if c in _META:
                if c in "<>" and self.i + 1 < len(s) and s[self.i + 1] == "(" and self.i == start:
                    end = self._match_paren(self.i + 2)   # process substitution
                    w.subs.append(s[self.i + 2:end])
                    self._add(w, s[self.i:end + 1], False, expands=True)
                    self.i = end + 1
                    continue
                break
            if c == "\\":
                if self.i + 1 >= len(s):
                    self._add(w, "\\", False)
                    self.i += 1
                    continue
                if s[self.i + 1] == "\n":
                    self.i += 2
                    continue
                self._add(w, s[self.i + 1], True, raw=s[self.i:self.i + 2])
                self.i += 2
                continue
            if c == "'":
                j = s.find("'", self.i + 1)
                if j < 0:
                    raise ParseError("an unterminated single quote")
                self._add(w, s[self.i + 1:j], True, raw=s[self.i:j + 1])
                w.quoted = True
                self.i = j + 1
                continue
            if c == '"':
                self._dquoted(w)
                continue
            if c == "$":
                self._dollar(w, False)
                continue
            if c == "`":
                j = self._backtick_end(self.i + 1)
                w.subs.append(_unbacktick(s[self.i + 1:j]))
                self._add(w, s[self.i:j + 1], False, expands=True)
                self.i = j + 1
                continue
            if c in "*?[":
                w.glob = True
            if c == "~" and self.i == start:
                w.tilde = True
            self._add(w, c, False)
            self.i += 1
        if not w.quoted and not w.expands:
            t = w.text
            if "{" in t and "}" in t and re.search(r"\{[^{}]*(,|\.\.)[^{}]*\}", t):
                w.brace = True
        else:
            unq = "".join(ch if not q else "\0" for ch, q in w.plain_chars)
            if re.search(r"\{[^{}\0]*(,|\.\.)[^{}\0]*\}", unq):
                w.brace = True
        return w

    def _dquoted(self, w: Word) -> None:
        s = self.s
        end = self._dquote_end(self.i + 1)
        self.i += 1
        w.quoted = True
        w.raw += '"'
        while self.i < end:
            c = s[self.i]
            if c == "\\" and self.i + 1 < end + 1 and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    self._add(w, s[self.i + 1], True, raw=s[self.i:self.i + 2])
                self.i += 2
                continue
            if c == "$":
                self._dollar(w, True)
                continue
            if c == "`":
                j = self._backtick_end(self.i + 1)
                w.subs.append(_unbacktick(s[self.i + 1:j]))
                self._add(w, s[self.i:j + 1], True, expands=True)
                self.i = j + 1
                continue
            self._add(w, c, True)
            self.i += 1
        w.raw += '"'
        self.i = end + 1

    def _read_heredocs(self) -> None:
        """At the start of a line after ``<<``: read each pending body."""
        for r in self.pending_heredocs:
            delim = r.target.text if r.target else ""
            lines = []
            while self.i <= len(self.s):
                nl = self.s.find("\n", self.i)
                line = self.s[self.i:] if nl < 0 else self.s[self.i:nl]
                self.i = len(self.s) + 1 if nl < 0 else nl + 1
                check = line.lstrip("\t") if r.op == "<<-" else line
                if check == delim:
                    break
                lines.append(line)
            self.i = min(self.i, len(self.s))
            r.body = "\n".join(lines)
            r.body_expands = not (r.target and r.target.quoted)
        self.pending_heredocs = []

    def _next(self, stop_at_paren: bool = False) -> _Tok | None:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t":
                self.i += 1
            elif c == "\\" and s.startswith("\\\n", self.i):
                self.i += 2
            elif c == "#":
                nl = s.find("\n", self.i)
                self.i = len(s) if nl < 0 else nl
            else:
                break
        if self.i >= len(s):
            return None
        start = self.i
        c = s[self.i]
        if c == "\n":
            self.i += 1
            if self.pending_heredocs:
                self._read_heredocs()
            return _Tok("nl", "\n", start, self.i)
        for op in (";;&", ";;", ";&", "&&", "||", "|&", ";", "|", "(", ")"):
            if s.startswith(op, self.i):
                self.i += len(op)
                return _Tok("op", op, start, self.i)
        if s.startswith("&>>", self.i) or s.startswith("&>", self.i):
            op = "&>>" if s.startswith("&>>", self.i) else "&>"
            self.i += len(op)
            return self._redir(op, None, start)
        if c == "&":
            self.i += 1
            return _Tok("op", "&", start, self.i)
        if c in "<>" and not (self.i + 1 < len(s) and s[self.i + 1] == "("):
            return self._redir_op(None, start)
        w = self._word()
        if self.i < len(s) and s[self.i] in "<>" and w.raw.isdigit() and not (
                self.i + 1 < len(s) and s[self.i + 1] == "("):
            return self._redir_op(w.raw, start)
        if self.i < len(s) and s[self.i] in "<>" and re.fullmatch(r"\{[A-Za-z_][A-Za-z0-9_]*\}", w.raw):
            return self._redir_op(w.raw, start)
        return _Tok("word", w, start, self.i)

    def _redir_op(self, fd, start) -> _Tok:
        s = self.s
        for op in ("<<<", "<<-", "<<", "<>", "<&", ">>", ">&", ">|", "<", ">"):
            if s.startswith(op, self.i):
                self.i += len(op)
                return self._redir(op, fd, start)
        raise ParseError("a bad redirection")

    def _redir(self, op, fd, start) -> _Tok:
        s = self.s
        while self.i < len(s) and s[self.i] in " \t":
            self.i += 1
        if self.i >= len(s) or s[self.i] in "\n;&|()<>" and not (
                s[self.i] in "<>" and self.i + 1 < len(s) and s[self.i + 1] == "("):
            raise ParseError(f"the redirection {op} has no target")
        target = self._word()
        r = Redirect(op, fd, target)
        if op in ("<<", "<<-"):
            self.pending_heredocs.append(r)
        return _Tok("redir", r, start, self.i)

    def tokens(self) -> list[_Tok]:
        out = []
        while True:
            t = self._next()
            if t is None:
                break
            out.append(t)
        if self.pending_heredocs:  # bash reads a here-doc at the end of input with a warning
            for r in self.pending_heredocs:
                r.body, r.body_expands = "", not (r.target and r.target.quoted)
        return out


def _unbacktick(text: str) -> str:
    return re.sub(r"\\([`\\$])", r"\1", text)


def _subs_in(text: str) -> list[str]:
    """Code inside an expansion's text (``${x:-$(cmd)}``, ``$(( $(cmd) + 1 ))``, a here-doc)."""
    out = []
    lx = _Lexer(text)
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if text.startswith("$(", i):
            if text.startswith("$((", i):
                end = lx._match_paren(i + 3)
                if text.startswith(")", end + 1):
                    out.extend(_subs_in(text[i + 3:end]))
                    i = end + 2
                    continue
            end = lx._match_paren(i + 2)
            out.append(text[i + 2:end])
            i = end + 1
            continue
        if c == "`":
            end = lx._backtick_end(i + 1)
            out.append(_unbacktick(text[i + 1:end]))
            i = end + 1
            continue
        i += 1
    return out


def expand_braces(word: Word, limit: int = 256) -> list[str] | None:
    """The words bash makes of an unquoted brace expression (``{rm,-rf,/}`` -> rm -rf /);
    None beyond ``limit`` results."""
    chars = word.plain_chars

    def expand(seq):
        depth, start = 0, None
        for idx, (ch, q) in enumerate(seq):
            if q:
                continue
            if ch == "{":
                if depth == 0:
                    start = idx
                depth += 1
            elif ch == "}" and depth:
                depth -= 1
                if depth == 0:
                    inner = seq[start + 1:idx]
                    parts, d, cur = [], 0, []
                    for ch2, q2 in inner:
                        if not q2 and ch2 == "{":
                            d += 1
                        elif not q2 and ch2 == "}":
                            d -= 1
                        if not q2 and ch2 == "," and d == 0:
                            parts.append(cur); cur = []
                        else:
                            cur.append((ch2, q2))
                    parts.append(cur)
                    pre, post = seq[:start], seq[idx + 1:]
                    if len(parts) == 1:
                        text = "".join(c for c, _ in inner)
                        m = re.fullmatch(r"(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(\.\.-?\d+)?", text)
                        if not m:
                            continue
                        a, b = m.group(1), m.group(2)
                        if a.lstrip("-").isdigit() and b.lstrip("-").isdigit():
                            lo, hi = int(a), int(b)
                            rng = range(lo, hi + 1) if lo <= hi else range(lo, hi - 1, -1)
                            if len(rng) > limit:
                                return None
                            parts = [[(ch3, False) for ch3 in str(n)] for n in rng]
                        elif len(a) == 1 and len(b) == 1 and not a.isdigit():
                            lo, hi = ord(a), ord(b)
                            rng = range(lo, hi + 1) if lo <= hi else range(lo, hi - 1, -1)
                            parts = [[(chr(n), False)] for n in rng]
                        else:
                            continue
                    results = []
                    for p in parts:
                        sub = expand(pre + p + post)
                        if sub is None:
                            return None
                        results.extend(sub)
                        if len(results) > limit:
                            return None
                    return results
        return ["".join(c for c, _ in seq)]

    return expand(list(chars))


# --- parsing: a flat list of the commands that may run -------------------------------------------
def parse(src: str) -> Script:
    toks = _Lexer(src).tokens()
    script = Script()
    ctx: list[tuple] = []          # ('paren'|'brace'|'case'|'func', name)
    cur = Command()
    pipe_from = None
    i = 0
    case_pattern = False
    pending_func = None

    def funcs():
        return tuple(n for kind, n in ctx if kind == "func" and n)

    def finish(next_pipe=False):
        nonlocal cur, pipe_from
        if cur.words or cur.assigns or cur.redirects:
            cur.funcs = funcs()
            script.commands.append(cur)
            pipe_from = cur if next_pipe else None
        else:
            pipe_from = None
        cur = Command(pipe_from=pipe_from)

    def at_command_position():
        return not cur.words

    while i < len(toks):
        t = toks[i]
        if case_pattern:
            if t.kind == "word" and t.value.text == "esac" and not t.value.quoted:
                case_pattern = False
                if ctx and ctx[-1][0] == "case":
                    ctx.pop()
                i += 1
                continue
            if t.kind == "word":
                script.commands.append(Command(words=[t.value], pseudo=True, funcs=funcs()))
            elif t.kind == "op" and t.value == ")":
                case_pattern = False
            i += 1
            continue
        if t.kind == "nl" or (t.kind == "op" and t.value in (";", "&", "&&", "||", ";;", ";&", ";;&")):
            if t.kind == "op":
                script.operators.add(t.value)
            finish()
            if t.kind == "op" and t.value in (";;", ";&", ";;&") and ctx and ctx[-1][0] == "case":
                case_pattern = True
            i += 1
            continue
        if t.kind == "op" and t.value in ("|", "|&"):
            script.operators.add(t.value)
            if not cur.words and not cur.redirects:
                raise ParseError("a pipe with nothing before it")
            finish(next_pipe=True)
            i += 1
            continue
        if t.kind == "op" and t.value == "(":
            script.operators.add("(")
            if at_command_position() and not cur.assigns:
                if i + 1 < len(toks) and toks[i + 1].kind == "op" and toks[i + 1].value == "(" \
                        and toks[i + 1].pos == t.end:
                    # (( arithmetic )): read to the matching ))
                    depth, j = 0, i
                    while j < len(toks):
                        if toks[j].kind == "op" and toks[j].value == "(":
                            depth += 1
                        elif toks[j].kind == "op" and toks[j].value == ")":
                            depth -= 1
                            if depth == 0:
                                break
                        elif toks[j].kind == "word":
                            script.commands.append(Command(words=[toks[j].value], pseudo=True, funcs=funcs()))
                        j += 1
                    if j >= len(toks):
                        raise ParseError("an unterminated (( ))")
                    i = j + 1
                    continue
                ctx.append(("func", pending_func) if pending_func else ("paren", None))
                pending_func = None
                i += 1
                continue
            if len(cur.words) == 1 and i + 1 < len(toks) and toks[i + 1].kind == "op" and toks[i + 1].value == ")":
                pending_func = cur.words[0].text    # name ( ) compound-command
                script.functions[pending_func] = True
                cur = Command(pipe_from=cur.pipe_from)
                i += 2
                continue
            raise ParseError("a ( in an unexpected place")
        if t.kind == "op" and t.value == ")":
            finish()
            if not ctx or ctx[-1][0] not in ("paren", "func"):
                raise ParseError("an unmatched )")
            ctx.pop()
            i += 1
            continue
        if t.kind == "redir":
            cur.redirects.append(t.value)
            i += 1
            continue
        w: Word = t.value
        if at_command_position() and not w.quoted and not w.expands:
            word = w.text
            if word == "{":
                ctx.append(("func", pending_func) if pending_func else ("brace", None))
                pending_func = None
                i += 1
                continue
            if word == "}":
                finish()
                if ctx and ctx[-1][0] in ("brace", "func"):
                    ctx.pop()
                i += 1
                continue
            if word in _RESERVED_SKIP and not cur.assigns:
                i += 1
                continue
            if word == "function" and not cur.assigns:
                if i + 1 >= len(toks) or toks[i + 1].kind != "word":
                    raise ParseError("function without a name")
                pending_func = toks[i + 1].value.text
                script.functions[pending_func] = True
                i += 2
                if i + 1 < len(toks) and toks[i].kind == "op" and toks[i].value == "(" \
                        and toks[i + 1].kind == "op" and toks[i + 1].value == ")":
                    i += 2
                continue
            if word in ("for", "select") and not cur.assigns:
                j = i + 1
                while j < len(toks) and not (toks[j].kind == "nl" or (toks[j].kind == "op" and toks[j].value == ";")
                                             or (toks[j].kind == "word" and toks[j].value.text == "do")):
                    if toks[j].kind == "word":
                        script.commands.append(Command(words=[toks[j].value], pseudo=True, funcs=funcs()))
                    j += 1
                i = j + 1 if j < len(toks) and toks[j].kind != "word" else j
                continue
            if word == "case" and not cur.assigns:
                j = i + 1
                while j < len(toks) and not (toks[j].kind == "word" and toks[j].value.text == "in"):
                    if toks[j].kind == "word":
                        script.commands.append(Command(words=[toks[j].value], pseudo=True, funcs=funcs()))
                    j += 1
                if j >= len(toks):
                    raise ParseError("case without in")
                ctx.append(("case", None))
                case_pattern = True
                i = j + 1
                continue
            if word == "[[" and not cur.assigns:
                j = i + 1
                while j < len(toks) and not (toks[j].kind == "word" and toks[j].value.text == "]]"):
                    if toks[j].kind == "word":
                        script.commands.append(Command(words=[toks[j].value], pseudo=True, funcs=funcs()))
                    elif toks[j].kind == "redir" and toks[j].value.target is not None:
                        script.commands.append(Command(words=[toks[j].value.target], pseudo=True, funcs=funcs()))
                    elif toks[j].kind in ("nl",) or (toks[j].kind == "op" and toks[j].value in (";", "|", "&")):
                        raise ParseError("an unterminated [[")
                    j += 1
                if j >= len(toks):
                    raise ParseError("an unterminated [[")
                i = j + 1
                continue
        if at_command_position() and _ASSIGN.match(w.raw) and not w.raw.startswith("="):
            cur.assigns.append(w)
        else:
            cur.words.append(w)
        i += 1
    if case_pattern or any(k == "case" for k, _ in ctx):
        raise ParseError("an unterminated case")
    if any(k == "paren" for k, _ in ctx):
        raise ParseError("an unterminated (")
    finish()
    return script
