"""Which input sizes a network takes: `convcalc solve SPEC`.

Each candidate size is resolved as `run --input` would resolve it. A size is **exact** when every layer's
`(N + 2P - E)/S` is a whole number (no rounding anywhere), **works** when PyTorch runs it without
dropping input: no error finding (a floor that leaves only padding unused is a note, and is allowed), and
**fails** otherwise: a layer drops input, a size reaches zero, or a merge's shapes disagree. A square (or
cubic) input varies on every spatial axis together, as users size images; any other input varies one
axis at a time, the others held at the spec's. The sizes that pass are described in closed form where
they have one (`572 + 16k`, `multiples of 32`, `every size`) and listed as found where not.
Pure: no click, rich or numpy.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from . import formulas as fm
from .errors import SpecError
from .model import Code, Layout, Severity, Shape, Spec

JSON_VERSION = 1
WIDEST = 4096
"""The most sizes one search resolves (a range wider than this is refused: each is a whole resolve)."""
IGNORED = frozenset((Code.EXPECT_MISMATCH, Code.SUSPICIOUS_LAYOUT, Code.OVER_BUDGET))
"""Findings that say nothing of whether a size runs: `expect:` holds for the spec's own input only, a
layout warning is about how the numbers are read, and a budget is `fit`'s question."""


class Fit(enum.Enum):
    """What a network does with one input size."""

    EXACT = "exact"
    WORKS = "works"
    FAILS = "fails"


@dataclass(frozen=True, slots=True)
class Tried:
    """One input size and what the network does with it."""

    size: int
    fit: Fit
    output: Shape | None
    """The network's output, or None where it has none."""
    why: str = ""
    """For a failing size, the first error: `down4.maxpool_conv.0: fractional-size`."""


@dataclass(frozen=True, slots=True)
class Axis:
    """The sizes tried on one axis (or on all of them, for a square input)."""

    name: str
    """rows, columns, ... or `rows and columns` for a square input."""
    index: tuple[int, ...]
    """Which numbers of the spec's input this varies."""
    given: int
    """The spec's own size on it."""
    tried: tuple[Tried, ...]

    def sizes(self, fit: Fit) -> list[int]:
        """The sizes that are exact, or that work (exact ones included)."""
        good = (Fit.EXACT,) if fit is Fit.EXACT else (Fit.EXACT, Fit.WORKS)
        return [t.size for t in self.tried if t.fit in good]


@dataclass(frozen=True, slots=True)
class Solved:
    """Every axis of a spec, searched over one range."""

    spec: Spec
    low: int
    high: int
    axes: tuple[Axis, ...]


def positions(spec: Spec) -> tuple[int, ...]:
    """Where the spatial sizes stand in the spec's input numbers."""
    n = len(spec.input)
    return tuple(range(1, n)) if spec.layout is Layout.CHW else tuple(range(n - 1))


