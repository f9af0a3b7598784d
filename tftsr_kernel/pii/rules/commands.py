"""Passwords on command lines of well-known tools, whose flags name no secret:
``mysql -p<pw>`` (and mysqldump, mysqladmin, mariadb …), ``sshpass -p <pw>``,
``curl -u user:<pw>`` / ``--user`` / ``--proxy-user``, ``redis-cli -a <pw>``,
``ldapsearch -w <pw>`` (and the other OpenLDAP clients).

``--password=…`` and ``--password …`` are in ``generic.py``; ``PGPASSWORD=…`` too.  Each
option is read as shell words (quotes honoured), so a value is covered whole.
"""

from __future__ import annotations

from . import _values
from ._common import SOM, Rule, _line_bounds, _longest_by_start
from .generic import value_ok

_MYSQL = frozenset(
    "mysql mysqldump mysqladmin mysqlimport mysqlcheck mysqlshow mysqlpump mysqlbinlog mysqlsh "
    "mariadb mariadb-dump mariadb-admin mariadb-import mariadb-check".split()
)
_LDAP = frozenset("ldapsearch ldapmodify ldapadd ldapdelete ldapwhoami ldappasswd ldapcompare ldapmodrdn ldapexop".split())
_SHELL_OPS = frozenset(("|", "||", "&&", ";", "&"))


def _words(text: str, e: int, le: int):
    """``(start, end)`` of the shell words after the command name, up to an operator."""
    i = e
    while True:
        while i < le and text[i] in " \t":
            i += 1
        if i >= le:
            return
        j = _values.shell_word_end(text, i, le)
        if j <= i:
            return
        if text[i:j] in _SHELL_OPS:
            return
        yield i, j
        i = j


def _unquote(text: str, a: int, b: int) -> tuple[int, int]:
    if b - a >= 2 and text[a] in "\"'" and text[b - 1] == text[a]:
        return a + 1, b - 1
    return a, b


def _flag_value(text: str, words: list, k: int, flag: str, attached: bool, separate: bool):
    """The value of ``flag`` at word ``k``: attached (``-pVALUE``, ``--user=VALUE``) or, if
    ``separate``, the next word."""
    a, b = words[k]
    w = text[a:b]
    if w == flag:
        if separate and k + 1 < len(words):
            return _unquote(text, *words[k + 1])
        return None
    if attached and w.startswith(flag) and len(w) > len(flag):
        a += len(flag)
        if text[a] == "=" and flag.startswith("--"):
            a += 1
        return _unquote(text, a, b)
    return None


def _h_command(text: str, hits, out) -> None:
    for s, e in _longest_by_start(hits).items():
        if s and text[s - 1] not in " \t\n\"'`/(;|&$":
            continue  # part of a longer word or path
        cmd = text[s:e]
        ls, le = _line_bounds(text, e)
        words = list(_words(text, e, le))
        for k in range(len(words)):
            v = None
            if cmd in _MYSQL:
                v = _flag_value(text, words, k, "-p", True, False)  # "-p" alone prompts
            elif cmd == "sshpass":
                v = _flag_value(text, words, k, "-p", True, True)
            elif cmd == "redis-cli":
                v = _flag_value(text, words, k, "-a", True, True)
            elif cmd in _LDAP:
                v = _flag_value(text, words, k, "-w", True, True)
            elif cmd == "curl":
                for flag in ("-u", "--user", "-U", "--proxy-user"):
                    v = _flag_value(text, words, k, flag, True, True)
                    if v is not None:
                        colon = text.find(":", v[0], v[1])
                        v = (colon + 1, v[1]) if colon >= 0 else None
                        break
            if v is None:
                continue
            a, b = v
            if b > a and value_ok(text[a:b], True):
                out.append((a, b, "Password"))


RULES: tuple[Rule, ...] = (
    Rule(
        rb"\b(?:mysql(?:dump|admin|import|check|show|pump|binlog|sh)?|mariadb(?:-dump|-admin|-import|-check)?"
        rb"|sshpass|curl|redis-cli|ldap(?:search|modify|add|delete|whoami|passwd|compare|modrdn|exop))\b",
        SOM,
        _h_command,
        ("Password",),
    ),
)
