"""instance_norm: each channel normalised over its positions (nn.InstanceNormNd): 2C params, 2C statistics."""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..errors import SpecError
from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import refusals as refusals
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import type_cell as type_cell
from . import window_cell as window_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class InstanceNorm:
    """Instance normalisation (nn.InstanceNormNd): each channel over its positions; 2C params, 2C stats."""

    name: str
    affine: bool = False
    track_running_stats: bool = False
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.INSTANCE_NORM


KIND = Kind.INSTANCE_NORM
KEYS = ("affine", "track_running_stats")
HELD = Held.OUTPUT
ELEMENTWISE = True
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """An instance norm: affine and track_running_stats, both false by default as in PyTorch."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    affine, track = r.flag("affine", False), r.flag("track_running_stats", False)
    return InstanceNorm(
        name=r.name, where=where, allow=allow, expect=expect, affine=affine, track_running_stats=track
    )


def refusal(layer: InstanceNorm, shape: Shape) -> str | None:
    """Why PyTorch refuses the layer on this input: no positions, or one without running statistics."""
    if not shape.spatial:
        return (
            f"an instance_norm layer needs spatial input, but its input is a flat vector of {shape.channels} "
            "(nn.InstanceNorm1d would read it as one unbatched sample)"
        )
    if prod(shape.spatial) == 1 and not layer.track_running_stats:
        return (
            f"each channel has one position ({fm.product(shape.spatial)}), which normalises to nothing; "
            'PyTorch refuses it even in eval mode ("Expected more than 1 spatial element") unless '
            "track_running_stats is true"
        )
    return None


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept; 2C params when affine, 2C running statistics when tracked; PyTorch's refusals as errors."""
    assert isinstance(layer, InstanceNorm)
    (shape,) = inputs
    why = refusal(layer, shape)
    if why is not None:
        raise SpecError(f"{layer.name}: {why}", file=file, line=layer.where.line, column=layer.where.column)
    c2 = 2 * shape.channels
    return Resolved(
        index,
        layer,
        shape,
        shape,
        (),
        c2 if layer.affine else 0,
        None,
        0,
        c2 if layer.track_running_stats else 0,
    )


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """No window: the field is unchanged (statistics aside, as for bn)."""
    return before


def params_line(r: Resolved) -> str:
    """2 x 64 = 128 (scale and shift); and the running statistics when tracked."""
    assert isinstance(r.layer, InstanceNorm)
    c = r.input.channels
    if r.layer.track_running_stats:
        stats = f"; 2 x {c} = {fm.number(r.non_trainable)} running mean and variance, not trained"
    else:
        stats = "; each channel is normalised by the mean and variance of its own positions, none stored"
    if r.layer.affine:
        return f"2 x {c} = {fm.number(r.params)} (scale and shift){stats}"
    return f"0 (affine: false){stats}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """affine."""
    assert isinstance(r.layer, InstanceNorm)
    return {"affine": r.layer.affine}


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch's refusals (they do not depend on the channels)."""
    assert isinstance(r.layer, InstanceNorm)
    return refusal(r.layer, Shape(r.input.spatial, channels)) is None


def scratch(r: Resolved) -> int:
    """One temporary as big as the input (the squared deviations)."""
    from ..check import ITEM

    return r.input.elements * ITEM


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Normalise each channel (by zero running statistics when tracked), with zero scale and shift."""
    (x,) = xs
    from ..check import zeros

    assert isinstance(r.layer, InstanceNorm)
    c = x.shape[0]
    affine = zeros(c) if r.layer.affine else None
    stats = zeros(c) if r.layer.track_running_stats else None
    return kernel(x, weight=affine, bias=affine, mean=stats, var=stats)


def kernel(
    x: Array,
    *,
    weight: Array | None,
    bias: Array | None,
    mean: Array | None = None,
    var: Array | None = None,
    eps: float = 1e-5,
) -> Array:
    """Normalise each channel over its positions, or by running statistics when given; scale and shift."""
    from ..kernels import affine, standardise

    if mean is not None and var is not None:
        from .bn import kernel as batch_norm

        return batch_norm(x, mean=mean, var=var, weight=weight, bias=bias, eps=eps)
    return affine(standardise(x, tuple(range(1, x.ndim)), eps), weight, bias)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import instance_norm as _this
    from .types import LayerKind

    _checked: LayerKind = _this
