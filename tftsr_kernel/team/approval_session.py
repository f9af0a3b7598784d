"""What "allow for this session" means, for the chat's approval broker and the shell service alike.

A session is, in order: the actor's dashboard sign-in session (``signin:<id>``: it ends when they
sign out, it expires or is revoked), else the terminal session this process runs in
(``proc:<leader pid>:<leader start time>:<actor>``: it ends when the terminal's session leader
exits, so a second ``tftsr chat`` in the same shell still holds the decision, a new terminal does
not, and another user acting in the same process is asked again), else,
when the leader is gone or outside this PID namespace (a CI runner, a daemon, a container), this
process itself. Any other id (a chat conversation, ``broker:<uuid>`` after
``wb.approvals.new_session()``) lives until it is ended explicitly.
"""

from __future__ import annotations

import os

from .._util import utc_now


def current_session(actor) -> str:
    """The approval session of ``actor`` in this process (see the module docstring)."""
    if getattr(actor, "session_id", None):
        return f"signin:{actor.session_id}"
    sid = os.getsid(0)
    start = start_time(sid) if sid > 0 else ""
    if not start:
        sid = os.getpid()
        start = start_time(sid)
    # one process may act for several users (the HTTP API with their keys): each has their own
    return f"proc:{sid}:{start}:{getattr(actor, 'name', '') or ''}"


def session_alive(db, session: str) -> bool:
    """False once a sign-in session ended or a terminal session's leader exited."""
    if session.startswith("signin:"):
        row = db.query_one("SELECT revoked_at, expires_at FROM sessions WHERE id = ?", (session[7:],))
        return bool(row) and not row["revoked_at"] and (not row["expires_at"] or row["expires_at"] > utc_now())
    if session.startswith("proc:"):
        try:
            _, sid, start = session.split(":", 3)[:3]
            return start != "" and start_time(int(sid)) == start
        except ValueError:
            return False
    return True


def start_time(pid: int) -> str:
    """The start time (clock ticks since boot) of ``pid``, '' when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
        return data.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
