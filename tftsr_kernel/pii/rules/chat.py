"""Chat tokens and incoming webhooks: Slack (configuration tokens and whole webhook URLs),
Microsoft Teams, Discord, Telegram, Mattermost, Gitter, Pushover, Zulip and Webex.

A webhook URL is a credential in itself (whoever has it can post); the host name stays
readable and the path that carries the secret is redacted.  Every type here is in the
``ChatToken`` toggle except ``SlackToken`` (its own, older toggle).
"""

from __future__ import annotations

import re

from ._common import Rule
from ._tokens import kw, tok

_A = re.ASCII
_TELEGRAM_TAIL = re.compile(r"AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])", _A)


def _h_telegram(text: str, hits, out) -> None:
    """``<bot id>:AA<33>``: the anchor is ``:AA``; the bot id (8-10 digits) is read backwards."""
    for _s, e in hits:
        colon = e - 3
        m = _TELEGRAM_TAIL.match(text, colon + 1)
        if m is None:
            continue
        i = colon
        while i > 0 and text[i - 1].isdigit() and colon - i < 11:
            i -= 1
        if not 8 <= colon - i <= 10:
            continue
        if i and (text[i - 1].isalnum() or text[i - 1] == "_") and not text.endswith("/bot", 0, i):
            continue  # part of a longer word (but api.telegram.org/bot<token>/ is the API's URL form)
        out.append((i, m.end(), "TelegramBotToken"))


_DISCORD_HEAD_REV = re.compile(r"[A-Za-z0-9_\-]{23,28}", _A)
_DISCORD_TAIL = re.compile(r"[A-Za-z0-9_\-]{27,38}(?![A-Za-z0-9_\-])", _A)


def _discord_user_id(seg: str) -> bool:
    """The first part of a Discord bot token is the base64 of the bot's numeric user id."""
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
    except (binascii.Error, ValueError):
        return False
    return 17 <= len(raw) <= 20 and raw.isdigit()


def _h_discord_bare(text: str, hits, out) -> None:
    """``<base64 user id>.<6>.<27-38>`` anywhere: the anchor is the middle part with its dots;
    the first part must decode to a 17-20 digit user id."""
    for _s, e in hits:
        d1 = e - 8  # the first dot
        lo = max(0, d1 - 28)
        m = _DISCORD_HEAD_REV.match(text[lo:d1][::-1])
        if m is None:
            continue
        s = d1 - m.end()
        if s and (text[s - 1].isalnum() or text[s - 1] in "_-"):
            continue
        if not _discord_user_id(text[s:d1]):
            continue
        t = _DISCORD_TAIL.match(text, e)
        if t is None:
            continue
        out.append((s, t.end(), "DiscordBotToken"))


RULES: tuple[Rule, ...] = (
    Rule(rb"\b[MNO][DTjz][AEIMQUYcgk][A-Za-z0-9_\-]{20,25}\.[A-Za-z0-9_\-]{6}\.", 0, _h_discord_bare, ("DiscordBotToken",)),
    # Slack: configuration access/refresh tokens (the base rule knows xox[abposre]- and xapp-)
    # Slack browser session cookies ("d" cookie)
    tok("SlackToken", "xoxd-", r"xoxd-[A-Za-z0-9%/+]{50,}"),
    tok("SlackToken", "xoxe.xox", r"xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{150,170}"),
    # a webhook URL is the credential: the whole URL is one span (named SlackWebhook)
    tok(
        "SlackWebhook",
        "hooks.slack.com/",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_+\-]+/[A-Za-z0-9_/+\-]{20,}",
        before=frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"),
        url=True,
    ),
    # Microsoft Teams incoming webhooks (Office 365 connectors): the whole URL
    tok(
        "TeamsWebhook",
        ".webhook.office.com/webhookb2/",
        r"\.webhook\.office\.com/webhookb2/[0-9a-fA-F\-]{36}@[0-9a-fA-F\-]{36}/IncomingWebhook/[0-9a-fA-F]{32}/[0-9a-fA-F\-]{36}(?:/[A-Za-z0-9_\-]{20,})?",
        before=None,
        after=None,
        url="host",
    ),
    tok(
        "TeamsWebhook",
        "outlook.office.com/webhook/",
        r"outlook\.office\.com/webhook/[0-9a-fA-F\-]{36}@[0-9a-fA-F\-]{36}/IncomingWebhook/[0-9a-fA-F]{32}/[0-9a-fA-F\-]{36}",
        before=None,
        after=None,
        url=True,
    ),
    # Discord webhooks: https://discord.com/api/webhooks/<id>/<token>, the whole URL
    *(
        tok(
            "DiscordWebhook",
            host + "/api/webhooks/",
            re.escape(host) + r"/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,70}",
            before=frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"),
            url=True,
        )
        for host in ("discord.com", "discordapp.com")
    ),
    # Discord bot tokens: base64 user id, timestamp, HMAC; found after "Bot " or a discord key
    tok(
        "DiscordBotToken",
        "Bot ",
        r"Bot ([MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})",
        group=1,
        before=None,
    ),
    kw(
        ("discord_token", "discord_bot_token", "discord"),
        (("DiscordBotToken", r"[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}", 3.5),
         ("DiscordClientSecret", r"[A-Za-z0-9_\-]{32}", 3.5)),
    ),
    Rule(rb":AA", 0, _h_telegram, ("TelegramBotToken",)),
    kw(("mattermost_token", "mattermost_access_token", "mattermost"), (("MattermostToken", r"[a-z0-9]{26}", 3.5),)),
    kw(("gitter_token", "gitter"), (("GitterToken", r"[a-z0-9_\-]{40}", 3.5),)),
    kw(("pushover_token", "pushover_user_key", "pushover"), (("PushoverToken", r"[a-z0-9]{30}", 3.5),)),
    kw(("zulip_api_key", "zulip"), (("ZulipAPIKey", r"[A-Za-z0-9]{32}", 3.5),)),
    kw(("webex_token", "webex_access_token", "webex_bot_token"), (("WebexToken", r"[A-Za-z0-9]{64}_[A-Za-z0-9]{4}_[a-f0-9\-]{36}", 3.5),)),
)
