"""The MCP service's errors (all :class:`~tftsr_kernel.errors.TftsrError`)."""

from __future__ import annotations

from ..errors import TftsrError


class McpError(TftsrError):
    """An MCP server could not be reached, refused us, or answered with an error."""


class McpConnectionError(McpError):
    """The server could not be started or reached (``unreachable``) or the connection broke."""

    def __init__(self, message: str, *, unreachable: bool = True):
        super().__init__(message)
        self.unreachable = unreachable


class McpAuthError(McpError):
    """The server refused the configured credentials."""


class McpTimeoutError(McpConnectionError):
    """The server did not answer within the bounded time."""

    def __init__(self, message: str):
        super().__init__(message + "; is the server running and answering?", unreachable=True)
