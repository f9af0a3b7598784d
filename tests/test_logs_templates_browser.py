"""The Logs panel's templates table and chart in a real browser: a ``tftsr dashboard`` (Voila, the
strict CSP, no internet) on an incident with a log and timeline events; the user opens the
incident, selects the log, and sees the table and the inline SVG chart. Hostile template text and
event descriptions render as text; no request leaves 127.0.0.1. Screenshots go to
/tmp/shots/templates-panel/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, running_dashboard
from tests.incident_log import EVENT_XSS, add_events, incident_log

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOKEN = "templates-browser-token-0123456789"
SHOTS = Path("/tmp/shots/templates-panel")

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import tftsr_kernel

    data = tmp_path_factory.mktemp("templates") / "data"
    wb = tftsr_kernel.open(data, shared=False)
    issue = wb.issues.create_issue("Checkout 502s", "pool exhausted after release 4.2", "critical", "application")
    text, start = incident_log()
    log = wb.attachments.upload_log_file_by_content(issue.id, "checkout.log", text)
    wb.attachments.upload_log_file_by_content(issue.id, "boot.log", "2024-05-01 10:00:00 INFO boot ok\n")
    add_events(wb, issue.id, start)
    wb.close()
    with running_dashboard(data, "--token", TOKEN) as dash:
        yield {"dash": dash, "issue": issue, "log": log}


def test_select_a_log_and_read_its_templates_and_chart(server):
    dash, issue = server["dash"], server["issue"]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 1400})
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        requests, dialogs, errors = [], [], []
        pg.on("request", lambda r: requests.append(r.url))
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.add_init_script("window.__xss = undefined")
        pg.goto(f"{dash.url}&issue={issue.id}")
        pg.locator(".tftsr-issue-title").wait_for()
        select = pg.locator(".tftsr-log-select select")
        assert "boot.log" in select.locator("option:checked").inner_text()  # the latest upload
        pg.locator(".tftsr-templates-summary", has_text="boot.log").wait_for()
        select.select_option(index=0)  # checkout.log, the first upload
        pg.locator(".tftsr-templates-summary", has_text="checkout.log").wait_for()
        chart = pg.locator(".tftsr-logs-templates .tftsr-templates-svg")
        chart.wait_for()
        summary = pg.locator(".tftsr-logs-templates .tftsr-templates-summary").inner_text()
        assert "checkout.log" in summary and "4 templates" in summary
        assert pg.locator(".tftsr-templates-svg polyline.tftsr-template-series").count() == 4
        kinds = {pg.locator(".tftsr-templates-svg .tftsr-burst-marker").nth(i).get_attribute("data-kind")
                 for i in range(pg.locator(".tftsr-templates-svg .tftsr-burst-marker").count())}
        assert kinds == {"rate_jump", "new_template"}
        assert pg.locator(".tftsr-templates-svg g.tftsr-event-marker").count() >= 4
        table = pg.locator(".tftsr-logs-templates .tftsr-templates-table").inner_text()
        assert "<script>window.__xss=" in table and "<img src=x onerror=" in table  # shown as text
        assert "jump to" in table and "new at" in table
        events = pg.locator(".tftsr-templates-events").inner_text()
        assert EVENT_XSS in events and "rolled back release 4.2" in events
        # nothing from the log or the timeline became markup
        assert pg.locator(".tftsr-logs-templates script").count() == 0
        assert pg.locator(".tftsr-logs-templates img").count() == 0
        assert pg.evaluate("window.__xss") is None and not dialogs, dialogs
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.locator(".tftsr-logs-templates").screenshot(path=str(SHOTS / "logs-templates.png"))
        pg.screenshot(path=str(SHOTS / "logs-panel.png"), full_page=True)
        outside = [u for u in requests if not u.startswith((f"http://127.0.0.1:{dash.port}/",
                                                            f"ws://127.0.0.1:{dash.port}/", "data:", "blob:"))]
        assert not outside, outside
        ctx.close()
        browser.close()
