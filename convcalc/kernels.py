"""Numpy forward kernels for batch-less, channels-first float32 arrays (C, *spatial)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Array = NDArray[np.float32]
Ints = tuple[int, ...]

BAND = 16 * 1024**2
"""im2col bytes per band of output rows: bounds the memory of a conv and keeps it warm in cache."""
_ALL = slice(None)
_F32 = np.float32
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805
_ERF = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _pad(x: Array, *, before: Ints, after: Ints, value: float = 0.0) -> Array:
    """Pad the spatial axes of x with a constant, cropping where a width is negative."""
    if not any(before) and not any(after):
        return x
    crop = tuple(slice(-min(b, 0), n + min(a, 0)) for b, a, n in zip(before, after, x.shape[1:], strict=True))
    widths = [(max(b, 0), max(a, 0)) for b, a in zip(before, after, strict=True)]
    if not any(b or a for b, a in widths):
        return x[(_ALL, *crop)]  # only cropped: a view
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
    pad_end: Ints | None = None,
) -> Array:
    """Cross-correlate x with weight (K, C // groups, *F) like torch's convNd; `pad_end` pads after."""
    c, k, dims = x.shape[0], weight.shape[0], x.ndim - 1
    xp = _pad(x.astype(np.float32, copy=False), before=pad, after=pad if pad_end is None else pad_end)
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


def band_rows(*, channels: int, size: Ints, padded: Ints, band: int = BAND, itemsize: int = 4) -> int:
    """Output rows per band: as many as keep the im2col matrix within `band` bytes, at least one."""
    return max(1, band // (channels * math.prod(size) * math.prod(padded[1:]) * itemsize))


def banded_conv(
    x: Array,
    weight: Array,
    bias: Array | None,
    *,
    stride: Ints,
    pad: Ints,
    dilation: Ints,
    groups: int,
    band: int = BAND,
    pad_end: Ints | None = None,
) -> Array:
    """`conv` over bands of output rows, so no im2col matrix is much above `band` bytes."""
    ends = pad if pad_end is None else pad_end
    xp = np.pad(x, [(0, 0), *zip(pad, ends, strict=True)]) if any(pad) or any(ends) else x
    size = weight.shape[2:]
    rows = band_rows(channels=x.shape[0], size=size, padded=xp.shape[1:], band=band)
    extent = dilation[0] * (size[0] - 1) + 1
    span, step, flat = (rows - 1) * stride[0] + extent, rows * stride[0], (0,) * len(pad)
    parts: list[Array] = []
    start = 0
    while not parts or start + extent <= xp.shape[1]:
        chunk = xp[:, start : start + span]
        parts.append(conv(chunk, weight, bias, stride=stride, pad=flat, dilation=dilation, groups=groups))
        start += step
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _spread(x: Array, *, stride: Ints, before: Ints, after: Ints) -> Array:
    """Zeros with x's elements S apart, `before` and `after` zeros around them (cropped where negative)."""
    lengths = tuple(
        (n - 1) * s + 1 + b + a for n, s, b, a in zip(x.shape[1:], stride, before, after, strict=True)
    )
    if min(lengths, default=1) < 1:
        raise ValueError(f"transposed convolution of {x.shape[1:]} leaves no output")
    out = np.zeros((x.shape[0], *lengths), dtype=np.float32)
    source, target = [], []
    for n, s, b, length in zip(x.shape[1:], stride, before, lengths, strict=True):
        first, last = -(min(b, 0) // s), min(n, (length - 1 - b) // s + 1)
        source.append(slice(first, max(first, last)))
        target.append(slice(b + first * s, b + (last - 1) * s + 1, s) if last > first else slice(0, 0))
    out[(_ALL, *target)] = x[(_ALL, *source)]
    return out


def as_conv(
    x: Array,
    weight: Array,
    *,
    stride: Ints,
    pad: Ints,
    dilation: Ints,
    output_pad: Ints,
    groups: int,
    pad_end: Ints | None = None,
) -> tuple[Array, Array]:
    """The stride-1, unpadded conv a transposed conv equals: its spread, padded input and flipped weight."""
    c, kg, size, dims = x.shape[0], weight.shape[1], weight.shape[2:], x.ndim - 1
    ends = pad if pad_end is None else pad_end
    edge = tuple(d * (f - 1) for f, d in zip(size, dilation, strict=True))
    spread = _spread(
        x.astype(np.float32, copy=False),
        stride=stride,
        before=tuple(e - p for e, p in zip(edge, pad, strict=True)),
        after=tuple(e - p + o for e, p, o in zip(edge, ends, output_pad, strict=True)),
    )
    flipped = np.flip(weight.astype(np.float32, copy=False), axis=tuple(range(2, 2 + dims)))
    w = (
        flipped.reshape(groups, c // groups, kg, *size)
        .swapaxes(1, 2)
        .reshape(groups * kg, c // groups, *size)
    )
    return spread, w


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
    pad_end: Ints | None = None,
) -> Array:
    """Transposed convolution with weight (C, K // groups, *F) like torch's conv_transposeNd.

    `pad` is cropped from the start of each output axis and `pad_end` (default `pad`) from its end.
    """
    spread, w = as_conv(
        x,
        weight,
        stride=stride,
        pad=pad,
        pad_end=pad_end,
        dilation=dilation,
        output_pad=output_pad,
        groups=groups,
    )
    ones, zeros = (1,) * (x.ndim - 1), (0,) * (x.ndim - 1)
    return conv(spread, w, bias, stride=ones, pad=zeros, dilation=dilation, groups=groups)


def _pool_length(n: int, *, size: int, stride: int, pad: int, pad_end: int, ceil: bool) -> int:
    """Return torch's pooled length of an axis of n items; ceil mode starts no window in the end padding."""
    out = (n + pad + pad_end - size + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= n + pad:
        out -= 1
    return out


def _along(axis: int, index: slice) -> tuple[slice, ...]:
    """An index that applies `index` to one axis and keeps the others whole."""
    return (*(_ALL,) * axis, index)


def _disjoint(a: Array, *, axis: int, size: int, stride: int, out: int, op: np.ufunc) -> Array:
    """Fold windows that do not overlap (stride >= size) with one `op.reduceat`."""
    starts = np.arange(0, (out - 1) * stride + 1, stride)
    if stride == size:
        folded: Array = op.reduceat(a, starts, axis=axis)
        return folded
    bounds = np.repeat(starts, 2)[:-1]  # each window's start and, but for the last, its end
    del starts
    bounds[1::2] += size
    return op.reduceat(a, bounds, axis=axis)[_along(axis, slice(None, None, 2))].copy()


def _doubling(a: Array, *, axis: int, size: int, stride: int, out: int, op: np.ufunc) -> Array:
    """Fold overlapping windows by doubling: tables of spans 1, 2, 4, ... joined by the bits of `size`.

    O(length * log2(size)) work and at most three arrays of the axis's length at once, whatever the window.
    """
    length, last = a.shape[axis], (out - 1) * stride + 1
    acc: Array | None = None  # acc[i] folds a[i : i + width]
    table, width, span, bits = a, 0, 1, size  # table[i] folds a[i : i + span]
    while True:
        if bits & 1:
            if bits == 1:
                part = table[_along(axis, slice(width, width + last, stride))]
                if acc is None:
                    return np.ascontiguousarray(part)
                folded: Array = op(acc[_along(axis, slice(0, last, stride))], part)
                return folded
            n = length - width - span + 1
            if acc is None:
                acc = table
            else:
                acc = op(acc[_along(axis, slice(0, n))], table[_along(axis, slice(width, width + n))])
            width += span
        bits >>= 1
        table = op(table[_along(axis, slice(0, -span))], table[_along(axis, slice(span, None))])
        span *= 2


def fold_axis(a: Array, *, axis: int, size: int, stride: int, out: int, op: np.ufunc) -> Array:
    """`op` over each of `out` windows of `size` items, `stride` apart, on `axis`; no loop over them."""
    a = a[_along(axis, slice(0, (out - 1) * stride + size))]
    if size == 1:
        return np.ascontiguousarray(a[_along(axis, slice(None, None, stride))])
    fold = _disjoint if stride >= size else _doubling
    return fold(a, axis=axis, size=size, stride=stride, out=out, op=op)


def _pool(
    x: Array, *, size: Ints, stride: Ints, pad: Ints, pad_end: Ints, ceil: bool, value: float, op: np.ufunc
) -> Array:
    """Pad x with value so every window exists, then fold the windows with op axis by axis."""
    axes = list(zip(x.shape[1:], size, stride, pad, pad_end, strict=True))
    lengths = [_pool_length(n, size=f, stride=s, pad=p, pad_end=e, ceil=ceil) for n, f, s, p, e in axes]
    if min(lengths, default=1) < 1:
        raise ValueError(f"pooling {x.shape[1:]} by {size} leaves no output")
    after = tuple((o - 1) * s + f - n - p for o, (n, f, s, p, _) in zip(lengths, axes, strict=True))
    out = _pad(x.astype(np.float32, copy=False), before=pad, after=after, value=value)
    for axis, (o, f, s) in enumerate(zip(lengths, size, stride, strict=True), start=1):
        out = fold_axis(out, axis=axis, size=f, stride=s, out=o, op=op)
    return out


def max_pool(
    x: Array, *, size: Ints, stride: Ints, pad: Ints, ceil: bool, pad_end: Ints | None = None
) -> Array:
    """Max-pool x like torch's max_poolNd, padding with -inf; `pad_end` (default `pad`) pads after."""
    ends = pad if pad_end is None else pad_end
    return _pool(x, size=size, stride=stride, pad=pad, pad_end=ends, ceil=ceil, value=-np.inf, op=np.maximum)


def avg_pool(
    x: Array,
    *,
    size: Ints,
    stride: Ints,
    pad: Ints,
    ceil: bool,
    count_pad: bool = True,
    pad_end: Ints | None = None,
) -> Array:
    """Average-pool x like torch's avg_poolNd with count_include_pad=count_pad.

    The divisor counts the padding inside a window only when `count_pad` is true (never what a ceil-mode
    window hangs past it); false divides by the real elements, as TensorFlow's `same` does. A window without
    any real element averages to 0.
    """
    ends = pad if pad_end is None else pad_end
    total = _pool(x, size=size, stride=stride, pad=pad, pad_end=ends, ceil=ceil, value=0.0, op=np.add)
    divisor = np.ones((), dtype=np.float32)
    for axis, (n, f, s, p, e) in enumerate(zip(x.shape[1:], size, stride, pad, ends, strict=True)):
        start = np.arange(total.shape[1 + axis], dtype=np.int64)
        start *= s
        start -= p
        end = start + f
        np.minimum(end, n + e, out=end)
        if not count_pad:
            np.maximum(start, 0, out=start)
            np.minimum(end, n, out=end)
        end -= start
        del start
        np.maximum(end, 1, out=end)
        divisor = np.multiply.outer(divisor, end.astype(np.float32))
    out: Array = total / divisor
    return out


def _adaptive_axis(a: Array, *, axis: int, output: int, mode: Literal["max", "avg"]) -> Array:
    """Pool one axis of n items to `output` boxes [floor(j n / o), ceil((j + 1) n / o)), looping over none."""
    n, op = a.shape[axis], np.maximum if mode == "max" else np.add
    if n % output == 0:  # equal boxes side by side
        boxes = a.reshape(*a.shape[:axis], output, n // output, *a.shape[axis + 1 :])
        folded: Array = op.reduce(boxes, axis=axis + 1)
        if mode == "avg":
            folded /= _F32(n // output)  # not `mean`, whose divide by an int buffers casts
        return folded
    if n < output:  # boxes of one or two items: each box's first item and its last, repeated in place
        i = np.arange(n + 1, dtype=np.int64)
        i *= output
        starts = np.diff(-((-i) // n))  # item i starts boxes ceil(i o / n) to ceil((i + 1) o / n) - 1
        i //= n
        ends = np.diff(i)  # item i ends boxes floor(i o / n) to floor((i + 1) o / n) - 1
        del i
        first = np.repeat(a, starts, axis=axis)
        second = np.repeat(a, ends, axis=axis)
        if mode == "max":
            np.maximum(first, second, out=first)
        else:
            first += second
            first *= _F32(0.5)  # a one-item box holds its item twice
        return first
    j = np.arange(output, dtype=np.int64)
    j *= n
    bounds = np.empty(2 * output - 1, dtype=np.int64)
    np.floor_divide(j, output, out=bounds[0::2])
    j += n + output - 1
    j //= output
    bounds[1::2] = j[:-1]
    folded = op.reduceat(a, bounds, axis=axis)[_along(axis, slice(None, None, 2))].copy()
    if mode == "avg":
        j -= bounds[0::2]
        del bounds
        folded /= j.astype(np.float32).reshape(output, *(1,) * (a.ndim - 1 - axis))
    return folded


def adaptive_pool(x: Array, *, output: Ints, mode: Literal["max", "avg"]) -> Array:
    """Adaptive max or average pooling to the spatial size `output`, like torch."""
    out = x.astype(np.float32, copy=False)
    for axis, o in enumerate(output, start=1):
        out = _adaptive_axis(out, axis=axis, output=o, mode=mode)
    return out


def standardise(x: Array, axis: tuple[int, ...], eps: float) -> Array:
    """(x - mean) / sqrt(var + eps) over `axis`, biased variance as PyTorch's: one temporary as big as x."""
    out: Array = np.array(x, dtype=np.float32)
    out -= out.mean(axis=axis, keepdims=True)
    square = np.square(out)
    var = square.mean(axis=axis, keepdims=True)
    del square
    var += np.float32(eps)
    np.sqrt(var, out=var)
    out /= var
    return out


def affine(out: Array, weight: Array | None, bias: Array | None) -> Array:
    """out times weight plus bias, per channel (the first axis), in place."""
    shape = (out.shape[0], *(1,) * (out.ndim - 1))
    if weight is not None:
        out *= weight.astype(np.float32, copy=False).reshape(shape)
    if bias is not None:
        out += bias.astype(np.float32, copy=False).reshape(shape)
    return out


def _erf(x: Array, *, scale: float) -> Array:
    """erf(scale * x) by Abramowitz and Stegun 7.1.26 (error below 1.5e-7), with two temporaries."""
    z = np.abs(x)
    z *= _F32(scale)
    t = z * _F32(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    out = t * _F32(_ERF[-1])
    for a in reversed(_ERF[:-1]):
        out += _F32(a)
        out *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    out *= z
    np.subtract(_F32(1), out, out=out)
    np.copysign(out, x, out=out)
    return out


def _gelu(x: Array) -> Array:
    """x * Phi(x), with the exact normal CDF (torch's default, not its tanh approximation)."""
    out = _erf(x, scale=math.sqrt(0.5))
    out += 1
    out *= x
    out *= _F32(0.5)
    return out


def _sigmoid(x: Array) -> Array:
    """1 / (1 + exp(-x)) as (1 + tanh(x / 2)) / 2, which cannot overflow."""
    out = x * _F32(0.5)
    np.tanh(out, out=out)
    out += 1
    out *= _F32(0.5)
    return out


def _softplus(x: Array) -> Array:
    """log(1 + exp(x)), without overflow."""
    return np.logaddexp(_F32(0), x)


def _elu(x: Array, *, alpha: float = 1.0, scale: float = 1.0) -> Array:
    """x where positive, else alpha * (exp(x) - 1); all times scale (SELU)."""
    out = np.minimum(x, _F32(0))
    np.expm1(out, out=out)
    if alpha != 1:
        out *= _F32(alpha)
    np.copyto(out, x, where=x > 0)
    if scale != 1:
        out *= _F32(scale)
    return out


def _hard(x: Array, *, swish: bool) -> Array:
    """relu6(x + 3) / 6, times x for hardswish."""
    out = x + _F32(3)
    np.clip(out, _F32(0), _F32(6), out=out)
    out /= _F32(6)
    if swish:
        out *= x
    return out


def _leaky(x: Array) -> Array:
    """max(0.01 x, x): x where positive, 0.01 x elsewhere."""
    out = x * _F32(0.01)
    np.maximum(out, x, out=out)
    return out


def _softmax(x: Array) -> Array:
    """Softmax over the channels at every position."""
    out: Array = x - x.max(axis=0, keepdims=True)
    np.exp(out, out=out)
    out /= out.sum(axis=0, keepdims=True)
    return out


def _silu(x: Array) -> Array:
    """x * sigmoid(x)."""
    out = _sigmoid(x)
    out *= x
    return out


def _mish(x: Array) -> Array:
    """x * tanh(softplus(x))."""
    out = _softplus(x)
    np.tanh(out, out=out)
    out *= x
    return out


def _gelu_tanh(x: Array) -> Array:
    """GELU's tanh approximation: x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2, in one buffer."""
    out = np.square(x)
    out *= x
    out *= _F32(0.044715)
    out += x
    out *= _F32(math.sqrt(2 / math.pi))
    np.tanh(out, out=out)
    out += 1
    out *= x
    out *= _F32(0.5)
    return out


def _rrelu(x: Array) -> Array:
    """RReLU at inference: a leaky ReLU whose slope is the mean of its bounds, (1/8 + 1/3) / 2."""
    out = x * _F32((1 / 8 + 1 / 3) / 2)
    np.maximum(out, x, out=out)
    return out


def _softsign(x: Array) -> Array:
    """x / (1 + |x|)."""
    out = np.abs(x)
    out += 1
    np.divide(x, out, out=out)
    return out


def _hardshrink(x: Array) -> Array:
    """x where |x| > 0.5, else 0."""
    out = x.copy()
    out[np.abs(x) <= _F32(0.5)] = 0
    return out


def _softshrink(x: Array) -> Array:
    """x - 0.5 above 0.5, x + 0.5 below -0.5, else 0: x minus x clipped to [-0.5, 0.5]."""
    return np.subtract(x, np.clip(x, _F32(-0.5), _F32(0.5)))


def _tanhshrink(x: Array) -> Array:
    """x - tanh(x)."""
    out = np.tanh(x)
    np.subtract(x, out, out=out)
    return out


def _log_softmax(x: Array) -> Array:
    """log(softmax) over the channels at every position: x - max - log(sum(exp(x - max)))."""
    out: Array = x - x.max(axis=0, keepdims=True)
    total = np.exp(out).sum(axis=0, keepdims=True)
    np.log(total, out=total)
    out -= total
    return out


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "relu": lambda x: np.maximum(x, _F32(0)),
    "relu6": lambda x: np.clip(x, _F32(0), _F32(6)),
    "leaky_relu": _leaky,
    "elu": _elu,
    "selu": lambda x: _elu(x, alpha=_SELU_ALPHA, scale=_SELU_SCALE),
    "gelu": _gelu,
    "silu": _silu,
    "mish": _mish,
    "sigmoid": _sigmoid,
    "hardsigmoid": lambda x: _hard(x, swish=False),
    "hardswish": lambda x: _hard(x, swish=True),
    "tanh": np.tanh,
    "softplus": _softplus,
    "softmax": _softmax,
    "identity": lambda x: x,
    "gelu_tanh": _gelu_tanh,
    "celu": _elu,
    "rrelu": _rrelu,
    "hardtanh": lambda x: np.clip(x, _F32(-1), _F32(1)),
    "softsign": _softsign,
    "log_sigmoid": lambda x: np.negative(_softplus(np.negative(x))),
    "hardshrink": _hardshrink,
    "softshrink": _softshrink,
    "tanhshrink": _tanhshrink,
    "log_softmax": _log_softmax,
    "softmin": lambda x: _softmax(np.negative(x)),
    "softmax2d": _softmax,
}
"""Each activation by name, with torch's default constants (leaky slope 0.01, ELU and CELU alpha 1, exact
GELU, shrink lambda 0.5, RReLU's inference slope); softmax, softmin, log_softmax and softmax2d run over the
channels."""


def activation(x: Array, *, fn: str) -> Array:
    """Apply the activation `fn` (a key of ACTIVATIONS): element-wise, the softmax family over channels."""
    if fn not in ACTIVATIONS:
        raise ValueError(f"unknown activation {fn!r}")
    out: Array = ACTIVATIONS[fn](x.astype(np.float32, copy=False)).astype(np.float32, copy=False)
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
    `padded_spatial` (input size + pad before + pad after per axis) is given and differs from
    the input, the zero-padded input copy, which stays alive until the matrix
    product is done. Not counted: the caller's input, the weights, the output
    array (K * prod(out_spatial) items) and a few KB of Python objects. For
    `conv_transpose` pass the geometry of its inner stride-1 conv, whose spread, padded input has
    (N - 1) * S + 1 + 2 * D * (F - 1) - P_before - P_after + output_pad items per axis (built once, by
    `as_conv`), and add the flipped weight copy `as_conv` makes.
    """
    del groups
    cols = in_channels * math.prod(size) * math.prod(out_spatial)
    padded = 0 if padded_spatial is None else in_channels * math.prod(padded_spatial)
    return (cols + padded) * itemsize
