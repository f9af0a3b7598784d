"""Small helpers shared by the provider clients: URL display, secret scrubbing, excerpts."""

from __future__ import annotations

import ipaddress
import json
import re
from urllib.parse import quote, urlsplit, urlunsplit

_MASK = "***"

# token shapes worth hiding even when they are not the configured key
_TOKEN_PATTERNS = [
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{8,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"),
    re.compile(r"(?i)\b(api[_-]?key|x-api-key|x-goog-api-key|token|secret|password)(\"?\s*[:=]\s*\"?)[^\s\"',&}]{4,}"),
]


def display_url(url: str) -> str:
    """The URL without credentials, query string or fragment (safe to show in a message)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/") or url


def is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scrub(text: str, secrets: list[str | None] | tuple[str | None, ...] = ()) -> str:
    """Remove the given secrets (and anything shaped like a token) from ``text``."""
    if not text:
        return text
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        for form in {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}:
            text = text.replace(form, _MASK)
    for pat in _TOKEN_PATTERNS:
        if pat.groups >= 2:
            text = pat.sub(lambda m: m.group(1) + m.group(2) + _MASK, text)
        elif pat.groups == 1:
            text = pat.sub(lambda m: m.group(1) + " " + _MASK, text)
        else:
            text = pat.sub(_MASK, text)
    return text


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace and cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def error_detail(body: str) -> str:
    """The human part of an error body: ``error.message``, ``error``, ``message``, ``detail``…"""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return _find_message(data) or body


def _find_message(data) -> str | None:
    if isinstance(data, list) and data:
        return _find_message(data[0])
    if not isinstance(data, dict):
        return None
    for key in ("error", "message", "detail", "msg", "error_description"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, (dict, list)):
            found = _find_message(value)
            if found:
                return found
    return None
