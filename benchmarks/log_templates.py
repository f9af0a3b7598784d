"""Log templates: grouping accuracy on loghub's 16 ``*_2k.log`` files, and speed on ~49 MB.

    .venv/bin/python benchmarks/log_templates.py [--copies 11] [--skip-speed] [--only HDFS,Apache]
    .venv/bin/python benchmarks/log_templates.py --skip-accuracy --copies-as shifted|distinct
    .venv/bin/python benchmarks/log_templates.py --skip-accuracy --peer   # + drain3 on the same lines

Accuracy: each data set's ``*_2k.log`` is mined by ``tftsr_kernel.logs.mine_lines`` (the same
code ``tftsr log templates`` runs; same settings for every data set), and compared with the
``EventId`` of each line in ``*_2k.log_structured.csv``. Grouping accuracy is the definition of
the loghub papers: a line is parsed correctly when the set of lines in its template group equals
the set of lines of its ground-truth event; accuracy = correct lines / all lines. Printed beside
the figure published for Drain in Zhu et al., "Tools and Benchmarks for Automated Log Parsing"
(ICSE-SEIP 2019, Table III; reproduced in logpai/logparser docs/benchmark.md), average 0.865.
Note: the corpus under /work/shared/corpus/loghub holds the later, corrected ground truth of
loghub's 2k samples, so the comparison is with the figure as published, not a re-run.

Speed: the 16 files concatenated ``--copies`` times (as benchmarks/pii_speed.py builds it, ~49 MB
at 11), uploaded to a real encrypted store in a temporary directory, then ``tftsr log templates``
run as a subprocess (start-up, reading the gzip from SQLCipher, mining, storing the result);
prints seconds, MB/s and the command's peak RSS against the file size (target: < 10 s,
RSS <= 3x the file). The loghub data are read at run time from /work/shared/corpus and never
copied into the repository.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LOGHUB = Path("/work/shared/corpus/loghub")

#: Drain's grouping accuracy as published (Zhu et al. 2019, Table III)
PUBLISHED_DRAIN = {
    "HDFS": 0.998, "Hadoop": 0.948, "Spark": 0.920, "Zookeeper": 0.967, "OpenStack": 0.733, "BGL": 0.963,
    "HPC": 0.887, "Thunderbird": 0.955, "Windows": 0.997, "Linux": 0.690, "Mac": 0.787, "Android": 0.911,
    "HealthApp": 0.780, "Apache": 1.000, "OpenSSH": 0.788, "Proxifier": 0.527,
}
ORDER = list(PUBLISHED_DRAIN)


def grouping_accuracy(predicted: list, truth: list) -> float:
    """Share of lines whose predicted group holds exactly the lines of their true group."""
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predicted against {len(truth)} true labels")
    true_size: dict = defaultdict(int)
    for t in truth:
        true_size[t] += 1
    groups: dict = defaultdict(list)
    for i, p in enumerate(predicted):
        groups[p].append(i)
    correct = 0
    for members in groups.values():
        labels = {truth[i] for i in members}
        if len(labels) == 1 and true_size[next(iter(labels))] == len(members):
            correct += len(members)
    return correct / len(truth) if truth else 1.0


def load(name: str) -> tuple[list[str], list[str]]:
    d = LOGHUB / name
    raw = (d / f"{name}_2k.log").read_bytes().decode("utf-8", "surrogateescape")
    lines = raw.splitlines()
    with open(d / f"{name}_2k.log_structured.csv", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        truth = [row["EventId"] for row in csv.DictReader(fh)]
    return lines, truth


def accuracy(only: list[str] | None = None) -> dict[str, float]:
    from tftsr_kernel.logs import mine_lines

    results = {}
    print(f"{'data set':<12} {'lines':>6} {'templates':>9} {'ts format':<16} {'accuracy':>8}  {'Drain (pub.)':>12}")
    for name in ORDER:
        if only and name not in only:
            continue
        lines, truth = load(name)
        ts = mine_lines(lines, year=2020)
        acc = grouping_accuracy(ts.line_templates.tolist(), truth)
        results[name] = acc
        mark = "" if acc + 1e-9 >= PUBLISHED_DRAIN[name] else "  (below)"
        print(f"{name:<12} {len(lines):>6} {len(ts.templates):>9} {ts.timestamp_format or '-':<16} {acc:>8.3f}"
              f"  {PUBLISHED_DRAIN[name]:>12.3f}{mark}")
    if results:
        avg = sum(results.values()) / len(results)
        pub = sum(PUBLISHED_DRAIN[n] for n in results) / len(results)
        print(f"{'average':<12} {'':>6} {'':>9} {'':<16} {avg:>8.3f}  {pub:>12.3f}")
    return results


def _peak_rss_kb(proc: subprocess.Popen) -> int:
    """Peak RSS of the running ``proc`` (polled; it is not reaped here, so its CPU time can be read)."""
    peak = 0
    while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)
    return peak


_YEAR = re.compile(rb"(?<!\d)(19|20)(\d\d)(?!\d)")
_DIGITS = re.compile(rb"\d")


def shifted_copy(blob: bytes, k: int, distinct: bool = False) -> bytes:
    """Copy ``k`` of the corpus: the first 4-digit year in each line's first 40 bytes moved ``k``
    years on, so the copies' times differ (formats without a year in the header, syslog and HDFS,
    keep theirs). ``distinct`` also rotates every digit after byte 40 by ``k``, so no line content
    repeats an earlier copy's (a stress case: each line is mined, none is a dictionary hit, and
    ids such as ``R02-M1`` become new constants)."""
    if k == 0:
        return blob
    rot = bytes.maketrans(b"0123456789", bytes(b"0123456789"[(i + k) % 10] for i in range(10)))
    out = []
    for line in blob.split(b"\n"):
        head, tail = line[:40], line[40:]
        head = _YEAR.sub(lambda m: b"%d" % (int(m.group(0)) + k), head, count=1)
        out.append(head + (tail.translate(rot) if distinct else tail))
    return b"\n".join(out)


def speed(copies: int, variant: str = "same") -> None:
    logs = sorted(LOGHUB.glob("*/*_2k.log"))
    if len(logs) != 16:
        raise SystemExit(f"expected 16 loghub *_2k.log files under {LOGHUB}, found {len(logs)}")
    blob = b"".join(p.read_bytes() for p in logs)
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "loghub-x.log"
        with open(big, "wb") as f:
            for k in range(copies):
                f.write(blob if variant == "same" else shifted_copy(blob, k, variant == "distinct"))
        size = big.stat().st_size
        env = dict(os.environ, TFTSR_DATA_DIR=str(Path(tmp) / "data"), TFTSR_DB_KEY="bench-" + "k" * 32,
                   PYTHONPATH=str(ROOT))
        cli = [sys.executable, "-m", "tftsr_kernel.cli"]

        def run(*args) -> str:
            return subprocess.run(cli + list(args), env=env, check=True, capture_output=True, text=True).stdout

        import json

        issue = json.loads(run("issue", "create", "--title", "bench", "--json"))["id"]
        log_id = json.loads(run("log", "upload", issue, str(big), "--json"))["id"]
        for label, extra in (("first (mines and stores)", []), ("second (reads the stored result)", [])):
            out_path = Path(tmp) / "out.json"
            with open(out_path, "wb") as out, open(Path(tmp) / "err.txt", "wb") as err:
                t = time.perf_counter()
                proc = subprocess.Popen(cli + ["log", "templates", log_id, "--top", "10", "--json"] + extra,
                                        env=env, stdout=out, stderr=err)
                peak = _peak_rss_kb(proc)
                _pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                dt = time.perf_counter() - t
                cpu = usage.ru_utime + usage.ru_stime
            if proc.returncode != 0:
                raise SystemExit((Path(tmp) / "err.txt").read_text())
            doc = json.loads(out_path.read_bytes())
            print(f"log templates ({variant} copies), {label}: {size / 1e6:.1f} MB, {len(doc['line_templates'])} lines, "
                  f"{dt:.2f} s ({size / 1e6 / dt:.1f} MB/s; CPU {cpu:.2f} s), peak RSS {peak / 1024:.0f} MB "
                  f"= {peak * 1024 / size:.2f}x the file")


def peer(copies: int, variant: str) -> None:
    """In one process, the same lines: ``mine_lines`` (timestamps cut, templates, per-minute
    counts, bursts) against drain3's ``TemplateMiner.add_log_message`` per line (same depth,
    similarity and masks as ours; drain3 keeps no per-line result, no times, no bursts). CPU
    seconds of the mining only (the file is in memory for both)."""
    try:
        from drain3 import TemplateMiner as Drain3
        from drain3.masking import MaskingInstruction
        from drain3.template_miner_config import TemplateMinerConfig
    except ImportError:
        print("peer: drain3 is not installed (pip install '.[bench]'); skipped")
        return
    from tftsr_kernel.logs import mine_lines
    from tftsr_kernel.logs.drain import MASKS

    logs = sorted(LOGHUB.glob("*/*_2k.log"))
    blob = b"".join(p.read_bytes() for p in logs)
    data = b"".join(blob if variant == "same" else shifted_copy(blob, k, variant == "distinct") for k in range(copies))
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    t = time.process_time()
    ours = mine_lines(lines, year=2020)
    t_ours = time.process_time() - t
    cfg = TemplateMinerConfig()
    cfg.drain_depth, cfg.drain_sim_th = 4, 0.5
    cfg.masking_instructions = [MaskingInstruction(m, "*") for m in MASKS]
    cfg.profiling_enabled = False
    miner = Drain3(config=cfg)
    t = time.process_time()
    for line in lines:
        miner.add_log_message(line)
    t_peer = time.process_time() - t
    mb = len(data) / 1e6
    print(f"peer, {variant} copies, {mb:.1f} MB, {len(lines)} lines, mining CPU: ours {t_ours:.2f} s "
          f"({len(ours.templates)} templates), drain3 0.9.11 {t_peer:.2f} s ({len(miner.drain.clusters)} clusters);"
          f" ratio drain3/ours {t_peer / t_ours:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=11)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--only", help="comma-separated data sets")
    ap.add_argument("--copies-as", choices=("same", "shifted", "distinct"), default="same",
                    help="copies byte for byte (default), with shifted years, or also with rotated digits")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--peer", action="store_true", help="also mine the same lines with drain3 (in process)")
    args = ap.parse_args()
    if not args.skip_accuracy:
        accuracy(args.only.split(",") if args.only else None)
    if not args.skip_speed:
        speed(args.copies, args.copies_as)
    if args.peer:
        peer(args.copies, args.copies_as)


if __name__ == "__main__":
    main()
