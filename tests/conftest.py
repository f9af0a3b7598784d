"""Shared fixtures: every test gets its own data directory, a key file made on first use (no
hard-coded keys) and real SQLCipher files with the real migrations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOGHUB = REPO.parent / "shared" / "corpus" / "loghub"
if not LOGHUB.is_dir():
    LOGHUB = Path("/work/shared/corpus/loghub")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """No test sees the developer's data directory or key."""
    monkeypatch.delenv("TFTSR_DB_KEY", raising=False)
    monkeypatch.delenv("TFTSR_NEW_DB_KEY", raising=False)
    monkeypatch.setenv("TFTSR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    yield
    from tftsr_kernel.workbench import close_all

    close_all()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def wb(data_dir):
    import tftsr_kernel

    w = tftsr_kernel.open(data_dir)
    yield w
    w.close()


@pytest.fixture
def roles(wb):
    """Three project users, one per role, as signed-in actors: ``ada, ana, vic = roles``
    (admin, analyst, viewer)."""
    for name, role in (("ada", "admin"), ("ana", "analyst"), ("vic", "viewer")):
        wb.team.create_user(name, role)
    return tuple(wb.team.actor_for(n, "session") for n in ("ada", "ana", "vic"))


@pytest.fixture
def issue(wb):
    return wb.issues.create_issue("Checkout latency", "p99 went from 200ms to 4s", "high", "application")


class CliResult:
    def __init__(self, code, out: bytes, err: str):
        self.code, self.stdout_bytes, self.stderr = code, out, err

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def cli(capsysbinary):
    """Run the CLI in this process (fast); returns exit code, stdout bytes and stderr text."""
    from tftsr_kernel.cli import main

    def run(*argv) -> CliResult:
        code = main([str(a) for a in argv])
        cap = capsysbinary.readouterr()
        return CliResult(code, cap.out, cap.err.decode("utf-8", "replace"))

    return run


@pytest.fixture
def tftsr_proc():
    """Run the real ``tftsr`` console script in a subprocess."""

    def run(*argv, env=None, input=None, timeout=60) -> CliResult:
        exe = Path(sys.executable).with_name("tftsr")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tftsr_kernel.cli"]
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = subprocess.run(cmd + [str(a) for a in argv], capture_output=True, env=full_env, input=input,
                           timeout=timeout)
        return CliResult(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))

    return run


def loghub_logs() -> list[Path]:
    return sorted(LOGHUB.glob("*/*_2k.log"))
