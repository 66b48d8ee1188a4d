"""The sliding-window formulas against brute force (hypothesis)."""

from __future__ import annotations

import itertools
from math import prod

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convcalc
from convcalc import arith
from convcalc.kinds.fc import FC
from convcalc.kinds.window import Conv, Pool
from convcalc.model import Shape
from convcalc.resolver import resolve_layer

FAST = settings(max_examples=200, deadline=None)

sizes = st.integers(min_value=1, max_value=40)
kernels = st.integers(min_value=1, max_value=9)
strides = st.integers(min_value=1, max_value=7)
pads = st.integers(min_value=0, max_value=6)
dilations = st.integers(min_value=1, max_value=4)


def window_starts(
    *, n: int, size: int, stride: int, pad: int, dilation: int = 1, ceil: bool = False
) -> list[int]:
    """Start positions (input coordinates, left pad negative) of every window, by walking the axis."""
    extent = dilation * (size - 1) + 1
    starts = []
    i = 0
    while True:
        start = i * stride - pad
        if ceil:
            # A window is added while the previous one has not reached the end of the
            # padded input, and (PyTorch's rule) it must start inside the input or its left pad.
            previous_end = (i - 1) * stride - pad + extent
            keep = previous_end < n + pad and start < n
        else:
            keep = start + extent <= n + pad
        if not keep:
            return starts
        starts.append(start)
        i += 1


def covered(n: int, starts: list[int], extent: int) -> list[bool]:
    """For each real pixel 0..n-1, whether some window's span covers it."""
    marks = [False] * n
    for s in starts:
        for x in range(max(0, s), min(n, s + extent)):
            marks[x] = True
    return marks


@FAST
@given(n=sizes, size=kernels, stride=strides, pad=pads, dilation=dilations)
def test_out_size_floor_matches_brute_force(n: int, size: int, stride: int, pad: int, dilation: int) -> None:
    expected = len(window_starts(n=n, size=size, stride=stride, pad=pad, dilation=dilation))
    got = arith.out_size(n=n, size=size, stride=stride, pad=pad, dilation=dilation)
    if expected == 0:
        assert got <= 0
    else:
        assert got == expected


