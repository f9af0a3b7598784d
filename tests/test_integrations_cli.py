"""The integration commands as a user runs them: ``tftsr integration|confluence|servicenow|azuredevops``,
over real HTTP against the local fakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes.azuredevops import FakeAzureDevOps
from tests.fakes.confluence import FakeConfluence
from tests.fakes.oauth import FakeOAuthServer
from tests.fakes.servicenow import FakeServiceNow
from tests.fakes.rest import basic_auth as basic

TOKEN = "ATATT3x-cli-planted-token-55aa77bb99"
PASSWORD = "cli-planted-Passw0rd-31337"
PAT = "clipat" + "7" * 46
LEAK = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("CONF_TOKEN", TOKEN)
    monkeypatch.setenv("SN_PASSWORD", PASSWORD)
    monkeypatch.setenv("ADO_PAT", PAT)


@pytest.fixture
def services(env):
    with FakeConfluence(auth={basic("sam@example.org", TOKEN)}) as c, \
            FakeServiceNow(auth={basic("svc", PASSWORD)}) as s, \
            FakeAzureDevOps(auth={basic("", PAT)}) as a:
        yield c, s, a


def add_all(cli, c, s, a):
    r = cli("integration", "add", "confluence", "--url", c.url, "--user", "sam@example.org", "--token-env",
            "CONF_TOKEN", "--space", "OPS", "--json")
    assert r.code == 0, r.stderr
    assert cli("integration", "add", "servicenow", "--url", s.url, "--user", "svc", "--password-env",
               "SN_PASSWORD").code == 0
    assert cli("integration", "add", "azuredevops", "--url", a.url, "--project", a.project, "--token-env",
               "ADO_PAT").code == 0


def secrets_absent(text: str):
    for s in (TOKEN, PASSWORD, PAT):
        assert s not in text


def test_integration_add_list_test_remove(cli, services, wb):
    c, s, a = services
    add_all(cli, c, s, a)
    listed = cli("integration", "list", "--json")
    assert listed.code == 0 and [i["service"] for i in listed.json] == ["azuredevops", "confluence", "servicenow"]
    secrets_absent(listed.stdout + cli("integration", "list").stdout)
    for svc in ("confluence", "servicenow", "azuredevops"):
        r = cli("integration", "test", svc, "--json")
        assert r.code == 0 and r.json["success"] is True, r.stderr
    audit = cli("audit", "--json", "--limit", "500")
    assert audit.code == 0 and "store_credential" in audit.stdout
    secrets_absent(audit.stdout)
    secrets_absent("".join(json.dumps(dict(r)) for r in wb.db.query("SELECT * FROM audit_log")))
    assert cli("integration", "remove", "servicenow").code == 0
    assert [i["service"] for i in cli("integration", "list", "--json").json] == ["azuredevops", "confluence"]


def test_secrets_only_from_the_environment_or_a_prompt(cli, services):
    c, _s, _a = services
    r = cli("integration", "add", "confluence", "--url", c.url, "--token-env", "NO_SUCH_VAR_X")
    assert r.code == 2 and "NO_SUCH_VAR_X is not set" in r.stderr
    r = cli("integration", "add", "confluence", "--url", c.url)  # no terminal in tests: no prompt
    assert r.code == 2 and "environment variable" in r.stderr
    r = cli("integration", "add", "confluence", "--url", c.url, "--token", TOKEN)
    assert r.code == 2  # there is no such option


def test_a_failing_call_is_one_line_without_the_secret(cli, services, monkeypatch):
    c, _s, _a = services
    monkeypatch.setenv("BAD_TOKEN", "ATATT-bad-token-0000000000")
    cli("integration", "add", "confluence", "--url", c.url, "--user", "sam@example.org", "--token-env", "BAD_TOKEN")
    r = cli("integration", "test", "confluence", "--json")
    assert r.code == 1 and "refused the credential" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "ATATT-bad-token" not in r.stderr + r.stdout
    r = cli("confluence", "spaces")
    assert r.code == 1 and "ATATT-bad-token" not in r.stderr and "Traceback" not in r.stderr


def test_rca_publish_update_conflict_and_doc_show(cli, services, wb):
    c, s, a = services
    add_all(cli, c, s, a)
    issue = cli("issue", "create", "--title", "Disk full on db-1", "--description", f"key {LEAK} leaked",
                "--severity", "high", "--json").json
    assert cli("whys", issue["id"], "--add", "1", "--question", "Why was the disk full?", "--answer",
               "WAL archiving stopped").code == 0
    wb.whys.add_five_why(issue["id"], 2, "Why did archiving stop?", "The archive bucket's credentials expired")
    doc = cli("rca", issue["id"], "--json").json
    preview = cli("confluence", "publish", doc["id"], "--preview", "--json")
    assert preview.code == 0 and "<table>" in preview.json["storage"] and LEAK not in preview.stdout
    assert c.requests == [r for r in c.requests if r.method == "GET"]  # the preview sent nothing
    pub = cli("confluence", "publish", doc["id"], "--json")
    assert pub.code == 0, pub.stderr
    page = c.pages[pub.json["id"]]
    assert "archive bucket" in page["body"] and LEAK not in page["body"]
    shown = cli("doc", "show", doc["id"], "--json").json
    assert shown["published"][0]["service"] == "confluence" and shown["published"][0]["id"] == pub.json["id"]
    assert shown["published"][0]["url"] == pub.json["url"]
    assert cli("confluence", "update", doc["id"], "--json").json["version"] == 2
    c.edit_remotely(pub.json["id"])
    stale = cli("confluence", "update", doc["id"], "--json")
    assert stale.code == 1 and "Nothing was overwritten" in stale.stderr
    assert stale.json["error"]["type"] == "IntegrationConflictError"
    found = cli("confluence", "search", "Disk full", "--space", "OPS", "--json")  # the title
    assert [p["id"] for p in found.json] == [pub.json["id"]]
    assert [sp["key"] for sp in cli("confluence", "spaces", "--json").json] == ["OPS", "SRE", "DEV"]


def test_tickets_from_an_issue_are_linked_in_issue_show(cli, services):
    c, s, a = services
    add_all(cli, c, s, a)
    issue = cli("issue", "create", "--title", "Payments timeout", "--description", f"token {LEAK}",
                "--severity", "critical", "--json").json
    sn = cli("servicenow", "create", issue["id"], "--json")
    assert sn.code == 0, sn.stderr
    assert s.incidents[sn.json["id"]]["urgency"] == "1" and s.incidents[sn.json["id"]]["impact"] == "1"
    bug = cli("azuredevops", "create", issue["id"], "--type", "Bug", "--json")
    assert bug.code == 0, bug.stderr
    shown = cli("issue", "show", issue["id"], "--json").json
    tickets = {(t["service"], t["id"], t["ticket_number"], t["url"]) for t in shown["tickets"]}
    assert tickets == {("servicenow", sn.json["id"], sn.json["ticket_number"], sn.json["url"]),
                       ("azuredevops", bug.json["id"], bug.json["ticket_number"], bug.json["url"])}
    assert LEAK not in s.all_text() + a.all_text()
    got = cli("servicenow", "get", sn.json["ticket_number"], "--json")
    assert got.json["sys_id"] == sn.json["id"]
    upd = cli("servicenow", "update", sn.json["id"], "--set", "state=2", "--set", f"work_notes=saw {LEAK}", "--json")
    assert upd.code == 0 and s.incidents[sn.json["id"]]["state"] == "2" and LEAK not in s.all_text()
    assert len(cli("servicenow", "search", "Payments", "--json").json) == 1
    assert cli("azuredevops", "get", bug.json["id"], "--json").json["work_item_type"] == "Bug"
    assert cli("azuredevops", "update", bug.json["id"], "--set", "System.State=Active").code == 0
    assert a.items[int(bug.json["id"])]["fields"]["System.State"] == "Active"
    assert [w["id"] for w in cli("azuredevops", "search", "Payments", "--json").json] == [int(bug.json["id"])]
    bad = cli("servicenow", "update", sn.json["id"], "--set", "nonsense")
    assert bad.code == 2 and "FIELD=VALUE" in bad.stderr
    text = cli("issue", "show", issue["id"]).stdout
    assert sn.json["ticket_number"] in text


def test_unredacted_publish_is_marked_and_audited(cli, services, wb):
    c, s, a = services
    add_all(cli, c, s, a)
    issue = cli("issue", "create", "--title", "Leaky", "--description", f"key {LEAK}", "--json").json
    r = cli("servicenow", "create", issue["id"], "--unredacted", "--json")
    assert r.code == 0 and r.json["redacted"] is False
    assert LEAK in s.incidents[r.json["id"]]["description"]
    assert "UNREDACTED" in cli("servicenow", "create", issue["id"], "--unredacted").stdout
    assert wb.db.query_one("SELECT count(*) FROM audit_log WHERE action = 'send_unredacted'")[0] == 2


def test_login_over_the_loopback_listener(services, tftsr_proc, wb, tmp_path):
    c, _s, _a = services
    with FakeOAuthServer() as idp:
        c.accept_auth = idp.bearer_set()
        wb.integrations.add_integration("confluence", c.url, oauth={"auth_url": idp.auth_url,
                                                                    "token_url": idp.token_url,
                                                                    "client_id": idp.client_id})
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        idp.redirect_uris.add(f"http://127.0.0.1:{port}/oauth/callback")
        proc = subprocess.Popen([sys.executable, "-m", "tftsr_kernel.cli", "integration", "login", "confluence",
                                 "--no-browser", "--port", str(port), "--timeout", "30", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
        try:
            assert "Open this URL" in proc.stderr.readline().decode()
            url = proc.stderr.readline().decode().strip()
            q = parse_qs(urlsplit(url).query)
            assert q["code_challenge_method"] == ["S256"] and q["state"]
            location = idp.authorize(url)
            page = httpx.get(location, timeout=30)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill() if proc.poll() is None else None
        assert proc.returncode == 0, err
        assert page.status_code == 200 and "connected" in page.text
        assert json.loads(out)["has_credential"] is True
        assert wb.integrations.test_connection("confluence").success
        for t in idp.access_tokens:
            assert t not in out.decode() + err.decode() + page.text
