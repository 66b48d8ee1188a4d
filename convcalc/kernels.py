"""Numpy forward kernels for batch-less, channels-first float32 arrays (C, *spatial)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Array = NDArray[np.float32]
Ints = tuple[int, ...]

_ALL = slice(None)


def _pad(x: Array, *, before: Ints, after: Ints, value: float = 0.0) -> Array:
    """Pad the spatial axes of x with a constant, cropping where a width is negative."""
    if not any(before) and not any(after):
        return x
    crop = tuple(slice(-min(b, 0), n + min(a, 0)) for b, a, n in zip(before, after, x.shape[1:], strict=True))
    widths = [(max(b, 0), max(a, 0)) for b, a in zip(before, after, strict=True)]
    return np.pad(x[(_ALL, *crop)], [(0, 0), *widths], constant_values=value)


def _windows(x: Array, *, size: Ints, stride: Ints, dilation: Ints) -> Array:
    """View x as (C, *out, *size) holding every strided, dilated window, without copying."""
    span = tuple(d * (f - 1) + 1 for f, d in zip(size, dilation, strict=True))
    view = sliding_window_view(x, span, axis=tuple(range(1, x.ndim)))
    steps = (slice(None, None, s) for s in stride)
    return view[(_ALL, *steps, *(slice(None, None, d) for d in dilation))]


def conv(
    x: Array,
    weight: Array,
    bias: Array | None,
    *,
    stride: Ints,
    pad: Ints,
    dilation: Ints,
    groups: int,
) -> Array:
    """Cross-correlate x with weight (K, C // groups, *F) exactly like torch's convNd."""
    c, k, dims = x.shape[0], weight.shape[0], x.ndim - 1
    xp = _pad(x.astype(np.float32, copy=False), before=pad, after=pad)
    win = _windows(xp, size=weight.shape[2:], stride=stride, dilation=dilation)
    out_shape = win.shape[1 : 1 + dims]
    win = win.reshape(groups, c // groups, *win.shape[1:])
    window_axes, out_axes = range(2 + dims, 2 + 2 * dims), range(2, 2 + dims)
    cols = win.transpose(0, 1, *window_axes, *out_axes).reshape(groups, -1, math.prod(out_shape))
    w = weight.astype(np.float32, copy=False).reshape(groups, k // groups, -1)
    out: Array = np.matmul(w, cols).reshape(k, *out_shape)
    if bias is not None:
        out += bias.astype(np.float32, copy=False).reshape(k, *(1,) * dims)
    return out


def conv_transpose(
    x: Array,
    weight: Array,
    bias: Array | None,
    *,
    stride: Ints,
    pad: Ints,
    dilation: Ints,
    output_pad: Ints,
    groups: int,
) -> Array:
    """Transposed convolution with weight (C, K // groups, *F) like torch's conv_transposeNd."""
    c, kg, size, dims = x.shape[0], weight.shape[1], weight.shape[2:], x.ndim - 1
    grown = ((n - 1) * s + 1 for n, s in zip(x.shape[1:], stride, strict=True))
    spread = np.zeros((c, *grown), dtype=np.float32)
    spread[(_ALL, *(slice(None, None, s) for s in stride))] = x
    edge = tuple(d * (f - 1) - p for f, d, p in zip(size, dilation, pad, strict=True))
    after = tuple(e + o for e, o in zip(edge, output_pad, strict=True))
    spread = _pad(spread, before=edge, after=after)
    w = weight.reshape(groups, c // groups, kg, *size).swapaxes(1, 2)
    w = np.flip(w.reshape(groups * kg, c // groups, *size), axis=tuple(range(2, 2 + dims)))
    ones, zeros = (1,) * dims, (0,) * dims
    return conv(spread, w, bias, stride=ones, pad=zeros, dilation=dilation, groups=groups)


def _pool_length(n: int, *, size: int, stride: int, pad: int, ceil: bool) -> int:
    """Return torch's pooled length of an axis of n items."""
    out = (n + 2 * pad - size + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= n + pad:
        out -= 1
    return out


def _pool(x: Array, *, size: Ints, stride: Ints, pad: Ints, ceil: bool, value: float, op: np.ufunc) -> Array:
    """Pad x with value so every window exists, then fold the windows with op axis by axis."""
    axes = list(zip(x.shape[1:], size, stride, pad, strict=True))
    lengths = [_pool_length(n, size=f, stride=s, pad=p, ceil=ceil) for n, f, s, p in axes]
    if min(lengths) < 1:
        raise ValueError(f"pooling {x.shape[1:]} by {size} leaves no output")
    after = tuple((o - 1) * s + f - n - p for o, (n, f, s, p) in zip(lengths, axes, strict=True))
    out = _pad(x.astype(np.float32, copy=False), before=pad, after=after, value=value)
    for axis, (o, f, s) in enumerate(zip(lengths, size, stride, strict=True), start=1):
        lead = (_ALL,) * axis
        parts = [out[(*lead, slice(i, i + (o - 1) * s + 1, s))] for i in range(f)]
        out = op(parts[0], parts[1]) if f > 1 else parts[0].copy()
        for part in parts[2:]:
            op(out, part, out=out)
    return out


def max_pool(x: Array, *, size: Ints, stride: Ints, pad: Ints, ceil: bool) -> Array:
    """Max-pool x like torch's max_poolNd, padding with -inf."""
    return _pool(x, size=size, stride=stride, pad=pad, ceil=ceil, value=-np.inf, op=np.maximum)


def avg_pool(x: Array, *, size: Ints, stride: Ints, pad: Ints, ceil: bool, count_pad: bool = True) -> Array:
    """Average-pool x like torch's avg_poolNd with count_include_pad=count_pad."""
    total = _pool(x, size=size, stride=stride, pad=pad, ceil=ceil, value=0.0, op=np.add)
    divisor = np.ones((), dtype=np.float32)
    for axis, (n, f, s, p) in enumerate(zip(x.shape[1:], size, stride, pad, strict=True)):
        start = np.arange(total.shape[1 + axis]) * s - p
        end = np.minimum(start + f, n + p)
        if not count_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        divisor = np.multiply.outer(divisor, (end - start).astype(np.float32))
    out: Array = total / divisor
    return out


def adaptive_pool(x: Array, *, output: Ints, mode: Literal["max", "avg"]) -> Array:
    """Adaptive max or average pooling to the spatial size `output`, like torch."""
    out = x.astype(np.float32, copy=False)
    for axis, o in enumerate(output, start=1):
        n = out.shape[axis]
        parts = []
        for j in range(o):
            box = out.take(np.arange(j * n // o, -(-(j + 1) * n // o)), axis=axis)
            parts.append(box.max(axis=axis) if mode == "max" else box.mean(axis=axis))
        out = np.stack(parts, axis=axis).astype(np.float32, copy=False)
    return out


def linear(x: Array, weight: Array, bias: Array | None) -> Array:
    """Fully connected layer on x flattened in C order; weight is (units, in)."""
    out: Array = weight.astype(np.float32, copy=False) @ x.reshape(-1).astype(np.float32, copy=False)
    if bias is not None:
        out += bias
    return out


def im2col_bytes(
    *,
    in_channels: int,
    out_spatial: Ints,
    size: Ints,
    groups: int,
    itemsize: int = 4,
    padded_spatial: Ints | None = None,
) -> int:
    """Return the bytes of the temporaries that `conv` holds at its peak, besides its output.

    An upper bound: with a 1x1 kernel, stride 1 and no padding the matrix is a view.

    Counted: the im2col matrix, in_channels * prod(size) * prod(out_spatial)
    items whatever `groups` is (all groups share one buffer), plus, when
    `padded_spatial` (input size + 2 * pad per axis) is given and differs from
    the input, the zero-padded input copy, which stays alive until the matrix
    product is done. Not counted: the caller's input, the weights, the output
    array (K * prod(out_spatial) items) and a few KB of Python objects. For
    `conv_transpose` pass the geometry of its inner stride-1 conv, whose padded
    input has (N - 1) * S + 1 + 2 * (D * (F - 1) - P) + output_pad items per axis.
    """
    del groups
    cols = in_channels * math.prod(size) * math.prod(out_spatial)
    padded = 0 if padded_spatial is None else in_channels * math.prod(padded_spatial)
    return (cols + padded) * itemsize
