"""pool: a max or average window (nn.MaxPoolNd, nn.AvgPoolNd), or adaptive to an output size."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from .. import formulas as fm
from ..model import Axis, Code, Field, Held, Kind, Layer, PadMode, PoolMode, Refusal, Resolved, Shape
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import window
from .window import Pool

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array

KIND = Kind.POOL
KEYS = ("mode", "size", "stride", "pad", "ceil", "count_pad", "output")
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED = ()
"""`size`, unless adaptive pooling gives `output` instead: `read` says so."""
ADAPTIVE_EXCLUDES = ("size", "stride", "pad", "ceil", "count_pad")
"""The keys that adaptive pooling (`output`) leaves out: its windows follow from the output."""


_WHY_SYMMETRIC = {False: "PyTorch's ceil_mode", True: "as Caffe pads"}
"""Why rounding up wants a numeric pad alike on both sides: PyTorch's rule, or Caffe's (ceil: caffe)."""


def read(r: Reader) -> Layer:
    """A pooling layer: a fixed window, or adaptive to an `output` size."""
    where, allow = r.where(), r.allow()
    mode = r.choice("mode", PoolMode, PoolMode.MAX)
    common: dict[str, Any] = {"name": r.name, "mode": mode, "where": where, "allow": allow}
    common["expect"] = r.expect()
    data = r.data
    if "output" in data:
        clash = [key for key in ADAPTIVE_EXCLUDES if key in data]
        if clash:
            raise r.refuse(
                clash[0],
                f"'{clash[0]}' does not go with 'output' (adaptive pooling chooses its own windows); "
                "drop one of them",
                f"{', '.join(map(r.flag_name, clash))} does not apply with --output (adaptive pooling)",
            )
        return Pool(size=(1,), output=r.per_axis("output", (1,)), **common)
    if "size" not in data:
        raise r.refuse(
            None,
            "missing required key 'size' (or 'output' for adaptive pooling)",
            "--type pool needs --filter (the window size F) or --output (adaptive)",
        )
    pad, pad_end, pad_mode = r.pads()
    value = data.get("ceil", False)
    if value != "caffe" and not isinstance(value, bool):
        raise r.fail("ceil", "true or false (or caffe, Caffe's rounding)")
    caffe, ceil = value == "caffe", value is True or value == "caffe"
    if ceil and (pad_mode is not PadMode.EXPLICIT or pad_end is not None):
        raise r.refuse(
            "ceil",
            f"'ceil: {'caffe' if caffe else 'true'}' needs a numeric pad, alike on both sides "
            f"({_WHY_SYMMETRIC[caffe]}); got pad {r.shown('pad')}",
            "--ceil needs a numeric --pad (PyTorch's ceil_mode)",
        )
    if caffe and data.get("count_pad") is False:
        raise r.refuse(
            "count_pad",
            "'count_pad: false' does not go with 'ceil: caffe': Caffe's average always counts the padding",
            "--no-count-pad does not go with Caffe's rounding",
        )
    if "count_pad" in data and mode is not PoolMode.AVG:
        raise r.refuse(
            "count_pad",
            "'count_pad' is only for average pools; add 'mode: avg' or drop it",
            "--no-count-pad is for average pools: add --mode avg",
        )
    return Pool(
        size=r.per_axis("size", (1,)),
        stride=r.per_axis("stride", (1,)) if "stride" in data else None,
        pad=pad,
        pad_end=pad_end,
        pad_mode=pad_mode,
        ceil=ceil,
        caffe=caffe,
        count_pad=r.flag("count_pad", pad_mode is not PadMode.SAME),
        **common,
    )


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """The window's output per axis, or the adaptive output size; channels kept, no weights."""
    assert isinstance(layer, Pool)
    (shape,) = inputs
    if layer.output is None:
        axes = window.axes(layer, shape, file)
        return Resolved(
            index, layer, shape, Shape(tuple(a.out for a in axes), shape.channels), axes, 0, None, 0
        )
    ndim = window.spatial(layer, shape, file)
    out = window.broadcast(layer, "output", layer.output, ndim, file)
    return Resolved(index, layer, shape, Shape(out, shape.channels), (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """A window's field step; adaptive windows vary in size, so no single field."""
    assert isinstance(r.layer, Pool)
    return None if r.layer.adaptive else window.field(r, before)


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (pooling has no weights)"


def type_cell(r: Resolved) -> str:
    """max pool, avg pool, adaptive avg."""
    layer = r.layer
    assert isinstance(layer, Pool)
    return f"adaptive {layer.mode.value}" if layer.adaptive else f"{layer.mode.value} pool"


def window_cell(r: Resolved) -> str:
    """2/2/0, or -> 7x7 for adaptive pooling."""
    assert isinstance(r.layer, Pool)
    return f"-> {fm.product(r.output.spatial)}" if r.layer.adaptive else window.window_cell(r)


def json_fields(r: Resolved) -> dict[str, Any]:
    """mode, adaptive_output, an average's count_pad and a window's rounding (floor, ceil or caffe)."""
    layer = r.layer
    assert isinstance(layer, Pool)
    return {
        "mode": layer.mode.value,
        "adaptive_output": list(r.output.spatial) if layer.adaptive else None,
        "count_pad": layer.count_pad if layer.mode is PoolMode.AVG else None,
        "rounding": None if layer.adaptive else rounding(layer),
    }


def rounding(layer: Pool) -> Literal["floor", "ceil", "caffe"]:
    """How a window pool rounds its output size: the JSON field and the spec's `ceil` value in words."""
    return "caffe" if layer.caffe else "ceil" if layer.ceil else "floor"


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """A pad PyTorch refuses, and a 3-D average pool smaller than its input."""
    layer = r.layer
    assert isinstance(layer, Pool)
    if not r.axes:
        return ()
    return tuple(x for x in (_pad_refusal(r, layer), _avg_pool_3d(r, layer)) if x is not None)


def _pad_refusal(r: Resolved, layer: Pool) -> Refusal | None:
    """A symmetric pad above half the window; per-side pads that leave a window on padding alone."""
    if layer.pad_mode is not PadMode.EXPLICIT:
        return None
    if layer.pad_end is not None:
        return _sides_refusal(r)
    over = [a for a in r.axes if a.pad > a.extent // 2]
    if not over:
        return None
    a = over[0]
    message = (
        f"pad {a.pad} is more than half the {a.size}-wide window; PyTorch refuses it "
        f"(a pool's pad must be at most {a.extent // 2})"
    )
    fix = f"pad {fm.setting([min(x.pad, x.extent // 2) for x in r.axes])}"
    return Refusal(Code.POOL_PAD_TOO_LARGE, message, "pad", (fix,))


def _sides_refusal(r: Resolved) -> Refusal | None:
    """Per-side pool pads: a window of padding alone (the first inside the leading pad, or the last
    starting past the input) gives -inf from a max pool and nothing to average."""
    over = [a for a in r.axes if a.pad >= a.extent or (a.out - 1) * a.stride >= a.pad + a.n]
    if not over:
        return None
    a = over[0]
    which = "the first" if a.pad >= a.extent else "the last"
    message = (
        f"pad ({a.pad}, {a.end_pad}) leaves {which} {a.size}-wide window on padding alone; "
        f"keep each side below {a.size}"
    )
    pairs = ", ".join(f"[{min(x.pad, x.size - 1)}, {min(x.end_pad, x.size - 1)}]" for x in r.axes)
    return Refusal(Code.POOL_PAD_TOO_LARGE, message, "pad", (f"pad [{pairs}]",))


def _avg_pool_3d(r: Resolved, layer: Pool) -> Refusal | None:
    """PyTorch's CPU avg_pool3d alone refuses an input smaller than the window, padding or not."""
    if layer.mode is not PoolMode.AVG or len(r.axes) != 3 or not all(a.symmetric for a in r.axes):
        return None  # uneven padding is F.pad first, and the pool then sees the padded input
    small = [(name, a) for name, a in zip(fm.AXIS_NAMES[3], r.axes, strict=True) if a.n < a.size]
    if not small:
        return None
    name, a = small[0]
    message = (
        f"the input is smaller than the window ({a.n} < {a.size} {name}s); PyTorch's avg_pool3d "
        "refuses that even with padding (its 1-D and 2-D pools and max pooling accept it)"
    )
    return Refusal(Code.WINDOW_EXCEEDS_INPUT, message, "size")


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch refuses a pad above half the window (symmetric axes) and a 3-D average larger than its input.

    Per-side pads are not PyTorch's: the pad limit holds only on symmetric axes, and 3-D average
    pooling's refusal of an input smaller than the window only when every axis is symmetric.
    """
    layer = r.layer
    assert isinstance(layer, Pool)
    if any(a.pad > a.extent // 2 for a in r.axes if a.symmetric):
        return False
    avg3d = layer.mode is PoolMode.AVG and len(r.axes) == 3 and all(a.symmetric for a in r.axes)
    return not (avg3d and any(a.n < a.size for a in r.axes))


def _doubling_items(length: int, size: int, out: int, *, result: int) -> int:
    """Items per other position `kernels.fold_axis` holds at once folding overlapping windows by doubling.

    Follows the kernel step by step: the table of spans 1, 2, 4, ... and the accumulator (both views of the
    input until first replaced), and `result` items for the answer (0 when the answer is counted elsewhere).
    """
    acc = table = peak = width = 0
    shared, span, bits, rows = False, 1, size, length
    while True:
        if bits & 1:
            held = table + (0 if shared else acc)
            if bits == 1:
                return max(peak, held + result)
            if width == 0:
                shared = True
            else:
                acc = length - width - span + 1
                peak = max(peak, held + acc)
            width += span
        bits >>= 1
        rows -= span
        peak = max(peak, table + (0 if shared else acc) + rows)
        if shared:
            acc, shared = table, False
        table = rows
        span *= 2


def _fold_bytes(a: Axis, *, rest: int, keep: bool, item: int) -> int:
    """Bytes `kernels.fold_axis` holds at once for one pooled axis, the answer included when `keep`."""
    length, result = (a.out - 1) * a.stride + a.size, a.out * rest * item if keep else 0
    if a.size == 1:
        return result
    if a.stride < a.size:
        return _doubling_items(length, a.size, a.out, result=a.out if keep else 0) * rest * item
    if a.stride == a.size:
        return 8 * a.out + result
    return max(24 * a.out, 16 * a.out + (2 * a.out - 1) * rest * item + result)


def _window_scratch(r: Resolved, item: int) -> int:
    """Bytes of the padded input copy, each axis's fold and, for an average, the divisor."""
    assert isinstance(r.layer, Pool)
    spans = [(a.out - 1) * a.stride + a.size for a in r.axes]
    outs = [a.out for a in r.axes]
    avg, c = r.layer.mode is PoolMode.AVG, r.input.channels
    copied = any(a.pad > 0 or span > a.n + a.pad for a, span in zip(r.axes, spans, strict=True))
    peak, held = 0, c * math.prod(spans) * item if copied else 0
    for k, a in enumerate(r.axes):
        keep = avg or k < len(r.axes) - 1  # a max pool's last fold is its output
        rest = c * math.prod(outs[:k]) * math.prod(spans[k + 1 :])
        peak = max(peak, held + _fold_bytes(a, rest=rest, keep=keep, item=item))
        held = a.out * rest * item if keep else 0
    if avg:  # the sums, the divisor being built and one axis's int64 starts, ends and float32 counts
        peak = max(peak, held + 2 * math.prod(outs) * item + 20 * max(outs, default=0))
    return peak


def _adaptive_scratch(r: Resolved, item: int) -> int:
    """Bytes of adaptive pooling's worst axis: what it reads, its boxes' bounds, temporaries and answer."""
    ns, outs, c = r.input.spatial, r.output.spatial, r.input.channels
    peak = held = 0
    for k, (n, o) in enumerate(zip(ns, outs, strict=True)):
        rest = c * math.prod(outs[:k]) * math.prod(ns[k + 1 :])
        result = o * rest * item if k < len(ns) - 1 else 0
        if n % o == 0:
            temps = 0
        elif n < o:
            temps = 64 * (n + 1) + o * rest * item
        else:
            temps = 24 * o + (2 * o - 1) * rest * item
        peak = max(peak, held + temps + result)
        held = result
    return peak


def scratch(r: Resolved) -> int:
    """Bytes of numpy's ufunc buffers and the folds (a window's) or the boxes (adaptive pooling's)."""
    from ..check import BUFFERS, ITEM

    return BUFFERS + (_window_scratch(r, ITEM) if r.axes else _adaptive_scratch(r, ITEM))


def mode_name(mode: PoolMode) -> Literal["max", "avg"]:
    """The kernels' name of a pooling mode."""
    return "max" if mode is PoolMode.MAX else "avg"


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Max- or average-pool x, or pool it adaptively to the layer's output size."""
    (x,) = xs
    from ..kernels import adaptive_pool, avg_pool, max_pool

    layer = r.layer
    assert isinstance(layer, Pool)
    if layer.output is not None:
        dims = x.ndim - 1
        output = layer.output * dims if len(layer.output) == 1 else layer.output
        return adaptive_pool(x, output=output, mode=mode_name(layer.mode))
    geometry = {
        "size": tuple(a.size for a in r.axes),
        "stride": tuple(a.stride for a in r.axes),
        "pad": tuple(a.pad for a in r.axes),
        "pad_end": tuple(a.end_pad for a in r.axes),
    }
    if layer.caffe:
        return caffe_pool(x, r.axes, mode=mode_name(layer.mode))
    if layer.mode is PoolMode.MAX:
        return max_pool(x, ceil=layer.ceil, **geometry)
    return avg_pool(x, ceil=layer.ceil, count_pad=layer.count_pad, **geometry)


FLT_MAX = 3.4028234663852886e38
"""The largest float32: Caffe's max pool starts every output at -FLT_MAX."""


def caffe_pool(x: Array, axes: tuple[Axis, ...], *, mode: Literal["max", "avg"]) -> Array:
    """Caffe's PoolingLayer::Forward_cpu on x (C, *spatial) for the windows `axes` give.

    A max reads its window clipped to the input, and a window holding no input gives -FLT_MAX; an average
    sums the clipped window and divides by its size clipped at N + P but not at N (pool_size), which is 0
    or negative for a window starting past the input: 0/0 is NaN there, 0 over a negative size -0.
    """
    import numpy as np

    from ..kernels import fold_axis

    before = [a.pad for a in axes]
    after = [(a.out - 1) * a.stride + a.size - a.n - a.pad for a in axes]
    crop = tuple(slice(0, a.n + min(e, 0)) for a, e in zip(axes, after, strict=True))
    widths = [(0, 0), *((b, max(e, 0)) for b, e in zip(before, after, strict=True))]
    value, op = (-np.inf, np.maximum) if mode == "max" else (0.0, np.add)
    out = x.astype(np.float32, copy=False)[(slice(None), *crop)]
    if any(b or e for b, e in widths):
        out = np.pad(out, widths, constant_values=value)
    for axis, a in enumerate(axes, start=1):
        out = fold_axis(out, axis=axis, size=a.size, stride=a.stride, out=a.out, op=op)
    if mode == "max":  # in place, unless the folds left a view of x (a window of 1 at stride 1)
        return np.maximum(out, np.float32(-FLT_MAX), out=None if np.may_share_memory(out, x) else out)
    divisor = np.ones((), dtype=np.float32)
    for a in axes:
        start = np.arange(a.out, dtype=np.int64)
        start *= a.stride
        start -= a.pad
        end = start + a.size
        np.minimum(end, a.n + a.pad, out=end)
        end -= start
        del start
        divisor = np.multiply.outer(divisor, end.astype(np.float32))
    with np.errstate(divide="ignore", invalid="ignore"):
        averaged: Array = out / divisor
    return averaged


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import pool as _this
    from .types import LayerKind

    _checked: LayerKind = _this
