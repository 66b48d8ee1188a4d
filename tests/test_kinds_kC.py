"""The norms, prelu and scale (issue 12), and the activations act gained: against PyTorch's recorded
cases (tests/data/torch_kinds.json), from the command line, and their kernels against loops."""

from __future__ import annotations

import json
import math
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import convcalc
from convcalc import check
from convcalc.__main__ import main
from convcalc.kinds.group_norm import kernel as group_norm_kernel
from convcalc.kinds.instance_norm import kernel as instance_norm_kernel
from convcalc.kinds.layer_norm import kernel as layer_norm_kernel
from convcalc.kinds.prelu import kernel as prelu_kernel
from convcalc.kinds.scale import kernel as scale_kernel
from convcalc.loader import parse
from convcalc.model import Fn
from convcalc.resolver import resolve

DATA = json.loads((Path(__file__).resolve().parent / "data" / "torch_kinds.json").read_text(encoding="utf-8"))
KINDS = ("layer_norm", "group_norm", "instance_norm", "prelu", "scale")
NOT_OFFERED = {
    "swish": "'fn' must be one of",  # spelled silu, as convcalc always has
    "glu": "'fn' must be one of",  # halves the channels: not a shape-keeping activation
    "threshold": "'fn' must be one of",  # nn.Threshold has no defaults to stand for
}
"""Activations PyTorch has that `act` does not offer, and how the loader refuses them."""
CASES = [c for c in DATA["cases"] if c["kind"] in KINDS or c["kind"] == "act"]
EXAMPLES = settings(max_examples=40, deadline=None)


def refused(torch: dict[str, Any]) -> bool:
    """Whether PyTorch refuses: an error (or a rank it lacks), or an empty output."""
    return torch["error"] is not None or 0 in torch["output"]


def chw(dims: list[int]) -> list[int]:
    """Channels-last dims in PyTorch's order (a flat vector stays)."""
    return dims if len(dims) == 1 else [dims[-1], *dims[:-1]]


def test_every_recorded_kind_of_mine_is_here() -> None:
    counts = {k: sum(c["kind"] == k for c in CASES) for k in (*KINDS, "act")}
    assert counts == {
        "layer_norm": 22,
        "group_norm": 43,
        "instance_norm": 50,
        "prelu": 21,
        "scale": 22,
        "act": 150,
    }
    recorded = {c["spec"]["fn"] for c in CASES if c["kind"] == "act"}
    assert recorded - set(NOT_OFFERED) == {f.value for f in Fn}


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
@pytest.mark.parametrize("layout", ["hwc", "chw"])
def test_agrees_with_torch(case: dict[str, Any], layout: str) -> None:
    """PyTorch's output shape, params and non-trainable values (num_batches_tracked left out, as for
    bn); every refusal of PyTorch's is a located spec error, or, for groups that do not divide the
    channels, an error finding."""
    torch, spec = case["torch"], case["spec"]
    dims = case["input"] if layout == "hwc" else chw(case["input"])
    net = {"input": dims, "layout": layout, "layers": [spec]}
    if case["kind"] == "act" and spec["fn"] in NOT_OFFERED:
        with pytest.raises(convcalc.SpecError, match=NOT_OFFERED[spec["fn"]]):
            convcalc.analyze(net)
        return
    if refused(torch):
        if case["kind"] == "group_norm" and spec["groups"] > 0 and case["input"][-1] % spec["groups"]:
            errors = [d for d in convcalc.analyze(net)["diagnostics"] if d["severity"] == "error"]
            assert [d["code"] for d in errors] == ["groups-mismatch"]  # as conv's: a finding with its fix
            assert errors[0]["message"].endswith("PyTorch refuses it")
            return
        with pytest.raises(
            convcalc.SpecError,
            match=r"PyTorch refuses it|needs 2-D input|needs spatial input|must be a positive integer",
        ):
            convcalc.analyze(net)
        return
    (layer,) = convcalc.analyze(net)["layers"]
    assert layer["output_shape"] == (torch["output"] if layout == "hwc" else chw(torch["output"]))
    assert (layer["params"], layer["non_trainable_params"]) == (torch["params"], torch["non_trainable"])
    assert torch["buffers"] == torch["non_trainable"] + (1 if torch["non_trainable"] else 0)
    assert layer["macs"] == 0


