"""Notifications: Slack, Teams, a JSON webhook and SMTP e-mail, against local fakes; redacted,
retried a bounded number of times, failures recorded and shown."""

from __future__ import annotations

import json
from email import message_from_bytes

import pytest

from tftsr_kernel import errors
from tests.fakes.webhooks import FakeSmtp, FakeWebhooks

LEAK_KEY = "AKIAIOSFODNN7EXAMPLE"
LEAK_MAIL = "oncall.person@example.org"
SMTP_PASSWORD = "smtp-planted-Passw0rd-777"


@pytest.fixture
def hooks():
    with FakeWebhooks() as srv:
        yield srv


def test_events_reach_each_subscribed_channel_redacted(wb, hooks):
    n = wb.notifications
    n.add_channel("ops-slack", "slack", url=hooks.url + hooks.SLACK_PATH, events="issue_created,severity_raised")
    n.add_channel("ops-teams", "teams", url=hooks.url + hooks.TEAMS_PATH, events=["resolved", "root_cause_identified"])
    n.add_channel("ingest", "webhook", url=hooks.url + hooks.HOOK_PATH, events=list(n_events()))
    issue = wb.issues.create_issue(f"Key {LEAK_KEY} leaked in logs", f"reported by {LEAK_MAIL}", "medium")
    assert n.drain()
    [slack] = hooks.received(hooks.SLACK_PATH)
    assert "Issue opened" in slack.body["text"] and LEAK_KEY not in slack.body["text"]
    wb.issues.update_issue(issue.id, severity="critical")
    wb.issues.update_issue(issue.id, severity="low")  # lowered: no event
    assert n.drain()
    assert len(hooks.received(hooks.SLACK_PATH)) == 2
    assert "from medium to critical" in hooks.received(hooks.SLACK_PATH)[1].body["text"]
    wb.whys.record_root_cause(issue.id, f"A deploy script echoed {LEAK_KEY}")
    wb.issues.update_issue(issue.id, status="resolved")
    assert n.drain()
    teams = hooks.received(hooks.TEAMS_PATH)
    assert [t.body["summary"].split(":")[0] for t in teams] == ["[TFTSR] Root cause identified", "[TFTSR] Issue resolved"]
    generic = [r.body for r in hooks.received(hooks.HOOK_PATH)]
    assert [g["event"] for g in generic] == ["issue_created", "severity_raised", "root_cause_identified", "resolved"]
    assert generic[0]["issue_id"] == issue.id and generic[-1]["status"] == "resolved"
    assert LEAK_KEY not in hooks.all_text() and LEAK_MAIL not in hooks.all_text()
    # every delivery recorded and audited with the SHA-256 of the body sent
    deliveries = n.list_deliveries()
    assert len(deliveries) == 8 and {d.status for d in deliveries} == {"sent"}
    import hashlib

    sent = {hashlib.sha256(r.raw).hexdigest() for r in hooks.requests}
    assert {d.sent_sha256 for d in deliveries} == sent


def n_events():
    from tftsr_kernel.integrations.notifications import EVENTS

    return EVENTS


def test_failures_are_retried_a_bounded_number_of_times_and_shown(wb, hooks):
    from tftsr_kernel.integrations import notifications

    n = wb.notifications
    n.add_channel("flaky", "slack", url=hooks.url + hooks.SLACK_PATH, events="issue_created")
    hooks.fail_next(429, retry_after="0")
    wb.issues.create_issue("First")
    assert n.drain()
    [d] = n.list_deliveries("flaky")
    assert d.status == "sent" and d.attempts == 2
    hooks.fail_next(503, times=notifications.ATTEMPTS)
    issue = wb.issues.create_issue("Second")  # the change happens even though the delivery fails
    assert wb.issues.get_issue_record(issue.id).title == "Second"
    assert n.drain()
    d = n.list_deliveries("flaky")[0]
    assert d.status == "failed" and d.attempts == notifications.ATTEMPTS and "503" in d.error
    [ch] = n.list_channels()
    assert ch.failures == 1 and ch.deliveries == 2 and ch.last_status == "failed"
    n.add_channel("revoked", "slack", url=hooks.url + "/services/T0001/B0001/revokedtoken999", events="issue_created")
    wb.issues.create_issue("Third")
    assert n.drain()
    d = n.list_deliveries("revoked")[0]
    assert d.status == "failed" and d.attempts == 1 and "invalid_token" in d.error  # 403: not retried
    assert "revokedtoken999" not in d.error
    with pytest.raises(notifications.NotificationError, match="failed after 1 attempt"):
        n.test_channel("revoked")


def test_email_channel_over_smtp_with_auth(wb):
    with FakeSmtp(user="tftsr", password=SMTP_PASSWORD) as smtp:
        wb.notifications.add_channel("mail", "email", events="issue_created", smtp_host="127.0.0.1",
                                     smtp_port=smtp.port, from_addr="tftsr@example.com",
                                     to_addrs="sre@example.com,lead@example.com", username="tftsr",
                                     password=SMTP_PASSWORD)
        wb.issues.create_issue("Mail relay down", f"seen by {LEAK_MAIL}", "high")
        assert wb.notifications.drain()
        [m] = smtp.messages
        assert m["to"] == ["sre@example.com", "lead@example.com"] and m["from"] == "tftsr@example.com"
        msg = message_from_bytes(m["data"])
        assert msg["Subject"] == "[TFTSR] Issue opened: Mail relay down"
        assert LEAK_MAIL not in m["data"].decode()
        listed = json.dumps([c.to_dict() for c in wb.notifications.list_channels()])
        assert SMTP_PASSWORD not in listed and "sre@example.com" in listed
    with FakeSmtp(user="tftsr", password="another") as smtp:
        wb.notifications.add_channel("badmail", "email", events="resolved", smtp_host="127.0.0.1",
                                     smtp_port=smtp.port, from_addr="t@example.com", to_addrs="s@example.com",
                                     username="tftsr", password=SMTP_PASSWORD)
        from tftsr_kernel.integrations.notifications import NotificationError

        with pytest.raises(NotificationError, match="refused the login"):
            wb.notifications.test_channel("badmail")
        assert smtp.messages == []


