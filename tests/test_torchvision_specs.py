"""Issue 13: the torchvision models as specs, each exact against the real model (tests/data/torchvision,
recorded by tools/gen_torchvision.py), each passing `convcalc lint --strict` with its own expect:."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.loader import read
from convcalc.resolver import resolve

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs" / "torchvision"
TRUTH = json.loads((ROOT / "tests" / "data" / "torchvision" / "totals.json").read_text(encoding="utf-8"))
WRITTEN = sorted(p.stem for p in SPECS.glob("*.yaml"))


def test_every_spec_is_a_torchvision_model() -> None:
    assert set(WRITTEN) <= set(TRUTH["models"])


@pytest.mark.parametrize("name", WRITTEN)
def test_spec_is_exact(name: str) -> None:
    """Params, MACs (conv, deconv and fc, as convcalc counts them), output and input as the model's."""
    net = resolve(read(SPECS / f"{name}.yaml"))
    truth = TRUTH["totals"][name]
    assert (net.params, net.macs) == (truth["params"], truth["macs"])
    assert list(net.input.dims) == truth["input"]
    assert list(net.output.dims) == truth["output"]
    assert net.non_trainable == truth["buffers"]  # running means and variances (num_batches_tracked aside)
    assert net.spec.expect is not None
    assert (net.spec.expect.params, net.spec.expect.macs) == (truth["params"], truth["macs"])


def test_every_spec_passes_lint_strict() -> None:
    if not WRITTEN:
        pytest.skip("no torchvision spec yet")
    result = CliRunner().invoke(main, ["lint", "--strict", str(SPECS)])
    assert result.exit_code == 0, result.output


def test_resnet50_is_short() -> None:
    """Conciseness is part of the goal: ResNet-50 is at most 25 lines, its blocks in the shared library."""
    path = SPECS / "resnet50.yaml"
    if not path.exists():
        pytest.skip("resnet50 not written yet")
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 25


def test_every_convolutional_torchvision_model_is_shipped() -> None:
    """The 68 that are not ViT, Swin or MaxViT."""
    assert set(WRITTEN) == set(TRUTH["models"])
    assert len(WRITTEN) == 68


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "densenet121"])
def test_receptive_field_through_branches_is_pytorchs(name: str) -> None:
    """The field of the last feature map, the widest over all paths, as PyTorch's gradients show it
    (tools/gen_torchvision.py): ResNet-50 427, GoogLeNet 379, DenseNet-121 2071, jump 32."""
    net = resolve(read(SPECS / f"{name}.yaml"))
    last = [r for r in net.layers if r.field is not None][-1]
    truth = TRUTH["totals"][name]["field"]
    assert [f.size for f in last.field] == truth["size"]
    assert [f.jump for f in last.field] == truth["jump"]
    assert [f.start for f in last.field] == truth["start"]
