"""Every row of the seed note (shared/seed/README.md), the shipped specs, and `layer`'s formula sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.__main__ import main
from convcalc.walk import has_layers

SPECS = Path(__file__).resolve().parent.parent / "specs"


def conv(filters: int, size: int, stride: int = 1, pad: int = 0) -> dict[str, Any]:
    return {"type": "conv", "filters": filters, "size": size, "stride": stride, "pad": pad}


def one_layer(input_: str, layer: dict[str, Any]) -> dict[str, Any]:
    """analyze() of a one-layer spec."""
    return convcalc.analyze({"input": input_, "layers": [layer]})


# (input, layer, output shape, params, fc_params)
SEED_ROWS = [
    pytest.param("32x32x3", conv(1, 5), [28, 28, 1], 76, 32 * 32 * 3 * 28 * 28 * 1, id="one-filter"),
    pytest.param("32x32x3", conv(6, 5), [28, 28, 6], 456, 32 * 32 * 3 * 28 * 28 * 6, id="six-filters"),
    pytest.param("32x32x3", conv(10, 5, 1, 2), [32, 32, 10], 760, 31_457_280, id="pad-2"),
    pytest.param("32x32x3", conv(6, 1), [32, 32, 6], 24, 32 * 32 * 3 * 32 * 32 * 6, id="one-by-one"),
    pytest.param("7x7x1", conv(1, 3, 3, 1), [3, 3, 1], 10, 7 * 7 * 3 * 3, id="stride-fixed"),
    pytest.param(
        "4x4x1", {"type": "pool", "mode": "max", "size": 2, "stride": 2}, [2, 2, 1], 0, None, id="max-pool"
    ),
    pytest.param(
        "4x4x1", {"type": "pool", "mode": "avg", "size": 2, "stride": 2}, [2, 2, 1], 0, None, id="avg-pool"
    ),
]


@pytest.mark.parametrize(("input_", "layer", "output", "params", "fc_params"), SEED_ROWS)
def test_seed_row_via_dict(
    input_: str, layer: dict[str, Any], output: list[int], params: int, fc_params: int | None
) -> None:
    result = one_layer(input_, layer)
    (r,) = result["layers"]
    assert r["output_shape"] == output
    assert r["params"] == params
    assert r["fc_params"] == fc_params
    assert r["fractional"] is False
    assert result["diagnostics"] == []


def test_seed_fc_equivalent_is_31457280() -> None:
    r = one_layer("32x32x3", conv(10, 5, 1, 2))["layers"][0]
    assert r["fc_params"] == (32 * 32 * 3) * (32 * 32 * 10) == 31_457_280


def test_seed_one_by_one_mixes_channels_only() -> None:
    r = one_layer("32x32x3", conv(6, 1))["layers"][0]
    assert r["input_shape"][:2] == r["output_shape"][:2] == [32, 32]
    assert r["params"] == 6 * (1 * 1 * 3 + 1) == 24


@pytest.mark.parametrize("channels", [1, 3])
def test_seed_stride_misfit(channels: int) -> None:
    result = one_layer(f"7x7x{channels}", conv(1, 3, 3))
    (r,) = result["layers"]
    assert r["output_shape"] == [2, 2, 1]
    assert r["fractional"] is True
    (d,) = result["diagnostics"]
    assert d["severity"] == "error"
    assert d["code"] == "fractional-size"
    assert "2.33" in d["message"]
    assert "drops 1 input row and 1 input column" in d["message"]
    assert d["fixes"][0] == "pad 1 -> 3x3"


def test_seed_stride_fixed_with_pad_is_clean() -> None:
    result = one_layer("7x7x1", conv(1, 3, 3, 1))
    assert result["layers"][0]["output_shape"] == [3, 3, 1]
    assert result["diagnostics"] == []


def test_pad_keeps_size_at_stride_one() -> None:
    """P = (F-1)/2 keeps N at stride 1, for every odd F."""
    for f in (1, 3, 5, 7, 9, 11):
        r = one_layer("32x32x3", conv(4, f, 1, (f - 1) // 2))["layers"][0]
        assert r["output_shape"] == [32, 32, 4], f


# The shipped seed files: name -> (output shape, params, fc_params, error codes)
SEED_FILES = {
    "one-filter": ([28, 28, 1], 76, 2_408_448, []),
    "six-filters": ([28, 28, 6], 456, 14_450_688, []),
    "pad-2": ([32, 32, 10], 760, 31_457_280, []),
    "one-by-one": ([32, 32, 6], 24, 18_874_368, []),
    "stride-misfit": ([2, 2, 1], 10, 196, []),  # allow: [fractional-size]
    "stride-fixed": ([3, 3, 1], 10, 441, []),
    "max-pool": ([2, 2, 1], 0, None, []),
    "avg-pool": ([2, 2, 1], 0, None, []),
}


def test_seed_files_are_all_listed() -> None:
    assert {p.stem for p in (SPECS / "seed").glob("*.yaml")} == set(SEED_FILES)


@pytest.mark.parametrize("name", sorted(SEED_FILES))
def test_seed_file(name: str) -> None:
    output, params, fc_params, codes = SEED_FILES[name]
    result = convcalc.analyze(SPECS / "seed" / f"{name}.yaml")
    (r,) = result["layers"]
    assert r["output_shape"] == output
    assert r["params"] == params
    assert r["fc_params"] == fc_params
    assert result["totals"]["params"] == params
    assert [d["code"] for d in result["diagnostics"]] == codes


def test_seed_misfit_file_finding() -> None:
    (d,) = convcalc.analyze(SPECS.parent / "tests" / "data" / "misfit.yaml")["diagnostics"]
    assert d["severity"] == "error"
    assert "(7 - 3)/3 + 1 = 2.33" in d["message"]
    assert "drops 1 input row and 1 input column" in d["message"]
    assert d["fixes"][0] == "pad 1 -> 3x3"
    assert (d["line"], d["column"]) == (6, 5)


@pytest.mark.parametrize(
    ("name", "total"),
    [("lenet5", 61_706), ("vgg16", 138_357_544), ("alexnet", 61_100_840)],
)
def test_network_totals(name: str, total: int) -> None:
    result = convcalc.analyze(SPECS / f"{name}.yaml")
    assert result["totals"]["params"] == total
    assert sum(r["params"] for r in result["layers"]) == total


def test_lenet5_layers() -> None:
    result = convcalc.analyze(SPECS / "lenet5.yaml")
    assert [r["output_shape"] for r in result["layers"]] == [
        [28, 28, 6],
        [14, 14, 6],
        [10, 10, 16],
        [5, 5, 16],
        [120],
        [84],
        [10],
    ]
    assert [r["params"] for r in result["layers"]] == [156, 0, 2416, 0, 48120, 10164, 850]


def test_vgg16_ends_at_7x7x512_then_1000() -> None:
    result = convcalc.analyze(SPECS / "vgg16.yaml")
    by_name = {r["name"]: r for r in result["layers"]}
    assert by_name["pool5"]["output_shape"] == [7, 7, 512]
    assert by_name["fc6"]["params"] == 7 * 7 * 512 * 4096 + 4096
    assert result["output_shape"] == [1000]


def test_alexnet_224_only_wastes_padding() -> None:
    result = convcalc.analyze(SPECS / "alexnet.yaml")
    (d,) = result["diagnostics"]
    assert (d["severity"], d["code"], d["layer_name"]) == ("info", "fractional-size", "conv1")
    assert "55.25" in d["message"]
    assert result["layers"][0]["output_shape"] == [55, 55, 64]
    # A note's fixes keep the layer's output and the network's input: per-side padding.
    assert d["fixes"] == ["pad [[2, 1]] -> 55x55 (in PyTorch: nn.ZeroPad2d((2, 1, 2, 1)), then padding 0)"]


def test_alexnet_paper_224_without_pad_drops_a_column() -> None:
    result = one_layer("224x224x3", conv(96, 11, 4, 0))
    (d,) = result["diagnostics"]
    assert d["severity"] == "error"
    assert "drops 1 input row and 1 input column" in d["message"]
    fixed = one_layer("227x227x3", conv(96, 11, 4, 0))
    assert fixed["layers"][0]["output_shape"] == [55, 55, 96]
    assert fixed["diagnostics"] == []


ALL_SPECS = sorted(p for p in SPECS.rglob("*.yaml") if has_layers(str(p)))  # block libraries are not specs


@pytest.mark.parametrize("path", ALL_SPECS, ids=[str(p.relative_to(SPECS)) for p in ALL_SPECS])
def test_every_shipped_spec_resolves(path: Path) -> None:
    result = convcalc.analyze(path)
    assert result["layers"]
    errors = [d for d in result["diagnostics"] if d["severity"] == "error"]
    assert errors == []


def test_layer_formula_sheet(runner: CliRunner) -> None:
    args = ["layer", "--in", "32x32x3", "--filter", "5", "--stride", "1", "--pad", "2", "-k", "10"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("conv1: 32x32x3 -> 32x32x10\n")
    assert "(32 - 5 + 2x2)/1 + 1 = 32" in out
    assert "10 x (5x5x3 + 1) = 760" in out
    assert "(32x32x3) x (32x32x10) = 31,457,280" in out
    assert "41,391x fewer" in out
    assert "768,000" in out
    assert result.stderr == ""


def test_layer_size_is_a_synonym_of_filter(runner: CliRunner) -> None:
    a = runner.invoke(main, ["layer", "--in", "32x32x3", "--filter", "5", "-k", "10", "--pad", "2"])
    b = runner.invoke(main, ["layer", "--in", "32x32x3", "--size", "5", "--filters", "10", "--pad", "2"])
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout


def test_layer_stride_misfit_sheet(runner: CliRunner) -> None:
    result = runner.invoke(main, ["layer", "--in", "7x7x3", "--filter", "3", "--stride", "3"])
    assert result.exit_code == 1
    assert "(7 - 3)/3 + 1 = 2.33 -> 2 (floor)" in result.stdout
    assert "error[fractional-size]" in result.stdout
    assert "fix: pad 1 -> 3x3" in result.stdout


def test_layer_pool_sheet(runner: CliRunner) -> None:
    args = ["layer", "--in", "4x4x1", "--type", "pool", "--filter", "2", "--stride", "2"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0
    assert result.stdout.startswith("pool1: 4x4x1 -> 2x2x1\n")
    assert "0 (pooling has no weights)" in result.stdout
