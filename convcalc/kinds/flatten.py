"""flatten: to a vector (nn.Flatten); a view, so it holds no activations of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import Field, Flatten, Held, Kind, Layer, Resolved, Shape

if TYPE_CHECKING:
    from ..kernels import Array
    from ..spec import Reader

KIND = Kind.FLATTEN
KEYS = ()
HELD = Held.VIEW
ELEMENTWISE = False
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


def size_lines(r: Resolved) -> list[str]:
    """The element count is the output: no formula."""
    return []


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a flatten layer has no weights)"


def macs_line(r: Resolved) -> str:
    """No arithmetic."""
    return "0"


def type_cell(r: Resolved) -> str:
    """flatten."""
    return KIND.value


def window_cell(r: Resolved) -> str:
    """No window to show."""
    return ""


def json_fields(r: Resolved) -> dict[str, Any]:
    """Nothing beyond the common fields."""
    return {}


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch flattens anything."""
    return True


def scratch(r: Resolved) -> int:
    """A view: no temporaries."""
    return 0


def shares_input(r: Resolved) -> bool:
    """A view of x."""
    return True


def forward(x: Array, r: Resolved) -> Array:
    """Flatten x."""
    from ..kernels import flatten

    return flatten(x)
