"""The product's promise end to end: a log holding one of every secret kind leaves through no path.

The fixture (tests/fixtures/pii/secrets.txt, fake values) is uploaded, reviewed, chatted about,
analysed and written into a document; every request the local provider server receives, the
redacted text and the whole audit log are searched for every secret.
"""

from __future__ import annotations

import json
from pathlib import Path

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
