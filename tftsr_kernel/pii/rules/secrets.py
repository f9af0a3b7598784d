"""Secrets with a recognisable format: cloud and service tokens, JWTs, private key blocks,
``Bearer`` / ``Basic`` authorization values."""

from __future__ import annotations

import re

from ._common import CASELESS, SOM, Rule, _A, _aws_secret_shape, _line_bounds, _longest_by_start, _token_rule

_AWS_SECRET_IN_LINE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", _A)


def _h_aws_access(text: str, hits, out) -> None:
    lines = set()
    for s, e in _longest_by_start(hits).items():
        out.append((s, e, "AWSAccessKey"))
        lines.add(_line_bounds(text, s))
    for ls, le in lines:  # a 40-character secret on the same line (credentials CSV, env dumps)
        for m in _AWS_SECRET_IN_LINE.finditer(text, ls, le):
            if _aws_secret_shape(m.group()):
                out.append((m.start(), m.end(), "AWSSecretKey"))


def _h_slack_webhook(text: str, hits, out) -> None:
    for s, e in _longest_by_start(hits).items():
        k = text.find("/", s + len("hooks.slack.com/"), e)
        if k > 0:
            out.append((k + 1, e, "SlackToken"))


_PEM_END = re.compile(r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----", _A)
_PEM_BODY = re.compile(
    r"(?:[ \t]*(?:\r?\n|\\r\\n|\\n)?[ \t]*(?:[A-Za-z0-9+/=]+|[A-Za-z][A-Za-z\-]*:[^\r\n]*))*", _A
)
PEM_LIMIT = 256 * 1024


def _h_private_key(text: str, hits, out) -> None:
    last_end = -1
    for s, e in sorted(_longest_by_start(hits).items()):
        if s < last_end:
            continue
        m = _PEM_END.search(text, e, min(len(text), e + PEM_LIMIT))
        if m:
            t = m.end()
        else:  # truncated block: cover every following line that looks like key material
            t = _PEM_BODY.match(text, e).end()
        last_end = t
        out.append((s, t, "PrivateKey"))


_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*", _A)
_BASIC_VALUE = re.compile(r"[A-Za-z0-9+/]{4,}={0,2}(?![A-Za-z0-9+/=])", _A)


def _authz_context(text: str, pos: int) -> bool:
    return "authoriz" in text[max(0, pos - 60) : pos].lower()


def _h_bearer(text: str, hits, out) -> None:
    seen = set()
    for _s, e in hits:
        m = _TOKEN68.match(text, e)
        if not m or m.start() in seen:
            continue
        seen.add(m.start())
        tok = m.group()
        if _authz_context(text, e):
            ok = True
        else:
            has_d = any(c.isdigit() for c in tok)
            has_a = any(c.isalpha() for c in tok)
            ok = len(tok) >= 16 or (len(tok) >= 8 and has_d and has_a)
        if ok:
            out.append((m.start(), m.end(), "BearerToken"))


def _h_basic(text: str, hits, out) -> None:
    seen = set()
    for _s, e in hits:
        m = _BASIC_VALUE.match(text, e)
        if not m or m.start() in seen:
            continue
        seen.add(m.start())
        ok = _authz_context(text, e)
        if not ok:
            import base64
            import binascii

            try:
                raw = base64.b64decode(m.group(), validate=True)
                ok = b":" in raw and raw.isascii() and all(32 <= b < 127 for b in raw)
            except (binascii.Error, ValueError):
                ok = False
        if ok:
            out.append((m.start(), m.end(), "BasicAuth"))



_NOT_KEYCHAR = re.compile(r"[A-Za-z0-9_\-]", _A)


RULES: tuple[Rule, ...] = (
    Rule(
        rb"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b",
        SOM,
        _h_aws_access,
        ("AWSAccessKey", "AWSSecretKey"),
    ),
    Rule(rb"\bgh[pousr]_[A-Za-z0-9]{36,}\b", SOM, _token_rule("GitHubToken"), ("GitHubToken",)),
    Rule(rb"\bgithub_pat_[A-Za-z0-9_]{22,}\b", SOM, _token_rule("GitHubToken"), ("GitHubToken",)),
    Rule(
        rb"\bgl(?:pat|dt|rt|ptt|cbt|oas|soat|ft|imt|agent|wt)-[A-Za-z0-9_\-]{20,}",
        SOM,
        _token_rule("GitLabToken"),
        ("GitLabToken",),
    ),
    Rule(rb"\bxox[abposre]-[A-Za-z0-9\-]{10,}", SOM, _token_rule("SlackToken"), ("SlackToken",)),
    Rule(rb"\bxapp-\d-[A-Za-z0-9\-]{10,}", SOM, _token_rule("SlackToken"), ("SlackToken",)),
    Rule(
        rb"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+\-]{20,}",
        SOM,
        _h_slack_webhook,
        ("SlackToken",),
    ),
    Rule(
        rb"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}", SOM, _token_rule("StripeKey"), ("StripeKey",)
    ),
    Rule(rb"\bwhsec_[A-Za-z0-9]{20,}", SOM, _token_rule("StripeKey"), ("StripeKey",)),
    Rule(
        rb"\bAIza[0-9A-Za-z_\-]{35}",
        SOM,
        _token_rule("GoogleAPIKey", _NOT_KEYCHAR),
        ("GoogleAPIKey",),
    ),
    Rule(
        rb"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        SOM,
        _token_rule("JWT"),
        ("JWT",),
    ),
    Rule(
        rb"\bsk-(?:proj-|ant-[a-z0-9]{2,8}-)?[A-Za-z0-9_\-]{20,}", SOM, _token_rule("Secret"), ("Secret",)
    ),
    Rule(
        rb"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----", SOM, _h_private_key, ("PrivateKey",)
    ),
    Rule(rb"\bbearer[ \t]+", CASELESS, _h_bearer, ("BearerToken",)),
    Rule(rb"\bbasic[ \t]+", CASELESS, _h_basic, ("BasicAuth",)),
)
