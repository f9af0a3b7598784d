"""Issue 10, second "Done when" line: exports are for sharing, so they are redacted by default.

An RCA of an issue whose title and description hold an e-mail and a password is exported as md,
html and pdf (its text read back with pdftotext): neither value, nor a tail of it, is in the file
or its name. ``unredacted=True`` (``--unredacted``, the panel's checkbox) writes them and is audited.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_egress_paths import leak

EMAIL = "alice.ops@example.com"
PASSWORD = "Vx9-Gq2!Lm7kR"
VALUES = (EMAIL, PASSWORD)


@pytest.fixture
def leaky(wb):
    issue = wb.issues.create_issue(f"Login fails for {EMAIL} (password: {PASSWORD} rotated)",
                                   f"{EMAIL} cannot sign in since the reset; the temporary password={PASSWORD} "
                                   "was sent by mail. pool=8 stays readable.", "high", "identity")
    wb.whys.add_five_why(issue.id, 1, f"Why can {EMAIL} not sign in?", "the LDAP bind account expired")
    return issue


def file_text(path) -> str:
    if path.suffix == ".pdf":
        assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed; .ci/workbench installs it"
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
        return out.stdout.decode("utf-8", "replace")
    text = path.read_text(encoding="utf-8")
    return html.unescape(text) if path.suffix == ".html" else text


def _leaks(text: str) -> list[str]:
    return [f"{v}: {how}" for v in VALUES if (how := leak(v, text))]


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_exported_rca_holds_no_email_or_password_nor_does_its_name(wb, leaky, fmt, tmp_path):
    doc = wb.documents.generate_rca(leaky.id)
    assert EMAIL in doc.content_md  # the stored document is the local, complete one
    path = wb.documents.export_document(doc.id, fmt, tmp_path)
    text = file_text(path)
    assert not _leaks(text), _leaks(text)
    assert not _leaks(path.name) and "alice" not in path.name and "example" not in path.name
    assert path.name.startswith("root-cause-analysis-login-fails-for-email-1-password-password-1")
    flat = " ".join(text.split())
    assert "[Email_1]" in flat and "[Password_1]" in flat and "pool=8 stays readable" in flat
    entry = wb.audit.get_audit_log(action="export_document")[0]
    assert entry.details["redacted"] is True and entry.details["file_name"] == path.name


@pytest.mark.parametrize("fmt", ["md", "pdf"])
def test_unredacted_export_is_explicit_and_audited(wb, leaky, fmt, tmp_path):
    doc = wb.documents.generate_rca(leaky.id)
    path = wb.documents.export_document(doc.id, fmt, tmp_path, unredacted=True)
    text = " ".join(file_text(path).split())
    assert EMAIL in text and PASSWORD in text
    assert "alice" not in path.name  # the file name still comes from the redacted title
    entry = wb.audit.get_audit_log(action="export_unredacted")[0]
    assert entry.entity_id == doc.id and entry.details["redacted"] is False
    assert entry.details["actor"] == entry.user_id and entry.details["file_name"] == path.name
    assert not wb.audit.get_audit_log(action="export_document")
    events = [e for e in wb.timeline.get_timeline_events(leaky.id) if e.event_type == "document_exported"]
    assert events[-1].description.endswith("(unredacted)") and events[-1].metadata["redacted"] is False


def test_the_same_placeholders_as_the_model_sees(wb, leaky, tmp_path):
    chat_ph = wb.pii.guard_outbound(leaky.id, f"mail {EMAIL}").payload
    doc = wb.documents.generate_rca(leaky.id)
    text = wb.documents.export_document(doc.id, "md", tmp_path).read_text(encoding="utf-8")
    assert chat_ph == "mail [Email_1]" and "[Email_1]" in text


def test_documents_panel_exports_redacted_unless_the_box_is_ticked(wb, leaky):
    from widgets.documents import DocumentsPanel

    panel = DocumentsPanel(leaky.id, wb)
    panel.generate("rca")
    assert panel.unredacted is False
    panel._w_export["md"].click()
    first = panel.last_export
    assert first is not None and EMAIL not in first.read_text(encoding="utf-8")
    assert "redacted" in panel.status and "UNREDACTED" not in panel.status
    panel._w_unredacted.value = True
    panel._w_export["md"].click()
    second = panel.last_export
    assert second != first and EMAIL in second.read_text(encoding="utf-8")
    assert "UNREDACTED" in panel.status and "alice" not in second.name
    assert len(wb.audit.get_audit_log(action="export_unredacted")) == 1
    # the static rendering (it ends up in nbconvert reports) is the redacted view
    assert EMAIL not in panel.to_html() and PASSWORD not in panel._repr_markdown_()


def test_cli_doc_export_redacted_by_default_and_unredacted_on_request(cli, wb, leaky, tmp_path):
    doc = wb.documents.generate_rca(leaky.id)
    r = cli("doc", "export", doc.id, "--format", "md", "-o", tmp_path, "--json")
    assert r.code == 0, r.stderr
    path = Path(r.json["path"])
    assert not _leaks(path.read_text(encoding="utf-8")) and r.json["redacted"] is True
    r = cli("doc", "export", doc.id, "--format", "md", "-o", tmp_path, "--unredacted")
    assert r.code == 0 and "unredacted" in r.stdout.lower()
    assert len(wb.audit.get_audit_log(action="export_unredacted")) == 1
    exported = sorted(tmp_path.glob("*.md"))
    assert len(exported) == 2 and sum(EMAIL in p.read_text(encoding="utf-8") for p in exported) == 1
    assert all("alice" not in p.name for p in exported)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_incident_report_is_redacted_and_so_is_its_name(cli, wb, leaky, fmt, tmp_path):
    wb.documents.generate_rca(leaky.id)
    log = wb.attachments.upload_log_file_by_content(leaky.id, f"auth-{EMAIL}.log",
                                                    f"login failed user={EMAIL} password={PASSWORD}\n")
    assert log.file_name
    r = cli("export", leaky.id, "--to", fmt, "-o", tmp_path, "--json")
    assert r.code == 0, r.stderr
    path = Path(r.json["path"])
    text = file_text(path)
    assert not _leaks(text), _leaks(text)
    assert not _leaks(path.name) and "alice" not in path.name
    assert path.name.startswith("incident-report-login-fails-for-email-1")
    flat = " ".join(text.split())
    assert "[Email_1]" in flat and "Root Cause Analysis" in flat
    entry = wb.audit.get_audit_log(action="export_report")[0]
    assert entry.details["redacted"] is True


@pytest.mark.slow
def test_incident_report_unredacted_is_audited(cli, wb, leaky, tmp_path):
    r = cli("export", leaky.id, "--to", "md", "-o", tmp_path, "--unredacted", "--json")
    assert r.code == 0, r.stderr
    path = Path(r.json["path"])
    assert EMAIL in path.read_text(encoding="utf-8") and "alice" not in path.name
    entry = wb.audit.get_audit_log(action="export_report")[0]
    assert entry.details["redacted"] is False and entry.details["actor"] == entry.user_id


def test_report_html_is_redacted_node_by_node(wb, leaky):
    from tftsr_kernel.documents.report import redact_html

    page = (f'<!DOCTYPE html><style>.x{{color:red}}</style><p title="owner {EMAIL}">Mail {EMAIL} &amp; '
            f'&lt;b&gt;</p><script>var a="{EMAIL}"</script><img src="data:image/png;base64,AAAA" alt="x"/>'
            f"<!-- {PASSWORD} --><td>password={PASSWORD}</td>")
    out = redact_html(wb, leaky.id, page)
    assert EMAIL not in out and PASSWORD not in out and "<script" not in out
    assert '<p title="owner [Email_1]">Mail [Email_1] &amp; &lt;b&gt;</p>' in out
    assert "<style>.x{color:red}</style>" in out and "password=[Password_1]" in out
    assert 'src="data:image/png;base64,AAAA"' in out
