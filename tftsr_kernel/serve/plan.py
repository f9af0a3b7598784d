"""The serving options of ``tftsr dashboard``, checked once: address, port, token, the Host
allow-list and the kernel cull timeout. Pure values; no server is started here."""

from __future__ import annotations

import ipaddress
import re
import secrets
import socket
from dataclasses import asdict, dataclass, field

from ..errors import ValidationError

#: names that always mean this machine (besides every 127.0.0.0/8 and ::1 address)
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
#: default idle timeout (seconds) of a kernel whose page is gone; ``--cull-idle`` changes it
DEFAULT_CULL_IDLE = 180
MIN_CULL_IDLE, MAX_CULL_IDLE = 5, 7 * 24 * 3600
#: a kernel that no browser has connected to this long after its page was served is shut down
CONNECT_GRACE = 30.0
#: pages with a kernel at once (each kernel is a Python process, about 70 MB); --max-kernels
DEFAULT_MAX_KERNELS = 50
MAX_MAX_KERNELS = 1000
_TOKEN_RE = re.compile(r"[A-Za-z0-9._~-]{16,256}")
_LABEL_RE = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


def is_loopback(host: str) -> bool:
    host = (host or "").strip().lower().rstrip(".")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> str:
    """The host part of a ``Host`` header or an origin's netloc, lower case, without the port,
    the IPv6 brackets or a trailing dot."""
    value = (value or "").strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def normalise_host_name(name: str) -> str:
    """An ``--allow-host`` entry: a DNS name or an IP address, without scheme, port or path."""
    raw = name
    name = (name or "").strip().lower()
    if not name:
        raise ValidationError("--allow-host needs a host name, for example --allow-host dash.example.com")
    if "://" in name or "/" in name:
        raise ValidationError(f"--allow-host {raw!r}: give the host name only, without scheme or path")
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if ":" in name:
        raise ValidationError(f"--allow-host {raw!r}: give the host name without a port "
                              "(the port is not part of the check)")
    name = name.rstrip(".")
    if len(name) > 253 or not all(_LABEL_RE.fullmatch(label) for label in name.split(".")):
        raise ValidationError(f"--allow-host {raw!r} is not a valid host name")
    return name


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` (and WebSocket ``Origin``) names the dashboard answers to.

    Loopback names and addresses, the address it is bound to and the ``--allow-host`` names.
    Bound to every interface (0.0.0.0 or ::), it also answers to this machine's host name and
    to any IP address: DNS rebinding needs a name the attacker controls, and an address cannot
    be rebound."""

    bound: str
    names: frozenset = field(default_factory=frozenset)
    any_address: bool = False

    @classmethod
    def for_server(cls, host: str, extra=()) -> "HostPolicy":
        names = set(LOOPBACK_NAMES)
        bound = split_host(host) if host not in WILDCARD_HOSTS else host
        wildcard = host in WILDCARD_HOSTS
        if not wildcard:
            names.add(normalise_host_name(bound))
        else:
            try:
                names.add(normalise_host_name(socket.gethostname()))
            except (OSError, ValidationError):
                pass
        names.update(normalise_host_name(n) for n in extra)
        return cls(bound=host, names=frozenset(names), any_address=wildcard)

    def allows(self, host_header: str | None) -> bool:
        host = split_host(host_header or "")
        if not host:
            return False
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return host in self.names
        return addr.is_loopback or self.any_address or str(addr) in self.names

    def allows_origin(self, origin: str | None, host_header: str | None) -> bool:
        """A browser's ``Origin`` is accepted when it is this very server as the browser sees it
        (same scheme-less host and port as the ``Host`` header) and that host is allowed."""
        if origin is None:
            return True  # not a browser (a script, or the kernel itself); it still needs the token
        origin = origin.strip().lower()
        if "://" not in origin:
            return False  # "null" (sandboxed frames, file: pages) and anything malformed
        netloc = origin.split("://", 1)[1].split("/", 1)[0]
        return netloc == (host_header or "").strip().lower() and self.allows(netloc)

    def describe(self) -> list[str]:
        out = sorted(self.names)
        out.append("any loopback address")
        if self.any_address:
            out.append("any IP address (bound to all interfaces)")
        return out


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def check_token(token: str | None) -> str:
    token = token.strip()
    if not _TOKEN_RE.fullmatch(token):
        raise ValidationError("--token must be 16 to 256 characters of letters, digits, '.', '_', '~' or '-'")
    return token


@dataclass
class DashboardPlan:
    host: str
    port: int
    token: str
    token_generated: bool
    url: str
    loopback: bool
    allowed_hosts: list
    cull_idle: int
    connect_grace: float
    policy: HostPolicy
    max_kernels: int = DEFAULT_MAX_KERNELS

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("policy")
        return d


def dashboard_plan(host: str = "127.0.0.1", port: int = 8866, token: str | None = None, allow_hosts=(),
                   cull_idle: int | None = None, max_kernels: int | None = None) -> DashboardPlan:
    """Check the serving options and decide the token: the given one, else a new random one
    (a token is always required, on loopback too)."""
    host = (host or "").strip()
    if not host:
        raise ValidationError("--host must not be empty")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationError("--port must be between 1 and 65535")
    cull = DEFAULT_CULL_IDLE if cull_idle is None else cull_idle
    if not isinstance(cull, int) or not MIN_CULL_IDLE <= cull <= MAX_CULL_IDLE:
        raise ValidationError(f"--cull-idle must be between {MIN_CULL_IDLE} and {MAX_CULL_IDLE} seconds")
    maxk = DEFAULT_MAX_KERNELS if max_kernels is None else max_kernels
    if not isinstance(maxk, int) or not 1 <= maxk <= MAX_MAX_KERNELS:
        raise ValidationError(f"--max-kernels must be between 1 and {MAX_MAX_KERNELS}")
    generated = token is None
    token = secrets.token_urlsafe(24) if generated else check_token(token)
    policy = HostPolicy.for_server(host, allow_hosts or ())
    shown = "127.0.0.1" if host in WILDCARD_HOSTS and host != "::" else ("::1" if host == "::" else host)
    url = f"http://{_shown(shown)}:{port}/?token={token}"
    return DashboardPlan(host=host, port=port, token=token, token_generated=generated, url=url,
                         loopback=is_loopback(host), allowed_hosts=policy.describe(), cull_idle=cull,
                         connect_grace=min(CONNECT_GRACE, float(cull)), policy=policy, max_kernels=maxk)
