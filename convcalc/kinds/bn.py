"""bn: batch normalisation over channels (nn.BatchNormNd): 2C trainable values and 2C running statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
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
class BatchNorm:
    """Batch normalisation over channels: 2C trainable values (affine) and 2C running statistics."""

    name: str
    affine: bool = True
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.BN


KIND = Kind.BN
KEYS = ("affine",)
HELD = Held.OUTPUT
ELEMENTWISE = True
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """A batch norm and whether it learns a scale and shift."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    return BatchNorm(name=r.name, where=where, allow=allow, expect=expect, affine=r.flag("affine", True))


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept; 2C params when affine, 2C running statistics always."""
    assert isinstance(layer, BatchNorm)
    (shape,) = inputs
    stats = 2 * shape.channels
    return Resolved(index, layer, shape, shape, (), stats if layer.affine else 0, None, 0, stats)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Elementwise: the field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """2 x 64 = 128 (scale and shift); and the running statistics."""
    layer = r.layer
    assert isinstance(layer, BatchNorm)
    c = r.input.channels
    stats = f"; 2 x {c} = {fm.number(r.non_trainable)} running mean and variance, not trained"
    if layer.affine:
        return f"2 x {c} = {fm.number(r.params)} (scale and shift){stats}"
    return f"0 (affine: false){stats}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """affine."""
    assert isinstance(r.layer, BatchNorm)
    return {"affine": r.layer.affine}


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Normalise x with zero statistics (and zero scale and shift) for the channels x really has."""
    (x,) = xs
    from ..check import zeros

    assert isinstance(r.layer, BatchNorm)
    c = x.shape[0]
    affine = zeros(c) if r.layer.affine else None
    return kernel(x, mean=zeros(c), var=zeros(c), weight=affine, bias=affine)


def kernel(
    x: Array, *, mean: Array, var: Array, weight: Array | None, bias: Array | None, eps: float = 1e-5
) -> Array:
    """Batch norm in eval mode: (x - mean) / sqrt(var + eps) * weight + bias, per channel."""
    import numpy as np

    scale = 1 / np.sqrt(var.astype(np.float32) + np.float32(eps))
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    shape = (x.shape[0], *(1,) * (x.ndim - 1))
    out: Array = x.astype(np.float32, copy=False) * scale.astype(np.float32).reshape(shape)
    out += shift.astype(np.float32).reshape(shape)
    return out


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import bn as _this
    from .types import LayerKind

    _checked: LayerKind = _this
