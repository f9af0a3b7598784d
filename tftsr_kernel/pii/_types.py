"""Value types of the PII detector: spans, configuration, statistics and type ordering."""

from __future__ import annotations

#: every span type the built-in rules emit (plus "Custom"), in display order
PII_TYPES: tuple[str, ...] = (
    "IPv4",
    "IPv6",
    "MAC",
    "Hostname",
    "URLCredentials",
    "Email",
    "Phone",
    "SSN",
    "CreditCard",
    "IBAN",
    "AWSAccessKey",
    "AWSSecretKey",
    "GitHubToken",
    "GitLabToken",
    "SlackToken",
    "StripeKey",
    "GoogleAPIKey",
    "JWT",
    "PrivateKey",
    "BearerToken",
    "BasicAuth",
    "Password",
    "Secret",
    "Custom",
)

#: credential-like types; when spans overlap, a credential type names the merged span
SECRET_TYPES: frozenset[str] = frozenset(
    {
        "PrivateKey",
        "AWSAccessKey",
        "AWSSecretKey",
        "GitHubToken",
        "GitLabToken",
        "SlackToken",
        "StripeKey",
        "GoogleAPIKey",
        "JWT",
        "URLCredentials",
        "BearerToken",
        "BasicAuth",
        "Password",
        "Secret",
    }
)

# Merge priority (higher wins).  Specific token formats beat generic "key=value" findings, so a
# GitHub token written as ``password=ghp_...`` is reported as GitHubToken.
_PRIORITY_ORDER = (
    "Hostname",
    "Phone",
    "IPv4",
    "MAC",
    "IPv6",
    "Email",
    "SSN",
    "IBAN",
    "CreditCard",
    "Custom",
    "Secret",
    "Password",
    "BasicAuth",
    "BearerToken",
    "URLCredentials",
    "JWT",
    "GoogleAPIKey",
    "StripeKey",
    "SlackToken",
    "GitLabToken",
    "GitHubToken",
    "AWSSecretKey",
    "AWSAccessKey",
    "PrivateKey",
)
PRIORITY: dict[str, int] = {t: i for i, t in enumerate(_PRIORITY_ORDER)}


# Plain classes with the behaviour of the dataclasses they replace (init, repr, eq; Span is
# frozen and hashable, the others are mutable and unhashable): importing ``dataclasses``
# (which imports ``inspect``) and generating the methods cost ~8 ms of ``tftsr pii`` start-up.
class _Record:
    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _astuple(self) -> tuple:
        return tuple(getattr(self, f) for f in self._fields)

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__qualname__}({args})"

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._astuple() == other._astuple()
        return NotImplemented


class Span(_Record):
    """One finding: character offsets into the decoded text (``end`` exclusive) and its value."""

    __slots__ = ("type", "start", "end", "text")
    _fields = __slots__
    __match_args__ = __slots__

    type: str
    start: int
    end: int
    text: str

    def __init__(self, type: str, start: int, end: int, text: str) -> None:  # noqa: A002
        setattr_ = object.__setattr__
        setattr_(self, "type", type)
        setattr_(self, "start", start)
        setattr_(self, "end", end)
        setattr_(self, "text", text)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash((self.type, self.start, self.end, self.text))

    def __reduce__(self):
        return (Span, (self.type, self.start, self.end, self.text))


class DetectorConfig(_Record):
    """What to look for.

    ``enabled_types``: None means every type.  A custom pattern's spans are kept when
    ``"Custom"`` or the pattern's own name is enabled.
    ``custom_patterns``: ``(name, regex)`` pairs in Python ``re`` syntax, matched within one
    line; spans get the pattern's name as type (``"Custom"`` when the name is empty).
    ``allowlist``: exact values that are never flagged.
    """

    __slots__ = ("enabled_types", "custom_patterns", "allowlist", "__dict__", "__weakref__")
    _fields = ("enabled_types", "custom_patterns", "allowlist")
    __match_args__ = _fields
    __hash__ = None  # type: ignore[assignment]

    enabled_types: frozenset[str] | None
    custom_patterns: tuple[tuple[str, str], ...]
    allowlist: tuple[str, ...]

    def __init__(
        self,
        enabled_types: frozenset[str] | None = None,
        custom_patterns: tuple[tuple[str, str], ...] = (),
        allowlist: tuple[str, ...] = (),
    ) -> None:
        self.enabled_types = enabled_types
        self.custom_patterns = custom_patterns
        self.allowlist = allowlist


class RedactStats(_Record):
    """What :func:`redact_file` did."""

    __slots__ = ("bytes_in", "bytes_out", "spans", "by_type", "__dict__", "__weakref__")
    _fields = ("bytes_in", "bytes_out", "spans", "by_type")
    __match_args__ = _fields
    __hash__ = None  # type: ignore[assignment]

    bytes_in: int
    bytes_out: int
    spans: int
    by_type: dict[str, int]

    def __init__(self, bytes_in: int = 0, bytes_out: int = 0, spans: int = 0, by_type: dict[str, int] | None = None) -> None:
        self.bytes_in = bytes_in
        self.bytes_out = bytes_out
        self.spans = spans
        self.by_type = {} if by_type is None else by_type
