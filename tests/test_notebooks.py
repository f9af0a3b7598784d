"""Notebook templates executed with nbclient against a temp data dir with the demo incident, and
the ``tftsr lab`` / ``tftsr export`` / ``tftsr dashboard`` plumbing (tftsr_kernel.cli.serve)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tftsr_kernel import paths

NOTEBOOKS = ("dashboard", "incident", "history", "settings")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
XSS = '<img src=x onerror="window.__xss=1">'


@pytest.fixture
def demo(wb):
    from tftsr_kernel.demo import create_demo

    issue, log = create_demo(wb)
    wb.pii.detect_pii(log.id)
    wb.pii.apply_redactions(log.id, "all")
    wb.whys.add_five_why(issue.id, 1, "Why did checkout return 503?", "The DB pool was exhausted",
                         "pool 8/8 in use")
    wb.whys.record_root_cause(issue.id, "db_pool_max was lowered from 64 to 8 by the 14:00 deploy")
    wb.documents.generate_rca(issue.id)
    return issue, log


def run(name: str, tmp_path) -> nbformat.NotebookNode:
    nb = nbformat.read(paths.notebooks_dir() / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_templates_are_short_cells_calling_widgets():
    for name in NOTEBOOKS:
        nb = nbformat.read(paths.notebooks_dir() / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, name
        for c in code:
            lines = [ln for ln in c.source.splitlines() if ln.strip()]
            assert 1 <= len(lines) <= 3, (name, c.source)
            assert "sqlcipher" not in c.source and "SELECT" not in c.source.upper()
            assert not c.outputs
    incident = nbformat.read(paths.notebooks_dir() / "incident.ipynb", as_version=4)
    params = [c for c in incident.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0].source == "issue_id = None"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_and_shows_live_and_static_output(name, demo, tmp_path):
    issue, _ = demo
    nb = run(name, tmp_path)
    outs = outputs(nb)
    assert not [o for o in outs if o.output_type == "error"], name
    assert not [o for o in outs if o.output_type == "stream" and o.name == "stderr"], name
    shown = [o for o in outs if o.output_type == "display_data"]
    assert shown and all(WIDGET_VIEW in o.data and "text/html" in o.data for o in shown), name
    html = "".join(o.data["text/html"] for o in shown)
    if name in ("dashboard", "incident", "history"):
        assert "Checkout API returning 503s" in html
    if name == "incident":  # None -> the most recent issue; every panel has a static rendering
        for part in ("5-Whys analysis", "Timeline", "Root Cause Analysis", "Redacted excerpt", "<svg"):
            assert part in html, part
    if name == "settings":
        assert "Audit chain intact" in html


def test_lab_makes_and_reuses_a_parameterized_notebook(cli, demo, data_dir):
    issue, _ = demo
    r = cli("lab", issue.id, "--no-launch", "--json")
    assert r.code == 0, r.stderr
    doc = r.json
    path = Path(doc["notebook"])
    assert doc["created"] and path.parent == data_dir.resolve() / "notebooks"
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert params[0].source == f"issue_id = {json.dumps(issue.id)}"
    path.write_text(path.read_text().replace("Incident investigation", "My own notes"))
    again = cli("lab", "--no-launch", "--json")  # no id: the most recent issue, reused, never overwritten
    assert again.json == {**doc, "created": False}
    assert "My own notes" in path.read_text()
    missing = cli("lab", "nope", "--no-launch")
    assert missing.code == 1 and missing.stderr.count("\n") == 1 and "not found" in missing.stderr


def test_lab_without_issues_says_what_to_do(cli):
    r = cli("lab", "--no-launch")
    assert r.code == 1 and "tftsr issue create" in r.stderr


def _offline(html: str):
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)""", html)
    assert all(r.startswith(("data:", "#")) for r in refs), [r for r in refs if not r.startswith(("data:", "#"))]
    assert "<script" not in html.lower()
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html)


def test_export_html_and_md_report(cli, wb, demo, tmp_path):
    issue, log = demo
    xss = wb.issues.create_issue("Old " + XSS, "<script>window.__xss=2</script>", "low")
    out = tmp_path / "reports"
    r = cli("export", issue.id, "--to", "html", "-o", out, "--json")
    assert r.code == 0, r.stderr
    path = Path(r.json["path"])
    assert path.parent == out.resolve() and path.name.startswith("incident-report-checkout-api")
    html = path.read_text()
    _offline(html)
    assert "Content-Security-Policy" in html
    for part in ("Checkout API returning 503s", "The DB pool was exhausted", "db_pool_max was lowered",
                 "Root Cause Analysis", "Redacted excerpt", "<svg", "log uploaded"):
        assert part in html, part
    assert "issue_id = " not in html and "incident_panel(" not in html  # code is hidden
    assert "Set `issue_id`" not in html and "Set <code>issue_id</code>" not in html
    for span in wb.pii.list_spans(log.id):
        if span.pii_type in ("Email", "Password", "URLCredentials"):
            assert span.original_value not in html, span.pii_type
    assert "checkout-service.log" in html
    second = cli("export", issue.id, "--to", "html", "-o", out, "--json")
    assert Path(second.json["path"]) != path  # never overwritten
    md = cli("export", issue.id, "--to", "md", "-o", out, "--json")
    text = Path(md.json["path"]).read_text()
    assert "### 5-Whys analysis" in text and "# Root Cause Analysis" in text and "<table" not in text
    bad = cli("export", xss.id, "--to", "html", "-o", out, "--json")
    page = Path(bad.json["path"]).read_text()
    assert "<img src=x" not in page and "<script>window" not in page and "&lt;img src=x" in page
    entries = wb.audit.get_audit_log(action="export_report")
    assert len(entries) == 4 and entries[0].details["format"] == "html"


def test_export_pdf_report(cli, demo, tmp_path):
    issue, _ = demo
    r = cli("export", issue.id, "--to", "pdf", "-o", tmp_path, "--json")
    assert r.code == 0, r.stderr
    data = Path(r.json["path"]).read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000


def test_export_errors_are_one_line(cli, demo, tmp_path):
    r = cli("export", "no-such-issue")
    assert r.code == 1 and "not found" in r.stderr and r.stderr.count("\n") == 1
    r = cli("export", demo[0].id, "--to", "docx")
    assert r.code == 2
