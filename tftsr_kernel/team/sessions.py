"""Sign-in and sessions of :class:`~.service.TeamService`: passwords checked with Argon2id,
failed sign-ins rate-limited (per user name and per client) and audited, sessions whose random
token only the holder has (the database keeps its SHA-256)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from .._util import sha256_hex, utc_now, uuid7
from ..errors import AuthenticationError, RateLimitedError, ValidationError
from . import passwords
from .actor import NOBODY, Actor, require
from .models import SessionInfo, SignedIn

_USER_COLS = ("id, username, email, role, display_name, enabled, password_hash, os_user, last_login_at,"
              " created_at, updated_at")
SESSION_HOURS = 12
#: failed sign-ins allowed per window, per user name and per client address
RATE_WINDOW_MINUTES = 15
RATE_PER_USER = 5
RATE_PER_CLIENT = 20


def _ts(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _state(revoked_at, expires_at, now: str) -> str:
    if revoked_at:
        return "revoked"
    if expires_at and expires_at <= now:
        return "expired"
    return "active"


class SessionsMixin:
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
            r = conn.execute("SELECT s.id, s.user_id, s.via, u.username, u.role FROM sessions s"
                             " JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.revoked_at IS NULL",
                             (sha256_hex(token),)).fetchone()
            if r is None:
                return False
            conn.execute("UPDATE sessions SET revoked_at = ? WHERE id = ?", (utc_now(), r["id"]))
            # the row names the user signing out (the session itself has just ended)
            self._audit_event("sign_out", "session", r["id"], {"user_id": r["user_id"], "username": r["username"]},
                              as_actor=Actor(r["user_id"], r["username"], r["role"], "password"))
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

