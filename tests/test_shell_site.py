"""Site commands (``shell_commands``): a site declares its own programs with their tier. They
give a program the classifier does not know its tier and may raise any command's tier, never
lower one the classifier knows; the kernel checks the role and audits each change."""

from __future__ import annotations

import json

import pytest

from tftsr_kernel import errors
from tftsr_kernel.shell.classify import classify, site_command
from tftsr_kernel.team import acting_as

SITE = (site_command("ops-status *", 1, "our read-only status tool"),
        site_command("systemctl restart payments", 3, "payments restarts go through change control"),
        site_command("flush-cache [a-z]*", 2),
        site_command("rm *", 1), site_command("curl *", 1), site_command("kubectl get *", 1))


@pytest.mark.parametrize("command, tier, why", [
    ("ops-status", 1, "site command"),
    ("ops-status --json --since 10m", 1, "site command"),
    ("bash -c 'ops-status --json'", 1, "site command"),          # the payload is a site command too
    ("ops-status | grep degraded", 1, "site command"),
    ("flush-cache eu1", 2, "site command"),
    ("flush-cache 42", 2, "not a known"),                          # the template does not match: unknown, 2
    ("systemctl restart payments", 3, "change control"),           # raised above the rule's 2
    ("systemctl restart nginx", 2, "systemctl"),                   # not the template
    ("systemctl status payments", 1, "reads"),
    # never lower what the classifier knows, nor what it cannot see
    ("rm -rf /tmp/x", 3, "rm"),
    ("curl https://example.org", 2, "curl"),
    ("kubectl get secret db -o yaml", 2, "secret"),
    ("ops-status $(rm -rf /)", 3, "rm"),
    ("ops-status > /etc/hosts", 2, "/etc/hosts"),
    ("ops-status \"$TARGET\"", 2, "not a known"),
    ("ops-status *.log", 2, "not a known"),
    ("/tmp/x/ops-status", 2, "not a known"),                       # the program as written, not its base name
    ("OPS-STATUS", 2, "not a known"),
    ("sudo ops-status", 2, "sudo"),
    ("ops-statusx", 2, "not a known"),
])
def test_site_commands_in_the_classifier(command, tier, why):
    v = classify(command, SITE)
    assert (v.tier, why in v.reason) == (tier, True), (command, v)
    # without the site's word, an unknown program is tier 2, and known ones keep their tier
    if "site command" in v.reason:
        assert classify(command).tier == 2


@pytest.mark.parametrize("template", ["a; b", "a | b", "x=1 prog", "prog > f", "$(prog)", "prog $HOME", "*prog",
                                      "prog `x`", "", "   ", "f() { x; }", "prog 'unterminated"])
def test_a_template_is_one_plain_command(template):
    with pytest.raises(ValueError):
        site_command(template, 1)


def test_the_service_stores_checks_roles_and_audits(wb, issue, tmp_path):
    tool = tmp_path / "ops-status"
    tool.write_text("#!/bin/sh\necho \"all green $*\"\n")
    tool.chmod(0o755)
    # an unknown program: tier 2, waits for approval
    assert wb.shell.run_shell_command(issue.id, f"{tool} --json").status == "pending"
    c = wb.shell.add_site_command(f"{tool} *", 1, category="runbook", description="read-only status")
    assert (c.tier, c.category, c.command_template) == (1, "runbook", f"{tool} *")
    res = wb.shell.run_shell_command(issue.id, f"{tool} --json")
    assert res.status == "executed" and res.tier == 1 and res.stdout.strip() == "all green --json"
    assert "site command" in res.reason
    with pytest.raises(errors.ConflictError):
        wb.shell.add_site_command(f"{tool} *", 2)
    for bad in ({"template": "a;b", "tier": 1}, {"template": "x", "tier": 4}, {"template": "x", "tier": True},
                {"template": "x", "tier": 1, "category": "nope"}):
        with pytest.raises(errors.ValidationError):
            wb.shell.add_site_command(bad.pop("template"), bad.pop("tier"), **bad)
    # raising a known program's tier
    wb.shell.add_site_command("touch *", 3, description="no touching here")
    assert [x.command_template for x in wb.shell.list_site_commands()] == ["touch *", f"{tool} *"]  # by category
    assert wb.shell.run_shell_command(issue.id, f"touch {tmp_path}/t").status == "denied"
    removed = wb.shell.remove_site_command("touch *")
    assert removed.tier == 3
    assert wb.shell.run_shell_command(issue.id, f"touch {tmp_path}/t").status == "pending"
    with pytest.raises(errors.NotFoundError):
        wb.shell.remove_site_command("touch *")
    actions = [e.action for e in wb.audit.get_audit_log(entity_type="site_command")]
    assert sorted(actions) == ["add_site_command", "add_site_command", "remove_site_command"]
    assert wb.verify()[1].ok


def test_roles(wb, roles):
    ada, ana, vic = roles
    with acting_as(ada):
        wb.shell.add_site_command("ops-status *", 1)
    for who in (ana, vic):
        with acting_as(who):
            assert [c.command_template for c in wb.shell.list_site_commands()] == ["ops-status *"]
            assert wb.shell.classify("ops-status").tier == 1
            with pytest.raises(errors.PermissionDeniedError, match="admin"):
                wb.shell.add_site_command("x *", 1)
            with pytest.raises(errors.PermissionDeniedError, match="admin"):
                wb.shell.remove_site_command("ops-status *")
    (row,) = [e for e in wb.audit.get_audit_log(entity_type="site_command")]
    assert row.user_id == "ada"


def test_cli(cli, wb):
    r = cli("site-command", "add", "ops-status *", "--tier", "1", "--description", "status <b>tool</b>")
    assert r.code == 0, r.stderr
    r = cli("shell", "classify", "ops-status --json", "--json")
    assert json.loads(r.stdout) == {"tier": 1, "reason": "a site command (ops-status *, tier 1): status <b>tool</b>"}
    r = cli("site-command", "list", "--json")
    assert [c["command_template"] for c in json.loads(r.stdout)] == ["ops-status *"]
    r = cli("site-command", "add", "a && b", "--tier", "1")
    assert r.code == 1 and "one simple command" in r.stderr and "Traceback" not in r.stderr
    r = cli("site-command", "add", "x", "--tier", "7")
    assert r.code == 2
    r = cli("site-command", "remove", "ops-status *")
    assert r.code == 0 and json.loads(cli("shell", "classify", "ops-status", "--json").stdout)["tier"] == 2


def test_a_pending_action_is_classified_again_when_approved(wb, issue, tmp_path):
    pending = wb.shell.run_shell_command(issue.id, f"touch {tmp_path}/late")
    assert pending.status == "pending"
    wb.shell.add_site_command("touch *", 3, description="no touching here")
    res = wb.shell.approve(pending.action_id)
    assert res.status == "denied" and res.tier == 3 and not (tmp_path / "late").exists()
