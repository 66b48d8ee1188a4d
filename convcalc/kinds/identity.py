"""identity: the input unchanged (nn.Identity); the inference form of dropout and stochastic depth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import Field, Held, Identity, Kind, Layer, Resolved, Shape

if TYPE_CHECKING:
    from ..kernels import Array
    from ..spec import Reader

KIND = Kind.IDENTITY
KEYS = ()
HELD = Held.VIEW
ELEMENTWISE = True
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


def size_lines(r: Resolved) -> list[str]:
    """The shape is kept: no formula."""
    return []


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (an identity layer has no weights)"


def macs_line(r: Resolved) -> str:
    """No arithmetic."""
    return "0"


def type_cell(r: Resolved) -> str:
    """identity."""
    return KIND.value


def window_cell(r: Resolved) -> str:
    """No window to show."""
    return ""


def json_fields(r: Resolved) -> dict[str, Any]:
    """Nothing beyond the common fields."""
    return {}


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch passes anything through."""
    return True


def scratch(r: Resolved) -> int:
    """No temporaries."""
    return 0


def shares_input(r: Resolved) -> bool:
    """x itself."""
    return True


def forward(x: Array, r: Resolved) -> Array:
    """x itself."""
    from ..kernels import identity

    return identity(x)
