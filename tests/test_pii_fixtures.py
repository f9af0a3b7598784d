"""Every secret in every ``tests/fixtures/secrets/*.jsonl`` row is covered whole by the detector.

Row format (shared by the detector, the families and the end-to-end tests)::

    {"id": "...", "text": "<log lines>", "secrets": ["<value>", ...], "keep": ["<substring>", ...]}

For each row: every occurrence of each secret lies entirely inside detected spans (not one
character of it left, no tail), and each ``keep`` string survives redaction unchanged.  Files
are read as they are found, so a new fixture file is tested without touching this one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tftsr_kernel import pii
from tftsr_kernel.pii import Pseudonymizer

FIXTURES = Path(__file__).parent / "fixtures" / "secrets"


def _rows():
    out = []
    for path in sorted(FIXTURES.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            out.append(pytest.param(row, id=f"{path.stem}:{row.get('id', n)}"))
    return out


ROWS = _rows()


def test_fixture_files_are_well_formed():
    assert {p.name for p in FIXTURES.glob("*.jsonl")} >= {"syntaxes.jsonl", "machine_text.jsonl"}
    ids = set()
    for p in ROWS:
        row = p.values[0]
        assert isinstance(row["text"], str) and row["text"], p.id
        assert isinstance(row.get("secrets", []), list) and isinstance(row.get("keep", []), list), p.id
        for s in row.get("secrets", []):
            assert s and s in row["text"], f"{p.id}: secret not in text: {s!r}"
        for k in row.get("keep", []):
            assert k in row["text"], f"{p.id}: keep string not in text: {k!r}"
        assert p.id not in ids, f"duplicate id {p.id}"
        ids.add(p.id)


def _uncovered(text: str, spans, secret: str) -> list[tuple[int, str]]:
    """Occurrences of ``secret`` with characters outside every span: (offset, what is left)."""
    covered = bytearray(len(text))
    for s in spans:
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    bad = []
    i = text.find(secret)
    while i >= 0:
        left = "".join(c if not covered[i + k] else "·" for k, c in enumerate(secret))
        if "·" * len(secret) != left:
            bad.append((i, left))
        i = text.find(secret, i + 1)
    return bad


@pytest.mark.parametrize("row", ROWS)
def test_secrets_covered_whole_and_machine_text_kept(row):
    text = row["text"]
    spans = pii.detect(text)
    problems = []
    for secret in row.get("secrets", []):
        for off, left in _uncovered(text, spans, secret):
            problems.append(f"secret {secret!r} at {off} not fully covered: {left!r}")
    red = pii.redact(text, spans, Pseudonymizer().placeholder)
    for keep in row.get("keep", []):
        if keep not in red:
            problems.append(f"keep {keep!r} was changed")
    assert not problems, "\n".join(problems) + f"\nspans: {[(s.type, s.text) for s in spans]}\nredacted: {red!r}"
