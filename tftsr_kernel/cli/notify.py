"""``tftsr notify add|list|test|remove``: notification channels (Slack, Teams, webhook, e-mail).

The webhook URL (it holds the channel's token) and the SMTP password come only from an
environment variable (``--url-env``, ``--password-env``) or a prompt.
"""

from __future__ import annotations

from ._common import Output, UsageError, _records, _table, _wb, secret_input

EVENTS = "issue_created,severity_raised,root_cause_identified,resolved,document_published"


def cmd_add(args):
    wb = _wb(args)
    if args.type == "email":
        if not args.smtp or not args.from_addr or not args.to:
            raise UsageError("notify add --type email needs --smtp HOST:PORT, --from ADDR and --to ADDR[,ADDR]")
        host, _, port = args.smtp.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--smtp takes HOST:PORT, not {args.smtp!r}")
        password = secret_input(args.password_env, "SMTP password", required=bool(args.user))
        ch = wb.notifications.add_channel(args.name, "email", events=args.events, smtp_host=host, smtp_port=int(port),
                                          from_addr=args.from_addr, to_addrs=args.to, username=args.user,
                                          password=password, starttls=not args.no_starttls)
    else:
        url = secret_input(args.url_env, f"{args.type} webhook URL (it holds the channel's token)")
        ch = wb.notifications.add_channel(args.name, args.type, events=args.events, url=url)
    return Output(ch.to_dict(), f"added {ch.channel_type} channel {ch.name} ({ch.target}) for "
                                f"{', '.join(ch.events)}\ncheck it with: tftsr notify test {ch.name}")


def cmd_list(args):
    rows = _records(_wb(args).notifications.list_channels())
    shown = [dict(r, events=",".join(r["events"]), last=(r["last_status"] or "-") +
                  (f" ({r['last_error']})" if r["last_error"] else "")) for r in rows]
    return Output(rows, _table(shown, ["name", "channel_type", "target", "events", "deliveries", "failures", "last"]))


def cmd_test(args):
    d = _wb(args).notifications.test_channel(args.name)
    return Output(d.to_dict(), f"sent a test notification to {args.name} ({d.attempts} attempt(s))")


def cmd_remove(args):
    _wb(args).notifications.remove_channel(args.name)
    return Output({"removed": args.name}, f"removed channel {args.name}")


def register(sub, add):
    nsub = add.group(sub, "notify", "notification channels: Slack, Microsoft Teams, a JSON webhook, e-mail (admin)")
    sp = add(nsub, "add", cmd_add, "add a channel subscribed to events")
    sp.add_argument("name")
    sp.add_argument("--type", required=True, choices=["slack", "teams", "webhook", "email"])
    sp.add_argument("--url-env", metavar="VAR", help="environment variable holding the webhook URL")
    sp.add_argument("--smtp", metavar="HOST:PORT", help="SMTP server (e-mail)")
    sp.add_argument("--from", dest="from_addr", metavar="ADDR", help="sender address (e-mail)")
    sp.add_argument("--to", metavar="ADDR[,ADDR]", help="recipients (e-mail)")
    sp.add_argument("--user", help="SMTP user (then the password from --password-env or a prompt)")
    sp.add_argument("--password-env", metavar="VAR", help="environment variable holding the SMTP password")
    sp.add_argument("--no-starttls", action="store_true", help="do not upgrade the SMTP connection with STARTTLS")
    sp.add_argument("--events", required=True, metavar="E,E", help=f"some of: {EVENTS}")
    add(nsub, "list", cmd_list, "list channels with their deliveries and last failure (never a URL or password)")
    for name, func, help_ in (("test", cmd_test, "send a test notification now"),
                              ("remove", cmd_remove, "remove a channel")):
        sp = add(nsub, name, func, help_)
        sp.add_argument("name")


__all__ = ["register"]
