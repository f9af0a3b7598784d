"""Sudo credentials (``sudo_config``) and approved ``sudo ...`` commands.

The real part runs against Debian's sudo (the test command installs it): an OS account made for
the test, with a password and a sudoers rule (no NOPASSWD, no cached credentials), runs the
kernel. It runs it with Debian's python3.11 and this checkout plus the venv's packages on
PYTHONPATH, because the venv's own interpreter lives where that account may not go (/root).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sysconfig
import tempfile
import textwrap
from pathlib import Path

import pytest

from tftsr_kernel import errors
from tftsr_kernel.shell import sudo
from tftsr_kernel.team import acting_as

REPO = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3.11"
# the characters that once cut secrets short, a quote and a space: all must reach sudo intact
PASSWORD = "Tr0ub4dor&3x;Q# 'pw'"


# -- without another account ---------------------------------------------------------------------------
@pytest.mark.parametrize("argv, wants", [
    (["sudo", "id"], True), (["/usr/bin/sudo", "-u", "root", "id"], True), (["sudo", "-u", "-n", "id"], True),
    (["sudo", "-n", "id"], False), (["sudo", "-nu", "root", "id"], False), (["sudo", "-un", "id"], True),
    (["sudo", "--non-interactive", "id"], False), (["sudo", "-A", "id"], False), (["sudo", "--user=root", "id"], True),
    (["sudo", "-S", "id"], False), (["sudo", "-uroot", "-S", "id"], False),
    (["sudo", "--", "-n"], True), (["env", "sudo", "id"], False), (["sudoedit", "f"], False), ([], False),
])
def test_which_commands_get_the_password(argv, wants):
    assert sudo.wants_password(argv) is wants


def test_the_password_is_hidden_in_output_even_cut_off():
    assert sudo.hide(f"a {PASSWORD} b {PASSWORD}", PASSWORD) == "a [sudo password] b [sudo password]"
    assert sudo.hide("out: " + PASSWORD[:7], PASSWORD) == "out: [sudo password]"     # cut by the output cap
    assert sudo.hide("Tr0 and more", PASSWORD) == "Tr0 and more"                      # 3 characters: left
    assert sudo.hide("anything", None) == "anything"


def test_stored_encrypted_shown_never_and_audited_without_it(wb, data_dir):
    c = wb.shell.save_sudo_credentials(PASSWORD)
    assert c.configured and c.is_current_user and c.username == sudo.os_user()
    row = wb.db.query_one("SELECT * FROM sudo_config")
    assert PASSWORD not in row["encrypted_password"]
    assert wb.secrets.decrypt(row["encrypted_password"], "sudo_password") == PASSWORD
    with pytest.raises(errors.SecretError):
        wb.secrets.decrypt(row["encrypted_password"], "kubeconfig")       # sealed for this purpose only
    assert PASSWORD not in json.dumps([c.to_dict() for c in wb.shell.list_sudo_configs()])
    again = wb.shell.save_sudo_credentials("second-one", username="svc-dash")   # another account: its own row
    assert not again.is_current_user and len(wb.shell.list_sudo_configs()) == 2
    wb.shell.save_sudo_credentials(PASSWORD + "2")                               # replaced, not added
    assert len(wb.shell.list_sudo_configs()) == 2
    wb.shell.clear_sudo_credentials(username="svc-dash")
    assert not wb.shell.get_sudo_config("svc-dash").configured
    with pytest.raises(errors.NotFoundError, match="no sudo password is stored for svc-dash"):
        wb.shell.clear_sudo_credentials(username="svc-dash")
    actions = [e.action for e in wb.audit.get_audit_log(entity_type="sudo_config", limit=20)]
    assert actions.count("save_sudo_config") == 3 and "clear_sudo_config" in actions
    dump = json.dumps([e.details for e in wb.audit.get_audit_log(limit=100)])
    assert PASSWORD[:10] not in dump and "second-one" not in dump
    for bad in ("", "two\nlines", "x" * 1025, None, b"bytes", "bad\udcffbyte"):
        with pytest.raises(errors.ValidationError):
            wb.shell.save_sudo_credentials(bad)
    for bad in ("a b", "../x", "x:y", "", "a\x00", 7):
        with pytest.raises(errors.ValidationError, match="OS account"):
            wb.shell.get_sudo_config(bad)
    problems, chain = wb.verify()
    assert not problems and chain.ok
    wb.rekey()                                                   # sealed again under the new key
    assert wb.shell._sudo_password() == PASSWORD + "2"


def test_roles_and_the_default_approval_level(wb, issue, roles):
    ada, ana, vic = roles
    with acting_as(ada):
        wb.shell.save_sudo_credentials(PASSWORD)
        assert wb.shell.test_sudo_credentials().ok            # root: sudo asks for nothing
    with acting_as(ana):
        assert wb.shell.get_sudo_config().configured          # analysts may see that one is stored
        for call in (lambda: wb.shell.save_sudo_credentials("x"), wb.shell.clear_sudo_credentials,
                     wb.shell.test_sudo_credentials, wb.shell.list_sudo_configs):
            with pytest.raises(errors.PermissionDeniedError, match="admin"):
                call()
        # root on this host: a sudo command needs an admin's approval, not an analyst's
        pending = wb.shell.run_shell_command(issue.id, "sudo id -u")
        assert pending.status == "pending" and pending.approval_level == "admin"
        with pytest.raises(errors.PermissionDeniedError):
            wb.shell.approve(pending.action_id)
        assert wb.shell.run_shell_command(issue.id, "touch /tmp/tftsr-x").approval_level == "analyst"
    with acting_as(vic):
        with pytest.raises(errors.PermissionDeniedError):
            wb.shell.get_sudo_config()
    with acting_as(ada):
        ran = wb.shell.approve(pending.action_id)
        assert ran.status == "executed" and ran.exit_code == 0 and ran.stdout.strip() == "0"
    (row,) = wb.audit.get_audit_log(action="sudo_command")
    assert row.user_id == "ada" and PASSWORD not in json.dumps(row.details)
    assert row.details["note"] == "the stored sudo password was offered through sudo's askpass helper"
    saved = [e for e in wb.audit.get_audit_log(action="save_sudo_config")]
    assert [e.user_id for e in saved] == ["ada"]


def test_only_the_system_sudo_gets_the_password(wb, issue, tmp_path, monkeypatch):
    """A program named sudo that is not the root-owned set-user-ID sudo (a path elsewhere, or one
    found first on PATH) is run like any other: its stdin is empty."""
    fake = tmp_path / "bin" / "sudo"
    fake.parent.mkdir()
    got = tmp_path / "got"
    fake.write_text(f"#!/bin/sh\ncat > {got}\necho fake\n")
    fake.chmod(0o755)
    wb.shell.save_sudo_credentials(PASSWORD)
    allow = lambda action: "allow_once"
    r = wb.shell.run_shell_command(issue.id, f"{fake} id -u", decide=allow)
    assert r.exit_code == 0 and r.stdout == "fake\n" and got.read_bytes() == b""
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    got.unlink()
    r = wb.shell.run_shell_command(issue.id, "sudo id -u", decide=allow)
    assert r.stdout == "fake\n" and got.read_bytes() == b""
    assert not wb.audit.get_audit_log(action="sudo_command")
    assert sudo.real_sudo("sudo", "/usr/bin:/bin") == "/usr/bin/sudo"
    assert sudo.real_sudo(str(fake), None) is None and sudo.real_sudo("no-such-sudo", "/usr/bin") is None


def test_the_command_never_reads_the_password_from_its_input(wb, issue, tmp_path):
    """sudo -S would leave the password on the command's stdin whenever sudo asks for none (root,
    NOPASSWD, cached credentials): `sudo tee FILE` would write it to disk. It comes through the
    askpass helper instead, and stdin stays /dev/null; the helper's directory is gone afterwards."""
    from tftsr_kernel.shell import runner

    wb.shell.save_sudo_credentials(PASSWORD)
    target = tmp_path / "written"
    r = wb.shell.run_shell_command(issue.id, f"sudo tee {target}", decide=lambda a: "allow_once")
    assert r.status == "executed" and r.exit_code == 0, r
    assert target.read_bytes() == b"" and r.stdout == ""
    assert wb.audit.get_audit_log(action="sudo_command")                          # it was given (not needed)
    assert not [n for root in runner.kube_roots() for n in os.listdir(root)
                if n.startswith(f"{runner.SUDO_DIR_PREFIX}{os.getpid()}-")]


