"""``python -m tftsr_kernel.pii FILE``: write FILE to stdout with PII replaced.

Replacements are consistent placeholders (``[IPv4_1]``) by default, ``--mode type`` writes
``[IPv4]`` for every finding.  ``--stats`` prints counts to stderr.  Imports only the PII
package, so it starts fast; ``tftsr pii redact FILE`` calls :func:`main` / :func:`run`.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import TftsrError
from . import DetectorConfig, Pseudonymizer, auto_workers, redact_file, type_token
from ._types import KNOWN_TYPE_NAMES


def run(
    path: str, out, mode: str = "pseudonym", types: str | None = None, stats: bool = False, workers: int = 1
) -> int:
    enabled = None
    if types:
        enabled = frozenset(t.strip() for t in types.split(",") if t.strip())
        unknown = sorted(enabled - KNOWN_TYPE_NAMES)  # toggles, family types and groups ("secrets")
        if unknown:
            print(f"tftsr pii: unknown type(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
    config = DetectorConfig(enabled_types=enabled)
    kwargs = {"replacement_for": type_token} if mode == "type" else {"pseudonymizer": Pseudonymizer()}
    try:
        st = redact_file(path, out, config, workers=workers, **kwargs)
        out.flush()
    except TftsrError as err:
        print(f"tftsr pii: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:
        return 1
    if stats:
        kinds = ", ".join(f"{t} {n}" for t, n in sorted(st.by_type.items()))
        print(f"{st.bytes_in} bytes, {st.spans} findings: {kinds}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tftsr_kernel.pii", description="Redact PII from a file to stdout.")
    ap.add_argument("file")
    ap.add_argument("--mode", choices=("pseudonym", "type"), default="pseudonym")
    ap.add_argument("--types", help="comma-separated types, families or groups (network, personal, financial, "
                    "secrets) to detect (default: all)")
    ap.add_argument("--stats", action="store_true", help="print counts to stderr")
    ap.add_argument(
        "--workers", type=int, default=None,
        help="1: scan in this process; 2: a helper process runs the pattern scan ahead (default: automatic)",
    )
    a = ap.parse_args(argv)
    workers = auto_workers(a.file) if a.workers is None else max(1, a.workers)
    return run(a.file, sys.stdout.buffer, a.mode, a.types, a.stats, workers)


if __name__ == "__main__":
    sys.exit(main())
