"""PII review flow over the database, consistent pseudonyms and the egress guard."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import loghub_logs
from tftsr_kernel import errors
from tftsr_kernel.demo import SAMPLE_LOG
from tftsr_kernel.paths import sample_data_dir

LOG = "user=alice@example.com from 10.1.2.3 password=Tr0ub4dor&3 ok\nagain 10.1.2.3 and bob@example.org\n"


def test_upload_scans_and_review_lists_spans(wb, issue, cli):
    log = wb.attachments.upload_log_file_by_content(issue.id, "app.log", LOG)
    summary = wb.attachments.get_log_file(log.id).pii_summary
    assert summary["by_type"]["Email"] == 2 and summary["by_type"]["IPv4"] == 2
    assert summary["total"] == sum(summary["by_type"].values())
    spans = wb.pii.list_spans(log.id)
    assert {s.pii_type for s in spans} >= {"Email", "IPv4", "Password"}
    assert all(s.status == "pending" for s in spans)
    ips = [s for s in spans if s.pii_type == "IPv4"]
    assert len(ips) == 2 and {s.replacement for s in ips} == {"[IPv4_1]"}
    text = wb.attachments.get_log_file_content(log.id)
    for s in spans:
        assert text[s.start_offset:s.end_offset] == s.original_value
    r = cli("pii", "review", log.id, "--json")
    assert r.code == 0 and r.json["total_found"] == len(spans)


def test_apply_stores_redaction_in_db_and_audits_hashes(wb, issue, cli, tmp_path):
    (tmp_path / "src").mkdir()
    src = tmp_path / "src" / "app.log"
    src.write_text(LOG)
    log = wb.attachments.upload_log_file(issue.id, src)
    spans = wb.pii.list_spans(log.id)
    keep = next(s for s in spans if s.pii_type == "Email" and s.original_value == "bob@example.org")
    approved = [s.id for s in spans if s.id != keep.id]
    r = cli("pii", "apply", log.id, "--spans", ",".join(approved), "--json")
    assert r.code == 0, r.stderr
    redacted = wb.pii.get_redacted_content(log.id)
    assert "alice@example.com" not in redacted and "10.1.2.3" not in redacted and "Tr0ub4dor&3" not in redacted
    assert "bob@example.org" in redacted  # the rejected span stays
    assert wb.attachments.get_log_file(log.id).redacted is True
    assert sorted(p.name for p in src.parent.iterdir()) == ["app.log"]  # nothing written next to the file
    assert {s.status for s in wb.pii.list_spans(log.id) if s.id == keep.id} == {"rejected"}
    entry = wb.audit.get_audit_log(action="apply_redactions")[0]
    assert entry.details["original_sha256"] == hashlib.sha256(LOG.encode()).hexdigest()
    assert entry.details["redacted_sha256"] == hashlib.sha256(redacted.encode()).hexdigest()
    assert "alice" not in json.dumps(entry.details)
    assert cli("log", "cat", log.id, "--redacted").stdout == redacted


def test_rejecting_all_spans_returns_original_exactly(wb, issue):
    data = b"x=1 \xff bad byte from 192.168.0.9\r\nmail root@example.net\r\n"
    log = wb.attachments.upload_log_file_by_content(issue.id, "odd.log", data)
    wb.pii.apply_redactions(log.id, [])
    assert wb.pii.get_redacted_content(log.id).encode("utf-8", "surrogateescape") == data


def test_span_ids_of_another_log_are_refused(wb, issue):
    a = wb.attachments.upload_log_file_by_content(issue.id, "a.log", "ip 10.0.0.1\n")
    b = wb.attachments.upload_log_file_by_content(issue.id, "b.log", "ip 10.0.0.2\n")
    with pytest.raises(errors.ValidationError, match="do not belong"):
        wb.pii.apply_redactions(a.id, [s.id for s in wb.pii.list_spans(b.id)])


def test_same_value_same_placeholder_across_logs_and_chat_but_not_across_issues(wb):
    one = wb.issues.create_issue("one")
    two = wb.issues.create_issue("two")
    a = wb.attachments.upload_log_file_by_content(one.id, "a.log", "first 203.0.113.7 then 198.51.100.1\n")
    b = wb.attachments.upload_log_file_by_content(one.id, "b.log", "only 198.51.100.1 here\n")
    c = wb.attachments.upload_log_file_by_content(two.id, "c.log", "only 198.51.100.1 here\n")
    ph = lambda log: {s.original_value: s.replacement for s in wb.pii.list_spans(log.id)}
    assert ph(a)["198.51.100.1"] == ph(b)["198.51.100.1"] == "[IPv4_2]"
    assert ph(c)["198.51.100.1"] == "[IPv4_1]"
    out = wb.pii.redact_for_egress(one.id, "is 198.51.100.1 talking to 203.0.113.7?")
    assert out.text == "is [IPv4_2] talking to [IPv4_1]?"
    assert out.sha256 == hashlib.sha256(out.text.encode()).hexdigest()
    assert wb.pii.restore_placeholders(one.id, "[IPv4_2] -> [IPv4_1] [IPv4_9]") == "198.51.100.1 -> 203.0.113.7 [IPv4_9]"


def test_egress_log_unreviewed_redacts_everything_reviewed_uses_review(wb, issue):
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", LOG)
    unreviewed = wb.pii.egress_log(issue.id, log.id)
    for secret in ("alice@example.com", "10.1.2.3", "Tr0ub4dor&3", "bob@example.org"):
        assert secret not in unreviewed.text
    keep = [s.id for s in wb.pii.list_spans(log.id) if s.original_value != "bob@example.org"]
    wb.pii.apply_redactions(log.id, keep)
    reviewed = wb.pii.egress_log(issue.id, log.id)
    assert "bob@example.org" in reviewed.text and "alice@example.com" not in reviewed.text
    other = wb.issues.create_issue("other")
    with pytest.raises(errors.ValidationError, match="another issue"):
        wb.pii.egress_log(other.id, log.id)


def test_type_toggles_are_honoured_and_audited(wb, issue, cli):
    r = cli("pii", "types", "--disable", "Email", "--json")
    assert r.code == 0 and {t["type"]: t["enabled"] for t in r.json}["Email"] is False
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", LOG)
    assert "Email" not in {s.pii_type for s in wb.pii.list_spans(log.id)}
    assert "[Email" not in wb.pii.redact_for_egress(issue.id, "alice@example.com").text
    assert wb.audit.get_audit_log(action="update_setting", entity_id="pii_enabled_types")
    wb.pii.set_type_enabled("Email", True)
    assert wb.settings.get("pii_enabled_types") is None


def test_allowlist_and_custom_patterns_from_settings(wb, issue):
    wb.settings.update_settings({"pii_allowlist": ["10.1.2.3"],
                                 "pii_custom_patterns": [{"name": "Ticket", "pattern": r"TCK-\d{6}"}]})
    out = wb.pii.redact_for_egress(issue.id, "host 10.1.2.3 ticket TCK-123456 user alice@example.com")
    assert "10.1.2.3" in out.text and "TCK-123456" not in out.text and "alice@example.com" not in out.text


def test_sample_log_is_fully_redacted(wb, issue):
    log = wb.attachments.upload_log_file(issue.id, sample_data_dir() / SAMPLE_LOG)
    out = wb.pii.egress_log(issue.id, log.id).text
    for secret in ("Wint3r-Is-Coming!", "checkout_svc", "maria.gonzalez@example.com", "4111 1111 1111 1111",
                   "Hunter2-rotate-me", "203.0.113.45", "2001:db8:85a3::8a2e:370:7334", "415-555-0142",
                   "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"):
        assert secret not in out, secret
    assert "db_pool_max=8" in out and "v4.18.0" in out


def test_cli_scan_and_redact_need_no_database(tftsr_proc, tmp_path, data_dir):
    f = tmp_path / "x.log"
    f.write_text(LOG)
    r = tftsr_proc("pii", "scan", f, "--json")
    assert r.code == 0, r.stderr
    doc = r.json
    assert doc["total_found"] == len(doc["spans"]) >= 4
    assert set(doc["spans"][0]) == {"type", "start", "end", "text", "replacement"}
    r = tftsr_proc("pii", "redact", f)
    assert r.code == 0 and "alice@example.com" not in r.stdout and "[Email_1]" in r.stdout
    assert not data_dir.exists(), "scan/redact must not create a database"


@pytest.mark.skipif(not loghub_logs(), reason="loghub corpus not available")
def test_loghub_openssh_and_linux_ipv4_all_redacted(tftsr_proc):
    import re

    rx = re.compile(r"([0-9]{1,3}\.){3}[0-9]{1,3}")
    for path in loghub_logs():
        if path.parent.name not in ("OpenSSH", "Linux"):
            continue
        found = {m.group(0) for m in rx.finditer(path.read_text(errors="replace"))
                 if all(int(o) <= 255 for o in m.group(0).split("."))}
        assert found
        out = tftsr_proc("pii", "redact", path).stdout
        leaked = [ip for ip in found if re.search(rf"(?<![\d.]){re.escape(ip)}(?![\d])", out)]
        assert not leaked, leaked[:5]


def test_cli_redact_large_file_with_scan_helper(tftsr_proc, tmp_path):
    """Files of 8 MB or more get a helper process for the pattern scan (on Linux with two
    CPUs); the output is byte for byte that of ``--workers 1``."""
    line = b"2026-11-24 10:00:01 sshd[42]: Accepted password for bob from 10.0.%d.%d port 22 via gw.example.com\n"
    f = tmp_path / "big.log"
    with open(f, "wb") as fh:
        for i in range(90_000):
            fh.write(line % (i % 250, i % 199))
        fh.write(b"password=hunter2 token: ghp_" + b"a1" * 18 + b"\n")
    assert f.stat().st_size >= 8 << 20
    auto = tftsr_proc("pii", "redact", f, timeout=120)
    one = tftsr_proc("pii", "redact", "--workers", "1", f, timeout=120)
    assert auto.code == 0 and one.code == 0, auto.stderr + one.stderr
    assert auto.stdout_bytes == one.stdout_bytes
    out = auto.stdout
    assert "10.0." not in out and "hunter2" not in out and "gw.example.com" not in out
    assert out.count("\n") == 90_001
    bad = tftsr_proc("pii", "redact", "--workers", "0", f)
    assert bad.code == 2 and "--workers" in bad.stderr


def test_cli_scan_refuses_binary_files(cli, tmp_path):
    f = tmp_path / "core.bin"
    f.write_bytes(b"\x7fELF\x02\x01" + bytes(range(256)) * 20)
    for action in ("scan", "redact"):
        r = cli("pii", action, f)
        assert r.code == 1 and "binary" in r.stderr and r.stdout == ""
