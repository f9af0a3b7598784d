"""Audit log (append-only, hash chain, verify), timeline dual-write, settings and secrets."""

from __future__ import annotations

import pytest

from tftsr_kernel import errors
from tftsr_kernel.audit import entry_hash
from tftsr_kernel.secrets import SecretBox


def test_chain_links_every_entry(wb, issue):
    wb.issues.update_issue(issue.id, status="investigating")
    rows = wb.db.query("SELECT * FROM audit_log ORDER BY rowid")
    # create_issue, the status change on the timeline, update_issue
    assert [r["action"] for r in rows] == ["create_issue", "status_change", "update_issue"]
    assert rows[0]["prev_hash"] == "" and rows[1]["prev_hash"] == rows[0]["entry_hash"]
    assert rows[2]["prev_hash"] == rows[1]["entry_hash"]
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
    assert [e.action for e in wb.audit.get_audit_log(entity_id=issue.id)] == ["update_issue", "status_change",
                                                                          "create_issue"]
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
    assert [e["event_type"] for e in r.json["events"]] == ["why_level_advanced"]
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


# --- the keyed chain and the head ---------------------------------------------------------------
def _drop_triggers(conn):
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")


def _recreate_triggers(conn):
    from tftsr_kernel.audit import EXPECTED_TRIGGERS

    for sql in EXPECTED_TRIGGERS.values():
        conn.execute(sql)


def _some_history(wb, issue, n=4):
    for i in range(n):
        wb.issues.update_issue(issue.id, title=f"rev {i}")


@pytest.mark.parametrize("remove", ["last 3", "all"])
def test_truncation_with_triggers_dropped_and_recreated_fails_verify(cli, wb, issue, remove):
    """The Done-when scenario: drop the triggers, delete the last N (or all) entries, recreate them."""
    _some_history(wb, issue)
    before = cli("verify", "--json")
    assert before.code == 0 and before.json["audit_chain"]["entries"] == 5
    with wb.db.write() as conn:
        _drop_triggers(conn)
        if remove == "all":
            conn.execute("DELETE FROM audit_log")
        else:
            conn.execute("DELETE FROM audit_log WHERE rowid IN (SELECT rowid FROM audit_log ORDER BY rowid DESC LIMIT 3)")
        _recreate_triggers(conn)
    r = cli("verify", "--json")
    assert r.code == 1
    assert "truncated" in r.stderr and "5 entries" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "internal error" not in r.stderr
    assert r.json["result"]["ok"] is False


def test_rechaining_with_the_database_key_only_fails_verify(wb, issue):
    """Someone with the DB key edits an entry and recomputes the SHA-256 chain: the MAC gives it away."""
    from tftsr_kernel.audit import entry_hash

    _some_history(wb, issue)
    rows = wb.db.query("SELECT rowid, * FROM audit_log ORDER BY rowid")
    with wb.db.write() as conn:
        _drop_triggers(conn)
        prev = rows[1]["prev_hash"]
        for r in rows[1:]:
            details = '{"fields":["nothing to see"]}' if r["rowid"] == rows[1]["rowid"] else r["details"]
            h = entry_hash(prev, r["id"], r["timestamp"], r["action"], r["entity_type"], r["entity_id"],
                           r["user_id"], details)
            conn.execute("UPDATE audit_log SET details = ?, prev_hash = ?, entry_hash = ? WHERE rowid = ?",
                         (details, prev, h, r["rowid"]))
            prev = h
        _recreate_triggers(conn)
    v = wb.audit.verify()
    assert not v.ok and v.first_bad_id == rows[1]["id"] and "MAC" in v.reason


def test_removing_an_entry_and_renumbering_fails_verify(wb, issue):
    _some_history(wb, issue)
    rows = wb.db.query("SELECT rowid, * FROM audit_log ORDER BY rowid")
    with wb.db.write() as conn:
        _drop_triggers(conn)
        conn.execute("DELETE FROM audit_log WHERE rowid = ?", (rows[2]["rowid"],))
        _recreate_triggers(conn)
    v = wb.audit.verify()
    assert not v.ok and v.first_bad_id == rows[3]["id"]


