"""Issue 11 item 13: convcalc.analyze takes what `convcalc run` takes, numpy integers and any os.PathLike."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
LENET = ROOT / "specs" / "lenet5.yaml"
TINY = "input: 8x8x1\nlayers:\n  - {type: conv, filters: 2, size: 3}\n  - {type: pool, size: 2}\n"
DIRECTORY = "is a directory; analyze() takes one spec file (convcalc lint walks directories)"


class Where(os.PathLike[str]):
    """A path object that is not a pathlib.Path."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return self.path


def cli(*args: str) -> dict[str, Any]:
    """What `convcalc run --format json` prints for these arguments."""
    result = CliRunner().invoke(main, ["run", *args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_input_takes_the_cli_string() -> None:
    """input='28x28x1' was refused though `run --input 28x28x1` takes it."""
    text = "input: 32x32x1\nlayers:\n  - {type: conv, filters: 6, size: 5}\n"
    data = convcalc.analyze(text, input="28x28x1")
    assert (data["input_shape"], data["output_shape"]) == ([28, 28, 1], [24, 24, 6])
    assert convcalc.analyze(text, input=(28, 28, 1)) == data
    assert convcalc.analyze(text, input=[np.int64(28), np.int32(28), np.uint8(1)]) == data


def test_numpy_numbers_are_numbers() -> None:
    """np.int64(6) was refused as 'filters must be a positive integer'; any numbers.Integral is taken."""
    plain = {
        "input": [28, 28, 1],
        "layers": [{"type": "conv", "filters": 6, "size": 5}, {"type": "dropout", "p": 0.5}],
    }
    numpy = {
        "input": (np.int64(28), np.int16(28), np.int8(1)),
        "layers": (
            {"type": "conv", "filters": np.int64(6), "size": np.uint32(5), "bias": np.bool_(True)},
            {"type": "dropout", "p": np.float32(0.5)},
        ),
    }
    assert convcalc.analyze(numpy) == convcalc.analyze(plain)
    assert convcalc.analyze(numpy)["layers"][0]["params"] == 156


@pytest.mark.parametrize("path", [LENET, Where(str(LENET)), str(LENET)], ids=["Path", "PathLike", "str"])
def test_paths_of_every_kind(path: Any) -> None:
    """A pathlib.Path, any os.PathLike and a str name the same file."""
    data = convcalc.analyze(path)
    assert (data["file"], data["totals"]["params"]) == (str(LENET), 61706)


@pytest.mark.parametrize("path", ["specs", ROOT / "specs", Where("specs")], ids=["str", "Path", "PathLike"])
def test_a_directory_is_refused(path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """analyze('specs') parsed the word 'specs' as YAML; a directory is now refused by name."""
    monkeypatch.chdir(ROOT)
    with pytest.raises(convcalc.SpecError) as caught:
        convcalc.analyze(path)
    assert str(caught.value) == f"{os.fspath(path)}: error: {DIRECTORY}"


def test_a_file_without_a_yaml_suffix_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-line string naming an existing file is a path, whatever its suffix."""
    (tmp_path / "net.spec").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    assert convcalc.analyze("net.spec")["file"] == "net.spec"


OPTIONS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, []),
    ({"input": "16x16x1"}, ["--input", "16x16x1"]),
    (
        {"dtype": "float16", "batch": 32, "optimizer": "sgd"},
        ["--dtype", "float16", "--batch", "32", "--optimizer", "sgd"],
    ),
    ({"batch": np.int64(8), "dtype": "int8"}, ["--batch", "8", "--dtype", "int8"]),
    ({"check": True}, ["--check"]),
    ({"check": True, "seed": 7, "max_memory": "64M"}, ["--check", "--seed", "7", "--max-memory", "64M"]),
    ({"check": True, "max_memory": 64 * 1024**2}, ["--check", "--max-memory", "64M"]),
    ({"explain": True}, ["--explain"]),
    ({"shapes": "chw"}, ["--shapes", "chw"]),
    ({"layout": "hwc", "shapes": "hwc"}, ["--layout", "hwc", "--shapes", "hwc"]),
    ({"select": "fractional-size"}, ["--select", "fractional-size"]),
    (
        {"ignore": ["non-positive-size", "suspicious-layout"]},
        ["--ignore", "non-positive-size,suspicious-layout"],
    ),
    ({"max_spec_size": 4096}, ["--max-spec-size", "4096"]),
    ({"convention": "thop"}, ["--convention", "thop"]),
    ({"convention": "ptflops", "explain": True}, ["--convention", "ptflops", "--explain"]),
]


@pytest.mark.parametrize(("kwargs", "args"), OPTIONS)
def test_every_run_option_gives_what_run_prints(
    kwargs: dict[str, Any], args: list[str], tmp_path: Path
) -> None:
    """analyze(path, **options) equals `convcalc run path --format json` with the same options."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    assert convcalc.analyze(spec, **kwargs) == cli(str(spec), *args)


RENDERING_ONLY = {"specs", "fmt", "columns", "notes", "strict", "depth", "out"}
"""run's parameters that shape text output or the exit status, or name the files (analyze's first
argument, and -o, where the output goes): a finding in analyze's result carries its severity, so
strict has nothing to change."""


def test_analyze_takes_every_run_option() -> None:
    """Each option of `convcalc run` is a keyword of analyze(), under the same name."""
    run = {p.name for p in main.commands["run"].params} - RENDERING_ONLY
    keywords = set(inspect.signature(convcalc.analyze).parameters) - {"spec"}
    assert {"input" if name == "input_" else name for name in run} <= keywords
    assert keywords == {
        "input",
        "layout",
        "dtype",
        "batch",
        "optimizer",
        "check",
        "seed",
        "max_memory",
        "explain",
        "shapes",
        "select",
        "ignore",
        "max_spec_size",
        "no_in_place",
        "reader",
        "convention",
    }


def test_layout_orders_the_input() -> None:
    """layout='chw' reads the spec's input, or the one given, channels first, as `layout: chw` does."""
    text = "input: 3x32x32\nlayers:\n  - {type: conv, filters: 4, size: 5}\n"
    data = convcalc.analyze(text, layout="chw")
    assert data == convcalc.analyze(text + "layout: chw\n")
    assert data["output_shape"] == [4, 28, 28]  # written in the layout the input was read in
    assert convcalc.analyze(text, layout="chw", shapes="hwc")["output_shape"] == [28, 28, 4]
    assert convcalc.analyze(text, layout="chw", input="1x28x28")["output_shape"] == [4, 24, 24]
    assert convcalc.analyze(text, layout="hwc")["input_shape"] == [3, 32, 32]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch": 0}, "batch must be a positive integer up to 2**63 - 1, got 0"),
        ({"batch": True}, "batch must be a positive integer up to 2**63 - 1, got True"),
        ({"batch": 2**64}, "batch must be a positive integer up to 2**63 - 1, got 18446744073709551616"),
        ({"batch": 2.0}, "batch must be a positive integer up to 2**63 - 1, got 2.0"),
        ({"seed": -1}, "seed must be a non-negative integer up to 2**63 - 1, got -1"),
        ({"dtype": "float64"}, "dtype must be one of float32, float16, bfloat16, int8, got 'float64'"),
        ({"optimizer": None}, "optimizer must be one of sgd, momentum, adam, got None"),
        ({"layout": "whc"}, "layout must be one of hwc, chw, got 'whc'"),
        ({"check": "yes"}, "check must be True or False, got 'yes'"),
        ({"explain": 1}, "explain must be True or False, got 1"),
        (
            {"max_memory": "lots"},
            "max_memory: invalid size 'lots'; expected a number with an optional K, M, G or T",
        ),
        ({"max_memory": 0}, "max_memory must be a positive integer up to 2**63 - 1, got 0"),
    ],
)
def test_bad_options_raise_option_error(kwargs: dict[str, Any], message: str) -> None:
    """A bad option is an OptionError (a ValueError and a ConvcalcError) saying what it takes."""
    with pytest.raises(convcalc.OptionError) as caught:
        convcalc.analyze(TINY, **kwargs)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("16x16x1", None),
        (
            "28x28",
            "1:8: error: input 28x28 has 2 numbers, but the spec's input 8x8x1 has 3 (2 spatial axes and "
            "channels); did you mean 28x28x1?",
        ),
        ("abc", "error: the input must be positive integers like '28x28x1' or (28, 28, 1), got 'abc'"),
        (
            (0, 8, 1),
            "error: the input must be positive integers like '28x28x1' or (28, 28, 1), got (0, 8, 1)",
        ),
        (
            f"{2**63}x8x1",
            f"error: the input {2**63} is too large: PyTorch sizes are 64-bit integers, at most {2**63 - 1}",
        ),
    ],
)
def test_bad_inputs_raise_spec_error(value: Any, message: str | None) -> None:
    """An input override is read like `--input`, or refused with the shapes it takes."""
    if message is None:
        assert convcalc.analyze(TINY, input=value)["input_shape"] == [16, 16, 1]
        return
    with pytest.raises(convcalc.SpecError) as caught:
        convcalc.analyze(TINY, input=value)
    assert str(caught.value) == message


