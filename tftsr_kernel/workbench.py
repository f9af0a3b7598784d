"""The façade: ``tftsr_kernel.open()`` returns a :class:`Workbench` with services by domain."""

from __future__ import annotations

import fcntl
import os
import threading
from functools import cached_property
from pathlib import Path

from . import paths
from .attachments import AttachmentService
from .audit import AuditService
from .db import Database, KeySource, ensure_data_dir, remove_rekey_temps, resolve_key, write_key_file
from .errors import KeyProblemError, WrongKeyError
from .storefiles import StoreLock, new_key as _new_key, read_key_file
from .issues import IssueService
from .secrets import PURPOSES, SecretBox
from .settings import SettingsService
from .timeline import TimelineService
from .whys import WhysService

_open_lock = threading.Lock()
_shared: dict[tuple[str, str], "Workbench"] = {}


class Workbench:
    """Everything the product can do, over one encrypted database.

    Services: ``issues``, ``attachments``, ``timeline``, ``audit``, ``settings``, ``secrets``,
    ``whys``; and, loaded on first use, ``pii``, ``providers``, ``chat``, ``documents``, ``team``, ``alerts``,
    ``logs`` (log templates), ``integrations`` (Confluence, ServiceNow, Azure DevOps), ``notifications``,
    ``shell`` (shell and kubectl commands).
    """

    def __init__(self, db: Database, data_dir: Path, key_source: KeySource):
        self.db = db
        self.data_dir = data_dir
        self._key_source = key_source
        self.secrets = SecretBox(key_source.key)
        self.audit = AuditService(db, data_dir=data_dir)
        self.timeline = TimelineService(db, self.audit)
        self.issues = IssueService(db, self.audit, self.timeline)  # it records status/severity changes
        self.attachments = AttachmentService(db, self.audit, self.timeline)
        self.settings = SettingsService(db, self.audit)
        self.whys = WhysService(db, self.audit, self.timeline)
        # every uploaded log is scanned for PII as it is stored; the findings by type are kept on
        # the row, and the spans are stored for review by ``pii.detect_pii``
        self.attachments.scanner = lambda data, encoding: self.pii.summarize(data, encoding)
        # every service call checks the acting user's role (team/guard.py; single-user: local)
        from .team.guard import guard, install

        self._guard = guard
        install(self)
        # issue and 5-Whys changes notify the subscribed channels (integrations/events.py)
        from .integrations.events import install_events

        install_events(self)
        # every audit row and timeline event names the acting user (single-user mode: local)
        self.audit.actor_name = self.timeline.actor_name = lambda: self.team.actor.name

    # Services of the later layers load on first use, so the CLI and the PII fast path stay light.
    @cached_property
    def pii(self):
        from .pii.service import PiiService

        return self._guard(self, "pii", PiiService(self))

    @cached_property
    def providers(self):
        from .ai.service import ProviderService

        return self._guard(self, "providers", ProviderService(self))

    @cached_property
    def chat(self):
        from .ai.service import ChatService

        return self._guard(self, "chat", ChatService(self))

    @cached_property
    def team(self):
        from .team.service import TeamService

        return TeamService(self)

    @cached_property
    def alerts(self):
        from .team.alerts import AlertService

        return AlertService(self)

    @cached_property
    def logs(self):
        from .logs.service import LogTemplateService

        return self._guard(self, "logs", LogTemplateService(self))

    @cached_property
    def integrations(self):
        from .integrations.service import IntegrationService

        return self._guard(self, "integrations", IntegrationService(self))

    @cached_property
    def notifications(self):
        from .integrations.notifications import NotificationService

        return self._guard(self, "notifications", NotificationService(self))

    @cached_property
    def shell(self):
        from .shell.service import ShellService

        return self._guard(self, "shell", ShellService(self))

    @cached_property
    def documents(self):
        from .documents.service import DocumentService

        return self._guard(self, "documents", DocumentService(self))

    @cached_property
    def mcp(self):
        from .mcp.service import McpService

        return self._guard(self, "mcp", McpService(self))

    @cached_property
    def approvals(self):
        """Approvals of tool calls (MCP tools, later shell commands) for this workbench's session."""
        from .ai.tools import Approvals

        return self._guard(self, "approvals", Approvals(self))

    def __repr__(self) -> str:
        return f"Workbench(data_dir={str(self.data_dir)!r})"

    @property
    def db_path(self) -> Path:
        return self.db.path

    @property
    def key_origin(self) -> str:
        return self._key_source.origin

    def close(self) -> None:
        with _open_lock:
            for k, v in list(_shared.items()):
                if v is self:
                    del _shared[k]
        self._drain_notifications()
        if "mcp" in self.__dict__:  # live MCP connections (server processes, HTTP sessions)
            self.mcp.close()
        self.db.close()

    def _drain_notifications(self, timeout: float = 60.0) -> None:
        """Deliver what is still queued (before the store closes, before a command ends)."""
        if "notifications" in self.__dict__:   # never loaded: nothing queued
            self.notifications.drain(timeout)

    # -- maintenance
    def verify(self, expect_head: str | None = None):
        """SQLCipher integrity (damaged pages by number), the search index and the audit log.

        Returns (problems, audit verification); ``expect_head`` is a head recorded earlier
        (``tftsr verify`` prints it): the audit chain must extend it.
        """
        problems = self.db.integrity_check()
        try:
            chain = self.audit.verify(expect_head)
        except Exception as exc:  # a damaged page under the audit log: a finding, not a crash
            from .audit import AuditVerification
            from .errors import DatabaseError

            if not isinstance(exc, DatabaseError) and type(exc).__module__.split(".")[0] != "sqlcipher3":
                raise
            reason = f"the audit log could not be read: {exc}"
            chain = AuditVerification(False, 0, reason=reason, problems=[reason])
        return problems, chain

    def backup(self, dest: str | os.PathLike) -> Path:
        """An encrypted copy under the same key; returns its path."""
        from ._text import is_valid_utf8, utf8_clean

        dest = Path(dest).expanduser()
        if dest.is_dir():
            dest = dest / f"tftsr-backup-{self.audit_stamp()}.db"
        if is_valid_utf8(str(dest)):
            self.db.backup(dest)
        else:
            self._backup_to_odd_path(dest)
        name = utf8_clean(dest.name)  # what is stored is valid UTF-8
        self.audit.write_audit_event("backup", "database", name, {"file": name})
        return dest

    def _backup_to_odd_path(self, dest: Path) -> None:
        """A path with bytes that are not UTF-8 (SQLite takes file names as UTF-8 text): write the
        copy under a UTF-8 name in the data directory, then copy it to ``dest``, never over a file."""
        import io
        import shutil
        import uuid

        from ._text import utf8_clean
        from .errors import DatabaseError

        shown = utf8_clean(str(dest))
        if dest.exists() or dest.is_symlink():
            raise DatabaseError(f"{shown} already exists; choose a new file name")
        if not dest.parent.is_dir():
            raise DatabaseError(f"cannot write the backup: directory {utf8_clean(str(dest.parent))} does not exist")
        tmp = self.data_dir / f".backup-{uuid.uuid4().hex}.db"
        try:
            self.db.backup(tmp)
            try:
                with io.open(tmp, "rb") as src, io.open(dest, "xb") as out:  # this module's open() opens a workbench
                    shutil.copyfileobj(src, out, 1 << 20)
            except FileExistsError:
                raise DatabaseError(f"{shown} already exists; choose a new file name") from None
            except OSError as exc:
                dest.unlink(missing_ok=True)
                raise DatabaseError(f"cannot write the backup {shown}: {exc.strerror}") from None
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def audit_stamp() -> str:
        from ._util import utc_now

        return utc_now().replace(" ", "T").replace(":", "")

    def rekey(self, new_key: str | None = None) -> str:
        """Re-encrypt the database and every stored secret under a new key, at any size.

        ``new_key`` defaults to ``TFTSR_NEW_DB_KEY``; without it a new random key is written to
        the key file (only allowed when the current key came from the key file). Returns where
        the new key lives. The database is copied into a new file under the new key (secrets
        re-encrypted and the audit entry written there), which then replaces the old file in one
        rename; the new key waits in ``tftsr.key.new`` until then, so a crash at any step leaves
        either the old database with its key or the new one with its key (the next open finishes
        or undoes the rest). Refused while another process has the database open.
        """
        key_path = self.data_dir / paths.KEY_FILE_NAME
        from_env = new_key or os.environ.get("TFTSR_NEW_DB_KEY")
        if from_env:
            new_key, where = from_env, "TFTSR_NEW_DB_KEY (set TFTSR_DB_KEY to it from now on)"
        else:
            if self._key_source.origin == "TFTSR_DB_KEY":
                raise KeyProblemError("the current key comes from TFTSR_DB_KEY; give the new one in TFTSR_NEW_DB_KEY")
            new_key, where = _new_key(), f"key file {key_path}"
        if new_key == self._key_source.key:
            raise KeyProblemError("the new key is the same as the current key")
        pending = key_path.with_name(key_path.name + ".new")
        new_box = SecretBox(new_key)
        old_box = self.secrets

        def fixup(new_db: Database) -> None:
            conn = new_db.conn
            for purpose, (table, id_col, col) in PURPOSES.items():
                for row in conn.execute(f"SELECT {id_col}, {col} FROM {table} WHERE {col} IS NOT NULL").fetchall():
                    plain = old_box.decrypt(row[1], purpose)
                    conn.execute(f"UPDATE {table} SET {col} = ? WHERE {id_col} = ?",
                                 (new_box.encrypt(plain, purpose), row[0]))
            self.audit.bind(new_db).write_audit_event(
                "rekey", "database", self.db.path.name, {"new_key_location": where.split(" (")[0]})

        def before_swap() -> None:
            if not from_env:  # the next open finds the new key here if we stop after the rename
                write_key_file(pending, new_key)

        try:
            self.db.rekey(new_key, fixup=fixup, before_swap=before_swap)
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        if not from_env:
            os.replace(pending, key_path)
            from .storefiles import fsync_dir

            fsync_dir(self.data_dir)
        self._key_source = KeySource(new_key, where)
        self.secrets = new_box
        self.audit.publish_head()
        with _open_lock:  # later open() calls with the new key reuse this connection
            for k, v in list(_shared.items()):
                if v is self:
                    del _shared[k]
                    _shared[(k[0], new_key)] = self
        return where


