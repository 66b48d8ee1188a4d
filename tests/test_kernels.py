"""The numpy kernels against direct loops (hypothesis) and hand-computed PyTorch numbers."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from math import prod

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from convcalc import kernels
from convcalc.kinds.bn import kernel as batch_norm_kernel
from convcalc.kinds.dropout import kernel as dropout_kernel
from convcalc.kinds.fc import kernel as linear_kernel
from convcalc.kinds.flatten import kernel as flatten_kernel
from convcalc.kinds.global_pool import kernel as global_pool_kernel

Array = NDArray[np.float32]
Ints = tuple[int, ...]
EXAMPLES = settings(max_examples=60, deadline=None)


def close(actual: Array, expected: NDArray[np.float64]) -> None:
    """Assert float32 output, the expected shape and values within float32 tolerance."""
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def random(seed: int, *shape: int) -> Array:
    """Return reproducible float32 values in [-1, 1)."""
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def inside(position: Ints, shape: Ints) -> bool:
    """Whether a position lies in the array (not in its padding)."""
    return all(0 <= q < n for q, n in zip(position, shape, strict=True))


@dataclass(frozen=True)
class Case:
    """One random layer geometry."""

    seed: int
    groups: int
    in_channels: int
    out_channels: int
    n: Ints
    size: Ints
    stride: Ints
    pad: Ints
    dilation: Ints
    output_pad: Ints
    pad_end: Ints | None = None
    """Padding after each axis; None pads both sides with `pad`."""

    @property
    def ends(self) -> Ints:
        """Padding after each axis."""
        return self.pad if self.pad_end is None else self.pad_end


@st.composite
def conv_cases(draw: st.DrawFn, *, transpose: bool) -> Case:
    """Draw a 1-3-D convolution, padded per side or not, with at least one output on every axis."""
    dims = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 4))
    in_channels = groups * draw(st.integers(1, 4 // groups))
    out_channels = groups * draw(st.integers(1, 4 // groups))
    per_side = draw(st.booleans())
    axes = []
    for _ in range(dims):
        f, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        if transpose:
            length = draw(st.integers(1, 7))
            op = draw(st.integers(0, max(s, d) - 1))
            full = (length - 1) * s + d * (f - 1) + op + 1
            p = draw(st.integers(0, min(2, (full - 1) // 2)))
            e = draw(st.integers(0, min(2, full - 1 - p))) if per_side else p
        else:
            p, op = draw(st.integers(0, 2)), 0
            e = draw(st.integers(0, 2)) if per_side else p
            length = draw(st.integers(max(1, d * (f - 1) + 1 - p - e), 7))
        axes.append((length, f, s, p, d, op, e))
    n, size, stride, pad, dilation, output_pad, ends = (tuple(column) for column in zip(*axes, strict=True))
    seed = draw(st.integers(0, 2**32 - 1))
    pad_end = ends if per_side else None
    return Case(seed, groups, in_channels, out_channels, n, size, stride, pad, dilation, output_pad, pad_end)


def loop_conv(x: Array, w: Array, b: Array, case: Case) -> NDArray[np.float64]:
    """Cross-correlation by nested loops over outputs, groups and kernel offsets."""
    cg, kg = case.in_channels // case.groups, case.out_channels // case.groups
    geometry = zip(case.n, case.size, case.stride, case.pad, case.ends, case.dilation, strict=True)
    out_shape = tuple((n + p + e - d * (f - 1) - 1) // s + 1 for n, f, s, p, e, d in geometry)
    out = np.zeros((case.out_channels, *out_shape))
    for o in np.ndindex(*out_shape):
        for offset in np.ndindex(*case.size):
            geometry = zip(o, offset, case.stride, case.pad, case.dilation, strict=True)
            position = tuple(i * s - p + t * d for i, t, s, p, d in geometry)
            if not inside(position, case.n):
                continue
            for g in range(case.groups):
                ks, cs = slice(g * kg, (g + 1) * kg), slice(g * cg, (g + 1) * cg)
                out[(ks, *o)] += w[(ks, slice(None), *offset)] @ x[(cs, *position)]
    return out + b.reshape(-1, *(1,) * len(out_shape))


def loop_conv_transpose(x: Array, w: Array, b: Array, case: Case) -> NDArray[np.float64]:
    """Transposed convolution by scattering every input element through every kernel offset."""
    cg, kg = case.in_channels // case.groups, case.out_channels // case.groups
    axes = zip(
        case.n, case.size, case.stride, case.pad, case.ends, case.dilation, case.output_pad, strict=True
    )
    out_shape = tuple((n - 1) * s - p - e + d * (f - 1) + op + 1 for n, f, s, p, e, d, op in axes)
    out = np.zeros((case.out_channels, *out_shape))
    for i in np.ndindex(*case.n):
        for offset in np.ndindex(*case.size):
            geometry = zip(i, offset, case.stride, case.pad, case.dilation, strict=True)
            target = tuple(q * s - p + t * d for q, t, s, p, d in geometry)
            if not inside(target, out_shape):
                continue
            for g in range(case.groups):
                ks, cs = slice(g * kg, (g + 1) * kg), slice(g * cg, (g + 1) * cg)
                out[(ks, *target)] += w[(cs, slice(None), *offset)].T @ x[(cs, *i)]
    return out + b.reshape(-1, *(1,) * len(out_shape))


@EXAMPLES
@given(conv_cases(transpose=False))
def test_conv_matches_loops(case: Case) -> None:
    """conv equals the direct loop for every geometry, grouping, dimensionality and per-side padding."""
    x = random(case.seed, case.in_channels, *case.n)
    w = random(case.seed + 1, case.out_channels, case.in_channels // case.groups, *case.size)
    b = random(case.seed + 2, case.out_channels)
    geometry = {"stride": case.stride, "pad": case.pad, "dilation": case.dilation}
    actual = kernels.conv(x, w, b, groups=case.groups, pad_end=case.pad_end, **geometry)
    close(actual, loop_conv(x, w, b, case))


@EXAMPLES
@given(conv_cases(transpose=True))
def test_conv_transpose_matches_loops(case: Case) -> None:
    """conv_transpose equals scattering input elements through the kernel, then cropping each side."""
    x = random(case.seed, case.in_channels, *case.n)
    w = random(case.seed + 1, case.in_channels, case.out_channels // case.groups, *case.size)
    b = random(case.seed + 2, case.out_channels)
    actual = kernels.conv_transpose(
        x,
        w,
        b,
        stride=case.stride,
        pad=case.pad,
        dilation=case.dilation,
        output_pad=case.output_pad,
        groups=case.groups,
        pad_end=case.pad_end,
    )
    close(actual, loop_conv_transpose(x, w, b, case))


def pooled_length(n: int, f: int, s: int, p: int, e: int, ceil: bool) -> int:
    """PyTorch's rule: round up in ceil mode, but never start a window past the input."""
    o = (n + p + e - f + (s - 1 if ceil else 0)) // s + 1
    return o - 1 if ceil and (o - 1) * s >= n + p else o


