"""Issue 12: one format vocabulary; every format a command offers is written, any other is refused."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import click
import pytest

import convcalc
from convcalc import diff, fit, lint, solve
from convcalc.__main__ import main
from convcalc.formats import OFFERED, Format
from convcalc.loader import read
from convcalc.resolver import resolve
from convcalc.write import render

SPEC = Path(__file__).parent.parent / "specs" / "alexnet.yaml"


def _report(fmt: Format) -> str:
    out = io.StringIO()
    render([resolve(read(SPEC))], fmt, out)
    return out.getvalue()


def _solve(fmt: Format) -> str:
    found = solve.search(n=7, out=solve.parse_target("3"), size=None, stride=None, pad=None, dilation=1)
    return solve.render(found, fmt)


def _lint(fmt: Format) -> str:
    return lint.write(lint.lint([str(SPEC)]), fmt)


def _fit(fmt: Format) -> str:
    net = resolve(read(SPEC))
    return fit.render(fit.batches(net, memory=2**30), net, fmt)


def _diff(fmt: Format) -> str:
    side = diff.side(convcalc.analyze(SPEC))
    return diff.render(diff.diff(side, side), fmt)


WRITERS: dict[str, Callable[[Format], str]] = {
    "diff": _diff,
    "run": _report,
    "layer": _report,
    "solve": _solve,
    "lint": _lint,
    "fit": _fit,
}
"""The writer behind each command's --format."""


def test_every_command_with_a_format_is_in_the_table() -> None:
    assert isinstance(main, click.Group)
    with_format = {name for name, c in main.commands.items() if any(p.name == "fmt" for p in c.params)}
    assert with_format == set(OFFERED) == set(WRITERS)


@pytest.mark.parametrize("command", sorted(OFFERED))
def test_the_option_offers_the_table(command: str) -> None:
    assert isinstance(main, click.Group)
    (option,) = [p for p in main.commands[command].params if p.name == "fmt"]
    assert isinstance(option.type, click.Choice)
    assert list(option.type.choices) == [f.value for f in OFFERED[command]]
    assert option.default == OFFERED[command][0].value


@pytest.mark.parametrize(("command", "fmt"), [(c, f) for c in sorted(OFFERED) for f in Format])
def test_offered_formats_are_written_and_others_refused(command: str, fmt: Format) -> None:
    if fmt in OFFERED[command]:
        assert WRITERS[command](fmt)
    else:
        with pytest.raises(ValueError, match=f"does not write '{fmt.value}'"):
            WRITERS[command](fmt)