@FAST
@given(n=sizes, size=kernels, stride=strides, data=st.data())
def test_out_size_ceil_matches_brute_force(n: int, size: int, stride: int, data: st.DataObject) -> None:
    pad = data.draw(st.integers(min_value=0, max_value=size // 2), label="pad")  # a pool's legal pads
    expected = len(window_starts(n=n, size=size, stride=stride, pad=pad, ceil=True))
    got = arith.out_size(n=n, size=size, stride=stride, pad=pad, ceil=True)
    if expected == 0:
        assert got <= 0
    else:
        assert got == expected
    floor = arith.out_size(n=n, size=size, stride=stride, pad=pad)
    assert floor <= got <= floor + 1


@pytest.mark.parametrize(
    ("n", "size", "stride", "pad", "ceil", "expected"),
    [
        (32, 5, 1, 2, False, 32),
        (7, 3, 3, 0, False, 2),
        (7, 3, 3, 1, False, 3),
        (224, 11, 4, 2, False, 55),
        (227, 11, 4, 0, False, 55),
        (55, 3, 2, 0, False, 27),
        (5, 2, 2, 1, False, 3),
        (5, 2, 2, 1, True, 3),  # the ceil window would start in the right pad
        (6, 3, 3, 1, True, 3),
        (4, 2, 2, 1, True, 3),
        (2, 4, 3, 0, True, 1),  # ceil gives an output where floor gives none
        (2, 4, 3, 0, False, 0),
        (13, 3, 2, 0, True, 6),
        (112, 3, 2, 1, True, 57),
    ],
)
def test_out_size_table(n: int, size: int, stride: int, pad: int, ceil: bool, expected: int) -> None:
    assert arith.out_size(n=n, size=size, stride=stride, pad=pad, ceil=ceil) == expected


def _axis(n: int, size: int, stride: int, pad: int, dilation: int = 1, ceil: bool = False):
    return arith.axis(n=n, size=size, stride=stride, pad=pad, dilation=dilation, ceil=ceil)


@FAST
@given(n=sizes, size=kernels, stride=strides, pad=pads, dilation=dilations, ceil=st.booleans())
def test_lost_and_gap_against_marked_pixels(
    n: int, size: int, stride: int, pad: int, dilation: int, ceil: bool
) -> None:
    if ceil:
        dilation, pad = 1, min(pad, size // 2)
    a = _axis(n, size, stride, pad, dilation, ceil)
    starts = window_starts(n=n, size=size, stride=stride, pad=pad, dilation=dilation, ceil=ceil)
    if not starts:
        assert a.out < 1
        assert not arith.drops_input(a)
        return
    assert a.out == len(starts)
    extent = a.extent
    marks = covered(n, starts, extent)
    last_end = starts[-1] + extent
    dropped = [x for x in range(n) if x >= last_end]
    # Every dropped pixel is uncovered, and it is the trailing run of real pixels.
    assert all(not marks[x] for x in dropped)
    # The regular hole between two consecutive windows: mark two windows on an unbounded axis.
    two = {x for s in (0, stride) for x in range(s, s + extent)}
    between = [x for x in range(stride + extent) if x not in two]
    assert a.gap == len(between)
    if last_end >= 0:
        assert a.lost == len(dropped)
    # Severity: real input is dropped iff the trailing uncovered run is wider than the regular hole.
    assert arith.drops_input(a) == (len(dropped) > a.gap)


def test_lost_never_exceeds_the_input() -> None:
    a = _axis(4, 1, 10, 3)
    assert a.out == 1
    assert a.lost == 4


@pytest.mark.parametrize(
    ("n", "size", "stride", "pad", "lost", "gap", "drops"),
    [
        (7, 3, 3, 0, 1, 0, True),  # the seed: loses one row
        (224, 11, 4, 2, 0, 0, False),  # torchvision AlexNet: only pad unused
        (224, 11, 4, 0, 1, 0, True),  # AlexNet paper at 224: a real column
        (8, 3, 2, 1, 0, 0, False),  # stride-2 3x3 pad-1 on even input
        (56, 1, 2, 0, 1, 1, False),  # ResNet's 1x1 stride-2 shortcut
        (6, 1, 3, 0, 2, 2, False),  # hole equal to the stride gap
        (7, 1, 3, 0, 0, 2, False),
        (8, 1, 4, 0, 3, 3, False),
        (10, 2, 5, 0, 3, 3, False),
        (11, 2, 5, 0, 4, 3, True),
        (9, 2, 3, 0, 1, 1, False),
        (10, 3, 4, 0, 3, 1, True),
    ],
)
def test_lost_gap_table(n: int, size: int, stride: int, pad: int, lost: int, gap: int, drops: bool) -> None:
    a = _axis(n, size, stride, pad)
    assert (a.lost, a.gap, arith.drops_input(a)) == (lost, gap, drops)


def fits_brute(n: int, size: int, stride: int, pad: int, dilation: int) -> bool:
    """The windows tile the padded axis exactly: the last one ends at its very end."""
    starts = window_starts(n=n, size=size, stride=stride, pad=pad, dilation=dilation)
    extent = dilation * (size - 1) + 1
    return bool(starts) and starts[-1] + extent == n + pad


@FAST
@given(n=sizes, size=kernels, stride=strides, pad=pads, dilation=dilations)
def test_fits_against_brute_force(n: int, size: int, stride: int, pad: int, dilation: int) -> None:
    a = _axis(n, size, stride, pad, dilation)
    assert arith.fits(a) == fits_brute(n, size, stride, pad, dilation)
    if a.out >= 1:
        assert a.fractional == (not fits_brute(n, size, stride, pad, dilation))


@FAST
@given(n=sizes, size=kernels, stride=strides, pad=pads, dilation=dilations)
def test_smallest_pad(n: int, size: int, stride: int, pad: int, dilation: int) -> None:
    a = _axis(n, size, stride, pad, dilation)
    p = arith.smallest_pad(a)
    fitting = [q for q in range(0, a.extent + 2 * stride + 2) if fits_brute(n, size, stride, q, dilation)]
    if p is None:
        assert fitting == []
        # With an even stride and an odd N - E, no symmetric pad can fit.
        assert stride % 2 == 0
        assert (n - a.extent) % 2 == 1
    else:
        assert fitting, "smallest_pad found a pad the brute force does not accept"
        assert p == fitting[0]


@FAST
@given(n=sizes, size=kernels, stride=strides, pad=pads, limit=st.integers(min_value=0, max_value=4))
def test_smallest_pad_respects_limit(n: int, size: int, stride: int, pad: int, limit: int) -> None:
    a = _axis(n, size, stride, pad)
    p = arith.smallest_pad(a, limit=limit)
    fitting = [q for q in range(limit + 1) if fits_brute(n, size, stride, q, 1)]
    assert p == (fitting[0] if fitting else None)


def test_smallest_pad_seed() -> None:
    assert arith.smallest_pad(_axis(7, 3, 3, 0)) == 1
    assert arith.smallest_pad(_axis(224, 11, 4, 2)) is None  # 224 - 11 is odd, stride 4


@FAST
@given(n=sizes, size=kernels, stride=strides, pad=pads, dilation=dilations)
def test_near_strides_divide(n: int, size: int, stride: int, pad: int, dilation: int) -> None:
    a = _axis(n, size, stride, pad, dilation)
    below, above = arith.near_strides(a)
    m = a.numerator
    if m <= 0:
        assert (below, above) == (None, None)
        return
    if below is not None:
        assert 1 <= below < stride
        assert m % below == 0
        # nearest: nothing between it and the stride divides
        assert all(m % s for s in range(below + 1, stride))
    else:
        assert all(m % s for s in range(1, stride))
    if above is not None:
        assert above > stride
        assert m % above == 0
        assert all(m % s for s in range(stride + 1, above))
        # no holes between windows: the stride stays within the window (or the old stride)
        assert above <= max(a.extent, stride)
        assert fits_brute(n, size, above, pad, dilation)
    if below is not None:
        assert fits_brute(n, size, below, pad, dilation)


def test_near_strides_seed() -> None:
    assert arith.near_strides(_axis(7, 3, 3, 0)) == (2, None)
    assert arith.near_strides(_axis(224, 11, 4, 2)) == (1, 7)


# ---------------------------------------------------------------- counts


def brute_conv_counts(
    spatial: tuple[int, ...],
    c: int,
    k: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    pad: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    bias: bool,
) -> tuple[tuple[int, ...], int, int]:
    """Output spatial shape, parameters and MACs, by counting entries and multiplications."""
    weights = sum(1 for _ in itertools.product(range(k), range(c // groups), *(range(f) for f in size)))
    params = weights + (k if bias else 0)
    per_axis_starts = [
        window_starts(n=n, size=f, stride=s, pad=p, dilation=d)
        for n, f, s, p, d in zip(spatial, size, stride, pad, dilation, strict=True)
    ]
    out = tuple(len(s) for s in per_axis_starts)
    macs = 0
    for _position in itertools.product(*per_axis_starts):
        for _filter in range(k):
            for _channel in range(c // groups):
                for _tap in itertools.product(*(range(f) for f in size)):
                    macs += 1
    return out, params, macs


@st.composite
def conv_configs(draw: st.DrawFn) -> dict:
    ndim = draw(st.integers(min_value=1, max_value=3))
    spatial = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    size = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    pad = tuple(draw(st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim)))
    dilation = tuple(draw(st.lists(st.integers(1, 2), min_size=ndim, max_size=ndim)))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c = groups * draw(st.integers(1, 3))
    k = groups * draw(st.integers(1, 3))
    bias = draw(st.booleans())
    return dict(
        spatial=spatial,
        c=c,
        k=k,
        size=size,
        stride=stride,
        pad=pad,
        dilation=dilation,
        groups=groups,
        bias=bias,
    )


@FAST
@given(cfg=conv_configs())
def test_conv_counts_against_brute_force(cfg: dict) -> None:
    out, params, macs = brute_conv_counts(**cfg)
    layer = Conv(
        name="c",
        filters=cfg["k"],
        size=cfg["size"],
        stride=cfg["stride"],
        pad=cfg["pad"],
        dilation=cfg["dilation"],
        groups=cfg["groups"],
        bias=cfg["bias"],
    )
    shape = Shape(cfg["spatial"], cfg["c"])
    r = resolve_layer(1, layer, shape)
    assert r.params == params
    if all(o >= 1 for o in out):
        assert r.output.spatial == out
        assert r.output.channels == cfg["k"]
        assert r.macs == macs
        assert r.fc_params == shape.elements * prod(out) * cfg["k"]
    else:
        assert any(o < 1 for o in r.output.spatial)
        assert r.macs == 0


@FAST
@given(
    spatial=st.lists(st.integers(1, 6), min_size=0, max_size=3),
    c=st.integers(1, 5),
    units=st.integers(1, 20),
    bias=st.booleans(),
)
def test_fc_counts_against_brute_force(spatial: list[int], c: int, units: int, bias: bool) -> None:
    shape = Shape(tuple(spatial), c)
    inputs = sum(1 for _ in itertools.product(*(range(n) for n in (*spatial, c))))
    weights = sum(1 for _ in itertools.product(range(inputs), range(units)))
    r = resolve_layer(1, FC(name="f", units=units, bias=bias), shape)
    assert r.params == weights + (units if bias else 0)
    assert r.fc_params == weights
    assert r.macs == weights
    assert r.output.dims == (units,)


@FAST
@given(
    spatial=st.lists(st.integers(1, 12), min_size=1, max_size=3),
    c=st.integers(1, 8),
    size=st.integers(1, 4),
    stride=st.none() | st.integers(1, 4),
    ceil=st.booleans(),
)
def test_pool_counts(spatial: list[int], c: int, size: int, stride: int | None, ceil: bool) -> None:
    layer = Pool(name="p", size=(size,), stride=None if stride is None else (stride,), ceil=ceil)
    r = resolve_layer(1, layer, Shape(tuple(spatial), c))
    assert (r.params, r.fc_params, r.macs) == (0, None, 0)
    expected = tuple(
        len(window_starts(n=n, size=size, stride=stride or size, pad=0, ceil=ceil)) for n in spatial
    )
    if all(e >= 1 for e in expected):
        assert r.output.dims == (*expected, c)


@st.composite
def stacks(draw: st.DrawFn) -> dict:
    """A random valid stack: convs and pools that keep at least 1 pixel, then fcs."""
    n = draw(st.integers(8, 40))
    c = draw(st.integers(1, 4))
    layers = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            f = draw(st.integers(1, 3))
            layers.append(
                {
                    "type": "conv",
                    "filters": draw(st.integers(1, 8)),
                    "size": f,
                    "pad": f // 2,
                    "stride": draw(st.integers(1, 2)),
                    "bias": draw(st.booleans()),
                }
            )
        else:
            layers.append({"type": "pool", "size": 2, "mode": draw(st.sampled_from(["max", "avg"]))})
    for _ in range(draw(st.integers(0, 3))):
        layers.append({"type": "fc", "units": draw(st.integers(1, 50))})
    return {"input": [n, n, c], "layers": layers}


@FAST
@given(spec=stacks())
def test_per_layer_counts_add_up(spec: dict) -> None:
    result = convcalc.analyze(spec)
    layers = result["layers"]
    assert result["totals"]["params"] == sum(r["params"] for r in layers)
    assert result["totals"]["macs"] == sum(r["macs"] for r in layers)
    assert result["totals"]["fc_params"] == sum(r["fc_params"] or 0 for r in layers)
    # each layer's input is the previous layer's output
    shape = result["input_shape"]
    for r in layers:
        assert r["input_shape"] == shape
        shape = r["output_shape"]
    if layers and all(r["output_shape"] is not None for r in layers):  # null: a window too large
        assert result["output_shape"] == layers[-1]["output_shape"]
