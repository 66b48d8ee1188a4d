"""Start-up stays lean: the package loads its library API lazily and commands load only what they use.

Timing lives in benchmarks/bench_core.py; these tests pin the imports that the timings depend on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import convcalc
import convcalc.api

ROOT = Path(__file__).resolve().parent.parent
LAYER = ["layer", "--in", "32x32x3", "--filter", "5", "--pad", "2", "-k", "10"]


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60, cwd=ROOT
    )
    return set(proc.stdout.split())


def test_importing_the_package_loads_only_its_errors() -> None:
    loaded = loaded_after("import convcalc")
    assert {m for m in loaded if m.startswith("convcalc")} == {"convcalc", "convcalc.errors"}


def test_the_library_api_is_there_on_first_use() -> None:
    assert convcalc.analyze is convcalc.api.analyze
    assert convcalc.OptionError is convcalc.api.OptionError
    assert issubclass(convcalc.OptionError, convcalc.ConvcalcError)
    from convcalc import OptionError, analyze

    assert (analyze, OptionError) == (convcalc.api.analyze, convcalc.api.OptionError)
    assert set(convcalc.__all__) <= set(dir(convcalc))
    with pytest.raises(AttributeError, match="module 'convcalc' has no attribute 'nothing'"):
        convcalc.nothing  # type: ignore[attr-defined]  # noqa: B018


def _command(args: list[str]) -> str:
    return (
        "import sys, io\n"
        "from convcalc.__main__ import main\n"
        "sys.stdout = io.StringIO()\n"
        "try:\n"
        f"    main({args!r}, prog_name='convcalc')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "sys.stdout = sys.__stdout__\n"
    )


ASKED = {
    "convcalc.conventions",
    "convcalc.budget",
    "convcalc.sizes",
    "convcalc.fit",
    "convcalc.diff",
    "convcalc.fold",
}
"""Modules only an option or a command asks for: never loaded by a plain layer or run."""


@pytest.mark.parametrize(
    ("args", "unused"),
    [
        (LAYER, {"convcalc.api", "convcalc.loader", "yaml", "pathlib", "numpy", "rich", *ASKED}),
        (["run", "specs/vgg16.yaml"], {"convcalc.api", "pathlib", "numpy", "rich", *ASKED}),
        (
            ["run", "specs/vgg16.yaml", "--format", "json"],
            {"convcalc.api", "pathlib", "numpy", "rich", *ASKED},
        ),
    ],
    ids=["layer", "run-table", "run-json"],
)
def test_commands_load_only_what_they_use(args: list[str], unused: set[str]) -> None:
    assert loaded_after(_command(args)) & unused == set()
