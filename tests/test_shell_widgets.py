"""Settings → Shell, headless, as an admin (and the other roles) use it: the chat tool toggle,
kubeconfig upload (FileUpload), activation and deletion, policies (a bad condition shows an
error and stores nothing; enable/disable; remove), pending commands approved and denied with the
tab's buttons, and what viewers and analysts can and cannot press. Real SQLCipher store, real
commands."""

from __future__ import annotations

import threading
import time

import pytest

from tests.fakes.kubernetes import SAMPLE_KUBECONFIG as KUBECONFIG
from tests.fakes.servers import FakeProviderServer
from widgets.settings import SettingsPanel



def _shell_tab(wb):
    settings = SettingsPanel(wb)
    settings.select_tab("Shell")
    return settings, settings.shell_panel


def _upload(panel, name: str, data: bytes) -> None:
    """What the browser sends when a file is chosen (the widget's JSON state, content as bytes)."""
    panel._w_kube_file.set_state({"value": [{"name": name, "type": "application/yaml", "size": len(data),
                                             "content": memoryview(data), "last_modified": 1764600000000}]})


def test_the_chat_tool_toggle_is_off_by_default_and_saves(wb):
    _settings, p = _shell_tab(wb)
    assert p.chat_tool_enabled is False and wb.settings.get("chat_shell_tool") is False
    p._w_chat_tool.value = True
    assert wb.settings.get("chat_shell_tool") is True and p.status_kind == "ok"
    p._w_chat_tool.value = False
    assert wb.settings.get("chat_shell_tool") is False


def test_upload_list_activate_and_delete_kubeconfigs(wb):
    _settings, p = _shell_tab(wb)
    assert "No kubeconfig yet" in p._w_kube_table.value and p._w_kube_use.disabled
    p._w_kube_add.click()
    assert p.status_kind == "error" and "Choose a kubeconfig file" in p.status
    _upload(p, "prod.yaml", KUBECONFIG.encode())
    p._w_kube_add.click()
    assert p.status_kind == "ok", p.status
    assert "prod.yaml stored encrypted (2 context(s)); it is the active one" in p.status
    table = p._w_kube_table.value
    assert "payments" in table and "stage" in table and "https://10.0.0.1:6443" in table and "active" in table
    assert "sekrit" not in table and p._w_kube_file.value == ()
    # a second one, named in the box; then activate it, then delete it
    p._w_kube_name.value = "dr<script>"
    _upload(p, "x.yaml", KUBECONFIG.replace("prod", "dr").encode())
    p._w_kube_add.click()
    assert "dr&lt;script&gt;" in p._w_kube_table.value and "<script>" not in p._w_kube_table.value
    assert p._w_kube.value == next(k.id for k in wb.shell.list_kubeconfigs() if k.name == "dr<script>")
    p._w_kube_use.click()
    assert [k.name for k in wb.shell.list_kubeconfigs() if k.is_active] == ["dr<script>"]
    p._w_kube_remove.click()
    assert [k.name for k in p.kubeconfigs] == ["prod.yaml"]
    # refused files: a message, nothing stored
    for name, data, expected in (("bin.yaml", b"\x00\x01\xff" * 10, "not UTF-8"), ("x.yaml", b"kind: [", "not valid YAML"),
                                 ("big.yaml", b"a" * (1024 * 1024 + 1), "larger than 1 MB")):
        _upload(p, name, data)
        p._w_kube_add.click()
        assert p.status_kind == "error" and expected in p.status, p.status
    assert [k.name for k in wb.shell.list_kubeconfigs()] == ["prod.yaml"]


