"""``tftsr user ...`` and ``tftsr apikey ...`` as a user runs them."""

from __future__ import annotations

import pytest

PW = "correct horse battery"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    for name in ("TFTSR_SESSION_TOKEN", "TFTSR_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TFTSR_PASSWORD", PW)


@pytest.fixture
def users(cli):
    assert cli("user", "add", "ada", "--role", "admin", "--email", "ada@example.org").code == 0
    assert cli("user", "add", "ana", "--role", "analyst").code == 0
    assert cli("user", "add", "vic", "--role", "viewer", "--no-password").code == 0


def test_user_add_list_show(cli, users):
    r = cli("user", "list", "--json")
    assert r.code == 0
    rows = {u["username"]: u for u in r.json}
    assert {n: u["role"] for n, u in rows.items()} == {"ada": "admin", "ana": "analyst", "vic": "viewer"}
    assert rows["ada"]["email"] == "ada@example.org" and rows["ada"]["has_password"] is True
    assert rows["vic"]["has_password"] is False
    assert "password_hash" not in rows["ada"] and "argon2" not in r.stdout
    r = cli("user", "list")
    assert "ana" in r.stdout and "analyst" in r.stdout and "enabled" in r.stdout
    assert cli("user", "show", "ana", "--json").json["role"] == "analyst"


def test_password_never_from_an_argument(cli, monkeypatch):
    r = cli("user", "add", "ada", "--role", "admin", "--password", PW)
    assert r.code == 2 and "unrecognized arguments" in r.stderr
    monkeypatch.delenv("TFTSR_PASSWORD")
    r = cli("user", "add", "ada", "--role", "admin")  # stdin is not a terminal here
    assert r.code == 2 and "set TFTSR_PASSWORD" in r.stderr
    assert cli("user", "add", "ada", "--role", "admin", "--no-password").code == 0


def test_first_user_must_be_admin(cli):
    r = cli("user", "add", "vic", "--role", "viewer")
    assert r.code == 1 and "first user must be an admin" in r.stderr
    r = cli("user", "add", "vic", "--role", "boss")
    assert r.code == 2 and "invalid choice" in r.stderr


def test_disable_enable_role_passwd(cli, users, wb, monkeypatch):
    assert cli("user", "disable", "ana").code == 0
    assert cli("user", "show", "ana", "--json").json["enabled"] is False
    assert cli("user", "enable", "ana").code == 0
    r = cli("user", "role", "ana", "viewer", "--json")
    assert r.code == 0 and r.json["role"] == "viewer"
    monkeypatch.setenv("TFTSR_PASSWORD", "a brand new passphrase")
    assert cli("user", "passwd", "ana").code == 0
    assert wb.team.check_password("ana", "a brand new passphrase").name == "ana"
    r = cli("user", "disable", "ada")
    assert r.code == 1 and "last enabled admin" in r.stderr
    r = cli("user", "passwd", "nobody-here")
    assert r.code == 1 and "no user" in r.stderr


def test_apikey_create_json_list_revoke(cli, users, wb):
    r = cli("apikey", "create", "alertmanager", "--scope", "alerts:write,issues:read", "--expires", "90d",
            "--user", "ana", "--json")
    assert r.code == 0, r.stderr
    k = r.json
    assert set(k) == {"id", "name", "prefix", "key", "scopes", "expires_at"}
    assert k["key"].startswith(k["prefix"]) and k["prefix"].startswith("tftsr_") and len(k["prefix"]) == 14
    assert k["scopes"] == ["alerts:write", "issues:read"] and k["expires_at"]
    assert wb.team.authenticate_api_key(k["key"]).name == "ana"
    r = cli("apikey", "list", "--all", "--json")
    assert [x["id"] for x in r.json] == [k["id"]] and "key" not in r.json[0] and k["key"] not in r.stdout
    text = cli("apikey", "create", "ci", "--scope", "issues:read", "--user", "vic").stdout
    assert "only time the key is shown" in text and "tftsr_" in text
    r = cli("apikey", "revoke", k["id"], "--json")
    assert r.code == 0 and r.json["state"] == "revoked"
    r = cli("apikey", "create", "x", "--scope", "issues:write", "--user", "vic")
    assert r.code == 1 and "viewer role, which does not cover" in r.stderr
    r = cli("apikey", "create", "x", "--scope", "everything", "--user", "vic")
    assert r.code == 1 and "unknown scope" in r.stderr
    r = cli("apikey", "create", "x", "--scope", "issues:read", "--expires", "tomorrow", "--user", "vic")
    assert r.code == 1 and "cannot read the duration" in r.stderr
    assert cli("apikey", "revoke", "no-such-key").code == 1


