"""The fixes: settings near a layer's own that make it fit, found by search where there is no formula.

The rules (convcalc.rules) decide what is wrong; these say what would put it right: the smallest pad,
the nearest strides that leave no more input unread, the nearest network inputs that fit, and per-side
pads that keep a layer's output.
"""

from __future__ import annotations

import functools
from math import gcd

from . import arith
from . import formulas as fm
from .kinds.window import Pool
from .model import Axis, Layout, PadMode, PoolMode, Resolved, Shape, Spec

_MAX_INPUT_STEPS = 4096


INPUT_BUDGET = 200_000
"""Layer steps that every input-size fix search of a network takes together, at most: the
searches share it, so a deep stack with many misfits stays linear in its depth."""


def _shape_text(dims: tuple[int, ...], layout: Layout, channels: int) -> str:
    return fm.product((channels, *dims) if layout is Layout.CHW else (*dims, channels))


def _pad_limit(r: Resolved, a: Axis) -> int:
    """The most padding worth suggesting: half a pool's window (PyTorch's cap), D(F-1) otherwise."""
    return a.extent // 2 if isinstance(r.layer, Pool) else a.extent - 1


def pad_fix(r: Resolved) -> tuple[str | None, str | None]:
    """The smallest symmetric pad that fits on every axis, or why there is none."""
    pads, outs = [], []
    for a in r.axes:
        limit = _pad_limit(r, a)
        p = arith.smallest_pad(a, limit=limit) if a.fractional else a.pad
        if p is None:
            if a.stride % 2 == 0 and (a.n - a.extent) % 2:
                odd = f"{a.n} - {a.extent} = {a.n - a.extent}"
                why = f"no symmetric pad fits at stride {a.stride}: {odd} is odd"
            elif isinstance(r.layer, Pool):
                why = f"no pad fits within the {limit} a pool allows"
            else:
                why = f"no pad from 0 to D(F-1) = {limit} fits"
            return None, why
        pads.append(p)
        outs.append(arith.out_size(n=a.n, size=a.size, stride=a.stride, pad=p, dilation=a.dilation))
    return f"pad {fm.setting(pads)} -> {fm.product(tuple(outs))}", None


def stride_fixes(r: Resolved) -> list[str]:
    """The nearest strides below and above that fit, unless they would leave input unread."""
    fixes = []
    for side in (0, 1):
        strides, outs = [], []
        for a in r.axes:
            s: int | None = a.stride
            if a.fractional:
                s = arith.near_strides(a, functools.partial(_no_more_holes, a))[side]
            if s is None:
                break
            strides.append(s)
            outs.append(_again(a, stride=s).out)
        else:
            fixes.append(f"stride {fm.setting(strides)} -> {fm.product(tuple(outs))}")
    return fixes


def _no_more_holes(a: Axis, stride: int) -> bool:
    return holes(a, stride) <= holes(a)


def _again(p: Axis, n: int | None = None, *, stride: int | None = None) -> Axis:
    """The same window on an input of size n, or at another stride; per-side pads and ceil kept."""
    return arith.axis(
        n=p.n if n is None else n,
        size=p.size,
        stride=p.stride if stride is None else stride,
        pad=p.pad,
        dilation=p.dilation,
        ceil=p.ceil,
        pad_end=p.pad_end,
        output_pad=p.output_pad,
        transposed=p.transposed,
        caffe=p.caffe,
        caffe_clip=p.caffe_clip,
    )


def _carry(x: int, j: int, before: tuple[Resolved, ...], a: Axis) -> int | None:
    """This layer's output on axis j for network input x, if it fits and nothing before drops input."""
    n = x
    for prev in before:
        step = _again(prev.axes[j], n)
        if step.out < 1 or arith.drops_input(step) or _shrinks_below_window(prev.axes[j], n):
            return None
        n = step.out
    here = _again(a, n)
    return here.out if arith.fits(here) and not _shrinks_below_window(a, n) else None


