"""Issue 10, first "Done when" line: no planted secret leaves through any path, over real HTTP.

Every row of every ``tests/fixtures/secrets/*.jsonl`` (``{"id", "text", "secrets", "keep"}``) is
planted, in batches, in each place text leaves from:

- the chat message, an attached log, the log's file name, and the issue's title, description,
  tags and assignee (the system prompt), in turn 1;
- turn 2, whose request re-sends turn 1 as history;
- log analysis of the attached log;
- an AI-drafted RCA and post-mortem (title, description, the 5-Whys recorded from turn 1, the
  log's name).

Every request the local fake provider server received is searched for each secret: the whole value,
any tail of 8+ characters anywhere, and any head or tail of 4+ characters standing right next to
a placeholder (what a redaction that stops short leaves: ``password=[Password_1]&3xQ``). The
row's ``keep`` strings must arrive in the chat message and in the analysis.

Rows the current detector misses are listed in ``XFAIL`` (printed when the module runs, and
reported by pytest as xfailed/xpassed); nothing is skipped silently.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fakes.servers import FakeProviderServer

SECRETS_DIR = Path(__file__).parent / "fixtures" / "secrets"

#: "file:id" -> why the current detector lets it through. The lead empties this list as the
#: detector work (guard-engine, guard-families) lands.
XFAIL: dict[str, str] = {
    # whole values landed with guard-engine; the AI-draft rows (Markdown escaping and re-flowing
    # between the fields and the guard) pass since guard-markdown
}

BATCH_CHARS = 3000      # fits the attachment budget (8,000) and the description in the prompt (4,000)
_PLACEHOLDER = re.compile(r"\[[A-Za-z][A-Za-z0-9]*_\d+\]")
_ANALYSIS = '```json\n{"summary": "s", "key_findings": ["f"], "first_why": "w", "severity": "low"}\n```'
_DRAFT = ("## Corrective Actions\n### Immediate Actions\n- [ ] roll back\n### Long-Term Actions\n- [ ] add a check\n"
          "## Lessons Learned\n- review pool sizes")
_PM_DRAFT = ("## Contributing Factors\n- pool size\n## What Could Be Improved\n- alerting\n"
             "## Action Items\n| Priority | Action | Owner | Due | Status |\n| --- | --- | --- | --- | --- |\n"
             "| P1 | review | TBD | TBD | Open |")


def load_rows() -> list[dict]:
    rows = []
    for path in sorted(SECRETS_DIR.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = {"id", "text", "secrets", "keep"} - set(row)
            assert not missing, f"{path.name}:{n} lacks {missing}"
            rows.append({**row, "key": f"{path.stem}:{row['id']}"})
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)), "row ids must be unique within a file"
    return rows


ROWS = load_rows()


def _batches(rows: list[dict]) -> list[list[dict]]:
    out, cur, size = [], [], 0
    for r in rows:
        if cur and size + len(r["text"]) + 1 > BATCH_CHARS:
            out.append(cur)
            cur, size = [], 0
        cur.append(r)
        size += len(r["text"]) + 1
    if cur:
        out.append(cur)
    return out


def _reply(req) -> str:
    system = next((m["content"] for m in req.messages if m["role"] == "system"), "")
    if "You are analysing a log excerpt" in system:
        return _ANALYSIS
    if "completing a root cause analysis" in system:
        return _DRAFT
    if "completing a blameless post-mortem" in system:
        return _PM_DRAFT
    return "Noted. [[WHY-LEVEL: 1]]"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _texts(req) -> str:
    """A request as searchable text: the raw body and every string of its JSON, unescaped."""
    raw = req.raw.decode("utf-8", "replace")
    try:
        return raw + "\n" + "\n".join(_strings(json.loads(raw)))
    except ValueError:
        return raw


def leak(secret: str, body: str) -> str | None:
    """How ``secret`` shows in ``body`` (None when it does not)."""
    if not secret:
        return None
    if secret in body:
        return "the whole value"
    n = len(secret)
    for k in range(8, n):
        if secret[-k:] in body:
            return f"its last {k} characters {secret[-k:]!r}"
    for m in _PLACEHOLDER.finditer(body):
        after, before = body[m.end():m.end() + n], body[max(0, m.start() - n):m.start()]
        for k in range(4, n):
            if after.startswith(secret[-k:]):
                return f"a tail {secret[-k:]!r} after {m.group()}"
            if before.endswith(secret[:k]):
                return f"a head {secret[:k]!r} before {m.group()}"
    return None


def _one_line(text: str, limit: int) -> str | None:
    return text if "\n" not in text and "\r" not in text and len(text) <= limit else None


def _plant(wb, batch: list[dict], n: int):
    texts = [r["text"] for r in batch]
    body = "\n".join(texts)
    title = f"Batch {n}:"
    for t in texts:
        if _one_line(t, 480) and len(title) + len(t) + 3 <= 480:
            title += " " + t + " ;"
    secrets = [s for r in batch for s in r["secrets"]]
    tags = [s for s in secrets if _one_line(s, 40) and "," not in s][:8]
    assigned = next((s for s in secrets if _one_line(s, 200)), None)
    issue = wb.issues.create_issue(title, body, "high", "application", assigned_to=assigned, tags=tags)
    name_secret = next((s for s in secrets if re.fullmatch(r"[A-Za-z0-9@._+-]{4,80}", s)), "none")
    log = wb.attachments.upload_log_file_by_content(issue.id, f"export-{name_secret}.log", body + "\n")
    return issue, log


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    """Plant every row and send it through every path; returns {row key: {path: request text}}."""
    import tftsr_kernel

    print("\nXFAIL (rows the current detector misses):", json.dumps(XFAIL, indent=1))
    out: dict[str, dict[str, str]] = {}
    with pytest.MonkeyPatch.context() as mp, FakeProviderServer("openai", reply_fn=_reply) as srv:
        mp.delenv("TFTSR_DB_KEY", raising=False)
        wb = tftsr_kernel.open(tmp_path_factory.mktemp("egress") / "data", shared=False)
        try:
            wb.providers.add_provider("local", "openai", srv.url, "m", api_key="sk-test-0123456789")
            for n, batch in enumerate(_batches(ROWS), 1):
                issue, log = _plant(wb, batch, n)
                first = len(srv.chat_requests)
                wb.chat.chat_message(issue.id, "\n".join(r["text"] for r in batch), attach_log_ids=[log.id])
                wb.chat.chat_message(issue.id, "What changed since the last deploy?")
                wb.chat.analyze_logs(issue.id, [log.id])
                wb.documents.generate_rca(issue.id, ai_draft=True)
                wb.documents.generate_postmortem(issue.id, ai_draft=True)
                reqs = srv.chat_requests[first:]
                assert len(reqs) == 5
                paths = {"turn 1 (message, log, file name, title, description, tags, assignee)": _texts(reqs[0]),
                         "turn 2 (history)": _texts(reqs[1]), "analysis": _texts(reqs[2]),
                         "AI draft (RCA)": _texts(reqs[3]), "AI draft (post-mortem)": _texts(reqs[4]),
                         "turn 1 message as sent": reqs[0].last_user_text,
                         "analysis as sent": reqs[2].last_user_text}
                history = [m["content"] for m in reqs[1].messages if m["role"] == "user"]
                assert len(history) == 2 and "What changed" in history[-1]
                for r in batch:
                    out[r["key"]] = paths
        finally:
            wb.close()
    return out


def _params():
    for r in ROWS:
        marks = [pytest.mark.xfail(reason=XFAIL[r["key"]], strict=False)] if r["key"] in XFAIL else []
        yield pytest.param(r, id=r["key"], marks=marks)


@pytest.mark.parametrize("row", list(_params()))
def test_row_leaves_through_no_path(sent, row):
    paths = sent[row["key"]]
    found = []
    for path, body in paths.items():
        if path.endswith("as sent"):
            continue
        for secret in row["secrets"]:
            how = leak(secret, body)
            if how:
                found.append(f"{path}: {how} of {secret[:6]}…")
    assert not found, found
    for keep in row["keep"]:
        assert keep in paths["turn 1 message as sent"], f"{keep!r} was lost from the chat message"
        assert keep in paths["analysis as sent"], f"{keep!r} was lost from the analysis"


def test_every_fixture_row_is_tested_and_the_xfail_list_names_real_rows():
    keys = {r["key"] for r in ROWS}
    assert {p.stem for p in SECRETS_DIR.glob("*.jsonl")} >= {"paths"}
    assert set(XFAIL) <= keys, f"XFAIL names rows that no longer exist: {sorted(set(XFAIL) - keys)}"


def test_leak_check_sees_tails_and_heads():
    assert leak("Tr0ub4dor&3xQ", "password=[Password_1]&3xQ") == "a tail '&3xQ' after [Password_1]"
    assert leak("Pg&P#ss;w0rd", "dbadmin:Pg&P#ss;[Email_1]:5432")
    assert leak("AKIAQ3EGRZ7XKUJN4PLV", "key [AWSAccessKey_1] region") is None
    assert leak("AKIAQ3EGRZ7XKUJN4PLV", "key AKIAQ3EGRZ7XKUJN4PLV") == "the whole value"
