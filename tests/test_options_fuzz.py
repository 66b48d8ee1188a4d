"""Issue 11 item 27: any value of any option gives a result, or one line and exit 2; never a traceback."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import kinds
from convcalc.__main__ import main, option_key
from convcalc.lint import RULES

SPEC = "input: 8x8x1\nlayers:\n  - {type: conv, filters: 2, size: 3}\n  - {type: pool, size: 2}\n"
LAYER_NEEDS = {
    "conv": ["--filter", "3", "-k", "2"],
    "deconv": ["--filter", "3", "-k", "2"],
    "pool": ["--filter", "2"],
    "fc": ["--units", "4"],
}
TOO_LARGE = f"PyTorch sizes are 64-bit integers, at most {2**63 - 1}"
CODES = [code for code in RULES if code not in ("spec-invalid", "spec-unreadable", "check-mismatch")]
EXTREMES = [
    "-1",
    "0",
    "1",
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    "1000000000000000000",
    "1e18",
    "1e310",
    "nan",
    "inf",
    "-inf",
    "0.5",
    "",
    "x",
    "0x10",
    "1_1",
    "\u0663",
    "9" * 5000,
    "3x3",
    "-1x3",
    "3x3x3x3x3",
    "same",
]
"""Negative, zero, 64-bit edges and beyond, floats past double, nan and inf, odd spellings, 5000 digits."""


def options(command: str) -> list[str]:
    """The longest name of every option of a command that takes a value."""
    params = main.commands[command].params
    return [max(p.opts, key=len) for p in params if isinstance(p, click.Option) and not p.is_flag]


def bases(command: str, option: str, spec: str) -> list[list[str]]:
    """Valid invocations to add the option to: for `layer`, one per layer type the option applies to."""
    extra = ["--check"] if option in ("--seed", "--max-memory") else []
    if command == "layer":
        key = {"--filter": "size", "--filters": "filters"}.get(option, option[2:].replace("-", "_"))
        names = [k.value for k in kinds.MODULES if option_key(key) in kinds.get(k).KEYS][:2] or ["conv"]
        return [["layer", "--in", "8x8x3", "--type", k, *LAYER_NEEDS.get(k, []), *extra] for k in names]
    return {
        "run": [["run", spec, *extra]],
        "lint": [["lint", spec]],
        "solve": [["solve", "--in", "7", "--out", "3"]],
        "convert": [["convert", spec]],
        "fit": [["fit", spec, "--memory", "1G"], ["fit", spec, "--macs", "1M"]],
        "diff": [["diff", spec, spec]],
    }[command]


CASES = [
    (command, option)
    for command in sorted(main.commands)
    for option in options(command)
    if command != "schema" and (command, option) not in (("convert", "--output"), ("run", "--output"))
]
"""Every option of every command; but convert's and run's --output, whose random values would be files
written where the tests run (tests/test_convert.py and tests/test_svg.py test where they write and what
they refuse)."""


def invoke(args: list[str]) -> Result:
    """Run the CLI; the result, after checking it ended the promised way."""
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exc_info)
    assert result.exit_code in (0, 1, 2), args
    assert "Traceback" not in result.output, args
    if result.exit_code == 2 and "error[spec-invalid]" not in result.stdout:  # lint reports a bad spec
        assert result.stdout == "", args
        assert len(result.stderr.splitlines()) == 1, (args, result.stderr)
    return result


def test_every_command_is_fuzzed() -> None:
    """Each command with options is in the fuzz, so a new option is fuzzed the day it is added."""
    assert {c for c, _ in CASES} == {"layer", "run", "lint", "solve", "convert", "fit", "diff"}
    assert len(CASES) >= 30


@pytest.mark.parametrize(("command", "option"), CASES)
def test_extreme_values_never_crash(command: str, option: str, tmp_path: Path) -> None:
    """Every extreme value of every option: a result (0 or 1) or one line and exit 2."""
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC)
    for base in bases(command, option, str(spec)):
        for value in EXTREMES:
            invoke([*base, option, value])


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(CASES),
    st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats().map(str),
        st.text(max_size=12),
        st.lists(st.integers(-3, 2**64), min_size=1, max_size=5).map(lambda xs: "x".join(map(str, xs))),
    ),
)
def test_random_values_never_crash(case: tuple[str, str], value: str) -> None:
    """Random integers, floats, text and shapes for a random option: never a traceback."""
    command, option = case
    for base in bases(command, option, "specs/cs231n.yaml"):
        invoke([*base, option, value])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "specs/cs231n.yaml", "--check", "--seed", "-1"],
            "convcalc run: error: Invalid value for '--seed': -1 is not in the range x>=0.",
        ),
        (
            ["layer", "--in", "8x8x3", "--filter", "3", "--check", "--seed", "-5"],
            "convcalc layer: error: Invalid value for '--seed': -5 is not in the range x>=0.",
        ),
        (
            ["run", "specs/cs231n.yaml", "--batch", "1e310"],
            "convcalc run: error: Invalid value for '--batch': '1e310' is not a valid integer range.",
        ),
        (
            ["run", "specs/cs231n.yaml", "--batch", str(2**64)],
            f"convcalc run: error: Invalid value for '--batch': {2**64} is too large: {TOO_LARGE}",
        ),
        (
            ["solve", "--in", "7", "--out", "3", "--dilation", "1e18"],
            "convcalc solve: error: Invalid value for '--dilation': '1e18' is not a valid integer range.",
        ),
        (
            ["solve", "--in", "7", "--out", "3", "--dilation", str(10**18)],
            "convcalc solve: error: the search is too broad: 55,000,000,000,000,000,011 filter and stride "
            "pairs to try (more than 200,000); give --stride",
        ),
        (
            ["solve", "--in", str(2**64), "--out", "same"],
            f"convcalc solve: error: Invalid value for '--in': {2**64} is too large: {TOO_LARGE}",
        ),
        (
            ["layer", "--in", "8x8x3", "--filter", "3", "-k", str(2**64)],
            f"convcalc layer: error: Invalid value for '-k' / '--filters': {2**64} is too large: {TOO_LARGE}",
        ),
        (
            ["lint", "specs", "--select", "a\x1b[2J\nb"],
            "convcalc lint: error: Invalid value for '--select': unknown rule code a\\x1b[2J\\nb (expected: "
            + ", ".join(CODES)
            + "; spec-invalid and spec-unreadable always fail and check-mismatch needs run --check)",
        ),
        (
            ["run", "specs/cs231n.yaml", "--batch", "9" * 5000],
            "convcalc run: error: Invalid value for '--batch': '"
            + "9" * 99
            + "..."
            + "9" * 39
            + "' is not a valid integer range.",
        ),
        (
            ["layer", "--in", "8x8x3", "--type", "dropout", "-p", "nan"],
            "convcalc layer: error: Invalid value for '-p' / '--p': nan is not in the range 0<=x<=1.",
        ),
    ],
)
def test_bad_values_are_one_line(args: list[str], message: str) -> None:
    """The issue's cases and their siblings, word for word, with exit 2."""
    result = invoke(args)
    assert (result.exit_code, result.stderr) == (
        2,
        f"{message[:-1] if message.endswith('.') else message}"
        f" (see '{' '.join(['convcalc', args[0]])} --help')\n",
    )
