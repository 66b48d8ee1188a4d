"""`convcalc solve`: the documented examples, brute force over the bounds, and the command line."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import arith
from convcalc.__main__ import main
from convcalc.solve import Fit, Solution, Target, parse_target, search, solutions


def _brute(
    *, n: int, out: Target, size: int | None, stride: int | None, pad: int | None, dilation: int
) -> set[tuple[int, int, int]]:
    """Every (filter, stride, pad) within the bounds that gives the target without dropping input."""
    found = set()
    for f in [size] if size is not None else range(1, 12):
        extent = dilation * (f - 1) + 1
        for s in [stride] if stride is not None else range(1, extent + 1):
            wanted = math.ceil(n / s) if out == "same" else out
            for p in [pad] if pad is not None else range(extent):
                o = arith.out_size(n=n, size=f, stride=s, pad=p, dilation=dilation)
                a = arith.axis(n=n, size=f, stride=s, pad=p, dilation=dilation)
                if o >= 1 and o == wanted and not arith.drops_input(a):
                    found.add((f, s, p))
    return found


# ---------------------------------------------------------------- the documented examples


def test_stride_3_on_7_needs_pad_1() -> None:
    found = solutions(n=7, size=3, stride=3, out=3)
    assert found == (
        Solution(size=3, stride=3, pad=1, dilation=1, out=3, kind=Fit.EXACT, exact=3.0),
        Solution(size=3, stride=3, pad=2, dilation=1, out=3, kind=Fit.FLOOR, exact=11 / 3),
    )


def test_same_at_stride_1_needs_pad_2() -> None:
    assert solutions(n=32, size=5, stride=1, out="same") == (
        Solution(size=5, stride=1, pad=2, dilation=1, out=32, kind=Fit.EXACT, exact=32.0),
    )


def test_alexnet_first_layer_has_only_floor_answers() -> None:
    found = search(n=224, out=55, size=11)
    assert not found.exact
    assert [(s.stride, s.pad, s.kind, s.exact) for s in found.solutions] == [
        (4, 2, Fit.FLOOR, 55.25),
        (4, 3, Fit.FLOOR, 55.75),
    ]
    assert dict(found.bounds) == {"filter": (11, 11), "stride": (1, 11), "pad": (0, 10), "dilation": (1, 1)}


@pytest.mark.parametrize(
    ("kwargs", "first"),
    [
        ({"n": 32, "out": 16, "size": 3, "pad": 1}, (3, 2, 1, Fit.FLOOR)),
        ({"n": 227, "out": 55, "size": 11, "pad": 0}, (11, 4, 0, Fit.EXACT)),
        ({"n": 32, "out": "same", "size": 3, "stride": 2}, (3, 2, 1, Fit.FLOOR)),
        ({"n": 33, "out": "same", "size": 3, "stride": 2}, (3, 2, 1, Fit.EXACT)),
        ({"n": 9, "out": 5, "size": 3, "dilation": 2, "stride": 1}, (3, 1, 0, Fit.EXACT)),
        ({"n": 10, "out": 4, "size": 3, "stride": 3, "pad": 1}, (3, 3, 1, Fit.EXACT)),
    ],
)
def test_first_solution(kwargs: dict[str, Any], first: tuple[int, int, int, Fit]) -> None:
    s = solutions(**kwargs)[0]
    assert (s.size, s.stride, s.pad, s.kind) == first


def test_a_given_setting_that_drops_input_is_no_solution() -> None:
    assert solutions(n=7, size=3, stride=3, pad=0, out=2) == ()


def test_filters_1_to_11_are_tried_when_none_is_given() -> None:
    found = search(n=32, out=16)
    assert {s.size for s in found.solutions} == set(range(2, 12))
    assert found.bounds["filter"] == (1, 11)


@pytest.mark.parametrize(("text", "value"), [("3", 3), ("same", "same"), ("SAME", "same"), (" 7 ", 7)])
def test_parse_target(text: str, value: Target) -> None:
    assert parse_target(text) == value


@pytest.mark.parametrize("text", ["0", "-1", "x", "", "3.5", "\u0661"])
def test_parse_target_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="positive integer or 'same'"):
        parse_target(text)


# ---------------------------------------------------------------- against brute force

optional_small = st.one_of(st.none(), st.integers(min_value=1, max_value=12))


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=80),
    out=st.one_of(st.just("same"), st.integers(min_value=1, max_value=90)),
    size=optional_small,
    stride=optional_small,
    pad=st.one_of(st.none(), st.integers(min_value=0, max_value=12)),
    dilation=st.integers(min_value=1, max_value=3),
)
def test_solutions_are_right_and_complete(
    n: int, out: Target, size: int | None, stride: int | None, pad: int | None, dilation: int
) -> None:
    found = search(n=n, out=out, size=size, stride=stride, pad=pad, dilation=dilation)
    for s in found.solutions:
        wanted = math.ceil(n / s.stride) if out == "same" else out
        assert arith.out_size(n=n, size=s.size, stride=s.stride, pad=s.pad, dilation=dilation) == wanted
        a = arith.axis(n=n, size=s.size, stride=s.stride, pad=s.pad, dilation=dilation)
        assert s.out == wanted
        assert not arith.drops_input(a)
        assert a.fractional is (s.kind is Fit.FLOOR)
        assert s.exact == a.exact
    kinds = [s.kind for s in found.solutions]
    assert kinds == sorted(kinds, key=lambda k: k is Fit.FLOOR)
    listed = {(s.size, s.stride, s.pad) for s in found.solutions}
    assert len(listed) == len(found.solutions)
    assert listed == _brute(n=n, out=out, size=size, stride=stride, pad=pad, dilation=dilation)


# ---------------------------------------------------------------- the command line


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["solve", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_cli_pad_for_stride_3() -> None:
    assert _run("--in", "7", "--filter", "3", "--stride", "3", "--out", "3") == (
        0,
        "input 7 -> output 3 with pad 0-2 (filter 3, stride 3, dilation 1)\n"
        "  filter  stride  pad  dilation  output  kind   exact\n"
        "       3       3    1         1       3  exact\n"
        "       3       3    2         1       3  floor  3.67\n",
        "",
    )


def test_cli_same() -> None:
    assert _run("--in", "32", "--filter", "5", "--stride", "1", "--out", "same") == (
        0,
        "input 32 -> output same = ceil(32/1) = 32 with pad 0-4 (filter 5, stride 1, dilation 1)\n"
        "  filter  stride  pad  dilation  output  kind   exact\n"
        "       5       1    2         1      32  exact\n",
        "",
    )


def test_cli_alexnet_says_no_exact_answer() -> None:
    assert _run("--in", "224", "--out", "55", "--filter", "11") == (
        0,
        "input 224 -> output 55 with stride 1-11 and pad 0-10 (filter 11, dilation 1)\n"
        "no exact answer; PyTorch floors these, leaving only padding unused:\n"
        "  filter  stride  pad  dilation  output  kind   exact\n"
        "      11       4    2         1      55  floor  55.25\n"
        "      11       4    3         1      55  floor  55.75\n",
        "",
    )


def test_cli_no_solution_is_one_line_and_exit_1() -> None:
    assert _run("--in", "7", "--filter", "3", "--stride", "3", "--out", "9") == (
        1,
        "no solution: input 7 -> output 9 with pad 0-2 (filter 3, stride 3, dilation 1)\n",
        "",
    )
    code, out, _ = _run("--in", "7", "--out", "40")
    assert (code, out.count("\n")) == (1, 1)
    assert "filter 1-11, stride 1-E and pad 0-D(F-1) (dilation 1), E = D(F-1) + 1" in out


def test_cli_json() -> None:
    code, out, _ = _run("--in", "7", "--filter", "3", "--stride", "3", "--out", "3", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "version": 1,
        "input": 7,
        "target": 3,
        "solutions": [
            {
                "filter": 3,
                "stride": 3,
                "pad": 1,
                "dilation": 1,
                "output": 3,
                "kind": "exact",
                "exact_output": 3.0,
            },
            {
                "filter": 3,
                "stride": 3,
                "pad": 2,
                "dilation": 1,
                "output": 3,
                "kind": "floor",
                "exact_output": 3.6667,  # rounded as run and layer round it
            },
        ],
        "bounds": {"filter": [3, 3], "stride": [3, 3], "pad": [0, 2], "dilation": [1, 1]},
    }


def test_cli_json_without_solutions() -> None:
    code, out, _ = _run("--in", "7", "--filter", "3", "--stride", "3", "--out", "9", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["solutions"], data["target"]) == ([], 9)


def test_cli_json_same_target() -> None:
    _, out, _ = _run("--in", "32", "--filter", "5", "--stride", "1", "--out", "same", "--format", "json")
    assert json.loads(out)["target"] == "same"


def test_cli_csv_and_markdown() -> None:
    args = ("--in", "224", "--out", "55", "--filter", "11", "--format")
    assert _run(*args, "csv")[1] == (
        "filter,stride,pad,dilation,output,kind,exact_output\n11,4,2,1,55,floor,55.25\n11,4,3,1,55,floor,55.75\n"
    )
    markdown = _run(*args, "markdown")[1]
    assert (
        "| filter | stride | pad | dilation | output | kind | exact |\n|---:|---:|---:|---:|---:|---|---:|\n"
        in (markdown)
    )
    assert "| 11 | 4 | 2 | 1 | 55 | floor | 55.25 |\n" in markdown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "3", "--filter", "3"], "Missing option '--in'"),
        (["--in", "7", "--filter", "3"], "Missing option '--out'"),
        (["--in", "seven", "--out", "3"], "'seven' is not a valid integer"),
        (["--in", "0", "--out", "3"], "0 is not in the range x>=1"),
        (["--in", "7", "--out", "x"], "expected a positive integer or 'same', got 'x'"),
        (["--in", "7", "--out", "0"], "expected a positive integer or 'same', got '0'"),
        (["--in", "7", "--out", "3", "--pad", "-1"], "-1 is not in the range x>=0"),
        (["--in", "7", "--out", "3", "--stride", "0"], "0 is not in the range x>=1"),
        (["--in", "7", "--out", "3", "--filter", "3x3"], "'3x3' is not a valid integer"),
        (["--in", "7", "--out", "3", "--format", "yaml"], "'yaml' is not one of"),
    ],
)
def test_cli_usage_errors_exit_2(args: list[str], message: str) -> None:
    code, out, err = _run(*args)
    assert code == 2
    assert out == ""
    assert message in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--in", "7", "--out", "1", "--filter", "1000000000"], "1,000,000,000 filter and stride pairs"),
        (["--in", "7", "--out", "3", "--dilation", "1000000"], "55,000,011 filter and stride pairs"),
        (["--in", "100000", "--out", "same", "--filter", "99999"], "2,499,984,653 settings to try"),
    ],
)
def test_too_broad_a_search_says_what_to_give(args: list[str], message: str) -> None:
    """A window of a billion once meant a billion strides tried: now one line, before any is tried."""
    code, out, err = _run(*args)
    assert (code, out) == (2, "")
    assert err.startswith("convcalc solve: error: the search is too broad: ")
    assert message in err
    assert err.count("\n") == 1


def test_a_narrowed_search_of_a_huge_window_answers() -> None:
    """The same window with the stride given: one exact pad, 49,999 = (3 x 33,333 - 100,000 + 99,999)/2."""
    found = search(n=100_000, out="same", size=99_999, stride=3)
    assert [s.pad for s in found.solutions if s.kind is Fit.EXACT] == [49_999]
