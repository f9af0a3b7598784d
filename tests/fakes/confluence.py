"""A fake Confluence (REST API v1 of Cloud and Data Center), following the documented API.

- ``GET /rest/api/user/current``: the signed-in user (``{"type": "known", "displayName", ...}``)
- ``GET /rest/api/space?limit=&start=``: paginated ``{"results", "start", "limit", "size",
  "_links": {"base", "context", "next"?}}``
- ``GET /rest/api/content/search?cql=``: the pages whose title or body contain the ``text ~``
  phrase (and ``space = "KEY"``)
- ``POST /rest/api/content``: a page in storage format (400 if the title exists in the space,
  404 for an unknown space or parent)
- ``GET|PUT /rest/api/content/{id}``: the update must carry version = current + 1, else 409
  "Version must be incremented on update. Current version is: N"
Errors: ``{"statusCode", "data": {...}, "message"}``.
"""

from __future__ import annotations

import re

from .rest import FakeRest, Request


class FakeConfluence(FakeRest):
    def __init__(self, *, auth: set[str] | None = None, spaces=None, page_size: int = 2):
        super().__init__()
        self.accept_auth = auth
        self.page_size = page_size
        self.spaces = spaces or [{"id": 1000 + i, "key": k, "name": n, "type": "global"}
                                 for i, (k, n) in enumerate([("OPS", "Operations"), ("SRE", "Site Reliability"),
                                                             ("DEV", "Development")])]
        self.pages: dict[str, dict] = {}
        self._next_id = 65000

    def error_body(self, status, message):
        return {"statusCode": status, "data": {"authorized": status not in (401, 403), "valid": False,
                                               "errors": [], "successful": False}, "message": message}

    def _links(self, **extra):
        return {"base": self.url, "context": "", **extra}

    def _page_json(self, p):
        return {"id": p["id"], "type": "page", "status": "current", "title": p["title"],
                "space": {"key": p["space"]}, "version": {"number": p["version"]},
                "ancestors": [{"id": a} for a in p["ancestors"]],
                "body": {"storage": {"value": p["body"], "representation": "storage"}},
                "_links": {"webui": f"/spaces/{p['space']}/pages/{p['id']}", "base": self.url,
                           "self": f"{self.url}/rest/api/content/{p['id']}"}}

    def route(self, req: Request):
        p = req.path
        if req.method == "GET" and p == "/rest/api/user/current":
            return 200, {"type": "known", "accountId": "5b10a2844c20165700ede21g", "displayName": "Sam Reliability",
                         "email": "sam@example.org"}, None
        if req.method == "GET" and p == "/rest/api/space":
            start, limit = int(req.query.get("start", 0)), min(int(req.query.get("limit", 25)), self.page_size)
            chunk = self.spaces[start:start + limit]
            links = self._links()
            if start + limit < len(self.spaces):
                links["next"] = f"/rest/api/space?limit={limit}&start={start + limit}"
            return 200, {"results": [dict(s, _links={"webui": f"/spaces/{s['key']}"}) for s in chunk],
                         "start": start, "limit": limit, "size": len(chunk), "_links": links}, None
        if req.method == "GET" and p == "/rest/api/content/search":
            cql = req.query.get("cql", "")
            m = re.search(r'text ~ "((?:[^"\\]|\\.)*)"', cql)
            if not m:
                return 400, self.error_body(400, "Could not parse cql : " + cql), None
            phrase = re.sub(r"\\(.)", r"\1", m.group(1)).lower()
            sm = re.search(r'space = "([^"]*)"', cql)
            hits = [pg for pg in self.pages.values() if (phrase in pg["title"].lower() or phrase in pg["body"].lower())
                    and (not sm or pg["space"] == sm.group(1))]
            limit = int(req.query.get("limit", 25))
            return 200, {"results": [self._page_json(h) for h in hits[:limit]], "start": 0, "limit": limit,
                         "size": min(len(hits), limit), "_links": self._links()}, None
        if req.method == "POST" and p == "/rest/api/content":
            b = req.body or {}
            space = (b.get("space") or {}).get("key")
            if b.get("type") != "page" or not b.get("title") or (b.get("body") or {}).get("storage", {}).get(
                    "representation") != "storage":
                return 400, self.error_body(400, "A page needs a type, a title and a storage body"), None
            if space not in {s["key"] for s in self.spaces}:
                return 404, self.error_body(404, f"No space with key : {space}"), None
            if any(pg["title"] == b["title"] and pg["space"] == space for pg in self.pages.values()):
                return 400, self.error_body(400, "A page with this title already exists: A page already exists "
                                                 f"with the same TITLE in this space"), None
            ancestors = [a.get("id") for a in b.get("ancestors") or []]
            if any(a not in self.pages for a in ancestors):
                return 404, self.error_body(404, "No parent page found"), None
            self._next_id += 1
            pid = str(self._next_id)
            self.pages[pid] = {"id": pid, "title": b["title"], "space": space, "version": 1,
                               "body": b["body"]["storage"]["value"], "ancestors": ancestors}
            return 200, self._page_json(self.pages[pid]), None
        m = re.fullmatch(r"/rest/api/content/(\d+)", p)
        if m:
            pg = self.pages.get(m.group(1))
            if pg is None:
                return 404, self.error_body(404, f"No content found with id : {m.group(1)}"), None
            if req.method == "GET":
                return 200, self._page_json(pg), None
            if req.method == "PUT":
                b = req.body or {}
                number = (b.get("version") or {}).get("number")
                if number != pg["version"] + 1:
                    return 409, self.error_body(409, "Version must be incremented on update. Current version is: "
                                                     f"{pg['version']}"), None
                pg.update(title=b.get("title", pg["title"]), version=number,
                          body=((b.get("body") or {}).get("storage") or {}).get("value", pg["body"]))
                return 200, self._page_json(pg), None
        return 404, self.error_body(404, f"null for uri: {p}"), None

    def edit_remotely(self, page_id: str, body: str = "<p>edited in Confluence</p>"):
        """Someone edits the page in Confluence: its version moves on."""
        pg = self.pages[page_id]
        pg["version"] += 1
        pg["body"] = body
