"""upsample: resampling by a scale or to a size (nn.Upsample); floor(N x scale) in double precision."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..errors import SpecError
from ..model import Code, Expect, Field, Held, Kind, Layer, Resample, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import shares_input as shares_input
from . import window

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..build import Reader
    from ..kernels import Array, Ints


@frozen
class Upsample:
    """Resampling to floor(N x scale) or to a size per axis (nn.Upsample); no weights."""

    name: str
    scale: float | tuple[float, ...] | None = None
    """One factor for every axis, or one per spatial axis (a list must match the rank)."""
    size: int | tuple[int, ...] | None = None
    """One output size for every axis, or one per spatial axis; exactly one of scale and size is set."""
    mode: Resample = Resample.NEAREST
    align_corners: bool = False
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.UPSAMPLE


KIND = Kind.UPSAMPLE
KEYS: tuple[str, ...] = ("scale", "size", "mode", "align_corners")
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED: tuple[str, ...] = ()
"""`scale` or `size`, exactly one: `read` says so."""
RANKS = {Resample.LINEAR: 1, Resample.BILINEAR: 2, Resample.BICUBIC: 2, Resample.TRILINEAR: 3}
"""The spatial axes each interpolating mode takes (PyTorch's 3-D, 4-D or 5-D tensor); nearest takes 1 to 3."""
SCALE_EXPECTED = "a positive number or a per-axis list of them like [2, 1.5]"


def _factor(value: object) -> float | None:
    """A finite positive number as a float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        f = float(value)
    except OverflowError:
        return None
    return f if math.isfinite(f) and f > 0 else None


def _scale(r: Reader) -> float | tuple[float, ...]:
    """One factor, or one per axis; from `convcalc layer`, a string like 2x1.5."""
    value = r.data["scale"]
    if r.flags and isinstance(value, tuple):
        value = value[0] if len(value) == 1 else list(value)
    if not isinstance(value, list):
        one = _factor(value)
        if one is None:
            raise r.fail("scale", SCALE_EXPECTED)
        return one
    factors = [_factor(v) for v in value]
    if not factors or None in factors:
        raise r.fail("scale", SCALE_EXPECTED)
    return tuple(f for f in factors if f is not None)


def _size(r: Reader) -> int | tuple[int, ...]:
    """One size for every axis, or one per axis (a flag's single number is for every axis)."""
    value = r.data["size"]
    if r.flags and isinstance(value, tuple) and len(value) == 1:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return r.integer("size", 1)
    return r.per_axis("size", (1,))


def read(r: Reader) -> Layer:
    """An upsample layer: a scale or a size, a mode and align_corners."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    mode = r.choice("mode", Resample, Resample.NEAREST)
    data = r.data
    if "scale" in data and "size" in data:
        raise r.refuse(
            "size",
            "'scale' and 'size' do not go together (nn.Upsample takes one of them); drop one",
            "--scale and --size do not go together (nn.Upsample takes one of them)",
        )
    if "scale" not in data and "size" not in data:
        raise r.refuse(
            None,
            "missing 'scale' or 'size' (the output is floor(N x scale), or size, per axis)",
            "--type upsample needs --scale or --size",
        )
    if "align_corners" in data and mode is Resample.NEAREST:
        raise r.refuse(
            "align_corners",
            "'align_corners' is for the interpolating modes (linear, bilinear, bicubic, trilinear); "
            "PyTorch refuses it with nearest, even false",
            "--align-corners needs --mode linear, bilinear, bicubic or trilinear",
        )
    align = r.flag("align_corners", False)
    scale = _scale(r) if "scale" in data else None
    size = _size(r) if "size" in data else None
    return Upsample(
        name=r.name,
        scale=scale,
        size=size,
        mode=mode,
        align_corners=align,
        where=where,
        allow=allow,
        expect=expect,
    )


def _error(layer: Layer, key: str | None, text: str, file: str | None) -> SpecError:
    line, column = (layer.where.line, layer.where.column) if key is None else layer.where.of(key)
    return SpecError(f"{layer.name}: {text}", file=file, line=line, column=column)


def _per_axis(layer: Upsample, key: str, value: object, ndim: int, file: str | None) -> tuple[Any, ...]:
    """A setting for every axis: a single value for all, a list for each (its length the rank)."""
    if not isinstance(value, tuple):
        return (value,) * ndim
    if len(value) != ndim:
        raise _error(
            layer,
            key,
            f"'{key}' has {len(value)} values but its input has {ndim} spatial axes (PyTorch refuses it)",
            file,
        )
    return value


def sizes(n: tuple[int, ...], scale: tuple[float, ...]) -> tuple[float, ...]:
    """N x scale per axis: one double multiplication each, as PyTorch computes it."""
    return tuple(float(a) * s for a, s in zip(n, scale, strict=True))


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """floor(N x scale) or size per axis; channels kept, no weights."""
    assert isinstance(layer, Upsample)
    (shape,) = inputs
    ndim = window.spatial(layer, shape, file)
    rank = RANKS.get(layer.mode)
    if rank is not None and rank != ndim:
        raise _error(
            layer,
            "mode",
            f"mode {layer.mode.value} takes {rank}-D input ({rank} spatial axes), but its input has "
            f"{ndim}; PyTorch refuses it",
            file,
        )
    key = "size" if layer.scale is None else "scale"
    if layer.scale is None:
        out = tuple(int(v) for v in _per_axis(layer, key, layer.size, ndim, file))
    else:
        products = sizes(shape.spatial, _per_axis(layer, key, layer.scale, ndim, file))
        if not all(math.isfinite(p) and p < 2**63 for p in products):
            raise _error(layer, key, "the output is too large for PyTorch (sizes are 64-bit integers)", file)
        out = tuple(math.floor(p) for p in products)
    if any(o < 1 for o in out):
        raise _error(
            layer,
            key,
            f"output size {fm.product(out)} has an axis below 1; PyTorch refuses it "
            "(input and output sizes should be greater than 0)",
            file,
        )
    return Resolved(index, layer, shape, Shape(out, shape.channels), (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Neighbouring outputs read the same input or the next: no single field step to follow."""
    return None


def size_lines(r: Resolved) -> list[str]:
    """floor(100 x 0.57) = 56 per axis (a double multiplication, as PyTorch's), or the size asked for."""
    layer = r.layer
    assert isinstance(layer, Upsample)
    if layer.scale is None:
        return [f"{fm.product(r.output.spatial)} (the size asked for)"]
    scales = layer.scale if isinstance(layer.scale, tuple) else (layer.scale,) * len(r.input.spatial)
    parts = [
        f"floor({n} x {s:g}) = {o}" for n, s, o in zip(r.input.spatial, scales, r.output.spatial, strict=True)
    ]
    text = parts[0] if len(set(parts)) == 1 else ", ".join(parts)
    return [text, "N x scale is computed in double precision, as PyTorch does: 100 x 0.57 gives 56, not 57"]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (upsampling has no weights)"


def type_cell(r: Resolved) -> str:
    """nearest up, bilinear up."""
    assert isinstance(r.layer, Upsample)
    return f"{r.layer.mode.value} up"


def window_cell(r: Resolved) -> str:
    """x2, x2x0.5 or -> 14x18."""
    layer = r.layer
    assert isinstance(layer, Upsample)
    if layer.scale is None:
        return f"-> {fm.product(r.output.spatial)}"
    scales = layer.scale if isinstance(layer.scale, tuple) else (layer.scale,)
    return "x" + "x".join(f"{s:g}" for s in scales)


def json_fields(r: Resolved) -> dict[str, Any]:
    """mode."""
    assert isinstance(r.layer, Upsample)
    return {"mode": r.layer.mode.value}


def scratch(r: Resolved) -> int:
    """Bytes of numpy's buffers and, per axis, the gathered taps and the partial answer."""
    from ..check import BUFFERS, ITEM

    assert isinstance(r.layer, Upsample)
    taps = 4 if r.layer.mode is Resample.BICUBIC else 2
    peak = held = 0
    ins, outs, c = r.input.spatial, r.output.spatial, r.input.channels
    for k in range(len(ins)):
        rest = c * math.prod(outs[:k]) * math.prod(ins[k + 1 :])
        step = outs[k] * rest * ITEM
        peak = max(peak, held + (taps + 2) * step + 16 * taps * outs[k])
        held = step if k < len(ins) - 1 else 0
    return BUFFERS + peak


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Resample x axis by axis as PyTorch does."""
    (x,) = xs

    layer = r.layer
    assert isinstance(layer, Upsample)
    scale = None
    if layer.scale is not None:
        scale = layer.scale if isinstance(layer.scale, tuple) else (layer.scale,) * (x.ndim - 1)
    return kernel(
        x, out=r.output.spatial, scale=scale, mode=layer.mode.value, align_corners=layer.align_corners
    )


def _cubic(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """The four weights of PyTorch's cubic convolution (A = -0.75) at offsets t in [0, 1), one row each."""
    import numpy as np

    a = -0.75
    far = [((a * d - 5 * a) * d + 8 * a) * d - 4 * a for d in (t + 1, 2 - t)]
    near = [((a + 2) * d - (a + 3)) * d * d + 1 for d in (t, 1 - t)]
    return np.stack([far[0], near[0], near[1], far[1]], axis=1)


def resample_taps(
    n: int, out: int, *, scale: float | None, mode: str, align_corners: bool
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Which inputs each of `out` outputs reads along one axis of size n, and their weights (nn.Upsample)."""
    import numpy as np

    dst = np.arange(out, dtype=np.float64)
    if mode == "nearest":  # in single precision, as PyTorch's nearest_idx: 3 x float32(1 / 1.5) is 2
        ratio = np.float32(1 / scale) if scale is not None else np.float32(n) / np.float32(out)
        near = np.floor(dst.astype(np.float32) * ratio)
        return np.minimum(near, n - 1).astype(np.int64)[:, None], np.ones((out, 1))
    if align_corners:
        src = dst * ((n - 1) / (out - 1) if out > 1 else 0.0)
    else:
        step = 1 / scale if scale is not None else n / out
        src = step * (dst + 0.5) - 0.5
        if mode != "bicubic":
            src = np.maximum(src, 0.0)
    first = np.floor(src)
    t = src - first
    if mode == "bicubic":
        index = first[:, None].astype(np.int64) + np.arange(-1, 3)
        return np.clip(index, 0, n - 1), _cubic(t)
    index = first.astype(np.int64)[:, None] + np.arange(2)
    return np.minimum(index, n - 1), np.stack([1 - t, t], axis=1)


def kernel(x: Array, *, out: Ints, scale: tuple[float, ...] | None, mode: str, align_corners: bool) -> Array:
    """Resample the spatial axes of x (channels first) to `out`, one axis at a time (nn.Upsample)."""
    import numpy as np

    for k, size in enumerate(out):
        axis = k + 1
        index, weight = resample_taps(
            x.shape[axis],
            size,
            scale=None if scale is None else scale[k],
            mode=mode,
            align_corners=align_corners,
        )
        shape = [1] * x.ndim
        shape[axis] = size
        acc = np.zeros((*x.shape[:axis], size, *x.shape[axis + 1 :]), dtype=x.dtype)
        for j in range(index.shape[1]):
            acc += np.take(x, index[:, j], axis=axis) * weight[:, j].astype(x.dtype).reshape(shape)
        x = acc
    return x


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import upsample as _this
    from .types import LayerKind

    _checked: LayerKind = _this
