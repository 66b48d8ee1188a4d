"""What conv, deconv and pool share: per-axis settings, pads, the axes, the field step and the window cell."""

from __future__ import annotations

from math import gcd
from typing import TYPE_CHECKING, Any

from .. import arith, factor
from .. import formulas as fm
from ..errors import SpecError
from ..model import (
    Axis,
    Code,
    Expect,
    Field,
    Kind,
    Layer,
    PadMode,
    PerAxis,
    PoolMode,
    Refusal,
    Resolved,
    Shape,
    Where,
)
from ..values import frozen

if TYPE_CHECKING:
    from ..build import Reader


@frozen
class Conv:
    """A convolution: K filters of size F sliding with stride S over padding P."""

    name: str
    filters: int
    size: PerAxis
    stride: PerAxis = (1,)
    pad: PerAxis = (0,)
    """Padding on each side, or before each axis when `pad_end` is given."""
    dilation: PerAxis = (1,)
    groups: int = 1
    bias: bool = True
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    """Finding codes turned off for this layer (a deliberate floor, say)."""
    expect: Expect | None = None
    pad_end: PerAxis | None = None
    """Padding after each axis (per-side padding); None means the same as `pad`."""
    pad_mode: PadMode = PadMode.EXPLICIT

    kind = Kind.CONV


@frozen
class Deconv:
    """A transposed convolution: each input value scattered through K filters of size F."""

    name: str
    filters: int
    size: PerAxis
    stride: PerAxis = (1,)
    pad: PerAxis = (0,)
    """Padding cropped from each side of the output, or before each axis when `pad_end` is given."""
    dilation: PerAxis = (1,)
    groups: int = 1
    bias: bool = True
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None
    pad_end: PerAxis | None = None
    pad_mode: PadMode = PadMode.EXPLICIT
    output_pad: PerAxis = (0,)
    """Extra output added after each axis; PyTorch wants it below the stride or the dilation."""

    kind = Kind.DECONV


