"""The egress guard for Markdown built from an issue's stored fields (documents, AI drafts, reports).

The templates put the issue's fields into Markdown with ``md_inline``/``md_text``: escaped
(``~`` -> ``\\~``) and re-flowed (a YAML block or a Kubernetes manifest loses its indentation).
A rule that needs the field's own layout cannot match there. So before such Markdown leaves,
:func:`learn_sources` clears every stored field the templates use in its raw form, which makes
every value found there a known value of the issue (with its placeholder); then the Markdown is
guarded with ``markdown=True`` (detection and known values read through the escapes).
"""

from __future__ import annotations


def issue_sources(wb, issue_id: str) -> list[str]:
    """Every stored text of the issue a document or report is built from, as stored."""
    data = wb.documents.incident_data(issue_id)
    i = data.issue
    texts = [i.title, i.description, i.category, i.source, i.assigned_to, ", ".join(i.tags or ()), *(i.tags or ())]
    for s in data.steps:
        texts += [s.why_question, s.answer, s.evidence]
    texts.append(data.root_cause)
    for e in data.events:
        texts += [e.event_type, e.description]
    texts += [lf.file_name for lf in data.logs]
    return [t for t in texts if isinstance(t, str) and t.strip()]


def learn_sources(wb, issue_id: str) -> None:
    """Clear the issue's stored fields through the guard (nothing is sent): every value the rules
    find in them becomes a known value of the issue, matched later wherever it stands."""
    sources = issue_sources(wb, issue_id)
    if sources:
        wb.pii.guard_outbound(issue_id, sources)


def guard_markdown(wb, issue_id: str, payload):
    """``wb.pii.guard_outbound(issue_id, payload, markdown=True)`` after :func:`learn_sources`."""
    learn_sources(wb, issue_id)
    return wb.pii.guard_outbound(issue_id, payload, markdown=True)