def loop_pool(x: Array, case: Case, *, ceil: bool, mode: str, count_pad: bool) -> NDArray[np.float64]:
    """Max or average pooling by a loop over output positions and window offsets."""
    axes = list(zip(case.n, case.size, case.stride, case.pad, case.ends, strict=True))
    out_shape = tuple(pooled_length(n, f, s, p, e, ceil) for n, f, s, p, e in axes)
    out = np.zeros((x.shape[0], *out_shape))
    for o in np.ndindex(*out_shape):
        starts = [i * s - p for i, (n, f, s, p, e) in zip(o, axes, strict=True)]
        values = [
            x[(slice(None), *position)]
            for offset in np.ndindex(*case.size)
            if inside(position := tuple(a + t for a, t in zip(starts, offset, strict=True)), case.n)
        ]
        if mode == "max":
            out[(slice(None), *o)] = np.max(values, axis=0)
            continue
        clipped = [min(a + f, n + e) - a for a, (n, f, _, _, e) in zip(starts, axes, strict=True)]
        out[(slice(None), *o)] = np.sum(values, axis=0) / (prod(clipped) if count_pad else len(values))
    return out


@st.composite
def pool_cases(draw: st.DrawFn) -> Case:
    """Draw a 1-3-D pooling with pads <= size // 2 (per side or not) and an input at least one window wide."""
    dims, per_side = draw(st.integers(1, 3)), draw(st.booleans())
    axes = []
    for _ in range(dims):
        f, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        p = draw(st.integers(0, f // 2))
        e = draw(st.integers(0, f // 2)) if per_side else p
        axes.append((draw(st.integers(max(1, f - p - e), 7)), f, s, p, e))
    n, size, stride, pad, ends = (tuple(column) for column in zip(*axes, strict=True))
    channels, seed = draw(st.integers(1, 4)), draw(st.integers(0, 2**32 - 1))
    ones = (1,) * dims
    return Case(seed, 1, channels, channels, n, size, stride, pad, ones, ones, ends if per_side else None)


@EXAMPLES
@given(pool_cases(), st.booleans())
def test_max_pool_matches_loops(case: Case, ceil: bool) -> None:
    """max_pool equals the maximum over the real elements of each window (ceil mode only when symmetric)."""
    x, ceil = random(case.seed, case.in_channels, *case.n), ceil and case.pad_end is None
    geometry = {"size": case.size, "stride": case.stride, "pad": case.pad}
    actual = kernels.max_pool(x, ceil=ceil, pad_end=case.pad_end, **geometry)
    close(actual, loop_pool(x, case, ceil=ceil, mode="max", count_pad=True))


@EXAMPLES
@given(pool_cases(), st.booleans(), st.booleans())
def test_avg_pool_matches_loops(case: Case, ceil: bool, count_pad: bool) -> None:
    """avg_pool divides each window's sum by PyTorch's divisor, or by its real elements without count_pad."""
    x, ceil = random(case.seed, case.in_channels, *case.n), ceil and case.pad_end is None
    geometry = {"size": case.size, "stride": case.stride, "pad": case.pad}
    actual = kernels.avg_pool(x, ceil=ceil, count_pad=count_pad, pad_end=case.pad_end, **geometry)
    close(actual, loop_pool(x, case, ceil=ceil, mode="avg", count_pad=count_pad))


@EXAMPLES
@given(
    st.lists(st.tuples(st.integers(1, 7), st.integers(1, 7)), min_size=1, max_size=3),
    st.integers(1, 4),
    st.sampled_from(["max", "avg"]),
    st.integers(0, 2**32 - 1),
)
def test_adaptive_pool_matches_loops(
    axes: list[tuple[int, int]], channels: int, mode: str, seed: int
) -> None:
    """adaptive_pool reduces the box [floor(j n / o), ceil((j + 1) n / o)) on every axis."""
    n, output = tuple(a for a, _ in axes), tuple(o for _, o in axes)
    x = random(seed, channels, *n)
    expected = np.zeros((channels, *output))
    for j in np.ndindex(*output):
        box = tuple(slice(i * a // o, -(-(i + 1) * a // o)) for i, a, o in zip(j, n, output, strict=True))
        window = x[(slice(None), *box)].reshape(channels, -1).astype(np.float64)
        expected[(slice(None), *j)] = window.max(axis=1) if mode == "max" else window.mean(axis=1)
    actual = kernels.adaptive_pool(x, output=output, mode="max" if mode == "max" else "avg")
    close(actual, expected)


@EXAMPLES
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_linear_flattens_channels_first(shape: list[int], units: int, seed: int) -> None:
    """linear multiplies the C-order flattening of (C, *spatial) by each weight row."""
    x, w, b = random(seed, *shape), random(seed + 1, units, prod(shape)), random(seed + 2, units)
    flat = [float(x[index]) for index in np.ndindex(*shape)]
    expected = np.array([sum(w[u, i] * v for i, v in enumerate(flat)) + b[u] for u in range(units)])
    close(linear_kernel(x, w, b), expected)


CLASSIC = np.array([[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]], dtype=np.float32)


def test_classic_max_pool() -> None:
    """The textbook 4x4 example pooled 2x2 with stride 2."""
    actual = kernels.max_pool(CLASSIC, size=(2, 2), stride=(2, 2), pad=(0, 0), ceil=False)
    np.testing.assert_array_equal(actual, [[[6, 8], [3, 4]]])


def test_classic_avg_pool() -> None:
    """The textbook 4x4 example averaged 2x2 with stride 2."""
    actual = kernels.avg_pool(CLASSIC, size=(2, 2), stride=(2, 2), pad=(0, 0), ceil=False)
    np.testing.assert_array_equal(actual, [[[3.25, 5.25], [2, 2]]])


@pytest.mark.parametrize(
    ("values", "size", "stride", "pad", "count_pad", "expected"),
    [
        ([1, 2, 3, 4, 5], 2, 2, 0, True, [1.5, 3.5, 5.0]),
        ([1, 2, 3, 4, 5], 2, 2, 1, True, [0.5, 2.5, 4.5]),
        ([1, 2, 3, 4, 5], 2, 2, 1, False, [1.0, 2.5, 4.5]),
        ([1, 2, 3, 4, 5, 6], 3, 2, 1, True, [1.0, 3.0, 5.0, 3.0]),
        ([1, 2, 3, 4, 5, 6], 3, 2, 1, False, [1.5, 3.0, 5.0, 6.0]),
        ([1, 2, 3, 4, 5, 6], 3, 3, 0, True, [2.0, 5.0]),
    ],
)
def test_ceil_mode_avg_pool_matches_pytorch(
    values: list[int], size: int, stride: int, pad: int, count_pad: bool, expected: list[float]
) -> None:
    """Numbers printed by torch.nn.functional.avg_pool1d(..., ceil_mode=True) (torch 2.13)."""
    x = np.array([values], dtype=np.float32)
    actual = kernels.avg_pool(x, size=(size,), stride=(stride,), pad=(pad,), ceil=True, count_pad=count_pad)
    np.testing.assert_allclose(actual, [expected])


def test_ceil_mode_max_pool_keeps_the_partial_window() -> None:
    """The last ceil-mode window of [1..5] covers only the 5."""
    x = np.arange(1, 6, dtype=np.float32).reshape(1, 5)
    np.testing.assert_array_equal(
        kernels.max_pool(x, size=(2,), stride=(2,), pad=(0,), ceil=True), [[2, 4, 5]]
    )


def test_pooling_without_output_raises() -> None:
    """A window wider than the padded input leaves nothing to pool."""
    with pytest.raises(ValueError, match="leaves no output"):
        kernels.max_pool(np.zeros((1, 2), dtype=np.float32), size=(3,), stride=(1,), pad=(0,), ceil=False)


def test_im2col_bytes_is_the_traced_peak() -> None:
    """The reported bytes plus the output are what numpy allocates at conv's peak."""
    x, w = np.ones((6, 30, 20), dtype=np.float32), np.ones((8, 3, 3, 2), dtype=np.float32)
    tracemalloc.start()
    out = kernels.conv(x, w, None, stride=(1, 2), pad=(1, 2), dilation=(2, 1), groups=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.shape == (8, 28, 12)
    estimate = kernels.im2col_bytes(
        in_channels=6, out_spatial=(28, 12), size=(3, 2), groups=2, padded_spatial=(32, 24)
    )
    assert estimate <= peak - out.nbytes <= estimate + 4096


@pytest.mark.parametrize(
    ("values", "pad", "pad_end", "count_pad", "expected"),
    [
        ([1, 2, 3, 4, 5], 0, 1, False, [1.5, 3.5, 5.0]),
        ([1, 2, 3, 4, 5], 0, 1, True, [1.5, 3.5, 2.5]),
        ([1, 2, 3, 4, 5, 6], 1, 0, False, [1.0, 2.5, 4.5]),
        ([1, 2, 3, 4, 5, 6], 1, 0, True, [0.5, 2.5, 4.5]),
    ],
)
def test_per_side_avg_pool(
    values: list[int], pad: int, pad_end: int, count_pad: bool, expected: list[float]
) -> None:
    """TensorFlow's `same` 2-wide, stride-2 average pads the odd pixel after and divides by real pixels."""
    x = np.array([values], dtype=np.float32)
    actual = kernels.avg_pool(
        x, size=(2,), stride=(2,), pad=(pad,), pad_end=(pad_end,), ceil=False, count_pad=count_pad
    )
    np.testing.assert_allclose(actual, [expected])


def test_per_side_max_pool_pads_with_minus_infinity() -> None:
    """Negative values still win over the padding after the axis."""
    x = -np.arange(1, 6, dtype=np.float32).reshape(1, 5)
    actual = kernels.max_pool(x, size=(2,), stride=(2,), pad=(0,), pad_end=(1,), ceil=False)
    np.testing.assert_array_equal(actual, [[-1, -3, -5]])


def test_conv_transpose_crops_each_side() -> None:
    """[1, 2] transposed by ones(3) with stride 2 is [1, 1, 3, 2, 2]; pads crop 1 before and 2 after."""
    x, w = np.array([[1, 2]], dtype=np.float32), np.ones((1, 1, 3), dtype=np.float32)
    geometry = {"stride": (2,), "dilation": (1,), "output_pad": (0,)}
    whole = kernels.conv_transpose(x, w, None, pad=(0,), groups=1, **geometry)
    np.testing.assert_array_equal(whole, [[1, 1, 3, 2, 2]])
    cropped = kernels.conv_transpose(x, w, None, pad=(1,), pad_end=(2,), groups=1, **geometry)
    np.testing.assert_array_equal(cropped, [[1, 3]])


spatial_shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3)


@EXAMPLES
@given(spatial_shapes, st.integers(1, 4), st.sampled_from(["max", "avg"]), st.integers(0, 2**32 - 1))
def test_global_pool_matches_loops(n: list[int], channels: int, mode: str, seed: int) -> None:
    """global_pool reduces every position of each channel to (C, 1, ..., 1)."""
    x = random(seed, channels, *n)
    values = [[float(x[(c, *i)]) for i in np.ndindex(*n)] for c in range(channels)]
    reduced = [max(v) if mode == "max" else sum(v) / len(v) for v in values]
    expected = np.array(reduced).reshape(channels, *(1,) * len(n))
    close(global_pool_kernel(x, mode="max" if mode == "max" else "avg"), expected)


@EXAMPLES
@given(spatial_shapes, st.integers(1, 4), st.booleans(), st.integers(0, 2**32 - 1))
def test_batch_norm_matches_loops(n: list[int], channels: int, affine: bool, seed: int) -> None:
    """batch_norm computes (x - mean) / sqrt(var + eps) * weight + bias element by element."""
    x, mean, var = random(seed, channels, *n), random(seed + 1, channels), random(seed + 2, channels) + 1
    weight, bias = (random(seed + 3, channels), random(seed + 4, channels)) if affine else (None, None)
    expected = np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        c = index[0]
        value = (float(x[index]) - float(mean[c])) / math.sqrt(float(var[c]) + 1e-5)
        expected[index] = (
            value * float(weight[c]) + float(bias[c]) if weight is not None and bias is not None else value
        )
    close(batch_norm_kernel(x, mean=mean, var=var, weight=weight, bias=bias), expected)


def sigmoid(v: float) -> float:
    """The logistic function without overflow."""
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def softplus(v: float) -> float:
    """log(1 + e^v) without overflow."""
    return max(v, 0) + math.log1p(math.exp(-abs(v)))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "relu": lambda v: max(v, 0.0),
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "leaky_relu": lambda v: v if v >= 0 else 0.01 * v,
    "elu": lambda v: v if v > 0 else math.expm1(v),
    "selu": lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v)),
    "gelu": lambda v: v * (1 + math.erf(v / math.sqrt(2))) / 2,
    "silu": lambda v: v * sigmoid(v),
    "mish": lambda v: v * math.tanh(softplus(v)),
    "sigmoid": sigmoid,
    "hardsigmoid": lambda v: min(max(v + 3, 0.0), 6.0) / 6,
    "hardswish": lambda v: v * min(max(v + 3, 0.0), 6.0) / 6,
    "tanh": math.tanh,
    "softplus": softplus,
    "identity": lambda v: v,
    "gelu_tanh": lambda v: v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))) / 2,
    "celu": lambda v: v if v > 0 else math.expm1(v),
    "rrelu": lambda v: v if v >= 0 else (1 / 8 + 1 / 3) / 2 * v,
    "hardtanh": lambda v: min(max(v, -1.0), 1.0),
    "softsign": lambda v: v / (1 + abs(v)),
    "log_sigmoid": lambda v: -softplus(-v),
    "hardshrink": lambda v: v if abs(v) > 0.5 else 0.0,
    "softshrink": lambda v: v - 0.5 if v > 0.5 else v + 0.5 if v < -0.5 else 0.0,
    "tanhshrink": lambda v: v - math.tanh(v),
}
"""Each element-wise activation on one number, with torch's default constants."""
OVER_CHANNELS = ("softmax", "softmax2d", "softmin", "log_softmax")
"""The activations of all channels at a position."""


