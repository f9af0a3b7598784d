"""The shell tool in a chat turn (Done-when of issue 16): a command proposed by a local provider
server runs only after approval, and its output, holding an e-mail and a token, reaches the
provider as placeholders. Over real HTTP to the project's OpenAI-compatible fake."""

from __future__ import annotations

import json

import pytest

from tests.fakes.servers import FakeProviderServer

EMAIL = "jane.doe@example.org"
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def _provider(wb, srv):
    wb.providers.add_provider("fake", "openai", srv.url, srv.config().model, api_key=srv.config().api_key,
                              activate=True)


def _reply(command):
    def reply(rec):
        if not rec.tool_results:
            assert "run_shell_command" in rec.tool_names
            return {"tool_calls": [{"name": "run_shell_command",
                                    "arguments": {"command": command, "reason": "check the config"}}]}
        return "Thanks, I read it."
    return reply


def test_the_shell_tool_is_offered_only_when_enabled(wb, issue):
    with FakeProviderServer("openai", replies=["No tools here."]) as srv:
        _provider(wb, srv)
        wb.chat.chat_message(issue.id, "hello")
        assert "run_shell_command" not in (srv.chat_requests[-1].tool_names or [])


def test_a_proposed_command_runs_only_after_approval_and_its_output_leaves_redacted(wb, issue, tmp_path):
    wb.settings.update_settings({"chat_shell_tool": True})
    target = tmp_path / "note.txt"
    # tier 2 (a redirection writes a file) whose output holds an e-mail and a token
    command = f"printf 'owner={EMAIL} token={TOKEN}\\n' | tee {target}"
    asked = []

    def deny(req):
        asked.append(req.summary)
        return "deny"

    with FakeProviderServer("openai", reply_fn=_reply(command)) as srv:
        _provider(wb, srv)
        wb.chat.chat_message(issue.id, "What does the config say?", approver=deny)
        assert asked and "tier 2" in asked[0]
        assert not target.exists()  # denied: nothing ran
        told = srv.chat_requests[-1].tool_results[0]["content"]
        assert EMAIL not in told and TOKEN not in told

        def allow(req):
            asked.append(req.summary)
            return "allow_once"

        wb.chat.chat_message(issue.id, "Please run it", approver=allow)
        assert target.read_text().strip() == f"owner={EMAIL} token={TOKEN}"  # it ran, after approval
        told = srv.chat_requests[-1].tool_results[0]["content"]
        assert EMAIL not in told and TOKEN not in told and "[Email_" in told, told
        for req in srv.chat_requests:  # nothing of either in any request the provider received
            sent = json.dumps(req.body)
            assert EMAIL not in sent and TOKEN not in sent
    # each decision is stored once, by the shell service (with the proposer), not again by the chat's broker
    rows = wb.db.query("SELECT decision, command_pattern FROM approval_decisions ORDER BY decided_at, id")
    assert sorted(r["decision"] for r in rows) == ["allow_once", "deny"], [tuple(r) for r in rows]
    assert not any(r["command_pattern"].startswith("shell:") for r in rows)
    calls = wb.chat.list_tool_calls(issue.id)
    assert [c["source"] for c in calls] == ["shell", "shell"]
    assert [(c["decision"], c["status"]) for c in calls] == [("deny", "denied"), ("allow_once", "ok")]


def test_a_read_only_command_runs_at_once(wb, issue):
    wb.settings.update_settings({"chat_shell_tool": True})
    with FakeProviderServer("openai", reply_fn=_reply("uptime")) as srv:
        _provider(wb, srv)
        wb.chat.chat_message(issue.id, "How long is the host up?",
                             approver=lambda req: pytest.fail("a tier-1 command asks nobody"))
        told = srv.chat_requests[-1].tool_results[0]["content"]
        assert "load average" in told


def test_the_models_placeholders_become_the_real_values_only_on_this_host(wb, issue, tmp_path):
    """The model saw "[Email_1]"; the command it proposes runs here with the real address (it is
    classified and approved as it runs), and what goes back is placeholders again."""
    import re

    wb.settings.update_settings({"chat_shell_tool": True})
    log = tmp_path / "app.log"
    log.write_text(f"09:00 login ok user={EMAIL}\n09:01 login failed user={EMAIL}\n09:02 login ok user=bob\n")
    seen = {}

    def reply(rec):
        if not rec.tool_results:
            text = json.dumps(rec.body)
            assert EMAIL not in text
            seen["ph"] = re.search(r"\[Email_\d+\]", text).group(0)
            return {"tool_calls": [{"name": "run_shell_command",
                                    "arguments": {"command": f"grep {seen['ph']} {log}",
                                                  "reason": f"lines of {seen['ph']}"}}]}
        return "Two lines."

    with FakeProviderServer("openai", reply_fn=reply) as srv:
        _provider(wb, srv)
        wb.chat.chat_message(issue.id, f"What did {EMAIL} do this morning?",
                             approver=lambda req: pytest.fail("grep is tier 1"))
        told = srv.chat_requests[-1].tool_results[0]["content"]
        assert "login ok user=" + seen["ph"] in told and "login failed user=" + seen["ph"] in told, told
        assert "bob" not in told                             # grep ran with the real address
        for req in srv.chat_requests:
            assert EMAIL not in json.dumps(req.body)
    (action,) = wb.shell.list_actions(issue.id)
    assert action.command == f"grep {EMAIL} {log}" and action.tier == 1
    assert action.reason == f"lines of {EMAIL}"
    # what the model wrote is kept as it wrote it
    assert json.loads(wb.chat.list_tool_calls(issue.id)[0]["arguments"])["command"] == f"grep {seen['ph']} {log}"
