"""scale: a learned per-channel multiplier (ConvNeXt's layer scale, Caffe's Scale): C params, 2C with bias."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import formulas as fm
from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import refusals as refusals
from . import scratch as scratch
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import type_cell as type_cell
from . import window_cell as window_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Scale:
    """A learned per-channel multiplier (ConvNeXt's layer scale, Caffe's Scale), with an optional bias."""

    name: str
    bias: bool = False
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.SCALE


KIND = Kind.SCALE
KEYS = ("bias",)
HELD = Held.OUTPUT
ELEMENTWISE = True
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """A scale layer and whether it adds a bias (default false)."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    return Scale(name=r.name, where=where, allow=allow, expect=expect, bias=r.flag("bias", False))


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept; C params, 2C with a bias."""
    assert isinstance(layer, Scale)
    (shape,) = inputs
    return Resolved(index, layer, shape, shape, (), (2 if layer.bias else 1) * shape.channels, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Elementwise: the field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """96 (a multiplier per channel), or 2 x 96 = 192 with a bias."""
    assert isinstance(r.layer, Scale)
    c = r.input.channels
    if r.layer.bias:
        return f"2 x {c} = {fm.number(r.params)} (a multiplier and a bias per channel)"
    return f"{fm.number(r.params)} (a multiplier per channel)"


def runnable(r: Resolved, channels: int) -> bool:
    """The weights fit the channels they were made for."""
    return channels == r.input.channels


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Multiply by zero per channel (and add a zero bias)."""
    (x,) = xs
    from ..check import zeros

    assert isinstance(r.layer, Scale)
    c = x.shape[0]
    return kernel(x, weight=zeros(c), bias=zeros(c) if r.layer.bias else None)


def kernel(x: Array, *, weight: Array, bias: Array | None) -> Array:
    """x times a learned value per channel (the first axis), plus a bias per channel when given."""
    import numpy as np

    from ..kernels import affine

    out: Array = np.array(x, dtype=np.float32)
    return affine(out, weight, bias)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import scale as _this
    from .types import LayerKind

    _checked: LayerKind = _this
