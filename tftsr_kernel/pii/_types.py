"""Value types of the PII detector: spans, configuration, statistics and type ordering."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Span:
    """One finding: character offsets into the decoded text (``end`` exclusive) and its value."""

    type: str
    start: int
    end: int
    text: str


@dataclass
class DetectorConfig:
    """What to look for.

    ``enabled_types``: None means every type.  A custom pattern's spans are kept when
    ``"Custom"`` or the pattern's own name is enabled.
    ``custom_patterns``: ``(name, regex)`` pairs in Python ``re`` syntax, matched within one
    line; spans get the pattern's name as type (``"Custom"`` when the name is empty).
    ``allowlist``: exact values that are never flagged.
    """

    enabled_types: frozenset[str] | None = None
    custom_patterns: tuple[tuple[str, str], ...] = ()
    allowlist: tuple[str, ...] = ()


@dataclass
class RedactStats:
    """What :func:`redact_file` did."""

    bytes_in: int = 0
    bytes_out: int = 0
    spans: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
