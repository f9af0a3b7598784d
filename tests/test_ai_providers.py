"""AI-provider layer: real HTTP against the local fake servers in tests/fakes."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from tests.fakes import FakeProviderServer
from tests.fakes.pytest_plugin import fake_server  # noqa: F401  (fixture)
from tftsr_kernel.ai import (
    DOMAINS,
    INCIDENT_FRAMEWORK,
    WHY_PROTOCOL,
    ChatMessage,
    HardwareInfo,
    MarkerStreamFilter,
    OllamaClient,
    ProviderConfig,
    build_system_prompt,
    chunk_for_analysis,
    detect_hardware,
    make_provider,
    parse_analysis,
    parse_progress,
    recommend_models,
    strip_markers,
)
from tftsr_kernel.ai.analysis import build_analysis_messages, normalize_severity
from tftsr_kernel.ai.providers import render_history_prompt
from tftsr_kernel.errors import (
    CancelledError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderModelError,
    ProviderResponseError,
    ValidationError,
)

KINDS = ["openai", "ollama", "anthropic", "gemini", "custom"]
STREAMING_KINDS = ["openai", "ollama", "anthropic", "gemini"]
SECRET = "sk-test-SUPERSECRET-9f8e7d6c5b4a"
REPLY = "The disk on db01 filled up because log rotation was disabled after the upgrade."

CONVERSATION = [
    ChatMessage("system", "You are the domain expert."),
    ChatMessage("user", "The API returns 502 since 09:00."),
    ChatMessage("assistant", "Which upstream does the proxy use?"),
    ChatMessage("system", "Issue context: payments outage."),
    ChatMessage("user", "It points at db01, whose disk is full."),
]


def _provider(srv: FakeProviderServer, **overrides):
    return make_provider(srv.config(**overrides))


# --------------------------------------------------------------------------------------------
# chat, streaming and not, for every provider
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", STREAMING_KINDS)
def test_streaming_chunks_arrive_in_order_with_usage(fake_server, kind):
    srv = fake_server(kind, replies=[REPLY])
    chunks: list[str] = []
    with _provider(srv) as provider:
        result = provider.chat(CONVERSATION, on_chunk=chunks.append)
    assert len(chunks) == len(REPLY.split()) > 5
    assert "".join(chunks) == REPLY == result.content
    assert chunks[0].startswith("The") and chunks[-1].endswith("upgrade.")
    req = srv.chat_requests[0]
    assert req.stream is True
    assert result.completion_tokens == len(REPLY.split())  # from the server's usage, not len/4
    assert result.prompt_tokens == len(req.prompt_text.split())
    assert result.tokens_estimated is False
    assert result.raw_finish_reason
    assert result.model


@pytest.mark.parametrize("kind", KINDS)
def test_non_streaming_chat(fake_server, kind):
    srv = fake_server(kind, replies=[REPLY])
    chunks: list[str] = []
    with _provider(srv) as provider:
        result = provider.chat(CONVERSATION, stream=False, on_chunk=chunks.append)
    assert result.content == REPLY
    assert chunks == [REPLY]  # on_chunk gets the whole reply once
    assert srv.chat_requests[0].stream is False


@pytest.mark.parametrize("kind", KINDS)
def test_history_sent_and_system_merged_into_one(fake_server, kind):
    srv = fake_server(kind, replies=["ok"])
    with _provider(srv) as provider:
        provider.chat(CONVERSATION)
    msgs = srv.chat_requests[0].messages
    systems = [m for m in msgs if m["role"] == "system"]
    assert len(systems) == 1 and msgs[0]["role"] == "system"
    assert "domain expert" in systems[0]["content"] and "payments outage" in systems[0]["content"]
    text = "\n".join(m["content"] for m in msgs if m["role"] != "system")
    for earlier in ("502 since 09:00", "Which upstream", "disk is full"):
        assert earlier in text  # the whole history went over the wire (custom REST included)
    if kind != "custom":
        roles = [m["role"] for m in msgs if m["role"] != "system"]
        assert roles == ["user", "assistant", "user"]


def test_openai_wire_format(fake_server):
    srv = fake_server("openai", replies=["hi"])
    with _provider(srv, api_key=SECRET, max_tokens=321, temperature=0.2) as provider:
        provider.chat([ChatMessage("user", "hello")])
    req = srv.chat_requests[0]
    assert req.path == "/v1/chat/completions"
    assert req.header("authorization") == f"Bearer {SECRET}"
    assert req.body["stream"] is True and req.body["stream_options"] == {"include_usage": True}
    assert req.body["max_tokens"] == 321 and req.body["temperature"] == 0.2
    assert req.body["model"] == "gpt-4o-mini"


def test_openai_compatible_custom_path_and_auth_header(fake_server):
    """Azure-style: custom endpoint path with a query, `api-key` header, no prefix."""
    srv = fake_server("openai", replies=["azure says hi"])
    cfg = srv.config(
        api_url=srv.root,
        custom_endpoint_path="/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01",
        custom_auth_header="api-key",
        custom_auth_prefix="",
        api_key=SECRET,
    )
    with make_provider(cfg) as provider:
        assert provider.chat([ChatMessage("user", "x")], stream=False).content == "azure says hi"
    req = srv.chat_requests[0]
    assert req.path == "/openai/deployments/gpt4o/chat/completions"
    assert req.query == {"api-version": "2024-06-01"}
    assert req.header("api-key") == SECRET and req.header("authorization") is None


def test_custom_type_with_openai_format_speaks_openai(fake_server):
    srv = fake_server("openai", replies=["compat"])
    cfg = srv.config(provider_type="custom", api_format="openai")
    with make_provider(cfg) as provider:
        assert provider.chat([ChatMessage("user", "x")]).content == "compat"
    assert srv.chat_requests[0].body["stream"] is True


def test_ollama_wire_format(fake_server):
    srv = fake_server("ollama", replies=["hi"])
    with _provider(srv, max_tokens=200, temperature=0.1) as provider:
        provider.chat([ChatMessage("user", "hello")])
        provider.chat([ChatMessage("user", "x" * 40_000)], stream=False)
    first, second = srv.chat_requests
    assert first.path == "/api/chat" and first.body["stream"] is True
    assert first.body["options"] == {"temperature": 0.1, "num_predict": 200}
    assert second.body["options"]["num_ctx"] >= 12_000  # long prompt: no silent truncation


def test_anthropic_wire_format(fake_server):
    srv = fake_server("anthropic", replies=["hi"])
    with _provider(srv, api_key=SECRET) as provider:
        provider.chat([ChatMessage("assistant", "Welcome!"), *CONVERSATION])
    req = srv.chat_requests[0]
    assert req.path == "/v1/messages"
    assert req.header("x-api-key") == SECRET and req.header("anthropic-version") == "2023-06-01"
    assert "domain expert" in req.body["system"]
    roles = [m["role"] for m in req.body["messages"]]
    assert "system" not in roles and roles[0] == "user"  # starts with the user as required
    assert all(a != b for a, b in zip(roles, roles[1:]))  # strictly alternating


def test_gemini_wire_format_and_base_url(fake_server):
    srv = fake_server("gemini", replies=["hi"])
    with _provider(srv, api_key=SECRET) as provider:
        provider.chat(CONVERSATION)
        provider.chat(CONVERSATION, stream=False)
    streamed, plain = srv.chat_requests
    assert streamed.path == "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    assert streamed.query == {"alt": "sse"}
    assert plain.path == "/v1beta/models/gemini-2.0-flash:generateContent"
    assert streamed.header("x-goog-api-key") == SECRET and "key" not in streamed.query
    assert "domain expert" in streamed.body["systemInstruction"]["parts"][0]["text"]
    assert [c["role"] for c in streamed.body["contents"]] == ["user", "model", "user"]


def test_custom_rest_sends_history_system_config_and_session(fake_server):
    srv = fake_server("custom", replies=["first", "second"])
    cfg = srv.config(custom_endpoint_path="/api/v2/chat", custom_auth_header="x-gateway-key", api_key=SECRET,
                     temperature=0.3, max_tokens=900)
    with make_provider(cfg) as provider:
        chunks: list[str] = []
        r1 = provider.chat(CONVERSATION, on_chunk=chunks.append)
        r2 = provider.chat([*CONVERSATION, ChatMessage("assistant", "first"), ChatMessage("user", "and now?")])
    assert (r1.content, r2.content, chunks) == ("first", "second", ["first"])
    a, b = srv.chat_requests
    assert a.path == "/api/v2/chat" and a.header("x-gateway-key") == SECRET  # prefix defaults to ""
    assert a.body["modelConfig"] == {"temperature": 0.3, "max_tokens": 900}
    assert "domain expert" in a.body["system"] and "payments outage" in a.body["system"]
    prompt = a.body["prompt"]
    assert prompt.index("502 since 09:00") < prompt.index("Which upstream") < prompt.index("disk is full")
    assert prompt.rstrip().endswith("It points at db01, whose disk is full.")
    assert "sessionId" not in a.body and b.body["sessionId"] == r1.session_id == "fake-session-1"
    assert r1.tokens_estimated and r1.completion_tokens == 2  # no usage: len/4 estimate


def test_render_history_prompt_budget_drops_oldest():
    turns = [ChatMessage("user" if i % 2 == 0 else "assistant", f"turn {i} " + "x" * 100) for i in range(21)]
    text = render_history_prompt(turns, budget_chars=800)
    assert len(text) <= 800 and "earlier messages omitted" in text
    assert "turn 20" in text and "turn 0 " not in text
    assert render_history_prompt([ChatMessage("user", "just this")]) == "just this"


# --------------------------------------------------------------------------------------------
# cancel, retries, stream cuts
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", STREAMING_KINDS)
def test_cancel_mid_stream_closes_connection(fake_server, kind):
    reply = " ".join(f"w{i}" for i in range(60))
    srv = fake_server(kind, replies=[reply], chunk_delay=0.02)
    cancel = threading.Event()
    seen: list[str] = []

    def on_chunk(piece):
        seen.append(piece)
        if len(seen) == 3:
            cancel.set()

    started = time.monotonic()
    with _provider(srv) as provider, pytest.raises(CancelledError) as info:
        provider.chat([ChatMessage("user", "go")], on_chunk=on_chunk, cancel=cancel)
    assert time.monotonic() - started < 1.0  # far less than 60 chunks × 20 ms
    assert info.value.partial == "".join(seen) == "w0 w1 w2 "
    assert srv.wait_idle(3)
    req = srv.chat_requests[0]
    assert req.client_disconnected and not req.completed
    assert req.chunks_sent < req.chunks_total


def test_cancel_from_another_thread(fake_server):
    srv = fake_server("openai", replies=[" ".join(["word"] * 100)], chunk_delay=0.02)
    cancel, first_chunk = threading.Event(), threading.Event()

    def canceller():  # another thread cancels once text is flowing (no timing assumptions)
        first_chunk.wait(10)
        cancel.set()

    threading.Thread(target=canceller, daemon=True).start()
    with _provider(srv) as provider, pytest.raises(CancelledError) as info:
        provider.chat([ChatMessage("user", "go")], cancel=cancel, on_chunk=lambda _t: first_chunk.set())
    assert 0 < len(info.value.partial) < len(" ".join(["word"] * 100))


def test_cancel_before_start_sends_nothing(fake_server):
    srv = fake_server("ollama")
    cancel = threading.Event()
    cancel.set()
    with _provider(srv) as provider, pytest.raises(CancelledError):
        provider.chat([ChatMessage("user", "go")], cancel=cancel)
    assert srv.requests == []


@pytest.mark.parametrize("stream", [True, False])
def test_retries_on_500_then_success(fake_server, stream):
    srv = fake_server("openai", replies=["recovered"], statuses=[500, 503])
    with _provider(srv, max_retries=2) as provider:
        provider.retry_backoff = 0.01
        assert provider.chat([ChatMessage("user", "x")], stream=stream).content == "recovered"
    assert len(srv.chat_requests) == 3


def test_retries_exhausted_reports_status_and_scrubbed_body(fake_server):
    srv = fake_server("anthropic", statuses=[500, 500, 500])
    with _provider(srv, api_key=SECRET, max_retries=1) as provider:
        provider.retry_backoff = 0.01
        with pytest.raises(ProviderResponseError) as info:
            provider.chat([ChatMessage("user", "x")])
    assert len(srv.chat_requests) == 2  # 1 try + 1 retry, the third 500 never requested
    msg = str(info.value)
    assert "HTTP 500" in msg and "forced status 500" in msg
    assert SECRET not in msg and "***" in msg  # the server echoed the key; it was scrubbed


def test_no_retry_on_4xx(fake_server):
    srv = fake_server("openai", statuses=[(400, {"error": {"message": "context length exceeded"}})])
    with _provider(srv, max_retries=3) as provider, pytest.raises(ProviderResponseError) as info:
        provider.chat([ChatMessage("user", "x")])
    assert len(srv.chat_requests) == 1
    assert "HTTP 400" in str(info.value) and "context length exceeded" in str(info.value)


@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_no_retry_after_first_chunk_delivered(fake_server, kind):
    srv = fake_server(kind, replies=["one two three four five six"], drop_after_chunks=2)
    seen: list[str] = []
    with _provider(srv, max_retries=3) as provider, pytest.raises(ProviderConnectionError) as info:
        provider.chat([ChatMessage("user", "x")], on_chunk=seen.append)
    assert len(srv.chat_requests) == 1
    assert info.value.partial == "".join(seen) == "one two "
    assert "middle of the reply" in str(info.value) or "before the reply was complete" in str(info.value)


# --------------------------------------------------------------------------------------------
# error messages
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_401_is_auth_error_without_key(fake_server, kind):
    srv = fake_server(kind, require_key="the-right-key-1234")
    with _provider(srv, api_key=SECRET) as provider, pytest.raises(ProviderAuthError) as info:
        provider.chat([ChatMessage("user", "x")])
    msg = str(info.value)
    assert f"the API key was rejected by fake-{kind}".lower() in msg.lower()
    assert SECRET not in msg and "Bearer" not in msg
    assert SECRET not in repr(info.value.args)
    assert len(srv.chat_requests) == 1  # auth errors are not retried


def test_403_and_gemini_bad_key_400_are_auth_errors(fake_server):
    srv = fake_server("openai", statuses=[403])
    with _provider(srv) as provider, pytest.raises(ProviderAuthError):
        provider.chat([ChatMessage("user", "x")])
    gem = fake_server("gemini", statuses=[(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}})])
    with _provider(gem) as provider, pytest.raises(ProviderAuthError):
        provider.chat([ChatMessage("user", "x")])


@pytest.mark.parametrize("kind", STREAMING_KINDS)
def test_404_names_the_model(fake_server, kind):
    srv = fake_server(kind, models=["some-other-model"])
    with _provider(srv, model="no-such-model:7b") as provider, pytest.raises(ProviderModelError) as info:
        provider.chat([ChatMessage("user", "x")])
    assert "no-such-model:7b" in str(info.value)
    if kind == "ollama":
        assert "ollama pull no-such-model:7b" in str(info.value)


def test_connection_refused_messages():
    cfg = ProviderConfig("local", "ollama", "http://127.0.0.1:1", "llama3.2:3b", max_retries=0)
    with make_provider(cfg) as provider, pytest.raises(ProviderConnectionError) as info:
        provider.chat([ChatMessage("user", "x")])
    assert str(info.value) == "Could not connect to Ollama at http://127.0.0.1:1 — is Ollama running?"

    cfg = ProviderConfig("My gateway", "openai", "http://user:pw@127.0.0.1:1/v1?x=1", "m", api_key=SECRET, max_retries=1)
    with make_provider(cfg) as provider:
        provider.retry_backoff = 0.01
        with pytest.raises(ProviderConnectionError) as info:
            provider.chat([ChatMessage("user", "x")])
        assert "Could not connect to My gateway at http://127.0.0.1:1/v1" in str(info.value)
        assert "pw" not in str(info.value) and SECRET not in str(info.value)
        result = provider.test_connection()
    assert not result.success and "Could not connect" in result.message


def test_read_timeout_is_a_connection_error(fake_server):
    srv = fake_server("ollama", replies=["a b c"], chunk_delay=1.0)
    with _provider(srv, timeout=0.3) as provider, pytest.raises(ProviderConnectionError) as info:
        provider.chat([ChatMessage("user", "x")])
    assert "did not answer within 0.3 s" in str(info.value)


def test_not_json_and_wrong_shape_are_response_errors(fake_server):
    srv = fake_server("custom", reply_fn=lambda req: "unused")
    srv.add_statuses((200, "<html>login page</html>"))
    with _provider(srv) as provider, pytest.raises(ProviderResponseError) as info:
        provider.chat([ChatMessage("user", "x")])
    assert "not JSON" in str(info.value)


# --------------------------------------------------------------------------------------------
# config hygiene
# --------------------------------------------------------------------------------------------
def test_config_never_reveals_key():
    cfg = ProviderConfig("openai", "openai", "https://api.openai.com/v1", "gpt-4o", api_key=SECRET)
    for text in (repr(cfg), str(cfg), f"{cfg}", str(cfg.to_dict())):
        assert SECRET not in text
    assert cfg.to_dict()["api_key"] == "***"
    assert dataclasses.fields(cfg)[4].repr is False
    provider = make_provider(cfg)
    assert SECRET not in repr(provider)
    assert cfg.api_key == SECRET  # still usable by the caller


@pytest.mark.parametrize(
    "changes",
    [
        {"provider_type": "bard"},
        {"model": " "},
        {"api_url": "ftp://x"},
        {"temperature": 3.5},
        {"max_tokens": 0},
        {"custom_auth_header": "bad header"},
    ],
)
def test_invalid_configs_rejected(changes):
    cfg = ProviderConfig("x", "openai", "https://api.example.com/v1", "m")
    with pytest.raises(ValidationError):
        make_provider(dataclasses.replace(cfg, **changes))


def test_bad_messages_rejected():
    provider = make_provider(ProviderConfig("x", "ollama", "", "m"))
    with pytest.raises(ValidationError):
        provider.chat([ChatMessage("system", "only system")])
    with pytest.raises(ValidationError):
        provider.chat([{"role": "tool", "content": "x"}])


def test_test_connection_success_and_ollama_model_check(fake_server):
    srv = fake_server("openai")
    with _provider(srv) as provider:
        result = provider.test_connection()
    assert result.success and "fake-openai" in result.message
    oll = fake_server("ollama", models=["llama3.2:3b"])
    with _provider(oll, model="qwen2.5:14b") as provider:
        result = provider.test_connection()
    assert not result.success and "not installed" in result.message and "llama3.2:3b" in result.message
    with _provider(oll, model="llama3.2:3b") as provider:
        assert provider.test_connection().success


# --------------------------------------------------------------------------------------------
# prompts
# --------------------------------------------------------------------------------------------
def test_domains_and_system_prompt():
    ids = ["linux", "windows", "network", "kubernetes", "databases", "virtualization", "hardware",
           "observability", "telephony", "security", "public_safety", "application", "automation",
           "hpe_infra", "dell_hardware", "identity"]
    assert list(DOMAINS) == ids
    assert len({d.prompt for d in DOMAINS.values()}) == 16
    try:
        from tftsr_kernel.categories import CATEGORIES
    except ImportError:  # pragma: no cover - the lead's module
        CATEGORIES = None
    if CATEGORIES is not None:
        assert {k: d.label for k, d in DOMAINS.items()} == CATEGORIES
    prompt = build_system_prompt("kubernetes", "Issue: pods crash-looping in prod")
    assert isinstance(prompt, str)
    assert DOMAINS["kubernetes"].prompt in prompt and INCIDENT_FRAMEWORK in prompt and WHY_PROTOCOL in prompt
    assert prompt.rstrip().endswith("Issue: pods crash-looping in prod")
    assert "[[WHY-LEVEL:" in WHY_PROTOCOL and "[[ROOT-CAUSE:" in WHY_PROTOCOL
    assert build_system_prompt("Security / Vault").startswith(DOMAINS["security"].prompt)
    assert build_system_prompt("k8s").startswith(DOMAINS["kubernetes"].prompt)
    general = build_system_prompt("unknown-thing")
    assert general and "site reliability engineer" in general and WHY_PROTOCOL in general


# --------------------------------------------------------------------------------------------
# 5-Whys progress
# --------------------------------------------------------------------------------------------
def test_parse_progress_markers():
    p = parse_progress("Disk full because logrotate stopped.\n\n[[WHY-LEVEL: 3]]", 1)
    assert (p.level, p.marked, p.root_cause) == (3, True, None)  # a marker may jump levels
    assert p.answer_text == "Disk full because logrotate stopped."
    p = parse_progress(
        "Confirmed.\n[[WHY-LEVEL: 5]]\n[[ROOT-CAUSE: The upgrade playbook disabled logrotate.]]", 4
    )
    assert p.level == 5 and p.root_cause == "The upgrade playbook disabled logrotate." and p.complete
    assert p.answer_text == "Confirmed."
    p = parse_progress("Still gathering.\n[[why_level:0]]", 0)
    assert (p.level, p.marked, p.reported_level) == (0, True, 0)
    assert parse_progress("x [[WHY-LEVEL: 9]]", 2).level == 5  # clamped


def test_parse_progress_never_moves_backwards():
    p = parse_progress("Going back to the first point…\n[[WHY-LEVEL: 2]]", 4)
    assert p.level == 4 and p.reported_level == 2
    p = parse_progress("As we saw in Why 2: the disk filled up.", 4)
    assert p.level == 4


def test_parse_progress_fallback_is_conservative():
    # explicit headings without markers advance exactly one level, even if they go further
    p = parse_progress("**Why 2:** cron stopped.\n**Why 3:** the unit was masked.\nWhy 4: upgrade.", 1)
    assert (p.level, p.marked) == (2, False)
    # prose mentioning whys is not a heading
    assert parse_progress("We will get to why 3 of the servers failed later.", 1).level == 1
    assert parse_progress("Why is that? Let's check.", 1).level == 1
    # confident root-cause statements are taken, hedged ones are not
    assert parse_progress("Root cause: logrotate was disabled by the upgrade.", 3).root_cause == (
        "logrotate was disabled by the upgrade."
    )
    assert parse_progress("So the root cause is the masked logrotate timer. Next steps…", 4).root_cause == (
        "the masked logrotate timer."
    )
    for hedged in (
        "The root cause is not yet clear.",
        "The root cause might be the timer.",
        "We need to find out whether the root cause is the timer.",
        "Is the root cause the timer?",
        "Root cause: unknown so far.",
        "I think the root cause is the timer.",
    ):
        assert parse_progress(hedged, 2).root_cause is None, hedged


def test_strip_markers_and_stream_filter():
    text = "Answer line.\n\n[[WHY-LEVEL: 2]]\n[[ROOT-CAUSE: x y z]]"
    assert strip_markers(text) == "Answer line."
    assert strip_markers("inline [[WHY-LEVEL: 1]] text") == "inline text"
    assert strip_markers("keep [[this]] please") == "keep [[this]] please"
    f = MarkerStreamFilter()
    pieces = ["Disk is ", "full. [", "[WHY-LE", "VEL: 3]] and [[", "not a marker]] end", "[[ROOT-CAUSE: a]]"]
    shown = "".join(f.feed(p) for p in pieces) + f.flush()
    assert shown == "Disk is full.  and [[not a marker]] end"


# --------------------------------------------------------------------------------------------
# log analysis
# --------------------------------------------------------------------------------------------
def test_parse_analysis_json_block():
    reply = """Here you go:
