"""Policy conditions: a small language that is parsed and evaluated (Triage Warden stored such
strings and never read them).

A condition is ``always`` or clauses joined by ``and``; a clause is ``FIELD OP VALUE``:

- fields: ``tier`` (1-3), ``program`` (every program in the command line), ``subcommand`` (the
  word after kubectl/systemctl/docker/helm/git…), ``command`` (the whole line), ``severity`` and
  ``category`` (of the issue), ``source`` (cli, chat, api, panel), ``actor``, ``role``,
  ``context`` (the active kubeconfig's context);
- operators: ``==``, ``!=``, ``in`` (a comma list: ``program in kubectl,helm``), ``~`` (a
  shell-style wildcard: ``command ~ "kubectl rollout restart *"``), and ``<``, ``<=``, ``>``,
  ``>=`` for ``tier``.

Values may be quoted (shlex rules). ``program`` matches when any program of the line matches,
except with ``!=``, which needs every program to differ.
"""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass

from ..errors import ValidationError

FIELDS = ("tier", "program", "subcommand", "command", "severity", "category", "source", "actor", "role", "context")
OPS = ("==", "!=", "in", "~", "<", "<=", ">", ">=")
ACTIONS = ("auto_approve", "require_approval", "deny")
LEVELS = ("analyst", "admin")
MAX_CONDITION = 1000


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    value: str


def parse_condition(text: str) -> list[Clause]:
    """The clauses of ``text`` ([] for ``always``); a :class:`ValidationError` says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("a policy needs a condition, e.g. 'program == kubectl and tier == 2' or 'always'")
    if len(text) > MAX_CONDITION:
        raise ValidationError(f"a policy condition is limited to {MAX_CONDITION} characters")
    try:
        toks = shlex.split(text)
    except ValueError as exc:
        raise ValidationError(f"cannot read the condition: {exc}") from None
    if toks == ["always"]:
        return []
    clauses, i = [], 0
    while i < len(toks):
        if len(toks) - i < 3:
            raise ValidationError(f"incomplete clause at {' '.join(toks[i:])!r}: write FIELD OP VALUE")
        field, op, value = toks[i].lower(), toks[i + 1], toks[i + 2]
        if field not in FIELDS:
            raise ValidationError(f"unknown field {field!r} in the condition; use one of: {', '.join(FIELDS)}")
        if op not in OPS:
            raise ValidationError(f"unknown operator {op!r}; use one of: {' '.join(OPS)}")
        if op in ("<", "<=", ">", ">=") or field == "tier":
            if field != "tier" or not all(v.strip() in ("1", "2", "3") for v in value.split(",")):
                raise ValidationError("only tier compares as a number, with a value of 1, 2 or 3")
        clauses.append(Clause(field, op, value))
        i += 3
        if i < len(toks):
            if toks[i].lower() != "and":
                raise ValidationError(f"clauses are joined with 'and', not {toks[i]!r}")
            i += 1
            if i >= len(toks):
                raise ValidationError("the condition ends with 'and'")
    return clauses


def _one(value, op: str, want: str) -> bool:
    v = "" if value is None else str(value)
    if op == "==":
        return v == want
    if op == "!=":
        return v != want
    if op == "in":
        return v in [w.strip() for w in want.split(",")]
    if op == "~":
        return fnmatch.fnmatchcase(v, want)
    a, b = int(v or 0), int(want)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def matches(clauses: list[Clause], facts: dict) -> bool:
    for c in clauses:
        value = facts.get(c.field)
        if isinstance(value, (list, tuple)):
            if c.op == "!=":
                ok = all(_one(v, c.op, c.value) for v in value)
            else:
                ok = any(_one(v, c.op, c.value) for v in value)
        else:
            ok = _one(value, c.op, c.value)
        if not ok:
            return False
    return True
