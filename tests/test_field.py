"""Receptive fields: against PyTorch's measured gradients, hand-worked pins, and brute-force index sets."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc import build as specmod
from convcalc.loader import read
from convcalc.model import Network, Resolved
from convcalc.resolver import resolve

SPECS = Path(__file__).parent.parent / "specs"
TORCH_RF = json.loads((Path(__file__).parent / "data" / "torch_rf.json").read_text())
"""Per spec, per layer: fields measured in PyTorch by tools/gen_torch_rf.py (gradient method)."""
FAST = settings(max_examples=150, deadline=None)


@functools.cache
def spec_net(name: str) -> Network:
    """A shipped spec, resolved once."""
    return resolve(read(SPECS / name))


def net_of(n: int, layers: list[dict[str, Any]]) -> Network:
    """A 1-D network on an N x 1 input, from layer data."""
    return resolve(specmod.build({"input": [n, 1], "layers": layers}))


def triple(r: Resolved) -> tuple[list[Fraction], list[Fraction], list[Fraction]] | None:
    """A layer's field as (sizes, jumps, starts) per axis, or None."""
    if r.field is None:
        return None
    return [f.size for f in r.field], [f.jump for f in r.field], [f.start for f in r.field]


def by_name(net: Network) -> dict[str, Resolved]:
    """The resolved layers by name."""
    return {r.layer.name: r for r in net.layers}


# --- against PyTorch --------------------------------------------------------------------------


ROWS = [(spec, i, row) for spec, rows in TORCH_RF.items() for i, row in enumerate(rows)]


def test_torch_data_covers_the_specs() -> None:
    """The measured file has one row per layer of each of the six specs."""
    assert sorted(TORCH_RF) == sorted(
        ["vgg16.yaml", "alexnet.yaml", "mobilenet_v1.yaml", "dilated.yaml", "audio1d.yaml", "video3d.yaml"]
    )
    for name, rows in TORCH_RF.items():
        assert [row["layer"] for row in rows] == [r.layer.name for r in spec_net(name).layers]


@pytest.mark.parametrize(("spec", "index", "row"), ROWS, ids=[f"{s}-{row['layer']}" for s, _, row in ROWS])
def test_field_matches_pytorch(spec: str, index: int, row: dict[str, Any]) -> None:
    """size, jump and start per axis equal PyTorch's gradient measurement; None where it has null."""
    r = spec_net(spec).layers[index]
    assert r.layer.name == row["layer"]
    if row["size"] is None:
        assert r.field is None
    else:
        assert triple(r) == (row["size"], row["jump"], row["start"])


