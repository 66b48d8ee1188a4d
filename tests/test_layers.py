"""Issue 5's layer kinds and numbers at the core: shapes, counts, padding rules, findings, loader errors.

Every number is worked out by hand in the comment beside it; the properties check each kind against
a brute-force reference (scatter, window walk, index sets).
"""

from __future__ import annotations

import itertools
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc import arith
from convcalc import build as specmod
from convcalc.errors import SpecError
from convcalc.loader import read
from convcalc.model import Code, Fn, Network, PadMode, PoolMode, Resolved
from convcalc.resolver import resolve

SPECS = Path(__file__).parent.parent / "specs"
FAST = settings(max_examples=150, deadline=None)


def net_of(input: str | list[int], *layers: dict[str, Any]) -> Network:
    """Resolve a spec given as data (the core, no YAML or CLI)."""
    return resolve(specmod.build({"input": input, "layers": list(layers)}))


def only(input: str | list[int], layer: dict[str, Any]) -> Resolved:
    """The one resolved layer of a one-layer spec."""
    (r,) = net_of(input, layer).layers
    return r


def codes(net: Network) -> set[Code]:
    """The codes of a network's findings."""
    return {f.code for f in net.findings}


def pairs(before: list[int], after: list[int]) -> list[list[int]]:
    """Per-side pads as the spec writes them: [[before, after], ...] per axis."""
    return [[b, a] for b, a in zip(before, after, strict=True)]


# --- deconv -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input", "layer", "output", "params", "macs"),
    [
        # PyTorch's ConvTranspose2d docs: a 6x6x16 map up with 3/2/1 and output_size 12 (output_padding 1):
        # (6-1)2 - 2 + 2 + 1 + 1 = 12; params 16 x 16 x 9 + 16 = 2,320; MACs 36 x 16 x 16 x 9 = 82,944.
        (
            "6x6x16",
            {"type": "deconv", "filters": 16, "size": 3, "stride": 2, "pad": 1, "output_pad": 1},
            (12, 12, 16),
            2320,
            82944,
        ),
        # PyTorch's ConvTranspose2d docs: (3, 5) kernel, stride (2, 1), padding (4, 2) on 50x100x16, 33 out:
        # H (50-1)2 - 8 + 2 + 1 = 93, W 99 - 4 + 4 + 1 = 100; params 16 x 33 x 15 + 33 = 7,953;
        # MACs 50 x 100 x 16 x 33 x 15 = 39,600,000.
        (
            "50x100x16",
            {"type": "deconv", "filters": 33, "size": [3, 5], "stride": [2, 1], "pad": [4, 2]},
            (93, 100, 33),
            7953,
            39600000,
        ),
        # PyTorch's ConvTranspose3d docs: (3, 5, 2) kernel, stride (2, 1, 1), padding (0, 4, 2) on
        # 10x50x100x16: D 9 x 2 + 2 + 1 = 21, H 49 - 8 + 4 + 1 = 46, W 99 - 4 + 1 + 1 = 97;
        # params 16 x 33 x 30 + 33 = 15,873; MACs 10 x 50 x 100 x 16 x 33 x 30 = 792,000,000.
        (
            "10x50x100x16",
            {"type": "deconv", "filters": 33, "size": [3, 5, 2], "stride": [2, 1, 1], "pad": [0, 4, 2]},
            (21, 46, 97, 33),
            15873,
            792000000,
        ),
        # 1-D with groups and dilation: E = 2(5-1) + 1 = 9; (10-1)3 - 2 x 2 + 9 + 1 = 33;
        # weight (C_in, K/g, F) = 4 x 3 x 5 = 60, + 6 bias = 66; MACs 10 x 4 x 3 x 5 = 600.
        (
            "10x4",
            {
                "type": "deconv",
                "filters": 6,
                "size": 5,
                "stride": 3,
                "dilation": 2,
                "pad": 2,
                "output_pad": 1,
                "groups": 2,
            },
            (33, 6),
            66,
            600,
        ),
        # No bias, valid: (4-1)2 + 3 = 9 per axis in 3-D; 2 x 5 x 27 = 270; MACs 64 x 270 = 17,280.
        (
            "4x4x4x2",
            {"type": "deconv", "filters": 5, "size": 3, "stride": 2, "pad": "valid", "bias": False},
            (9, 9, 9, 5),
            270,
            17280,
        ),
    ],
    ids=["torch-doc-output-size", "torch-doc-2d", "torch-doc-3d", "1d-groups-dilation", "3d-valid"],
)
def test_deconv_table(
    input: str, layer: dict[str, Any], output: tuple[int, ...], params: int, macs: int
) -> None:
    """Output (N-1)S - 2P + D(F-1) + output_pad + 1; params C_in K/g prod(F) + K;
    MACs prod(N) C_in K/g prod(F)."""
    r = only(input, layer)
    assert (r.output.dims, r.params, r.macs) == (output, params, macs)


