"""The package passes ruff (lint and format) and strict mypy, so CI holds the code to the style."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "argv",
    [
        ["ruff", "check", "convcalc", "tests", "benchmarks", "tools"],
        ["ruff", "format", "--check", "convcalc", "tests", "benchmarks", "tools"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_passes(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None and not (Path(sys.executable).parent / argv[0]).exists():
        pytest.fail(f"{argv[0]} is not installed: pip install '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
