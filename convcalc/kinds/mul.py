"""mul: the elementwise product of 2 or more inputs, broadcast as PyTorch does on (C, *spatial), each axis
equal or 1 (squeeze-and-excitation: HxWxC times 1x1xC); no weights, 0 MACs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Code, Expect, Field, Held, Kind, Layer, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import scratch as scratch
from . import shares_input as shares_input
from .merge import arity, axis_words, call, described, named, ranks, shapes_line

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Mul:
    """The product of its inputs, broadcast per axis (equal sizes, or 1 in one input) as PyTorch's *."""

    name: str
    sources: tuple[str, ...] = ()
    """The inputs' names as the spec wrote them in `from:` (the builder fills them in)."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.MUL


KIND = Kind.MUL
KEYS: tuple[str, ...] = ()
HELD = Held.OUTPUT
ELEMENTWISE = False
REQUIRED: tuple[str, ...] = ()
MERGE = True
"""A merge: `convcalc layer`, which gives one input, refuses it."""


def read(r: Reader) -> Layer:
    """A mul layer: no keys of its own."""
    return Mul(name=r.name, where=r.where(), allow=r.allow(), expect=r.expect())


def broadcast(
    inputs: tuple[Shape, ...], sources: tuple[str, ...] = ()
) -> tuple[Shape, str | None, str | None]:
    """The broadcast shape, and why not (with a fix) when the inputs do not broadcast; on a mismatched
    axis (or rank) the shape keeps the first input's size."""
    out = inputs[0]
    for j, shape in enumerate(inputs[1:], start=1):
        if len(shape.spatial) != len(out.spatial):
            flat, other = (j, 0) if len(shape.spatial) < len(inputs[0].spatial) else (0, j)
            low = inputs[flat]
            high = len(inputs[other].spatial)
            message = (
                f"{ranks(sources, j, shape, inputs[0])}: mul needs the same rank "
                "(PyTorch aligns shapes from the last axis, so a shorter one would meet the last spatial "
                "axis, not the channels)"
            )
            dims = "x".join(
                ["1"] * (high - len(low.spatial)) + [str(s) for s in low.spatial] + [str(low.channels)]
            )
            fix = f"reshape {named(sources, flat)} to {dims} ({{type: reshape, shape: {dims}}})"
            return out, message, fix
        words = (*axis_words(len(out.spatial)), "channels")
        sizes, bad = [], None
        for word, a, b in zip(words, out.dims, shape.dims, strict=True):
            if a == b or b == 1:
                sizes.append(a)
            elif a == 1:
                sizes.append(b)
            else:
                sizes.append(a)
                bad = bad or f"{word} {a} and {b} do not broadcast"
        if bad is not None:
            before = "the inputs before it" if j > 1 else described(sources, 0, out)
            message = f"{described(sources, j, shape)} and {before}: {bad}"
            message += " (each axis must be equal or 1 in one input)"
            return out, message, None
        out = Shape(tuple(sizes[:-1]), sizes[-1])
    return out, None, None


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """The broadcast shape; no weights."""
    assert isinstance(layer, Mul)
    arity(layer, "mul", inputs, file)
    out, _, _ = broadcast(inputs)
    return Resolved(index, layer, inputs[0], out, (), 0, None, 0, others=inputs[1:])


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The first input's field (the resolver combines those of every input)."""
    return before


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Inputs that do not broadcast: the axis and its sizes, or ranks that differ (with the reshape)."""
    assert isinstance(r.layer, Mul)
    _, message, fix = broadcast(r.inputs, r.layer.sources)
    if message is None:
        return ()
    return (Refusal(Code.MERGE_SHAPE_MISMATCH, message, fixes=() if fix is None else (fix,)),)


def runnable(r: Resolved, channels: int) -> bool:
    """The inputs broadcast."""
    return not refusals(r)


def size_lines(r: Resolved) -> list[str]:
    """56x56x64 x 1x1x64 -> 56x56x64."""
    return [shapes_line(r.inputs, "x", r.output)]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a mul has no weights)"


def type_cell(r: Resolved) -> str:
    """mul(a, b): the kind and the inputs it reads, as the spec names them."""
    assert isinstance(r.layer, Mul)
    return call(KIND.value, r.layer.sources)


def window_cell(r: Resolved) -> str:
    """x 2 inputs."""
    return f"x {len(r.inputs)} inputs"


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """The broadcast product of the inputs."""
    return kernel(xs)


def kernel(xs: tuple[Array, ...]) -> Array:
    """The elementwise product of arrays of one rank, broadcast where an axis is 1, in float32, computed
    into the output (no temporaries)."""
    import numpy as np

    out: Array = np.empty(np.broadcast_shapes(*(x.shape for x in xs)), dtype=np.float32)
    np.multiply(xs[0], xs[1], out=out)
    for x in xs[2:]:
        np.multiply(out, x, out=out)
    return out


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import mul as _this
    from .types import LayerKind

    _checked: LayerKind = _this