def test_no_op_or_extra_trigger_fails_verify(wb, issue):
    with wb.db.write() as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT 1; END")
    v = wb.audit.verify()
    assert not v.ok and "audit_log_no_delete" in v.reason and "different SQL" in v.reason
    with wb.db.write() as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        from tftsr_kernel.audit import EXPECTED_TRIGGERS

        conn.execute(EXPECTED_TRIGGERS["audit_log_no_delete"])
    assert wb.audit.verify().ok
    with wb.db.write() as conn:
        conn.execute("CREATE TRIGGER audit_log_sneak AFTER INSERT ON issues BEGIN SELECT 1 FROM audit_log; END")
    v = wb.audit.verify()
    assert not v.ok and "audit_log_sneak" in v.reason


def test_object_without_its_creating_entry_fails_verify(wb, issue, cli):
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", b"one line\n")
    assert wb.audit.verify().ok
    # an issue slipped in with the database key, with no audit entry
    wb.db.execute("INSERT INTO issues(id, title, severity, status, created_at, updated_at, tags)"
                  " VALUES ('planted', 'planted issue', 'low', 'open', 'now', 'now', '[]')")
    v = wb.audit.verify()
    assert not v.ok and "issue planted" in v.reason and "no creating audit entry" in v.reason
    wb.db.execute("DELETE FROM issues WHERE id = 'planted'")
    assert wb.audit.verify().ok
    # the creating entry of a real object is removed (and the chain truncated to hide it)
    r = cli("verify", "--json")
    head = r.json["audit_chain"]["head"]
    assert head.startswith(f"{r.json['audit_chain']['entries']}:")
    with wb.db.write() as conn:
        _drop_triggers(conn)
        conn.execute("DELETE FROM audit_log WHERE action = 'upload_log_file' AND entity_id = ?", (log.id,))
        _recreate_triggers(conn)
    v = wb.audit.verify()
    assert not v.ok and any(f"log_file {log.id}" in p for p in v.problems)


def test_expect_head_detects_a_rewrite_even_with_both_keys(wb, issue, data_dir):
    """Someone with the DB key, the audit key and the head file rewrites history: only a head
    recorded elsewhere catches it."""
    _some_history(wb, issue, 2)
    recorded = wb.audit.verify().head
    wb.issues.update_issue(issue.id, title="after the record")
    v = wb.audit.verify(expect_head=recorded)
    assert v.ok, v.reason  # the chain extends the recorded head
    # an old recorded head does not excuse a truncation the head file shows
    with wb.db.write() as conn:
        _drop_triggers(conn)
        conn.execute("DELETE FROM audit_log WHERE rowid = (SELECT max(rowid) FROM audit_log)")
        _recreate_triggers(conn)
    v = wb.audit.verify(expect_head=recorded)
    assert not v.ok and "truncated" in v.reason
    wb.issues.update_issue(issue.id, title="after the record")  # (the writer cannot repair it:
    assert not wb.audit.verify().ok                                 # its entry has the old number)
    # rebuild the whole log from scratch with both keys (a new chain of the same length)
    saved = wb.db.query("SELECT action, entity_type, entity_id, details FROM audit_log ORDER BY rowid")
    with wb.db.write() as conn:
        _drop_triggers(conn)
        conn.execute("DELETE FROM audit_log")
        _recreate_triggers(conn)
    (data_dir / "audit.head").unlink()
    for r in saved:
        wb.audit.write_audit_event(r["action"], r["entity_type"], r["entity_id"], {"forged": True})
    wb.audit.ensure_head()  # the attacker also writes a fresh, validly signed head file
    assert wb.audit.verify().ok  # nothing on this host can tell
    v = wb.audit.verify(expect_head=recorded)
    assert not v.ok and "rewritten" in v.reason
    # and a recorded head longer than the log is a truncation
    n, mac = recorded.split(":")
    v = wb.audit.verify(expect_head=f"{int(n) + 50}:{mac}")
    assert not v.ok and "truncated" in v.reason
    with pytest.raises(errors.ValidationError, match="not an audit head"):
        wb.audit.verify(expect_head="nonsense")


