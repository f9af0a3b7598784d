"""The audit log: append-only, hash-chained, and keyed so that tampering is detectable.

Each entry carries two links to the one before it (insertion order):

- ``entry_hash`` = SHA-256(prev_hash|id|timestamp|action|entity_type|entity_id|user_id|details),
  the seed's chain. Anyone with the database key can recompute it, so alone it only catches
  accidents.
- ``mac`` = HMAC-SHA256 under the **audit key** over the entry's position (``seq``), the previous
  entry's mac and every field. The audit key is a separate secret (``audit.key`` in the data
  directory, or ``TFTSR_AUDIT_KEY`` / ``TFTSR_AUDIT_KEY_FILE`` so it can live off the host);
  it is never derived from the database key. Without it an entry cannot be changed, removed,
  reordered or re-chained unnoticed.

The **head** (entry count and last mac, HMAC-signed under the audit key) is kept outside the
database in ``audit.head``, replaced atomically under a lock by every writer after its commit,
and only ever moves forward. ``verify`` compares the chain with it, so deleting the last entries
(or all of them) is detected even with the triggers dropped and recreated; it also prints the
head so it can be recorded elsewhere (``verify --expect-head``), which is what catches someone
who holds both keys or can swap the head file. The threat model is in the README ("Security
model").

Entries made before the chain was keyed (migration 031) keep ``mac = ''``; the first write
afterwards appends an ``audit_chain_keyed`` entry whose mac binds their count and last
entry_hash, and an ``audit_adopt`` entry for every stored object that had no creating entry.
Each entry is written inside the caller's write transaction, so the chain is serialised across
processes by SQLite's write lock. Details hold ids and hashes, never secrets or sent text.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from ._util import from_json, to_json, utc_now, uuid7
from .db import Database
from .errors import AuditKeyError, TftsrError, ValidationError
from .models import AuditEntry
from .models import AuditVerification as _BaseVerification
from .storefiles import StoreLock, create_or_read_key_file, read_key_file, write_atomic

_COLUMNS = "id, timestamp, action, entity_type, entity_id, user_id, details, prev_hash, entry_hash"
_HEAD_FORMAT = "tftsr-audit-head-1"
KEYED_ACTION = "audit_chain_keyed"
ADOPT_ACTION = "audit_adopt"

#: the append-only triggers exactly as migration 012 creates them (whitespace-normalised);
#: verify fails on a missing, changed (e.g. no-op) or additional trigger touching audit_log
EXPECTED_TRIGGERS = {
    "audit_log_no_update": "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN "
                           "SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed'); END",
    "audit_log_no_delete": "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN "
                           "SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted'); END",
}

#: every kind of stored object and the audit actions that create it: (table, entity_type, actions).
#: A service that stores a new kind of object adds it here (verify checks each has its entry).
CREATIONS = (
    ("issues", "issue", ("create_issue",)),
    ("log_files", "log_file", ("upload_log_file",)),
    ("image_attachments", "image_attachment", ("upload_image_attachment", "upload_paste_image")),
    ("documents", "document", ("generate_rca", "generate_postmortem")),
    ("resolution_steps", "resolution_step", ("add_five_why",)),
    ("ai_providers", "ai_provider", ("add_provider",)),
    ("ai_conversations", "ai_conversation", ("new_conversation",)),
    ("integration_config", "integration", ("add_integration",)),
    ("credentials", "credential", ("store_credential",)),
    ("oauth_states", "oauth_state", ("oauth_begin",)),
    ("integration_links", "integration_link", ("publish_to_confluence", "create_servicenow_incident",
                                               "create_azuredevops_workitem")),
    ("notification_channels", "notification_channel", ("add_notification_channel",)),
    ("notification_deliveries", "notification_delivery", ("notify",)),
    ("timeline_event_revisions", "timeline_event_revision", ("edit_timeline_event", "delete_timeline_event")),
    ("mcp_servers", "mcp_server", ("create_mcp_server",)),
    ("mcp_tools", "mcp_tool", ("discover_mcp_tool",)),
    ("mcp_resources", "mcp_resource", ("discover_mcp_resource",)),
    ("mcp_prompts", "mcp_prompt", ("discover_mcp_prompt",)),
    ("approval_decisions", "approval_decision", ("approval_decision", "shell_approval_decision")),
    ("ai_tool_calls", "ai_tool_call", ("ai_tool_call",)),
    ("shell_actions", "shell_action", ("propose_shell_command",)),
    ("command_executions", "command_execution", ("shell_command_execution",)),
    ("kubeconfig_files", "kubeconfig", ("add_kubeconfig",)),
    ("policies", "policy", ("add_policy",)),
    ("shell_commands", "site_command", ("add_site_command",)),
)


def entry_hash(prev_hash, id, timestamp, action, entity_type, entity_id, user_id, details) -> str:
    text = "|".join([prev_hash, id, timestamp, action, entity_type, entity_id, user_id, details or ""])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _norm(sql: str | None) -> str:
    return " ".join((sql or "").split())


# --- the audit key -------------------------------------------------------------------------------
class AuditKeyring:
    """Where the audit key comes from: ``TFTSR_AUDIT_KEY``, ``TFTSR_AUDIT_KEY_FILE``, else
    ``audit.key`` in the data directory (made on first use like the database key file)."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self._keys: tuple[bytes, bytes] | None = None
        self.origin: str | None = None

    def _locate(self) -> tuple[str | None, Path | None, str]:
        env = os.environ.get("TFTSR_AUDIT_KEY")
        if env is not None:
            if not env.strip():
                raise AuditKeyError("TFTSR_AUDIT_KEY is set but empty; unset it or give the audit key")
            return env.strip(), None, "TFTSR_AUDIT_KEY"
        file_env = os.environ.get("TFTSR_AUDIT_KEY_FILE")
        if file_env is not None:
            if not file_env.strip():
                raise AuditKeyError("TFTSR_AUDIT_KEY_FILE is set but empty; unset it or give a path")
            path = Path(file_env).expanduser()
            return None, path, f"audit key file {path} (TFTSR_AUDIT_KEY_FILE)"
        path = self.data_dir / paths.AUDIT_KEY_FILE_NAME
        return None, path, f"audit key file {path}"

    def describe(self) -> str:
        """Where the audit key comes from (without reading it)."""
        try:
            return self._locate()[2]
        except AuditKeyError as exc:
            return str(exc)

    def keys(self, *, create: bool) -> tuple[bytes, bytes]:
        """(entry MAC key, head signing key), derived from the audit key with distinct labels."""
        if self._keys is not None:
            return self._keys
        secret, path, origin = self._locate()
        if secret is None:
            if path.exists():
                secret = read_key_file(path, "audit key file")
            elif create:
                if not path.parent.is_dir():
                    raise AuditKeyError(f"cannot create the audit key file {path}: its directory does not exist")
                secret, _ = create_or_read_key_file(path, "audit key file")
            else:
                raise AuditKeyError(
                    f"the audit key is missing ({origin} does not exist), but the audit log is keyed: "
                    "restore the audit key file, or set TFTSR_AUDIT_KEY / TFTSR_AUDIT_KEY_FILE"
                )
        raw = secret.encode("utf-8")
        self._keys = (hmac.new(raw, b"tftsr audit entry mac v1", hashlib.sha256).digest(),
                      hmac.new(raw, b"tftsr audit head v1", hashlib.sha256).digest())
        self.origin = origin
        return self._keys


