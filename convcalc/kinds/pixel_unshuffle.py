"""pixel_unshuffle: space to depth, r x r blocks to r^2 channels each (nn.PixelUnshuffle, Darknet's reorg)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Axis, Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import scratch as scratch
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import type_cell as type_cell
from .pixel_shuffle import image, refused

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class PixelUnshuffle:
    """Space to depth: r x r blocks become r^2 times the channels (nn.PixelUnshuffle, Darknet's reorg)."""

    name: str
    factor: int
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.PIXEL_UNSHUFFLE


KIND = Kind.PIXEL_UNSHUFFLE
KEYS = ("factor",)
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED = ("factor",)


def read(r: Reader) -> Layer:
    """A pixel unshuffle's factor."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    return PixelUnshuffle(name=r.name, factor=r.integer("factor", 1), where=where, allow=allow, expect=expect)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """H / r x W / r x C r^2; r must divide the height, then the width."""
    assert isinstance(layer, PixelUnshuffle)
    (shape,) = inputs
    h, w = image(layer, shape, file)
    r = layer.factor
    for name, n in (("height", h), ("width", w)):
        if n % r:
            raise refused(
                layer,
                "factor",
                f"the {name} {n} is not a multiple of the factor {r}; PyTorch refuses it",
                file,
            )
    out = Shape((h // r, w // r), shape.channels * r * r)
    axes = tuple(Axis(n=n, size=r, stride=r, pad=0, out=n // r) for n in (h, w))  # an r x r window, stride r
    return Resolved(index, layer, shape, out, axes, 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Like a window of r with stride r: each output reads an r x r block."""
    assert isinstance(r.layer, PixelUnshuffle)
    k = r.layer.factor
    return tuple(Field(f.size + (k - 1) * f.jump, f.jump * k, f.start) for f in before)


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a pixel unshuffle has no weights)"


def window_cell(r: Resolved) -> str:
    """r 2."""
    assert isinstance(r.layer, PixelUnshuffle)
    return f"r {r.layer.factor}"


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Space to depth."""
    (x,) = xs

    assert isinstance(r.layer, PixelUnshuffle)
    return kernel(x, factor=r.layer.factor)


def kernel(x: Array, *, factor: int) -> Array:
    """(C, H, W) to (C r^2, H / r, W / r), the inverse of `pixel_shuffle` (nn.PixelUnshuffle)."""
    c, h, w = x.shape
    r = factor
    return x.reshape(c, h // r, r, w // r, r).transpose(0, 2, 4, 1, 3).reshape(c * r * r, h // r, w // r)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import pixel_unshuffle as _this
    from .types import LayerKind

    _checked: LayerKind = _this