def test_the_askpass_helper_runs_where_dev_shm_is_noexec(tmp_path, monkeypatch):
    """A host with /dev/shm mounted noexec: the password file stays in memory (a noexec tmpfs
    mounted for the test stands for /dev/shm), the helper goes to the temporary directory and runs."""
    from tftsr_kernel.shell import runner

    if os.geteuid() != 0:
        pytest.skip("mounting a noexec tmpfs needs root (CI runs as root)")
    shm = tmp_path / "shm"
    shm.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "noexec,size=1m", "tmpfs", str(shm)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine lets no one mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        monkeypatch.setattr(runner, "_shm_root", lambda: str(shm))
        with runner.sudo_askpass(PASSWORD) as helper:
            assert not helper.startswith(str(shm))
            secret_dirs = [p for p in shm.iterdir() if p.name.startswith(runner.SUDO_DIR_PREFIX)]
            assert len(secret_dirs) == 1 and (secret_dirs[0] / "password").read_text() == PASSWORD + "\n"
            assert PASSWORD not in Path(helper).read_text()
            assert subprocess.run([helper, "prompt"], capture_output=True, text=True).stdout == PASSWORD + "\n"
        assert not os.path.exists(helper) and not list(shm.iterdir())
    finally:
        subprocess.run(["umount", str(shm)], check=False)


