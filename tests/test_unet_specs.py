"""Issue 13: the two U-Nets (specs/unet.yaml, the original with valid convolutions and cropped skips;
specs/unet_padded.yaml, milesial's padded one), each exact against the PyTorch model that
tools/gen_unet.py builds (tests/data/unet_truth.json), and lint --strict clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.kinds import Kind
from convcalc.loader import read
from convcalc.model import Network
from convcalc.resolver import resolve

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
TRUTH = json.loads((ROOT / "tests" / "data" / "unet_truth.json").read_text(encoding="utf-8"))["models"]
NAMES = ["unet", "unet_padded"]


def net_of(name: str) -> Network:
    """The resolved spec."""
    return resolve(read(SPECS / f"{name}.yaml"))


def test_truth_covers_the_specs() -> None:
    assert sorted(TRUTH) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_exact(name: str) -> None:
    """Params, MACs (conv and deconv, as convcalc counts them), running stats, input and output."""
    net = net_of(name)
    truth = TRUTH[name]
    assert (net.params, net.macs, net.non_trainable) == (truth["params"], truth["macs"], truth["buffers"])
    assert list(net.input.dims) == truth["input"]
    assert list(net.output.dims) == truth["output"]
    expect = net.spec.expect
    assert expect is not None
    assert (expect.params, expect.macs) == (truth["params"], truth["macs"])
    assert expect.output is not None
    assert list(expect.output) == truth["output"]


@pytest.mark.parametrize("name", NAMES)
def test_every_module_matches(name: str) -> None:
    """Every module PyTorch ran is a layer of the spec with its name, output shape, params and MACs."""
    layers = {r.layer.name: r for r in net_of(name).layers}
    for record in TRUTH[name]["layers"]:
        r = layers[record["name"]]
        got = (list(r.output.dims), r.params, r.macs)
        assert got == (record["out"], record["params"], record["macs"]), record["name"]


def test_original_crops_each_skip_to_the_upsampled_size() -> None:
    """Figure 1 of the paper: the skips (64, 136, 280, 568 pixels) are centre-cropped to 56, 104, 200
    and 392 before each concatenation, so both inputs of every concat have one spatial size."""
    net = net_of("unet")
    crops = [r for r in net.layers if r.layer.kind is Kind.CROP_TO]
    assert [r.layer.name for r in crops] == ["up1.crop", "up2.crop", "up3.crop", "up4.crop"]
    assert [list(r.input.dims) for r in crops] == [c["skip"] for c in TRUTH["unet"]["crops"]]
    assert [list(r.output.spatial) for r in crops] == [c["size"] for c in TRUTH["unet"]["crops"]]
    assert [r.output.spatial for r in crops] == [(n, n) for n in (56, 104, 200, 392)]
    concats = [r for r in net.layers if r.layer.kind is Kind.CONCAT]
    assert len(concats) == 4
    for r in concats:
        assert len(r.inputs) == 2
        assert r.inputs[0].spatial == r.inputs[1].spatial == r.output.spatial, r.layer.name
        assert r.output.channels == r.inputs[0].channels + r.inputs[1].channels


def test_padded_keeps_the_size_without_crops() -> None:
    net = net_of("unet_padded")
    assert not [r for r in net.layers if r.layer.kind is Kind.CROP]
    assert net.output.spatial == net.input.spatial == (256, 256)


def test_both_pass_lint_strict() -> None:
    result = CliRunner().invoke(main, ["lint", "--strict", *(str(SPECS / f"{n}.yaml") for n in NAMES)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("0 errors, 0 warnings")


@pytest.mark.parametrize("name", ["unet", "unet_padded"])
def test_receptive_field_is_pytorchs(name: str) -> None:
    """The output's field through the skips and up-convolutions, the widest over a period of units and
    the first unit's start, as PyTorch's gradients show it (tools/gen_unet_rf.py): 204 pixels for both,
    starting at 0 (valid convs) and at -94 (padded)."""
    truth = json.loads((ROOT / "tests" / "data" / "unet_rf.json").read_text(encoding="utf-8"))[name]
    net = resolve(read(ROOT / "specs" / f"{name}.yaml"))
    field = net.layers[-1].field
    assert field is not None
    assert [f.size for f in field] == truth["size"]
    assert [f.jump for f in field] == truth["jump"]
    assert [f.start for f in field] == truth["start"]
