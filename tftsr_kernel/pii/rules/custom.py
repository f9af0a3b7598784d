"""User patterns (settings ``pii_custom_patterns``, ``tftsr pii --pattern NAME=REGEX``).

They run in hyperscan, a linear-time automaton engine: no pattern can make the scanner
backtrack (Python ``re`` took 48 s for ``(a+|é)+$`` on a 29-byte line).  The price is the
syntax hyperscan accepts: no back-references (``\\1``, ``(?P=name)``), no look-ahead or
look-behind, and a pattern must not match the empty string.  Such a pattern is refused with a
:class:`~tftsr_kernel.errors.ValidationError` that says why, when the setting is saved and when
it is given on the command line.

Semantics: patterns are matched against the UTF-8 text (``HS_FLAG_UTF8``) with leftmost start
of match; every match is reported and overlapping matches merge into one span, so a span covers
the union of the matches (for ``\\d+`` on ``12345``: the whole number).  ``\\w``, ``\\d``, ``\\s``
and ``\\b`` are ASCII classes, as in the built-in anchors; ``^`` and ``$`` match at line
starts and ends; ``.`` does not match a newline.
"""

from __future__ import annotations

from ...errors import ValidationError

MAX_PATTERN_LENGTH = 2000


def _hs():
    import hyperscan  # the engine reports a missing hyperscan; here it is a plain import

    return hyperscan


def hs_flags(hs) -> int:
    return hs.HS_FLAG_UTF8 | hs.HS_FLAG_SOM_LEFTMOST | hs.HS_FLAG_MULTILINE


def _unsupported(pattern: str) -> str | None:
    """What a pattern uses that hyperscan cannot run, in words, or None.  Also checks that it
    is a valid regular expression (Python syntax, which the settings document)."""
    import re

    try:
        parser = re._parser  # type: ignore[attr-defined]
    except AttributeError:  # Python < 3.11
        import sre_parse as parser  # type: ignore[no-redef]
    try:
        tree = parser.parse(pattern)
    except re.error as exc:
        return f"it is not a valid regular expression: {exc}"
    found: set[str] = set()
    sub = parser.SubPattern

    def walk(node) -> None:
        if isinstance(node, sub):
            for op, av in node:
                name = str(op)
                if name in ("GROUPREF", "GROUPREF_EXISTS"):
                    found.add("a back-reference")
                elif name in ("ASSERT", "ASSERT_NOT"):
                    kind = "look-behind" if av[0] < 0 else "look-ahead"
                    found.add(f"a {'negative ' if name == 'ASSERT_NOT' else ''}{kind}")
                elif name in ("POSSESSIVE_REPEAT", "ATOMIC_GROUP"):
                    found.add("a possessive quantifier or atomic group")
                walk(av)
        elif isinstance(node, (list, tuple)):
            for x in node:
                walk(x)

    walk(tree)
    if found:
        return "it uses " + " and ".join(sorted(found)) + ", which the linear-time engine cannot run"
    return None


def validate(name: str, pattern: str) -> str:
    """Check one user pattern; returns its type name.  Raises ValidationError saying why a
    pattern cannot be used."""
    if not isinstance(pattern, str) or not pattern:
        raise ValidationError(f"custom PII pattern {name!r} is empty")
    label = name or "Custom"
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValidationError(
            f"custom PII pattern {label!r} is longer than {MAX_PATTERN_LENGTH} characters; split it"
        )
    why = _unsupported(pattern)
    if why is None:
        hs = _hs()
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        try:
            db.compile(expressions=[_encode(pattern)], ids=[0], elements=1, flags=[hs_flags(hs)])
        except hs.error as exc:
            msg = str(exc).rstrip(".")
            if "empty buffer" in msg:
                why = "it matches the empty string (every position would be a finding)"
            else:
                why = f"the linear-time engine (hyperscan) cannot compile it: {msg}"
    if why:
        hint = ""
        if "linear-time" in why:
            hint = " Rewrite it to match the value itself, without back-references or look-around (e.g. TCK-\\d{6})."
        raise ValidationError(f"custom PII pattern {label!r} cannot be used: {why}.{hint}")
    return label


def _encode(pattern: str) -> bytes:
    return pattern.encode("utf-8", "surrogateescape")


def compile_database(patterns: list[tuple[str, str]]):
    """One hyperscan database of the user patterns (ids = their index), validated first."""
    for name, pattern in patterns:
        validate(name, pattern)
    hs = _hs()
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    flags = hs_flags(hs)
    db.compile(
        expressions=[_encode(p) for _n, p in patterns],
        ids=list(range(len(patterns))),
        elements=len(patterns),
        flags=[flags] * len(patterns),
    )
    return db


def utf8_for_scan(text: str) -> bytes:
    """The UTF-8 bytes a custom database scans (lone surrogates, i.e. undecodable input bytes,
    become ``?``: hyperscan's UTF-8 mode needs valid UTF-8)."""
    return text.encode("utf-8", "replace")


def char_offsets(text: str, data: bytes, byte_offsets: list[int]) -> dict[int, int]:
    """``{byte offset: character offset}`` for offsets into ``data = utf8_for_scan(text)``
    (each at a character boundary), in one pass over the text."""
    out: dict[int, int] = {}
    pos_b = 0
    pos_c = 0
    for b in sorted(set(byte_offsets)):
        if b > pos_b:
            pos_c += len(data[pos_b:b].decode("utf-8", "replace"))
            pos_b = b
        out[b] = pos_c
    return out
