"""deconv: a transposed convolution, each input value scattered through K filters (nn.ConvTransposeNd)."""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..model import Code, Field, Held, Kind, Layer, Refusal, Resolved, Shape
from . import margins as margins
from . import shares_input as shares_input
from . import size_lines as size_lines  # the shared parts, as this kind's own
from . import type_cell as type_cell
from . import window
from .window import Deconv

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array

KIND = Kind.DECONV
KEYS = (*window.CONV_KEYS[:4], "output_pad", *window.CONV_KEYS[4:])
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED = ("filters", "size")


def read(r: Reader) -> Layer:
    """A deconv layer from its keys."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    settings = window.read_conv(r)
    output_pad = r.per_axis("output_pad", (0,), minimum=0)
    return Deconv(name=r.name, where=where, allow=allow, expect=expect, output_pad=output_pad, **settings)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Output K channels on (N-1)S - P_b - P_a + E + output_pad per axis; C x K/G x F^d weights (+ K)."""
    assert isinstance(layer, Deconv)
    (shape,) = inputs
    axes = window.axes(layer, shape, file)
    out = Shape(tuple(a.out for a in axes), layer.filters)
    kernel = prod(a.size for a in axes)
    params = shape.channels * (layer.filters // layer.groups) * kernel + (layer.filters if layer.bias else 0)
    fc_params = shape.elements * out.elements if out.positive else None
    macs = (
        prod(shape.spatial) * shape.channels * (layer.filters // layer.groups) * kernel if out.positive else 0
    )
    return Resolved(index, layer, shape, out, axes, params, fc_params, macs)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The transposed window's field step (a fractional jump)."""
    return window.field(r, before)


def params_line(r: Resolved) -> str:
    """3 x 10 x 5x5 + 10 = 760."""
    layer = r.layer
    assert isinstance(layer, Deconv)
    kernel = fm.product(tuple(a.size for a in r.axes))
    filters = f"{layer.filters}/{layer.groups}" if layer.groups > 1 else str(layer.filters)
    body = f"{r.input.channels} x {filters} x {kernel}"
    total = fm.number(r.params)
    return f"{body} + {layer.filters} = {total}" if layer.bias else f"{body} = {total}"


def macs_line(r: Resolved) -> str:
    """Input elements x window x K/G."""
    layer = r.layer
    assert isinstance(layer, Deconv)
    kernel = fm.product(tuple(a.size for a in r.axes))
    filters = layer.filters // layer.groups
    return (
        f"{fm.product(r.input.dims)} x {kernel}x{filters} = {fm.number(r.macs)} "
        "(each input value scattered through the kernel)"
    )


def window_cell(r: Resolved) -> str:
    """4/2/1 op1 and its extras."""
    return window.window_cell(r)


def json_fields(r: Resolved) -> dict[str, Any]:
    """groups."""
    assert isinstance(r.layer, Deconv)
    return {"groups": r.layer.groups}


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Groups that do not divide the channels and the filters; an output_pad not below the stride or
    the dilation, whichever is larger."""
    found = window.groups_refusal(r)
    assert isinstance(r.layer, Deconv)
    given = [
        (a, e)
        for a, e in zip(
            r.axes,
            r.layer.output_pad * len(r.axes) if len(r.layer.output_pad) == 1 else r.layer.output_pad,
            strict=True,
        )
        if e >= max(a.stride, a.dilation)
    ]
    if not given:
        return found
    a, e = given[0]
    message = (
        f"output_pad {e} must be smaller than the stride ({a.stride}) or the dilation ({a.dilation}); "
        "PyTorch refuses it"
    )
    fix = f"output_pad {fm.setting([min(x.output_pad, max(x.stride, x.dilation) - 1) for x in r.axes])}"
    return (*found, Refusal(Code.OUTPUT_PAD_TOO_LARGE, message, "output_pad", (fix,)))


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch refuses groups that do not divide the channels, an output pad not below stride or dilation."""
    return window.conv_runnable(r, channels)


def scratch(r: Resolved) -> int:
    """Bytes of the spread, padded input (out + E - 1 per axis), the weight copy and im2col."""
    from ..check import ITEM

    layer = r.layer
    assert isinstance(layer, Deconv)
    padded = tuple(o + a.extent - 1 for o, a in zip(r.output.spatial, r.axes, strict=True))
    flipped = r.input.channels * (layer.filters // layer.groups) * prod(a.size for a in r.axes)
    return flipped * ITEM + window.im2col_scratch(r, padded=padded, copied=True)


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Transposed-convolve x with zero weights: the equivalent stride-1 conv, run in bands."""
    (x,) = xs
    from ..check import zeros
    from ..kernels import as_conv, banded_conv

    layer = r.layer
    assert isinstance(layer, Deconv)
    weight = zeros(x.shape[0], layer.filters // layer.groups, *(a.size for a in r.axes))
    dilation = tuple(a.dilation for a in r.axes)
    spread, flipped = as_conv(
        x,
        weight,
        stride=tuple(a.stride for a in r.axes),
        pad=tuple(a.pad for a in r.axes),
        pad_end=tuple(a.end_pad for a in r.axes),
        dilation=dilation,
        output_pad=tuple(a.output_pad for a in r.axes),
        groups=layer.groups,
    )
    ones, flat = (1,) * len(r.axes), (0,) * len(r.axes)
    bias = zeros(layer.filters) if layer.bias else None
    return banded_conv(spread, flipped, bias, stride=ones, pad=flat, dilation=dilation, groups=layer.groups)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import deconv as _this
    from .types import LayerKind

    _checked: LayerKind = _this
