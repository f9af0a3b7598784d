"""A compact text of a log's templates for the model, when the log is too large to send whole.

Pure: a :class:`~.mine.TemplateSet` in, text out. The text is built from templates mined from the
*original* log, so it still holds original words: the caller clears it through the egress guard
(``wb.pii.redact_derived``, then ``guard_outbound`` with the whole request) before it leaves.
"""

from __future__ import annotations

from .mine import TemplateSet

#: the first line of every summary: the model is told what it sees
SUMMARY_HEADER = ("[Template summary, not raw lines] This log is too large to send whole. You see its line "
                  "templates (the constant text of a group of similar lines; <*> marks a value that varies), each "
                  "with its line count and first/last seen time (UTC), and the bursts detected (a template whose "
                  "rate jumps, or one that first appears late). You do not see the raw lines.")
MAX_TEMPLATE_CHARS = 300
MAX_BURSTS_LISTED = 15


def _cut(text: str, limit: int = MAX_TEMPLATE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def summarize_templates(ts: TemplateSet, *, top: int = 40, max_chars: int = 6000) -> str:
    """Header, totals, the bursts, then the most frequent templates (burst templates first
    listed whatever their rank) while they fit ``max_chars``; a last line says what was left out."""
    lines = [SUMMARY_HEADER,
             f"{ts.lines:,} lines in {len(ts.templates):,} templates, {ts.first_seen or '?'} to "
             f"{ts.last_seen or '?'} UTC" + (f" (timestamps: {ts.timestamp_format})" if ts.timestamp_format else
                                             " (no timestamps found)") + "."]
    by_id = {t.id: t for t in ts.templates}
    bursts = ts.bursts[:MAX_BURSTS_LISTED]
    if bursts:
        lines.append("Bursts:")
        for b in bursts:
            if b.kind == "new_template":
                lines.append(f"- T{b.template_id} new template, first seen {b.at}, {b.count:,} lines in all")
            else:
                lines.append(f"- T{b.template_id} rate jump at {b.at}: {b.count:,} lines in that minute "
                             f"(baseline {b.baseline:.1f}/min)")
    lines.append("Templates (id | lines | first seen | last seen | template), those with bursts first, then the"
                 " most frequent:")
    wanted = [by_id[b.template_id] for b in bursts if b.template_id in by_id]
    order = []
    for t in wanted + ts.top(None):
        if t not in order:
            order.append(t)
    order = order[: max(top, len(wanted))]
    body = "\n".join(lines)
    shown = 0
    shown_lines = 0
    room = max_chars - 120  # the closing line
    for t in order:
        row = f"T{t.id} | {t.count:,} | {t.first_seen or '-'} | {t.last_seen or '-'} | {_cut(t.template)}"
        if len(body) + 1 + len(row) > room:
            continue
        body += "\n" + row
        shown += 1
        shown_lines += t.count
    rest = len(ts.templates) - shown
    if rest:
        body += f"\n({rest:,} more templates with {ts.lines - shown_lines:,} lines are not shown.)"
    return body[:max_chars]
