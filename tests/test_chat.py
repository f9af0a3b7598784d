"""The investigation chat over real HTTP against local fake providers: redaction, audit hashes,
history, streaming, cancel, 5-Whys tracking and log analysis."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.fakes.servers import FakeProviderServer
from tftsr_kernel import errors

SECRETS = {
    "email": "alice.ops@example.com",
    "ip": "10.20.30.40",
    "password": "S3cr3t-Passw0rd!",
    "token": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
}
LOG = (f"login user={SECRETS['email']} from {SECRETS['ip']}\n"
       f"db password={SECRETS['password']}\n"
       f"GITHUB_TOKEN={SECRETS['token']}\n"
       f"aws_access_key_id={SECRETS['aws']}\n"
       f"Authorization: Bearer {SECRETS['bearer']}\n"
       "pool exhausted db_pool_max=8\n")
API_KEY = "sk-test-DO-NOT-LEAK-4f8a9b"


def _add_provider(cli, srv, name="local", env_var="TFTSR_TEST_KEY"):
    os.environ[env_var] = API_KEY
    try:
        r = cli("provider", "add", name, "--type", srv.kind, "--url", srv.url, "--model",
                "gpt-4o-mini" if srv.kind == "openai" else "llama3.2:3b", "--api-key-env", env_var, "--json")
    finally:
        del os.environ[env_var]
    assert r.code == 0, r.stderr
    return r.json


@pytest.fixture
def openai():
    with FakeProviderServer("openai", replies=["Looking at it. [[WHY-LEVEL: 1]]"]) as srv:
        yield srv


def test_cli_chat_sends_no_pii_and_audits_the_hash(cli, tftsr_proc, wb, issue, openai):
    _add_provider(cli, openai)
    log = wb.attachments.upload_log_file_by_content(issue.id, "auth.log", LOG)
    r = tftsr_proc("chat", issue.id, f"Why is {SECRETS['email']} locked out from {SECRETS['ip']}?",
                   "--attach", log.id)
    assert r.code == 0, r.stderr
    assert "Looking at it." in r.stdout and "WHY-LEVEL" not in r.stdout
    req = openai.chat_requests[-1]
    for name, value in SECRETS.items():
        assert value not in req.raw.decode(), f"{name} leaked to the provider"
    assert "db_pool_max=8" in req.last_user_text  # evidence still useful
    assert [m["role"] for m in req.messages] == ["system", "user"]  # one merged system message
    assert req.header("authorization") == f"Bearer {API_KEY}"
    entry = wb.audit.get_audit_log(action="ai_chat")[0]
    assert entry.details["sent_sha256"] == hashlib.sha256(req.last_user_text.encode()).hexdigest()
    payload = [{"role": m["role"], "content": m["content"]} for m in req.body["messages"]]
    import json

    assert entry.details["payload_sha256"] == hashlib.sha256(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
    rows = wb.db.query("SELECT details FROM audit_log")
    assert not any(v in (r[0] or "") for r in rows for v in [*SECRETS.values(), API_KEY])


def test_keys_never_shown(cli, wb, openai, issue):
    _add_provider(cli, openai)
    listed = cli("provider", "list", "--json")
    assert listed.code == 0 and listed.json[0]["has_api_key"] is True
    assert API_KEY not in listed.stdout and API_KEY not in cli("issue", "show", issue.id, "--json").stdout
    stored = wb.db.query_one("SELECT encrypted_api_key FROM ai_providers")[0]
    assert API_KEY not in stored
    openai.add_statuses((401, {"error": {"message": f"Incorrect API key provided: {API_KEY}"}}))
    r = cli("chat", issue.id, "hello", "--json")
    assert r.code == 1 and "rejected" in r.stderr and API_KEY not in r.stderr and API_KEY not in r.stdout
    t = cli("provider", "test", "local", "--json")
    assert t.code == 0 and t.json["success"] is True
    assert all(API_KEY not in str(e.to_dict()) for e in wb.audit.get_audit_log(limit=1000))


def test_connection_refused_names_the_url(cli, issue):
    r = cli("provider", "add", "down", "--type", "ollama", "--url", "http://127.0.0.1:9", "--model", "llama3.2:3b")
    assert r.code == 0
    r = cli("chat", issue.id, "hello")
    assert r.code == 1 and "127.0.0.1:9" in r.stderr and "Ollama" in r.stderr


def test_five_turns_reach_root_cause(cli, wb, issue):
    replies = [
        "The 503s come from pool timeouts. [[WHY-LEVEL: 1]]",
        "The pool was full because it had 8 connections. [[WHY-LEVEL: 2]]",
        "The deploy set db_pool_max=8. [[WHY-LEVEL: 3]]",
        "The helm values were copied from staging. [[WHY-LEVEL: 4]]",
        "No review checks pool sizes per environment. [[WHY-LEVEL: 5]]\n"
        "[[ROOT-CAUSE: Production pool size came from staging values without a review gate]]",
    ]
    with FakeProviderServer("ollama", replies=replies) as srv:
        _add_provider(cli, srv)
        for n in range(5):
            r = cli("chat", issue.id, f"why {n + 1}?", "--json")
            assert r.code == 0, r.stderr
        assert r.json["why_level"] == 5
        assert r.json["root_cause"].startswith("Production pool size")
        history = srv.chat_requests[-1].messages
        assert [m["role"] for m in history] == ["system"] + ["user", "assistant"] * 4 + ["user"]
        assert all("[[" not in m["content"] for m in history if m["role"] == "assistant")
    show = cli("issue", "show", issue.id, "--json").json
    steps = show["resolution_steps"]
    assert [s["step_order"] for s in steps] == [1, 2, 3, 4, 5]
    assert "db_pool_max=8" in steps[2]["answer"]
    events = [e["event_type"] for e in show["timeline_events"]]
    assert events.count("why_level_advanced") == 5 and events.count("triage_started") == 1
    assert events.count("root_cause_identified") == 1
    assert show["issue"]["status"] == "investigating"
    assert wb.whys.root_cause(issue.id).startswith("Production pool size")
    assert len(show["conversations"]) == 1


def test_levels_never_move_backwards(wb, cli, issue):
    with FakeProviderServer("openai", replies=["[[WHY-LEVEL: 3]] deep", "Going back to why 1: hmm [[WHY-LEVEL: 1]]"]) as srv:
        _add_provider(cli, srv)
        assert wb.chat.chat_message(issue.id, "a").why_level == 3
        res = wb.chat.chat_message(issue.id, "b")
        assert res.why_level == 3 and res.steps_added == []
    # the jump to 3 spelled out no step: only the level reached gets one (no copies for 1 and 2)
    assert [s.step_order for s in wb.whys.list_five_whys(issue.id)] == [3]


def test_placeholders_restored_for_display_and_stream(wb, cli, issue):
    def echo(req):
        return f"Check host {req.last_user_text.split()[-1]} now."

    with FakeProviderServer("openai", reply_fn=echo, words_per_chunk=1) as srv:
        _add_provider(cli, srv)
        chunks = []
        res = wb.chat.chat_message(issue.id, "what about 192.168.7.7", on_chunk=chunks.append)
        assert "192.168.7.7" not in srv.chat_requests[-1].raw.decode()
        assert res.display_text == "Check host 192.168.7.7 now."
        assert "".join(chunks) == "Check host 192.168.7.7 now."
        assert len(chunks) > 3  # arrived in pieces
        stored = wb.chat.list_messages(issue.id)
        assert "[IPv4_1]" in stored[0].content and "192.168.7.7" not in stored[0].content
        assert wb.chat.list_messages(issue.id, display=True)[0].content == "what about 192.168.7.7"


def test_cancel_stops_the_stream_and_keeps_partial(wb, cli, issue):
    long_reply = " ".join(f"word{i}" for i in range(200))
    with FakeProviderServer("openai", replies=[long_reply], chunk_delay=0.02) as srv:
        _add_provider(cli, srv)
        cancel = threading.Event()
        got = []

        def on_chunk(t):
            got.append(t)
            if len(got) == 5:
                cancel.set()

        with pytest.raises(errors.CancelledError):
            wb.chat.chat_message(issue.id, "go", on_chunk=on_chunk, cancel=cancel)
        srv.wait_idle()
        assert srv.chat_requests[-1].chunks_sent < 100
        msgs = wb.chat.list_messages(issue.id)
        assert msgs[-1].role == "assistant" and "(stopped)" in msgs[-1].content
        assert wb.audit.get_audit_log(action="ai_chat")[0].details["outcome"] == "cancelled"


def _as_from_a_terminal():
    """The child starts as from an interactive terminal: Ctrl-C (SIGINT) neither ignored nor blocked,
    whatever the test worker inherited (a CI runner may start jobs with SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_cli_streams_chunk_by_chunk_and_ctrl_c_cancels(cli, wb, issue, data_dir):
    # 200 chunks 0.1 s apart: the reply is still streaming when the signal comes, even on a busy machine
    reply = " ".join(f"token{i}" for i in range(200))
    with FakeProviderServer("openai", replies=[reply], chunk_delay=0.1) as srv:
        _add_provider(cli, srv)
        exe = Path(sys.executable).with_name("tftsr")
        p = subprocess.Popen([str(exe), "chat", issue.id, "stream please"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=dict(os.environ), preexec_fn=_as_from_a_terminal)
        first = b""
        deadline = time.monotonic() + 20
        while b"token3" not in first and time.monotonic() < deadline:
            first += os.read(p.stdout.fileno(), 64)
        assert b"token3" in first, "no streamed output before the reply finished"
        assert p.poll() is None, "the reply should still be streaming"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 1 and "cancelled" in err.decode()
        assert b"token199" not in first + out
        srv.wait_idle()
        assert srv.chat_requests[-1].chunks_sent < 200


def test_analyze_logs_structured_result(cli, wb, issue):
    reply = ('```json\n{"summary": "Pool timeouts after deploy", "key_findings": ["db_pool_max=8", "503s from 14:05"],'
             ' "first_why": "Why did the pool run out?", "severity": "high"}\n```')
    with FakeProviderServer("openai", replies=[reply]) as srv:
        _add_provider(cli, srv)
        log = wb.attachments.upload_log_file_by_content(issue.id, "auth.log", LOG)
        r = cli("analyze", issue.id, log.id, "--json")
        assert r.code == 0, r.stderr
        assert r.json["summary"] == "Pool timeouts after deploy" and r.json["severity_suggestion"] == "high"
        assert r.json["first_why"] == "Why did the pool run out?"
        raw = srv.chat_requests[-1].raw.decode()
        assert not any(v in raw for v in SECRETS.values())
        assert wb.audit.get_audit_log(action="ai_analyze_logs")[0].details["sent_sha256"] == \
            hashlib.sha256(srv.chat_requests[-1].last_user_text.encode()).hexdigest()


def test_no_provider_is_a_clear_error(cli, issue):
    r = cli("chat", issue.id, "hello")
    assert r.code == 1 and "tftsr provider add" in r.stderr


def test_provider_model_defaults_to_setting(cli, openai):
    assert cli("settings", "set", "default_model", "qwen2.5:14b").code == 0
    r = cli("provider", "add", "x", "--type", "ollama", "--url", "http://127.0.0.1:11434", "--json")
    assert r.code == 0 and r.json["model"] == "qwen2.5:14b"


def test_provider_use_switches_active(cli, openai):
    _add_provider(cli, openai, "a")
    _add_provider(cli, openai, "b")
    assert [p["is_active"] for p in cli("provider", "list", "--json").json] == [True, False]
    assert cli("provider", "use", "b").code == 0
    assert [p["is_active"] for p in cli("provider", "list", "--json").json] == [False, True]
    assert cli("provider", "use", "nope").code == 1


def test_whys_by_hand(cli, issue):
    r = cli("whys", issue.id, "--add", "1", "--question", "Why 503?", "--answer", "pool", "--json")
    assert r.code == 0 and r.json["level"] == 1
    step = r.json["steps"][0]["id"]
    r = cli("whys", issue.id, "--update", step, "--answer", "pool of 8", "--json")
    assert r.json["steps"][0]["answer"] == "pool of 8"
    r = cli("whys", issue.id, "--root-cause", "values copied from staging", "--json")
    assert r.json["root_cause"] == "values copied from staging"
    assert cli("whys", issue.id, "--add", "1", "--question", "dup").code == 1


def test_ollama_management(cli):
    with FakeProviderServer("ollama", models=["llama3.2:3b"]) as srv:
        assert cli("ollama", "status", "--url", srv.url, "--json").json["running"] is True
        assert [m["name"] for m in cli("ollama", "list", "--url", srv.url, "--json").json] == ["llama3.2:3b"]
        assert cli("ollama", "pull", "phi3.5:3.8b", "--url", srv.url, "--json").code == 0
        assert cli("ollama", "delete", "phi3.5:3.8b", "--url", srv.url, "--json").code == 0
    r = cli("ollama", "recommend", "--json")
    assert r.code == 0 and r.json["models"]


def test_conversation_keeps_its_own_provider_and_the_active_one_stays(wb, cli, issue):
    other = wb.issues.create_issue("Disk full", None, "low")
    with FakeProviderServer("openai", replies=["from a"] * 3) as a, FakeProviderServer("ollama", replies=["from b"] * 3) as b:
        _add_provider(cli, a, "a")
        _add_provider(cli, b, "b")
        assert wb.providers.active_provider().name == "a"
        conv = wb.chat.set_conversation_provider(issue.id, "b")
        assert conv.provider == "b" and wb.providers.active_provider().name == "a"
        assert wb.chat.chat_message(issue.id, "hi").display_text == "from b"
        assert wb.chat.chat_message(other.id, "hi").display_text == "from a"  # other issues: the default
        assert len(b.chat_requests) == 1 and len(a.chat_requests) == 1
        res = wb.chat.chat_message(issue.id, "again", provider="a")  # the CLI's --provider
        assert res.provider == "a" and wb.chat.conversation_provider(issue.id) == "a"
        assert wb.providers.active_provider().name == "a"
        assert [c.provider for c in wb.chat.list_conversations(issue.id)] == ["a"]
        entry = wb.audit.get_audit_log(action="set_conversation_provider")[0]
        assert entry.details["provider"] == "a" and entry.details["previous"] == "b"
        with pytest.raises(errors.NotFoundError):
            wb.chat.set_conversation_provider(issue.id, "nope")
        cli("provider", "delete", "a")  # the conversation's provider is gone: the active one answers
        assert cli("provider", "use", "b").code == 0
        assert wb.chat.chat_message(issue.id, "after delete").display_text == "from b"
        assert wb.chat.conversation_provider(issue.id) == "b"


def test_chat_panel_provider_picker_changes_this_conversation_only(wb, cli, issue):
    from widgets.chat import ChatPanel

    other = wb.issues.create_issue("Disk full", None, "low")
    with FakeProviderServer("openai", replies=["from a"] * 3) as a, FakeProviderServer("ollama", replies=["from b"] * 3) as b:
        _add_provider(cli, a, "a")
        _add_provider(cli, b, "b")
        panel = ChatPanel(issue.id, wb)
        assert panel._w_provider.value == "a"
        panel._w_provider.value = "b"  # the user picks b in this incident's chat
        assert "this conversation now uses b" in panel.status.lower()
        assert wb.providers.active_provider().name == "a"  # the default for everyone is unchanged
        panel.send("hello")
        assert panel.messages[-1].content == "from b" and len(b.chat_requests) == 1
        assert ChatPanel(other.id, wb)._w_provider.value == "a"
        assert ChatPanel(issue.id, wb)._w_provider.value == "b"  # reopened: still this conversation's
        assert [p["is_active"] for p in cli("provider", "list", "--json").json] == [True, False]


def test_cli_chat_provider_flag_applies_to_that_conversation(cli, wb, issue):
    with FakeProviderServer("openai", replies=["from a"] * 3) as a, FakeProviderServer("ollama", replies=["from b"] * 3) as b:
        _add_provider(cli, a, "a")
        _add_provider(cli, b, "b")
        r = cli("chat", issue.id, "hi", "--provider", "b", "--json")
        assert r.code == 0, r.stderr
        assert r.json["provider"] == "b" and len(b.chat_requests) == 1
        assert [p["is_active"] for p in cli("provider", "list", "--json").json] == [True, False]
        r = cli("chat", issue.id, "again", "--no-stream")  # the conversation keeps b
        assert r.code == 0 and "from b" in r.stdout and len(a.chat_requests) == 0
        r = cli("chat", issue.id, "x", "--provider", "nope")
        assert r.code == 1 and "nope" in r.stderr
