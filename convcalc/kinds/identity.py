"""identity: the input unchanged (nn.Identity); the inference form of dropout and stochastic depth."""

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
class Identity:
    """The identity: the inference form of dropout and stochastic depth (nn.Identity)."""

    name: str
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.IDENTITY


KIND = Kind.IDENTITY
KEYS = ()
HELD = Held.VIEW
ELEMENTWISE = True
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """An identity layer: no keys of its own."""
    return Identity(name=r.name, where=r.where(), allow=r.allow(), expect=r.expect())


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept, no weights."""
    (shape,) = inputs
    return Resolved(index, layer, shape, shape, (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (an identity layer has no weights)"


def shares_input(r: Resolved) -> bool:
    """x itself."""
    return True


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """x itself."""
    (x,) = xs

    return kernel(x)


def kernel(x: Array) -> Array:
    """x itself (nn.Identity)."""
    return x


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import identity as _this
    from .types import LayerKind

    _checked: LayerKind = _this
