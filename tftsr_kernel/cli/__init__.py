"""The ``tftsr`` command line: builds the parser from the command-group modules and dispatches.

Contract: every command takes ``--json`` and then prints exactly one JSON document on stdout.
Exit 0 on success, 1 on an operation error, 2 on a usage or key error. Errors are one line on
stderr (and, with ``--json``, an ``{"error": ...}`` document on stdout), never a traceback;
set ``TFTSR_DEBUG=1`` to see the traceback of an unexpected error.

Layout: one module per command group (``store``, ``issues``, ``logs``, ``timeline``, ``pii``, ``ai``,
``docs``, ``serve``); each has ``register(sub, add)``. What they share (:class:`Output`, tables, the JSON
dump, :class:`UsageError`, error printing, ``_wb``) is in ``_common``. A new group is one line
in :data:`GROUPS`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from ._common import Output, UsageError, VerifyFailed, _emit, _fail, _Parser, check_utf8
from ..errors import TftsrError

#: the command groups, in the order ``tftsr --help`` lists them: ``module`` (its ``register``) or
#: ``module:function``, modules of this package. A new group (team, integrations, mcp, shell)
#: is one line here.
GROUPS: tuple[str, ...] = (
    "store:register_init",  # init
    "issues",               # issue ...
    "logs",                 # log ..., image ..., audit
    "timeline",             # timeline
    "store",                # verify, rekey, backup, demo, settings ...
    "pii",                  # pii ...
    "ai",                   # provider ..., chat, whys, analyze, ollama ...
    "docs",                 # rca, postmortem, doc ...
    "serve",                # dashboard, lab, export
    "team",                 # user ..., apikey ...
    "integrations",         # integration ..., confluence ..., servicenow ..., azuredevops ...
    "notify",               # notify ...
    "mcp",                  # mcp ...
    "shell",                # shell ..., kubeconfig ..., policy ..., site-command ...
)

#: the group (an entry of :data:`GROUPS`) that registers each command word: ``tftsr issue ...``
#: imports and builds only that group's parser (importing every group and building the whole
#: parser, 130 sub-parsers, costs ~65 ms of every command's start-up). A test checks this map
#: against what the groups register (tests/test_cli_layout.py).
COMMAND_GROUPS: dict[str, str] = {
    "init": "store:register_init", "issue": "issues", "log": "logs", "image": "logs", "audit": "logs",
    "timeline": "timeline", "verify": "store", "rekey": "store", "backup": "store", "demo": "store",
    "settings": "store", "pii": "pii", "provider": "ai", "chat": "ai", "whys": "ai", "analyze": "ai",
    "ollama": "ai", "rca": "docs", "postmortem": "docs", "doc": "docs", "dashboard": "serve", "lab": "serve",
    "export": "serve", "user": "team", "apikey": "team", "api": "team", "hub": "team",
    "integration": "integrations", "confluence": "integrations", "servicenow": "integrations",
    "azuredevops": "integrations", "notify": "notify", "mcp": "mcp", "shell": "shell", "kubeconfig": "shell",
    "policy": "shell", "site-command": "shell", "sudo": "shell",
}

__all__ = ["COMMAND_GROUPS", "GROUPS", "Output", "UsageError", "build_parser", "main", "run"]


def _hooks(entries=GROUPS) -> list[Callable]:
    import importlib

    hooks = []
    for entry in entries:
        mod, _, func = entry.partition(":")
        hooks.append(getattr(importlib.import_module(f"{__name__}.{mod}"), func or "register"))
    return hooks


def _load_extensions() -> list[Callable]:
    """Import every command-group module; returns their registration functions."""
    return _hooks()


# --- parser --------------------------------------------------------------------------------------
def build_parser(hooks: list[Callable] | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``hooks``, only the commands those registration functions add (the
    start-up fast path of :func:`main` for ``tftsr pii ...``)."""
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print exactly one JSON document on stdout")
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="data directory (default: TFTSR_DATA_DIR or ~/.local/share/tftsr)")
    common.add_argument("--as", dest="as_user", metavar="NAME", default=argparse.SUPPRESS,
                        help="act as this project user, proven by TFTSR_PASSWORD, a prompt or TFTSR_API_KEY "
                             "(default: the OS user's project user)")
    p = _Parser(prog="tftsr", description="TFTSR Workbench: incident investigation in an encrypted store.",
                parents=[common])
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(parent, name, func, help_):
        """A leaf command: ``add(sub, "show", cmd_show, "help")``; returns its parser."""
        sp = parent.add_parser(name, help=help_, description=help_, parents=[common])
        sp.set_defaults(func=func, _leaf=sp)
        return sp

    def group(parent, name, help_):
        """A command group (``tftsr doc ...``); returns the subparsers to ``add`` leaves to."""
        gp = parent.add_parser(name, help=help_, description=help_, parents=[common])
        gsub = gp.add_subparsers(dest="sub", metavar="ACTION", parser_class=_Parser)
        gsub.required = True
        return gsub

    add.group = group  # group modules call add.group(sub, "name", "help")
    for hook in _hooks() if hooks is None else hooks:
        hook(sub, add)
    return p


def _command_word(argv: list[str]) -> str | None:
    """The command name in ``argv`` (the first word that is not a global option)."""
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--data-dir", "--as"):
            skip = True
        elif not a.startswith("-"):
            return a
    return None


def _parser_for(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of the command's own group; the whole one for ``tftsr``, ``--help`` or an
    unknown word (so its error lists every command)."""
    entry = COMMAND_GROUPS.get(_command_word(argv))
    if entry is not None:
        return build_parser(_hooks([entry]))
    return build_parser()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    try:
        args = _parser_for(argv).parse_args(argv)
        check_utf8(args, getattr(args, "_leaf", None))  # text arguments must be UTF-8; paths may hold any bytes
        args.json = getattr(args, "json", False)
        args.data_dir = getattr(args, "data_dir", None)
        args.as_user = getattr(args, "as_user", None)
        out = args.func(args)
    except VerifyFailed as err:
        return _fail(err, as_json, extra=err.data)
    except TftsrError as err:
        return _fail(err, as_json)
    except KeyboardInterrupt:
        print("tftsr: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # a bug: one line, unless debugging
        if os.environ.get("TFTSR_DEBUG"):
            raise
        return _fail(TftsrError(f"internal error ({type(exc).__name__}): {exc}. "
                                "Set TFTSR_DEBUG=1 for details."), as_json)
    _emit(out, args.json)
    _drain_notifications()
    return getattr(out, "exit_code", 0)


def _drain_notifications() -> None:
    """A command's notifications go out before it ends (they are queued so a slow channel does
    not hold up the change; the output is already printed)."""
    if "tftsr_kernel.workbench" in sys.modules:
        sys.modules["tftsr_kernel.workbench"].drain_notifications()


def run() -> None:
    sys.exit(main())
