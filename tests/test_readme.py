"""Every console example in the README is run and must print exactly what the README shows."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"```console\n\$ (?P<command>[^\n]*)\n(?P<output>.*?)```", re.DOTALL)


def examples() -> list[tuple[str, str]]:
    """(command, output) for each console block."""
    return [(m["command"], m["output"]) for m in BLOCK.finditer(README.read_text())]


def run(command: str) -> str:
    """What the command prints, stdout and stderr together, from the repository root."""
    argv = shlex.split(command)
    assert argv[0] == "convcalc"
    result = CliRunner().invoke(main, argv[1:], prog_name="convcalc", env={"NO_COLOR": "1"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


def test_readme_has_examples() -> None:
    commands = [c for c, _ in examples()]
    assert len(commands) >= 4
    assert any(c.startswith("convcalc layer") for c in commands)
    assert any(c.startswith("convcalc run") for c in commands)


@pytest.mark.parametrize(("command", "shown"), examples(), ids=[c for c, _ in examples()])
def test_example_output_is_real(
    command: str, shown: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    actual = run(command)
    if update_golden:
        text = README.read_text()
        README.write_text(text.replace(f"$ {command}\n{shown}```", f"$ {command}\n{actual}```", 1))
        return
    assert actual == shown


def test_python_examples() -> None:
    failures, tried = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried >= 3
    assert failures == 0


def test_setup_commands_match_ci() -> None:
    text = README.read_text()
    assert "pip install . && convcalc run specs/vgg16.yaml" in text
    test_command = "pip install '.[test]' && python -m pytest"
    assert test_command in text
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_rule_table_lists_every_code() -> None:
    from convcalc.lint import RULES

    text = README.read_text()
    assert [code for code in RULES if f"| `{code}` |" not in text] == []
