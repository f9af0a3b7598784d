"""Cost of the durable store and the keyed audit log, next to the code before them.

    .venv/bin/python benchmarks/store_write.py [--issues 300] [--rekey-mb 200] [--peer REV]

Each write (``create_issue``: one transaction with its audit entry) now fsyncs the WAL
(``synchronous = FULL``), computes an HMAC and moves the signed head file forward. The peer is the
same workload on the code at ``--peer`` (default: the commit before this work), unpacked with
``git archive`` into a temporary directory and run in the same minutes. Also times ``verify``
over that log, and ``rekey`` of a database of ``--rekey-mb`` MB (the peer's ``PRAGMA rekey``
fails above ~64 MB, so it is timed at 48 MB; this code at 48 MB and at the full size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

WORKLOAD = r"""
import json, os, sys, time
import tftsr_kernel
from tftsr_kernel._util import utc_now, uuid7
d, n, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
wb = tftsr_kernel.open(d)
t = time.perf_counter()
for i in range(n):
    wb.issues.create_issue(f"issue {i}", "benchmark")
write_s = time.perf_counter() - t
t = time.perf_counter()
problems, chain = wb.verify()
verify_s = time.perf_counter() - t
out = {"writes_per_s": n / write_s, "verify_s": verify_s, "ok": (not problems) and chain.ok}
if mb:
    issue = wb.issues.create_issue("big")
    chunk = 8 * 1024 * 1024
    for _ in range(max(1, mb * 1024 * 1024 // chunk)):
        lid = uuid7()
        with wb.db.write() as conn:
            conn.execute("INSERT INTO log_files(id, issue_id, file_name, file_path, file_size, mime_type,"
                         " content_hash, uploaded_at, content_compressed) VALUES (?,?,?,?,?,?,?,?,randomblob(?))",
                         (lid, issue.id, "bulk.log", "", chunk, "text/plain", "", utc_now(), chunk))
            wb.audit.write_audit_event("upload_log_file", "log_file", lid, {"issue_id": issue.id})
    wb.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
    out["db_mb"] = os.path.getsize(os.path.join(d, "tftsr.db")) / 1e6
    t = time.perf_counter()
    try:
        wb.rekey()
        out["rekey_s"] = time.perf_counter() - t
    except Exception as exc:
        out["rekey_error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def run(pythonpath: Path, n: int, mb: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="tftsr-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TFTSR_")}
        env["PYTHONPATH"] = str(pythonpath)
        p = subprocess.run([sys.executable, "-c", WORKLOAD, str(Path(tmp) / "d"), str(n), str(mb)],
                           env=env, capture_output=True, text=True, timeout=1800)
        if p.returncode:
            raise SystemExit(p.stderr)
        return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--issues", type=int, default=300)
    ap.add_argument("--rekey-mb", type=int, default=200)
    ap.add_argument("--peer", default="160acef", help="git revision of the code to compare with")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tftsr-peer-") as peer_dir:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.peer], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", peer_dir], input=archive.stdout, check=True)
        peer = run(Path(peer_dir), args.issues, 48)
        this48 = run(REPO, args.issues, 48)
        this = run(REPO, args.issues, args.rekey_mb)
    print(f"create_issue (one transaction + audit entry), {args.issues} in a row:")
    print(f"  this code: {this48['writes_per_s']:.0f}/s and {this['writes_per_s']:.0f}/s   "
          f"peer ({args.peer}): {peer['writes_per_s']:.0f}/s")
    print(f"verify of that database: this code {this48['verify_s']:.2f} s, peer {peer['verify_s']:.2f} s")
    print(f"rekey at {this48['db_mb']:.0f} MB: this code {this48.get('rekey_s', float('nan')):.1f} s, "
          f"peer {peer.get('rekey_s', float('nan')):.1f} s {peer.get('rekey_error', '')}")
    print(f"rekey at {this['db_mb']:.0f} MB: this code "
          f"{this.get('rekey_s', float('nan')):.1f} s {this.get('rekey_error', '')}")


if __name__ == "__main__":
    main()
