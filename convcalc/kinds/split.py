"""split: one part of the channels (torch.split with `sizes`, torch.chunk with `chunks`, torch.tensor_split
with `points`, as Caffe's Slice gives its slice_point); a view, no weights.

The builder makes a node per part (s.0, s.1) from one spec line; `part` says which one this node is.
torch.chunk(x, n, 1) takes chunks of ceil(C/n) channels, the last smaller, and so gives FEWER than n
chunks when ceil(C/n) does not fit n times (C=5, n=4: 2, 2, 1; n > C: C chunks of 1): convcalc does the
same, as recorded from PyTorch in tests/data/torch_merges.json.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..model import Code, Expect, Field, Held, Kind, Layer, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import scratch as scratch
from . import type_cell as type_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Split:
    """One part of the channels split by `sizes` (torch.split) or into `chunks` (torch.chunk)."""

    name: str
    sizes: tuple[int, ...] | None = None
    """The channels of each part, which must sum to the input's; None when `chunks` is given."""
    chunks: int | None = None
    """How many chunks torch.chunk is asked for (it may give fewer); None when `sizes` is given."""
    points: tuple[int, ...] | None = None
    """The channels at which the parts start after the first (torch.tensor_split's indices, Caffe's
    slice_point), strictly increasing; None when `sizes` or `chunks` is given."""
    part: int = 0
    """Which part (from 0) this layer is."""
    sources: tuple[str, ...] = ()
    """The input's name as the spec wrote it in `from:` (the builder fills it in)."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.SPLIT


KIND = Kind.SPLIT
KEYS: tuple[str, ...] = ("sizes", "chunks", "points", "part")
HELD = Held.VIEW
ELEMENTWISE = False
MERGE = False
REQUIRED: tuple[str, ...] = ()
"""`sizes`, `chunks` or `points`, one of them: `read` says so."""


def read(r: Reader) -> Layer:
    """Sizes, chunks or points (exactly one), and the part."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    given = [k for k in ("sizes", "chunks", "points") if k in r.data]
    if len(given) != 1:
        text = (
            "give 'sizes' (the channels of each part), 'chunks' (how many equal parts) "
            "or 'points' (where the parts start)"
        )
        flag_text = (
            "--type split needs --set sizes=[...] (the channels of each part), --set chunks=N "
            "or --set points=[...]"
        )
        if given:
            text, flag_text = (
                text + ": one of them",
                " and ".join(f"--set {k}" for k in given) + " do not go together",
            )
        raise r.refuse(None, text, flag_text)
    part = r.integer("part", 0, minimum=0)
    if given == ["chunks"]:
        chunks = r.integer("chunks", 1)
        return Split(name=r.name, chunks=chunks, part=part, where=where, allow=allow, expect=expect)
    from ..build import MAX_SIZE  # loaded already: it calls this reader

    if given == ["points"]:
        points = r.data["points"]
        if (
            not isinstance(points, list)
            or not points
            or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SIZE for v in points)
            or any(b <= a for a, b in itertools.pairwise(points))
        ):
            raise r.fail("points", "a strictly increasing list of positive integers like [2, 5]")
        return Split(name=r.name, points=tuple(points), part=part, where=where, allow=allow, expect=expect)
    value = r.data["sizes"]
    if (
        not isinstance(value, list)
        or not value
        or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SIZE for v in value)
    ):
        raise r.fail("sizes", "a list of positive integers like [58, 58]")
    return Split(name=r.name, sizes=tuple(value), part=part, where=where, allow=allow, expect=expect)


