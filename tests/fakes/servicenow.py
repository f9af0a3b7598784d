"""A fake ServiceNow instance: the Table API for ``incident``, following the documented API.

- ``GET /api/now/table/incident?sysparm_query=&sysparm_limit=&sysparm_fields=``: ``{"result": [...]}``;
  the encoded query understands ``short_descriptionLIKEx``, ``number=INC...`` and ``^ORDERBY...``
- ``POST /api/now/table/incident``: 201 ``{"result": {...}}`` with ``sys_id`` and ``number``
- ``GET|PATCH /api/now/table/incident/{sys_id}``
- HTTP basic auth; errors ``{"error": {"message", "detail"}, "status": "failure"}``
"""

from __future__ import annotations

import re
import uuid

from .rest import FakeRest, Request

WRITABLE = {"short_description", "description", "urgency", "impact", "state", "comments", "work_notes",
            "assignment_group", "caller_id", "category", "close_notes", "close_code"}


class FakeServiceNow(FakeRest):
    def __init__(self, *, auth: set[str] | None = None):
        super().__init__()
        self.accept_auth = auth
        self.incidents: dict[str, dict] = {}
        self._number = 10000

    def error_body(self, status, message):
        return {"error": {"message": message, "detail": None}, "status": "failure"}

    def unauthorized(self, req):
        return 401, {"error": {"message": "User Not Authenticated",
                               "detail": "Required to provide Auth information"}, "status": "failure"}, None

    def add(self, short_description: str, **fields) -> dict:
        self._number += 1
        sid = uuid.uuid4().hex
        inc = {"sys_id": sid, "number": f"INC00{self._number}", "short_description": short_description,
               "description": "", "urgency": "3", "impact": "3", "state": "1",
               "sys_created_on": f"2026-12-01 10:{self._number % 60:02d}:00", **fields}
        self.incidents[sid] = inc
        return inc

    def _select(self, inc, fields):
        return {k: v for k, v in inc.items() if not fields or k in fields}

    def route(self, req: Request):
        base = "/api/now/table/incident"
        fields = [f for f in req.query.get("sysparm_fields", "").split(",") if f]
        if req.path == base and req.method == "GET":
            q = req.query.get("sysparm_query", "")
            rows = list(self.incidents.values())
            for term in q.split("^"):
                if term.startswith("ORDERBY") or not term:
                    continue
                m = re.fullmatch(r"(\w+)LIKE(.*)", term)
                if m:
                    rows = [r for r in rows if m.group(2).lower() in str(r.get(m.group(1), "")).lower()]
                    continue
                m = re.fullmatch(r"(\w+)=(.*)", term)
                if m:
                    rows = [r for r in rows if str(r.get(m.group(1))) == m.group(2)]
                    continue
                return 400, self.error_body(400, f"Invalid query: {term}"), None
            if "ORDERBYDESCsys_created_on" in q:
                rows.sort(key=lambda r: r["sys_created_on"], reverse=True)
            limit = int(req.query.get("sysparm_limit", 10000))
            return 200, {"result": [self._select(r, fields) for r in rows[:limit]]}, None
        if req.path == base and req.method == "POST":
            b = req.body
            if not isinstance(b, dict):
                return 400, self.error_body(400, "Exception while reading request"), None
            bad = set(b) - WRITABLE
            if bad:
                return 400, self.error_body(400, f"Invalid field(s): {', '.join(sorted(bad))}"), None
            inc = self.add(b.get("short_description", ""), **{k: v for k, v in b.items() if k != "short_description"})
            return 201, {"result": inc}, {"Location": f"{self.url}{base}/{inc['sys_id']}"}
        m = re.fullmatch(base + r"/([0-9a-f]{32})", req.path)
        if m:
            inc = self.incidents.get(m.group(1))
            if inc is None:
                return 404, {"error": {"message": "No Record found",
                                       "detail": "Record doesn't exist or ACL restricts the record retrieval"},
                             "status": "failure"}, None
            if req.method == "GET":
                return 200, {"result": self._select(inc, fields)}, None
            if req.method in ("PATCH", "PUT"):
                b = req.body if isinstance(req.body, dict) else {}
                bad = set(b) - WRITABLE
                if bad:
                    return 400, self.error_body(400, f"Invalid field(s): {', '.join(sorted(bad))}"), None
                inc.update(b)
                return 200, {"result": inc}, None
        return 400, self.error_body(400, f"Requested URI does not represent any resource: {req.path}"), None
