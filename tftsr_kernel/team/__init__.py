"""Team: users, roles, sessions, API keys, the acting user, and the HTTP API (``team.api``).

The kernel enforces roles: every service method that reads or changes something checks the
current :class:`Actor` (``require`` / ``@requires``), so the CLI, the panels and the HTTP API
get the same answer. ``wb.team`` is the service (``team.service.TeamService``).
"""

from .actor import LOCAL, NOBODY, Actor, acting_as, context_actor, require, requires
from .roles import PERMISSIONS, ROLE_PERMISSIONS, ROLES, SCOPES, role_needed

__all__ = ["Actor", "LOCAL", "NOBODY", "acting_as", "context_actor", "require", "requires",
           "PERMISSIONS", "ROLE_PERMISSIONS", "ROLES", "SCOPES", "role_needed"]
