"""flatten: to a vector (nn.Flatten); a view, so it holds no activations of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import scratch as scratch
from . import size_lines as size_lines
from . import type_cell as type_cell
from . import window_cell as window_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Flatten:
    """Flatten to a vector; a view, so it holds no activations of its own."""

    name: str
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.FLATTEN


KIND = Kind.FLATTEN
KEYS = ()
HELD = Held.VIEW
ELEMENTWISE = False
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """A flatten layer: no keys of its own."""
    return Flatten(name=r.name, where=r.where(), allow=r.allow(), expect=r.expect())


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """A vector of every element."""
    (shape,) = inputs
    return Resolved(index, layer, shape, Shape((), shape.elements), (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """A vector has no spatial axes to follow."""
    return None


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a flatten layer has no weights)"


def shares_input(r: Resolved) -> bool:
    """A view of x."""
    return True


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Flatten x."""
    (x,) = xs

    return kernel(x)


def kernel(x: Array) -> Array:
    """Flatten x in C order to a vector (a view when x is contiguous)."""
    return x.reshape(-1)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import flatten as _this
    from .types import LayerKind

    _checked: LayerKind = _this