def test_deep_or_cyclic_data_is_refused() -> None:
    """Python data nested without end (or a dict holding itself) is a SpecError, not a RecursionError."""
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    cyclic: dict[str, Any] = {"input": "8x8x1"}
    cyclic["layers"] = [cyclic]
    for spec in ({"input": "8x8x1", "layers": deep}, cyclic):
        with pytest.raises(
            convcalc.SpecError, match=r"^error: the spec is nested more than 100 levels deep$"
        ):
            convcalc.analyze(spec)


HOSTILE = [
    None,
    -1,
    0,
    2**64,
    float("nan"),
    float("inf"),
    1e310,
    "x",
    "",
    "-1x2",
    [],
    {},
    [[1]],
    object(),
    b"8",
    True,
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(set(inspect.signature(convcalc.analyze).parameters) - {"spec"})),
    st.sampled_from(HOSTILE) | st.integers() | st.text(max_size=8) | st.floats(),
)
def test_any_argument_is_taken_or_refused_cleanly(keyword: str, value: Any) -> None:
    """Whatever a keyword is given, analyze answers or raises a ConvcalcError, never something else."""
    with contextlib.suppress(convcalc.ConvcalcError):
        convcalc.analyze(TINY, **{keyword: value})


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["input", "layers", "name", "layout"]), st.sampled_from(HOSTILE) | st.integers())
def test_any_spec_value_is_taken_or_refused_cleanly(key: str, value: Any) -> None:
    """Python data of any type in a spec dict: a result or a SpecError."""
    spec: dict[str, Any] = {
        "input": (np.int64(8), 8, 1),
        "layers": [{"type": "conv", "filters": 2, "size": 3}],
    }
    spec[key] = value
    with contextlib.suppress(convcalc.SpecError):
        convcalc.analyze(spec)