def test_a_password_cut_by_the_output_cap_is_hidden_too(wb, issue, tmp_path):
    wb.shell.save_sudo_credentials(PASSWORD)
    f = tmp_path / "dump.txt"
    f.write_text("out: " + PASSWORD * 50)
    wb.shell.output_cap = 5 + 9                    # cuts the first copy after 9 characters
    r = wb.shell.run_shell_command(issue.id, f"cat {f}")
    assert r.truncated and r.stdout == "out: [sudo password]"
    r = wb.shell.run_shell_command(issue.id, f"cat {f} >&2", decide=lambda a: "allow_once")   # the same on stderr
    assert r.stderr.startswith("out: [sudo password]\n[tftsr: output cut")
    assert PASSWORD[:4] not in json.dumps([wb.shell.get_execution(r.execution_id).to_dict()])


def test_a_stored_password_that_no_longer_opens(wb, issue):
    wb.shell.save_sudo_credentials(PASSWORD)
    with wb.db.write() as conn:
        conn.execute("UPDATE sudo_config SET encrypted_password = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'")
    allow = lambda action: "allow_once"
    with pytest.raises(errors.TftsrError, match="cannot be decrypted; an admin clears it"):
        wb.shell.run_shell_command(issue.id, "sudo id -u", decide=allow)
    assert wb.shell.run_shell_command(issue.id, "uptime").exit_code == 0       # other commands run on
    assert wb.shell.clear_sudo_credentials().configured is False


def test_cli(cli, tftsr_proc):
    assert tftsr_proc("init").code == 0
    r = tftsr_proc("sudo", "set", "--password-env", "SUDO_PW", env={"SUDO_PW": PASSWORD})
    assert r.code == 0 and "a sudo password is stored for" in r.stdout and PASSWORD not in r.stdout + r.stderr
    r = tftsr_proc("sudo", "set")                                     # no terminal, no variable: nothing stored
    assert r.code == 2 and "--password-env" in r.stderr
    r = tftsr_proc("sudo", "show", "--json")
    assert r.json["configured"] is True and PASSWORD not in r.stdout
    r = tftsr_proc("sudo", "list", "--json")
    assert [c["username"] for c in r.json] == [sudo.os_user()]
    r = tftsr_proc("sudo", "test", "--user", "somebody-else")
    assert r.code == 1 and "failed: the workbench runs as" in r.stdout
    r = tftsr_proc("sudo", "show", "--user", "bad name")
    assert r.code == 1 and "OS account" in r.stderr and "Traceback" not in r.stderr
    r = tftsr_proc("sudo", "set", "--password-env", "SUDO_PW", env={"SUDO_PW": "bad\udcffbyte"})
    assert r.code == 1 and "not valid UTF-8" in r.stderr and "Traceback" not in r.stderr
    r = tftsr_proc("sudo", "clear", "--json")
    assert r.code == 0 and r.json["configured"] is False
    r = tftsr_proc("sudo", "clear")
    assert r.code == 1 and "no sudo password is stored" in r.stderr