def test_secrets_are_encrypted_and_never_listed(wb, hooks):
    url = hooks.url + hooks.SLACK_PATH
    wb.notifications.add_channel("s", "slack", url=url, events="resolved")
    stored = wb.db.query_one("SELECT encrypted_secret, config FROM notification_channels")
    assert "goodtoken" not in stored[0] and "goodtoken" not in stored[1]
    listed = json.dumps([c.to_dict() for c in wb.notifications.list_channels()])
    assert "goodtoken" not in listed and "127.0.0.1" in listed
    audit = "".join(json.dumps(dict(r)) for r in wb.db.query("SELECT * FROM audit_log"))
    assert "goodtoken" not in audit


def test_bad_channels_are_refused(wb):
    with pytest.raises(errors.ValidationError, match="events must be"):
        wb.notifications.add_channel("x", "slack", url="https://hooks.slack.com/x", events="everything")
    with pytest.raises(errors.ValidationError, match="http"):
        wb.notifications.add_channel("x", "webhook", url="file:///etc/passwd", events="resolved")
    with pytest.raises(errors.ValidationError, match="e-mail address"):
        wb.notifications.add_channel("x", "email", events="resolved", smtp_host="h", from_addr="a@b.c",
                                     to_addrs="x@y.z\r\nBcc: evil@example.com")
    wb.notifications.add_channel("x", "slack", url="https://hooks.slack.com/x", events="resolved")
    with pytest.raises(errors.ConflictError):
        wb.notifications.add_channel("x", "slack", url="https://hooks.slack.com/x", events="resolved")


def test_document_published_is_notified(wb, hooks):
    from tests.fakes.confluence import FakeConfluence

    wb.notifications.add_channel("pub", "webhook", url=hooks.url + hooks.HOOK_PATH, events="document_published")
    with FakeConfluence() as conf:
        wb.integrations.add_integration("confluence", conf.url, token="dc-pat-0123456789", space_key="OPS")
        issue = wb.issues.create_issue("Cache stampede", None, "high")
        doc = wb.documents.generate_rca(issue.id)
        page = wb.integrations.publish_to_confluence(doc.id)
        assert wb.notifications.drain()
    [hook] = hooks.received(hooks.HOOK_PATH)
    # the URL went through the guard too (the fake's 127.0.0.1 reads as an address placeholder)
    assert hook.body["event"] == "document_published" and f"/spaces/OPS/pages/{page.id}" in hook.body["text"]


def test_notify_cli(cli, hooks, monkeypatch, wb):
    monkeypatch.setenv("SLACK_URL", hooks.url + hooks.SLACK_PATH)
    r = cli("notify", "add", "ops", "--type", "slack", "--url-env", "SLACK_URL", "--events", "issue_created,resolved",
            "--json")
    assert r.code == 0, r.stderr
    assert cli("notify", "test", "ops").code == 0
    assert cli("issue", "create", "--title", "CLI issue").code == 0
    listed = cli("notify", "list", "--json")
    assert listed.json[0]["deliveries"] == 2 and "goodtoken" not in listed.stdout + cli("notify", "list").stdout
    assert cli("notify", "add", "m", "--type", "email", "--events", "resolved").code == 2
    bad = cli("notify", "add", "w", "--type", "webhook", "--url-env", "NOPE_NOT_SET", "--events", "resolved")
    assert bad.code == 2 and "NOPE_NOT_SET" in bad.stderr
    assert cli("notify", "remove", "ops").code == 0 and cli("notify", "list", "--json").json == []


def test_a_slow_channel_never_holds_up_the_change(wb, hooks):
    """The webhook answers only when the test lets it: were delivery part of the change,
    ``update_issue`` could not return before that (the fake would give up and the check fail)."""
    import threading

    n = wb.notifications
    n.add_channel("slow", "webhook", url=hooks.url + hooks.HOOK_PATH, events="resolved,severity_raised")
    issue = wb.issues.create_issue("Checkout down", None, "medium")
    release = threading.Event()
    hooks.hold_next(release)
    wb.issues.update_issue(issue.id, status="resolved")          # returns with the delivery still held
    assert hooks.wait_held(20), "the delivery never started"
    assert wb.issues.get_issue_record(issue.id).status == "resolved"
    wb.issues.update_issue(issue.id, severity="critical")        # queued behind the held one
    assert n.list_deliveries("slow") == []
    release.set()
    assert n.drain(30)
    assert [d.event for d in reversed(n.list_deliveries("slow"))] == ["resolved", "severity_raised"]
    assert {d.status for d in n.list_deliveries("slow")} == {"sent"} and not hooks.hold_timed_out
