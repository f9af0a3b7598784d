"""Where the CPU time of ``tftsr pii redact`` goes on the 49 MB loghub file, next to ripgrep.

    .venv/bin/python benchmarks/pii_speed_floor.py [--copies 11] [--rounds 5]

``benchmarks/pii_speed.py`` compares wall times; on the shared 2-vCPU VM these move by 2x with
the other work on the host, so this script compares CPU seconds (user + system), which move
far less, and splits ours into its parts.  Each round measures, one after the other (rounds
interleaved, so the host's drift hits every part alike):

* the hyperscan pass over the file's 2 MiB chunks with no match callback (the C scan alone:
  the floor of any design that uses this database), with a no-op Python callback, and with
  the engine's own callback (``Engine.scan``, hits collected per rule);
* the rule handlers alone (``Engine.raw`` on the hits collected before);
* ``redact_file(..., workers=1)`` in this process (reading, scan, handlers, merging, cutting,
  placeholders, writing to /dev/null);
* the command's start-up (``tftsr pii redact`` of a 1-line file) and the whole command with
  ``--workers 1`` (one process) on the file, output to /dev/null;
* the peer: ``rg --passthru -r '[PII]' -f PATTERNS FILE`` (the reference app's 13 patterns).

It prints the minimum and the median per part.  Needs ``rg`` on PATH.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from pii_speed import build, write_rg_patterns  # noqa: E402


def child_cpu(cmd: list[str], env: dict) -> float:
    """CPU seconds (user + system) of one run of ``cmd``, stdout to /dev/null."""
    with open(os.devnull, "wb") as fo:
        proc = subprocess.Popen(cmd, stdout=fo, env=env, cwd=ROOT)
        _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:4]} failed with status {status}")
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=11)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    rg = shutil.which("rg")
    if rg is None:
        raise SystemExit("ripgrep (rg) is not on PATH: apt-get install -y ripgrep")

    from tftsr_kernel.pii import _io
    from tftsr_kernel.pii._engine import engine_for
    from tftsr_kernel.pii.rules import RULES

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tftsr_kernel")], check=True, stdout=subprocess.DEVNULL)
    tmp = Path(tempfile.mkdtemp(prefix="tftsr-pii-floor-"))
    try:
        src = tmp / "loghub.log"
        size = build(src, a.copies)
        patterns = tmp / "reference.patterns"
        write_rg_patterns(patterns)
        one_line = tmp / "one.log"
        one_line.write_text("sshd: Accepted password for root from 10.0.0.1 port 22\n")
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        cli = [sys.executable, "-m", "tftsr_kernel.cli", "pii", "redact"]

        eng = engine_for(None)
        data = src.read_bytes()
        step = _io.CHUNK_SIZE
        chunks = [data[i : i + step] for i in range(0, len(data), step)]
        texts = [c.decode("utf-8", "surrogateescape") for c in chunks]
        if not all(c.isascii() for c in chunks):
            raise SystemExit("expected ASCII loghub text")

        def noop(_i, _f, _t, _fl, _c):
            return None

        parts = {
            "C scan only (no callback)": [],
            "scan + no-op Python callback": [],
            "scan + hits per rule (Engine.scan)": [],
            "rule handlers alone (Engine.raw on those hits)": [],
            "redact_file in process (workers=1)": [],
            "command start-up (1-line file)": [],
            "tftsr pii redact --workers 1 FILE": [],
            "rg --passthru -r '[PII]' -f PATTERNS FILE": [],
        }
        names = list(parts)
        hits_total = 0
        pt = time.process_time
        for _r in range(a.rounds):
            was = gc.isenabled()
            gc.disable()
            t = pt()
            for c in chunks:
                eng.db.scan(c)
            parts[names[0]].append(pt() - t)
            t = pt()
            for c in chunks:
                eng.db.scan(c, match_event_handler=noop)
            parts[names[1]].append(pt() - t)
            t = pt()
            buckets = [eng.scan(c) for c in chunks]
            parts[names[2]].append(pt() - t)
            hits_total = sum(len(h) for b in buckets for h in b)
            t = pt()
            for text, c, b in zip(texts, chunks, buckets):
                eng.raw(text, c, None, b)
            parts[names[3]].append(pt() - t)
            del buckets
            if was:
                gc.enable()
            with open(os.devnull, "wb") as out:
                t = pt()
                stats = _io.redact_file(src, out, workers=1)
                parts[names[4]].append(pt() - t)
            parts[names[5]].append(child_cpu(cli + [str(one_line)], env))
            parts[names[6]].append(child_cpu(cli + ["--workers", "1", str(src)], env))
            parts[names[7]].append(child_cpu([rg, "--passthru", "-r", "[PII]", "-f", str(patterns), str(src)], env))

        print(
            f"file: {size / 1e6:.1f} MB ({a.copies} x 16 loghub logs), {len(RULES)} rules, {hits_total} anchor hits,"
            f" {stats.spans} spans; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs when done"
        )
        print(f"CPU seconds (user + system), min / median of {a.rounds} interleaved rounds:")
        for k in names:
            v = parts[k]
            print(f"  {k:48s} {min(v):6.3f} / {statistics.median(v):6.3f}")
        med = {k: statistics.median(v) for k, v in parts.items()}
        rest = med[names[4]] - med[names[2]] - med[names[3]]
        print(
            f"  -> Python callbacks {med[names[2]] - med[names[0]]:.3f}, handlers {med[names[3]]:.3f}, reading + merging +"
            f" cutting + placeholders + writing {rest:.3f} (medians)"
        )
        print(f"  -> ratio of CPU seconds rg / ours (whole command): median {med[names[7]] / med[names[6]]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
