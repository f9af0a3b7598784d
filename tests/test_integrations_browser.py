"""The integration panels in a browser: Playwright drives Chromium against a real ``tftsr
dashboard`` whose integrations point at local fake Confluence and ServiceNow servers.
Screenshots go to /tmp/shots/integrations/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, click_tab, running_dashboard, screenshot
from tests.fakes.confluence import FakeConfluence
from tests.fakes.servicenow import FakeServiceNow
from tests.fakes.rest import basic_auth as basic

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "integrations-browser-token-0123456789"
CONF_TOKEN = "ATATT3x-browser-planted-token-77"
LEAK = "AKIAIOSFODNN7EXAMPLE"
SHOTS = Path("/tmp/shots/integrations")

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")



def test_open_ticket_publish_with_preview_and_settings(tmp_path):
    import tftsr_kernel

    with FakeConfluence(auth={basic("sam@example.org", CONF_TOKEN)}) as conf, FakeServiceNow() as sn:
        data = tmp_path / "data"
        wb = tftsr_kernel.open(data, shared=False)
        issue = wb.issues.create_issue("Checkout 500s after deploy", f"deploy key {LEAK} in the logs", "critical")
        wb.whys.add_five_why(issue.id, 1, "Why did checkout fail?", "The payment pod ran out of memory")
        wb.integrations.add_integration("confluence", conf.url, username="sam@example.org", token=CONF_TOKEN,
                                        space_key="OPS")
        wb.integrations.add_integration("servicenow", sn.url, username="svc", password="sn-password-123")
        wb.close()
        with running_dashboard(data, "--token", TOKEN) as dash, playwright_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                pg = b.new_context(viewport={"width": 1280, "height": 1000}).new_page()
                pg.set_default_timeout(60_000)
                outside = []
                pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
                    (f"http://127.0.0.1:{dash.port}/", f"ws://127.0.0.1:{dash.port}/", "data:", "blob:")) else None)
                pg.goto(dash.url)
                pg.locator(".tftsr-open-issue", has_text="Checkout 500s").first.click()
                pg.locator(".tftsr-issue-title").wait_for()
                # the incident header: Open ticket
                pg.locator("button.tftsr-open-ticket").click()
                pg.locator(".tftsr-tickets .tftsr-status-ok", has_text="Opened ServiceNow INC").wait_for()
                pg.locator(".tftsr-ticket-links a", has_text="INC0010001").wait_for()
                screenshot(pg, SHOTS, "incident-open-ticket", full_page=True)
                [inc] = sn.incidents.values()
                assert LEAK not in inc["description"] and inc["urgency"] == "1" and inc["impact"] == "1"
                # Documents: generate, preview exactly what will be sent, publish
                click_tab(pg, ".tftsr-incident-tabs", "Documents")
                pg.locator("button.tftsr-generate-rca").click()
                pg.locator(".tftsr-doc-preview h1", has_text="Root Cause Analysis").wait_for()
                pg.locator("button.tftsr-publish-preview-button").click()
                pg.locator(".tftsr-publish-preview", has_text="Title:").wait_for()
                preview = pg.locator(".tftsr-publish-preview").inner_text()
                assert LEAK not in preview and "ran out of memory" in preview
                pg.locator(".tftsr-publish-preview summary").click()
                screenshot(pg, SHOTS, "documents-publish-preview", full_page=True)
                pg.locator("button.tftsr-publish-confluence").click()
                pg.locator(".tftsr-publish .tftsr-status-ok", has_text="Published as Confluence page").wait_for()
                pg.locator(".tftsr-publish-links a").wait_for()
                [page] = conf.pages.values()
                assert LEAK not in page["body"] and "<table>" in page["body"]
                screenshot(pg, SHOTS, "documents-published", full_page=True)
                # Settings → Integrations: configured services, never a secret
                pg.locator("button.tftsr-back").click()
                click_tab(pg, ".tftsr-sections", "Settings")
                click_tab(pg, ".tftsr-settings-tabs", "Integrations")
                pg.locator(".tftsr-integrations-table", has_text="ServiceNow").wait_for()
                pg.locator("button.tftsr-integration-test").click()
                pg.locator(".tftsr-integrations-settings .tftsr-status-ok", has_text="Sam Reliability").wait_for()
                assert CONF_TOKEN not in pg.content()
                screenshot(pg, SHOTS, "settings-integrations", full_page=True)
                assert not outside, outside
            finally:
                b.close()
