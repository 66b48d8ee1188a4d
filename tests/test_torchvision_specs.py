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
