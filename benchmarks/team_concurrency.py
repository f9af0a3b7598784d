"""N investigators on one store at once: each a separate process (as each dashboard page or hub
user has its own kernel) acting as a different project user, doing rounds of
create issue -> upload a log -> one chat turn against a local OpenAI-compatible server.

Prints p50/p95/max latency of each action, errors, lost writes (rows expected vs stored) and the
memory of each investigator process, for each N.

    .venv/bin/python benchmarks/team_concurrency.py                 # N = 10, 25, 50; 3 rounds
    .venv/bin/python benchmarks/team_concurrency.py --n 10 --rounds 2

The chat server is the project's fake provider (tests/fakes/servers.py) in this process, so the
figures are the workbench's own cost (store, PII guard, audit chain), not a model's.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LOG_LINE = ("2026-12-01T09:{m:02d}:{s:02d}Z checkout-{i} ERROR upstream 10.0.{a}.{b}:5432 timed out after 3000ms "
            "user=jane.doe{i}@example.org request_id={i:08x}\n")


def make_log(path: Path, lines: int = 800) -> None:
    with open(path, "w") as fh:
        for i in range(lines):
            fh.write(LOG_LINE.format(m=i % 60, s=(i * 7) % 60, i=i, a=i % 250, b=(i * 3) % 250))


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


def worker(data_dir, key, username, rounds, log_path, start_at, results):
    os.environ["TFTSR_DB_KEY"] = key
    import tftsr_kernel
    from tftsr_kernel.errors import TftsrError

    t0 = time.perf_counter()
    wb = tftsr_kernel.open(data_dir)
    wb.team.act_as(wb.team.actor_for(username, "session"))
    open_s = time.perf_counter() - t0
    lat = {"create": [], "upload": [], "chat": []}
    errors = []
    # warm-up, not timed: the first upload compiles the PII patterns and the first chat imports
    # the provider client, once per kernel
    warm = wb.issues.create_issue(f"{username} warm-up", None, "low")
    wb.attachments.upload_log_file(warm.id, log_path)
    wb.chat.chat_message(warm.id, "warm-up", stream=False)
    while time.time() < start_at:  # everyone starts together
        time.sleep(0.005)
    for r in range(rounds):
        try:
            t = time.perf_counter()
            issue = wb.issues.create_issue(f"{username} round {r}: checkout 503s", "bench", "high",
                                           tags=[f"bench-{username}"])
            lat["create"].append(time.perf_counter() - t)
            t = time.perf_counter()
            wb.attachments.upload_log_file(issue.id, log_path)
            lat["upload"].append(time.perf_counter() - t)
            t = time.perf_counter()
            wb.chat.chat_message(issue.id, f"Why did checkout fail for {username}? Last error from 10.0.1.2",
                                 stream=False)
            lat["chat"].append(time.perf_counter() - t)
        except TftsrError as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put({"user": username, "lat": lat, "errors": errors, "rss_mb": rss_mb, "open_s": open_s})


def run(n: int, rounds: int, tmp: Path, server) -> dict:
    import tftsr_kernel

    data_dir = tmp / f"n{n}"
    key = os.urandom(32).hex()
    os.environ["TFTSR_DB_KEY"] = key
    wb = tftsr_kernel.open(data_dir, key=key, shared=False)
    wb.team.create_user("boss", "admin")
    for i in range(n):
        wb.team.create_user(f"inv{i:02d}", "analyst")
    wb.providers.add_provider("local", "openai", server.url, "gpt-4o-mini", api_key="bench-key-0123456789")
    log_path = tmp / "checkout.log"
    if not log_path.exists():
        make_log(log_path)
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 10.0 + 0.6 * n  # time for every process to import and derive the key
    procs = [ctx.Process(target=worker, args=(str(data_dir), key, f"inv{i:02d}", rounds, str(log_path), start_at,
                                              results)) for i in range(n)]
    for p in procs:
        p.start()
    got = [results.get(timeout=900) for _ in procs]
    for p in procs:
        p.join(60)
    wall = time.time() - start_at
    stored = {
        "issues": wb.db.query_one("SELECT count(*) FROM issues")[0],
        "logs": wb.db.query_one("SELECT count(*) FROM log_files")[0],
        "messages": wb.db.query_one("SELECT count(*) FROM ai_messages")[0],
    }
    chain = wb.audit.verify()
    wb.close()
    lat = {a: [x for g in got for x in g["lat"][a]] for a in ("create", "upload", "chat")}
    errors = [e for g in got for e in g["errors"]]
    expected = n * rounds
    done = {a: len(v) for a, v in lat.items()}
    # each process also stored one warm-up issue, log and chat turn
    lost = {"issues": done["create"] + n - stored["issues"], "logs": done["upload"] + n - stored["logs"],
            "messages": 2 * (done["chat"] + n) - stored["messages"]}
    return {"n": n, "rounds": rounds, "expected": expected, "lat": lat, "errors": errors, "stored": stored,
            "lost": lost, "rss": [g["rss_mb"] for g in got], "open": [g["open_s"] for g in got],
            "wall": wall, "chain_ok": chain.ok, "chain_entries": chain.entries}


def report(res: dict) -> None:
    n = res["n"]
    print(f"\nN = {n} investigators x {res['rounds']} rounds (wall {res['wall']:.1f} s after the common start)")
    print(f"  {'action':8} {'done':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for a, v in res["lat"].items():
        ms = [x * 1000 for x in v]
        print(f"  {a:8} {len(v):5d} {pct(ms, 50):8.0f} {pct(ms, 95):8.0f} {max(ms) if ms else float('nan'):8.0f}")
    print(f"  open (key derivation + migrations check) p50 {pct(res['open'], 50):.2f} s, max {max(res['open']):.2f} s")
    print(f"  errors: {len(res['errors'])}" + (f" (first: {res['errors'][0]})" if res["errors"] else ""))
    print(f"  stored: {res['stored']}; lost writes: {res['lost']}; audit chain ok={res['chain_ok']} "
          f"({res['chain_entries']} entries)")
    print(f"  memory per investigator process: median {statistics.median(res['rss']):.0f} MB, "
          f"max {max(res['rss']):.0f} MB (peak RSS)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, action="append", help="investigators (repeatable; default 10, 25, 50)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    from tests.fakes.servers import FakeProviderServer

    load = os.getloadavg()[0]
    print(f"team concurrency benchmark, {os.cpu_count()} CPUs, load average {load:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="tftsr-team-bench-") as tmp, \
            FakeProviderServer("openai", reply_fn=lambda req: "The upstream database at [IPv4_1] timed out. "
                               "Why did the pool run dry?") as server:
        for n in args.n or [10, 25, 50]:
            report(run(n, args.rounds, Path(tmp), server))
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
