"""The HTTP API under ``/api/v1/`` as tornado handlers (no ipywidgets, no pages).

    GET    /api/v1/me                       who the key acts as            (any valid key)
    GET    /api/v1/issues                   list (status, severity, category, q, limit, offset)  issues:read
    POST   /api/v1/issues                   create                         issues:write
    GET    /api/v1/issues/{id}              the nested detail              issues:read
    PATCH  /api/v1/issues/{id}              partial update                 issues:write
    POST   /api/v1/alerts/alertmanager      Alertmanager webhook (v4)      alerts:write

Every request needs ``Authorization: Bearer tftsr_...``; the key's owner is the actor of the
kernel calls it makes (``acting_as``), so the kernel's role and scope checks decide. Errors are
JSON ``{"error": message, "status": code, "reason": ...}`` (a 403 also names ``needed_role``
and ``needed_scope``): 400 bad payload, 401 no, invalid,
revoked or expired key, 403 missing role or scope, 404, 409, 413 body too large, 429, 503 busy.

``api_handlers(wb)`` returns the routes for any tornado application (the dashboard's server
mounts them); ``make_app(wb)`` builds a stand-alone one.
"""

from __future__ import annotations

import asyncio
import json
import logging

import tornado.web

from .. import errors
from .actor import acting_as, require

MAX_BODY = 1024 * 1024  # 1 MiB: an Alertmanager group of a thousand alerts fits
log = logging.getLogger("tftsr.api")

_STATUS = (
    (errors.RateLimitedError, 429),
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.ValidationError, 400),
    (errors.DatabaseError, 503),
)


class ApiError(Exception):
    def __init__(self, status: int, message: str, reason: str | None = None):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class ApiHandler(tornado.web.RequestHandler):
    """Base: bearer-key authentication, JSON in and out, typed errors as JSON."""

    #: method name -> the permission the endpoint needs (also checked by the kernel)
    permissions: dict[str, str] = {}

    def initialize(self, wb):
        self.wb = wb

    def set_default_headers(self):
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def check_xsrf_cookie(self):  # bearer keys, never cookies: no cross-site request can carry one
        return None

    def prepare(self):
        length = self.request.headers.get("Content-Length")
        try:
            too_big = (length is not None and int(length) > MAX_BODY) or len(self.request.body or b"") > MAX_BODY
        except ValueError:
            raise ApiError(400, "Content-Length is not a number")
        if too_big:
            raise ApiError(413, f"the body is larger than {MAX_BODY // 1024} KiB", "too_large")

    # -- helpers
    def _key(self) -> str:
        header = self.request.headers.get("Authorization", "")
        if not header:
            return ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise errors.AuthenticationError("send the key as Authorization: Bearer tftsr_...", "invalid")
        return value.strip()

    def _json_body(self):
        if not self.request.body:
            raise ApiError(400, "the request needs a JSON body", "bad_request")
        try:
            return json.loads(self.request.body.decode("utf-8"))
        except UnicodeDecodeError:
            raise ApiError(400, "the body is not UTF-8", "bad_request")
        except ValueError as exc:
            raise ApiError(400, f"the body is not valid JSON ({exc.msg} at character {exc.pos})", "bad_request")

    async def call(self, fn, *args, **kwargs):
        """Authenticate, check the endpoint's permission, and run ``fn`` as the key's owner in a thread."""
        method = self.request.method.lower()

        def run():
            actor = self.wb.team.authenticate_api_key(self._key())
            with acting_as(actor):
                if method in self.permissions:
                    require(self.wb.team.actor, self.permissions[method])
                return fn(*args, **kwargs)

        return await asyncio.to_thread(run)

    def reply(self, status: int, data) -> None:
        self.set_status(status)
        self.finish(json.dumps(data, ensure_ascii=False, default=str))

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        reason, extra = None, {}
        if isinstance(exc, ApiError):
            status_code, message, reason = exc.status, exc.message, exc.reason
        elif isinstance(exc, errors.TftsrError):
            status_code = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
            message = str(exc)
            reason = getattr(exc, "reason", None)
            if isinstance(exc, errors.PermissionDeniedError):
                reason = "missing_scope" if exc.needed_scope else "missing_role"
                extra = {"needed_role": exc.needed_role, "needed_scope": exc.needed_scope}
            if isinstance(exc, errors.RateLimitedError):
                self.set_header("Retry-After", str(exc.retry_after))
        elif isinstance(exc, tornado.web.HTTPError):
            status_code, message = exc.status_code, exc.log_message or self._reason
        else:
            message = "internal error; the server log has the details" if status_code >= 500 else self._reason
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="tftsr"')
        self.set_status(status_code)
        body = {"error": message, "status": status_code}
        if reason:
            body["reason"] = reason
        body.update(extra)
        self.finish(json.dumps(body, ensure_ascii=False))

    def log_exception(self, typ, value, tb):
        if isinstance(value, (ApiError, errors.TftsrError, tornado.web.HTTPError)):
            return
        log.error("unexpected error in %s %s", self.request.method, self.request.path, exc_info=(typ, value, tb))


