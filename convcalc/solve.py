"""Solving one axis for a setting: the filters, strides and pads that give a wanted output size."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import arith
from . import formulas as fm
from .formats import Format, unhandled

Target = int | Literal["same"]
"""A wanted output size, or `same`: TensorFlow's ceil(N/S), which is N at stride 1."""

FILTERS = (1, 11)
"""The filter sizes tried when none is given."""

JSON_VERSION = 1

MAX_TRIED = 200_000
"""Settings a search may try; a wider one (a huge filter or dilation) asks for more options."""


class TooBroad(ValueError):
    """The search would try more settings than MAX_TRIED."""


class Fit(enum.Enum):
    """How a solution reaches its output size."""

    EXACT = "exact"
    FLOOR = "floor"


@dataclass(frozen=True, slots=True)
class Solution:
    """A setting that gives the wanted output size without dropping input."""

    size: int
    stride: int
    pad: int
    dilation: int
    out: int
    """The output size PyTorch gives, equal to the target."""
    kind: Fit
    exact: float
    """The unrounded (N + 2P - E)/S + 1."""


@dataclass(frozen=True, slots=True)
class Search:
    """What was asked, the ranges searched and every solution found, best first."""

    n: int
    out: Target
    given: Mapping[str, int]
    """The settings given, by option name (filter, stride, pad), and always the dilation."""
    bounds: Mapping[str, tuple[int, int]]
    """Lowest and highest value tried of each setting; stride and pad also stop at E and D(F-1)."""
    solutions: tuple[Solution, ...]

    @property
    def exact(self) -> bool:
        """Whether any solution fits exactly."""
        return any(s.kind is Fit.EXACT for s in self.solutions)


def parse_target(text: str) -> Target:
    """`same` or a positive integer; ValueError if neither."""
    if text.strip().lower() == "same":
        return "same"
    if not (text.strip().isascii() and text.strip().isdigit() and int(text) > 0):
        raise ValueError(f"expected a positive integer or 'same', got {text!r}")
    return int(text)


