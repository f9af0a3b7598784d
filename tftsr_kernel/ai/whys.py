"""5-Whys progress from assistant replies.

The system prompt (:data:`tftsr_kernel.ai.prompts.WHY_PROTOCOL`) asks the model to end each
reply with ``[[WHY-LEVEL: N]]``, one ``[[WHY-N-QUESTION: …]]``, ``[[WHY-N-ANSWER: …]]`` and
``[[WHY-N-EVIDENCE: …]]`` for each why the reply answers, and, once known, ``[[ROOT-CAUSE: …]]``.
:func:`parse_progress` reads those markers: each answered why becomes a step with its own
question, answer and evidence (a reply that jumps two levels gives two different steps). Only
when a reply has no marker at all does it fall back to conservative phrase matching (explicit
"Why 3:" headings, "Root cause: …" lines), which advances at most one level. The level never
goes backwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["MAX_WHY_LEVEL", "Progress", "StepText", "parse_progress", "strip_markers", "MarkerStreamFilter",
           "fallback_question", "fallback_answer", "steps_to_record"]

MAX_WHY_LEVEL = 5

_WHY_MARKER = re.compile(r"\[\[\s*WHY[\s_-]*LEVEL\s*[:=]\s*(\d{1,3})\s*\]\]", re.IGNORECASE)
_ROOT_MARKER = re.compile(r"\[\[\s*ROOT[\s_-]*CAUSE\s*[:=]\s*(.*?)\s*\]\]", re.IGNORECASE | re.DOTALL)
#: ``[[WHY-2-QUESTION: …]]``, ``[[WHY 2 ANSWER: …]]``, ``[[why_2_evidence = …]]``
_STEP_MARKER = re.compile(
    r"\[\[\s*WHY[\s_#-]*([1-9])[\s_-]*(QUESTION|ANSWER|EVIDENCE|Q|A|E)\s*[:=]\s*(.*?)\s*\]\]",
    re.IGNORECASE | re.DOTALL,
)
_ANY_MARKER = re.compile(
    r"\[\[\s*(?:WHY[\s_-]*LEVEL\s*[:=]\s*\d{1,3}|ROOT[\s_-]*CAUSE\s*[:=].*?"
    r"|WHY[\s_#-]*[1-9][\s_-]*(?:QUESTION|ANSWER|EVIDENCE|Q|A|E)\s*[:=].*?)\s*\]\]",
    re.IGNORECASE | re.DOTALL,
)

# "Why 3:", "**Why 3:**", "### Why #3 —", "2. Why 2)" at the start of a line
_WHY_HEADING = re.compile(
    r"^[ \t>#*_\-\d.)]*[*_]*\s*why[\s\-]*(?:#|no\.?\s*)?([1-9])[*_]*\s*[:.)\-–—]",
    re.IGNORECASE | re.MULTILINE,
)
# "Root cause: …", "**Root cause identified:** …" at the start of a line
_RC_LINE = re.compile(
    r"^[ \t>#*_\-]*(?:[*_]*\s*)root[\s-]*cause(?:\s+identified)?[*_]*\s*[:：][*_]*\s*(.+)$",
    re.IGNORECASE | re.MULTILINE,
)
# "… the root cause is/was …" inside a sentence
_RC_SENTENCE = re.compile(
    r"\bthe\s+(?:underlying\s+|actual\s+|real\s+|true\s+)?root[\s-]+cause\s+"
    r"(?:is|was|has\s+been\s+identified\s+as|has\s+been\s+confirmed\s+as)\s*[:,]?\s+([^\n]+)",
    re.IGNORECASE,
)
_HEDGE_START = re.compile(
    r"^(?:not\b|no\b|unclear|unknown|still\b|yet\b|undetermined|likely|probably|possibly|perhaps|"
    r"maybe|may\b|might\b|could\b|suspected|one\s+of\b|either\b|whether\b|tbd|to\s+be\s+determined|"
    r"something\b|somewhere\b|hard\s+to|difficult\s+to)",
    re.IGNORECASE,
)
_HEDGE_CONTEXT = re.compile(
    r"\b(?:if|whether|unless|once|until|before|might|may|could|possibly|probably|likely|perhaps|not|"
    r"suspect\w*|hypothes\w*|assum\w*|think|believe|guess|determine|identify|find|confirm)\b|n't\b",
    re.IGNORECASE,
)


@dataclass
class StepText:
    """One why as a reply's markers give it (any part may be missing)."""

    question: str | None = None
    answer: str | None = None
    evidence: str | None = None


