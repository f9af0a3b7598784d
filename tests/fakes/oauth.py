"""A fake OAuth2 authorization server with PKCE (RFC 6749 + RFC 7636), as Atlassian's and
Microsoft's identity platforms behave for the authorization code grant.

- ``GET /authorize?response_type=code&client_id&redirect_uri&scope&state&code_challenge&
  code_challenge_method=S256``: checks the client and that the redirect URI is the registered
  one (400 otherwise, no redirect), then "signs the user in" and answers 302 to
  ``redirect_uri?code=...&state=...`` (the state echoed as given).
- ``POST /token`` (form): ``grant_type=authorization_code`` needs the code (single-use, bound
  to its client, redirect URI and challenge), the same redirect URI and a ``code_verifier``
  whose base64url(SHA-256) equals the challenge; ``grant_type=refresh_token`` needs a refresh
  token it issued. Errors are ``{"error": "invalid_grant", "error_description": ...}`` (400).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode

from .rest import FakeRest, Request


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class FakeOAuthServer(FakeRest):
    def __init__(self, *, client_id: str = "tftsr-test-client", redirect_uris=(), expires_in: int = 3600,
                 client_secret: str | None = None):
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = set(redirect_uris)
        self.expires_in = expires_in
        self.codes: dict[str, dict] = {}
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.token_grants: list[str] = []

    @property
    def auth_url(self) -> str:
        return self.url + "/authorize"

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    def bearer_set(self) -> set[str]:
        """Authorization header values an API protected by this server accepts (a live view)."""
        server = self

        class Live(set):
            def __contains__(self, value):
                return isinstance(value, str) and value.startswith("Bearer ") and value[7:] in server.access_tokens

        return Live()

    def _err(self, error, desc):
        return 400, {"error": error, "error_description": desc}, None

    def _tokens(self):
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return 200, {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                     "expires_in": self.expires_in, "scope": "read write"}, {"Cache-Control": "no-store"}

    def route(self, req: Request):
        if req.method == "GET" and req.path == "/authorize":
            q = req.query
            if q.get("client_id") != self.client_id:
                return self._err("invalid_client", "unknown client")
            if q.get("redirect_uri") not in self.redirect_uris:
                return self._err("invalid_request", "redirect_uri does not match the registered one")
            if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" \
                    or not q.get("code_challenge"):
                return self._err("invalid_request", "PKCE with S256 is required")
            code = "code-" + secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"],
                                "client_id": q["client_id"], "used": False}
            params = {"code": code}
            if "state" in q:
                params["state"] = q["state"]
            return 302, b"", {"Location": q["redirect_uri"] + "?" + urlencode(params)}
        if req.method == "POST" and req.path == "/token":
            f = req.form
            self.token_grants.append(f.get("grant_type", ""))
            if f.get("client_id") != self.client_id or (self.client_secret and f.get("client_secret") != self.client_secret):
                return 401, {"error": "invalid_client", "error_description": "client authentication failed"}, None
            if f.get("grant_type") == "authorization_code":
                c = self.codes.get(f.get("code", ""))
                if c is None or c["used"]:
                    return self._err("invalid_grant", "the authorization code is invalid or was already used")
                c["used"] = True
                if f.get("redirect_uri") != c["redirect_uri"]:
                    return self._err("invalid_grant", "redirect_uri does not match the authorization request")
                if _challenge(f.get("code_verifier", "")) != c["challenge"]:
                    return self._err("invalid_grant", "PKCE verification failed: code_verifier does not match")
                return self._tokens()
            if f.get("grant_type") == "refresh_token":
                rt = f.get("refresh_token", "")
                if rt not in self.refresh_tokens:
                    return self._err("invalid_grant", "unknown refresh token")
                self.refresh_tokens.discard(rt)
                return self._tokens()
            return self._err("unsupported_grant_type", f.get("grant_type", ""))
        return 404, {"error": "not_found"}, None

    def authorize(self, auth_url: str) -> str:
        """What the browser does: GET the authorization URL; returns the redirect's Location."""
        import httpx

        r = httpx.get(auth_url, follow_redirects=False)
        assert r.status_code == 302, r.text
        return r.headers["location"]
