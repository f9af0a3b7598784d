"""Serving options without a server: the token is always there, the Host/Origin allow-list,
the cull timeout, Voila's configuration; and the deep link as a page's kernel sees it."""

from __future__ import annotations

import json
import re

import pytest

from tftsr_kernel import paths
from tftsr_kernel.errors import ValidationError
from tftsr_kernel.serve.plan import HostPolicy, dashboard_plan


def test_a_token_is_always_made_or_checked():
    local = dashboard_plan("127.0.0.1", 8866)
    assert local.token_generated and len(local.token) >= 24 and local.loopback
    assert local.url == f"http://127.0.0.1:8866/?token={local.token}"
    assert dashboard_plan("127.0.0.1", 8866).token != local.token  # random each start
    assert dashboard_plan("::1", 9000).url.startswith("http://[::1]:9000/?token=")
    assert dashboard_plan("0.0.0.0", 8866).url.startswith("http://127.0.0.1:8866/?token=")
    given = dashboard_plan("10.0.0.5", 8866, "team-token-0123456789")
    assert given.token == "team-token-0123456789" and not given.token_generated and not given.loopback
    for kwargs in ({"token": "short"}, {"token": "bad token with spaces!!"}, {"port": 0}, {"host": ""},
                   {"cull_idle": 0}, {"cull_idle": 10**9}, {"allow_hosts": ["http://x.example"]},
                   {"allow_hosts": ["x.example:443"]}, {"allow_hosts": ["bad_host!"]}, {"allow_hosts": [""]}):
        with pytest.raises(ValidationError):
            dashboard_plan(**{"host": "127.0.0.1", "port": 8866, **kwargs})


def test_host_allow_list():
    p = HostPolicy.for_server("127.0.0.1", ["Dash.Example.com", "[2001:db8::1]"])
    for ok in ("127.0.0.1:8866", "localhost:8866", "LOCALHOST", "[::1]:8866", "127.8.9.10", "dash.example.com",
               "dash.example.com.:443", "[2001:db8::1]:8866", "localhost."):
        assert p.allows(ok), ok
    for bad in ("attacker.example:8866", "attacker.example", "localhost.attacker.example", "10.0.0.5:8866",
                "", None, "dash.example.com.evil", "127.0.0.1.nip.io"):
        assert not p.allows(bad), bad
    bound = HostPolicy.for_server("10.0.0.5")
    assert bound.allows("10.0.0.5:8866") and not bound.allows("10.0.0.6:8866") and bound.allows("localhost")
    named = HostPolicy.for_server("dash.internal")
    assert named.allows("dash.internal:8866") and not named.allows("other.internal")
    wild = HostPolicy.for_server("0.0.0.0")
    assert wild.allows("192.168.1.20:8866") and wild.allows("0.0.0.0:8866") and not wild.allows("attacker.example")


def test_origin_must_be_this_server_under_an_allowed_name():
    p = HostPolicy.for_server("127.0.0.1", ["dash.example.com"])
    assert p.allows_origin(None, "127.0.0.1:8866")  # not a browser: the token still decides
    assert p.allows_origin("http://127.0.0.1:8866", "127.0.0.1:8866")
    assert p.allows_origin("https://dash.example.com", "dash.example.com")
    assert not p.allows_origin("http://attacker.example:8866", "attacker.example:8866")  # rebinding
    assert not p.allows_origin("http://attacker.example:8866", "127.0.0.1:8866")
    assert not p.allows_origin("http://localhost:9999", "localhost:8866")  # another local app
    assert not p.allows_origin("null", "127.0.0.1:8866")


def test_voila_is_configured_safely_offline_and_bounded():
    from tftsr_kernel.serve.app import voila_config
    from tftsr_kernel.cli.serve import _notebook

    plan = dashboard_plan("0.0.0.0", 8866, allow_hosts=["dash.example.com"], cull_idle=120)
    c = voila_config(plan, _notebook("dashboard.ipynb"))
    vc = c.VoilaConfiguration
    assert vc.show_tracebacks is False and vc.strip_sources is True and vc.template == "tftsr"
    assert vc.file_allowlist == [] and vc.preheat_kernel is True and vc.default_pool_size == 1
    assert c.Voila.token == plan.token and c.Voila.open_browser is False and c.Voila.port_retries == 0
    ts = c.Voila.tornado_settings
    assert ts["allow_remote_access"] is False and "dash.example.com" in ts["local_hostnames"]
    assert ts["tftsr_host_policy"] is plan.policy
    assert "connect-src 'self'" in ts["headers"]["Content-Security-Policy"]
    assert c.MappingKernelManager.cull_idle_timeout == 120 and c.MappingKernelManager.cull_connected is False
    assert 1 <= c.MappingKernelManager.cull_interval <= 10
    assert c.DashboardKernelManager.connect_grace == 30.0
    for tpl in (paths.notebooks_dir() / "templates").rglob("*.j2"):
        assert not re.search(r"https?://(?!www\.w3\.org)", tpl.read_text()), tpl


