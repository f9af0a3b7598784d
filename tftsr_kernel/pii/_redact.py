"""Applying spans: redaction, consistent pseudonyms and restoring them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..errors import PiiError
from ._types import Span

_LABEL_BAD = re.compile(r"[^A-Za-z0-9]")
_PLACEHOLDER = re.compile(r"\[([A-Za-z][A-Za-z0-9]*)_(\d+)\]")


def placeholder_label(span_type: str) -> str:
    """The type as it appears in a placeholder: letters and digits only."""
    label = _LABEL_BAD.sub("", span_type)
    if not label or not label[0].isalpha():
        label = "Custom" + label
    return label


def redact(text: str, spans: Iterable[Span], replacement_for: Callable[[Span], str]) -> str:
    """``text`` with every span replaced by ``replacement_for(span)``.

    Spans may come in any order; a span overlapping an earlier one only replaces the part not
    already replaced, so no part of any span survives.  No spans: ``text`` is returned as is.
    """
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    if not ordered:
        return text
    n = len(text)
    parts: list[str] = []
    pos = 0
    for sp in ordered:
        if sp.start < 0 or sp.end > n or sp.start > sp.end:
            raise PiiError("a PII span lies outside the text it was applied to")
        if sp.end <= pos:
            continue
        s = sp.start if sp.start > pos else pos
        parts.append(text[pos:s])
        parts.append(replacement_for(sp))
        pos = sp.end
    parts.append(text[pos:])
    return "".join(parts)


class Pseudonymizer:
    """Consistent placeholders: the same ``(type, value)`` always gets the same ``[Type_N]``.

    ``mapping`` is an existing ``{(type, value): placeholder}`` (for example loaded from the
    database); numbering continues after the highest number used per type.  ``new_entries``
    lists the ``(type, value, placeholder)`` created since construction, for persisting.
    """

    def __init__(self, mapping: dict[tuple[str, str], str] | None = None):
        self.mapping: dict[tuple[str, str], str] = dict(mapping or {})
        self.new_entries: list[tuple[str, str, str]] = []
        self._used: set[str] = set(self.mapping.values())
        self._next: dict[str, int] = {}
        for ph in self._used:
            m = _PLACEHOLDER.fullmatch(ph)
            if m:
                label, n = m.group(1), int(m.group(2))
                if n >= self._next.get(label, 1):
                    self._next[label] = n + 1

    def placeholder(self, span: Span) -> str:
        return self.for_value(span.type, span.text)

    def for_value(self, span_type: str, value: str) -> str:
        key = (span_type, value)
        ph = self.mapping.get(key)
        if ph is not None:
            return ph
        label = placeholder_label(span_type)
        n = self._next.get(label, 1)
        ph = f"[{label}_{n}]"
        while ph in self._used:
            n += 1
            ph = f"[{label}_{n}]"
        self._next[label] = n + 1
        self._used.add(ph)
        self.mapping[key] = ph
        self.new_entries.append((span_type, value, ph))
        return ph

    def reverse(self) -> dict[str, str]:
        """``{placeholder: original}``, the mapping :func:`restore` takes."""
        return {ph: value for (_t, value), ph in self.mapping.items()}


def restore(text: str, mapping: dict[str, str]) -> str:
    """Replace known placeholders (``[IPv4_1]`` ...) in ``text`` by their original values.

    Unknown placeholders are left as they are.
    """
    if not mapping or "[" not in text:
        return text
    get = mapping.get
    return _PLACEHOLDER.sub(lambda m: get(m.group(0), m.group(0)), text)


def type_token(span: Span) -> str:
    """Replacement that hides even which values repeat: ``[IPv4]``."""
    return f"[{placeholder_label(span.type)}]"
