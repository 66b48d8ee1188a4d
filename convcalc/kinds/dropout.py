"""dropout: the identity at inference, an in-place mask in training (nn.Dropout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import Dropout, Field, Held, Kind, Layer, Resolved, Shape

if TYPE_CHECKING:
    from ..kernels import Array
    from ..spec import Reader

KIND = Kind.DROPOUT
KEYS = ("p",)
HELD = Held.IN_PLACE
ELEMENTWISE = True
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


def size_lines(r: Resolved) -> list[str]:
    """The shape is kept: no formula."""
    return []


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a dropout layer has no weights)"


def macs_line(r: Resolved) -> str:
    """Elementwise layers count no multiply-accumulates, by convention."""
    return "0"


def type_cell(r: Resolved) -> str:
    """dropout."""
    return KIND.value


def window_cell(r: Resolved) -> str:
    """p 0.5."""
    assert isinstance(r.layer, Dropout)
    return f"p {r.layer.p:g}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """p."""
    assert isinstance(r.layer, Dropout)
    return {"p": r.layer.p}


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch drops from any input."""
    return True


def scratch(r: Resolved) -> int:
    """None at inference."""
    return 0


def shares_input(r: Resolved) -> bool:
    """The identity at inference: x itself."""
    return True


def forward(x: Array, r: Resolved) -> Array:
    """The identity at inference."""
    from ..kernels import dropout

    assert isinstance(r.layer, Dropout)
    return dropout(x, p=r.layer.p)