def default_range(spec: Spec) -> tuple[int, int]:
    """A quarter below to a half above the spec's largest spatial size (at least 1 to 8)."""
    given = max((spec.input[i] for i in positions(spec)), default=1)
    return max(1, given - given // 4), max(8, given + given // 2)


def classify(spec: Spec, dims: tuple[int, ...], size: int) -> Tried:
    """What the network does with these input numbers, recorded as `size` (the one varied)."""
    from .resolver import resolve

    try:
        net = resolve(spec, input=dims, input_fixes=False)
    except SpecError as e:
        return Tried(size, Fit.FAILS, None, e.message.split(":", 1)[0])
    findings = [f for f in net.findings if f.code not in IGNORED]
    errors = [f for f in findings if f.severity is Severity.ERROR]
    output = net.output if net.output.positive and all(r.output.positive for r in net.layers) else None
    if errors or output is None:
        first = errors[0] if errors else None
        why = f"{first.layer_name or 'the network'}: {first.code.value}" if first else "no output"
        return Tried(size, Fit.FAILS, output, why)
    exact = not any(f.code is Code.FRACTIONAL_SIZE for f in findings)
    return Tried(size, Fit.EXACT if exact else Fit.WORKS, output)


def _dims(spec: Spec, index: tuple[int, ...], size: int) -> tuple[int, ...]:
    return tuple(size if i in index else d for i, d in enumerate(spec.input))


def search(spec: Spec, *, low: int | None = None, high: int | None = None) -> Solved:
    """Every size from `low` to `high` (default: around the spec's input) on each axis."""
    lo, hi = default_range(spec)
    low, high = low or lo, high or hi
    if not 1 <= low <= high:
        raise ValueError(f"the range {low}..{high} is empty: give LOW..HIGH with 1 <= LOW <= HIGH")
    if high - low + 1 > WIDEST:
        count = high - low + 1
        raise ValueError(f"the range {low}..{high} has {count:,} sizes; at most {WIDEST:,} are tried")
    return Solved(spec, low, high, tuple(_axis(spec, index, low, high) for index in _varied(spec)))


def _varied(spec: Spec) -> list[tuple[int, ...]]:
    """The input numbers varied together: all spatial ones for a square input, else one at a time."""
    spatial = positions(spec)
    if len({spec.input[i] for i in spatial}) == 1:
        return [spatial]
    return [(i,) for i in spatial]


def _axis_name(spec: Spec, index: tuple[int, ...]) -> str:
    names = [f"{n}s" for n in fm.AXIS_NAMES[len(positions(spec))]]
    spatial = positions(spec)
    chosen = [names[spatial.index(i)] for i in index]
    return chosen[0] if len(chosen) == 1 else ", ".join(chosen[:-1]) + " and " + chosen[-1]


def _axis(spec: Spec, index: tuple[int, ...], low: int, high: int) -> Axis:
    tried = tuple(classify(spec, _dims(spec, index, n), n) for n in range(low, high + 1))
    return Axis(_axis_name(spec, index), index, spec.input[index[0]], tried)


Nearest = tuple[Tried | None, Tried | None]
"""The closest size at or below a target, and at or above it (None: none within the limit)."""


def near(spec: Spec, axis: Axis, target: int, fit: Fit, *, limit: int = 256) -> Nearest:
    """The closest sizes at or below and at or above `target` that are exact (or work), searching at
    most `limit` sizes each way beyond those already tried."""
    known = {t.size: t for t in axis.tried}

    def ok(n: int) -> bool:
        t = known.get(n) or classify(spec, _dims(spec, axis.index, n), n)
        known[n] = t
        good = (Fit.EXACT,) if fit is Fit.EXACT else (Fit.EXACT, Fit.WORKS)
        return t.fit in good

    lowest = max(0, min(target, min(known, default=target)) - limit)
    highest = max(target, max(known, default=target)) + limit
    below = next((known[n] for n in range(target, lowest, -1) if ok(n)), None)
    above = next((known[n] for n in range(target, highest + 1) if ok(n)), None)
    return below, above


def rule(sizes: Sequence[int], low: int, high: int, given: int) -> str | None:
    """The sizes in closed form, as far as the range shows: `every size`, `multiples of 32`,
    `572 + 16k`, with `from 140` when they start inside the range; None when no step describes them."""
    if not sizes:
        return None
    if list(sizes) == list(range(low, high + 1)):
        return "every size"
    if list(sizes) == list(range(sizes[0], high + 1)) and sizes[0] > low:
        return f"every size from {sizes[0]}"
    if len(sizes) < 2:
        return None
    step = math.gcd(*(b - a for a, b in itertools.pairwise(sizes)))
    if list(sizes) != list(range(sizes[0], sizes[-1] + 1, step)) or sizes[-1] + step <= high:
        return None
    starts = f", from {sizes[0]}" if sizes[0] - step >= low else ""
    r = sizes[0] % step
    if r == 0:
        return f"multiples of {step}{starts}"
    base = min(sizes, key=lambda n: (abs(n - given), n))  # the spec's own size, or the nearest
    return f"{base} + {step}k{starts}"


def _shown(sizes: Sequence[int], most: int = 12) -> str:
    if len(sizes) <= most:
        return ", ".join(map(str, sizes))
    half = most // 2
    return ", ".join(map(str, sizes[:half])) + ", ..., " + ", ".join(map(str, sizes[-half:]))


def text(s: Solved, nearest: dict[tuple[str, int, Fit], Nearest] | None = None) -> str:
    """The search as lines: per axis, the exact sizes and those that work, each rule and an output, why
    the others fail, and the nearest sizes to each target asked for."""
    spec = s.spec
    shown = "x".join(map(str, spec.input))
    lines = [f"{spec.file or 'spec'}: input {shown}, sizes {s.low} to {s.high} tried"]
    for axis in s.axes:
        lines.append(f"{axis.name}:")
        outputs = {t.size: t.output for t in axis.tried}
        for fit, what in (
            (Fit.EXACT, "every layer's size a whole number"),
            (Fit.WORKS, "PyTorch floors some layer, but no input is lost"),
        ):
            found = axis.sizes(fit)
            if not found:
                lines.append(f"  {fit.value}: none ({what})")
                continue
            if fit is Fit.WORKS and found == axis.sizes(Fit.EXACT):
                lines.append(f"  {fit.value}: the exact sizes only ({what})")
                continue
            closed = rule(found, s.low, s.high, axis.given)
            head = f"{closed}: " if closed else ""
            lines.append(f"  {fit.value} ({what}): {head}{_shown(found)} ({fm.plural(len(found), 'size')})")
            sample = axis.given if axis.given in found else found[0]
            lines.append(f"    {sample} -> {outputs[sample]}")
        fails = [t for t in axis.tried if t.fit is Fit.FAILS]
        if fails:
            lines.append(f"  fails: {fm.plural(len(fails), 'size')}, e.g. {fails[0].size} ({fails[0].why})")
        for (name, target, fit), (below, above) in (nearest or {}).items():
            if name == axis.name:
                lines.append(
                    f"  nearest {fit.value} to {target}: {_either(below)} below, {_either(above)} above"
                )
    return "\n".join(lines) + "\n"


def to_json(s: Solved, nearest: dict[tuple[str, int, Fit], Nearest] | None = None) -> dict[str, object]:
    """The JSON contract: per axis, each fit's sizes and rule, the outputs, and the nearest sizes."""
    axes = []
    for axis in s.axes:
        entry: dict[str, object] = {"axis": axis.name, "input_index": list(axis.index), "given": axis.given}
        for fit in (Fit.EXACT, Fit.WORKS):
            found = axis.sizes(fit)
            entry[fit.value] = {"rule": rule(found, s.low, s.high, axis.given), "sizes": found}
        entry["fails"] = [{"size": t.size, "why": t.why} for t in axis.tried if t.fit is Fit.FAILS]
        entry["outputs"] = {str(t.size): list(t.output.dims) for t in axis.tried if t.output is not None}
        entry["nearest"] = [
            {"target": target, "fit": fit.value, "below": _record(below), "above": _record(above)}
            for (name, target, fit), (below, above) in (nearest or {}).items()
            if name == axis.name
        ]
        axes.append(entry)
    return {
        "version": JSON_VERSION,
        "file": s.spec.file,
        "input": list(s.spec.input),
        "range": [s.low, s.high],
        "axes": axes,
    }


def nearest_all(s: Solved, targets: Sequence[int]) -> dict[tuple[str, int, Fit], Nearest]:
    """The nearest exact and working sizes to each target, on each axis."""
    return {
        (axis.name, target, fit): near(s.spec, axis, target, fit)
        for axis in s.axes
        for target in targets
        for fit in (Fit.EXACT, Fit.WORKS)
    }


def _either(t: Tried | None) -> str:
    """588 (-> 404x404x2), or none."""
    if t is None:
        return "none"
    return f"{t.size} (-> {t.output})" if t.output is not None else str(t.size)


def _record(t: Tried | None) -> dict[str, object] | None:
    return None if t is None else {"size": t.size, "output": list(t.output.dims) if t.output else None}
