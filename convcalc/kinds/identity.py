"""identity: the input unchanged (nn.Identity); the inference form of dropout and stochastic depth.

A reader also writes an identity for a layer of its source that keeps the shape and holds no weights
but that convcalc does not model (a loss, a detection head, Caffe's Silence): `stands_for` names it,
and the layer says so in a `kept-out` note, so nothing is dropped silently."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import Code, Expect, Field, Held, Kind, Layer, Refusal, Resolved, Severity, Shape, Where
from ..values import frozen
from . import macs_line as macs_line
from . import margins as margins
from . import runnable as runnable
from . import scratch as scratch
from . import size_lines as size_lines
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
    stands_for: str | None = None
    """The source's layer this identity stands in for ("Caffe SoftmaxWithLoss"), or None."""

    kind = Kind.IDENTITY


KIND = Kind.IDENTITY
KEYS = ("stands_for",)
HELD = Held.VIEW
ELEMENTWISE = True
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """An identity layer, and what it stands for when a reader kept a layer out."""
    return Identity(
        name=r.name, where=r.where(), allow=r.allow(), expect=r.expect(), stands_for=r.text("stands_for")
    )


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept, no weights."""
    (shape,) = inputs
    return Resolved(index, layer, shape, shape, (), 0, None, 0)


def _stands_for(r: Resolved) -> str | None:
    return r.layer.stands_for if isinstance(r.layer, Identity) else None


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Nothing PyTorch refuses; a layer kept out says what it stands for (an info note)."""
    what = _stands_for(r)
    if what is None:
        return ()
    message = f"stands for {what}, kept out as an identity: its shape is kept and nothing of it is counted"
    return (
        Refusal(
            Code.KEPT_OUT, message, key="stands_for", severity=Severity.INFO, brief="kept out as an identity"
        ),
    )


def type_cell(r: Resolved) -> str:
    """identity, or what it stands for: identity (Caffe Silence)."""
    what = _stands_for(r)
    return "identity" if what is None else f"identity ({what})"


def json_fields(r: Resolved) -> dict[str, Any]:
    """What a kept-out layer stands for."""
    what = _stands_for(r)
    return {} if what is None else {"stands_for": what}


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
