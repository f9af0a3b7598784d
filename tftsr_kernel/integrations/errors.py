"""The integrations' typed errors (all are :class:`~tftsr_kernel.errors.IntegrationError`).

Messages name the service, say what it answered (its own error message, scrubbed of anything
shaped like a credential) and what to do. They never hold a token, password or client secret.
"""

from __future__ import annotations

from ..errors import ConflictError, IntegrationError, NotFoundError, ValidationError


class IntegrationNotConfiguredError(IntegrationError, ValidationError):
    """The service has no configuration (or no credential) yet."""


class IntegrationConnectionError(IntegrationError):
    """The service could not be reached (refused, DNS, TLS, timeout)."""


class IntegrationAuthError(IntegrationError):
    """The service refused the credential (401/403)."""


class IntegrationNotFoundError(IntegrationError, NotFoundError):
    """The service has no such page, incident or work item (404)."""


class IntegrationConflictError(IntegrationError, ConflictError):
    """The service refused a change that conflicts with its state (a stale page version, a
    duplicate title): nothing was overwritten."""


class IntegrationRateLimitedError(IntegrationError):
    """The service kept answering 429 after the bounded retries."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class IntegrationResponseError(IntegrationError):
    """The service answered with another error status or a body that could not be read."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class OAuthError(IntegrationError):
    """The OAuth2 login could not finish: unknown, reused or expired ``state``, a refused code
    or PKCE verifier, or a token endpoint error. No token was stored."""


__all__ = [n for n in dir() if n.endswith("Error")]
