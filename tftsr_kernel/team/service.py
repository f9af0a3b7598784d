"""``wb.team``: users, roles, sign-in sessions, API keys and the workbench's acting user.

- Users: create, list, get, disable, enable, change role, reset password (Argon2id). The first
  user must be an admin, and the last enabled admin cannot be disabled or demoted, so a store is
  never left without someone who can manage it.
- Sessions: ``sign_in`` checks the password (rate-limited per user and per client, every
  failure audited) and returns a random token; only its SHA-256 is stored. Sessions expire,
  can be signed out, and all of a user's sessions can be revoked.
- API keys: ``tftsr_<8 chars>_<40 chars>``; only the SHA-256 and the 8 characters are stored.
  Scopes are enforced: a key acts with its owner's role intersected with its scopes.
- The actor: ``wb.team.actor`` is who this workbench acts as (single-user mode: ``local``).

Sign-in and sessions live in ``sessions.py``, API keys in ``apikeys.py`` (mixins of this class).
"""

from __future__ import annotations

import getpass
import os
import re

from .._util import utc_now, uuid7
from ..errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from . import passwords
from .actor import LOCAL, NOBODY, Actor, acting_as, context_actor, require, requires
from .guard import internal
from .models import User
from .roles import ROLES
from .apikeys import KEY_RE, MAX_KEY_DAYS, ApiKeysMixin, parse_duration  # noqa: F401 (re-exported)
from .sessions import (  # noqa: F401 (re-exported)
    _USER_COLS, RATE_PER_CLIENT, RATE_PER_USER, RATE_WINDOW_MINUTES, SESSION_HOURS, SessionsMixin, _state,
)

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
RESERVED_NAMES = frozenset({"local", "nobody", "root", "system", "anonymous"})
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def _user(row) -> User:
    return User(row["id"], row["username"], row["email"], row["role"], row["display_name"],
                bool(row["enabled"]), bool(row["password_hash"]), row["os_user"], row["last_login_at"],
                row["created_at"], row["updated_at"])