@dataclass
class Progress:
    #: the why-level after this reply (0-5); never lower than the level passed in
    level: int
    #: the root cause, once the reply establishes it
    root_cause: str | None
    #: the reply with the markers removed (what to show and store)
    answer_text: str
    #: True when the reply carried at least one marker
    marked: bool
    #: the number in the WHY-LEVEL marker as written (None without one)
    reported_level: int | None = None
    #: the whys this reply spells out with step markers, by level (1-5)
    steps: dict[int, StepText] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.root_cause is not None


def strip_markers(text: str) -> str:
    """``text`` without the progress markers; lines that held only markers are removed."""
    if not text:
        return text or ""
    sentinel = "\x00"
    marked = _ANY_MARKER.sub(sentinel, text)
    if sentinel not in marked:
        return text
    kept = []
    for line in marked.split("\n"):
        if sentinel in line:
            rest = line.replace(sentinel, "")
            if not rest.strip(" \t*_`>-"):
                continue
            line = re.sub(r"[ \t]{2,}", " ", rest).rstrip()
        kept.append(line)
    out = "\n".join(kept)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.rstrip()


def _steps(reply: str) -> dict[int, StepText]:
    steps: dict[int, StepText] = {}
    for m in _STEP_MARKER.finditer(reply):
        level, part, value = int(m.group(1)), m.group(2).upper()[0], _clean_marker_text(m.group(3))
        if not value or level > MAX_WHY_LEVEL:
            continue
        step = steps.setdefault(level, StepText())
        if part == "Q":
            step.question = value
        elif part == "A":
            step.answer = value
        else:
            step.evidence = value
    return steps


def _clean_sentence(text: str) -> str:
    text = text.strip().strip("*_`\"' ").strip()
    # one sentence: up to the first sentence end followed by a space
    m = re.search(r"(?<=[.!])\s", text)
    if m:
        text = text[: m.start()]
    text = text.strip().strip("*_` ").strip()
    if len(text) > 300:
        text = text[:299].rstrip() + "…"
    return text


def _sentence_start(text: str, pos: int) -> int:
    start = max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos), text.rfind("? ", 0, pos), text.rfind("! ", 0, pos))
    return 0 if start < 0 else start + 1


def _fallback_root_cause(text: str) -> str | None:
    for m in _RC_LINE.finditer(text):
        candidate = _clean_sentence(m.group(1))
        if _acceptable(candidate):
            return candidate
    for m in _RC_SENTENCE.finditer(text):
        lead = text[_sentence_start(text, m.start()) : m.start()]
        if _HEDGE_CONTEXT.search(lead):
            continue
        candidate = _clean_sentence(m.group(1))
        if _acceptable(candidate):
            return candidate
    return None


def _acceptable(candidate: str) -> bool:
    if len(candidate) < 4 or "?" in candidate:
        return False
    if _HEDGE_START.match(candidate):
        return False
    if re.search(r"\bASSUMPTION\b|\bnot\s+(?:yet\s+)?(?:known|confirmed|clear)\b", candidate, re.IGNORECASE):
        return False
    return True


def parse_progress(reply: str, current_level: int) -> Progress:
    """Read the 5-Whys progress a reply establishes.

    With markers: the level becomes the marker's number (clamped to 1-5; it may advance several
    levels at once) unless that is lower than ``current_level``; ``[[ROOT-CAUSE: …]]`` sets the
    root cause. Without any marker: an explicit "Why N:" heading with N above the current level
    advances exactly one level, and a confident "Root cause: …" / "the root cause is …"
    sentence (no hedging, no question) sets the root cause.
    """
    reply = reply or ""
    current = max(0, int(current_level or 0))
    why_numbers = [int(m.group(1)) for m in _WHY_MARKER.finditer(reply)]
    roots = [r for r in (m.group(1).strip() for m in _ROOT_MARKER.finditer(reply)) if r]
    marked = bool(why_numbers) or bool(_ROOT_MARKER.search(reply))
    answer = strip_markers(reply)

    steps = _steps(reply)
    marked = marked or bool(steps)
    if marked:
        reported = max(why_numbers) if why_numbers else None
        level = current
        if reported is not None:
            level = max(current, min(reported, MAX_WHY_LEVEL))
        answered = [n for n, st in steps.items() if st.answer]
        if answered:  # a spelled-out answer counts even when the level marker lags behind
            level = max(level, max(answered))
        root = _clean_marker_text(roots[-1]) if roots else None
        return Progress(level, root or None, answer, True, reported, steps)

    level = current
    headings = [int(m.group(1)) for m in _WHY_HEADING.finditer(reply)]
    if headings and max(headings) > current and current < MAX_WHY_LEVEL:
        level = current + 1
    root = _fallback_root_cause(reply)
    return Progress(level, root, answer, False, None)


