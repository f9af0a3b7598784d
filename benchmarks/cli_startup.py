"""Start-up of the ``tftsr`` command: ``tftsr pii scan`` on a two-line file (the fast path that
imports and builds only the ``pii`` command group) next to ``tftsr issue list --help`` (the
issues group; before each command word got its own group, the whole parser with every group
imported) in the same run.

    .venv/bin/python benchmarks/cli_startup.py [--runs 40] [--tree NAME=PATH ...]

With ``--tree`` (repeatable) each command runs with ``PYTHONPATH=PATH`` instead of the installed
package, runs of the trees interleaved, so two checkouts compare under the same load (e.g. a
``git archive`` of an older commit against this one). Prints the median and the minimum of the
wall time, and the median CPU time (user + system of the child), which moves less when other
work shares the machine; all in ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--tree", action="append", metavar="NAME=PATH", default=[])
    opts = ap.parse_args()
    trees = [t.partition("=")[::2] for t in opts.tree] or [("installed", "")]
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.log"
        small.write_text("user alice@example.com from 10.0.0.1\nok\n")
        commands = {"tftsr pii scan FILE": ["pii", "scan", str(small)],
                    "tftsr issue list --help": ["issue", "list", "--help"]}
        times: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for _ in range(opts.runs + 2):  # the first two runs warm the caches and are dropped
            for label, argv in commands.items():
                for name, path in trees:
                    env = dict(os.environ, TFTSR_DATA_DIR=str(Path(tmp) / "data"))
                    if path:
                        env["PYTHONPATH"] = path
                    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    # cwd outside every tree: ``-m`` puts the cwd first on sys.path, before PYTHONPATH
                    subprocess.run([sys.executable, "-m", "tftsr_kernel.cli", *argv], env=env, cwd=tmp,
                                   stdout=subprocess.DEVNULL, check=True)
                    times.setdefault((label, name), []).append((time.perf_counter() - t0) * 1000)
                    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu.setdefault((label, name), []).append(
                        (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
    print(f"python {sys.version.split()[0]}, {opts.runs} runs each, interleaved")
    for key, ms in times.items():
        ms, c = ms[2:], cpu[key][2:]
        print(f"{key[0]:26} {key[1]:10} wall median {statistics.median(ms):6.1f} ms  min {min(ms):6.1f} ms"
              f"  CPU median {statistics.median(c):6.1f} ms")


if __name__ == "__main__":
    main()
