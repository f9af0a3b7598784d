"""Integrations through the kernel API, over real HTTP against the local fakes in tests/fakes/:
Confluence, ServiceNow, Azure DevOps; credentials encrypted; everything sent through the guard."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from tftsr_kernel import errors
from tftsr_kernel.integrations import errors as ierrors
from tests.fakes.azuredevops import FakeAzureDevOps
from tests.fakes.confluence import FakeConfluence
from tests.fakes.servicenow import FakeServiceNow
from tests.fakes.rest import basic_auth as basic

# planted secrets: none may reach a service, a list, the audit log or an error
API_TOKEN = "ATATT3xFfGF0-planted-confluence-token-7f3a9c"
SN_PASSWORD = "Sn0w-planted-Passw0rd-42x"
ADO_PAT = "adopat5z7qk2planted000000000000000000000000000000x"
LEAK_KEY = "AKIAIOSFODNN7EXAMPLE"
LEAK_MAIL = "jane.doe@example.org"
LEAK_IP = "10.20.30.40"


@pytest.fixture
def confluence():
    with FakeConfluence(auth={basic("sam@example.org", API_TOKEN)}) as srv:
        yield srv


@pytest.fixture
def servicenow():
    with FakeServiceNow(auth={basic("svc.tftsr", SN_PASSWORD)}) as srv:
        yield srv


@pytest.fixture
def ado():
    with FakeAzureDevOps(auth={basic("", ADO_PAT)}) as srv:
        yield srv


@pytest.fixture
def leaky_issue(wb):
    """An issue whose stored fields and 5-Whys hold an AWS key, an e-mail address and an address."""
    issue = wb.issues.create_issue(
        "Checkout 500s after deploy", f"Deploy used key {LEAK_KEY}; alerts went to {LEAK_MAIL}.", "critical",
        "application")
    wb.whys.add_five_why(issue.id, 1, "Why did checkout fail?", f"The payment pod at {LEAK_IP} crashed")
    wb.whys.add_five_why(issue.id, 2, "Why did the pod crash?", "Its memory limit was too low for the new build")
    wb.whys.add_five_why(issue.id, 3, "Why was the limit too low?", "The limit was copied from staging")
    return issue


def add_confluence(wb, srv, **kw):
    return wb.integrations.add_integration("confluence", srv.url, username="sam@example.org", token=API_TOKEN,
                                           space_key="OPS", **kw)


def add_servicenow(wb, srv):
    return wb.integrations.add_integration("servicenow", srv.url, username="svc.tftsr", password=SN_PASSWORD)


def add_ado(wb, srv):
    return wb.integrations.add_integration("azuredevops", srv.url, token=ADO_PAT, project=srv.project)


def audit_text(wb) -> str:
    return "\n".join(json.dumps(dict(r)) for r in wb.db.query("SELECT * FROM audit_log"))


def no_secret_in(text: str):
    for s in (API_TOKEN, SN_PASSWORD, ADO_PAT):
        assert s not in text
        assert base64.b64encode(s.encode()).decode()[:20] not in text


# --- credentials ---------------------------------------------------------------------------------------
def test_credentials_are_encrypted_hashed_and_never_listed(wb, confluence, servicenow):
    add_confluence(wb, confluence)
    add_servicenow(wb, servicenow)
    rows = wb.db.query("SELECT service, token_hash, encrypted_token FROM credentials ORDER BY service")
    assert [r[0] for r in rows] == ["confluence", "servicenow"]
    for r, secret in zip(rows, (API_TOKEN, SN_PASSWORD)):
        assert r[1] == hashlib.sha256(secret.encode()).hexdigest()
        raw = base64.b64decode(r[2])
        assert len(raw) > 12 + 16 and secret.encode() not in raw
    listed = json.dumps([i.to_dict() for i in wb.integrations.list_integrations()])
    no_secret_in(listed)
    assert json.loads(listed)[0]["token_hash_prefix"] == hashlib.sha256(API_TOKEN.encode()).hexdigest()[:12]
    no_secret_in(audit_text(wb))
    assert "store_credential" in audit_text(wb)


def test_test_connection_and_a_refused_credential_names_no_secret(wb, confluence):
    add_confluence(wb, confluence)
    ok = wb.integrations.test_connection("confluence")
    assert ok.success and "Sam Reliability" in ok.message
    assert confluence.requests[-1].path == "/rest/api/user/current"
    wrong = "ATATT-wrong-token-" + "q" * 20
    wb.integrations.add_integration("confluence", confluence.url, username="sam@example.org", token=wrong)
    bad = wb.integrations.test_connection("confluence")
    assert not bad.success and "refused the credential" in bad.message and "401" in bad.message
    assert wrong not in bad.message and API_TOKEN not in bad.message
    with pytest.raises(ierrors.IntegrationAuthError) as e:
        wb.integrations.list_confluence_spaces()
    assert wrong not in str(e.value) and base64.b64encode(f"sam@example.org:{wrong}".encode()).decode() not in str(e.value)


def test_bad_configuration_is_a_clear_error(wb):
    with pytest.raises(errors.ValidationError, match="http"):
        wb.integrations.add_integration("confluence", "ftp://x", token="t")
    with pytest.raises(errors.ValidationError, match="may not hold a user"):
        wb.integrations.add_integration("confluence", "https://u:p@example.org", token="t")
    with pytest.raises(errors.ValidationError, match="project"):
        wb.integrations.add_integration("azuredevops", "https://dev.azure.com/org", token="t")
    with pytest.raises(errors.ValidationError, match="unknown integration"):
        wb.integrations.add_integration("jira", "https://example.org", token="t")
    with pytest.raises(ierrors.IntegrationNotConfiguredError, match="not configured"):
        wb.integrations.list_confluence_spaces()
    assert wb.db.query_one("SELECT count(*) FROM integration_config")[0] == 0


def test_unreachable_service_is_a_connection_error(wb):
    wb.integrations.add_integration("servicenow", "http://127.0.0.1:9", username="u", password=SN_PASSWORD)
    with pytest.raises(ierrors.IntegrationConnectionError, match="cannot reach") as e:
        wb.integrations.search_servicenow_incidents("checkout")
    assert SN_PASSWORD not in str(e.value)


# --- Confluence ------------------------------------------------------------------------------------------
def test_spaces_follow_pagination(wb, confluence):
    add_confluence(wb, confluence)
    spaces = wb.integrations.list_confluence_spaces()
    assert [s.key for s in spaces] == ["OPS", "SRE", "DEV"]
    assert len(confluence.seen("GET", "/rest/api/space")) == 2  # two pages of two


def test_rca_publishes_with_the_5_whys_table_and_no_original_secret(wb, confluence, leaky_issue):
    add_confluence(wb, confluence)
    doc = wb.documents.generate_rca(leaky_issue.id)
    result = wb.integrations.publish_to_confluence(doc.id, "OPS")
    page = confluence.pages[result.id]
    body = page["body"]
    assert "<table>" in body and "Why did the pod crash?" in body and "copied from staging" in body
    assert "<h2>" in body
    for leak in (LEAK_KEY, LEAK_MAIL, LEAK_IP):
        assert leak not in body and leak not in page["title"] and leak not in confluence.all_text()
    assert result.url == f"{confluence.url}/spaces/OPS/pages/{result.id}" and result.version == 1
    # linked on the document and its issue
    [link] = wb.integrations.pages_for_document(doc.id)
    assert (link.service, link.id, link.url, link.version) == ("confluence", result.id, result.url, 1)
    # audited with the SHA-256 of exactly the request body the service received
    post = confluence.seen("POST", "/rest/api/content")[-1]
    entry = wb.db.query_one("SELECT details FROM audit_log WHERE action = 'publish_to_confluence'")
    details = json.loads(entry[0])
    assert details["sent_sha256"] == hashlib.sha256(post.raw).hexdigest() == result.sent_sha256
    assert details["remote_id"] == result.id and details["redacted"] is True
    no_secret_in(audit_text(wb))


def test_update_writes_the_next_version_and_refuses_a_stale_one(wb, confluence, leaky_issue):
    add_confluence(wb, confluence)
    doc = wb.documents.generate_rca(leaky_issue.id)
    first = wb.integrations.publish_to_confluence(doc.id)
    wb.documents.update_document(doc.id, doc.content_md + "\n\n## Follow-up\n\nRaise the limit.\n")
    second = wb.integrations.update_confluence_page(doc.id)
    assert second.version == 2 and "Raise the limit." in confluence.pages[first.id]["body"]
    confluence.edit_remotely(first.id, "<p>a colleague's edit</p>")  # now version 3 there
    with pytest.raises(errors.ConflictError) as e:
        wb.integrations.update_confluence_page(doc.id)
    msg = str(e.value)
    assert "changed since version 2" in msg and "Nothing was overwritten" in msg and "Current version is: 3" in msg
    assert confluence.pages[first.id]["body"] == "<p>a colleague's edit</p>"
    assert wb.integrations.pages_for_document(doc.id)[0].version == 2
    # replacing it on purpose: give the version seen in Confluence
    third = wb.integrations.update_confluence_page(doc.id, version=3)
    assert third.version == 4


def test_search_sends_the_query_through_the_guard(wb, confluence, leaky_issue):
    add_confluence(wb, confluence)
    doc = wb.documents.generate_rca(leaky_issue.id)
    wb.integrations.publish_to_confluence(doc.id)
    [link] = wb.integrations.pages_for_document(doc.id)
    hits = wb.integrations.search_confluence_pages("memory limit", "OPS")
    assert [(h.id, h.space_key, h.version) for h in hits] == [(link.id, "OPS", 1)]
    assert wb.integrations.search_confluence_pages("memory limit", "SRE") == []
    wb.integrations.search_confluence_pages(f"key {LEAK_KEY}")
    cql = confluence.seen("GET", "/rest/api/content/search")[-1].query["cql"]
    assert LEAK_KEY not in cql and 'text ~ "key [' in cql


def test_publish_errors_are_typed_with_the_service_message(wb, confluence, leaky_issue):
    add_confluence(wb, confluence)
    doc = wb.documents.generate_rca(leaky_issue.id)
    with pytest.raises(ierrors.IntegrationNotFoundError, match="No space with key : NOPE"):
        wb.integrations.publish_to_confluence(doc.id, "NOPE")
    wb.integrations.publish_to_confluence(doc.id, "OPS")
    with pytest.raises(ierrors.IntegrationResponseError, match="already exists"):
        wb.integrations.publish_to_confluence(doc.id, "OPS")
    assert len(wb.integrations.pages_for_document(doc.id)) == 1


def test_storage_format_holds_headings_tables_code_and_lists():
    import xml.etree.ElementTree as ET

    from tftsr_kernel.integrations.storage import to_storage

    md = ("# Title\n\n## Section\n\n| Why | Answer |\n|---|---|\n| 1 | a <b>bold</b> & c |\n\n"
          "```python\nprint(']]>')\n```\n\n- one\n  - nested\n1. first\n\n<script>alert(1)</script>\n"
          "[bad](javascript:alert(1)) [good](https://example.org)\n")
    out = to_storage(md)
    ET.fromstring('<r xmlns:ac="a">' + out + "</r>")  # well-formed
    assert "<h1>Title</h1>" in out and "<h2>Section</h2>" in out
    assert "<table><thead><tr><th>Why</th>" in out and "&lt;b&gt;bold&lt;/b&gt;" in out
    assert '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">py</ac:parameter>' in out
    assert "<ul>" in out and "<ol>" in out and "<li>nested</li>" in out
    assert "<script>" not in out and "javascript:" not in out and 'href="https://example.org"' in out


# --- ServiceNow -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("severity,urgency,impact", [("critical", "1", "1"), ("high", "1", "2"),
                                                     ("medium", "2", "2"), ("low", "3", "3")])
def test_servicenow_incident_from_an_issue_maps_severity(wb, servicenow, severity, urgency, impact):
    add_servicenow(wb, servicenow)
    issue = wb.issues.create_issue("Queue backlog", "consumers stalled", severity)
    t = wb.integrations.create_servicenow_incident(issue.id)
    inc = servicenow.incidents[t.id]
    assert (inc["urgency"], inc["impact"]) == (urgency, impact)
    assert t.ticket_number == inc["number"] and t.url == f"{servicenow.url}/nav_to.do?uri=incident.do?sys_id={t.id}"


def test_servicenow_create_get_update_search_and_link(wb, servicenow, leaky_issue):
    add_servicenow(wb, servicenow)
    servicenow.add("Older: checkout slow")
    t = wb.integrations.create_servicenow_incident(leaky_issue.id)
    inc = servicenow.incidents[t.id]
    assert inc["short_description"] == "Checkout 500s after deploy"
    for leak in (LEAK_KEY, LEAK_MAIL, LEAK_IP):
        assert leak not in servicenow.all_text()
    assert leaky_issue.id in inc["description"]
    post = servicenow.seen("POST", "/api/now/table/incident")[-1]
    assert post.header("authorization") == basic("svc.tftsr", SN_PASSWORD)
    [link] = wb.integrations.tickets_for_issue(leaky_issue.id)
    assert (link.service, link.id, link.ticket_number, link.url) == ("servicenow", t.id, t.ticket_number, t.url)
    assert json.loads(wb.db.query_one("SELECT details FROM audit_log WHERE action = 'create_servicenow_incident'"
                                      )[0])["sent_sha256"] == hashlib.sha256(post.raw).hexdigest()
    assert wb.integrations.get_servicenow_incident(t.ticket_number).sys_id == t.id
    assert wb.integrations.get_servicenow_incident(t.id).number == t.ticket_number
    wb.integrations.update_servicenow_incident(t.id, {"work_notes": f"rotated {LEAK_KEY}", "state": "2"})
    assert inc["state"] == "2" and LEAK_KEY not in inc["work_notes"] and "[" in inc["work_notes"]
    found = wb.integrations.search_servicenow_incidents("checkout")
    assert [f.number for f in found] == [t.ticket_number, "INC0010001"]  # newest first
    q = servicenow.seen("GET", "/api/now/table/incident")[-1].query
    assert q["sysparm_query"].startswith("short_descriptionLIKEcheckout") and q["sysparm_limit"] == "10"


def test_servicenow_errors_are_typed(wb, servicenow):
    add_servicenow(wb, servicenow)
    with pytest.raises(ierrors.IntegrationNotFoundError, match="No Record found"):
        wb.integrations.get_servicenow_incident("0" * 32)
    with pytest.raises(ierrors.IntegrationNotFoundError, match="no incident INC9999999"):
        wb.integrations.get_servicenow_incident("INC9999999")
    wb.integrations.add_integration("servicenow", servicenow.url, username="svc.tftsr", password="wrong-password-1")
    with pytest.raises(ierrors.IntegrationAuthError, match="User Not Authenticated") as e:
        wb.integrations.search_servicenow_incidents("x")
    assert "wrong-password-1" not in str(e.value)


def test_429_with_retry_after_is_retried_then_reported(wb, servicenow, monkeypatch):
    from tftsr_kernel.integrations import _http

    add_servicenow(wb, servicenow)
    servicenow.fail_next(429, retry_after="0", times=2)
    assert wb.integrations.search_servicenow_incidents("x") == []
    assert [r.path for r in servicenow.requests].count("/api/now/table/incident") == 3
    servicenow.fail_next(429, {"error": {"message": "Too many requests"}}, retry_after="0", times=_http.MAX_RETRIES + 1)
    with pytest.raises(ierrors.IntegrationRateLimitedError, match="rate-limiting"):
        wb.integrations.search_servicenow_incidents("x")
    assert _http.retry_after_seconds("2") == 2 and _http.retry_after_seconds("9999") == _http.MAX_WAIT
    assert _http.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0


# --- Azure DevOps ---------------------------------------------------------------------------------------
def test_azuredevops_bug_from_an_issue_is_created_and_linked(wb, ado, leaky_issue):
    add_ado(wb, ado)
    assert wb.integrations.test_connection("azuredevops").success
    t = wb.integrations.create_azuredevops_workitem(leaky_issue.id, "bug")
    post = ado.seen("POST", "/_apis/wit/workitems/$Bug")[-1]
    assert post.header("content-type") == "application/json-patch+json" and post.query["api-version"] == "7.1"
    assert post.header("authorization") == basic("", ADO_PAT)
    ops = {op["path"]: op["value"] for op in post.body}
    assert ops["/fields/System.Title"] == "Checkout 500s after deploy"
    assert ops["/fields/Microsoft.VSTS.Common.Severity"] == "1 - Critical"
    for leak in (LEAK_KEY, LEAK_MAIL, LEAK_IP):
        assert leak not in ado.all_text()
    assert t.url == f"{ado.url}/{ado.project}/_workitems/edit/{t.id}"
    [link] = wb.integrations.tickets_for_issue(leaky_issue.id)
    assert (link.service, link.id, link.ticket_number) == ("azuredevops", t.id, t.id)
    item = wb.integrations.get_azuredevops_workitem(t.id)
    assert item.work_item_type == "Bug" and item.state == "New"
    assert [w.id for w in wb.integrations.search_azuredevops_workitems("500s")] == [int(t.id)]
    assert [w.id for w in wb.integrations.search_azuredevops_workitems(
        f"SELECT [System.Id] FROM WorkItems WHERE [System.Id] = {t.id}")] == [int(t.id)]
    updated = wb.integrations.update_azuredevops_workitem(t.id, {"System.State": "Active",
                                                                 "System.History": f"mail {LEAK_MAIL}"})
    assert ado.items[int(t.id)]["fields"]["System.State"] == "Active" and LEAK_MAIL not in ado.all_text()
    assert updated.id == t.id


def test_azuredevops_errors_and_types(wb, ado, issue):
    add_ado(wb, ado)
    with pytest.raises(ierrors.IntegrationNotFoundError, match="TF401232"):
        wb.integrations.get_azuredevops_workitem(9999)
    with pytest.raises(errors.ValidationError, match="work item type"):
        wb.integrations.create_azuredevops_workitem(issue.id, "Spike")
    for wtype in ("Task", "User Story", "Issue", "Incident"):
        t = wb.integrations.create_azuredevops_workitem(issue.id, wtype)
        assert ado.items[int(t.id)]["fields"]["System.WorkItemType"] == wtype
    assert len(wb.integrations.tickets_for_issue(issue.id)) == 4
    wb.integrations.add_integration("azuredevops", ado.url, token=ADO_PAT, project="Nope")
    bad = wb.integrations.test_connection("azuredevops")
    assert not bad.success and "TF200016" in bad.message


# --- the egress choice and roles ------------------------------------------------------------------------
def test_unredacted_is_an_audited_choice_of_analysts(wb, servicenow, leaky_issue):
    from tftsr_kernel.team import acting_as

    add_servicenow(wb, servicenow)
    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    wb.team.create_user("vic", "viewer")
    with acting_as(wb.team.actor_for("vic", "session")):
        with pytest.raises(errors.PermissionDeniedError):
            wb.integrations.create_servicenow_incident(leaky_issue.id)
        with pytest.raises(errors.PermissionDeniedError):
            wb.integrations.create_servicenow_incident(leaky_issue.id, unredacted=True)
        assert wb.integrations.tickets_for_issue(leaky_issue.id) == []
    with acting_as(wb.team.actor_for("ana", "session")):
        with pytest.raises(errors.PermissionDeniedError, match="admin"):
            wb.integrations.add_integration("confluence", "https://example.org", token="t")
        t = wb.integrations.create_servicenow_incident(leaky_issue.id, unredacted=True)
    assert LEAK_KEY in servicenow.incidents[t.id]["description"] and t.redacted is False
    row = wb.db.query_one("SELECT user_id, details FROM audit_log WHERE action = 'send_unredacted'")
    assert row["user_id"] == "ana" and json.loads(row["details"])["via"] == "create_servicenow_incident"
    assert servicenow.seen("POST", "/api/now/table/incident")  # the viewer sent nothing
    assert len(servicenow.seen("POST", "/api/now/table/incident")) == 1


def test_egress_guard_failure_sends_nothing(wb, servicenow, leaky_issue, monkeypatch):
    add_servicenow(wb, servicenow)

    def broken(*a, **k):
        raise errors.EgressBlockedError("nothing was sent: test")

    monkeypatch.setattr(wb.pii, "guard_outbound", broken)
    with pytest.raises(errors.EgressBlockedError):
        wb.integrations.create_servicenow_incident(leaky_issue.id)
    assert servicenow.requests == [] and wb.integrations.tickets_for_issue(leaky_issue.id) == []


def test_verify_finds_every_new_object_audited(wb, confluence, leaky_issue):
    add_confluence(wb, confluence)
    doc = wb.documents.generate_rca(leaky_issue.id)
    wb.integrations.publish_to_confluence(doc.id)
    problems, chain = wb.verify()
    assert not problems and chain.ok, chain.problems


def test_rekey_reencrypts_integration_secrets(wb, confluence):
    add_confluence(wb, confluence)
    before = wb.db.query_one("SELECT encrypted_token FROM credentials")[0]
    wb.rekey()
    assert wb.db.query_one("SELECT encrypted_token FROM credentials")[0] != before
    assert wb.integrations.test_connection("confluence").success


def test_a_tampered_credential_is_a_typed_error_without_the_secret(wb, confluence):
    add_confluence(wb, confluence)
    enc = wb.db.query_one("SELECT encrypted_token FROM credentials")[0]
    raw = bytearray(base64.b64decode(enc))
    raw[-1] ^= 1
    wb.db.execute("UPDATE credentials SET encrypted_token = ?", (base64.b64encode(bytes(raw)).decode(),))
    with pytest.raises(errors.SecretError, match="cannot be decrypted") as e:
        wb.integrations.list_confluence_spaces()
    assert API_TOKEN not in str(e.value) and confluence.requests == []
    bad = wb.integrations.test_connection("confluence")
    assert not bad.success and "enter it again" in bad.message
