"""group_norm: channels in groups, each normalised over its channels and positions (nn.GroupNorm)."""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..errors import SpecError
from ..model import Code, Expect, Field, Held, Kind, Layer, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import channel_groups
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import type_cell as type_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class GroupNorm:
    """Group normalisation (nn.GroupNorm): the channels in groups, each normalised; 2C params (affine)."""

    name: str
    groups: int
    affine: bool = True
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.GROUP_NORM


KIND = Kind.GROUP_NORM
KEYS = ("groups", "affine")
HELD = Held.OUTPUT
ELEMENTWISE = True
MERGE = False
REQUIRED = ("groups",)


def read(r: Reader) -> Layer:
    """A group norm: its groups (required) and whether it learns a scale and shift (default true)."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    groups, affine = r.integer("groups", 1), r.flag("affine", True)
    return GroupNorm(name=r.name, where=where, allow=allow, expect=expect, groups=groups, affine=affine)


def refusal(layer: GroupNorm, shape: Shape) -> str | None:
    """Why PyTorch refuses the layer on this input: groups that do not divide C, or groups of one value."""
    c, g = shape.channels, layer.groups
    if c % g:
        return f"groups {g} must divide the channels ({c}); PyTorch refuses it"
    if c // g * prod(shape.spatial) == 1:
        where = f" at {fm.product(shape.spatial)} position" if shape.spatial else ""
        return (
            f"each of the {g} groups holds one value ({c // g} channel{where}), which normalises to "
            'nothing; PyTorch refuses it even in eval mode ("Expected more than 1 value per channel")'
        )
    return None


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept; 2C params when affine; no running statistics. Groups of one value are a spec error:
    nothing near would do; groups that do not divide the channels are a finding with the nearest that do."""
    assert isinstance(layer, GroupNorm)
    (shape,) = inputs
    why = refusal(layer, shape)
    if why is not None and not shape.channels % layer.groups:  # groups that do not divide C: a finding
        line, column = layer.where.of("groups")
        raise SpecError(f"{layer.name}: {why}", file=file, line=line, column=column)
    return Resolved(index, layer, shape, shape, (), 2 * shape.channels if layer.affine else 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """No window: the field is unchanged (statistics aside, as for bn)."""
    return before


def params_line(r: Resolved) -> str:
    """2 x 256 = 512 (scale and shift per channel); 32 groups of 8 channels."""
    assert isinstance(r.layer, GroupNorm)
    c, g = r.input.channels, r.layer.groups
    groups = f"; {fm.plural(g, 'group')} of {fm.plural(c // g, 'channel')}, no running statistics"
    if r.layer.affine:
        return f"2 x {c} = {fm.number(r.params)} (scale and shift per channel){groups}"
    return f"0 (affine: false){groups}"


def window_cell(r: Resolved) -> str:
    """The groups: g 32."""
    assert isinstance(r.layer, GroupNorm)
    return f"g {r.layer.groups}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """groups and affine."""
    assert isinstance(r.layer, GroupNorm)
    return {"groups": r.layer.groups, "affine": r.layer.affine}


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Groups that do not divide the channels, with the nearest that do (as conv's and channel_shuffle's)."""
    assert isinstance(r.layer, GroupNorm)
    return channel_groups(r.input.channels, r.layer.groups)


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch's refusals, for the channels x really has."""
    assert isinstance(r.layer, GroupNorm)
    return refusal(r.layer, Shape(r.input.spatial, channels)) is None


def scratch(r: Resolved) -> int:
    """One temporary as big as the input (the squared deviations)."""
    from ..check import ITEM

    return r.input.elements * ITEM


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Normalise each group, with zero scale and shift when affine."""
    (x,) = xs
    from ..check import zeros

    assert isinstance(r.layer, GroupNorm)
    affine = zeros(x.shape[0]) if r.layer.affine else None
    return kernel(x, groups=r.layer.groups, weight=affine, bias=affine)


def kernel(x: Array, *, groups: int, weight: Array | None, bias: Array | None, eps: float = 1e-5) -> Array:
    """Normalise each group of C / groups channels over its channels and positions, then scale and shift."""
    from ..kernels import affine, standardise

    grouped = x.reshape(groups, -1)
    out = standardise(grouped, (1,), eps).reshape(x.shape)
    return affine(out, weight, bias)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import group_norm as _this
    from .types import LayerKind

    _checked: LayerKind = _this