def target(*, n: int, stride: int, out: Target) -> int:
    """The output size wanted at this stride."""
    return -(-n // stride) if out == "same" else int(out)


def _pads(n: int, extent: int, stride: int, t: int) -> range:
    """The pads, within 0 to D(F-1), whose floored output is t: S(t-1) <= N + 2P - E < St."""
    low = (stride * (t - 1) - n + extent + 1) // 2
    high = (stride * t - 1 - n + extent) // 2
    return range(max(low, 0), min(high, extent - 1) + 1)


def _count(r: range) -> int:
    """len(r) for a step-1 range of any size (len() stops at 2**63)."""
    return max(0, r.stop - r.start)


def _solution(n: int, size: int, stride: int, pad: int, dilation: int, out: Target) -> Solution | None:
    """The setting as a solution, or None if it misses the target or drops input."""
    a = arith.axis(n=n, size=size, stride=stride, pad=pad, dilation=dilation)
    if a.out < 1 or a.out != target(n=n, stride=stride, out=out) or arith.drops_input(a):
        return None
    kind = Fit.FLOOR if a.fractional else Fit.EXACT
    return Solution(size, stride, pad, dilation, a.out, kind, a.exact)


def search(
    *,
    n: int,
    out: Target,
    size: int | None = None,
    stride: int | None = None,
    pad: int | None = None,
    dilation: int = 1,
) -> Search:
    """Every setting of the missing ones (None) that takes n to out; exact ones first."""
    sizes = range(size, size + 1) if size is not None else range(FILTERS[0], FILTERS[1] + 1)

    def strides(extent: int) -> range:
        return range(stride, stride + 1) if stride is not None else range(1, extent + 1)

    def pads(extent: int, s: int) -> range:
        return range(pad, pad + 1) if pad is not None else _pads(n, extent, s, target(n=n, stride=s, out=out))

    extents = [dilation * (f - 1) + 1 for f in sizes]
    pairs = sum(_count(strides(e)) for e in extents)
    if pairs > MAX_TRIED:
        raise TooBroad(f"{pairs:,} filter and stride pairs to try (more than {MAX_TRIED:,}); give --stride")
    tried = sum(_count(pads(e, s)) for e in extents for s in strides(e))
    if tried > MAX_TRIED:
        raise TooBroad(f"{tried:,} settings to try (more than {MAX_TRIED:,}); give --stride or --pad")
    found = []
    for f, extent in zip(sizes, extents, strict=True):
        for s in strides(extent):
            for p in pads(extent, s):
                solution = _solution(n, f, s, p, dilation, out)
                if solution is not None:
                    found.append(solution)
    found.sort(key=lambda x: (x.kind is Fit.FLOOR, x.pad, x.stride, x.size))
    widest = dilation * (sizes[-1] - 1) + 1
    given = {"filter": size, "stride": stride, "pad": pad}
    bounds = {
        "filter": (sizes[0], sizes[-1]),
        "stride": (stride, stride) if stride is not None else (1, widest),
        "pad": (pad, pad) if pad is not None else (0, widest - 1),
        "dilation": (dilation, dilation),
    }
    known = {k: v for k, v in {**given, "dilation": dilation}.items() if v is not None}
    return Search(n=n, out=out, given=known, bounds=bounds, solutions=tuple(found))


def solutions(
    *,
    n: int,
    out: Target,
    size: int | None = None,
    stride: int | None = None,
    pad: int | None = None,
    dilation: int = 1,
) -> tuple[Solution, ...]:
    """The solutions alone, for a fix: exact ones first, then floor ones that lose only padding."""
    return search(n=n, out=out, size=size, stride=stride, pad=pad, dilation=dilation).solutions


def _decimals(value: float) -> str:
    """55.25, or more decimals when two would make a fraction look whole."""
    text, digits = fm.exact(value), 2
    while "." not in text and value != int(value) and digits < 9:
        digits += 1
        text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text


def _ask(r: Search) -> str:
    """input 7 -> output 3 with pad 0-2 (filter 3, stride 3, dilation 1)."""
    stride = r.given.get("stride")
    wanted = str(r.out)
    if r.out == "same":
        wanted = f"same = ceil({r.n}/{stride or 'S'})" + (f" = {-(-r.n // stride)}" if stride else "")
    rules = {"filter": "1-11", "stride": "1-E", "pad": "0-D(F-1)"}
    if "filter" in r.given:
        rules = {k: f"{lo}-{hi}" for k, (lo, hi) in r.bounds.items()}
    missing = [f"{k} {rules[k]}" for k in ("filter", "stride", "pad") if k not in r.given]
    known = ", ".join(f"{k} {v}" for k, v in r.given.items())
    setting = known
    if missing:
        listed = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
        setting = f"{listed} ({known})"
    return f"input {r.n} -> output {wanted} with {setting}"


COLUMNS = ("filter", "stride", "pad", "dilation", "output", "kind", "exact_output")


def records(r: Search) -> list[dict[str, Any]]:
    """One JSON object per solution, keyed by COLUMNS; the exact size rounded as `run` rounds it."""
    from .present import exact_number

    return [
        dict(
            zip(
                COLUMNS,
                (s.size, s.stride, s.pad, s.dilation, s.out, s.kind.value, exact_number(s.exact)),
                strict=True,
            )
        )
        for s in r.solutions
    ]


def text(r: Search, *, markdown: bool = False) -> str:
    """What was asked, then an aligned table (or Markdown) with the exact value of floor ones."""
    if not r.solutions:
        return f"no solution: {_ask(r)}" + ("" if "filter" in r.given else ", E = D(F-1) + 1") + "\n"
    lines = [_ask(r)]
    if not r.exact:
        lines.append("no exact answer; PyTorch floors these, leaving only padding unused:")
    header = (*COLUMNS[:-1], "exact")
    table = [
        (
            *map(str, (s.size, s.stride, s.pad, s.dilation, s.out)),
            s.kind.value,
            _decimals(s.exact) if s.kind is Fit.FLOOR else "",
        )
        for s in r.solutions
    ]
    if markdown:
        lines += ["", "| " + " | ".join(header) + " |", "|---:" * 5 + "|---|---:|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in table]) + "\n"
    widths = [max(len(row[i]) for row in (header, *table)) for i in range(len(header))]
    for row in (header, *table):
        cells = (
            c.rjust(w) if i < 5 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def to_json(r: Search) -> dict[str, Any]:
    """The JSON contract: version, input, target, solutions and the bounds searched."""
    bounds = {k: list(v) for k, v in r.bounds.items()}
    return {"version": JSON_VERSION, "input": r.n, "target": r.out, "solutions": records(r), "bounds": bounds}


def render(r: Search, fmt: Format) -> str:
    """The search in one of the shared formats: table, json (one line per solution), markdown or csv."""
    if fmt is Format.JSON:
        from .present import json_text

        return json_text(to_json(r)) + "\n"
    if fmt is Format.CSV:
        lines = [",".join(COLUMNS), *(",".join(str(v) for v in item.values()) for item in records(r))]
        return "\n".join(lines) + "\n"
    if fmt in (Format.TABLE, Format.MARKDOWN):
        return text(r, markdown=fmt is Format.MARKDOWN)
    unhandled(fmt, "solve")
