"""Optional AI help for generated documents: the model drafts the judgement sections only.

The facts (summary tables, timeline, metrics, 5 Whys, root cause, logs) always come from the
stored data. The model is asked for the sections a template cannot fill from data (corrective
actions and lessons for an RCA; contributing factors, improvements and action items for a
post-mortem), and its answers replace those sections, marked as AI drafts.

Everything sent goes through the egress guard (``wb.pii.guard_outbound`` with ``markdown=True``
after the issue's stored fields were cleared raw, ``documents.egress.guard_markdown``; the guarded
provider client checks the cleared payload is unchanged) right before the request; placeholders in the reply are restored for the local document.
The SHA-256 of what was sent is recorded in the audit log.
"""

from __future__ import annotations

import re

from .._util import sha256_hex
from ..errors import ProviderResponseError, ValidationError
from .markdown import md_inline

AI_SECTIONS = {
    "rca": ("Corrective Actions", "Lessons Learned"),
    "postmortem": ("Contributing Factors", "What Could Be Improved", "Action Items"),
}
_GUIDANCE = {
    "Corrective Actions": "two subsections, '### Immediate Actions' and '### Long-Term Actions', each a task list "
                          "('- [ ] ...') of specific actions that follow from the root cause and the 5 Whys",
    "Lessons Learned": "3-5 bullet points",
    "Contributing Factors": "bullet points naming systems and processes (blameless: never blame a person)",
    "What Could Be Improved": "bullet points about detection, response and prevention",
    "Action Items": "a Markdown table with the columns Priority | Action | Owner | Due | Status "
                    "(priorities P0-P2, Owner and Due 'TBD', Status 'Open')",
}
_H2 = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_H1 = re.compile(r"^#(?!#)")


def _system_prompt(doc_type: str, sections: tuple[str, ...]) -> str:
    kind = "root cause analysis (RCA)" if doc_type == "rca" else "blameless post-mortem"
    wanted = "\n".join(f"## {s}\n({_GUIDANCE[s]})" for s in sections)
    return (
        f"You are a senior site reliability engineer completing a {kind}. The user sends the draft, built from "
        "the incident record; some values are replaced by placeholders such as [IPv4_1] - keep them as they are. "
        "Write ONLY the following sections, each starting with its exact '## ' heading, in Markdown, concise and "
        "specific to this incident. Base them only on facts in the draft; do not invent timestamps, metrics or "
        "people. No other sections, no preamble.\n\n" + wanted
    )


def _split_sections(md: str) -> dict[str, str]:
    """``## Heading`` -> body, for a model reply (code fences respected)."""
    out: dict[str, list[str]] = {}
    current, fence = None, None
    for line in md.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
        m = _H2.match(line) if fence is None else None
        if m:
            current = m.group(1).strip().rstrip(":")
            out[current] = []
            continue
        if current is not None:
            out[current].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


def _tidy(body: str) -> str:
    """A model's section body: no H1/H2 of its own (they would break the document's structure)."""
    lines = []
    for line in body.split("\n"):
        if _H1.match(line.lstrip()):
            line = "\\" + line.lstrip()
        lines.append(line)
    return "\n".join(lines).strip()


def _replace_section(md: str, heading: str, body: str) -> str:
    lines = md.split("\n")
    try:
        start = lines.index(f"## {heading}")
    except ValueError:
        return md
    end = start + 1
    while end < len(lines) and not lines[end].startswith("## ") and lines[end] != "---":
        end += 1
    return "\n".join(lines[: start + 1] + ["", body, ""] + lines[end:])


def ai_draft(wb, issue_id: str, doc_type: str, content: str) -> tuple[str, dict]:
    """The document with its judgement sections drafted by the issue's AI provider: the one its
    conversation uses (picked in the chat, ``tftsr chat --provider``) while it exists, else the
    active one.

    Returns ``(markdown, audit_details)``; raises ValidationError when no provider is configured.
    """
    providers = getattr(wb, "providers", None)
    active = None
    if providers is not None:
        # the conversation's provider while it exists, else the active one (None: no provider at all)
        name = wb.chat.conversation_provider(issue_id)
        active = providers.get_provider(name) if name else None
    if active is None:
        raise ValidationError("no AI provider configured: add one with tftsr provider add NAME --type ... "
                              "--url URL --model M, or generate without --ai-draft")
    from ..ai.providers import ChatMessage

    sections = AI_SECTIONS[doc_type]
    messages = [ChatMessage("system", _system_prompt(doc_type, sections)), ChatMessage("user", content)]
    from .egress import guard_markdown

    with providers.client(active.name, issue_id=issue_id) as provider:
        # the egress guard, through the Markdown's escapes after the issue's fields were cleared raw;
        # EgressBlockedError and nothing is sent
        out = provider.clear(guard_markdown(wb, issue_id, messages))
        draft_text = out.payload[-1].content
        details = {"ai_provider": active.name, "ai_model": active.model, "ai_sent_sha256": sha256_hex(draft_text),
                   "ai_payload_sha256": out.sha256, "ai_pii_redacted": out.spans_redacted}
        try:
            result = provider.chat(out, stream=False)
        except Exception as exc:
            wb.audit.write_audit_event("ai_draft_document", "issue", issue_id,
                                       {**details, "doc_type": doc_type, "outcome": type(exc).__name__})
            raise
    reply = wb.pii.restore_placeholders(issue_id, result.content or "")
    wb.audit.write_audit_event("ai_draft_document", "issue", issue_id,
                               {**details, "doc_type": doc_type, "outcome": "ok",
                                "reply_sha256": sha256_hex(result.content or "")})
    found = _split_sections(reply)
    lookup = {k.lower(): v for k, v in found.items()}
    used = []
    note = (f"_Drafted by AI ({md_inline(active.name)}, {md_inline(active.model)}) from the redacted incident "
            "record; review before publishing._")
    for heading in reversed(sections):  # last first: inserted text never precedes a heading still to find
        body = _tidy(lookup.get(heading.lower(), ""))
        if body:
            content = _replace_section(content, heading, note + "\n\n" + body)
            used.insert(0, heading)
    if not used:
        raise ProviderResponseError(
            f"the AI model's reply contained none of the requested sections ({', '.join(sections)}); "
            "try again, use a larger model, or generate without --ai-draft")
    details["ai_sections"] = used
    return content, details
