"""Documents: safe Markdown rendering, RCA and post-mortem generation, editing with versions,
offline export (Markdown, self-contained HTML, PDF through headless Chromium) and the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tftsr_kernel import errors
from tftsr_kernel._util import sha256_hex
from tftsr_kernel.documents import md_cell, md_text, render_markdown
from tftsr_kernel.documents.markdown import ALLOWED_TAGS
from tftsr_kernel.documents.templates import POSTMORTEM_SECTIONS, RCA_SECTIONS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE_TITLE = "Checkout <script>alert(1)</script> | 503s\n| x | y |"


# --- a parser that records every element and attribute -------------------------------------------
class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


def _assert_safe(html: str) -> None:
    for tag, attrs in _parse(html).tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", (tag, name, html)
            value = (value or "").strip().lower()
            if name == "href":
                assert value.startswith(("http://", "https://", "mailto:", "#")), html
            if name == "src":
                assert re.fullmatch(r"data:image/(png|jpeg|gif|webp);base64,[a-z0-9+/=]+", value), html


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "<style>body{background:url(http://evil.example/x)}</style>",
    "<a href=\"javascript:alert(1)\">raw link</a>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>",
    "<meta http-equiv=refresh content='0;url=http://evil.example'>",
    "<base href=\"http://evil.example/\">",
    "<form action=http://evil.example><input name=q></form>",
    "<!-- <img src=x onerror=alert(1)> -->",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java%0ascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](file:///etc/passwd)",
    "<javascript:alert(1)>",
    "[ref][x]\n\n[x]: javascript:alert(1)",
    "![img](javascript:alert(1))",
    "![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![remote](https://tracker.example/pixel.gif)",
    "![<img src=x onerror=alert(1)>](https://x.example/a.png)",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "[t](https://ok.example \"\\\" onmouseover=alert(1) x=\\\"\")",
    "# Heading <img src=x onerror=alert(1)>",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>alert(1)</script> |",
    "```html\"><script>alert(1)</script>\n<img src=x onerror=alert(1)>\n```",
    "`<img src=x onerror=alert(1)>`",
    "- [ ] <img src=x onerror=alert(1)>\n- [x] done",
    "> <script>alert(1)</script>",
    "**<img src=x onerror=alert(1)>** _<svg onload=alert(1)>_",
    "<IMG SRC=\"jav&#x09;ascript:alert(1);\">",
    "<<script>script>alert(1)<</script>/script>",
    "<p onclick=alert(1)>para</p>",
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_render_markdown_hostile_corpus_is_inert(payload):
    out = render_markdown(payload)
    _assert_safe(out)
    low = out.lower()
    assert "<script" not in low and "<svg" not in low and "<iframe" not in low and "<style" not in low
    for tag, attrs in _parse(out).tags:
        assert "javascript" not in " ".join(str(v).lower() for v in attrs.values())


def test_raw_html_is_shown_as_text_and_safe_constructs_render():
    out = render_markdown("<script>alert(1)</script> and <b>bold?</b>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "&lt;b&gt;" in out
    out = render_markdown("![ok](data:image/png;base64,iVBORw0KGgo=) [site](https://example.org/a?b=1&c=2) "
                          "[mail](mailto:ops@example.org) [top](#top)")
    tags = _parse(out).tags
    assert ("img", {"src": "data:image/png;base64,iVBORw0KGgo=", "alt": "ok"}) in tags
    hrefs = [a["href"] for t, a in tags if t == "a"]
    assert hrefs == ["https://example.org/a?b=1&c=2", "mailto:ops@example.org", "#top"]
    external = [a for t, a in tags if t == "a" and a["href"].startswith("http")]
    assert all(a["rel"] == "noopener noreferrer nofollow" and a["target"] == "_blank" for a in external)
    # a remote image is never fetched: it becomes a link to it (unless asked for)
    out = render_markdown("![chart](https://grafana.example/c.png)")
    assert "<img" not in out and 'href="https://grafana.example/c.png"' in out
    assert '<img src="https://grafana.example/c.png"' in render_markdown("![c](https://grafana.example/c.png)",
                                                                          remote_images=True)


def test_gfm_and_identifiers_render_intact():
    md = ("Set `db_pool_max` and db_pool_max; call __init__ and __main__, _private_name, a__b__c.\n\n"
          "*em* **strong** _under_ ~~gone~~\n\n"
          "| key | value |\n|:---|---:|\n| db_pool_max | 50 |\n\n"
          "```python\ndef __init__(self):\n    self.db_pool_max = 50  # <b>\n```\n\n"
          "1. one\n2. two\n\n- [x] done\n- [ ] todo\n")
    out = render_markdown(md)
    _assert_safe(out)
    assert "<code>db_pool_max</code> and db_pool_max" in out
    assert "__init__ and __main__" in out and "a__b__c" in out and "_private_name" in out
    assert "<em>em</em>" in out and "<strong>strong</strong>" in out and "<em>under</em>" in out
    assert "<del>gone</del>" in out
    assert '<th class="align-left">key</th>' in out and '<td class="align-right">50</td>' in out
    assert '<pre><code class="language-python">def __init__(self):\n    self.db_pool_max = 50  # &lt;b&gt;' in out
    assert "<ol>" in out and out.count('type="checkbox"') == 2 and "checked" in out


def test_md_cell_and_md_text_cannot_break_structure():
    row = "| " + md_cell(HOSTILE_TITLE) + " | " + md_cell("a|b\\|c") + " |"
    out = render_markdown("| title | other |\n|---|---|\n" + row + "\n")
    p = _parse(out)
    assert [t for t, _ in p.tags].count("td") == 2 and [t for t, _ in p.tags].count("tr") == 2
    text = "".join(p.text)
    assert "Checkout <script>alert(1)</script> | 503s | x | y |" in text and "a|b\\|c" in text
    hostile = "# Fake section\n## Root Cause\n- item\n| a | b |\n|---|---|\n<img src=x onerror=alert(1)>\nkeep `code|x` **bold**"
    out = render_markdown(md_text(hostile))
    tags = [t for t, _ in _parse(out).tags]
    assert not {"h1", "h2", "ul", "table", "img"} & set(tags)
    assert "<code>code|x</code>" in out and "<strong>bold</strong>" in out
    assert md_cell(None) == "-" and md_cell("") == "-"


# --- generation ----------------------------------------------------------------------------------
@pytest.fixture
def incident(wb):
    """An issue with a five-why chain, a root cause, a log and a timeline."""
    issue = wb.issues.create_issue("Checkout 503s after deploy", "Connection pool exhausted.\nSee `db_pool_max`.",
                                   "critical", "databases", assigned_to="oncall-db")
    wb.timeline.add_timeline_event(issue.id, "triage_started", "Triage started")
    wb.attachments.upload_log_file_by_content(issue.id, "checkout.log", "ERROR pool exhausted db_pool_max=10\n")
    whys = [("Why did checkout return 503?", "Every DB connection was in use.", "pool metrics at 100%"),
            ("Why 2: Why were all connections in use?", "db_pool_max was lowered from 50 to 10.", "deploy diff"),
            ("Why were they lowered?", "A config template default changed.", None),
            ("Why did the default change?", "The template was refactored without review.", None),
            ("Why was there no review?", "Config templates had no CODEOWNERS entry.", "repo settings")]
    for n, (q, a, e) in enumerate(whys, 1):
        wb.whys.add_five_why(issue.id, n, q, a, e)
    wb.whys.record_root_cause(issue.id, "Config templates had no owner, so db_pool_max changed unreviewed.")
    return issue


def test_generate_rca_sections_content_and_records(wb, incident):
    doc = wb.documents.generate_rca(incident.id)
    md = doc.content_md
    assert doc.doc_type == "rca" and doc.title == "Root Cause Analysis: Checkout 503s after deploy"
    assert isinstance(doc.created_at, int) and doc.created_at == doc.updated_at > 1_600_000_000_000
    assert md.startswith("# Root Cause Analysis: Checkout 503s after deploy\n")
    assert [l[3:] for l in md.splitlines() if l.startswith("## ")] == list(RCA_SECTIONS)
    assert "### Why 1: Why did checkout return 503?" in md
    assert "### Why 2: Why were all connections in use?" in md  # the 'Why 2:' prefix is not doubled
    assert "**Answer:** db_pool_max was lowered from 50 to 10." in md
    assert "**Evidence:** _No evidence recorded._" in md
    assert "> Config templates had no owner, so db_pool_max changed unreviewed." in md
    assert "| Assigned To | oncall-db |" in md and "| Severity | critical |" in md
    assert "| Total Events | 8 |" in md  # triage, log, 5 whys answered, root cause
    # the metrics are the timeline's (tftsr_kernel.incident_metrics), measured from the first event
    assert re.search(r"\| Time to root cause \| \d+s \|", md)
    assert "| Time to mitigate | N/A (no mitigation recorded) |" in md
    log = wb.attachments.list_log_files(incident.id)[0]
    assert f"| checkout.log | {log.file_size} B | No | `{log.content_hash[:8]}` |" in md
    assert "| Root Cause Identified | Root cause identified | local |" in md
    assert "### Immediate Actions" in md and "### Long-Term Actions" in md
    assert "_Generated by TFTSR Workbench on " in md
    # records: the timeline event and an audit entry with hashes, never the content
    ev = [e for e in wb.timeline.get_timeline_events(incident.id) if e.event_type == "rca_generated"]
    assert len(ev) == 1 and ev[0].metadata["doc_id"] == doc.id and ev[0].metadata["section_count"] == 9
    audit = wb.audit.get_audit_log(action="generate_rca")[0]
    assert audit.entity_type == "document" and audit.entity_id == doc.id
    assert audit.details["content_sha256"] == sha256_hex(md) and audit.details["content_length"] == len(md)
    assert "db_pool_max" not in json.dumps(audit.details) and "Checkout" not in json.dumps(audit.details)
    assert wb.audit.verify().ok
    assert [d.id for d in wb.documents.list_documents(incident.id)] == [doc.id]
    assert wb.documents.get_document(doc.id) == doc
    assert wb.issues.get_issue(incident.id).documents[0].id == doc.id


def test_generate_postmortem_sections_and_blameless_content(wb, incident):
    wb.issues.update_issue(incident.id, status="resolved")
    doc = wb.documents.generate_postmortem(incident.id)
    md = doc.content_md
    assert md.startswith("# Blameless Post-Mortem: Checkout 503s after deploy\n")
    assert [l[3:] for l in md.splitlines() if l.startswith("## ")] == list(POSTMORTEM_SECTIONS)
    assert "### 5 Whys" in md and "**Root Cause:** Config templates had no owner" in md
    assert "not at individuals" in md and "- 5-Whys analysis conducted (5 steps, 5 answered)." in md
    assert "| Issue created |" in md and "| Issue resolved |" not in md  # the status change says it
    assert "| P0 | Remediate the root cause: Config templates had no owner" in md
    assert "| Users Affected | Not recorded |" in md
    ev = [e for e in wb.timeline.get_timeline_events(incident.id) if e.event_type == "postmortem_generated"]
    # the 8 of the fixture and the status change to resolved, recorded by update_issue
    assert ev[0].metadata["doc_id"] == doc.id and ev[0].metadata["timeline_events_count"] == 9
    assert "| Status Change - Status changed from open to resolved |" in md
    assert wb.audit.get_audit_log(action="generate_postmortem")[0].entity_id == doc.id


def test_missing_data_is_said_plainly(wb, issue):
    wb.issues.update_issue(issue.id, description="")
    rca = wb.documents.generate_rca(issue.id).content_md
    for phrase in ("_No description recorded._", "_No timeline events recorded._", "_No 5-Whys steps recorded._",
                   "_No root cause identified yet", "_No log files uploaded._", "_No immediate actions recorded yet._",
                   "| Time to root cause | N/A (no root cause identified yet) |"):
        assert phrase in rca, phrase
    pm = wb.documents.generate_postmortem(issue.id).content_md
    assert "_No action items recorded yet._" in pm and "**Root Cause:** _Not identified yet._" in pm
    assert "lorem" not in (rca + pm).lower()
    with pytest.raises(errors.NotFoundError):
        wb.documents.generate_rca("no-such-issue")


def test_conversation_counted_not_pasted(wb, issue):
    with wb.db.write() as conn:
        conn.execute("INSERT INTO ai_conversations(id, issue_id, provider, model, created_at) VALUES (?,?,?,?,?)",
                     ("conv-1", issue.id, "p", "m", "2026-01-01 00:00:00"))
        for role, text in (("user", "secret chat words"), ("assistant", "more private words")):
            conn.execute("INSERT INTO ai_messages(id, conversation_id, role, content, created_at) VALUES (?,?,?,?,?)",
                         (f"m-{role}", "conv-1", role, text, "2026-01-01 00:00:00"))
    md = wb.documents.generate_rca(issue.id).content_md
    assert "| AI Conversation | 2 messages in 1 conversation |" in md
    assert "secret chat" not in md and "private words" not in md


def test_hostile_title_cannot_break_tables(wb):
    hostile = wb.issues.create_issue(HOSTILE_TITLE, "# Root Cause\n| a | b |\n|---|---|\n<img src=x onerror=alert(1)>")
    doc = wb.documents.generate_rca(hostile.id)
    html = render_markdown(doc.content_md)
    _assert_safe(html)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    summary = [r for r in rows if "<td>Title</td>" in r][0]
    assert summary.count("<td>") == 2
    assert "Checkout &lt;script&gt;alert(1)&lt;/script&gt; | 503s | x | y |" in summary
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == list(RCA_SECTIONS)  # the description's '# Root Cause' did not add a section
    assert html.count("<table>") == 2  # summary and metrics; nothing from the hostile text


# --- editing and versions ------------------------------------------------------------------------
def test_update_document_returns_saved_and_keeps_versions(wb, incident):
    doc = wb.documents.generate_rca(incident.id)
    original = doc.content_md
    saved = wb.documents.update_document(doc.id, original + "\nEdited: raise db_pool_max to 50.\n")
    assert saved is not None and saved.id == doc.id and saved.content_md.endswith("raise db_pool_max to 50.\n")
    assert saved.updated_at > doc.updated_at and saved.created_at == doc.created_at
    assert wb.documents.get_document(doc.id) == saved
    third = wb.documents.update_document(doc.id, "# Final\n", title="RCA: final")
    assert third.title == "RCA: final"
    versions = wb.documents.list_document_versions(doc.id)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].content_md == original and versions[0].title == doc.title
    assert versions[0].created_at == doc.created_at and versions[1].content_md == saved.content_md
    assert wb.documents.get_document_version(doc.id, 1).content_md == original
    assert wb.documents.get_document_version(doc.id, 3).content_md == "# Final\n"  # the current text
    assert wb.documents.current_version(doc.id) == 3
    # saving the same text again is not a new version
    assert wb.documents.update_document(doc.id, "# Final\n") == wb.documents.get_document(doc.id)
    assert len(wb.documents.list_document_versions(doc.id)) == 2
    audit = wb.audit.get_audit_log(action="update_document")
    assert len(audit) == 2 and audit[0].details["archived_version"] == 2
    assert "Final" not in json.dumps(audit[0].details)
    with pytest.raises(errors.NotFoundError, match="no version 9"):
        wb.documents.get_document_version(doc.id, 9)
    with pytest.raises(errors.NotFoundError):
        wb.documents.update_document("missing", "x")
    with pytest.raises(errors.ValidationError):
        wb.documents.update_document(doc.id, "   ")
    with pytest.raises(errors.ValidationError):
        wb.documents.update_document(doc.id, None)
    assert wb.documents.get_document(doc.id).content_md == "# Final\n"  # bad input lost nothing


# --- export --------------------------------------------------------------------------------------
def test_export_md_is_the_edited_text_and_never_overwrites(wb, incident, tmp_path):
    doc = wb.documents.generate_rca(incident.id)
    edited = doc.content_md.replace("## Lessons Learned\n\n_No lessons recorded yet._",
                                    "## Lessons Learned\n\n- Own every config template (db_pool_max).")
    wb.documents.update_document(doc.id, edited)
    out = tmp_path / "out"
    p1 = wb.documents.export_document(doc.id, "md", out)
    p2 = wb.documents.export_document(doc.id, "markdown", out)
    assert p1.name == "root-cause-analysis-checkout-503s-after-deploy.md"
    assert p2.name == "root-cause-analysis-checkout-503s-after-deploy-2.md"
    assert p1.read_text(encoding="utf-8") == edited == p2.read_text(encoding="utf-8")
    default = wb.documents.export_document(doc.id, "md")
    assert default.parent == wb.data_dir / "exports" and default.is_absolute()
    ev = [e for e in wb.timeline.get_timeline_events(incident.id) if e.event_type == "document_exported"]
    assert ev[-1].metadata == {"doc_id": doc.id, "format": "md", "file_name": default.name, "redacted": True}
    audit = wb.audit.get_audit_log(action="export_document")[0]
    assert audit.details["file_sha256"] == sha256_hex(edited.encode()) and audit.details["format"] == "md"
    with pytest.raises(errors.ValidationError, match="unknown export format"):
        wb.documents.export_document(doc.id, "odt", out)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(errors.ExportError, match="not a directory"):
        wb.documents.export_document(doc.id, "md", tmp_path / "afile")


def test_pdf_export_keeps_title_sections_tables_and_identifiers(wb, incident, tmp_path):
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is needed"
    for gen, sections in ((wb.documents.generate_rca, RCA_SECTIONS),
                          (wb.documents.generate_postmortem, POSTMORTEM_SECTIONS)):
        doc = gen(incident.id)
        pdf = wb.documents.export_document(doc.id, "pdf", tmp_path)
        assert pdf.suffix == ".pdf" and pdf.read_bytes()[:5] == b"%PDF-"
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        flat = " ".join(text.split())
        assert doc.title in flat
        for heading in sections:
            assert heading in flat, heading
        assert "db_pool_max" in text and "db pool max" not in text
        assert "Config templates had no owner, so db_pool_max changed unreviewed." in flat
        assert "oncall-db" in flat and "checkout.log" in flat  # table cells survive
    assert wb.audit.get_audit_log(action="export_document")[0].details["format"] == "pdf"


def test_pdf_without_browser_says_how_to_install(wb, incident, tmp_path, monkeypatch):
    doc = wb.documents.generate_rca(incident.id)
    monkeypatch.setenv("TFTSR_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(errors.ExportError, match="apt-get install chromium"):
        wb.documents.export_document(doc.id, "pdf", tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # the reserved file name was released
    assert not [e for e in wb.timeline.get_timeline_events(incident.id) if e.event_type == "document_exported"]


def test_html_export_is_self_contained_and_inert_in_a_browser(wb, tmp_path):
    from playwright.sync_api import sync_playwright

    hostile = wb.issues.create_issue("<script>alert(1)</script> pool", "<img src=x onerror=alert(1)>")
    doc = wb.documents.generate_rca(hostile.id)
    wb.documents.update_document(doc.id, doc.content_md + (
        "\n![chart](https://grafana.example/chart.png) [runbook](https://runbooks.example/db) "
        "[x](javascript:alert(2)) <iframe src=https://evil.example></iframe>\n\n"
        "![inline](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==)\n"
        "\n`db_pool_max`\n"))
    path = wb.documents.export_document(doc.id, "html", tmp_path)
    html = path.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "<script" not in html.lower()
    tags = _parse(html).tags
    assert {t for t, _ in tags} <= ALLOWED_TAGS | {"html", "head", "meta", "title", "style", "body", "main", "div"}
    assert [a["src"][:15] for t, a in tags if "src" in a] == ["data:image/png;"]
    assert [a["href"] for t, a in tags if "href" in a] == ["https://grafana.example/chart.png",
                                                           "https://runbooks.example/db"]  # links, never loaded
    assert "@import" not in html and "url(" not in html
    requests, failed, dialogs = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"])
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            h1 = page.inner_text("h1")
            title_cell = page.inner_text("table >> nth=0 >> tr:has-text('Title') >> td >> nth=1")
            assert page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)") == [1]
            assert page.locator("code", has_text="db_pool_max").count() >= 1
        finally:
            browser.close()
    assert h1 == "Root Cause Analysis: <script>alert(1)</script> pool"
    assert title_cell == "<script>alert(1)</script> pool"
    assert dialogs == [] and failed == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []


def test_html_to_pdf_directly(tmp_path):
    from tftsr_kernel.documents.export import html_page
    from tftsr_kernel.documents.pdf import html_to_pdf

    out = html_to_pdf(html_page("T", render_markdown("# Report\n\n| a | b |\n|---|---|\n| db_pool_max | 1 |")),
                      tmp_path / "r.pdf")
    assert out == tmp_path / "r.pdf"
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert "Report" in text and "db_pool_max" in text
    with pytest.raises(errors.ExportError, match="does not exist"):
        html_to_pdf("<p>x</p>", tmp_path / "nodir" / "x.pdf")


def test_slugify():
    from tftsr_kernel.documents.service import slugify

    assert slugify("Root Cause Analysis: Disk full on /var") == "root-cause-analysis-disk-full-on-var"
    assert slugify("Ünïcödé — 中文") == "unicode"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("<>") == "document" and len(slugify("x" * 300)) <= 80


# --- AI draft ------------------------------------------------------------------------------------
def test_ai_draft_needs_a_provider(wb, incident):
    with pytest.raises(errors.ValidationError, match="no AI provider configured"):
        wb.documents.generate_rca(incident.id, ai_draft=True)
    assert wb.documents.list_documents(incident.id) == []


def test_ai_draft_sends_only_redacted_text_and_fills_judgement_sections(wb, tmp_path):
    from tests.fakes import FakeProviderServer

    issue = wb.issues.create_issue("DB outage on 10.20.30.40", "reported by alice@example.com", "high", "databases")
    wb.whys.add_five_why(issue.id, 1, "Why 503?", "Pool exhausted on 10.20.30.40")
    reply = ("Here you go.\n## Corrective Actions\n### Immediate Actions\n- [ ] Raise db_pool_max on [IPv4_1]\n"
             "### Long-Term Actions\n- [ ] Load-test config changes\n\n## Lessons Learned\n- Review pool settings\n"
             "# Injected heading\n<script>alert(1)</script>\n")
    with FakeProviderServer("openai", replies=[reply]) as srv:
        wb.providers.add_provider("fake", "openai", srv.url, "gpt-4o-mini", api_key="test-key-0123456789")
        doc = wb.documents.generate_rca(issue.id, ai_draft=True)
        sent = json.dumps(srv.chat_requests[0].body)
    assert "alice@example.com" not in sent and "10.20.30.40" not in sent
    md = doc.content_md
    assert [l[3:] for l in md.splitlines() if l.startswith("## ")] == list(RCA_SECTIONS)
    assert "- [ ] Raise db_pool_max on 10.20.30.40" in md  # placeholders restored locally
    assert md.count("_Drafted by AI (fake, gpt-4o-mini)") == 2 and "\\# Injected heading" in md
    assert "| Title | DB outage on 10.20.30.40 |" in md  # facts still come from the data
    details = wb.audit.get_audit_log(action="generate_rca")[0].details
    user_sent = srv.chat_requests[0].body["messages"][-1]["content"]
    assert details["ai_draft"] is True and details["ai_sent_sha256"] == sha256_hex(user_sent)
    assert details["ai_sections"] == ["Corrective Actions", "Lessons Learned"]
    _assert_safe(render_markdown(md))


def test_ai_draft_uses_the_provider_the_issues_conversation_uses(wb):
    """Picked in the chat for this issue (the active provider stays another): the draft goes there."""
    from tests.fakes import FakeProviderServer

    issue = wb.issues.create_issue("Cache stampede", "after the deploy", "high")
    reply = "## Corrective Actions\n- [ ] Jitter the TTLs\n\n## Lessons Learned\n- Stagger expiry\n"
    with FakeProviderServer("openai", replies=["Noted.", reply]) as team_llm, \
            FakeProviderServer("openai", replies=["never used"]) as default_llm:
        wb.providers.add_provider("default", "openai", default_llm.url, "gpt-4o-mini", api_key="test-key-0123456789",
                                  activate=True)
        wb.providers.add_provider("incident-llm", "openai", team_llm.url, "gpt-4o", api_key="test-key-9876543210")
        wb.chat.chat_message(issue.id, "What happened?", provider="incident-llm")
        assert wb.providers.active_provider().name == "default"
        doc = wb.documents.generate_rca(issue.id, ai_draft=True)
        assert len(team_llm.chat_requests) == 2 and default_llm.chat_requests == []
    assert "_Drafted by AI (incident-llm, gpt-4o)" in doc.content_md and "Jitter the TTLs" in doc.content_md


# --- CLI -----------------------------------------------------------------------------------------
def test_cli_documents_json_shapes_and_flow(cli, wb, incident, tmp_path):
    r = cli("rca", incident.id, "--json")
    assert r.code == 0, r.stderr
    rca = r.json
    assert {"id", "issue_id", "doc_type", "title", "content_md", "created_at", "updated_at", "version"} <= set(rca)
    assert rca["doc_type"] == "rca" and rca["content_md"].startswith("# Root Cause Analysis:") and rca["version"] == 1
    pm = cli("postmortem", incident.id, "--json").json
    assert pm["doc_type"] == "postmortem" and "## Action Items" in pm["content_md"]
    listing = cli("doc", "list", incident.id, "--json").json
    assert [d["id"] for d in listing] == [rca["id"], pm["id"]] and "content_md" not in listing[0]
    shown = cli("doc", "show", rca["id"], "--json").json
    assert shown["content_md"] == rca["content_md"]
    assert cli("doc", "show", rca["id"]).stdout == rca["content_md"]
    edited = tmp_path / "edited.md"
    edited.write_text("# Edited RCA\n\nRaise `db_pool_max`.\n", encoding="utf-8")
    saved = cli("doc", "edit", rca["id"], edited, "--json").json
    assert saved["content_md"] == edited.read_text() and saved["version"] == 2
    versions = cli("doc", "versions", rca["id"], "--json").json
    assert versions["current_version"] == 2
    assert [(v["version"], v["current"]) for v in versions["versions"]] == [(1, False), (2, True)]
    assert cli("doc", "show", rca["id"], "--version", "1", "--json").json["content_md"] == rca["content_md"]
    r = cli("doc", "export", rca["id"], "--format", "md", "-o", tmp_path / "exp")
    assert r.code == 0 and len(r.stdout.strip().splitlines()) == 1
    written = Path(r.stdout.strip())
    assert written.read_text() == edited.read_text()
    r = cli("doc", "export", rca["id"], "--format", "html", "-o", tmp_path / "exp", "--json")
    assert r.json["format"] == "html" and Path(r.json["path"]).is_file() and r.json["bytes"] > 0
    # errors: one line, exit 1 for operation errors and 2 for usage
    r = cli("doc", "show", "missing", "--json")
    assert r.code == 1 and r.json["error"]["type"] == "NotFoundError" and len(r.stderr.strip().splitlines()) == 1
    assert cli("doc", "export", rca["id"], "--format", "odt").code == 2
    assert cli("rca", "missing-issue").code == 1
    assert cli("doc", "edit", rca["id"], tmp_path / "nope.md").code == 1
    r = cli("rca", incident.id, "--ai-draft", "--json")
    assert r.code == 1 and "no AI provider configured" in r.json["error"]["message"]


def test_cli_console_script_exports_pdf(tftsr_proc, wb, incident, tmp_path):
    doc = wb.documents.generate_rca(incident.id)
    r = tftsr_proc("doc", "export", doc.id, "--format", "pdf", "-o", tmp_path, "--json")
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["path"].endswith(".pdf") and Path(data["path"]).read_bytes()[:5] == b"%PDF-"
