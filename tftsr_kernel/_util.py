"""Small helpers shared by the services: ids, timestamps, hashing, JSON."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from datetime import datetime, timezone

_uuid_lock = threading.Lock()
_last_ms = 0
_seq = 0


def uuid7() -> str:
    """A time-ordered UUID version 7 (RFC 9562), monotonic within this process."""
    global _last_ms, _seq
    with _uuid_lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            # same millisecond (or the clock went back): keep order with a 12-bit counter
            _seq += 1
            if _seq > 0xFFF:
                _last_ms += 1
                _seq = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _seq = int.from_bytes(os.urandom(2), "big") & 0x3FF  # leave room to count up
        rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (_seq & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand_b
    return str(uuid.UUID(int=value))


def uuid7_batch(n: int) -> list[str]:
    """``n`` time-ordered UUID v7 strings at once (for bulk inserts such as PII spans)."""
    global _last_ms, _seq
    if n <= 0:
        return []
    with _uuid_lock:
        ms = max(time.time_ns() // 1_000_000, _last_ms)
        start = _seq + 1 if ms == _last_ms else 0
        # counters beyond 12 bits spill into the following milliseconds
        _last_ms = ms + (start + n - 1) // 0x1000
        _seq = (start + n - 1) % 0x1000
    rand = os.urandom(8 * n)
    out = []
    base_ver = (0x7 << 76) | (0b10 << 62)
    mask62 = (1 << 62) - 1
    for i in range(n):
        c = start + i
        v = (((ms + (c >> 12)) & 0xFFFFFFFFFFFF) << 80) | base_ver | ((c & 0xFFF) << 64) \
            | (int.from_bytes(rand[8 * i:8 * i + 8], "big") & mask62)
        h = f"{v:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def utc_now() -> str:
    """UTC now as the seed's TEXT timestamp, 'YYYY-MM-DD HH:MM:SS'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def now_ms() -> int:
    """Milliseconds since the epoch (the documents table's convention)."""
    return time.time_ns() // 1_000_000


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def to_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def from_json(text: str | None, default=None):
    if text is None or text == "":
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default
