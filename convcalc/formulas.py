"""Formulas written out with their numbers, the way a student writes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import arith
from .model import Axis, Field, Resolved, Shape

if TYPE_CHECKING:
    from fractions import Fraction

AXIS_NAMES = {1: ("position",), 2: ("row", "column"), 3: ("frame", "row", "column")}


def number(n: int) -> str:
    """12345 as 12,345."""
    return f"{n:,}"


def exact(value: float) -> str:
    """An unrounded size with at most two decimals: 2.33, 112.5, 32."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def ratio(a: Axis) -> str:
    """(N + 2P - E)/S + 1 in integers, so that huge sizes stay exact: 2.33, or as many decimals
    as it takes to show it is not whole (1.000000031), never rounded to a whole number."""
    whole, rest = divmod(a.numerator, a.stride)
    whole += 1
    if rest == 0:
        return str(whole)
    digits = 2
    while True:
        scale = 10**digits
        rounded = (2 * rest * scale + a.stride) // (2 * a.stride)  # half up
        if 0 < rounded < scale:
            return f"{whole}.{rounded:0{digits}d}".rstrip("0")
        digits += 1


def product(values: tuple[int, ...]) -> str:
    """5x5x3."""
    return "x".join(map(str, values))


def setting(values: list[int]) -> str:
    """A per-axis setting as a spec writes it: 3 when every axis agrees, else 3x5."""
    return str(values[0]) if len(set(values)) == 1 else product(tuple(values))


def fraction(x: int | Fraction) -> str:
    """A receptive-field number: 16, 0.5 or 0.0625 after upsampling, 1/3 when no short decimal is exact."""
    if isinstance(x, int) or x.denominator == 1:
        return str(x.numerator)
    for digits in range(1, 5):
        if (x * 10**digits).denominator == 1:
            return f"{float(x):.{digits}f}"
    return f"{x.numerator}/{x.denominator}"


def fractions(values: list[int | Fraction]) -> str:
    """Per-axis field numbers: 16 when every axis agrees, else 16x8."""
    texts = [fraction(v) for v in values]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
"""The binary units convcalc writes bytes in, PiB the largest."""


