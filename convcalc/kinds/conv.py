"""conv: K filters of size F sliding with stride S over padding P (PyTorch's nn.ConvNd)."""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..model import Field, Held, Kind, Layer, Refusal, Resolved, Shape
from . import margins as margins
from . import shares_input as shares_input
from . import size_lines as size_lines  # the shared parts, as this kind's own
from . import type_cell as type_cell
from . import window
from .window import Conv

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array

KIND = Kind.CONV
KEYS = window.CONV_KEYS
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED = ("filters", "size")


def read(r: Reader) -> Layer:
    """A conv layer from its keys."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    return Conv(name=r.name, where=where, allow=allow, expect=expect, **window.read_conv(r))


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Output K channels on floor((N + 2P - E)/S) + 1 per axis; K x (C/G x F^d) weights (+ K biases)."""
    assert isinstance(layer, Conv)
    (shape,) = inputs
    axes = window.axes(layer, shape, file)
    spatial = tuple(a.out for a in axes)
    out = Shape(spatial, layer.filters)
    kernel = prod(a.size for a in axes)
    params = layer.filters * (shape.channels // layer.groups) * kernel + (layer.filters if layer.bias else 0)
    fc_params = shape.elements * out.elements if out.positive else None
    macs = (
        prod(max(0, o) for o in spatial) * layer.filters * (shape.channels // layer.groups) * kernel
        if out.positive
        else 0
    )
    return Resolved(index, layer, shape, out, axes, params, fc_params, macs)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The sliding window's field step."""
    return window.field(r, before)


def params_line(r: Resolved) -> str:
    """10 x (5x5x3 + 1) = 760."""
    layer = r.layer
    assert isinstance(layer, Conv)
    per_group = r.input.channels // layer.groups
    channels = f"{r.input.channels}/{layer.groups}" if layer.groups > 1 else str(per_group)
    kernel = fm.product(tuple(a.size for a in r.axes))
    weights = f"{kernel}x{channels}" if layer.groups == 1 else f"{kernel}x({channels})"
    body = f"{layer.filters} x ({weights} + 1)" if layer.bias else f"{layer.filters} x {weights}"
    return f"{body} = {fm.number(r.params)}"


def macs_line(r: Resolved) -> str:
    """32x32x10 x 5x5x3 = 768,000."""
    layer = r.layer
    assert isinstance(layer, Conv)
    kernel = fm.product(tuple(a.size for a in r.axes))
    per_group = r.input.channels // layer.groups
    return f"{fm.product(r.output.dims)} x {kernel}x{per_group} = {fm.number(r.macs)}"


def window_cell(r: Resolved) -> str:
    """5/1/2 and its extras."""
    return window.window_cell(r)


def json_fields(r: Resolved) -> dict[str, Any]:
    """groups."""
    assert isinstance(r.layer, Conv)
    return {"groups": r.layer.groups}


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Groups that do not divide the channels and the filters."""
    return window.groups_refusal(r)


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch refuses groups that do not divide both channel counts."""
    return window.conv_runnable(r, channels)


def scratch(r: Resolved) -> int:
    """Bytes of the im2col band, the padded input copy and the join of the bands."""
    padded = tuple(a.n + a.pad + a.end_pad for a in r.axes)
    return window.im2col_scratch(r, padded=padded, copied=any(a.pad or a.end_pad for a in r.axes))


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Convolve x with zero weights for the channels x really has, in bands of output rows."""
    (x,) = xs
    from ..check import zeros
    from ..kernels import banded_conv

    layer = r.layer
    assert isinstance(layer, Conv)
    weight = zeros(layer.filters, x.shape[0] // layer.groups, *(a.size for a in r.axes))
    return banded_conv(
        x,
        weight,
        zeros(layer.filters) if layer.bias else None,
        stride=tuple(a.stride for a in r.axes),
        pad=tuple(a.pad for a in r.axes),
        pad_end=tuple(a.end_pad for a in r.axes),
        dilation=tuple(a.dilation for a in r.axes),
        groups=layer.groups,
    )


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import conv as _this
    from .types import LayerKind

    _checked: LayerKind = _this
