"""add: the elementwise sum of 2 or more inputs of one shape (ResNet's shortcut); no weights, 0 MACs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Code, Expect, Field, Held, Kind, Layer, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import scratch as scratch
from . import shares_input as shares_input
from .merge import arity, call, differing, listed, named, ranks, shapes_line

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Add:
    """The sum of its inputs, which must have one shape (torch's + would broadcast: convcalc does not)."""

    name: str
    sources: tuple[str, ...] = ()
    """The inputs' names as the spec wrote them in `from:` (the builder fills them in)."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.ADD


KIND = Kind.ADD
KEYS: tuple[str, ...] = ()
HELD = Held.OUTPUT
ELEMENTWISE = False
REQUIRED: tuple[str, ...] = ()
MERGE = True
"""A merge: `convcalc layer`, which gives one input, refuses it."""


def read(r: Reader) -> Layer:
    """An add layer: no keys of its own."""
    return Add(name=r.name, where=r.where(), allow=r.allow(), expect=r.expect())


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """The first input's shape (the others must match: `refusals` says when not); no weights."""
    assert isinstance(layer, Add)
    arity(layer, "add", inputs, file)
    return Resolved(index, layer, inputs[0], inputs[0], (), 0, None, 0, others=inputs[1:])


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The first input's field (the resolver combines those of every input)."""
    return before


def projection(source: Shape, target: Shape) -> str | None:
    """The 1x1 conv that maps `source` to `target` (stride s: ceil(N/s) per axis), or None if none does."""
    strides = []
    for n, t in zip(source.spatial, target.spatial, strict=True):
        s = -(-n // t) if n >= t >= 1 else 0  # the smallest stride that could give t
        if not s or -(-n // s) != t:
            return None
        strides.append(s)
    shown = str(strides[0]) if len(set(strides)) == 1 else "x".join(map(str, strides))
    stride = "" if set(strides) <= {1} else f", stride {shown}"
    return f"a 1x1 conv, {target.channels} filters{stride}"


def mismatch(layer: Layer, inputs: tuple[Shape, ...], word: str = "add") -> Refusal | None:
    """The first input that differs from the first one, what differs, and the projection that fixes it
    (for add, and for max, which also needs equal shapes: `word` names the kind)."""
    assert hasattr(layer, "sources")
    first = inputs[0]
    src = layer.sources
    for j, shape in enumerate(inputs[1:], start=1):
        if shape == first:
            continue
        if len(shape.spatial) != len(first.spatial):
            message = f"{ranks(src, j, shape, first)}: {word} needs equal shapes"
            return Refusal(Code.MERGE_SHAPE_MISMATCH, message)
        what = listed(differing(shape, first))
        message = f"{named(src, j)} is {shape} but {named(src, 0)} is {first}: {what} differ"
        message += f"; {word} needs equal shapes"
        fixes: list[str] = []
        down = projection(shape, first)
        if down is not None:
            fixes.append(f"{down} on {named(src, j)}")
        else:
            up = projection(first, shape)
            if any(s < f for s, f in zip(shape.spatial, first.spatial, strict=True)):
                message += f" (a 1x1 conv cannot enlarge {named(src, j)}: no projection of it fits)"
            if up is not None:
                fixes.append(f"{up} on {named(src, 0)}")
        return Refusal(Code.MERGE_SHAPE_MISMATCH, message, fixes=tuple(fixes))
    return None


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Inputs of different shapes: which one, in what, and the projection that aligns it."""
    assert isinstance(r.layer, Add)
    found = mismatch(r.layer, r.inputs)
    return () if found is None else (found,)


def runnable(r: Resolved, channels: int) -> bool:
    """Every input of one shape."""
    return not refusals(r)


def size_lines(r: Resolved) -> list[str]:
    """56x56x256 + 56x56x256 -> 56x56x256."""
    return [shapes_line(r.inputs, "+", r.output)]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (an add has no weights)"


def type_cell(r: Resolved) -> str:
    """add(a, b): the kind and the inputs it reads, as the spec names them."""
    assert isinstance(r.layer, Add)
    return call(KIND.value, r.layer.sources)


def window_cell(r: Resolved) -> str:
    """+ 2 inputs."""
    return f"+ {len(r.inputs)} inputs"


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """The sum of the inputs."""
    return kernel(xs)


def kernel(xs: tuple[Array, ...]) -> Array:
    """The elementwise sum of arrays of one shape, in float32, first to last."""
    import numpy as np

    out: Array = np.array(xs[0], dtype=np.float32)
    for x in xs[1:]:
        out += x
    return out


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import add as _this
    from .types import LayerKind

    _checked: LayerKind = _this
