"""An integration's OAuth sign-in begun in the dashboard's Settings comes back to the dashboard's
own ``/oauth/callback`` (a real ``tftsr dashboard``), which stores the token; the callback is
behind the dashboard's sign-in like every page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.dashboard import running_dashboard
from tests.fakes.confluence import FakeConfluence
from tests.fakes.oauth import FakeOAuthServer

pytestmark = [pytest.mark.slow]
SECRET = "client-secret-planted-1f2e3d4c5b"


def test_the_dashboard_completes_an_oauth_sign_in_begun_in_settings(tmp_path, monkeypatch):
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    data = tmp_path / "data"
    with FakeOAuthServer(client_secret=SECRET) as idp, FakeConfluence(auth=idp.bearer_set()) as conf:
        wb = tftsr_kernel.open(data, shared=False)
        create_demo(wb)
        wb.integrations.add_integration("confluence", conf.url, client_secret=SECRET, oauth={
            "auth_url": idp.auth_url, "token_url": idp.token_url, "client_id": idp.client_id, "scope": "read"})
        wb.close()
        with running_dashboard(data) as dash:
            callback = dash.base + "oauth/callback"
            idp.redirect_uris.add(callback)
            # Settings -> Integrations -> Sign in with OAuth, as the page's kernel sees its request
            monkeypatch.setenv("SERVER_NAME", "127.0.0.1")
            monkeypatch.setenv("SERVER_PORT", str(dash.port))
            monkeypatch.setenv("SCRIPT_NAME", "/")
            from widgets.integrations import IntegrationsSettings

            wb = tftsr_kernel.open(data, shared=False)
            panel = IntegrationsSettings(wb)
            panel.layout
            assert not panel._w_login.disabled
            panel._w_select.value = "confluence"
            panel._w_login.click()
            assert panel.status_kind == "ok", panel.status
            auth_url = unescape(re.search(r'href="([^"]+)"', panel._w_login_link.value).group(1))
            assert parse_qs(urlsplit(auth_url).query)["redirect_uri"] == [callback]
            location = idp.authorize(auth_url)  # the browser at the identity provider
            assert location.startswith(callback + "?")
            refused = httpx.get(location, follow_redirects=False, timeout=30)  # no dashboard sign-in
            assert refused.status_code in (302, 403)
            assert not wb.integrations.get_integration("confluence").has_credential
            done = httpx.get(location, headers={"Authorization": f"token {dash.token}"}, timeout=30)
            assert done.status_code == 200, done.text
            info = wb.integrations.get_integration("confluence")
            assert info.has_credential and info.auth_type == "oauth"
            assert wb.integrations.test_connection("confluence").success
            again = httpx.get(location, headers={"Authorization": f"token {dash.token}"}, timeout=30)
            assert again.status_code >= 400  # the state is single-use
            wb.close()