# DCGAN generator per layer (specs/dcgan.yaml), worked out from (N-1)S - 2P + F:
#   deconv1 1 -> 0 + 4 = 4; params 100 x 512 x 16 = 819,200 (no bias); MACs 1 x 819,200.
#   deconv2 4 -> 3 x 2 - 2 + 4 = 8; 512 x 256 x 16 = 2,097,152; MACs 16 x that = 33,554,432.
#   deconv3 8 -> 16; 256 x 128 x 16 = 524,288; MACs 64 x that = 33,554,432.
#   deconv4 16 -> 32; 128 x 64 x 16 = 131,072; MACs 256 x that = 33,554,432.
#   deconv5 32 -> 64; 64 x 3 x 16 = 3,072; MACs 1,024 x that = 3,145,728.
#   bn: 2C trainable and 2C running statistics.
DCGAN = {
    "deconv1": ((4, 4, 512), 819200, 0, 819200),
    "bn1": ((4, 4, 512), 1024, 1024, 0),
    "relu1": ((4, 4, 512), 0, 0, 0),
    "deconv2": ((8, 8, 256), 2097152, 0, 33554432),
    "bn2": ((8, 8, 256), 512, 512, 0),
    "deconv3": ((16, 16, 128), 524288, 0, 33554432),
    "bn3": ((16, 16, 128), 256, 256, 0),
    "deconv4": ((32, 32, 64), 131072, 0, 33554432),
    "bn4": ((32, 32, 64), 128, 128, 0),
    "deconv5": ((64, 64, 3), 3072, 0, 3145728),
    "tanh": ((64, 64, 3), 0, 0, 0),
}


def test_dcgan_per_layer_and_totals() -> None:
    """The DCGAN generator: 3,576,704 params and 104,628,224 MACs, each layer as worked out above."""
    net = resolve(read(SPECS / "dcgan.yaml"))
    got = {r.layer.name: (r.output.dims, r.params, r.non_trainable, r.macs) for r in net.layers}
    assert {k: got[k] for k in DCGAN} == DCGAN
    # 819,200 + 2,097,152 + 524,288 + 131,072 + 3,072 + bn 1,024 + 512 + 256 + 128 = 3,576,704.
    assert net.params == 3576704
    # 819,200 + 3 x 33,554,432 + 3,145,728 = 104,628,224.
    assert net.macs == 104628224
    # 2 x (512 + 256 + 128 + 64) running statistics.
    assert net.non_trainable == 1920
    # Input 100 + deconvs and bns 2 x (8,192 + 16,384 + 32,768 + 65,536) + deconv5 12,288 (relus none).
    assert net.activations == 258148
    assert net.findings == ()


def scatter_extent(n: int, size: int, stride: int, dilation: int) -> int:
    """Length of a transposed layer's uncropped output: every input i, tap k lands at i S + k D."""
    return max(i * stride + k * dilation for i in range(n) for k in range(size)) + 1


@st.composite
def deconvs(draw: st.DrawFn) -> dict[str, Any]:
    """A random 1-, 2- or 3-D transposed layer with per-side pads and output padding."""
    dims = draw(st.integers(1, 3))

    def axis(lo: int, hi: int) -> list[int]:
        return [draw(st.integers(lo, hi)) for _ in range(dims)]

    groups = draw(st.integers(1, 3))
    return {
        "n": axis(1, 5),
        "channels": groups * draw(st.integers(1, 3)),
        "layer": {
            "type": "deconv",
            "filters": groups * draw(st.integers(1, 3)),
            "groups": groups,
            "size": axis(1, 4),
            "stride": axis(1, 4),
            "dilation": axis(1, 3),
            "output_pad": axis(0, 3),
            "bias": draw(st.booleans()),
        },
        "before": axis(0, 4),
        "after": axis(0, 4),
    }


