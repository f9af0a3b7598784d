"""The one HTTP helper the Confluence, ServiceNow and Azure DevOps clients share.

httpx with timeouts; 429 and 503 are retried a bounded number of times, waiting what the
service's ``Retry-After`` says (seconds or an HTTP date, capped); every other error status
becomes a typed error carrying the service's own message (``message``, ``error.message``,
``errorMessages``...), scrubbed of the credential and of anything shaped like a token. The
credential itself is given as a header value and appears in no message.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx

from ..ai._net import display_url, one_line, scrub
from .errors import (IntegrationAuthError, IntegrationConflictError, IntegrationConnectionError,
                     IntegrationNotFoundError, IntegrationRateLimitedError, IntegrationResponseError)

#: how many times a 429/503 is retried, and the longest single wait (seconds)
MAX_RETRIES = 3
MAX_WAIT = 30.0
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_RETRY_STATUSES = (429, 503)


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """``Retry-After`` as seconds: an integer, or an HTTP date; capped at :data:`MAX_WAIT`."""
    if not value:
        return default
    value = value.strip()
    try:
        wait = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            wait = when.timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            wait = default
    return max(0.0, min(MAX_WAIT, wait))


def service_message(body: str) -> str:
    """The human part of an error body, for the three services' shapes."""
    try:
        data = json.loads(body)
    except ValueError:
        return one_line(body, 300)
    found = _find(data)
    return one_line(found if found else body, 300)


def _find(data) -> str | None:
    if isinstance(data, list):
        for item in data:
            found = _find(item)
            if found:
                return found
        return None
    if not isinstance(data, dict):
        return None
    # ServiceNow: {"error": {"message", "detail"}}; Confluence: {"message"} or {"data": {"errors": [...]}};
    # Azure DevOps: {"message", "typeKey"}; OAuth: {"error", "error_description"}
    if isinstance(data.get("error_description"), str) and data["error_description"].strip():
        err = data.get("error")
        return f"{err}: {data['error_description']}" if isinstance(err, str) else data["error_description"]
    err = data.get("error")
    if isinstance(err, dict):
        msg, detail = err.get("message"), err.get("detail")
        if isinstance(msg, str) and msg.strip():
            return f"{msg} ({detail})" if isinstance(detail, str) and detail.strip() and detail != msg else msg
    for key in ("message", "errorMessage", "error", "detail"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
    for key in ("errorMessages", "errors", "data"):
        value = data.get(key)
        if value:
            found = _find(value) if not isinstance(value, str) else value
            if found:
                return found
    return None


class Http:
    """One service's HTTP access: base URL, auth header, retries, typed errors."""

    def __init__(self, service: str, base_url: str, auth_header: str | None, *, secrets: tuple = (),
                 timeout=DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._auth = auth_header
        self._secrets = tuple(s for s in secrets if s)
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                    headers={"Accept": "application/json", "User-Agent": "tftsr-workbench"})
        #: (method, url, body bytes) of each request sent, for the audit (the body's SHA-256)
        self.last_body: bytes = b""

    def __repr__(self) -> str:
        return f"Http({self.service!r}, {display_url(self.base_url)!r})"

    def close(self) -> None:
        self._client.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def request(self, method: str, path: str, *, params: dict | None = None, json_body: Any = None,
                content_type: str = "application/json", allow: tuple[int, ...] = ()) -> httpx.Response:
        body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        headers = {}
        if json_body is not None:
            headers["Content-Type"] = content_type
        if self._auth:
            headers["Authorization"] = self._auth
        url = self.url(path)
        self.last_body = body
        attempt = 0
        while True:
            try:
                resp = self._client.request(method, url, params=params, content=body or None, headers=headers)
            except httpx.TimeoutException:
                raise IntegrationConnectionError(
                    f"{self.service} at {display_url(url)} did not answer in time; check the URL and the network, "
                    "then try again") from None
            except httpx.HTTPError as exc:
                reason = self._clean(str(exc)) or type(exc).__name__
                raise IntegrationConnectionError(
                    f"cannot reach {self.service} at {display_url(url)} ({reason}); check the URL and the network"
                ) from None
            if resp.status_code in _RETRY_STATUSES and attempt < MAX_RETRIES:
                attempt += 1
                time.sleep(retry_after_seconds(resp.headers.get("Retry-After"), default=float(attempt)))
                continue
            if resp.status_code >= 400 and resp.status_code not in allow:
                self._raise(resp, url)
            return resp

    def json(self, method: str, path: str, **kw) -> Any:
        resp = self.request(method, path, **kw)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise IntegrationResponseError(
                f"{self.service} answered {method} {display_url(self.url(path))} with a body that is not JSON "
                "(is the URL the service's API root?)", resp.status_code) from None

    def _clean(self, text: str) -> str:
        return scrub(text, self._secrets)

    def _raise(self, resp: httpx.Response, url: str) -> None:
        status = resp.status_code
        msg = self._clean(service_message(resp.text)) or resp.reason_phrase
        where = display_url(url)
        if status in (401, 403):
            raise IntegrationAuthError(
                f"{self.service} refused the credential ({status}: {msg}); check the user, token or login "
                f"(tftsr integration add/login {self.service})")
        if status == 404:
            raise IntegrationNotFoundError(f"{self.service}: not found at {where} ({msg})")
        if status == 409:
            raise IntegrationConflictError(f"{self.service} refused the change as a conflict ({msg}); nothing was overwritten")
        if status == 429:
            raise IntegrationRateLimitedError(
                f"{self.service} is rate-limiting requests (429 after {MAX_RETRIES} retries: {msg}); try again later",
                retry_after_seconds(resp.headers.get("Retry-After")))
        raise IntegrationResponseError(f"{self.service} answered {status} at {where}: {msg}", status)