def entry_mac(key: bytes, seq: int, prev_link: str, id, timestamp, action, entity_type, entity_id,
              user_id, details) -> str:
    msg = json.dumps(["v1", seq, prev_link, id, timestamp, action, entity_type, entity_id, user_id, details],
                     ensure_ascii=True, separators=(",", ":"))
    return hmac.new(key, msg.encode("ascii"), hashlib.sha256).hexdigest()


# --- the head ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditHead:
    """Entry count and the last entry's mac: ``"<entries>:<mac>"`` (``"0:"`` for an empty log)."""

    entries: int
    mac: str

    def __str__(self) -> str:
        return f"{self.entries}:{self.mac}"

    @classmethod
    def parse(cls, text: str) -> "AuditHead":
        count, sep, mac = (text or "").strip().partition(":")
        if not sep or not count.isdigit() or (mac and len(mac) != 64) or any(c not in "0123456789abcdef" for c in mac):
            raise ValidationError(f"not an audit head: {text!r} (expected ENTRIES:MAC as printed by tftsr verify)")
        if (int(count) == 0) != (mac == ""):
            raise ValidationError(f"not an audit head: {text!r}")
        return cls(int(count), mac)


@dataclass
class AuditVerification(_BaseVerification):
    """The result of :meth:`AuditService.verify`. ``problems`` lists every finding (``reason``
    is the first); ``head`` is the chain's current head, to record elsewhere; ``notes`` are facts
    that are not failures (keying of old entries, a head file that lagged)."""

    head: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    head_file: str | None = None


