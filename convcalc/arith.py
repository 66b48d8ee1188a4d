"""Per-axis sliding-window arithmetic, exactly as PyTorch computes it."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from math import gcd

from .factor import divisors
from .model import Axis


def out_size(*, n: int, size: int, stride: int, pad: int, dilation: int = 1, ceil: bool = False) -> int:
    """PyTorch's output size: floor((N + 2P - E)/S) + 1, or its ceil-mode rule."""
    extent = dilation * (size - 1) + 1
    if not ceil:
        return (n + 2 * pad - extent) // stride + 1
    out = (n + 2 * pad - extent + stride - 1) // stride + 1
    if (out - 1) * stride >= n + pad:
        out -= 1
    return out


def float32(x: Fraction) -> Fraction:
    """x rounded to the nearest IEEE float32 (ties to even), exactly, without numpy; no overflow check."""
    if x == 0:
        return Fraction(0)
    sign, x = (-1 if x < 0 else 1), abs(x)
    exp = x.numerator.bit_length() - x.denominator.bit_length()
    if Fraction(2) ** exp > x:
        exp -= 1  # now 2**exp <= x < 2**(exp + 1)
    ulp = Fraction(2) ** (max(exp, -126) - 23)  # 24 significant bits; subnormals below 2**-126
    q, rest = divmod(x, ulp)
    if rest * 2 > ulp or (rest * 2 == ulp and q % 2):
        q += 1
    return sign * q * ulp


def caffe_out_size(*, n: int, size: int, stride: int, pad: int, clip: bool) -> int:
    """Caffe's PoolingLayer::Reshape: ceil(float(N + 2P - F) / S) + 1 in float32; then, only when the
    layer pads some axis (`clip`), one less if the last window starts at N + P or later."""
    quotient = float32(float32(Fraction(n + 2 * pad - size)) / float32(Fraction(stride)))
    out = math.ceil(quotient) + 1
    if clip and (out - 1) * stride >= n + pad:
        out -= 1
    return out


def transposed_size(
    *, n: int, size: int, stride: int, pad: int, pad_end: int, dilation: int, output_pad: int
) -> int:
    """A transposed layer's output: (N-1)S - P_b - P_a + D(F-1) + output_pad + 1."""
    return (n - 1) * stride - pad - pad_end + dilation * (size - 1) + 1 + output_pad


def axis(
    *,
    n: int,
    size: int,
    stride: int,
    pad: int,
    dilation: int = 1,
    ceil: bool = False,
    pad_end: int | None = None,
    output_pad: int = 0,
    transposed: bool = False,
    caffe: bool = False,
    caffe_clip: bool = False,
) -> Axis:
    """The geometry of one axis together with its output size; `caffe` rounds as Caffe's pools do."""
    if caffe:
        o = caffe_out_size(n=n, size=size, stride=stride, pad=pad, clip=caffe_clip)
        return Axis(
            n=n, size=size, stride=stride, pad=pad, ceil=True, out=o, caffe=True, caffe_clip=caffe_clip
        )
    if pad_end is None and not transposed:
        return _axis(n, size, stride, pad, dilation, ceil)
    return _general(n, size, stride, pad, dilation, pad_end, output_pad, transposed)


@functools.lru_cache(maxsize=4096)
def _axis(n: int, size: int, stride: int, pad: int, dilation: int, ceil: bool) -> Axis:
    """Axes are immutable, and deep stacks repeat the same few: share them."""
    o = out_size(n=n, size=size, stride=stride, pad=pad, dilation=dilation, ceil=ceil)
    return Axis(n=n, size=size, stride=stride, pad=pad, dilation=dilation, ceil=ceil, out=o)


def _general(
    n: int,
    size: int,
    stride: int,
    pad: int,
    dilation: int,
    pad_end: int | None,
    output_pad: int,
    transposed: bool,
) -> Axis:
    """Per-side padding (floor mode only) or a transposed window."""
    if pad_end == pad:
        pad_end = None
    end = pad if pad_end is None else pad_end
    extent = dilation * (size - 1) + 1
    if transposed:
        o = transposed_size(
            n=n, size=size, stride=stride, pad=pad, pad_end=end, dilation=dilation, output_pad=output_pad
        )
    else:
        o = (n + pad + end - extent) // stride + 1
    return Axis(
        n=n,
        size=size,
        stride=stride,
        pad=pad,
        dilation=dilation,
        out=o,
        pad_end=pad_end,
        output_pad=output_pad,
        transposed=transposed,
    )


def same_pads(*, n: int, extent: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding for output ceil(N/S): the total split with the odd pixel after."""
    out = -(-n // stride)
    total = max((out - 1) * stride + extent - n, 0)
    return total // 2, total - total // 2


def same_crop(*, extent: int, stride: int) -> tuple[int, int, int]:
    """'same' for a transposed layer (output N x S): the crop before and after, and the extra output."""
    total = max(extent - stride, 0)
    return total // 2, total - total // 2, max(stride - extent, 0)


def adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows: from floor(j N/o) to ceil((j+1) N/o)."""
    return [((j * n) // out, -(-((j + 1) * n) // out)) for j in range(out)]


def fits(a: Axis) -> bool:
    """Whether the windows tile this axis exactly."""
    return a.numerator >= 0 and not a.fractional


def drops_input(a: Axis) -> bool:
    """Whether real input lies past the last window, beyond the stride's own gaps."""
    return a.out > 0 and a.lost > a.gap


def smallest_pad(a: Axis, *, limit: int | None = None) -> int | None:
    """The smallest symmetric padding that makes this axis fit, or None (at most `limit`).

    N + 2P - E must be a multiple of S and not negative: 2P = E - N (mod S), 2P >= E - N.
    """
    d, g = a.extent - a.n, gcd(2, a.stride)
    if d % g:
        return None  # an even stride keeps N + 2P - E as odd as N - E
    m = a.stride // g
    residue = (d // g) * pow(2 // g, -1, m) % m
    low = max(0, -(-d // 2))
    p = low + (residue - low) % m
    return None if limit is not None and p > limit else p


_SCAN = 1 << 16
"""Candidates tried one by one when a number's divisors cannot be listed within the budget."""


def _nearest_divisor(m: int, lo: int, hi: int, *, highest: bool, ok: Callable[[int], bool]) -> int | None:
    """The highest (or lowest) divisor of m from lo to hi that passes `ok`; a bounded search."""
    if lo > hi:
        return None
    listed = divisors(m) if hi - lo >= _SCAN else None
    if listed is None:  # a short range, or divisors that cannot be listed: scan its near end
        scan = range(hi, max(lo, hi - _SCAN) - 1, -1) if highest else range(lo, min(hi, lo + _SCAN) + 1)
        return next((s for s in scan if m % s == 0 and ok(s)), None)
    found = [d for d in listed if lo <= d <= hi and ok(d)]
    return (found[-1] if highest else found[0]) if found else None


def near_strides(a: Axis, ok: Callable[[int], bool] = lambda s: True) -> tuple[int | None, int | None]:
    """The nearest strides below and above that fit (and pass `ok`), the one above within the window."""
    m = a.numerator
    if m <= 0:
        return None, None
    below = _nearest_divisor(m, 1, min(a.stride - 1, m), highest=True, ok=ok)
    above = _nearest_divisor(m, a.stride + 1, min(m, a.extent), highest=False, ok=ok)
    return below, above
