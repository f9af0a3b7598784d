"""The encrypted store: one SQLCipher 4 file, opened once per process.

Settings follow the seed: page size 4096, PBKDF2-HMAC-SHA512 with 256,000 iterations,
HMAC-SHA512. Opening costs one key derivation (~0.1-0.2 s), so a process opens the file once
and shares the connection between threads under a lock. WAL and a busy timeout let several
processes (Voila kernels, the CLI) share the file.

A wrong key fails on first access; that is turned into :class:`WrongKeyError` before anything
is written, so the file is never modified by a failed open.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlcipher3 import dbapi2 as sqlcipher

from . import paths
from ._util import utc_now
from .errors import (
    DatabaseBusyError,
    DatabaseCorruptError,
    DatabaseError,
    IntegrityError,
    KeyProblemError,
    MigrationError,
    NotEncryptedError,
    SchemaTooNewError,
    WrongKeyError,
)
from .storefiles import (  # noqa: F401  (KeySource, resolve_key, ... are imported from here)
    KeySource,
    StoreLock,
    ensure_data_dir,
    fsync_dir,
    resolve_key,
    write_key_file,
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
_BAD_PAGE_RE = re.compile(r"page (\d+)")
#: suffix of the temporary file a rekey writes next to the database (removed on success, failure
#: and by the next open after a crash)
REKEY_TEMP_SUFFIX = ".rekey-tmp"


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
    # numbers are unique and start at 001; a gap is allowed (parallel branches take numbers ahead of
    # the ones not merged yet, and migrations are applied and recorded by name)
    if not found or numbers[0] != 1 or len(set(numbers)) != len(numbers):
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
    only takes the process lock. Rows come back as ``sqlcipher3.Row``. ``lock`` is the store
    lock (held shared while this database is open, released by :meth:`close`).
    """

    def __init__(self, path: str | os.PathLike, key: str, *, migrate: bool = True,
                 migrations: list[Migration] | None = None, lock: StoreLock | None = None,
                 wal: bool = True):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._after_commit: list = []
        self.lock = lock
        self.conn = self._connect(self.path, key, wal=wal)
        self._key = key
        #: migrations applied when this object was opened (empty when the schema was current)
        self.applied_now: list[str] = []
        if migrate:
            try:
                self.applied_now = self.migrate(migrations)
            except BaseException:
                self.conn.close()
                raise

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
    def _connect(cls, path: Path, key: str, *, wal: bool = True):
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
                    raise cls._diagnose_unreadable(conn, path) from None
                if cls._corrupt(path, exc) is not None:
                    raise cls._diagnose_damage(conn, path) from None
                raise DatabaseError(f"cannot open {path}: {exc}") from None
            conn.row_factory = sqlcipher.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            if wal:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise DatabaseError(f"cannot switch {path} to WAL mode (got {mode})")
            # FULL: a commit is on disk before the caller hears of it (and before the audit head
            # file names it); costs one fsync of the WAL per transaction
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA cache_size = -65536")  # 64 MB of decrypted pages
        except sqlcipher.DatabaseError as exc:
            conn.close()
            raise cls._corrupt(path, exc) or DatabaseError(f"cannot open {path}: {exc}") from None
        except BaseException:
            conn.close()
            raise
        if not existed:
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
        return conn

    @staticmethod
    def _bad_pages(conn) -> list[int]:
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
        except sqlcipher.Error:
            return []
        return sorted({int(m.group(1)) for r in rows if (m := _BAD_PAGE_RE.search(r))})

    @classmethod
    def _diagnose_damage(cls, conn, path: Path) -> DatabaseCorruptError:
        bad = cls._bad_pages(conn)
        where = (f"page(s) {', '.join(map(str, bad[:10]))} fail their HMAC check" if bad
                 else "its schema cannot be read")
        return DatabaseCorruptError(f"{path} is damaged ({where}) and cannot be opened; restore it from a backup")

    @staticmethod
    def _diagnose_unreadable(conn, path: Path) -> Exception:
        """Page 1 does not decrypt: a wrong key, unless the other pages do (then page 1 is damaged)."""
        size = path.stat().st_size
        pages = size // 4096
        bad = set(Database._bad_pages(conn))
        if pages >= 2 and 1 in bad and len(bad) < pages:
            return DatabaseCorruptError(
                f"{path} is damaged: page 1 (the schema page) fails its HMAC check while other pages "
                "decrypt with this key; restore the database from a backup"
            )
        if size < 4096 or size % 4096:
            return DatabaseCorruptError(
                f"{path} is truncated or not a TFTSR database ({size} bytes, not a whole number of "
                "4096-byte pages); restore it from a backup"
            )
        return WrongKeyError(
            f"the database key does not open {path}: wrong key, or the file is not a "
            "TFTSR database. Check TFTSR_DB_KEY or the key file in the data directory."
        )

    @staticmethod
    def _corrupt(path: Path, exc: BaseException) -> DatabaseCorruptError | None:
        """The typed error for a driver error that means damage (None for anything else)."""
        if type(exc) is not sqlcipher.DatabaseError:  # not Operational/Integrity/... errors
            return None
        text = str(exc)
        if any(w in text for w in ("malformed", "not a database", "disk I/O", "corrupt")):
            return DatabaseCorruptError(
                f"{path} is damaged ({text}); run 'tftsr verify' to see which pages, and restore "
                "from a backup"
            )
        return None

    def _damaged(self, exc: BaseException) -> DatabaseCorruptError | None:
        """The typed error for damage; outside a transaction the connection is also reopened,
        because SQLCipher refuses every later read on a connection that met a bad page."""
        err = self._corrupt(self.path, exc)
        if err is not None and self._depth == 0:
            self._reconnect()
        return err

    def _reconnect(self) -> None:
        try:
            self.conn.close()
        except sqlcipher.Error:
            pass
        try:
            self.conn = self._connect(self.path, self._key)
        except Exception:  # the next call reports the damage again
            pass

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.close()
            except sqlcipher.Error:
                pass
            if self.lock is not None:
                self.lock.release()

    # -- transactions
    def after_commit(self, callback) -> None:
        """Run ``callback()`` once after the current outermost transaction commits (now if none)."""
        with self._lock:
            if self._depth == 0:
                callback()
            elif callback not in self._after_commit:
                self._after_commit.append(callback)

    @contextmanager
    def write(self) -> Iterator:
        """An IMMEDIATE transaction; nested calls use savepoints. Rolls back on any error."""
        with self._lock:
            if self._depth == 0:
                self._exec("BEGIN IMMEDIATE")
                self._after_commit = []
            else:
                self._exec(f"SAVEPOINT sp{self._depth}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException as exc:
                self._depth -= 1
                if self._depth == 0:
                    self._rollback()
                    self._after_commit = []
                else:
                    try:
                        self._exec(f"ROLLBACK TO sp{self._depth}")
                        self._exec(f"RELEASE sp{self._depth}")
                    except sqlcipher.Error:
                        pass
                corrupt = self._damaged(exc)
                if corrupt is not None:
                    raise corrupt from None
                raise
            else:
                self._depth -= 1
                if self._depth == 0:
                    try:
                        self._exec("COMMIT")
                    except BaseException:
                        self._rollback()
                        self._after_commit = []
                        raise
                    callbacks, self._after_commit = self._after_commit, []
                    for cb in callbacks:
                        cb()
                else:
                    self._exec(f"RELEASE sp{self._depth}")

    @contextmanager
    def read(self) -> Iterator:
        with self._lock:
            try:
                yield self.conn
            except sqlcipher.DatabaseError as exc:
                corrupt = self._damaged(exc)
                if corrupt is not None:
                    raise corrupt from None
                raise

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
                raise DatabaseBusyError(
                    f"the database is busy (another process held it for over {BUSY_TIMEOUT_MS // 1000} s); try again"
                ) from None
            raise
        except sqlcipher.DatabaseError as exc:
            corrupt = self._damaged(exc)
            if corrupt is not None:
                raise corrupt from None
            raise

    def query(self, sql: str, params=()) -> list:
        with self._lock:
            cur = self._exec(sql, params)
            try:
                return cur.fetchall()
            except sqlcipher.DatabaseError as exc:
                raise self._damaged(exc) or exc from None

    def query_one(self, sql: str, params=()):
        with self._lock:
            cur = self._exec(sql, params)
            try:
                return cur.fetchone()
            except sqlcipher.DatabaseError as exc:
                raise self._damaged(exc) or exc from None

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
        """SQLCipher page HMACs, SQLite's integrity check and the FTS index; [] when healthy.

        Never raises for damage: a page that fails its HMAC is a finding naming the page.
        """
        problems = []
        with self._lock:
            try:
                for row in self.conn.execute("PRAGMA cipher_integrity_check").fetchall():
                    text = str(row[0])
                    m = _BAD_PAGE_RE.search(text)
                    if "HMAC" in text and m:
                        problems.append(f"page {m.group(1)} is damaged (its HMAC check failed: "
                                        "the bytes were changed on disk)")
                    else:
                        problems.append(f"cipher: {text}")
            except sqlcipher.Error as exc:
                problems.append(f"cipher: {exc}")
            try:
                rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check").fetchall()]
                if rows != ["ok"]:
                    problems.extend(f"sqlite: {r}" for r in rows)
            except sqlcipher.Error as exc:
                problems.append(f"sqlite: {exc}")
            try:
                self.conn.execute("INSERT INTO issues_fts(issues_fts, rank) VALUES ('integrity-check', 1)")
            except sqlcipher.Error as exc:
                problems.append(f"search index: {exc}")
            if problems and self._depth == 0:
                self._reconnect()  # a bad page poisons the connection for every later read
        return problems

    def rekey(self, new_key: str, *, fixup=None, before_swap=None) -> None:
        """Re-encrypt the database under ``new_key``, at any size, crash-safe.

        ``PRAGMA rekey`` rewrites every page inside one transaction and fails once the dirty
        pages outgrow the page cache (~64 MB here). Instead: ``sqlcipher_export`` into a new
        file in the same directory under the new key; ``fixup(new_db)`` changes it inside one
        transaction (secrets re-encrypted, the audit entry); the file is checked (row counts),
        fsynced; ``before_swap()`` stores the new key where the next open finds it; then the
        new file is renamed over the old one (atomic) and this object reopens it. Until the
        rename the old file is untouched and the temporary file is removed on any failure; after
        a crash the next open removes it (``workbench.open``). Needs the store lock exclusively:
        no other process may have the old file open when it is replaced.
        """
        if not new_key:
            raise KeyProblemError("the new key is empty")
        if self.lock is not None:
            self._lock_exclusive()
        try:
            with self._lock:
                if self._depth:
                    raise DatabaseError("cannot rekey inside a transaction")
                self._rekey_locked(new_key, fixup, before_swap)
        finally:
            if self.lock is not None:
                self.lock.acquire(fcntl.LOCK_SH)

    def _lock_exclusive(self) -> None:
        try:
            self.lock.acquire(fcntl.LOCK_EX, timeout=2.0)
        except DatabaseBusyError:
            raise DatabaseBusyError(
                f"{self.path} is open in another process (a dashboard kernel or another tftsr "
                "command); stop it and run rekey again"
            ) from None

    def _rekey_locked(self, new_key: str, fixup, before_swap) -> None:
        tmp = self.path.with_name(self.path.name + REKEY_TEMP_SUFFIX)
        remove_rekey_temps(self.path)
        old_key = self._key
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy and busy[0]:
                raise DatabaseBusyError("another connection is reading the database; try rekey again")
            counts = self._table_counts(self.conn, "main")
            self.conn.execute(f"ATTACH DATABASE {_quote(str(tmp))} AS rekey KEY {_quote(new_key)}")
            try:
                for pragma in CIPHER_PRAGMAS:
                    self.conn.execute(pragma.replace("PRAGMA ", "PRAGMA rekey."))
                self.conn.execute("SELECT sqlcipher_export('rekey')")
                version = self.conn.execute("PRAGMA user_version").fetchone()[0]
                self.conn.execute(f"PRAGMA rekey.user_version = {version}")
            finally:
                self.conn.execute("DETACH DATABASE rekey")
            os.chmod(tmp, 0o600)
            new_db = Database(tmp, new_key, migrate=False, wal=False)
            try:
                if self._table_counts(new_db.conn, "main") != counts:
                    raise IntegrityError("the re-encrypted copy does not hold the same rows; nothing was changed")
                with new_db.write() as conn:
                    # the export renumbers implicit rowids: rebuild the external-content index
                    conn.execute("INSERT INTO issues_fts(issues_fts) VALUES ('rebuild')")
                    if fixup is not None:
                        fixup(new_db)
            finally:
                new_db.close()
            _fsync_file(tmp)
            if before_swap is not None:
                before_swap()
        except BaseException as exc:
            remove_rekey_temps(self.path)
            corrupt = self._corrupt(self.path, exc) if isinstance(exc, sqlcipher.Error) else None
            if corrupt is not None:
                raise corrupt from None
            if isinstance(exc, sqlcipher.Error):
                raise DatabaseError(f"rekey failed and nothing was changed: {exc}") from None
            raise
        # the swap: this process holds the only connection, and the WAL is empty
        self.conn.close()
        try:
            os.replace(tmp, self.path)
        except OSError as exc:
            remove_rekey_temps(self.path)
            self.conn = self._connect(self.path, old_key)
            raise DatabaseError(f"rekey could not replace {self.path}: {exc.strerror}; nothing was changed") from None
        fsync_dir(self.path.parent)
        self.conn = self._connect(self.path, new_key)
        self._key = new_key

    @staticmethod
    def _table_counts(conn, schema: str) -> dict[str, int]:
        names = [r[0] for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name").fetchall()]
        return {n: conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0] for n in names}

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


def remove_rekey_temps(db_path: Path) -> list[Path]:
    """Delete what an interrupted or failed rekey left next to ``db_path``; returns what it removed."""
    removed = []
    for p in db_path.parent.glob(db_path.name + REKEY_TEMP_SUFFIX + "*"):
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    return removed


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def raise_integrity(problems: list[str]) -> None:
    if problems:
        raise IntegrityError("; ".join(problems[:5]))
