"""Reading a stored user turn back: the engineer's own text and the logs attached to it.

A chat turn with attached logs is stored as one text (what the model saw): the message, then one
block per log, ``Attached log `NAME` (LABEL):`` and the log text in a fenced block (see
``ChatService._attachment``); an attached MCP resource is ``Attached resource `SERVER: URI` (LABEL):``. :func:`split_attachments` takes such a text apart again so a view
can show the message, and each log as a chip with its redaction state and its full text, instead
of one long code fence. Pure: no database, no display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Attachment", "split_attachments", "redaction_state"]

_BLOCK = re.compile(
    r"\n\nAttached (?P<kind>log|resource) `(?P<name>[^`\n]*)` \((?P<label>[^\n]*)\):\n```[\w-]*\n(?P<body>.*?)\n```"
    r"(?=\n\nAttached (?:log|resource) `|\s*\Z)",
    re.DOTALL,
)
_PLACEHOLDER = re.compile(r"\[[A-Za-z][A-Za-z0-9]*_\d+\]")


@dataclass
class Attachment:
    #: the log's file name as it was sent
    name: str
    #: how it left, as the label sent with it says (e.g. "PII redacted after review: 3 value(s)")
    label: str
    #: the text sent for it (redacted unless the reviewer released values)
    text: str
    #: "log" or "resource" (an MCP resource)
    kind: str = "log"

    @property
    def state(self) -> str:
        """``redacted``, ``partly original``, ``original`` or ``no PII found``: the label's
        state, except that a text still holding placeholders is never called "original"."""
        state = redaction_state(self.label)
        if state == "original" and _PLACEHOLDER.search(self.text):
            return "partly original"
        return state


def redaction_state(label: str) -> str:
    """A short redaction state from an attachment's label (the kernel's review-state labels)."""
    low = (label or "").lower()
    if "sent without redaction" in low:
        return "original"
    if "sent unredacted" in low:
        return "partly original"
    if "no pii" in low:
        return "no PII found"
    return "redacted"


def split_attachments(content: str) -> tuple[str, list[Attachment]]:
    """``(message, attachments)`` of a stored user turn; ``(content, [])`` when it has none.

    Only a run of complete blocks at the very end of the text counts, so a message that merely
    mentions "Attached log" stays as it is."""
    content = content or ""
    found: list[Attachment] = []
    start = None
    pos = len(content)
    # walk the blocks from the end: each must end where the next one starts
    for m in reversed(list(_BLOCK.finditer(content))):
        if content[m.end():pos].strip():
            break
        found.append(Attachment(m.group("name"), m.group("label"), m.group("body"), m.group("kind")))
        start = pos = m.start()
    if start is None:
        return content, []
    found.reverse()
    return content[:start], found
