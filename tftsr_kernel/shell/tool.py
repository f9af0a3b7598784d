"""The model's ``run_shell_command`` tool: its definition and its handler, for the chat's tool loop.

The handler puts the issue's real values back into the placeholders of the model's command (the
command runs on this host), runs the same path as ``tftsr shell run`` (classify, policies,
remembered session decisions, approval through ``decide``), then builds the text the model gets back and clears it
through ``wb.pii.guard_outbound(issue_id, ...)``: output holding an address or a token reaches the
provider as placeholders, and if the guard cannot run nothing is returned
(:class:`~tftsr_kernel.errors.EgressBlockedError` propagates: the loop must send nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationError

TOOL_NAME = "run_shell_command"

#: the tool definition (name, description, JSON Schema of the arguments)
RUN_SHELL_COMMAND_TOOL = {
    "name": TOOL_NAME,
    "description": (
        "Run a shell or kubectl command on the investigator's host for this incident. Read-only commands "
        "(tier 1: ls, df -h, journalctl, kubectl get/describe/logs ...) run at once; commands that change "
        "something (tier 2) wait for a person to approve them; destructive commands (tier 3: rm, kill, "
        "find -delete, kubectl delete namespace ...) are always refused. Say why you want it in 'reason'. "
        "The output comes back with personal data and secrets replaced by placeholders."),
    "parameters": {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "the command line, as typed in bash", "maxLength": 65536},
            "reason": {"type": "string", "description": "why this command helps the investigation", "maxLength": 2000},
            "priority": {"type": "integer", "minimum": 1, "maximum": 100,
                         "description": "how urgent (1-100, default 50)"},
        },
        "required": ["command"],
        "additionalProperties": False,
    },
}

#: the shell's decisions as the chat's ``ai_tool_calls.decision`` values
DECISION_FOR_LOOP = {"auto": "auto", "allow_once": "allow_once", "allow_session": "allow_session", "deny": "deny",
                     "policy_deny": "policy_deny", "refused": "policy_deny", None: "timeout"}
MAX_OUTPUT_FOR_MODEL = 16000


@dataclass
class ToolOutcome:
    text: str            # what goes back to the model (cleared by the egress guard)
    status: str          # ok | error | denied (pending counts as denied: nothing ran)
    decision: str        # auto | allow_once | allow_session | deny | timeout | policy_deny
    action_id: str
    sha256: str          # of what was cleared, for the audit log
    server: str | None = None
    tool: str = TOOL_NAME

    @property
    def content(self) -> str:   # the chat loop's name for the text
        return self.text


def result_text(result) -> str:
    if result.status == "pending":
        return (f"Not run yet: the command is tier {result.tier} ({result.reason}) and waits for {result.approval_level} "
                f"approval (action {result.action_id}). A person can approve it in the chat or with "
                f"'tftsr shell approve {result.action_id}'.")
    if result.status == "denied":
        return f"Refused (tier {result.tier}): {result.reason}. Nothing ran; propose a read-only alternative."

    def cut(s):
        return s if len(s) <= MAX_OUTPUT_FOR_MODEL else s[:MAX_OUTPUT_FOR_MODEL] + "\n[... cut]"

    lines = [f"Exit code: {result.exit_code if not result.timed_out else 'none (timed out)'}",
             "Stdout:", cut(result.stdout) or "(empty)", "Stderr:", cut(result.stderr) or "(empty)"]
    if result.truncated:
        lines.append("(output was cut at the size limit)")
    return "\n".join(lines)


def handle_run_shell_command(wb, issue_id: str, arguments: dict, *, session_id: str | None = None,
                             decide=None) -> ToolOutcome:
    """Run the tool call ``arguments`` for ``issue_id``; ``decide(action)`` asks a person
    (returns 'allow_once' | 'allow_session' | 'deny', or None to leave it pending)."""
    if not isinstance(arguments, dict) or not isinstance(arguments.get("command"), str):
        raise ValidationError("run_shell_command needs a 'command' string")
    priority = arguments.get("priority", 50)
    if not isinstance(priority, int) or isinstance(priority, bool):
        priority = 50
    reason = arguments.get("reason")
    # The model only ever saw placeholders ("grep [Email_1] app.log"); the command runs on this host,
    # so it gets the issue's real values back (like a trusted MCP server's arguments). It is
    # classified, shown for approval and stored as it will run, never as the model wrote it.
    command = wb.pii.restore_placeholders(issue_id, arguments["command"])
    if isinstance(reason, str):
        reason = wb.pii.restore_placeholders(issue_id, reason)
    result = wb.shell.run_shell_command(issue_id, command, reason=reason if isinstance(reason, str) else None,
                                        priority=min(100, max(1, priority)), source="chat", session_id=session_id,
                                        decide=decide)
    cleared = wb.pii.guard_outbound(issue_id, result_text(result))
    status = "ok" if result.status == "executed" and result.exit_code == 0 else (
        "error" if result.status == "executed" else "denied")
    decision = DECISION_FOR_LOOP.get(result.decision if result.status != "pending" else None, "timeout")
    return ToolOutcome(cleared.payload, status, decision, result.action_id, cleared.sha256)


class ShellToolSource:
    """A tool source for the chat loop: ``tools()`` lists the definitions, ``handles(name)`` and
    ``run(call)`` (``call.name``, ``call.arguments``) run one for ``issue_id``; ``call(...)``
    is the same with explicit arguments."""

    source = name = "shell"

    def __init__(self, wb, issue_id: str | None = None, *, decide=None, session_id: str | None = None):
        self._wb = wb
        self._issue_id = issue_id
        self._decide = decide
        self._session_id = session_id

    def tools(self) -> list[dict]:
        return [dict(RUN_SHELL_COMMAND_TOOL)]

    def handles(self, name: str) -> bool:
        return name == TOOL_NAME

    def run(self, call) -> ToolOutcome:
        if self._issue_id is None:
            raise ValidationError("the shell tool runs commands for an issue; give the issue id")
        return self.call(call.name, call.arguments, issue_id=self._issue_id, session_id=self._session_id,
                         decide=self._decide)

    def call(self, tool: str, arguments: dict, *, issue_id: str, session_id: str | None = None,
             decide=None) -> ToolOutcome:
        if tool != TOOL_NAME:
            raise ValidationError(f"the shell tool source has no tool {tool!r}")
        return handle_run_shell_command(self._wb, issue_id, arguments, session_id=session_id, decide=decide)
