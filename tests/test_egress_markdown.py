"""Issue 10: Markdown built from an issue's fields leaks nothing through its escapes.

The templates escape (``~`` -> ``\\~``) and re-flow (a YAML block, a Kubernetes manifest) the
issue's fields. Exports, AI drafts and notebook reports guard that Markdown after clearing the
stored fields raw (``documents.egress``) and read it through its escapes
(``guard_outbound(markdown=True)``). Here: a fresh issue (nothing ever sent, so nothing known
before the export) whose description holds the four fixture rows that used to leak.
"""

from __future__ import annotations

import html

import pytest

from tests.test_egress_paths import ROWS, leak

KEYS = ("families:azure-ad-client-secret", "syntaxes:k8s-secret-stringdata", "syntaxes:yaml-block-scalar",
        "syntaxes:json")
ROWS_BY_KEY = {r["key"]: r for r in ROWS}
CHOSEN = [ROWS_BY_KEY[k] for k in KEYS]
SECRETS = [s for r in CHOSEN for s in r["secrets"]]


def _leaks(text: str) -> list[str]:
    return [f"{s[:6]}…: {how}" for s in SECRETS if (how := leak(s, text))]


@pytest.fixture
def planted(wb):
    body = "\n\n".join(r["text"] for r in CHOSEN)
    issue = wb.issues.create_issue("Secrets in the config dump (pool=8)", body, "high", "application")
    wb.whys.add_five_why(issue.id, 1, "Why did the dump hold credentials?", CHOSEN[0]["text"])
    return issue


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_exported_rca_of_escaped_and_reflowed_secrets_holds_no_value(wb, planted, fmt, tmp_path):
    doc = wb.documents.generate_rca(planted.id)
    assert "FZg0Q\\~s\\~ogr" in doc.content_md  # the stored Markdown escapes the value (what used to leak)
    assert all(s in doc.content_md or s.replace("~", "\\~") in doc.content_md for s in CHOSEN[0]["secrets"])
    path = wb.documents.export_document(doc.id, fmt, tmp_path)
    raw = path.read_text(encoding="utf-8")
    text = html.unescape(raw) if fmt == "html" else raw
    assert not _leaks(text), _leaks(text)
    for keep in ("tenant=contoso", "next: value", "name: app", "client_id=8a1b2c3d", "pool=8"):
        assert keep in text, f"{keep!r} was lost from the export"
    assert "\\[" not in raw and "[AzureADClientSecret_1]" in text and "[Password_1]" in text
    if fmt == "md":  # still the document's structure: every section, the hard line breaks of the manifest
        assert raw.count("\n## ") == doc.content_md.count("\n## ") and "name: app  \n" in raw


def test_ai_draft_of_a_fresh_issue_sends_no_value(wb, planted):
    from tests.fakes.servers import FakeProviderServer

    reply = "## Corrective Actions\n- [ ] rotate\n## Lessons Learned\n- scan dumps"
    with FakeProviderServer("openai", reply_fn=lambda req: reply) as srv:
        wb.providers.add_provider("local", "openai", srv.url, "m", api_key="sk-test-0123456789")
        doc = wb.documents.generate_rca(planted.id, ai_draft=True)
        sent = srv.chat_requests[-1].raw.decode("utf-8")
    import json

    sent += "\n" + "\n".join(m["content"] for m in json.loads(sent)["messages"])
    assert not _leaks(sent), _leaks(sent)
    assert "tenant=contoso" in sent and "rotate" in doc.content_md


def test_markdown_mode_replaces_the_whole_escaped_span(wb, planted):
    secret = CHOSEN[0]["secrets"][0]
    wb.pii.guard_outbound(planted.id, f"client_secret={secret}")  # known from now on
    escaped = "| Tags | " + secret.replace("~", "\\~") + " |"
    assert leak(secret.replace("~", "\\~"), wb.pii.guard_outbound(planted.id, escaped).payload)  # plain mode misses it
    out = wb.pii.guard_outbound(planted.id, escaped, markdown=True).payload
    assert out == "| Tags | [AzureADClientSecret_1] |"
    # a reader-visible backslash (an escaped one) stays; text without escapes is untouched
    assert wb.pii.guard_outbound(planted.id, "C:\\\\Temp and db\\_pool", markdown=True).payload == \
        "C:\\\\Temp and db\\_pool"


def test_md_view_maps_escapes_and_whitespace_back():
    from tftsr_kernel.pii._mdview import MdView

    src = "a\\~b\\\\~c  \n d"
    v = MdView(src)
    assert v.text == "a~b\\~c  \n d"
    assert src[v.start(1):v.end(3)] == "\\~b" and src[v.start(3):v.end(6)] == "\\\\~c"
    w = MdView(src, collapse_space=True)
    assert w.text == "a~b\\~c d"
    assert src[w.start(5):w.end(8)] == "c  \n d"
    assert w.replace([(0, 3, "[X]")]) == "[X]\\\\~c  \n d"


def test_notebook_report_redacts_markdown_and_html_of_the_fields(wb, planted):
    import nbformat

    from tftsr_kernel.documents.markdown import md_inline, md_text, render_markdown
    from tftsr_kernel.documents.report import redact_notebook

    desc = planted.description
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(md_text(desc)))
    code = nbformat.v4.new_code_cell("panel")
    code.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": render_markdown(md_text(desc)), "text/markdown": md_inline(desc), "text/plain": desc})]
    nb.cells.append(code)
    redact_notebook(wb, planted.id, nb)
    texts = [nb.cells[0].source, html.unescape(code.outputs[0].data["text/html"]),
             code.outputs[0].data["text/markdown"], code.outputs[0].data["text/plain"]]
    for t in texts:
        assert not _leaks(t), _leaks(t)
        assert "tenant=contoso" in t
