"""MCP resources attached to a chat message like a log, through the egress guard: read from an
SDK-built Streamable HTTP server (tests/fakes/mcp_resources.py), sent to a local provider server
with placeholders only, shown in the transcript as a chip; from the kernel, the CLI and the chat
panel's *Attach resource* picker."""

from __future__ import annotations

import pytest

from tests.fakes.mcp_resources import BIG_CHARS, PLANTED, FakeMcpResourceServer
from tests.fakes.servers import FakeProviderServer
from tftsr_kernel import errors
from tftsr_kernel.ai.transcript import split_attachments

NOTES = {"server": "docs", "uri": "incident://notes"}


@pytest.fixture
def docs(wb):
    with FakeMcpResourceServer() as srv:
        wb.mcp.create_mcp_server("docs", "http", url=srv.url)
        status = wb.mcp.discover_mcp_server("docs")
        assert status.status == "connected" and status.resource_count == 3, status.error
        yield srv


@pytest.fixture
def provider(wb):
    with FakeProviderServer("openai", replies=["Noted: the gateway restarted."] * 5) as srv:
        wb.providers.add_provider("fake", "openai", srv.url, srv.config().model, api_key=srv.config().api_key,
                                  activate=True)
        yield srv


def _assert_placeholders_only(text: str):
    for secret in PLANTED:
        assert secret not in text
    assert "[Email_1]" in text and "[Password_1]" in text and "[JWT_1]" in text


def test_a_resource_attached_to_a_chat_turn_reaches_the_provider_as_placeholders(wb, issue, docs, provider):
    res = wb.chat.chat_message(issue.id, "What happened to the gateway?", attach_resources=[NOTES])
    sent = provider.chat_requests[0]
    _assert_placeholders_only(sent.prompt_text)
    assert "Attached resource `docs: incident://notes`" in sent.last_user_text
    assert "The payment gateway pods restarted" in sent.last_user_text
    assert docs.reads == ["incident://notes"]
    att = [a for a in res.attachments if a.get("resource_uri")]
    assert att and att[0]["state"] == "redacted" and att[0]["redacted"] >= 4
    # stored as the model saw it, and read back as a chip like a log's
    stored = wb.chat.list_messages(issue.id)[0]
    _assert_placeholders_only(stored.content)
    text, chips = split_attachments(stored.content)
    assert text.strip() == "What happened to the gateway?"
    assert [(c.kind, c.name, c.state) for c in chips] == [("resource", "docs: incident://notes", "redacted")]
    shown = wb.chat.list_messages(issue.id, display=True)[0].content  # originals only on this machine
    assert PLANTED[0] in shown
    # audited (which resource, never its text)
    entry = [e for e in wb.audit.get_audit_log() if e.action == "ai_chat"][-1]
    assert entry.details["attached_resources"] == [{"server": "docs", "uri": "incident://notes"}]
    audit = str([(e.action, e.details) for e in wb.audit.get_audit_log()])
    for secret in PLANTED:
        assert secret not in audit
    # a later turn re-sends the history through the guard again: still placeholders
    wb.chat.chat_message(issue.id, "And then?")
    _assert_placeholders_only(provider.chat_requests[1].prompt_text)


def test_a_binary_or_unknown_resource_is_refused_and_nothing_is_sent(wb, issue, docs, provider):
    with pytest.raises(errors.ValidationError, match="no text content .*image/png"):
        wb.chat.chat_message(issue.id, "look", attach_resources=[{"server": "docs", "uri": "blob://diagram"}])
    with pytest.raises(errors.NotFoundError):
        wb.chat.chat_message(issue.id, "look", attach_resources=[{"server": "nope", "uri": "incident://notes"}])
    with pytest.raises(errors.ValidationError, match="server"):
        wb.chat.chat_message(issue.id, "look", attach_resources=["incident://notes"])
    with pytest.raises(errors.ValidationError, match="at most"):
        wb.chat.chat_message(issue.id, "look", attach_resources=[NOTES] * 6)
    assert provider.chat_requests == [] and wb.chat.list_messages(issue.id) == []
    wb.mcp.toggle_mcp_server("docs", False)
    with pytest.raises(errors.ConflictError, match="disabled"):
        wb.mcp.read_mcp_resource("docs", "incident://notes")


def test_a_large_resource_is_cut_and_says_so(wb, issue, docs, provider):
    res = wb.mcp.read_mcp_resource("docs", "incident://big")
    from tftsr_kernel.mcp.service import RESOURCE_MAX_CHARS

    assert res.chars == BIG_CHARS > RESOURCE_MAX_CHARS and len(res.text) == RESOURCE_MAX_CHARS and res.truncated
    out = wb.chat.chat_message(issue.id, "Summarise", attach_resources=[{"server": "docs", "uri": "incident://big"}])
    label = [a for a in out.attachments if a.get("resource_uri")][0]["label"]
    assert f"cut at 8,000 of {BIG_CHARS:,} characters" in label
    assert len(provider.chat_requests[0].last_user_text) < 9_000


def test_cli_chat_attaches_a_resource(cli, wb, issue, docs, provider):
    r = cli("chat", issue.id, "What happened?", "--resource", "docs", "incident://notes", "--no-stream")
    assert r.code == 0, r.stderr
    assert "docs: incident://notes: PII redacted automatically" in r.stderr
    _assert_placeholders_only(provider.chat_requests[0].prompt_text)
    r = cli("chat", issue.id, "again", "--resource", "docs", "blob://diagram", "--no-stream")
    assert r.code != 0 and "no text content" in r.stderr and "Traceback" not in r.stderr


def test_chat_panel_attach_resource_picker(wb, issue, docs, provider):
    from widgets.chat import ChatPanel

    panel = ChatPanel(issue.id, wb)
    panel.layout
    picker = panel._w_resources
    assert [v for _, v in picker._w_server.options] == [wb.mcp.get_mcp_server("docs").id]
    assert "incident://notes" in [v for _, v in picker._w_uri.options]
    picker._w_uri.value = "incident://notes"
    picker._w_add.click()
    picker._w_add.click()  # once is enough
    assert picker.value == [{"server": wb.mcp.get_mcp_server("docs").id, "uri": "incident://notes"}]
    assert "docs: incident://notes" in picker._w_picked.value
    panel.send("What happened to the gateway?")
    assert panel.status_kind == "ok", panel.status
    _assert_placeholders_only(provider.chat_requests[0].prompt_text)
    assert picker.value == [] and picker._w_picked.value == ""  # sent: the next message attaches nothing
    html = panel._w_transcript.value
    assert "tftsr-attachment" in html and "docs: incident://notes" in html
    assert "[Email_1]" in html  # the chip shows the text exactly as the model received it
    # a binary resource: the message goes back in the box with the reason
    picker._w_uri.value = "blob://diagram"
    picker._w_add.click()
    panel.send("and the diagram?")
    assert panel.status_kind == "error" and "no text content" in panel.status
    assert panel.draft.startswith("and the diagram?")
