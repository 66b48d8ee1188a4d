"""convcalc against PyTorch 2.13.0's recorded behaviour (tests/data/torch_cases.json).

The fixture is written by tools/gen_torch_cases.py; torch itself is never imported here.
Padding PyTorch's layers cannot take (per-side pairs, TensorFlow's `same` when its two sides
differ) was recorded the way a PyTorch user writes it: F.pad before the layer, or a crop after
a transposed one (each such case's `torch.via` says how).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import convcalc

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parent / "data" / "torch_cases.json").read_text(encoding="utf-8")
)
REFUSALS = {
    "non-positive-size",
    "groups-mismatch",
    "pool-pad-too-large",
    "window-exceeds-input",
    "output-pad-too-large",
}
LAYER_KEYS = {
    "conv": ("filters", "size", "stride", "pad", "dilation", "groups", "bias"),
    "deconv": ("filters", "size", "stride", "pad", "dilation", "groups", "bias", "output_pad"),
    "pool": ("mode", "size", "stride", "pad", "ceil", "count_pad", "output"),
    "global_pool": ("mode",),
    "fc": ("units", "bias"),
    "flatten": (),
    "bn": ("affine",),
    "act": ("fn",),
    "dropout": ("p",),
}
"""The spec keys each kind's record carries; a null one is left out (a pool's stride then defaults)."""
COUNTS = {
    "conv": 1455,
    "deconv": 825,
    "pool": 1684,
    "global_pool": 35,
    "fc": 124,
    "flatten": 8,
    "bn": 42,
    "act": 15,
    "dropout": 5,
}


def spec_of(case: dict[str, Any]) -> dict[str, Any]:
    """The convcalc spec of one recorded case (input channels last)."""
    kind = case["kind"]
    layer = {"type": kind} | {key: case[key] for key in LAYER_KEYS[kind] if case[key] is not None}
    return {"input": case["input"], "layers": [layer]}


def refused(torch: dict[str, Any]) -> bool:
    """Whether PyTorch refuses: an error, an empty output (a crop) or a pool window of padding alone."""
    empty = torch["output"] is not None and 0 in torch["output"]
    return torch["error"] is not None or empty or bool(torch["padding_only"])


def params_of(cases: list[dict[str, Any]]) -> list[Any]:
    """One pytest param per case, with its id."""
    return [pytest.param(case, id=case["id"]) for case in cases]


def test_fixture_is_the_expected_one() -> None:
    assert Counter(c["kind"] for c in CASES) == COUNTS
    assert len(CASES) == 4193
    assert len({c["id"] for c in CASES}) == len(CASES)


def test_every_pad_form_is_recorded() -> None:
    forms = Counter(
        (
            c["kind"],
            len(c["input"]) - 1,
            p if isinstance(p, str) else "sides" if isinstance(p[0], list) else "n",
        )
        for c in CASES
        if (p := c["pad"]) is not None
    )
    for kind in ("conv", "deconv", "pool"):
        for ndim in (1, 2, 3):
            for form in ("n", "same", "valid", "sides"):
                assert forms[kind, ndim, form] >= 3, (kind, ndim, form)


@pytest.mark.parametrize("case", params_of(CASES))
def test_agrees_with_torch(case: dict[str, Any]) -> None:
    torch = case["torch"]
    if case["kind"] in ("conv", "deconv") and case["groups"] < 1:
        # groups 0 is an invalid spec for convcalc (exit 2), a refusal like torch's.
        assert torch["error"] is not None
        with pytest.raises(convcalc.SpecError, match="'groups' must be a positive integer"):
            convcalc.analyze(spec_of(case))
        return
    result = convcalc.analyze(spec_of(case))
    codes = {d["code"] for d in result["diagnostics"] if d["severity"] == "error"}
    if not refused(torch):
        (layer,) = result["layers"]
        assert layer["output_shape"] == torch["output"]
        assert layer["params"] == torch["params"]
        assert not codes & REFUSALS, result["diagnostics"]
    elif torch["padding_only"]:
        assert "pool-pad-too-large" in codes, f"a window sees padding alone ({torch['via']})"
    else:
        assert codes & REFUSALS, f"torch refuses it ({torch['error'] or torch['output']}), convcalc does not"
