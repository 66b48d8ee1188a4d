"""crop_to: its first input cropped to the spatial size of its second, from an offset (Caffe's Crop, as
FCN crops its upsampled scores to the image: `x[:, :, o:o + h, o:o + w]` in PyTorch); no weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import formulas as fm
from ..model import Code, Expect, Field, Held, Kind, Layer, Margins, PerAxis, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line
from . import scratch as scratch
from . import shares_input as shares_input
from . import window
from .merge import call, described, named, ranks

if TYPE_CHECKING:
    from typing import Any

    from ..build import Reader
    from ..kernels import Array


@frozen
class CropTo:
    """Its first input cropped to the second's spatial size, starting `offset` pixels in on each axis."""

    name: str
    offset: PerAxis | None = (0,)
    """Where the kept window starts on each spatial axis (one value for every axis); None for the centre,
    (N - size) // 2 (the odd pixel removed after, as U-Net and crop's centre crop do)."""
    sources: tuple[str, ...] = ()
    """The inputs' names as the spec wrote them in `from:` (the builder fills them in)."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.CROP_TO


KIND = Kind.CROP_TO
KEYS: tuple[str, ...] = ("offset",)
HELD = Held.VIEW
ELEMENTWISE = False
REQUIRED: tuple[str, ...] = ()
MERGE = True
"""Two inputs: the tensor cropped, and the one whose size it is cropped to."""


def read(r: Reader) -> Layer:
    """The offset of the kept window (default 0), or `centre`."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    given = r.data.get("offset")
    if given in ("centre", "center"):
        return CropTo(name=r.name, offset=None, where=where, allow=allow, expect=expect)
    return CropTo(
        name=r.name, offset=r.per_axis("offset", (0,), minimum=0), where=where, allow=allow, expect=expect
    )


def _offsets(layer: Layer, shape: Shape, like: Shape, file: str | None) -> tuple[int, ...]:
    """The offset on each spatial axis: as given, or the centre's (negative when `like` is larger)."""
    assert isinstance(layer, CropTo)
    ndim = window.spatial(layer, shape, file)
    if layer.offset is None:
        return tuple((n - s) // 2 for n, s in zip(shape.spatial, like.spatial, strict=False))
    return window.broadcast(layer, "offset", layer.offset, ndim, file)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """The second input's spatial size and the first's channels (`refusals` says when it does not fit)."""
    from ..errors import SpecError

    if len(inputs) != 2:
        line, column = layer.where.of("from")
        raise SpecError(
            f"{layer.name}: crop_to reads 2 inputs (the tensor cropped, then the one whose size it takes), "
            f"got {len(inputs)}",
            file=file,
            line=line,
            column=column,
        )
    x, like = inputs
    _offsets(layer, x, like, file)
    if len(like.spatial) != len(x.spatial):
        return Resolved(index, layer, x, Shape(x.spatial, x.channels), (), 0, None, 0, others=(like,))
    return Resolved(index, layer, x, Shape(like.spatial, x.channels), (), 0, None, 0, others=(like,))


def _misfit(r: Resolved) -> Refusal | None:
    layer = r.layer
    assert isinstance(layer, CropTo)
    x, like = r.inputs
    if len(like.spatial) != len(x.spatial):
        return Refusal(
            Code.MERGE_SHAPE_MISMATCH, ranks(layer.sources, 1, like, x) + ": crop_to needs one rank"
        )
    names = fm.AXIS_NAMES[len(x.spatial)]
    for name, n, size, o in zip(names, x.spatial, like.spatial, _offsets(layer, x, like, None), strict=True):
        if layer.offset is None and size > n:
            message = (
                f"{described(layer.sources, 1, like)} is larger than {described(layer.sources, 0, x)} on the "
                f"{name}s: a centre crop cannot enlarge it"
            )
            return Refusal(Code.WINDOW_EXCEEDS_INPUT, message, "offset")
        if o + size > n:
            message = (
                f"{o} + {size} > {n}: the window of {described(layer.sources, 1, like)} from offset {o} "
                f"leaves {described(layer.sources, 0, x)} on the {name}s; Caffe refuses it and PyTorch's "
                f"slice would give {max(0, n - o)} {name}s"
            )
            fixes = (f"offset {n - size}",) if n >= size else ()
            return Refusal(Code.WINDOW_EXCEEDS_INPUT, message, "offset", fixes=fixes)
    return None


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """A window that leaves the input, or inputs of different ranks."""
    found = _misfit(r)
    return () if found is None else (found,)


def runnable(r: Resolved, channels: int) -> bool:
    """The window lies inside the first input."""
    return _misfit(r) is None


def _kept(r: Resolved) -> tuple[tuple[int, int], ...]:
    """The first and last index kept on each spatial axis of the first input."""
    offsets = _offsets(r.layer, r.inputs[0], r.inputs[1], None)
    return tuple((o, o + size - 1) for o, size in zip(offsets, r.output.spatial, strict=True))


def margins(r: Resolved, before: Margins) -> Margins:
    """What is left of the first input's padding rows after the crop."""
    if before is None or _misfit(r) is not None:
        return None
    return tuple(
        (max(0, hb - first), max(0, ha - (n - 1 - last)))
        for n, (hb, ha), (first, last) in zip(r.input.spatial, before, _kept(r), strict=True)
    )


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """The first input's field: size and jump kept, the first output `offset` pixels later."""
    if len(before) != len(r.output.spatial):
        return None
    offsets = _offsets(r.layer, r.inputs[0], r.inputs[1], None)
    return tuple(
        Field(size=f.size, jump=f.jump, start=f.start + o * f.jump)
        for f, o in zip(before, offsets, strict=True)
    )


def size_lines(r: Resolved) -> list[str]:
    """score 526x526x8 cropped to data's 64x64 from offset 19 -> 64x64x8."""
    assert isinstance(r.layer, CropTo)
    x, like = r.inputs
    src = r.layer.sources
    start = fm.setting(list(_offsets(r.layer, x, like, None)))
    if r.layer.offset is None:
        start = f"{start} (the centre)"
    size = "x".join(map(str, like.spatial))
    return [f"{named(src, 0)} {x} cropped to {named(src, 1)}'s {size} from offset {start} -> {r.output}"]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a crop has no weights)"


def type_cell(r: Resolved) -> str:
    """crop_to(score, data)."""
    assert isinstance(r.layer, CropTo)
    return call(KIND.value, r.layer.sources)


def window_cell(r: Resolved) -> str:
    """The offset: 19, or 0x1."""
    assert isinstance(r.layer, CropTo)
    shown = fm.setting(list(_offsets(r.layer, r.inputs[0], r.inputs[1], None)))
    return f"centre {shown}" if r.layer.offset is None else f"offset {shown}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """The offset on each spatial axis."""
    return {"offset": list(_offsets(r.layer, r.inputs[0], r.inputs[1], None))}


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """The kept window of the first input, copied to a contiguous array."""
    import numpy as np

    return np.ascontiguousarray(kernel(xs[0], kept=_kept(r)))


def kernel(x: Array, *, kept: tuple[tuple[int, int], ...]) -> Array:
    """The [first, last] index kept on each spatial axis of x: a view."""
    return x[(slice(None), *(slice(first, last + 1) for first, last in kept))]


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import crop_to as _this
    from .types import LayerKind

    _checked: LayerKind = _this
