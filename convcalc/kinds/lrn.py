"""lrn: local response normalisation across neighbouring channels (AlexNet, Caffe; nn.LocalResponseNorm)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Code, Expect, Field, Held, Kind, Layer, Resolved, Shape, Where
from ..values import frozen
from . import json_fields as json_fields  # the shared parts, as this kind's own
from . import macs_line as macs_line
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import type_cell as type_cell
from . import window

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class LRN:
    """Local response normalisation across `size` neighbouring channels (nn.LocalResponseNorm); no weights."""

    name: str
    size: int
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.LRN


KIND = Kind.LRN
KEYS: tuple[str, ...] = ("size",)
HELD = Held.OUTPUT
ELEMENTWISE = True
MERGE = False
REQUIRED: tuple[str, ...] = ("size",)
ITEM = 4
"""Bytes of a float32."""


def read(r: Reader) -> Layer:
    """An LRN and how many channels it sums over."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    value = r.data.get("size")
    if isinstance(value, tuple) and len(value) == 1:  # `convcalc layer --size 5` gives per-axis numbers
        r.data = {**r.data, "size": value[0]}
    return LRN(name=r.name, size=r.integer("size", 1), where=where, allow=allow, expect=expect)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """Shape kept, no weights; PyTorch wants spatial input."""
    (shape,) = inputs
    window.spatial(layer, shape, file)
    return Resolved(index, layer, shape, shape, (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Across channels only: the spatial field is unchanged."""
    return before


def params_line(r: Resolved) -> str:
    """No weights: alpha, beta and k are constants."""
    assert isinstance(r.layer, LRN)
    n = r.layer.size
    return f"0 (x / (k + alpha/{n} x the sum of x^2 over {n} channels)^beta: constants, no weights)"


def window_cell(r: Resolved) -> str:
    """n5: the channels summed over."""
    assert isinstance(r.layer, LRN)
    return f"n{r.layer.size}"


def scratch(r: Resolved) -> int:
    """At most: the padded squares and their copy after a zero row (float32), their running sum and the
    window sums (float64), and the divisor's steps: 8 float32s per padded channel and position."""
    c, positions = r.input.channels, r.input.elements // max(r.input.channels, 1)
    n = r.layer.size if isinstance(r.layer, LRN) else 1
    return 8 * (c + n) * positions * ITEM


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Normalise x across channels with PyTorch's defaults (alpha 1e-4, beta 0.75, k 1)."""
    (x,) = xs

    assert isinstance(r.layer, LRN)
    return kernel(x, size=r.layer.size)


def kernel(x: Array, *, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Array:
    """x / (k + alpha/size x the sum of x^2 over size neighbouring channels)^beta (nn.LocalResponseNorm)."""
    import numpy as np

    c = x.shape[0]
    squares = np.pad(x * x, [(size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 1))
    sums = np.cumsum(np.concatenate([np.zeros_like(squares[:1]), squares]), axis=0, dtype=np.float64)
    window = (sums[size : size + c] - sums[:c]).astype(np.float32)
    return x / (k + alpha / size * window) ** beta


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import lrn as _this
    from .types import LayerKind

    _checked: LayerKind = _this
