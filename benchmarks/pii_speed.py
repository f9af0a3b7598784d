"""End-to-end speed and memory of ``tftsr pii redact FILE`` on ~49 MB of logs, next to ripgrep.

    .venv/bin/python benchmarks/pii_speed.py [--copies 11] [--runs 3] [--keep] [--re-yardstick]

The peer, in the same run: ``rg --passthru -r '[PII]' -f PATTERNS FILE > OUT`` with the
reference app's 13 patterns (``benchmarks/pii_false_positives.py``'s ``REFERENCE``, written to
a patterns file), timed right before and right after each run of ours (the mean of the two
is the peer's time for that run, so the shared VM's drift hits both).  Each run prints both
times and ``ratio = rg_time / our_time`` (>= 1.0: we are at least as fast as ripgrep), then the
median ratio.  Needs ``rg`` on PATH (``apt-get install -y ripgrep``).

Builds the 16 loghub ``*_2k.log`` files concatenated ``--copies`` times in a temporary
directory, runs ``tftsr pii redact FILE`` as a subprocess with stdout to a file (start-up, hyperscan
database load, reading, detection and writing all included), and prints MB/s (MB = 10^6
bytes) and peak RSS: the sum of the peaks of the command and of its scan helper process
(files this size get one on a machine with two CPUs; see ``tftsr_kernel.pii.auto_workers``).  The package is byte-compiled first (``compileall``), as an installed
package would be.  The first run may compile the pattern database and write its cache; the
figures printed are for each run and the best/median.  Before each run the reference app's 13
regexes are timed with Python ``re`` on 1 MB of the file (the brief quotes 1.7 MB/s for that):
CPU speed on shared VMs drifts by up to 2x, and this yardstick shows the state of each run.  Then the output is checked: every IPv4
address that ``grep -oE '([0-9]{1,3}\\.){3}[0-9]{1,3}'`` finds in the loghub OpenSSH and Linux
logs (valid octets only) must be absent from the redacted output.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGHUB = Path("/work/shared/corpus/loghub")
IPV4 = re.compile(rb"([0-9]{1,3}\.){3}[0-9]{1,3}")


def build(path: Path, copies: int) -> int:
    logs = sorted(LOGHUB.glob("*/*_2k.log"))
    if len(logs) != 16:
        raise SystemExit(f"expected 16 loghub *_2k.log files under {LOGHUB}, found {len(logs)}")
    blob = b"".join(p.read_bytes() for p in logs)
    with open(path, "wb") as f:
        for _ in range(copies):
            f.write(blob)
    return len(blob) * copies


def reference_re_speed(src: Path, nbytes: int = 2_000_000) -> float:
    """MB/s of the reference app's 13 regexes run with Python ``re`` over the first ``nbytes``
    of the file (the brief quotes 1.7 MB/s for this): a yardstick for this machine's speed."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pii_false_positives import REFERENCE

    with open(src, "rb") as f:
        text = f.read(nbytes).decode("utf-8", "surrogateescape")
    rxs = [re.compile(p) for _t, p in REFERENCE]
    t = time.perf_counter()
    for rx in rxs:
        for _m in rx.finditer(text):
            pass
    return nbytes / 1e6 / (time.perf_counter() - t)


