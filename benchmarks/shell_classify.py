"""Classifier and run overhead of ``wb.shell``.

1. ``classify`` over the test table's commands (tests/test_shell_classify.py), next to
   ``shlex.split`` of the same lines (the peer: the least any reader of a command line costs).
2. ``wb.shell.run_shell_command(issue, "true")`` (classify, policies, action row, run, execution
   row, audit and timeline in the encrypted store) next to ``subprocess.run(["true"])``.

    .venv/bin/python benchmarks/shell_classify.py
"""

from __future__ import annotations

import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_shell_classify import TABLE  # noqa: E402
from tftsr_kernel.shell import classify  # noqa: E402


def per_call(fn, items, rounds=20):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        for x in items:
            fn(x)
        times.append((time.perf_counter() - t) / len(items))
    return statistics.median(times)


def main():
    lines = [c for c, _ in TABLE if c.strip()]
    ours = per_call(classify, lines)

    def peer(line):
        try:
            shlex.split(line)
        except ValueError:
            pass

    base = per_call(peer, lines)
    print(f"classify: {ours * 1e6:.1f} us per command ({len(lines)} commands); shlex.split: {base * 1e6:.1f} us; "
          f"ratio {ours / base:.1f}x")
    import tftsr_kernel

    wb = tftsr_kernel.open(tempfile.mkdtemp())
    issue = wb.issues.create_issue("bench")
    runs = []
    for _ in range(30):
        t = time.perf_counter()
        wb.shell.run_shell_command(issue.id, "true")
        runs.append(time.perf_counter() - t)
    bare = []
    for _ in range(30):
        t = time.perf_counter()
        subprocess.run(["true"], check=True)
        bare.append(time.perf_counter() - t)
    print(f"run_shell_command('true'): median {statistics.median(runs) * 1000:.1f} ms; "
          f"subprocess.run(['true']): median {statistics.median(bare) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
