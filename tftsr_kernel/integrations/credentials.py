"""Integration credentials in the ``credentials`` table (migration 011), one per service.

The secret (an API token, a password, or an OAuth token set) is stored as JSON encrypted with
AES-256-GCM under a key derived from the database key with HKDF (``SecretBox``, purpose
``integration_token``): base64(nonce || ciphertext || tag). ``token_hash`` is the SHA-256 of the
token itself, so the audit log can say *which* credential was used without holding it. Nothing
here is ever returned by a list or get: callers get :class:`CredentialMeta`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .._util import sha256_hex, utc_now, uuid7
from ..errors import SecretError

PURPOSE = "integration_token"


@dataclass(frozen=True)
class CredentialMeta:
    id: str
    service: str
    token_hash: str
    created_at: str
    expires_at: str | None


def primary_secret(secret: dict) -> str:
    """The value ``token_hash`` is computed from: the token, password or access token."""
    for key in ("token", "password", "access_token"):
        if secret.get(key):
            return str(secret[key])
    raise ValueError("a credential needs a token, password or access token")


class CredentialStore:
    def __init__(self, wb):
        self._wb = wb
        self._db = wb.db

    def save(self, service: str, secret: dict, expires_at: str | None = None) -> CredentialMeta:
        """Store (replacing) ``service``'s credential; audited as ``store_credential`` with its hash."""
        token_hash = sha256_hex(primary_secret(secret))
        enc = self._wb.secrets.encrypt(json.dumps(secret, sort_keys=True), PURPOSE)
        cid, now = uuid7(), utc_now()
        with self._db.write() as conn:
            conn.execute("DELETE FROM credentials WHERE service = ?", (service,))
            conn.execute("INSERT INTO credentials(id, service, token_hash, encrypted_token, created_at, expires_at)"
                         " VALUES (?,?,?,?,?,?)", (cid, service, token_hash, enc, now, expires_at))
            self._wb.audit.write_audit_event("store_credential", "credential", cid, {
                "service": service, "kind": secret.get("type"), "token_hash": token_hash, "expires_at": expires_at})
        return CredentialMeta(cid, service, token_hash, now, expires_at)

    def meta(self, service: str) -> CredentialMeta | None:
        row = self._db.query_one("SELECT id, service, token_hash, created_at, expires_at FROM credentials"
                                 " WHERE service = ?", (service,))
        return CredentialMeta(*tuple(row)) if row else None

    def load(self, service: str) -> dict | None:
        row = self._db.query_one("SELECT encrypted_token FROM credentials WHERE service = ?", (service,))
        if row is None:
            return None
        plain = self._wb.secrets.decrypt(row[0], PURPOSE)
        try:
            secret = json.loads(plain)
        except ValueError:
            raise SecretError(f"the stored {service} credential is damaged; add it again "
                              f"(tftsr integration add {service} ...)") from None
        if not isinstance(secret, dict):
            raise SecretError(f"the stored {service} credential is damaged; add it again")
        return secret

    def delete(self, conn, service: str) -> None:
        conn.execute("DELETE FROM credentials WHERE service = ?", (service,))
