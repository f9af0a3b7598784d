"""The CLI contract: --json prints one JSON document; exit codes 0/1/2; one-line errors; docs cover it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tftsr_kernel.cli import build_parser, _load_extensions

README = Path(__file__).resolve().parents[1] / "README.md"


def _all_commands() -> list[str]:
    _load_extensions()
    parser = build_parser()
    found = []

    def walk(p, prefix):
        for action in p._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                for name, sp in action.choices.items():
                    sub = [a for a in sp._actions if a.__class__.__name__ == "_SubParsersAction"]
                    if sub:
                        walk(sp, prefix + [name])
                    else:
                        found.append(" ".join(prefix + [name]))

    walk(parser, [])
    return found


def test_readme_documents_every_command():
    text = README.read_text()
    missing = [c for c in _all_commands() if f"tftsr {c}" not in text]
    assert not missing, f"README does not mention: {missing}"


def test_readme_documents_every_setting_and_env_var():
    from tftsr_kernel.settings import SETTINGS

    text = README.read_text()
    missing = [k for k in SETTINGS if f"`{k}`" not in text]
    assert not missing, f"README does not document settings: {missing}"
    for var in ("TFTSR_DATA_DIR", "TFTSR_DB_KEY", "TFTSR_NEW_DB_KEY"):
        assert var in text


def test_every_command_has_json_flag():
    _load_extensions()
    for cmd in _all_commands():
        r_help = build_parser()
        # every leaf parser accepts --json (parse would fail with exit 2 otherwise)
        assert "--json" in _leaf(r_help, cmd.split()).format_help(), cmd


def _leaf(parser, names):
    p = parser
    for n in names:
        sub = next(a for a in p._actions if a.__class__.__name__ == "_SubParsersAction")
        p = sub.choices[n]
    return p


def test_json_output_is_one_document_for_a_session(cli, tmp_path):
    steps = [["init"], ["demo"], ["issue", "create", "--title", "<b>t</b>", "--severity", "low"],
             ["issue", "list"], ["issue", "search", "checkout"], ["log", "list"], ["image", "list"],
             ["audit", "--limit", "5"], ["verify"], ["settings", "show"]]
    for argv in steps:
        r = cli(*argv, "--json")
        assert r.code == 0, (argv, r.stderr)
        json.loads(r.stdout)  # exactly one document (raises on trailing data)
    issue_id = cli("issue", "list", "--json").json[0]["id"]
    for argv in (["issue", "show", issue_id], ["timeline", issue_id],
                 ["issue", "update", issue_id, "--status", "investigating"]):
        r = cli(*argv, "--json")
        assert r.code == 0, (argv, r.stderr)
        json.loads(r.stdout)
    assert cli("issue", "show", issue_id, "--json").json["issue"]["status"] == "investigating"
    assert cli("issue", "delete", issue_id, "--json").json == {"deleted": issue_id}


@pytest.mark.parametrize("argv,code", [
    (["issue", "show", "missing"], 1),
    (["issue", "create"], 2),                     # missing --title
    (["issue", "list", "--limit", "abc"], 2),
    (["no-such-command"], 2),
    (["issue", "update", "x"], 2),                # nothing to change
    (["log", "cat", "missing"], 1),
    (["image", "delete", "missing"], 1),
    (["settings", "set", "nope", "1"], 1),
])
def test_errors_exit_codes_and_one_line(cli, argv, code):
    r = cli(*argv, "--json")
    assert r.code == code, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tftsr: error:") and "Traceback" not in r.stderr
    assert "error" in r.json


def test_real_console_script_contract(tftsr_proc):
    r = tftsr_proc("issue", "create", "--title", "from a subprocess", "--json")
    assert r.code == 0 and r.json["title"] == "from a subprocess" and r.stderr == ""
    r = tftsr_proc("issue", "show", "nope")
    assert r.code == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    r = tftsr_proc("--help")
    assert r.code == 0 and "tftsr" in r.stdout


def test_each_command_word_builds_only_its_own_group():
    """``tftsr issue ...`` builds only the issues group's parser (start-up); the map it uses
    must name the group that really registers each word, and every word must be in it."""
    from tftsr_kernel.cli import COMMAND_GROUPS, GROUPS, _hooks, _parser_for

    def words(parser):
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        return set(sub.choices)

    assert set(COMMAND_GROUPS) == words(build_parser())
    for entry in GROUPS:
        assert words(build_parser(_hooks([entry]))) == {w for w, e in COMMAND_GROUPS.items() if e == entry}, entry
    assert words(_parser_for(["--json", "issue", "list"])) == {"issue"}
    assert words(_parser_for(["--data-dir", "x", "site-command", "list"])) == {"policy", "kubeconfig", "shell",
                                                                                "site-command", "sudo"}
    assert words(_parser_for(["no-such-command"])) == set(COMMAND_GROUPS)   # its error lists every command
    assert words(_parser_for(["--help"])) == set(COMMAND_GROUPS)
