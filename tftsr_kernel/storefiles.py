"""Files next to the database: key files, the store lock, atomic and exclusive writes.

Several processes (the CLI, Voila kernels, the PII helper's parent) may use one data directory
at once, and any of them may be the first. Two rules keep that safe:

- A key file is never overwritten by first use: it is written to a private temporary file
  (mode 0600, fsync) and then hard-linked into place, which fails if the name exists; the loser
  reads the winner's key.
- The store lock (``tftsr.lock``, an ``flock`` lock file) is held *shared* by every open
  database for its lifetime and *exclusively* while the database is created or its files are
  swapped (rekey, recovery after an interrupted rekey). So first use is serialised, and a rekey
  never replaces a file another process still has open.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import DatabaseBusyError, KeyFileError, KeyProblemError

LOCK_TIMEOUT_S = 30.0
_KEY_RE = re.compile(r"[0-9a-f]{64}")


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_private_temp(target: Path, data: bytes) -> Path:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def write_exclusive(target: Path, data: bytes) -> bool:
    """Create ``target`` with ``data`` (mode 0600) unless it exists. True if this call made it.

    The content is complete and on disk before the name appears, so a reader never sees a
    partial file, and an existing file is never replaced.
    """
    tmp = _write_private_temp(target, data)
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError as exc:  # a file system without hard links: O_EXCL on the name itself
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            return False
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(target.parent)
    return True


def write_atomic(target: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``target`` with ``data`` (mode 0600) in one step: readers see old or new, never half."""
    tmp = _write_private_temp(target, data)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(target.parent)


# --- key files -----------------------------------------------------------------------------------
def new_key() -> str:
    return secrets.token_bytes(32).hex()


def read_key_file(key_path: Path, what: str = "key file") -> str:
    """A key file's key: 64 hex characters, mode 0600 (refused when others can read it)."""
    try:
        st = os.stat(key_path)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"{what} {key_path} is not a regular file")
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(
                f"{what} {key_path} is readable by other users (mode {stat.S_IMODE(st.st_mode):o}); "
                f"run: chmod 600 {key_path}"
            )
        text = key_path.read_bytes().decode("ascii").strip()
    except UnicodeDecodeError:
        raise KeyFileError(f"{what} {key_path} is not a TFTSR key file (expected 64 hex characters)") from None
    except FileNotFoundError:
        raise KeyFileError(f"{what} {key_path} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {key_path}: {exc.strerror}") from None
    if not _KEY_RE.fullmatch(text):
        raise KeyFileError(f"{what} {key_path} is damaged (expected 64 hex characters)")
    return text


def create_or_read_key_file(key_path: Path, what: str = "key file") -> tuple[str, bool]:
    """First use: make a new random key file, or read the one another process just made.

    Returns (key, created). Never overwrites an existing key file.
    """
    key = new_key()
    if write_exclusive(key_path, (key + "\n").encode("ascii")):
        return key, True
    return read_key_file(key_path, what), False


# --- the database key ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeySource:
    key: str
    origin: str  # "TFTSR_DB_KEY", "key file <path>", or "argument"

    def __repr__(self) -> str:  # never show the key
        return f"KeySource(origin={self.origin!r})"


def resolve_key(data_dir: Path, *, create: bool = True) -> KeySource:
    """The database key: ``TFTSR_DB_KEY``, else the key file in the data directory.

    The key file (32 random bytes, hex encoded, mode 0600) is made on first use, but only when
    no database exists yet: a database without its key cannot be opened, and a new key would
    only hide that. Creation is exclusive (``storefiles.write_exclusive``): when several
    processes start at once, one key wins and every process uses it. Callers creating a store
    hold the store lock exclusively (``workbench.open``), so the database is made under that key.
    """
    env = os.environ.get("TFTSR_DB_KEY")
    if env is not None:
        if not env.strip():
            raise KeyProblemError("TFTSR_DB_KEY is set but empty; unset it or give the database key")
        return KeySource(env, "TFTSR_DB_KEY")
    key_path = data_dir / paths.KEY_FILE_NAME
    if key_path.exists():
        return KeySource(_read_key_file(key_path), f"key file {key_path}")
    db_path = data_dir / paths.DB_FILE_NAME
    if db_path.exists() and db_path.stat().st_size > 0:
        raise KeyFileError(
            f"the database {db_path} exists but its key file {key_path} is missing; "
            "restore the key file or set TFTSR_DB_KEY"
        )
    if not create:
        raise KeyFileError(f"no key: set TFTSR_DB_KEY or run 'tftsr init' to create {key_path}")
    ensure_data_dir(data_dir)
    key, _created = create_or_read_key_file(key_path)
    return KeySource(key, f"key file {key_path}")


def write_key_file(key_path: Path, key: str) -> None:
    """Write (or replace) a key file atomically with mode 0600 (never readable by anyone else)."""
    write_atomic(key_path, (key + "\n").encode("ascii"))


def _read_key_file(key_path: Path) -> str:
    return read_key_file(key_path)


def ensure_data_dir(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(data_dir, 0o700)
    except OSError:
        pass


# --- the store lock ------------------------------------------------------------------------------
class StoreLock:
    """An ``flock`` lock on one file, shared or exclusive, with a timeout.

    flock locks belong to an open file description, so every holder opens the file itself; the
    lock is released when :meth:`release` closes it (or the process ends).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None
        self.mode: int | None = None  # fcntl.LOCK_SH or fcntl.LOCK_EX while held
        self._guard = threading.Lock()

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise DatabaseBusyError(f"cannot open the lock file {self.path}: {exc.strerror}") from None
        return self._fd

    def acquire(self, mode: int, *, timeout: float | None = LOCK_TIMEOUT_S, what: str = "the database") -> None:
        """Take (or convert to) ``mode``; wait up to ``timeout`` seconds (None: do not wait).

        While waiting to convert, the lock held before is not held; on failure none is held.
        """
        with self._guard:
            fd = self._open()
            deadline = None if timeout is None else time.monotonic() + timeout
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    self.mode = mode
                    return
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise DatabaseBusyError(f"cannot lock {self.path}: {exc.strerror}") from None
                # a conversion that fails drops the lock held before (Linux flock semantics); and
                # it must: two processes each holding shared while waiting for exclusive would
                # wait for each other forever
                if self.mode is not None and mode != self.mode:
                    self.mode = None
                if deadline is None or time.monotonic() >= deadline:
                    if deadline is None:
                        raise DatabaseBusyError(f"{what} is in use by another process")
                    raise DatabaseBusyError(
                        f"{what} stayed locked by another process for {timeout:.0f} s "
                        "(a rekey or first-time setup still running?); try again"
                    )
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def release(self) -> None:
        with self._guard:
            if self._fd is not None:
                try:
                    os.close(self._fd)  # drops the lock
                finally:
                    self._fd = None
                    self.mode = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
