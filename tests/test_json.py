"""The JSON contract of issue 2, through the CLI and through convcalc.analyze()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.__main__ import main

NET = """\
name: cs231n example           # optional
input: 32x32x3                 # H x W x C, channels last; or a list [32, 32, 3]
layers:
  - {type: conv, name: conv1, filters: 10, size: 5, stride: 1, pad: 2}
  - {type: pool, mode: max, size: 2, stride: 2}
  - {type: fc, units: 10}
"""

FRACTIONAL = """\
name: stride that does not fit
input: 7x7x1
layers:
  - {type: conv, name: conv1, filters: 1, size: 3, stride: 3}
"""

NET_DICT = {
    "name": "cs231n example",
    "input": [32, 32, 3],
    "layers": [
        {"type": "conv", "name": "conv1", "filters": 10, "size": 5, "stride": 1, "pad": 2},
        {"type": "pool", "mode": "max", "size": 2, "stride": 2},
        {"type": "fc", "units": 10},
    ],
}

TOP_KEYS = {
    "version", "name", "file", "input_shape", "output_shape", "sizing", "layers", "blocks", "totals",
    "diagnostics",
}  # fmt: skip
LAYER_KEYS = {
    "index", "name", "type", "line", "input_shape", "output_shape",
    "params", "fc_params", "macs", "fractional",
}  # fmt: skip
FINDING_KEYS = {"file", "line", "column", "severity", "code", "layer", "layer_name", "message", "fixes"}


def run_json(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> tuple[int, Any]:
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["run", "net.yaml", "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_contract_layer_1(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, data = run_json(runner, tmp_path, monkeypatch, NET)
    assert code == 0
    assert data["version"] == 2
    assert data["name"] == "cs231n example"
    assert data["file"] == "net.yaml"
    assert data["input_shape"] == [32, 32, 3]
    assert data["output_shape"] == [10]
    first = data["layers"][0]
    assert set(first) >= LAYER_KEYS
    assert {k: first[k] for k in LAYER_KEYS} == {
        "index": 1,
        "name": "conv1",
        "type": "conv",
        "line": 4,
        "input_shape": [32, 32, 3],
        "output_shape": [32, 32, 10],
        "params": 760,
        "fc_params": 31_457_280,
        "macs": 768_000,
        "fractional": False,
    }
    assert data["diagnostics"] == []


def test_contract_keys(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, data = run_json(runner, tmp_path, monkeypatch, NET)
    assert set(data) == TOP_KEYS
    # the issue's keys, plus the window geometry the implementation adds
    issue_5 = {"non_trainable_params", "activations", "activation_bytes", "receptive_field"}
    extra = {"exact_output", "window", "mode", "groups", "check", "checked_shape"}
    options = {
        "adaptive_output",
        "count_pad",
        "rounding",
        "affine",
        "fn",
        "p",
        "axis",
        "sizes",
        "chunks",
        "part",
    }
    graph = {"inputs", "path"}  # issue 13: what each layer reads, and its place in the blocks
    readers = {"stands_for", "offset"}  # issue 14: a kept-out identity, Caffe's Crop (crop_to)
    assert all(set(r) == LAYER_KEYS | issue_5 | extra | options | graph | readers for r in data["layers"])
    assert data["blocks"] == []
    assert [r["inputs"] for r in data["layers"]] == [["input"], ["conv1"], ["pool1"]]
    assert [r["path"] for r in data["layers"]] == [["conv1"], ["pool1"], ["fc1"]]
    assert set(data["totals"]) == {
        "params", "fc_params", "macs",
        "trainable_params", "non_trainable_params", "flops",
        "activations", "activation_bytes", "param_bytes", "training_bytes",
        "peak_activations", "peak_activation_bytes", "peak_at", "peak_in_place",
    }  # fmt: skip
    assert data["sizing"] == {"dtype": "float32", "batch": 1, "optimizer": "adam"}


def test_contract_other_layers_and_totals(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, data = run_json(runner, tmp_path, monkeypatch, NET)
    pool, fc = data["layers"][1:]
    assert (pool["index"], pool["name"], pool["type"], pool["line"]) == (2, "pool1", "pool", 5)
    assert (pool["input_shape"], pool["output_shape"]) == ([32, 32, 10], [16, 16, 10])
    assert (pool["params"], pool["fc_params"], pool["macs"], pool["mode"]) == (0, None, 0, "max")
    assert (fc["index"], fc["name"], fc["type"], fc["line"]) == (3, "fc1", "fc", 6)
    assert (fc["input_shape"], fc["output_shape"]) == ([16, 16, 10], [10])
    assert fc["params"] == 16 * 16 * 10 * 10 + 10
    assert fc["fc_params"] == fc["macs"] == 16 * 16 * 10 * 10
    assert fc["window"] is None
    params = 760 + 25_610
    # activations: the input, conv1 and pool1's outputs and fc1's 10, as the cs231n notes count them
    activations = 32 * 32 * 3 + 32 * 32 * 10 + 16 * 16 * 10 + 10
    assert (pool["activations"], pool["activation_bytes"]) == (16 * 16 * 10, 16 * 16 * 10 * 4)
    assert pool["receptive_field"] == {"size": [6, 6], "jump": [2, 2], "start": [-2, -2]}
    assert fc["receptive_field"] is None
    assert data["totals"] == {
        "params": params,
        "trainable_params": params,
        "non_trainable_params": 0,
        "fc_params": 31_457_280 + 25_600,
        "macs": 768_000 + 25_600,
        "flops": 2 * (768_000 + 25_600),
        "activations": activations,
        "activation_bytes": 4 * activations,
        "param_bytes": 4 * params,
        # 2 x activations + params x 4 bytes x (weights, gradients and Adam's two moments)
        "training_bytes": 2 * 4 * activations + params * 4 * 4,
        # at inference the input is freed once conv1 has read it: the peak is while conv1 writes
        "peak_activations": 32 * 32 * 3 + 32 * 32 * 10,
        "peak_activation_bytes": 4 * (32 * 32 * 3 + 32 * 32 * 10),
        "peak_at": data["layers"][0]["name"],
        "peak_in_place": True,
    }


def test_contract_fractional_diagnostic(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, data = run_json(runner, tmp_path, monkeypatch, FRACTIONAL)
    assert code == 1
    layer = data["layers"][0]
    assert layer["fractional"] is True
    assert layer["exact_output"] == [2.3333, 2.3333]
    (d,) = data["diagnostics"]
    assert set(d) == FINDING_KEYS
    assert {k: d[k] for k in FINDING_KEYS - {"message", "fixes"}} == {
        "file": "net.yaml",
        "line": 4,
        "column": 5,
        "severity": "error",
        "code": "fractional-size",
        "layer": 1,
        "layer_name": "conv1",
    }
    assert d["message"].startswith("conv1: ")
    assert "2.33" in d["message"]
    assert d["fixes"][0] == "pad 1 -> 3x3"
    assert all(isinstance(f, str) for f in d["fixes"])


def test_finding_points_at_the_key_value(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "input: 8x8x3\nlayers:\n  - type: conv\n    filters: 6\n    size: 3\n    groups: 2\n"
    code, data = run_json(runner, tmp_path, monkeypatch, text)
    assert code == 1
    (d,) = data["diagnostics"]
    assert (d["code"], d["line"], d["column"]) == ("groups-mismatch", 6, 13)


def test_layout_finding_points_at_input(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "name: x\ninput: 3x32x32\nlayers: []\n"
    code, data = run_json(runner, tmp_path, monkeypatch, text)
    assert code == 0
    (d,) = data["diagnostics"]
    assert d == {
        "file": "net.yaml",
        "line": 2,
        "column": 8,
        "severity": "warning",
        "code": "suspicious-layout",
        "layer": None,
        "layer_name": None,
        "message": d["message"],
        "fixes": ["layout: chw"],
    }


def test_json_is_stable_text(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_text(NET, encoding="utf-8")
    a = runner.invoke(main, ["run", "net.yaml", "--format", "json"]).stdout
    b = runner.invoke(main, ["run", "net.yaml", "--format", "json"]).stdout
    assert a == b
    assert json.loads(a) == convcalc.analyze("net.yaml")


# ---------------------------------------------------------------- analyze() inputs


def strip_lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "line"} for r in data["layers"]]


def test_analyze_accepts_path_str_text_and_dict(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(NET, encoding="utf-8")
    from_path = convcalc.analyze(path)
    from_str = convcalc.analyze(str(path))
    from_text = convcalc.analyze(NET)
    from_dict = convcalc.analyze(NET_DICT)
    assert from_path == from_str
    assert from_path["file"] == str(path)
    assert from_text["file"] is None
    assert from_dict["file"] is None
    assert from_path["layers"] == from_text["layers"]
    assert strip_lines(from_path) == strip_lines(from_dict)
    assert [r["line"] for r in from_text["layers"]] == [4, 5, 6]
    assert [r["line"] for r in from_dict["layers"]] == [None, None, None]
    for data in (from_path, from_text, from_dict):
        assert data["totals"] == from_path["totals"]
        assert data["name"] == "cs231n example"


def test_analyze_yml_extension(tmp_path: Path) -> None:
    path = tmp_path / "net.yml"
    path.write_text(NET, encoding="utf-8")
    assert convcalc.analyze(str(path))["file"] == str(path)


def test_analyze_diagnostics_file_null_for_text_and_dict() -> None:
    for spec in (
        FRACTIONAL,
        {"input": "7x7x1", "layers": [{"type": "conv", "filters": 1, "size": 3, "stride": 3}]},
    ):
        (d,) = convcalc.analyze(spec)["diagnostics"]
        assert d["file"] is None
        assert d["fixes"][0] == "pad 1 -> 3x3"
    (d,) = convcalc.analyze(FRACTIONAL)["diagnostics"]
    assert (d["line"], d["column"]) == (4, 5)


def test_analyze_is_json_serialisable() -> None:
    data = convcalc.analyze(NET)
    assert json.loads(json.dumps(data)) == data


# ---------------------------------------------------------------- layout


@pytest.mark.parametrize(
    ("input_", "layout"),
    [("3x32x32", "chw"), ([3, 32, 32], "chw"), ("32x32x3", "hwc"), ([32, 32, 3], None)],
)
def test_shapes_follow_the_spec_layout(input_: Any, layout: str | None) -> None:
    """Shapes are written in the spec's order: channels first for a chw spec (issue 11, item 16)."""
    spec: dict[str, Any] = {"input": input_, "layers": [{"type": "conv", "filters": 10, "size": 5, "pad": 2}]}
    if layout:
        spec["layout"] = layout
    data = convcalc.analyze(spec)
    chw = layout == "chw"
    assert data["input_shape"] == ([3, 32, 32] if chw else [32, 32, 3])
    assert data["layers"][0]["input_shape"] == data["input_shape"]
    assert data["layers"][0]["output_shape"] == ([10, 32, 32] if chw else [32, 32, 10])
    assert data["layers"][0]["params"] == 760
    assert data["diagnostics"] == []