def test_viewer_cannot_manage_users_through_the_cli(cli, users, wb, monkeypatch):
    key = wb.team.create_api_key("vic-cli", ["issues:read"], user="vic").key
    monkeypatch.setenv("TFTSR_API_KEY", key)
    from tftsr_kernel.workbench import close_all

    close_all()  # a new process would start fresh: the key in the environment proves who acts
    r = cli("user", "list")
    assert r.code == 1 and "needs the admin role" in r.stderr
    r = cli("user", "role", "vic", "admin")
    assert r.code == 1 and "needs the admin role" in r.stderr
    r = cli("apikey", "create", "more", "--scope", "issues:read")
    assert r.code == 1 and "cannot create API keys" in r.stderr
    r = cli("apikey", "list", "--json")
    assert r.code == 0 and [x["name"] for x in r.json] == ["vic-cli"]


def test_real_console_script(tftsr_proc, tmp_path):
    env = {"TFTSR_DATA_DIR": str(tmp_path / "d"), "TFTSR_PASSWORD": PW}
    r = tftsr_proc("user", "add", "ada", "--role", "admin", env=env)
    assert r.code == 0, r.stderr
    r = tftsr_proc("apikey", "create", "k", "--scope", "issues:read", "--json", env=env)
    assert r.code == 0 and r.json["key"].startswith("tftsr_")


def test_hub_write_config(cli, users, data_dir):
    pytest.importorskip("jupyterhub")
    r = cli("hub", "--write-config", "--port", "8123", "--json")
    assert r.code == 0, r.stderr
    path = data_dir / "hub" / "jupyterhub_config.py"
    assert r.json["config"] == str(path.resolve()) and r.json["url"] == "http://127.0.0.1:8123/hub/login"
    text = path.read_text()
    assert "configure(c, data_dir=" in text and "port=8123" in text and "hub_port=8124" in text
    # the written file is a working JupyterHub config: load it the way jupyterhub does
    from traitlets.config import Config

    c = Config()
    exec(compile(text, str(path), "exec"), {"c": c, "get_config": lambda: c})
    from tftsr_kernel.team.hub import TftsrAuthenticator, TftsrSpawner

    assert c.JupyterHub.authenticator_class is TftsrAuthenticator and c.JupyterHub.spawner_class is TftsrSpawner
    assert c.Spawner.default_url == "/voila/render/dashboard.ipynb" and c.JupyterHub.port == 8123


def test_hub_needs_users(cli):
    r = cli("hub", "--write-config")
    assert r.code == 1 and "there are none yet" in r.stderr


def _key(wb, user, name, scopes=("issues:read",)):
    from tftsr_kernel.team import acting_as

    with acting_as(wb.team.actor_for("ada", "session")):
        return wb.team.create_api_key(name, list(scopes), user=user).key


def test_global_as_proven_by_password_or_key(cli, users, wb, monkeypatch):
    monkeypatch.delenv("TFTSR_PASSWORD")
    r = cli("--as", "ana", "issue", "list")  # no terminal here: nothing to prove it with
    assert r.code == 2 and "needs that user's password" in r.stderr
    monkeypatch.setenv("TFTSR_PASSWORD", PW)
    r = cli("--as", "vic", "issue", "list")  # vic has no password
    assert r.code == 2 and "wrong user name or password" in r.stderr
    r = cli("--as", "ana", "issue", "create", "--title", "Disk full", "--json")
    assert r.code == 0, r.stderr
    issue_id = r.json["id"]
    monkeypatch.setenv("TFTSR_PASSWORD", "wrong password!!")
    r = cli("--as", "ana", "issue", "list")
    assert r.code == 2 and "wrong user name or password" in r.stderr
    monkeypatch.delenv("TFTSR_PASSWORD")
    monkeypatch.setenv("TFTSR_API_KEY", _key(wb, "vic", "vic-cli"))
    r = cli("--as", "vic", "issue", "list", "--json")
    assert r.code == 0 and [i["id"] for i in r.json] == [issue_id]
    r = cli("--as", "vic", "issue", "update", issue_id, "--status", "resolved")
    assert r.code == 1 and "vic has the viewer role" in r.stderr and "needs the analyst role" in r.stderr
    r = cli("--as", "ana", "issue", "list")
    assert r.code == 2 and "TFTSR_API_KEY belongs to vic" in r.stderr


