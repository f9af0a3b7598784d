"""Confluence REST API (Cloud and Data Center): ``/rest/api/user/current``, ``/rest/api/space``,
``/rest/api/content/search?cql=``, ``POST /rest/api/content``, ``PUT /rest/api/content/{id}``.

A page update carries the next version number; Confluence answers 409 when the page has moved
on, which becomes :class:`~.errors.IntegrationConflictError` (never a retry with a fresher
number: that would overwrite someone's edit).
"""

from __future__ import annotations

from ._http import Http
from .errors import IntegrationConflictError, IntegrationResponseError
from .models import ConnectionResult, Page, Space

MAX_PAGES = 20  # pagination: at most this many requests per listing


def cql_quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConfluenceClient:
    def __init__(self, http: Http):
        self.http = http

    def page_url(self, data: dict) -> str:
        links = data.get("_links") or {}
        base = links.get("base") or self.http.base_url
        if links.get("webui"):
            return base.rstrip("/") + "/" + links["webui"].lstrip("/")
        return f"{self.http.base_url}/pages/viewpage.action?pageId={data.get('id')}"

    def test_connection(self) -> ConnectionResult:
        data = self.http.json("GET", "/rest/api/user/current")
        who = (data or {}).get("displayName") or (data or {}).get("username") or (data or {}).get("email")
        if (data or {}).get("type") == "anonymous" or not who:
            return ConnectionResult(False, "Confluence answered, but as an anonymous user: the credential was not accepted")
        return ConnectionResult(True, f"connected to Confluence as {who}")

    def _paged(self, path: str, params: dict, limit: int) -> list[dict]:
        """Follow ``_links.next`` (relative to ``_links.base``, the query included) up to ``limit``."""
        out: list[dict] = []
        url, query = path, dict(params)
        for _ in range(MAX_PAGES):
            data = self.http.json("GET", url, params=query) or {}
            out += data.get("results") or []
            links = data.get("_links") or {}
            nxt = links.get("next")
            if not nxt or len(out) >= limit:
                break
            if nxt.startswith(("http://", "https://")):
                if not nxt.startswith(self.http.base_url + "/"):
                    break  # never send the credential to another host
                url = nxt
            else:
                url = self.http.base_url + "/" + nxt.lstrip("/")
            query = None
        return out[:limit]

    def list_spaces(self, limit: int = 500) -> list[Space]:
        rows = self._paged("/rest/api/space", {"limit": 100}, limit)
        return [Space(str(r.get("id", "")), r.get("key", ""), r.get("name", ""), r.get("type"), self.page_url(r)
                      if (r.get("_links") or {}).get("webui") else None) for r in rows]

    def search_pages(self, query: str, space_key: str | None = None, limit: int = 25) -> list[Page]:
        cql = f"type=page AND text ~ {cql_quote(query)}"
        if space_key:
            cql += f" AND space = {cql_quote(space_key)}"
        data = self.http.json("GET", "/rest/api/content/search",
                              params={"cql": cql, "limit": limit, "expand": "version,space"}) or {}
        return [self._page(r) for r in data.get("results") or []]

    def _page(self, r: dict) -> Page:
        return Page(str(r.get("id", "")), r.get("title", ""), r.get("type", "page"),
                    (r.get("space") or {}).get("key"), (r.get("version") or {}).get("number"), self.page_url(r))

    def get_page(self, page_id: str) -> Page:
        return self._page(self.http.json("GET", f"/rest/api/content/{page_id}", params={"expand": "version,space"}) or {})

    def create_page(self, space_key: str, title: str, storage: str, parent_id: str | None = None) -> tuple[Page, bytes]:
        body = {"type": "page", "title": title, "space": {"key": space_key},
                "body": {"storage": {"value": storage, "representation": "storage"}}}
        if parent_id:
            body["ancestors"] = [{"id": str(parent_id)}]
        data = self.http.json("POST", "/rest/api/content", json_body=body)
        if not isinstance(data, dict) or not data.get("id"):
            raise IntegrationResponseError("Confluence created no page (the answer has no page id)")
        return self._page(data), self.http.last_body

    def update_page(self, page_id: str, title: str, storage: str, version: int) -> tuple[Page, bytes]:
        """Write version ``version`` (the current one + 1); a 409 is a clear conflict."""
        body = {"id": str(page_id), "type": "page", "title": title, "version": {"number": int(version)},
                "body": {"storage": {"value": storage, "representation": "storage"}}}
        try:
            data = self.http.json("PUT", f"/rest/api/content/{page_id}", json_body=body)
        except IntegrationConflictError as exc:
            raise IntegrationConflictError(
                f"Confluence page {page_id} was changed since version {int(version) - 1} that this workbench "
                f"wrote ({exc}). Nothing was overwritten: merge the edits in Confluence, or give the page's "
                "current version with --version if you mean to replace it") from None
        return self._page(data or {}), self.http.last_body
