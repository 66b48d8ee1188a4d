"""`convcalc solve SPEC`: the input sizes a network takes, exact or working, in closed form where one
step describes them (issue 16, part 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from convcalc import loader, sizes
from convcalc.__main__ import main
from convcalc.sizes import Fit

ROOT = Path(__file__).resolve().parent.parent
UNET, PADDED = ROOT / "specs" / "unet.yaml", ROOT / "specs" / "unet_padded.yaml"
RESNET50 = ROOT / "specs" / "torchvision" / "resnet50.yaml"


def solved(path: Path, low: int, high: int) -> sizes.Axis:
    (axis,) = sizes.search(loader.read(path), low=low, high=high).axes
    return axis


def test_original_unet_takes_572_plus_16k() -> None:
    """Each of the four 2x2 pools needs an even input: 572 -> 568 -> 284 -> 280 -> 140 -> 136 -> 68 -> 64
    -> 32, and 556, 588 are the neighbours; 572 gives 388 and 588 gives 404 (the skips centre-cropped)."""
    axis = solved(UNET, 540, 610)
    assert axis.name == "rows and columns"
    assert axis.sizes(Fit.EXACT) == axis.sizes(Fit.WORKS) == [540, 556, 572, 588, 604]
    assert sizes.rule(axis.sizes(Fit.EXACT), 540, 610, 572) == "572 + 16k"
    outputs = {t.size: t.output for t in axis.tried}
    assert [outputs[n].dims for n in (556, 572, 588)] == [(372, 372, 2), (388, 388, 2), (404, 404, 2)]
    why = {t.size: t.why for t in axis.tried if t.fit is Fit.FAILS}
    assert why[574] == "down2.maxpool_conv.0: fractional-size"  # 570 pools to 285, less 4 is 281: odd


def test_padded_unet_takes_multiples_of_16() -> None:
    axis = solved(PADDED, 200, 300)
    assert axis.sizes(Fit.EXACT) == list(range(208, 300, 16))
    assert sizes.rule(axis.sizes(Fit.EXACT), 200, 300, 256) == "multiples of 16"
    assert {t.size: t.output for t in axis.tried}[256].dims == (256, 256, 2)


def test_resnet50_works_at_every_size_but_is_exact_at_225_plus_32k() -> None:
    """The adaptive pool takes any size; the stride-2 layers floor at 224 (112.5 in conv1), losing only
    padding, and divide exactly at 32k + 1: 225 -> 113 -> 57 -> 29 -> 15 -> 8."""
    axis = solved(RESNET50, 220, 260)
    assert axis.sizes(Fit.WORKS) == list(range(220, 261))
    assert axis.sizes(Fit.EXACT) == [225, 257]
    assert sizes.rule(axis.sizes(Fit.WORKS), 220, 260, 224) == "every size"
    assert sizes.rule(axis.sizes(Fit.EXACT), 220, 260, 224) == "225 + 32k"
    below, above = sizes.near(loader.read(RESNET50), axis, 224, Fit.EXACT)
    assert (below and below.size, above and above.size) == (193, 225)  # 193 lies outside the range


def test_a_non_square_input_varies_one_axis_at_a_time(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("input: 8x13x3\nlayers:\n  - {type: conv, filters: 4, size: [3, 5], stride: [1, 2]}\n")
    solved_ = sizes.search(loader.read(spec), low=8, high=14)
    assert [a.name for a in solved_.axes] == ["rows", "columns"]
    rows, columns = solved_.axes
    assert rows.sizes(Fit.EXACT) == list(range(8, 15))  # a 3x3 window at stride 1 is always exact
    assert columns.sizes(Fit.EXACT) == [9, 11, 13]  # (N - 5)/2 whole: odd N


@pytest.mark.parametrize(
    ("found", "low", "high", "given", "expected"),
    [
        ([5, 6, 7, 8], 5, 8, 6, "every size"),
        ([7, 8, 9, 10], 5, 10, 8, "every size from 7"),
        ([32, 64, 96], 20, 100, 64, "multiples of 32"),
        ([64, 96], 20, 100, 64, "multiples of 32, from 64"),
        ([64, 96], 40, 100, 64, "multiples of 32"),  # the range does not show whether 32 works
        ([556, 572, 588], 550, 600, 572, "572 + 16k"),
        ([556, 572, 588], 550, 600, 590, "588 + 16k"),
        ([556, 572], 550, 600, 572, None),  # 588 is missing
        ([3, 4, 6], 1, 8, 4, None),
        ([], 1, 8, 4, None),
        ([5], 1, 8, 5, None),
    ],
)
def test_rules(found: list[int], low: int, high: int, given: int, expected: str | None) -> None:
    assert sizes.rule(found, low, high, given) == expected


@given(
    step=st.integers(2, 40),
    start=st.integers(1, 200),
    count=st.integers(2, 30),
    given_=st.integers(1, 1500),
)
def test_a_rule_describes_exactly_the_sizes(step: int, start: int, count: int, given_: int) -> None:
    """Whatever rule is given for an arithmetic run of sizes, the sizes it names in the range are those."""
    found = list(range(start, start + step * count, step))
    low, high = max(1, start - step + 1), found[-1] + step - 1
    text = sizes.rule(found, low, high, given_)
    assert text is not None
    if text.startswith("multiples of"):
        named = [n for n in range(low, high + 1) if n % step == 0]
    else:
        base = int(text.split(" + ")[0])
        named = [n for n in range(low, high + 1) if (n - base) % step == 0]
    assert named == found


def test_cli_json(tmp_path: Path) -> None:
    got = CliRunner().invoke(
        main, ["solve", str(UNET), "--range", "560..590", "--near", "600", "--format", "json"]
    )
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert (data["version"], data["input"], data["range"]) == (1, [572, 572, 1], [560, 590])
    (axis,) = data["axes"]
    assert axis["exact"] == {"rule": "572 + 16k", "sizes": [572, 588]}
    assert axis["outputs"]["588"] == [404, 404, 2]
    near = {(n["fit"], n["target"]): (n["below"], n["above"]) for n in axis["nearest"]}
    assert near[("exact", 600)] == (
        {"size": 588, "output": [404, 404, 2]},
        {"size": 604, "output": [420, 420, 2]},
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--in", "7"], "--in solves one layer: with a SPEC, give --range or --near"),
        (["--range", "9..3"], "expected 1 <= LOW <= HIGH, got '9..3'"),
        (["--range", "a..b"], "expected LOW..HIGH like 400..800, got 'a..b'"),
        (["--range", "1..9000"], "the range 1..9000 has 9,000 sizes; at most 4,096 are tried"),
        (["--format", "csv"], "solve SPEC writes table or json, not csv"),
    ],
)
def test_bad_options_are_one_line(args: list[str], error: str) -> None:
    got = CliRunner().invoke(main, ["solve", str(UNET), *args])
    assert got.exit_code == 2
    assert error in got.stderr
    assert "Traceback" not in got.output


def test_one_layer_options_still_need_both_in_and_out() -> None:
    got = CliRunner().invoke(main, ["solve", "--in", "7"])
    assert got.exit_code == 2
    assert "Missing option '--out' (or give a SPEC)" in got.stderr
    none = CliRunner().invoke(main, ["solve", "--near", "5"])
    assert (none.exit_code, "--range and --near need a SPEC" in none.stderr) == (2, True)


def test_no_working_size_exits_1_and_a_bad_spec_2(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("input: 8x8x3\nlayers:\n  - {type: conv, filters: 4, size: 9}\n")
    got = CliRunner().invoke(main, ["solve", str(spec), "--range", "1..8"])
    assert got.exit_code == 1
    assert "works: none" in got.stdout
    spec.write_text("input: 8x8x3\nlayers:\n  - {type: conv, filtrs: 4}\n")
    bad = CliRunner().invoke(main, ["solve", str(spec)])
    assert bad.exit_code == 2
    assert bad.stderr.startswith(f"{spec}:3:")