def test_settings_panel(wb):
    from widgets.shell import ShellSettings

    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    with acting_as(wb.team.actor_for("ada", "session")):
        panel = ShellSettings(wb)
        panel.layout
        assert "No sudo password is stored" in panel._w_sudo_status.value
        panel._w_sudo_password.value = PASSWORD
        panel._w_sudo_save.click()
        assert panel.status_kind == "ok" and panel._w_sudo_password.value == ""
        assert "A sudo password is stored for <b>" in panel._w_sudo_status.value
        panel._w_sudo_test.click()
        assert panel.status.startswith("Sudo test passed")
        panel._w_sudo_user.value = "<img src=x onerror=alert(1)>"
        panel._w_sudo_save.click()
        assert panel.status_kind == "error" and "OS account" in panel.status
        panel._w_sudo_user.value = ""
        panel._w_sudo_clear.click()
        assert panel.status_kind == "ok" and "No sudo password" in panel._w_sudo_status.value
    with acting_as(wb.team.actor_for("ana", "session")):
        panel = ShellSettings(wb)
        panel.layout
        assert all(b.disabled for b in (panel._w_sudo_save, panel._w_sudo_test, panel._w_sudo_clear,
                                        panel._w_sudo_password))
        assert "No sudo password is stored" in panel._w_sudo_status.value


# -- with a real account, a real password and Debian's sudo ---------------------------------------------
def _let_through(name: str, targets: list[Path]) -> list[tuple[Path, int]]:
    """Let the account reach the checkout and the venv's packages: a directory on the way that
    others may not enter (a checkout under a 0700 home, say) gets o+x, and the two directories
    themselves o+rx, for the test's length.
    Returns what to put back."""
    changed = []
    for target in targets:
        for d, need in [(target, 0o005), *((p, 0o001) for p in target.parents)]:   # list the target, pass the rest
            mode = d.stat().st_mode & 0o7777
            if mode & need != need:
                os.chmod(d, mode | need)
                changed.append((d, mode))
    return changed


