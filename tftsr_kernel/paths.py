"""Where TFTSR keeps its data, and where the shipped resources live."""

from __future__ import annotations

import os
from pathlib import Path

DB_FILE_NAME = "tftsr.db"
KEY_FILE_NAME = "tftsr.key"
#: the store lock: held shared by every open database, exclusively while one is created or rekeyed
LOCK_FILE_NAME = "tftsr.lock"
#: the audit key (HMAC of the audit chain) and the signed audit head (see tftsr_kernel/audit.py)
AUDIT_KEY_FILE_NAME = "audit.key"
AUDIT_HEAD_FILE_NAME = "audit.head"
_PKG = Path(__file__).resolve().parent


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory: the argument, else ``TFTSR_DATA_DIR``, else ``$XDG_DATA_HOME/tftsr``."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("TFTSR_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "tftsr"


def _resource_dir(name: str) -> Path:
    # In a wheel the directory is packaged inside tftsr_kernel/; in a source checkout it sits at
    # the repository's top level.
    inside = _PKG / name
    if inside.is_dir():
        return inside
    return _PKG.parent / name


def migrations_dir() -> Path:
    return _resource_dir("migrations")


def notebooks_dir() -> Path:
    return _resource_dir("notebooks")


def sample_data_dir() -> Path:
    return _PKG / "data"
