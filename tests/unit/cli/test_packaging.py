"""Issue 8: packaging metadata without setuptools deprecations; ``make run`` installs only the
runtime dependencies (the dev extras cost most of a fresh install)."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_license_is_an_spdx_expression_for_a_setuptools_that_reads_it() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"  # a table is deprecated by setuptools >= 77
    assert not any(c.startswith("License ::") for c in meta["project"].get("classifiers", []))
    assert "setuptools>=77" in meta["build-system"]["requires"]  # first version to read SPDX strings


def _dry_run(target: str) -> list[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if "pip install" in line]


def test_make_run_installs_the_runtime_dependencies_only() -> None:
    installs = _dry_run("run")
    assert installs and all("[dev]" not in line for line in installs), installs
    assert any("-c requirements.lock -e ." in line for line in installs)


def test_make_test_installs_the_dev_extras_from_the_lock() -> None:
    installs = _dry_run("test")
    assert any("-c requirements.lock -e \".[dev]\"" in line for line in installs), installs
