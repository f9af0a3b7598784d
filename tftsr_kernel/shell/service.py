"""``wb.shell``: the investigator's hands on the host and the cluster, in three tiers.

Every command is classified (:func:`.classify.classify`). Tier 3 is refused and recorded. Then the
enabled policies (lowest priority first, first match) decide: auto_approve, require_approval at a
level (analyst or admin) or deny; without a matching policy tier 1 runs at once and tier 2 needs
an analyst's approval. A command that needs approval becomes a pending action (reason, target,
priority) unless the same actor allowed the same command "for this session" earlier in a session
that has not ended (``approval_decisions``). Only a role at the action's level may approve or deny;
approving runs it. Every proposal, decision and run is audited and on the issue's timeline; every
run is stored in ``command_executions`` (the database is SQLCipher-encrypted). The text that goes
back to a model is cleared by ``wb.pii.guard_outbound`` (see :mod:`.tool`).

Sudo: a command that runs ``sudo`` needs an admin's approval unless a policy says otherwise; the
password an admin stored for this OS account (``sudo_config``) is offered to it as :mod:`.sudo`
describes, and hidden in every command's output.

Sessions: a dashboard sign-in session (``signin:<id>``, ends when signed out or expired), else
the terminal (or kernel) session of this process (``proc:<sid>:<start time>``, ends when its
leader exits), or an id the caller gives (a chat conversation), which ends with
:meth:`ShellService.end_session`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from .._util import from_json, to_json, utc_now, uuid7
from ..errors import ConflictError, NotFoundError, ValidationError
from ..team.actor import require
from ..team.approval_session import current_session, session_alive
from . import policies as pol
from . import runner, sudo
from .classify import Verdict, classify
from .rules import SITE_CATEGORIES
from .errors import KubeconfigError, ShellError
from .lexer import ParseError, parse

KUBE_PROGRAMS = {"kubectl", "oc", "helm", "kubectx", "kubens", "k9s", "stern", "kustomize"}
LEVEL_PERMISSION = {"analyst": "shell:approve", "admin": "shell:approve_admin"}
SOURCES = ("cli", "chat", "api", "panel")
MAX_KUBECONFIG = 1024 * 1024


@dataclass
class ShellAction:
    id: str
    issue_id: str
    command: str
    tier: int
    tier_reason: str
    reason: str | None
    target: dict
    priority: int
    status: str
    approval_level: str | None
    policy_name: str | None
    decision: str | None
    requested_by: str
    source: str
    decided_by: str | None
    decided_at: str | None
    execution_id: str | None
    exit_code: int | None
    created_at: str
    executed_at: str | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ShellResult:
    """What a run, a proposal or a refusal came to. ``status``: executed | pending | denied."""

    action_id: str
    tier: int
    status: str
    reason: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    approval_level: str | None = None
    decision: str | None = None
    timed_out: bool = False
    truncated: bool = False
    execution_id: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Execution:
    id: str
    issue_id: str | None
    action_id: str | None
    command: str
    tier: int
    approval_status: str
    actor: str | None
    approved_by: str | None
    exit_code: int | None
    stdout: str
    stderr: str
    execution_time_ms: int | None
    timed_out: bool
    truncated: bool
    executed_at: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Policy:
    id: str
    name: str
    description: str | None
    condition: str
    action: str
    approval_level: str | None
    priority: int
    enabled: bool
    created_by: str | None
    created_at: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SiteCommandRecord:
    """A command this site declared with its tier (``shell_commands``)."""

    id: str
    command_template: str
    tier: int
    category: str
    description: str | None
    created_at: str

    def to_dict(self) -> dict:
        return asdict(self)




@dataclass
class Kubeconfig:
    id: str
    name: str
    context: str
    cluster_url: str | None
    contexts: list = field(default_factory=list)   # [{"name", "cluster", "namespace", "user"}]
    is_active: bool = False
    uploaded_at: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _action(row) -> ShellAction:
    return ShellAction(row["id"], row["issue_id"], row["command"], row["tier"], row["tier_reason"], row["reason"],
                       from_json(row["target"], {}), row["priority"], row["status"], row["approval_level"],
                       row["policy_name"], row["decision"], row["requested_by"], row["source"], row["decided_by"],
                       row["decided_at"], row["execution_id"], row["exit_code"], row["created_at"], row["executed_at"])


_ACTION_SQL = ("SELECT a.*, e.exit_code FROM shell_actions a LEFT JOIN command_executions e ON e.id = a.execution_id")


class ShellService:
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db
        self.timeout = runner.DEFAULT_TIMEOUT
        self.output_cap = runner.DEFAULT_OUTPUT_CAP
        self.cwd: str | None = None

    # -- classification ----------------------------------------------------------------------------
    def classify(self, command: str) -> Verdict:
        """The tier and reason of ``command``, with this site's declared commands (nothing runs)."""
        return classify(command, self._site())

    def _site(self) -> tuple:
        from .classify import site_command

        out = []
        for r in self._db.query("SELECT command_template, tier, description FROM shell_commands ORDER BY created_at, id"):
            try:
                out.append(site_command(r["command_template"], r["tier"], r["description"]))
            except ValueError:
                continue   # a row written by another tool that is not a template: ignored, never loosening
        return tuple(out)

    # -- running and proposing ---------------------------------------------------------------------
    def _actor(self):
        return self._wb.team.actor

    def _session(self, session_id: str | None) -> str:
        return str(session_id) if session_id else current_session(self._actor())

    def _session_alive(self, session: str) -> bool:
        return session_alive(self._db, session)

    def _facts(self, issue_id: str, command: str, verdict: Verdict, source: str) -> dict:
        issue = self._wb.issues.get_issue_record(issue_id)
        actor = self._actor()
        subs = []
        try:
            for c in parse(command).commands:
                words = [w.text for w in c.words if not w.text.startswith("-")]
                if len(words) >= 2 and not c.pseudo:
                    subs.append(words[1])
        except ParseError:
            pass
        active = self._active_kubeconfig_row()
        return {"tier": verdict.tier, "program": list(verdict.programs), "subcommand": subs, "command": command,
                "severity": issue.severity, "category": issue.category, "source": source, "actor": actor.name,
                "role": actor.role, "context": active["context"] if active else None}

    def _policy_decision(self, facts: dict) -> tuple[str, str | None, dict | None]:
        """(action, approval level, policy row) of the first matching enabled policy, else the default."""
        for row in self._db.query("SELECT * FROM policies WHERE enabled = 1 ORDER BY priority, id"):
            try:
                clauses = pol.parse_condition(row["condition"])
            except ValidationError:  # a stored condition that no longer reads: fail closed
                return "require_approval", "admin", dict(row)
            if pol.matches(clauses, facts):
                level = row["approval_level"] or "analyst"
                return row["action"], level, dict(row)
        if facts["tier"] == 1:
            return "auto_approve", None, None
        if "sudo" in facts["program"]:   # root on this host: an admin decides unless a policy says otherwise
            return "require_approval", "admin", None
        return "require_approval", "analyst", None

    def run_shell_command(self, issue_id: str, command: str, *, reason: str | None = None, priority: int = 50,
                          target: dict | None = None, source: str = "cli", session_id: str | None = None,
                          decide=None) -> ShellResult:
        """Classify, let the policies decide, then run, refuse or propose ``command`` for the issue.

        ``decide(action) -> 'allow_once' | 'allow_session' | 'deny' | None`` is asked when the
        command needs approval (a terminal prompt, the chat's buttons); None leaves it pending.
        """
        self._wb.issues.require(issue_id)
        if not isinstance(command, str) or not command.strip():
            raise ValidationError("give a command to run")
        if "\x00" in command:
            raise ValidationError("the command holds a NUL byte")
        if source not in SOURCES:
            raise ValidationError(f"source must be one of: {', '.join(SOURCES)}")
        if not isinstance(priority, int) or not 1 <= priority <= 100:
            raise ValidationError("priority must be a whole number from 1 to 100")
        command = command.strip()
        verdict = classify(command, self._site())
        actor = self._actor()
        session = self._session(session_id)
        active = self._active_kubeconfig_row() if set(verdict.programs) & KUBE_PROGRAMS else None
        tgt = dict(target or {})
        if active:
            tgt.setdefault("kubeconfig", active["name"])
            tgt.setdefault("context", active["context"])
        if verdict.tier == 3:
            aid = self._new_action(issue_id, command, verdict, reason, tgt, priority, "denied", None, None,
                                   "refused", source, session, active)
            self._decided(aid, "refused", f"refused: tier 3 ({verdict.reason})", None)
            return ShellResult(aid, 3, "denied", verdict.reason, decision="refused")
        action, level, policy = self._policy_decision(self._facts(issue_id, command, verdict, source))
        if action == "deny":
            aid = self._new_action(issue_id, command, verdict, reason, tgt, priority, "denied", level, policy,
                                   "policy_deny", source, session, active)
            self._decided(aid, "policy_deny", f"denied by policy {policy['name']}", None)
            return ShellResult(aid, verdict.tier, "denied", f"denied by policy {policy['name']}", decision="policy_deny")
        if action == "auto_approve":
            aid = self._new_action(issue_id, command, verdict, reason, tgt, priority, "auto_approved", None, policy,
                                   "auto", source, session, active)
            return self._execute(aid, "auto", None)
        remembered = self._remembered(command, actor.name, level, session)
        if remembered:
            aid = self._new_action(issue_id, command, verdict, reason, tgt, priority, "approved", level, policy,
                                   "allow_session", source, session, active)
            self._decided(aid, "allow_session", f"allowed for this session by {remembered}", remembered)
            return self._execute(aid, "approved", remembered)
        aid = self._new_action(issue_id, command, verdict, reason, tgt, priority, "pending", level, policy, None,
                               source, session, active)
        self._wb.timeline.add_timeline_event(
            issue_id, "shell_command_proposed", f"Command proposed (tier {verdict.tier}, needs {level} approval): "
            f"{_short(command)}", {"action_id": aid, "tier": verdict.tier, "approval_level": level})
        pending = ShellResult(aid, verdict.tier, "pending", verdict.reason, approval_level=level)
        if decide is not None:
            choice = decide(self.get_action(aid))
            if choice in ("allow_once", "allow_session"):
                return self.approve(aid, remember="session" if choice == "allow_session" else "once",
                                    session_id=session)
            if choice == "deny":
                return self.deny(aid)
        return pending

    def _new_action(self, issue_id, command, verdict, reason, target, priority, status, level, policy, decision,
                    source, session, active) -> str:
        aid, now = uuid7(), utc_now()
        actor = self._actor().name
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO shell_actions(id, issue_id, command, tier, tier_reason, reason, target, priority, status,"
                " approval_level, policy_id, policy_name, decision, requested_by, source, session_id, kubeconfig_id,"
                " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (aid, issue_id, command, verdict.tier, verdict.reason, reason, to_json(target), priority, status, level,
                 policy["id"] if policy else None, policy["name"] if policy else None, decision, actor, source, session,
                 active["id"] if active else None, now))
            self._wb.audit.write_audit_event("propose_shell_command", "shell_action", aid, {
                "issue_id": issue_id, "tier": verdict.tier, "status": status, "source": source,
                "policy": policy["name"] if policy else None})
        return aid

    def _decided(self, aid: str, decision: str, text: str, by: str | None) -> None:
        row = self._db.query_one("SELECT issue_id, command, tier FROM shell_actions WHERE id = ?", (aid,))
        event = "shell_command_denied" if decision in ("deny", "policy_deny", "refused") else "shell_command_approved"
        self._wb.timeline.add_timeline_event(row["issue_id"], event, f"{text[:1].upper() + text[1:]}: "
                                             f"{_short(row['command'])}", {"action_id": aid, "decision": decision,
                                                                           "tier": row["tier"], "by": by})

    def _remembered(self, command: str, actor: str, level: str, session: str) -> str | None:
        pattern = _pattern(actor, level, command)
        now = utc_now()
        row = self._db.query_one(
            "SELECT id FROM approval_decisions WHERE command_pattern = ? AND session_id = ? AND decision = 'allow_session'"
            " AND (expires_at IS NULL OR expires_at > ?) ORDER BY decided_at DESC LIMIT 1", (pattern, session, now))
        if row is None or not self._session_alive(session):
            return None
        who = self._db.query_one(
            "SELECT decided_by FROM shell_actions WHERE session_id = ? AND command = ? AND decision = 'allow_session'"
            " AND decided_by IS NOT NULL ORDER BY decided_at DESC LIMIT 1", (session, command))
        return who["decided_by"] if who else actor

    def _load(self, action_id: str):
        row = self._db.query_one(_ACTION_SQL + " WHERE a.id = ?", (action_id,))
        if row is None:
            raise NotFoundError(f"shell action {action_id} not found (tftsr shell history lists them)")
        return row

    def _check_level(self, row) -> None:
        require(self._actor(), LEVEL_PERMISSION.get(row["approval_level"] or "analyst", "shell:approve_admin"))

    def approve(self, action_id: str, *, remember: str = "once", session_id: str | None = None) -> ShellResult:
        """Approve a pending action and run it; ``remember='session'`` allows the same command for
        the same proposer again until the session ends."""
        if remember not in ("once", "session"):
            raise ValidationError("remember must be 'once' or 'session'")
        row = self._load(action_id)
        if row["status"] != "pending":
            raise ConflictError(f"shell action {action_id} is {row['status']}, not pending")
        self._check_level(row)
        verdict = classify(row["command"], self._site())   # the rules may have changed since it was proposed
        if verdict.tier == 3:
            self._set_decision(action_id, "denied", "refused", "now tier 3")
            self._decided(action_id, "refused", f"refused: tier 3 ({verdict.reason})", self._actor().name)
            return ShellResult(action_id, 3, "denied", verdict.reason, decision="refused")
        action, level, policy = self._policy_decision(
            self._facts(row["issue_id"], row["command"], verdict, row["source"]))
        if action == "deny":
            self._set_decision(action_id, "denied", "policy_deny", f"policy {policy['name']}")
            self._decided(action_id, "policy_deny", f"denied by policy {policy['name']}", None)
            return ShellResult(action_id, verdict.tier, "denied", f"denied by policy {policy['name']}",
                               decision="policy_deny")
        if level and level != row["approval_level"]:
            require(self._actor(), LEVEL_PERMISSION[level])
        decision = "allow_session" if remember == "session" else "allow_once"
        me = self._actor().name
        session = session_id or row["session_id"] or self._session(None)
        with self._db.write() as conn:
            self._set_decision(action_id, "approved", decision, None)
            did = uuid7()
            conn.execute("INSERT INTO approval_decisions(id, command_pattern, decision, session_id, decided_at)"
                         " VALUES (?,?,?,?,?)", (did, _pattern(row["requested_by"], level or row["approval_level"]
                                                               or "analyst", row["command"]), decision,
                                                 session if decision == "allow_session" else None, utc_now()))
            self._wb.audit.write_audit_event("shell_approval_decision", "approval_decision", did,
                                             {"action_id": action_id, "decision": decision})
        self._decided(action_id, decision, "allowed for this session" if remember == "session" else "allowed once", me)
        return self._execute(action_id, "approved", me)

    def deny(self, action_id: str, *, reason: str | None = None) -> ShellResult:
        row = self._load(action_id)
        if row["status"] != "pending":
            raise ConflictError(f"shell action {action_id} is {row['status']}, not pending")
        self._check_level(row)
        with self._db.write() as conn:
            self._set_decision(action_id, "denied", "deny", reason)
            did = uuid7()
            conn.execute("INSERT INTO approval_decisions(id, command_pattern, decision, session_id, decided_at)"
                         " VALUES (?,?,?,?,?)", (did, _pattern(row["requested_by"], row["approval_level"] or "analyst",
                                                               row["command"]), "deny", None, utc_now()))
            self._wb.audit.write_audit_event("shell_approval_decision", "approval_decision", did,
                                             {"action_id": action_id, "decision": "deny"})
        self._decided(action_id, "deny", "denied" + (f" ({reason})" if reason else ""), self._actor().name)
        return ShellResult(action_id, row["tier"], "denied", reason or "denied", decision="deny")

    def _set_decision(self, action_id, status, decision, reason) -> None:
        """Move a pending action to its decision; a second decider racing the first gets a conflict."""
        me = self._actor().name
        cur = self._db.execute("UPDATE shell_actions SET status = ?, decision = ?, decided_by = ?, decided_at = ?,"
                               " decision_reason = ? WHERE id = ? AND status = 'pending'",
                               (status, decision, me, utc_now(), reason, action_id))
        if cur.rowcount == 0:
            raise ConflictError(f"shell action {action_id} was decided by someone else meanwhile")

    def end_session(self, session_id: str | None = None) -> int:
        """End a session's "allow for this session" decisions now; returns how many ended."""
        session = self._session(session_id)
        now = utc_now()
        with self._db.write() as conn:
            cur = conn.execute("UPDATE approval_decisions SET expires_at = ? WHERE session_id = ? AND"
                               " (expires_at IS NULL OR expires_at > ?)", (now, session, now))
            if cur.rowcount:
                self._wb.audit.write_audit_event("end_shell_session", "shell_session", session[:100],
                                                 {"decisions": cur.rowcount})
        return cur.rowcount

    def _execute(self, action_id: str, approval: str, approved_by: str | None) -> ShellResult:
        row = self._load(action_id)
        verdict = classify(row["command"], self._site())
        env = runner.scrubbed_env()
        kube_row = None
        content = None
        password = self._sudo_password(needed="sudo" in verdict.programs)   # given to `sudo ...`, hidden in all output
        if set(verdict.programs) & KUBE_PROGRAMS:
            kube_row = (self._db.query_one("SELECT * FROM kubeconfig_files WHERE id = ?", (row["kubeconfig_id"],))
                        if row["kubeconfig_id"] else None)
            if kube_row is not None:
                content = self._wb.secrets.decrypt(kube_row["encrypted_content"], "kubeconfig")
        try:
            if set(verdict.programs) & KUBE_PROGRAMS:
                with runner.private_kubeconfig(content) as (d, path):
                    env["KUBECONFIG"] = path
                    env["KUBECACHEDIR"] = os.path.join(d, "cache")
                    result = runner.run(row["command"], verdict.argv, env=env, timeout=self.timeout,
                                        output_cap=self.output_cap, cwd=self.cwd, sudo_password=password)
            else:
                result = runner.run(row["command"], verdict.argv, env=env, timeout=self.timeout,
                                    output_cap=self.output_cap, cwd=self.cwd, sudo_password=password)
        except OSError as exc:
            raise ShellError(f"the command could not be started: {exc.strerror or exc}") from None
        finally:
            content = password = None
        eid, now = uuid7(), utc_now()
        status = "failed" if result.timed_out else "executed"
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO command_executions(id, issue_id, command, tier, approval_status, kubeconfig_id, exit_code,"
                " stdout, stderr, execution_time_ms, executed_at, action_id, actor, approved_by, timed_out, truncated)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (eid, row["issue_id"], row["command"], row["tier"], approval, kube_row["id"] if kube_row else None,
                 result.exit_code, result.stdout, result.stderr, result.duration_ms, now, action_id,
                 row["requested_by"], approved_by, int(result.timed_out), int(result.truncated)))
            conn.execute("UPDATE shell_actions SET status = ?, execution_id = ?, executed_at = ? WHERE id = ?",
                         (status, eid, now, action_id))
            self._wb.audit.write_audit_event("shell_command_execution", "command_execution", eid, {
                "action_id": action_id, "issue_id": row["issue_id"], "tier": row["tier"], "approval": approval,
                "exit_code": result.exit_code, "timed_out": result.timed_out, "ms": result.duration_ms})
            if result.sudo_password_given:
                self._wb.audit.write_audit_event("sudo_command", "command_execution", eid, {
                    "command": _short(row["command"]), "username": sudo.os_user(),
                    "note": "the stored sudo password was offered through sudo's askpass helper"})
            self._wb.timeline.add_timeline_event(
                row["issue_id"], "shell_command_executed",
                f"Command ran (tier {row['tier']}, exit {result.exit_code if not result.timed_out else 'timeout'}): "
                f"{_short(row['command'])}", {"action_id": action_id, "execution_id": eid, "exit_code": result.exit_code})
        return ShellResult(action_id, row["tier"], "executed", row["tier_reason"], result.exit_code, result.stdout,
                           result.stderr, row["approval_level"], row["decision"] or approval, result.timed_out,
                           result.truncated, eid)

    # -- reading -------------------------------------------------------------------------------------
    def get_action(self, action_id: str) -> ShellAction:
        return _action(self._load(action_id))

    def list_actions(self, issue_id: str | None = None, *, status: str | None = None,
                     limit: int = 500) -> list[ShellAction]:
        """Proposed and run commands, newest first."""
        where, params = [], []
        if issue_id:
            where.append("a.issue_id = ?"); params.append(issue_id)
        if status:
            where.append("a.status = ?"); params.append(status)
        sql = _ACTION_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.created_at DESC, a.id DESC"
        return [_action(r) for r in self._db.query(sql + f" LIMIT {int(limit)}", params)]

    def get_execution(self, execution_id: str) -> Execution:
        r = self._db.query_one("SELECT * FROM command_executions WHERE id = ?", (execution_id,))
        if r is None:
            raise NotFoundError(f"command execution {execution_id} not found")
        return Execution(r["id"], r["issue_id"], r["action_id"], r["command"], r["tier"], r["approval_status"],
                         r["actor"], r["approved_by"], r["exit_code"], r["stdout"] or "", r["stderr"] or "",
                         r["execution_time_ms"], bool(r["timed_out"]), bool(r["truncated"]), r["executed_at"])

    # -- policies --------------------------------------------------------------------------------------
    def add_policy(self, name: str, condition: str, action: str, *, approval_level: str | None = None,
                   priority: int = 100, description: str | None = None, enabled: bool = True) -> Policy:
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError("a policy needs a name of 1 to 100 characters")
        pol.parse_condition(condition)
        if action not in pol.ACTIONS:
            raise ValidationError(f"action must be one of: {', '.join(pol.ACTIONS)}")
        if approval_level is not None and approval_level not in pol.LEVELS:
            raise ValidationError(f"approval level must be one of: {', '.join(pol.LEVELS)}")
        if action != "require_approval" and approval_level is not None:
            raise ValidationError("an approval level only goes with require_approval")
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise ValidationError("priority must be a whole number")
        pid, now = uuid7(), utc_now()
        level = approval_level or ("analyst" if action == "require_approval" else None)
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM policies WHERE name = ?", (name.strip(),)).fetchone():
                raise ConflictError(f"a policy named {name.strip()} exists; remove it first or pick another name")
            conn.execute("INSERT INTO policies(id, name, description, condition, action, approval_level, priority,"
                         " enabled, created_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (pid, name.strip(), description, condition.strip(), action, level, priority, int(enabled),
                          self._actor().name, now, now))
            self._wb.audit.write_audit_event("add_policy", "policy", pid, {"name": name.strip(), "action": action,
                                                                           "condition": condition.strip(),
                                                                           "approval_level": level})
        return self._policy(pid)

    def _policy(self, name_or_id: str) -> Policy:
        r = self._db.query_one("SELECT * FROM policies WHERE id = ? OR name = ?", (name_or_id, name_or_id))
        if r is None:
            raise NotFoundError(f"policy {name_or_id} not found (tftsr policy list)")
        return Policy(r["id"], r["name"], r["description"], r["condition"], r["action"], r["approval_level"],
                      r["priority"], bool(r["enabled"]), r["created_by"], r["created_at"])

    def list_policies(self) -> list[Policy]:
        return [self._policy(r["id"]) for r in self._db.query("SELECT id FROM policies ORDER BY priority, id")]

    def set_policy_enabled(self, name_or_id: str, enabled: bool) -> Policy:
        """Turn a policy on or off (a disabled policy is kept but no longer decides)."""
        p = self._policy(name_or_id)
        if not isinstance(enabled, bool):
            raise ValidationError("enabled must be true or false")
        if p.enabled != enabled:
            with self._db.write() as conn:
                conn.execute("UPDATE policies SET enabled = ?, updated_at = ? WHERE id = ?",
                             (int(enabled), utc_now(), p.id))
                self._wb.audit.write_audit_event("enable_policy" if enabled else "disable_policy", "policy", p.id,
                                                 {"name": p.name})
        return self._policy(p.id)

    def remove_policy(self, name_or_id: str) -> Policy:
        p = self._policy(name_or_id)
        with self._db.write():
            self._db.execute("DELETE FROM policies WHERE id = ?", (p.id,))
            self._wb.audit.write_audit_event("remove_policy", "policy", p.id, {"name": p.name})
        return p

    # -- site commands ----------------------------------------------------------------------------------
    def add_site_command(self, template: str, tier: int, *, category: str = "general",
                         description: str | None = None) -> SiteCommandRecord:
        """Declare a command of this site with its tier (see :class:`~.classify.SiteCommand`:
        it gives an unknown program its tier and may raise any command's, never lower a known one)."""
        from .classify import site_command

        if isinstance(tier, bool) or not isinstance(tier, int):
            raise ValidationError("the tier must be 1, 2 or 3")
        try:
            sc = site_command(template, tier, description)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if category not in SITE_CATEGORIES:
            raise ValidationError(f"category must be one of: {', '.join(SITE_CATEGORIES)}")
        if description is not None and (not isinstance(description, str) or len(description) > 500):
            raise ValidationError("a description is text of at most 500 characters")
        cid, now = uuid7(), utc_now()
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM shell_commands WHERE command_template = ?", (sc.template,)).fetchone():
                raise ConflictError(f"the site command {sc.template!r} exists; remove it first")
            conn.execute("INSERT INTO shell_commands(id, command_template, tier, description, category, created_at)"
                         " VALUES (?,?,?,?,?,?)", (cid, sc.template, tier, description, category, now))
            self._wb.audit.write_audit_event("add_site_command", "site_command", cid, {
                "template": sc.template, "tier": tier, "category": category})
        return self._site_command(cid)

    def _site_command(self, ref: str) -> SiteCommandRecord:
        r = self._db.query_one("SELECT * FROM shell_commands WHERE id = ? OR command_template = ?", (ref, ref))
        if r is None:
            raise NotFoundError(f"site command {ref} not found (tftsr shell commands list)")
        return SiteCommandRecord(r["id"], r["command_template"], r["tier"], r["category"], r["description"],
                                 r["created_at"])

    def list_site_commands(self) -> list[SiteCommandRecord]:
        return [self._site_command(r["id"]) for r in
                self._db.query("SELECT id FROM shell_commands ORDER BY category, command_template")]

    def remove_site_command(self, ref: str) -> SiteCommandRecord:
        c = self._site_command(ref)
        with self._db.write():
            self._db.execute("DELETE FROM shell_commands WHERE id = ?", (c.id,))
            self._wb.audit.write_audit_event("remove_site_command", "site_command", c.id,
                                             {"template": c.command_template})
        return c

    # -- sudo credentials --------------------------------------------------------------------------------
    def _sudo_password(self, username: str | None = None, *, needed: bool = True) -> str | None:
        """The stored password of ``username`` (default: the account this runs as); a row that no
        longer opens stops a sudo command or a test (with what to do) and is left out of other
        commands' output hiding."""
        from ..errors import SecretError

        row = self._db.query_one("SELECT encrypted_password FROM sudo_config WHERE username = ?",
                                 (username or sudo.os_user(),))
        if row is None:
            return None
        try:
            return self._wb.secrets.decrypt(row["encrypted_password"], sudo.PURPOSE)
        except SecretError:
            if needed:
                raise ShellError("the stored sudo password cannot be decrypted; an admin clears it and sets it "
                                 "again (tftsr sudo clear, tftsr sudo set)") from None
            return None

    def save_sudo_credentials(self, password: str, *, username: str | None = None) -> sudo.SudoConfig:
        """Store (or replace) the sudo password of an OS account (default: the one this runs as)."""
        name, password = sudo.check_username(username), sudo.check_password(password)
        sealed, now = self._wb.secrets.encrypt(password, sudo.PURPOSE), utc_now()
        with self._db.write() as conn:
            conn.execute("INSERT INTO sudo_config(id, username, encrypted_password, updated_at) VALUES (?,?,?,?)"
                         " ON CONFLICT(username) DO UPDATE SET encrypted_password = excluded.encrypted_password,"
                         " updated_at = excluded.updated_at", (uuid7(), name, sealed, now))
            self._wb.audit.write_audit_event("save_sudo_config", "sudo_config", name, {"username": name})
        return self.get_sudo_config(name)

    def get_sudo_config(self, username: str | None = None) -> sudo.SudoConfig:
        """Whether a sudo password is stored for the account (default: this one); never the password."""
        name = sudo.check_username(username)
        row = self._db.query_one("SELECT updated_at FROM sudo_config WHERE username = ?", (name,))
        return sudo.SudoConfig(name, row is not None, row["updated_at"] if row else None, name == sudo.os_user())

    def list_sudo_configs(self) -> list[sudo.SudoConfig]:
        me = sudo.os_user()
        return [sudo.SudoConfig(r["username"], True, r["updated_at"], r["username"] == me)
                for r in self._db.query("SELECT username, updated_at FROM sudo_config ORDER BY username")]

    def clear_sudo_credentials(self, *, username: str | None = None) -> sudo.SudoConfig:
        name = sudo.check_username(username)
        with self._db.write() as conn:
            if conn.execute("DELETE FROM sudo_config WHERE username = ?", (name,)).rowcount == 0:
                raise NotFoundError(f"no sudo password is stored for {name}")
            self._wb.audit.write_audit_event("clear_sudo_config", "sudo_config", name, {"username": name})
        return self.get_sudo_config(name)

    def test_sudo_credentials(self, *, username: str | None = None) -> sudo.SudoTestResult:
        """Run ``sudo -S -k -p '' -- true`` with the stored password (``sudo -n true`` with none)."""
        name = sudo.check_username(username)
        result = sudo.run_test(self._sudo_password(name), name, runner.scrubbed_env())
        self._wb.audit.write_audit_event("test_sudo_config", "sudo_config", name, {"username": name,
                                                                                   "ok": result.ok})
        return result

    # -- kubeconfigs -------------------------------------------------------------------------------------
    def add_kubeconfig(self, name: str, content, *, activate: bool | None = None) -> Kubeconfig:
        """Store a kubeconfig encrypted; the first one becomes active."""
        from .kubeconfig import read_kubeconfig

        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError("a kubeconfig needs a name of 1 to 100 characters")
        if isinstance(content, bytes):
            if len(content) > MAX_KUBECONFIG:
                raise KubeconfigError("the kubeconfig is larger than 1 MB; refused")
            try:
                content = content.decode("utf-8")
            except UnicodeDecodeError:
                raise KubeconfigError("the kubeconfig is not UTF-8 text; refused") from None
        if not isinstance(content, str) or len(content.encode()) > MAX_KUBECONFIG:
            raise KubeconfigError("the kubeconfig must be text of at most 1 MB")
        info = read_kubeconfig(content)
        kid, now = uuid7(), utc_now()
        sealed = self._wb.secrets.encrypt(content, "kubeconfig")
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM kubeconfig_files WHERE name = ?", (name.strip(),)).fetchone():
                raise ConflictError(f"a kubeconfig named {name.strip()} exists; remove it first or pick another name")
            first = conn.execute("SELECT 1 FROM kubeconfig_files LIMIT 1").fetchone() is None
            active = first if activate is None else activate
            if active:
                conn.execute("UPDATE kubeconfig_files SET is_active = 0")
            conn.execute("INSERT INTO kubeconfig_files(id, name, encrypted_content, context, cluster_url, is_active,"
                         " uploaded_at, contexts) VALUES (?,?,?,?,?,?,?,?)",
                         (kid, name.strip(), sealed, info["current_context"], info["cluster_url"], int(active), now,
                          json.dumps(info["contexts"])))
            self._wb.audit.write_audit_event("add_kubeconfig", "kubeconfig", kid, {
                "name": name.strip(), "context": info["current_context"], "contexts": len(info["contexts"])})
        return self._kubeconfig(kid)

    def _kubeconfig(self, name_or_id: str) -> Kubeconfig:
        r = self._db.query_one("SELECT id, name, context, cluster_url, contexts, is_active, uploaded_at FROM"
                               " kubeconfig_files WHERE id = ? OR name = ?", (name_or_id, name_or_id))
        if r is None:
            raise NotFoundError(f"kubeconfig {name_or_id} not found (tftsr kubeconfig list)")
        return Kubeconfig(r["id"], r["name"], r["context"], r["cluster_url"], from_json(r["contexts"], []),
                          bool(r["is_active"]), r["uploaded_at"])

    def _active_kubeconfig_row(self):
        return self._db.query_one("SELECT id, name, context, encrypted_content FROM kubeconfig_files WHERE is_active = 1"
                                  " LIMIT 1")

    def list_kubeconfigs(self) -> list[Kubeconfig]:
        """Names, contexts, clusters and namespaces; never the credentials."""
        return [self._kubeconfig(r["id"]) for r in self._db.query("SELECT id FROM kubeconfig_files ORDER BY name")]

    def use_kubeconfig(self, name_or_id: str) -> Kubeconfig:
        k = self._kubeconfig(name_or_id)
        with self._db.write() as conn:
            conn.execute("UPDATE kubeconfig_files SET is_active = CASE WHEN id = ? THEN 1 ELSE 0 END", (k.id,))
            self._wb.audit.write_audit_event("use_kubeconfig", "kubeconfig", k.id, {"name": k.name})
        return self._kubeconfig(k.id)

    def remove_kubeconfig(self, name_or_id: str) -> Kubeconfig:
        k = self._kubeconfig(name_or_id)
        with self._db.write() as conn:
            conn.execute("DELETE FROM kubeconfig_files WHERE id = ?", (k.id,))
            self._wb.audit.write_audit_event("remove_kubeconfig", "kubeconfig", k.id, {"name": k.name})
        return k


def _pattern(actor: str, level: str, command: str) -> str:
    return f"shell|{actor}|{level}|{command}"


def _short(command: str, limit: int = 200) -> str:
    one = " ".join(command.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
