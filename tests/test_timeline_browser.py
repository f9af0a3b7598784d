"""The timeline panel in headless Chromium against a real ``tftsr dashboard`` (Voila): the
metrics of a backfilled incident, adding an event with a time, editing it (its history shown)
and deleting it, with hostile text shown as text. Screenshots go to /tmp/shots/timeline/."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, running_dashboard

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "timeline-browser-token-0123456789"
PAYLOAD = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2;alert(2)</script>'
SHOTS = Path("/tmp/shots/timeline")

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")


#: the incident started an hour before the tests (times below are minutes after it)
START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=60)


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.locator(".tftsr-timeline").first.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import tftsr_kernel

    data = tmp_path_factory.mktemp("timeline") / "data"
    wb = tftsr_kernel.open(data, shared=False)
    issue = wb.issues.create_issue("Checkout 503s after deploy", "5xx on checkout", "critical")
    for kind, text, minutes in (("note", "first 5xx alerts on checkout", 0), ("page", "on-call paged", 2),
                                ("action", "acknowledged; looking at the v42 deploy", 5),
                                ("mitigation", "rolled back to v41", 10)):
        wb.timeline.add_timeline_event(issue.id, kind, text, occurred_at=at(minutes))
    wb.close()
    with running_dashboard(data, "--token", TOKEN) as dash:
        yield {"dash": dash, "port": dash.port, "issue": issue}


def test_timeline_panel_in_the_browser(server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 1600})
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        requests, dialogs = [], []
        pg.on("request", lambda r: requests.append(r.url))
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.add_init_script("window.__xss = undefined")
        pg.goto(server["dash"].url)
        pg.locator(".tftsr-open-issue", has_text="Checkout 503s").first.click()
        pg.locator(".tftsr-issue-title").wait_for()
        pg.locator(".tftsr-incident-tabs > .lm-TabBar .lm-TabBar-tab", has_text="Timeline").first.click()
        metrics = pg.locator(".tftsr-timeline-metrics")
        metrics.wait_for()
        text = metrics.inner_text()
        assert "Time to detect 2m 00s" in text and "Time to mitigate 10m 00s" in text, text
        pg.locator(".tftsr-timeline-svg svg circle").first.wait_for()
        shot(pg, "1-backfilled")

        # add an escalation with a time, hostile text in its description
        pg.locator(".tftsr-event-type select").select_option(label="escalation")
        pg.locator(".tftsr-event-description input").fill("DB team " + PAYLOAD)
        pg.locator(".tftsr-event-time input").fill(at(3))
        pg.locator("button.tftsr-add-event").click()
        pg.locator(".tftsr-timeline .tftsr-status-ok", has_text="Event added").wait_for()
        pg.locator(".tftsr-timeline-table", has_text="DB team <img").wait_for()

        # a bad time: refused in the status line, nothing added
        pg.locator(".tftsr-event-description input").fill("later")
        pg.locator(".tftsr-event-time input").fill("2024-02-30 10:00:00")
        pg.locator("button.tftsr-add-event").click()
        pg.locator(".tftsr-timeline .tftsr-status-error", has_text="not a real date").wait_for()
        shot(pg, "2-added-and-refused")

        # edit the mitigation: earlier by two minutes, new text; the history shows the old one
        select = pg.locator(".tftsr-timeline-select select")
        labels = select.evaluate("s => Array.from(s.options).map(o => o.text)")
        # ipywidgets shows a Dropdown's spaces as no-break spaces
        index = next(i for i, t in enumerate(labels) if "rolled back to v41" in t.replace("\u00a0", " "))
        select.select_option(index=index)
        pg.wait_for_function("() => document.querySelector('.tftsr-timeline-edit-description textarea').value"
                             ".includes('rolled back to v41')")
        pg.locator(".tftsr-timeline-edit-description textarea").fill("rolled back v42 to v41 " + PAYLOAD)
        pg.locator(".tftsr-timeline-edit-time input").fill(at(8))
        pg.locator("button.tftsr-timeline-save").click()
        pg.locator(".tftsr-timeline .tftsr-status-ok", has_text="revision 2").wait_for()
        history = pg.locator(".tftsr-timeline-history")
        history.locator("table").wait_for()
        assert "rolled back to v41" in history.inner_text()
        assert "Time to mitigate 8m 00s" in metrics.inner_text()
        shot(pg, "3-edited-with-history")

        # delete it: off the timeline and out of the metrics, shown again with 'Show deleted events'
        pg.locator("button.tftsr-timeline-delete").click()
        pg.locator(".tftsr-timeline .tftsr-status-ok", has_text="deleted").wait_for()
        pg.wait_for_function("() => document.querySelector('.tftsr-timeline-metrics').innerText"
                             ".includes('Time to mitigate -')")
        assert "rolled back v42" not in pg.locator(".tftsr-timeline-table").inner_text()
        pg.locator(".tftsr-timeline-show-deleted input").check()
        pg.locator(".tftsr-timeline-table", has_text="rolled back v42 to v41").wait_for()
        shot(pg, "4-deleted-shown")

        pg.wait_for_timeout(300)
        assert pg.evaluate("window.__xss") is None and not dialogs
        assert pg.locator("img[src='x']").count() == 0
        outside = [u for u in requests if not u.startswith((f"http://127.0.0.1:{server['port']}/",
                                                            f"ws://127.0.0.1:{server['port']}/", "data:", "blob:"))]
        assert not outside, outside
        ctx.close()
        browser.close()
