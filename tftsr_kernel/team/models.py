"""Typed results of the team service (users, sessions, API keys). None of them carries a
password hash, a key hash or a session token, except :class:`NewApiKey` / :class:`SignedIn`,
which return the secret once, to the caller that created it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Record


@dataclass
class User(Record):
    id: str
    username: str
    email: str | None
    role: str
    display_name: str | None
    enabled: bool
    has_password: bool
    os_user: str | None
    last_login_at: str | None
    created_at: str
    updated_at: str


@dataclass
class ApiKeyInfo(Record):
    id: str
    user_id: str
    username: str
    name: str
    prefix: str                 # "tftsr_" + the 8 stored characters
    scopes: list[str] = field(default_factory=list)
    expires_at: str | None = None
    last_used_at: str | None = None
    created_at: str = ""
    revoked_at: str | None = None
    state: str = "active"       # active | expired | revoked


@dataclass
class NewApiKey(Record):
    """A key just created: ``key`` is shown this once and stored nowhere."""

    id: str
    name: str
    prefix: str
    key: str
    scopes: list[str]
    expires_at: str | None
    user: str

    def __repr__(self) -> str:  # never print the key by accident
        return f"NewApiKey(id={self.id!r}, name={self.name!r}, prefix={self.prefix!r}, scopes={self.scopes!r})"


@dataclass
class SessionInfo(Record):
    id: str
    user_id: str
    username: str
    via: str
    client: str | None
    created_at: str
    expires_at: str
    last_seen_at: str | None
    revoked_at: str | None
    state: str = "active"       # active | expired | revoked


@dataclass
class SignedIn(Record):
    """A new session: ``token`` goes into the session cookie; only its SHA-256 is stored."""

    token: str
    session: SessionInfo

    def __repr__(self) -> str:
        return f"SignedIn(session={self.session.id!r}, user={self.session.username!r})"
