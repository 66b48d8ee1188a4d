"""Issue 13: the JSON of `convcalc run` (version 2) is described by convcalc/run.schema.json, and every
kind of output validates against it: chains, graphs with blocks, checks, explanations, several specs and
an invalid one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from convcalc.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "convcalc" / "run.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)


def test_the_schema_is_valid() -> None:
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "args",
    [
        ["specs/cs231n.yaml"],
        ["specs/torchvision/resnet18.yaml", "--explain"],
        ["specs/torchvision/shufflenet_v2_x0_5.yaml", "--check", "--input", "64x64x3"],
        ["specs/unet_padded.yaml", "--input", "250x250x3"],
        ["specs/lenet5.yaml", "specs/torchvision/densenet121.yaml", "tests/data/invalid/typo.yaml"],
        ["specs/torchvision/efficientnet_b0.yaml", "--no-in-place", "--batch", "8", "--dtype", "bfloat16"],
    ],
    ids=lambda a: " ".join(a),
)
def test_run_json_validates(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["run", *args, "--format", "json"])
    assert result.exit_code in (0, 1, 2), result.output
    data = json.loads(result.stdout)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)]
    assert errors == []


def test_the_schema_is_strict() -> None:
    """An unknown key or a missing one is refused: the schema cannot go stale silently."""
    result = CliRunner().invoke(main, ["run", str(ROOT / "specs" / "cs231n.yaml"), "--format", "json"])
    data = json.loads(result.stdout)
    data["layers"][0]["surprise"] = 1
    assert not VALIDATOR.is_valid(data)
    del data["layers"][0]["surprise"]
    del data["totals"]["peak_at"]
    assert not VALIDATOR.is_valid(data)
