"""The recorded torchvision ground truth (tests/data/torchvision/) is whole and agrees with itself.

The files are written by tools/gen_torchvision.py (torch 2.13.0, torchvision 0.28, in a scratch
venv); torch is never imported here, and neither is convcalc: this pins the data issue 13's
specs/torchvision/ will be checked against. Per-layer parameters must add up to the totals, and
the MACs recomputed from each recorded layer's shapes and settings must add up to the recorded
`macs`, in convcalc's convention (conv, transposed conv and linear only).
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent / "data" / "torchvision"
TRUTH = json.loads((DATA / "totals.json").read_text(encoding="utf-8"))
TOTALS: dict[str, dict[str, Any]] = TRUTH["totals"]
PER_LAYER = sorted(p.stem for p in DATA.glob("*.json") if p.stem != "totals")
MODELS = [
    "alexnet",
    "convnext_base",
    "convnext_large",
    "convnext_small",
    "convnext_tiny",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "efficientnet_v2_l",
    "efficientnet_v2_m",
    "efficientnet_v2_s",
    "googlenet",
    "inception_v3",
    "mnasnet0_5",
    "mnasnet0_75",
    "mnasnet1_0",
    "mnasnet1_3",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "regnet_x_16gf",
    "regnet_x_1_6gf",
    "regnet_x_32gf",
    "regnet_x_3_2gf",
    "regnet_x_400mf",
    "regnet_x_800mf",
    "regnet_x_8gf",
    "regnet_y_128gf",
    "regnet_y_16gf",
    "regnet_y_1_6gf",
    "regnet_y_32gf",
    "regnet_y_3_2gf",
    "regnet_y_400mf",
    "regnet_y_800mf",
    "regnet_y_8gf",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "resnext50_32x4d",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
    "squeezenet1_0",
    "squeezenet1_1",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "wide_resnet101_2",
    "wide_resnet50_2",
]
"""torchvision 0.28's list_models() without vit_*, swin_* and maxvit_t: issue 13's 68."""
REFERENCE = {
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet50": (25_557_032, 4_089_184_256),
    "densenet121": (7_978_856, 2_834_161_664),
    "mobilenet_v2": (3_504_872, 300_774_272),
    "efficientnet_b0": (5_288_548, 385_814_752),
    "convnext_tiny": (28_589_128, 4_455_531_264),
    "googlenet": (6_624_904, None),
    "inception_v3": (23_834_568, None),
}
"""Issue 13's figures (params, MACs in convcalc's convention; None: not given)."""
CONV = {"Conv1d", "Conv2d", "Conv3d"}
CONV_T = {"ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"}


@cache
def layers_of(name: str) -> dict[str, Any]:
    """A model's per-layer file."""
    result: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return result