def test_refusals_are_located_at_the_key(tmp_path: Path) -> None:
    """Groups that do not divide the channels are conv's and channel_shuffle's groups-mismatch: an error
    finding at the key, with the nearest groups that do (the layer still has its shape)."""
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 3x3x6\nlayers:\n  - {type: group_norm, groups: 4}\n")
    result = CliRunner().invoke(main, ["lint", str(spec)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"{spec}:3:32: error[groups-mismatch] group_norm1: groups 4 must divide the channels (6); "
        "PyTorch refuses it; fix: groups 2 or groups 3"
    )
    run = CliRunner().invoke(main, ["run", str(spec), "--format", "json"])
    assert run.exit_code == 1
    assert json.loads(run.stdout)["layers"][0]["output_shape"] == [3, 3, 6]


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (
            "{type: group_norm, groups: 6}",
            "group_norm1: each of the 6 groups holds one value (1 channel at 1x1 position), which "
            'normalises to nothing; PyTorch refuses it even in eval mode ("Expected more than 1 value '
            'per channel")',
        ),
        (
            "{type: instance_norm}",
            "instance_norm1: each channel has one position (1x1), which normalises to nothing; PyTorch "
            'refuses it even in eval mode ("Expected more than 1 spatial element") unless '
            "track_running_stats is true",
        ),
        (
            "{type: act, fn: softmax2d}",
            "act1: softmax2d (nn.Softmax2d) needs 2-D input, but its input has 0 spatial axes; softmax "
            "runs over the channels at any rank",
        ),
    ],
)
def test_refusals_of_a_single_value(layer: str, message: str) -> None:
    text = "input: 1x1x6\nlayers:\n  - " + layer + "\n"
    if "softmax2d" in layer:
        text = "input: 4x4x6\nlayers:\n  - {type: flatten}\n  - " + layer + "\n"
    with pytest.raises(convcalc.SpecError) as caught:
        resolve(parse(text, file="net.yaml"))
    assert caught.value.message == message


def test_instance_norm_needs_spatial_input() -> None:
    result = CliRunner().invoke(main, ["layer", "--in", "6", "--type", "instance_norm"])
    assert result.exit_code == 2
    assert result.stderr == (
        "convcalc layer: error: instance_norm1: an instance_norm layer needs spatial input, but its input "
        "is a flat vector of 6 (nn.InstanceNorm1d would read it as one unbatched sample) "
        "(see 'convcalc layer --help')\n"
    )


def test_tracked_instance_norm_takes_one_position() -> None:
    (layer,) = convcalc.analyze(
        {"input": "1x1x6", "layers": [{"type": "instance_norm", "track_running_stats": True}]}
    )["layers"]
    assert (layer["output_shape"], layer["params"], layer["non_trainable_params"]) == ([1, 1, 6], 0, 12)


EXPLAINED = [
    (
        ["--type", "layer_norm"],
        "2 x 96 = 192 (scale and shift per channel); each position is normalised by the mean and variance "
        "of its 96 channels, none stored",
    ),
    (
        ["--type", "layer_norm", "--no-affine"],
        "0 (affine: false); each position is normalised by the mean and variance of its 96 channels, "
        "none stored",
    ),
    (
        ["--type", "group_norm", "--groups", "32"],
        "2 x 96 = 192 (scale and shift per channel); 32 groups of 3 channels, no running statistics",
    ),
    (
        ["--type", "group_norm", "--groups", "96", "--no-affine"],
        "0 (affine: false); 96 groups of 1 channel, no running statistics",
    ),
    (
        ["--type", "instance_norm"],
        "0 (affine: false); each channel is normalised by the mean and variance of its own positions, "
        "none stored",
    ),
    (
        ["--type", "instance_norm", "--affine", "--track-running-stats"],
        "2 x 96 = 192 (scale and shift); 2 x 96 = 192 running mean and variance, not trained",
    ),
    (["--type", "prelu"], "1 (one slope shared by every channel: nn.PReLU())"),
    (["--type", "prelu", "--per-channel"], "96 (a slope per channel: nn.PReLU(96))"),
    (["--type", "scale"], "96 (a multiplier per channel)"),
    (["--type", "scale", "--bias"], "2 x 96 = 192 (a multiplier and a bias per channel)"),
]


@pytest.mark.parametrize(
    ("args", "params"), EXPLAINED, ids=lambda v: "-".join(v) if isinstance(v, list) else ""
)
def test_explain_and_check_from_the_command_line(args: list[str], params: str) -> None:
    result = CliRunner().invoke(main, ["layer", "--in", "6x6x96", *args, "--explain", "--check"])
    assert result.exit_code == 0, result.output
    name = f"{args[1]}1"
    assert result.stdout.splitlines() == [
        f"{name}: 6x6x96 -> 6x6x96",
        f"  parameters       {params}",
        "  MACs             0",
        "  receptive field  1 (unchanged)",
        "  activations      6x6x96 = 3,456, 13.5 KiB float32",
        "  check            ran it with numpy: 6x6x96 ✓",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "group_norm"], "--type group_norm needs --groups"),
        (["--type", "prelu", "--bias"], "--bias does not apply to --type prelu"),
        (["--type", "scale", "--per-channel"], "--per-channel does not apply to --type scale"),
        (
            ["--type", "layer_norm", "--track-running-stats"],
            "--track-running-stats does not apply to --type layer_norm",
        ),
        (["--type", "bn", "--affine", "--no-affine"], "--affine and --no-affine contradict"),
        (["--type", "conv", "--bias", "--no-bias"], "--bias and --no-bias contradict"),
        (["--type", "instance_norm", "--groups", "2"], "--groups does not apply to --type instance_norm"),
    ],
)
def test_flags_refused(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["layer", "--in", "4x4x6", *args])
    assert result.exit_code == 2
    assert result.stderr == f"convcalc layer: error: {message} (see 'convcalc layer --help')\n"


