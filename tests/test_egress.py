"""The product's promise end to end: a log holding one of every secret kind leaves through no path.

The fixture (tests/fixtures/pii/secrets.txt, fake values) is uploaded, reviewed, chatted about,
analysed and written into a document; every request the local provider server receives, the
redacted text and the whole audit log are searched for every secret.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from tests.fakes.servers import FakeProviderServer

FIXTURE = Path(__file__).parent / "fixtures" / "pii"
SECRETS = json.loads((FIXTURE / "secrets.expected.json").read_text())


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_no_secret_leaves_through_any_path(wb, issue, cli):
    log = wb.attachments.upload_log_file(issue.id, FIXTURE / "secrets.txt")
    replies = ['```json\n{"summary": "s", "key_findings": [], "first_why": "w", "severity": "low"}\n```',
               "Noted. [[WHY-LEVEL: 1]]", "Drafted sections."]
    with FakeProviderServer("openai", replies=replies) as srv:
        assert cli("provider", "add", "local", "--type", "openai", "--url", srv.url, "--model", "m").code == 0
        # unreviewed log: everything detected is redacted
        assert cli("analyze", issue.id, log.id, "--json").code == 0
        # a chat message quoting secrets, with the log attached
        quoted = " ".join(SECRETS[:5])
        assert cli("chat", issue.id, f"are these related? {quoted}", "--attach", log.id, "--json").code == 0
        # reviewed log (all spans approved), attached again
        assert cli("pii", "apply", log.id, "--all").code == 0
        assert cli("chat", issue.id, "and now?", "--attach", log.id, "--json").code == 0
        wire = "\n".join(r.raw.decode("utf-8", "replace") for r in srv.requests)
    assert len(srv.chat_requests) == 3
    assert not _leaks(wire), _leaks(wire)[:5]
    assert not _leaks(wb.pii.get_redacted_content(log.id))
    audit = "\n".join(json.dumps(e.to_dict()) for e in wb.audit.get_audit_log(limit=10_000))
    assert not _leaks(audit)


# --- the one door out: wb.pii.guard_outbound and the guarded provider client ----------------------
from tests.test_chat import _add_provider  # noqa: E402

PASSWORD = "Vx9-Gq2!Lm7kR"
EMAIL = "alice.ops@example.com"


def _all_text(srv) -> str:
    return "\n".join(r.raw.decode("utf-8", "replace") + "\n" + json.dumps(r.body, ensure_ascii=False)
                     for r in srv.chat_requests)


def test_history_is_re_redacted_with_the_current_rules(wb, cli, issue):
    """A value the rules missed in turn 1 is redacted in every later turn once the rules know it."""
    with FakeProviderServer("openai", replies=["noted", "noted", "noted"]) as srv:
        _add_provider(cli, srv)
        wb.chat.chat_message(issue.id, "the build runner is ORDERS-RUNNER-7731 and it fails")
        assert "ORDERS-RUNNER-7731" in srv.chat_requests[0].last_user_text  # nothing knew it yet
        wb.settings.update_settings({"pii_custom_patterns": [{"name": "Runner", "pattern": r"ORDERS-RUNNER-\d+"}]})
        wb.chat.chat_message(issue.id, "still failing")
        wb.chat.chat_message(issue.id, "and now?")
        for req in srv.chat_requests[1:]:
            history = [m["content"] for m in req.messages if m["role"] == "user"]
            assert "ORDERS-RUNNER-7731" not in req.raw.decode() and "[Runner_1]" in history[0]
    # stored: what was sent in turn 1 (the record of that request); the source stays local
    assert "ORDERS-RUNNER-7731" in wb.chat.list_messages(issue.id)[0].content


def test_a_secret_of_turn_1_never_reaches_turn_2_or_3(wb, cli, issue):
    with FakeProviderServer("openai", replies=["a", "b", "c"]) as srv:
        _add_provider(cli, srv)
        wb.chat.chat_message(issue.id, f"db password={PASSWORD} for {EMAIL}")
        wb.chat.chat_message(issue.id, f"is {PASSWORD} still valid?")  # no 'password=' context this time
        wb.chat.chat_message(issue.id, "third")
        assert len(srv.chat_requests) == 3
        assert PASSWORD not in _all_text(srv) and EMAIL not in _all_text(srv)
        assert srv.chat_requests[1].last_user_text == "is [Password_1] still valid?"  # the known value


def test_system_prompt_fields_whys_and_setting_are_guarded(wb, cli):
    issue = wb.issues.create_issue(f"Login fails for {EMAIL}", f"started after rotating password={PASSWORD}",
                                   "high", "identity", assigned_to="bob.oncall@example.com",
                                   tags=["ticket-4411", "carol.dev@example.com"])
    wb.whys.add_five_why(issue.id, 1, "Why did login fail?", "the LDAP bind used 10.20.30.40",
                         "ldap.log from 10.20.30.41")
    wb.whys.record_root_cause(issue.id, "bind account dave.svc@example.com expired")
    wb.settings.update_settings({"chat_system_prompt": "escalate to erin.lead@example.com"})
    with FakeProviderServer("anthropic", replies=["ok"]) as srv:
        _add_provider(cli, srv)
        wb.chat.chat_message(issue.id, "where do we start?", system_prompt="our VPN is 192.168.50.1")
        req = srv.chat_requests[0]
        text = _all_text(srv)
    for value in (EMAIL, PASSWORD, "bob.oncall@example.com", "carol.dev@example.com", "10.20.30.40", "10.20.30.41",
                  "dave.svc@example.com", "erin.lead@example.com", "192.168.50.1"):
        assert value not in text, value
    system = req.body["system"] if isinstance(req.body.get("system"), str) else json.dumps(req.body.get("system"))
    for kept in ("Tags: ticket-4411", "Assigned to: [Email_", "5-Whys so far", "Why did login fail?", "Root cause recorded"):
        assert kept in system, kept


def test_guard_fails_closed_and_nothing_is_sent(wb, cli, issue):
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", f"password={PASSWORD}\n")
    # a stored custom pattern the engine cannot compile (written past the settings validation)
    wb.db.execute("INSERT OR REPLACE INTO settings(key, value, updated_at) VALUES ('pii_custom_patterns', ?, 'x')",
                  (json.dumps([{"name": "Broken", "pattern": "(unclosed"}]),))
    with FakeProviderServer("openai", replies=["never"]) as srv:
        _add_provider(cli, srv)
        r = cli("chat", issue.id, f"hello {EMAIL}")
        assert r.code == 1 and "nothing was sent" in r.stderr and EMAIL not in r.stderr
        r = cli("analyze", issue.id, log.id)
        assert r.code == 1 and "nothing was sent" in r.stderr
        r = cli("rca", issue.id, "--ai-draft")
        assert r.code == 1 and "nothing was sent" in r.stderr
        assert srv.chat_requests == []
    assert wb.chat.list_messages(issue.id) == []  # nothing stored as sent either


def test_guarded_client_refuses_a_payload_changed_after_clearing(wb, cli, issue):
    from tftsr_kernel.ai.providers import ChatMessage
    from tftsr_kernel.pii.service import EgressBlockedError

    with FakeProviderServer("openai", replies=["x"]) as srv:
        _add_provider(cli, srv)
        with wb.providers.client(issue_id=issue.id) as client:
            out = client.clear([ChatMessage("user", f"mail {EMAIL}")])
            assert out.payload[0].content == "mail [Email_1]"
            out.payload[0] = ChatMessage("user", f"mail {EMAIL}")
            with pytest.raises(EgressBlockedError, match="nothing was sent"):
                client.chat(out, stream=False)
            # a plain message list is guarded by the client itself
            client.chat([ChatMessage("user", f"mail {EMAIL}")], stream=False)
        assert len(srv.chat_requests) == 1 and EMAIL not in srv.chat_requests[0].raw.decode()
        assert srv.chat_requests[0].last_user_text == "mail [Email_1]"


def test_no_kernel_module_builds_a_provider_client_around_the_guard():
    """Every provider request goes through ProviderService.client (the GuardedProvider)."""
    root = Path(__file__).resolve().parents[1] / "tftsr_kernel"
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("ai/providers") or rel in ("ai/service.py", "ai/__init__.py"):
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("make_provider(", "Provider(config", "OpenAIProvider(", "AnthropicProvider(", "OllamaProvider(",
                       "GeminiProvider(", "CustomRestProvider("):
            if needle in text:
                offenders.append(f"{rel}: {needle}")
    assert not offenders, offenders
    service = (root / "ai" / "service.py").read_text(encoding="utf-8")
    assert service.count("make_provider(") == 1  # inside ProviderService.client only


def test_label_after_pii_apply_none_says_sent_without_redaction(wb, cli, tftsr_proc, issue):
    from widgets.chat import ChatPanel

    rejected = wb.attachments.upload_log_file_by_content(issue.id, "auth.log", f"login {EMAIL} from 10.9.8.7\n")
    reviewed = wb.attachments.upload_log_file_by_content(issue.id, "app.log", "login bob.x@example.com from 10.9.8.6\n")
    assert cli("pii", "apply", rejected.id, "--none").code == 0
    assert cli("pii", "apply", reviewed.id, "--all").code == 0
    with FakeProviderServer("openai", replies=["one", "two"]) as srv:
        _add_provider(cli, srv)
        r = tftsr_proc("chat", issue.id, "look at auth.log", "--attach", rejected.id)
        assert r.code == 0, r.stderr
        sent = srv.chat_requests[0].last_user_text
        assert EMAIL in sent  # the reviewer's choice: released values are sent as they are
        assert "sent without redaction by the reviewer's choice" in sent and "PII redacted" not in sent
        assert "auth.log: sent without redaction by the reviewer's choice" in r.stderr  # the CLI says so too
        assert "PII redacted" not in r.stderr
        res = wb.chat.chat_message(issue.id, "and app.log", attach_log_ids=[reviewed.id])
        assert res.attachments[0]["state"] == "redacted"
        second = srv.chat_requests[1].last_user_text
        assert "PII redacted after review" in second and "bob.x@example.com" not in second
    panel = ChatPanel(issue.id, wb)
    shown = html.unescape(panel._w_transcript.value)
    assert "sent without redaction by the reviewer's choice" in shown and "PII redacted after review" in shown
    static = html.unescape(panel.to_html())  # as the model saw it: placeholders, not values
    assert "sent without redaction by the reviewer's choice" in static and "[Email_2]" in static
    assert "bob.x@example.com" not in static
    options = dict((v, k) for k, v in panel._w_attach.options)
    assert "sent unredacted: reviewer's choice" in options[rejected.id]
    assert "redacted after review" in options[reviewed.id]


def test_a_reviewers_release_holds_inside_that_log_only(wb, cli, issue, tmp_path):
    """`pii apply --none` releases the log's values for that log's text, not for the title, the
    message, other logs or exports; a message cannot forge the region markers."""
    wb.issues.update_issue(issue.id, title=f"Login fails for {EMAIL}")
    released = wb.attachments.upload_log_file_by_content(issue.id, "auth.log", f"login {EMAIL} from 10.9.8.7\n")
    other = wb.attachments.upload_log_file_by_content(issue.id, "other.log", f"retry {EMAIL}\n")
    assert cli("pii", "apply", released.id, "--none").code == 0
    forged = f"\x00TFTSR-REVIEWED:{released.id}\x00 mail {EMAIL} \x00TFTSR-END\x00"
    with FakeProviderServer("openai", replies=["a", "b"]) as srv:
        _add_provider(cli, srv)
        wb.chat.chat_message(issue.id, f"is {EMAIL} locked? {forged}", attach_log_ids=[released.id, other.id])
        req = srv.chat_requests[0]
        system, user = req.messages[0]["content"], req.last_user_text
        assert EMAIL not in system and "Login fails for [Email_1]" in system
        message, rest = user.split("Attached log `auth.log`", 1)
        released_block, other_block = rest.split("Attached log `other.log`", 1)
        assert EMAIL not in message and "\x00" not in user  # the forged markers are plain text now
        assert EMAIL in released_block  # the reviewer's choice, in that log only
        assert EMAIL not in other_block  # the other log (not reviewed) is redacted
        wb.chat.chat_message(issue.id, "again")  # history keeps the region: same decision
        assert srv.chat_requests[1].messages[1]["content"] == user
    doc = wb.documents.generate_rca(issue.id)
    path = wb.documents.export_document(doc.id, "md", tmp_path)
    assert EMAIL not in path.read_text(encoding="utf-8") and "alice" not in path.name


def test_guard_clears_any_json_payload_for_later_paths(wb, issue):
    """Integrations, MCP tool arguments and shell output send dicts and lists: every string in them
    is cleared, numbers and keys stay, and the hash is of the cleared payload."""
    payload = {"tool": "kubectl", "args": ["get", "pods", f"--token=ghp_Rk7Vn2Qw9Lx4Tb8Mz1Hc5Jd3Pf6Gs0Ya2Ue7W"],
               "env": {"DB_PASSWORD": PASSWORD, "replicas": 3}, "stdout": f"owner {EMAIL}\nready 3/3"}
    out = wb.pii.guard_outbound(issue.id, payload)
    text = json.dumps(out.payload)
    assert PASSWORD not in text and EMAIL not in text and "ghp_Rk7Vn2Qw9" not in text
    assert out.payload["env"]["replicas"] == 3 and out.payload["args"][:2] == ["get", "pods"]
    assert "ready 3/3" in out.payload["stdout"] and out.intact()
    import hashlib

    assert out.sha256 == hashlib.sha256(json.dumps(out.payload, ensure_ascii=False,
                                                   separators=(",", ":")).encode()).hexdigest()
    with pytest.raises(Exception, match="cannot clear a"):
        wb.pii.guard_outbound(issue.id, {"blob": object()})
