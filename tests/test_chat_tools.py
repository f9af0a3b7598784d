"""The chat panel's tool calls and approval cards, headless, as an engineer uses them: a local
provider server (real HTTP) asks for ``run_shell_command`` with a tier-2 command; the card shows
the command with its tier and reason; the test clicks its buttons; the command runs (or not) and
the call shows inline, then in the stored transcript after a reload. What the provider received
holds placeholders only."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.fakes.servers import FakeProviderServer
from tftsr_kernel.ai.tools import ApprovalRequest
from widgets.chat import ChatPanel
from widgets.chat_tools import tool_call_html

EMAIL = "jane.doe@example.org"
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"


def _provider(wb, srv):
    wb.providers.add_provider("fake", "openai", srv.url, srv.config().model, api_key=srv.config().api_key,
                              activate=True)


def _asks(command, then="Thanks, I read it."):
    """The model asks for the command in each new turn, then answers once it has the result."""
    def reply(rec):
        if not rec.tool_results:  # earlier turns' tool messages are not re-sent
            return {"tool_calls": [{"name": "run_shell_command",
                                    "arguments": {"command": command, "reason": "read the <b>config</b> owner"}}]}
        return then
    return reply


def _wait_for(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _card(panel):
    return _wait_for(lambda: panel.approval_cards and panel.approval_cards[-1])


@pytest.fixture
def shell_on(wb):
    wb.settings.update_settings({"chat_shell_tool": True})
    return wb


def test_allow_once_runs_the_command_shows_the_result_inline_and_only_placeholders_leave(shell_on, issue, tmp_path):
    wb = shell_on
    target = tmp_path / "note.txt"
    command = f"printf 'owner={EMAIL} token={TOKEN}\\n' | tee {target}"  # tier 2: tee writes a file
    with FakeProviderServer("openai", reply_fn=_asks(command)) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.layout
        panel.send("Who owns the config?", wait=False)
        card = _card(panel)
        # the card: tool, tier, reason, the command as the model wrote it, the countdown, enabled buttons
        assert card.kind == "shell" and card.details["tier"] == 2
        assert "tier 2" in card.text and "Approval needed" in card.text
        assert card.details["tier_reason"] and card.details["tier_reason"] in _unescape(card.text)
        assert "tee" in card.text and "Waiting for a decision" in card.text and "s left of 60 s" in card.text
        assert "read the &lt;b&gt;config&lt;/b&gt; owner" in card.text  # the model's reason, escaped
        assert all(not b.disabled for b in card.buttons.values())
        assert card.layout in panel._tools._w_cards.children
        assert "run_shell_command" in panel._w_live.value and "running" in panel._w_live.value
        assert not target.exists()  # nothing runs before the click
        card.buttons["allow_once"].click()
        assert "Allowed once" in card.text and all(b.disabled for b in card.buttons.values())
        assert panel.wait(30) and panel.status_kind == "ok", panel.status
        assert card.outcome == "allow_once" and panel.approval_cards == []  # the turn ended: the card went
        assert target.read_text().strip() == f"owner={EMAIL} token={TOKEN}"
        follow = srv.chat_requests[-1]
        told = follow.tool_results[0]["content"]
        assert "[Email_" in told and EMAIL not in told and TOKEN not in told, told
        for req in srv.chat_requests:
            sent = json.dumps(req.body)
            assert EMAIL not in sent and TOKEN not in sent
    # the result inline in the transcript: status, decision, what went back to the model
    html = panel._w_transcript.value
    block = _tool_block(html)
    assert "allowed once" in block and "tftsr-tool-ok" in block and "Exit code: 0" in block
    # the command is shown as the model wrote it; the result as the model received it
    assert "[Email_1]" in _result(block) and EMAIL not in _result(block) and TOKEN not in _result(block)
    assert html.index("Who owns the config?") < html.index("tftsr-tool ") < html.index("Thanks, I read it.")
    # after a reload (a new panel on the same conversation) the stored call is at its message
    again = ChatPanel(issue.id, wb)
    assert [(c["tool"], c["decision"], c["status"]) for c in again.tool_calls] == [
        ("run_shell_command", "allow_once", "ok")]
    assert _tool_block(again._w_transcript.value) == block
    static = again.to_html()  # the static rendering (reports) carries the call as the model saw it
    assert _tool_block(static) == block and "[GitHubToken_1]" in static


def test_deny_tells_the_model_and_nothing_runs(shell_on, issue, tmp_path):
    wb = shell_on
    target = tmp_path / "denied.txt"
    with FakeProviderServer("openai", reply_fn=_asks(f"echo x > {target}", "Understood, I will not.")) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.send("Write the marker", wait=False)
        card = _card(panel)
        assert "tier 2" in card.text
        card.buttons["deny"].click()
        assert panel.wait(30)
        told = srv.chat_requests[-1].tool_results[0]["content"]
    assert not target.exists()
    assert "the user denied it" in told, told
    assert card.outcome == "deny" and "Denied" in card.text
    block = _tool_block(panel._w_transcript.value)
    assert "tftsr-tool-denied" in block and ">denied<" in block and "the user denied it" in block
    assert [a.status for a in wb.shell.list_actions(issue.id)] == ["denied"]


def test_allow_for_this_session_holds_for_the_next_identical_proposal(shell_on, issue, tmp_path):
    wb = shell_on
    target = tmp_path / "twice.txt"
    with FakeProviderServer("openai", reply_fn=_asks(f"echo ran | tee -a {target}")) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.send("Append the marker", wait=False)
        _card(panel).buttons["allow_session"].click()
        assert panel.wait(30) and panel._tools.cards_shown == 1
        panel.send("Once more please", wait=True, timeout=30)
        assert panel.status_kind == "ok", panel.status
        assert panel._tools.cards_shown == 1  # no second card: allowed for this session
        assert len(srv.chat_requests) == 4
    assert target.read_text().splitlines() == ["ran", "ran"]
    assert [(c["decision"], c["status"]) for c in panel.tool_calls] == [("allow_session", "ok"),
                                                                        ("allow_session", "ok")]
    assert panel._w_transcript.value.count("allowed for this session") == 2


def test_a_card_answered_elsewhere_shows_the_outcome(shell_on, issue, tmp_path):
    """Settings → Shell answers the waiting turn; the chat's card follows."""
    from widgets.settings import SettingsPanel

    wb = shell_on
    target = tmp_path / "elsewhere.txt"
    with FakeProviderServer("openai", reply_fn=_asks(f"touch {target}", "Done.")) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        assert "No messages yet" in panel._w_transcript.value
        panel.send("Touch it", wait=False)
        card = _card(panel)
        assert "No messages yet" not in panel._w_transcript.value  # not above the first question
        settings = SettingsPanel(wb)
        settings.select_tab("Shell")
        row = settings.shell_panel._w_pending.children[0]
        assert "a chat turn is waiting for it" in row.children[0].value
        row.children[1].children[0].click()
        _wait_for(lambda: card.done)
        assert card.outcome == "allow_once" and all(b.disabled for b in card.buttons.values())
        assert panel.wait(30) and target.exists()
        assert "Exit code: 0" in srv.chat_requests[-1].tool_results[0]["content"]


