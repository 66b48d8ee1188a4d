"""Issue 16, part 1: `run --convention` reproduces the headline totals of torchinfo, ptflops (both
backends), fvcore, thop and PyTorch's FlopCounterMode, as tools/gen_conventions.py recorded them from
the real tools (tests/data/conventions.json), and explains what each one counts per layer."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from convcalc.__main__ import main
from convcalc.api import load
from convcalc.conventions import Call, Convention, call_of, counts, parts, total
from convcalc.model import Network
from convcalc.resolver import resolve

ROOT = Path(__file__).resolve().parent.parent
RECORDED = json.loads((ROOT / "tests" / "data" / "conventions.json").read_text(encoding="utf-8"))
MODELS = RECORDED["models"]
KEYS = {
    Convention.TORCHINFO: "torchinfo",
    Convention.PTFLOPS: "ptflops",
    Convention.PTFLOPS_ATEN: "ptflops_aten",
    Convention.FVCORE: "fvcore",
    Convention.THOP: "thop",
    Convention.PYTORCH: "pytorch",
}
SIX = ("resnet18", "resnet50", "mobilenet_v2", "densenet121", "googlenet", "efficientnet_b0")
SCHEMA = json.loads((ROOT / "convcalc" / "run.schema.json").read_text(encoding="utf-8"))


KINDS = """
name: kinds
input: 16x16x3
layers:
  - {type: conv, name: "0", filters: 8, size: 3, pad: 1}
  - {type: group_norm, name: "1", groups: 2}
  - {type: prelu, name: "2"}
  - {type: deconv, name: "3", filters: 4, size: 2, stride: 2}
  - {type: instance_norm, name: "4", affine: true}
  - {type: act, name: "5", fn: leaky_relu}
  - {type: pool, name: "6", mode: avg, size: 2}
  - {type: upsample, name: "7", scale: 2}
  - {type: act, name: "8", fn: hardswish}
  - {type: pool, name: "9", size: 2}
  - {type: upsample, name: "10", size: 24x24, mode: bilinear}
  - {type: lrn, name: "11", size: 3}
  - {type: act, name: "12", fn: softmax}
  - {type: pool, name: "13", mode: avg, output: 5x5}
  - {type: flatten, name: "14"}
  - {type: fc, name: "15", units: 10}
  - {type: act, name: "16", fn: gelu}
  - {type: act, name: "17", fn: elu}
  - {type: layer_norm, name: "18"}
  - {type: act, name: "19", fn: relu6}
  - {type: act, name: "20", fn: silu}
"""
"""tools/gen_conventions.py's `kinds` network, whose layers no torchvision model has."""


@cache
def network(name: str) -> Network:
    if name == "kinds":
        return resolve(load(KINDS))
    folder = ROOT / "specs" if name.startswith("unet") else ROOT / "specs" / "torchvision"
    return resolve(load(str(folder / f"{name}.yaml")))


def test_the_record_has_the_six_models_and_the_issue_figures() -> None:
    assert set(SIX) <= set(MODELS)
    assert len(MODELS) == 71  # every shipped torchvision spec, the two U-Nets, and kinds
    assert {"unet", "unet_padded"} <= set(MODELS)
    assert {k: MODELS["resnet50"][k] for k in KEYS.values()} == {
        "torchinfo": 4_089_238_376,
        "ptflops": 4_132_436_968,
        "ptflops_aten": 4_089_185_256,
        "fvcore": 4_111_512_576,
        "thop": 4_133_742_592,
        "pytorch": 8_178_368_512,
    }
    assert RECORDED["versions"]["torch"].startswith("2.13.0")


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("convention", list(KEYS), ids=lambda c: c.value)
def test_every_recorded_cell_is_reproduced(name: str, convention: Convention) -> None:
    assert MODELS[name]["input"] == list(network(name).input.dims)
    assert total(network(name), convention) == MODELS[name][KEYS[convention]]


