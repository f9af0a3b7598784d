"""Arguments that are not valid UTF-8, through the real ``tftsr`` console script.

On POSIX Python decodes argv with surrogateescape, so the byte 0xff arrives as '\\udcff'. Every
leaf command of the parser tree gets such an argument in each of its value slots in turn: it
must exit 1 or 2 with one ``tftsr: error:`` line, never an internal error or a traceback. Paths
with such bytes still work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tftsr_kernel.cli import build_parser

pytestmark = pytest.mark.skipif(os.name != "posix", reason="argv bytes are a POSIX matter")

BAD = "bad\udcffvalue"  # the argv bytes b"bad\xffvalue"


def _console_script() -> list[str]:
    exe = Path(sys.executable).with_name("tftsr")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tftsr_kernel.cli"]


def _leaves():
    """(command words, leaf parser) for every leaf command."""
    out = []

    def walk(p, prefix):
        for action in p._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                for name, sp in action.choices.items():
                    if any(a.__class__.__name__ == "_SubParsersAction" for a in sp._actions):
                        walk(sp, prefix + [name])
                    else:
                        out.append((prefix + [name], sp))

    walk(build_parser(), [])
    return out


def _placeholder(action) -> str:
    if action.choices:
        return str(list(action.choices)[0])
    if action.type is int:
        return "1"
    if action.type is float:
        return "0.5"
    return "x"


def _cases(bad_path: str):
    """One argv per (leaf, value slot): required arguments get valid placeholders, the slot under
    test gets the invalid bytes (a path slot: a path below a regular file, so it cannot work)."""
    cases = []
    for words, leaf in _leaves():
        slots = [a for a in leaf._actions if a.nargs != 0 and a.dest != "help"]
        for slot in slots:
            bad = bad_path if getattr(slot, "tftsr_path", False) else BAD
            argv = list(words)
            for a in leaf._actions:
                n = a.nargs if isinstance(a.nargs, int) and a.nargs > 1 else 1   # e.g. --resource SERVER URI
                if a.option_strings:
                    if a is slot:
                        argv += [a.option_strings[-1]] + [bad] * n
                    elif a.required:
                        argv += [a.option_strings[-1]] + [_placeholder(a)] * n
                elif a.nargs != 0 and a.dest != "help":
                    if a is slot:
                        argv += [bad] * n
                    elif a.nargs != "?":
                        argv += [_placeholder(a)] * n
            cases.append((" ".join(words), _action_label(slot), bad is bad_path, argv))
    return cases


def _action_label(action) -> str:
    return action.option_strings[-1] if action.option_strings else action.dest


@pytest.mark.slow
def test_every_command_refuses_or_handles_invalid_utf8_in_every_slot(tmp_path):
    regular = tmp_path / "a-regular-file"
    regular.write_text("x")
    bad_path = str(regular / "sub\udcffdir" / "f\udcff.log")
    cases = _cases(bad_path)
    assert len(cases) > 100  # the walk found the tree
    env = dict(os.environ, TFTSR_DATA_DIR=str(tmp_path / "data"), COLUMNS="100")
    env.pop("TFTSR_DEBUG", None)
    script = _console_script()

    def run(i_case):
        i, (cmd, slot, is_path, argv) = i_case
        as_json = i % 2 == 1  # half the cases in --json mode
        full = script + argv + (["--json"] if as_json else [])
        p = subprocess.run(full, capture_output=True, env=env, cwd=tmp_path, timeout=120,
                           stdin=subprocess.DEVNULL)
        return cmd, slot, is_path, as_json, p

    problems = []
    with ThreadPoolExecutor(2) as pool:
        for cmd, slot, is_path, as_json, p in pool.map(run, enumerate(cases)):
            err = p.stderr.decode("utf-8", "replace")
            where = f"tftsr {cmd} [{slot}]{' --json' if as_json else ''}"
            lines = [ln for ln in err.splitlines() if ln.strip()]
            if p.returncode not in (1, 2):
                problems.append(f"{where}: exit {p.returncode}")
            elif "Traceback" in err or "internal error" in err:
                problems.append(f"{where}: {err.strip()[-300:]}")
            elif len(lines) != 1 or not lines[0].startswith("tftsr: error: "):
                problems.append(f"{where}: stderr is not one 'tftsr: error:' line: {err!r}")
            elif as_json:
                try:
                    doc = json.loads(p.stdout)
                except ValueError:
                    problems.append(f"{where}: stdout is not one JSON document: {p.stdout[:200]!r}")
                else:
                    if "error" not in doc:
                        problems.append(f"{where}: no error document: {doc!r}")
            if not is_path and (p.returncode != 2 or not ("not valid UTF-8" in err or "invalid" in err)):
                # a text argument: refused as usage (or by argparse: invalid choice / int value)
                problems.append(f"{where}: not refused as a usage error naming it: {err!r}")
    assert not problems, "\n".join(problems)


def test_text_argument_error_names_the_option(tmp_path, tftsr_proc):
    r = tftsr_proc("issue", "create", "--title", BAD)
    assert r.code == 2
    assert r.stderr.strip() == ("tftsr: error: tftsr issue create: argument --title: not valid UTF-8 text "
                                "(the byte 0xff at character 4); give it in UTF-8")
    r = tftsr_proc("issue", "show", BAD, "--json")
    assert r.code == 2 and "argument id: not valid UTF-8" in r.stderr
    assert r.json["error"]["type"] == "UsageError"
    r = tftsr_proc("--data-dir", str(tmp_path / "d\udcff"), "init")
    assert r.code == 2 and "argument --data-dir: not valid UTF-8" in r.stderr
    assert not list(tmp_path.iterdir()), "nothing was created"


@pytest.fixture
def odd_dir(tmp_path) -> Path:
    d = tmp_path / "in\udcffcoming"  # a directory whose name is not UTF-8
    d.mkdir()
    return d


def test_log_upload_from_a_path_with_invalid_utf8_bytes(tftsr_proc, odd_dir, tmp_path):
    log = odd_dir / "app\udcfe.log"
    log.write_bytes(b"2026-11-30 10:00:01 ERROR db timeout for alice@example.com\n")
    assert os.fsencode(str(log)).endswith(b"app\xfe.log")
    issue = tftsr_proc("issue", "create", "--title", "odd names", "--json").json
    r = tftsr_proc("log", "upload", issue["id"], str(log), "--json")
    assert r.code == 0, r.stderr
    stored = r.json
    assert stored["file_name"] == "app\ufffd.log"  # valid UTF-8: the byte became U+FFFD
    assert stored["file_path"] == os.path.realpath(str(log)).replace("\udcff", "\ufffd").replace("\udcfe", "\ufffd")
    assert stored["file_size"] == log.stat().st_size
    r = tftsr_proc("log", "upload", issue["id"], str(log))  # the human line prints too
    assert r.code == 0 and "uploaded app\ufffd.log" in r.stdout, r.stderr
    listed = tftsr_proc("log", "list", "--json").json
    assert [x["file_name"] for x in listed] == ["app\ufffd.log", "app\ufffd.log"]
    assert tftsr_proc("log", "cat", stored["id"]).stdout_bytes == log.read_bytes()
    review = tftsr_proc("pii", "review", stored["id"], "--json").json
    assert review["by_type"].get("Email") == 1
    timeline = tftsr_proc("timeline", issue["id"], "--json").json
    assert any("app\ufffd.log" in e["description"] for e in timeline["events"])
    assert tftsr_proc("verify").code == 0
    # the same file through a symbolic link is refused, as a directory or a missing file is
    link = odd_dir / "link\udcff.log"
    link.symlink_to(log)
    for path, code, words in ((link, 1, "symbolic link"), (odd_dir, 1, "not a regular file"),
                              (odd_dir / "gone\udcff.log", 1, "not found")):
        r = tftsr_proc("log", "upload", issue["id"], str(path))
        assert r.code == code and words in r.stderr and r.stderr.count("\n") == 1, r.stderr
        assert "\ufffd" in r.stderr  # the path is shown, with the bad byte replaced


def test_other_path_arguments_with_invalid_utf8_bytes(tftsr_proc, odd_dir, tmp_path):
    text = odd_dir / "notes\udcff.log"
    text.write_text("user bob@example.org logged in from 10.1.2.3\n")
    r = tftsr_proc("pii", "scan", str(text), "--json")
    assert r.code == 0, r.stderr
    assert {s["type"] for s in r.json["spans"]} == {"Email", "IPv4"}
    r = tftsr_proc("pii", "redact", str(text))
    assert r.code == 0 and "bob@example.org" not in r.stdout, r.stderr

    png = odd_dir / "shot\udcff.png"
    png.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                                  "0000000d4944415478da63f8cfc0f01f0005000201a5e1e4a50000000049454e44ae426082"))
    issue = tftsr_proc("issue", "create", "--title", "paths", "--json").json
    r = tftsr_proc("image", "add", issue["id"], str(png), "--json")
    assert r.code == 0, r.stderr
    assert r.json["file_name"] == "shot\ufffd.png"
    assert r.json["file_path"].endswith("in\ufffdcoming/shot\ufffd.png")
    assert tftsr_proc("image", "list", "--json").json[0]["file_name"] == "shot\ufffd.png"

    r = tftsr_proc("backup", str(odd_dir), "--json")  # an existing directory with such a name
    assert r.code == 0, r.stderr
    made = [p for p in odd_dir.iterdir() if p.name.startswith("tftsr-backup-")]
    assert len(made) == 1 and made[0].stat().st_size > 0
    dest = odd_dir / "copy\udcff.db"
    r = tftsr_proc("backup", str(dest))
    assert r.code == 0 and dest.exists(), r.stderr
    assert "copy\ufffd.db" in r.stdout
    r = tftsr_proc("backup", str(dest))  # never overwritten
    assert r.code == 1 and "already exists" in r.stderr
    audit = tftsr_proc("audit", "--action", "backup", "--json").json
    assert {a["entity_id"] for a in audit} == {made[0].name, "copy\ufffd.db"}

    doc = tftsr_proc("rca", issue["id"], "--json").json
    md = odd_dir / "edit\udcff.md"
    md.write_text("# RCA\n\nThe pool was too small.\n")
    r = tftsr_proc("doc", "edit", doc["id"], str(md), "--json")
    assert r.code == 0 and r.json["version"] == 2, r.stderr
    r = tftsr_proc("doc", "export", doc["id"], "--format", "md", "-o", str(odd_dir), "--json")
    assert r.code == 0, r.stderr
    out = Path(odd_dir / Path(r.json["path"].replace("\ufffd", "\udcff")).name)
    assert out.exists() and "The pool was too small." in out.read_text()