def chunked(channels: int, chunks: int) -> tuple[int, ...]:
    """torch.chunk's parts: ceil(C/n) channels each, the last smaller, as many as fit (maybe fewer than n)."""
    size = -(-channels // chunks)
    full, rest = divmod(channels, size)
    return (size,) * full + ((rest,) if rest else ())


def parts(layer: Split, channels: int) -> tuple[int, ...]:
    """The channels of every part, as given (`sizes`), between the `points`, or as torch.chunk makes them
    (points at or past the channels give empty parts, as torch.tensor_split: `resolve` refuses them)."""
    if layer.sizes is not None:
        return layer.sizes
    if layer.points is not None:
        edges = [min(p, channels) for p in (0, *layer.points)] + [channels]
        return tuple(b - a for a, b in itertools.pairwise(edges))
    assert layer.chunks is not None
    return chunked(channels, layer.chunks)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """The part's channels, the spatial sizes kept; a located error for a part that does not exist."""
    assert isinstance(layer, Split)
    (shape,) = inputs
    every = parts(layer, shape.channels)
    if layer.points is not None and layer.points[-1] >= shape.channels:
        line, column = layer.where.of("points")
        raise SpecError(
            f"{layer.name}: points {list(layer.points)} must be below the channels ({shape.channels}), "
            "or a part would be empty (Caffe's Slice refuses it)",
            file=file,
            line=line,
            column=column,
        )
    if layer.part >= len(every):
        line, column = layer.where.of("part")
        why = (
            f"{layer.chunks} chunks of {shape.channels} channels"
            if layer.chunks
            else f"points {list(layer.points)}"
            if layer.points
            else f"sizes {list(every)}"
        )
        got = "part" if len(every) == 1 else "parts"
        raise SpecError(
            f"{layer.name}: part {layer.part} does not exist: {why} give {len(every)} {got} "
            f"(0 to {len(every) - 1})",
            file=file,
            line=line,
            column=column,
        )
    return Resolved(index, layer, shape, Shape(shape.spatial, every[layer.part]), (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Positions kept: the field is unchanged."""
    return before


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Sizes that do not sum to the channels (torch.split refuses them), with sizes that do."""
    layer = r.layer
    assert isinstance(layer, Split)
    c = r.input.channels
    if layer.sizes is None or sum(layer.sizes) == c:
        return ()
    shown = " + ".join(map(str, layer.sizes))
    message = f"sizes {shown} = {sum(layer.sizes)} must sum to the channels ({c}); PyTorch refuses it"
    fixes: list[list[int]] = []
    last = c - sum(layer.sizes[:-1])
    if last > 0:
        fixes.append([*layer.sizes[:-1], last])
    n = len(layer.sizes)
    if c % n == 0 and [c // n] * n not in fixes:
        fixes.append([c // n] * n)
    return (Refusal(Code.MERGE_SHAPE_MISMATCH, message, "sizes", tuple(f"sizes {f}" for f in fixes)),)


def runnable(r: Resolved, channels: int) -> bool:
    """Sizes that sum to the channels (chunks always run)."""
    assert isinstance(r.layer, Split)
    return r.layer.sizes is None or sum(r.layer.sizes) == channels


def size_lines(r: Resolved) -> list[str]:
    """split 116 into 58 + 58: part 1 has 58 channels (and torch.chunk's rule for chunks)."""
    layer = r.layer
    assert isinstance(layer, Split)
    c = r.input.channels
    every = parts(layer, c)
    lines = []
    if layer.chunks is not None:
        size = -(-c // layer.chunks)
        lines.append(f"chunks of ceil({c}/{layer.chunks}) = {size} channels: {len(every)} of them")
    if layer.points is not None:
        lines.append(f"cut at channels {', '.join(map(str, layer.points))}: {len(every)} parts")
    lines.append(f"split {c} into {' + '.join(map(str, every))}: part {layer.part} has {r.output.channels}")
    return lines


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a split has no weights)"


def window_cell(r: Resolved) -> str:
    """split 58/58 (the parts' channels)."""
    assert isinstance(r.layer, Split)
    return "split " + "/".join(map(str, parts(r.layer, r.input.channels)))


def json_fields(r: Resolved) -> dict[str, Any]:
    """sizes (as given, or torch.chunk's), chunks and part."""
    layer = r.layer
    assert isinstance(layer, Split)
    return {"sizes": list(parts(layer, r.input.channels)), "chunks": layer.chunks, "part": layer.part}


def shares_input(r: Resolved) -> bool:
    """A view of x's channels."""
    return True


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """The part's channels of x."""
    (x,) = xs
    layer = r.layer
    assert isinstance(layer, Split)
    return kernel(x, sizes=parts(layer, x.shape[0]), part=layer.part)


def kernel(x: Array, *, sizes: tuple[int, ...], part: int) -> Array:
    """The channels (axis 0) of part `part` when x's are cut into `sizes`: a view."""
    start = sum(sizes[:part])
    return x[start : start + sizes[part]]


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import split as _this
    from .types import LayerKind

    _checked: LayerKind = _this