@pytest.mark.parametrize("convention", list(KEYS), ids=lambda c: c.value)
def test_the_json_total_is_the_tools_number(convention: Convention) -> None:
    spec = str(ROOT / "specs" / "torchvision" / "resnet50.yaml")
    result = CliRunner().invoke(main, ["run", spec, "--convention", convention.value, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["convention"] == convention.value
    assert data["totals"]["macs"] == MODELS["resnet50"][KEYS[convention]]
    assert sum(layer["macs"] for layer in data["layers"]) == data["totals"]["macs"]
    assert data["totals"]["params"] == 25_557_032  # only the count changes
    assert list(data).index("convention") == list(data).index("totals") - 1
    assert not list(Draft202012Validator(SCHEMA).iter_errors(data))


def test_without_a_convention_the_json_is_convcalcs_and_says_nothing() -> None:
    spec = str(ROOT / "specs" / "torchvision" / "resnet50.yaml")
    plain = json.loads(CliRunner().invoke(main, ["run", spec, "--format", "json"]).output)
    mine = json.loads(
        CliRunner().invoke(main, ["run", spec, "--format", "json", "--convention", "convcalc"]).output
    )
    assert "convention" not in plain
    assert mine["convention"] == "convcalc"
    assert mine["totals"] == plain["totals"]
    assert mine["totals"]["macs"] == 4_089_184_256


def test_flopcountermode_flops_are_not_doubled_again() -> None:
    spec = str(ROOT / "specs" / "torchvision" / "resnet18.yaml")
    data = json.loads(
        CliRunner().invoke(main, ["run", spec, "--format", "json", "--convention", "pytorch"]).output
    )
    assert data["totals"]["macs"] == data["totals"]["flops"] == 3_628_146_688


TINY = """
name: tiny
input: 8x8x3
layers:
  - {type: conv, name: conv, filters: 4, size: 3, pad: 1}
  - {type: bn, name: bn}
  - {type: act, name: relu}
  - {type: pool, name: pool, size: 2}
  - {type: global_pool, name: gap}
  - {type: fc, name: fc, units: 2}
"""
# Worked by hand. conv: 8x8 positions x 4 filters x 3x3x3 = 6,912 MACs, 256 outputs (4 bias adds per
# position), 112 params; bn: 256 values, 8 params; relu: 256 values; max pool 256 in, 64 out; global
# pool 4x4x4 = 64 in, 4 out; fc: 4 x 2 = 8 MACs, 10 params.
TINY_COUNTS = {
    Convention.CONVCALC: (6_912, 0, 0, 0, 0, 8),
    # every weight and bias x output positions for a conv (112 x 64), params x batch otherwise
    Convention.TORCHINFO: (7_168, 8, 0, 0, 0, 10),
    # bias adds; bn 2 per value (affine); relu and both pools twice: the module hook and the patched F.
    Convention.PTFLOPS: (7_168, 512, 512, 512, 128, 10),
    Convention.PTFLOPS_ATEN: (7_168, 0, 0, 0, 0, 10),
    # bn 2 per value at inference; adaptive average pool 1 per input value; no bias
    Convention.FVCORE: (6_912, 512, 0, 0, 64, 8),
    # bn 2 x 2 per value; adaptive average pool (16 + 1) per output value; relu and max pool zero ops
    Convention.THOP: (6_912, 1_024, 0, 0, 68, 8),
    Convention.PYTORCH: (13_824, 0, 0, 0, 0, 16),
}


@pytest.mark.parametrize("convention", list(Convention), ids=lambda c: c.value)
def test_a_tiny_network_by_hand(convention: Convention) -> None:
    assert counts(resolve(load(TINY)), convention) == TINY_COUNTS[convention]


DECONV = """
name: tiny_deconv
input: 4x4x2
layers:
  - {type: deconv, name: up, filters: 3, size: 2, stride: 2}
  - {type: act, name: silu, fn: silu}
  - {type: act, name: relu6, fn: relu6}
  - {type: act, name: sigmoid, fn: sigmoid}
"""
# deconv: 4x4 inputs x 2 channels scattered through 3 x 2x2 = 384 MACs into 8x8x3 = 192 outputs.
DECONV_COUNTS = {
    Convention.CONVCALC: (384, 0, 0, 0),
    Convention.TORCHINFO: (24 * 64 + 3 * 64, 0, 0, 0),  # weights x OUTPUT positions, + bias
    Convention.PTFLOPS: (384 + 192, 192, 192, 0),  # SiLU: F.silu only; ReLU6: its hook only (F.hardtanh)
    Convention.PTFLOPS_ATEN: (384 + 192, 0, 0, 0),
    Convention.FVCORE: (384, 0, 0, 0),
    Convention.THOP: (192 * 2 * 4, 0, 0, 0),  # as a conv: output values x C_in x kernel
    Convention.PYTORCH: (768, 0, 0, 0),
}


@pytest.mark.parametrize("convention", list(Convention), ids=lambda c: c.value)
def test_a_tiny_deconv_and_activations_by_hand(convention: Convention) -> None:
    assert counts(resolve(load(DECONV)), convention) == DECONV_COUNTS[convention]


def test_functional_calls_of_torchvision() -> None:
    dense = network("densenet121")
    relu = next(r for r in dense.layers if r.layer.name == "relu")
    assert call_of("densenet121", "relu") is Call.FUNCTION
    assert call_of("resnet50", "relu") is Call.MODULE
    assert [p.count for p in parts(relu, Convention.PTFLOPS, Call.FUNCTION)] == [relu.output.elements]
    assert [p.count for p in parts(relu, Convention.PTFLOPS, Call.MODULE)] == [relu.output.elements] * 2
    gap = dense.layers[-3]
    assert gap.layer.name == "avgpool"
    assert parts(gap, Convention.THOP, Call.FUNCTION) == ()


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, ["run", *args])


def test_the_table_and_explain_follow_the_convention() -> None:
    result = _run(str(ROOT / "specs" / "cs231n.yaml"), "--convention", "ptflops", "--explain")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.split()[-1:] == ["824,330"] and "total" in line for line in lines)
    assert (
        "compute      824,330 MACs as ptflops counts them (convcalc: 793,600 MACs = 1,587,200 FLOPs)" in lines
    )
    assert (
        "reconciled   ptflops 824,330 = MACs 793,600 + bias adds 10,250 + pooling (module hook) 10,240"
        " + pooling again (patched F.) 10,240; convcalc 793,600 MACs"
    ) in lines
    assert (
        "  counted as       ptflops 20,480 = pooling (module hook) 10,240 + pooling again (patched F.) 10,240"
        in lines
    )
    assert "                   thop 768,000 (MACs 768,000)" in lines