def test_chw_non_square_and_3d() -> None:
    data = convcalc.analyze({"input": "3x20x30", "layout": "chw", "layers": [{"type": "pool", "size": 2}]})
    assert data["layers"][0]["output_shape"] == [3, 10, 15]
    data = convcalc.analyze(
        {"input": "2x8x16x16", "layout": "chw", "layers": [{"type": "conv", "filters": 4, "size": 3}]}
    )
    assert data["input_shape"] == [2, 8, 16, 16]
    assert data["output_shape"] == [4, 6, 14, 14]


def test_chw_fix_suggestions_keep_the_layout() -> None:
    data = convcalc.analyze(
        {
            "input": "1x7x7",
            "layout": "chw",
            "layers": [{"type": "conv", "filters": 1, "size": 3, "stride": 3}],
        }
    )
    (d,) = data["diagnostics"]
    inputs = [f for f in d["fixes"] if f.startswith("input ")]
    assert inputs
    assert all(f.startswith("input 1x") for f in inputs)


def test_hwc_suspicious_layout_in_json() -> None:
    data = convcalc.analyze({"input": "3x224x224", "layers": []})
    assert data["input_shape"] == [3, 224, 224]
    assert [d["code"] for d in data["diagnostics"]] == ["suspicious-layout"]
    assert data["layers"] == []
    assert data["output_shape"] == [3, 224, 224]