def test_layer_group_norm_groups_mismatch_is_a_finding() -> None:
    result = CliRunner().invoke(main, ["layer", "--in", "4x4x6", "--type", "group_norm", "--groups", "5"])
    assert result.exit_code == 1
    assert (
        "error[groups-mismatch] group_norm1: groups 5 must divide the channels (6); PyTorch refuses it"
        in (result.output)
    )
    assert "fix: groups 3 or groups 6" in result.output


def test_flags_read_as_the_spec_line() -> None:
    for args, spec in [
        (
            ["--type", "instance_norm", "--affine", "--track-running-stats"],
            {"affine": True, "track_running_stats": True},
        ),
        (["--type", "prelu", "--per-channel"], {"per_channel": True}),
        (["--type", "scale", "--bias"], {"bias": True}),
        (["--type", "group_norm", "--groups", "3", "--no-affine"], {"groups": 3, "affine": False}),
    ]:
        result = CliRunner().invoke(main, ["layer", "--in", "4x4x6", *args, "--format", "json"])
        (row,) = json.loads(result.stdout)["layers"]
        (want,) = convcalc.analyze({"input": "4x4x6", "layers": [{"type": args[1], **spec}]})["layers"]
        assert row == want


def test_json_fields() -> None:
    layers = convcalc.analyze(
        {
            "input": "4x4x8",
            "layers": [
                {"type": "layer_norm", "affine": False},
                {"type": "group_norm", "groups": 4},
                {"type": "instance_norm", "affine": True},
                {"type": "prelu"},
                {"type": "scale"},
            ],
        }
    )["layers"]
    fields = ("type", "window", "groups", "affine", "fn", "p", "mode")
    assert [[row[k] for k in fields] for row in layers] == [
        ["layer_norm", None, None, False, None, None, None],
        ["group_norm", None, 4, True, None, None, None],
        ["instance_norm", None, None, True, None, None, None],
        ["prelu", None, None, None, None, None, None],
        ["scale", None, None, None, None, None, None],
    ]


def test_table_cells() -> None:
    text = "input: 4x4x8\nlayers:\n  - {type: group_norm, groups: 4}\n  - {type: prelu}\n"
    result = CliRunner().invoke(main, ["run", "-", "--columns", "name,type,window,params"], input=text)
    assert result.exit_code == 0, result.output
    rows = [
        line.split()
        for line in result.stdout.splitlines()
        if line.split()[:1] in (["group_norm1"], ["prelu1"])
    ]
    assert rows == [["group_norm1", "group_norm", "g", "4", "16"], ["prelu1", "prelu", "1"]]


def test_activations_counted_as_new_outputs() -> None:
    """The norms, prelu and scale make a new array (none runs in place), unlike act."""
    spec = {
        "input": "4x4x8",
        "layers": [{"type": k, "groups": 2} if k == "group_norm" else {"type": k} for k in KINDS],
    }
    result = convcalc.analyze(spec)
    assert [row["activations"] for row in result["layers"]] == [128] * 5


# ---------------------------------------------------------------- kernels against loops


def random(seed: int, *shape: int) -> Any:
    """Reproducible float32 values in [-1, 1)."""
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def close(actual: Any, expected: Any) -> None:
    """float32, the expected shape, and values within float32 tolerance (a norm divides by small spreads)."""
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-3)


def standardise(values: list[float]) -> list[float]:
    """(v - mean) / sqrt(var + 1e-5), the biased variance, in float64."""
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / len(values)
    return [(v - mean) / math.sqrt(var + 1e-5) for v in values]


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3)


@EXAMPLES
@given(shapes, st.integers(1, 5), st.booleans(), st.integers(0, 2**32 - 1))
def test_layer_norm_matches_a_loop(n: list[int], channels: int, affine: bool, seed: int) -> None:
    x = random(seed, channels, *n)
    weight, bias = (random(seed + 1, channels), random(seed + 2, channels)) if affine else (None, None)
    expected = np.zeros(x.shape)
    for i in np.ndindex(*n):
        column = standardise([float(x[(c, *i)]) for c in range(channels)])
        for c in range(channels):
            v = column[c]
            expected[(c, *i)] = (
                v * float(weight[c]) + float(bias[c]) if weight is not None and bias is not None else v
            )
    close(layer_norm_kernel(x, weight=weight, bias=bias), expected)


