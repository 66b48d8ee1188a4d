"""Walk a spec's layers and compute every shape, count and receptive field; pure, no I/O."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from itertools import pairwise
from math import gcd

from . import formulas as fm
from . import kinds
from .errors import SpecError
from .inputs import Source, check_rank
from .model import Axis, Code, Field, Finding, Layer, Layout, Network, Resolved, Shape, Sizing, Spec
from .rules import diagnose

MAX_DIMS = 4
"""An input has at most 3 spatial axes and channels."""


def resolve_layer(
    index: int, layer: Layer, inputs: Shape | tuple[Shape, ...], *, file: str | None = None
) -> Resolved:
    """One layer's output shape, parameters, FC-equivalent and MACs for its input shapes (its kind's rule)."""
    return kinds.of(layer).resolve(
        index, layer, inputs if isinstance(inputs, tuple) else (inputs,), file=file
    )


def field(r: Resolved, before: tuple[Field, ...] | None) -> tuple[Field, ...] | None:
    """The receptive field of a layer's outputs from that of its input (Araujo et al., 2019).

    Numbers stay ints (fast, exact) until a transposed layer makes the jump a fraction.
    """
    if before is None or not r.output.spatial:
        return None
    return kinds.of(r.layer).field(r, before)


_PERIOD_LIMIT = 1 << 16
"""Units in one period of an axis's field pattern beyond which the exact walk gives up."""

_TAP_BUDGET = 1_000_000
"""Input units looked at per axis before the exact walk gives up and keeps the closed form."""

Span = tuple[int, int] | None
"""The first and last network input pixel a unit sees; None when it reads no input at all."""


class _Unbounded(Exception):
    """The exact walk would take too long: keep the closed form from here on."""


class _Pattern:
    """Every unit's span on one axis, stored for one period: span(y + period) = span(y) + shift."""

    def __init__(self, spans: list[Span], shift: int) -> None:
        self.spans, self.period, self.shift = spans, len(spans), shift
        seen = [s for s in spans if s is not None]
        if seen:
            seen.append((seen[0][0] + shift, seen[0][1] + shift))
        self.monotone = all(a[0] <= b[0] and a[1] <= b[1] for a, b in pairwise(seen))

    def __call__(self, x: int) -> Span:
        turns, at = divmod(x, self.period)
        s = self.spans[at]
        return None if s is None else (s[0] + turns * self.shift, s[1] + turns * self.shift)


