"""5-Whys filled from the chat, at the user's level (kernel chat calls and the CLI against a local
fake provider): each why from the reply's own markers (question, answer, evidence), no copies
when a reply jumps levels, no "Why 1: Why 1:" anywhere, and no root cause claimed before one was
identified."""

from __future__ import annotations

import pytest

from tests.fakes.servers import FakeProviderServer

EMAIL = "dana.oncall@example.com"
MESSAGE = (f"Checkout returns 503 since 14:05 and {EMAIL} was paged. The pool log is attached. "
           "Why are requests failing?\n\nMore context: the deploy at 14:00 touched helm values, "
           "the dashboards show the DB pool flat at 8/8, and retries make it worse.")
TWO_LEVELS = (
    "The 503s line up with pool waits: every request waits for one of 8 connections.\n\n"
    "| Setting | Before | After |\n|---|---|---|\n| db_pool_max | 64 | 8 |\n\n"
    "Which change set the pool to 8?\n"
    "[[WHY-LEVEL: 2]]\n"
    "[[WHY-1-QUESTION: Why 1: Why do checkout requests fail with 503?]]\n"
    "[[WHY-1-ANSWER: They time out waiting for a database connection.]]\n"
    "[[WHY-1-EVIDENCE: pool wait 8/8 in_use=8 queue=29 (checkout-pool.log)]]\n"
    "[[WHY-2-QUESTION: Why is the pool exhausted?]]\n"
    f"[[WHY-2-ANSWER: db_pool_max is 8 since the 14:00 deploy; [Email_1] confirmed it.]]\n"
    "[[WHY-2-EVIDENCE: db_pool_max=8 (was 64) in the config line at 13:58:02]]\n"
)


def _provider(wb, srv):
    wb.providers.add_provider("local", srv.kind, srv.url, "gpt-4o-mini", api_key="k-0123456789abcdef")


def test_a_reply_answering_two_whys_gives_two_distinct_steps_from_its_markers(wb, issue):
    with FakeProviderServer("openai", replies=[TWO_LEVELS], words_per_chunk=2) as srv:
        _provider(wb, srv)
        chunks = []
        res = wb.chat.chat_message(issue.id, MESSAGE, on_chunk=chunks.append)
        assert EMAIL not in srv.chat_requests[-1].raw.decode()  # the planted address never left
    streamed = "".join(chunks)
    assert "[[" not in streamed and "WHY-1" not in streamed  # markers hidden while streaming
    assert res.why_level == 2 and res.root_cause is None
    steps = wb.whys.list_five_whys(issue.id)
    assert [s.step_order for s in steps] == [1, 2]
    one, two = steps
    assert one.why_question == "Why do checkout requests fail with 503?"  # no "Why 1: Why 1:"
    assert one.answer == "They time out waiting for a database connection."
    assert one.evidence == "pool wait 8/8 in_use=8 queue=29 (checkout-pool.log)"
    assert two.why_question == "Why is the pool exhausted?"
    assert two.answer == f"db_pool_max is 8 since the 14:00 deploy; {EMAIL} confirmed it."  # restored locally
    assert two.evidence.startswith("db_pool_max=8 (was 64)")
    assert one.answer != two.answer and one.why_question != two.why_question
    assert all(MESSAGE[:40] not in s.why_question and "| Setting |" not in s.answer for s in steps)
    # the next turn tells the model the whys so far, each once and without a doubled prefix
    system = wb.chat.system_prompt(issue.id)
    assert "- Why 1: Why do checkout requests fail" in system and "Why 1: Why 1" not in system


def test_a_jump_without_step_markers_fills_one_step_with_short_excerpts(wb, issue):
    reply = ("The pool is exhausted because the deploy lowered db_pool_max to 8. Retries add load on top. "
             "Can you share the helm diff?\n\n| Setting | Value |\n|---|---|\n| db_pool_max | 8 |\n\n"
             "[[WHY-LEVEL: 2]]")
    with FakeProviderServer("openai", replies=[reply]) as srv:
        _provider(wb, srv)
        res = wb.chat.chat_message(issue.id, MESSAGE)
    steps = wb.whys.list_five_whys(issue.id)
    assert [s.step_order for s in steps] == [2] and res.why_level == 2  # why 1 is not a copy of why 2
    step = steps[0]
    assert step.why_question == "Why are requests failing?"  # the engineer's question, not the message
    assert step.answer == ("The pool is exhausted because the deploy lowered db_pool_max to 8. "
                           "Retries add load on top.")  # the reply's first paragraph, no table, no question back
    assert "More context" not in step.why_question and "|" not in step.answer


