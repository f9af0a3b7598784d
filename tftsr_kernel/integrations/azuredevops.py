"""Azure DevOps REST 7.1: project info, WIQL, work items created and changed with JSON Patch.

- test: ``GET {org}/_apis/projects/{project}``
- search: ``POST {org}/{project}/_apis/wit/wiql`` then ``GET {org}/{project}/_apis/wit/workitems?ids=``
- create: ``POST {org}/{project}/_apis/wit/workitems/${type}`` (``application/json-patch+json``)
- get / update: ``GET`` / ``PATCH {org}/{project}/_apis/wit/workitems/{id}``

A personal access token is sent as HTTP basic with an empty user; an OAuth token as a bearer.
"""

from __future__ import annotations

from urllib.parse import quote

from ._http import Http
from .errors import IntegrationResponseError
from .models import ConnectionResult, WorkItem

API_VERSION = "7.1"
TYPES = ("Bug", "Task", "User Story", "Issue", "Incident")
SEVERITY = {"critical": "1 - Critical", "high": "2 - High", "medium": "3 - Medium", "low": "4 - Low"}
PATCH_TYPE = "application/json-patch+json"
MAX_IDS = 200  # the work items batch accepts at most 200 ids


def wiql_quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def text_to_wiql(text: str) -> str:
    """A WIQL query as given, or a title search for plain text."""
    if text.strip().upper().startswith("SELECT "):
        return text
    return ("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND "
            f"[System.Title] CONTAINS {wiql_quote(text)} ORDER BY [System.ChangedDate] DESC")


def patch_ops(fields: dict) -> list[dict]:
    return [{"op": "add", "path": "/fields/" + name, "value": value} for name, value in fields.items()]


class AzureDevOpsClient:
    def __init__(self, http: Http, project: str):
        self.http = http
        self.project = project

    @property
    def _p(self) -> str:
        return quote(self.project, safe="")

    def _params(self, **extra) -> dict:
        return {"api-version": API_VERSION, **extra}

    def item_url(self, wid) -> str:
        return f"{self.http.base_url}/{self._p}/_workitems/edit/{wid}"

    def _item(self, d: dict) -> WorkItem:
        f = d.get("fields") or {}
        html = ((d.get("_links") or {}).get("html") or {}).get("href")
        wid = d.get("id")
        return WorkItem(int(wid) if wid is not None else 0, f.get("System.Title", ""), f.get("System.WorkItemType"),
                        f.get("System.State"), d.get("rev"), html or (self.item_url(wid) if wid else None), f)

    def test_connection(self) -> ConnectionResult:
        data = self.http.json("GET", f"/_apis/projects/{self._p}", params=self._params()) or {}
        return ConnectionResult(True, f"connected to Azure DevOps project {data.get('name') or self.project}")

    def search(self, text: str, limit: int = 50) -> list[WorkItem]:
        data = self.http.json("POST", f"/{self._p}/_apis/wit/wiql", params=self._params(**{"$top": limit}),
                              json_body={"query": text_to_wiql(text)}) or {}
        ids = [w["id"] for w in data.get("workItems") or [] if isinstance(w, dict) and "id" in w][:min(limit, MAX_IDS)]
        if not ids:
            return []
        got = self.http.json("GET", f"/{self._p}/_apis/wit/workitems",
                             params=self._params(ids=",".join(str(i) for i in ids))) or {}
        return [self._item(d) for d in got.get("value") or []]

    def create(self, work_item_type: str, fields: dict) -> tuple[WorkItem, bytes]:
        data = self.http.json("POST", f"/{self._p}/_apis/wit/workitems/${quote(work_item_type, safe='')}",
                              params=self._params(), json_body=patch_ops(fields), content_type=PATCH_TYPE)
        if not isinstance(data, dict) or data.get("id") is None:
            raise IntegrationResponseError("Azure DevOps created no work item (the answer has no id)")
        return self._item(data), self.http.last_body

    def get(self, wid: int) -> WorkItem:
        return self._item(self.http.json("GET", f"/{self._p}/_apis/wit/workitems/{int(wid)}", params=self._params()) or {})

    def update(self, wid: int, fields: dict) -> tuple[WorkItem, bytes]:
        data = self.http.json("PATCH", f"/{self._p}/_apis/wit/workitems/{int(wid)}", params=self._params(),
                              json_body=patch_ops(fields), content_type=PATCH_TYPE)
        return self._item(data or {}), self.http.last_body