def _taps(a: Axis, y: int) -> tuple[int, int, int]:
    """The input units output unit y reads, in increasing order: the first, the step and how many."""
    if not a.transposed:
        return y * a.stride - a.pad, a.dilation, a.size
    # Output y sits at y + P_b on the uncropped grid, where input x and tap k land at x S + k D.
    at, g = y + a.pad, gcd(a.dilation, a.stride)
    if at % g:
        return 0, 1, 0
    period = a.stride // g
    k = (at // g) * pow(a.dilation // g, -1, period) % period
    if k >= a.size:
        return 0, 1, 0
    count = (a.size - 1 - k) // period + 1
    last_k = k + (count - 1) * period
    return (at - last_k * a.dilation) // a.stride, a.dilation // g, count


def _next(a: Axis, before: _Pattern) -> tuple[int, int]:
    """The period and shift of the pattern after `a`."""
    if a.transposed:  # y + S P moves every tap by P units of the input
        return a.stride * before.period, before.shift
    g = gcd(before.period, a.stride)
    return before.period // g, before.shift * (a.stride // g)


def _axis_fields(base: Field, axes: list[Axis], outs: list[int]) -> list[tuple[int, int | None] | None]:
    """The widest field among each layer's units and unit 0's start, by walking one period of
    every unit's first and last input pixel through the layers; None where the walk gives up."""
    start, size, jump = int(base.start), int(base.size), int(base.jump)
    before = _Pattern([(start, start + size - 1)], jump)
    found: list[tuple[int, int | None] | None] = []
    budget = _TAP_BUDGET
    try:
        for k, a in enumerate(axes):
            period, shift = _next(a, before)
            last = k == len(axes) - 1
            units = min(period, max(outs[k], 1)) if last else period
            if units > _PERIOD_LIMIT:
                raise _Unbounded
            spans: list[Span] = []
            for y in range(units):
                x, step, count = _taps(a, y)
                if before.monotone:  # the outermost taps that see input decide the span
                    i, j = 0, count - 1
                    while i <= j and (lo := before(x + i * step)) is None:
                        i += 1
                    while j > i and (hi := before(x + j * step)) is None:
                        j -= 1
                    budget -= i + count - j
                    spans.append(None if i > j else (lo[0], (lo if i == j else hi)[1]))  # type: ignore[index]
                else:
                    seen = [s for s in map(before, range(x, x + count * step, step)) if s is not None]
                    budget -= count
                    spans.append((min(s[0] for s in seen), max(s[1] for s in seen)) if seen else None)
                if budget < 0:
                    raise _Unbounded
            # Past one period the pattern repeats, shifted: the widest is within it.
            real = [s for s in spans[: outs[k]] if s is not None]
            widest = max((s[1] - s[0] + 1 for s in real), default=None)
            found.append(None if widest is None else (widest, None if spans[0] is None else spans[0][0]))
            if not last:
                before = _Pattern(spans, shift)
    except _Unbounded:
        found += [None] * (len(axes) - len(found))
    return found


def _shift(r: Resolved) -> tuple[Axis, ...]:
    """A layer without a window that moves its output against its input (pad, crop), as 1-wide windows
    padded by the shift, for the exact walk; () when it moves nothing."""
    unit = tuple(Field(1, 1, 0) for _ in r.input.spatial)
    moved = kinds.of(r.layer).field(r, unit) if unit and r.output.positive else None
    if moved is None or all(f == (1, 1, 0) for f in map(_triple, moved)):
        return ()
    return tuple(
        Axis(n=n, size=1, stride=1, pad=-int(f.start), out=o)
        for n, f, o in zip(r.input.spatial, moved, r.output.spatial, strict=True)
    )


def _triple(f: Field) -> tuple[int | Fraction, ...]:
    return (f.size, f.jump, f.start)


def _walk(a: Axis, before: _Pattern, budget: list[int]) -> _Pattern:
    """One layer's pattern from its input's: every unit of one period, its first and last input pixel."""
    period, shift = _next(a, before)
    if period > _PERIOD_LIMIT:
        raise _Unbounded
    spans: list[Span] = []
    for y in range(period):
        x, step, count = _taps(a, y)
        seen = [s for s in map(before, range(x, x + count * step, step)) if s is not None]
        budget[0] -= count
        if budget[0] < 0:
            raise _Unbounded
        spans.append((min(s[0] for s in seen), max(s[1] for s in seen)) if seen else None)
    return _Pattern(spans, shift)


def _joined(patterns: list[_Pattern]) -> _Pattern:
    """A merge's pattern: each unit sees what it sees through any input (periods brought to their lcm)."""
    from math import lcm

    period = lcm(*(p.period for p in patterns))
    if period > _PERIOD_LIMIT or len({p.shift * (period // p.period) for p in patterns}) != 1:
        raise _Unbounded  # inputs that step differently: no common period to walk
    spans: list[Span] = []
    for y in range(period):
        seen = [s for s in (p(y) for p in patterns) if s is not None]
        spans.append((min(s[0] for s in seen), max(s[1] for s in seen)) if seen else None)
    return _Pattern(spans, patterns[0].shift * (period // patterns[0].period))


def graph_fields(spec: Spec, layers: tuple[Resolved, ...], first: Shape) -> tuple[Resolved, ...]:
    """Exact fields in a graph after its first transposed layer, as `exact_fields` finds them in a chain:
    each layer's pattern of spans from its inputs' (a merge joins them), the widest over the units of
    a period, and unit 0's start. Layers whose walk would take too long keep the closed form."""
    at = next((r.index for r in layers if any(a.transposed for a in r.axes)), None)
    if at is None or not first.spatial:
        return layers
    unit = tuple(Field(1, 1, 0) for _ in first.spatial)

    def closed(index: int) -> list[_Pattern] | None:
        fields = layers[index - 1].field if index else unit
        if fields is None or any(type(f.size) is not int or type(f.jump) is not int for f in fields):
            return None
        return [_Pattern([(int(f.start), int(f.start) + int(f.size) - 1)], int(f.jump)) for f in fields]

    patterns: dict[int, list[_Pattern] | None] = {}
    budget = [_TAP_BUDGET * len(first.spatial)]
    out = list(layers)
    for r in layers[at - 1 :]:
        ins = [patterns[s] if s >= at else closed(s) for s in spec.sources(r.index)]
        made: list[_Pattern] | None = None
        if r.field is not None and r.output.positive and all(p is not None for p in ins):
            known = [p for p in ins if p is not None]
            steps = r.axes or _shift(r)
            unchanged = not steps and kinds.of(r.layer).field(r, unit) == unit
            try:
                if len(known) > 1:
                    made = [_joined([p[j] for p in known]) for j in range(len(unit))]
                elif steps:
                    made = [_walk(a, known[0][j], budget) for j, a in enumerate(steps)]
                elif unchanged:
                    made = known[0]
            except _Unbounded:
                made = None
        patterns[r.index] = made
        if made is not None and r.field is not None:
            fields = []
            for f, p, n in zip(r.field, made, r.output.spatial, strict=True):
                real = [s for s in p.spans[: max(n, 1)] if s is not None]
                widest = max((s[1] - s[0] + 1 for s in real), default=None)
                start = p.spans[0][0] if p.spans[0] is not None else f.start
                fields.append(f if widest is None else Field(size=widest, jump=f.jump, start=start))
            out[r.index - 1] = _with_field(r, tuple(fields))
    return tuple(out)


def exact_fields(layers: list[Resolved]) -> list[Resolved]:
    """Receptive fields after a transposed layer, where neighbouring units' fields step by 0 or 1
    pixels (or some units read nothing) rather than by a fractional jump: the widest field and
    unit 0's start, by walking every unit's first and last input pixel through the layers (exact,
    as the closed form is for strided layers alone)."""
    at = next((i for i, r in enumerate(layers) if any(a.transposed for a in r.axes)), None)
    if at is None or layers[at].field is None:
        return layers
    ndim = len(layers[at].input.spatial)
    base = layers[at - 1].field if at else tuple(Field(1, 1, 0) for _ in range(ndim))
    if base is None:
        return layers
    span = [r for r in layers[at:] if r.field is not None]
    steps = {r.index: r.axes or _shift(r) for r in span}
    windowed = [r for r in span if steps[r.index]]
    per_axis = [
        _axis_fields(base[j], [steps[r.index][j] for r in windowed], [r.output.spatial[j] for r in windowed])
        for j in range(ndim)
    ]
    exact: dict[int, tuple[Field, ...]] = {}
    for n, r in enumerate(windowed):
        assert r.field is not None
        exact[r.index] = tuple(
            f if got is None else Field(size=got[0], jump=f.jump, start=f.start if got[1] is None else got[1])
            for f, got in zip(r.field, (per_axis[j][n] for j in range(ndim)), strict=True)
        )
    out = list(layers[:at])
    latest: tuple[Field, ...] | None = None
    for r in layers[at:]:
        if r.field is None:
            out.append(r)
            continue
        latest = exact.get(r.index, latest)
        out.append(_with_field(r, latest) if latest is not None else r)
    return out


def resolve(
    spec: Spec,
    *,
    input: tuple[int, ...] | None = None,
    sizing: Sizing | None = None,
    layout: Layout | None = None,
    source: Source | None = None,
    input_fixes: bool = True,
) -> Network:
    """Resolve every layer of a spec, stopping after a layer with no output.

    `input` and `layout` replace the spec's (an input of another rank is refused); `source` names
    the options they came from, for fixes (by default `--input` when an input is given). Without
    `input_fixes`, a merge whose inputs disagree is not given the nearest network inputs that fit (each a
    whole expansion of the graph: `solve`, which tries every size itself, does without).
    """
    if source is None:
        source = Source(input_flag="--input" if input is not None else None)
    layout = layout or spec.layout
    if input is not None:
        check_rank(spec, input, layout, source.input_flag or "the input")
    dims = input or spec.input
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise SpecError(f"the input must be positive integers like (32, 32, 3), got {dims!r}", file=spec.file)
    if len(dims) > MAX_DIMS:
        raise SpecError(
            f"the input has {len(dims)} numbers; expected 1 to {MAX_DIMS} "
            "(up to 3 spatial axes and channels)",
            file=spec.file,
        )
    first = shape = Shape.read(dims, layout)
    rf: tuple[Field, ...] | None = tuple(Field(1, 1, 0) for _ in first.spatial) or None
    if spec.program is not None:
        program = spec
        spec, layers = _expand(spec, first, layout)
        findings = diagnose(spec, dims, first, tuple(layers), layout=layout, source=source)
        if input_fixes:
            findings = _with_input_fixes(findings, program, first, layout, source)
        return _budgeted(
            Network(
                spec=spec, input=first, layers=tuple(layers), findings=findings, sizing=sizing or Sizing()
            )
        )
    chain: list[Resolved] = []
    for index, layer in enumerate(spec.layers, start=1):
        resolved = resolve_layer(index, layer, (shape,), file=spec.file)
        rf = field(resolved, rf) if resolved.output.positive else None
        if rf is not None:
            resolved = _with_field(resolved, rf)
        chain.append(resolved)
        if any(o < 1 for o in resolved.output.spatial):
            break
        shape = resolved.output
    layers = tuple(exact_fields(chain))
    findings = diagnose(spec, dims, first, layers, layout=layout, source=source)
    return _budgeted(
        Network(spec=spec, input=first, layers=layers, findings=findings, sizing=sizing or Sizing())
    )


def _budgeted(net: Network) -> Network:
    """The network with an over-budget finding for each total of the spec's budget it exceeds (when every
    layer has an output: a partial network's totals mean nothing)."""
    if not net.spec.budget or len(net.layers) != len(net.spec.layers) or not net.output.positive:
        return net
    from .budget import over

    return replace(net, findings=(*net.findings, *over(net)))


def _expand(spec: Spec, first: Shape, layout: Layout) -> tuple[Spec, tuple[Resolved, ...]]:
    """A program's layers, resolved, with their receptive fields; and the spec they make."""
    from . import graph

    assert spec.program is not None
    made = graph.expand(spec.program, first, layout, spec.file)
    spec = replace(spec, layers=tuple(made.layers), inputs=tuple(made.inputs), groups=tuple(made.groups))
    fields: list[tuple[Field, ...] | None] = [tuple(Field(1, 1, 0) for _ in first.spatial) or None]
    layers = []
    for r, sources in zip(made.resolved, made.inputs, strict=True):
        before = _union([fields[s] for s in sources])
        rf = field(r, before) if r.output.positive else None
        fields.append(rf)
        layers.append(_with_field(r, rf) if rf is not None else r)
    return spec, graph_fields(spec, tuple(layers), first)


_MERGE_TRIES = 64
"""Network input sizes tried above and below the given one for a merge whose inputs disagree."""
_MERGE_BUDGET = 200_000
"""Layers resolved in all, at most, by those tries (a deep graph gets fewer)."""


def _with_input_fixes(
    findings: tuple[Finding, ...], spec: Spec, first: Shape, layout: Layout, source: Source
) -> tuple[Finding, ...]:
    """Merges whose inputs disagree get, besides their own fixes, the nearest network inputs below and
    above for which every merge's inputs agree (U-Net's skips at an input that pools to an odd size):
    each spatial axis moved by the same amount, the whole graph expanded again for each try."""
    from dataclasses import replace as with_

    if not first.spatial or not any(f.code is Code.MERGE_SHAPE_MISMATCH for f in findings):
        return findings
    found = []
    spent = 0
    for direction in (-1, 1):
        for k in range(1, _MERGE_TRIES + 1):
            dims = tuple(n + direction * k for n in first.spatial)
            if min(dims) < 1 or spent > _MERGE_BUDGET:
                break
            agrees, cost = _merges_agree(spec, Shape(dims, first.channels), layout)
            spent += cost
            if agrees:
                shape = fm.product(Shape(dims, first.channels).written(layout))
                found.append(f"{source.input_flag or 'input'} {shape}")
                break
    if not found:
        return findings
    return tuple(
        with_(f, fixes=(*f.fixes, *found)) if f.code is Code.MERGE_SHAPE_MISMATCH else f for f in findings
    )


def _merges_agree(spec: Spec, first: Shape, layout: Layout) -> tuple[bool, int]:
    """Whether every merge gets inputs that agree on this network input (and every layer an output),
    and the layers resolved to know."""
    from . import graph

    assert spec.program is not None
    try:
        made = graph.expand(spec.program, first, layout, spec.file)
    except SpecError:
        return False, 1
    ok = not made.stopped and not any(
        kinds.of(r.layer).MERGE and kinds.of(r.layer).refusals(r) for r in made.resolved
    )
    return ok, len(made.resolved)


def _union(fields: list[tuple[Field, ...] | None]) -> tuple[Field, ...] | None:
    """The field of a merge: every input pixel that any of its inputs sees (None once one sees all)."""
    if len(fields) == 1 or any(f is None for f in fields):
        return fields[0] if len(fields) == 1 else None
    known = [f for f in fields if f is not None]
    if len({len(f) for f in known}) != 1:
        return None
    out = []
    for axis in zip(*known, strict=True):
        start = min(f.start for f in axis)
        end = max(f.start + (f.size - 1) for f in axis)
        out.append(Field(size=end - start + 1, jump=max(f.jump for f in axis), start=start))
    return tuple(out)


def _with_field(r: Resolved, rf: tuple[Field, ...]) -> Resolved:
    return Resolved(
        r.index,
        r.layer,
        r.input,
        r.output,
        r.axes,
        r.params,
        r.fc_params,
        r.macs,
        r.non_trainable,
        rf,
        r.others,
    )