def test_head_file_missing_forged_or_lagging(wb, issue, data_dir):
    head = data_dir / "audit.head"
    _some_history(wb, issue, 2)
    saved = head.read_bytes()
    wb.issues.update_issue(issue.id, title="one more")
    # an older copy of the head file (a writer that stopped before its update) is tolerated
    head.write_bytes(saved)
    v = wb.audit.verify()
    assert v.ok and any("behind" in n for n in v.notes)
    wb.issues.update_issue(issue.id, title="moves it on")
    assert json_head(head)["entries"] == v.entries + 1
    # a forged head (entries changed, signature kept) is refused
    doc = json_head(head)
    doc["entries"] = 2
    head.write_text(__import__("json").dumps(doc))
    v = wb.audit.verify()
    assert not v.ok and "invalid signature" in v.reason
    # writers never create or repair a head file: deleting it is reported until an operator
    # vouches for the chain with a recorded head
    head.unlink()
    wb.issues.update_issue(issue.id, title="still writing")
    assert not head.exists()
    v = wb.audit.verify()
    assert not v.ok and "missing" in v.reason and "--expect-head" in v.reason
    v = wb.audit.verify(expect_head=v.head if v.head else wb.audit.current_head().__str__())
    assert v.ok and head.exists() and any("rewritten" in n for n in v.notes)
    assert wb.audit.verify().ok


def json_head(path):
    import json

    return json.loads(path.read_text())


def test_audit_key_is_separate_and_can_live_elsewhere(tmp_path, monkeypatch):
    import tftsr_kernel

    keyfile = tmp_path / "elsewhere" / "audit.key"
    keyfile.parent.mkdir()
    monkeypatch.setenv("TFTSR_AUDIT_KEY_FILE", str(keyfile))
    d = tmp_path / "d"
    w = tftsr_kernel.open(d)
    w.issues.create_issue("x")
    assert keyfile.exists() and not (d / "audit.key").exists()
    assert (keyfile.stat().st_mode & 0o777) == 0o600
    assert keyfile.read_text().strip() != (d / "tftsr.key").read_text().strip()
    assert w.audit.verify().ok
    w.close()
    # without the audit key: reading works, writing and verifying say what is missing
    monkeypatch.delenv("TFTSR_AUDIT_KEY_FILE")
    w = tftsr_kernel.open(d)
    assert w.issues.count_issues() == 1
    with pytest.raises(errors.AuditKeyError, match="audit key is missing"):
        w.issues.create_issue("y")
    assert w.issues.count_issues() == 1
    v = w.audit.verify()
    assert not v.ok and "audit key" in v.reason
    w.close()
    # another audit key: every MAC fails
    monkeypatch.setenv("TFTSR_AUDIT_KEY", "a different audit key")
    v = tftsr_kernel.open(d).audit.verify()
    assert not v.ok and "MAC" in v.reason


def test_database_from_before_the_keyed_chain_is_keyed_on_first_open(tmp_path):
    """An existing database (entries made before migration 031, no head file) keeps verifying."""
    import tftsr_kernel
    from tftsr_kernel.db import Database, load_migrations

    d = tmp_path / "old"
    d.mkdir(mode=0o700)
    from tftsr_kernel.storefiles import create_or_read_key_file

    key, _ = create_or_read_key_file(d / "tftsr.key")
    migs = [m for m in load_migrations() if not m.name.endswith("_audit_mac")]
    db = Database(d / "tftsr.db", key, migrations=migs)
    # what the previous version wrote: SHA-256 chain only
    prev = ""
    with db.write() as conn:
        conn.execute("INSERT INTO issues(id, title, severity, status, created_at, updated_at, tags)"
                     " VALUES ('old-1', 'old issue', 'low', 'open', 'now', 'now', '[]')")
        conn.execute("INSERT INTO ai_conversations(id, issue_id, provider, model, created_at) VALUES ('c-old', 'old-1', 'p', 'm', 'now')")
        for i, (action, etype, eid) in enumerate([("create_issue", "issue", "old-1"), ("update_issue", "issue", "old-1")]):
            h = entry_hash(prev, f"e{i}", f"2026-01-01 00:00:0{i}", action, etype, eid, "local", None)
            conn.execute("INSERT INTO audit_log(id, timestamp, action, entity_type, entity_id, user_id, details,"
                         " prev_hash, entry_hash) VALUES (?,?,?,?,?,?,?,?,?)",
                         (f"e{i}", f"2026-01-01 00:00:0{i}", action, etype, eid, "local", None, prev, h))
            prev = h
    db.close()
    w = tftsr_kernel.open(d)
    v = w.audit.verify()
    assert v.ok, v.problems
    assert any("2 entries made before the keyed chain were keyed" in n for n in v.notes)
    acts = [e.action for e in w.audit.get_audit_log(limit=10)][::-1]
    assert acts == ["create_issue", "update_issue", "audit_chain_keyed", "audit_adopt"]  # c-old adopted
    w.issues.create_issue("new")
    assert w.audit.verify().ok
    # removing an old entry is now detected too
    with w.db.write() as conn:
        _drop_triggers(conn)
        conn.execute("DELETE FROM audit_log WHERE id = 'e0'")
        _recreate_triggers(conn)
    assert not w.audit.verify().ok


