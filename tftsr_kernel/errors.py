"""Typed errors raised by the kernel.

Every error the kernel raises on purpose derives from :class:`TftsrError`. Messages say what
happened and what to do; they never contain secrets (keys, tokens, passwords) or log text.
Panels show ``str(err)`` in a status line; the CLI prints it on one line and exits with
``err.exit_code``.
"""

from __future__ import annotations


class TftsrError(Exception):
    """Base class of every error the kernel raises on purpose."""

    #: exit status used by the CLI: 1 for an operation error, 2 for a usage or key error
    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # one line, always
        return " ".join(str(self.message).split())


# --- storage and keys -------------------------------------------------------------------------
class KeyProblemError(TftsrError):
    """Base for key problems (exit status 2)."""

    exit_code = 2


class WrongKeyError(KeyProblemError):
    """The database key does not open the database."""


class KeyFileError(KeyProblemError):
    """The key file is missing, unreadable, malformed or too permissive."""


class NotEncryptedError(KeyProblemError):
    """The file is a plain (unencrypted) SQLite database; TFTSR refuses to use it."""


class DatabaseError(TftsrError):
    """The database file is damaged, locked for too long, or otherwise unusable."""


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer TFTSR than this one."""

    exit_code = 2


class MigrationError(DatabaseError):
    """A migration failed; the database was left at the previous version."""


# --- input and lookups ------------------------------------------------------------------------
class ValidationError(TftsrError):
    """An argument is missing or has a value the operation does not accept."""


class NotFoundError(TftsrError):
    """The issue, log, image, document or other record does not exist."""


class ConflictError(TftsrError):
    """The operation conflicts with stored state (duplicate name, wrong state)."""


class FileRefusedError(ValidationError):
    """An uploaded file was refused (empty, binary, too large, wrong type)."""


class NotRegularFileError(FileRefusedError):
    """The path is not a regular file: a symbolic link, FIFO, socket, device or directory."""


class BinaryFileError(FileRefusedError):
    """The file is not a text log (NUL bytes or too many control characters anywhere in it)."""


class FileTooLargeError(FileRefusedError):
    """The file is larger than the upload limit."""


class UploadError(FileRefusedError):
    """A chunked upload from the browser failed (out of order, cancelled, longer than announced)."""


class DecompressionBombError(DatabaseError):
    """Stored content expands beyond the safety limit and was not decompressed."""


class IntegrityError(DatabaseError):
    """`verify` found damage: a broken audit chain or failed SQLCipher integrity check."""


class SecretError(TftsrError):
    """A stored secret could not be decrypted (wrong key or tampered ciphertext)."""


# --- PII ---------------------------------------------------------------------------------------
class PiiError(TftsrError):
    """PII detection or redaction could not be completed; nothing was sent."""


# --- AI and remote services --------------------------------------------------------------------
class ProviderError(TftsrError):
    """Base for AI provider failures."""


class ProviderConnectionError(ProviderError):
    """The provider could not be reached (connection refused, DNS, TLS, timeout)."""


class ProviderAuthError(ProviderError):
    """The provider rejected the API key (401/403)."""


class ProviderModelError(ProviderError):
    """The provider does not know the model (404)."""


class ProviderResponseError(ProviderError):
    """The provider answered with an error status or a body that could not be read."""


class CancelledError(TftsrError):
    """The operation was cancelled by the user."""


class IntegrationError(TftsrError):
    """A remote integration (Confluence, ServiceNow, Azure DevOps, MCP) failed."""


class ExportError(TftsrError):
    """A document or report could not be exported."""


# --- store and audit (keys, locks, damage, the keyed audit chain) -------------------------------
class DatabaseBusyError(DatabaseError):
    """Another process held the database or its lock file for too long, or holds it open."""


class DatabaseCorruptError(DatabaseError):
    """The database file is damaged or truncated (pages fail their HMAC or are missing)."""


class AuditKeyError(KeyProblemError):
    """The audit key (``audit.key``, ``TFTSR_AUDIT_KEY`` or ``TFTSR_AUDIT_KEY_FILE``) is missing or unusable."""


# --- the egress guard (added by the PII engine work) -------------------------------------------
class EgressBlockedError(PiiError):
    """The egress guard could not clear a text, so nothing was sent: the PII engine could not
    run (hyperscan missing or failing, a rule raising) or the guard itself failed.  The guard
    refuses instead of sending with less coverage."""

    cause = ""

    @classmethod
    def engine_failed(cls, cause: str) -> "EgressBlockedError":
        """The error the PII engine raises when it cannot run; ``cause`` names no text."""
        err = cls(
            f"nothing was sent: the PII engine failed ({cause}). Reinstall the pinned hyperscan "
            "package (see the README's set-up) or report the error; no text leaves the machine "
            "until the engine runs."
        )
        err.cause = cause
        return err

# --- team: identity and access -----------------------------------------------------------------
class AuthenticationError(TftsrError):
    """Who is calling could not be established: no, unknown, wrong, revoked or expired credentials,
    or a disabled account. ``reason`` is one of: missing, invalid, revoked, expired, disabled,
    rate_limited. The message never says whether a user name exists."""

    exit_code = 2

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


class RateLimitedError(AuthenticationError):
    """Too many failed sign-ins for this user or from this client; try again later."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, "rate_limited")
        self.retry_after = retry_after


class PermissionDeniedError(TftsrError):
    """The acting user's role (or API key's scopes) does not allow the call; the message names
    the role (``needed_role``) or scope (``needed_scope``) that would."""

    def __init__(self, message: str, *, permission: str, needed_role: str, needed_scope: str | None = None):
        super().__init__(message)
        self.permission = permission
        self.needed_role = needed_role
        self.needed_scope = needed_scope


__all__ = [name for name in dir() if name.endswith("Error")]
