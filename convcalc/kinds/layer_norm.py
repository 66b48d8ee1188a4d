"""layer_norm: normalisation over the channels at each position (ConvNeXt's LayerNorm2d)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import type_cell as type_cell
from . import window_cell as window_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class LayerNorm:
    """Layer normalisation over the channels at each position (ConvNeXt's LayerNorm2d): 2C params (affine)."""

    name: str
    affine: bool = True
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.LAYER_NORM


KIND = Kind.LAYER_NORM
KEYS = ("affine",)
HELD = Held.OUTPUT
ELEMENTWISE = True
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """A layer norm and whether it learns a scale and shift (default true)."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    return LayerNorm(name=r.name, where=where, allow=allow, expect=expect, affine=r.flag("affine", True))


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept; 2C params when affine; no running statistics."""
    assert isinstance(layer, LayerNorm)
    (shape,) = inputs
    return Resolved(index, layer, shape, shape, (), 2 * shape.channels if layer.affine else 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Each position is normalised over its own channels: the field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """2 x 96 = 192 (scale and shift per channel)."""
    assert isinstance(r.layer, LayerNorm)
    c = r.input.channels
    stats = f"; each position is normalised by the mean and variance of its {c} channels, none stored"
    if r.layer.affine:
        return f"2 x {c} = {fm.number(r.params)} (scale and shift per channel){stats}"
    return f"0 (affine: false){stats}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """affine."""
    assert isinstance(r.layer, LayerNorm)
    return {"affine": r.layer.affine}


def scratch(r: Resolved) -> int:
    """One temporary as big as the input (the squared deviations) and two values per position."""
    from ..check import ITEM

    return (r.input.elements + 2 * (r.input.elements // r.input.channels)) * ITEM


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Normalise x over its channels, with zero scale and shift when affine."""
    (x,) = xs
    from ..check import zeros

    assert isinstance(r.layer, LayerNorm)
    affine = zeros(x.shape[0]) if r.layer.affine else None
    return kernel(x, weight=affine, bias=affine)


def kernel(x: Array, *, weight: Array | None, bias: Array | None, eps: float = 1e-5) -> Array:
    """Normalise over the channels at each position (ConvNeXt's LayerNorm2d), then scale and shift."""
    from ..kernels import affine, standardise

    return affine(standardise(x, (0,), eps), weight, bias)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import layer_norm as _this
    from .types import LayerKind

    _checked: LayerKind = _this