def test_viewer_cannot_read_an_original_log_through_the_cli(cli, users, wb, monkeypatch, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text("login failed for jane.doe@example.org from 10.1.2.3\n" * 5)
    r = cli("--as", "ana", "issue", "create", "--title", "Login failures", "--json")
    issue_id = r.json["id"]
    r = cli("--as", "ana", "log", "upload", issue_id, str(log), "--json")
    assert r.code == 0, r.stderr
    log_id = r.json["id"]
    r = cli("--as", "ana", "log", "cat", log_id)
    assert r.code == 0 and b"jane.doe@example.org" in r.stdout_bytes
    assert cli("--as", "ana", "pii", "apply", log_id, "--all").code == 0
    monkeypatch.setenv("TFTSR_API_KEY", _key(wb, "vic", "v"))
    r = cli("--as", "vic", "log", "cat", log_id)
    assert r.code == 1 and "needs the analyst role" in r.stderr and b"jane" not in r.stdout_bytes
    r = cli("--as", "vic", "log", "cat", log_id, "--redacted")
    assert r.code == 0 and b"jane.doe@example.org" not in r.stdout_bytes and r.stdout_bytes
    r = cli("--as", "vic", "log", "delete", log_id)
    assert r.code == 1 and "needs the analyst role" in r.stderr


def test_audit_actor_filter(cli, users, monkeypatch):
    r = cli("--as", "ana", "issue", "create", "--title", "From ana", "--json")
    issue_id = r.json["id"]
    r = cli("audit", "--actor", "ana", "--json")  # as the OS user's project user: ada, an admin
    assert r.code == 0, r.stderr
    assert r.json and {e["user_id"] for e in r.json} == {"ana"}
    assert any(e["action"] == "create_issue" and e["entity_id"] == issue_id for e in r.json)
    assert cli("audit", "--actor", "vic", "--json").json == []
    text = cli("audit", "--actor", "ana").stdout
    assert "ana" in text and "create_issue" in text
    r = cli("--as", "ana", "timeline", issue_id, "--add", "triage_started", "--description", "paged", "--json")
    assert r.code == 0, r.stderr
    assert cli("timeline", issue_id, "--json").json["events"][-1]["actor"] == "ana"


def test_export_is_refused_to_a_viewer_before_anything_is_written(cli, users, wb, tmp_path):
    assert cli("user", "add", "val", "--role", "viewer").code == 0
    issue = wb.issues.create_issue("Payments down", "card declines for jane@example.org", "high")
    out = tmp_path / "reports"
    for extra in ([], ["--unredacted"]):
        r = cli("--as", "val", "export", issue.id, "--to", "md", "-o", str(out), *extra)
        assert r.code != 0 and "val has the viewer role" in r.stderr and "analyst role" in r.stderr, r.stderr
        assert not out.exists()  # refused before the folder was made or the notebook ran
    r = cli("--as", "ana", "export", issue.id, "--to", "md", "-o", str(out), "--json")
    assert r.code == 0, r.stderr
    text = (out / r.json["path"].rsplit("/", 1)[-1]).read_text()
    assert "Payments down" in text and "jane@example.org" not in text
    # the notebook's kernel acted as ana through a session of this run only, ended afterwards
    rows = wb.db.query("SELECT s.revoked_at FROM sessions s JOIN users u ON u.id = s.user_id"
                       " WHERE u.username = 'ana' AND s.via = 'cli'")
    assert rows and all(r["revoked_at"] for r in rows)
