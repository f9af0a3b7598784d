"""Settings → Shell: the chat's shell tool, pending commands, kubeconfigs and command policies.

A thin view over ``wb.shell`` and ``wb.settings``: turn ``chat_shell_tool`` on or off (off by
default), approve or deny pending commands (approving runs them; a command a chat turn here is
waiting on is answered through ``wb.approvals`` so the turn goes on), upload, activate and delete
kubeconfigs (their contexts and namespaces listed, never their credentials), list, add,
enable, disable and remove policies, list, add and remove site commands, and save, test and clear
the sudo password given to approved ``sudo`` commands. Each part is shown to every role but only
usable by the roles the kernel allows (it checks every call anyway): the toggle needs
``settings:manage``, kubeconfigs, policies, site commands and sudo ``shell:manage`` (admins), pending commands ``shell:run`` to read and
the action's approval level to decide."""

from __future__ import annotations

import ipywidgets as W

from tftsr_kernel.errors import TftsrError
from tftsr_kernel.shell.rules import SITE_CATEGORIES
from tftsr_kernel.shell.sudo import os_user

from . import _html
from ._base import Background, Panel, button, guarded, may, set_options
from .chat_tools import LEVEL_PERMISSION, TOOLS_CSS, tier_badge

HISTORY_ROWS = 15
OUTPUT_SHOWN = 4000
_NO_LEVEL = "(default: analyst)"
CONDITION_HELP = ("<code>always</code>, or clauses joined by <code>and</code>: FIELD OP VALUE with fields tier, program, "
                  "subcommand, command, severity, category, source, actor, role, context and operators "
                  "<code>== != in ~ &lt; &lt;= &gt; &gt;=</code> (e.g. <code>program == kubectl and subcommand == rollout"
                  "</code>, <code>command ~ \"systemctl restart *\"</code>)")


def _section(title: str) -> W.HTML:
    return W.HTML(f'<div class="tftsr-section"><b>{_html.esc(title)}</b></div>')