class AuditService:
    def __init__(self, db: Database, user_id: str = "local", *, data_dir: Path | None = None,
                 keyring: AuditKeyring | None = None):
        self._db = db
        self.user_id = user_id
        #: who is acting, asked at every write (the workbench sets it: the team's current actor)
        self.actor_name = None
        self.data_dir = Path(data_dir) if data_dir is not None else db.path.parent
        self.keyring = keyring or AuditKeyring(self.data_dir)
        self.head_path = self.data_dir / paths.AUDIT_HEAD_FILE_NAME
        self._head_lock_path = self.data_dir / (paths.AUDIT_HEAD_FILE_NAME + ".lock")
        #: the last error met while updating the head file (it then lags; verify tolerates that)
        self.head_error: str | None = None

    def bind(self, db: Database) -> "AuditService":
        """The same audit key and head, writing to another database object (a rekey's new file)."""
        other = AuditService(db, self.user_id, data_dir=self.data_dir, keyring=self.keyring)
        other.actor_name = self.actor_name
        other._publish = False
        return other

    _publish = True

    # -- writing
    def write_audit_event(self, action: str, entity_type: str, entity_id: str,
                          details: dict | None = None) -> AuditEntry:
        """Append one entry (joins the caller's transaction when there is one)."""
        mac_key = self._mac_key()
        with self._db.write() as conn:
            entry = self._append(conn, mac_key, action, entity_type, entity_id, details)
            if self._publish:
                self._db.after_commit(self.publish_head)
        return entry

    def _chain_is_keyed(self) -> bool:
        row = self._db.query_one("SELECT mac FROM audit_log ORDER BY rowid DESC LIMIT 1")
        return bool(row and row["mac"])

    def _mac_key(self) -> bytes:
        """The entry MAC key; made on first use only while no entry is keyed yet."""
        if self.keyring._keys is None:
            self.keyring.keys(create=not self._chain_is_keyed())
        return self.keyring._keys[0]

    def _append(self, conn, mac_key: bytes, action, entity_type, entity_id, details) -> AuditEntry:
        last = conn.execute("SELECT seq, mac, entry_hash FROM audit_log ORDER BY rowid DESC LIMIT 1").fetchone()
        if last is not None and not last["mac"]:
            self._key_legacy_chain(conn, mac_key)
            last = conn.execute("SELECT seq, mac, entry_hash FROM audit_log ORDER BY rowid DESC LIMIT 1").fetchone()
        prev_hash = last["entry_hash"] if last else ""
        seq, prev_link = (last["seq"] + 1, last["mac"]) if last else (1, "")
        return self._insert(conn, mac_key, seq, prev_link, prev_hash, action, entity_type, entity_id, details)

    def _insert(self, conn, mac_key, seq, prev_link, prev_hash, action, entity_type, entity_id, details) -> AuditEntry:
        eid, ts = uuid7(), utc_now()
        det = to_json(details) if details is not None else None
        user = self.actor_name() if self.actor_name is not None else self.user_id
        h = entry_hash(prev_hash, eid, ts, action, entity_type, entity_id, user, det)
        mac = entry_mac(mac_key, seq, prev_link, eid, ts, action, entity_type, entity_id, user, det)
        conn.execute(
            f"INSERT INTO audit_log({_COLUMNS}, seq, mac) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (eid, ts, action, entity_type, entity_id, user, det, prev_hash, h, seq, mac),
        )
        return AuditEntry(eid, ts, action, entity_type, entity_id, user, details, prev_hash, h)

    def _key_legacy_chain(self, conn, mac_key: bytes) -> None:
        """Key a chain made before migration 031: one entry binding the old entries' count and
        last hash, then an adopt entry for each stored object that has no creating entry."""
        n, last_hash = conn.execute(
            "SELECT count(*), (SELECT entry_hash FROM audit_log ORDER BY rowid DESC LIMIT 1) FROM audit_log").fetchone()
        self._insert(conn, mac_key, n + 1, f"legacy:{last_hash}", last_hash, KEYED_ACTION, "audit_log", "chain",
                     {"legacy_entries": n, "legacy_last_hash": last_hash})
        for table, entity_type, ident in self._objects_without_creation(conn, limit=None):
            row = conn.execute("SELECT seq, mac, entry_hash FROM audit_log ORDER BY rowid DESC LIMIT 1").fetchone()
            seq, prev_link, prev_hash = row["seq"] + 1, row["mac"], row["entry_hash"]
            self._insert(conn, mac_key, seq, prev_link, prev_hash, ADOPT_ACTION, entity_type, ident,
                         {"table": table, "reason": "stored before the audit chain was keyed"})

    def ensure_head(self) -> None:
        """After creating or upgrading the database: key an old chain and write the head file."""
        if self.head_path.exists():
            return
        mac_key = self._mac_key()
        head_key = self.keyring._keys[1]
        with self._db.write() as conn:
            last = conn.execute("SELECT mac FROM audit_log ORDER BY rowid DESC LIMIT 1").fetchone()
            if last is not None and not last["mac"]:
                self._key_legacy_chain(conn, mac_key)
        with StoreLock(self._head_lock_path) as lock:
            lock.acquire(fcntl.LOCK_EX, what="the audit head file")
            if not self.head_path.exists():
                self._write_head(head_key, self.current_head())

    def current_head(self) -> AuditHead:
        row = self._db.query_one("SELECT seq, mac FROM audit_log ORDER BY rowid DESC LIMIT 1")
        if row is None or row["seq"] is None:
            return AuditHead(0, "")
        return AuditHead(int(row["seq"]), row["mac"])

    def publish_head(self) -> None:
        """Move the head file forward to this database's last entry (never back, never create it)."""
        try:
            _, head_key = self.keyring.keys(create=False)
            head = self.current_head()
            with StoreLock(self._head_lock_path) as lock:
                lock.acquire(fcntl.LOCK_EX, what="the audit head file")
                status, stored, _ = self._read_head(head_key)
                if status == "ok" and stored.entries < head.entries:
                    self._write_head(head_key, head)
            self.head_error = None
        except (OSError, TftsrError) as exc:  # the head then lags; the next writer moves it on
            self.head_error = str(exc)

    @staticmethod
    def _sign(head_key: bytes, head: AuditHead) -> str:
        return hmac.new(head_key, f"{_HEAD_FORMAT}:{head}".encode("ascii"), hashlib.sha256).hexdigest()

    def _write_head(self, head_key: bytes, head: AuditHead) -> None:
        doc = {"format": _HEAD_FORMAT, "entries": head.entries, "mac": head.mac, "sig": self._sign(head_key, head)}
        write_atomic(self.head_path, (json.dumps(doc) + "\n").encode("ascii"))

    def _read_head(self, head_key: bytes) -> tuple[str, AuditHead | None, str]:
        """("ok" | "missing" | "invalid", head, message)."""
        try:
            raw = self.head_path.read_bytes()
        except FileNotFoundError:
            return "missing", None, f"the audit head file {self.head_path} is missing"
        except OSError as exc:
            return "invalid", None, f"cannot read the audit head file {self.head_path}: {exc.strerror}"
        try:
            doc = json.loads(raw.decode("ascii"))
            head = AuditHead(int(doc["entries"]), str(doc["mac"]))
            sig = str(doc["sig"])
            if doc.get("format") != _HEAD_FORMAT:
                raise ValueError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return "invalid", None, f"the audit head file {self.head_path} is damaged"
        if not hmac.compare_digest(sig, self._sign(head_key, head)):
            return "invalid", head, (f"the audit head file {self.head_path} has an invalid signature "
                                     "(it was altered, or made with another audit key)")
        return "ok", head, ""

    # -- reading
    def get_audit_log(self, *, action: str | None = None, entity_type: str | None = None,
                      entity_id: str | None = None, since: str | None = None,
                      until: str | None = None, limit: int = 100, offset: int = 0,
                      user_id: str | None = None) -> list[AuditEntry]:
        """Entries, newest first, filtered by action, entity, acting user (name) and time range."""
        where, params = [], []
        for col, val in (("action", action), ("entity_type", entity_type), ("entity_id", entity_id),
                         ("user_id", user_id)):
            if val:
                where.append(f"{col} = ?")
                params.append(val)
        if since:
            where.append("timestamp >= ?")
            params.append(since)
        if until:
            where.append("timestamp <= ?")
            params.append(until)
        sql = f"SELECT {_COLUMNS} FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY rowid DESC LIMIT ? OFFSET ?"
        params += [max(0, int(limit)), max(0, int(offset))]
        return [self._entry(r) for r in self._db.query(sql, params)]

    @staticmethod
    def _entry(row) -> AuditEntry:
        return AuditEntry(row["id"], row["timestamp"], row["action"], row["entity_type"],
                          row["entity_id"], row["user_id"], from_json(row["details"]),
                          row["prev_hash"], row["entry_hash"])

    # -- verifying
    def verify(self, expect_head: str | None = None) -> AuditVerification:
        """Check the triggers, the hash chain and the keyed chain, the head file (and
        ``expect_head``, a head recorded earlier: the chain must extend it), and that every
        stored object has its creating entry. Never raises for tampering: it reports it."""
        expected = AuditHead.parse(expect_head) if expect_head is not None else None
        v = AuditVerification(ok=True, entries=0)

        def fail(reason, bad_id=None, index=None):
            if v.ok:
                v.ok, v.reason, v.first_bad_id, v.first_bad_index = False, reason, bad_id, index
            v.problems.append(reason)

        keys = None
        try:
            keys = self.keyring.keys(create=False)
        except AuditKeyError as exc:
            key_problem = str(exc)
        else:
            key_problem = None
        chain_ok, head = self._walk_chain(v, fail, keys, key_problem)
        self._check_triggers(fail)
        if chain_ok and head is not None:
            v.head = str(head)
            self._check_head_file(v, fail, keys, head, expected)
        with self._db.read() as conn:
            missing = self._objects_without_creation(conn, limit=6)
        if missing:
            total = self._count_without_creation()
            shown = ", ".join(f"{etype} {ident}" for _t, etype, ident in missing[:5])
            fail(f"{total} stored object(s) have no creating audit entry (made or restored outside "
                 f"TFTSR, or their entries were removed): {shown}")
        return v

    def _check_triggers(self, fail) -> None:
        rows = self._db.query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                              " AND (tbl_name = 'audit_log' OR sql LIKE '%audit_log%')")
        found = {r["name"]: _norm(r["sql"]) for r in rows}
        missing = [t for t in EXPECTED_TRIGGERS if t not in found]
        changed = [t for t, sql in EXPECTED_TRIGGERS.items() if t in found and found[t] != _norm(sql)]
        extra = sorted(t for t in found if t not in EXPECTED_TRIGGERS)
        if missing:
            fail("append-only trigger(s) missing: " + ", ".join(missing))
        if changed:
            fail("append-only trigger(s) replaced by different SQL (they no longer protect the log): "
                 + ", ".join(changed))
        if extra:
            fail("unexpected trigger(s) on the audit log: " + ", ".join(extra))

    def _walk_chain(self, v, fail, keys, key_problem) -> tuple[bool, AuditHead | None]:
        prev_hash, prev_link, legacy, keyed_at = "", "", 0, None
        mac_key = keys[0] if keys else None
        last = AuditHead(0, "")
        with self._db.read() as conn:
            cur = conn.execute(f"SELECT {_COLUMNS}, seq, mac FROM audit_log ORDER BY rowid")
            for index, r in enumerate(cur):
                v.entries = index + 1
                if r["prev_hash"] != prev_hash:
                    fail("prev_hash does not match the previous entry (an entry was removed or reordered)",
                         r["id"], index)
                    return False, None
                if r["entry_hash"] != entry_hash(r["prev_hash"], r["id"], r["timestamp"], r["action"],
                                                 r["entity_type"], r["entity_id"], r["user_id"], r["details"]):
                    fail("entry_hash does not match the entry's fields (the entry was changed)", r["id"], index)
                    return False, None
                prev_hash = r["entry_hash"]
                if not r["mac"]:
                    if last.entries:
                        fail("an entry without a MAC follows keyed entries (written without the audit "
                             "key, or by an older TFTSR)", r["id"], index)
                        return False, None
                    legacy += 1
                    continue
                if mac_key is None:
                    fail(f"cannot check the keyed audit chain: {key_problem}")
                    return False, None
                if last.entries == 0 and legacy:
                    details = from_json(r["details"]) or {}
                    if r["action"] != KEYED_ACTION or details.get("legacy_entries") != legacy:
                        fail(f"the first keyed entry does not account for the {legacy} earlier entries "
                             "(entries were removed or added before it)", r["id"], index)
                        return False, None
                    prev_link = f"legacy:{details.get('legacy_last_hash')}"
                    if details.get("legacy_last_hash") != r["prev_hash"]:
                        fail("the keyed chain does not start at the last earlier entry", r["id"], index)
                        return False, None
                    keyed_at = r["timestamp"]
                expect_seq = index + 1
                if r["seq"] != expect_seq:
                    fail(f"entry is #{expect_seq} in the log but was written as #{r['seq']} (entries were "
                         "removed, added or reordered)", r["id"], index)
                    return False, None
                mac = entry_mac(mac_key, expect_seq, prev_link, r["id"], r["timestamp"], r["action"],
                                r["entity_type"], r["entity_id"], r["user_id"], r["details"])
                if not hmac.compare_digest(mac, r["mac"]):
                    fail("the entry's MAC does not verify under the audit key (the entry was changed or "
                         "re-chained without the audit key, or this is another audit key)", r["id"], index)
                    return False, None
                prev_link = r["mac"]
                last = AuditHead(expect_seq, r["mac"])
        if legacy and not last.entries:
            v.notes.append(f"{legacy} entries were made before the chain was keyed; the next write keys them")
            return True, None
        if keyed_at:
            v.notes.append(f"the {legacy} entries made before the keyed chain were keyed on {keyed_at} UTC: "
                           "changes to them before that time cannot be detected")
        return True, last

    def _check_head_file(self, v, fail, keys, head: AuditHead, expected: AuditHead | None) -> None:
        if keys is None:
            return
        status, stored, message = self._read_head(keys[1])
        v.head_file = status
        if expected is not None:
            problem = self._compare(head, expected, "the recorded head")
            if problem:
                fail(problem)
            elif status != "ok":
                # the operator vouched for this chain with a head recorded elsewhere: a missing or
                # unusable head file (a restored backup, another audit key before) is rewritten
                with StoreLock(self._head_lock_path) as lock:
                    lock.acquire(fcntl.LOCK_EX, what="the audit head file")
                    self._write_head(keys[1], head)
                v.head_file = "rewritten"
                v.notes.append(f"{message}; rewritten from the current chain, which extends the recorded head")
                return
        if status != "ok":
            fail(message + ("; if this database was restored from a backup, run "
                            "'tftsr verify --expect-head HEAD' with the head you recorded" if status == "missing" else ""))
            return
        problem = self._compare(head, stored, "the head file")
        if problem:
            fail(problem)
        elif stored.entries < head.entries:
            v.notes.append(f"the head file was {head.entries - stored.entries} entr(y/ies) behind "
                           "(a writer stopped between its commit and the head update)")

    def _compare(self, head: AuditHead, ref: AuditHead, what: str) -> str | None:
        """None when the chain (ending at ``head``) extends ``ref``; else what is wrong."""
        if ref.entries > head.entries:
            return (f"the audit log was truncated: {what} records {ref.entries} entries but the log has "
                    f"{head.entries} ({ref.entries - head.entries} missing at the end)")
        if ref.entries == 0:
            return None
        row = self._db.query_one("SELECT mac FROM audit_log WHERE seq = ? ORDER BY rowid LIMIT 1", (ref.entries,))
        if row is None or not hmac.compare_digest(row["mac"], ref.mac):
            return (f"the audit log was rewritten: entry #{ref.entries} differs from {what} "
                    "(entries were replaced and re-chained)")
        return None

    def _creation_queries(self, conn):
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
        for table, entity_type, actions in CREATIONS:
            if table not in tables:
                continue
            marks = ",".join("?" * (len(actions) + 1))
            yield table, entity_type, (
                f"FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_type = ?"
                f" AND a.entity_id = t.id AND a.action IN ({marks}))"), (entity_type, *actions, ADOPT_ACTION)
        if "timeline_events" in tables:
            # recorded under its first type (an edit may have changed it since: the history keeps it)
            first_type = ("coalesce((SELECT r.event_type FROM timeline_event_revisions r WHERE r.event_id = t.id"
                          " AND r.revision = 1), t.event_type)" if "timeline_event_revisions" in tables
                          else "t.event_type")
            yield "timeline_events", "timeline_event", (
                "FROM timeline_events t WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE"
                " a.entity_type = 'issue' AND a.entity_id = t.issue_id"
                f" AND a.action = {first_type}"
                " AND json_valid(a.details) AND json_extract(a.details, '$.timeline_event_id') = t.id)"
                " AND NOT EXISTS (SELECT 1 FROM audit_log b WHERE b.entity_type = 'timeline_event'"
                " AND b.entity_id = t.id AND b.action = ?)"), (ADOPT_ACTION,)

    def _objects_without_creation(self, conn, *, limit: int | None) -> list[tuple[str, str, str]]:
        found = []
        for table, entity_type, where, params in self._creation_queries(conn):
            sql = f"SELECT t.id {where} ORDER BY t.rowid" + (f" LIMIT {int(limit)}" if limit else "")
            found += [(table, entity_type, r[0]) for r in conn.execute(sql, params).fetchall()]
            if limit and len(found) >= limit:
                return found[:limit]
        return found

    def _count_without_creation(self) -> int:
        with self._db.read() as conn:
            return sum(conn.execute(f"SELECT count(*) {where}", params).fetchone()[0]
                       for _t, _e, where, params in self._creation_queries(conn))
