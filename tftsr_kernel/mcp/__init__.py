"""MCP servers (Model Context Protocol) and their tools in chat, on the official Python SDK.

``wb.mcp`` (:class:`~.service.McpService`) registers servers (stdio or Streamable HTTP, secrets
encrypted), discovers their tools, resources and prompts with a bounded timeout, and calls tools
through the approval broker and the egress guard. :class:`~.service.McpToolSource` is what the
chat's tool loop (``tftsr_kernel.ai.tools``) uses.
"""

from .errors import McpAuthError, McpConnectionError, McpError, McpTimeoutError  # noqa: F401
from .models import McpCallResult, McpResource, McpServer, McpServerStatus, McpTool  # noqa: F401