@FAST
@given(case=deconvs())
def test_deconv_against_scatter(case: dict[str, Any]) -> None:
    """Output = the scattered length + output_pad - crops; params and MACs counted by scattering."""
    layer = dict(case["layer"], pad=pairs(case["before"], case["after"]))
    n, c = case["n"], case["channels"]
    expected = tuple(
        scatter_extent(n_, f, s, d) + e - b - a
        for n_, f, s, d, e, b, a in zip(
            n,
            layer["size"],
            layer["stride"],
            layer["dilation"],
            layer["output_pad"],
            case["before"],
            case["after"],
            strict=True,
        )
    )
    assume(all(o >= 1 for o in expected))
    r = only([*n, c], layer)
    assert r.output.spatial == expected
    assert r.output.channels == layer["filters"]
    # PyTorch's ConvTranspose weight is (C_in, K/g, *F), plus K biases.
    k, g = layer["filters"], layer["groups"]
    assert r.params == c * (k // g) * math.prod(layer["size"]) + (k if layer["bias"] else 0)
    # One MAC per (input position, tap) landing, per input channel and output channel of its group.
    landings = sum(
        1
        for _ in itertools.product(
            itertools.product(*(range(x) for x in n)), itertools.product(*(range(f) for f in layer["size"]))
        )
    )
    assert r.macs == landings * c * (k // g)


@FAST
@given(
    dims=st.integers(1, 2),
    size=st.integers(1, 4),
    stride=st.lists(st.integers(1, 4), min_size=2, max_size=2),
    dilation=st.lists(st.integers(1, 3), min_size=2, max_size=2),
    output_pad=st.lists(st.integers(0, 4), min_size=2, max_size=2),
)
def test_output_pad_too_large_exactly_when_pytorch_refuses(
    dims: int, size: int, stride: list[int], dilation: list[int], output_pad: list[int]
) -> None:
    """PyTorch refuses output_padding >= both the stride and the dilation, on any axis; nothing else does."""
    stride, dilation, output_pad = stride[:dims], dilation[:dims], output_pad[:dims]
    layer = {"type": "deconv", "filters": 2, "size": size, "stride": stride, "dilation": dilation}
    net = net_of([6] * dims + [2], dict(layer, output_pad=output_pad))
    refused = any(e >= max(s, d) for e, s, d in zip(output_pad, stride, dilation, strict=True))
    assert (Code.OUTPUT_PAD_TOO_LARGE in codes(net)) == refused


@pytest.mark.parametrize(
    ("stride", "dilation", "output_pad", "refused"),
    [
        (2, 1, 1, False),  # 1 < 2
        (2, 1, 2, True),  # 2 >= max(2, 1)
        (2, 3, 2, False),  # 2 < dilation 3: PyTorch accepts
        (1, 1, 1, True),  # stride 1, no dilation: any output_pad is refused
        (3, 3, 3, True),
    ],
)
def test_output_pad_table(stride: int, dilation: int, output_pad: int, refused: bool) -> None:
    """The documented rule, case by case."""
    net = net_of(
        "5x5x1",
        {
            "type": "deconv",
            "filters": 1,
            "size": 3,
            "stride": stride,
            "dilation": dilation,
            "output_pad": output_pad,
        },
    )
    assert (Code.OUTPUT_PAD_TOO_LARGE in codes(net)) is refused


# --- pad: same, valid and per-side ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("input", "layer", "output", "pads"),
    [
        # TensorFlow's docs example: N 13, F 6, S 5: out ceil(13/5) = 3, total (3-1)5 + 6 - 13 = 3:
        # 1 before, 2 after (the odd pixel after).
        ("13x1", {"type": "conv", "filters": 1, "size": 6, "stride": 5, "pad": "same"}, (3,), [(1, 2)]),
        # ... and valid: floor((13 - 6)/5) + 1 = 2, no padding.
        ("13x1", {"type": "conv", "filters": 1, "size": 6, "stride": 5, "pad": "valid"}, (2,), [(0, 0)]),
        # H 8: ceil(8/2) = 4, total 3 x 2 + 3 - 8 = 1 -> (0, 1); W 7: 4, total 6 + 3 - 7 = 2 -> (1, 1).
        (
            "8x7x1",
            {"type": "conv", "filters": 2, "size": 3, "stride": 2, "pad": "same"},
            (4, 4),
            [(0, 1), (1, 1)],
        ),
        # Dilation: E = 2 x 2 + 1 = 5, stride 1: total 4 -> (2, 2); output 10.
        (
            "10x1",
            {"type": "conv", "filters": 1, "size": 3, "dilation": 2, "pad": "same"},
            (10,),
            [(2, 2)],
        ),
        # A window wider than the input: N 2, F 5, S 1: out 2, total 1 + 5 - 2 = 4 -> (2, 2).
        ("2x1", {"type": "conv", "filters": 1, "size": 5, "pad": "same"}, (2,), [(2, 2)]),
        # Stride wider than the window: N 10, F 1, S 4: out 3, (3-1)4 + 1 - 10 < 0, so no padding.
        ("10x1", {"type": "conv", "filters": 1, "size": 1, "stride": 4, "pad": "same"}, (3,), [(0, 0)]),
        # Pool, stride = size 2 on 5: out 3, total 2 x 2 + 2 - 5 = 1 -> (0, 1).
        ("5x5x1", {"type": "pool", "size": 2, "pad": "same"}, (3, 3), [(0, 1), (0, 1)]),
        # 3-D avg pool 3/2 on 6x5x4: 3, 3, 2; totals 2 x 2 + 3 - 6 = 1, 4 + 3 - 5 = 2, 2 + 3 - 4 = 1.
        (
            "6x5x4x2",
            {"type": "pool", "mode": "avg", "size": 3, "stride": 2, "pad": "same"},
            (3, 3, 2),
            [(0, 1), (1, 1), (0, 1)],
        ),
        # Per-side [[0, 2], [1, 0]] on 5x5, F 3: H 5 + 2 - 3 + 1 = 5, W 5 + 1 - 3 + 1 = 4.
        (
            "5x5x1",
            {"type": "conv", "filters": 2, "size": 3, "pad": [[0, 2], [1, 0]]},
            (5, 4),
            [(0, 2), (1, 0)],
        ),
        # One pair for every axis: [[1, 2]] on 6x6, F 3, S 2: floor((6 + 3 - 3)/2) + 1 = 4.
        (
            "6x6x1",
            {"type": "conv", "filters": 1, "size": 3, "stride": 2, "pad": [[1, 2]]},
            (4, 4),
            [(1, 2)] * 2,
        ),
        # Per-side pool: [[0, 1]] on 5, F 2, S 2: floor((5 + 1 - 2)/2) + 1 = 3.
        ("5x1", {"type": "pool", "size": 2, "pad": [[0, 1]]}, (3,), [(0, 1)]),
    ],
)
def test_pad_table(
    input: str, layer: dict[str, Any], output: tuple[int, ...], pads: list[tuple[int, int]]
) -> None:
    """`same` gives ceil(N/S) with the odd pixel after, `valid` none, pairs their own sides."""
    r = only(input, layer)
    assert r.output.spatial == output
    assert [(a.pad, a.end_pad) for a in r.axes] == pads
    # The Axis stores pad_end only when the sides differ.
    assert [a.pad_end for a in r.axes] == [None if b == e else e for b, e in pads]


@pytest.mark.parametrize(
    ("input", "layer", "output", "crops", "extra"),
    [
        # F 4, S 2 (DCGAN's): E - S = 2 cropped, (1, 1); 8 x 2 = 16.
        ("8x3", {"type": "deconv", "filters": 2, "size": 4, "stride": 2, "pad": "same"}, (16,), (1, 1), 0),
        # F 3, S 2: E - S = 1 cropped, the odd one after: (0, 1); (5-1)2 + 3 - 1 = 10 = 5 x 2.
        ("5x3", {"type": "deconv", "filters": 2, "size": 3, "stride": 2, "pad": "same"}, (10,), (0, 1), 0),
        # F 2, S 3: nothing to crop, one output added after: (4-1)3 + 2 + 1 = 12 = 4 x 3.
        ("4x2", {"type": "deconv", "filters": 3, "size": 2, "stride": 3, "pad": "same"}, (12,), (0, 0), 1),
        # F 3, D 2 (E 5), S 2: crop 3 -> (1, 2); (6-1)2 + 5 - 3 = 12.
        (
            "6x1",
            {"type": "deconv", "filters": 1, "size": 3, "dilation": 2, "stride": 2, "pad": "same"},
            (12,),
            (1, 2),
            0,
        ),
    ],
)
def test_deconv_same_table(
    input: str, layer: dict[str, Any], output: tuple[int, ...], crops: tuple[int, int], extra: int
) -> None:
    """A transposed `same` gives N x S: crop E - S (odd one after), or add S - E after."""
    (a,) = only(input, layer).axes
    assert ((a.out,), (a.pad, a.end_pad), a.output_pad) == (output, crops, extra)


@FAST
@given(
    n=st.integers(1, 40),
    size=st.integers(1, 7),
    stride=st.integers(1, 5),
    dilation=st.integers(1, 3),
    kind=st.sampled_from(["conv", "pool"]),
)
def test_same_gives_ceil_and_covers_the_input(
    n: int, size: int, stride: int, dilation: int, kind: str
) -> None:
    """`same`: ceil(N/S) windows fit the padded input, the first starts on the first pad and together
    they reach every input pixel (but those in a stride's own gap, when S > E)."""
    layer: dict[str, Any] = {"type": kind, "size": size, "stride": stride, "pad": "same"}
    if kind == "conv":
        layer.update(filters=1, dilation=dilation)
    else:
        dilation = 1
    (a,) = only([n, 1], layer).axes
    extent = dilation * (size - 1) + 1
    out = -(-n // stride)
    total = max((out - 1) * stride + extent - n, 0)
    assert a.out == out
    assert (a.pad, a.end_pad) == (total // 2, total - total // 2)
    # Brute force: walk the windows over the padded axis [-P_b, N + P_a).
    starts = [j * stride - a.pad for j in range(out)]
    assert all(s + extent <= n + a.end_pad for s in starts)
    assert starts[0] + extent > 0
    seen = {x for s in starts for x in range(s, s + extent) if 0 <= x < n}
    missed = [x for x in range(n) if x not in seen]
    if stride <= extent:
        assert missed == []
    else:
        # Only a stride's gap is skipped: after each window, at most S - E pixels before the next.
        assert all(any(0 < x - (s + extent) + 1 <= stride - extent for s in starts) for x in missed)
    assert not arith.drops_input(a)


@FAST
@given(n=st.integers(1, 20), size=st.integers(1, 6), stride=st.integers(1, 4), dilation=st.integers(1, 3))
def test_deconv_same_gives_n_times_s(n: int, size: int, stride: int, dilation: int) -> None:
    """A transposed `same` is N x S by the scatter too."""
    layer = {
        "type": "deconv",
        "filters": 1,
        "size": size,
        "stride": stride,
        "dilation": dilation,
        "pad": "same",
    }
    (a,) = only([n, 1], layer).axes
    assert a.out == n * stride
    assert scatter_extent(n, size, stride, dilation) + a.output_pad - a.pad - a.end_pad == n * stride


@FAST
@given(
    n=st.integers(1, 30),
    size=st.integers(1, 6),
    stride=st.integers(1, 5),
    dilation=st.integers(1, 3),
    before=st.integers(0, 5),
    after=st.integers(0, 5),
)
def test_per_side_pad_against_window_walk(
    n: int, size: int, stride: int, dilation: int, before: int, after: int
) -> None:
    """[[b, a]] gives floor((N + b + a - E)/S) + 1: windows counted on the padded axis."""
    extent = dilation * (size - 1) + 1
    assume(n + before + after >= extent)
    windows = sum(1 for j in range(n + before + after) if j * stride + extent <= n + before + after)
    layer = {"type": "conv", "filters": 1, "size": size, "stride": stride, "dilation": dilation}
    r = only([n, 1], dict(layer, pad=[[before, after]]))
    assert r.output.spatial == (windows,) == ((n + before + after - extent) // stride + 1,)
    assert (r.axes[0].pad, r.axes[0].end_pad) == (before, after)


@st.composite
def padded_layers(draw: st.DrawFn) -> tuple[list[int], dict[str, Any], bool]:
    """A conv, deconv or pool with `same`, `valid`, symmetric or per-side pads, and whether any axis is
    padded unevenly, worked out independently of the resolver."""
    dims = draw(st.integers(1, 3))
    n = [draw(st.integers(3, 12)) for _ in range(dims)]
    kind = draw(st.sampled_from(["conv", "deconv", "pool"]))
    size = [draw(st.integers(1, 3)) for _ in range(dims)]
    stride = [draw(st.integers(1, 3)) for _ in range(dims)]
    layer: dict[str, Any] = {"type": kind, "size": size, "stride": stride}
    if kind != "pool":
        layer["filters"] = 2
    how = draw(st.sampled_from(["same", "valid", "symmetric", "sides"]))
    if how == "same":
        layer["pad"] = "same"
        if kind == "deconv":
            uneven = any(max(f - s, 0) % 2 for f, s in zip(size, stride, strict=True))
        else:
            uneven = any(
                max((-(-x // s) - 1) * s + f - x, 0) % 2 for x, f, s in zip(n, size, stride, strict=True)
            )
    elif how == "valid":
        layer["pad"], uneven = "valid", False
    elif how == "symmetric":
        layer["pad"], uneven = [min(draw(st.integers(0, 1)), f // 2) for f in size], False
    else:
        sides = [[draw(st.integers(0, f - 1)), draw(st.integers(0, f - 1))] for f in size]
        layer["pad"], uneven = sides, any(b != a for b, a in sides)
    return [*n, 2], layer, uneven


@FAST
@given(case=padded_layers())
def test_not_in_pytorch_exactly_when_uneven(case: tuple[list[int], dict[str, Any], bool]) -> None:
    """The not-in-pytorch info appears exactly when some axis is padded differently before and after."""
    input, layer, uneven = case
    net = net_of(input, layer)
    assume(all(o >= 1 for o in net.layers[0].output.spatial))
    found = [f for f in net.findings if f.code is Code.NOT_IN_PYTORCH]
    assert bool(found) == uneven
    assert all(f.severity.value == "info" for f in found)


def test_valid_is_no_padding() -> None:
    """`valid` zeroes the pads and records how they were given."""
    r = only("9x9x1", {"type": "conv", "filters": 1, "size": 3, "stride": 2, "pad": "valid"})
    assert r.layer.pad_mode is PadMode.VALID
    # floor((9 - 3)/2) + 1 = 4.
    assert [(a.pad, a.end_pad, a.out) for a in r.axes] == [(0, 0, 4), (0, 0, 4)]


# --- pooling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("count_pad", [True, False])
def test_count_pad_keeps_the_shape(count_pad: bool) -> None:
    """count_pad changes numbers, not shapes: floor((7 + 2 - 3)/2) + 1 = 4 either way."""
    r = only(
        "7x7x2", {"type": "pool", "mode": "avg", "size": 3, "stride": 2, "pad": 1, "count_pad": count_pad}
    )
    assert r.layer.count_pad is count_pad
    assert (r.output.dims, r.params, r.macs) == ((4, 4, 2), 0, 0)


def test_same_avg_pool_divides_by_real_pixels_by_default() -> None:
    """TensorFlow's `same` average divides by the real pixels: count_pad defaults to false there only."""
    assert only("5x5x1", {"type": "pool", "mode": "avg", "size": 2, "pad": "same"}).layer.count_pad is False
    assert only("5x5x1", {"type": "pool", "mode": "avg", "size": 2, "pad": 1}).layer.count_pad is True


@pytest.mark.parametrize(
    ("input", "output", "shape"),
    [
        ("13x9x3", "7x7", (7, 7, 3)),
        ("13x9x3", 7, (7, 7, 3)),  # one number for every axis
        ("10x4", 3, (3, 4)),  # 1-D
        ("5x6x7x2", 2, (2, 2, 2, 2)),  # 3-D, broadcast
        ("5x6x7x2", "2x3x4", (2, 3, 4, 2)),  # 3-D, per axis
        ("3x3x8", "5x5", (5, 5, 8)),  # larger than the input: windows overlap
    ],
)
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_adaptive_pool_shape(input: str, output: str | int, shape: tuple[int, ...], mode: str) -> None:
    """Adaptive pooling gives `output` on every spatial axis, channels kept, no weights, no field."""
    r = only(input, {"type": "pool", "mode": mode, "output": output})
    assert r.layer.adaptive
    assert (r.output.dims, r.params, r.macs, r.axes, r.field) == (shape, 0, 0, (), None)


@pytest.mark.parametrize(
    ("n", "out", "windows"),
    [
        # j = 0: 0 to ceil(10/3) = 4; j = 1: floor(10/3) = 3 to ceil(20/3) = 7; j = 2: 6 to 10.
        (10, 3, [(0, 4), (3, 7), (6, 10)]),
        # Even division is plain pooling: 8/4 = 2.
        (8, 4, [(0, 2), (2, 4), (4, 6), (6, 8)]),
        # More outputs than inputs: floor(3j/5) to ceil(3(j+1)/5).
        (3, 5, [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]),
        # torchvision AlexNet's 6x6 adaptive pool at 224 is the identity.
        (6, 6, [(j, j + 1) for j in range(6)]),
    ],
)
def test_adaptive_windows_table(n: int, out: int, windows: list[tuple[int, int]]) -> None:
    """PyTorch's start/end index rule, worked by hand."""
    assert arith.adaptive_windows(n, out) == windows


@FAST
@given(n=st.integers(1, 80), out=st.integers(1, 80))
def test_adaptive_windows_rule_and_cover(n: int, out: int) -> None:
    """floor(j N/o) to ceil((j+1) N/o) in exact arithmetic; every window non-empty, every input read."""
    windows = arith.adaptive_windows(n, out)
    assert windows == [
        (math.floor(Fraction(j * n, out)), math.ceil(Fraction((j + 1) * n, out))) for j in range(out)
    ]
    assert all(0 <= s < e <= n for s, e in windows)
    assert {x for s, e in windows for x in range(s, e)} == set(range(n))
    assert windows[0][0] == 0
    assert windows[-1][1] == n


@pytest.mark.parametrize(
    ("input", "shape"),
    [("50x8", (1, 8)), ("7x7x1024", (1, 1, 1024)), ("2x7x7x512", (1, 1, 1, 512))],
    ids=["1d", "2d", "3d"],
)
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_global_pool(input: str, shape: tuple[int, ...], mode: str) -> None:
    """A global pool gives 1 x ... x 1 x C in any number of dimensions."""
    r = only(input, {"type": "global_pool", "mode": mode})
    assert r.layer.mode is PoolMode(mode)
    assert (r.output.dims, r.params, r.macs, r.field) == (shape, 0, 0, None)
    assert r.activations == shape[-1]


@pytest.mark.parametrize(
    ("input", "layers", "match"),
    [
        ([10], [{"type": "global_pool"}], "global_pool layer needs spatial input"),
        ([10], [{"type": "pool", "mode": "avg", "output": 3}], "pool layer needs spatial input"),
        ("4x4x3", [{"type": "fc", "units": 8}, {"type": "global_pool"}], "flat vector of 8"),
        ("4x4x3", [{"type": "flatten"}, {"type": "pool", "output": 2}], "flat vector of 48"),
        ("4x4x3", [{"type": "flatten"}, {"type": "pool", "size": 2}], "flat vector of 48"),
        ("10x4", [{"type": "pool", "output": "2x2"}], "'output' has 2 values but its input has 1 spatial"),
        (
            "6x6x2",
            [{"type": "conv", "filters": 1, "size": 3, "pad": [[0, 1], [1, 0], [1, 1]]}],
            "'pad' has 3",
        ),
    ],
)
def test_spatial_errors(input: str | list[int], layers: list[dict[str, Any]], match: str) -> None:
    """Pooling a flat vector, or per-axis values for the wrong number of axes, is a spec error."""
    with pytest.raises(SpecError, match=re.escape(match)):
        net_of(input, *layers)


# --- flatten, bn, act, dropout ----------------------------------------------------------------


def test_flatten() -> None:
    """A vector of all 4 x 5 x 3 = 60 elements; a view, so no activations, no weights."""
    r = only("4x5x3", {"type": "flatten"})
    assert (r.output.dims, r.params, r.macs, r.activations, r.field) == ((60,), 0, 0, 0, None)


@pytest.mark.parametrize(
    ("input", "affine", "params", "stats"),
    [
        ("4x5x3", True, 6, 6),  # 2 x 3 channels each
        ("4x5x3", False, 0, 6),  # no gamma and beta, still a running mean and variance
        ("7x64", True, 128, 128),  # 1-D: 64 channels
        ([10], True, 20, 20),  # BatchNorm1d on a vector: its 10 features are the channels
        ("2x3x4x5", False, 0, 10),  # 3-D
    ],
)
def test_batch_norm(input: str | list[int], affine: bool, params: int, stats: int) -> None:
    """params 2C when affine, else 0; non_trainable 2C always; shape kept, output counted."""
    r = only(input, {"type": "bn", "affine": affine})
    assert (r.params, r.non_trainable, r.macs) == (params, stats, 0)
    assert r.output == r.input
    assert r.activations == r.output.elements


@pytest.mark.parametrize("fn", list(Fn), ids=lambda fn: fn.value)
def test_every_activation_keeps_the_shape(fn: Fn) -> None:
    """An activation is in place: shape kept, nothing counted."""
    r = only("6x5x3", {"type": "act", "fn": fn.value})
    assert r.layer.fn is fn
    assert (r.output.dims, r.params, r.macs, r.activations) == ((6, 5, 3), 0, 0, 0)


@pytest.mark.parametrize("input", ["9x2", "6x5x3", "2x3x4x5", [7]])
@pytest.mark.parametrize("kind", ["act", "dropout"])
def test_act_and_dropout_in_any_dimension(input: str | list[int], kind: str) -> None:
    """Shape-preserving in 0 to 3 spatial dimensions, no activations of their own."""
    r = only(input, {"type": kind})
    assert (r.output == r.input, r.params, r.macs, r.activations) == (True, 0, 0, 0)


def test_dropout_p() -> None:
    """p is kept as given (0.5 by default)."""
    assert only("4x4x1", {"type": "dropout", "p": 0.2}).layer.p == 0.2
    assert only("4x4x1", {"type": "dropout"}).layer.p == 0.5


def test_activations_add_up() -> None:
    """Input and every layer's output, but act, dropout and flatten add none."""
    net = net_of(
        "8x8x3",
        {"type": "conv", "filters": 4, "size": 3, "pad": 1},  # 8 x 8 x 4 = 256
        {"type": "bn"},  # 256
        {"type": "act"},  # 0
        {"type": "pool", "size": 2},  # 4 x 4 x 4 = 64
        {"type": "dropout"},  # 0
        {"type": "flatten"},  # 0
        {"type": "fc", "units": 10},  # 10
        {"type": "act", "fn": "softmax"},  # 0
    )
    assert [r.activations for r in net.layers] == [256, 256, 0, 64, 0, 0, 10, 0]
    # Input 8 x 8 x 3 = 192; 192 + 256 + 256 + 64 + 10 = 778.
    assert net.activations == 778
    assert net.activation_bytes == 778 * 4


# --- shipped specs ----------------------------------------------------------------------------

# The cs231n notes' own VGG-16 memory list, per layer (input 224 x 224 x 3 = 150,528 before it).
VGG_ACTIVATIONS = [
    224 * 224 * 64,
    224 * 224 * 64,
    112 * 112 * 64,
    112 * 112 * 128,
    112 * 112 * 128,
    56 * 56 * 128,
    56 * 56 * 256,
    56 * 56 * 256,
    56 * 56 * 256,
    28 * 28 * 256,
    28 * 28 * 512,
    28 * 28 * 512,
    28 * 28 * 512,
    14 * 14 * 512,
    14 * 14 * 512,
    14 * 14 * 512,
    14 * 14 * 512,
    7 * 7 * 512,
    4096,
    4096,
    1000,
]


def test_vgg16_memory() -> None:
    """15,237,608 values with the input (not the notes' "24M"), 58.1 MiB in float32."""
    net = resolve(read(SPECS / "vgg16.yaml"))
    assert [r.activations for r in net.layers] == VGG_ACTIVATIONS
    # 150,528 + 6,422,528 + 802,816 + 3,211,264 + 401,408 + 2,408,448 + 200,704 + 1,204,224
    # + 100,352 + 301,056 + 25,088 + 4,096 + 4,096 + 1,000 = 15,237,608.
    assert net.activations == 15237608
    assert net.activation_bytes == 15237608 * 4 == 60950432
    assert f"{net.activation_bytes / 2**20:.1f}" == "58.1"


@pytest.mark.parametrize(
    ("name", "params", "macs"),
    [
        ("mobilenet_v1.yaml", 4231976, 568740352),
        ("audio1d.yaml", 559114, 278533120),
        ("video3d.yaml", 79991015, 38548959232),
        ("dilated.yaml", 28392, 115605504),
        ("dcgan.yaml", 3576704, 104628224),
        ("vgg16.yaml", 138357544, 15470264320),
    ],
)
def test_spec_totals(name: str, params: int, macs: int) -> None:
    """The new example networks' totals (each also under its own `expect:`)."""
    net = resolve(read(SPECS / name))
    assert (net.params, net.macs) == (params, macs)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_spec_meets_its_expectations(path: Path) -> None:
    """Every shipped spec resolves to the end with no expect-mismatch and no error."""
    net = resolve(read(path))
    assert len(net.layers) == len(net.spec.layers)
    assert Code.EXPECT_MISMATCH not in codes(net)
    assert [f.message for f in net.findings if f.severity.value == "error"] == []


# --- 1-D and 3-D ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input", "layer", "output", "params", "macs"),
    [
        # 1-D conv: E = 2 x 4 + 1 = 9; floor((100 + 2 - 9)/2) + 1 = 47; 8 x 4 x 5 + 8 = 168;
        # MACs 47 x 8 x 4 x 5 = 7,520.
        (
            "100x4",
            {"type": "conv", "filters": 8, "size": 5, "stride": 2, "pad": 1, "dilation": 2},
            (47, 8),
            168,
            7520,
        ),
        # audio1d conv1 (M5): same, ceil(32000/4) = 8000; 128 x 80 + 128 = 10,368;
        # MACs 8000 x 128 x 80 = 81,920,000.
        (
            "32000x1",
            {"type": "conv", "filters": 128, "size": 80, "stride": 4, "pad": "same"},
            (8000, 128),
            10368,
            81920000,
        ),
        # 3-D conv: D (8 + 2 - 3) + 1 = 8, H and W floor((16 + 4 - 5)/2) + 1 = 8; 4 x 3 x 75 + 4 = 904;
        # MACs 512 x 4 x 3 x 75 = 460,800.
        (
            "8x16x16x3",
            {"type": "conv", "filters": 4, "size": [3, 5, 5], "stride": [1, 2, 2], "pad": [1, 2, 2]},
            (8, 8, 8, 4),
            904,
            460800,
        ),
        # C3D conv1a: 3x3x3 pad 1 keeps 16x112x112; 64 x 3 x 27 + 64 = 5,248;
        # MACs 200,704 x 64 x 81 = 1,040,449,536.
        (
            "16x112x112x3",
            {"type": "conv", "filters": 64, "size": 3, "pad": 1},
            (16, 112, 112, 64),
            5248,
            1040449536,
        ),
        # 3-D depthwise: groups 4 on 4 channels, 1 x 27 x 4 + 4 = 112; 4 x 4 x 4 x 4 x 27 = 6,912.
        ("6x6x6x4", {"type": "conv", "filters": 4, "size": 3, "groups": 4}, (4, 4, 4, 4), 112, 6912),
        # 1-D max pool 3/2: floor((17 - 3)/2) + 1 = 8.
        ("17x3", {"type": "pool", "size": 3, "stride": 2}, (8, 3), 0, 0),
        # 1-D avg pool, ceil: ceil((10 - 3)/2) + 1 = 5, (5-1)2 = 8 < 10, kept.
        ("10x2", {"type": "pool", "mode": "avg", "size": 3, "stride": 2, "ceil": True}, (5, 2), 0, 0),
        # C3D pool1 1x2x2: 16 x 56 x 56.
        ("16x112x112x64", {"type": "pool", "size": [1, 2, 2]}, (16, 56, 56, 64), 0, 0),
        # C3D pool5, ceil: D ceil(0/2) + 1 = 1, H and W ceil(5/2) + 1 = 4 ((4-1)2 = 6 < 7, kept).
        ("2x7x7x512", {"type": "pool", "size": 2, "ceil": True}, (1, 4, 4, 512), 0, 0),
        # 1-D deconv 4/2/1: (8-1)2 - 2 + 4 = 16; 3 x 2 x 4 + 2 = 26; 8 x 3 x 2 x 4 = 192.
        ("8x3", {"type": "deconv", "filters": 2, "size": 4, "stride": 2, "pad": 1}, (16, 2), 26, 192),
        # 3-D deconv 2/2: (N-1)2 + 2 = 2N; 2 x 2 x 8 + 2 = 34; 3 x 4 x 5 x 2 x 2 x 8 = 1,920.
        ("3x4x5x2", {"type": "deconv", "filters": 2, "size": 2, "stride": 2}, (6, 8, 10, 2), 34, 1920),
    ],
)
def test_one_and_three_dimensions(
    input: str, layer: dict[str, Any], output: tuple[int, ...], params: int, macs: int
) -> None:
    """conv, pool and deconv in 1-D and 3-D, worked by hand."""
    r = only(input, layer)
    assert (r.output.dims, r.params, r.macs) == (output, params, macs)


# --- loader errors for the new keys -------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "name", "message", "key"),
    [
        ("{type: pool, size: 2, pad: same, ceil: true}", "pool1", "'ceil: true' needs a numeric pad", "ceil"),
        ("{type: pool, size: 2, pad: [[0, 1]], ceil: true}", "pool1", "'ceil: true' needs", "ceil"),
        ("{type: pool, size: 2, count_pad: false}", "pool1", "'count_pad' is only for average", "count_pad"),
        ("{type: pool, mode: avg, output: 3, size: 2}", "pool1", "'size' does not go with 'output'", "size"),
        ("{type: pool, mode: avg, output: 3, pad: 1}", "pool1", "'pad' does not go with 'output'", "pad"),
        ("{type: pool, mode: avg}", "pool1", "missing required key 'size' (or 'output'", None),
        ("{type: pool, output: 0}", "pool1", "'output' must be a positive integer", "output"),
        (
            "{type: conv, filters: 2, size: 3, output_pad: 1}",
            None,
            "unknown key 'output_pad' for a conv",
            "output_pad",
        ),
        (
            "{type: deconv, filters: 2, size: 3, output_pad: -1}",
            "deconv1",
            "'output_pad' must be",
            "output_pad",
        ),
        ("{type: dropout, p: 1.5}", "dropout1", "'p' must be a number from 0 to 1, got 1.5", "p"),
        ("{type: dropout, p: -0.1}", "dropout1", "'p' must be a number from 0 to 1", "p"),
        ("{type: act, fn: swish}", "act1", "'fn' must be one of: relu,", "fn"),
        ("{type: bn, affine: 1}", "bn1", "'affine' must be true or false, got 1", "affine"),
        ("{type: global_pool, mode: min}", "global_pool1", "'mode' must be max or avg", "mode"),
        ("{type: global_pool, size: 2}", None, "unknown key 'size' for a global_pool layer", "size"),
        ("{type: flatten, units: 3}", None, "unknown key 'units' for a flatten layer", "units"),
        ("{type: conv, filters: 2, size: 3, pad: sames}", "conv2", "'pad' must be", "pad"),
        ("{type: conv, filters: 2, size: 3, pad: [[1, 2, 3]]}", "conv2", "each per-side 'pad'", "pad"),
    ],
)
def test_loader_errors_for_new_keys(
    tmp_path: Path, layer: str, name: str | None, message: str, key: str | None
) -> None:
    """One line naming the key and the layer, at the line (and column) of the offending value."""
    path = tmp_path / "net.yaml"
    path.write_text(f"input: 8x8x3\nlayers:\n  - {{type: conv, filters: 4, size: 3}}\n  - {layer}\n")
    label = "layer 2" if name is None else f"layer 2 ({name})"
    with pytest.raises(SpecError, match=re.escape(f"{label}: {message}")) as caught:
        read(path)
    err = caught.value
    assert err.line == 4
    assert err.file == str(path)
    text = str(err)
    assert "\n" not in text
    assert text.startswith(f"{path}:4:")
    if key is not None:
        # The column points at the key's value in the flow mapping.
        column = f"  - {layer}".index(f"{key}:") + len(key) + 3
        assert err.column == column


def test_unknown_fn_suggests_the_nearest() -> None:
    """A near miss is named: relu7 -> relu."""
    with pytest.raises(SpecError, match=re.escape("got 'relu7'; did you mean 'relu'?")):
        specmod.build({"input": "4x4x1", "layers": [{"type": "act", "fn": "relu7"}]})