def test_an_unanswered_card_times_out_into_a_denial_the_model_is_told(shell_on, issue, tmp_path):
    wb = shell_on
    wb.approvals.timeout = 1.5
    target = tmp_path / "late.txt"
    with FakeProviderServer("openai", reply_fn=_asks(f"touch {target}", "No answer, so I stop.")) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.send("Touch the marker", wait=False)
        card = _card(panel)
        assert re.search(r"Waiting for a decision: [12] s left of 1.5 s", card.text), card.text
        assert panel.wait(30)
        told = srv.chat_requests[-1].tool_results[0]["content"]
    assert not target.exists() and "nobody approved it in time" in told
    assert card.outcome == "timeout" and "Not answered in time" in card.text
    assert all(b.disabled for b in card.buttons.values())
    assert "not answered in time" in _tool_block(panel._w_transcript.value)
    # the proposal stays pending for an approver (Settings -> Shell)
    assert [a.status for a in wb.shell.list_actions(issue.id)] == ["pending"]


def test_hostile_tool_output_and_arguments_render_inert(shell_on, issue):
    wb = shell_on
    command = "printf '%s\\n' '" + HOSTILE.replace("'", "") + "'"
    with FakeProviderServer("openai", reply_fn=_asks(command, "Printed.")) as srv:
        _provider(wb, srv)
        panel = ChatPanel(issue.id, wb)
        panel.send("Print it", wait=True, timeout=30)  # printf is tier 1: no card
        assert panel._tools.cards_shown == 0, panel.status
        assert "<script>" in srv.chat_requests[-1].tool_results[0]["content"]
    for html in (panel._w_transcript.value, panel.to_html()):
        block = _tool_block(html)
        assert "&lt;script&gt;" in block and "&lt;img" in block
        assert "<script" not in html and "<img" not in html and "onerror=\"" not in html
    # a hostile tool name, server, arguments and result, rendered directly
    out = tool_call_html({"tool": HOSTILE, "server": HOSTILE, "arguments": json.dumps({"q": HOSTILE}),
                          "status": "ok", "decision": HOSTILE, "result": HOSTILE * 50})
    assert "<script" not in out and "<img" not in out and "&lt;script&gt;" in out
    assert "<details" in out  # a long result is collapsed


