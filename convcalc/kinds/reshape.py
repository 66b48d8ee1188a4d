"""reshape: the same elements in another shape, written like `input` in the spec's layout (x.reshape)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import formulas as fm
from ..errors import SpecError
from ..model import Code, Expect, Field, Held, Kind, Layer, Layout, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import scratch as scratch
from . import type_cell as type_cell
from . import window_cell as window_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array, Ints


@frozen
class Reshape:
    """The same elements in another shape (x.reshape, Keras's Reshape); a view."""

    name: str
    shape: tuple[int, ...]
    """The numbers as written, in `layout` order; at most one is -1 (inferred)."""
    layout: Layout = Layout.HWC
    """The spec's layout, which orders the numbers of `shape` as it does those of `input`."""
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.RESHAPE


KIND = Kind.RESHAPE
KEYS = ("shape",)
HELD = Held.VIEW
ELEMENTWISE = False
MERGE = False
REQUIRED = ("shape",)
EXPECTED = "a shape like 4x4x512 or [4, 4, -1]: positive integers, one of them -1 at most"
MAX_DIMS = 4
"""Up to 3 spatial axes and channels, as for `input`."""


def _number(value: object) -> int | None:
    """A positive integer or -1 (also written as digits), else None."""
    if isinstance(value, str):
        text = value.strip()
        if text == "-1" or (text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 19):
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value == -1 or 1 <= value < 2**63 else None


def read(r: Reader) -> Layer:
    """A reshape layer's shape: a number, a list, or a string like 4x4x-1, in the spec's layout."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    value = r.data["shape"]
    parts: list[object]
    if isinstance(value, str):
        parts = list(value.replace("X", "x").split("x"))
    elif isinstance(value, list | tuple):
        parts = list(value)
        if any(isinstance(p, str) and p.strip() == "-1" for p in parts):  # -1 is a number in a list
            raise r.fail("shape", EXPECTED)
    else:
        parts = [value]
    dims = [_number(p) for p in parts]
    if not dims or None in dims or dims.count(-1) > 1:
        raise r.fail("shape", EXPECTED)
    shape = tuple(d for d in dims if d is not None)
    return Reshape(name=r.name, shape=shape, layout=r.layout, where=where, allow=allow, expect=expect)


def _refused(layer: Reshape, text: str, file: str | None) -> SpecError:
    line, column = layer.where.of("shape")
    return SpecError(f"{layer.name}: {text}", file=file, line=line, column=column)


def written(layer: Reshape, total: int, file: str | None) -> tuple[int, ...]:
    """The shape's numbers with -1 worked out from the `total` elements; a located error if none fits."""
    known = math.prod(d for d in layer.shape if d != -1)
    shown = "x".join(map(str, layer.shape))
    if len(layer.shape) > MAX_DIMS:
        raise _refused(layer, f"shape {shown} has {len(layer.shape)} numbers; expected 1 to {MAX_DIMS}", file)
    if -1 in layer.shape:
        if total % known:
            raise _refused(
                layer,
                f"shape {shown}: {fm.number(total)} elements are not a multiple of {fm.number(known)}; "
                "PyTorch refuses it",
                file,
            )
        return tuple(total // known if d == -1 else d for d in layer.shape)
    if known != total:
        raise _refused(
            layer,
            f"shape {shown} holds {fm.number(known)} elements but its input has {fm.number(total)}; "
            "PyTorch refuses it",
            file,
        )
    return layer.shape


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """The shape asked for, read in the spec's layout, with the same number of elements."""
    assert isinstance(layer, Reshape)
    (shape,) = inputs
    dims = written(layer, shape.elements, file)
    return Resolved(index, layer, shape, Shape.read(dims, layer.layout), (), 0, None, 0)


def size_lines(r: Resolved) -> list[str]:
    """4x4x512, and how a -1 was worked out."""
    layer = r.layer
    assert isinstance(layer, Reshape)
    text = f"{r.output.show(layer.layout)} ({fm.number(r.input.elements)} elements, in {layer.layout.value})"
    if -1 not in layer.shape:
        return [text]
    known = [d for d in layer.shape if d != -1]
    inferred = r.input.elements // math.prod(known)
    return [text, f"-1 = {fm.number(r.input.elements)} / {fm.product(tuple(known))} = {fm.number(inferred)}"]


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Positions move to other axes: no field to follow."""
    return None


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a reshape has no weights)"


def shares_input(r: Resolved) -> bool:
    """A view of x."""
    return True


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """x in the output's shape, channels first: PyTorch's reshape of an NCHW tensor, whatever the layout."""
    (x,) = xs

    return kernel(x, (r.output.channels, *r.output.spatial))


def kernel(x: Array, shape: Ints) -> Array:
    """x in another shape, in C order (a view when x is contiguous), as PyTorch's reshape."""
    return x.reshape(shape)


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import reshape as _this
    from .types import LayerKind

    _checked: LayerKind = _this
