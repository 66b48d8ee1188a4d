"""`convcalc example`, `run --help` and shell completion (issue 11, item 17)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.lint import lint

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent


def test_example_lints_clean_with_strict(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["example"])
    assert result.exit_code == 0
    spec = tmp_path / "net.yaml"
    spec.write_text(result.stdout)
    report = lint([str(spec)])
    assert (report.invalid, report.findings) == ((), ())
    assert report.exit_code(strict=True) == 0
    data = yaml.safe_load(result.stdout)
    assert data["expect"] == {"output": 10, "params": 421706, "macs": 4241152}
    kinds = {layer["type"] for layer in data["layers"]}
    assert {"conv", "bn", "act", "pool", "flatten", "dropout", "fc"} <= kinds


def test_example_is_commented() -> None:
    text = CliRunner().invoke(main, ["example"]).stdout
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 8
    assert "convcalc schema" in text


def test_run_help_points_to_the_format() -> None:
    text = CliRunner().invoke(main, ["run", "--help"]).stdout
    flat = " ".join(text.split())
    assert "'convcalc example' prints a commented one" in flat
    assert "'convcalc schema' the JSON Schema" in flat
    assert '"The spec format"' in flat
    assert "## The spec format" in README


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_is_documented_and_works(shell: str) -> None:
    line = re.search(rf"^.*_CONVCALC_COMPLETE={shell}_source convcalc.*$", README, re.MULTILINE)
    assert line, f"no {shell} line in the README"
    result = CliRunner().invoke(main, [], prog_name="convcalc", env={"_CONVCALC_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0
    assert f"_CONVCALC_COMPLETE={shell}_complete" in result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_and_options() -> None:
    if not (BIN / "convcalc").exists():
        pytest.skip("the convcalc script is not installed next to this python")
    script = (
        'eval "$(_CONVCALC_COMPLETE=bash_source convcalc)"\n'
        "COMPREPLY=(); COMP_WORDS=(convcalc ex); COMP_CWORD=1; _convcalc_completion convcalc; "
        'echo "${COMPREPLY[*]}"\n'
        "COMPREPLY=(); COMP_WORDS=(convcalc lint --for); COMP_CWORD=2; _convcalc_completion convcalc; "
        'echo "${COMPREPLY[*]}"\n'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.splitlines() == ["example", "--format"]
