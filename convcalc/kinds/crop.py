"""crop: amounts removed from each side, or a centre crop to a size with the odd pixel removed after."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import formulas as fm
from ..model import Code, Expect, Field, Held, Kind, Layer, Margins, PerAxis, Refusal, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import scratch as scratch
from . import shares_input as shares_input
from . import type_cell as type_cell
from . import window
from .pad import read_sides

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Crop:
    """A crop: amounts removed before and after each axis, or a centre crop to `size` (odd pixel after)."""

    name: str
    crop: PerAxis | None = None
    """Removed before each axis (and after, unless `crop_end` is given); None for a centre crop."""
    crop_end: PerAxis | None = None
    size: PerAxis | None = None
    """The centre crop's output size; None when `crop` gives the amounts."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.CROP


KIND = Kind.CROP
KEYS: tuple[str, ...] = ("crop", "size")
HELD = Held.VIEW
ELEMENTWISE = False
MERGE = False
REQUIRED: tuple[str, ...] = ()
"""`crop` or `size`, one of them: `read` says so."""


def read(r: Reader) -> Layer:
    """Amounts removed (`crop`) or a centre crop's size (`size`)."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    given = [k for k in KEYS if k in r.data]
    if len(given) != 1:
        text = "give 'crop' (the amounts removed) or 'size' (a centre crop)"
        flag_text = "--type crop needs --crop (the amounts removed) or --size (a centre crop)"
        if given:
            text, flag_text = text + ", not both", "--crop and --size do not go together"
        raise r.refuse(None, text, flag_text)
    if given == ["size"]:
        return Crop(name=r.name, size=r.per_axis("size", (1,)), where=where, allow=allow, expect=expect)
    before, after = read_sides(r, "crop")
    return Crop(name=r.name, crop=before, crop_end=after, where=where, allow=allow, expect=expect)


def kept(layer: Layer, shape: Shape, file: str | None) -> tuple[tuple[int, int], ...]:
    """The first and last index kept per spatial axis: from the amounts, or the centre (odd pixel after);
    out of range or empty when PyTorch would refuse."""
    assert isinstance(layer, Crop)
    ndim = window.spatial(layer, shape, file)
    if layer.size is not None:
        sizes = window.broadcast(layer, "size", layer.size, ndim, file)
        return tuple(((n - s) // 2, (n - s) // 2 + s - 1) for n, s in zip(shape.spatial, sizes, strict=True))
    assert layer.crop is not None
    before = window.broadcast(layer, "crop", layer.crop, ndim, file)
    after = before if layer.crop_end is None else window.broadcast(layer, "crop", layer.crop_end, ndim, file)
    return tuple((b, n - a - 1) for n, b, a in zip(shape.spatial, before, after, strict=True))


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """last - first + 1 per axis (nothing, when the crop removes it all); channels kept, no weights."""
    (shape,) = inputs
    out = tuple(last - first + 1 for first, last in kept(layer, shape, file))
    return Resolved(index, layer, shape, Shape(out, shape.channels), (), 0, None, 0)


def margins(r: Resolved, before: Margins) -> Margins:
    """What is left of the input's padding rows after the crop."""
    if before is None or not r.output.positive:
        return None
    pairs = kept(r.layer, r.input, None)
    return tuple(
        (max(0, hb - first), max(0, ha - (n - 1 - last)))
        for n, (hb, ha), (first, last) in zip(r.input.spatial, before, pairs, strict=True)
    )


def refusal(r: Resolved) -> tuple[str, bool] | None:
    """Why PyTorch refuses the crop, and whether it leaves nothing (else a centre larger than the input)."""
    layer = r.layer
    assert isinstance(layer, Crop)
    names = fm.AXIS_NAMES[len(r.input.spatial)]
    for name, n, (first, last) in zip(names, r.input.spatial, kept(layer, r.input, None), strict=True):
        if layer.size is not None and first < 0:
            size = last - first + 1
            return (
                f"the centre crop's size {size} is larger than the input's {n} {name}s; PyTorch refuses it",
                False,
            )
        if last < first:
            text = f"{n} - {first} - {n - 1 - last} = {last - first + 1}"
            message = f"cropping {first} + {n - 1 - last} of {n} {name}s leaves nothing ({text})"
            return f"{message}; PyTorch refuses it", True
    return None


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """A crop that leaves nothing, or a centre crop larger than its input."""
    found = refusal(r)
    if found is None:
        return ()
    assert isinstance(r.layer, Crop)
    message, empty = found
    code = Code.NON_POSITIVE_SIZE if empty else Code.WINDOW_EXCEEDS_INPUT
    return (Refusal(code, message, "size" if r.layer.size else "crop", empty=empty),)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Size and jump kept; the first output starts `first` pixels later."""
    pairs = kept(r.layer, r.input, None)
    return tuple(
        Field(size=f.size, jump=f.jump, start=f.start + first * f.jump)
        for f, (first, _) in zip(before, pairs, strict=True)
    )


def size_lines(r: Resolved) -> list[str]:
    """N - before - after = out, or the centre crop's window."""
    layer = r.layer
    assert isinstance(layer, Crop)
    lines = []
    for n, (first, last) in zip(r.input.spatial, kept(layer, r.input, None), strict=True):
        if layer.size is not None:
            lines.append(
                f"centre {last - first + 1}: from ({n} - {last - first + 1}) // 2 = {first} to {last} "
                f"(the odd pixel removed after)"
            )
        else:
            lines.append(f"{n} - {first} - {n - 1 - last} = {last - first + 1}")
    if len(set(lines)) == 1:
        return lines[:1]
    return [f"{name}s: {line}" for name, line in zip(fm.AXIS_NAMES[len(lines)], lines, strict=True)]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a crop has no weights)"


def window_cell(r: Resolved) -> str:
    """The amounts removed: 2, 1x2, per side 0+1; or centre 56x56."""
    layer = r.layer
    assert isinstance(layer, Crop)
    pairs = kept(layer, r.input, None)
    if layer.size is not None:
        return "centre " + fm.setting([last - first + 1 for first, last in pairs])
    sides = [(first, n - 1 - last) for n, (first, last) in zip(r.input.spatial, pairs, strict=True)]
    if all(b == a for b, a in sides):
        return fm.setting([b for b, _ in sides])
    texts = [f"{b}+{a}" for b, a in sides]
    return texts[0] if len(set(texts)) == 1 else "x".join(f"({t})" for t in texts)


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch's narrow refuses a window outside the input or an empty one."""
    return refusal(r) is None


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """The kept window of x, copied to a contiguous array."""
    (x,) = xs
    import numpy as np

    return np.ascontiguousarray(kernel(x, kept=kept(r.layer, r.input, None)))


def kernel(x: Array, *, kept: tuple[tuple[int, int], ...]) -> Array:
    """The [first, last] index kept on each spatial axis of x: a view."""
    return x[(slice(None), *(slice(first, last + 1) for first, last in kept))]


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import crop as _this
    from .types import LayerKind

    _checked: LayerKind = _this