class TeamService(SessionsMixin, ApiKeysMixin):
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db
        self._audit = wb.audit
        self._own_actor: Actor | None = None   # set by act_as (CLI --as, dashboard sign-in)
        self._env_actor: Actor | None = None   # what the environment proves, resolved once

    def _audit_event(self, action: str, entity_type: str, entity_id: str, details: dict | None = None,
                     *, as_actor: Actor | None = None):
        """An audit row (the team service checked the actor itself, or none is needed: a failed
        sign-in). ``as_actor``: whom the row names instead of the current actor (sign-ins)."""
        with internal():
            if as_actor is None:
                return self._audit.write_audit_event(action, entity_type, entity_id, details)
            with acting_as(as_actor):
                return self._audit.write_audit_event(action, entity_type, entity_id, details)

    # -- the acting user -------------------------------------------------------------------------
    def users_exist(self) -> bool:
        return self._db.query_one("SELECT 1 FROM users LIMIT 1") is not None

    @property
    def single_user(self) -> bool:
        """True while no user exists: everything runs as ``local`` with every right."""
        return not self.users_exist()

    @property
    def actor(self) -> Actor:
        """Who this workbench acts as (the context actor of :func:`acting_as` wins over it).

        Single-user mode: ``local``. Otherwise the actor set with :meth:`act_as`, else the one the
        environment proves (:meth:`environment_actor`); re-read from the users table on every
        call, so a disabled user or a changed role takes effect at once. Nobody (every call is
        refused) when nothing proves who is acting.
        """
        ctx = context_actor()
        if ctx is not None:
            return self._fresh(ctx)
        if self.single_user:
            return LOCAL
        if self._own_actor is not None and not self._own_actor.is_local:
            return self._fresh(self._own_actor)
        if self._env_actor is None:
            try:
                self._env_actor = self.environment_actor()
            except AuthenticationError:
                return NOBODY
        return self._fresh(self._env_actor)

    def environment_actor(self) -> Actor:
        """The actor this process's environment proves, in order: ``TFTSR_SESSION_TOKEN`` (set by
        the JupyterHub spawner and the dashboard: a session of ``sessions``; when it is set
        nothing else is tried, so a hub server never falls back to the OS user it runs as),
        ``TFTSR_API_KEY``, the OS login mapped to a project user."""
        token = os.environ.get("TFTSR_SESSION_TOKEN")
        if token is not None:
            actor = self.authenticate_session(token)
            session = self._db.query_one("SELECT via FROM sessions WHERE id = ?", (actor.session_id,))
            via = "hub" if session and session["via"] == "hub" else "session"
            return Actor(actor.user_id, actor.name, actor.role, via, session_id=actor.session_id)
        if os.environ.get("TFTSR_API_KEY"):
            return self.authenticate_api_key(os.environ["TFTSR_API_KEY"])
        return self.os_user_actor()

    def _actor(self) -> Actor:
        return self.actor

    def _fresh(self, actor: Actor) -> Actor:
        if actor.is_local:
            return LOCAL if self.single_user else NOBODY
        if actor.role is None or actor.via == "internal":
            return actor
        row = self._db.query_one("SELECT role, enabled, username FROM users WHERE id = ?", (actor.user_id,))
        if row is None or not row["enabled"]:
            return NOBODY
        now = utc_now()
        for table, ident in (("sessions", actor.session_id), ("api_keys", actor.key_id)):
            if ident:  # a signed-out session or a revoked key stops acting at once
                cred = self._db.query_one(f"SELECT revoked_at, expires_at FROM {table} WHERE id = ?", (ident,))
                if cred is None or _state(cred["revoked_at"], cred["expires_at"], now) != "active":
                    return NOBODY
        if row["role"] == actor.role and row["username"] == actor.name:
            return actor
        return Actor(actor.user_id, row["username"], row["role"], actor.via, actor.scopes, actor.key_id,
                     actor.session_id)

    def act_as(self, actor: Actor | None) -> Actor | None:
        """Make ``actor`` this workbench's actor (None: back to the one the environment proves)."""
        self._own_actor = actor
        self._env_actor = None
        return actor

    def actor_for(self, username: str, via: str) -> Actor:
        """The actor of an enabled user, for identities proven elsewhere (OS login, JupyterHub).

        Only call this after the identity was established by something the user cannot forge.
        """
        u = self._row(username)
        if not u["enabled"]:
            raise AuthenticationError(f"the account {u['username']} is disabled; ask an admin to enable it", "disabled")
        return Actor(u["id"], u["username"], u["role"], via)

    def os_user_actor(self, login: str | None = None) -> Actor:
        """The project user mapped to the OS login (``os_user``, else the same user name).

        Single-user mode: ``local``. No mapping: an :class:`AuthenticationError` that says how to
        act as someone.
        """
        if self.single_user:
            return LOCAL
        login = login or getpass.getuser()
        row = self._db.query_one("SELECT username FROM users WHERE os_user = ?", (login,))
        if row is None:
            row = self._db.query_one("SELECT username FROM users WHERE username = ? AND os_user IS NULL",
                                     (login.lower(),))
        if row is None:
            raise AuthenticationError(
                f"the OS user {login} is not mapped to a project user; use --as NAME (with TFTSR_PASSWORD "
                f"or TFTSR_API_KEY), or ask an admin: tftsr user add {login.lower()} --role analyst", "missing")
        return self.actor_for(row["username"], "os_user")

    # -- users -------------------------------------------------------------------------------------
    def _row(self, name_or_id: str):
        if not isinstance(name_or_id, str) or not name_or_id.strip():
            raise ValidationError("give a user name")
        key = name_or_id.strip()
        row = self._db.query_one(f"SELECT {_USER_COLS} FROM users WHERE username = ? OR id = ?",
                                 (key.lower(), key))
        if row is None:
            raise NotFoundError(f"no user {key!r}; see: tftsr user list")
        return row

    @staticmethod
    def _check_username(username) -> str:
        if not isinstance(username, str):
            raise ValidationError("the user name must be text")
        name = username.strip().lower()
        if not USERNAME_RE.match(name):
            raise ValidationError(f"the user name {username!r} is not allowed: start with a letter, then up to 63 "
                                  "letters, digits, '.', '_' or '-'")
        if name in RESERVED_NAMES:
            raise ValidationError(f"the user name {name!r} is reserved; choose another")
        return name

    @staticmethod
    def _check_role(role) -> str:
        if role not in ROLES:
            raise ValidationError(f"role must be one of: {', '.join(ROLES)} (got {role!r})")
        return role

    def create_user(self, username: str, role: str, *, email: str | None = None, password: str | None = None,
                    display_name: str | None = None, os_user: str | None = None) -> User:
        """Add a user. ``password`` None: no password sign-in (accounts that only use API keys or
        JupyterHub). The first user must be an admin, and is mapped to the OS login that created
        it (so the CLI keeps working for whoever set the store up)."""
        first = self.single_user
        require(self.actor, "users:manage")
        name = self._check_username(username)
        self._check_role(role)
        if first and role != "admin":
            raise ValidationError("the first user must be an admin (so someone can manage the others): "
                                  f"tftsr user add {name} --role admin")
        if email is not None:
            email = email.strip() or None
            if email and not EMAIL_RE.match(email):
                raise ValidationError(f"{email!r} is not an e-mail address")
        if display_name is not None:
            display_name = " ".join(str(display_name).split())[:200] or None
        if os_user is not None:
            os_user = os_user.strip() or None
        elif first:  # whoever set up the store keeps acting as its first admin
            os_user = getpass.getuser()
        pw_hash = None
        if password is not None:
            passwords.check_strength(password, name)
            pw_hash = passwords.hash_password(password)
        now = utc_now()
        uid = uuid7()
        with self._db.write() as conn:
            for col, val, what in (("username", name, "user name"), ("email", email, "e-mail address"),
                                   ("os_user", os_user, "OS user")):
                if val is not None and conn.execute(f"SELECT 1 FROM users WHERE {col} = ?", (val,)).fetchone():
                    raise ConflictError(f"a user with the {what} {val!r} already exists")
            conn.execute(
                "INSERT INTO users(id, email, username, password_hash, role, display_name, enabled, created_at,"
                " updated_at, os_user) VALUES (?,?,?,?,?,?,1,?,?,?)",
                (uid, email, name, pw_hash, role, display_name, now, now, os_user))
            self._audit_event("user_created", "user", uid,
                                          {"username": name, "role": role, "password": pw_hash is not None})
        if first and (self._own_actor is None or self._own_actor.is_local) and context_actor() is None:
            self._own_actor = Actor(uid, name, role, "os_user")  # local becomes the first admin
        return _user(self._row(uid))

    def get_user(self, name_or_id: str) -> User:
        actor = self.actor
        row = self._row(name_or_id)
        if row["id"] != actor.user_id:
            require(actor, "users:manage")
        return _user(row)

    @requires("users:manage")
    def list_users(self, *, include_disabled: bool = True) -> list[User]:
        sql = f"SELECT {_USER_COLS} FROM users"
        if not include_disabled:
            sql += " WHERE enabled = 1"
        return [_user(r) for r in self._db.query(sql + " ORDER BY username")]

    def users_frame(self):
        import pandas as pd

        return pd.DataFrame([u.to_dict() for u in self.list_users()],
                            columns=list(User.__dataclass_fields__))

    def _other_admins(self, conn, user_id: str) -> int:
        return conn.execute("SELECT count(*) FROM users WHERE role = 'admin' AND enabled = 1 AND id != ?",
                            (user_id,)).fetchone()[0]

    @requires("users:manage")
    def disable_user(self, name: str) -> User:
        """Disable an account: its sessions are revoked and its keys stop working at once."""
        with self._db.write() as conn:
            row = self._row(name)
            if row["role"] == "admin" and row["enabled"] and not self._other_admins(conn, row["id"]):
                raise ConflictError(f"{row['username']} is the last enabled admin; make another admin first")
            now = utc_now()
            conn.execute("UPDATE users SET enabled = 0, updated_at = ? WHERE id = ?", (now, row["id"]))
            n = conn.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                             (now, row["id"])).rowcount
            self._audit_event("user_disabled", "user", row["id"],
                                          {"username": row["username"], "sessions_revoked": n})
        return _user(self._row(row["id"]))

    @requires("users:manage")
    def enable_user(self, name: str) -> User:
        with self._db.write() as conn:
            row = self._row(name)
            conn.execute("UPDATE users SET enabled = 1, updated_at = ? WHERE id = ?", (utc_now(), row["id"]))
            self._audit_event("user_enabled", "user", row["id"], {"username": row["username"]})
        return _user(self._row(row["id"]))

    @requires("users:manage")
    def set_role(self, name: str, role: str) -> User:
        self._check_role(role)
        with self._db.write() as conn:
            row = self._row(name)
            if row["role"] == role:
                return _user(row)
            if row["role"] == "admin" and row["enabled"] and not self._other_admins(conn, row["id"]):
                raise ConflictError(f"{row['username']} is the last enabled admin; make another admin first")
            conn.execute("UPDATE users SET role = ?, updated_at = ? WHERE id = ?", (role, utc_now(), row["id"]))
            self._audit_event("user_role_changed", "user", row["id"],
                                          {"username": row["username"], "from": row["role"], "to": role})
        return _user(self._row(row["id"]))

    def set_password(self, name: str, password: str | None) -> User:
        """Set (or, with None, remove) a user's password; anyone may change their own. Every
        session of the user is revoked."""
        actor = self.actor
        row = self._row(name)
        if row["id"] != actor.user_id:
            require(actor, "users:manage")
        pw_hash = None
        if password is not None:
            passwords.check_strength(password, row["username"])
            pw_hash = passwords.hash_password(password)
        with self._db.write() as conn:
            now = utc_now()
            conn.execute("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", (pw_hash, now, row["id"]))
            n = conn.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                             (now, row["id"])).rowcount
            conn.execute("DELETE FROM sign_in_failures WHERE username = ?", (row["username"],))
            self._audit_event("user_password_reset", "user", row["id"],
                                          {"username": row["username"], "password": pw_hash is not None,
                                           "sessions_revoked": n})
        return _user(self._row(row["id"]))

    @requires("users:manage")
    def set_os_user(self, name: str, os_user: str | None) -> User:
        """Map an OS login to the user (None: back to the default, the same name)."""
        os_user = (os_user or "").strip() or None
        with self._db.write() as conn:
            row = self._row(name)
            if os_user and conn.execute("SELECT 1 FROM users WHERE os_user = ? AND id != ?",
                                        (os_user, row["id"])).fetchone():
                raise ConflictError(f"the OS user {os_user!r} is already mapped to another user")
            conn.execute("UPDATE users SET os_user = ?, updated_at = ? WHERE id = ?", (os_user, utc_now(), row["id"]))
            self._audit_event("user_os_user_set", "user", row["id"],
                                          {"username": row["username"], "os_user": os_user})
        return _user(self._row(row["id"]))

    def actor_from_env(self, username: str | None = None, *, prompt=None) -> Actor:
        """The CLI's proof of ``--as NAME``: ``TFTSR_API_KEY``, else ``TFTSR_PASSWORD``, else
        ``prompt()`` (a terminal prompt). Without ``username``: the key's owner, or the OS user."""
        key = os.environ.get("TFTSR_API_KEY")
        if key:
            actor = self.authenticate_api_key(key)
            if username and actor.name != username.strip().lower():
                raise AuthenticationError(f"TFTSR_API_KEY belongs to {actor.name}, not {username}", "invalid")
            return actor
        if not username:
            return self.os_user_actor()
        if self.single_user:
            raise AuthenticationError("there are no users yet (single-user mode); drop --as", "missing")
        password = os.environ.get("TFTSR_PASSWORD")
        if password is None and prompt is not None:
            password = prompt(f"password for {username}: ")
        if not password:
            raise AuthenticationError(f"--as {username} needs that user's password (TFTSR_PASSWORD or a terminal "
                                      "prompt) or an API key (TFTSR_API_KEY)", "missing")
        return self.check_password(username, password, client="cli")
