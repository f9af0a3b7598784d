"""Typed results of the MCP service (names and fields from the reference's MCP commands)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Record


@dataclass
class McpServer(Record):
    id: str
    name: str
    url: str
    transport_type: str              # "stdio" | "http"
    transport_config: str            # JSON: command/args/env (non-secret) or headers; never secrets
    auth_type: str                   # "none" | "api_key" | "bearer" | "oauth2"
    auth_value: None                 # always None in results (the reference's contract)
    enabled: bool
    trusted: bool
    last_discovered_at: str | None
    discovery_status: str            # "pending" | "connected" | "unreachable" | "error"
    discovery_error: str | None
    created_at: str
    updated_at: str
    has_auth: bool = False           # oauth2: signed in (an access token is stored)
    secret_env_names: list[str] = field(default_factory=list)
    #: oauth2 only: client_id, client_registered, scope, has_client_secret, issuer, signed_in,
    #: expires_at (never a token, code, verifier or secret)
    oauth: dict | None = None


@dataclass
class McpServerStatus(Record):
    server_id: str
    status: str
    error: str | None
    tool_count: int
    resource_count: int
    last_discovered_at: str | None
    prompt_count: int = 0


@dataclass
class McpTool(Record):
    id: str
    server_id: str
    server: str
    name: str
    tool_key: str                    # what the model calls it: mcp_{server}_{tool}
    description: str | None
    parameters: dict                 # the full JSON Schema the server declared
    annotations: dict
    approval: str                    # "auto" | "ask" | "deny"


@dataclass
class McpResource(Record):
    id: str
    server_id: str
    uri: str
    name: str | None
    description: str | None
    mime_type: str | None


@dataclass
class McpResourceContent(Record):
    """The text of one resource as read from its server (original text: it leaves the machine
    only through the egress guard, e.g. attached to a chat message)."""

    server_id: str
    server: str
    uri: str
    name: str | None
    mime_type: str | None
    text: str
    chars: int                       # characters the server sent (before any cut)
    truncated: bool
    skipped: list[str] = field(default_factory=list)   # binary parts left out, by MIME type


@dataclass
class McpCallResult(Record):
    server: str
    tool: str
    status: str                      # "ok" | "error" | "denied"
    decision: str                    # auto | allow_once | allow_session | deny | timeout | policy_deny
    content: str                     # what goes back to the model: cleared by the egress guard
    arguments_sha256: str
    result_sha256: str