def test_every_activation_is_covered() -> None:
    """The loop references name every activation the kernels know, the softmax family aside."""
    assert set(kernels.ACTIVATIONS) == {*ELEMENTWISE, *OVER_CHANNELS}


@EXAMPLES
@given(
    spatial_shapes,
    st.integers(1, 4),
    st.sampled_from([*ELEMENTWISE, *OVER_CHANNELS]),
    st.sampled_from([1.0, 4.0, 30.0]),
    st.integers(0, 2**32 - 1),
)
def test_activations_match_loops(n: list[int], channels: int, fn: str, scale: float, seed: int) -> None:
    """Each activation equals its formula element by element; softmax normalises over the channels."""
    x = random(seed, channels, *n) * np.float32(scale)
    expected = np.zeros(x.shape)
    if fn in OVER_CHANNELS:
        sign = -1 if fn == "softmin" else 1
        for i in np.ndindex(*n):
            column = [sign * float(x[(c, *i)]) for c in range(channels)]
            exps = [math.exp(v - max(column)) for v in column]
            for c in range(channels):
                if fn == "log_softmax":
                    expected[(c, *i)] = column[c] - max(column) - math.log(sum(exps))
                else:
                    expected[(c, *i)] = exps[c] / sum(exps)
    else:
        for index in np.ndindex(*x.shape):
            expected[index] = ELEMENTWISE[fn](float(x[index]))
    close(kernels.activation(x, fn=fn), expected)


