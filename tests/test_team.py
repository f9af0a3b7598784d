"""Team core: users, roles, sessions, API keys, rate limiting and the acting user (kernel API)."""

from __future__ import annotations

import getpass

import pytest

from tftsr_kernel import errors
from tftsr_kernel._util import sha256_hex
from tftsr_kernel.team import LOCAL, NOBODY, Actor, acting_as, require
from tftsr_kernel.team.roles import PERMISSIONS, ROLE_PERMISSIONS, role_needed

PW = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_credentials_in_env(monkeypatch):
    for name in ("TFTSR_SESSION_TOKEN", "TFTSR_API_KEY", "TFTSR_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def team(wb):
    """A store with an admin (mapped to this OS login), an analyst and a viewer."""
    t = wb.team
    t.create_user("ada", "admin", email="ada@example.org", password=PW)
    t.act_as(t.actor_for("ada", "password"))
    t.create_user("ana", "analyst", password=PW)
    t.create_user("vic", "viewer", password=PW)
    return t


def test_single_user_mode_is_local_with_every_right(wb):
    assert wb.team.single_user
    assert wb.team.actor is LOCAL
    assert LOCAL.permissions == frozenset(PERMISSIONS)


def test_first_user_must_be_admin_and_is_mapped_to_the_os_login(wb):
    with pytest.raises(errors.ValidationError, match="first user must be an admin"):
        wb.team.create_user("vic", "viewer")
    assert wb.team.single_user  # nothing was stored
    u = wb.team.create_user("ada", "admin")
    assert u.os_user == getpass.getuser() and not u.has_password
    # no longer single-user: this workbench (which was local) now acts as ada, and so does the
    # OS login; an OS login mapped to nobody acts as nobody
    assert (wb.team.actor.name, wb.team.actor.role) == ("ada", "admin")
    assert wb.team.os_user_actor().name == "ada"
    wb.team.act_as(None)
    assert wb.team.actor.name == "ada" and wb.team.actor.via == "os_user"
    with pytest.raises(errors.AuthenticationError, match="not mapped to a project user"):
        wb.team.os_user_actor("someone-else")


def test_environment_session_token_wins_and_fails_closed(team, wb, monkeypatch):
    s = team.open_session("vic", via="hub")
    team.act_as(None)
    monkeypatch.setenv("TFTSR_SESSION_TOKEN", s.token)
    a = team.actor
    assert (a.name, a.role, a.via) == ("vic", "viewer", "hub")
    team.sign_out(s.token)
    assert team.actor == NOBODY  # the session ended: no fall-back to the OS user (ada)
    team.act_as(None)
    monkeypatch.setenv("TFTSR_SESSION_TOKEN", "forged-" + "x" * 30)
    assert team.actor == NOBODY


def test_permission_matrix_is_nested_and_names_the_role():
    viewer, analyst, admin = (ROLE_PERMISSIONS[r] for r in ("viewer", "analyst", "admin"))
    assert viewer < analyst < admin
    assert "logs:read_original" not in viewer and "logs:read_original" in analyst
    assert {"users:manage", "providers:manage", "settings:manage", "integrations:manage",
            "audit:export"} <= admin - analyst
    assert not any(p.endswith((":write", ":manage", ":review", ":export")) or p in ("export", "logs:read_original")
                   for p in viewer)
    assert role_needed("logs:read_original") == "analyst" and role_needed("users:manage") == "admin"
    vic = Actor("u1", "vic", "viewer", "password")
    with pytest.raises(errors.PermissionDeniedError, match="needs the analyst role") as e:
        require(vic, "logs:read_original")
    assert e.value.needed_role == "analyst" and e.value.permission == "logs:read_original"
    assert "vic has the viewer role" in str(e.value)


def test_users_create_list_get_disable_enable_role(team, wb):
    names = [u.username for u in team.list_users()]
    assert names == ["ada", "ana", "vic"]
    assert team.get_user("ANA").role == "analyst"  # names are case-insensitive
    with pytest.raises(errors.ConflictError, match="already exists"):
        team.create_user("ana", "viewer")
    with pytest.raises(errors.ValidationError, match="not allowed"):
        team.create_user("bad name!", "viewer")
    with pytest.raises(errors.ValidationError, match="reserved"):
        team.create_user("local", "viewer")
    with pytest.raises(errors.ValidationError, match="role must be one of"):
        team.create_user("eve", "superuser")
    assert team.set_role("vic", "analyst").role == "analyst"
    assert team.disable_user("vic").enabled is False
    assert team.enable_user("vic").enabled is True
    actions = [e.action for e in wb.audit.get_audit_log(entity_type="user", limit=20)]
    for a in ("user_created", "user_role_changed", "user_disabled", "user_enabled"):
        assert a in actions
    # nothing secret in the audit details
    for e in wb.audit.get_audit_log(limit=50):
        assert "argon2" not in str(e.details) and PW not in str(e.details)


def test_last_admin_cannot_be_disabled_or_demoted(team):
    with pytest.raises(errors.ConflictError, match="last enabled admin"):
        team.disable_user("ada")
    with pytest.raises(errors.ConflictError, match="last enabled admin"):
        team.set_role("ada", "viewer")
    team.set_role("ana", "admin")
    assert team.set_role("ada", "analyst").role == "analyst"


def test_non_admins_cannot_manage_users(team):
    for name, role in (("vic", "viewer"), ("ana", "analyst")):
        team.act_as(team.actor_for(name, "password"))
        with pytest.raises(errors.PermissionDeniedError, match="needs the admin role"):
            team.create_user("eve", "viewer")
        with pytest.raises(errors.PermissionDeniedError, match="needs the admin role"):
            team.list_users()
        with pytest.raises(errors.PermissionDeniedError, match="needs the admin role"):
            team.set_role(name, "admin")
        assert team.get_user(name).role == role  # one's own record is readable


def test_passwords_are_argon2id_and_sign_in_works(team, wb):
    row = wb.db.query_one("SELECT password_hash FROM users WHERE username = 'ana'")
    assert row[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$") and PW not in row[0]
    signed = team.sign_in("ana", PW, client="127.0.0.1")
    assert len(signed.token) >= 40 and signed.token not in repr(signed)
    stored = wb.db.query_one("SELECT token_hash FROM sessions WHERE id = ?", (signed.session.id,))[0]
    assert stored == sha256_hex(signed.token)
    assert wb.db.query_one("SELECT count(*) FROM sessions WHERE token_hash = ?", (signed.token,))[0] == 0
    actor = team.authenticate_session(signed.token)
    assert (actor.name, actor.role, actor.via) == ("ana", "analyst", "session")
    assert team.get_user("ana").last_login_at is not None
    with pytest.raises(errors.ValidationError, match="too short"):
        team.set_password("ana", "short")


def test_wrong_password_is_refused_audited_and_rate_limited(team, wb):
    for _ in range(5):
        with pytest.raises(errors.AuthenticationError, match="wrong user name or password"):
            team.check_password("vic", "not the password", client="10.9.9.9")
    with pytest.raises(errors.RateLimitedError, match="too many failed sign-ins for this user") as e:
        team.check_password("vic", PW, client="10.9.9.9")  # even the right password, for now
    assert e.value.retry_after > 0
    # an unknown user is refused with the same message (and counted)
    with pytest.raises(errors.AuthenticationError, match="wrong user name or password"):
        team.check_password("nosuchuser", "whatever", client="10.9.9.9")
    failed = wb.audit.get_audit_log(action="sign_in_failed", limit=50)
    assert len(failed) == 6 and {e.details["client"] for e in failed} == {"10.9.9.9"}
    assert wb.audit.get_audit_log(action="sign_in_rate_limited")
    # an admin resetting the password clears the lock
    team.set_password("vic", "a new long password")
    assert team.check_password("vic", "a new long password").name == "vic"


def test_rate_limit_per_client(team):
    from tftsr_kernel.team import service

    for i in range(service.RATE_PER_CLIENT):
        with pytest.raises(errors.AuthenticationError):
            team.check_password(f"guess{i}", "x" * 12, client="192.0.2.7")
    with pytest.raises(errors.RateLimitedError, match="this client"):
        team.check_password("ana", PW, client="192.0.2.7")
    assert team.check_password("ana", PW, client="192.0.2.8").name == "ana"


def test_disabled_user_cannot_sign_in_and_loses_sessions(team):
    s = team.sign_in("vic", PW)
    team.disable_user("vic")
    with pytest.raises(errors.AuthenticationError) as e:
        team.authenticate_session(s.token)
    assert e.value.reason in ("revoked", "disabled")
    with pytest.raises(errors.AuthenticationError, match="disabled"):
        team.check_password("vic", PW)


def test_sessions_expire_sign_out_and_revoke_all(team, wb):
    a, b = team.sign_in("ana", PW), team.sign_in("ana", PW)
    assert len(team.list_sessions("ana")) == 2
    assert team.sign_out(a.token) is True and team.sign_out(a.token) is False
    with pytest.raises(errors.AuthenticationError, match="signed out or revoked") as e:
        team.authenticate_session(a.token)
    assert e.value.reason == "revoked"
    # the clock passing the expiry (moved in the row: the stored expiry is what is checked)
    wb.db.execute("UPDATE sessions SET expires_at = '2000-01-01 00:00:00' WHERE id = ?", (b.session.id,))
    with pytest.raises(errors.AuthenticationError, match="expired"):
        team.authenticate_session(b.token)
    c = team.sign_in("ana", PW)
    assert team.revoke_sessions("ana") == 1
    with pytest.raises(errors.AuthenticationError):
        team.authenticate_session(c.token)
    with pytest.raises(errors.AuthenticationError, match="no valid session"):
        team.authenticate_session("x" * 43)
    assert wb.audit.get_audit_log(action="sessions_revoked")


def test_api_keys_store_only_hash_and_prefix(team, wb):
    k = team.create_api_key("ci", "issues:read,issues:write", expires="90d", user="ana")
    assert k.key.startswith("tftsr_") and k.prefix == k.key[:14] and len(k.prefix) == 14
    assert k.key not in repr(k) and k.scopes == ["issues:read", "issues:write"] and k.expires_at
    row = wb.db.query_one("SELECT key_hash, key_prefix FROM api_keys WHERE id = ?", (k.id,))
    assert row["key_hash"] == sha256_hex(k.key) and len(row["key_prefix"]) == 8
    dump = "".join(str(tuple(r)) for r in wb.db.query("SELECT * FROM api_keys"))
    assert k.key not in dump and k.key.split("_")[2] not in dump
    for e in wb.audit.get_audit_log(limit=50):
        assert k.key not in str(e.details)
    actor = team.authenticate_api_key(k.key)
    assert (actor.name, actor.via, actor.scopes) == ("ana", "api_key", ("issues:read", "issues:write"))
    info = team.list_api_keys("ana")[0]
    assert info.last_used_at is not None and info.state == "active" and info.prefix == k.prefix


def test_api_key_scopes_are_enforced_within_the_owner_role(team):
    k = team.create_api_key("reader", ["issues:read"], user="ana")
    actor = team.authenticate_api_key(k.key)
    assert actor.can("issues:read") and not actor.can("issues:write")
    with pytest.raises(errors.PermissionDeniedError, match="lacks the scope issues:write") as e:
        require(actor, "issues:write")
    assert e.value.needed_scope == "issues:write"
    with pytest.raises(errors.PermissionDeniedError, match="lacks the scope logs:original"):
        require(actor, "logs:read_original")
    # a viewer cannot mint a write key; a role change narrows existing keys at once
    with pytest.raises(errors.PermissionDeniedError, match="viewer role, which does not cover"):
        team.create_api_key("w", ["issues:write"], user="vic")
    w = team.create_api_key("writer", ["issues:write", "alerts:write"], user="ana")
    assert team.authenticate_api_key(w.key).can("issues:write")
    team.set_role("ana", "viewer")
    assert not team.authenticate_api_key(w.key).can("issues:write")
    with pytest.raises(errors.ValidationError, match="unknown scope"):
        team.create_api_key("x", ["everything"], user="ada")


def test_api_keys_revoke_expire_invalid(team, wb):
    k = team.create_api_key("tmp", ["issues:read"], user="ana")
    team.revoke_api_key(k.id)
    with pytest.raises(errors.AuthenticationError, match="revoked") as e:
        team.authenticate_api_key(k.key)
    assert e.value.reason == "revoked"
    assert wb.audit.get_audit_log(action="api_key_revoked")
    k2 = team.create_api_key("short", ["issues:read"], expires="1h", user="ana")
    wb.db.execute("UPDATE api_keys SET expires_at = '2000-01-01 00:00:00' WHERE id = ?", (k2.id,))
    with pytest.raises(errors.AuthenticationError, match="expired") as e:
        team.authenticate_api_key(k2.key)
    assert e.value.reason == "expired"
    assert team.list_api_keys("ana")[0].state in ("expired", "revoked")
    for bad, reason in (("", "missing"), ("tftsr_abcdefgh_" + "A" * 40, "invalid"), ("Bearer x", "invalid"),
                        (k.key[:-1] + ("B" if k.key[-1] != "B" else "C"), "invalid")):
        with pytest.raises(errors.AuthenticationError) as e:
            team.authenticate_api_key(bad)
        assert e.value.reason == reason
    with pytest.raises(errors.ValidationError, match="cannot read the duration"):
        team.create_api_key("x", ["issues:read"], expires="soon", user="ana")


def test_own_keys_only_unless_admin(team):
    k = team.create_api_key("mine", ["issues:read"], user="ada")
    team.act_as(team.actor_for("ana", "password"))
    own = team.create_api_key("ana-key", ["issues:read"])
    assert [i.id for i in team.list_api_keys()] == [own.id]
    with pytest.raises(errors.PermissionDeniedError, match="admin role"):
        team.revoke_api_key(k.id)
    with pytest.raises(errors.PermissionDeniedError, match="admin role"):
        team.create_api_key("for-vic", ["issues:read"], user="vic")
    assert team.revoke_api_key(own.prefix).state == "revoked"
    # a key cannot mint keys
    with acting_as(team.authenticate_api_key(k.key)):
        with pytest.raises(errors.PermissionDeniedError, match="cannot create API keys"):
            team.create_api_key("child", ["issues:read"])


def test_role_change_and_disable_take_effect_on_the_workbench_actor(team):
    team.act_as(team.actor_for("ana", "password"))
    assert team.actor.role == "analyst"
    with acting_as(team.actor_for("ada", "password")):
        team.set_role("ana", "viewer")
        assert team.actor.name == "ada"
    assert team.actor.role == "viewer"
    with acting_as(team.actor_for("ada", "password")):
        team.disable_user("ana")
    assert team.actor == NOBODY
    with pytest.raises(errors.PermissionDeniedError, match="nobody is signed in"):
        team.list_users()


def test_actor_from_env(team, monkeypatch):
    monkeypatch.delenv("TFTSR_API_KEY", raising=False)
    monkeypatch.delenv("TFTSR_PASSWORD", raising=False)
    with pytest.raises(errors.AuthenticationError, match="needs that user's password"):
        team.actor_from_env("ana")
    monkeypatch.setenv("TFTSR_PASSWORD", PW)
    assert team.actor_from_env("ana").name == "ana"
    monkeypatch.setenv("TFTSR_PASSWORD", "wrong password!")
    with pytest.raises(errors.AuthenticationError, match="wrong user name or password"):
        team.actor_from_env("ana")
    monkeypatch.delenv("TFTSR_PASSWORD")
    asked = []
    assert team.actor_from_env("ana", prompt=lambda q: asked.append(q) or PW).name == "ana"
    assert asked == ["password for ana: "]
    k = team.create_api_key("cli", ["issues:read"], user="vic")
    monkeypatch.setenv("TFTSR_API_KEY", k.key)
    assert team.actor_from_env().name == "vic"
    with pytest.raises(errors.AuthenticationError, match="belongs to vic"):
        team.actor_from_env("ana")


def test_migration_keeps_existing_users_and_keys(tmp_path):
    """A store with rows in 028's users/api_keys migrates to 032 without losing or orphaning any."""
    from tftsr_kernel.db import Database, load_migrations

    migs = load_migrations()
    upto = [m for m in migs if m.number < 32]
    path = tmp_path / "old.db"
    db = Database(path, "k" * 64, migrations=upto)
    db.execute("INSERT INTO users(id, email, username, password_hash, role, created_at, updated_at)"
               " VALUES ('u1', 'a@x.org', 'ada', 'h', 'admin', 't', 't')")
    db.execute("INSERT INTO api_keys(id, user_id, name, key_hash, key_prefix, created_at)"
               " VALUES ('k1', 'u1', 'ci', 'abc', 'abcdefgh', 't')")
    db.migrate(migs)
    assert db.query_one("SELECT username, email FROM users")[:] == ("ada", "a@x.org")
    assert db.query_one("SELECT user_id, revoked_at FROM api_keys")[:] == ("u1", None)
    fks = db.query("PRAGMA foreign_key_list(api_keys)")
    assert [(r["table"], r["on_delete"]) for r in fks] == [("users", "CASCADE")]
    assert db.query("PRAGMA foreign_key_check") == []
    db.execute("DELETE FROM users WHERE id = 'u1'")
    assert db.query_one("SELECT count(*) FROM api_keys")[0] == 0
    db.close()