# VGG-16, 3x3 pad 1 convs and 2x2 pools; size += 2 x jump per conv, jump x 2 per pool, start -= jump
# per conv: conv1 3, 5; pool1 6 (j 2); conv2 10, 14; pool2 16 (j 4); conv3 24, 32, 40; pool3 44 (j 8);
# conv4 60, 76, 92; pool4 100 (j 16); conv5 132, 164, 196 with start -1 -1 -2 -2 -4 -4 -4 -8 -8 -8
# -16 -16 -16 = -90; pool5 196 + 16 = 212, jump 32 (google-research/receptive_field's 196 and 212).
# AlexNet: conv1 11/4 pad 2: 11, 4, -2; pool1 3/2: 11 + 2 x 4 = 19, 8, -2; conv2 5 pad 2:
# 19 + 4 x 8 = 51, 8, -2 - 16 = -18; pool2 51 + 16 = 67, 16; conv3, 4, 5 (3 pad 1) +32 each:
# 99, 131, 163, start -34, -50, -66; pool5 163 + 32 = 195, 32, -66.
# Dilated context module (Yu & Koltun, Table 1): 3, 5, 9, 17, 33, 65, 67, 67 (+2 D per layer).
PINS = [
    ("vgg16.yaml", "conv5_3", 196, 16, -90),
    ("vgg16.yaml", "pool5", 212, 32, -90),
    ("alexnet.yaml", "conv1", 11, 4, -2),
    ("alexnet.yaml", "pool1", 19, 8, -2),
    ("alexnet.yaml", "conv2", 51, 8, -18),
    ("alexnet.yaml", "pool2", 67, 16, -18),
    ("alexnet.yaml", "conv3", 99, 16, -34),
    ("alexnet.yaml", "conv4", 131, 16, -50),
    ("alexnet.yaml", "conv5", 163, 16, -66),
    ("alexnet.yaml", "pool5", 195, 32, -66),
    *[
        ("dilated.yaml", f"ctx{i}", size, 1, -(size // 2))
        for i, size in enumerate([3, 5, 9, 17, 33, 65, 67, 67], start=1)
    ],
    # M5: conv1 80 at stride 4, same pad 38 each side: 80, 4, -38; pool1 4: 80 + 3 x 4 = 92, 16.
    ("audio1d.yaml", "conv1", 80, 4, -38),
    ("audio1d.yaml", "pool1", 92, 16, -38),
]


@pytest.mark.parametrize(("spec", "layer", "size", "jump", "start"), PINS)
def test_field_pins(spec: str, layer: str, size: int, jump: int, start: int) -> None:
    """The published and hand-worked fields, alike on every axis."""
    r = by_name(spec_net(spec))[layer]
    assert r.field is not None
    assert {(f.size, f.jump, f.start) for f in r.field} == {(size, jump, start)}


def test_c3d_keeps_the_time_axis_apart() -> None:
    """C3D pool1 is 1x2x2: the time axis keeps jump 1 while height and width double."""
    r = by_name(spec_net("video3d.yaml"))["pool1"]
    # conv1a 3x3x3 pad 1: 3, 1, -1 per axis; pool1 adds (1-1) x 1 in time, (2-1) x 1 in space.
    assert triple(r) == ([3, 4, 4], [1, 2, 2], [-1, -1, -1])


@pytest.mark.parametrize(
    ("spec", "first_null"),
    [("vgg16.yaml", "fc6"), ("mobilenet_v1.yaml", "pool"), ("audio1d.yaml", "gap"), ("video3d.yaml", "fc6")],
)
def test_field_is_none_from_fc_or_global_pool_on(spec: str, first_null: str) -> None:
    """Units of an fc or global pool see everything: None there and in every layer after."""
    names = [r.layer.name for r in spec_net(spec).layers]
    cut = names.index(first_null)
    fields = [r.field for r in spec_net(spec).layers]
    assert all(f is not None for f in fields[:cut])
    assert all(f is None for f in fields[cut:])


def test_adaptive_pool_and_flatten_end_the_field() -> None:
    """An adaptive pool's windows depend on the input size, and a flatten has no spatial axes."""
    for last in ({"type": "pool", "mode": "avg", "output": 2}, {"type": "flatten"}):
        net = net_of(16, [{"type": "conv", "filters": 1, "size": 3}, last, {"type": "act"}])
        assert [r.field is None for r in net.layers] == [False, True, True]


# --- brute force: index sets on the network input -----------------------------------------------


@dataclass(frozen=True)
class Window:
    """One layer's geometry on one axis, as the brute force reads it."""

    size: int
    stride: int
    dilation: int
    before: int
    after: int
    transposed: bool = False
    ceil: bool = False

    @property
    def extent(self) -> int:
        return self.dilation * (self.size - 1) + 1

    def out(self, n: int) -> int:
        """The output length by walking the windows (or scattering) over the axis."""
        if self.transposed:
            full = (n - 1) * self.stride + self.extent
            return full - self.before - self.after
        span = n + self.before + self.after
        count = sum(1 for j in range(span) if j * self.stride + self.extent <= span)
        # PyTorch's ceil mode: one more window if it starts inside the input or its left pad.
        if self.ceil and (span - self.extent) % self.stride and count * self.stride < n + self.before:
            count += 1
        return count

    def taps(self, y: int) -> list[int]:
        """The units of this layer's input that unit y reads; any integer, padding included."""
        if not self.transposed:
            return [y * self.stride - self.before + k * self.dilation for k in range(self.size)]
        # Output y sits at y + P_b on the uncropped grid, where input x and tap k land at x S + k D.
        q = y + self.before
        return [
            (q - k * self.dilation) // self.stride
            for k in range(self.size)
            if (q - k * self.dilation) % self.stride == 0
        ]


def field_set(windows: list[Window], y: int, sizes: list[int] | None = None) -> set[int]:
    """The network input units that unit y of the last layer reads. Without `sizes` the grid runs on
    past both ends (so padding has input indices, negative or beyond N); with them, units outside each
    layer's real input are dropped, as zero padding."""
    units = {y}
    for i in reversed(range(len(windows))):
        units = {x for u in units for x in windows[i].taps(u)}
        if sizes is not None:
            units = {x for x in units if 0 <= x < sizes[i]}
    return units


@st.composite
def stacks(draw: st.DrawFn) -> tuple[int, list[dict[str, Any]], list[Window | None]]:
    """A small 1-D stack of convs and pools (padding, per-side pads, dilation, stride, ceil) with
    shape-preserving layers between; None marks a layer without a window."""
    n = draw(st.integers(12, 60))
    layers: list[dict[str, Any]] = []
    windows: list[Window | None] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "act", "bn"]))
        if kind in ("act", "bn"):
            layers.append({"type": kind})
            windows.append(None)
            continue
        size = draw(st.integers(1, 4))
        if kind == "conv":
            stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            before, after = draw(st.integers(0, 3)), draw(st.integers(0, 3))
            layers.append(
                {
                    "type": "conv",
                    "filters": 1,
                    "size": size,
                    "stride": stride,
                    "dilation": dilation,
                    "pad": [[before, after]],
                }
            )
            windows.append(Window(size, stride, dilation, before, after))
        else:
            stride = draw(st.one_of(st.none(), st.integers(1, 3)))
            pad = draw(st.integers(0, size // 2))
            ceil = draw(st.booleans())
            layer = {"type": "pool", "size": size, "pad": pad, "ceil": ceil}
            if stride is not None:
                layer["stride"] = stride
            layers.append(layer)
            windows.append(Window(size, stride or size, 1, pad, pad, ceil=ceil))
    return n, layers, windows


def sizes_along(n: int, windows: list[Window]) -> list[int]:
    """The input size of each window, then the last output size."""
    sizes = [n]
    for w in windows:
        sizes.append(w.out(sizes[-1]))
    return sizes


@FAST
@given(case=stacks())
def test_field_against_brute_force(case: tuple[int, list[dict[str, Any]], list[Window | None]]) -> None:
    """Every layer's size, jump and start equal the brute-force index sets: size is the span of every
    unit's field on the unbounded grid, and of any interior unit's on the real one; jump is the step
    between neighbouring units' first pixels; start is unit 0's first, negative into padding."""
    n, layers, all_windows = case
    windows = [w for w in all_windows if w is not None]
    sizes = sizes_along(n, windows)
    assume(all(s >= 1 for s in sizes))
    net = net_of(n, layers)
    assert len(net.layers) == len(layers)
    depth = 0
    for r, w in zip(net.layers, all_windows, strict=True):
        depth += w is not None
        stack, out = windows[:depth], sizes[depth]
        assert r.output.spatial == (out,)
        assert r.field is not None
        (f,) = r.field
        if not stack:
            assert (f.size, f.jump, f.start) == (1, 1, 0)
            continue
        units = [field_set(stack, y) for y in range(out)]
        firsts = [min(u) for u in units]
        assert {max(u) - min(u) + 1 for u in units} == {f.size}
        assert f.start == firsts[0]
        assert all(first == f.start + y * f.jump for y, first in enumerate(firsts))
        if out > 1:
            assert f.jump == firsts[1] - firsts[0]
        for y, u in enumerate(units):
            if field_set(stack, y, sizes[:depth]) == u:  # an interior unit: no padding in its field
                assert max(u) - min(u) + 1 == f.size


def test_brute_force_sees_holes_but_size_is_the_span() -> None:
    """Dilation 3 on the input: unit 0 reads 0, 3, 6 -> span 7, the resolver's size (E = 3 x 2 + 1)."""
    net = net_of(20, [{"type": "conv", "filters": 1, "size": 3, "dilation": 3}])
    assert field_set([Window(3, 1, 3, 0, 0)], 0) == {0, 3, 6}
    assert triple(net.layers[0]) == ([7], [1], [0])


# --- transposed layers ------------------------------------------------------------------------


@st.composite
def deconv_stacks(draw: st.DrawFn, *, dilated: bool) -> tuple[int, list[dict[str, Any]], list[Window]]:
    """Up to three convs, then one deconv (dilation 1, or 2 to 3 when `dilated`)."""
    n = draw(st.integers(6, 30))
    layers: list[dict[str, Any]] = []
    windows: list[Window] = []
    for _ in range(draw(st.integers(0, 3))):
        size, stride, dilation, pad = (draw(st.integers(1, 3)) for _ in range(4))
        layers.append(
            {"type": "conv", "filters": 1, "size": size, "stride": stride, "dilation": dilation, "pad": pad}
        )
        windows.append(Window(size, stride, dilation, pad, pad))
    size, stride, pad = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(0, 4))
    dilation = draw(st.integers(2, 3)) if dilated else 1
    layers.append(
        {"type": "deconv", "filters": 1, "size": size, "stride": stride, "dilation": dilation, "pad": pad}
    )
    windows.append(Window(size, stride, dilation, pad, pad, transposed=True))
    return n, layers, windows


def check_transposed(n: int, layers: list[dict[str, Any]], windows: list[Window]) -> None:
    """The last layer's field against the index sets of its real output units."""
    sizes = sizes_along(n, windows)
    assume(all(s >= 1 for s in sizes))
    net = net_of(n, layers)
    last = net.layers[-1]
    before = net.layers[-2].field if len(layers) > 1 else None
    jump_in = before[0].jump if before is not None else 1
    units = [field_set(windows, y) for y in range(sizes[-1])]
    spans = [max(u) - min(u) + 1 for u in units if u]
    assume(spans)
    assert last.field is not None
    (f,) = last.field
    assert f.size == max(spans), "size: the widest real output's span"
    assert f.jump == Fraction(jump_in) / windows[-1].stride
    if units[0]:
        assert f.start == min(units[0])


@FAST
@given(case=deconv_stacks(dilated=False))
def test_deconv_field_against_brute_force(case: tuple[int, list[dict[str, Any]], list[Window]]) -> None:
    """A deconv after a conv stack: jump = jump_in / S; size = the widest output's span (outputs gather
    floor(E/S) or ceil(E/S) inputs); start = the first input unit 0 gathers, into padding if need be."""
    check_transposed(*case)


@FAST
@given(case=deconv_stacks(dilated=True))
def test_dilated_deconv_field_against_brute_force(
    case: tuple[int, list[dict[str, Any]], list[Window]],
) -> None:
    """Dilation can make the taps of one output land on different inputs' strides, so fewer gather;
    the widest span is still the size. (Unit 0 reading nothing is pinned below.)"""
    n, layers, windows = case
    assume(field_set(windows, 0))
    check_transposed(n, layers, windows)


@pytest.mark.parametrize(
    ("layer", "size", "jump", "start"),
    [
        # 4/2/1 (DCGAN's) on the input: output y at y + 1 gathers x with 2x + k = y + 1, k < 4:
        # y = 0 -> x in {-1, 0}, y = 1 -> {0, 1}: two each, size 2, jump 1/2, start -1.
        ({"type": "deconv", "filters": 1, "size": 4, "stride": 2, "pad": 1}, 2, Fraction(1, 2), -1),
        # 3/2/0: y gathers x with 2x + k = y, k < 3: y = 0 -> {-1, 0} (x = -1 lies before the input,
        # as padding does), y = 1 -> {0}, y = 2 -> {0, 1}: widest 2 = ceil(3/2), start -1.
        ({"type": "deconv", "filters": 1, "size": 3, "stride": 2}, 2, Fraction(1, 2), -1),
        # 2/2/0, each output gathers exactly one input: size 1, start 0.
        ({"type": "deconv", "filters": 1, "size": 2, "stride": 2}, 1, Fraction(1, 2), 0),
        # 3/1/1: plain 'full' correlation cropped by 1: y gathers y + 1 - k, k < 3 -> {y - 1, y, y + 1}.
        ({"type": "deconv", "filters": 1, "size": 3, "pad": 1}, 3, 1, -1),
    ],
)
def test_deconv_field_table(layer: dict[str, Any], size: int, jump: Fraction, start: int) -> None:
    """Transposed fields worked by hand on an 8-wide input."""
    (r,) = net_of(8, [layer]).layers
    assert triple(r) == ([size], [jump], [start])


def test_dcgan_fields_against_brute_force() -> None:
    """The DCGAN generator, every deconv 4/2/1 after a 4/1/0: each layer's field per axis by index sets."""
    net = spec_net("dcgan.yaml")
    windows: list[Window] = []
    for r in net.layers:
        if r.axes:
            a = r.axes[0]
            windows.append(Window(a.size, a.stride, a.dilation, a.pad, a.end_pad, transposed=True))
        units = [field_set(windows, y) for y in range(r.output.spatial[0])]
        assert r.field is not None
        assert r.field[0] == r.field[1]
        assert r.field[0].size == max(max(u) - min(u) + 1 for u in units)
        assert r.field[0].start == min(units[0])
    # deconv1 4/1/0 on 1x1: y gathers y - k, k < 4: span 4 from -3; deconv2 4/2/1 then adds one
    # input of deconv1's: 5 from -3 - 1 = -4, jump 1/2.
    pinned = by_name(net)
    assert triple(pinned["deconv1"]) == ([4, 4], [1, 1], [-3, -3])
    assert triple(pinned["deconv2"]) == ([5, 5], [Fraction(1, 2)] * 2, [-4, -4])


@st.composite
def mixed_stacks(draw: st.DrawFn) -> tuple[int, list[dict[str, Any]], list[Window]]:
    """Convs and deconvs in any order; every deconv has dilation 1 and F >= S, so every unit reads input."""
    n = draw(st.integers(6, 20))
    layers: list[dict[str, Any]] = []
    windows: list[Window] = []
    kinds = draw(st.lists(st.sampled_from(["conv", "deconv"]), min_size=1, max_size=4))
    assume("deconv" in kinds)
    for kind in kinds:
        stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 3))
        if kind == "conv":
            size, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        else:
            size, dilation = draw(st.integers(stride, 5)), 1
        layers.append(
            {"type": kind, "filters": 1, "size": size, "stride": stride, "dilation": dilation, "pad": pad}
        )
        windows.append(Window(size, stride, dilation, pad, pad, transposed=kind == "deconv"))
    return n, layers, windows


