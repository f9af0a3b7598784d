"""Recall and precision of tftsr_kernel.pii on presidio-research's synthetic dataset.

    .venv/bin/python benchmarks/pii_accuracy.py [path/to/synth_dataset_v2.json]

Only the pattern-detectable entities are scored: CREDIT_CARD, PHONE_NUMBER, EMAIL_ADDRESS,
IBAN_CODE, US_SSN, IP_ADDRESS, DOMAIN_NAME.  Matching is by overlap: a labelled span counts as
found when a detected span of the corresponding type overlaps it; a detected span of a scored
type counts as correct when it overlaps a labelled span of that entity.  "exact" is the share
of labelled spans whose text was detected exactly (DOMAIN_NAME labels are whole URLs such as
``https://www.example.com/`` while the detector reports the host name, so they are never exact).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tftsr_kernel import pii  # noqa: E402

DEFAULT = Path("/work/shared/corpus/pii/presidio-research/synth_dataset_v2.json")

#: presidio entity -> detector types
ENTITY_TYPES = {
    "CREDIT_CARD": {"CreditCard"},
    "PHONE_NUMBER": {"Phone"},
    "EMAIL_ADDRESS": {"Email"},
    "IBAN_CODE": {"IBAN"},
    "US_SSN": {"SSN"},
    "IP_ADDRESS": {"IPv4", "IPv6"},
    "DOMAIN_NAME": {"Hostname"},
}
TYPE_ENTITY = {t: e for e, ts in ENTITY_TYPES.items() for t in ts}


def score(records: list[dict]) -> dict[str, dict[str, int]]:
    res = {e: {"gold": 0, "found": 0, "exact": 0, "pred": 0, "correct": 0} for e in ENTITY_TYPES}
    for rec in records:
        text = rec["full_text"]
        gold = [
            (s["entity_type"], s["start_position"], s["end_position"])
            for s in rec["spans"]
            if s["entity_type"] in ENTITY_TYPES
        ]
        pred = [(TYPE_ENTITY[s.type], s.start, s.end) for s in pii.detect(text) if s.type in TYPE_ENTITY]
        for ent, gs, ge in gold:
            r = res[ent]
            r["gold"] += 1
            hits = [(ps, pe) for pent, ps, pe in pred if pent == ent and ps < ge and gs < pe]
            if hits:
                r["found"] += 1
            if (gs, ge) in hits:
                r["exact"] += 1
        for ent, ps, pe in pred:
            r = res[ent]
            r["pred"] += 1
            if any(gent == ent and ps < ge and gs < pe for gent, gs, ge in gold):
                r["correct"] += 1
    return res


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    if not path.exists():
        print(f"dataset not found: {path}", file=sys.stderr)
        return 2
    records = json.loads(path.read_text(encoding="utf-8"))
    res = score(records)
    print(f"dataset: {path.name} ({len(records)} records)")
    print(f"{'entity':<14} {'labelled':>8} {'found':>6} {'recall':>7} {'detected':>8} {'correct':>7} {'precision':>9} {'exact':>6}")
    tot = {"gold": 0, "found": 0, "pred": 0, "correct": 0}
    for ent, r in res.items():
        rec = r["found"] / r["gold"] if r["gold"] else float("nan")
        prec = r["correct"] / r["pred"] if r["pred"] else float("nan")
        ex = r["exact"] / r["gold"] if r["gold"] else float("nan")
        print(
            f"{ent:<14} {r['gold']:>8} {r['found']:>6} {rec:>7.1%} {r['pred']:>8} {r['correct']:>7} {prec:>9.1%} {ex:>6.1%}"
        )
        for k in tot:
            tot[k] += r[k]
    print(
        f"{'all':<14} {tot['gold']:>8} {tot['found']:>6} {tot['found'] / tot['gold']:>7.1%} "
        f"{tot['pred']:>8} {tot['correct']:>7} {tot['correct'] / max(1, tot['pred']):>9.1%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
