"""Roles, permissions and API-key scopes: the one place that decides who may do what.

Three roles, each a superset of the one before:

- ``viewer`` reads issues, timelines, documents and *redacted* logs and chats; changes nothing;
- ``analyst`` investigates: issues, uploads, PII review, chat, 5-Whys, documents, exports, and
  reads the originals of logs (every such read is audited by the service that serves it);
- ``admin`` also manages users, providers, settings, integrations, the database and exports the
  audit log.

An API key carries scopes; what it may do is its owner's role *intersected* with its scopes, so a
key never grants more than its owner has (and a role change takes effect on every key at once).
"""

from __future__ import annotations

ROLES = ("viewer", "analyst", "admin")

#: permission -> what it lets the actor do (used in refusals: "... may not <this>")
PERMISSIONS: dict[str, str] = {
    # viewer
    "issues:read": "read issues",
    "timeline:read": "read timelines",
    "documents:read": "read documents",
    "logs:read": "read redacted logs and images",
    "chat:read": "read redacted chats",
    "providers:read": "list AI providers",
    "shell:classify": "classify shell commands",
    # analyst
    "issues:write": "create, change or delete issues",
    "timeline:write": "add, edit or delete timeline events",
    "uploads:write": "upload or delete logs and images",
    "logs:read_original": "read the original (unredacted) text of a log",
    "pii:review": "detect, approve or reject PII",
    "chat:write": "chat with the AI and analyse logs",
    "whys:write": "record 5-Whys answers",
    "documents:write": "generate or edit documents",
    "export": "export documents and reports",
    "alerts:write": "open issues from alerts",
    "audit:read": "read the audit log",
    "shell:run": "run read-only shell commands, propose others and read their output",
    "shell:approve": "approve or deny proposed shell commands",
    # admin
    "users:manage": "manage users, sessions and other users' API keys",
    "providers:manage": "add, change or remove AI providers",
    "settings:manage": "change settings",
    "integrations:manage": "configure integrations",
    "audit:export": "export the audit log",
    "database:manage": "back up, re-key or verify the database",
    "shell:approve_admin": "approve shell commands a policy reserves for admins",
    "shell:manage": "manage kubeconfigs, sudo credentials and shell command policies",
}

_VIEWER = frozenset({"issues:read", "timeline:read", "documents:read", "logs:read", "chat:read",
                     "providers:read", "shell:classify"})
_ANALYST = _VIEWER | frozenset({"issues:write", "timeline:write", "uploads:write", "logs:read_original",
                                "pii:review", "chat:write", "whys:write", "documents:write", "export",
                                "alerts:write", "audit:read", "shell:run", "shell:approve"})
_ADMIN = frozenset(PERMISSIONS)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {"viewer": _VIEWER, "analyst": _ANALYST, "admin": _ADMIN}

#: API-key scope -> the permissions it covers
SCOPES: dict[str, frozenset[str]] = {
    "issues:read": frozenset({"issues:read", "timeline:read", "documents:read", "logs:read", "chat:read"}),
    "issues:write": frozenset({"issues:write", "timeline:write"}),
    "alerts:write": frozenset({"alerts:write"}),
    "logs:write": frozenset({"uploads:write", "pii:review"}),
    "logs:original": frozenset({"logs:read_original"}),
    "audit:read": frozenset({"audit:read"}),
    "admin": _ADMIN,
}

assert set(PERMISSIONS) == _ADMIN and _VIEWER < _ANALYST < _ADMIN
assert all(p in PERMISSIONS for s in SCOPES.values() for p in s)


def role_needed(permission: str) -> str:
    """The least role that has ``permission``."""
    for role in ROLES:
        if permission in ROLE_PERMISSIONS[role]:
            return role
    raise KeyError(permission)


def scopes_for(permission: str) -> list[str]:
    """The scopes that cover ``permission`` (narrowest first)."""
    found = [s for s, perms in SCOPES.items() if permission in perms]
    return sorted(found, key=lambda s: (len(SCOPES[s]), s))


def scope_permissions(scopes) -> frozenset[str]:
    out: set[str] = set()
    for s in scopes:
        out |= SCOPES[s]
    return frozenset(out)