@EXAMPLES
@given(shapes, st.integers(1, 3), st.integers(1, 3), st.booleans(), st.integers(0, 2**32 - 1))
def test_group_norm_matches_a_loop(n: list[int], groups: int, per: int, affine: bool, seed: int) -> None:
    channels = groups * per
    x = random(seed, channels, *n)
    weight, bias = (random(seed + 1, channels), random(seed + 2, channels)) if affine else (None, None)
    expected = np.zeros(x.shape)
    for g in range(groups):
        members = [(c, *i) for c in range(g * per, (g + 1) * per) for i in np.ndindex(*n)]
        for index, v in zip(members, standardise([float(x[m]) for m in members]), strict=True):
            c = index[0]
            expected[index] = (
                v * float(weight[c]) + float(bias[c]) if weight is not None and bias is not None else v
            )
    close(group_norm_kernel(x, groups=groups, weight=weight, bias=bias), expected)


@EXAMPLES
@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.integers(1, 4),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_instance_norm_matches_a_loop(
    n: list[int], channels: int, affine: bool, track: bool, seed: int
) -> None:
    x = random(seed, channels, *n)
    weight, bias = (random(seed + 1, channels), random(seed + 2, channels)) if affine else (None, None)
    mean = random(seed + 3, channels) if track else None
    var = np.abs(random(seed + 4, channels)) + np.float32(0.5) if track else None
    expected = np.zeros(x.shape)
    for c in range(channels):
        positions = [(c, *i) for i in np.ndindex(*n)]
        if mean is not None and var is not None:
            values = [(float(x[p]) - float(mean[c])) / math.sqrt(float(var[c]) + 1e-5) for p in positions]
        else:
            values = standardise([float(x[p]) for p in positions])
        for p, v in zip(positions, values, strict=True):
            expected[p] = (
                v * float(weight[c]) + float(bias[c]) if weight is not None and bias is not None else v
            )
    close(instance_norm_kernel(x, weight=weight, bias=bias, mean=mean, var=var), expected)


@EXAMPLES
@given(shapes, st.integers(1, 5), st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_prelu_and_scale_match_loops(
    n: list[int], channels: int, per_channel: bool, biased: bool, seed: int
) -> None:
    x = random(seed, channels, *n)
    slope = random(seed + 1, channels if per_channel else 1)
    weight, bias = random(seed + 2, channels), random(seed + 3, channels) if biased else None
    slopes, scaled = np.zeros(x.shape), np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        v, c = float(x[index]), index[0]
        a = float(slope[c if per_channel else 0])
        slopes[index] = v if v > 0 else a * v
        scaled[index] = v * float(weight[c]) + (float(bias[c]) if bias is not None else 0.0)
    close(prelu_kernel(x, slope=slope), slopes)
    close(scale_kernel(x, weight=weight, bias=bias), scaled)


@pytest.mark.parametrize(
    "layer",
    [
        "{type: layer_norm}",
        "{type: group_norm, groups: 4}",
        "{type: instance_norm, affine: true}",
        "{type: instance_norm, track_running_stats: true}",
        "{type: prelu}",
        "{type: prelu, per_channel: true}",
        "{type: scale, bias: true}",
        *(f"{{type: act, fn: {fn.value}}}" for fn in Fn),
    ],
)
def test_estimate_bounds_the_peak(layer: str) -> None:
    """What numpy allocates for each new kind stays within the check's estimate."""
    net = resolve(parse(f"input: 64x64x16\nlayers:\n  - {layer}\n"))
    tracemalloc.start()
    try:
        checks = check.run(net)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [c.status.value for c in checks] == ["ok"]
    assert peak <= check.estimate(net)[0] + 64 * 1024


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("LayerNorm", "'layer_norm'"),
        ("LayerNormalization", "'layer_norm'"),
        ("GroupNorm", "'group_norm'"),
        ("InstanceNorm2d", "'instance_norm'"),
        ("InstanceNormalization", "'instance_norm'"),
        ("PReLU", "'prelu'"),
        ("LayerScale", "'scale'"),
        ("Hardtanh", "'act' with 'fn: hardtanh'"),
        ("LogSoftmax", "'act' with 'fn: log_softmax'"),
        ("RReLU", "'act' with 'fn: rrelu'"),
    ],
)
def test_type_names_from_pytorch_and_keras(written: str, meant: str) -> None:
    with pytest.raises(convcalc.SpecError) as caught:
        parse(f"input: 4x4x8\nlayers:\n  - {{type: {written}}}\n")
    assert caught.value.message.startswith(f"layer 1: unknown type '{written}'; did you mean {meant}? ")