def _shrinks_below_window(a: Axis, n: int) -> bool:
    """Whether an input of size n would be smaller than a window the layer's own input covers
    (some kernels, avg_pool3d's among them, refuse that even with padding)."""
    return not a.transposed and n < a.size <= a.n


def _carriable(r: Resolved) -> bool:
    """Whether the layer's windows stay the same on another input (no 'same' pads, nothing adaptive)."""
    from . import kinds

    if kinds.of(r.layer).ELEMENTWISE:
        return True
    return bool(r.axes) and getattr(r.layer, "pad_mode", PadMode.EXPLICIT) is not PadMode.SAME


def input_fixes(
    spec: Spec, first: Shape, before: tuple[Resolved, ...], r: Resolved, *, budget: int
) -> list[str]:
    """Network inputs near the given one that make this layer fit; `budget` bounds the layer steps."""
    if not all(_carriable(p) for p in before):
        return []
    before = tuple(p for p in before if p.axes)
    if len(first.spatial) != len(r.axes) or any(len(p.axes) != len(r.axes) for p in before):
        return []
    steps = min(
        _MAX_INPUT_STEPS,
        max(64, 8 * r.axes[0].stride * max((p.axes[0].stride for p in before), default=1) ** 2),
        budget // (2 * len(r.axes) * (len(before) + 1)),
    )
    fixes = []
    for direction in (-1, 1):
        dims, outs = [], []
        for j, (x0, a) in enumerate(zip(first.spatial, r.axes, strict=True)):
            if not a.fractional:
                dims.append(x0)
                outs.append(a.out)
                continue
            found = None
            for k in range(1, steps + 1):
                x = x0 + direction * k
                if x < 1:
                    break
                out = _carry(x, j, before, a)
                if out is not None:
                    found = (x, out)
                    break
            if found is None:
                break
            dims.append(found[0])
            outs.append(found[1])
        else:
            shape = _shape_text(tuple(dims), spec.layout, first.channels)
            fixes.append(f"input {shape} -> {fm.product(tuple(outs))}")
    return fixes


def same_output_fixes(r: Resolved) -> tuple[str, ...]:
    """Per-side padding that makes every window fit exactly and keeps the layer's output and its
    windows (the padding before stays): the trailing pad shrinks to what the last window uses, or
    grows to what a ceil-mode window reads. None when the unread pixels lie in a stride's gap."""
    pairs = []
    for a in r.axes:
        total = (a.out - 1) * a.stride + a.extent - a.n
        if total < a.pad:
            return ()
        pairs.append((a.pad, total - a.pad))
    shown = pairs if len(set(pairs)) > 1 else pairs[:1]
    text = "pad [" + ", ".join(f"[{b}, {e}]" for b, e in shown) + "]"
    if isinstance(r.layer, Pool) and r.layer.ceil:
        text += " and ceil false"
    text += f" -> {fm.spatial(r.output)}"
    order = ", ".join(f"{b}, {e}" for b, e in reversed(pairs))  # F.pad and ZeroPad: the last axis first
    if isinstance(r.layer, Pool) and r.layer.mode is PoolMode.MAX:
        how = f"F.pad(x, ({order}), value=-inf), then padding 0"
    elif isinstance(r.layer, Pool):
        return (text,)  # zeros from F.pad would change an average's divisor: no one-line PyTorch form
    else:
        how = f"nn.ZeroPad{len(pairs)}d(({order})), then padding 0"
    return (f"{text} (in PyTorch: {how})",)


def holes(a: Axis, stride: int | None = None) -> int:
    """Input positions out of every `stride` that no window ever reads, in the steady state."""
    return _unread(a.size, a.dilation, stride or a.stride)


def _unread(size: int, dilation: int, stride: int) -> int:
    """Taps k D (k < F) land on min(F, S/gcd(D, S)) distinct positions modulo S; the rest are unread."""
    return stride - min(size, stride // gcd(dilation, stride))
