"""The façade: ``tftsr_kernel.open()`` returns a :class:`Workbench` with services by domain."""

from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path

from . import paths
from .attachments import AttachmentService
from .audit import AuditService
from .db import Database, KeySource, ensure_data_dir, resolve_key, write_key_file
from .errors import KeyProblemError, WrongKeyError
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
    ``whys``; and, loaded on first use, ``pii``, ``providers``, ``chat``, ``documents``, ``team``, ``alerts``.
    """

    def __init__(self, db: Database, data_dir: Path, key_source: KeySource):
        self.db = db
        self.data_dir = data_dir
        self._key_source = key_source
        self.secrets = SecretBox(key_source.key)
        self.audit = AuditService(db)
        self.timeline = TimelineService(db, self.audit)
        self.issues = IssueService(db, self.audit)
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
    def documents(self):
        from .documents.service import DocumentService

        return self._guard(self, "documents", DocumentService(self))

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
        self.db.close()

    # -- maintenance
    def verify(self):
        """SQLCipher integrity, the search index and the audit chain."""
        problems = self.db.integrity_check()
        chain = self.audit.verify()
        return problems, chain

    def backup(self, dest: str | os.PathLike) -> Path:
        """An encrypted copy under the same key; returns its path."""
        dest = Path(dest).expanduser()
        if dest.is_dir():
            dest = dest / f"tftsr-backup-{self.audit_stamp()}.db"
        self.db.backup(dest)
        self.audit.write_audit_event("backup", "database", str(dest.name), {"file": str(dest.name)})
        return dest

    @staticmethod
    def audit_stamp() -> str:
        from ._util import utc_now

        return utc_now().replace(" ", "T").replace(":", "")

    def rekey(self, new_key: str | None = None) -> str:
        """Re-encrypt the database and every stored secret under a new key.

        ``new_key`` defaults to ``TFTSR_NEW_DB_KEY``; without it a new random key is written to
        the key file (only allowed when the current key came from the key file). Returns where
        the new key lives.
        """
        key_path = self.data_dir / paths.KEY_FILE_NAME
        from_env = new_key or os.environ.get("TFTSR_NEW_DB_KEY")
        if from_env:
            new_key, where = from_env, "TFTSR_NEW_DB_KEY (set TFTSR_DB_KEY to it from now on)"
        else:
            if self._key_source.origin == "TFTSR_DB_KEY":
                raise KeyProblemError("the current key comes from TFTSR_DB_KEY; give the new one in TFTSR_NEW_DB_KEY")
            import secrets as _s

            new_key, where = _s.token_bytes(32).hex(), f"key file {key_path}"
        if new_key == self._key_source.key:
            raise KeyProblemError("the new key is the same as the current key")
        pending = key_path.with_name(key_path.name + ".new")
        if not from_env:
            write_key_file(pending, new_key)  # so an interrupted rekey can be finished on next open
        new_box = SecretBox(new_key)
        self.db.query("PRAGMA wal_checkpoint(TRUNCATE)")
        with self.db.write() as conn:
            for purpose, (table, id_col, col) in PURPOSES.items():
                for row in conn.execute(f"SELECT {id_col}, {col} FROM {table} WHERE {col} IS NOT NULL").fetchall():
                    plain = self.secrets.decrypt(row[1], purpose)
                    conn.execute(f"UPDATE {table} SET {col} = ? WHERE {id_col} = ?",
                                 (new_box.encrypt(plain, purpose), row[0]))
            self.audit.write_audit_event("rekey", "database", self.db.path.name, {"new_key_location": where.split(" (")[0]})
            # PRAGMA rekey commits this transaction together with the re-encryption of every page
            self.db.rekey(new_key)
        if not from_env:
            os.replace(pending, key_path)
        self._key_source = KeySource(new_key, where)
        self.secrets = new_box
        with _open_lock:  # later open() calls with the new key reuse this connection
            for k, v in list(_shared.items()):
                if v is self:
                    del _shared[k]
                    _shared[(k[0], new_key)] = self
        return where


def close_all() -> None:
    """Close every workbench this process opened (tests, long-lived servers shutting down)."""
    with _open_lock:
        opened = list(_shared.values())
        _shared.clear()
    for wb in opened:
        wb.db.close()


def open(data_dir: str | os.PathLike | None = None, key: str | None = None, *, shared: bool = True) -> Workbench:
    """Open (creating on first use) the workbench in ``data_dir`` with ``key``.

    Defaults: ``TFTSR_DATA_DIR`` or the XDG data home's ``tftsr/``; ``TFTSR_DB_KEY`` or the key
    file. One key derivation per process: with ``shared`` (the default) later calls with the same
    directory and key return the same Workbench.
    """
    ddir = paths.data_dir(data_dir).resolve()
    source = KeySource(key, "argument") if key else None
    with _open_lock:
        if source is None:
            source = resolve_key(ddir)
        cache_key = (str(ddir), source.key)
        if shared and cache_key in _shared:
            return _shared[cache_key]
        ensure_data_dir(ddir)
        db_path = ddir / paths.DB_FILE_NAME
        try:
            db = Database(db_path, source.key)
        except WrongKeyError as exc:
            db, source = _finish_interrupted_rekey(ddir, db_path, source, exc)
        wb = Workbench(db, ddir, source)
        if shared:
            _shared[(str(ddir), source.key)] = wb
        return wb


def _finish_interrupted_rekey(ddir: Path, db_path: Path, source: KeySource, exc: WrongKeyError):
    pending = ddir / (paths.KEY_FILE_NAME + ".new")
    if not pending.exists() or not source.origin.startswith("key file"):
        raise exc
    from .db import _read_key_file

    new_key = _read_key_file(pending)
    db = Database(db_path, new_key)  # raises WrongKeyError again if this is not it either
    os.replace(pending, ddir / paths.KEY_FILE_NAME)
    return db, KeySource(new_key, f"key file {ddir / paths.KEY_FILE_NAME}")
