"""Team mode in Chromium: people sign in to a real ``tftsr dashboard`` over its token; each page
acts as its signed-in user (the header says who), a viewer's change is refused by the kernel
with the role it needs, an analyst's change is audited under their name (and an admin sees that
name in the dashboard's audit log), and a session header forged by the browser changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard import CHROMIUM, CHROMIUM_ARGS, running_dashboard, team_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")

SHOTS = Path("/tmp/shots/signin")
PASSWORDS = {"ada": "ada's admin password", "ana": "ana's long password", "vic": "vic's long password"}


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    data = tmp_path_factory.mktemp("signin-browser") / "data"
    wb = team_store(data, PASSWORDS, {"ada": "admin", "ana": "analyst", "vic": "viewer"})
    wb.close()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_dashboard(data, admin=("ada", PASSWORDS["ada"])) as dash:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield {"dash": dash, "data": data, "browser": browser}
            browser.close()


def _sign_in(team, name, **context):
    dash = team["dash"]
    ctx = team["browser"].new_context(viewport={"width": 1280, "height": 900}, **context)
    pg = ctx.new_page()
    pg.set_default_timeout(40_000)
    outside = []
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
        (f"http://127.0.0.1:{dash.port}/", f"ws://127.0.0.1:{dash.port}/", "data:", "blob:")) else None)
    pg.goto(dash.url)  # the token link: the token is remembered, then the user's sign-in
    pg.locator("#username").wait_for()
    assert pg.locator("#token").count() == 0
    pg.screenshot(path=str(SHOTS / "sign-in.png"))
    pg.locator("#username").fill(name)
    pg.locator("#password").fill(PASSWORDS[name])
    pg.locator("#tftsr-login button[type=submit]").click()
    pg.locator(".tftsr-whoami", has_text=f"Signed in as {name}").wait_for()
    assert not outside, outside
    return ctx, pg


def _create_issue(pg, title):
    pg.locator(".tftsr-new-issue").get_by_text("New issue").click()
    pg.locator(".tftsr-new-title input").fill(title)
    pg.locator(".tftsr-new-description textarea").fill("made in the browser")
    pg.locator("button.tftsr-create").click()


def _audit_actor(team, title):
    import tftsr_kernel

    wb = tftsr_kernel.open(team["data"], shared=False)
    try:
        row = wb.db.query_one("SELECT a.user_id FROM audit_log a JOIN issues i ON i.id = a.entity_id"
                              " WHERE a.action = 'create_issue' AND i.title = ?", (title,))
        return row["user_id"] if row else None
    finally:
        wb.close()


def test_an_analyst_signs_in_and_changes_are_audited_under_their_name(team):
    ctx, pg = _sign_in(team, "ana")
    assert pg.locator(".tftsr-whoami").inner_text().startswith("Signed in as ana (analyst)")
    pg.screenshot(path=str(SHOTS / "analyst-dashboard.png"))
    _create_issue(pg, "Ana's checkout incident")
    pg.locator(".tftsr-issue-title", has_text="Ana's checkout incident").wait_for()
    assert _audit_actor(team, "Ana's checkout incident") == "ana"
    # the audit log is for admins: an analyst's Settings says so
    ctx.close()
    ctx, pg = _sign_in(team, "ada")
    pg.locator(".tftsr-sections > .lm-TabBar .lm-TabBar-tab", has_text="Settings").first.click()
    pg.locator(".tftsr-settings-tabs > .lm-TabBar .lm-TabBar-tab", has_text="Audit log").first.click()
    pg.locator(".tftsr-audit-user input").fill("ana")
    pg.locator(".tftsr-audit-user input").press("Enter")
    row = pg.locator(".tftsr-audit-table tr", has_text="create_issue").first
    row.wait_for()
    assert "ana" in row.inner_text()
    pg.screenshot(path=str(SHOTS / "admin-audit-by-user.png"), full_page=True)
    ctx.close()


def test_a_viewer_is_refused_by_the_kernel_with_the_role_needed(team):
    ctx, pg = _sign_in(team, "vic")
    assert pg.locator(".tftsr-whoami").inner_text().startswith("Signed in as vic (viewer)")
    _create_issue(pg, "Vic tries to open an incident")
    refusal = pg.locator(".tftsr-status-line", has_text="analyst role").first
    refusal.wait_for()
    assert "vic has the viewer role" in refusal.inner_text()
    pg.screenshot(path=str(SHOTS / "viewer-refused.png"))
    assert _audit_actor(team, "Vic tries to open an incident") is None
    ctx.close()


def test_a_session_header_forged_by_the_browser_changes_nothing(team):
    dash = team["dash"]
    _, resp = dash.sign_in("ana", PASSWORDS["ana"])
    ana_cookie = resp.headers["set-cookie"].split("tftsr-session-", 1)[1].split(";", 1)[0].split("=", 1)[1]
    ctx, pg = _sign_in(team, "vic", extra_http_headers={"X-Tftsr-Session": ana_cookie})
    pg.reload()
    pg.locator(".tftsr-whoami", has_text="Signed in as vic (viewer)").wait_for()
    ctx.close()


def test_sign_out_from_the_header(team):
    ctx, pg = _sign_in(team, "ana")
    pg.locator(".tftsr-whoami a.tftsr-signout", has_text="Sign out").click()
    pg.get_by_text("Signed out").wait_for()
    pg.goto(team["dash"].base)
    pg.locator("#username").wait_for()  # back to the sign-in form
    ctx.close()