def test_dashboard_command_refuses_bad_options(cli):
    r = cli("dashboard", "--token", "short")
    assert r.code == 1 and "--token" in r.stderr and r.stderr.count("\n") == 1
    r = cli("dashboard", "--port", "70000", "--json")
    assert r.code == 1 and json.loads(r.stdout)["error"]["type"] == "ValidationError"
    r = cli("dashboard", "--allow-host", "https://dash.example.com/")
    assert r.code == 1 and "--allow-host" in r.stderr
    r = cli("dashboard", "--cull-idle", "1")
    assert r.code == 1 and "--cull-idle" in r.stderr


# --- in the page's kernel ------------------------------------------------------------------------
def test_request_info_gives_the_query_without_the_token(monkeypatch):
    from tftsr_kernel.serve import viewer

    monkeypatch.setenv("VOILA_PREHEAT", "False")
    monkeypatch.setenv("QUERY_STRING", "token=secret-token-0123456789&issue=abc&issue=second")
    monkeypatch.setenv("SERVER_NAME", "dash.example.com")
    monkeypatch.setenv("SERVER_PORT", "")
    monkeypatch.setenv("SCRIPT_NAME", "/")
    monkeypatch.setenv("HTTP_X_FORWARDED_PROTO", "https")
    assert viewer.wait_for_request() is True
    import os

    assert "secret" not in os.environ["QUERY_STRING"]
    assert viewer.requested_issue() == "abc"
    link = viewer.issue_link("01a230e8-a437-71d0-977b-843bccb6a797")
    assert link == "https://dash.example.com/?issue=01a230e8-a437-71d0-977b-843bccb6a797"
    monkeypatch.setenv("SERVER_NAME", "127.0.0.1")
    monkeypatch.setenv("SERVER_PORT", "8866")
    monkeypatch.delenv("HTTP_X_FORWARDED_PROTO")
    assert viewer.issue_link("x y") == "http://127.0.0.1:8866/?issue=x+y"
    monkeypatch.delenv("SERVER_NAME")
    assert viewer.issue_link("abc") == "?issue=abc"  # outside a served page: relative


def test_deep_link_opens_the_incident_headless(wb, monkeypatch):
    from widgets.dashboard import Dashboard

    issue = wb.issues.create_issue("Disk full on db-3", "df says 100%", "high", "linux")
    monkeypatch.setenv("QUERY_STRING", f"issue={issue.id}")
    monkeypatch.setenv("SERVER_NAME", "127.0.0.1")
    monkeypatch.setenv("SERVER_PORT", "8866")
    dash = Dashboard.from_request(wb)
    assert dash.incident is not None and dash.incident.issue_id == issue.id
    assert dash.incident.link == f"http://127.0.0.1:8866/?issue={issue.id}"
    assert issue.id in dash.incident._w_link.value and "token=" not in dash.incident._w_link.value
    assert dash.status == ""


@pytest.mark.parametrize("value, expect", [
    ("not-an-id<script>", "not an issue id"),
    ("01a230e8-a437-71d0-977b-000000000000", "was not found"),
    ("", "not an issue id"),
    ("x" * 5000, "not an issue id"),
])
def test_bad_deep_links_say_so_in_the_status_line(wb, monkeypatch, value, expect):
    from widgets.dashboard import Dashboard

    monkeypatch.setenv("QUERY_STRING", "issue=" + value)
    dash = Dashboard.from_request(wb)
    assert dash.incident is None and expect in dash.status and dash.status_kind == "error"
    assert len(dash.status) < 400
    assert "<script>" not in dash._w_status.value  # escaped
    assert dash.issue_list.layout in dash._w_issues_page.children
