"""The wheel carries migrations/ and notebooks/, and an installed copy works outside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return next(out.glob("tftsr_workbench-*.whl"))


def test_wheel_contains_packages_migrations_and_notebooks(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    migrations = sorted(n for n in names if n.startswith("tftsr_kernel/migrations/") and n.endswith(".sql"))
    assert len(migrations) == len(list((REPO / "migrations").glob("*.sql")))
    notebooks = [n for n in names if n.startswith("tftsr_kernel/notebooks/") and n.endswith(".ipynb")]
    assert len(notebooks) == len(list((REPO / "notebooks").glob("*.ipynb"))) > 0
    assert "tftsr_kernel/data/checkout-service.log" in names
    assert any(n.startswith("widgets/") for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)
    assert not any("loghub" in n.lower() or n.endswith("_2k.log") for n in names), "never ship loghub"


def test_installed_copy_works_outside_the_repository(wheel, tmp_path):
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target), TFTSR_DATA_DIR=str(tmp_path / "d"))
    code = ("import tftsr_kernel, sys; from tftsr_kernel import paths; "
            "assert str(paths.migrations_dir()).startswith(sys.argv[1]), paths.migrations_dir(); "
            "assert str(paths.notebooks_dir()).startswith(sys.argv[1]); "
            "from tftsr_kernel.cli import main; sys.exit(main(['demo', '--json']))")
    r = subprocess.run([sys.executable, "-c", code, str(target)], cwd=work, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert '"created": true' in r.stdout
