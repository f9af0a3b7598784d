"""Dashboard load time with 10,000 issues: navigation to an interactive issue list, in Chromium.

Run:  .venv/bin/python benchmarks/dashboard_load.py [--issues 10000] [--runs 5]

Builds a fresh encrypted database in a temp dir (issues inserted in bulk with the FTS triggers
firing as in the application), starts ``tftsr dashboard`` on a free loopback port, then for each
run opens a new browser context (cold cache, no session cookie) in headless Chromium
(/usr/bin/chromium), navigates to the dashboard's URL with its token and stops the clock when the first issue row is clickable (Playwright's
actionability check: attached, visible, stable, enabled). One warm-up load is not counted (it
fills the OS page cache). Also times a trivial Voila page (one ``print`` cell, no preheated kernel:
Voila's default) on the same machine as the baseline. Between runs the script waits 8 s so the
dashboard's pool of one preheated kernel is refilled, as it is between real visits. Prints the median and every run, and the command that produced them.
Target: <= 2.5 s.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
WORDS = ("checkout payment gateway timeout latency pool exhausted database replica failover dns resolver "
         "certificate expired kubernetes pod crashloop oom killed node disk full kafka lag consumer broker "
         "redis eviction memory leak heap gc pause deadlock nginx upstream tls handshake vpn bgp firewall").split()


def build(data_dir: Path, n: int) -> None:
    import tftsr_kernel
    from tftsr_kernel._util import to_json, uuid7

    wb = tftsr_kernel.open(data_dir)
    rng = random.Random(7)
    sev = ("critical", "high", "medium", "low")
    status = ("open", "investigating", "resolved", "closed")
    cats = ("linux", "network", "kubernetes", "databases", "application", None)
    rows = []
    for i in range(n):
        ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(1_700_000_000 + i * 60))
        rows.append((uuid7(), " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize(),
                     " ".join(rng.choices(WORDS, k=rng.randint(10, 40))), rng.choice(sev), rng.choice(status),
                     rng.choice(cats), ts, ts, to_json([])))
    with wb.db.write() as conn:
        conn.executemany("INSERT INTO issues(id, title, description, severity, status, category, created_at,"
                         " updated_at, tags) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    wb.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
    wb.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def measure(url: str, selector: str, runs: int, pause: float = 8.0) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("TFTSR_CHROMIUM", "/usr/bin/chromium"),
                                    headless=True, args=CHROMIUM_ARGS)
        for i in range(runs + 1):
            ctx = browser.new_context()
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(url, wait_until="commit")
            page.locator(selector).first.click(trial=True, timeout=60_000)
            elapsed = time.perf_counter() - t0
            if i:  # the first load is a warm-up
                times.append(elapsed)
            ctx.close()
            time.sleep(pause)  # let Voila refill its pool of preheated kernels, as between real visits
        browser.close()
    return times


def serve(argv: list[str], env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_port(port)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-baseline", action="store_true", help="skip the trivial-Voila-page baseline")
    args = ap.parse_args()
    tftsr = str(Path(sys.executable).with_name("tftsr"))
    with tempfile.TemporaryDirectory(prefix="tftsr-bench-") as tmp:
        data = Path(tmp) / "data"
        t = time.perf_counter()
        build(data, args.issues)
        print(f"built {args.issues:,} issues in {time.perf_counter() - t:.1f} s")
        env = dict(os.environ, TFTSR_DATA_DIR=str(data))
        env.pop("TFTSR_DB_KEY", None)

        port = free_port()
        token = secrets.token_urlsafe(24)  # the dashboard always requires one
        proc = serve([tftsr, "dashboard", "--port", str(port), "--token", token], env, port)
        try:
            dash = measure(f"http://127.0.0.1:{port}/?token={token}", ".tftsr-open-issue", args.runs)
        finally:
            stop(proc)

        base = []
        if not args.no_baseline:
            import nbformat
            from nbformat.v4 import new_code_cell, new_notebook

            nb_path = Path(tmp) / "trivial.ipynb"
            nbformat.write(new_notebook(cells=[new_code_cell("print('ready')")],
                                        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}}), nb_path)
            port = free_port()
            proc = serve([sys.executable, "-m", "voila", str(nb_path), "--no-browser", f"--port={port}",
                          "--Voila.ip=127.0.0.1"], env, port)
            try:
                base = measure(f"http://127.0.0.1:{port}/", "text=ready", args.runs)
            finally:
                stop(proc)

    cmd = " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/dashboard_load.py", *sys.argv[1:]])
    print(f"dashboard, {args.issues:,} issues: navigation -> first issue row clickable, median "
          f"{statistics.median(dash):.2f} s (runs: {', '.join(f'{x:.2f}' for x in dash)}; target <= 2.5 s)")
    if base:
        print(f"baseline, trivial Voila page: median {statistics.median(base):.2f} s "
              f"(runs: {', '.join(f'{x:.2f}' for x in base)})")
    print(f"command: {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
