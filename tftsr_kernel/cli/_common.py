"""What every command module shares: the parser classes, :class:`Output`, the JSON dump, tables,
the usage error (exit 2), opening the workbench, and writing a result or an error.

Imports nothing beyond argparse, the kernel's errors and ``_text``, so ``tftsr pii ...`` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys

from .._text import is_valid_utf8 as is_utf8, utf8_clean as clean_text
from ..errors import TftsrError


class UsageError(TftsrError):
    exit_code = 2


class VerifyFailed(TftsrError):
    """``tftsr verify`` found a problem: exit 1, and with ``--json`` the check's result too."""

    def __init__(self, message, data):
        super().__init__(message)
        self.data = data


def _terminal_columns() -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter without its ``import shutil``: argparse builds a formatter for
    every ``add_argument``, and that import alone cost ~3 ms of every command's start-up."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit 2
        raise UsageError(f"{self.prog}: {message}")


class Output:
    """What a command returns: the JSON document and its human rendering."""

    def __init__(self, data, text: str | None = None, raw: bytes | None = None, exit_code: int = 0):
        self.data = data
        self.text = text
        self.raw = raw
        self.exit_code = exit_code  # a result that is still a refusal (tftsr shell run of a tier-3 command): 1


# --- arguments that are not valid UTF-8 -----------------------------------------------------------
# On POSIX, Python decodes argv with surrogateescape: an undecodable byte 0xff arrives as '\udcff'.
def path_arg(parser: argparse.ArgumentParser, *names, **kwargs) -> argparse.Action:
    """``add_argument`` for a file or directory name. A path may hold bytes that are not UTF-8
    (it is opened through its surrogate-escaped ``str``, which round-trips to the same bytes);
    every other argument must be UTF-8 text (see :func:`check_utf8`)."""
    action = parser.add_argument(*names, **kwargs)
    action.tftsr_path = True
    return action


def _action_name(action: argparse.Action) -> str:
    if action.option_strings:
        return "/".join(action.option_strings)
    return action.metavar if isinstance(action.metavar, str) else action.dest


def check_utf8(args, parser: argparse.ArgumentParser) -> None:
    """Refuse, with a one-line usage error (exit 2) naming it, any text argument of the command
    ``parser`` that is not valid UTF-8; path arguments (:func:`path_arg`) may hold such bytes."""
    for action in parser._actions if parser is not None else ():
        if getattr(action, "tftsr_path", False):
            continue
        value = getattr(args, action.dest, None)
        items = value if isinstance(value, (list, tuple)) else [value]
        items = [x for it in items for x in (it if isinstance(it, (list, tuple)) else [it])]  # append + nargs=2
        for item in items:
            if isinstance(item, str) and not is_utf8(item):
                at = next(i for i, c in enumerate(item) if "\ud800" <= c <= "\udfff")
                code = ord(item[at])
                byte = f"the byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "an invalid character"
                raise UsageError(f"{parser.prog}: argument {_action_name(action)}: not valid UTF-8 text "
                                 f"({byte} at character {at + 1}); give it in UTF-8")


# --- helpers -------------------------------------------------------------------------------------
def _wb(args):
    """The workbench, acting as ``--as NAME`` (proven by TFTSR_API_KEY, TFTSR_PASSWORD or a
    prompt) or, without it, as what the environment proves (the OS user's project user)."""
    import tftsr_kernel

    wb = tftsr_kernel.open(args.data_dir)
    name = (getattr(args, "as_user", None) or "").strip().lower()
    current = wb.team._own_actor
    if current is not None and current.name == name and getattr(args, "_acting", False):
        return wb  # proven once for this command
    # each command starts afresh (the in-process CLI of the tests shares one workbench)
    wb.team.act_as(wb.team.actor_from_env(name, prompt=_password_prompt()) if name else None)
    args._acting = True
    return wb


def _password_prompt():
    """A terminal prompt for a password, or None when there is no terminal."""
    if not sys.stdin or not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass


def _dump(obj) -> str:
    import json

    return clean_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _table(rows: list[dict], cols: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = {c: min(60, max(len(c), *(len(_cell(r.get(c))) for r in rows))) for c in cols}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in cols)]
    for r in rows:
        lines.append("  ".join(_cell(r.get(c))[: widths[c]].ljust(widths[c]) for c in cols))
    return "\n".join(lines)


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return " ".join(str(v).split())


def _records(items) -> list[dict]:
    return [i.to_dict() for i in items]


# --- writing the result --------------------------------------------------------------------------
def _emit(out: Output, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(_dump(out.data) + "\n")
    elif out.raw is not None:
        sys.stdout.flush()
        sys.stdout.buffer.write(out.raw)
        sys.stdout.buffer.flush()
    elif out.text is not None:
        text = clean_text(out.text)
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
    else:
        sys.stdout.write(_dump(out.data) + "\n")
    sys.stdout.flush()


def _fail(err: TftsrError, as_json: bool, extra=None) -> int:
    message = clean_text(str(err))
    print(f"tftsr: error: {' '.join(message.split())}", file=sys.stderr)  # one line
    if as_json:
        doc = {"error": {"type": type(err).__name__, "message": message}}
        if extra is not None:
            doc["result"] = extra
        sys.stdout.write(_dump(doc) + "\n")
    return err.exit_code


def loopback_sign_in(begin, complete, *, port: int, timeout: float, no_browser: bool, command: str, what: str,
                     done: str) -> None:
    """The CLI's OAuth2 sign-in (``tftsr integration login``, ``tftsr mcp login``): a loopback
    listener on ``port``, ``begin(redirect_uri)`` -> an ``OAuthStart`` whose URL is printed (and
    opened unless ``no_browser``), then ``complete(state, code, error)`` on the workbench's own
    connection when the browser comes back (the page says ``done`` or the error); raises the
    error the sign-in ended with."""
    from ..integrations.oauth import LoopbackListener, callback_page

    failure: list[TftsrError] = []

    def on_callback(query):
        try:
            complete(query.get("state") or "", query.get("code") or "", query.get("error"))
        except TftsrError as exc:
            failure.append(exc)
            return 400, callback_page(False, str(exc))
        return 200, callback_page(True, done)

    try:
        listener = LoopbackListener(port, command=command).start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port} for the sign-in callback ({exc.strerror}); "
                         "choose another --port") from None
    try:
        start = begin(listener.redirect_uri)
        print(f"Open this URL to sign in to {what} (waiting on {listener.redirect_uri} for {int(timeout)} s):\n"
              f"{start.auth_url}", file=sys.stderr, flush=True)
        if not no_browser:
            import webbrowser

            try:
                webbrowser.open(start.auth_url)
            except Exception:  # no browser here: the URL is printed
                pass
        listener.wait(on_callback, timeout)
    finally:
        listener.close()
    if failure:
        raise failure[0]


def secret_input(env_name: str | None, what: str, *, required: bool = True) -> str | None:
    """A secret from the environment variable ``env_name``, else a terminal prompt (when
    ``required``); never from an argument, which would be in the shell history and the process list."""
    if env_name:
        value = os.environ.get(env_name)
        if not value:
            raise UsageError(f"environment variable {env_name} is not set or empty (it should hold the {what})")
        return value
    if not required:
        return None
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        value = getpass.getpass(f"{what}: ")
        if value:
            return value
    raise UsageError(f"give the {what} in an environment variable (--{'password' if 'password' in what else 'token'}"
                     f"-env VAR) or run in a terminal to be prompted")
