"""OAuth2 sign-in to Streamable HTTP MCP servers: discovery and client registration.

The MCP authorization spec (2025-06-18, with the 2025-11-25 discovery fallbacks), step by step:

1. **Probe**: an ``initialize`` POST without a token; a protected server answers 401 with
   ``WWW-Authenticate: Bearer resource_metadata="..."`` (and maybe ``scope="..."``).
2. **Protected resource metadata** (RFC 9728): the URL the header names, else
   ``/.well-known/oauth-protected-resource{path}``, else ``/.well-known/oauth-protected-resource``.
   Its ``resource`` must be the server's URL (or a parent of it, same origin): that value is the
   RFC 8707 ``resource`` parameter of every authorization and token request.
3. **Authorization server metadata** (RFC 8414) of its first ``authorization_servers`` entry:
   ``/.well-known/oauth-authorization-server{path}``, then the OpenID configuration
   (``/.well-known/openid-configuration{path}``, ``{path}/.well-known/openid-configuration``).
   Its ``issuer`` must be the one asked for and it must offer PKCE ``S256``.
4. **Client id**: the configured one (``--client-id``), else dynamic client registration
   (RFC 7591) at ``registration_endpoint`` as a public native client (``token_endpoint_auth_method
   none``) for exactly the redirect URI of this sign-in.

The protocol steps after that (PKCE S256, the single-use expiring state, the code exchange and
the refresh) are :class:`tftsr_kernel.integrations.oauth.OAuthFlow`, shared with the
integrations. Every endpoint must be ``https`` (plain ``http`` only on the loopback interface),
no redirect is followed and answers are size-capped. Nothing here logs or returns a token.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from .errors import McpAuthError

#: seconds one discovery or registration request may take
HTTP_TIMEOUT_S = 15.0
#: bytes of a metadata or registration answer read at most
MAX_DOCUMENT_BYTES = 256 * 1024
CLIENT_NAME = "TFTSR Workbench"


class McpOAuthError(McpAuthError):
    """Signing in to an MCP server could not be set up (discovery or registration failed)."""


@dataclass
class Discovery:
    resource: str                    #: RFC 8707 resource indicator (the server's canonical URL)
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    registration_endpoint: str | None
    scope: str | None                #: the scope to ask for (WWW-Authenticate, else the metadata)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(url: object, what: str) -> str:
    """An absolute https URL (http only on loopback), no fragment; else :class:`McpOAuthError`."""
    if not isinstance(url, str) or not url or len(url) > 2000 or any(c in url for c in "\r\n\x00 "):
        raise McpOAuthError(f"the {what} is missing or not a URL")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise McpOAuthError(f"the {what} {url[:200]!r} is not an absolute http(s) URL")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise McpOAuthError(f"the {what} {url[:200]} is plain http; OAuth endpoints must use https "
                            "(http is accepted on 127.0.0.1 / localhost only)")
    if parts.fragment:
        raise McpOAuthError(f"the {what} {url[:200]} has a fragment")
    return url


def canonical(url: str) -> str:
    """The canonical form of a server URL (RFC 8707 / the MCP spec): lower-case scheme and host,
    no fragment, no trailing slash on a bare host."""
    p = urlsplit(url)
    netloc = (p.hostname or "").lower()
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if p.port and not ((p.scheme == "https" and p.port == 443) or (p.scheme == "http" and p.port == 80)):
        netloc += f":{p.port}"
    path = p.path if p.path not in ("", "/") else ""
    return urlunsplit((p.scheme.lower(), netloc, path, p.query, ""))


_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_www_authenticate(value: str | None) -> dict[str, str]:
    """The parameters of a ``Bearer`` challenge (``resource_metadata``, ``scope``, ``error``)."""
    if not value:
        return {}
    m = re.search(r"(?i)\bbearer\b", value)
    if not m:
        return {}
    out: dict[str, str] = {}
    for k, quoted, bare in _PARAM.findall(value[m.end():]):
        out.setdefault(k.lower(), (quoted.replace('\\"', '"') if quoted else bare))
    return out


def _get_json(client: httpx.Client, url: str, what: str) -> dict | None:
    """A JSON object from ``url``; None when it is not there (404/405/410/400)."""
    try:
        with client.stream("GET", url, headers={"Accept": "application/json"}) as r:
            if r.status_code in (400, 404, 405, 410):
                return None
            if r.status_code != 200:
                raise McpOAuthError(f"the {what} at {url} answered HTTP {r.status_code}")
            body = b""
            for chunk in r.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise McpOAuthError(f"the {what} at {url} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB")
    except httpx.HTTPError as exc:
        raise McpOAuthError(f"cannot read the {what} at {url} ({type(exc).__name__})") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise McpOAuthError(f"the {what} at {url} is not JSON") from None
    if not isinstance(data, dict):
        raise McpOAuthError(f"the {what} at {url} is not a JSON object")
    return data


def probe(client: httpx.Client, url: str, headers: dict) -> dict[str, str] | None:
    """The server's Bearer challenge for an unauthenticated ``initialize``; None when it let us in."""
    body = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "tftsr-workbench", "version": "1"}}}
    try:
        with client.stream("POST", url, json=body, headers={
                **headers, "Accept": "application/json, text/event-stream"}) as r:
            if r.status_code == 401:
                return parse_www_authenticate(r.headers.get("www-authenticate"))
            if r.status_code < 300:
                return None
            if r.status_code == 403:
                return parse_www_authenticate(r.headers.get("www-authenticate"))
            raise McpOAuthError(f"the MCP server at {url} answered HTTP {r.status_code} before sign-in; check the URL")
    except httpx.ConnectError:
        raise McpOAuthError(f"could not connect to the MCP server at {url}; is it running?") from None
    except httpx.HTTPError as exc:
        raise McpOAuthError(f"the MCP server at {url} did not answer ({type(exc).__name__})") from None


