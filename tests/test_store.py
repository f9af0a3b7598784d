"""The encrypted store: keys, encryption at rest, migrations, rekey, backup, concurrency."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tftsr_kernel
from tftsr_kernel import errors
from tftsr_kernel.db import Database, load_migrations


def _files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.iterdir() if p.is_file()]


def test_init_makes_encrypted_db_and_private_key_file(cli, data_dir):
    r = cli("init", "--json")
    assert r.code == 0
    doc = r.json
    assert doc["data_dir"] == str(data_dir.resolve())
    db = Path(doc["database"])
    assert db.exists() and not db.read_bytes().startswith(b"SQLite format 3")
    key = data_dir / "tftsr.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_text().strip()) == 64
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert doc["migrations"] == len(load_migrations())


def test_marker_strings_never_reach_disk_in_clear(wb, data_dir):
    marker = "ZQXMARKER7781"
    issue = wb.issues.create_issue(f"title {marker}", f"description {marker}")
    wb.attachments.upload_log_file_by_content(issue.id, "app.log", f"line with {marker}\n" * 50)
    wb.settings.update_settings({"pii_allowlist": [marker], "chat_system_prompt": marker})
    wb.db.query("PRAGMA wal_checkpoint(PASSIVE)")
    files = _files(data_dir)
    assert any(p.name.endswith("-wal") for p in files), "WAL mode expected"
    for path in files:
        blob = path.read_bytes()
        for needle in (marker.encode(), marker.encode("utf-16-le"), b"SQLite format 3"):
            assert needle not in blob, f"{needle!r} found in clear in {path.name}"


def test_wrong_key_every_command_exits_2_and_file_unchanged(tftsr_proc, data_dir):
    assert tftsr_proc("demo").code == 0
    db = data_dir / "tftsr.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    commands = [["init"], ["issue", "list"], ["issue", "show", "x"], ["issue", "create", "--title", "t"],
                ["issue", "search", "pool"], ["log", "list"], ["log", "cat", "x"], ["image", "list"],
                ["timeline", "x"], ["audit"], ["verify"], ["rekey"], ["backup", str(data_dir / "b.db")],
                ["demo"], ["settings", "show"]]
    for argv in commands:
        r = tftsr_proc(*argv, "--json", env={"TFTSR_DB_KEY": "not-the-key"})
        assert r.code == 2, (argv, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "key" in lines[0] and "Traceback" not in r.stderr, (argv, r.stderr)
        assert r.json["error"]["type"] == "WrongKeyError"
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not (data_dir / "b.db").exists()


def test_env_key_is_used_and_key_file_not_created(tmp_path, monkeypatch):
    import secrets

    key = secrets.token_hex(16)
    monkeypatch.setenv("TFTSR_DB_KEY", key)
    d = tmp_path / "envdir"
    wb = tftsr_kernel.open(d)
    wb.issues.create_issue("x")
    wb.close()
    assert not (d / "tftsr.key").exists()
    with pytest.raises(errors.WrongKeyError):
        tftsr_kernel.open(d, key=key + "x")
    assert tftsr_kernel.open(d, key=key).issues.count_issues() == 1


def test_missing_key_file_for_existing_db_is_a_key_error(wb, data_dir):
    wb.close()
    (data_dir / "tftsr.key").unlink()
    with pytest.raises(errors.KeyFileError, match="key file .* is missing"):
        tftsr_kernel.open(data_dir)
    assert not (data_dir / "tftsr.key").exists(), "must not invent a new key for an existing database"


def test_group_readable_key_file_is_refused(wb, data_dir):
    wb.close()
    os.chmod(data_dir / "tftsr.key", 0o644)
    with pytest.raises(errors.KeyFileError, match="chmod 600"):
        tftsr_kernel.open(data_dir)


def test_plain_sqlite_file_is_refused(tmp_path):
    import sqlite3

    d = tmp_path / "plain"
    d.mkdir()
    con = sqlite3.connect(d / "tftsr.db")
    con.execute("create table t(x)")
    con.commit()
    con.close()
    before = (d / "tftsr.db").read_bytes()
    with pytest.raises(errors.NotEncryptedError):
        tftsr_kernel.open(d, key="k")
    assert (d / "tftsr.db").read_bytes() == before


def test_corrupt_file_gives_typed_error(tmp_path):
    d = tmp_path / "corrupt"
    d.mkdir()
    (d / "tftsr.db").write_bytes(os.urandom(8192))
    with pytest.raises(errors.WrongKeyError):
        tftsr_kernel.open(d, key="k")


def test_migrations_are_recorded_in_order(wb):
    names = wb.db.applied_migrations()
    assert names == [m.name for m in load_migrations()]
    assert wb.db.query_one("PRAGMA user_version")[0] == load_migrations()[-1].number
    tables = {r[0] for r in wb.db.query("SELECT name FROM sqlite_master WHERE type IN ('table','view')")}
    for t in ("issues", "log_files", "pii_spans", "ai_conversations", "ai_messages", "resolution_steps",
              "documents", "audit_log", "settings", "issues_fts", "credentials", "integration_config",
              "image_attachments", "timeline_events", "mcp_servers", "mcp_tools", "mcp_resources",
              "v_log_files_with_issue", "v_image_attachments_with_issue", "shell_commands",
              "kubeconfig_files", "command_executions", "approval_decisions", "ai_providers",
              "users", "api_keys", "_migrations"):
        assert t in tables, t
    cols = {r[1] for r in wb.db.query("PRAGMA table_info(log_files)")}
    assert {"content_compressed", "redacted"} <= cols
    assert "image_data" in {r[1] for r in wb.db.query("PRAGMA table_info(image_attachments)")}


def test_newer_database_is_refused_and_not_changed(wb, data_dir):
    wb.db.execute("INSERT INTO _migrations(name, applied_at) VALUES ('999_from_the_future', 'x')")
    wb.db.execute("PRAGMA user_version = 999")
    wb.close()
    db = data_dir / "tftsr.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(errors.SchemaTooNewError, match="newer TFTSR"):
        tftsr_kernel.open(data_dir)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_failed_migration_rolls_back_and_keeps_previous_version(tmp_path):
    good = load_migrations()
    from tftsr_kernel.db import Migration

    bad = Migration(good[-1].number + 1, f"{good[-1].number + 1:03d}_broken",
                    "CREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);\n")
    db = Database(tmp_path / "m.db", "k", migrations=good)
    with pytest.raises(errors.MigrationError, match="broken"):
        db.migrate(good + [bad])
    assert "half_done" not in {r[0] for r in db.query("SELECT name FROM sqlite_master")}
    assert db.query_one("PRAGMA user_version")[0] == good[-1].number
    db.close()


def test_rekey_with_new_key_file_reencrypts_db_and_secrets(wb, data_dir, cli):
    issue = wb.issues.create_issue("survives rekey")
    pid = wb.providers.add_provider("local", "openai", "http://127.0.0.1:1", "m", api_key="sk-test-provider-key").id
    token = wb.db.query_one("SELECT encrypted_api_key FROM ai_providers WHERE id = ?", (pid,))[0]
    old_key = (data_dir / "tftsr.key").read_text().strip()
    r = cli("rekey", "--json")
    assert r.code == 0, r.stderr
    new_key = (data_dir / "tftsr.key").read_text().strip()
    assert new_key != old_key and not (data_dir / "tftsr.key.new").exists()
    wb.close()
    with pytest.raises(errors.WrongKeyError):
        tftsr_kernel.open(data_dir, key=old_key)
    w2 = tftsr_kernel.open(data_dir)
    assert w2 is not wb
    assert w2.issues.get_issue(issue.id).issue.title == "survives rekey"
    stored = w2.db.query_one("SELECT encrypted_api_key FROM ai_providers WHERE id = ?", (pid,))[0]
    assert stored != token
    assert w2.secrets.decrypt(stored, "ai_provider_api_key") == "sk-test-provider-key"
    assert w2.audit.verify().ok


def test_rekey_from_env_and_interrupted_rekey_recovers(tmp_path, monkeypatch):
    import secrets

    d = tmp_path / "envrekey"
    k1, k2 = secrets.token_hex(16), secrets.token_hex(16)
    monkeypatch.setenv("TFTSR_DB_KEY", k1)
    w = tftsr_kernel.open(d)
    w.issues.create_issue("a")
    with pytest.raises(errors.KeyProblemError, match="TFTSR_NEW_DB_KEY"):
        w.rekey()
    monkeypatch.setenv("TFTSR_NEW_DB_KEY", k2)
    assert "TFTSR_NEW_DB_KEY" in w.rekey()
    w.close()
    monkeypatch.setenv("TFTSR_DB_KEY", k2)
    assert tftsr_kernel.open(d).issues.count_issues() == 1



def test_rekey_interrupted_after_the_rename_is_finished_on_next_open(tmp_path):
    """The database was swapped but the key file not yet replaced: the new key is in tftsr.key.new."""
    from tftsr_kernel.db import write_key_file

    d = tmp_path / "interrupted"
    w = tftsr_kernel.open(d)
    w.issues.create_issue("b")
    k3 = os.urandom(32).hex()
    # everything but the final key-file replacement: the real rekey with its last step left out
    w.db.rekey(k3, before_swap=lambda: write_key_file(d / "tftsr.key.new", k3))
    w.close()
    w = tftsr_kernel.open(d)
    assert w.issues.count_issues() == 1
    assert (d / "tftsr.key").read_text().strip() == k3 and not (d / "tftsr.key.new").exists()


def test_rekey_interrupted_before_the_rename_keeps_the_old_database(wb, data_dir):
    """A crash during the export leaves a temp file and tftsr.key.new; the old key still opens it."""
    from tftsr_kernel.db import write_key_file

    wb.issues.create_issue("kept")
    old = (data_dir / "tftsr.key").read_text().strip()

    def crash():
        write_key_file(data_dir / "tftsr.key.new", os.urandom(32).hex())
        (data_dir / "tftsr.db.rekey-tmp").write_bytes(b"half a copy")
        (data_dir / "tftsr.db.rekey-tmp-journal").write_bytes(b"x")
        raise KeyboardInterrupt  # stands for the process dying here

    with pytest.raises(KeyboardInterrupt):
        wb.db.rekey(os.urandom(32).hex(), before_swap=crash)
    # a failure cleans up after itself ...
    assert sorted(p.name for p in data_dir.iterdir() if "rekey" in p.name) == []
    # ... and so does the next open after a real crash
    write_key_file(data_dir / "tftsr.key.new", os.urandom(32).hex())
    (data_dir / "tftsr.db.rekey-tmp").write_bytes(b"half a copy")
    wb.close()
    w = tftsr_kernel.open(data_dir)
    assert w.issues.count_issues() == 1
    assert (data_dir / "tftsr.key").read_text().strip() == old
    assert not [p.name for p in data_dir.iterdir() if "rekey" in p.name or p.name.endswith(".new")]
    assert w.audit.verify().ok


def test_backup_is_encrypted_and_complete(wb, data_dir, cli, tmp_path):
    issue = wb.issues.create_issue("backup me", "unique wordzebra here")
    wb.issues.delete_issue(wb.issues.create_issue("gap maker").id)  # leaves a rowid gap
    wb.issues.create_issue("after the gap", "another wordquokka")
    wb.attachments.upload_log_file_by_content(issue.id, "a.log", b"hello\r\nworld")
    dest = tmp_path / "backup.db"
    r = cli("backup", str(dest), "--json")
    assert r.code == 0, r.stderr
    assert Path(r.json["backup"]) == dest
    assert not dest.read_bytes().startswith(b"SQLite format 3")
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    key = (data_dir / "tftsr.key").read_text().strip()
    bdir = tmp_path / "restored"
    bdir.mkdir()
    os.replace(dest, bdir / "tftsr.db")
    restored = tftsr_kernel.open(bdir, key=key)
    assert restored.issues.count_issues() == 2
    assert [i.title for i in restored.issues.search_issues("wordquokka")] == ["after the gap"]
    assert [i.title for i in restored.issues.search_issues("wordzebra")] == ["backup me"]
    assert restored.db.integrity_check() == []
    log = restored.issues.get_issue(issue.id).log_files[0]
    assert restored.attachments.get_log_file_bytes(log.id) == b"hello\r\nworld"
    assert cli("backup", str(bdir / "tftsr.db")).code == 1  # never overwrites
    r = cli("backup", str(tmp_path / "no-such-dir" / "b.db"))
    assert r.code == 1 and "does not exist" in r.stderr and "internal error" not in r.stderr


def test_one_key_derivation_per_process(data_dir):
    a = tftsr_kernel.open(data_dir)
    b = tftsr_kernel.open(data_dir)
    assert a is b and a.db.conn is b.db.conn
    a.rekey()
    assert tftsr_kernel.open(data_dir) is a  # still one connection after a rekey


def test_four_processes_creating_250_issues_each(tmp_path, wb, data_dir):
    script = textwrap.dedent("""
        import sys, tftsr_kernel
        wb = tftsr_kernel.open(sys.argv[1])
        for i in range(250):
            wb.issues.create_issue(f"proc {sys.argv[2]} issue {i}", "concurrent write")
        print("ok")
    """)
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(data_dir), str(n)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(4)]
    results = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err.decode()
        assert out.strip() == b"ok"
    assert wb.issues.count_issues() == 1000
    assert wb.audit.verify().ok
    assert len(wb.issues.search_issues("concurrent", limit=1000)) == 1000


# --- first use by several processes at once ------------------------------------------------------
@pytest.mark.slow
def test_six_processes_first_use_at_once_lose_nothing(tmp_path):
    """12 rounds: six real `tftsr` processes start together on a fresh data directory (key-file
    mode), each creating an issue. Every write must be there and the database must open.
    On the code before the fix (183325a^) 3 of 12 rounds lost the database (2026-12-01), so 12
    rounds catch that race about 97 % of the time (1 - 0.75^12)."""
    exe = Path(sys.executable).with_name("tftsr")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tftsr_kernel.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TFTSR_")}
    for rnd in range(12):
        d = tmp_path / f"round{rnd}"
        procs = [subprocess.Popen(cmd + ["--data-dir", str(d), "issue", "create", "--title", f"r{rnd} p{n}", "--json"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(6)]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, (rnd, err.decode())
        w = tftsr_kernel.open(d)
        titles = sorted(i.title for i in w.issues.list_issues(limit=100))
        assert titles == sorted(f"r{rnd} p{n}" for n in range(6)), rnd
        v = w.audit.verify()
        assert v.ok and v.entries == 6, (rnd, v.problems)
        assert not [p.name for p in d.iterdir() if ".tmp" in p.name]
        w.close()


def test_key_file_is_never_overwritten(tmp_path):
    from tftsr_kernel.storefiles import create_or_read_key_file

    path = tmp_path / "k.key"
    first, made = create_or_read_key_file(path)
    second, made_again = create_or_read_key_file(path)
    assert made and not made_again and first == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["k.key"]  # no temp file left


# --- rekey at size -------------------------------------------------------------------------------
@pytest.mark.slow
def test_rekey_of_a_200_mb_database_works_and_leaves_nothing_behind(wb, data_dir, cli):
    from tftsr_kernel._util import utc_now, uuid7

    issue = wb.issues.create_issue("big one")
    log = wb.attachments.upload_log_file_by_content(issue.id, "real.log", b"keep me\n" * 1000)
    pid = wb.providers.add_provider("p", "openai", "http://127.0.0.1:1", "m", api_key="sk-kept-secret").id
    chunk = 8 * 1024 * 1024
    for _ in range(25):  # 200 MB of incompressible rows, each with its creating audit entry
        lid = uuid7()
        with wb.db.write() as conn:
            conn.execute("INSERT INTO log_files(id, issue_id, file_name, file_path, file_size, mime_type,"
                         " content_hash, uploaded_at, content_compressed) VALUES (?,?,?,?,?,?,?,?,randomblob(?))",
                         (lid, issue.id, "bulk.log", "", chunk, "text/plain", "", utc_now(), chunk))
            wb.audit.write_audit_event("upload_log_file", "log_file", lid, {"issue_id": issue.id})
    wb.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
    assert (data_dir / "tftsr.db").stat().st_size > 200 * 1024 * 1024
    before = sorted(p.name for p in data_dir.iterdir())
    old_key = (data_dir / "tftsr.key").read_text().strip()
    r = cli("rekey", "--json")
    assert r.code == 0, r.stderr
    assert sorted(p.name for p in data_dir.iterdir() if not p.name.startswith("tftsr.db-")) == \
        sorted(n for n in before if not n.startswith("tftsr.db-"))  # no temp files, no tftsr.key.new
    assert (data_dir / "tftsr.key").read_text().strip() != old_key
    wb.close()
    w = tftsr_kernel.open(data_dir)
    assert w.db.query_one("SELECT count(*) FROM log_files")[0] == 26
    assert w.attachments.get_log_file_bytes(log.id) == b"keep me\n" * 1000
    enc = w.db.query_one("SELECT encrypted_api_key FROM ai_providers WHERE id = ?", (pid,))[0]
    assert w.secrets.decrypt(enc, "ai_provider_api_key") == "sk-kept-secret"
    assert [i.title for i in w.issues.search_issues("big")] == ["big one"]
    problems, chain = w.verify()
    assert problems == [] and chain.ok, (problems, chain.problems)
    assert w.audit.get_audit_log(limit=1)[0].action == "rekey"


def test_rekey_is_refused_while_another_process_has_the_database_open(wb, data_dir):
    script = "import sys, time, tftsr_kernel; tftsr_kernel.open(sys.argv[1]); print('open', flush=True); time.sleep(30)"
    p = subprocess.Popen([sys.executable, "-c", script, str(data_dir)], stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline().strip() == b"open"
        key = (data_dir / "tftsr.key").read_text()
        with pytest.raises(errors.DatabaseBusyError, match="open in another process"):
            wb.rekey()
        assert (data_dir / "tftsr.key").read_text() == key
        assert not [x.name for x in data_dir.iterdir() if "rekey" in x.name or x.name.endswith(".new")]
        wb.issues.create_issue("still works")
    finally:
        p.kill()
        p.wait()
    wb.rekey()  # and works once it is gone
    assert wb.issues.count_issues() == 1


# --- damage --------------------------------------------------------------------------------------
def _pages(path: Path) -> int:
    return path.stat().st_size // 4096


def test_damaged_page_is_a_verify_finding_with_its_number(wb, data_dir, cli, tftsr_proc):
    issue = wb.issues.create_issue("damage")
    db = data_dir / "tftsr.db"
    wb.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
    p0 = _pages(db)
    log = wb.attachments.upload_log_file_by_content(issue.id, "noise.log",
                                                    "\n".join(os.urandom(30).hex() for _ in range(8000)).encode())
    wb.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
    p1 = _pages(db)
    assert p1 - p0 > 20
    wb.close()
    page = p0 + (p1 - p0) // 2  # inside the log's content
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * 4096 + 1000)
        fh.write(b"\x00" * 32)
    r = tftsr_proc("verify", "--json")
    assert r.code == 1, r.stderr
    assert f"page {page} is damaged" in r.stderr and "internal error" not in r.stderr
    assert any(f"page {page}" in p for p in r.json["result"]["integrity"])
    r = tftsr_proc("log", "cat", log.id)
    assert r.code == 1 and "damaged" in r.stderr and "internal error" not in r.stderr
    assert tftsr_proc("issue", "list").code == 0  # the rest still reads


def test_damaged_schema_page_and_truncated_file_are_typed_errors(wb, data_dir, tftsr_proc):
    wb.issues.create_issue("x")
    wb.close()
    db = data_dir / "tftsr.db"
    good = db.read_bytes()
    with open(db, "r+b") as fh:  # page 1 holds the schema and the salt's neighbours
        fh.seek(2000)
        fh.write(b"\xff" * 16)
    r = tftsr_proc("verify")
    assert r.code == 1 and "page 1" in r.stderr and "damaged" in r.stderr and "internal error" not in r.stderr
    db.write_bytes(good[: len(good) // 2 + 100])
    r = tftsr_proc("issue", "list", "--json")
    assert r.code != 0 and "internal error" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.json["error"]["type"] in ("DatabaseCorruptError", "WrongKeyError")
    assert "truncated" in r.stderr or "damaged" in r.stderr


def test_failed_rekey_changes_nothing_and_leaves_no_files(wb, data_dir, cli):
    wb.issues.create_issue("before")
    pid = wb.providers.add_provider("p", "openai", "http://127.0.0.1:1", "m", api_key="sk-one").id
    # a secret that no longer decrypts (written under another key): the re-encryption fails
    from tftsr_kernel.secrets import SecretBox

    bad = SecretBox("some other key").encrypt("x", "ai_provider_api_key")
    with wb.db.write() as conn:
        conn.execute("UPDATE ai_providers SET encrypted_api_key = ? WHERE id = ?", (bad, pid))
    names = sorted(p.name for p in data_dir.iterdir())
    key = (data_dir / "tftsr.key").read_text()
    r = cli("rekey", "--json")
    assert r.code == 1 and r.json["error"]["type"] == "SecretError" and "internal error" not in r.stderr
    assert sorted(p.name for p in data_dir.iterdir()) == names
    assert (data_dir / "tftsr.key").read_text() == key
    assert wb.issues.count_issues() == 1 and wb.audit.verify().ok
    wb.close()
    assert tftsr_kernel.open(data_dir).issues.count_issues() == 1


def test_a_missing_migration_file_is_refused(tmp_path):
    import shutil

    from tftsr_kernel import paths

    src = paths.migrations_dir()
    shutil.copytree(src, tmp_path / "m")
    assert [m.name for m in load_migrations(tmp_path / "m")] == [m.name for m in load_migrations()]
    next(p for p in (tmp_path / "m").iterdir() if p.name.startswith("010_")).unlink()
    with pytest.raises(errors.MigrationError, match="missing or not numbered"):
        load_migrations(tmp_path / "m")
