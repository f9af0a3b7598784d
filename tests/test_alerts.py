"""Alert intake: Alertmanager webhook notifications (v4) become issues; resolutions land on the
timeline. The kernel service directly, the HTTP endpoint, and the real Prometheus Alertmanager
(Debian's prometheus-alertmanager) delivering to the endpoint over loopback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tftsr_kernel import errors
from tftsr_kernel.team import acting_as

from .test_team_api import ApiServer

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def payload(status="firing", group_key='{}:{alertname="DiskFull"}', alerts=None, **extra):
    alerts = alerts if alerts is not None else [alert(status)]
    body = {
        "version": "4", "groupKey": group_key, "truncatedAlerts": 0, "status": status, "receiver": "tftsr",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1:9100"},
        "commonAnnotations": {"summary": "Disk almost full on db-1"},
        "externalURL": "http://127.0.0.1:9093", "alerts": alerts,
    }
    body.update(extra)
    return body


def alert(status="firing", fingerprint="a1b2c3d4e5f60718", severity="critical", instance="db-1:9100"):
    return {"status": status, "labels": {"alertname": "DiskFull", "severity": severity, "instance": instance},
            "annotations": {"summary": f"Disk almost full on {instance}", "description": "<script>x</script> 97%"},
            "startsAt": "2026-12-01T09:00:00Z",
            "endsAt": "2026-12-01T09:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=disk", "fingerprint": fingerprint}


@pytest.fixture
def ana(wb):
    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    wb.team.create_user("vic", "viewer")
    return wb.team.actor_for("ana", "password")


def test_firing_opens_one_issue_per_group_and_resolution_lands_on_timeline(wb, ana):
    with acting_as(ana):
        r1 = wb.alerts.receive_alertmanager(payload())
        r2 = wb.alerts.receive_alertmanager(payload())  # Alertmanager re-sends the group: no new issue
        second = payload(alerts=[alert(), alert(fingerprint="ffff000011112222", severity="warning",
                                                instance="db-2:9100")])
        r3 = wb.alerts.receive_alertmanager(second)
        r4 = wb.alerts.receive_alertmanager(payload("resolved", alerts=[
            alert("resolved"), alert("resolved", fingerprint="ffff000011112222", instance="db-2:9100")]))
        r5 = wb.alerts.receive_alertmanager(payload("resolved", alerts=[alert("resolved")]))
    assert r1.created and not r2.created and not r3.created and not r4.created
    assert r1.issue_id == r2.issue_id == r3.issue_id == r4.issue_id
    assert (r2.events_added, r3.events_added, r4.events_added, r5.events_added) == (0, 1, 2, 0)
    detail = wb.issues.get_issue(r1.issue_id)
    i = detail.issue
    assert i.severity == "critical" and i.source == "alertmanager" and "alertmanager" in i.tags
    assert i.title == "[Alertmanager] DiskFull: Disk almost full on db-1"
    for text in ("instance: db-1:9100", "summary: Disk almost full on db-1", '{}:{alertname="DiskFull"}',
                 "<script>x</script> 97%"):  # stored as text; panels escape it
        assert text in i.description
    types = [e.event_type for e in detail.timeline_events]
    assert types == ["alert_received", "alert_received", "alert_resolved", "alert_resolved"]
    resolved = [e for e in detail.timeline_events if e.event_type == "alert_resolved"]
    assert "db-1:9100" in resolved[0].description and resolved[0].metadata["ends_at"] == "2026-12-01T09:30:00Z"
    assert len(wb.issues.list_issues()) == 1


def test_severity_from_label_and_new_issue_after_close(wb, ana):
    with acting_as(ana):
        r = wb.alerts.receive_alertmanager(payload(group_key="g-warn", alerts=[alert(severity="warning")],
                                                   commonLabels={"alertname": "X"}))
        assert wb.issues.get_issue_record(r.issue_id).severity == "medium"
        r0 = wb.alerts.receive_alertmanager(payload(group_key="g-none", alerts=[alert(severity="")],
                                                    commonLabels={"alertname": "X"}))
        assert wb.issues.get_issue_record(r0.issue_id).severity == "medium"
        wb.issues.update_issue(r.issue_id, status="closed")
        again = wb.alerts.receive_alertmanager(payload(group_key="g-warn", alerts=[alert(severity="info")],
                                                       commonLabels={"alertname": "X"}))
    assert again.created and again.issue_id != r.issue_id
    assert wb.issues.get_issue_record(again.issue_id).severity == "low"


@pytest.mark.parametrize("body,match", [
    ([], "JSON object"), ({"version": "3"}, "version"), (payload(groupKey=""), "groupKey"),
    (payload(status="odd"), "status"), (payload(alerts=[]), "non-empty"),
    (payload(alerts=[{"status": "firing", "labels": {"a": 1}, "startsAt": "x"}]), "strings"),
    (payload(alerts=["x"]), "object"),
    (payload(alerts=[dict(alert(), startsAt=None)]), "startsAt"),
    (payload("resolved", group_key="never-seen", alerts=[alert("resolved")]), "no open issue"),
])
def test_bad_payloads_are_refused_and_store_nothing(wb, ana, body, match):
    with acting_as(ana), pytest.raises(errors.ValidationError, match=match):
        wb.alerts.receive_alertmanager(body)
    assert wb.issues.list_issues() == []
    assert wb.db.query_one("SELECT count(*) FROM alert_groups")[0] == 0


def test_viewer_cannot_open_issues_from_alerts(wb, ana):
    with acting_as(wb.team.actor_for("vic", "password")), pytest.raises(
            errors.PermissionDeniedError, match="needs the analyst role"):
        wb.alerts.receive_alertmanager(payload())
    assert wb.issues.list_issues() == []


# --- over HTTP ------------------------------------------------------------------------------------
@pytest.fixture
def api(wb):
    srv = ApiServer(wb).start()
    yield srv
    srv.stop()


def test_endpoint_refuses_missing_revoked_and_unscoped_keys(wb, ana, api):
    t = wb.team
    good = t.create_api_key("am", ["alerts:write"], user="ana").key
    revoked = t.create_api_key("old", ["alerts:write"], user="ana")
    t.revoke_api_key(revoked.id)
    reader = t.create_api_key("reader", ["issues:read", "issues:write"], user="ana").key
    url = api.url + "/api/v1/alerts/alertmanager"
    for headers, status, reason in (({}, 401, "missing"), ({"Authorization": f"Bearer {revoked.key}"}, 401, "revoked"),
                                    ({"Authorization": f"Bearer {reader}"}, 403, "missing_scope")):
        r = httpx.post(url, json=payload(), headers=headers, timeout=10)
        assert r.status_code == status and r.json()["reason"] == reason, r.text
    assert wb.issues.list_issues() == []
    r = httpx.post(url, content=b'{"version": "4"', headers={"Authorization": f"Bearer {good}"}, timeout=10)
    assert r.status_code == 400
    r = httpx.post(url, content=json.dumps(payload(alerts=[alert()] * 1001)).encode() * 1,
                   headers={"Authorization": f"Bearer {good}"}, timeout=10)
    assert r.status_code in (400, 413)
    r = httpx.post(url, json=payload(), headers={"Authorization": f"Bearer {good}"}, timeout=10)
    assert r.status_code == 201 and r.json()["created"] is True
    r = httpx.post(url, json=payload(), headers={"Authorization": f"Bearer {good}"}, timeout=10)
    assert r.status_code == 200 and r.json()["created"] is False


# --- the real Alertmanager ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.skipif(ALERTMANAGER is None, reason="needs Debian's prometheus-alertmanager (.ci/workbench test installs it)")
def test_real_alertmanager_delivers_firing_and_resolved(wb, ana, api, tmp_path):
    key = wb.team.create_api_key("alertmanager", ["alerts:write"], user="ana")
    am_port = _free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(f"""