def test_concurrent_writers_keep_the_head_in_step(tmp_path, wb, data_dir):
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys, tftsr_kernel
        wb = tftsr_kernel.open(sys.argv[1])
        for i in range(40):
            wb.issues.create_issue(f"proc {sys.argv[2]} issue {i}")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(data_dir), str(n)], stderr=subprocess.PIPE)
             for n in range(3)]
    for p in procs:
        assert p.wait(timeout=240) == 0, p.stderr.read().decode()
    v = wb.audit.verify()
    assert v.ok and v.entries == 120 and json_head(data_dir / "audit.head")["entries"] == 120


def test_verify_cli_prints_the_head_and_checks_a_recorded_one(tftsr_proc, data_dir):
    assert tftsr_proc("issue", "create", "--title", "one").code == 0
    r = tftsr_proc("verify")
    assert r.code == 0, r.stderr
    head = next(l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("audit head: "))
    assert head.startswith("1:") and len(head) == 2 + 64
    assert tftsr_proc("issue", "create", "--title", "two").code == 0
    r = tftsr_proc("verify", "--expect-head", head)
    assert r.code == 0 and "matching the recorded head" in r.stdout, r.stderr
    wrong = "1:" + "0" * 64
    r = tftsr_proc("verify", "--expect-head", wrong, "--json")
    assert r.code == 1 and "rewritten" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.json["result"]["audit_head"].startswith("2:")
    r = tftsr_proc("verify", "--expect-head", "9:" + head[2:])
    assert r.code == 1 and "truncated" in r.stderr
    r = tftsr_proc("verify", "--expect-head", "garbage")
    assert r.code == 1 and "not an audit head" in r.stderr and "internal error" not in r.stderr
    r = tftsr_proc("init", "--json")
    assert r.json["audit_key"].startswith("audit key file") and r.json["audit_key"].endswith("audit.key")


def test_verify_cli_fails_on_a_no_op_trigger(tftsr_proc, wb, issue):
    with wb.db.write() as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT 1; END")
    wb.close()
    r = tftsr_proc("verify")
    assert r.code == 1 and "audit_log_no_update" in r.stderr and "different SQL" in r.stderr


def test_every_kind_of_object_needs_its_creating_entry(wb, issue):
    conv = wb.chat.new_conversation(issue.id, "first look")
    wb.timeline.add_timeline_event(issue.id, "triage_started", "began")
    wb.whys.add_five_why(issue.id, 1, "why did it fail?", "pool exhausted")
    assert [e.action for e in wb.audit.get_audit_log(entity_id=conv.id)] == ["new_conversation"]
    v = wb.audit.verify()
    assert v.ok, v.problems
    wb.db.execute("INSERT INTO ai_conversations(id, issue_id, provider, model, created_at) VALUES ('c-x', ?, 'p', 'm', 'now')",
                  (issue.id,))
    wb.db.execute("INSERT INTO timeline_events(id, issue_id, event_type, description, created_at)"
                  " VALUES ('t-x', ?, 'triage_started', 'planted', 'now')", (issue.id,))
    v = wb.audit.verify()
    assert not v.ok and "2 stored object(s)" in v.reason
    assert "ai_conversation c-x" in v.reason and "timeline_event t-x" in v.reason
