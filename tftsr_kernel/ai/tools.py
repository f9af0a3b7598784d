"""Tools the model may call in a chat turn: the shared loop, its tool sources and the approvals.

A *tool source* (:class:`ToolSource`) offers tool definitions and runs a call; MCP servers are
one (``tftsr_kernel.mcp.service.McpToolSource``), shell execution will be another. The chat's
loop (:func:`run_tool_rounds`) sends the definitions in each provider's format, runs the calls the
model asks for, sends the results back, and stops after :data:`MAX_TOOL_ROUNDS` rounds.

Every call is approved first (:class:`Approvals`, ``wb.approvals``): each tool has a policy
``auto | ask | deny``; an ``ask`` call waits for a decision (``allow_once``, ``allow_session``,
``deny``) from the approver the caller gave (the terminal) or from :meth:`Approvals.decide`
(a panel), up to :attr:`Approvals.timeout` seconds, then it is denied and the model is told.
Decisions are stored in ``approval_decisions``; ``allow_session`` holds for the rest of the
approval session (:attr:`Approvals.session_id`: the dashboard sign-in session, else the terminal
session, as for shell commands; :meth:`Approvals.new_session` ends it) and never after it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from .._util import utc_now, uuid7
from ..errors import ValidationError

#: rounds of tool calls one chat turn may make before the loop stops asking the model
MAX_TOOL_ROUNDS = 5
#: tool calls one round may make (the rest are refused and the model is told)
MAX_CALLS_PER_ROUND = 8
#: seconds an ``ask`` call waits for a decision before it becomes a denial
APPROVAL_TIMEOUT_S = 60.0
DECISIONS = ("allow_once", "allow_session", "deny")
POLICIES = ("auto", "ask", "deny")


@dataclass
class ToolSpec:
    """One tool as the model sees it (``name`` is the key the model calls it by)."""

    name: str
    description: str
    parameters: dict
    source: str = ""

    def wire(self) -> dict:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass
class ToolCall:
    """A call the model asked for (arguments as the model sent them: placeholders)."""

    id: str
    name: str
    arguments: dict


@dataclass
class ToolOutcome:
    status: str               # "ok" | "error" | "denied"
    decision: str             # auto | allow_once | allow_session | deny | timeout | policy_deny
    content: str              # what goes back to the model (cleared by the egress guard)
    server: str | None = None
    tool: str = ""


@dataclass
class ApprovalRequest:
    id: str
    pattern: str              # e.g. "mcp:time.get_current_time"
    summary: str              # what is asked, for the prompt (placeholders only)
    arguments: dict
    session_id: str
    created_at: str = field(default_factory=utc_now)
    decision: str | None = None
    #: seconds this request waits for a decision before it becomes a denial
    timeout: float | None = None
    #: structured facts for a panel's card: ``kind`` ("mcp" | "shell"), ``server`` and ``tool`` of an
    #: MCP call; ``command``, ``tier``, ``tier_reason``, ``why`` (the model's reason),
    #: ``approval_level`` and ``action_id`` of a shell command (placeholders only)
    details: dict = field(default_factory=dict)
    _event: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def __post_init__(self):
        if not self.details.get("kind"):  # what the pattern says ("mcp:SERVER.TOOL", "shell:COMMAND")
            kind, _, rest = self.pattern.partition(":")
            facts = {"kind": kind}
            if kind == "mcp" and "." in rest:
                facts["server"], facts["tool"] = rest.split(".", 1)
            self.details = {**facts, **self.details}

    def to_dict(self) -> dict:
        return {"id": self.id, "pattern": self.pattern, "summary": self.summary, "arguments": self.arguments,
                "session_id": self.session_id, "created_at": self.created_at, "timeout": self.timeout,
                "details": dict(self.details)}


#: an approver: gets the request, returns a decision, or None to leave it to ``decide``/the timeout
Approver = Callable[[ApprovalRequest], "str | None"]


class ToolSource(Protocol):
    def tools(self) -> list[ToolSpec]: ...

    def handles(self, name: str) -> bool: ...

    def run(self, call: ToolCall) -> ToolOutcome: ...


class Approvals:
    """The approval broker (``wb.approvals``): one per opened workbench."""

    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db
        self._pending: dict[str, ApprovalRequest] = {}
        self._lock = threading.Lock()
        #: after new_session(): (the session it ended, the one it started in its place)
        self._replaced: tuple[str, str] | None = None
        #: seconds an ``ask`` waits (the setting is read per request when present)
        self.timeout = APPROVAL_TIMEOUT_S

    @property
    def session_id(self) -> str:
        """The approval session (``tftsr_kernel.team.approval_session``): the actor's sign-in
        session, else the terminal session, until :meth:`new_session` starts one of its own."""
        from ..team.approval_session import current_session

        natural = current_session(self._wb.team.actor)
        if self._replaced is not None and self._replaced[0] == natural:
            return self._replaced[1]
        return natural

    def new_session(self) -> str:
        """End the approval session: "allow for this session" decisions stop holding."""
        from ..team.approval_session import current_session

        self._replaced = (current_session(self._wb.team.actor), f"broker:{uuid7()}")
        return self._replaced[1]

    def pending(self) -> list[dict]:
        """Requests waiting for a decision (oldest first)."""
        with self._lock:
            return [r.to_dict() for r in self._pending.values()]

    def decide(self, request_id: str, decision: str) -> None:
        """Answer a waiting request: ``allow_once``, ``allow_session`` or ``deny``."""
        if decision not in DECISIONS:
            raise ValidationError(f"decision must be one of {', '.join(DECISIONS)}")
        with self._lock:
            req = self._pending.get(request_id)
        if req is None:
            from ..errors import NotFoundError

            raise NotFoundError("no approval request with that id is waiting (it was answered or timed out)")
        req.decision = decision
        req._event.set()

    def session_allows(self, pattern: str, session_id: str | None = None) -> bool:
        """True when ``pattern`` was allowed for the rest of the (current) approval session."""
        from ..team.approval_session import session_alive

        session = session_id or self.session_id
        if not session_alive(self._db, session):
            return False
        row = self._db.query_one("SELECT 1 FROM approval_decisions WHERE command_pattern = ? AND session_id = ?"
                                 " AND decision = 'allow_session' LIMIT 1", (pattern, session))
        return row is not None

    def _record(self, pattern: str, decision: str, session_id: str, reason: str | None = None) -> None:
        did = uuid7()
        with self._db.write() as conn:
            conn.execute("INSERT INTO approval_decisions(id, command_pattern, decision, session_id, decided_at)"
                         " VALUES (?,?,?,?,?)", (did, pattern, decision, session_id, utc_now()))
            self._wb.audit.write_audit_event("approval_decision", "approval_decision", did, {
                "pattern": pattern, "decision": decision, "session_id": session_id,
                **({"reason": reason} if reason else {})})

    def request(self, pattern: str, summary: str, arguments: dict, *, approver: Approver | None = None,
                allow: Sequence[str] = (), timeout: float | None = None, record: bool = True,
                details: dict | None = None) -> str:
        """Ask for a decision on one ``ask`` call; returns the decision (``timeout`` when nobody
        answered in time, which counts as a denial). ``allow`` patterns are approved for this
        call without asking (``tftsr chat --allow-tool``); ``details`` are structured facts for
        the approver's card (:attr:`ApprovalRequest.details`).

        ``record=False``: the caller owns the decision and stores it itself (the shell service
        keeps its own ``approval_decisions`` rows, with the proposer and the approval level), so
        the broker only asks; nothing is remembered or written here."""
        session = self.session_id
        if record and self.session_allows(pattern, session):
            return "allow_session"
        if pattern in allow:
            if record:
                self._record(pattern, "allow_once", session, "allowed for the turn by the caller")
            return "allow_once"
        wait = self.timeout if timeout is None else timeout
        req = ApprovalRequest(uuid7(), pattern, summary, arguments, session, timeout=wait, details=dict(details or {}))
        with self._lock:
            self._pending[req.id] = req
        try:
            decision = approver(req) if approver is not None else None
            if decision is None:
                req._event.wait(wait)
                decision = req.decision
        finally:
            with self._lock:
                self._pending.pop(req.id, None)
        if decision is None:
            if record:
                self._record(pattern, "deny", session, "timed out")
            return "timeout"
        if decision not in DECISIONS:
            decision = "deny"
        if record:
            self._record(pattern, decision, session)
        return decision


def tool_message_content(outcome: ToolOutcome) -> str:
    """The text the model gets for a call (a denial says so, so the model can go on without it)."""
    if outcome.status == "denied":
        why = {"timeout": "nobody approved it in time", "policy_deny": "this tool is set to deny",
               "deny": "the user denied it"}.get(outcome.decision, "it was not approved")
        return f"The tool call was not run: {why}. Continue without its result."
    if outcome.status == "error":
        return "The tool reported an error: " + outcome.content
    return outcome.content


@dataclass
class ToolRound:
    round: int
    calls: list[tuple[ToolCall, ToolOutcome]]


def find_source(sources: Sequence[ToolSource], name: str) -> ToolSource | None:
    return next((s for s in sources if s.handles(name)), None)


def run_calls(sources: Sequence[ToolSource], calls: Sequence[ToolCall], *, on_tool=None,
              round_no: int = 1) -> ToolRound:
    """Run one round of calls (each through its source's approval and guard)."""
    done: list[tuple[ToolCall, ToolOutcome]] = []
    for i, call in enumerate(calls):
        if i >= MAX_CALLS_PER_ROUND:
            outcome = ToolOutcome("denied", "policy_deny",
                                  f"The tool call was not run: at most {MAX_CALLS_PER_ROUND} calls per round.",
                                  None, call.name)
        else:
            source = find_source(sources, call.name)
            if source is None:
                outcome = ToolOutcome("error", "policy_deny", f"there is no tool named {call.name!r}", None, call.name)
            else:
                if on_tool is not None:
                    on_tool({"event": "call", "round": round_no, "tool": call.name, "call_id": call.id,
                             "source": getattr(source, "source", None),
                             "arguments": json.dumps(call.arguments, ensure_ascii=False)})
                outcome = source.run(call)
        if on_tool is not None:
            on_tool({"event": "result", "round": round_no, "tool": call.name, "call_id": call.id,
                     "server": outcome.server, "status": outcome.status, "decision": outcome.decision,
                     "content": outcome.content[:2000], "length": len(outcome.content)})
        done.append((call, outcome))
    return ToolRound(round_no, done)
