"""fc: a fully-connected layer that flattens its input first (nn.Flatten then nn.Linear)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import formulas as fm
from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import scratch as scratch
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import type_cell as type_cell
from . import window_cell as window_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class FC:
    """A fully-connected layer; it flattens its input first."""

    name: str
    units: int
    bias: bool = True
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    """Finding codes turned off for this layer (a deliberate floor, say)."""
    expect: Expect | None = None

    kind = Kind.FC


KIND = Kind.FC
KEYS = ("units", "bias")
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED = ("units",)


def read(r: Reader) -> Layer:
    """An fc layer's units and bias."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    units, bias = r.integer("units", 1), r.flag("bias", True)
    return FC(name=r.name, where=where, allow=allow, expect=expect, units=units, bias=bias)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """A vector of `units`; N x units weights (+ units biases), as many MACs as weights."""
    assert isinstance(layer, FC)
    (shape,) = inputs
    weights = shape.elements * layer.units
    params = weights + (layer.units if layer.bias else 0)
    return Resolved(index, layer, shape, Shape((), layer.units), (), params, weights, weights)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Every output sees the whole input."""
    return None


def params_line(r: Resolved) -> str:
    """(120 + 1) x 84 = 10,164."""
    layer = r.layer
    assert isinstance(layer, FC)
    inputs = fm.product(r.input.dims)
    if layer.bias:
        return f"({inputs} + 1) x {layer.units} = {fm.number(r.params)}"
    return f"({inputs}) x {layer.units} = {fm.number(r.params)}"


def macs_line(r: Resolved) -> str:
    """120 x 84 = 10,080."""
    assert isinstance(r.layer, FC)
    return f"{fm.product(r.input.dims)} x {r.layer.units} = {fm.number(r.macs)}"


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Flatten x and apply zero weights for the elements x really has."""
    (x,) = xs
    from ..check import zeros

    layer = r.layer
    assert isinstance(layer, FC)
    return kernel(x, zeros(layer.units, x.size), zeros(layer.units) if layer.bias else None)


def kernel(x: Array, weight: Array, bias: Array | None) -> Array:
    """Fully connected layer on x flattened in C order; weight is (units, in)."""
    import numpy as np

    out: Array = weight.astype(np.float32, copy=False) @ x.reshape(-1).astype(np.float32, copy=False)
    if bias is not None:
        out += bias
    return out


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import fc as _this
    from .types import LayerKind

    _checked: LayerKind = _this
