"""Debian's kubectl (kubernetes-client) with an uploaded kubeconfig against a local Kubernetes API
server over real HTTPS; no decrypted kubeconfig remains on disk afterwards."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys

import pytest

from tests.fakes.kubernetes import FakeKubeAPI
from tftsr_kernel.shell import runner



def _debian_kubectl() -> str | None:
    """Debian's kubectl (package kubernetes-client): installed, or unpacked under .venv/debian by
    ``.ci/workbench test`` when /usr/bin/kubectl belongs to another package."""
    try:
        owner = subprocess.run(["dpkg", "-S", "/usr/bin/kubectl"], capture_output=True, text=True).stdout
    except OSError:
        owner = ""
    if owner.startswith("kubernetes-client:"):
        return "/usr/bin/kubectl"
    unpacked = os.path.join(sys.prefix, "debian", "kubernetes-client", "usr", "bin", "kubectl")
    return unpacked if os.access(unpacked, os.X_OK) else None


KUBECTL = _debian_kubectl()
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="Debian's kubectl missing: .ci/workbench test installs it")


@pytest.fixture(autouse=True)
def _debian_kubectl_first(monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(KUBECTL) + os.pathsep + os.environ.get("PATH", ""))


def _kubectl_version() -> str:
    out = subprocess.run([KUBECTL, "version", "--client", "-o", "json"], capture_output=True, text=True).stdout
    return json.loads(out)["clientVersion"]["gitVersion"]

TOKEN = "kube-token-" + secrets.token_hex(16)   # made per run: no other file holds it


def _files_holding(needle: str) -> list[str]:
    found = []
    for root in runner.kube_roots():
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                try:   # regular files only: a FIFO or socket another program left in /tmp would block open()
                    st = os.lstat(path)
                    if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 20:
                        continue
                    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
                    with os.fdopen(fd, "rb") as fh:
                        if needle.encode() in fh.read():
                            found.append(path)
                except OSError:
                    continue
    return found


def _kube_dirs() -> list[str]:
    return [os.path.join(r, n) for r in runner.kube_roots() for n in os.listdir(r)
            if n.startswith(f"{runner.KUBE_DIR_PREFIX}{os.getpid()}-")]


def test_kubectl_get_pods_with_an_uploaded_kubeconfig(wb, issue, tmp_path):
    with FakeKubeAPI(TOKEN, pods={"payments": ["api-5b7c-x1", "api-5b7c-x2"]}) as api:
        src = tmp_path / "kubeconfig.yaml"
        src.write_text(api.kubeconfig(namespace="payments"))
        k = wb.shell.add_kubeconfig("lab", src.read_bytes())
        src.unlink()
        assert k.contexts[0]["namespace"] == "payments"
        res = wb.shell.run_shell_command(issue.id, "kubectl get pods")
        assert res.status == "executed" and res.tier == 1, res.stderr
        assert res.exit_code == 0, res.stderr
        assert "api-5b7c-x1" in res.stdout and "api-5b7c-x2" in res.stdout
        assert ("GET", "/api/v1/namespaces/payments/pods", True) in api.requests
        assert all(ok for _m, _p, ok in api.requests)           # the bearer token went with every request
        # it was Debian's kubectl that ran (its User-Agent names its version)
        assert api.user_agents and all(f"kubectl/{_kubectl_version()} " in ua for ua in api.user_agents), api.user_agents
        action = wb.shell.get_action(res.action_id)
        assert action.target == {"kubeconfig": "lab", "context": "fake-ctx"}
        # through a pipe (bash -c) too
        res = wb.shell.run_shell_command(issue.id, "kubectl get pods | grep x2")
        assert res.exit_code == 0 and "api-5b7c-x2" in res.stdout
    assert _files_holding(TOKEN) == [] and _kube_dirs() == []


def test_the_private_file_is_removed_on_timeout_and_error(wb, issue):
    with FakeKubeAPI(TOKEN) as api:
        wb.shell.add_kubeconfig("lab", api.kubeconfig())
        wb.shell.timeout = 1
        res = wb.shell.run_shell_command(issue.id, "kubectl get pods && sleep 10")
        assert res.timed_out
        wb.shell.timeout = 30
        res = wb.shell.run_shell_command(issue.id, "kubectl get nosuchthing")
        assert res.status == "executed" and res.exit_code != 0
    assert _files_holding(TOKEN) == [] and _kube_dirs() == []


def test_private_file_modes_and_sweep_of_a_dead_process(tmp_path):
    with runner.private_kubeconfig("secret: x\n") as (d, path):
        assert os.stat(d).st_mode & 0o777 == 0o700
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert not os.path.exists(d)
    stale = os.path.join(runner.kube_roots()[0], f"{runner.KUBE_DIR_PREFIX}999999999-zz")
    os.makedirs(stale, mode=0o700)
    open(os.path.join(stale, "config"), "w").write("token: leftover")
    assert runner.sweep_stale_dirs() >= 1 and not os.path.exists(stale)


def test_without_a_kubeconfig_kubectl_never_reads_home(wb, issue, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "config").write_text("this file must not be read")
    monkeypatch.setenv("HOME", str(home))
    res = wb.shell.run_shell_command(issue.id, "kubectl config current-context")
    assert res.exit_code != 0 and "must not be read" not in res.stderr