@FAST
@given(case=mixed_stacks())
def test_mixed_stack_field_against_brute_force(case: tuple[int, list[dict[str, Any]], list[Window]]) -> None:
    """Convs after deconvs and deconvs after deconvs: the widest span and unit 0's start, exactly."""
    n, layers, windows = case
    sizes = sizes_along(n, windows)
    assume(all(s >= 1 for s in sizes))
    last = net_of(n, layers).layers[-1]
    units = [field_set(windows, y) for y in range(sizes[-1])]
    assert last.field is not None
    assert last.field[0].size == max(max(u) - min(u) + 1 for u in units)
    assert last.field[0].start == min(units[0])


def test_aliased_dilated_deconv_with_empty_first_unit() -> None:
    """Output 0 (at 1 on the uncropped grid) reads nothing; the widest output reads one input."""
    layers = [{"type": "deconv", "filters": 1, "size": 3, "stride": 4, "dilation": 3, "pad": 1}]
    windows = [Window(3, 4, 3, 1, 1, transposed=True)]
    units = [field_set(windows, y) for y in range(25)]  # (6-1)4 - 2 + 7 = 25 outputs
    assert units[0] == set()
    assert max(len(u) for u in units) == 1
    (r,) = net_of(6, layers).layers
    assert r.field is not None
    assert r.field[0].size == 1


