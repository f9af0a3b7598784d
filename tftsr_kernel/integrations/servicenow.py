"""ServiceNow Table API: ``/api/now/table/incident`` with HTTP basic auth.

Answers are wrapped in ``{"result": ...}``; errors are ``{"error": {"message", "detail"},
"status": "failure"}``. The link to an incident is ``/nav_to.do?uri=incident.do?sys_id=``.
"""

from __future__ import annotations

import re

from ._http import Http
from .errors import IntegrationNotFoundError, IntegrationResponseError
from .models import ConnectionResult, Incident

TABLE = "/api/now/table/incident"
SYS_ID = re.compile(r"[0-9a-f]{32}")
#: severity -> (urgency, impact): critical 1/1, high 1/2, medium 2/2, low 3/3
SEVERITY_MAP = {"critical": ("1", "1"), "high": ("1", "2"), "medium": ("2", "2"), "low": ("3", "3")}
_FIELDS = "sys_id,number,short_description,state,urgency,impact,description,priority,sys_updated_on"


def _value(v):
    return v.get("value") if isinstance(v, dict) else v


def query_escape(text: str) -> str:
    """A value inside an encoded query: ``^`` separates terms, so it may not appear raw."""
    return str(text).replace("^", " ").replace("\n", " ").strip()


class ServiceNowClient:
    def __init__(self, http: Http):
        self.http = http

    def incident_url(self, sys_id: str) -> str:
        return f"{self.http.base_url}/nav_to.do?uri=incident.do?sys_id={sys_id}"

    def _incident(self, r: dict) -> Incident:
        sys_id = str(_value(r.get("sys_id")) or "")
        return Incident(sys_id, str(_value(r.get("number")) or ""), str(_value(r.get("short_description")) or ""),
                        _value(r.get("state")), _value(r.get("urgency")), _value(r.get("impact")),
                        self.incident_url(sys_id) if sys_id else None,
                        {k: _value(v) for k, v in r.items()})

    def test_connection(self) -> ConnectionResult:
        self.http.json("GET", TABLE, params={"sysparm_limit": 1, "sysparm_fields": "sys_id"})
        return ConnectionResult(True, "connected to ServiceNow (the incident table answered)")

    def search(self, query: str, limit: int = 10) -> list[Incident]:
        q = f"short_descriptionLIKE{query_escape(query)}^ORDERBYDESCsys_created_on"
        data = self.http.json("GET", TABLE, params={"sysparm_query": q, "sysparm_limit": min(int(limit), 10),
                                                    "sysparm_fields": _FIELDS}) or {}
        return [self._incident(r) for r in (data.get("result") or [])][:10]

    def create(self, fields: dict) -> tuple[Incident, bytes]:
        data = self.http.json("POST", TABLE, json_body=fields) or {}
        result = data.get("result")
        if not isinstance(result, dict) or not _value(result.get("sys_id")):
            raise IntegrationResponseError("ServiceNow created no incident (the answer has no sys_id)")
        return self._incident(result), self.http.last_body

    def get(self, id_or_number: str) -> Incident:
        key = str(id_or_number).strip()
        if SYS_ID.fullmatch(key):
            data = self.http.json("GET", f"{TABLE}/{key}") or {}
            return self._incident(data.get("result") or {})
        data = self.http.json("GET", TABLE, params={"sysparm_query": f"number={query_escape(key)}",
                                                    "sysparm_limit": 1}) or {}
        rows = data.get("result") or []
        if not rows:
            raise IntegrationNotFoundError(f"ServiceNow has no incident {key}")
        return self._incident(rows[0])

    def update(self, sys_id: str, fields: dict) -> tuple[Incident, bytes]:
        if not SYS_ID.fullmatch(str(sys_id)):
            sys_id = self.get(sys_id).sys_id
        data = self.http.json("PATCH", f"{TABLE}/{sys_id}", json_body=fields) or {}
        return self._incident(data.get("result") or {}), self.http.last_body
