"""Audit log (append-only, hash chain, verify), timeline dual-write, settings and secrets."""

from __future__ import annotations

import pytest

from tftsr_kernel import errors
from tftsr_kernel.audit import entry_hash
from tftsr_kernel.secrets import SecretBox


def test_chain_links_every_entry(wb, issue):
    wb.issues.update_issue(issue.id, status="investigating")
    rows = wb.db.query("SELECT * FROM audit_log ORDER BY rowid")
    assert len(rows) == 2
    assert rows[0]["prev_hash"] == "" and rows[1]["prev_hash"] == rows[0]["entry_hash"]
    for r in rows:
        assert r["entry_hash"] == entry_hash(r["prev_hash"], r["id"], r["timestamp"], r["action"],
                                             r["entity_type"], r["entity_id"], r["user_id"], r["details"])


def test_audit_log_is_append_only(wb, issue):
    from sqlcipher3 import dbapi2

    with pytest.raises(dbapi2.IntegrityError, match="append-only"):
        wb.db.execute("UPDATE audit_log SET details = '{}'")
    with pytest.raises(dbapi2.IntegrityError, match="append-only"):
        wb.db.execute("DELETE FROM audit_log")
    assert wb.audit.verify().ok


def test_verify_passes_fresh_and_fails_naming_tampered_entry(cli, wb, issue):
    wb.issues.update_issue(issue.id, title="second")
    wb.issues.update_issue(issue.id, title="third")
    r = cli("verify", "--json")
    assert r.code == 0 and r.json["ok"] is True and r.json["audit_chain"]["entries"] == 3
    target = wb.db.query("SELECT id FROM audit_log ORDER BY rowid")[1]["id"]
    with wb.db.write() as conn:  # an attacker with the key drops the guard, edits, and restores it
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET details = '{\"fields\":[\"nothing\"]}' WHERE id = ?", (target,))
        conn.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN "
                     "SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed'); END")
    r = cli("verify", "--json")
    assert r.code == 1
    assert target in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.json["result"]["audit_chain"]["first_bad_id"] == target


def test_verify_detects_removed_entry_and_missing_trigger(wb, issue):
    wb.issues.update_issue(issue.id, title="two")
    wb.issues.update_issue(issue.id, title="three")
    rows = wb.db.query("SELECT id FROM audit_log ORDER BY rowid")
    with wb.db.write() as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log WHERE id = ?", (rows[1]["id"],))
    v = wb.audit.verify()
    assert not v.ok and v.first_bad_id == rows[2]["id"] and "removed" in v.reason


def test_audit_query_filters(wb, issue):
    other = wb.issues.create_issue("other")
    wb.issues.update_issue(issue.id, status="investigating")
    assert {e.entity_id for e in wb.audit.get_audit_log(action="create_issue")} == {issue.id, other.id}
    assert [e.action for e in wb.audit.get_audit_log(entity_id=issue.id)] == ["update_issue", "create_issue"]
    assert len(wb.audit.get_audit_log(limit=1)) == 1
    assert wb.audit.get_audit_log(entity_type="document") == []


def test_timeline_add_get_dual_write(wb, issue, cli):
    ev = wb.timeline.add_timeline_event(issue.id, "why_level_advanced", "Why 1 answered",
                                        {"from_level": 1, "to_level": 2})
    got = wb.timeline.get_timeline_events(issue.id)
    assert [e.id for e in got] == [ev.id] and got[0].metadata == {"from_level": 1, "to_level": 2}
    audit = wb.audit.get_audit_log(action="why_level_advanced")
    assert audit[0].entity_id == issue.id and audit[0].details["timeline_event_id"] == ev.id
    with pytest.raises(errors.ValidationError, match="unknown timeline event type"):
        wb.timeline.add_timeline_event(issue.id, "coffee_break", "x")
    with pytest.raises(errors.ValidationError, match="10 KB"):
        wb.timeline.add_timeline_event(issue.id, "triage_started", "x", {"blob": "x" * 20000})
    with pytest.raises(errors.NotFoundError):
        wb.timeline.add_timeline_event("missing", "triage_started", "x")
    r = cli("timeline", issue.id, "--json")
    assert [e["event_type"] for e in r.json] == ["why_level_advanced"]
    r = cli("timeline", issue.id, "--add", "triage_started", "--description", "began", "--metadata", '{"severity":"high"}', "--json")
    assert r.code == 0 and r.json["metadata"] == {"severity": "high"}
    assert list(wb.timeline.timeline_frame(issue.id)["event_type"]) == ["why_level_advanced", "triage_started"]


def test_settings_defaults_update_validation_and_audit(wb, cli):
    s = wb.settings.get_settings()
    assert s["ollama_url"] == "http://localhost:11434" and s["pii_enabled_types"] is None
    s = wb.settings.update_settings({"ollama_url": "http://10.0.0.5:11434/", "pii_allowlist": ["10.0.0.5"]})
    assert s["ollama_url"] == "http://10.0.0.5:11434" and s["pii_allowlist"] == ["10.0.0.5"]
    entries = wb.audit.get_audit_log(action="update_setting")
    assert {e.entity_id for e in entries} == {"ollama_url", "pii_allowlist"}
    assert all("10.0.0.5" not in str(e.details) for e in entries)  # hashes, not values
    with pytest.raises(errors.ValidationError, match="unknown setting"):
        wb.settings.update_settings({"nope": 1})
    with pytest.raises(errors.ValidationError, match="regular expression"):
        wb.settings.update_settings({"pii_custom_patterns": [{"name": "bad", "pattern": "("}]})
    r = cli("settings", "set", "analysis_max_chars", "1234", "--json")
    assert r.code == 0 and r.json["analysis_max_chars"] == 1234
    assert cli("settings", "show", "--json").json["analysis_max_chars"] == 1234
    assert cli("settings", "set", "analysis_max_chars", "-5").code == 1


def test_secret_box_round_trip_format_and_purpose_binding(wb):
    import base64

    box = wb.secrets
    token = box.encrypt("glpat-abcdefghijklmnop", "integration_token")
    raw = base64.b64decode(token)
    assert len(raw) == 12 + len("glpat-abcdefghijklmnop") + 16
    assert box.encrypt("same", "mcp_auth") != box.encrypt("same", "mcp_auth")  # random nonce
    assert box.decrypt(token, "integration_token") == "glpat-abcdefghijklmnop"
    with pytest.raises(errors.SecretError):
        box.decrypt(token, "mcp_auth")
    with pytest.raises(errors.SecretError):
        SecretBox("another database key").decrypt(token, "integration_token")
    tampered = base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()
    with pytest.raises(errors.SecretError, match="cannot be decrypted"):
        box.decrypt(tampered, "integration_token")
    assert "glpat" not in repr(box)
