"""The report's log layout (tftsr_kernel.documents.print_layout) and the chat transcript parser
(tftsr_kernel.ai.transcript): pure functions, checked on hostile and awkward input."""

from __future__ import annotations

import html
import re

from tftsr_kernel.ai.transcript import split_attachments
from tftsr_kernel.documents.print_layout import prepare_report


def _text(fragment: str) -> str:
    """What a reader copies: tags gone, entities decoded, one line per tftsr-line block."""
    fragment = fragment.replace('</span><span class="tftsr-line">', "\n")
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_log_text_is_unchanged_and_still_escaped():
    lines = ['<script>alert(1)</script> user=x&y "q" \'s\'', "", "  indented   spaces",
             "url=https://a.example/" + "B" * 120 + "?x=1&y=2 END", "cart=C-483452 /v1/checkout 200"]
    page = f'<p>x</p><pre class="tftsr-pre">{html.escape(chr(10).join(lines), quote=False)}</pre>'
    out = prepare_report(page)
    assert "<script>" not in out and "&lt;script&gt;" in out  # hostile text stays text
    body = out.split('<pre class="tftsr-pre">')[1].split("</pre>")[0]
    assert _text(body).replace("\u00a0", "") == "\n".join(lines)  # nothing added, nothing lost
    assert body.count('class="tftsr-line"') == len(lines)
    long = body.split('class="tftsr-line">')[4]
    assert "<wbr>" in long and max(len(_text(p)) for p in long.split("<wbr>")) <= 48
    short = body.split('class="tftsr-line">')[5]
    assert "<wbr>" not in short and '<span class="tftsr-nb">cart=C-483452</span>' in short


def test_cells_get_break_points_only_for_long_tokens_and_markup_survives():
    sha = "a" * 64
    page = (f"<table><tr><td><code>{sha}</code> and <b>bold</b></td><td>short words only</td>"
            "<td>x &lt;img&gt; y</td></tr></table>")
    out = prepare_report(page)
    assert "<code>" in out and "<b>bold</b>" in out and "&lt;img&gt;" in out and "<img" not in out
    assert out.count("<wbr>") == 1 and "<td>short words only</td>" in out


def test_attachments_open_only_when_asked():
    page = '<details class="tftsr-attachment tftsr-attachment-redacted"><summary>x</summary></details>'
    assert prepare_report(page) == page
    assert prepare_report(page, open_attachments=True).startswith("<details open class=")


def test_split_attachments_takes_only_the_trailing_blocks():
    block = "\n\nAttached log `a.log` (PII redacted after review: 1 value(s)):\n```log\nl1 [Email_1]\nl2\n```"
    text, found = split_attachments("Why? Attached log `x` (y): is mentioned here" + block + block.replace("a.log", "b.log"))
    assert text == "Why? Attached log `x` (y): is mentioned here"
    assert [(a.name, a.state, a.text) for a in found] == [("a.log", "redacted", "l1 [Email_1]\nl2"),
                                                          ("b.log", "redacted", "l1 [Email_1]\nl2")]
    assert split_attachments("plain message") == ("plain message", [])
    assert split_attachments(block + "\n\ntyped after")[1] == []  # not trailing: not an attachment
    released = ("\n\nAttached log `c.log` (sent without redaction by the reviewer's choice: all 1 detected value(s) "
                "were rejected in review):\n```log\n")
    assert split_attachments("m" + released + "user=bob@example.com\n```")[1][0].state == "original"
    # a "released" log whose text still has placeholders (a value redacted elsewhere) is not called original
    assert split_attachments("m" + released + "user=[Email_1]\n```")[1][0].state == "partly original"
