"""What the model gets of a log attached to a chat message or sent for analysis.

A log whose redacted text fits its budget goes whole. A larger one goes as a **template summary**
(its templates with line counts, first/last seen and bursts, from ``wb.logs``), and the model is
told so, in the summary's first line and in the attachment's label: sampled raw lines show the
first and last lines of a 49 MB log, templates show all of it. The summary is built from the
original text, so it is cleared with ``wb.pii.redact_derived`` (after ``egress_log`` of the same
log has learnt its values); the whole request then passes ``guard_outbound`` as every request
does. Sampled raw lines (``chunk_for_analysis``) remain for logs of few lines (one huge JSON
line has no useful templates), and when the templates cannot be read (a viewer may chat but may
not read original text, which templates are).

Budgets: a chat attachment has ``ATTACHMENT_BUDGET_CHARS`` (ai/service.py); an analysis shares
the ``analysis_max_chars`` setting between its logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DatabaseError, PermissionDeniedError
from ..logs.errors import LogTemplatesError
from .analysis import chunk_for_analysis

#: a log longer than its budget goes as a template summary when it has at least this many lines
TEMPLATE_SUMMARY_MIN_LINES = 50
#: templates listed at most (the budget usually stops the list first)
TEMPLATE_SUMMARY_TOP = 60
#: the smallest budget a summary is made for (its header alone is ~400 characters)
TEMPLATE_SUMMARY_MIN_BUDGET = 1000
#: said in the label of a log sent as templates (the summary's own first line says it too)
TEMPLATES_NOTE = ("sent as a template summary: you see its templates with counts, first/last seen and bursts, "
                  "not raw lines")


@dataclass
class LogForModel:
    text: str            #: cleared text (wrapped by ``mark_reviewed`` when the log was reviewed)
    note: str | None     #: what was done to fit (None when the log went whole)
    mode: str            #: "whole", "templates" or "sampled"
    spans_redacted: int  #: values redacted in the log's cleared text
    state: dict          #: ``wb.pii.review_state`` of the log


def log_for_model(wb, issue_id: str, log_file_id: str, budget: int) -> LogForModel:
    cleared = wb.pii.egress_log(issue_id, log_file_id)  # checks the log belongs to the issue
    state = wb.pii.review_state(log_file_id)
    text, note, mode = cleared.text, None, "whole"
    if len(text) > budget:
        summary = _summary(wb, issue_id, log_file_id, budget, text)
        if summary is not None:
            text, note, mode = summary, TEMPLATES_NOTE, "templates"
        else:
            text, note = chunk_for_analysis(text, budget)
            mode = "sampled"
    if state["state"] != "unreviewed":  # the reviewer's decisions hold inside this log's text only
        text = wb.pii.mark_reviewed(log_file_id, text)
    return LogForModel(text, note, mode, cleared.spans_redacted, state)


def _summary(wb, issue_id: str, log_file_id: str, budget: int, cleared_text: str) -> str | None:
    if budget < TEMPLATE_SUMMARY_MIN_BUDGET or cleared_text.count("\n") + 1 < TEMPLATE_SUMMARY_MIN_LINES:
        return None
    try:
        summary = wb.logs.template_summary(log_file_id, top=TEMPLATE_SUMMARY_TOP, max_chars=budget)
    except (PermissionDeniedError, LogTemplatesError, DatabaseError):
        return None  # sampled raw lines instead; the egress guard still applies to them
    return wb.pii.redact_derived(issue_id, log_file_id, summary).text
