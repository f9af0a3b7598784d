"""Who is acting: the :class:`Actor`, the acting context, and the authorization check.

Every service call runs as an actor. The actor of the current call is, in order:

1. the one set with ``acting_as(actor)`` for this thread / task (the HTTP API sets one per
   request, from the request's API key);
2. the workbench's own actor, ``wb.team.actor`` (the CLI's ``--as`` user or OS user, the
   dashboard's signed-in user, the JupyterHub user);
3. in single-user mode (no user exists yet) the actor ``local`` with every right.

``require(actor, permission)`` raises :class:`PermissionDeniedError` naming the role (or, for an
API key, the scope) that is missing. ``@requires("perm")`` applies it to a service method.
"""

from __future__ import annotations

import contextvars
import functools
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import PermissionDeniedError
from .roles import PERMISSIONS, ROLE_PERMISSIONS, role_needed, scope_permissions, scopes_for

#: how the actor was established
VIA = ("local", "password", "session", "api_key", "os_user", "hub", "internal", "none")


@dataclass(frozen=True)
class Actor:
    """The user a call runs as. ``scopes`` is None unless the actor came from an API key."""

    user_id: str
    name: str
    role: str | None                 # None: nobody (no permission at all)
    via: str = "local"
    scopes: tuple[str, ...] | None = None
    key_id: str | None = None        # the API key, when via == "api_key"
    session_id: str | None = None    # the dashboard session, when via == "session"

    @property
    def permissions(self) -> frozenset[str]:
        if self.role is None:
            return frozenset()
        perms = ROLE_PERMISSIONS[self.role]
        if self.scopes is not None:
            return perms & scope_permissions(self.scopes)
        return perms

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_local(self) -> bool:
        return self.via == "local"

    def to_dict(self) -> dict:
        return {"user_id": self.user_id, "name": self.name, "role": self.role, "via": self.via,
                "scopes": list(self.scopes) if self.scopes is not None else None}

    def __str__(self) -> str:
        return self.name


LOCAL = Actor("local", "local", "admin", "local")
NOBODY = Actor("", "nobody", None, "none")

_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("tftsr_actor", default=None)


@contextmanager
def acting_as(actor: Actor):
    """Run the enclosed calls (this thread / task only) as ``actor``."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def context_actor() -> Actor | None:
    return _current.get()


def require(actor: Actor, permission: str) -> Actor:
    """Return ``actor`` if it has ``permission``; else raise a refusal naming what is missing."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if actor.can(permission):
        return actor
    what = PERMISSIONS[permission]
    needed = role_needed(permission)
    if actor.role is None:
        raise PermissionDeniedError(
            f"nobody is signed in, so this call may not {what}: sign in (or use --as NAME or an API key) "
            f"as a user with the {needed} role", permission=permission, needed_role=needed)
    if actor.scopes is not None and permission in ROLE_PERMISSIONS[actor.role]:
        scopes = scopes_for(permission)
        raise PermissionDeniedError(
            f"the API key of {actor.name} lacks the scope {scopes[0]} needed to {what}; "
            f"create a key with --scope {scopes[0]}", permission=permission, needed_role=needed,
            needed_scope=scopes[0])
    raise PermissionDeniedError(
        f"{actor.name} has the {actor.role} role and may not {what}: this needs the {needed} role "
        f"(ask an admin: tftsr user role {actor.name} {needed})", permission=permission, needed_role=needed)


def requires(permission: str):
    """Decorator for service methods: check the current actor before the call.

    The actor is the context actor (:func:`acting_as`) or else the service's ``_actor()`` (the
    workbench's actor).
    """
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            require(_current.get() or self._actor(), permission)
            return fn(self, *args, **kwargs)

        wrapper.permission = permission
        return wrapper

    return deco
