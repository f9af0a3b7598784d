"""Typed results of the integrations service (names and fields from the reference)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import Record

SERVICES = ("confluence", "servicenow", "azuredevops")
AUTH_TYPES = ("token", "basic", "oauth")


@dataclass
class ConnectionResult(Record):
    success: bool
    message: str


@dataclass
class PublishResult(Record):
    id: str              # the page id
    url: str             # a direct link to the page
    title: str = ""
    version: int | None = None
    space_key: str | None = None
    document_id: str | None = None
    sent_sha256: str = ""
    redacted: bool = True


@dataclass
class TicketResult(Record):
    id: str              # sys_id or work item id
    ticket_number: str   # INC0010001, or the work item id
    url: str             # a direct link
    service: str = ""
    issue_id: str | None = None
    sent_sha256: str = ""
    redacted: bool = True


@dataclass
class IntegrationInfo(Record):
    """A configured service, as any list or get returns it: never a secret."""

    service: str
    base_url: str
    auth_type: str
    username: str | None
    project_name: str | None
    space_key: str | None
    has_credential: bool
    credential_expires_at: str | None
    token_hash_prefix: str | None   # the first 12 hex digits of the credential's SHA-256, for audit
    oauth: dict[str, Any] | None
    updated_at: str


@dataclass
class Space(Record):
    id: str
    key: str
    name: str
    type: str | None = None
    url: str | None = None


@dataclass
class Page(Record):
    id: str
    title: str
    type: str = "page"
    space_key: str | None = None
    version: int | None = None
    url: str | None = None
    excerpt: str | None = None


@dataclass
class Incident(Record):
    sys_id: str
    number: str
    short_description: str
    state: str | None = None
    urgency: str | None = None
    impact: str | None = None
    url: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkItem(Record):
    id: int
    title: str
    work_item_type: str | None = None
    state: str | None = None
    rev: int | None = None
    url: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Link(Record):
    """Where an issue's content went: ``{service, id, ticket_number, url}`` (and more)."""

    service: str
    kind: str
    id: str
    url: str
    ticket_number: str | None = None
    title: str | None = None
    version: int | None = None
    document_id: str | None = None
    issue_id: str | None = None
    redacted: bool = True
    created_at: str | None = None
    updated_at: str | None = None


@dataclass
class OAuthStart(Record):
    service: str
    auth_url: str
    state: str
    redirect_uri: str
    expires_at: str