def test_policies_add_with_a_bad_condition_shows_the_error_then_enable_disable_remove(wb):
    _settings, p = _shell_tab(wb)
    assert "No policies" in p._w_policy_table.value
    p._w_p_name.value, p._w_p_condition.value = "restarts", "programme == systemctl"
    p._w_p_add.click()
    assert p.status_kind == "error" and "unknown field 'programme'" in p.status
    assert wb.shell.list_policies() == [] and p._w_p_name.value == "restarts"  # kept to fix
    p._w_p_condition.value = "program == systemctl and subcommand == restart"
    p._w_p_level.value, p._w_p_priority.value = "admin", 10
    p._w_p_add.click()
    assert p.status_kind == "ok", p.status
    [pol] = wb.shell.list_policies()
    assert (pol.name, pol.action, pol.approval_level, pol.priority, pol.enabled) == (
        "restarts", "require_approval", "admin", 10, True)
    assert "systemctl" in p._w_policy_table.value
    # an approval level only goes with require_approval: the picker follows the action
    p._w_p_action.value = "deny"
    assert p._w_p_level.disabled and p._w_p_level.value == "(default: analyst)"
    p._w_p_name.value, p._w_p_condition.value = "no-rm", "program == rm"
    p._w_p_add.click()
    assert [x.name for x in wb.shell.list_policies()] == ["restarts", "no-rm"]
    # disable, enable
    p._w_policy.value = pol.id
    assert p._w_policy_toggle.description == "Disable"
    p._w_policy_toggle.click()
    assert not wb.shell._policy("restarts").enabled and p._w_policy_toggle.description == "Enable"
    assert "disabled" in p.status
    p._w_policy_toggle.click()
    assert wb.shell._policy("restarts").enabled
    # a duplicate name is refused with a message
    p._w_p_name.value, p._w_p_condition.value, p._w_p_action.value = "restarts", "always", "auto_approve"
    p._w_p_add.click()
    assert p.status_kind == "error" and "exists" in p.status
    p._w_policy.value = pol.id
    p._w_policy_remove.click()
    assert [x.name for x in wb.shell.list_policies()] == ["no-rm"]


def test_a_disabled_policy_no_longer_decides(wb, issue):
    wb.shell.add_policy("deny-uptime", "command == uptime", "deny")
    assert wb.shell.run_shell_command(issue.id, "uptime").status == "denied"
    wb.shell.set_policy_enabled("deny-uptime", False)
    assert wb.shell.run_shell_command(issue.id, "uptime").status == "executed"


