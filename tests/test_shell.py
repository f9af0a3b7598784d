"""wb.shell through the kernel API: runs, refusals, approvals, policies, roles, sessions, the
environment, limits, kubeconfigs and the model's tool (output cleared by the egress guard)."""

from __future__ import annotations

import pytest

from tests.fakes.kubernetes import SAMPLE_KUBECONFIG as KUBECONFIG
from tftsr_kernel import errors
from tftsr_kernel.shell import runner
from tftsr_kernel.shell.tool import RUN_SHELL_COMMAND_TOOL, ShellToolSource, handle_run_shell_command
from tftsr_kernel.team import acting_as


@pytest.fixture(autouse=True)
def _no_credentials_in_env(monkeypatch):
    for name in ("TFTSR_SESSION_TOKEN", "TFTSR_API_KEY", "TFTSR_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _execution_row(wb, execution_id):
    return wb.db.query_one("SELECT * FROM command_executions WHERE id = ?", (execution_id,))


def test_tier1_runs_at_once_and_is_stored_with_the_issue(wb, issue):
    res = wb.shell.run_shell_command(issue.id, "uptime")
    assert res.status == "executed" and res.exit_code == 0 and "load average" in res.stdout
    row = _execution_row(wb, res.execution_id)
    assert (row["issue_id"], row["tier"], row["approval_status"], row["actor"], row["exit_code"]) == (
        issue.id, 1, "auto", "local", 0)
    assert row["execution_time_ms"] is not None and "load average" in row["stdout"]
    events = [e.event_type for e in wb.timeline.get_timeline_events(issue.id)]
    assert "shell_command_executed" in events
    assert wb.verify()[1].ok


def test_done_when_commands_never_run_without_their_tier(wb, issue, tmp_path):
    victim = tmp_path / "x"
    victim.write_text("keep")
    f = tmp_path / "f"
    f.write_text("a")
    hosts = tmp_path / "hosts"
    for cmd, tier in ((f"rm -rf {victim}", 3), (f'bash -c "rm -rf {victim}"', 3), (f"find {tmp_path} -delete", 3),
                      (f"echo x > {hosts}", 2), (f"sed -i s/a/b/ {f}", 2), ("kubectl delete pod x", 2)):
        res = wb.shell.run_shell_command(issue.id, cmd)
        assert res.tier == tier and res.status == ("denied" if tier == 3 else "pending"), cmd
    assert victim.read_text() == "keep" and f.read_text() == "a" and not hosts.exists()
    assert wb.db.query_one("SELECT count(*) FROM command_executions")[0] == 0
    for cmd in ("uptime", "df -h"):
        assert wb.shell.run_shell_command(issue.id, cmd).status == "executed"


def test_approve_runs_once_deny_runs_nothing(wb, issue, tmp_path):
    target = tmp_path / "made"
    res = wb.shell.run_shell_command(issue.id, f"touch {target}", reason="check the disk is writable", priority=80)
    assert res.status == "pending" and res.approval_level == "analyst" and not target.exists()
    action = wb.shell.get_action(res.action_id)
    assert (action.reason, action.priority, action.status) == ("check the disk is writable", 80, "pending")
    done = wb.shell.approve(res.action_id)
    assert done.status == "executed" and done.exit_code == 0 and target.exists()
    assert _execution_row(wb, done.execution_id)["approved_by"] == "local"
    with pytest.raises(errors.ConflictError):
        wb.shell.approve(res.action_id)
    target.unlink()
    again = wb.shell.run_shell_command(issue.id, f"touch {target}")
    assert again.status == "pending"          # allowed once: asked again
    denied = wb.shell.deny(again.action_id, reason="not now")
    assert denied.status == "denied" and not target.exists()
    types = [e.event_type for e in wb.timeline.get_timeline_events(issue.id)]
    assert types.count("shell_command_proposed") == 2 and "shell_command_approved" in types
    assert "shell_command_denied" in types
    assert {e.action for e in wb.audit.get_audit_log(entity_type="approval_decision")} == {"shell_approval_decision"}
    assert wb.verify()[1].ok


def test_allow_for_session_is_remembered_until_the_session_ends(wb, issue, tmp_path):
    target = tmp_path / "s"
    cmd = f"touch {target}"
    first = wb.shell.run_shell_command(issue.id, cmd, session_id="conv-1")
    wb.shell.approve(first.action_id, remember="session", session_id="conv-1")
    second = wb.shell.run_shell_command(issue.id, cmd, session_id="conv-1")
    assert second.status == "executed" and second.decision == "allow_session"
    other = wb.shell.run_shell_command(issue.id, cmd, session_id="conv-2")
    assert other.status == "pending"          # another session asks again
    assert wb.shell.end_session("conv-1") == 1
    assert wb.shell.run_shell_command(issue.id, cmd, session_id="conv-1").status == "pending"
    row = wb.db.query_one("SELECT decision, session_id, expires_at FROM approval_decisions WHERE decision = 'allow_session'")
    assert row["session_id"] == "conv-1" and row["expires_at"]


def test_the_terminal_session_is_the_default_and_decide_is_asked(wb, issue, tmp_path):
    asked = []
    target = tmp_path / "t"

    def decide(action):
        asked.append((action.tier, action.command))
        return "allow_session"

    res = wb.shell.run_shell_command(issue.id, f"touch {target}", decide=decide)
    assert res.status == "executed" and asked == [(2, f"touch {target}")]
    # same process session: remembered without asking
    res2 = wb.shell.run_shell_command(issue.id, f"touch {target}", decide=lambda a: pytest.fail("asked again"))
    assert res2.decision == "allow_session"


def test_policies_decide_before_anyone_is_asked(wb, issue, tmp_path):
    wb.shell.add_policy("restarts ok", "program == systemctl and subcommand == restart", "auto_approve", priority=10)
    wb.shell.add_policy("no curl", "program == curl", "deny", priority=20)
    wb.shell.add_policy("touch by admins", f"command ~ 'touch {tmp_path}/*'", "require_approval",
                        approval_level="admin", priority=30)
    wb.shell.add_policy("cat shadow", "program == cat and command ~ '*shadow*'", "deny", priority=5)
    assert wb.shell.run_shell_command(issue.id, "curl https://example.com").status == "denied"
    assert wb.shell.run_shell_command(issue.id, "cat /etc/shadow").status == "denied"   # a tier-1 command denied
    res = wb.shell.run_shell_command(issue.id, f"touch {tmp_path}/p")
    assert res.status == "pending" and res.approval_level == "admin"
    assert [p.name for p in wb.shell.list_policies()] == ["cat shadow", "restarts ok", "no curl", "touch by admins"]
    res2 = wb.shell.run_shell_command(issue.id, "systemctl restart no-such-unit-tftsr")
    assert res2.status == "executed" and res2.decision == "auto"   # auto-approved by policy (it fails to run)
    wb.shell.remove_policy("no curl")
    assert wb.shell.run_shell_command(issue.id, "curl https://example.com").status == "pending"
    for bad in ("program = curl", "nosuch == 1", "tier == 7", "program == a or tier == 2", "'unterminated"):
        with pytest.raises(errors.ValidationError):
            wb.shell.add_policy("bad", bad, "deny")
    with pytest.raises(errors.ConflictError):
        wb.shell.add_policy("restarts ok", "always", "deny")
    assert wb.verify()[1].ok


def test_roles_and_approval_levels(wb, issue, tmp_path, roles):
    ada, ana, vic = roles
    with acting_as(ada):
        wb.shell.add_policy("admin touch", f"command ~ '*{tmp_path}/admin*'", "require_approval", approval_level="admin")
    with acting_as(vic):
        assert wb.shell.classify("ls").tier == 1
        with pytest.raises(errors.PermissionDeniedError):
            wb.shell.run_shell_command(issue.id, "uptime")
        with pytest.raises(errors.PermissionDeniedError):
            wb.shell.list_actions(issue.id)
    with acting_as(ana):
        with pytest.raises(errors.PermissionDeniedError):
            wb.shell.add_policy("x", "always", "deny")
        with pytest.raises(errors.PermissionDeniedError):
            wb.shell.list_kubeconfigs()
        plain = wb.shell.run_shell_command(issue.id, f"touch {tmp_path}/plain")
        assert wb.shell.approve(plain.action_id).status == "executed"    # analyst level: analysts approve
        high = wb.shell.run_shell_command(issue.id, f"touch {tmp_path}/admin")
        with pytest.raises(errors.PermissionDeniedError, match="admin"):
            wb.shell.approve(high.action_id)
        with pytest.raises(errors.PermissionDeniedError):
            wb.shell.deny(high.action_id)
    with acting_as(ada):
        res = wb.shell.approve(high.action_id)
    assert res.status == "executed" and (tmp_path / "admin").exists()
    a = wb.shell.get_action(high.action_id)
    assert (a.requested_by, a.decided_by) == ("ana", "ada")
    assert _execution_row(wb, res.execution_id)["actor"] == "ana"
    assert _execution_row(wb, res.execution_id)["approved_by"] == "ada"


def test_environment_is_scrubbed_of_credentials(wb, issue, monkeypatch):
    planted = {"AWS_SECRET_ACCESS_KEY": "AKIAplantedsecret1", "AZURE_CLIENT_SECRET": "azplanted2",
               "GOOGLE_APPLICATION_CREDENTIALS": "/x/gplanted3", "KUBECONFIG": "/root/.kube/planted4",
               "GITHUB_TOKEN": "ghp_planted5", "DB_PASSWORD": "planted6", "MY_SECRET_THING": "planted7",
               "TFTSR_DB_KEY": "planted8", "OPENAI_API_KEY": "planted9",
               "HTTPS_PROXY": "http://user:planted10@proxy:3128"}
    for k, v in planted.items():
        monkeypatch.setenv(k, v)
    res = wb.shell.run_shell_command(issue.id, "env")
    assert res.status == "executed" and "PATH=" in res.stdout
    for v in planted.values():
        assert v not in res.stdout
    assert runner.scrubbed_env({"PATH": "/bin", "LANG": "C.UTF-8", "X_TOKEN": "t"}) == {"PATH": "/bin", "LANG": "C.UTF-8"}


def test_no_shell_unless_needed():
    assert runner.plan_argv("df -h", ("df", "-h")) == (["df", "-h"], False)
    argv, shell = runner.plan_argv("ls | wc -l", None)
    assert shell and argv[1:] == ["-c", "ls | wc -l"]


def test_timeout_and_output_cap(wb, issue):
    wb.shell.timeout = 1
    res = wb.shell.run_shell_command(issue.id, "sleep 5")
    assert res.timed_out and res.exit_code is None and "stopped after" in res.stderr
    assert wb.shell.get_action(res.action_id).status == "failed"
    assert _execution_row(wb, res.execution_id)["timed_out"] == 1
    wb.shell.timeout = 10
    wb.shell.output_cap = 10000
    res = wb.shell.run_shell_command(issue.id, "seq 1 1000000")
    assert res.truncated and len(res.stdout) <= 10000 and "output cut" in res.stderr


def test_bad_input_is_a_typed_error(wb, issue):
    with pytest.raises(errors.NotFoundError):
        wb.shell.run_shell_command("no-such-issue", "ls")
    for bad in ("", "  ", "ls\x00"):
        with pytest.raises(errors.ValidationError):
            wb.shell.run_shell_command(issue.id, bad)
    with pytest.raises(errors.ValidationError):
        wb.shell.run_shell_command(issue.id, "ls", priority=500)
    with pytest.raises(errors.NotFoundError):
        wb.shell.approve("nope")




def test_kubeconfigs_are_encrypted_and_listed_without_credentials(wb):
    k = wb.shell.add_kubeconfig("main", KUBECONFIG)
    assert k.is_active and k.context == "prod" and k.cluster_url == "https://10.0.0.1:6443"
    assert [(c["name"], c["namespace"]) for c in k.contexts] == [("prod", "payments"), ("stage", "default")]
    stored = wb.db.query_one("SELECT encrypted_content FROM kubeconfig_files")[0]
    assert "sekrit" not in stored and wb.secrets.decrypt(stored, "kubeconfig") == KUBECONFIG
    second = wb.shell.add_kubeconfig("other", KUBECONFIG.replace("prod", "dr"))
    assert not second.is_active
    assert "sekrit" not in repr(wb.shell.list_kubeconfigs())
    assert wb.shell.use_kubeconfig("other").is_active
    assert [x.name for x in wb.shell.list_kubeconfigs() if x.is_active] == ["other"]
    wb.shell.remove_kubeconfig("other")
    assert [x.name for x in wb.shell.list_kubeconfigs()] == ["main"]
    with pytest.raises(errors.ConflictError):
        wb.shell.add_kubeconfig("main", KUBECONFIG)
    for bad in (b"\x00\x01binary", b"\xff\xfe not utf8", "a: [unclosed", "just text", "kind: Config\ncontexts: []\n",
                b"x" * (1024 * 1024 + 1)):
        with pytest.raises(errors.ValidationError):
            wb.shell.add_kubeconfig("bad", bad)
    assert [x.name for x in wb.shell.list_kubeconfigs()] == ["main"]
    assert wb.verify()[1].ok


def test_tool_output_reaches_the_model_as_placeholders(wb, issue, tmp_path):
    secret_file = tmp_path / "app.log"
    secret_file.write_text("user jane.doe@example.org failed, token=ghp_16C7e42F292c6912E7710c838347Ae178B4a\n")
    assert RUN_SHELL_COMMAND_TOOL["name"] == "run_shell_command"
    assert RUN_SHELL_COMMAND_TOOL["parameters"]["required"] == ["command"]
    out = handle_run_shell_command(wb, issue.id, {"command": f"cat {secret_file}", "reason": "read the log"})
    assert out.status == "ok" and out.decision == "auto"
    assert "jane.doe@example.org" not in out.text and "ghp_16C7e42F292c6912E7710c838347Ae178B4a" not in out.text
    assert "[" in out.text and "failed" in out.text
    # the stored run keeps the original (encrypted database); only the model's copy is redacted
    assert "jane.doe@example.org" in wb.shell.get_execution(wb.shell.get_action(out.action_id).execution_id).stdout
    # a tier-2 proposal runs only after approval, and its output is cleared as well
    src = ShellToolSource(wb)
    pending = src.call("run_shell_command", {"command": f"cp {secret_file} {tmp_path}/copy && cat {tmp_path}/copy"},
                       issue_id=issue.id)
    assert pending.decision == "timeout" and "waits for analyst approval" in pending.text
    assert not (tmp_path / "copy").exists()
    approved = src.call("run_shell_command", {"command": f"cp {secret_file} {tmp_path}/c2 && cat {tmp_path}/c2"},
                        issue_id=issue.id, decide=lambda action: "allow_once")
    assert approved.decision == "allow_once" and (tmp_path / "c2").exists()
    assert "jane.doe@example.org" not in approved.text and "ghp_16C7e42F" not in approved.text
    refused = src.call("run_shell_command", {"command": "rm -rf /"}, issue_id=issue.id)
    assert refused.status == "denied" and refused.decision == "policy_deny" and "Refused" in refused.text

    class Call:   # the loop's call object: name and arguments
        name, arguments = "run_shell_command", {"command": f"cat {secret_file}"}

    loop_src = ShellToolSource(wb, issue.id, session_id="conv-9")
    assert loop_src.handles("run_shell_command") and not loop_src.handles("other")
    ran = loop_src.run(Call())
    assert ran.status == "ok" and "jane.doe@example.org" not in ran.content


def test_allow_for_session_holds_when_the_terminal_session_leader_is_gone(data_dir, tmp_path):
    """A CI runner or daemon whose session leader exited (or lives outside this PID namespace):
    the process itself is the session, so "for this session" still holds within it."""
    import subprocess
    import sys
    import textwrap

    target = tmp_path / "orphan"
    script = textwrap.dedent(f"""
        import os, sys, time
        if os.fork():          # the session leader leaves at once
            os._exit(0)
        time.sleep(0.3)
        import tftsr_kernel
        wb = tftsr_kernel.open({str(data_dir)!r})
        issue = wb.issues.create_issue("Orphaned", "x", "low", "linux")
        asked = []
        def once(action):
            asked.append(action.command)
            return "allow_session"
        def never(action):
            asked.append("again")
            return "deny"
        first = wb.shell.run_shell_command(issue.id, "touch {target}", decide=once)
        second = wb.shell.run_shell_command(issue.id, "touch {target}", decide=never)
        print(first.status, second.status, second.decision, len(asked), flush=True)
        wb.close()
    """)
    out = tmp_path / "out.txt"
    with open(out, "w") as fh:
        subprocess.run([sys.executable, "-c", script], stdout=fh, start_new_session=True, check=True, timeout=60)
    for _ in range(300):
        if out.read_text().strip():
            break
        import time
        time.sleep(0.1)
    assert out.read_text().split() == ["executed", "executed", "allow_session", "1"]
