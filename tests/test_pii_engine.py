"""The PII engine fails closed and keeps its database cache honest.

- A cached pattern database that is corrupt (garbage, a flipped byte, truncated) is rebuilt
  and rewritten; detection is unchanged.
- When the engine cannot run (hyperscan cannot be imported, a rule handler raises), every
  egress call refuses with EgressBlockedError and nothing reaches the provider.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.servers import FakeProviderServer
from tftsr_kernel import pii
from tftsr_kernel.errors import EgressBlockedError, PiiError
from tftsr_kernel.pii import _engine
from tftsr_kernel.pii.rules import RULES, Rule

REPO = Path(__file__).resolve().parents[1]
TEXT = "login from 10.0.0.7 as bob@example.com password=hunter2&x"


def _cache_files(d: Path) -> list[Path]:
    return sorted(d.glob("pii-*.hsdb"))


@pytest.mark.parametrize("damage", ["garbage", "flip", "truncate", "empty"])
def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("TFTSR_CACHE_DIR", str(tmp_path / "cache"))
    expected = _engine.Engine().detect(TEXT, None)
    (path,) = _cache_files(tmp_path / "cache")
    good = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(os.urandom(len(good)))
    elif damage == "flip":
        data = bytearray(good)
        data[len(data) // 2] ^= 0x40
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(good[: len(good) // 3])
    else:
        path.write_bytes(b"")
    assert _engine.Engine().detect(TEXT, None) == expected
    assert path.read_bytes() == good  # rewritten whole
    assert _engine._unpack(path.read_bytes()) is not None


def test_cache_write_failure_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("TFTSR_CACHE_DIR", str(blocker / "cache"))
    assert [s.type for s in _engine.Engine().detect(TEXT, None)] == ["IPv4", "Email", "Password"]


def _raising_handler(text, hits, out):
    raise ValueError("a value from the text: hunter2")


def test_rule_handler_raising_blocks():
    rules = RULES + (Rule(rb"password", 0, _raising_handler, ("Password",)),)
    eng = _engine.Engine(rules=rules)
    with pytest.raises(EgressBlockedError) as ei:
        eng.detect(TEXT, None)
    msg = str(ei.value)
    assert msg.startswith("nothing was sent: the PII engine failed")
    assert "_raising_handler" in msg and "ValueError" in msg
    assert "hunter2" not in msg  # the error names no text
    assert isinstance(ei.value, PiiError)


@pytest.fixture
def no_hyperscan(tmp_path) -> dict:
    """Environment for a subprocess in which ``import hyperscan`` fails."""
    shadow = tmp_path / "shadow"
    (shadow / "hyperscan").mkdir(parents=True)
    (shadow / "hyperscan" / "__init__.py").write_text(
        'raise ImportError("libhs.so.5: cannot open shared object file")\n'
    )
    return {"PYTHONPATH": os.pathsep.join([str(shadow), str(REPO)]), "TFTSR_CACHE_DIR": str(tmp_path / "c")}


def _run(env: dict, *argv, timeout=60) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.update(env)
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=full, timeout=timeout)


def test_missing_hyperscan_blocks_every_egress_call(wb, issue, cli, data_dir, no_hyperscan):
    log = wb.attachments.upload_log_file_by_content(issue.id, "app.log", TEXT + "\n")
    with FakeProviderServer("openai", replies=["ok"]) as srv:
        assert cli("provider", "add", "local", "--type", "openai", "--url", srv.url, "--model", "m").code == 0
        wb.close()
        env = dict(no_hyperscan, TFTSR_DATA_DIR=str(data_dir))
        chat = _run(env, "-m", "tftsr_kernel.cli", "chat", issue.id, f"is {TEXT} related?", "--attach", log.id)
        script = (
            "import tftsr_kernel, sys\n"
            "from tftsr_kernel.errors import EgressBlockedError\n"
            f"w = tftsr_kernel.open({str(data_dir)!r})\n"
            "for call in (lambda: w.pii.redact_for_egress(None, 'x 10.0.0.1'),\n"
            f"             lambda: w.pii.egress_log({issue.id!r}, {log.id!r})):\n"
            "    try:\n"
            "        call()\n"
            "    except EgressBlockedError as e:\n"
            "        print('blocked:', e)\n"
            "    else:\n"
            "        print('SENT')\n"
        )
        kernel = _run(env, "-c", script)
        assert srv.requests == []  # nothing reached the provider
    assert chat.returncode != 0, chat.stdout
    assert "nothing was sent: the PII engine failed (hyperscan cannot be imported" in chat.stderr, chat.stderr
    assert "Traceback" not in chat.stderr
    assert kernel.stdout.count("blocked: nothing was sent") == 2, kernel.stdout + kernel.stderr
    assert "SENT" not in kernel.stdout


def test_missing_hyperscan_local_redaction_refuses(tmp_path, no_hyperscan):
    src = tmp_path / "a.log"
    src.write_text(TEXT + "\n")
    r = _run(no_hyperscan, "-m", "tftsr_kernel.pii", str(src))
    assert r.returncode == 1 and r.stdout == ""
    assert "nothing was sent: the PII engine failed" in r.stderr and "Traceback" not in r.stderr


def test_detect_after_engine_recovers_is_unaffected():
    """An engine that failed to build is not cached: the next call builds it again."""
    assert [s.type for s in pii.detect(TEXT)] == ["IPv4", "Email", "Password"]


# --- custom patterns are validated where they come in --------------------------------------------
@pytest.mark.parametrize("pattern, why", [(r"(?<=ticket )INC-\d+", "look-behind"), (r"(\w)\1", "back-reference")])
def test_setting_refuses_patterns_the_engine_cannot_run(wb, pattern, why):
    from tftsr_kernel.errors import ValidationError

    with pytest.raises(ValidationError, match=why):
        wb.settings.update_settings({"pii_custom_patterns": [{"name": "Ticket", "pattern": pattern}]})
    assert wb.settings.get("pii_custom_patterns") == []  # nothing stored
    stored = wb.settings.update_settings({"pii_custom_patterns": [{"name": "Ticket", "pattern": r"INC-\d{6}"}]})
    assert stored["pii_custom_patterns"] == [{"name": "Ticket", "pattern": r"INC-\d{6}"}]


def test_cli_refuses_patterns_the_engine_cannot_run(cli, tmp_path):
    src = tmp_path / "t.log"
    src.write_text("ticket INC-123456 from 10.0.0.1\n")
    r = cli("pii", "redact", "--pattern", r"T=(?<=ticket )INC-\d+", src)
    assert r.code != 0 and r.stdout == ""
    assert "cannot be used: it uses a look-behind" in r.stderr and "Traceback" not in r.stderr
    r = cli("pii", "redact", "--pattern", "Evil=(a+|é)+$", src)  # linear time: runs at once
    assert r.code == 0 and "[IPv4_1]" in r.stdout
    r = cli("pii", "redact", "--pattern", r"T=INC-\d+", src)
    assert r.code == 0 and r.stdout == "ticket [T_1] from [IPv4_1]\n"
