"""pixel_shuffle: depth to space, C x r^2 channels to an r-times larger 2-D image (nn.PixelShuffle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SpecError
from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import scratch as scratch
from . import shares_input as shares_input

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array
    from .pixel_unshuffle import PixelUnshuffle


@frozen
class PixelShuffle:
    """Depth to space: C x r^2 channels become an r-times larger 2-D image (nn.PixelShuffle)."""

    name: str
    factor: int
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.PIXEL_SHUFFLE


KIND = Kind.PIXEL_SHUFFLE
KEYS = ("factor",)
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED = ("factor",)


def read(r: Reader) -> Layer:
    """A pixel shuffle's factor."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    return PixelShuffle(name=r.name, factor=r.integer("factor", 1), where=where, allow=allow, expect=expect)


def refused(layer: PixelShuffle | PixelUnshuffle, key: str | None, text: str, file: str | None) -> SpecError:
    """A located error about a pixel (un)shuffle."""
    line, column = (layer.where.line, layer.where.column) if key is None else layer.where.of(key)
    return SpecError(f"{layer.name}: {text}", file=file, line=line, column=column)


def image(layer: PixelShuffle | PixelUnshuffle, shape: Shape, file: str | None) -> tuple[int, int]:
    """H and W: PyTorch's pixel shuffles read the last three dims as (C, H, W), so 2-D input only."""
    if len(shape.spatial) != 2:
        what = "a flat vector" if not shape.spatial else f"{len(shape.spatial)}-D"
        raise refused(
            layer,
            None,
            f"a {layer.kind.value} layer needs 2-D input (H x W x C), but its input is {what}; "
            "PyTorch's works on images only",
            file,
        )
    h, w = shape.spatial
    return h, w


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """H r x W r x C / r^2; C must be a multiple of r^2."""
    assert isinstance(layer, PixelShuffle)
    (shape,) = inputs
    h, w = image(layer, shape, file)
    r = layer.factor
    if shape.channels % (r * r):
        raise refused(
            layer,
            "factor",
            f"{shape.channels} channels are not a multiple of factor^2 = {r * r}; PyTorch refuses it",
            file,
        )
    out = Shape((h * r, w * r), shape.channels // (r * r))
    return Resolved(index, layer, shape, out, (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Neighbouring outputs come from the same input position or the next: no single field step."""
    return None


def size_lines(r: Resolved) -> list[str]:
    """8x8x16 -> 16x16x4: each axis times r, the channels over r^2."""
    layer = r.layer
    assert isinstance(layer, PixelShuffle)
    f = layer.factor
    h, w = r.input.spatial
    return [f"{h}x{f} = {h * f}, {w}x{f} = {w * f}; {r.input.channels}/{f}^2 = {r.output.channels} channels"]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a pixel shuffle has no weights)"


def type_cell(r: Resolved) -> str:
    """pixel_shuffle."""
    return r.layer.kind.value


def window_cell(r: Resolved) -> str:
    """r 2."""
    assert isinstance(r.layer, PixelShuffle)
    return f"r {r.layer.factor}"


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Depth to space."""
    (x,) = xs

    assert isinstance(r.layer, PixelShuffle)
    return kernel(x, factor=r.layer.factor)


def kernel(x: Array, *, factor: int) -> Array:
    """(C r^2, H, W) to (C, H r, W r): channel c r^2 + i r + j goes to (hr + i, wr + j): nn.PixelShuffle."""
    c, h, w = x.shape
    r = factor
    return x.reshape(c // (r * r), r, r, h, w).transpose(0, 3, 1, 4, 2).reshape(c // (r * r), h * r, w * r)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import pixel_shuffle as _this
    from .types import LayerKind

    _checked: LayerKind = _this