def test_levels_already_answered_are_not_overwritten_or_duplicated(wb, issue):
    wb.whys.add_five_why(issue.id, 1, "Why 1: Why do requests fail?", "DB pool timeouts", "app.log")
    with FakeProviderServer("openai", replies=[TWO_LEVELS]) as srv:
        _provider(wb, srv)
        wb.chat.chat_message(issue.id, "what next?")
    steps = wb.whys.list_five_whys(issue.id)
    assert [(s.step_order, s.why_question, s.answer) for s in steps] == [
        (1, "Why do requests fail?", "DB pool timeouts"),  # the engineer's step stays, prefix dropped
        # no address was ever redacted in this issue, so the model's placeholder stays a placeholder
        (2, "Why is the pool exhausted?", "db_pool_max is 8 since the 14:00 deploy; [Email_1] confirmed it.")]


def test_no_root_cause_is_claimed_until_one_is_identified(cli, wb, issue):
    with FakeProviderServer("openai", replies=[TWO_LEVELS]) as srv:
        _provider(wb, srv)
        r = cli("chat", issue.id, "why?", "--json")
        assert r.code == 0, r.stderr and r.json["root_cause"] is None
    r = cli("whys", issue.id, "--json")
    assert r.code == 0 and r.json["root_cause"] is None and len(r.json["steps"]) == 2
    text = cli("whys", issue.id)
    assert "root cause: (not identified yet)" in text.stdout
    assert "db_pool_max is 8" not in text.stdout.split("root cause:")[1]  # the deepest answer is not it
    assert wb.whys.root_cause(issue.id) is None
    doc = wb.documents.generate_rca(issue.id)
    assert "_No root cause identified yet" in doc.content_md and "Remediate the root cause" not in doc.content_md
    from widgets.whys import WhysPanel

    panel = WhysPanel(issue.id, wb)
    assert panel.root_cause is None and "Not identified yet" in panel.to_html()
    assert "not identified yet" in panel._repr_markdown_()
    r = cli("whys", issue.id, "--root-cause", "db_pool_max copied from staging values", "--json")
    assert r.json["root_cause"] == "db_pool_max copied from staging values"
    assert "root cause: db_pool_max copied" in cli("whys", issue.id).stdout


def test_reports_never_read_why_1_why_1(cli, wb, issue):
    # a step stored by an earlier version kept the prefix in its question: reports drop it too
    with wb.db.write() as conn:
        conn.execute("INSERT INTO resolution_steps(id, issue_id, step_order, why_question, answer, evidence,"
                     " created_at) VALUES ('legacy-1', ?, 1, 'Why 1: Why 1: Why do requests fail?', 'pool', NULL,"
                     " '2026-12-01 14:00:00')", (issue.id,))
    assert cli("whys", issue.id, "--add", "2", "--question", "Why 2: Why is the pool small?",
               "--answer", "helm values").code == 0
    assert wb.whys.list_five_whys(issue.id)[1].why_question == "Why is the pool small?"  # stored without it
    from widgets.whys import WhysPanel

    panel = WhysPanel(issue.id, wb)
    html, md = panel.to_html(), panel._repr_markdown_()
    doc = wb.documents.generate_rca(issue.id).content_md
    out = cli("whys", issue.id).stdout
    for text in (html, md, doc, out):
        assert "Why 1: Why 1" not in text and "Why 2: Why 2" not in text, text
    assert "Why 1: Why do requests fail?" in html and "Why 2: Why is the pool small?" in html
    assert panel._w_question[1].value == "Why do requests fail?"


@pytest.mark.parametrize("reply", [
    "Maybe the pool? Which deploy ran at 14:00?\n[[WHY-LEVEL: 1]]\n[[WHY-1-QUESTION: Why do requests fail?]]",
    "Still collecting symptoms.\n[[WHY-LEVEL: 0]]",
])
def test_a_reply_that_answers_nothing_records_no_step(wb, issue, reply):
    with FakeProviderServer("openai", replies=[reply]) as srv:
        _provider(wb, srv)
        res = wb.chat.chat_message(issue.id, "hello")
    assert "[[" not in res.display_text and res.steps_added == []
    assert wb.whys.list_five_whys(issue.id) == [] and res.root_cause is None


def test_a_why_the_engineer_started_keeps_their_question(wb, issue):
    wb.whys.add_five_why(issue.id, 2, "Why was the pool lowered?")  # a question, no answer yet
    with FakeProviderServer("openai", replies=[TWO_LEVELS]) as srv:
        _provider(wb, srv)
        wb.chat.chat_message(issue.id, "next?")
    steps = {s.step_order: s for s in wb.whys.list_five_whys(issue.id)}
    assert steps[2].why_question == "Why was the pool lowered?"
    assert steps[2].answer.startswith("db_pool_max is 8 since the 14:00 deploy")
    assert steps[2].evidence.startswith("db_pool_max=8 (was 64)")
    assert steps[1].why_question == "Why do checkout requests fail with 503?"
