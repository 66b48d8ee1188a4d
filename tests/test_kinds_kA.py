"""issue 12's upsample, pixel_shuffle, pixel_unshuffle and reshape: PyTorch's recorded cases, the CLI,
and the kernels against plain loops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convcalc import SpecError
from convcalc.loader import load
from convcalc.model import Severity
from convcalc.resolver import resolve

DATA = json.loads((Path(__file__).resolve().parent / "data" / "torch_kinds.json").read_text(encoding="utf-8"))
MINE = ("upsample", "pixel_shuffle", "pixel_unshuffle", "reshape")
CASES = [c for c in DATA["cases"] if c["kind"] in MINE]


def _outcome(spec: dict[str, Any]) -> tuple[int, ...] | None:
    """The output convcalc gives (channels last), or None when it refuses the layer."""
    try:
        net = resolve(load(spec))
    except SpecError:
        return None
    (r,) = net.layers
    if not r.output.positive or any(f.severity is Severity.ERROR for f in net.findings):
        return None
    return r.output.dims


def _agrees(case: dict[str, Any], layer: dict[str, Any], dims: list[int], layout: str) -> None:
    torch = case["torch"]
    net_spec = {"input": dims, "layout": layout, "layers": [layer]}
    got = _outcome(net_spec)
    if torch["error"] is not None or torch["output"] is None or 0 in torch["output"]:
        assert got is None, f"PyTorch refuses ({torch['stage']}: {torch['error']}) but convcalc gives {got}"
        return
    assert got == tuple(torch["output"])
    (r,) = resolve(load(net_spec)).layers
    assert (r.params, r.non_trainable, r.macs) == (torch["params"], torch["non_trainable"], 0)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_pytorch_recorded_case(case: dict[str, Any]) -> None:
    _agrees(case, case["spec"], case["input"], "hwc")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_pytorch_recorded_case_channels_first(case: dict[str, Any]) -> None:
    """The same case in a chw spec: the input's numbers (and reshape's shape) channels first."""
    dims = case["input"] if len(case["input"]) == 1 else [case["input"][-1], *case["input"][:-1]]
    layer = case.get("spec_chw", case["spec"])
    torch = case["torch"]
    net_spec = {"input": dims, "layout": "chw", "layers": [layer]}
    got = _outcome(net_spec)
    if torch["error"] is not None or torch["output"] is None or 0 in torch["output"]:
        assert got is None
    else:
        assert got == tuple(torch["output"])


def test_every_kind_of_mine_has_cases() -> None:
    counts = {k: sum(c["kind"] == k for c in CASES) for k in MINE}
    assert counts == {"upsample": 172, "pixel_shuffle": 32, "pixel_unshuffle": 32, "reshape": 49}