@frozen
class Pool:
    """A max or average pooling window; it has no weights."""

    name: str
    size: PerAxis
    stride: PerAxis | None = None
    """None means the stride equals the size, as in PyTorch."""
    pad: PerAxis = (0,)
    mode: PoolMode = PoolMode.MAX
    ceil: bool = False
    caffe: bool = False
    """Caffe's rounding (`ceil: caffe`, with `ceil` true): the last window kept even when it starts past
    the input, unless the layer pads some axis; see `arith.caffe_out_size`."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    """Finding codes turned off for this layer (a deliberate floor, say)."""
    expect: Expect | None = None
    pad_end: PerAxis | None = None
    pad_mode: PadMode = PadMode.EXPLICIT
    count_pad: bool = True
    """Whether an average counts padding in its divisor (PyTorch's count_include_pad)."""
    output: PerAxis | None = None
    """Adaptive pooling to this spatial size; `size`, `stride` and `pad` are then unused."""

    kind = Kind.POOL

    @property
    def adaptive(self) -> bool:
        """Whether the windows follow from a wanted output size (PyTorch's AdaptivePool)."""
        return self.output is not None


Windowed = Conv | Deconv | Pool
"""Layers that slide a window over their input's spatial axes."""


CONV_KEYS = ("filters", "size", "stride", "pad", "dilation", "groups", "bias")
"""The keys a conv and a deconv share, in the order errors list them."""


def broadcast(layer: Layer, key: str, value: PerAxis, ndim: int, file: str | None) -> PerAxis:
    """A per-axis setting for `ndim` axes: one value for all, or one per axis; else a located error."""
    if len(value) == 1:
        return value * ndim
    if len(value) == ndim:
        return value
    line, column = layer.where.of(key)
    raise SpecError(
        f"{layer.name}: '{key}' has {len(value)} values but its input has {ndim} spatial axes",
        file=file,
        line=line,
        column=column,
    )


def spatial(layer: Layer, shape: Shape, file: str | None) -> int:
    """The number of spatial axes, which a windowed or pooling layer needs at least one of."""
    ndim = len(shape.spatial)
    if ndim == 0:
        raise SpecError(
            f"{layer.name}: a {layer.kind.value} layer needs spatial input, "
            f"but its input is a flat vector of {shape.channels}",
            file=file,
            line=layer.where.line,
            column=layer.where.column,
        )
    return ndim


def read_conv(r: Reader) -> dict[str, Any]:
    """The settings a conv and a deconv share, read in the order of their keys."""
    pad, pad_end, pad_mode = r.pads()
    return {
        "filters": r.integer("filters", 1),
        "size": r.per_axis("size", (1,)),
        "stride": r.per_axis("stride", (1,)),
        "pad": pad,
        "pad_end": pad_end,
        "pad_mode": pad_mode,
        "dilation": r.per_axis("dilation", (1,)),
        "groups": r.integer("groups", 1),
        "bias": r.flag("bias", True),
    }


def axes(layer: Windowed, shape: Shape, file: str | None) -> tuple[Axis, ...]:
    """Each spatial axis's geometry and output size."""
    ndim = spatial(layer, shape, file)
    size = broadcast(layer, "size", layer.size, ndim, file)
    stride = broadcast(layer, "stride", layer.stride or layer.size, ndim, file)
    pad = broadcast(layer, "pad", layer.pad, ndim, file)
    end = pad if layer.pad_end is None else broadcast(layer, "pad", layer.pad_end, ndim, file)
    dilation = (
        (1,) * ndim if isinstance(layer, Pool) else broadcast(layer, "dilation", layer.dilation, ndim, file)
    )
    transposed = isinstance(layer, Deconv)
    extra = (
        broadcast(layer, "output_pad", layer.output_pad, ndim, file)
        if isinstance(layer, Deconv)
        else (0,) * ndim
    )
    ceil = isinstance(layer, Pool) and layer.ceil
    caffe = isinstance(layer, Pool) and layer.caffe
    out = []
    for n, f, s, b, a, d, e in zip(shape.spatial, size, stride, pad, end, dilation, extra, strict=True):
        if layer.pad_mode is PadMode.VALID:
            b = a = 0
        elif layer.pad_mode is PadMode.SAME:
            extent = d * (f - 1) + 1
            if transposed:
                b, a, more = arith.same_crop(extent=extent, stride=s)
                e += more
            else:
                b, a = arith.same_pads(n=n, extent=extent, stride=s)
        out.append(
            arith.axis(
                n=n,
                size=f,
                stride=s,
                pad=b,
                dilation=d,
                ceil=ceil,
                pad_end=None if a == b else a,
                output_pad=e,
                transposed=transposed,
                caffe=caffe,
                caffe_clip=caffe and any(pad),
            )
        )
    return tuple(out)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The receptive field after a sliding window (Araujo et al., 2019); ints until a transposed layer."""
    fields = []
    for f, a in zip(before, r.axes, strict=True):
        if a.transposed:
            # Output y (y + P_b on the uncropped grid) gathers inputs x with x S + k D = y + P_b:
            # from ceil((P_b - E + 1)/S) for the first output, at most ceil(E/S) of them.
            first = -((a.extent - 1 - a.pad) // a.stride)
            size = f.size + (-(-a.extent // a.stride) - 1) * f.jump
            from fractions import Fraction  # only upsampling makes a jump fractional

            fields.append(Field(size=size, jump=Fraction(f.jump) / a.stride, start=f.start + first * f.jump))
        else:
            fields.append(
                Field(
                    size=f.size + (a.extent - 1) * f.jump,
                    jump=f.jump * a.stride,
                    start=f.start - a.pad * f.jump,
                )
            )
    return tuple(fields)


def window_cell(r: Resolved) -> str:
    """5/1/2 for filter 5, stride 1, pad 2; per-side pads, same, output pad, dilation, groups, ceil, caffe."""
    layer = r.layer
    assert isinstance(layer, Conv | Deconv | Pool)
    cell = "/".join(fm.setting([getattr(a, key) for a in r.axes]) for key in ("size", "stride")) + "/"
    if all(a.symmetric for a in r.axes):
        cell += fm.setting([a.pad for a in r.axes])
    else:
        sides = [f"{a.pad}+{a.end_pad}" for a in r.axes]
        cell += sides[0] if len(set(sides)) == 1 else "x".join(f"({side})" for side in sides)
    if layer.pad_mode is PadMode.SAME:
        cell += " same"
    if isinstance(layer, Deconv) and any(a.output_pad for a in r.axes):
        cell += f" op{fm.setting([a.output_pad for a in r.axes])}"
    if isinstance(layer, Conv | Deconv):
        if any(a.dilation > 1 for a in r.axes):
            cell += f" d{fm.setting([a.dilation for a in r.axes])}"
        if layer.groups > 1:
            cell += f" g{layer.groups}"
    if isinstance(layer, Pool) and layer.ceil:
        cell += " ceil caffe" if layer.caffe else " ceil"
    return cell


def conv_runnable(r: Resolved, channels: int) -> bool:
    """PyTorch's refusals of a conv or deconv: groups must divide both channel counts, output pad small."""
    layer = r.layer
    assert isinstance(layer, Conv | Deconv)
    if channels % layer.groups or layer.filters % layer.groups:
        return False
    return all(a.output_pad < max(a.stride, a.dilation) for a in r.axes)


def im2col_scratch(r: Resolved, *, padded: tuple[int, ...], copied: bool) -> int:
    """Bytes of one im2col band, the padded input copy when `copied` and, with several bands, their join."""
    from ..check import ITEM
    from ..kernels import band_rows, im2col_bytes

    assert isinstance(r.layer, Conv | Deconv)
    size, out = tuple(a.size for a in r.axes), r.output.spatial
    rows = min(out[0], band_rows(channels=r.input.channels, size=size, padded=padded))
    joined = r.output.elements * ITEM if rows < out[0] else 0
    return joined + im2col_bytes(
        in_channels=r.input.channels,
        out_spatial=(rows, *out[1:]),
        size=size,
        groups=r.layer.groups,
        padded_spatial=padded if copied else None,
    )


def groups_refusal(r: Resolved) -> tuple[Refusal, ...]:
    """PyTorch's conv and deconv want groups to divide both the input channels and the filters."""
    layer = r.layer
    assert isinstance(layer, Conv | Deconv)
    c, k, g = r.input.channels, layer.filters, layer.groups
    if c % g == 0 and k % g == 0:
        return ()
    message = (
        f"groups {g} must divide both the input channels ({c}) and the filters ({k}); PyTorch refuses it"
    )
    fixes = tuple(f"groups {d}" for d in factor.near_divisors(gcd(c, k), g))
    return (Refusal(Code.GROUPS_MISMATCH, message, "groups", fixes),)
