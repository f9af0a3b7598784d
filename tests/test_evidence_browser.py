"""Evidence through the dashboard in headless Chromium: a PDF and a DOCX with an e-mail in them go
through the Logs & PII uploader and are shown as text extracted from them, the PII review finds
the e-mail; a damaged PDF gets a clear message; the Documents panel exports DOCX. The dashboard is
the real ``tftsr dashboard`` (see test_upload_browser.py, whose helpers this reuses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_evidence_extract import EMAIL, make_docx, make_pdf
from tests.test_upload_browser import CHROMIUM, Wire, _choose, start_dashboard, stop_dashboard
from tests.dashboard import click_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = Path("/tmp/shots/evidence")
TITLE = "Evidence incident"

playwright_api = pytest.importorskip("playwright.sync_api")


def _plain(text: str) -> str:
    return text.replace("\xa0", " ")  # ipywidgets' Dropdown shows spaces as no-break spaces


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import tftsr_kernel

    root = tmp_path_factory.mktemp("evidence-browser")
    data = root / "data"
    wb = tftsr_kernel.open(data, shared=False)
    issue_id = wb.issues.create_issue(TITLE, "notes from the bridge call", "high", "application").id
    wb.close()
    proc, info = start_dashboard(data, root / "voila.log")
    yield {**info, "data": data, "issue": issue_id, "root": root}
    stop_dashboard(proc)


def test_pdf_and_docx_evidence_and_docx_export_in_the_browser(server):
    import tftsr_kernel

    SHOTS.mkdir(parents=True, exist_ok=True)
    root = server["root"]
    (root / "bridge-notes.pdf").write_bytes(make_pdf(["Bridge call notes", f"Escalated to {EMAIL} at 14:02"]))
    (root / "handover.docx").write_bytes(make_docx())
    (root / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog\n%%EOF\n")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                          "--disable-component-update", "--no-first-run", "--disable-sync"])
        ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
        pg = ctx.new_page()
        pg.set_default_timeout(90_000)
        wire = Wire(pg, server["port"], frames=False)
        pg.goto(server["url"])
        pg.locator(".tftsr-open-issue", has_text=TITLE).first.click()
        pg.locator(".tftsr-log-upload .tftsr-uploader-pick").wait_for()
        assert "PDF, DOCX, pcap" in pg.locator(".tftsr-log-upload").inner_text()

        _choose(pg, root / "bridge-notes.pdf")
        ok = pg.locator(".tftsr-logs .tftsr-status-ok", has_text="bridge-notes.pdf")
        ok.wait_for()
        assert "text extracted from PDF (1 page(s))" in ok.inner_text() and "1 finding(s): Email" in ok.inner_text()
        assert "text from PDF" in _plain(pg.locator(".tftsr-log-select select").inner_text())
        pg.locator("button.tftsr-show-log").click()
        pg.locator(".tftsr-log-view .tftsr-log-source", has_text="text extracted from PDF").wait_for()
        assert EMAIL in pg.locator(".tftsr-log-view pre").inner_text()
        pg.locator(".tftsr-logs").screenshot(path=str(SHOTS / "pdf-shown.png"))
        pg.locator("button.tftsr-detect-pii").click()
        pg.locator(".tftsr-pii-spans", has_text=EMAIL).wait_for()
        pg.locator(".tftsr-logs").screenshot(path=str(SHOTS / "pdf-uploaded.png"))

        _choose(pg, root / "broken.pdf")
        err = pg.locator(".tftsr-logs .tftsr-status-error", has_text="damaged PDF")
        err.wait_for()
        pg.locator(".tftsr-logs").screenshot(path=str(SHOTS / "pdf-damaged.png"))

        _choose(pg, root / "handover.docx")
        pg.locator(".tftsr-logs .tftsr-status-ok", has_text="text extracted from DOCX").wait_for()
        assert "handover.docx" in pg.locator(".tftsr-log-select select").inner_text()

        click_tab(pg, ".tftsr-incident-tabs", "Documents")
        pg.locator("button.tftsr-generate-rca").click()
        pg.locator(".tftsr-doc-preview h1", has_text="Root Cause Analysis").wait_for()
        pg.locator("button.tftsr-doc-export-docx").click()
        pg.locator(".tftsr-documents .tftsr-status-ok", has_text="Document exported to").wait_for()
        href = pg.locator("a.tftsr-download").get_attribute("href")
        assert href.startswith("data:application/vnd.openxmlformats-officedocument.wordprocessingml.document;base64,")
        pg.locator(".tftsr-documents").screenshot(path=str(SHOTS / "docx-exported.png"))
        wire.check()
        ctx.close()
        browser.close()

    wb = tftsr_kernel.open(server["data"], shared=False)
    try:
        logs = wb.attachments.list_log_files(server["issue"])
        assert [(l.file_name, l.extracted_from) for l in logs] == [("bridge-notes.pdf", "pdf"),
                                                                    ("handover.docx", "docx")]
        assert all(EMAIL in wb.attachments.get_log_file_content(l.id) for l in logs)
    finally:
        wb.close()
    import docx

    [exported] = (server["data"] / "exports").glob("*.docx")
    heads = [p.text for p in docx.Document(str(exported)).paragraphs if p.style.name.startswith("Heading")]
    assert heads[0].startswith("Root Cause Analysis") and "Log Files Analyzed" in heads
