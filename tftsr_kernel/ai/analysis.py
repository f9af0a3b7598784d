"""Log analysis: the prompt, reply parsing and sampling of large logs.

The caller redacts the log first, then sends :func:`build_analysis_messages` to a provider and
parses the reply with :func:`parse_analysis`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tftsr_kernel.errors import ValidationError

from .prompts import PART_SEPARATOR, resolve_domain
from .providers import ChatMessage

__all__ = [
    "ANALYSIS_PROMPT",
    "DEFAULT_FIRST_WHY",
    "DEFAULT_SEVERITY",
    "SEVERITIES",
    "AnalysisResult",
    "build_analysis_messages",
    "parse_analysis",
    "normalize_severity",
    "chunk_for_analysis",
]

DEFAULT_FIRST_WHY = "Why did this issue occur?"
DEFAULT_SEVERITY = "medium"
SEVERITIES = ("critical", "high", "medium", "low")
DEFAULT_BUDGET_CHARS = 48_000

ANALYSIS_PROMPT = """\
You are analysing a log excerpt for an incident investigation. Personal data in it has already \
been replaced by placeholders such as [IPv4] or [Email]; treat them as opaque values.

Read the log and answer with ONE fenced JSON block and nothing else:

```json
{
  "summary": "two or three sentences: what went wrong, where, and when",
  "key_findings": ["one finding per item, citing the log line, timestamp or error code"],
  "first_why": "the first 'why' question the engineer should answer next",
  "severity": "critical | high | medium | low"
}
```

