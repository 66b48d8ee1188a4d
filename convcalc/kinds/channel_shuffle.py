"""channel_shuffle: ShuffleNet's shuffle of the channels between groups (nn.ChannelShuffle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import Code, Expect, Field, Held, Kind, Layer, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import channel_groups, window
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import scratch as scratch
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import type_cell as type_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class ChannelShuffle:
    """ShuffleNet's channel shuffle (nn.ChannelShuffle): the channels as groups x C/groups, transposed."""

    name: str
    groups: int
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.CHANNEL_SHUFFLE


KIND = Kind.CHANNEL_SHUFFLE
KEYS: tuple[str, ...] = ("groups",)
HELD = Held.OUTPUT
ELEMENTWISE = True
MERGE = False
REQUIRED: tuple[str, ...] = ("groups",)


def read(r: Reader) -> Layer:
    """A channel shuffle and its groups."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    return ChannelShuffle(name=r.name, groups=r.integer("groups", 1), where=where, allow=allow, expect=expect)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept, no weights; PyTorch wants spatial input."""
    (shape,) = inputs
    window.spatial(layer, shape, file)
    return Resolved(index, layer, shape, shape, (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Each position on its own: the field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a channel shuffle has no weights)"


def window_cell(r: Resolved) -> str:
    """g3 for 3 groups."""
    assert isinstance(r.layer, ChannelShuffle)
    return f"g{r.layer.groups}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """groups."""
    assert isinstance(r.layer, ChannelShuffle)
    return {"groups": r.layer.groups}


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Groups that do not divide the channels, with the nearest that do."""
    assert isinstance(r.layer, ChannelShuffle)
    return channel_groups(r.input.channels, r.layer.groups)


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch refuses groups that do not divide the channels."""
    assert isinstance(r.layer, ChannelShuffle)
    return channels % r.layer.groups == 0


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Shuffle the channels of x."""
    (x,) = xs

    assert isinstance(r.layer, ChannelShuffle)
    return kernel(x, groups=r.layer.groups)


def kernel(x: Array, *, groups: int) -> Array:
    """The channels read as groups x C/groups, transposed (ShuffleNet; nn.ChannelShuffle)."""
    c, spatial = x.shape[0], x.shape[1:]
    return x.reshape(groups, c // groups, *spatial).swapaxes(0, 1).reshape(c, *spatial)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import channel_shuffle as _this
    from .types import LayerKind

    _checked: LayerKind = _this
