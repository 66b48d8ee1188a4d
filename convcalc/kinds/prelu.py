"""prelu: a leaky ReLU with a learned slope (nn.PReLU): 1 param, or C with per_channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import formulas as fm
from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
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
class PReLU:
    """A leaky ReLU with a learned slope (nn.PReLU): one slope, or one per channel."""

    name: str
    per_channel: bool = False
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.PRELU


KIND = Kind.PRELU
KEYS = ("per_channel",)
HELD = Held.OUTPUT
ELEMENTWISE = True
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """A PReLU and whether each channel learns its own slope (default false: nn.PReLU())."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    per_channel = r.flag("per_channel", False)
    return PReLU(name=r.name, where=where, allow=allow, expect=expect, per_channel=per_channel)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept; one slope, or C."""
    assert isinstance(layer, PReLU)
    (shape,) = inputs
    return Resolved(index, layer, shape, shape, (), shape.channels if layer.per_channel else 1, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Elementwise: the field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """1 (one slope for every channel: nn.PReLU()), or C slopes."""
    assert isinstance(r.layer, PReLU)
    if r.layer.per_channel:
        return f"{fm.number(r.params)} (a slope per channel: nn.PReLU({r.input.channels}))"
    return "1 (one slope shared by every channel: nn.PReLU())"


def runnable(r: Resolved, channels: int) -> bool:
    """nn.PReLU(C) needs C channels; nn.PReLU() takes any."""
    assert isinstance(r.layer, PReLU)
    return not r.layer.per_channel or channels == r.input.channels


def scratch(r: Resolved) -> int:
    """The mask of positive values: a byte per element."""
    return r.input.elements


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Apply a zero slope (or one per channel)."""
    (x,) = xs
    from ..check import zeros

    assert isinstance(r.layer, PReLU)
    return kernel(x, slope=zeros(x.shape[0] if r.layer.per_channel else 1))


def kernel(x: Array, *, slope: Array) -> Array:
    """x where positive, else slope x: one slope for all, or one per channel (the first axis)."""
    import numpy as np

    x = x.astype(np.float32, copy=False)
    shape = (slope.size, *(1,) * (x.ndim - 1)) if slope.size > 1 else (1,) * x.ndim
    out: Array = x * slope.astype(np.float32, copy=False).reshape(shape)
    np.copyto(out, x, where=x > 0)
    return out


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import prelu as _this
    from .types import LayerKind

    _checked: LayerKind = _this
