"""dropout: the identity at inference, an in-place mask in training (nn.Dropout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import scratch as scratch
from . import size_lines as size_lines
from . import type_cell as type_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Dropout:
    """Dropout: the identity at inference, an in-place mask in training."""

    name: str
    p: float = 0.5
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.DROPOUT


KIND = Kind.DROPOUT
KEYS = ("p",)
HELD = Held.IN_PLACE
ELEMENTWISE = True
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """A dropout and its probability (default 0.5)."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    p = r.number("p", 0.5, low=0.0, high=1.0)
    return Dropout(name=r.name, where=where, allow=allow, expect=expect, p=p)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept, no weights."""
    (shape,) = inputs
    return Resolved(index, layer, shape, shape, (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Elementwise: the field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a dropout layer has no weights)"


def window_cell(r: Resolved) -> str:
    """p 0.5."""
    assert isinstance(r.layer, Dropout)
    return f"p {r.layer.p:g}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """p."""
    assert isinstance(r.layer, Dropout)
    return {"p": r.layer.p}


def shares_input(r: Resolved) -> bool:
    """The identity at inference: x itself."""
    return True


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """The identity at inference."""
    (x,) = xs

    assert isinstance(r.layer, Dropout)
    return kernel(x, p=r.layer.p)


def kernel(x: Array, *, p: float) -> Array:
    """Dropout at inference: x itself, whatever p is."""
    del p
    return x


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import dropout as _this
    from .types import LayerKind

    _checked: LayerKind = _this
