"""act: an activation function applied in place (nn.ReLU, nn.GELU, ... one kind, many functions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..model import Code, Expect, Field, Fn, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import size_lines as size_lines
from . import window_cell as window_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Act:
    """An activation function, applied in place."""

    name: str
    fn: Fn = Fn.RELU
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.ACT


KIND = Kind.ACT
KEYS = ("fn",)
HELD = Held.IN_PLACE
ELEMENTWISE = True
MERGE = False
REQUIRED = ()
_SCRATCH = {
    Fn.GELU: 8,
    Fn.ELU: 1,
    Fn.SELU: 1,
    Fn.CELU: 1,
    Fn.HARDSHRINK: 5,
    Fn.SOFTSHRINK: 4,
    Fn.LOG_SIGMOID: 4,
    Fn.LOG_SOFTMAX: 4,
    Fn.SOFTMIN: 4,
}
"""Bytes of temporaries per element an activation makes: GELU two float32 buffers, ELU a mask, the
shrinks a mask or a clipped copy, log-sigmoid, log-softmax and softmin one float32 buffer."""
_OVER_CHANNELS = frozenset({Fn.SOFTMAX, Fn.SOFTMAX2D, Fn.LOG_SOFTMAX, Fn.SOFTMIN})
"""Functions of all the channels at a position, which keep a maximum and a sum per position."""


def read(r: Reader) -> Layer:
    """An activation and its function (default relu)."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    return Act(name=r.name, where=where, allow=allow, expect=expect, fn=r.choice("fn", Fn, Fn.RELU))


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept, no weights; softmax2d (nn.Softmax2d) takes 2-D input only, as PyTorch."""
    (shape,) = inputs
    if isinstance(layer, Act) and layer.fn is Fn.SOFTMAX2D and len(shape.spatial) != 2:
        line, column = layer.where.of("fn")
        n = len(shape.spatial)
        axes = f"{n} spatial {'axis' if n == 1 else 'axes'}"
        raise SpecError(
            f"{layer.name}: softmax2d (nn.Softmax2d) needs 2-D input, but its input has {axes}; "
            "softmax runs over the channels at any rank",
            file=file,
            line=line,
            column=column,
        )
    return Resolved(index, layer, shape, shape, (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Elementwise: the field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (an act layer has no weights)"


def type_cell(r: Resolved) -> str:
    """The function: relu, gelu."""
    assert isinstance(r.layer, Act)
    return r.layer.fn.value


def json_fields(r: Resolved) -> dict[str, Any]:
    """fn."""
    assert isinstance(r.layer, Act)
    return {"fn": r.layer.fn.value}


def scratch(r: Resolved) -> int:
    """GELU's, ELU's and the shrinks' temporaries, and the softmax family's per-position maximum and sum."""
    from ..check import ITEM

    fn = r.layer.fn if isinstance(r.layer, Act) else Fn.RELU
    per_position = 2 * ITEM * (r.input.elements // r.input.channels) if fn in _OVER_CHANNELS else 0
    return _SCRATCH.get(fn, 0) * r.input.elements + per_position


def shares_input(r: Resolved) -> bool:
    """The identity function returns x itself; the others a new array."""
    assert isinstance(r.layer, Act)
    return r.layer.fn is Fn.IDENTITY


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Apply the function."""
    (x,) = xs
    from ..kernels import activation

    assert isinstance(r.layer, Act)
    return activation(x, fn=r.layer.fn.value)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import act as _this
    from .types import LayerKind

    _checked: LayerKind = _this