class MeHandler(ApiHandler):
    async def get(self):
        actor = await self.call(lambda: self.wb.team.actor)
        self.reply(200, actor.to_dict())


_ISSUE_FIELDS = ("title", "description", "severity", "category", "source", "assigned_to", "tags")


class IssuesHandler(ApiHandler):
    permissions = {"get": "issues:read", "post": "issues:write"}

    async def get(self):
        a = {k: self.get_argument(k, None) for k in ("status", "severity", "category", "q")}
        try:
            limit, offset = int(self.get_argument("limit", "50")), int(self.get_argument("offset", "0"))
        except ValueError:
            raise ApiError(400, "limit and offset must be whole numbers", "bad_request")
        issues = self.wb.issues

        def run():
            if a["q"]:
                rows = issues.search_issues(a["q"], status=a["status"], severity=a["severity"],
                                            category=a["category"], limit=limit, offset=offset)
                total = None
            else:
                rows = issues.list_issues(status=a["status"], severity=a["severity"], category=a["category"],
                                          limit=limit, offset=offset)
                total = issues.count_issues(status=a["status"], severity=a["severity"], category=a["category"])
            return [r.to_dict() for r in rows], total

        rows, total = await self.call(run)
        self.reply(200, {"issues": rows, "total": total, "limit": limit, "offset": offset})

    async def post(self):
        body = self._json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object with at least a title", "bad_request")
        unknown = set(body) - set(_ISSUE_FIELDS)
        if unknown:
            raise ApiError(400, f"unknown field(s) {', '.join(sorted(unknown))}; fields: {', '.join(_ISSUE_FIELDS)}",
                           "bad_request")
        fields = dict(body)
        title = fields.pop("title", None)
        issue = await self.call(lambda: self.wb.issues.create_issue(
            title, fields.pop("description", None), fields.pop("severity", "medium"), fields.pop("category", None),
            **fields))
        self.set_header("Location", f"/api/v1/issues/{issue.id}")
        self.reply(201, issue.to_dict())


class IssueHandler(ApiHandler):
    permissions = {"get": "issues:read", "patch": "issues:write"}

    async def get(self, issue_id):
        detail = await self.call(self.wb.issues.get_issue, issue_id)
        self.reply(200, detail.to_dict())

    async def patch(self, issue_id):
        body = self._json_body()
        if not isinstance(body, dict) or not body:
            raise ApiError(400, "the body must be a JSON object with the fields to change", "bad_request")
        detail = await self.call(lambda: self.wb.issues.update_issue(issue_id, **body))
        self.reply(200, detail.to_dict())


class AlertmanagerHandler(ApiHandler):
    permissions = {"post": "alerts:write"}

    async def post(self):
        body = self._json_body()
        result = await self.call(self.wb.alerts.receive_alertmanager, body)
        self.reply(201 if result.created else 200, result.to_dict())


class NotFoundHandler(ApiHandler):
    async def prepare(self):
        raise ApiError(404, f"no API endpoint {self.request.path}; see /api/v1/issues", "not_found")


def api_handlers(wb, prefix: str = "") -> list:
    """The routes (under ``prefix`` + ``/api/v1``), for any tornado application."""
    base = prefix.rstrip("/") + "/api/v1"
    kw = {"wb": wb}
    return [
        (base + r"/me", MeHandler, kw),
        (base + r"/issues", IssuesHandler, kw),
        (base + r"/issues/([0-9a-fA-F-]{1,64})", IssueHandler, kw),
        (base + r"/alerts/alertmanager", AlertmanagerHandler, kw),
        (base + r"/.*", NotFoundHandler, kw),
    ]


def make_app(wb, **settings) -> tornado.web.Application:
    """A stand-alone application serving only the API."""
    settings.setdefault("xsrf_cookies", False)
    return tornado.web.Application(api_handlers(wb), **settings)