```json
{"summary": "Postgres ran out of connections at 09:02.",
 "key_findings": ["FATAL: too many clients (line 88)", "pool size 10 vs max 100"],
 "first_why": "Why did the connection count spike at 09:00?",
 "severity": "High"}
```"""
    r = parse_analysis(reply)
    assert r.summary.startswith("Postgres ran out")
    assert r.key_findings == ["FATAL: too many clients (line 88)", "pool size 10 vs max 100"]
    assert r.first_why == "Why did the connection count spike at 09:00?"
    assert r.severity_suggestion == "high" and r.source_format == "json"


def test_parse_analysis_sections_and_defaults():
    reply = """SUMMARY: The node ran out of memory and the OOM killer ended java.
KEY_FINDINGS:
- Out of memory: Killed process 4242 (java)
- heap set to 90% of RAM
SEVERITY: P1
"""
    r = parse_analysis(reply)
    assert r.summary == "The node ran out of memory and the OOM killer ended java."
    assert r.key_findings == ["Out of memory: Killed process 4242 (java)", "heap set to 90% of RAM"]
    assert r.first_why == "Why did this issue occur?" and r.severity_suggestion == "critical"
    plain = parse_analysis("I could not find anything unusual.")
    assert plain.summary == "I could not find anything unusual." and plain.severity_suggestion == "medium"
    assert normalize_severity("sev4") == "low" and normalize_severity("banana") == "medium"


def test_chunk_for_analysis_samples_large_logs():
    small = "line 1\nline 2"
    assert chunk_for_analysis(small, 1000) == (small, None)
    lines = [f"2025-01-01 10:00:{i % 60:02d} INFO request {i} ok" for i in range(20_000)]
    lines[9000] = "2025-01-01 10:15:00 ERROR disk /var full (errno 28)"
    lines[9001] = "2025-01-01 10:15:01 ERROR disk /var full (errno 28)"
    lines[12000] = "2025-01-01 10:20:00 FATAL postgres terminated"
    text, note = chunk_for_analysis("\n".join(lines), 8000)
    assert len(text) <= 8000
    assert text.startswith(lines[0]) and text.endswith(lines[-1])
    assert "L9001: " in text and "(×2" in text and "L12001: " in text and "FATAL postgres" in text
    assert note and "20,000 lines" in note and "first" in note and "last" in note
    with pytest.raises(ValidationError):
        chunk_for_analysis("x", 10)
    msgs = build_analysis_messages("\n".join(lines), filename="app.log", budget_chars=8000)
    assert [m.role for m in msgs] == ["system", "user"]
    assert "```json" in msgs[0].content and "Note: The log has" in msgs[1].content


# --------------------------------------------------------------------------------------------
# Ollama management and hardware
# --------------------------------------------------------------------------------------------
def test_ollama_status_models_pull_delete(fake_server):
    srv = fake_server("ollama", models=["llama3.2:3b"])
    with OllamaClient(srv.root) as client:
        status = client.status()
        assert status.running and status.version == "0.6.0-fake"
        assert [m.name for m in client.list_models()] == ["llama3.2:3b"]
        events = []
        final = client.pull("qwen2.5:14b", events.append)
        assert final.done and events[0].status == "pulling manifest" and events[-1].status == "success"
        percents = [e.percent for e in events if e.percent is not None]
        assert percents == sorted(percents) and percents[-1] == 100.0
        assert "qwen2.5:14b" in [m.name for m in client.list_models()]
        client.delete("qwen2.5:14b")
        with pytest.raises(ProviderModelError):
            client.delete("qwen2.5:14b")
        with pytest.raises(ValidationError):
            client.pull("bad name; rm -rf /", None)
    pull_req = [r for r in srv.requests if r.path == "/api/pull"][0]
    assert pull_req.body["stream"] is True and pull_req.body["model"] == "qwen2.5:14b"
    assert [r for r in srv.requests if r.path == "/api/delete"][0].method == "DELETE"


def test_ollama_pull_error_cancel_and_down(fake_server):
    bad = fake_server("ollama", pull_error="pull model manifest: file does not exist")
    with OllamaClient(bad.root) as client, pytest.raises(ProviderModelError) as info:
        client.pull("nonexistent:1b", None)
    assert "nonexistent:1b" in str(info.value)
    slow = fake_server("ollama", pull_steps=50, pull_delay=0.02)
    cancel = threading.Event()

    def progress(p):
        if p.percent and p.percent >= 10:
            cancel.set()

    with OllamaClient(slow.root) as client, pytest.raises(CancelledError):
        client.pull("llama3.1:8b", progress, cancel)
    assert slow.wait_idle(3)
    assert "llama3.1:8b" not in slow.models
    with OllamaClient("http://127.0.0.1:1") as client:
        status = client.status()
        assert not status.running and "is Ollama running?" in status.message
        with pytest.raises(ProviderConnectionError):
            client.list_models()


def test_detect_hardware_from_meminfo_and_nvidia_smi(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32780000 kB\nMemFree:         1000 kB\n")

    def fake_run(argv):
        if argv[0] == "nvidia-smi":
            return "NVIDIA GeForce RTX 4090, 24564\n"
        return None

    hw = detect_hardware(meminfo_path=str(meminfo), run=fake_run, system="Linux", machine="x86_64")
    assert hw.ram_gb == 31.3 and hw.cpu_arch == "x86_64" and hw.cpu_count >= 1
    assert hw.gpu == "NVIDIA GeForce RTX 4090" and hw.vram_gb == 24.0
    bare = detect_hardware(meminfo_path=str(meminfo), run=lambda argv: None, system="Linux")
    assert bare.gpu is None and bare.vram_gb is None
    real = detect_hardware()  # this machine: must not raise
    assert real.cpu_count >= 1


def _picked(ram, vram=None):
    recs = recommend_models(HardwareInfo(ram, "x86_64", 8, "GPU" if vram else None, vram))
    chosen = [r for r in recs if r.recommended]
    assert len(chosen) == 1, recs
    return chosen[0].name, [r.name for r in recs]


def test_recommendations_cover_every_ram_size():
    assert _picked(2)[0] == "qwen2.5:0.5b"
    assert _picked(4.5)[0] == "llama3.2:1b"  # < 6 GB: the reference recommended nothing
    assert _picked(8)[0] == "llama3.2:3b"
    assert _picked(16)[0] == "llama3.1:8b"
    assert _picked(32)[0] == "qwen2.5:14b"
    assert _picked(44)[0] == "qwen2.5:32b"  # 40–48 GB: the reference's gap
    name, listed = _picked(128)
    assert name == "llama3.1:70b" and "llama3.2:3b" in listed
    assert "llama3.1:70b" not in _picked(8)[1]
    assert _picked(16, vram=12)[0] == "qwen2.5:14b"  # a GPU that holds a bigger model upgrades the pick
    assert _picked(16, vram=24)[0] == "qwen2.5:32b"
    assert _picked(64, vram=8)[0] == "llama3.1:70b"  # a small GPU never downgrades it
    assert _picked(None)[0] == "llama3.2:3b"
    for r in recommend_models(HardwareInfo(16, "x86_64", 8, None, None)):
        assert r.size.endswith("GB") and r.reason