def drain_notifications(timeout: float = 60.0) -> None:
    """Wait for the queued notifications of every workbench this process opened."""
    with _open_lock:
        opened = list(_shared.values())
    for wb in opened:
        wb._drain_notifications(timeout)


def close_all() -> None:
    """Close every workbench this process opened (tests, long-lived servers shutting down)."""
    with _open_lock:
        opened = list(_shared.values())
        _shared.clear()
    for wb in opened:
        wb._drain_notifications()
        wb.db.close()


def open(data_dir: str | os.PathLike | None = None, key: str | None = None, *, shared: bool = True) -> Workbench:
    """Open (creating on first use) the workbench in ``data_dir`` with ``key``.

    Defaults: ``TFTSR_DATA_DIR`` or the XDG data home's ``tftsr/``; ``TFTSR_DB_KEY`` or the key
    file. One key derivation per process: with ``shared`` (the default) later calls with the same
    directory and key return the same Workbench.

    Safe when several processes start at once on a fresh directory: the store lock
    (``tftsr.lock``) is taken shared for as long as the database is open, and exclusively while
    the key file and the database are created and migrated, or an interrupted rekey is cleaned up.
    """
    ddir = paths.data_dir(data_dir).resolve()
    source = KeySource(key, "argument") if key else None
    with _open_lock:
        if source is None and (os.environ.get("TFTSR_DB_KEY") is not None
                               or (ddir / paths.KEY_FILE_NAME).exists()):
            source = resolve_key(ddir, create=False)
        if shared and source is not None and (str(ddir), source.key) in _shared:
            return _shared[(str(ddir), source.key)]
        ensure_data_dir(ddir)
        db_path = ddir / paths.DB_FILE_NAME
        lock = StoreLock(ddir / paths.LOCK_FILE_NAME)
        try:
            lock.acquire(fcntl.LOCK_SH)
            if source is None or not _db_exists(db_path) or _rekey_leftovers(ddir, db_path):
                # first use or an interrupted rekey: one process at a time
                lock.acquire(fcntl.LOCK_EX)
                source = source or resolve_key(ddir)
                db, source = _open_db(ddir, db_path, source, lock)
                lock.acquire(fcntl.LOCK_SH)
            else:
                db, source = _open_db(ddir, db_path, source, lock)
        except BaseException:
            lock.release()
            raise
        try:
            wb = Workbench(db, ddir, source)
            if any(name.endswith("_audit_mac") for name in db.applied_now):
                wb.audit.ensure_head()  # a new database, or the first open after the upgrade
        except BaseException:
            db.close()
            raise
        if shared:
            _shared[(str(ddir), source.key)] = wb
        return wb


