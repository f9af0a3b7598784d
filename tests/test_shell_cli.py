"""tftsr shell / kubeconfig / policy from the command line."""

from __future__ import annotations

import pytest


@pytest.fixture
def issue_id(cli):
    return cli("issue", "create", "--title", "Disk full", "--json").json["id"]


def test_classify_json(cli):
    r = cli("shell", "classify", "echo x > /etc/hosts", "--json")
    assert r.code == 0 and r.json == {"tier": 2, "reason": "writes to the file /etc/hosts"}
    assert cli("shell", "classify", "kubectl get pods", "--json").json["tier"] == 1


def test_run_tiers_approve_deny_history(cli, issue_id, tmp_path):
    r = cli("shell", "run", issue_id, "df -h", "--json")
    assert r.code == 0 and r.json["status"] == "executed" and r.json["exit_code"] == 0 and "Filesystem" in r.json["stdout"]
    assert set(r.json) >= {"action_id", "tier", "status", "exit_code", "stdout", "stderr"}
    r = cli("shell", "run", issue_id, f"rm -rf {tmp_path}", "--json")
    assert r.code == 1 and r.json["status"] == "denied" and r.json["tier"] == 3 and tmp_path.exists()
    made = tmp_path / "d"
    r = cli("shell", "run", issue_id, f"mkdir {made}", "--json")     # no terminal: pending
    assert r.code == 0 and r.json["status"] == "pending" and not made.exists()
    pending = r.json["action_id"]
    r = cli("shell", "approve", pending, "--json")
    assert r.code == 0 and r.json["status"] == "executed" and made.is_dir()
    r = cli("shell", "run", issue_id, f"rmdir {made}", "--json")
    r = cli("shell", "deny", r.json["action_id"], "--json")
    assert r.code == 0 and r.json["status"] == "denied" and made.is_dir()
    hist = cli("shell", "history", issue_id, "--json").json
    assert [h["status"] for h in hist] == ["denied", "executed", "denied", "executed"]
    assert set(hist[0]) == {"action_id", "issue_id", "command", "tier", "status", "approved_by", "actor",
                            "exit_code", "started_at"}
    assert hist[1]["approved_by"] == "local" and hist[1]["exit_code"] == 0
    assert cli("shell", "history", "--json").json == hist
    r = cli("shell", "approve", pending)
    assert r.code == 1 and "not pending" in r.stderr


def test_kubeconfig_and_policy_commands(cli, issue_id, tmp_path):
    f = tmp_path / "kc.yaml"
    f.write_text("apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster: {server: https://k:6443}\n"
                 "contexts:\n- name: a\n  context: {cluster: c, user: u, namespace: web}\n"
                 "users:\n- name: u\n  user: {token: tok-cli-secret-123}\n")
    r = cli("kubeconfig", "add", "lab", f, "--json")
    assert r.code == 0 and r.json["is_active"] and r.json["contexts"][0]["namespace"] == "web"
    r = cli("kubeconfig", "list")
    assert r.code == 0 and "lab" in r.stdout and "a (web)" in r.stdout and "tok-cli-secret" not in r.stdout
    assert cli("kubeconfig", "use", "lab", "--json").json["is_active"]
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\x00\x00\x00")
    r = cli("kubeconfig", "add", "bad", bad)
    assert r.code == 1 and "Traceback" not in r.stderr
    assert cli("kubeconfig", "add", "dir", tmp_path).code == 2
    assert cli("kubeconfig", "remove", "lab", "--json").code == 0
    r = cli("policy", "add", "no-wget", "--when", "program == wget", "--action", "deny", "--json")
    assert r.code == 0 and r.json["action"] == "deny"
    assert [p["name"] for p in cli("policy", "list", "--json").json] == ["no-wget"]
    r = cli("shell", "run", issue_id, "wget http://example.invalid/x", "--json")
    assert r.code == 1 and r.json["status"] == "denied" and "no-wget" in r.json["reason"]
    assert cli("policy", "add", "x", "--when", "bogus", "--action", "deny").code == 1
    assert cli("policy", "remove", "no-wget").code == 0
    assert cli("policy", "list", "--json").json == []