def test_conv_after_zero_inserting_deconv() -> None:
    """deconv F 1 S 2 puts input x at 2x and zeros between; a conv of 2 then reads one real value each."""
    layers = [
        {"type": "deconv", "filters": 1, "size": 1, "stride": 2},
        {"type": "conv", "filters": 1, "size": 2},
    ]
    windows = [Window(1, 2, 1, 0, 0, transposed=True), Window(2, 1, 1, 0, 0)]
    units = [field_set(windows, y) for y in range(14)]  # (8-1)2 + 1 = 15, then 15 - 2 + 1 = 14
    assert [sorted(u) for u in units[:4]] == [[0], [1], [1], [2]]
    last = net_of(8, layers).layers[-1]
    assert last.field is not None
    assert last.field[0].size == 1


@st.composite
def holey_stacks(draw: st.DrawFn) -> tuple[int, list[dict[str, Any]], list[Window]]:
    """Convs and deconvs of any size, stride and dilation in any order: units that read nothing
    (zero insertion) and dilated taps over them, where fields need not grow with the unit."""
    n = draw(st.integers(3, 12))
    layers: list[dict[str, Any]] = []
    windows: list[Window] = []
    kinds = draw(st.lists(st.sampled_from(["conv", "deconv"]), min_size=1, max_size=4))
    assume("deconv" in kinds)
    for kind in kinds:
        size, stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
        pad = draw(st.integers(0, 3))
        layers.append(
            {"type": kind, "filters": 1, "size": size, "stride": stride, "dilation": dilation, "pad": pad}
        )
        windows.append(Window(size, stride, dilation, pad, pad, transposed=kind == "deconv"))
    return n, layers, windows


