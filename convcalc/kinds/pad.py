"""pad: padding as a layer of its own (nn.ZeroPad2d, ReflectionPad2d, ReplicationPad2d, CircularPad2d)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import formulas as fm
from ..errors import SpecError
from ..model import (
    Code,
    Expect,
    Field,
    Fill,
    Held,
    Kind,
    Layer,
    Margins,
    PerAxis,
    Refusal,
    Resolved,
    Shape,
    Where,
)
from ..values import frozen
from . import macs_line as macs_line  # the shared parts, as this kind's own
from . import scratch as scratch
from . import shares_input as shares_input
from . import window

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


@frozen
class Pad:
    """Padding as a layer of its own (nn.ZeroPad2d and friends): N + before + after per axis."""

    name: str
    pad: PerAxis
    """Padding before each axis (and after, unless `pad_end` is given)."""
    pad_end: PerAxis | None = None
    mode: Fill = Fill.ZEROS
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    expect: Expect | None = None

    kind = Kind.PAD


KIND = Kind.PAD
KEYS: tuple[str, ...] = ("pad", "mode")
HELD = Held.OUTPUT
ELEMENTWISE = False
MERGE = False
REQUIRED: tuple[str, ...] = ("pad",)
SIDES_EXPECTED = (
    "a non-negative integer, a per-axis list like [1, 2], a string like '1x2', "
    "or per-side pairs like [[0, 1], [1, 0]]"
)
_MODULES = {Fill.ZEROS: "ZeroPad", Fill.REFLECT: "ReflectionPad", Fill.REPLICATE: "ReplicationPad"}


def read_sides(r: Reader, key: str) -> tuple[PerAxis, PerAxis | None]:
    """Amounts before and after each axis: a number or list for both sides, or [before, after] pairs."""
    value = r.data[key]
    if isinstance(value, str) and value.strip().lower() in ("same", "valid"):
        raise r.fail(key, f"numbers, not {value.strip().lower()} (that is for conv, deconv and pool)")
    if isinstance(value, list) and any(isinstance(v, list) for v in value):
        for pair in value:
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**63 for v in pair)
            ):
                raise r.fail(key, "[before, after] pairs of non-negative integers, like [[0, 1], [1, 0]]")
        before = tuple(b for b, _ in value)
        after = tuple(a for _, a in value)
        return before, (None if before == after else after)
    try:
        return r.per_axis(key, (0,), minimum=0), None
    except SpecError:
        raise r.fail(key, SIDES_EXPECTED) from None


def read(r: Reader) -> Layer:
    """A pad layer: its amounts and what it fills with."""
    where, allow, expect = r.where(), r.allow(), r.expect()
    before, after = read_sides(r, "pad")
    mode = r.choice("mode", Fill, Fill.ZEROS)
    return Pad(name=r.name, pad=before, pad_end=after, mode=mode, where=where, allow=allow, expect=expect)


def sides(layer: Layer, shape: Shape, file: str | None) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial axis of the input."""
    assert isinstance(layer, Pad)
    ndim = window.spatial(layer, shape, file)
    before = window.broadcast(layer, "pad", layer.pad, ndim, file)
    after = before if layer.pad_end is None else window.broadcast(layer, "pad", layer.pad_end, ndim, file)
    return tuple(zip(before, after, strict=True))


