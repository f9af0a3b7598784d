"""Evidence that is not plain text, uploaded as a user does: PDF, DOCX, pcap and archives through
``tftsr log upload``, the dashboard's chunked uploader (the Logs & PII panel, headless) and the
server-path import. The text is stored, shown and scanned for PII; the original file is kept; bad
files are refused with a typed error and nothing is stored. Every fixture is made here."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

from tests.test_evidence_extract import EMAIL, make_docx, make_pcap, make_pdf, pdf_bytes
from tests.upload_frontend import FrontEnd
from tftsr_kernel.errors import BinaryFileError, FileRefusedError
from tftsr_kernel.logs.errors import (ArchiveBombError, EncryptedDocumentError, ExtractionError,
                                      FormatMismatchError, UnsafeArchiveError)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _zip(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/shadow")
    return buf.getvalue()


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    for page in PdfReader(io.BytesIO(make_pdf([f"secret {EMAIL}"]))).pages:
        w.add_page(page)
    w.encrypt("correct horse", algorithm="RC4-128")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _stored(wb, issue) -> tuple:
    """What an upload leaves behind: log rows, their timeline events and audit entries."""
    logs = len(wb.attachments.list_log_files(issue.id))
    events = sum(1 for e in wb.timeline.get_timeline_events(issue.id) if e.event_type == "log_uploaded")
    audits = len(wb.audit.get_audit_log(action="upload_log_file"))
    return logs, events, audits


# -- the user's path: CLI --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_cli_upload_of_a_document_stores_its_text_and_the_pii_review_finds_the_email(cli, wb, issue, tmp_path,
                                                                                   kind):
    data = make_pdf(["Post-incident evidence", f"Escalated to {EMAIL}"]) if kind == "pdf" else make_docx()
    f = tmp_path / f"notes.{kind}"
    f.write_bytes(data)
    r = cli("log", "upload", issue.id, f)
    assert r.code == 0, r.stderr
    label = kind.upper()
    assert f"text extracted from {label}" in r.stdout and "the original file kept" in r.stdout
    assert "PII scan found 1 finding(s)" in r.stdout
    log_id = r.stdout.split(" as ", 1)[1].split()[0]
    shown = cli("log", "show", log_id)
    assert shown.code == 0 and f"text extracted from {label}" in shown.stdout
    assert ("1 page(s)" if kind == "pdf" else "1 table(s)") in shown.stdout
    doc = cli("log", "show", log_id, "--json").json
    assert doc["extracted_from"] == kind and doc["file_size"] == len(data)
    assert doc["content_hash"] == hashlib.sha256(data).hexdigest()  # the hash of the file as uploaded
    review = cli("pii", "review", log_id, "--json").json
    assert [(s["pii_type"], s["original_value"]) for s in review["spans"]] == [("Email", EMAIL)]
    # the original bytes are kept exactly; the text is what the log reads as
    assert cli("log", "cat", log_id).stdout_bytes == data
    text = cli("log", "cat", log_id, "--text").stdout
    assert EMAIL in text and ("Post-incident evidence" in text if kind == "pdf" else "db-1 | failover" in text)
    # what leaves (the model, integrations) is the redacted text, before and after the review
    out = wb.pii.egress_log(issue.id, log_id).text
    assert EMAIL not in out and "[Email_1]" in out and "%PDF" not in out
    assert cli("pii", "apply", log_id, "--all").code == 0
    assert EMAIL not in cli("log", "cat", log_id, "--redacted").stdout
    assert EMAIL not in wb.pii.egress_log(issue.id, log_id).text
    ev = [e for e in wb.timeline.get_timeline_events(issue.id) if e.event_type == "log_uploaded"][-1]
    assert f"text extracted from {label}" in ev.description and ev.metadata["extracted_from"] == kind


def test_plain_text_logs_are_unchanged(cli, wb, issue, tmp_path):
    f = tmp_path / "app.log"
    f.write_bytes(b"2024-01-01 00:00:00 ok\n")
    r = cli("log", "upload", issue.id, f, "--json")
    assert r.code == 0 and r.json["extracted_from"] is None
    assert "the file itself" in cli("log", "show", r.json["id"]).stdout
    assert cli("log", "cat", r.json["id"]).stdout_bytes == cli("log", "cat", r.json["id"], "--text").stdout_bytes


def test_archives_through_the_kernel_and_the_server_import(wb, issue, tmp_path, cli):
    log = f"2024-01-01 00:00:00 user {EMAIL} logged in\n".encode()
    a = wb.attachments.upload_log_file_by_content(issue.id, "app.log.gz", gzip.compress(log))
    assert a.extracted_from == "gzip" and wb.attachments.get_log_file_content(a.id) == log.decode()
    assert a.mime_type == "application/gzip" and a.pii_summary["by_type"] == {"Email": 1}
    root = tmp_path / "srv"
    root.mkdir()
    (root / "bundle.zip").write_bytes(_zip({"a.log": log, "b/c.log": b"second\n"}))
    assert cli("settings", "set", "log_import_dirs", f'["{root}"]').code == 0
    z = wb.attachments.import_server_log(issue.id, str(root / "bundle.zip"))
    assert z.extracted_from == "zip" and "2 file(s)" in z.extraction_note
    text = wb.attachments.get_log_file_content(z.id)
    assert "==> a.log <==" in text and "==> b/c.log <==" in text and EMAIL in text
    assert wb.attachments.get_log_file_bytes(z.id) == (root / "bundle.zip").read_bytes()
    # templates are mined from the text, not from the zip's bytes
    ts = wb.logs.get_log_templates(z.id)
    assert ts.lines == len(text.splitlines())


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed (.ci/workbench test installs it)")
def test_pcap_upload_through_tshark(cli, wb, issue, tmp_path):
    f = tmp_path / "capture.pcap"
    f.write_bytes(make_pcap())
    r = cli("log", "upload", issue.id, f, "--json")
    assert r.code == 0, r.stderr
    assert r.json["extracted_from"] == "pcap" and "2 packet(s)" in r.json["extraction_note"]
    text = wb.attachments.get_log_file_content(r.json["id"])
    assert "Syslog" in text and EMAIL in text and r.json["pii_summary"]["by_type"]["Email"] == 1


def test_pcap_without_tshark_is_a_clear_error_from_the_real_cli(wb, issue, tmp_path):
    f = tmp_path / "capture.pcapng"
    f.write_bytes(make_pcap())
    f.write_bytes(b"\x0a\x0d\x0d\x0a" + make_pcap()[4:])  # pcapng magic: the bytes decide, not the name
    empty = tmp_path / "bin"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty), PYTHONPATH=REPO)
    before = _stored(wb, issue)
    proc = subprocess.run([sys.executable, "-m", "tftsr_kernel.cli", "log", "upload", issue.id, str(f)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "needs tshark, which is not installed" in proc.stderr
    assert "Traceback" not in proc.stderr and _stored(wb, issue) == before


# -- the panel's path: the chunked uploader, headless -----------------------------------------------
@pytest.fixture
def panel(wb, issue):
    from widgets import LogsPanel

    p = LogsPanel(issue.id, wb)
    p.layout
    return p


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_panel_upload_of_a_document_shows_where_the_text_came_from(panel, wb, kind):
    data = make_pdf([f"Contact {EMAIL}"]) if kind == "pdf" else make_docx()
    replies = FrontEnd(panel._w_upload).upload(f"evidence.{kind}", data)
    assert replies[-1]["type"] == "done", replies[-1]
    stages = [r["stage"] for r in replies if r["type"] == "stage"]
    assert stages[:2] == ["extracting", "extracting"] and "scanning" in stages
    assert f"text extracted from {kind.upper()}" in replies[-1]["message"]
    assert "PII scan found 1 finding(s): Email" in replies[-1]["message"]
    [log] = panel.logs
    assert log.extracted_from == kind and wb.attachments.get_log_file_bytes(log.id) == data
    assert f"text from {kind.upper()}" in panel._w_log_select.options[0][0]
    panel._w_view.click()
    assert "tftsr-log-source" in panel._w_log_view.value and EMAIL in panel._w_log_view.value
    panel._w_detect.click()
    assert [s.original_value for s in panel.spans] == [EMAIL]
    assert f"(text from {kind.upper()})" in panel.to_html()


def test_panel_upload_of_a_damaged_pdf_says_so_and_keeps_working(panel, wb, issue):
    replies = FrontEnd(panel._w_upload).upload("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog\n%%EOF\n")
    assert replies[-1]["type"] == "error" and "damaged PDF" in replies[-1]["message"]
    assert panel.status_kind == "error" and panel.logs == []
    ok = FrontEnd(panel._w_upload).upload("notes.docx", make_docx())
    assert ok[-1]["type"] == "done" and len(panel.logs) == 1


# -- bad input: a typed error, one line from the CLI, nothing stored --------------------------------
def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.log", b"a" * (8 << 20))  # 8 MB of one byte: over the 200x ratio
    return buf.getvalue()


BAD = {
    "corrupt.pdf": (lambda: b"%PDF-1.7\n" + os.urandom(2000), ExtractionError, "PDF"),
    "truncated.pdf": (lambda: make_pdf([f"x {EMAIL}"])[:300], ExtractionError, "PDF"),
    "locked.pdf": (_encrypted_pdf, EncryptedDocumentError, "encrypted PDF"),
    "renamed.docx": (lambda: _zip({"junk.bin": os.urandom(500), "readme.txt": b"hello"}), FormatMismatchError,
                     "named like a DOCX but it is a ZIP archive without a Word document"),
    "app.log.gz": (lambda: b"2024-01-01 plain text, not gzip\n", FormatMismatchError,
                   "named like a gzip archive"),
    "junk.gz": (lambda: os.urandom(64), FormatMismatchError, "named like a gzip archive"),
    "links.zip": (lambda: _zip({"a.log": b"ok\n"}, symlink="shadow.log"), UnsafeArchiveError, "symbolic link"),
    "escape.zip": (lambda: _zip({"../../etc/cron.d/x.log": b"ok\n"}), UnsafeArchiveError, "'..' path"),
    "absolute.zip": (lambda: _zip({"/etc/passwd": b"root:x:0:0\n"}), UnsafeArchiveError, "absolute"),
    "bomb.zip": (_bomb, ArchiveBombError, "decompression bomb"),
    "logs.tar.gz": (lambda: gzip.compress(b"a.log".ljust(257, b"\0") + b"ustar\x0000" + b"\0" * 700),
                    ExtractionError, "tar archive"),
    "protected.docx": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4000), EncryptedDocumentError,
                       "password-protected Word document"),
    "core.bin": (lambda: b"\x7fELF\x02\x01\x01" + b"\0" * 100, BinaryFileError, "looks binary"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_evidence_is_refused_with_a_typed_error_and_nothing_stored(cli, wb, issue, tmp_path, name):
    make, error, words = BAD[name]
    data = make()
    kept = wb.attachments.upload_log_file_by_content(issue.id, "kept.log", f"before {EMAIL}\n")
    before = _stored(wb, issue)
    with pytest.raises(error, match=words):
        wb.attachments.upload_log_file_by_content(issue.id, name, data)
    assert issubclass(error, FileRefusedError)
    f = tmp_path / name
    f.write_bytes(data)
    r = cli("log", "upload", issue.id, f)
    assert r.code == 1 and r.stdout == "" and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert words.split()[0] in r.stderr
    up = wb.attachments.begin_log_upload(issue.id, name, len(data))
    up.write(0, data)
    with pytest.raises(error):
        up.finish()
    assert _stored(wb, issue) == before
    assert wb.attachments.get_log_file_content(kept.id) == f"before {EMAIL}\n"
    assert wb.db.integrity_check() == []


def test_huge_extracted_text_is_refused(wb, issue):
    # 101 MB of text in a 100 KB gzip: the extraction limit (100 MB) stops it before it is stored
    comp = zlib_gzip(b"x" * (1 << 20), 101)
    before = _stored(wb, issue)
    with pytest.raises(ArchiveBombError, match="expands beyond 100 MB"):
        wb.attachments.upload_log_file_by_content(issue.id, "huge.log.gz", comp)
    assert _stored(wb, issue) == before


def zlib_gzip(block: bytes, times: int) -> bytes:
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(c.compress(block) for _ in range(times)) + c.flush()


def test_owner_password_only_pdf_is_read(wb, issue):
    """A PDF restricted only by an owner password opens with the empty user password."""
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    for page in PdfReader(io.BytesIO(make_pdf([f"restricted {EMAIL}"]))).pages:
        w.add_page(page)
    w.encrypt("", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    w.write(out)
    log = wb.attachments.upload_log_file_by_content(issue.id, "restricted.pdf", out.getvalue())
    assert EMAIL in wb.attachments.get_log_file_content(log.id)


def _pdf_bomb(mb: int = 64, refs: int = 24) -> bytes:
    """A 65 KB PDF whose one page's content is one 64 MB stream (spaces, deflated) listed 24 times:
    reading it asks for 1.5 GB."""
    import zlib

    c = zlib.compressobj(9)
    stream = c.compress(b"BT /F1 11 Tf 72 720 Td (x) Tj ET\n") + b"".join(
        c.compress(b" " * (1 << 20)) for _ in range(mb)) + c.flush()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>"
            b" /Contents [" + b" ".join(b"4 0 R" for _ in range(refs)) + b"] >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    return pdf_bytes(objs)


@pytest.mark.slow
def test_pdf_decompression_bomb_is_refused_without_exhausting_the_kernel(wb, issue):
    import resource

    data = _pdf_bomb()
    assert len(data) < 100_000
    before = _stored(wb, issue)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ArchiveBombError, match="possible decompression bomb"):
        wb.attachments.upload_log_file_by_content(issue.id, "bomb.pdf", data)
    # the reader ran in a child with capped memory: this process did not grow by the 1.5 GB
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200 * 1024
    assert _stored(wb, issue) == before