def test_pending_commands_are_approved_and_denied_with_the_tab(wb, issue, tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    first = wb.shell.run_shell_command(issue.id, f"echo approved | tee {a}", reason="write the <b>marker</b>")
    second = wb.shell.run_shell_command(issue.id, f"touch {b}")
    assert first.status == second.status == "pending"
    _settings, p = _shell_tab(wb)
    assert [x.id for x in p.pending] == [second.action_id, first.action_id]  # newest first
    rows = p._w_pending.children
    assert "tier 2" in rows[1].children[0].value and "tee" in rows[1].children[0].value
    assert "write the &lt;b&gt;marker&lt;/b&gt;" in rows[1].children[0].value
    approve, _session, deny = rows[1].children[1].children[:3]
    assert "tftsr-shell-approve" in approve._dom_classes
    approve.click()
    assert p.wait(30)
    assert a.read_text() == "approved\n" and p.status_kind == "ok" and "exit code 0" in p.status
    assert "approved" in p._w_output.value and p.last_result.exit_code == 0
    assert [x.id for x in p.pending] == [second.action_id]
    p._w_pending.children[0].children[1].children[2].click()  # deny the other one
    assert not b.exists() and p.pending == [] and "Nothing is waiting" in p._w_pending.children[0].value
    assert wb.shell.get_action(second.action_id).status == "denied"
    hist = p._w_history.value
    assert "executed" in hist and "denied" in hist


def test_a_chat_turn_waiting_for_a_command_is_answered_from_the_tab(wb, issue, tmp_path):
    """The tab answers through the chat's broker, so the waiting turn runs it and tells the model."""
    wb.settings.update_settings({"chat_shell_tool": True})
    target = tmp_path / "from-settings.txt"

    def reply(rec):
        if not rec.tool_results:
            return {"tool_calls": [{"name": "run_shell_command", "arguments": {"command": f"touch {target}"}}]}
        return "Done."

    with FakeProviderServer("openai", reply_fn=reply) as srv:
        wb.providers.add_provider("p", "openai", srv.url, "gpt-4o-mini", api_key="test-key-0123456789")
        box = {}
        turn = threading.Thread(target=lambda: box.update(res=wb.chat.chat_message(issue.id, "touch it")))
        turn.start()
        deadline = time.monotonic() + 20
        while not wb.approvals.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        _settings, p = _shell_tab(wb)
        row = p._w_pending.children[0]
        assert "a chat turn is waiting for it" in row.children[0].value
        row.children[1].children[0].click()
        turn.join(20)
        assert "answered" in p.status.lower()
        told = srv.chat_requests[-1].tool_results[0]["content"]
    assert target.exists() and "Exit code: 0" in told
    assert box["res"].tool_calls[0]["decision"] == "allow_once"


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_roles_see_what_they_may_not_do_disabled(wb, issue, role):
    wb.shell.add_policy("p1", "always", "require_approval", approval_level="admin")
    wb.shell.add_kubeconfig("prod", KUBECONFIG)
    pending = wb.shell.run_shell_command(issue.id, "touch /tmp/never-approved-here")
    wb.team.create_user("ada", "admin")
    wb.team.create_user("someone", role)
    wb.team.act_as(wb.team.actor_for("someone", "session"))
    _settings, p = _shell_tab(wb)
    assert p._w_chat_tool.disabled and p._w_p_add.disabled and p._w_kube_add.disabled and p._w_kube_file.disabled
    assert "Admins manage kubeconfigs and policies" in p._w_admin_note.value  # no lists for them
    assert p.kubeconfigs == [] and p.policies == [] and "sekrit" not in p._w_kube_table.value
    if role == "viewer":
        assert "Analysts and admins see and approve" in p._w_pending.children[0].value and p._w_refresh.disabled
    else:  # an analyst sees the pending command, but it needs an admin (the policy says so)
        row = p._w_pending.children[0]
        assert pending.action_id == p.pending[0].id
        assert all(b.disabled for b in row.children[1].children if hasattr(b, "click"))
        assert "needs an admin" in row.children[1].children[-1].value
    assert p.status_kind != "error", p.status


def test_cli_policy_enable_and_disable(cli, wb):
    wb.shell.add_policy("deny-uptime", "command == uptime", "deny")
    wb.close()
    r = cli("policy", "disable", "deny-uptime", "--json")
    assert r.code == 0 and r.json["enabled"] is False, r.stderr
    assert cli("policy", "list", "--json").json[0]["enabled"] is False
    r = cli("policy", "enable", "deny-uptime")
    assert r.code == 0 and "enabled policy deny-uptime" in r.stdout
    assert cli("policy", "disable", "no-such-policy").code == 1


def test_site_commands_add_with_an_error_then_remove(wb, issue, tmp_path):
    _settings, panel = _shell_tab(wb)
    assert "No site commands" in panel._w_site_table.value
    panel._w_s_template.value = "ops-status; rm -rf /"
    panel._w_s_add.click()
    assert panel.status_kind == "error" and "one simple command" in panel.status
    assert wb.shell.list_site_commands() == []
    panel._w_s_template.value = "ops-status *"
    panel._w_s_tier.value = 1
    panel._w_s_description.value = "status <script>x</script>"
    panel._w_s_add.click()
    assert panel.status_kind == "ok", panel.status
    assert [c.command_template for c in panel.site_commands] == ["ops-status *"]
    assert "<script>" not in panel._w_site_table.value and "&lt;script&gt;" in panel._w_site_table.value
    assert wb.shell.classify("ops-status --json").tier == 1
    panel._w_site_remove.click()
    assert panel.status_kind == "ok" and wb.shell.list_site_commands() == []
    assert wb.shell.classify("ops-status --json").tier == 2


def test_site_commands_are_read_only_for_analysts(wb):
    from tftsr_kernel.team import acting_as

    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    with acting_as(wb.team.actor_for("ada", "session")):
        wb.shell.add_site_command("ops-status *", 1)
    with acting_as(wb.team.actor_for("ana", "session")):
        _settings, panel = _shell_tab(wb)
        assert [c.command_template for c in panel.site_commands] == ["ops-status *"]
        assert panel._w_s_add.disabled and panel._w_site_remove.disabled
