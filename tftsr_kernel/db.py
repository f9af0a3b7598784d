"""The encrypted store: one SQLCipher 4 file, opened once per process.

Settings follow the seed: page size 4096, PBKDF2-HMAC-SHA512 with 256,000 iterations,
HMAC-SHA512. Opening costs one key derivation (~0.1-0.2 s), so a process opens the file once
and shares the connection between threads under a lock. WAL and a busy timeout let several
processes (Voila kernels, the CLI) share the file.

A wrong key fails on first access; that is turned into :class:`WrongKeyError` before anything
is written, so the file is never modified by a failed open.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlcipher3 import dbapi2 as sqlcipher

from . import paths
from ._util import utc_now
from .errors import (
    DatabaseError,
    IntegrityError,
    KeyFileError,
    KeyProblemError,
    MigrationError,
    NotEncryptedError,
    SchemaTooNewError,
    WrongKeyError,
)

PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
CIPHER_PRAGMAS = (
    "PRAGMA cipher_page_size = 4096",
    "PRAGMA kdf_iter = 256000",
    "PRAGMA cipher_hmac_algorithm = HMAC_SHA512",
    "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512",
)
_MIGRATION_RE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


# --- keys ----------------------------------------------------------------------------------------
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
    only hide that.
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
    key = secrets.token_bytes(32).hex()
    write_key_file(key_path, key)
    return KeySource(key, f"key file {key_path}")


def write_key_file(key_path: Path, key: str) -> None:
    """Write a key file atomically with mode 0600 (never readable by anyone else, not even briefly)."""
    tmp = key_path.with_name(key_path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (key + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, key_path)


def _read_key_file(key_path: Path) -> str:
    try:
        st = key_path.stat()
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(
                f"key file {key_path} is readable by other users (mode {stat.S_IMODE(st.st_mode):o}); "
                f"run: chmod 600 {key_path}"
            )
        text = key_path.read_text("ascii").strip()
    except UnicodeDecodeError:
        raise KeyFileError(f"key file {key_path} is not a TFTSR key file (expected 64 hex characters)")
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {key_path}: {exc.strerror}")
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise KeyFileError(f"key file {key_path} is damaged (expected 64 hex characters)")
    return text


def ensure_data_dir(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(data_dir, 0o700)
    except OSError:
        pass


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- migrations ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Migration:
    number: int
    name: str  # file stem, e.g. "001_issues"
    sql: str


def load_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or paths.migrations_dir()
    found = []
    for entry in sorted(directory.iterdir()):
        m = _MIGRATION_RE.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.stem, entry.read_text("utf-8")))
    numbers = [m.number for m in found]
    if not found or numbers != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations in {directory} are missing or not numbered 001..NNN")
    return found


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements (triggers keep their inner semicolons)."""
    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlcipher.complete_statement(buf):
            stmt = buf.strip()
            if stmt and not all(l.strip().startswith("--") or not l.strip() for l in stmt.splitlines()):
                statements.append(stmt)
            buf = ""
    if buf.strip() and not all(l.strip().startswith("--") or not l.strip() for l in buf.splitlines()):
        raise MigrationError("migration script ends with an incomplete statement")
    return statements


