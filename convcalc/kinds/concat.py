"""concat: 2 or more inputs joined along the channels (torch.cat on dim 1) or a spatial axis; every other
axis must match; no weights, 0 MACs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..errors import SpecError
from ..model import Code, Expect, Field, Held, Kind, Layer, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import scratch as scratch
from . import shares_input as shares_input
from .merge import arity, axis_words, call, listed, named, ranks

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array

AXES = ("channels", "rows", "columns", "frames", "positions")
"""The axes a concat may join along: the channels, or a spatial axis as convcalc names it."""


@frozen
class Concat:
    """Its inputs joined along one axis (torch.cat): the channels by default, or a spatial axis by name."""

    name: str
    axis: str = "channels"
    """channels, or rows, columns, frames (3-D) or positions (1-D)."""
    sources: tuple[str, ...] = ()
    """The inputs' names as the spec wrote them in `from:` (the builder fills them in)."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.CONCAT


KIND = Kind.CONCAT
KEYS: tuple[str, ...] = ("axis",)
HELD = Held.OUTPUT
ELEMENTWISE = False
REQUIRED: tuple[str, ...] = ()
MERGE = True
"""A merge: `convcalc layer`, which gives one input, refuses it."""


def read(r: Reader) -> Layer:
    """A concat layer and its axis (default: the channels)."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    axis = r.data.get("axis", "channels")
    if axis not in AXES:
        raise r.fail("axis", f"one of: {', '.join(AXES)}")
    return Concat(name=r.name, axis=axis, where=where, allow=allow, expect=expect)


def position(layer: Concat, shape: Shape, file: str | None) -> int | None:
    """The index of the spatial axis joined along, None for the channels; a located error if the input
    has no such axis."""
    if layer.axis == "channels":
        return None
    words = axis_words(len(shape.spatial))
    if layer.axis not in words:
        line, column = layer.where.of("axis")
        has = f"its axes are {', '.join(words)} and channels" if words else "it has channels only"
        rank = f"a {len(words)}-D" if words else "a flat"
        raise SpecError(
            f"{layer.name}: {rank} input has no {layer.axis} to join along ({has})",
            file=file,
            line=line,
            column=column,
        )
    return words.index(layer.axis)


def joined(layer: Concat, inputs: tuple[Shape, ...], at: int | None) -> Shape:
    """The first input's shape with the sum of every input's size along the axis."""
    first = inputs[0]
    if at is None:
        return Shape(first.spatial, sum(s.channels for s in inputs))
    total = sum(s.spatial[at] if len(s.spatial) == len(first.spatial) else 0 for s in inputs)
    return Shape((*first.spatial[:at], total, *first.spatial[at + 1 :]), first.channels)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """The sum along the axis, the other axes the first input's; no weights."""
    assert isinstance(layer, Concat)
    arity(layer, "concat", inputs, file)
    out = joined(layer, inputs, position(layer, inputs[0], file))
    return Resolved(index, layer, inputs[0], out, (), 0, None, 0, others=inputs[1:])


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The first input's field (the resolver combines those of every input)."""
    return before


def crop_fix(name: str, shape: Shape, target: tuple[int, ...], at: int | None) -> str:
    """The centre crop that brings `shape`'s spatial sizes (but the joined axis) down to `target`."""
    sizes = tuple(t if i != at else n for i, (n, t) in enumerate(zip(shape.spatial, target, strict=True)))
    sides = [((n - t) // 2, n - t - (n - t) // 2) for n, t in zip(shape.spatial, sizes, strict=True)]
    line = f"{{type: crop, size: {fm.product(sizes)}}}"
    cut = [s for i, s in enumerate(sides) if i != at]
    if len(set(cut)) == 1:
        before, after = cut[0]
        amount = f"{before} from each side" if before == after else f"{before} before and {after} after"
        return f"crop {amount} of {name} ({line})"
    return f"centre-crop {name} to {fm.spatial(sizes)} ({line})"


def mismatch(layer: Concat, inputs: tuple[Shape, ...]) -> Refusal | None:
    """The first input whose other axes differ from the first input's, and the crop that aligns them."""
    first, src = inputs[0], layer.sources
    at = position(layer, first, None)
    words = (*axis_words(len(first.spatial)), "channels")
    for j, shape in enumerate(inputs[1:], start=1):
        if len(shape.spatial) != len(first.spatial):
            message = f"{ranks(src, j, shape, first)}: concat needs the same rank"
            return Refusal(Code.MERGE_SHAPE_MISMATCH, message)
        along = len(words) - 1 if at is None else at
        differ = [
            w
            for i, (w, a, b) in enumerate(zip(words, first.dims, shape.dims, strict=True))
            if a != b and i != along
        ]
        if not differ:
            continue
        message = (
            f"{named(src, j)} is {shape} but {named(src, 0)} is {first}: {listed(differ)} differ; "
            f"concat along {layer.axis} needs every other axis equal"
        )
        fixes: tuple[str, ...] = ()
        if "channels" not in differ:  # spatial sizes only: crop the larger inputs to the smallest
            target = tuple(min(s.spatial[i] for s in inputs) for i in range(len(first.spatial)))
            fixes = tuple(
                crop_fix(named(src, k), s, target, at)
                for k, s in enumerate(inputs)
                if any(n != t for i, (n, t) in enumerate(zip(s.spatial, target, strict=True)) if i != at)
            )
        return Refusal(Code.MERGE_SHAPE_MISMATCH, message, fixes=(" and ".join(fixes),) if fixes else ())
    return None


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Inputs whose other axes differ: which, in what, and the crops that align them."""
    assert isinstance(r.layer, Concat)
    found = mismatch(r.layer, r.inputs)
    return () if found is None else (found,)


def runnable(r: Resolved, channels: int) -> bool:
    """Every other axis matches."""
    return not refusals(r)


def sizes_along(r: Resolved) -> list[int]:
    """Each input's size along the joined axis."""
    assert isinstance(r.layer, Concat)
    at = position(r.layer, r.input, None)
    return [s.channels if at is None else s.spatial[at] for s in r.inputs]


def size_lines(r: Resolved) -> list[str]:
    """concat along channels: 64 + 64 = 128."""
    assert isinstance(r.layer, Concat)
    sizes = sizes_along(r)
    return [f"concat along {r.layer.axis}: {' + '.join(map(str, sizes))} = {sum(sizes)}"]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a concat has no weights)"


def type_cell(r: Resolved) -> str:
    """concat(a, b): the kind and the inputs it reads, as the spec names them."""
    assert isinstance(r.layer, Concat)
    return call(KIND.value, r.layer.sources)


def window_cell(r: Resolved) -> str:
    """cat C, cat rows."""
    assert isinstance(r.layer, Concat)
    return "cat C" if r.layer.axis == "channels" else f"cat {r.layer.axis}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """axis."""
    assert isinstance(r.layer, Concat)
    return {"axis": r.layer.axis}


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """The inputs joined along the axis (channels first: the channels are axis 0)."""
    assert isinstance(r.layer, Concat)
    at = position(r.layer, r.input, None)
    return kernel(xs, axis=0 if at is None else at + 1)


def kernel(xs: tuple[Array, ...], *, axis: int) -> Array:
    """Arrays joined along `axis` (0: channels, in channels-first arrays), in float32."""
    import numpy as np

    return np.concatenate(xs, axis=axis).astype(np.float32, copy=False)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import concat as _this
    from .types import LayerKind

    _checked: LayerKind = _this
