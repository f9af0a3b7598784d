"""Kernels and memory left behind by page loads: 50 loads in a row, then one cull period later.

Run:  .venv/bin/python benchmarks/dashboard_kernels.py [--loads 50] [--cull-idle 60] [--baseline-loads 10]

Makes a fresh encrypted database with the demo incident, starts ``tftsr dashboard --json
--cull-idle N`` on a free loopback port and does ``--loads`` page loads in a row, alternating a
curl-like GET of the page with the token (it reads the whole page and never opens the widget
WebSocket) and a real Chromium load (new context, token URL, until the first issue row is
clickable) whose tab is then closed. Right after the loads and again one cull period later
(``--cull-idle`` + the culler's interval + the 30 s grace period for pages never opened, capped by
the timeout) it counts the server's kernels (its ``/api/kernels``) and sums the resident memory
(VmRSS) of the kernel processes (the server's child processes). Prints the figures, the page-load
times (median and max of each kind) and the command.

The peer, same run: Voila 0.5 as ``tftsr dashboard`` served it before (preheated kernel, no
culling; ``--baseline-loads`` curl-like GETs, fewer to spare the machine), counted the same way
after the same wait.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
GRACE = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def kernel_processes(server_pid: int) -> list[int]:
    pids = []
    for pid in children(server_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ipykernel" in cmd:
            pids.append(pid)
    return pids


def snapshot(server_pid: int, api: str | None) -> dict:
    pids = kernel_processes(server_pid)
    out = {"processes": len(pids), "rss_mb": sum(rss_mb(p) for p in pids)}
    if api:
        kernels = json.load(urllib.request.urlopen(api, timeout=30))
        out["kernels"] = len(kernels)
        out["pooled"] = sum(1 for k in kernels if k["pooled"])
    return out


def curl(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as resp:
        resp.read()
    return time.perf_counter() - t0


def start(argv: list[str], env: dict, port: int, read_json: bool) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE if read_json else subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    info: dict = {}
    if read_json:
        text = b""
        while True:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("tftsr dashboard exited")
            text += line
            try:
                info = json.loads(text)
                break
            except ValueError:
                continue
    wait_port(port)
    return proc, info


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for_pool(server_pid: int, api: str | None, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        snap = snapshot(server_pid, api)
        if (snap.get("pooled") if api else snap["processes"]) >= 1:
            return
        time.sleep(0.5)
    raise RuntimeError("the preheated kernel did not start")


def run_dashboard(env: dict, loads: int, cull: int) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    tftsr = str(Path(sys.executable).with_name("tftsr"))
    proc, info = start([tftsr, "dashboard", "--json", "--port", str(port), "--cull-idle", str(cull)], env, port, True)
    base = f"http://127.0.0.1:{port}/"
    api = f"{base}api/kernels?token={info['token']}"
    times = {"curl": [], "chromium": []}
    try:
        wait_for_pool(proc.pid, api)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("TFTSR_CHROMIUM", "/usr/bin/chromium"),
                                        headless=True, args=CHROMIUM_ARGS)
            for i in range(loads):
                if i % 2 == 0:
                    times["curl"].append(curl(info["url"]))
                else:
                    ctx = browser.new_context()
                    page = ctx.new_page()
                    t0 = time.perf_counter()
                    page.goto(info["url"], wait_until="commit")
                    page.locator(".tftsr-open-issue").first.click(trial=True, timeout=120_000)
                    times["chromium"].append(time.perf_counter() - t0)
                    page.close()
                    ctx.close()
            browser.close()
        after = snapshot(proc.pid, api)
        from tftsr_kernel.serve.kernels import cull_interval

        wait = max(cull, GRACE) + cull_interval(cull, min(GRACE, cull)) + 5
        time.sleep(wait)
        later = snapshot(proc.pid, api)
    finally:
        stop(proc)
    return {"times": times, "after": after, "later": later, "wait": wait}


def run_baseline(env: dict, loads: int, wait: float) -> dict:
    """Voila as before: preheated kernel, no token, no culling."""
    port = free_port()
    templates = str(REPO / "notebooks" / "templates")
    benv = dict(env, JUPYTER_PATH=templates + (os.pathsep + env["JUPYTER_PATH"] if env.get("JUPYTER_PATH") else ""))
    argv = [sys.executable, "-m", "voila", str(REPO / "notebooks" / "dashboard.ipynb"), "--no-browser",
            f"--port={port}", "--Voila.ip=127.0.0.1", "--template=tftsr", "--strip_sources=True",
            "--VoilaConfiguration.preheat_kernel=True", "--VoilaConfiguration.default_pool_size=1",
            "--VoilaKernelManager.fill_delay=4"]
    proc, _ = start(argv, benv, port, False)
    try:
        wait_for_pool(proc.pid, None)
        times = [curl(f"http://127.0.0.1:{port}/") for _ in range(loads)]
        after = snapshot(proc.pid, None)
        time.sleep(wait)
        later = snapshot(proc.pid, None)
    finally:
        stop(proc)
    return {"times": times, "after": after, "later": later}


def fmt(snap: dict) -> str:
    n = snap.get("kernels", snap["processes"])
    extra = f", {snap['pooled']} of them the preheated one" if "pooled" in snap else ""
    return f"{n} kernel(s){extra}, {snap['rss_mb']:.0f} MB resident"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=50)
    ap.add_argument("--cull-idle", type=int, default=60)
    ap.add_argument("--baseline-loads", type=int, default=10, help="0 skips the peer")
    args = ap.parse_args()
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    with tempfile.TemporaryDirectory(prefix="tftsr-bench-") as tmp:
        data = Path(tmp) / "data"
        wb = tftsr_kernel.open(data)
        create_demo(wb)
        wb.close()
        env = dict(os.environ, TFTSR_DATA_DIR=str(data))
        env.pop("TFTSR_DB_KEY", None)
        dash = run_dashboard(env, args.loads, args.cull_idle)
        base = run_baseline(env, args.baseline_loads, dash["wait"]) if args.baseline_loads else None

    t = dash["times"]
    cmd = " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/dashboard_kernels.py", *sys.argv[1:]])
    print(f"tftsr dashboard --cull-idle {args.cull_idle}: {args.loads} page loads in a row "
          f"({len(t['curl'])} curl-like GETs, {len(t['chromium'])} Chromium loads that close their tab)")
    print(f"  right after the loads: {fmt(dash['after'])}")
    print(f"  {dash['wait']:.0f} s later: {fmt(dash['later'])}")
    print(f"  page load, Chromium (navigation -> first issue row clickable): median "
          f"{statistics.median(t['chromium']):.2f} s, max {max(t['chromium']):.2f} s")
    print(f"  page load, curl-like GET (whole page): median {statistics.median(t['curl']):.2f} s, "
          f"max {max(t['curl']):.2f} s")
    if base:
        print(f"peer, Voila as served before (preheated kernel, no culling): {args.baseline_loads} curl-like GETs")
        print(f"  right after the loads: {fmt(base['after'])}")
        print(f"  {dash['wait']:.0f} s later: {fmt(base['later'])}")
        print(f"  page load, curl-like GET: median {statistics.median(base['times']):.2f} s")
    print(f"command: {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