# --- the database ----------------------------------------------------------------------------------
class Database:
    """One encrypted connection, shared by the services of a process.

    ``write()`` opens an IMMEDIATE transaction (nested calls become savepoints); ``read()``
    only takes the process lock. Rows come back as ``sqlcipher3.Row``.
    """

    def __init__(self, path: str | os.PathLike, key: str, *, migrate: bool = True,
                 migrations: list[Migration] | None = None):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self.conn = self._connect(self.path, key)
        self._key = key
        if migrate:
            self.migrate(migrations)

    # -- opening
    @staticmethod
    def _check_header(path: Path) -> None:
        try:
            with open(path, "rb") as fh:
                head = fh.read(16)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise DatabaseError(f"cannot read {path}: {exc.strerror}")
        if head == PLAIN_SQLITE_HEADER:
            raise NotEncryptedError(
                f"{path} is an unencrypted SQLite database; TFTSR only opens SQLCipher files. "
                "Move it away or point TFTSR_DATA_DIR elsewhere."
            )

    @classmethod
    def _connect(cls, path: Path, key: str):
        cls._check_header(path)
        existed = path.exists() and path.stat().st_size > 0
        conn = sqlcipher.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                 check_same_thread=False)
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f"PRAGMA key = {_quote(key)}")
            for pragma in CIPHER_PRAGMAS:
                conn.execute(pragma)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlcipher.DatabaseError as exc:
                if "not a database" in str(exc) and existed:
                    raise WrongKeyError(
                        f"the database key does not open {path}: wrong key, or the file is not a "
                        "TFTSR database. Check TFTSR_DB_KEY or the key file in the data directory."
                    ) from None
                raise DatabaseError(f"cannot open {path}: {exc}") from None
            conn.row_factory = sqlcipher.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise DatabaseError(f"cannot switch {path} to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -65536")  # 64 MB of decrypted pages
        except BaseException:
            conn.close()
            raise
        if not existed:
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
        return conn

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.close()
            except sqlcipher.Error:
                pass

    # -- transactions
    @contextmanager
    def write(self) -> Iterator:
        """An IMMEDIATE transaction; nested calls use savepoints. Rolls back on any error."""
        with self._lock:
            if self._depth == 0:
                self._exec("BEGIN IMMEDIATE")
            else:
                self._exec(f"SAVEPOINT sp{self._depth}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._rollback()
                else:
                    self._exec(f"ROLLBACK TO sp{self._depth}")
                    self._exec(f"RELEASE sp{self._depth}")
                raise
            else:
                self._depth -= 1
                if self._depth == 0:
                    try:
                        self._exec("COMMIT")
                    except BaseException:
                        self._rollback()
                        raise
                else:
                    self._exec(f"RELEASE sp{self._depth}")

    @contextmanager
    def read(self) -> Iterator:
        with self._lock:
            yield self.conn

    def _rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except sqlcipher.Error:
            pass

    def _exec(self, sql: str, params=()):
        try:
            return self.conn.execute(sql, params)
        except sqlcipher.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise DatabaseError(
                    f"the database is busy (another process held it for over {BUSY_TIMEOUT_MS // 1000} s); try again"
                ) from None
            raise

    def query(self, sql: str, params=()) -> list:
        with self._lock:
            return self._exec(sql, params).fetchall()

    def query_one(self, sql: str, params=()):
        with self._lock:
            return self._exec(sql, params).fetchone()

    def execute(self, sql: str, params=()):
        """Run one statement inside a write transaction."""
        with self.write():
            return self._exec(sql, params)

    # -- migrations
    def applied_migrations(self) -> list[str]:
        has = self.query_one("SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'")
        if not has:
            return []
        return [r[0] for r in self.query("SELECT name FROM _migrations ORDER BY name")]

    def migrate(self, migrations: list[Migration] | None = None) -> list[str]:
        """Apply pending migrations, each in its own transaction; refuse a newer database."""
        migrations = migrations if migrations is not None else load_migrations()
        known = {m.name for m in migrations}
        newest = max(m.number for m in migrations)
        applied_now = []
        with self.write():
            self._exec(
                "CREATE TABLE IF NOT EXISTS _migrations ("
                " name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        self._refuse_newer(known, newest)
        for mig in migrations:
            with self.write():
                # re-checked inside the lock: another process may have applied it meanwhile
                if self.conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (mig.name,)).fetchone():
                    continue
                try:
                    for stmt in split_statements(mig.sql):
                        self.conn.execute(stmt)
                except sqlcipher.Error as exc:
                    raise MigrationError(f"migration {mig.name} failed and was rolled back: {exc}") from None
                self.conn.execute("INSERT INTO _migrations(name, applied_at) VALUES (?, ?)",
                                  (mig.name, utc_now()))
                self.conn.execute(f"PRAGMA user_version = {mig.number}")
                applied_now.append(mig.name)
        return applied_now

    def _refuse_newer(self, known: set[str], newest: int) -> None:
        version = self.query_one("PRAGMA user_version")[0]
        unknown = [n for n in self.applied_migrations() if n not in known]
        if version > newest or unknown:
            raise SchemaTooNewError(
                f"{self.path} was written by a newer TFTSR (schema {version}, "
                f"{len(unknown)} unknown migration(s)); this version knows up to {newest}. "
                "Upgrade TFTSR; the database was not changed."
            )

    # -- maintenance
    def integrity_check(self) -> list[str]:
        """SQLCipher page HMACs, SQLite's integrity check and the FTS index; [] when healthy."""
        problems = []
        with self._lock:
            for row in self.conn.execute("PRAGMA cipher_integrity_check").fetchall():
                problems.append(f"cipher: {row[0]}")
            rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check").fetchall()]
            if rows != ["ok"]:
                problems.extend(f"sqlite: {r}" for r in rows)
            try:
                self.conn.execute("INSERT INTO issues_fts(issues_fts, rank) VALUES ('integrity-check', 1)")
            except sqlcipher.Error as exc:
                problems.append(f"search index: {exc}")
        return problems

    def rekey(self, new_key: str) -> None:
        """Re-encrypt the file under a new key (PRAGMA rekey)."""
        if not new_key:
            raise KeyProblemError("the new key is empty")
        with self._lock:
            if not self.conn.in_transaction:
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.execute(f"PRAGMA rekey = {_quote(new_key)}")
            self._key = new_key

    def backup(self, dest: Path, key: str | None = None) -> None:
        """Write an encrypted copy (same SQLCipher settings) to ``dest``; the key defaults to ours."""
        dest = Path(dest)
        if dest.exists():
            raise DatabaseError(f"{dest} already exists; choose a new file name")
        if not dest.parent.is_dir():
            raise DatabaseError(f"cannot write the backup: directory {dest.parent} does not exist")
        if not os.access(dest.parent, os.W_OK):
            raise DatabaseError(f"cannot write the backup: directory {dest.parent} is not writable")
        key = key or self._key
        with self._lock:
            try:
                self.conn.execute(f"ATTACH DATABASE {_quote(str(dest))} AS backup KEY {_quote(key)}")
            except sqlcipher.Error as exc:
                raise DatabaseError(f"cannot create the backup {dest}: {exc}") from None
            try:
                for pragma in CIPHER_PRAGMAS:
                    self.conn.execute(pragma.replace("PRAGMA ", "PRAGMA backup."))
                self.conn.execute("SELECT sqlcipher_export('backup')")
                version = self.conn.execute("PRAGMA user_version").fetchone()[0]
                self.conn.execute(f"PRAGMA backup.user_version = {version}")
            finally:
                self.conn.execute("DETACH DATABASE backup")
        # The export renumbers implicit rowids, so rebuild the external-content search index
        # in the copy, and check the copy before calling it a backup.
        copy = Database(dest, key, migrate=False)
        try:
            with copy.write() as conn:
                conn.execute("INSERT INTO issues_fts(issues_fts) VALUES ('rebuild')")
            problems = copy.integrity_check()
        finally:
            copy.close()
        if problems:
            raise IntegrityError("the backup failed its integrity check: " + "; ".join(problems[:3]))
        try:
            os.chmod(dest, 0o600)
        except OSError:
            pass


def raise_integrity(problems: list[str]) -> None:
    if problems:
        raise IntegrityError("; ".join(problems[:5]))
