"""``tftsr shell ...``, ``tftsr kubeconfig ...``, ``tftsr policy ...`` and ``tftsr site-command ...``: commands on the host and
the cluster in three tiers (see ``tftsr_kernel/shell``).

``tftsr shell run`` runs tier 1 at once; tier 2 asks on the terminal (once / session / deny /
later) and, without a terminal, records a pending action for ``tftsr shell approve``; tier 3 and
denials exit 1. The command's own exit code is in the JSON, not tftsr's.
"""

from __future__ import annotations

import sys

from ..shell.rules import SITE_CATEGORIES
from ._common import Output, UsageError, _table, _wb, path_arg, secret_input

_ASK = "approve? [o]nce / [s]ession / [d]eny / [l]ater: "


def _terminal_decide(action):
    if not sys.stdin or not sys.stdin.isatty():
        return None
    print(f"tier {action.tier}: {action.tier_reason}\n  {action.command}\nneeds {action.approval_level} approval",
          file=sys.stderr)
    while True:
        print(_ASK, end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer in ("o", "once"):
            return "allow_once"
        if answer in ("s", "session"):
            return "allow_session"
        if answer in ("d", "deny"):
            return "deny"
        if answer in ("l", "later", ""):
            return None


def _result(res) -> Output:
    data = {"action_id": res.action_id, "tier": res.tier, "status": res.status, "exit_code": res.exit_code,
            "stdout": res.stdout, "stderr": res.stderr, "reason": res.reason, "approval_level": res.approval_level,
            "decision": res.decision, "timed_out": res.timed_out, "truncated": res.truncated}
    if res.status == "executed":
        text = res.stdout + (res.stderr if res.stderr else "")
        text = text or f"(no output; exit code {res.exit_code})"
    elif res.status == "pending":
        text = (f"pending: tier {res.tier} ({res.reason}); needs {res.approval_level} approval: "
                f"tftsr shell approve {res.action_id}")
    else:
        text = f"denied: tier {res.tier} ({res.reason})"
    return Output(data, text, exit_code=1 if res.status == "denied" else 0)


def cmd_classify(args):
    v = _wb(args).shell.classify(args.cmd)
    return Output({"tier": v.tier, "reason": v.reason}, f"tier {v.tier}: {v.reason}")


def cmd_run(args):
    wb = _wb(args)
    res = wb.shell.run_shell_command(args.issue_id, args.cmd, reason=args.reason, priority=args.priority,
                                     decide=_terminal_decide)
    return _result(res)


def cmd_history(args):
    rows = [{"action_id": a.id, "issue_id": a.issue_id, "command": a.command, "tier": a.tier, "status": a.status,
             "approved_by": a.decided_by if a.decision in ("allow_once", "allow_session") else None,
             "actor": a.requested_by, "exit_code": a.exit_code, "started_at": a.executed_at or a.created_at}
            for a in _wb(args).shell.list_actions(args.issue_id)]
    return Output(rows, _table(rows, ["action_id", "tier", "status", "exit_code", "actor", "approved_by", "command"]))


def cmd_approve(args):
    return _result(_wb(args).shell.approve(args.action_id, remember="session" if args.session else "once"))


def cmd_deny(args):
    res = _wb(args).shell.deny(args.action_id, reason=args.reason)
    out = _result(res)
    out.exit_code = 0  # denying is what was asked
    return out


def cmd_kube_add(args):
    try:
        with open(args.file, "rb") as fh:
            data = fh.read(1024 * 1024 + 1)
    except IsADirectoryError:
        raise UsageError(f"{args.file} is a directory; give the kubeconfig file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    k = _wb(args).shell.add_kubeconfig(args.name, data)
    return Output(k.to_dict(), f"stored kubeconfig {k.name} (context {k.context}, {len(k.contexts)} context(s))"
                  + (", active" if k.is_active else ""))


def cmd_kube_list(args):
    items = _wb(args).shell.list_kubeconfigs()
    rows = [k.to_dict() for k in items]
    flat = [{"name": k.name, "active": k.is_active, "context": k.context, "cluster_url": k.cluster_url,
             "contexts": ", ".join(f"{c['name']} ({c['namespace']})" for c in k.contexts)} for k in items]
    return Output(rows, _table(flat, ["name", "active", "context", "cluster_url", "contexts"]))


def cmd_kube_use(args):
    k = _wb(args).shell.use_kubeconfig(args.name)
    return Output(k.to_dict(), f"active kubeconfig: {k.name} (context {k.context})")


def cmd_kube_remove(args):
    k = _wb(args).shell.remove_kubeconfig(args.name)
    return Output(k.to_dict(), f"removed kubeconfig {k.name}")


def cmd_policy_add(args):
    p = _wb(args).shell.add_policy(args.name, args.when, args.action, approval_level=args.level,
                                   priority=args.priority, description=args.description)
    return Output(p.to_dict(), f"added policy {p.name}: when {p.condition} -> {p.action}"
                  + (f" ({p.approval_level})" if p.approval_level else ""))


def cmd_policy_list(args):
    rows = [p.to_dict() for p in _wb(args).shell.list_policies()]
    return Output(rows, _table(rows, ["name", "priority", "action", "approval_level", "enabled", "condition"]))


def cmd_policy_remove(args):
    p = _wb(args).shell.remove_policy(args.name)
    return Output(p.to_dict(), f"removed policy {p.name}")


def cmd_policy_enable(args):
    p = _wb(args).shell.set_policy_enabled(args.name, True)
    return Output(p.to_dict(), f"enabled policy {p.name}")


def cmd_policy_disable(args):
    p = _wb(args).shell.set_policy_enabled(args.name, False)
    return Output(p.to_dict(), f"disabled policy {p.name} (kept; it no longer decides)")


def cmd_site_add(args):
    c = _wb(args).shell.add_site_command(args.template, args.tier, category=args.category,
                                         description=args.description)
    return Output(c.to_dict(), f"added site command {c.command_template}: tier {c.tier}")


def cmd_site_list(args):
    rows = [c.to_dict() for c in _wb(args).shell.list_site_commands()]
    return Output(rows, _table(rows, ["command_template", "tier", "category", "description"]))


def cmd_site_remove(args):
    c = _wb(args).shell.remove_site_command(args.template)
    return Output(c.to_dict(), f"removed site command {c.command_template}")


def _sudo_text(c) -> str:
    if not c.configured:
        return f"no sudo password is stored for {c.username}"
    mine = "" if c.is_current_user else " (used only when the workbench runs as that account)"
    return f"a sudo password is stored for {c.username}, updated {c.updated_at}{mine}"


def cmd_sudo_set(args):
    wb = _wb(args)
    wb.shell.get_sudo_config(args.user)        # a bad account name or a missing right fails before the prompt
    c = wb.shell.save_sudo_credentials(secret_input(args.password_env, "sudo password"), username=args.user)
    return Output(c.to_dict(), _sudo_text(c))


def cmd_sudo_show(args):
    c = _wb(args).shell.get_sudo_config(args.user)
    return Output(c.to_dict(), _sudo_text(c))


def cmd_sudo_list(args):
    rows = [c.to_dict() for c in _wb(args).shell.list_sudo_configs()]
    return Output(rows, _table(rows, ["username", "updated_at", "is_current_user"]) if rows
                  else "no sudo passwords are stored")


def cmd_sudo_test(args):
    r = _wb(args).shell.test_sudo_credentials(username=args.user)
    return Output(r.to_dict(), ("ok: " if r.ok else "failed: ") + r.message, exit_code=0 if r.ok else 1)


def cmd_sudo_clear(args):
    c = _wb(args).shell.clear_sudo_credentials(username=args.user)
    return Output(c.to_dict(), f"the sudo password of {c.username} was removed")


def register(sub, add) -> None:
    g = add.group(sub, "shell", "classify, run, approve and review shell and kubectl commands")
    p = add(g, "classify", cmd_classify, "the tier (1 read-only, 2 needs approval, 3 refused) and why")
    p.add_argument("cmd", metavar="CMD")
    p = add(g, "run", cmd_run, "run a command for an issue (tier 1 at once; tier 2 asks or waits; tier 3 refused)")
    p.add_argument("issue_id", metavar="ISSUE_ID")
    p.add_argument("cmd", metavar="CMD")
    p.add_argument("--reason", help="why you want to run it (kept with the action)")
    p.add_argument("--priority", type=int, default=50, help="1-100 (default 50)")
    p = add(g, "history", cmd_history, "proposed and run commands, newest first")
    p.add_argument("issue_id", metavar="ISSUE_ID", nargs="?")
    p = add(g, "approve", cmd_approve, "approve a pending command and run it")
    p.add_argument("action_id", metavar="ACTION_ID")
    p.add_argument("--session", action="store_true", help="allow the same command again until this session ends")
    p = add(g, "deny", cmd_deny, "deny a pending command")
    p.add_argument("action_id", metavar="ACTION_ID")
    p.add_argument("--reason")

    g = add.group(sub, "kubeconfig", "kubeconfigs for kubectl, stored encrypted (admin)")
    p = add(g, "add", cmd_kube_add, "store a kubeconfig (the first becomes active)")
    p.add_argument("name", metavar="NAME")
    path_arg(p, "file", metavar="FILE")
    add(g, "list", cmd_kube_list, "kubeconfigs with their contexts and namespaces (never credentials)")
    p = add(g, "use", cmd_kube_use, "make a kubeconfig the active one")
    p.add_argument("name", metavar="NAME")
    p = add(g, "remove", cmd_kube_remove, "delete a kubeconfig")
    p.add_argument("name", metavar="NAME")

    g = add.group(sub, "sudo", "the sudo password given to approved `sudo ...` commands, stored encrypted (admin)")
    for name, fn, text in (("set", cmd_sudo_set, "store or replace the password (from --password-env or a prompt)"),
                           ("show", cmd_sudo_show, "whether a password is stored (never the password)"),
                           ("test", cmd_sudo_test, "run `sudo -S -k -- true` with it; exit 1 when sudo refuses"),
                           ("clear", cmd_sudo_clear, "remove the stored password")):
        p = add(g, name, fn, text)
        p.add_argument("--user", metavar="ACCOUNT", help="the OS account (default: the one the workbench runs as)")
        if name == "set":
            p.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    add(g, "list", cmd_sudo_list, "the accounts with a stored password")

    g = add.group(sub, "policy", "command policies: decide before anyone is asked (admin)")
    p = add(g, "add", cmd_policy_add, "add a policy")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--when", required=True, help="condition, e.g. 'program == kubectl and subcommand == rollout'")
    p.add_argument("--action", required=True, choices=("auto_approve", "require_approval", "deny"))
    p.add_argument("--level", choices=("analyst", "admin"), help="who may approve (require_approval)")
    p.add_argument("--priority", type=int, default=100, help="lower is checked first (default 100)")
    p.add_argument("--description")
    add(g, "list", cmd_policy_list, "policies in the order they are checked")
    p = add(g, "enable", cmd_policy_enable, "turn a disabled policy back on")
    p.add_argument("name", metavar="NAME")
    p = add(g, "disable", cmd_policy_disable, "keep a policy but stop it deciding")
    p.add_argument("name", metavar="NAME")
    p = add(g, "remove", cmd_policy_remove, "remove a policy")
    p.add_argument("name", metavar="NAME")

    g = add.group(sub, "site-command", "this site's own commands and their tiers (admin; shell_commands)")
    p = add(g, "add", cmd_site_add, "declare a command: an unknown program gets this tier; a known one may only go up")
    p.add_argument("template", metavar="TEMPLATE", help="e.g. 'ops-status *' (a last word * takes any arguments)")
    p.add_argument("--tier", type=int, required=True, choices=(1, 2, 3))
    p.add_argument("--category", default="general", choices=SITE_CATEGORIES)
    p.add_argument("--description")
    add(g, "list", cmd_site_list, "the site's commands (viewers may read them)")
    p = add(g, "remove", cmd_site_remove, "remove a site command")
    p.add_argument("template", metavar="TEMPLATE_OR_ID")