@settings(max_examples=400, deadline=None)
@given(case=holey_stacks())
def test_every_field_after_a_deconv_against_brute_force(
    case: tuple[int, list[dict[str, Any]], list[Window]],
) -> None:
    """Each layer from the first deconv on: size = the widest span among its units that read input,
    start = unit 0's first input when it reads any; the walk covers one period of the pattern."""
    n, layers, windows = case
    sizes = sizes_along(n, windows)
    assume(all(s >= 1 for s in sizes))
    net = net_of(n, layers)
    first = next(i for i, w in enumerate(windows) if w.transposed)
    for depth in range(first + 1, len(windows) + 1):
        units = [field_set(windows[:depth], y) for y in range(sizes[depth])]
        spans = [max(u) - min(u) + 1 for u in units if u]
        field = net.layers[depth - 1].field
        assert field is not None
        if spans:
            assert field[0].size == max(spans), f"layer {depth}"
        if units[0]:
            assert field[0].start == min(units[0]), f"layer {depth}"


@pytest.mark.parametrize(
    ("n", "layers"),
    [
        # A filter of 2**62 scattered once: one unit, the closed form.
        (30, [{"type": "deconv", "filters": 1, "size": 2**62}]),
        (1, [{"type": "deconv", "filters": 1, "size": 100_000}]),
        # A stride of 2**20 after a deconv of 2**40 outputs: one period is one unit.
        (
            2**40 + 1,
            [
                {"type": "deconv", "filters": 1, "size": 1},
                {"type": "conv", "filters": 1, "size": 1, "stride": 2**20},
            ],
        ),
        (16_000, [{"type": "deconv", "filters": 1, "size": 4096, "stride": 4}]),
        (30, [{"type": "deconv", "filters": 1, "size": 3, "dilation": 10**9}]),
    ],
)
def test_huge_windows_resolve_at_once(n: int, layers: list[dict[str, Any]]) -> None:
    """Sizes that once made the exact walk loop for hours: it now walks one period of each pattern
    (for these, a handful of units) with the outermost taps that read input."""
    last = net_of(n, layers).layers[-1]
    assert last.field is not None


def test_exact_walk_gives_up_to_the_closed_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three deconvs of stride 64 repeat every 64**3 units, past the walk's limit: the fields are
    the closed form's, an upper bound on the widest, rather than a walk of 262,144 units."""
    from convcalc import resolver

    layers = [{"type": "deconv", "filters": 1, "size": 100, "stride": 64}] * 3
    walked = net_of(2, layers)
    monkeypatch.setattr(resolver, "exact_fields", lambda layers: layers)
    closed = net_of(2, layers)
    assert walked.layers[-1].field == closed.layers[-1].field
    assert [r.field for r in walked.layers[:2]] != [r.field for r in closed.layers[:2]]