def test_a_bad_convention_is_one_line_exit_2() -> None:
    result = _run(str(ROOT / "specs" / "cs231n.yaml"), "--convention", "flops")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "convcalc run: error: Invalid value for '--convention': 'flops' is not one of 'convcalc',"
        " 'torchinfo', 'ptflops', 'ptflops-aten', 'fvcore', 'thop', 'pytorch' (see 'convcalc run --help')"
    ]


def test_csv_and_markdown_follow_the_convention() -> None:
    spec = str(ROOT / "specs" / "torchvision" / "resnet18.yaml")
    csv = _run(spec, "--convention", "fvcore", "--format", "csv", "--columns", "name,macs").output
    rows = [line.split(",") for line in csv.splitlines() if line.startswith(f"{spec},")]
    assert len(rows) == len(network("resnet18").layers)
    assert sum(int(macs) for _, _, macs in rows) == MODELS["resnet18"]["fvcore"] == 1_819_065_856
    markdown = _run(spec, "--convention", "fvcore", "--format", "markdown", "--depth", "0").output
    assert "| **1,819,065,856** |" in markdown
    assert "- compute      1,819,065,856 flops (fvcore: 1 per MAC) as fvcore counts them" in markdown


def test_the_diagram_and_the_report_count_as_the_convention_says(tmp_path: Path) -> None:
    """--convention reaches the SVG boxes and the HTML totals, bars and header, not only the table."""
    from click.testing import CliRunner

    from convcalc.__main__ import main

    spec = str(ROOT / "specs" / "torchvision" / "resnet50.yaml")
    page = tmp_path / "r.html"
    got = CliRunner().invoke(
        main, ["run", spec, "--convention", "ptflops", "--format", "html", "-o", str(page)]
    )
    assert got.exit_code == 0, got.output
    text = page.read_text()
    assert "4,132,436,968 MACs as ptflops counts them (convcalc: 4,089,184,256 MACs" in text
    assert "· MACs as ptflops counts them ·" in text
    svg = CliRunner().invoke(main, ["run", spec, "--convention", "ptflops", "--format", "svg"]).stdout
    plain = CliRunner().invoke(main, ["run", spec, "--format", "svg"]).stdout
    assert svg != plain  # bn1's box: ptflops counts batch norm, convcalc does not
    assert "128 params · 0 MACs" in plain
    assert "128 params · 0 MACs" not in svg.split('data-layer="bn1"', 1)[1].split("</g>", 1)[0]