def macs(row: dict[str, Any]) -> int:
    """convcalc's MACs of one recorded call, from its shapes and settings alone."""
    s, x, y = row["settings"], row["in"][0], row["out"]
    if row["class"] in CONV:
        assert x[0] == s["in_channels"], row
        assert y[0] == s["out_channels"], row
        return int(
            math.prod(y[1:])
            * s["out_channels"]
            * (s["in_channels"] // s["groups"])
            * math.prod(s["kernel_size"])
        )
    if row["class"] in CONV_T:
        assert x[0] == s["in_channels"], row
        assert y[0] == s["out_channels"], row
        return int(
            math.prod(x[1:])
            * s["in_channels"]
            * (s["out_channels"] // s["groups"])
            * math.prod(s["kernel_size"])
        )
    if row["class"] == "Linear":
        assert x[-1] == s["in_features"], row
        assert y[-1] == s["out_features"], row
        return int(math.prod(x[:-1]) * s["in_features"] * s["out_features"])
    return 0


def test_the_68_models() -> None:
    assert TRUTH["models"] == MODELS == list(TOTALS)
    assert len(MODELS) == 68
    assert TRUTH["torch"].startswith("2.13.0")
    assert TRUTH["torchvision"].startswith("0.28")


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_issue_reference_figures(name: str) -> None:
    params, total_macs = REFERENCE[name]
    assert TOTALS[name]["params"] == params
    if total_macs is not None:
        assert TOTALS[name]["macs"] == total_macs


def test_inputs_and_outputs() -> None:
    for name, t in TOTALS.items():
        n = 299 if name == "inception_v3" else 224
        assert t["input"] == [n, n, 3], name
        assert t["output"] == [1000], name


def test_per_layer_files_are_the_flagged_ones() -> None:
    assert sorted(n for n, t in TOTALS.items() if t["per_layer"]) == PER_LAYER
    assert {"resnet50", "densenet121", "googlenet", "convnext_tiny"} <= set(PER_LAYER)


@pytest.mark.parametrize("name", PER_LAYER)
def test_per_layer_params_add_up(name: str) -> None:
    data = layers_of(name)
    assert data["model"] == name
    assert data["input"] == TOTALS[name]["input"]
    # leaves that never run: EfficientNet's stochastic depth where a block has no residual,
    # ShuffleNetV2's empty branch1 in stride-1 blocks (the sums below show they hold nothing)
    assert all(q.endswith((".stochastic_depth", ".branch1")) for q in data["uncalled"])
    once = {row["name"]: (row["params"], row["buffers"]) for row in data["layers"]}
    params = sum(p for p, _ in once.values()) + sum(o["params"] for o in data["own"])
    buffers = sum(b for _, b in once.values()) + sum(o["buffers"] for o in data["own"])
    assert params == TOTALS[name]["params"]
    assert buffers == TOTALS[name]["buffers"]


@pytest.mark.parametrize("name", PER_LAYER)
def test_per_layer_macs_add_up(name: str) -> None:
    rows = layers_of(name)["layers"]
    assert len(rows) == TOTALS[name]["layers"]
    for row in rows:
        assert macs(row) == row["macs"], row
    assert sum(macs(row) for row in rows) == TOTALS[name]["macs"]


@pytest.mark.parametrize("name", PER_LAYER)
def test_conv_output_sizes_follow_the_settings(name: str) -> None:
    for row in layers_of(name)["layers"]:
        if row["class"] not in CONV:
            continue
        s = row["settings"]
        for n, k, st, p, d, out in zip(
            row["in"][0][1:],
            s["kernel_size"],
            s["stride"],
            s["padding"],
            s["dilation"],
            row["out"][1:],
            strict=True,
        ):
            assert (n + 2 * p - d * (k - 1) - 1) // st + 1 == out, row


def test_a_shared_relu_has_a_record_per_call() -> None:
    rows = layers_of("resnet50")["layers"]
    assert sum(row["name"] == "layer1.0.relu" for row in rows) == 3


def test_receptive_fields() -> None:
    # By hand, torchvision's ResNet-50 (stride on the 3x3): stem 7/2 and pool 3/2 give 11 at
    # jump 4; each 3x3 adds 2 x jump: 3 at 4, 4 at 8 (the first at 4), 6 at 16 (first at 8),
    # 3 at 32 (first at 16): 11 + 24 + 8 + 48 + 16 + 160 + 32 + 128 = 427.
    assert TOTALS["resnet50"]["field"]["size"] == [427, 427]
    # DenseNet-121's longest path: 11 at jump 4, then 6 3x3 at 4, avgpool 2/2 (+4), 12 at 8,
    # (+8), 24 at 16, (+16), 16 at 32: 11 + 48 + 4 + 192 + 8 + 768 + 16 + 1024 = 2071.
    assert TOTALS["densenet121"]["field"]["size"] == [2071, 2071]
    # GoogLeNet (torchvision's, whose "5x5" branch is a 3x3): 11 at jump 4, conv3 (+8),
    # pool2 (+8), 3a and 3b at 8 (+16 each), pool3 (+16), 4a-4e at 16 (+32 each), pool4 2/2
    # (+16), 5a and 5b at 32 (+64 each): 11 + 8 + 8 + 32 + 16 + 160 + 16 + 128 = 379.
    assert TOTALS["googlenet"]["field"]["size"] == [379, 379]
    for name in ("resnet50", "googlenet", "densenet121"):
        f = TOTALS[name]["field"]
        assert f["jump"] == [32, 32], name
        assert f["start"][0] == f["start"][1] < 0, name
    assert {n for n in TOTALS if "field" in TOTALS[n]} == {"resnet50", "googlenet", "densenet121"}
