"""Full-text search latency with 100,000 issues, and key derivations per process.

Run:  .venv/bin/python benchmarks/search_fts.py [--issues 100000] [--queries 2000]

Builds a fresh encrypted database in a temp dir (issues inserted in bulk; the FTS5 triggers
index them as the application would), then times ``wb.issues.search_issues`` for queries drawn
from the corpus vocabulary (single words, two-word queries, prefixes, hostile strings). Prints
p50/p95/p99/max in milliseconds and how often the process derived a key.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tftsr_kernel  # noqa: E402
from tftsr_kernel import db as dbmod  # noqa: E402
from tftsr_kernel._util import to_json, utc_now, uuid7  # noqa: E402

WORDS = ("checkout payment gateway timeout latency pool exhausted database replica failover dns resolver "
         "certificate expired kubernetes pod crashloop oom killed node disk full inode journald kafka lag "
         "consumer broker partition redis eviction memory leak jvm heap gc pause thread deadlock nginx 502 "
         "upstream tls handshake vpn tunnel bgp flap packet loss firewall rule ldap bind sso keycloak token "
         "refresh vault seal backup restore snapshot raid degraded smart ssd temperature fan power supply "
         "ilo idrac firmware bios ntp drift clock skew cron job stuck ansible playbook jenkins pipeline "
         "helm chart rollout canary deploy rollback config drift secret rotation quota throttling rate "
         "limit api 429 503 500 elasticsearch shard unassigned prometheus alert grafana dashboard sip rtp "
         "jitter codec asterisk trunk registration ceph osd proxmox vm migration hyperv vmware esxi").split()


def build(data_dir: Path, n: int) -> None:
    wb = tftsr_kernel.open(data_dir)
    rng = random.Random(42)
    sev = ("critical", "high", "medium", "low")
    cats = ("linux", "network", "kubernetes", "databases", "application", None)
    now = utc_now()
    batch = []
    with wb.db.write() as conn:
        for i in range(n):
            title = " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize()
            desc = " ".join(rng.choices(WORDS, k=rng.randint(10, 40)))
            batch.append((uuid7(), title, desc, rng.choice(sev), "open", rng.choice(cats), now, now, to_json([])))
            if len(batch) == 5000:
                conn.executemany("INSERT INTO issues(id, title, description, severity, status, category,"
                                 " created_at, updated_at, tags) VALUES (?,?,?,?,?,?,?,?,?)", batch)
                batch.clear()
        if batch:
            conn.executemany("INSERT INTO issues(id, title, description, severity, status, category,"
                             " created_at, updated_at, tags) VALUES (?,?,?,?,?,?,?,?,?)", batch)
    wb.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
    wb.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--issues", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=2000)
    args = ap.parse_args()

    derivations = 0
    real_connect = dbmod.Database._connect.__func__

    def counting_connect(cls, path, key):
        nonlocal derivations
        derivations += 1
        return real_connect(cls, path, key)

    dbmod.Database._connect = classmethod(counting_connect)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        t0 = time.perf_counter()
        build(data_dir, args.issues)
        print(f"built {args.issues} issues in {time.perf_counter() - t0:.1f} s")
        derivations = 0
        t0 = time.perf_counter()
        wb = tftsr_kernel.open(data_dir)
        first_open = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(100):
            assert tftsr_kernel.open(data_dir) is wb
        reopen = (time.perf_counter() - t0) / 100
        rng = random.Random(7)
        queries = []
        for i in range(args.queries):
            kind = i % 5
            if kind == 0:
                queries.append(rng.choice(WORDS))
            elif kind == 1:
                queries.append(" ".join(rng.sample(WORDS, 2)))
            elif kind == 2:
                queries.append(rng.choice(WORDS)[:3])
            elif kind == 3:
                queries.append(" ".join(rng.sample(WORDS, 3)))
            else:
                queries.append(rng.choice(['"', "AND (", "*", "näive", "'; DROP TABLE issues; --", "pool*"]))
        for q in queries[:50]:  # warm the page cache
            wb.issues.search_issues(q)
        times, hits = [], 0
        for q in queries:
            t0 = time.perf_counter()
            hits += len(wb.issues.search_issues(q))
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        pct = lambda p: times[min(len(times) - 1, int(len(times) * p))]
        print(f"search over {args.issues} issues, {len(times)} queries (limit 50 results each, {hits} rows returned)")
        print(f"  p50 {pct(0.50):.2f} ms  p95 {pct(0.95):.2f} ms  p99 {pct(0.99):.2f} ms  max {times[-1]:.2f} ms"
              f"  mean {statistics.mean(times):.2f} ms")
        print(f"key derivations in this process after the build: {derivations} "
              f"(first open {first_open * 1000:.0f} ms, later open() {reopen * 1e6:.1f} µs)")
        wb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
