"""False positives (and misses) of tftsr_kernel.pii on a labelled sample of loghub lines.

    .venv/bin/python benchmarks/pii_false_positives.py [benchmarks/data/loghub_sample_labels.jsonl]

The sample is every 50th line of each of the 16 loghub ``*_2k.log`` files (640 lines); the
labels (what *should* be flagged on each line) are in ``benchmarks/data/`` and were reviewed
by hand (see ``benchmarks/data/README.md``).  The lines are stored with the labels, so the
corpus is not needed.

For comparison the same lines go through an approximation of the reference app's 13 regexes
(``/work/shared/reference/tftsr-inventory.md`` section 1) with its overlap rule (longest wins).
A finding counts as correct when it overlaps a labelled span of the same type.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tftsr_kernel import pii  # noqa: E402

DEFAULT = Path(__file__).resolve().parent / "data" / "loghub_sample_labels.jsonl"

_H4 = r"[0-9A-Fa-f]{1,4}"
#: the reference app's patterns, in its evaluation order, mapped to our type names
REFERENCE = [
    ("URLCredentials", r"[a-z][a-z0-9+\-.]*://[^:@/\s]+:[^@/\s]+@"),
    ("BearerToken", r"(?i)bearer\s+[A-Za-z0-9\-._~+/]+=*"),
    ("Secret", r"(?i)(?:api_key|api-key|apikey|access_token|access-token)\s*[=:]\s*[A-Za-z0-9\-._~+/]{16,}"),
    ("Password", r"(?i)\b(?:password|passwd|passphrase|pass|pwd|secret)\s*[=:]\s*\S+"),
    ("Password", r"(?i)(?:password|passwd|passphrase)\s+(?:is\s+|was\s+)?\S*[0-9!@#$%^&*_\-+=]\S*"),
    ("SSN", r"\b\d{3}-\d{2}-\d{4}\b"),
    (
        "CreditCard",
        r"\b(?:4\d{12}(?:\d{3})?|5[1-5]\d{14}|3[47]\d{13}|6(?:011|5\d{2})\d{12}"
        r"|3(?:0[0-5]|[68]\d)\d{11}|35(?:2[89]|[3-8]\d)\d{12})\b",
    ),
    ("Email", r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"),
    ("MAC", r"\b(?:[0-9A-Fa-f]{2}[:\-]){5}[0-9A-Fa-f]{2}\b"),
    (
        "IPv6",
        rf"(?i)(?:{_H4}:){{7}}{_H4}|(?:{_H4}:){{1,7}}:|(?:{_H4}:){{1,6}}:{_H4}|::(?:{_H4}:){{0,6}}{_H4}"
        rf"|{_H4}::(?:{_H4}:){{0,5}}{_H4}",
    ),
    ("IPv4", r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
    ("Phone", r"\b(?:\+?1[-.\s]?)?\(?[0-9]{3}\)?[-.\s]?[0-9]{3}[-.\s]?[0-9]{4}\b"),
    ("Hostname", r"\b(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b"),
]
_REF = [(t, re.compile(p)) for t, p in REFERENCE]


def reference_detect(text: str) -> list[tuple[str, int, int]]:
    found = []
    for order, (typ, rx) in enumerate(_REF):
        for m in rx.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), order, m.end(), typ))
    found.sort(key=lambda x: (x[0], x[1]))
    kept: list[tuple[int, int, str]] = []
    for s, _o, e, t in found:
        if kept and s < kept[-1][1]:
            if e - s > kept[-1][1] - kept[-1][0]:
                kept[-1] = (s, e, t)
            continue
        kept.append((s, e, t))
    return [(t, s, e) for s, e, t in kept]


def _labelled_spans(rec) -> list[tuple[str, int, int]]:
    out, pos = [], {}
    for typ, value in rec["pii"]:
        start = rec["text"].find(value, pos.get(value, 0))
        if start < 0:
            raise ValueError(f"label {value!r} not in line {rec['log']}:{rec['line']}")
        pos[value] = start + 1
        out.append((typ, start, start + len(value)))
    return out


def score(records, detector) -> tuple[Counter, Counter, Counter]:
    detected, fp, missed = Counter(), Counter(), Counter()
    for rec in records:
        gold = _labelled_spans(rec)
        pred = detector(rec["text"])
        for t, s, e in pred:
            detected[t] += 1
            if not any(gt == t and gs < e and s < ge for gt, gs, ge in gold):
                fp[t] += 1
        for gt, gs, ge in gold:
            if not any(t == gt and gs < e and s < ge for t, s, e in pred):
                missed[gt] += 1
    return detected, fp, missed


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled = Counter(t for r in records for t, _v in r["pii"])
    ours = score(records, lambda text: [(s.type, s.start, s.end) for s in pii.detect(text)])
    ref = score(records, reference_detect)
    print(f"sample: {path.name}: {len(records)} lines from {len({r['log'] for r in records})} loghub logs")
    print(f"{'type':<15} {'labelled':>8} | {'detected':>8} {'false+':>6} {'missed':>6} | {'ref det':>7} {'ref f+':>6} {'ref miss':>8}")
    types = sorted(set(labelled) | set(ours[0]) | set(ref[0]), key=lambda t: pii.PII_TYPES.index(t))
    for t in types:
        print(
            f"{t:<15} {labelled[t]:>8} | {ours[0][t]:>8} {ours[1][t]:>6} {ours[2][t]:>6} | "
            f"{ref[0][t]:>7} {ref[1][t]:>6} {ref[2][t]:>8}"
        )
    print(
        f"{'all':<15} {sum(labelled.values()):>8} | {sum(ours[0].values()):>8} {sum(ours[1].values()):>6} "
        f"{sum(ours[2].values()):>6} | {sum(ref[0].values()):>7} {sum(ref[1].values()):>6} {sum(ref[2].values()):>8}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
