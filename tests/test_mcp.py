"""MCP servers and tool use in chat: the real mcp-server-time over stdio, a Streamable HTTP server
built with the SDK (bearer auth), the guard both ways, approvals, and the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.fakes.mcp_http import SECRET_RESULT, FakeMcpHttpServer
from tests.fakes.servers import FakeProviderServer
from tftsr_kernel import errors

TOKEN = "t0ken-for-tests"
TIME_SERVER = Path(sys.executable).parent / "mcp-server-time"


@pytest.fixture
def http_mcp():
    with FakeMcpHttpServer(token=TOKEN) as srv:
        yield srv


def _provider(wb, srv):
    wb.providers.add_provider(f"fake-{srv.kind}", srv.kind, srv.url, srv.config().model,
                              api_key=srv.config().api_key, activate=True)


def _tool_reply(tool_suffix, arguments, then="Done."):
    """reply_fn: the first request asks for the tool whose key ends with tool_suffix, then text."""
    def reply(rec):
        if not rec.tool_results:
            name = next(n for n in rec.tool_names if n.endswith(tool_suffix))
            args = arguments(rec) if callable(arguments) else arguments
            return {"tool_calls": [{"name": name, "arguments": args}]}
        return then
    return reply


def _http_server(wb, srv, name="ops", **kw):
    wb.mcp.create_mcp_server(name, "http", url=srv.url, auth_type="bearer", auth_value=TOKEN, **kw)
    status = wb.mcp.discover_mcp_server(name)
    assert status.status == "connected", status.error
    return status


# -- done when: the real mcp-server-time over stdio, a chat turn that runs get_current_time ----------
@pytest.mark.slow
def test_time_server_over_stdio_runs_in_a_chat_turn_after_approval(wb, issue):
    assert TIME_SERVER.exists(), "mcp-server-time is installed by the test extra"
    wb.mcp.create_mcp_server("time", "stdio", command=str(TIME_SERVER), args=["--local-timezone", "UTC"])
    status = wb.mcp.discover_mcp_server("time")
    assert status.status == "connected" and status.tool_count == 2, status.error
    tools = {t.name: t for t in wb.mcp.list_mcp_tools("time")}
    schema = tools["get_current_time"].parameters
    assert schema["required"] == ["timezone"] and "description" in schema["properties"]["timezone"]
    assert tools["get_current_time"].approval == "auto"  # the server marks it read-only
    wb.mcp.set_tool_approval("time", "get_current_time", "ask")
    asked = []

    def approver(req):
        asked.append(req)
        return "allow_once"

    with FakeProviderServer("openai", reply_fn=_tool_reply("get_current_time", {"timezone": "Europe/Paris"},
                                                           "It is evening in Paris.")) as srv:
        _provider(wb, srv)
        res = wb.chat.chat_message(issue.id, "What time is it in Paris?", approver=approver)
        first, follow = srv.chat_requests
    assert "mcp_time_get_current_time" in first.tool_names
    assert [r.pattern for r in asked] == ["mcp:time.get_current_time"]
    result = json.loads(follow.tool_results[0]["content"])
    assert result["timezone"] == "Europe/Paris" and result["datetime"]
    assert follow.tool_results[0]["id"] == "call_1"
    assert res.display_text == "It is evening in Paris."
    calls = wb.chat.list_tool_calls(issue.id)
    assert [(c["server"], c["tool"], c["decision"], c["status"]) for c in calls] == [
        ("time", "get_current_time", "allow_once", "ok")]
    assert calls[0]["message_id"] == res.assistant_message.id and res.tool_calls[0]["id"] == calls[0]["id"]
    audit = [e for e in wb.audit.get_audit_log() if e.action == "mcp_tool_call"]
    assert audit and audit[0].details["tool"] == "get_current_time"
    wb.mcp.delete_mcp_server("time")  # closes the live process
    assert wb.mcp.list_mcp_tools() == [] and not wb.mcp._live


# -- done when: Streamable HTTP with bearer auth; a wrong token is an error with a clear message -----
def test_http_server_with_bearer_is_discovered_and_a_wrong_token_is_an_error(wb, http_mcp):
    status = _http_server(wb, http_mcp)
    assert (status.tool_count, status.resource_count) == (3, 1)
    assert http_mcp.request_headers[0]["authorization"] == f"Bearer {TOKEN}"
    tools = {t.name: t.approval for t in wb.mcp.list_mcp_tools("ops")}
    assert tools == {"echo": "ask", "lookup_host": "auto", "restart_service": "ask"}
    assert [r.uri for r in wb.mcp.list_mcp_resources("ops")] == ["runbook://checkout"]
    # the token is stored encrypted and never returned
    raw = wb.db.query_one("SELECT auth_value FROM mcp_servers WHERE name = 'ops'")[0]
    assert TOKEN not in raw and wb.secrets.decrypt(raw, "mcp_auth") == TOKEN
    listed = json.dumps([s.to_dict() for s in wb.mcp.list_mcp_servers()])
    assert TOKEN not in listed and '"auth_value": null' in listed

    wb.mcp.create_mcp_server("wrong", "http", url=http_mcp.url, auth_type="bearer", auth_value="not-the-token")
    bad = wb.mcp.discover_mcp_server("wrong")
    assert bad.status == "error" and "refused the credentials (HTTP 401)" in bad.error
    assert "not-the-token" not in bad.error and bad.tool_count == 0
    assert wb.mcp.get_mcp_server_status("wrong").status == "error"
    # a partial update with the right token fixes it; the tools are found
    wb.mcp.update_mcp_server("wrong", auth_value=TOKEN)
    assert wb.mcp.get_mcp_server_status("wrong").status == "pending"
    assert wb.mcp.discover_mcp_server("wrong").status == "connected"


def test_unreachable_and_refused_configurations(wb, tmp_path):
    wb.mcp.create_mcp_server("gone", "http", url="http://127.0.0.1:9/mcp")
    st = wb.mcp.discover_mcp_server("gone")
    assert st.status == "unreachable" and "could not connect" in st.error
    wb.mcp.create_mcp_server("dies", "stdio", command="/bin/sh", args=["-c", "echo boom >&2; exit 3"])
    st = wb.mcp.discover_mcp_server("dies")
    assert st.status == "unreachable" and "boom" in st.error
    for kw, msg in ((dict(command="ls", env={"LD_PRELOAD": "/tmp/x.so"}), "LD_PRELOAD"),
                    (dict(command="ls", secret_env={"PYTHONPATH": "/tmp"}), "PYTHONPATH"),
                    (dict(command="ls", env={"NODE_PATH": "/tmp"}), "NODE_PATH"),
                    (dict(command="no-such-program-xyz"), "not on PATH"),
                    (dict(command="./relative"), "absolute path"),
                    (dict(command=str(tmp_path)), "not an executable")):
        with pytest.raises(errors.ValidationError, match=msg):
            wb.mcp.create_mcp_server("x", "stdio", **kw)
    with pytest.raises(errors.ValidationError, match="tftsr mcp login"):  # OAuth2 signs in (test_mcp_oauth.py)
        wb.mcp.create_mcp_server("o", "http", url="http://127.0.0.1:9/mcp", auth_type="oauth2", auth_value="t")
    with pytest.raises(errors.ValidationError, match="HTTP servers"):
        wb.mcp.create_mcp_server("o", "stdio", command="ls", auth_type="oauth2")
    with pytest.raises(errors.ValidationError, match="set by the MCP client"):
        wb.mcp.create_mcp_server("h", "http", url="http://127.0.0.1:9/mcp", headers={"Mcp-Session-Id": "x"})
    ls = wb.mcp.create_mcp_server("ls", "stdio", command="ls", secret_env={"API_TOKEN": "s3cret-value"})
    assert ls.url.startswith("/") and ls.secret_env_names == ["API_TOKEN"]
    assert "s3cret-value" not in json.dumps(ls.to_dict())
    with pytest.raises(errors.ConflictError):
        wb.mcp.create_mcp_server("ls", "stdio", command="ls")
    assert wb.mcp.list_mcp_servers()[0].name == "dies"  # nothing half-stored by the refusals
    assert {s.name for s in wb.mcp.list_mcp_servers()} == {"gone", "dies", "ls"}


# -- done when: the guard both ways ------------------------------------------------------------------
def test_tool_results_reach_the_provider_as_placeholders_and_untrusted_servers_get_placeholders(
        wb, issue, http_mcp):
    _http_server(wb, http_mcp)                      # untrusted
    _http_server(wb, http_mcp, name="local", trusted=True)
    for name in ("ops", "local"):
        wb.mcp.set_tool_approval(name, "echo", "auto")

    def placeholder(rec):  # the model can only repeat what it saw: the placeholder of the host
        import re

        return {"text": re.search(r"\[IPv4_\d+\]", rec.last_user_text).group(0)}

    def reply(rec):
        if not rec.tool_results:
            return {"tool_calls": [{"name": "mcp_ops_lookup_host", "arguments": {"host": "db1"}},
                                   {"name": "mcp_ops_echo", "arguments": placeholder(rec), "id": "call_2"},
                                   {"name": "mcp_local_echo", "arguments": placeholder(rec), "id": "call_3"}]}
        return "The host is degraded."

    with FakeProviderServer("openai", reply_fn=reply) as srv:
        _provider(wb, srv)
        res = wb.chat.chat_message(issue.id, "Why is 10.77.66.55 slow?")
        follow = srv.chat_requests[-1]
    sent = follow.raw.decode()
    for secret in ("jane.doe@example.org", "Hunter2-Sup3rSecret", "10.20.30.40", "10.77.66.55"):
        assert secret not in sent
    lookup = follow.tool_results[0]["content"]
    assert "[Email_" in lookup and "[Password_" in lookup and "[IPv4_" in lookup and "degraded" in lookup
    received = [a["text"] for t, a in http_mcp.calls if t == "echo"]  # ops first, then local
    assert received[0].startswith("[IPv4_")          # untrusted: the placeholder
    assert received[1] == "10.77.66.55"              # trusted: the original, restored on this machine
    assert res.display_text == "The host is degraded."
    stored = wb.chat.list_tool_calls(issue.id)
    assert all("Hunter2" not in c["result"] for c in stored)
    assert "Hunter2-Sup3rSecret" in wb.chat.list_tool_calls(issue.id, display=True)[0]["result"]
    audit = [e.details for e in wb.audit.get_audit_log() if e.action == "mcp_tool_call"]
    assert len(audit) == 3 and all(len(a["arguments_sha256"]) == 64 and len(a["result_sha256"]) == 64 for a in audit)
    assert SECRET_RESULT not in json.dumps(audit)


# -- done when: "allow for this session" holds for the session and not after it ---------------------
def test_allow_for_this_session_is_remembered_for_the_session_only(wb, issue, http_mcp):
    _http_server(wb, http_mcp)
    asked = []

    def approver(req):
        asked.append(req.pattern)
        return "allow_session"

    reply = _tool_reply("restart_service", {"name": "checkout"}, "Restarted.")
    with FakeProviderServer("anthropic", reply_fn=reply) as srv:
        _provider(wb, srv)
        wb.chat.chat_message(issue.id, "Restart checkout", approver=approver)
        wb.chat.chat_message(issue.id, "Again please", approver=approver)
        assert asked == ["mcp:ops.restart_service"]       # the second turn did not ask
        rows = wb.db.query("SELECT decision, session_id FROM approval_decisions")
        assert [r[0] for r in rows] == ["allow_session"] and rows[0][1] == wb.approvals.session_id
        wb.approvals.new_session()                        # the session ends
        wb.chat.chat_message(issue.id, "And once more", approver=approver)
        assert asked == ["mcp:ops.restart_service"] * 2
        # nobody answers: the call times out into a denial the model is told about
        wb.approvals.new_session()
        wb.approvals.timeout = 0.3
        wb.chat.chat_message(issue.id, "Restart it without me")
        told = srv.chat_requests[-1].tool_results[0]["content"]
    assert "not run" in told and "nobody approved it in time" in told
    assert [c for _t, c in http_mcp.calls].count({"name": "checkout", "force": False}) == 3
    decisions = [c["decision"] for c in wb.chat.list_tool_calls(issue.id)]
    assert decisions == ["allow_session", "allow_session", "allow_session", "timeout"]


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini", "ollama"])
@pytest.mark.parametrize("stream", [True, False])
def test_each_provider_format_carries_tool_calls_and_results(wb, issue, http_mcp, kind, stream):
    _http_server(wb, http_mcp)
    wb.mcp.set_tool_approval("ops", "echo", "auto")
    chunks = []
    events = []
    with FakeProviderServer(kind, reply_fn=_tool_reply("echo", {"text": "hello"}, "Echo said hello.")) as srv:
        _provider(wb, srv)
        res = wb.chat.chat_message(issue.id, "Echo hello", stream=stream, on_chunk=chunks.append,
                                   on_tool=events.append)
        first, follow = srv.chat_requests
    assert "mcp_ops_echo" in first.tool_names
    assert follow.tool_results[0]["content"] == "received: hello"
    assert http_mcp.calls == [("echo", {"text": "hello"})]
    assert res.display_text == "Echo said hello." and "".join(chunks).strip() == "Echo said hello."
    assert [e["event"] for e in events] == ["call", "result"] and events[1]["status"] == "ok"


def test_tool_rounds_are_bounded(wb, issue, http_mcp):
    from tftsr_kernel.ai.tools import MAX_TOOL_ROUNDS

    _http_server(wb, http_mcp)
    with FakeProviderServer("openai", reply_fn=lambda rec: {"tool_calls": [
            {"name": "mcp_ops_lookup_host", "arguments": {"host": "a"}}]}) as srv:
        _provider(wb, srv)
        res = wb.chat.chat_message(issue.id, "loop forever")
        assert len(srv.chat_requests) == MAX_TOOL_ROUNDS + 1
    assert f"stopped after {MAX_TOOL_ROUNDS} rounds" in res.display_text


def test_roles_config_is_admin_and_tool_calls_are_analyst(wb, http_mcp):
    from tftsr_kernel.team import acting_as

    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    ana, ada = wb.team.actor_for("ana", "session"), wb.team.actor_for("ada", "session")
    with acting_as(ana):
        with pytest.raises(errors.PermissionDeniedError):
            wb.mcp.create_mcp_server("ops", "http", url=http_mcp.url, auth_type="bearer", auth_value=TOKEN)
    with acting_as(ada):
        _http_server(wb, http_mcp)
    with acting_as(ana):
        assert wb.mcp.call_tool("ops", "lookup_host", {"host": "x"}).status == "ok"
        with pytest.raises(errors.PermissionDeniedError):
            wb.mcp.discover_mcp_server("ops")
    call = [e for e in wb.audit.get_audit_log() if e.action == "mcp_tool_call"][0]
    assert call.user_id == "ana"


# -- CLI ---------------------------------------------------------------------------------------------
def test_cli_add_discover_tools_call_and_remove(cli, wb, http_mcp, monkeypatch):
    monkeypatch.setenv("OPS_TOKEN", TOKEN)
    r = cli("mcp", "add", "ops", "--http", http_mcp.url, "--auth", "bearer", "--auth-env", "OPS_TOKEN")
    assert r.code == 0, r.stderr
    r = cli("--json", "mcp", "discover", "ops")
    assert r.code == 0 and r.json["status"] == "connected" and r.json["tool_count"] == 3
    assert set(r.json) >= {"server_id", "status", "error", "tool_count", "resource_count", "last_discovered_at"}
    r = cli("mcp", "tools", "ops")
    assert "lookup_host" in r.stdout and "restart_service" in r.stdout
    r = cli("mcp", "call", "ops", "lookup_host", "--args", '{"host": "db1"}')
    assert r.code == 0 and "[Email_1]" in r.stdout and "jane.doe" not in r.stdout
    # an ask tool without a terminal is denied; --allow-tool approves it for the call
    r = cli("mcp", "call", "ops", "restart_service", "--args", '{"name": "web"}')
    assert r.code != 0 and "not run" in r.stderr
    r = cli("mcp", "call", "ops", "restart_service", "--args", '{"name": "web"}', "--allow-tool", "ops.restart_service")
    assert r.code == 0 and "restarted web" in r.stdout
    r = cli("mcp", "call", "ops", "echo", "--args", "not json")
    assert r.code != 0 and "not valid JSON" in r.stderr
    r = cli("--json", "mcp", "list")
    assert TOKEN not in r.stdout and r.json[0]["auth_value"] is None
    assert cli("mcp", "disable", "ops").code == 0
    assert cli("--json", "mcp", "show", "ops").json["enabled"] is False
    r = cli("mcp", "add", "t", "--stdio", "ls", "-la")
    assert r.code == 0 and cli("--json", "mcp", "show", "t").json["transport_config"].count("-la") == 1
    assert cli("mcp", "remove", "ops").code == 0 and cli("mcp", "show", "ops").code != 0
    r = cli("mcp", "add", "bad", "--http", "http://x", "--stdio", "ls")
    assert r.code != 0


def test_cli_chat_without_a_terminal_denies_an_ask_tool_unless_allowed(cli, wb, issue, http_mcp):
    _http_server(wb, http_mcp)
    with FakeProviderServer("openai", reply_fn=_tool_reply("restart_service", {"name": "web"}, "ok.")) as srv:
        _provider(wb, srv)
        r = cli("chat", issue.id, "restart web", "--no-stream")
        assert r.code == 0, r.stderr
        assert "denied" in r.stderr and "not run" in srv.chat_requests[-1].tool_results[0]["content"]
        r = cli("--json", "chat", issue.id, "restart web", "--allow-tool", "ops.restart_service")
        assert r.code == 0 and r.json["tool_calls"][0]["status"] == "ok"
    assert http_mcp.calls == [("restart_service", {"name": "web", "force": False})]