def write_rg_patterns(path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pii_false_positives import REFERENCE

    path.write_text("".join(p + "\n" for _t, p in REFERENCE))


def rg_time(rg: str, patterns: Path, src: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one ripgrep run."""
    with open(out, "wb") as fo:
        t = time.perf_counter()
        proc = subprocess.Popen([rg, "--passthru", "-r", "[PII]", "-f", str(patterns), str(src)], stdout=fo)
        _pid, status, usage = os.wait4(proc.pid, 0)
        dt = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"rg failed with status {status}")
        return dt, usage.ru_utime + usage.ru_stime


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except (OSError, ValueError):
        return []


class TreePeak(threading.Thread):
    """Polls the peak RSS (VmHWM) of a process and of its child processes (the scan helper)
    every 20 ms (a high-water mark: rare samples suffice); ``total_kb`` is the sum of the per-process peaks, an upper bound of the memory
    the command held at once."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peaks, self.done = pid, {}, threading.Event()

    def run(self):
        while not self.done.is_set():
            for p in [self.pid] + _children(self.pid):
                kb = _hwm_kb(p)
                if kb > self.peaks.get(p, 0):
                    self.peaks[p] = kb
            time.sleep(0.02)

    @property
    def total_kb(self) -> int:
        return sum(self.peaks.values())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=11)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--workers", type=int, help="pass --workers N to the command (default: its own choice)")
    ap.add_argument("--re-yardstick", action="store_true", help="also time the 13 regexes in Python re on 1 MB")
    a = ap.parse_args()
    import shutil

    rg = shutil.which("rg")
    if rg is None:
        raise SystemExit("ripgrep (rg) is not on PATH: apt-get install -y ripgrep")
    tmp = Path(tempfile.mkdtemp(prefix="tftsr-pii-speed-"))
    src = tmp / "loghub_x{}.log".format(a.copies)
    size = build(src, a.copies)
    out = tmp / "redacted.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    tftsr = Path(sys.executable).with_name("tftsr")  # the console script the README documents
    cmd = [str(tftsr), "pii", "redact", str(src)] if tftsr.exists() else [sys.executable, "-m", "tftsr_kernel.cli", "pii", "redact", str(src)]
    if a.workers:
        cmd[-1:-1] = ["--workers", str(a.workers)]
    # byte-compile first, as an installed package is: this environment may set
    # PYTHONDONTWRITEBYTECODE, which would make every run compile the modules from source
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tftsr_kernel")], check=True, stdout=subprocess.DEVNULL)
    shown = " ".join(["tftsr"] + cmd[cmd.index("pii"):-1] + ["FILE > OUT"])
    patterns = tmp / "reference.patterns"
    write_rg_patterns(patterns)
    rg_out = tmp / "rg.out"
    rg_ver = subprocess.run([rg, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    sys.path.insert(0, str(ROOT))
    from tftsr_kernel.pii.rules import RULES  # the rule count, for the record

    print(f"file: {size / 1e6:.1f} MB ({a.copies} x 16 loghub logs), command: {shown} ({len(RULES)} rules)")
    print(f"peer: {rg_ver}: rg --passthru -r '[PII]' -f PATTERNS FILE > OUT (the reference app's 13 patterns)")
    rg_time(rg, patterns, src, rg_out)  # warm the page cache for both
    times = []
    ratios = []
    peak_kb = 0
    for i in range(a.runs):
        ref = reference_re_speed(src, 1_000_000) if a.re_yardstick else None
        load = os.getloadavg()[0]
        rg_before, rg_cpu1 = rg_time(rg, patterns, src, rg_out)
        with open(out, "wb") as fo:
            t = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=fo, env=env, cwd=ROOT)
            sampler = TreePeak(proc.pid)
            sampler.start()
            _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
            dt = time.perf_counter() - t
            sampler.done.set()
            sampler.join()
            proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            print(f"run {i + 1}: exit status {proc.returncode}", file=sys.stderr)
            return 1
        rg_after, rg_cpu2 = rg_time(rg, patterns, src, rg_out)
        rg_dt = (rg_before + rg_after) / 2
        rg_cpu = (rg_cpu1 + rg_cpu2) / 2
        our_cpu = usage.ru_utime + usage.ru_stime  # with the reaped scan helper (RUSAGE_BOTH)
        ratios.append(rg_dt / dt)
        times.append(dt)
        procs = len(sampler.peaks)
        tree_kb = max(sampler.total_kb, usage.ru_maxrss)
        peak_kb = max(peak_kb, tree_kb)
        yard = f"  (Python re yardstick {ref:.2f} MB/s)" if ref is not None else ""
        print(
            f"run {i + 1}: ours {dt:.3f} s = {size / 1e6 / dt:.1f} MB/s, rg {rg_dt:.3f} s"
            f" ({rg_before:.3f} before, {rg_after:.3f} after), ratio rg/ours {rg_dt / dt:.2f};"
            f" peak RSS {tree_kb / 1024:.1f} MB"
            f" ({procs} process{'es' if procs > 1 else ''}; command alone {usage.ru_maxrss / 1024:.1f} MB){yard}"
        )
        print(f"       CPU ours {our_cpu:.2f} s, rg {rg_cpu:.2f} s; load average {load:.1f} on {os.cpu_count()} CPUs")
    best, med = min(times), statistics.median(times)
    print(f"best {size / 1e6 / best:.1f} MB/s, median {size / 1e6 / med:.1f} MB/s")
    print(f"ratio rg_time / our_time: median {statistics.median(ratios):.2f} (runs: {', '.join(f'{r:.2f}' for r in ratios)})")
    both = "; command and scan helper together" if procs > 1 else ""
    print(f"peak memory = {peak_kb / 1024:.1f} MB ({peak_kb * 1024 / size:.2f}x file{both})")

    red = out.read_bytes()
    missing = 0
    for name in ("OpenSSH", "Linux"):
        for p in sorted((LOGHUB / name).glob("*_2k.log")):
            ips = {
                m.group()
                for m in IPV4.finditer(p.read_bytes())
                if all(int(o) <= 255 for o in m.group().split(b"."))
            }
            leaked = sorted(ip for ip in ips if ip in red)
            missing += len(leaked)
            print(f"check {p.name}: {len(ips)} distinct IPv4 addresses, {len(leaked)} still in the output")
            for ip in leaked[:10]:
                print(f"  leaked: {ip.decode()}")
    if a.keep:
        print(f"kept: {tmp}")
    else:
        for f in (src, out, rg_out, patterns):
            f.unlink()
        tmp.rmdir()
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
