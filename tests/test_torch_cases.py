"""convcalc against PyTorch 2.13.0's recorded behaviour (tests/data/torch_cases.json).

The fixture is written by tools/gen_torch_cases.py; torch itself is never imported here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import convcalc

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parent / "data" / "torch_cases.json").read_text(encoding="utf-8")
)
REFUSALS = {"non-positive-size", "groups-mismatch", "pool-pad-too-large", "window-exceeds-input"}


def spec_of(case: dict[str, Any]) -> dict[str, Any]:
    """The convcalc spec of one recorded case (input channels last; stride null means default)."""
    kind = case["kind"]
    if kind == "fc":
        layer: dict[str, Any] = {"type": "fc", "units": case["units"], "bias": case["bias"]}
    elif kind == "conv":
        layer = {
            "type": "conv",
            "filters": case["filters"],
            "size": case["size"],
            "stride": case["stride"],
            "pad": case["pad"],
            "dilation": case["dilation"],
            "groups": case["groups"],
            "bias": case["bias"],
        }
    else:
        layer = {
            "type": "pool",
            "mode": case["mode"],
            "size": case["size"],
            "pad": case["pad"],
            "ceil": case["ceil"],
        }
        if case["stride"] is not None:
            layer["stride"] = case["stride"]
    return {"input": case["input"], "layers": [layer]}


def params_of(case: dict[str, Any]) -> list[Any]:
    """One pytest param per case, with its id; deconv is skipped visibly."""
    out = []
    for case in CASES:
        marks: list[Any] = []
        if case["kind"] == "deconv":
            marks.append(pytest.mark.skip(reason="deconv (ConvTranspose) is not supported yet"))
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


def test_fixture_is_the_expected_one() -> None:
    assert len(CASES) == 2702
    assert len({c["id"] for c in CASES}) == len(CASES)
    kinds = {c["kind"] for c in CASES}
    assert kinds == {"conv", "pool", "deconv", "fc"}


@pytest.mark.parametrize("case", params_of(CASES))
def test_agrees_with_torch(case: dict[str, Any]) -> None:
    torch = case["torch"]
    if case["kind"] == "conv" and case["groups"] < 1:
        # groups 0 is an invalid spec for convcalc (exit 2), a refusal like torch's.
        assert torch["error"] is not None
        with pytest.raises(convcalc.SpecError, match="'groups' must be a positive integer"):
            convcalc.analyze(spec_of(case))
        return
    result = convcalc.analyze(spec_of(case))
    codes = {d["code"] for d in result["diagnostics"] if d["severity"] == "error"}
    if torch["error"] is None:
        (layer,) = result["layers"]
        assert layer["output_shape"] == torch["output"]
        assert layer["params"] == torch["params"]
        assert not codes & REFUSALS, result["diagnostics"]
    else:
        assert codes & REFUSALS, f"torch refuses it ({torch['error']}), convcalc does not"