def resolve(index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
    """N + before + after per axis; channels kept, no weights."""
    (shape,) = inputs
    pairs = sides(layer, shape, file)
    out = Shape(tuple(n + b + a for n, (b, a) in zip(shape.spatial, pairs, strict=True)), shape.channels)
    return Resolved(index, layer, shape, out, (), 0, None, 0)


def margins(r: Resolved, before: Margins) -> Margins:
    """Its sides are padding, added to any the input had at its edges."""
    pairs = sides(r.layer, r.input, None)
    had = before or ((0, 0),) * len(pairs)
    return tuple((hb + b, ha + a) for (hb, ha), (b, a) in zip(had, pairs, strict=True))


def too_large(r: Resolved) -> tuple[int, int, int] | None:
    """The first axis whose pad PyTorch refuses for the mode (axis, side, N): reflect needs each side
    below N, circular at most N; None when every side fits."""
    layer = r.layer
    assert isinstance(layer, Pad)
    for axis, (n, pair) in enumerate(zip(r.input.spatial, sides(layer, r.input, None), strict=True)):
        for side in pair:
            if (layer.mode is Fill.REFLECT and side >= n) or (layer.mode is Fill.CIRCULAR and side > n):
                return axis, side, n
    return None


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """A reflect pad not below the input, or a circular one above it, with the largest that fits."""
    over = too_large(r)
    if over is None:
        return ()
    assert isinstance(r.layer, Pad)
    axis, side, n = over
    name = fm.AXIS_NAMES[len(r.input.spatial)][axis]
    need = "smaller than" if r.layer.mode is Fill.REFLECT else "at most"
    message = (
        f"{r.layer.mode.value} padding {side} on {n} {name}s: each side must be {need} the input ({n}); "
        "PyTorch refuses it"
    )
    return (Refusal(Code.WINDOW_EXCEEDS_INPUT, message, "pad", (capped(r), "mode replicate")),)


def capped(r: Resolved) -> str:
    """The largest pad the mode takes on every side, as a spec writes it: pad 3, or pad [[3, 1], [2, 2]]."""
    layer = r.layer
    assert isinstance(layer, Pad)
    most = 1 if layer.mode is Fill.CIRCULAR else 0
    pairs = [
        (min(b, n - 1 + most), min(a, n - 1 + most))
        for n, (b, a) in zip(r.input.spatial, sides(layer, r.input, None), strict=True)
    ]
    if all(b == a for b, a in pairs):
        return f"pad {fm.setting([b for b, _ in pairs])}"
    shown = pairs if len(set(pairs)) > 1 else pairs[:1]
    return "pad [" + ", ".join(f"[{b}, {a}]" for b, a in shown) + "]"


def field(r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
    """Size and jump kept; the first output starts `before` pixels earlier."""
    pairs = sides(r.layer, r.input, None)
    return tuple(
        Field(size=f.size, jump=f.jump, start=f.start - b * f.jump)
        for f, (b, _) in zip(before, pairs, strict=True)
    )


def size_lines(r: Resolved) -> list[str]:
    """N + before + after = out, per axis."""
    pairs = sides(r.layer, r.input, None)
    lines = [f"{n} + {b} + {a} = {n + b + a}" for n, (b, a) in zip(r.input.spatial, pairs, strict=True)]
    if len(set(lines)) == 1:
        return lines[:1]
    return [f"{name}s: {line}" for name, line in zip(fm.AXIS_NAMES[len(lines)], lines, strict=True)]


def params_line(r: Resolved) -> str:
    """No weights."""
    return "0 (a pad layer has no weights)"


def type_cell(r: Resolved) -> str:
    """pad, with its mode unless zeros."""
    assert isinstance(r.layer, Pad)
    return KIND.value if r.layer.mode is Fill.ZEROS else f"pad {r.layer.mode.value}"


def window_cell(r: Resolved) -> str:
    """The amounts: 2, 1x2, or per side 0+1."""
    pairs = sides(r.layer, r.input, None)
    if all(b == a for b, a in pairs):
        return fm.setting([b for b, _ in pairs])
    texts = [f"{b}+{a}" for b, a in pairs]
    return texts[0] if len(set(texts)) == 1 else "x".join(f"({t})" for t in texts)


def json_fields(r: Resolved) -> dict[str, Any]:
    """mode (zeros, reflect, replicate or circular)."""
    assert isinstance(r.layer, Pad)
    return {"mode": r.layer.mode.value}


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch refuses a reflect pad of N or more, a circular one above N."""
    return too_large(r) is None


def forward(xs: tuple[Array, ...], r: Resolved) -> Array:
    """Pad x with numpy's mode of the same name."""
    (x,) = xs

    assert isinstance(r.layer, Pad)
    return kernel(x, sides=sides(r.layer, r.input, None), mode=r.layer.mode.value)


_NUMPY_PAD = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
"""numpy's name for each of PyTorch's pad modes."""


def kernel(x: Array, *, sides: tuple[tuple[int, int], ...], mode: str) -> Array:
    """Pad the spatial axes of x by (before, after) each: zeros, reflect, replicate or circular."""
    import numpy as np

    return np.pad(x, [(0, 0), *sides], mode=_NUMPY_PAD[mode])  # type: ignore[call-overload,no-any-return]


if TYPE_CHECKING:  # mypy checks that this module is a whole kind
    from . import pad as _this
    from .types import LayerKind

    _checked: LayerKind = _this
