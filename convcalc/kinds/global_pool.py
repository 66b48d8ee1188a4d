"""global_pool: pooling over every spatial position at once, to 1x1xC (nn.AdaptiveAvgPoolNd(1))."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ..model import Code, Expect, Field, Held, Kind, Layer, PoolMode, Resolved, Shape, Where
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import margins as margins
from . import refusals as refusals
from . import runnable as runnable
from . import scratch as scratch
from . import shares_input as shares_input
from . import size_lines as size_lines
from . import window
from . import window_cell as window_cell

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class GlobalPool:
    """Pooling over every spatial position at once: 1x1xC."""

    name: str
    mode: PoolMode = PoolMode.AVG
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.GLOBAL_POOL


KIND = Kind.GLOBAL_POOL
KEYS = ("mode",)
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED = ()


def read(r: Reader) -> Layer:
    """A global pool and its mode (default avg)."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    mode = r.choice("mode", PoolMode, PoolMode.AVG)
    return GlobalPool(name=r.name, where=where, allow=allow, expect=expect, mode=mode)


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """1 on every spatial axis, channels kept."""
    (shape,) = inputs
    ndim = window.spatial(layer, shape, file)
    return Resolved(index, layer, shape, Shape((1,) * ndim, shape.channels), (), 0, None, 0)


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Every output sees the whole input."""
    return None


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (pooling has no weights)"


def type_cell(r: Resolved) -> str:
    """global avg, global max."""
    assert isinstance(r.layer, GlobalPool)
    return f"global {r.layer.mode.value}"


def json_fields(r: Resolved) -> dict[str, Any]:
    """mode."""
    assert isinstance(r.layer, GlobalPool)
    return {"mode": r.layer.mode.value}


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Pool every spatial position."""
    (x,) = xs
    from .pool import mode_name

    assert isinstance(r.layer, GlobalPool)
    return kernel(x, mode=mode_name(r.layer.mode))


def kernel(x: Array, *, mode: Literal["max", "avg"]) -> Array:
    """Max or average over every spatial position: (C, 1, ..., 1)."""
    import numpy as np

    axes = tuple(range(1, x.ndim))
    x = x.astype(np.float32, copy=False)
    out: Array = x.max(axis=axes, keepdims=True) if mode == "max" else x.mean(axis=axes, keepdims=True)
    return out


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import global_pool as _this
    from .types import LayerKind

    _checked: LayerKind = _this