def test_unknown_activation_raises() -> None:
    """A name the kernels do not know is a ValueError."""
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        kernels.activation(np.zeros((1, 2), dtype=np.float32), fn="swish")


@EXAMPLES
@given(st.lists(st.integers(1, 5), min_size=0, max_size=3), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_dropout_and_flatten(n: list[int], channels: int, seed: int) -> None:
    """Dropout is the identity at inference; flatten lists (C, *spatial) in C order."""
    x = random(seed, channels, *n)
    assert dropout_kernel(x, p=0.5) is x
    expected = np.array([float(x[index]) for index in np.ndindex(*x.shape)])
    close(flatten_kernel(x), expected)


def test_as_conv_memory_is_its_spread_input_and_one_weight_copy() -> None:
    """as_conv allocates the spread, padded input once and the flipped weights once, nothing else."""
    x, w = np.ones((4, 20, 30), dtype=np.float32), np.ones((4, 3, 4, 3), dtype=np.float32)
    tracemalloc.start()
    spread, flipped = kernels.as_conv(
        x, w, stride=(2, 3), pad=(1, 0), pad_end=(2, 1), dilation=(1, 2), output_pad=(1, 0), groups=2
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert spread.shape == (4, 19 * 2 + 1 + 2 * 3 - 1 - 2 + 1, 29 * 3 + 1 + 2 * 4 - 0 - 1 + 0)
    assert flipped.shape == (6, 2, 4, 3)
    assert spread.nbytes + flipped.nbytes <= peak <= spread.nbytes + flipped.nbytes + 4096
