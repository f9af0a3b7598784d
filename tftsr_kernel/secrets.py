"""AES-256-GCM for stored secrets (provider API keys, integration tokens, MCP auth, kubeconfigs).

Format: base64(nonce || ciphertext || tag), random 96-bit nonce. The AES key is derived from the
database key with HKDF-SHA256 and a distinct label per purpose, and the label is also bound as
associated data, so a value encrypted for one purpose cannot be decrypted as another.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import SecretError, ValidationError

#: every purpose a secret may be stored for, and where it is stored (table, id column, column)
PURPOSES = {
    "ai_provider_api_key": ("ai_providers", "id", "encrypted_api_key"),
    "integration_token": ("credentials", "id", "encrypted_token"),
    "integration_client_secret": ("integration_config", "id", "encrypted_client_secret"),
    "oauth_verifier": ("oauth_states", "id", "encrypted_verifier"),
    "notification_secret": ("notification_channels", "id", "encrypted_secret"),
    "mcp_auth": ("mcp_servers", "id", "auth_value"),
    "mcp_env": ("mcp_servers", "id", "env_config"),
    "kubeconfig": ("kubeconfig_files", "id", "encrypted_content"),
    "sudo_password": ("sudo_config", "id", "encrypted_password"),
}
_SALT = b"tftsr-workbench secrets v1"
_NONCE = 12


class SecretBox:
    def __init__(self, db_key: str):
        self._master = db_key.encode("utf-8")
        self._cache: dict[str, AESGCM] = {}

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def _aead(self, purpose: str) -> AESGCM:
        if purpose not in PURPOSES:
            raise ValidationError(f"unknown secret purpose {purpose!r}")
        aead = self._cache.get(purpose)
        if aead is None:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT,
                       info=b"tftsr:" + purpose.encode()).derive(self._master)
            aead = self._cache[purpose] = AESGCM(key)
        return aead

    def encrypt(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead(purpose).encrypt(nonce, plaintext.encode("utf-8"), purpose.encode())
        return base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, purpose: str) -> str:
        try:
            raw = base64.b64decode(token.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise SecretError(f"a stored {purpose.replace('_', ' ')} is not valid ciphertext") from None
        if len(raw) < _NONCE + 16:
            raise SecretError(f"a stored {purpose.replace('_', ' ')} is truncated")
        try:
            plain = self._aead(purpose).decrypt(raw[:_NONCE], raw[_NONCE:], purpose.encode())
        except InvalidTag:
            raise SecretError(
                f"a stored {purpose.replace('_', ' ')} cannot be decrypted with this database key "
                "(it was changed outside 'tftsr rekey', or the value was tampered with); enter it again"
            ) from None
        return plain.decode("utf-8")