def fallback_question(message: str) -> str:
    """A why question for a step the reply did not spell out: the engineer's own question (the
    first sentence of their message asking "why", else the first that asks anything, else its
    first sentence), one line of at most 300 characters."""
    text = " ".join((message or "").split())
    sentences = [x.strip() for x in re.split(r"(?<=[.!?])\s+", text) if x.strip()] or ["(question not recorded)"]
    asked = [x for x in sentences if x.endswith("?")]
    question = next((x for x in asked if re.search(r"\bwhy\b", x, re.IGNORECASE)), None) or (asked or sentences)[0]
    return question if len(question) <= 300 else question[:299].rstrip() + "\u2026"


def fallback_answer(reply: str) -> str:
    """The answer of a step the reply did not spell out: its first paragraph of prose (no
    tables, code or lists), without the questions it asks back, up to about 600 characters."""
    for block in re.split(r"\n\s*\n", reply or ""):
        block = block.strip()
        if not block or block.startswith(("|", "```", "#", "- ", "* ", ">")) or re.match(r"\d+[.)] ", block):
            continue
        text = " ".join(block.split())
        sentences = [x for x in re.split(r"(?<=[.!?])\s+", text) if x and not x.endswith("?")]
        text = " ".join(sentences)
        if not text:  # only questions back: nothing answered here
            continue
        if len(text) > 600:
            cut = text.rfind(". ", 0, 600)
            text = text[: cut + 1] if cut > 200 else text[:599].rstrip() + "…"
        return text
    return ""


def steps_to_record(progress: Progress, level_before: int, answered: set[int], message: str, reply: str,
                    log_names=()) -> dict[int, StepText]:
    """The whys a reply adds, by level: every level it spells out with an answer marker (its
    own question, answer and evidence); else only the deepest level it reached, from short
    excerpts (:func:`fallback_question`, :func:`fallback_answer`). Levels it skips without
    spelling them out get nothing (no copies), and ``answered`` levels are never rewritten."""
    evidence = ("Logs: " + ", ".join(log_names)) if log_names else None
    top = min(progress.level, MAX_WHY_LEVEL)
    out: dict[int, StepText] = {}
    for level in range(1, MAX_WHY_LEVEL + 1):
        if level in answered:
            continue
        spelled = progress.steps.get(level)
        if spelled is not None and spelled.answer:
            out[level] = StepText(spelled.question or fallback_question(message), spelled.answer,
                                  spelled.evidence or evidence)
        elif level == top and level > level_before and spelled is None:
            answer = fallback_answer(reply)
            if answer:
                out[level] = StepText(fallback_question(message), answer, evidence)
    return out


def _clean_marker_text(text: str) -> str:
    text = " ".join(text.split()).strip("*_` ")
    if len(text) > 500:
        text = text[:499].rstrip() + "…"
    return text


class MarkerStreamFilter:
    """Hide progress markers from streamed text as it arrives.

    ``feed(chunk)`` returns the text that is safe to show now (a possible marker is held back
    until it is complete or proves not to be one); ``flush()`` returns whatever is left.
    """

    max_hold = 2000  # a step marker holds a sentence or two of evidence

    def __init__(self) -> None:
        self._buf = ""

    def feed(self, chunk: str) -> str:
        self._buf += chunk or ""
        out: list[str] = []
        while self._buf:
            i = self._buf.find("[[")
            if i < 0:
                if self._buf.endswith("["):
                    out.append(self._buf[:-1])
                    self._buf = "["
                else:
                    out.append(self._buf)
                    self._buf = ""
                break
            out.append(self._buf[:i])
            self._buf = self._buf[i:]
            j = self._buf.find("]]")
            if j < 0:
                if len(self._buf) > self.max_hold or not self._could_be_marker(self._buf):
                    out.append(self._buf[:2])
                    self._buf = self._buf[2:]
                    continue
                break
            candidate = self._buf[: j + 2]
            if not _ANY_MARKER.fullmatch(candidate):
                out.append(candidate[:2])
                self._buf = self._buf[2:]
                continue
            self._buf = self._buf[j + 2 :]
        return "".join(out)

    def flush(self) -> str:
        rest, self._buf = self._buf, ""
        return strip_markers(rest)

    @staticmethod
    def _could_be_marker(buf: str) -> bool:
        squashed = re.sub(r"[\s_\-]", "", buf[2:]).upper()
        for word in ("WHYLEVEL", "ROOTCAUSE"):
            head = squashed[: len(word)]
            if word.startswith(head):
                return True
        return bool(re.match(r"WHY#?[1-9](?:[QAE]|$)", squashed))
