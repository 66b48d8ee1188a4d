"""Per-axis sliding-window arithmetic, exactly as PyTorch computes it."""

from __future__ import annotations

import functools

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


def axis(*, n: int, size: int, stride: int, pad: int, dilation: int = 1, ceil: bool = False) -> Axis:
    """The geometry of one axis together with its output size."""
    return _axis(n, size, stride, pad, dilation, ceil)


@functools.lru_cache(maxsize=4096)
def _axis(n: int, size: int, stride: int, pad: int, dilation: int, ceil: bool) -> Axis:
    """Axes are immutable, and deep stacks repeat the same few: share them."""
    o = out_size(n=n, size=size, stride=stride, pad=pad, dilation=dilation, ceil=ceil)
    return Axis(n=n, size=size, stride=stride, pad=pad, dilation=dilation, ceil=ceil, out=o)


def fits(a: Axis) -> bool:
    """Whether the windows tile this axis exactly."""
    return a.numerator >= 0 and not a.fractional


def drops_input(a: Axis) -> bool:
    """Whether real input lies past the last window, beyond the stride's own gaps."""
    return a.out > 0 and a.lost > a.gap


def smallest_pad(a: Axis, *, limit: int | None = None) -> int | None:
    """The smallest symmetric padding that makes this axis fit, or None."""
    top = max(0, (a.extent - a.n + 1) // 2) + a.stride
    if limit is not None:
        top = min(top, limit)
    for p in range(top + 1):
        numerator = a.n + 2 * p - a.extent
        if numerator >= 0 and numerator % a.stride == 0:
            return p
    return None


def near_strides(a: Axis) -> tuple[int | None, int | None]:
    """The nearest strides below and above that fit, leaving no holes between windows."""
    m = a.numerator
    if m <= 0:
        return None, None
    top = max(a.extent, a.stride)
    below = next((s for s in range(a.stride - 1, 0, -1) if m % s == 0), None)
    above = next((s for s in range(a.stride + 1, min(m, top) + 1) if m % s == 0), None)
    return below, above
