"""The few pages the dashboard serves before anyone is signed in: the token form, the signed-out
page and the refusal for a Host outside the allow-list. Self-contained (inline style, no script,
nothing loaded), every value escaped."""

from __future__ import annotations

from html import escape

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f6f8;color:#212121;margin:0}
main{max-width:560px;margin:12vh auto;background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:28px 32px}
h1{font-size:20px;margin:0 0 12px 0} p{line-height:1.5;margin:8px 0} code{background:#eef1f4;padding:1px 4px;border-radius:3px}
label{display:block;margin:16px 0 6px 0;font-weight:600} input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:8px;
font-size:14px;border:1px solid #b0b7c0;border-radius:4px} button{margin-top:14px;padding:8px 18px;font-size:14px;
background:#1565c0;color:#fff;border:0;border-radius:4px;cursor:pointer} .error{color:#c62828;font-weight:600}
.muted{color:#616161;font-size:13px}
"""


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>")


def login_page(*, action: str, next_url: str, xsrf: str, error: str = "") -> str:
    err = f'<p class="error" id="tftsr-login-error">{escape(error)}</p>' if error else ""
    return _page("TFTSR Workbench: sign in", (
        "<h1>TFTSR Workbench</h1>"
        "<p>This dashboard needs its access token. Open the link printed by <code>tftsr dashboard</code> "
        "(it ends in <code>?token=&hellip;</code>), or paste the token here.</p>"
        f"{err}"
        f'<form method="post" action="{escape(action)}" id="tftsr-login">'
        f'<input type="hidden" name="_xsrf" value="{escape(xsrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        '<label for="password">Access token</label>'
        '<input type="password" id="password" name="password" autocomplete="off" autofocus required>'
        "<button type=\"submit\">Open the dashboard</button></form>"
        '<p class="muted">The browser then keeps a session cookie for this server until it is closed.</p>'))


def team_login_page(*, action: str, next_url: str, xsrf: str, ask_token: bool, username: str = "",
                    error: str = "") -> str:
    """Team mode: the user's name and password (and the access token, until this browser has shown it)."""
    err = f'<p class="error" id="tftsr-login-error" role="alert">{escape(error)}</p>' if error else ""
    token = ('<label for="token">Access token</label>'
             '<input type="password" id="token" name="token" autocomplete="off" required>'
             '<p class="muted">The token is in the link printed by <code>tftsr dashboard</code> '
             "(after <code>?token=</code>); opening that link fills it for you.</p>") if ask_token else ""
    focus_user = "" if username else " autofocus"
    focus_pass = " autofocus" if username else ""
    return _page("TFTSR Workbench: sign in", (
        "<h1>TFTSR Workbench</h1>"
        "<p>Sign in with your TFTSR user name and password (an admin creates them with "
        "<code>tftsr user add</code>).</p>"
        f"{err}"
        f'<form method="post" action="{escape(action)}" id="tftsr-login">'
        f'<input type="hidden" name="_xsrf" value="{escape(xsrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f"{token}"
        '<label for="username">User name</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" autocomplete="username"'
        f' autocapitalize="none" spellcheck="false" maxlength="64" required{focus_user}>'
        '<label for="password">Password</label>'
        f'<input type="password" id="password" name="password" autocomplete="current-password" required{focus_pass}>'
        "<button type=\"submit\">Sign in</button></form>"
        '<p class="muted">Sessions last 12 hours; <em>Sign out</em> in the dashboard\'s header ends one. '
        "Five wrong passwords lock a user name for 15 minutes.</p>"))


def logout_page(login_url: str) -> str:
    return _page("TFTSR Workbench: signed out", (
        "<h1>Signed out</h1><p>This browser's session has ended and its cookies are gone.</p>"
        f'<p><a href="{escape(login_url)}">Sign in again</a></p>'))


def refused_page() -> str:
    return _page("TFTSR Workbench: refused", (
        "<h1>Not served under this name</h1>"
        "<p>This TFTSR dashboard only answers to the names it was started for: loopback, the address "
        "it listens on, and each <code>--allow-host NAME</code>. The address you used is not one of them, "
        "so nothing was shown and no kernel was started.</p>"
        "<p>If you reach the dashboard through a reverse proxy or a DNS name, restart it with "
        "<code>tftsr dashboard --allow-host NAME</code> and make the proxy forward the "
        "<code>Host</code> header.</p>"))


_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           500: "Internal error", 503: "Busy"}


def error_page(status: int, reason: str | None) -> str:
    return _page(f"TFTSR Workbench: {int(status)}", (
        f"<h1>{int(status)} {escape(_TITLES.get(int(status), 'Error'))}</h1>"
        f"<p>{escape(reason or 'The dashboard could not answer this request.')}</p>"
        '<p><a href="/">Back to the dashboard</a></p>'))