def byte_power(n: int) -> int:
    """The largest binary unit that keeps `n` bytes at least 1 in it."""
    return min(len(BYTE_UNITS) - 1, max(0, (n.bit_length() - 1) // 10))


def size(n: int, *, power: int | None = None, digits: int = 1, exact: bool = False) -> str:
    """Bytes (convcalc's only byte formatter): 58.1 MiB, 12 B; `digits` decimals in the unit `power`.

    `exact` writes a whole count instead, by default in the largest unit that divides `n`: 64 MiB, 1,000 B."""
    if exact:
        whole = [p for p in range(len(BYTE_UNITS)) if n % 1024**p == 0 and n >= 1024**p]
        power = max(whole, default=0) if power is None else power
        if n % 1024**power:
            raise ValueError(f"{n} bytes is not a whole number of {BYTE_UNITS[power]}")
        return f"{n // 1024**power:,} {BYTE_UNITS[power]}"
    power = byte_power(n) if power is None else power
    if power == 0:
        return f"{n} B"
    value = n / 1024**power
    return f"{value:.{digits}{'e' if value >= 1e6 else 'f'}} {BYTE_UNITS[power]}"


def plural(n: int, word: str) -> str:
    """1 row, 2 rows."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _pads(a: Axis, sign: str) -> str:
    if not a.symmetric:
        return f" {sign} {a.pad} {sign} {a.end_pad}"
    return f" {sign} 2x{a.pad}" if a.pad else ""


def size_expr(a: Axis) -> str:
    """(N - F + 2P)/S + 1 with the numbers: (32 - 5 + 2x2)/1 + 1; per-side pads as + 0 + 1.

    A transposed layer: (N - 1)S - 2P + D(F-1) + 1 + output_pad, with E = D(F-1) + 1.
    """
    if a.transposed:
        text = f"({a.n} - 1)x{a.stride}{_pads(a, '-')} + {a.extent}"
        return text + (f" + {a.output_pad}" if a.output_pad else "")
    return f"({a.n} - {a.extent}{_pads(a, '+')})/{a.stride} + 1"


def floor_out(a: Axis) -> int:
    """floor((N + 2P - E)/S) + 1, the output before any ceil-mode rounding."""
    return a.numerator // a.stride + 1


def rounded_up(a: Axis) -> bool:
    """Whether ceil mode gave more windows than the floor."""
    return a.ceil and not a.transposed and a.out > floor_out(a)


def dropped_place(a: Axis) -> str:
    """Where the window that ceil mode would add, and PyTorch drops, would start."""
    start = a.out * a.stride - a.pad  # in input pixels; PyTorch drops it when it starts at N or later
    if a.n <= start < a.n + a.end_pad:
        return "in the padding"
    return "past the input" if not a.end_pad else "past the padded input"


def size_line(a: Axis) -> str:
    """The output size with its formula and how PyTorch rounds it; every word true of these numbers."""
    if a.transposed:
        return f"{size_expr(a)} = {a.out}" + (": no output" if a.out < 1 else "")
    text = f"{size_expr(a)} = {ratio(a)}"
    if a.out < 1:
        return text + ": no output"
    if a.caffe:
        return text + caffe_note(a)
    if not a.fractional:
        return text
    if not a.ceil:
        return text + f" -> {a.out} (floor)"
    if rounded_up(a):
        return text + f" -> {a.out} (ceil mode rounds up)"
    return text + f" -> {a.out} (ceil mode keeps the floor: one more window would start {dropped_place(a)})"


def torch_ceil(a: Axis) -> int:
    """What PyTorch's ceil_mode gives on this axis (a Caffe-rounded axis's pads are symmetric)."""
    return arith.out_size(n=a.n, size=a.size, stride=a.stride, pad=a.pad, dilation=a.dilation, ceil=True)


def caffe_note(a: Axis) -> str:
    """How Caffe rounded, beside PyTorch's ceil_mode: '' when the size is whole and both agree."""
    torch, whole = torch_ceil(a), -(-a.numerator // a.stride) + 1  # the exact ceil
    if a.out == torch:
        if not a.fractional:
            return ""
        if rounded_up(a):
            return f" -> {a.out} (Caffe rounds up, as PyTorch's ceil_mode)"
        return f" -> {a.out} (Caffe keeps the floor: one more window would start {dropped_place(a)})"
    if a.out == whole:
        return (
            f" -> {a.out} (Caffe rounds up and, with no pad, keeps a last window starting past the input; "
            f"PyTorch's ceil_mode drops it: {torch})"
        )
    return f" -> {a.out} (Caffe's float32 arithmetic; exact ceil gives {whole}, PyTorch's ceil_mode {torch})"


def rounded_to(axes: tuple[Axis, ...], got: str) -> str:
    """How PyTorch (or Caffe, for `ceil: caffe`) turned the fractional sizes of these axes into `got`,
    as a clause: PyTorch floors it to 3x3."""
    if any(a.caffe for a in axes):
        return "Caffe " + _caffe_rounded_to(axes, got)
    return "PyTorch " + _torch_rounded_to(axes, got)


def _caffe_rounded_to(axes: tuple[Axis, ...], got: str) -> str:
    up = [rounded_up(a) for a in axes if a.fractional]
    if up and all(up):
        return f"rounds it up (ceil: caffe) to {got}"
    if any(up):
        return f"rounds it to {got} (ceil: caffe: up on some axes, down on others)"
    return f"keeps the floor, {got} (ceil: caffe; one more window would start in the padding)"


def _torch_rounded_to(axes: tuple[Axis, ...], got: str) -> str:
    fractional = [a for a in axes if a.fractional]
    up = [rounded_up(a) for a in fractional]
    if up and all(up):
        return f"rounds it up (ceil mode) to {got}"
    if any(up):
        return f"rounds it to {got} (ceil mode: up on some axes, down on others)"
    kept = [a for a in fractional if a.ceil]
    if kept:
        where = dropped_place(kept[0])
        return f"keeps the floor, {got}, even in ceil mode (one more window would start {where})"
    return f"floors it to {got}"


def exact_note(axes: tuple[Axis, ...]) -> str:
    """The unrounded sizes beside an output: 2.33, or ceil 55.5 when ceil mode rounded them up."""
    exacts = [ratio(a) for a in axes]
    text = exacts[0] if len(set(exacts)) == 1 else "x".join(exacts)
    return f"ceil {text}" if any(rounded_up(a) for a in axes) else text


def extent_note(a: Axis) -> str | None:
    """E = D(F-1) + 1, shown only when dilation makes it differ from F."""
    if a.dilation == 1:
        return None
    return f"window extent {a.dilation}x({a.size}-1) + 1 = {a.extent}"


def per_axis(axes: tuple[Axis, ...], render: Callable[[Axis], str]) -> list[str]:
    """One line when every axis is alike, else one line per named axis."""
    lines = [render(a) for a in axes]
    if len(set(lines)) <= 1:
        return lines[:1]
    names = AXIS_NAMES[len(axes)]
    return [f"{name}s: {line}" for name, line in zip(names, lines, strict=True)]


def ungrouped(r: Resolved) -> str | None:
    """Why a conv or deconv whose groups do not divide its channels has no weights to count, or None."""
    layer = r.layer
    from .kinds.window import Conv, Deconv  # formulas are imported by window itself

    if not isinstance(layer, Conv | Deconv) or not (
        r.input.channels % layer.groups or layer.filters % layer.groups
    ):
        return None
    return (
        f"none: groups {layer.groups} must divide the {r.input.channels} input channels "
        f"and the {layer.filters} filters"
    )


def params_line(r: Resolved) -> str:
    """10 x (5x5x3 + 1) = 760, or fc's (120 + 1) x 84 = 10,164."""
    from . import kinds

    return ungrouped(r) or kinds.of(r.layer).params_line(r)


def fc_line(r: Resolved) -> str | None:
    """(32x32x3) x (32x32x10) = 31,457,280, the same mapping fully connected."""
    if r.fc_params is None:
        return None
    return f"({product(r.input.dims)}) x ({product(r.output.dims)}) = {number(r.fc_params)}"


def saving_line(r: Resolved) -> str | None:
    """How many times fewer weights the conv needs than its FC equivalent."""
    from .kinds.window import Conv, Deconv

    if not isinstance(r.layer, Conv | Deconv) or r.fc_params is None or r.params == 0 or ungrouped(r):
        return None
    head = f"{number(r.fc_params)} / {number(r.params)}"
    if r.fc_params <= r.params:  # a window as large as the input (or padded past it) shares nothing
        return f"{head}: no fewer weights than fully connected"
    whole, rest = divmod(r.fc_params, r.params)
    if rest == 0:
        times = f"= {number(whole)}x"
    elif whole < 100:
        shown = exact(r.fc_params / r.params)
        times = f"= {shown}x" if "." in shown else f"= about {shown}x"
    else:  # a quotient this large is shown rounded, and says so
        times = f"= about {number((2 * r.fc_params + r.params) // (2 * r.params))}x"
    return f"{head} {times} fewer weights than fully connected"


def macs_line(r: Resolved) -> str:
    """32x32x10 x 5x5x3 = 768,000 multiply-accumulates."""
    if not r.output.positive:
        return "0 (no output)"
    from . import kinds

    return ungrouped(r) or kinds.of(r.layer).macs_line(r)


def adaptive_line(r: Resolved) -> str:
    """Adaptive pooling's windows: floor(jN/o) to ceil((j+1)N/o), of varying size."""
    parts = []
    for n, o in zip(r.input.spatial, r.output.spatial, strict=True):
        widths = {-(-((j + 1) * n) // o) - (j * n) // o for j in range(min(o, 4096))}
        parts.append(f"{n} -> {o}: windows of {'-'.join(map(str, sorted({min(widths), max(widths)})))}")
    return "floor(jN/o) to ceil((j+1)N/o); " + "; ".join(parts)


def field_line(a: Axis, before: Field, after: Field) -> str:
    """How one axis's receptive field grows: size, jump and start with their numbers."""
    f = fraction
    if a.transposed or (not isinstance(before.jump, int) and before.jump.denominator != 1):
        # Upsampled: neighbouring fields step by 0 or 1 pixels, so the size is the widest one's,
        # found by composing the layers' index maps rather than by the closed form.
        jump = f"{f(before.jump)} / {a.stride}" if a.transposed else f"{f(before.jump)} x {a.stride}"
        return f"size {f(after.size)} (the widest), jump {jump} = {f(after.jump)}, start {f(after.start)}"
    return (
        f"size {f(before.size)} + ({a.extent} - 1) x {f(before.jump)} = {f(after.size)}, "
        f"jump {f(before.jump)} x {a.stride} = {f(after.jump)}, "
        f"start {f(before.start)} - {a.pad} x {f(before.jump)} = {f(after.start)}"
    )


def spatial(shape: Shape | tuple[int, ...]) -> str:
    """7x7: the spatial part of a shape."""
    dims = shape.spatial if isinstance(shape, Shape) else shape
    return product(dims)