global:
  resolve_timeout: 5s
route:
  receiver: tftsr
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tftsr
    webhook_configs:
      - url: {api.url}/api/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {key.key}
""")
    config.chmod(0o600)
    log = open(tmp_path / "alertmanager.log", "wb")
    proc = subprocess.Popen([ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'am-data'}",
                             f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
                             "--log.level=debug"], stdout=log, stderr=subprocess.STDOUT)
    try:
        am = httpx.Client(base_url=f"http://127.0.0.1:{am_port}", timeout=5)

        def ready():
            try:
                return am.get("/-/ready").status_code == 200
            except httpx.TransportError:
                return proc.poll() is not None  # died: stop waiting, the assert below says so
        _wait(ready, 30, "Alertmanager to start")
        assert proc.poll() is None, (tmp_path / "alertmanager.log").read_text()
        start = datetime.now(timezone.utc) - timedelta(seconds=5)
        labels = {"alertname": "HighErrorRate", "severity": "critical", "service": "checkout", "env": "prod"}
        annotations = {"summary": "5xx above 5% for checkout", "runbook": "https://runbooks.example/5xx"}
        r = am.post("/api/v2/alerts", json=[{"labels": labels, "annotations": annotations,
                                             "startsAt": start.isoformat(), "generatorURL": "http://prom/graph"}])
        assert r.status_code == 200, r.text

        issue_id = _wait(lambda: wb.db.query_one("SELECT issue_id FROM alert_groups"), 30, "the issue")[0]
        issue = wb.issues.get_issue(issue_id)
        assert issue.issue.severity == "critical" and issue.issue.source == "alertmanager"
        assert issue.issue.title == "[Alertmanager] HighErrorRate: 5xx above 5% for checkout"
        for text in ("service: checkout", "env: prod", "runbook: https://runbooks.example/5xx", "HighErrorRate"):
            assert text in issue.issue.description
        assert [e.event_type for e in issue.timeline_events] == ["alert_received"]

        # resolve it: the same alert with an end time in the past
        r = am.post("/api/v2/alerts", json=[{"labels": labels, "annotations": annotations,
                                             "startsAt": start.isoformat(),
                                             "endsAt": (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()}])
        assert r.status_code == 200, r.text
        _wait(lambda: any(e.event_type == "alert_resolved" for e in wb.timeline.get_timeline_events(issue_id)),
              30, "the resolution on the timeline")
        events = wb.timeline.get_timeline_events(issue_id)
        resolved = [e for e in events if e.event_type == "alert_resolved"]
        assert len(resolved) == 1 and "service=checkout" in resolved[0].description
        assert len(wb.issues.list_issues()) == 1  # deduplicated by group key across notifications
        assert wb.team.list_api_keys("ana")[0].last_used_at is not None
        # the issue and its timeline events were made by the key's owner
        assert {r.user_id for r in wb.audit.get_audit_log(entity_id=issue_id)} == {"ana"}
        assert {e.actor for e in events} == {"ana"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