class ShellSettings(Panel):
    title = "Shell and kubectl"
    css_class = "tftsr-shell-settings"

    def __init__(self, wb=None):
        super().__init__(wb)
        self._job = Background()
        self._running = False
        self._kubeconfigs = []
        self._policies = []
        self._pending = []
        self._last_result = None
        actor = getattr(getattr(self._wb, "team", None), "actor", None)
        self._who = f"{getattr(actor, 'name', 'you')} ({getattr(actor, 'role', None) or 'no role'})"
        self.can_toggle = may(self._wb, "settings:manage")
        self.can_manage = may(self._wb, "shell:manage")
        self.can_run = may(self._wb, "shell:run")

        # the chat's tool
        self._w_chat_tool = W.Checkbox(description="Let the model propose shell commands in chat", indent=False,
                                       layout=W.Layout(width="auto"))
        self._w_chat_tool.add_class("tftsr-shell-chat-tool")
        self._w_chat_tool.disabled = not self.can_toggle
        self._syncing = False
        self._w_chat_tool.observe(self._on_chat_tool, names="value")

        # pending commands and recent history
        self._w_pending = W.VBox([])
        self._w_pending.add_class("tftsr-shell-pending")
        self._w_refresh = button("Refresh", "tftsr-shell-refresh", icon="refresh")
        self._w_refresh.on_click(lambda _b: self.refresh())
        self._w_output = W.HTML()
        self._w_output.add_class("tftsr-shell-output")
        self._w_history = W.HTML()
        self._w_history.add_class("tftsr-shell-history")

        # kubeconfigs
        self._w_kube_table = W.HTML()
        self._w_kube_table.add_class("tftsr-kube-table")
        self._w_kube = W.Dropdown(description="Kubeconfig", options=[], layout=W.Layout(width="360px"))
        self._w_kube.add_class("tftsr-kube-select")
        self._w_kube_use = button("Activate", "tftsr-kube-use", style="success", icon="check")
        self._w_kube_remove = button("Delete", "tftsr-kube-remove", style="danger", icon="trash")
        self._w_kube_name = W.Text(description="Name", placeholder="default: the file name",
                                   layout=W.Layout(width="300px"))
        self._w_kube_name.add_class("tftsr-kube-name")
        self._w_kube_file = W.FileUpload(accept=".yaml,.yml,.conf,.config,text/*,*", multiple=False,
                                         description="Choose file")
        self._w_kube_file.add_class("tftsr-kube-file")
        self._w_kube_add = button("Upload kubeconfig", "tftsr-kube-add", style="primary", icon="upload")
        self._w_kube_use.on_click(self._on_kube_use)
        self._w_kube_remove.on_click(self._on_kube_remove)
        self._w_kube_add.on_click(self._on_kube_add)

        # policies
        self._w_policy_table = W.HTML()
        self._w_policy_table.add_class("tftsr-policy-table")
        self._w_policy = W.Dropdown(description="Policy", options=[], layout=W.Layout(width="360px"))
        self._w_policy.add_class("tftsr-policy-select")
        self._w_policy_toggle = button("Disable", "tftsr-policy-toggle")
        self._w_policy_remove = button("Remove", "tftsr-policy-remove", style="danger", icon="trash")
        self._w_p_name = W.Text(description="Name", layout=W.Layout(width="300px"))
        self._w_p_name.add_class("tftsr-policy-name")
        self._w_p_condition = W.Text(description="When", placeholder="program == kubectl and subcommand == rollout",
                                     layout=W.Layout(width="95%"))
        self._w_p_condition.add_class("tftsr-policy-condition")
        self._w_p_action = W.Dropdown(description="Action", options=["require_approval", "auto_approve", "deny"],
                                      value="require_approval")
        self._w_p_action.add_class("tftsr-policy-action")
        self._w_p_level = W.Dropdown(description="Approver", options=[_NO_LEVEL, "analyst", "admin"], value=_NO_LEVEL)
        self._w_p_level.add_class("tftsr-policy-level")
        self._w_p_priority = W.BoundedIntText(description="Priority", value=100, min=0, max=100_000,
                                              layout=W.Layout(width="200px"))
        self._w_p_priority.add_class("tftsr-policy-priority")
        self._w_p_description = W.Text(description="Note", placeholder="optional: why this rule exists",
                                       layout=W.Layout(width="95%"))
        self._w_p_add = button("Add policy", "tftsr-policy-add", style="primary", icon="plus")
        self._w_policy.observe(lambda _c: self._show_policy(), names="value")
        self._w_p_action.observe(lambda _c: self._sync_level(), names="value")
        self._w_policy_toggle.on_click(self._on_policy_toggle)
        self._w_policy_remove.on_click(self._on_policy_remove)
        self._w_p_add.on_click(self._on_policy_add)

        # site commands (shell_commands)
        self._site = []
        self._w_site_table = W.HTML()
        self._w_site_table.add_class("tftsr-site-table")
        self._w_site = W.Dropdown(description="Command", options=[], layout=W.Layout(width="360px"))
        self._w_site.add_class("tftsr-site-select")
        self._w_site_remove = button("Remove", "tftsr-site-remove", style="danger", icon="trash")
        self._w_s_template = W.Text(description="Template", placeholder="ops-status *  (a last * takes any arguments)",
                                    layout=W.Layout(width="95%"))
        self._w_s_template.add_class("tftsr-site-template")
        self._w_s_tier = W.Dropdown(description="Tier", options=[("1: runs at once", 1), ("2: needs approval", 2),
                                                                 ("3: refused", 3)], value=1)
        self._w_s_tier.add_class("tftsr-site-tier")
        self._w_s_category = W.Dropdown(description="Category", options=list(SITE_CATEGORIES), value="general")
        self._w_s_description = W.Text(description="Note", placeholder="optional: what it does",
                                       layout=W.Layout(width="95%"))
        self._w_s_add = button("Add site command", "tftsr-site-add", style="primary", icon="plus")
        self._w_site_remove.on_click(self._on_site_remove)
        self._w_s_add.on_click(self._on_site_add)

        # sudo credentials (sudo_config)
        self._w_sudo_status = W.HTML()
        self._w_sudo_status.add_class("tftsr-sudo-status")
        self._w_sudo_user = W.Text(description="Account", value=os_user(), layout=W.Layout(width="300px"))
        self._w_sudo_user.add_class("tftsr-sudo-user")
        self._w_sudo_password = W.Password(description="Password", layout=W.Layout(width="300px"))
        self._w_sudo_password.add_class("tftsr-sudo-password")
        self._w_sudo_save = button("Save", "tftsr-sudo-save", style="primary", icon="lock")
        self._w_sudo_test = button("Test", "tftsr-sudo-test", icon="check")
        self._w_sudo_clear = button("Clear", "tftsr-sudo-clear", style="danger", icon="trash")
        self._w_sudo_save.on_click(self._on_sudo_save)
        self._w_sudo_test.on_click(self._on_sudo_test)
        self._w_sudo_clear.on_click(self._on_sudo_clear)

        for w in (self._w_sudo_user, self._w_sudo_password, self._w_sudo_save, self._w_sudo_test, self._w_sudo_clear,
                  self._w_site, self._w_site_remove, self._w_s_template, self._w_s_tier, self._w_s_category,
                  self._w_s_description, self._w_s_add,
                  self._w_kube, self._w_kube_use, self._w_kube_remove, self._w_kube_name, self._w_kube_file,
                  self._w_kube_add, self._w_policy, self._w_policy_toggle, self._w_policy_remove, self._w_p_name,
                  self._w_p_condition, self._w_p_action, self._w_p_level, self._w_p_priority, self._w_p_description,
                  self._w_p_add):
            w.disabled = not self.can_manage
        self._w_refresh.disabled = not self.can_run

    # -- build ---------------------------------------------------------------------------------------
    def _build(self):
        self.refresh()
        self._w_admin_note = W.HTML("" if self.can_manage else
                      f'<div class="tftsr-muted tftsr-shell-readonly">Admins manage kubeconfigs and policies; '
                                    f"{_html.esc(self._who)} cannot change them here.</div>")
        toggle_note = ("" if self.can_toggle else
                       f'<span class="tftsr-muted"> (an admin turns this on or off; {_html.esc(self._who)})</span>')
        return W.VBox([
            W.HTML(_html.style_tag() + f"<style>{TOOLS_CSS}</style>"),
            _section("In chat"),
            W.HBox([self._w_chat_tool, W.HTML(toggle_note)]),
            W.HTML('<div class="tftsr-muted">Off by default. When on, the model may call <code>run_shell_command</code>: '
                   "tier 1 (read-only) runs at once, tier 2 waits for your approval in the chat, tier 3 is always "
                   "refused; the output goes back to the model through the PII guard.</div>"),
            _section("Commands waiting for approval"),
            self._w_pending, W.HBox([self._w_refresh]), self._w_output,
            _section("Recent commands"), self._w_history,
            _section("Kubeconfigs"), self._w_admin_note, self._w_kube_table,
            W.HBox([self._w_kube, self._w_kube_use, self._w_kube_remove]),
            W.HBox([self._w_kube_name, self._w_kube_file, self._w_kube_add]),
            W.HTML('<div class="tftsr-muted">Stored encrypted; handed to kubectl in a private file removed after '
                   "each command. Lists show contexts and namespaces, never credentials.</div>"),
            _section("Sudo credentials"), self._w_sudo_status,
            W.HBox([self._w_sudo_user, self._w_sudo_password]),
            W.HBox([self._w_sudo_save, self._w_sudo_test, self._w_sudo_clear]),
            W.HTML('<div class="tftsr-muted">sudo asks for the password of the account the workbench runs as. An '
                   "approved command that starts with <code>sudo</code> and needs no shell gets it through sudo's "
                   "askpass helper (never in an argument or the command's input); it is stored encrypted, replaced by <code>[sudo password]"
                   "</code> wherever it shows in output, and never logged. Commands with <code>sudo</code> need an "
                   "admin's approval unless a policy says otherwise.</div>"),
            _section("Policies (checked lowest priority first; the first match decides)"),
            self._w_policy_table, W.HBox([self._w_policy, self._w_policy_toggle, self._w_policy_remove]),
            W.HTML("<b>Add a policy</b>"), self._w_p_name, self._w_p_condition,
            W.HTML(f'<div class="tftsr-muted" style="margin-left:90px;line-height:1.5">{CONDITION_HELP}</div>'),
            W.HBox([self._w_p_action, self._w_p_level, self._w_p_priority]), self._w_p_description, self._w_p_add,
            _section("Site commands (this site's programs and their tiers)"),
            self._w_site_table, W.HBox([self._w_site, self._w_site_remove]),
            W.HTML("<b>Add a site command</b>"), self._w_s_template,
            W.HBox([self._w_s_tier, self._w_s_category]), self._w_s_description, self._w_s_add,
            W.HTML('<div class="tftsr-muted">A site command gives a program the classifier does not know its tier '
                   "and may raise any command's tier; it never lowers a known program (<code>rm</code> stays 3) nor "
                   "a command with computed arguments. The program matches as written.</div>"),
            self._w_status])

    @guarded
    def refresh(self) -> None:
        """Reload the setting, the pending commands, the history, kubeconfigs and policies."""
        self._syncing = True
        try:
            self._w_chat_tool.value = bool(self._wb.settings.get("chat_shell_tool"))
        finally:
            self._syncing = False
        self.refresh_pending()
        self.refresh_kubeconfigs()
        self.refresh_policies()
        self.refresh_site_commands()
        self.refresh_sudo()

    # -- the chat tool ---------------------------------------------------------------------------------
    @guarded
    def _on_chat_tool(self, change):
        if self._syncing:
            return
        try:
            self._wb.settings.update_settings({"chat_shell_tool": bool(change["new"])})
        except TftsrError:
            self._syncing = True
            try:
                self._w_chat_tool.value = bool(change["old"])
            finally:
                self._syncing = False
            raise
        self.set_status("The model may now propose shell commands in chat (each tier-2 command waits for approval)."
                        if change["new"] else "The model is no longer offered the shell tool.", "ok")

    @property
    def chat_tool_enabled(self) -> bool:
        return bool(self._w_chat_tool.value)

    # -- pending commands ------------------------------------------------------------------------------
    @guarded
    def refresh_pending(self) -> None:
        if not self.can_run:
            self._pending = []
            self._w_pending.children = (W.HTML(f'<div class="tftsr-muted">Analysts and admins see and approve proposed '
                                               f"commands; {_html.esc(self._who)} cannot.</div>"),)
            self._w_history.value = ""
            return
        self._pending = self._wb.shell.list_actions(status="pending")
        waiting = self._waiting_requests()
        rows = []
        for a in self._pending:
            level = a.approval_level or "analyst"
            allowed = may(self._wb, LEVEL_PERMISSION.get(level, "shell:approve_admin"))
            where = " \u00b7 a chat turn is waiting for it" if a.id in waiting else ""
            info = W.HTML(
                f'<div class="tftsr-shell-action">{tier_badge(a.tier)} <span class="tftsr-muted">'
                f"{_html.esc(a.tier_reason)} \u00b7 proposed by {_html.esc(a.requested_by)} via {_html.esc(a.source)} at "
                f"{_html.esc(a.created_at)} UTC \u00b7 needs {_html.esc(level)} approval{_html.esc(where)}</span>"
                f'<div class="tftsr-tool-cmd">$ {_html.esc(a.command[:4000])}</div>'
                + (f'<div class="tftsr-muted">Why: {_html.esc(_html.one_line(a.reason, 300))}</div>' if a.reason else "")
                + "</div>")
            buttons = []
            for decision, text, css, style in (("allow_once", "Approve and run", "tftsr-shell-approve", "success"),
                                               ("allow_session", "Approve for this session", "tftsr-shell-approve-session", ""),
                                               ("deny", "Deny", "tftsr-shell-deny", "danger")):
                b = button(text, css, style=style)
                b.disabled = not allowed or self._running
                b.on_click(lambda _b, aid=a.id, d=decision: self._on_decide(aid, d))
                buttons.append(b)
            note = ([] if allowed else [W.HTML(f'<span class="tftsr-muted">needs an {_html.esc(level)}</span>')])
            row = W.VBox([info, W.HBox(buttons + note)])
            row.add_class("tftsr-shell-pending-row")
            rows.append(row)
        self._w_pending.children = tuple(rows) or (W.HTML('<div class="tftsr-muted">Nothing is waiting.</div>'),)
        hist = self._wb.shell.list_actions(limit=HISTORY_ROWS)
        self._w_history.value = _html.table(
            [(a.created_at, a.command if len(a.command) <= 120 else a.command[:119] + "\u2026", a.tier, a.status,
              a.decision or "", a.decided_by or "", "" if a.exit_code is None else a.exit_code, a.requested_by)
             for a in hist], ["Proposed (UTC)", "Command", "Tier", "Status", "Decision", "By", "Exit", "Proposer"])

    @property
    def pending(self) -> list:
        return list(self._pending)

    def _waiting_requests(self) -> dict[str, str]:
        """action id -> the chat approval request waiting for it in this kernel."""
        try:
            reqs = self._wb.approvals.pending()
        except TftsrError:
            return {}
        return {r["details"]["action_id"]: r["id"] for r in reqs if (r.get("details") or {}).get("action_id")}

    def _pending_buttons(self):
        return [b for row in self._w_pending.children if isinstance(row, W.VBox)
                for b in row.children[1].children if isinstance(b, W.Button)]

    @guarded
    def _on_decide(self, action_id: str, decision: str):
        if self._running:
            self.set_status("A command is still running; wait for it.", "error")
            return
        request_id = self._waiting_requests().get(action_id)
        if request_id is not None:  # the chat turn waiting for it runs it and tells the model
            self._wb.approvals.decide(request_id, decision)
            self.set_status("Answered; the chat turn waiting for it goes on." if decision != "deny"
                            else "Denied; the chat turn waiting for it tells the model.", "ok")
            self.refresh_pending()
            return
        if decision == "deny":
            self._wb.shell.deny(action_id)
            self.set_status("Denied: the command will not run.", "ok")
            self.refresh_pending()
            return
        for b in self._pending_buttons():
            b.disabled = True
        self.set_status("Running the approved command\u2026", "busy")
        self._running = True
        self._job.start(self._approve_worker, action_id, "session" if decision == "allow_session" else "once")

    def _approve_worker(self, action_id: str, remember: str):
        try:
            res = self._wb.shell.approve(action_id, remember=remember)
            self._last_result = res
            self._w_output.value = self._result_html(res)
            if res.status == "executed":
                self.set_status(f"Ran it: exit code {res.exit_code}" + (" (timed out)" if res.timed_out else "") + ".",
                                "ok" if res.exit_code == 0 else "error")
            else:
                self.set_status(f"Not run: {res.reason}", "error")
        except TftsrError as exc:
            self.set_status(str(exc), "error")
        except Exception as exc:
            self.set_status(f"Unexpected error ({type(exc).__name__}): {_html.one_line(str(exc), 200)}", "error")
        finally:
            self._running = False  # the list gets its buttons back
            try:
                self.refresh_pending()
            except Exception:
                pass

    def wait(self, timeout: float = 60) -> bool:
        """Wait for an approved command to finish (scripts and tests)."""
        return self._job.join(timeout)

    @property
    def last_result(self):
        return self._last_result

    @staticmethod
    def _result_html(res) -> str:
        head = (f'<div class="tftsr-muted">Exit code {_html.esc(res.exit_code)}'
                + (" \u00b7 timed out" if res.timed_out else "") + (" \u00b7 output cut" if res.truncated else "")
                + " (the original output, on this machine; the model would get it redacted)</div>")
        return (head + "<b>stdout</b>" + _html.pre(res.stdout or "(empty)", OUTPUT_SHOWN)
                + ("<b>stderr</b>" + _html.pre(res.stderr, OUTPUT_SHOWN) if res.stderr else ""))

    # -- kubeconfigs ---------------------------------------------------------------------------------
    @guarded
    def refresh_kubeconfigs(self) -> None:
        if not self.can_manage:
            self._kubeconfigs = []
            self._w_kube_table.value = ""
            return
        self._kubeconfigs = self._wb.shell.list_kubeconfigs()
        rows = []
        for k in self._kubeconfigs:
            ctxs = "".join(f"<li><code>{_html.esc(c.get('name'))}</code> \u2192 cluster {_html.esc(c.get('cluster'))}, "
                           f"namespace <code>{_html.esc(c.get('namespace'))}</code>"
                           + (f" <span class=\"tftsr-muted\">({_html.esc(c.get('server'))})</span>" if c.get("server")
                              else "") + "</li>" for c in k.contexts)
            rows.append((_html.esc(k.name) + (' <span class="tftsr-badge" style="background:#2e7d32;color:#fff">'
                                              "active</span>" if k.is_active else ""),
                         _html.esc(k.context), _html.esc(k.cluster_url or ""),
                         f'<ul style="margin:0;padding-left:16px">{ctxs}</ul>', _html.esc(k.uploaded_at)))
        self._w_kube_table.value = (_html.table(rows, ["Name", "Current context", "Cluster", "Contexts (namespace)",
                                                       "Uploaded (UTC)"], raw_columns=(0, 1, 2, 3, 4))
                                    if rows else '<div class="tftsr-muted">No kubeconfig yet: kubectl runs with an '
                                                 "empty one (never ~/.kube/config).</div>")
        set_options(self._w_kube, [(k.name + (" (active)" if k.is_active else ""), k.id) for k in self._kubeconfigs])
        for w in (self._w_kube, self._w_kube_use, self._w_kube_remove):
            w.disabled = not self._kubeconfigs

    @property
    def kubeconfigs(self) -> list:
        return list(self._kubeconfigs)

    @guarded
    def _on_kube_add(self, _b=None):
        files = list(self._w_kube_file.value or ())
        if not files:
            self.set_status("Choose a kubeconfig file first.", "error")
            return
        f = files[0]
        name = self._w_kube_name.value.strip() or str(f.get("name") or "kubeconfig").rsplit("/", 1)[-1]
        k = self._wb.shell.add_kubeconfig(name, bytes(f.get("content") or b""))
        self._w_kube_name.value = ""
        self._w_kube_file.value = ()
        self.refresh_kubeconfigs()
        self._w_kube.value = k.id
        self.set_status(f"Kubeconfig {k.name} stored encrypted ({len(k.contexts)} context(s))"
                        + ("; it is the active one." if k.is_active else "."), "ok")

    @guarded
    def _on_kube_use(self, _b=None):
        k = self._wb.shell.use_kubeconfig(self._w_kube.value)
        self.refresh_kubeconfigs()
        self.set_status(f"kubectl now uses {k.name} (context {k.context}).", "ok")

    @guarded
    def _on_kube_remove(self, _b=None):
        k = self._wb.shell.remove_kubeconfig(self._w_kube.value)
        self.refresh_kubeconfigs()
        self.set_status(f"Kubeconfig {k.name} deleted.", "ok")

    # -- policies ------------------------------------------------------------------------------------
    @guarded
    def refresh_policies(self) -> None:
        if not self.can_manage:
            self._policies = []
            self._w_policy_table.value = ""
            return
        self._policies = self._wb.shell.list_policies()
        rows = [(p.priority, p.name, p.condition, p.action, p.approval_level or "", "yes" if p.enabled else "no",
                 p.description or "") for p in self._policies]
        self._w_policy_table.value = (_html.table(rows, ["Priority", "Name", "When", "Action", "Approver", "Enabled",
                                                         "Note"])
                                      if rows else '<div class="tftsr-muted">No policies: tier 1 runs at once, tier 2 '
                                                   "needs an analyst's approval, tier 3 never runs.</div>")
        set_options(self._w_policy, [(p.name, p.id) for p in self._policies])
        for w in (self._w_policy, self._w_policy_toggle, self._w_policy_remove):
            w.disabled = not self._policies
        self._show_policy()

    @property
    def policies(self) -> list:
        return list(self._policies)

    def _selected_policy(self):
        return next((p for p in self._policies if p.id == self._w_policy.value), None)

    def _show_policy(self) -> None:
        p = self._selected_policy()
        self._w_policy_toggle.description = "Enable" if p is not None and not p.enabled else "Disable"

    def _sync_level(self) -> None:
        needs = self._w_p_action.value == "require_approval"
        if not needs:
            self._w_p_level.value = _NO_LEVEL
        self._w_p_level.disabled = not needs or not self.can_manage

    @guarded
    def _on_policy_add(self, _b=None):
        level = self._w_p_level.value
        p = self._wb.shell.add_policy(self._w_p_name.value, self._w_p_condition.value, self._w_p_action.value,
                                      approval_level=None if level == _NO_LEVEL else level,
                                      priority=int(self._w_p_priority.value),
                                      description=self._w_p_description.value.strip() or None)
        self._w_p_name.value = self._w_p_condition.value = self._w_p_description.value = ""
        self.refresh_policies()
        self._w_policy.value = p.id
        self.set_status(f"Policy {p.name} added: when {p.condition} \u2192 {p.action}"
                        + (f" ({p.approval_level})" if p.approval_level else "") + ".", "ok")

    @guarded
    def _on_policy_toggle(self, _b=None):
        p = self._selected_policy()
        if p is None:
            self.set_status("Select a policy first.", "error")
            return
        q = self._wb.shell.set_policy_enabled(p.id, not p.enabled)
        self.refresh_policies()
        self._w_policy.value = q.id
        self.set_status(f"Policy {q.name} {'enabled' if q.enabled else 'disabled (kept; it no longer decides)'}.", "ok")

    @guarded
    def _on_policy_remove(self, _b=None):
        p = self._selected_policy()
        if p is None:
            self.set_status("Select a policy first.", "error")
            return
        self._wb.shell.remove_policy(p.id)
        self.refresh_policies()
        self.set_status(f"Policy {p.name} removed.", "ok")

    # -- site commands ------------------------------------------------------------------------------
    @guarded
    def refresh_site_commands(self) -> None:
        self._site = self._wb.shell.list_site_commands() if may(self._wb, "shell:classify") else []
        rows = [(c.command_template, c.tier, c.category, c.description or "") for c in self._site]
        self._w_site_table.value = (_html.table(rows, ["Template", "Tier", "Category", "Note"]) if rows else
                                    '<div class="tftsr-muted">No site commands: a program the classifier does not '
                                    "know needs approval (tier 2).</div>")
        set_options(self._w_site, [(c.command_template, c.id) for c in self._site])
        for w in (self._w_site, self._w_site_remove):
            w.disabled = not self._site or not self.can_manage

    @property
    def site_commands(self) -> list:
        return list(self._site)

    @guarded
    def _on_site_add(self, _b=None):
        c = self._wb.shell.add_site_command(self._w_s_template.value, int(self._w_s_tier.value),
                                            category=self._w_s_category.value,
                                            description=self._w_s_description.value.strip() or None)
        self._w_s_template.value = self._w_s_description.value = ""
        self.refresh_site_commands()
        self._w_site.value = c.id
        self.set_status(f"Site command {c.command_template} added: tier {c.tier}.", "ok")

    @guarded
    def _on_site_remove(self, _b=None):
        if not self._w_site.value:
            self.set_status("Select a site command first.", "error")
            return
        c = self._wb.shell.remove_site_command(self._w_site.value)
        self.refresh_site_commands()
        self.set_status(f"Site command {c.command_template} removed.", "ok")

    # -- sudo credentials --------------------------------------------------------------------------------
    @guarded
    def refresh_sudo(self) -> None:
        if not self.can_run:
            self._w_sudo_status.value = ('<div class="tftsr-muted">Whether a sudo password is stored is shown to '
                                         "analysts and admins.</div>")
            return
        c = self._wb.shell.get_sudo_config(None)
        self._w_sudo_status.value = (
            f"<div>A sudo password is stored for <b>{_html.esc(c.username)}</b> (updated "
            f"{_html.esc(c.updated_at)}).</div>" if c.configured else
            f'<div class="tftsr-muted">No sudo password is stored for {_html.esc(c.username)}, the account the '
            "workbench runs as: <code>sudo</code> commands get none, so they run only where sudo asks this account "
            "for no password (NOPASSWD rules, or root).</div>")

    def _sudo_account(self) -> str | None:
        return self._w_sudo_user.value.strip() or None

    @guarded
    def _on_sudo_save(self, _b=None):
        c = self._wb.shell.save_sudo_credentials(self._w_sudo_password.value, username=self._sudo_account())
        self._w_sudo_password.value = ""     # kept in the field only until it is stored
        self.refresh_sudo()
        self.set_status(f"Sudo password of {c.username} saved (encrypted).", "ok")

    @guarded
    def _on_sudo_test(self, _b=None):
        r = self._wb.shell.test_sudo_credentials(username=self._sudo_account())
        self.set_status(("Sudo test passed: " if r.ok else "Sudo test failed: ") + r.message, "ok" if r.ok else "error")

    @guarded
    def _on_sudo_clear(self, _b=None):
        c = self._wb.shell.clear_sudo_credentials(username=self._sudo_account())
        self.refresh_sudo()
        self.set_status(f"Sudo password of {c.username} removed.", "ok")

    # -- static ----------------------------------------------------------------------------------------
    def to_html(self) -> str:
        out = [_html.heading(self.title),
               f"<div>chat_shell_tool: {'on' if self._wb.settings.get('chat_shell_tool') else 'off'}</div>"]
        if self.can_manage:
            out.append(_html.table([(k.name, k.context, "yes" if k.is_active else "") for k in
                                    self._wb.shell.list_kubeconfigs()], ["Kubeconfig", "Context", "Active"]))
            out.append(_html.table([(p.priority, p.name, p.condition, p.action, "yes" if p.enabled else "no")
                                    for p in self._wb.shell.list_policies()],
                                   ["Priority", "Policy", "When", "Action", "Enabled"]))
        return "".join(out)
