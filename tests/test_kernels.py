"""The numpy kernels against direct loops (hypothesis) and hand-computed PyTorch numbers."""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from math import prod

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from convcalc import kernels

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


@st.composite
def conv_cases(draw: st.DrawFn, *, transpose: bool) -> Case:
    """Draw a 1-3-D convolution whose output has at least one element on every axis."""
    dims = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 4))
    in_channels = groups * draw(st.integers(1, 4 // groups))
    out_channels = groups * draw(st.integers(1, 4 // groups))
    axes = []
    for _ in range(dims):
        f, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        if transpose:
            length = draw(st.integers(1, 7))
            op = draw(st.integers(0, max(s, d) - 1))
            p = draw(st.integers(0, min(2, ((length - 1) * s + d * (f - 1) + op) // 2)))
        else:
            p, op = draw(st.integers(0, 2)), 0
            length = draw(st.integers(max(1, d * (f - 1) + 1 - 2 * p), 7))
        axes.append((length, f, s, p, d, op))
    n, size, stride, pad, dilation, output_pad = (tuple(column) for column in zip(*axes, strict=True))
    seed = draw(st.integers(0, 2**32 - 1))
    return Case(seed, groups, in_channels, out_channels, n, size, stride, pad, dilation, output_pad)


def loop_conv(x: Array, w: Array, b: Array, case: Case) -> NDArray[np.float64]:
    """Cross-correlation by nested loops over outputs, groups and kernel offsets."""
    cg, kg = case.in_channels // case.groups, case.out_channels // case.groups
    out_shape = tuple(
        (n + 2 * p - d * (f - 1) - 1) // s + 1
        for n, f, s, p, d in zip(case.n, case.size, case.stride, case.pad, case.dilation, strict=True)
    )
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
    axes = zip(case.n, case.size, case.stride, case.pad, case.dilation, case.output_pad, strict=True)
    out_shape = tuple((n - 1) * s - 2 * p + d * (f - 1) + op + 1 for n, f, s, p, d, op in axes)
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
    """conv equals the direct loop for every geometry, grouping and dimensionality."""
    x = random(case.seed, case.in_channels, *case.n)
    w = random(case.seed + 1, case.out_channels, case.in_channels // case.groups, *case.size)
    b = random(case.seed + 2, case.out_channels)
    actual = kernels.conv(
        x, w, b, stride=case.stride, pad=case.pad, dilation=case.dilation, groups=case.groups
    )
    close(actual, loop_conv(x, w, b, case))


@EXAMPLES
@given(conv_cases(transpose=True))
def test_conv_transpose_matches_loops(case: Case) -> None:
    """conv_transpose equals scattering input elements through the kernel."""
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
    )
    close(actual, loop_conv_transpose(x, w, b, case))


def pooled_length(n: int, f: int, s: int, p: int, ceil: bool) -> int:
    """PyTorch's rule: round up in ceil mode, but never start a window past the input."""
    o = (n + 2 * p - f + (s - 1 if ceil else 0)) // s + 1
    return o - 1 if ceil and (o - 1) * s >= n + p else o


def loop_pool(x: Array, case: Case, *, ceil: bool, mode: str, count_pad: bool) -> NDArray[np.float64]:
    """Max or average pooling by a loop over output positions and window offsets."""
    axes = list(zip(case.n, case.size, case.stride, case.pad, strict=True))
    out_shape = tuple(pooled_length(n, f, s, p, ceil) for n, f, s, p in axes)
    out = np.zeros((x.shape[0], *out_shape))
    for o in np.ndindex(*out_shape):
        starts = [i * s - p for i, (n, f, s, p) in zip(o, axes, strict=True)]
        values = [
            x[(slice(None), *position)]
            for offset in np.ndindex(*case.size)
            if inside(position := tuple(a + t for a, t in zip(starts, offset, strict=True)), case.n)
        ]
        if mode == "max":
            out[(slice(None), *o)] = np.max(values, axis=0)
            continue
        clipped = [min(a + f, n + p) - a for a, (n, f, _, p) in zip(starts, axes, strict=True)]
        out[(slice(None), *o)] = np.sum(values, axis=0) / (prod(clipped) if count_pad else len(values))
    return out


@st.composite
def pool_cases(draw: st.DrawFn) -> Case:
    """Draw a 1-3-D pooling with pad <= size // 2 and an input at least one window wide."""
    dims = draw(st.integers(1, 3))
    axes = []
    for _ in range(dims):
        f, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        p = draw(st.integers(0, f // 2))
        axes.append((draw(st.integers(max(1, f - 2 * p), 7)), f, s, p))
    n, size, stride, pad = (tuple(column) for column in zip(*axes, strict=True))
    channels, seed = draw(st.integers(1, 4)), draw(st.integers(0, 2**32 - 1))
    ones = (1,) * dims
    return Case(seed, 1, channels, channels, n, size, stride, pad, ones, ones)


@EXAMPLES
@given(pool_cases(), st.booleans())
def test_max_pool_matches_loops(case: Case, ceil: bool) -> None:
    """max_pool equals the maximum over the real elements of each window."""
    x = random(case.seed, case.in_channels, *case.n)
    actual = kernels.max_pool(x, size=case.size, stride=case.stride, pad=case.pad, ceil=ceil)
    close(actual, loop_pool(x, case, ceil=ceil, mode="max", count_pad=True))


@EXAMPLES
@given(pool_cases(), st.booleans(), st.booleans())
def test_avg_pool_matches_loops(case: Case, ceil: bool, count_pad: bool) -> None:
    """avg_pool divides each window's sum by PyTorch's divisor."""
    x = random(case.seed, case.in_channels, *case.n)
    actual = kernels.avg_pool(
        x, size=case.size, stride=case.stride, pad=case.pad, ceil=ceil, count_pad=count_pad
    )
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
    close(kernels.linear(x, w, b), expected)


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
