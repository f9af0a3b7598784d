"""The audit log: append-only (enforced by triggers) and hash-chained in insertion order.

entry_hash = SHA-256(prev_hash|id|timestamp|action|entity_type|entity_id|user_id|details). Each
entry is written inside the caller's write transaction, so the chain is serialised across
processes by SQLite's write lock. Details hold ids and hashes, never secrets or sent text.
"""

from __future__ import annotations

import hashlib

from ._util import from_json, to_json, utc_now, uuid7
from .db import Database
from .models import AuditEntry, AuditVerification

_TRIGGERS = ("audit_log_no_update", "audit_log_no_delete")
_COLUMNS = "id, timestamp, action, entity_type, entity_id, user_id, details, prev_hash, entry_hash"


def entry_hash(prev_hash, id, timestamp, action, entity_type, entity_id, user_id, details) -> str:
    text = "|".join([prev_hash, id, timestamp, action, entity_type, entity_id, user_id, details or ""])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class AuditService:
    def __init__(self, db: Database, user_id: str = "local"):
        self._db = db
        self.user_id = user_id
        #: who is acting, asked at every write (the workbench sets it: the team's current actor)
        self.actor_name = None

    def write_audit_event(self, action: str, entity_type: str, entity_id: str,
                          details: dict | None = None) -> AuditEntry:
        """Append one entry (joins the caller's transaction when there is one)."""
        user = self.actor_name() if self.actor_name is not None else self.user_id
        with self._db.write() as conn:
            row = conn.execute("SELECT entry_hash FROM audit_log ORDER BY rowid DESC LIMIT 1").fetchone()
            prev = row[0] if row else ""
            eid, ts = uuid7(), utc_now()
            det = to_json(details) if details is not None else None
            h = entry_hash(prev, eid, ts, action, entity_type, entity_id, user, det)
            conn.execute(
                f"INSERT INTO audit_log({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                (eid, ts, action, entity_type, entity_id, user, det, prev, h),
            )
        return AuditEntry(eid, ts, action, entity_type, entity_id, user, details, prev, h)

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

    def verify(self) -> AuditVerification:
        """Walk the chain in insertion order; report the first entry that does not hold."""
        names = {r[0] for r in self._db.query(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")}
        missing = [t for t in _TRIGGERS if t not in names]
        prev, count = "", 0
        with self._db.read() as conn:
            cur = conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY rowid")
            for index, r in enumerate(cur):
                count += 1
                if r["prev_hash"] != prev:
                    return AuditVerification(False, count, r["id"], index,
                                             "prev_hash does not match the previous entry (an entry was removed or reordered)")
                expect = entry_hash(r["prev_hash"], r["id"], r["timestamp"], r["action"], r["entity_type"],
                                    r["entity_id"], r["user_id"], r["details"])
                if r["entry_hash"] != expect:
                    return AuditVerification(False, count, r["id"], index,
                                             "entry_hash does not match the entry's fields (the entry was changed)")
                prev = r["entry_hash"]
        if missing:
            return AuditVerification(False, count, None, None,
                                     "append-only trigger(s) missing: " + ", ".join(missing))
        return AuditVerification(True, count)
