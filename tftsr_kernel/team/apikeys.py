"""API keys of :class:`~.service.TeamService`: ``tftsr_<8 chars>_<40 chars>``, only the
SHA-256 and the 8 characters stored, scopes enforced within the owner's role, expiry,
revocation, last use."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta

from .._util import from_json, sha256_hex, to_json, utc_now, uuid7
from ..errors import AuthenticationError, ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from .actor import Actor, require
from .models import ApiKeyInfo, NewApiKey
from .roles import ROLE_PERMISSIONS, SCOPES
from .sessions import _now, _state, _ts

KEY_RE = re.compile(r"^tftsr_([a-z2-7]{8})_([A-Za-z0-9_-]{40})$")
_B32 = "abcdefghijklmnopqrstuvwxyz234567"
MAX_KEY_DAYS = 3650


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


class ApiKeysMixin:
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

