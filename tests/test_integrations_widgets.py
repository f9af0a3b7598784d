"""The integration panels, headless: Settings → Integrations, Documents → Publish (with its
preview of exactly what is sent) and the incident header's Open ticket, against the local fakes."""

from __future__ import annotations

import json

import pytest

from tests.fakes.azuredevops import FakeAzureDevOps
from tests.fakes.confluence import FakeConfluence
from tests.fakes.servicenow import FakeServiceNow
from tests.fakes.rest import basic_auth as basic

TOKEN = "ATATT3x-widget-planted-token-1234abcd"
LEAK = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture
def confluence():
    with FakeConfluence(auth={basic("sam@example.org", TOKEN)}) as srv:
        yield srv


def test_settings_integrations_add_test_remove(wb, confluence):
    from widgets.settings import SettingsPanel

    panel = SettingsPanel(wb)
    panel.select_tab("Integrations")
    s = panel.integrations
    s._w_service.value = "confluence"
    s._w_url.value = confluence.url
    s._w_user.value = "sam@example.org"
    s._w_secret.value = TOKEN
    s._w_space.value = "OPS"
    s._w_add.click()
    assert s.status_kind == "ok" and s.services == ["confluence"] and s._w_secret.value == ""
    assert TOKEN not in s._w_table.value and "stored (sha256" in s._w_table.value
    s._w_test.click()
    assert s.status_kind == "ok" and "Sam Reliability" in s.status
    s._w_service.value = "servicenow"
    assert s._w_secret.description == "Password" and s._w_project.layout.display == "none"
    s._w_url.value = "not a url"
    s._w_add.click()
    assert s.status_kind == "error" and "http" in s.status
    s._w_remove.click()
    assert s.services == [] and "No integrations" in s._w_table.value


def test_documents_publish_previews_exactly_what_is_sent(wb, confluence):
    from widgets.documents import DocumentsPanel

    wb.integrations.add_integration("confluence", confluence.url, username="sam@example.org", token=TOKEN,
                                    space_key="OPS")
    issue = wb.issues.create_issue("Cache stampede <script>alert(1)</script>", f"key {LEAK}", "high")
    wb.whys.add_five_why(issue.id, 1, "Why did the cache stampede?", "All keys expired at once")
    panel = DocumentsPanel(issue.id, wb)
    panel.layout
    panel.generate("rca")
    pub = panel.publish
    assert pub._w_update.disabled and not pub._w_publish.disabled
    pub._w_preview_button.click()
    v = pub.preview
    assert LEAK not in v["storage"] and "<table>" in v["storage"] and "All keys expired" in v["storage"]
    assert "<script>" not in pub._w_preview.value  # shown escaped
    pub._w_publish.click()
    assert pub.status_kind == "ok", pub.status
    [page] = confluence.pages.values()
    assert page["body"] == v["storage"] and page["title"] == v["title"]  # exactly what was previewed
    assert f"/spaces/OPS/pages/{page['id']}" in pub._w_links.value and not pub._w_update.disabled
    confluence.edit_remotely(page["id"])
    pub._w_update.click()
    assert pub.status_kind == "error" and "Nothing was overwritten" in pub.status


def test_incident_header_opens_tickets_and_lists_links(wb):
    from widgets.issues import IssueHeader

    with FakeServiceNow() as sn, FakeAzureDevOps() as ado:
        wb.integrations.add_integration("servicenow", sn.url, username="u", password="p-123456")
        wb.integrations.add_integration("azuredevops", ado.url, token="pat-123456", project=ado.project)
        issue = wb.issues.create_issue("Payments down", f"key {LEAK}", "critical")
        header = IssueHeader(issue.id, wb)
        header.layout
        t = header.tickets
        assert "No tickets" in t._w_links.value
        t._w_open.click()
        assert t.status_kind == "ok" and "INC" in t.status
        t._w_target.value = "azuredevops:Bug"
        t._w_open.click()
        assert t.status_kind == "ok", t.status
        assert {l.service for l in t.links} == {"servicenow", "azuredevops"}
        assert "INC0010001" in t._w_links.value and "_workitems/edit/" in t._w_links.value
        assert LEAK not in sn.all_text() + ado.all_text()
        assert json.loads(json.dumps([l.to_dict() for l in t.links]))  # plain data


def test_open_ticket_without_configuration_says_what_to_do(wb, issue):
    from widgets.issues import IssueHeader

    header = IssueHeader(issue.id, wb)
    header.tickets._w_open.click()
    assert header.tickets.status_kind == "error" and "tftsr integration add servicenow" in header.tickets.status