def _db_exists(db_path: Path) -> bool:
    try:
        return db_path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _rekey_leftovers(ddir: Path, db_path: Path) -> bool:
    from .db import REKEY_TEMP_SUFFIX

    return ((ddir / (paths.KEY_FILE_NAME + ".new")).exists()
            or any(db_path.parent.glob(db_path.name + REKEY_TEMP_SUFFIX + "*")))


def _open_db(ddir: Path, db_path: Path, source: KeySource, lock: StoreLock) -> tuple[Database, KeySource]:
    """Open and migrate; with the lock held exclusively, first undo or finish an interrupted rekey."""
    if lock.mode == fcntl.LOCK_EX:
        remove_rekey_temps(db_path)  # a rekey that stopped before its rename: the old file is current
    try:
        db = Database(db_path, source.key, lock=lock)
    except WrongKeyError as exc:
        if lock.mode != fcntl.LOCK_EX:
            raise
        db, source = _finish_interrupted_rekey(ddir, db_path, source, exc, lock)
    else:
        if lock.mode == fcntl.LOCK_EX:
            (ddir / (paths.KEY_FILE_NAME + ".new")).unlink(missing_ok=True)
    return db, source


def _finish_interrupted_rekey(ddir: Path, db_path: Path, source: KeySource, exc: WrongKeyError,
                              lock: StoreLock):
    """The rename happened but the key file was not replaced yet: the new key is in tftsr.key.new."""
    pending = ddir / (paths.KEY_FILE_NAME + ".new")
    if not pending.exists() or not source.origin.startswith("key file"):
        raise exc
    new_key = read_key_file(pending)
    db = Database(db_path, new_key, lock=lock)  # raises WrongKeyError again if this is not it either
    os.replace(pending, ddir / paths.KEY_FILE_NAME)
    return db, KeySource(new_key, f"key file {ddir / paths.KEY_FILE_NAME}")
