"""max: the elementwise maximum of 2 or more inputs of one shape (torch.maximum; Caffe's Eltwise MAX,
Keras's Maximum, ONNX's Max); no weights, 0 MACs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Code, Expect, Field, Held, Kind, Layer, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import scratch as scratch
from . import shares_input as shares_input
from .add import mismatch
from .merge import arity, call, shapes_line

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Max:
    """The elementwise maximum of its inputs, which must have one shape (convcalc does not broadcast)."""

    name: str
    sources: tuple[str, ...] = ()
    """The inputs' names as the spec wrote them in `from:` (the builder fills them in)."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.MAX


KIND = Kind.MAX
KEYS: tuple[str, ...] = ()
HELD = Held.OUTPUT
ELEMENTWISE = False
REQUIRED: tuple[str, ...] = ()
MERGE = True
"""A merge: `convcalc layer`, which gives one input, refuses it."""


def read(r: Reader) -> Layer:
    """A max layer: no keys of its own."""
    return Max(name=r.name, where=r.where(), allow=r.allow(), expect=r.expect())


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """The first input's shape (the others must match: `refusals` says when not); no weights."""
    arity(layer, "max", inputs, file)
    return Resolved(index, layer, inputs[0], inputs[0], (), 0, None, 0, others=inputs[1:])


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The first input's field (the resolver combines those of every input)."""
    return before


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Inputs of different shapes: which one, in what, and the projection that aligns it."""
    found = mismatch(r.layer, r.inputs, "max")
    return () if found is None else (found,)


def runnable(r: Resolved, channels: int) -> bool:
    """Every input of one shape."""
    return not refusals(r)


def size_lines(r: Resolved) -> list[str]:
    """max(56x56x256, 56x56x256) -> 56x56x256."""
    return [shapes_line(r.inputs, "max", r.output)]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a max has no weights)"


def type_cell(r: Resolved) -> str:
    """max(a, b): the kind and the inputs it reads, as the spec names them."""
    assert isinstance(r.layer, Max)
    return call(KIND.value, r.layer.sources)


def window_cell(r: Resolved) -> str:
    """max of 2 inputs."""
    return f"max of {len(r.inputs)} inputs"


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """The elementwise maximum of the inputs."""
    return kernel(xs)


def kernel(xs: tuple[Array, ...]) -> Array:
    """The elementwise maximum of arrays of one shape, in float32, first to last (torch.maximum)."""
    import numpy as np

    out: Array = np.array(xs[0], dtype=np.float32)
    for x in xs[1:]:
        np.maximum(out, x, out=out)
    return out


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import max as _this
    from .types import LayerKind

    _checked: LayerKind = _this
