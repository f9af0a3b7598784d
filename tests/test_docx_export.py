"""``tftsr doc export DOC_ID --format docx`` and the Documents panel's *Export DOCX*: the file opens
with python-docx and holds every section heading, the tables and the lists; it is redacted exactly
as the other formats (a planted e-mail and password appear in no part of the file, nor its name)."""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import docx
import pytest

from tests.test_exports import EMAIL, PASSWORD, _leaks, leaky  # noqa: F401  (leaky is a fixture)

_TAG = re.compile(r"<[^>]+>")


def docx_all_text(path: Path) -> str:
    """The text of every XML part of the file (body, headers, core properties, ...), tags removed."""
    with zipfile.ZipFile(path) as z:
        parts = [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels"))]
    return html.unescape(" ".join(_TAG.sub("", p) for p in parts))


def md_headings(md: str) -> list[tuple[int, str]]:
    out, fence = [], False
    for line in md.splitlines():
        if line.startswith("```"):
            fence = not fence
        m = re.match(r"^(#{1,6}) (.+)$", line)
        if m and not fence:
            out.append((len(m.group(1)), m.group(2).strip()))
    return out


@pytest.fixture
def incident(wb):
    issue = wb.issues.create_issue("Checkout latency", "p99 went from 200ms to 4s after `db_pool_max` was lowered",
                                   "high", "databases")
    wb.whys.add_five_why(issue.id, 1, "Why did checkout slow down?", "The DB pool was exhausted")
    wb.whys.add_five_why(issue.id, 2, "Why was the pool exhausted?", "db_pool_max was lowered to 8")
    wb.attachments.upload_log_file_by_content(issue.id, "checkout.log", "2024-01-01 00:00:00 pool exhausted\n")
    return issue


@pytest.mark.parametrize("kind", ["rca", "postmortem"])
def test_cli_docx_export_opens_and_holds_every_section_heading_table_and_list(cli, wb, incident, tmp_path, kind):
    r = cli(kind, incident.id, "--json")
    assert r.code == 0, r.stderr
    doc_id = r.json["id"]
    r = cli("doc", "export", doc_id, "--format", "docx", "-o", tmp_path, "--json")
    assert r.code == 0, r.stderr
    path = Path(r.json["path"])
    assert path.suffix == ".docx" and r.json["format"] == "docx" and r.json["redacted"] is True
    assert path.stat().st_size == r.json["bytes"] and (path.stat().st_mode & 0o777) == 0o600
    d = docx.Document(str(path))
    md = Path(cli("doc", "export", doc_id, "--format", "md", "-o", tmp_path, "--json").json["path"]).read_text()
    want = md_headings(md)
    assert len([h for h in want if h[0] == 2]) >= 8  # every section of the template
    got = [(int(p.style.name.split()[-1]), p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert [t for _, t in got] == [re.sub(r"\\(.)", r"\1", t).replace("`", "") for _, t in want]
    assert [lvl for lvl, _ in got] == [lvl for lvl, _ in want]
    # tables: as many as the Markdown has, with their header row
    md_tables = len(re.findall(r"^\|[ :-]*-{3,}[ :|-]*\|$", md, re.M))
    assert len(d.tables) == md_tables > 0
    summary = d.tables[0]
    assert [c.text for c in summary.rows[0].cells] == ["Field", "Value"]
    assert any(row.cells[1].text == ("Checkout latency" if kind == "rca" else "databases") for row in summary.rows)
    # lists are Word list paragraphs, not "- " text
    lists = [p.text for p in d.paragraphs if p.style.name.startswith("List")]
    md_items = [m.group(1) for m in re.finditer(r"^\s*(?:[-*]|\d+\.) (.+)$", md, re.M)]
    assert len(lists) == len(md_items) > 0
    assert not any(p.text.startswith(("- ", "* ", "| ")) for p in d.paragraphs)
    assert d.core_properties.author == "TFTSR Workbench" and d.core_properties.title
    entry = wb.audit.get_audit_log(action="export_document")
    assert any(e.details["format"] == "docx" and e.details["file_name"] == path.name for e in entry)
    ev = [e for e in wb.timeline.get_timeline_events(incident.id) if e.event_type == "document_exported"]
    assert any(e.description.endswith("exported as docx") for e in ev)


def test_docx_export_holds_no_planted_email_or_password_in_any_part(wb, leaky, tmp_path):  # noqa: F811
    doc = wb.documents.generate_rca(leaky.id)
    assert EMAIL in doc.content_md and PASSWORD in doc.content_md
    path = wb.documents.export_document(doc.id, "docx", tmp_path)
    text = docx_all_text(path)
    assert not _leaks(text), _leaks(text)
    assert not _leaks(path.name) and "alice" not in path.name
    assert path.name.startswith("root-cause-analysis-login-fails-for-email-1")
    body = " ".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "[Email_1]" in body and "[Password_1]" in body
    assert "[Email_1]" in docx.Document(str(path)).core_properties.title


def test_unredacted_docx_is_explicit_and_audited(cli, wb, leaky, tmp_path):  # noqa: F811
    doc = wb.documents.generate_rca(leaky.id)
    r = cli("doc", "export", doc.id, "-f", "docx", "-o", tmp_path, "--unredacted", "--json")
    assert r.code == 0 and r.json["redacted"] is False
    assert EMAIL in docx_all_text(Path(r.json["path"]))
    [entry] = wb.audit.get_audit_log(action="export_unredacted")
    assert entry.details["format"] == "docx"


def test_documents_panel_exports_docx(wb, leaky):  # noqa: F811
    from widgets.documents import DocumentsPanel

    panel = DocumentsPanel(leaky.id, wb)
    panel.generate("rca")
    assert "docx" in panel._w_export and panel._w_export["docx"].description == "Export DOCX"
    panel._w_export["docx"].click()
    path = panel.last_export
    assert path is not None and path.suffix == ".docx" and panel.status_kind == "ok"
    assert "redacted for sharing" in panel.status
    assert "application/vnd.openxmlformats-officedocument.wordprocessingml.document" in panel._w_download.value
    assert not _leaks(docx_all_text(path))
    d = docx.Document(io.BytesIO(path.read_bytes()))
    assert d.paragraphs[0].style.name == "Heading 1" and d.paragraphs[0].text.startswith("Root Cause Analysis")


def test_unknown_format_names_docx(wb, leaky):  # noqa: F811
    from tftsr_kernel.errors import ValidationError

    doc = wb.documents.generate_rca(leaky.id)
    with pytest.raises(ValidationError, match="md, html, pdf, docx"):
        wb.documents.export_document(doc.id, "odt")