def test_a_viewer_sees_the_card_with_disabled_buttons(wb, issue):
    wb.team.create_user("ada", "admin")
    wb.team.create_user("vic", "viewer")
    wb.team.create_user("ana", "analyst")
    shell = ApprovalRequest("r1", "shell:systemctl restart nginx", "tier 2: changes a service: systemctl restart nginx",
                            {"command": "systemctl restart nginx"}, "s", timeout=30,
                            details={"kind": "shell", "command": "systemctl restart nginx", "tier": 2,
                                     "tier_reason": "changes a service", "approval_level": "admin"})
    mcp = ApprovalRequest("r2", "mcp:ops.restart_service", "ops.restart_service({})", {"name": "web"}, "s", timeout=30)
    from widgets.chat_tools import ApprovalCard

    wb.team.act_as(wb.team.actor_for("vic", "session"))
    for req in (shell, mcp):
        card = ApprovalCard(wb, req)
        assert all(b.disabled for b in card.buttons.values()) and "viewer role cannot answer" in card.text
    wb.team.act_as(wb.team.actor_for("ana", "session"))
    card = ApprovalCard(wb, shell)  # an admin-level command: an analyst cannot decide it
    assert all(b.disabled for b in card.buttons.values()) and "needs admin approval" in card.text
    card = ApprovalCard(wb, mcp)
    assert not any(b.disabled for b in card.buttons.values())
    assert "restart_service" in card.text and "ops" in card.text and "web" in card.text
    wb.team.act_as(wb.team.actor_for("ada", "session"))
    assert not any(b.disabled for b in ApprovalCard(wb, shell).buttons.values())


def test_an_mcp_tool_asks_with_a_card_and_its_result_shows_redacted(wb, issue):
    from tests.fakes.mcp_http import SECRET_RESULT, FakeMcpHttpServer

    with FakeMcpHttpServer(token="t0ken-for-tests") as mcp_srv:
        wb.mcp.create_mcp_server("ops", "http", url=mcp_srv.url, auth_type="bearer", auth_value="t0ken-for-tests")
        assert wb.mcp.discover_mcp_server("ops").status == "connected"
        wb.mcp.set_tool_approval("ops", "lookup_host", "ask")
        wb.mcp.set_tool_approval("ops", "echo", "auto")

        def reply(rec):
            if not rec.tool_results:
                return {"tool_calls": [{"name": "mcp_ops_lookup_host", "arguments": {"host": "db1"}},
                                       {"name": "mcp_ops_echo", "arguments": {"text": HOSTILE}}]}
            return "db1 belongs to the database team."

        with FakeProviderServer("openai", reply_fn=reply) as srv:
            _provider(wb, srv)
            panel = ChatPanel(issue.id, wb)
            panel.send("Who owns db1?", wait=False)
            card = _card(panel)
            assert card.kind == "mcp" and card.details == {"kind": "mcp", "server": "ops", "tool": "lookup_host"}
            assert "lookup_host" in card.text and "on MCP server <code>ops</code>" in card.text and "db1" in card.text
            assert mcp_srv.calls == []  # waits for the click
            card.buttons["allow_once"].click()
            assert panel.wait(30) and panel.status_kind == "ok", panel.status
            follow = srv.chat_requests[-1]
        assert [c[0] for c in mcp_srv.calls] == ["lookup_host", "echo"]
    told = follow.tool_results[0]["content"]
    assert "jane.doe@example.org" not in told and "Hunter2-Sup3rSecret" not in told and "[Email_" in told
    html = panel._w_transcript.value
    assert html.count('<div class="tftsr-tool ') == 2
    assert "on MCP server ops" in html and "lookup_host" in html and "allowed once" in html
    assert "ran without asking" in html  # echo is auto
    assert "jane.doe@example.org" not in html and "Hunter2-Sup3rSecret" not in html and SECRET_RESULT not in html
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html  # the echo came back inert
    assert [(c["server"], c["tool"], c["decision"]) for c in panel.tool_calls] == [
        ("ops", "lookup_host", "allow_once"), ("ops", "echo", "auto")]


def test_calls_of_a_turn_with_no_stored_reply_show_after_its_question():
    from types import SimpleNamespace as M

    from widgets.chat_tools import place_tool_calls

    msgs = [M(id="u1", role="user", created_at="2026-12-01 10:00:00"),
            M(id="a1", role="assistant", created_at="2026-12-01 10:00:01"),
            M(id="u2", role="user", created_at="2026-12-01 10:05:00"),
            M(id="a2", role="assistant", created_at="2026-12-01 10:05:02")]
    calls = [{"id": "c1", "message_id": "a1", "created_at": "2026-12-01 10:00:01"},
             {"id": "c2", "message_id": None, "created_at": "2026-12-01 10:05:00"}]  # a stopped turn
    before, after = place_tool_calls(msgs, calls)
    assert [c["id"] for c in before["a1"]] == ["c1"] and [c["id"] for c in after[2]] == ["c2"]


def _tool_block(html: str) -> str:
    """The first tool-call block of a transcript (up to the next message)."""
    start = html.find('<div class="tftsr-tool tftsr-tool-status')
    assert start >= 0, html
    end = html.find('<div class="tftsr-msg', start)
    return html[start:end if end >= 0 else None]


def _result(block: str) -> str:
    """The part of a block that shows what went back to the model."""
    return block[block.index("Sent back to the model"):]


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)