Severity guide: critical = outage or data loss now; high = major degradation or imminent \
outage; medium = partial impact or a clear risk; low = cosmetic or informational.
Base every finding on the log; if the log does not show something, say so instead of guessing.
If you cannot produce JSON, use these four headings instead, each on its own line:
SUMMARY:, KEY_FINDINGS: (one "- " bullet per finding), FIRST_WHY:, SEVERITY:"""


@dataclass
class AnalysisResult:
    summary: str
    key_findings: list[str] = field(default_factory=list)
    first_why: str = DEFAULT_FIRST_WHY
    severity_suggestion: str = DEFAULT_SEVERITY
    #: which reply format was understood: "json", "sections" or "plain"
    source_format: str = "plain"


def normalize_severity(value: object) -> str:
    """critical/high/medium/low from words, P1-P4 or SEV1-4; ``medium`` when unclear."""
    text = str(value or "").strip().lower()
    if not text:
        return DEFAULT_SEVERITY
    for sev in SEVERITIES:
        if re.search(rf"\b{sev}\b", text):
            return sev
    m = re.search(r"\b(?:p|sev|sev-|severity\s*)([1-4])\b", text)
    if m:
        return SEVERITIES[int(m.group(1)) - 1]
    synonyms = {"urgent": "critical", "severe": "high", "major": "high", "moderate": "medium",
                "minor": "low", "info": "low", "informational": "low", "trivial": "low"}
    for word, sev in synonyms.items():
        if re.search(rf"\b{word}\b", text):
            return sev
    return DEFAULT_SEVERITY


def build_analysis_messages(
    log_text: str,
    *,
    filename: str | None = None,
    category: str | None = None,
    issue_title: str | None = None,
    budget_chars: int = DEFAULT_BUDGET_CHARS,
) -> list[ChatMessage]:
    """[system, user] messages asking for the analysis of ``log_text`` (already redacted).

    Logs longer than ``budget_chars`` are sampled with :func:`chunk_for_analysis` and the model
    is told so.
    """
    text, note = chunk_for_analysis(log_text, budget_chars)
    system = resolve_domain(category).prompt + PART_SEPARATOR + ANALYSIS_PROMPT
    header = []
    if issue_title:
        header.append(f"Issue: {issue_title}")
    if filename:
        header.append(f"File: {filename}")
    if note:
        header.append(f"Note: {note}")
    user = ("\n".join(header) + "\n\n" if header else "") + "```log\n" + text.replace("```", "'''") + "\n```"
    return [ChatMessage("system", system), ChatMessage("user", user)]


# --------------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------------
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_SECTION = re.compile(
    r"^[ \t>#*_]*(SUMMARY|KEY[ _-]?FINDINGS|FIRST[ _-]?WHY|SEVERITY)[*_]*\s*:[*_]*[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d+[.)])\s+")


def _first_json_object(text: str) -> dict | None:
    """The first decodable JSON object in ``text`` that looks like an analysis."""
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _end = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict) and _looks_like_analysis(obj):
            return obj
    return None


def _looks_like_analysis(obj: dict) -> bool:
    keys = {_norm_key(k) for k in obj}
    return bool(keys & {"summary", "keyfindings", "findings", "firstwhy", "severity"})


def _norm_key(key: object) -> str:
    return re.sub(r"[^a-z]", "", str(key).lower())


def _findings_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = [_BULLET.sub("", line).strip() for line in value.splitlines()]
        return [i for i in items if i]
    if isinstance(value, dict):
        value = list(value.values())
    out = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            text = item.get("finding") or item.get("text") or item.get("description") or json.dumps(item)
        else:
            text = item
        text = " ".join(str(text).split())
        if text:
            out.append(text)
    return out


def _from_json(obj: dict) -> AnalysisResult:
    norm = {_norm_key(k): v for k, v in obj.items()}
    summary = " ".join(str(norm.get("summary") or "").split())
    findings = _findings_list(norm.get("keyfindings", norm.get("findings")))
    first_why = " ".join(str(norm.get("firstwhy") or "").split()) or DEFAULT_FIRST_WHY
    severity = normalize_severity(norm.get("severity", norm.get("severitysuggestion")))
    return AnalysisResult(summary, findings, first_why, severity, "json")


def _from_sections(text: str) -> AnalysisResult | None:
    matches = list(_SECTION.finditer(text))
    if not matches:
        return None
    sections: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        name = _norm_key(m.group(1))
        sections.setdefault(name, text[m.end() : end].strip())
    if not sections.get("summary") and not sections.get("keyfindings"):
        return None
    summary = " ".join(sections.get("summary", "").split())
    findings = _findings_list(sections.get("keyfindings"))
    first_why = " ".join(sections.get("firstwhy", "").split()).strip("*_ ") or DEFAULT_FIRST_WHY
    severity = normalize_severity(sections.get("severity", "").split("\n")[0])
    return AnalysisResult(summary, findings, first_why, severity, "sections")


def parse_analysis(reply: str) -> AnalysisResult:
    """Understand the model's analysis: fenced JSON, then any JSON object, then the
    SUMMARY:/KEY_FINDINGS:/FIRST_WHY:/SEVERITY: sections, then the plain text as the summary."""
    reply = reply or ""
    for m in _FENCE.finditer(reply):
        obj = _first_json_object(m.group(2))
        if obj is not None:
            return _from_json(obj)
    obj = _first_json_object(reply)
    if obj is not None:
        return _from_json(obj)
    sectioned = _from_sections(reply)
    if sectioned is not None:
        return sectioned
    plain = " ".join(reply.split())
    if len(plain) > 2000:
        plain = plain[:1999].rstrip() + "…"
    return AnalysisResult(plain, [], DEFAULT_FIRST_WHY, DEFAULT_SEVERITY, "plain")


# --------------------------------------------------------------------------------------------
# sampling large logs
# --------------------------------------------------------------------------------------------
_ERROR_LINE = re.compile(
    r"\b(?:error|err|fail(?:ed|ure|ing)?|fatal|panic|exception|traceback|critical|crit|emerg|alert|"
    r"denied|refused|unreachable|timed?\s*out|timeout|oom|out of memory|killed|segfault|abort(?:ed)?|"
    r"corrupt\w*|unavailable|cannot|can't|unable)\b",
    re.IGNORECASE,
)
_WARN_LINE = re.compile(r"\b(?:warn(?:ing)?|retry(?:ing)?|degraded|slow)\b", re.IGNORECASE)
_MAX_LINE = 1000


def _norm_line(line: str) -> str:
    """The line with numbers, hex ids and timestamps flattened, to spot repeats."""
    line = re.sub(r"0x[0-9a-fA-F]+|[0-9a-fA-F]{8,}", "#", line)
    return re.sub(r"\d+", "#", line).strip()


def _cut(line: str) -> str:
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 20] + " …[line truncated]"


def chunk_for_analysis(text: str, budget_chars: int) -> tuple[str, str | None]:
    """Fit ``text`` into ``budget_chars``; return (text, note). ``note`` is None when it fits.

    A large log is sampled: its first lines, its last lines, and the error/warning lines from
    the middle (repeats collapsed, with counts and line numbers). The note says what was kept.
    """
    if not isinstance(budget_chars, int) or budget_chars < 200:
        raise ValidationError("The analysis budget must be at least 200 characters.")
    text = text or ""
    if len(text) <= budget_chars:
        return text, None

    lines = text.splitlines()
    total_lines = len(lines)
    if total_lines < 8:  # a few enormous lines (minified JSON…): keep head and tail characters
        half = (budget_chars - 60) // 2
        body = text[:half] + f"\n…[{len(text) - 2 * half:,} characters omitted]…\n" + text[-half:]
        note = (
            f"The log is {len(text):,} characters; only its first and last {half:,} characters are "
            "shown."
        )
        return body[:budget_chars], note

    marker_room = 200
    usable = budget_chars - marker_room
    head_budget = int(usable * 0.25)
    tail_budget = int(usable * 0.35)
    error_budget = usable - head_budget - tail_budget

    def take(indices, budget):
        kept, used = [], 0
        for i in indices:
            cost = len(_cut(lines[i])) + 1
            if used + cost > budget:
                break
            kept.append(i)
            used += cost
        return kept, used

    head, head_used = take(range(total_lines), head_budget)
    tail_rev, tail_used = take(range(total_lines - 1, (head[-1] if head else -1), -1), tail_budget)
    tail = sorted(tail_rev)
    middle_start = (head[-1] + 1) if head else 0
    middle_end = tail[0] if tail else total_lines

    # error lines first, then warnings; collapse repeats of the same message
    groups: dict[str, list[int]] = {}
    order: list[tuple[int, str]] = []
    for i in range(middle_start, middle_end):
        line = lines[i]
        if _ERROR_LINE.search(line):
            rank = 0
        elif _WARN_LINE.search(line):
            rank = 1
        else:
            continue
        key = _norm_line(line)
        if key not in groups:
            groups[key] = []
            order.append((rank, key))
        groups[key].append(i)
    matching = sum(len(v) for v in groups.values())

    picked: list[tuple[int, str]] = []
    used = 0
    # budget left over by head/tail goes to the error lines
    error_budget += (head_budget - head_used) + (tail_budget - tail_used)
    for rank in (0, 1):
        for r, key in order:
            if r != rank:
                continue
            idxs = groups[key]
            first = idxs[0]
            count = f" (×{len(idxs)}, lines {idxs[0] + 1}–{idxs[-1] + 1})" if len(idxs) > 1 else ""
            entry = f"L{first + 1}: {_cut(lines[first])}{count}"
            if used + len(entry) + 1 > error_budget:
                continue
            picked.append((first, entry))
            used += len(entry) + 1
    picked.sort()

    omitted = middle_end - middle_start
    parts = [_cut(lines[i]) for i in head]
    if omitted > 0:
        parts.append(
            f"…[lines {middle_start + 1}–{middle_end} omitted; {len(picked)} of {len(groups)} distinct "
            f"error/warning messages from them shown below]…"
        )
        parts.extend(entry for _i, entry in picked)
        parts.append(f"…[end of sampled lines; the log continues at line {middle_end + 1}]…")
    parts.extend(_cut(lines[i]) for i in tail)
    body = "\n".join(parts)
    if len(body) > budget_chars:  # belt and braces: never exceed the budget
        body = body[: budget_chars - 1] + "…"
    note = (
        f"The log has {total_lines:,} lines ({len(text):,} characters), more than fits. Shown: the first "
        f"{len(head):,} lines, the last {len(tail):,} lines, and {len(picked):,} distinct error/warning "
        f"messages sampled from the {omitted:,} lines in between ({matching:,} matching lines there). "
        "Other lines were left out."
    )
    return body, note