def _prm_candidates(url: str, hinted: str | None) -> list[str]:
    p = urlsplit(url)
    base = f"{p.scheme}://{p.netloc}"
    path = p.path.rstrip("/")
    out = [hinted] if hinted else []
    if path:
        out.append(f"{base}/.well-known/oauth-protected-resource{path}")
    out.append(f"{base}/.well-known/oauth-protected-resource")
    return out


def _as_candidates(issuer: str) -> list[str]:
    p = urlsplit(issuer)
    base = f"{p.scheme}://{p.netloc}"
    path = p.path.rstrip("/")
    if path:
        return [f"{base}/.well-known/oauth-authorization-server{path}",
                f"{base}/.well-known/openid-configuration{path}", f"{base}{path}/.well-known/openid-configuration"]
    return [f"{base}/.well-known/oauth-authorization-server", f"{base}/.well-known/openid-configuration"]


def _same_resource(resource: str, server_url: str) -> bool:
    """The metadata's resource is the server's URL or a parent path of it, on the same origin."""
    a, b = urlsplit(canonical(resource)), urlsplit(canonical(server_url))
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        return False
    rp, sp = a.path.rstrip("/"), b.path.rstrip("/")
    return sp == rp or sp.startswith(rp + "/") or rp == ""


def discover(server_url: str, headers: dict | None = None, *, timeout: float = HTTP_TIMEOUT_S) -> Discovery:
    """Steps 1-3 above for the server at ``server_url``; :class:`McpOAuthError` says what is missing."""
    with httpx.Client(follow_redirects=False, timeout=timeout) as client:
        challenge = probe(client, server_url, dict(headers or {}))
        if challenge is None:
            raise McpOAuthError(f"the MCP server at {server_url} answered without asking for a sign-in; "
                                "it needs no OAuth2 (use --auth none, bearer or api_key)")
        hinted = challenge.get("resource_metadata")
        if hinted:
            hinted = check_endpoint(hinted, "protected resource metadata URL")
        prm, prm_url = None, None
        for candidate in _prm_candidates(server_url, hinted):
            prm = _get_json(client, candidate, "protected resource metadata")
            if prm is not None:
                prm_url = candidate
                break
        if prm is None:
            raise McpOAuthError(f"the MCP server at {server_url} publishes no OAuth protected resource metadata "
                                "(RFC 9728 /.well-known/oauth-protected-resource); it cannot be signed in to")
        resource = prm.get("resource")
        if resource is not None:
            check_endpoint(resource, "protected resource")
            if not _same_resource(resource, server_url):
                raise McpOAuthError(f"the protected resource metadata at {prm_url} is for {resource}, not for "
                                    f"{server_url}; refusing to sign in")
        resource = canonical(resource or server_url)
        servers = prm.get("authorization_servers")
        if not isinstance(servers, list) or not servers:
            raise McpOAuthError(f"the protected resource metadata at {prm_url} names no authorization server")
        issuer = check_endpoint(servers[0], "authorization server")
        meta = None
        for candidate in _as_candidates(issuer):
            meta = _get_json(client, candidate, "authorization server metadata")
            if meta is not None:
                break
        if meta is None:
            raise McpOAuthError(f"the authorization server {issuer} publishes no metadata (RFC 8414 "
                                "/.well-known/oauth-authorization-server or OpenID configuration)")
    if str(meta.get("issuer") or "").rstrip("/") != issuer.rstrip("/"):
        raise McpOAuthError(f"the authorization server metadata names issuer {str(meta.get('issuer'))[:200]!r}, "
                            f"not {issuer}; refusing to sign in")
    methods = meta.get("code_challenge_methods_supported")
    if not isinstance(methods, list) or "S256" not in methods:
        raise McpOAuthError(f"the authorization server {issuer} does not offer PKCE with S256; refusing to sign in")
    registration = meta.get("registration_endpoint")
    scope = challenge.get("scope")
    if not scope:
        scopes = prm.get("scopes_supported")
        scope = " ".join(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else None
    return Discovery(resource, issuer, check_endpoint(meta.get("authorization_endpoint"), "authorization endpoint"),
                     check_endpoint(meta.get("token_endpoint"), "token endpoint"),
                     check_endpoint(registration, "registration endpoint") if registration else None,
                     scope or None)


def register_client(registration_endpoint: str, redirect_uri: str, scope: str | None, *,
                    timeout: float = HTTP_TIMEOUT_S) -> dict:
    """Dynamic client registration (RFC 7591): {client_id, client_secret?}. Sends only the client's
    name, its redirect URI, grant and response types, the auth method and the scope."""
    body = {"client_name": CLIENT_NAME, "redirect_uris": [redirect_uri], "grant_types": ["authorization_code",
            "refresh_token"], "response_types": ["code"], "token_endpoint_auth_method": "none"}
    if scope:
        body["scope"] = scope
    try:
        r = httpx.post(registration_endpoint, json=body, timeout=timeout, follow_redirects=False,
                       headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise McpOAuthError(f"cannot reach the registration endpoint {registration_endpoint} "
                            f"({type(exc).__name__})") from None
    if r.status_code not in (200, 201):
        try:
            err = r.json()
            detail = f"{err.get('error', '')}: {str(err.get('error_description', ''))[:200]}"
        except ValueError:
            detail = r.text[:200]
        raise McpOAuthError(f"the authorization server refused to register this client (HTTP {r.status_code} "
                            f"{detail}); configure one with --client-id")
    if len(r.content) > MAX_DOCUMENT_BYTES:
        raise McpOAuthError("the registration answer is too large")
    try:
        data = r.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("client_id"), str) or not data["client_id"]:
        raise McpOAuthError("the registration answer has no client_id; configure one with --client-id")
    out = {"client_id": data["client_id"]}
    if isinstance(data.get("client_secret"), str) and data["client_secret"]:
        out["client_secret"] = data["client_secret"]
    return out
