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
"""

from __future__ import annotations

import getpass
import hmac
import os
import re
import secrets
from datetime import datetime, timedelta, timezone

from .._util import from_json, sha256_hex, to_json, utc_now, uuid7
from ..errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)
from . import passwords
from .actor import LOCAL, NOBODY, Actor, acting_as, context_actor, require, requires
from .guard import internal
from .models import ApiKeyInfo, NewApiKey, SessionInfo, SignedIn, User
from .roles import ROLE_PERMISSIONS, ROLES, SCOPES

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
RESERVED_NAMES = frozenset({"local", "nobody", "root", "system", "anonymous"})
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
KEY_RE = re.compile(r"^tftsr_([a-z2-7]{8})_([A-Za-z0-9_-]{40})$")
_B32 = "abcdefghijklmnopqrstuvwxyz234567"

SESSION_HOURS = 12
MAX_KEY_DAYS = 3650
#: failed sign-ins allowed per window, per user name and per client address
RATE_WINDOW_MINUTES = 15
RATE_PER_USER = 5
RATE_PER_CLIENT = 20

_USER_COLS = ("id, username, email, role, display_name, enabled, password_hash, os_user, last_login_at,"
              " created_at, updated_at")


def _ts(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def parse_duration(text) -> timedelta | None:
    """'90d', '12h', '30m' or 'never'/None -> a timedelta (None: no expiry)."""
    if text is None or (isinstance(text, str) and text.strip().lower() in ("", "never", "none")):
        return None
    if isinstance(text, timedelta):
        delta = text
    else:
        m = re.fullmatch(r"\s*(\d{1,6})\s*([dhm])\s*", str(text).lower())
        if not m:
            raise ValidationError(f"cannot read the duration {text!r}: use e.g. 90d, 12h, 30m or never")
        n, unit = int(m.group(1)), m.group(2)
        delta = timedelta(days=n) if unit == "d" else timedelta(hours=n) if unit == "h" else timedelta(minutes=n)
    if delta <= timedelta(0):
        raise ValidationError("the duration must be positive")
    if delta > timedelta(days=MAX_KEY_DAYS):
        raise ValidationError(f"the duration is longer than {MAX_KEY_DAYS} days")
    return delta


def _user(row) -> User:
    return User(row["id"], row["username"], row["email"], row["role"], row["display_name"],
                bool(row["enabled"]), bool(row["password_hash"]), row["os_user"], row["last_login_at"],
                row["created_at"], row["updated_at"])


def _state(revoked_at, expires_at, now: str) -> str:
    if revoked_at:
        return "revoked"
    if expires_at and expires_at <= now:
        return "expired"
    return "active"


class TeamService:
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

    # -- passwords and sessions --------------------------------------------------------------------
    def _rate_check(self, username: str, client: str) -> None:
        """Refuse (and audit the refusal) when the user or the client failed too often lately."""
        since = _ts(_now() - timedelta(minutes=RATE_WINDOW_MINUTES))
        refused = None
        with self._db.write() as conn:
            for col, val, limit in (("username", username, RATE_PER_USER), ("client", client, RATE_PER_CLIENT)):
                if col == "client" and not val:
                    continue
                row = conn.execute(f"SELECT count(*), min(created_at) FROM sign_in_failures WHERE {col} = ?"
                                   " AND created_at >= ?", (val, since)).fetchone()
                if row[0] >= limit:
                    oldest = datetime.strptime(row[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
                    retry = max(1, int((oldest + timedelta(minutes=RATE_WINDOW_MINUTES) - _now()).total_seconds()))
                    refused = ("this user" if col == "username" else "this client", retry)
                    self._audit_event("sign_in_rate_limited", "user", username,
                                      {"username": username, "client": client, "by": col}, as_actor=NOBODY)
                    break
        if refused:
            raise RateLimitedError(
                f"too many failed sign-ins for {refused[0]}; try again in {refused[1] // 60 + 1} minute(s)", refused[1])

    def check_password(self, username: str, password: str, *, client: str = "") -> Actor:
        """The actor of ``username`` if ``password`` is right. Failures are rate-limited (per
        user and per client) and audited; the message never tells whether the user exists."""
        name = (username or "").strip().lower()[:64]
        client = (client or "")[:200]
        if not isinstance(password, str):
            raise AuthenticationError("sign-in failed: wrong user name or password", "invalid")
        self._rate_check(name, client)
        row = self._db.query_one(f"SELECT {_USER_COLS} FROM users WHERE username = ?", (name,))
        ok, rehash = passwords.verify_password(row["password_hash"] if row else None, password[:passwords.MAX_LENGTH])
        if not ok or not row["enabled"]:
            reason = "disabled" if ok else "invalid"
            with self._db.write() as conn:
                conn.execute("INSERT INTO sign_in_failures(id, username, client, created_at) VALUES (?,?,?,?)",
                             (uuid7(), name, client, utc_now()))
                self._audit_event("sign_in_failed", "user", row["id"] if row else name,
                                  {"username": name, "client": client, "reason": reason}, as_actor=NOBODY)
            if reason == "disabled":
                raise AuthenticationError(f"the account {name} is disabled; ask an admin to enable it", "disabled")
            raise AuthenticationError("sign-in failed: wrong user name or password", "invalid")
        with self._db.write() as conn:
            now = utc_now()
            conn.execute("UPDATE users SET last_login_at = ? WHERE id = ?", (now, row["id"]))
            if rehash:
                conn.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                             (passwords.hash_password(password), row["id"]))
            conn.execute("DELETE FROM sign_in_failures WHERE username = ?", (name,))
        return Actor(row["id"], row["username"], row["role"], "password")

    def sign_in(self, username: str, password: str, *, client: str = "", hours: float = SESSION_HOURS) -> SignedIn:
        """Check the password and open a session; returns the token (shown once)."""
        actor = self.check_password(username, password, client=client)
        return self._open_session(actor, via="password", client=client, hours=hours)

    def open_session(self, username: str, *, via: str, client: str = "", hours: float = SESSION_HOURS) -> SignedIn:
        """A session for a user whose identity was proven elsewhere (JupyterHub). Trusted callers only."""
        return self._open_session(self.actor_for(username, via), via=via, client=client, hours=hours)

    def _open_session(self, actor: Actor, *, via: str, client: str, hours: float) -> SignedIn:
        if not 0 < hours <= 24 * 31:
            raise ValidationError("a session lasts between a minute and 31 days")
        token = secrets.token_urlsafe(32)
        sid, now = uuid7(), _now()
        expires = _ts(now + timedelta(hours=hours))
        with self._db.write() as conn:
            conn.execute("INSERT INTO sessions(id, token_hash, user_id, via, client, created_at, expires_at,"
                         " last_seen_at) VALUES (?,?,?,?,?,?,?,?)",
                         (sid, sha256_hex(token), actor.user_id, via, client[:200] or None, _ts(now), expires, _ts(now)))
            self._audit_event("sign_in", "session", sid,
                              {"username": actor.name, "via": via, "client": client[:200]}, as_actor=actor)
        return SignedIn(token, self._session_info(sid))

    def _session_info(self, sid: str) -> SessionInfo:
        r = self._db.query_one("SELECT s.*, u.username FROM sessions s JOIN users u ON u.id = s.user_id"
                               " WHERE s.id = ?", (sid,))
        return SessionInfo(r["id"], r["user_id"], r["username"], r["via"], r["client"], r["created_at"],
                           r["expires_at"], r["last_seen_at"], r["revoked_at"],
                           _state(r["revoked_at"], r["expires_at"], utc_now()))

    def authenticate_session(self, token: str) -> Actor:
        """The actor of a session token (from the session cookie)."""
        if not isinstance(token, str) or not 20 <= len(token) <= 200:
            raise AuthenticationError("no valid session: sign in", "missing" if not token else "invalid")
        r = self._db.query_one("SELECT s.id, s.user_id, s.expires_at, s.revoked_at, s.last_seen_at, s.via,"
                               " u.username, u.role, u.enabled FROM sessions s JOIN users u ON u.id = s.user_id"
                               " WHERE s.token_hash = ?", (sha256_hex(token),))
        now = utc_now()
        if r is None:
            raise AuthenticationError("no valid session: sign in", "invalid")
        if r["revoked_at"]:
            raise AuthenticationError("the session was signed out or revoked: sign in again", "revoked")
        if r["expires_at"] <= now:
            raise AuthenticationError("the session has expired: sign in again", "expired")
        if not r["enabled"]:
            raise AuthenticationError(f"the account {r['username']} is disabled", "disabled")
        if (r["last_seen_at"] or "") < _ts(_now() - timedelta(minutes=1)):
            self._db.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", (now, r["id"]))
        return Actor(r["user_id"], r["username"], r["role"], "session", session_id=r["id"])

    def sign_out(self, token: str) -> bool:
        """End the session of ``token``; False if it was not active."""
        if not isinstance(token, str) or not token:
            return False
        with self._db.write() as conn:
            r = conn.execute("SELECT id, user_id FROM sessions WHERE token_hash = ? AND revoked_at IS NULL",
                             (sha256_hex(token),)).fetchone()
            if r is None:
                return False
            conn.execute("UPDATE sessions SET revoked_at = ? WHERE id = ?", (utc_now(), r["id"]))
            self._audit_event("sign_out", "session", r["id"], {"user_id": r["user_id"]})
        return True

    def revoke_sessions(self, name: str) -> int:
        """Revoke every active session of a user (yourself, or anyone with users:manage)."""
        actor = self.actor
        row = self._row(name)
        if row["id"] != actor.user_id:
            require(actor, "users:manage")
        with self._db.write() as conn:
            now = utc_now()
            n = conn.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
                             " AND expires_at > ?", (now, row["id"], now)).rowcount
            self._audit_event("sessions_revoked", "user", row["id"],
                                          {"username": row["username"], "count": n})
        return n

    def list_sessions(self, name: str | None = None, *, active_only: bool = True) -> list[SessionInfo]:
        actor = self.actor
        params: list = []
        sql = "SELECT s.*, u.username FROM sessions s JOIN users u ON u.id = s.user_id"
        where = []
        if name is not None:
            row = self._row(name)
            if row["id"] != actor.user_id:
                require(actor, "users:manage")
            where.append("s.user_id = ?")
            params.append(row["id"])
        else:
            require(actor, "users:manage")
        now = utc_now()
        if active_only:
            where.append("s.revoked_at IS NULL AND s.expires_at > ?")
            params.append(now)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [SessionInfo(r["id"], r["user_id"], r["username"], r["via"], r["client"], r["created_at"],
                            r["expires_at"], r["last_seen_at"], r["revoked_at"],
                            _state(r["revoked_at"], r["expires_at"], now))
                for r in self._db.query(sql + " ORDER BY s.created_at DESC", params)]

    # -- API keys ----------------------------------------------------------------------------------
    @staticmethod
    def _check_scopes(scopes) -> list[str]:
        if isinstance(scopes, str):
            scopes = [s for s in (p.strip() for p in scopes.split(",")) if s]
        if not scopes or not isinstance(scopes, (list, tuple)) or not all(isinstance(s, str) for s in scopes):
            raise ValidationError(f"give at least one scope: {', '.join(SCOPES)}")
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise ValidationError(f"unknown scope(s) {', '.join(unknown)}; scopes: {', '.join(SCOPES)}")
        return sorted(set(scopes))

    def create_api_key(self, name: str, scopes, *, expires=None, user: str | None = None) -> NewApiKey:
        """A new key for ``user`` (default: the acting user). The key is returned once.

        A key can only carry scopes its owner's role covers; ``expires``: '90d', '12h', a
        timedelta, or None for no expiry.
        """
        actor = self.actor
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError("an API key needs a name (up to 100 characters)")
        scopes = self._check_scopes(scopes)
        delta = parse_duration(expires)
        if user is None:
            if actor.role is None or actor.is_local:
                raise ValidationError("an API key belongs to a user: give --user NAME (create users with tftsr user add)")
            row = self._row(actor.user_id)
        else:
            row = self._row(user)
        if row["id"] != actor.user_id:
            require(actor, "users:manage")
        if actor.scopes is not None:
            raise PermissionDeniedError("an API key cannot create API keys; sign in with a password",
                                        permission="users:manage", needed_role="admin")
        if not row["enabled"]:
            raise ConflictError(f"the account {row['username']} is disabled")
        owner_perms = ROLE_PERMISSIONS[row["role"]]
        too_wide = [s for s in scopes if not SCOPES[s] <= owner_perms]
        if too_wide:
            raise PermissionDeniedError(
                f"{row['username']} has the {row['role']} role, which does not cover the scope(s) "
                f"{', '.join(too_wide)}", permission=sorted(SCOPES[too_wide[0]] - owner_perms)[0],
                needed_role="admin" if "admin" in too_wide else "analyst", needed_scope=too_wide[0])
        ident = "".join(secrets.choice(_B32) for _ in range(8))
        key = f"tftsr_{ident}_{secrets.token_urlsafe(30)}"
        kid, now = uuid7(), _now()
        expires_at = _ts(now + delta) if delta else None
        with self._db.write() as conn:
            conn.execute("INSERT INTO api_keys(id, user_id, name, key_hash, key_prefix, scopes, expires_at,"
                         " created_at) VALUES (?,?,?,?,?,?,?,?)",
                         (kid, row["id"], name.strip(), sha256_hex(key), ident, to_json(scopes), expires_at, _ts(now)))
            self._audit_event("api_key_created", "api_key", kid,
                                          {"name": name.strip(), "user": row["username"], "prefix": f"tftsr_{ident}",
                                           "scopes": scopes, "expires_at": expires_at})
        return NewApiKey(kid, name.strip(), f"tftsr_{ident}", key, scopes, expires_at, row["username"])

    def _key_info(self, r, now: str) -> ApiKeyInfo:
        return ApiKeyInfo(r["id"], r["user_id"], r["username"], r["name"], f"tftsr_{r['key_prefix']}",
                          from_json(r["scopes"], []), r["expires_at"], r["last_used_at"], r["created_at"],
                          r["revoked_at"], _state(r["revoked_at"], r["expires_at"], now))

    def list_api_keys(self, user: str | None = None, *, all_users: bool = False) -> list[ApiKeyInfo]:
        """Keys of ``user`` (default: the acting user), or of everyone with ``all_users``."""
        actor = self.actor
        sql = "SELECT k.*, u.username FROM api_keys k JOIN users u ON u.id = k.user_id"
        params: list = []
        if all_users or (user is None and (actor.is_local or actor.role is None)):
            require(actor, "users:manage")
        else:
            row = self._row(user) if user is not None else self._row(actor.user_id)
            if row["id"] != actor.user_id:
                require(actor, "users:manage")
            sql += " WHERE k.user_id = ?"
            params.append(row["id"])
        now = utc_now()
        return [self._key_info(r, now) for r in self._db.query(sql + " ORDER BY k.created_at DESC", params)]

    def revoke_api_key(self, key_id: str) -> ApiKeyInfo:
        """Revoke a key by id (or its ``tftsr_xxxxxxxx`` prefix): yours, or anyone's with users:manage."""
        actor = self.actor
        ident = (key_id or "").strip()
        m = re.fullmatch(r"tftsr_([a-z2-7]{8})", ident)
        with self._db.write() as conn:
            if m:
                rows = conn.execute("SELECT k.*, u.username FROM api_keys k JOIN users u ON u.id = k.user_id"
                                    " WHERE k.key_prefix = ?", (m.group(1),)).fetchall()
            else:
                rows = conn.execute("SELECT k.*, u.username FROM api_keys k JOIN users u ON u.id = k.user_id"
                                    " WHERE k.id = ?", (ident,)).fetchall()
            if not rows:
                raise NotFoundError(f"no API key {ident!r}; see: tftsr apikey list")
            if len(rows) > 1:
                raise ConflictError(f"{ident} matches {len(rows)} keys; revoke by id")
            r = rows[0]
            if r["user_id"] != actor.user_id:
                require(actor, "users:manage")
            if not r["revoked_at"]:
                conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (utc_now(), r["id"]))
                self._audit_event("api_key_revoked", "api_key", r["id"],
                                              {"name": r["name"], "user": r["username"],
                                               "prefix": f"tftsr_{r['key_prefix']}"})
            r = conn.execute("SELECT k.*, u.username FROM api_keys k JOIN users u ON u.id = k.user_id"
                             " WHERE k.id = ?", (r["id"],)).fetchone()
        return self._key_info(r, utc_now())

    def authenticate_api_key(self, key: str) -> Actor:
        """The actor of an API key (its owner's role within its scopes); records the use.

        Raises :class:`AuthenticationError` with reason missing, invalid, revoked, expired or
        disabled.
        """
        if not key:
            raise AuthenticationError("no API key: send Authorization: Bearer tftsr_...", "missing")
        m = KEY_RE.match(key.strip()) if isinstance(key, str) else None
        if not m:
            raise AuthenticationError("the API key is not valid", "invalid")
        digest = sha256_hex(key.strip())
        rows = self._db.query("SELECT k.id, k.key_hash, k.scopes, k.expires_at, k.revoked_at, k.last_used_at,"
                              " u.id AS uid, u.username, u.role, u.enabled FROM api_keys k"
                              " JOIN users u ON u.id = k.user_id WHERE k.key_prefix = ?", (m.group(1),))
        r = next((r for r in rows if hmac.compare_digest(r["key_hash"], digest)), None)
        if r is None:
            raise AuthenticationError("the API key is not valid", "invalid")
        now = utc_now()
        if r["revoked_at"]:
            raise AuthenticationError("the API key was revoked; create a new one", "revoked")
        if r["expires_at"] and r["expires_at"] <= now:
            raise AuthenticationError(f"the API key expired at {r['expires_at']} UTC; create a new one", "expired")
        if not r["enabled"]:
            raise AuthenticationError(f"the account {r['username']} that owns this key is disabled", "disabled")
        if r["last_used_at"] != now:
            self._db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, r["id"]))
        scopes = tuple(s for s in from_json(r["scopes"], []) if s in SCOPES)
        return Actor(r["uid"], r["username"], r["role"], "api_key", scopes=scopes, key_id=r["id"])

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
