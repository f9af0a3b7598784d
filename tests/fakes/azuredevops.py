"""A fake Azure DevOps organization (REST 7.1), following the documented API.

- ``GET /_apis/projects/{project}?api-version=7.1``: the project
- ``POST /{project}/_apis/wit/wiql``: ``{"queryType": "flat", "workItems": [{"id", "url"}]}``; the
  fake understands ``[System.Title] CONTAINS 'x'`` (with ``''`` escapes) and ``[System.Id] = N``
- ``GET /{project}/_apis/wit/workitems?ids=1,2``: ``{"count", "value": [...]}``
- ``POST /{project}/_apis/wit/workitems/${type}``: a JSON Patch document
  (``application/json-patch+json`` only, else 415), ops ``add``/``replace`` on ``/fields/...``
- ``GET|PATCH /{project}/_apis/wit/workitems/{id}``
- ``api-version`` is required (400 otherwise); errors ``{"$id": "1", "message", "typeKey", ...}``
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from .rest import FakeRest, Request

TYPES = ("Bug", "Task", "User Story", "Issue", "Incident", "Epic", "Feature")


class FakeAzureDevOps(FakeRest):
    def __init__(self, *, project: str = "Checkout", auth: set[str] | None = None):
        super().__init__()
        self.accept_auth = auth
        self.project = project
        self.items: dict[int, dict] = {}
        self._next = 100

    def error_body(self, status, message, type_key="VssServiceException"):
        return {"$id": "1", "innerException": None, "message": message, "typeName": f"Microsoft.VisualStudio.{type_key}",
                "typeKey": type_key, "errorCode": 0, "eventId": 3000}

    def unauthorized(self, req):
        return 401, b"", {"Content-Type": "text/html", "WWW-Authenticate": "Bearer"}

    def _json(self, item):
        return {"id": item["id"], "rev": item["rev"], "fields": dict(item["fields"]),
                "url": f"{self.url}/{self.project}/_apis/wit/workItems/{item['id']}",
                "_links": {"html": {"href": f"{self.url}/{self.project}/_workitems/edit/{item['id']}"}}}

    def _apply(self, item, ops):
        if not isinstance(ops, list):
            return "You must pass a valid patch document in the body of the request."
        for op in ops:
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace") or \
                    not str(op.get("path", "")).startswith("/fields/"):
                return f"Unsupported patch operation {op!r}"
            item["fields"][op["path"][len("/fields/"):]] = op.get("value")
        return None

    def route(self, req: Request):
        if req.query.get("api-version") not in ("7.0", "7.1", "7.1-preview.3"):
            return 400, self.error_body(400, "No api-version was supplied for the request.",
                                        "VssVersionNotSpecifiedException"), None
        path = unquote(req.path)
        if req.method == "GET" and path == f"/_apis/projects/{self.project}":
            return 200, {"id": "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1", "name": self.project, "state": "wellFormed",
                         "visibility": "private", "url": f"{self.url}/_apis/projects/{self.project}"}, None
        if path.startswith("/_apis/projects/"):
            return 404, self.error_body(404, f"TF200016: The following project does not exist: {path.rsplit('/', 1)[-1]}."
                                        , "ProjectDoesNotExistWithNameException"), None
        pre = f"/{self.project}/_apis/wit"
        if req.method == "POST" and path == pre + "/wiql":
            q = (req.body or {}).get("query", "")
            m = re.search(r"\[System\.Title\] CONTAINS '((?:[^']|'')*)'", q)
            mid = re.search(r"\[System\.Id\] = (\d+)", q)
            if not q.upper().startswith("SELECT") or not (m or mid):
                return 400, self.error_body(400, "TF51005: The query references a field that does not exist.",
                                            "WorkItemTrackingQueryException"), None
            hits = [i for i in self.items.values()
                    if (m and m.group(1).replace("''", "'").lower() in i["fields"]["System.Title"].lower())
                    or (mid and i["id"] == int(mid.group(1)))]
            return 200, {"queryType": "flat", "asOf": "2026-12-01T10:00:00Z",
                         "workItems": [{"id": i["id"], "url": f"{self.url}{pre}/workItems/{i['id']}"} for i in hits]}, None
        if req.method == "GET" and path == pre + "/workitems":
            ids = [int(x) for x in req.query.get("ids", "").split(",") if x]
            if len(ids) > 200:
                return 400, self.error_body(400, "The maximum number of work items is 200"), None
            found = [self._json(self.items[i]) for i in ids if i in self.items]
            return 200, {"count": len(found), "value": found}, None
        m = re.fullmatch(re.escape(pre) + r"/workitems/\$(.+)", path)
        if req.method == "POST" and m:
            if (req.header("content-type") or "").split(";")[0] != "application/json-patch+json":
                return 415, self.error_body(415, "The request indicated a Content-Type of \"application/json\" for "
                                                 "method type \"POST\" which is not supported. Valid content types "
                                                 "for this method are: application/json-patch+json."), None
            if m.group(1) not in TYPES:
                return 404, self.error_body(404, f"TF201036: You cannot find work item type {m.group(1)}.",
                                            "WorkItemTypeNotFoundException"), None
            self._next += 1
            item = {"id": self._next, "rev": 1, "fields": {"System.WorkItemType": m.group(1), "System.State": "New",
                                                           "System.TeamProject": self.project}}
            err = self._apply(item, req.body)
            if err or not item["fields"].get("System.Title"):
                return 400, self.error_body(400, err or "TF401320: Rule Error for field Title. Error code: Required."
                                            , "RuleValidationException"), None
            self.items[item["id"]] = item
            return 200, self._json(item), None
        m = re.fullmatch(re.escape(pre) + r"/workitems/(\d+)", path)
        if m:
            item = self.items.get(int(m.group(1)))
            if item is None:
                return 404, self.error_body(404, f"TF401232: Work item {m.group(1)} does not exist, or you do not "
                                                 "have permissions to read it.", "WorkItemUnauthorizedAccessException"), None
            if req.method == "GET":
                return 200, self._json(item), None
            if req.method == "PATCH":
                if (req.header("content-type") or "").split(";")[0] != "application/json-patch+json":
                    return 415, self.error_body(415, "Valid content types for this method are: "
                                                     "application/json-patch+json."), None
                err = self._apply(item, req.body)
                if err:
                    return 400, self.error_body(400, err), None
                item["rev"] += 1
                return 200, self._json(item), None
        return 404, self.error_body(404, f"The resource {path} does not exist"), None
