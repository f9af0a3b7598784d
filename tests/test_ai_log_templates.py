"""A log too large for its budget reaches the model as a template summary, redacted, and the model
is told so; over real HTTP to the local provider fake, checking the request body it received.

- a planted secret (repeated lines, a masked-apart secret) never arrives, in the chat or the analysis;
- every row of tests/fixtures/secrets/*.jsonl, planted in large logs, leaks through no summary;
- a log that fits still goes whole; a log of few huge lines is still sampled.
"""

from __future__ import annotations

import pytest

from tests.fakes.servers import FakeProviderServer
from tests.test_egress_paths import ROWS, _batches, _reply, _texts, leak
from tftsr_kernel.ai.log_context import TEMPLATES_NOTE
from tftsr_kernel.ai.service import ATTACHMENT_BUDGET_CHARS
from tftsr_kernel.logs.summary import SUMMARY_HEADER

PASSWORD = "Tr0ub4dor&3xQ"
AWS = "AKIAQ3EGRZ7XKUJN4PLV"
#: digits in the middle: mining masks "-20261130-" and what stays must not leave either
TOKEN = "zqkv-20261130-wmxhplrt"


def big_log(n: int = 1200) -> str:
    lines = []
    for i in range(n):
        ts = f"2026-11-30T09:{i // 60 % 60:02d}:{i % 60:02d}Z"
        lines.append(f"{ts} INFO api: GET /orders/{i} 200 in {i % 50}ms")
        if i % 7 == 0:
            lines.append(f"{ts} ERROR auth: login failed for alice@example.com password={PASSWORD} attempt {i}")
        if i % 11 == 0:
            lines.append(f"{ts} WARN s3: request signed with {AWS} refused, retry {i % 5}")
        if i % 13 == 0:
            lines.append(f"{ts} WARN vault: session_token={TOKEN} renewed for 10.1.{i % 250}.7")
        if i >= n - 120 and i % 2 == 0:
            lines.append(f"{ts} ERROR db: pool exhausted waiting={i % 9}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def provider(wb):
    with FakeProviderServer("openai", reply_fn=_reply) as srv:
        wb.providers.add_provider("local", "openai", srv.url, "m", api_key="sk-test-0123456789")
        yield srv


def _assert_clean(body: str):
    for secret in (PASSWORD, AWS, TOKEN, "alice@example.com", "wmxhplrt"):
        assert secret not in body, f"{secret} reached the provider"
        assert leak(secret, body) is None, leak(secret, body)


def test_chat_and_analysis_send_a_redacted_template_summary(wb, issue, provider):
    text = big_log()
    assert len(text) > 10 * ATTACHMENT_BUDGET_CHARS
    log = wb.attachments.upload_log_file_by_content(issue.id, "api.log", text)
    reply = wb.chat.chat_message(issue.id, "Why do logins fail?", attach_log_ids=[log.id])
    assert reply.attachments[0]["state"] == "unreviewed"
    req = provider.chat_requests[-1]
    body = _texts(req)
    sent = req.last_user_text
    _assert_clean(body)
    # the model is told it sees templates, not raw lines, in the label and the summary's first line
    assert TEMPLATES_NOTE in sent and SUMMARY_HEADER in sent
    assert "Bursts:" in sent and "pool exhausted" in sent and "new template" in sent
    assert "ERROR auth: login failed for [Email_1] password=" in sent  # the template, its values redacted
    assert "GET /orders/<*>" in sent and " | 1,200 | " in sent  # counts and first/last seen
    assert "2026-11-30 09:00:00" in sent
    assert len(sent) < ATTACHMENT_BUDGET_CHARS + 1000
    assert "…[lines" not in sent  # not the sampled raw lines
    # the stored turn keeps what was sent, never the original
    stored = wb.chat.list_messages(issue.id)[0].content
    assert SUMMARY_HEADER in stored and PASSWORD not in stored

    wb.chat.analyze_logs(issue.id, [log.id])
    req = provider.chat_requests[-1]
    _assert_clean(_texts(req))
    assert TEMPLATES_NOTE in req.last_user_text and SUMMARY_HEADER in req.last_user_text


def test_a_reviewed_log_keeps_its_review_in_the_summary(wb, issue, provider):
    log = wb.attachments.upload_log_file_by_content(issue.id, "api.log", big_log(400))
    spans = wb.pii.list_spans(log.id)
    keep = {s.id for s in spans if s.pii_type == "IPv4"}  # the reviewer keeps the addresses
    wb.pii.apply_redactions(log.id, sorted({s.id for s in spans} - keep))
    wb.chat.chat_message(issue.id, "Look at the summary", attach_log_ids=[log.id])
    req = provider.chat_requests[-1]
    _assert_clean(_texts(req))
    assert TEMPLATES_NOTE in req.last_user_text
    assert "PII redacted after review" in req.last_user_text


def test_small_logs_go_whole_and_few_huge_lines_are_sampled(wb, issue, provider):
    small = wb.attachments.upload_log_file_by_content(issue.id, "small.log", "2026-11-30T09:00:00Z INFO ok 1\n")
    wb.chat.chat_message(issue.id, "small", attach_log_ids=[small.id])
    sent = provider.chat_requests[-1].last_user_text
    assert "INFO ok 1" in sent and SUMMARY_HEADER not in sent
    huge = wb.attachments.upload_log_file_by_content(
        issue.id, "huge.json", "\n".join('{"k": "' + "v" * 5000 + f'", "password": "{PASSWORD}"}}' for _ in range(4)))
    wb.chat.chat_message(issue.id, "huge", attach_log_ids=[huge.id])
    sent = provider.chat_requests[-1].last_user_text
    assert SUMMARY_HEADER not in sent and "characters omitted" in sent and PASSWORD not in sent


def test_no_fixture_secret_leaves_through_a_template_summary(tmp_path):
    """Every planted secret row, in large logs (filler lines past the budget): the summary lists
    every template of the batch, and no secret (whole, tail or head by a placeholder) arrives."""
    import tftsr_kernel

    filler = "\n".join(f"2026-11-30T08:{i // 60:02d}:{i % 60:02d}Z INFO api: GET /health 200 in {i % 9}ms"
                       for i in range(600))
    wb = tftsr_kernel.open(tmp_path / "data", shared=False)
    found = []
    try:
        with FakeProviderServer("openai", reply_fn=_reply) as srv:
            wb.providers.add_provider("local", "openai", srv.url, "m", api_key="sk-test-0123456789")
            batches = _batches(ROWS)
            for n, batch in enumerate(batches, 1):
                issue = wb.issues.create_issue(f"batch {n}", "d", "low", "application")
                body = filler + "\n" + "\n".join(r["text"] for r in batch) + "\n"
                log = wb.attachments.upload_log_file_by_content(issue.id, "planted.log", body)
                wb.chat.chat_message(issue.id, "Summarise the log.", attach_log_ids=[log.id])
                sent = srv.chat_requests[-1]
                assert SUMMARY_HEADER in sent.last_user_text, n
                text = _texts(sent)
                for r in batch:
                    for secret in r["secrets"]:
                        how = leak(secret, text)
                        if how:
                            found.append(f"{r['key']}: {how}")
            assert len(batches) >= 10
    finally:
        wb.close()
    assert not found, found