@pytest.fixture(scope="module")
def account():
    if os.geteuid() != 0:
        pytest.skip("making an OS account for the sudo test needs root (CI runs as root)")
    for tool in ("sudo", "useradd", "userdel", "chpasswd", "visudo"):
        assert shutil.which(tool), f"{tool} is missing: run the README's test command, which installs sudo"
    assert os.access(SYSTEM_PYTHON, os.X_OK), f"{SYSTEM_PYTHON} is missing (Debian's python3.11)"
    name = "tftsr-s" + secrets.token_hex(4)
    home = tempfile.mkdtemp(prefix="tftsr-sudotest-")
    rule = f"/etc/sudoers.d/tftsr-test-{name[7:]}"
    subprocess.run(["useradd", "-M", "-d", home, "-s", "/usr/sbin/nologin", name], check=True)
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{PASSWORD}\n", text=True, check=True)
        text = (f"Defaults:{name} timestamp_timeout=0, !lecture\n"
                f"{name} ALL=(root) /usr/bin/id, /usr/bin/cat, /usr/bin/true\n")
        staged = Path(home) / "rule"
        staged.write_text(text)
        subprocess.run(["visudo", "-cqf", str(staged)], check=True)
        shutil.move(staged, rule)
        os.chmod(rule, 0o440)
        info = __import__("pwd").getpwnam(name)
        os.chown(home, info.pw_uid, info.pw_gid)
        os.chmod(home, 0o700)
        opened = _let_through(name, [REPO, Path(sysconfig.get_paths()["purelib"])])
        yield {"name": name, "uid": info.pw_uid, "gid": info.pw_gid, "home": home}
    finally:
        for d, mode in locals().get("opened", []):
            os.chmod(d, mode)
        if os.path.exists(rule):
            os.unlink(rule)
        subprocess.run(["userdel", name], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


SCRIPT = textwrap.dedent("""
    import json, os, sys
    import tftsr_kernel
    from tftsr_kernel.shell.tool import ShellToolSource

    home, password = os.environ["HOME"], os.environ["PLANTED"]
    wb = tftsr_kernel.open(os.path.join(home, "data"))
    out = {"whoami": wb.shell.get_sudo_config().username}
    issue = wb.issues.create_issue("Disk full on db-7", "x", "high", "linux")
    allow = lambda action: "allow_once"

    def run(cmd):
        r = wb.shell.run_shell_command(issue.id, cmd, decide=allow)
        return {"status": r.status, "exit": r.exit_code, "out": r.stdout, "err": r.stderr, "id": r.execution_id}

    out["none_stored_test"] = wb.shell.test_sudo_credentials().to_dict()
    out["none_stored_run"] = run("sudo id -u")
    wb.shell.save_sudo_credentials(password)
    out["test"] = wb.shell.test_sudo_credentials().to_dict()
    out["id"] = run("sudo id -u")
    notes = os.path.join(home, "notes.txt")
    with open(notes, "w") as fh:
        fh.write(f"db admin password: {password}\\n")
    out["cat"] = run(f"sudo cat {notes}")
    out["stored"] = wb.shell.get_execution(out["cat"]["id"]).stdout
    out["piped"] = run("sudo id -u | cat")          # a shell: stdin belongs to the commands, nothing given
    out["non_interactive"] = run("sudo -n id -u")
    # the model's tool: what goes back to the provider
    class Call:
        name, arguments = "run_shell_command", {"command": f"sudo cat {notes}"}
    out["tool"] = ShellToolSource(wb, issue.id, session_id="conv-1", decide=allow).run(Call()).content
    wb.shell.save_sudo_credentials("not-" + password[:6])
    out["wrong_test"] = wb.shell.test_sudo_credentials().to_dict()
    out["wrong_run"] = run("sudo id -u")
    out["audit"] = [(e.action, e.user_id, e.details) for e in wb.audit.get_audit_log(limit=200)]
    out["left"] = [n for root in ("/dev/shm", "/tmp") for n in os.listdir(root) if n.startswith("tftsr-sudo-")
                   and os.stat(os.path.join(root, n)).st_uid == os.getuid()]
    out["verify"] = not wb.verify()[0] and wb.verify()[1].ok
    wb.close()
    print(json.dumps(out))
""")


def test_an_approved_sudo_command_gets_the_stored_password_and_it_never_shows(account):
    env = {"HOME": account["home"], "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PLANTED": PASSWORD,
           "PYTHONPATH": os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]),
           "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([SYSTEM_PYTHON, "-c", SCRIPT], cwd=account["home"], env=env, capture_output=True, text=True,
                          timeout=180, user=account["uid"], group=account["gid"], extra_groups=[])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["whoami"] == account["name"]
    # nothing stored: sudo is asked for nothing and refuses (no NOPASSWD rule)
    assert out["none_stored_test"]["ok"] is False and "needs a password here" in out["none_stored_test"]["message"]
    assert out["none_stored_run"]["exit"] != 0 and "password" in out["none_stored_run"]["err"]
    # stored: the test passes and an approved command runs as root
    assert out["test"]["ok"] is True and out["test"]["message"] == "sudo accepted the stored password", out["test"]
    assert out["id"]["status"] == "executed" and out["id"]["exit"] == 0 and out["id"]["out"].strip() == "0"
    # the password in the output of a command is replaced, in the result, in the store and for the model
    assert out["cat"]["exit"] == 0 and out["cat"]["out"] == "db admin password: [sudo password]\n"
    assert out["stored"] == out["cat"]["out"]
    assert "[sudo password]" in out["tool"]
    # no password where sudo shares stdin with other commands, or was told to ask for none
    for key in ("piped", "non_interactive"):       # (the pipeline's exit is cat's)
        assert out[key]["status"] == "executed" and out[key]["out"] == "", out[key]
        assert "a password is required" in out[key]["err"], out[key]
    assert out["non_interactive"]["exit"] == 1
    # a wrong password: a clear failure, the wrong password not shown either
    assert out["wrong_test"]["ok"] is False and out["wrong_test"]["message"].startswith("sudo refused")
    assert out["wrong_run"]["exit"] != 0
    # the password is nowhere but sealed: no output, no audit row, no result
    everything = json.dumps(out)
    assert PASSWORD not in everything and PASSWORD[:8] not in everything
    assert ("not-" + PASSWORD[:6]) not in everything
    given = [d for a, _, d in out["audit"] if a == "sudo_command"]
    assert len(given) >= 3 and all(d["username"] == account["name"] for d in given)
    assert out["verify"] is True
    assert out["left"] == []                        # the askpass directories are gone
