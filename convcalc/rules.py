"""The rules: what is wrong or worth knowing about a resolved stack, and how to fix it."""

from __future__ import annotations

from dataclasses import replace
from math import gcd

from . import arith, kinds
from . import formulas as fm
from .fixes import INPUT_BUDGET, holes, input_fixes, pad_fix, same_output_fixes, stride_fixes
from .inputs import Source, misreading
from .kinds.window import Conv, Deconv, Pool
from .model import (
    Axis,
    Code,
    Finding,
    Group,
    Layout,
    Margins,
    PoolMode,
    Refusal,
    Resolved,
    Severity,
    Shape,
    Spec,
)


def _finding(
    spec: Spec,
    r: Resolved,
    severity: Severity,
    code: Code,
    message: str,
    *,
    key: str | None = None,
    fixes: tuple[str, ...] = (),
    brief: str | None = None,
) -> Finding:
    line, column = r.layer.where.of(key) if key else (r.layer.where.line, r.layer.where.column)
    return Finding(
        severity=severity,
        code=code,
        message=f"{r.layer.name}: {message}",
        file=r.layer.where.file or spec.file,
        line=line,
        column=column,
        layer=r.index,
        layer_name=r.layer.name,
        fixes=fixes,
        brief=brief,
    )


def _lost_text(axes: tuple[Axis, ...]) -> str:
    names = fm.AXIS_NAMES[len(axes)]
    parts = [
        fm.plural(a.lost, f"input {name}")
        for name, a in zip(names, axes, strict=True)
        if arith.drops_input(a)
    ]
    return " and ".join(parts)


_UNUSED = {
    "up": ("the last window runs past the input", "a ceil-mode overhang"),
    "pad": ("only padding goes unused past the last window", "unused padding"),
    "gap": (
        "the pixels after the last window fall in the stride's regular gap, like every other gap",
        "a stride gap at the end",
    ),
}
"""Why nothing is lost, in a sentence and in a few words, by case."""


def _unused(axes: tuple[Axis, ...]) -> list[str]:
    """Why flooring loses nothing, axis by axis: a ceil-mode overhang, padding, or the stride's own gap."""
    reasons = []
    for a in axes:
        if a.fractional:
            reasons.append("up" if fm.rounded_up(a) else "pad" if a.lost == 0 else "gap")
    return list(dict.fromkeys(reasons))


def _unused_text(axes: tuple[Axis, ...]) -> str:
    return " and ".join(_UNUSED[k][0] for k in _unused(axes))


def _unused_brief(axes: tuple[Axis, ...]) -> str:
    """unused padding at stride 2: the note in a few words."""
    strides = fm.setting([a.stride for a in axes])
    return " and ".join(_UNUSED[k][1] for k in _unused(axes)) + f" at stride {strides}"


def _within(r: Resolved, margins: Margins) -> tuple[Axis, ...]:
    """The layer's axes as they meet the data: rows that an earlier pad layer added count as padding."""
    if not margins or len(margins) != len(r.axes) or r.axes[0].transposed:
        return r.axes
    return tuple(
        replace(a, n=a.n - b - e, pad=a.pad + b, pad_end=a.end_pad + e) if (b or e) and a.n > b + e else a
        for a, (b, e) in zip(r.axes, margins, strict=True)
    )


def _fractional(
    spec: Spec,
    first: Shape,
    layers: tuple[Resolved, ...],
    r: Resolved,
    *,
    budget: int = INPUT_BUDGET,
    seen: tuple[Axis, ...] | None = None,
) -> Finding:
    """A size that is not a whole number: an error when input is dropped, a note when only padding goes
    unused; `seen` is the axes as they meet the data (a pad layer's rows are padding), else the layer's."""
    seen = seen or r.axes
    names = fm.AXIS_NAMES[len(r.axes)]
    texts = [
        (n, f"{fm.size_expr(a)} = {fm.ratio(a)}") for n, a in zip(names, r.axes, strict=True) if a.fractional
    ]
    if len(texts) == len(r.axes) and len({t for _, t in texts}) == 1:
        formula = texts[0][1]
    else:
        formula = "; ".join(f"{n}s: {t}" for n, t in texts)
    message = f"{formula} is not a whole number; {fm.rounded_to(r.axes, fm.spatial(r.output))}"
    if not any(arith.drops_input(a) for a in seen):
        # Nothing is lost: a fix may only say how to make the windows fit with the same output.
        message += f", but no input is lost: {_unused_text(seen)}"
        if seen != r.axes:
            message += " (an earlier pad layer's)"
        fixes = same_output_fixes(r)
        brief = _unused_brief(seen)
        return _finding(spec, r, Severity.INFO, Code.FRACTIONAL_SIZE, message, fixes=fixes, brief=brief)
    message += f" and silently drops {_lost_text(seen)}"
    pad, no_pad = pad_fix(r)
    inputs = input_fixes(spec, first, layers[: r.index - 1], r, budget=budget) if not spec.inputs else []
    fixes = tuple(f for f in (pad, *stride_fixes(r), *inputs) if f)  # a graph's input search: issue 16
    if no_pad:
        message += f" ({no_pad})"
    return _finding(spec, r, Severity.ERROR, Code.FRACTIONAL_SIZE, message, fixes=fixes)


def _non_positive(spec: Spec, r: Resolved, rest: int, layout: Finding | None = None) -> Finding:
    bad = next(a for a in r.axes if a.out < 1)
    if bad.transposed:
        message = (
            f"output size {fm.size_expr(bad)} = {bad.out}: the padding cropped "
            f"({bad.pad + bad.end_pad}) leaves nothing of the {bad.out + bad.pad + bad.end_pad} "
            "scattered outputs; PyTorch refuses it"
        )
    else:
        message = (
            f"output size {fm.size_expr(bad)} = {fm.ratio(bad)}, no output: the window "
            f"({bad.extent}) is larger than the padded input ({bad.n + bad.pad + bad.end_pad}); "
            "PyTorch refuses it"
        )
    if rest:
        message += f"; the {fm.plural(rest, 'layer')} after it could not be resolved"
    fixes: list[str] = []
    if layout is not None:  # the input is likely misread: padding it would only hide that
        message += "; the input looks misread (see the suspicious-layout warning)"
        fixes.extend(layout.fixes)
    elif isinstance(r.layer, Conv):
        pad = max(0, (bad.extent - bad.n + 1) // 2)
        fixes.append(f"pad {pad}")
    return _finding(spec, r, Severity.ERROR, Code.NON_POSITIVE_SIZE, message, fixes=tuple(fixes))


def _refused(spec: Spec, r: Resolved, x: Refusal, rest: int) -> Finding:
    """What PyTorch refuses of the layer, as its kind says, as an error at the key it is about (or
    what else the kind says of it, at its own severity)."""
    message = x.message
    if x.empty and rest:
        message += f"; the {fm.plural(rest, 'layer')} after it could not be resolved"
    return _finding(spec, r, x.severity, x.code, message, key=x.key, fixes=x.fixes, brief=x.brief)


def _not_in_pytorch(spec: Spec, r: Resolved) -> Finding | None:
    """Padding PyTorch's layers cannot take: a different amount before and after an axis."""
    uneven = [
        (name, a) for name, a in zip(fm.AXIS_NAMES[len(r.axes)], r.axes, strict=True) if not a.symmetric
    ]
    if not uneven:
        return None
    sides = ", ".join(f"{a.pad} before and {a.end_pad} after the {name}s" for name, a in uneven)
    fixes: tuple[str, ...] = ()
    if isinstance(r.layer, Deconv):
        how = "PyTorch's ConvTranspose crops alike on both sides; crop the output yourself"
    elif isinstance(r.layer, Pool) and r.layer.mode is PoolMode.AVG and not r.layer.count_pad:
        how = (
            "PyTorch's pools pad alike on both sides, and zeros from F.pad would count in the divisor; "
            "average the real pixels only as avg_pool(F.pad(x)) / avg_pool(F.pad(ones)), padding 0"
        )
    elif isinstance(r.layer, Pool):
        how = (
            "PyTorch's pools pad alike on both sides; pad first with F.pad (value -inf for a max pool) "
            "and pool with padding 0"
        )
    else:
        how = "PyTorch's convolutions pad alike on both sides"
        # ZeroPad takes (left, right, top, bottom, front, back): the last axis first.
        order = ", ".join(f"{a.pad}, {a.end_pad}" for a in reversed(r.axes))
        fixes = (f"nn.ZeroPad{len(r.axes)}d(({order})) before the layer, then padding 0",)
    message = f"the padding is uneven ({sides}); {how}"
    brief = "uneven padding"
    return _finding(spec, r, Severity.INFO, Code.NOT_IN_PYTORCH, message, key="pad", fixes=fixes, brief=brief)


def _caffe_rounding(spec: Spec, r: Resolved) -> Finding | None:
    """A pool with Caffe's rounding whose size PyTorch's ceil_mode computes otherwise, and how to get
    Caffe's in PyTorch: pad the end so that the window Caffe keeps starts on the last item, then ceil_mode
    (only that window reads the added items, so every window that reads input keeps its value)."""
    layer = r.layer
    if not isinstance(layer, Pool) or not layer.caffe or not r.axes:
        return None
    torch = tuple(fm.torch_ceil(a) for a in r.axes)
    if torch == r.output.spatial:
        return None
    head = f"Caffe's rounding gives {fm.spatial(r.output)} but PyTorch's ceil_mode gives {fm.product(torch)}"
    pairs = list(zip(torch, r.axes, strict=True))
    if any(a.out < t or a.out not in (t, -(-a.numerator // a.stride) + 1) for t, a in pairs):
        message = f"{head}: Caffe computes the size in float32, which rounds it at this size"
        return _finding(spec, r, Severity.WARNING, Code.CAFFE_ROUNDING, message, key="ceil")
    empty = "-FLT_MAX" if layer.mode is PoolMode.MAX else "0/0 (NaN) or 0 over a negative size"
    message = (
        f"{head}: with no pad on any axis, Caffe keeps a last window that starts past the input and "
        f"PyTorch drops it (that window reads no input: Caffe gives {empty} there)"
    )
    ends = [max(0, (a.out - 1) * a.stride - a.pad - a.n + 1) for a in r.axes]
    order = ", ".join(f"0, {e}" for e in reversed(ends))  # F.pad takes the last axis first
    value = ", value=-inf" if layer.mode is PoolMode.MAX else ""
    fix = f"in PyTorch: F.pad(x, ({order}){value}), then ceil_mode=True -> {fm.spatial(r.output)}"
    return _finding(spec, r, Severity.WARNING, Code.CAFFE_ROUNDING, message, key="ceil", fixes=(fix,))


def _layout(spec: Spec, dims: tuple[int, ...], layout: Layout, source: Source) -> Finding | None:
    found = misreading(dims, layout, source)
    if found is None:
        return None
    line, column = spec.input_where if source.input_flag is None else (None, None)
    return Finding(
        severity=Severity.WARNING,
        code=Code.SUSPICIOUS_LAYOUT,
        message=found[0],
        file=spec.file,
        line=line,
        column=column,
        fixes=found[1],
    )


def _skips(spec: Spec, r: Resolved) -> Finding | None:
    """Windows that leave input unread by design; a 1x1 window's subsampling is the idiom, not a slip."""
    if all(a.size == 1 for a in r.axes):
        return None
    groups: dict[str, list[str]] = {}
    for name, a in zip(fm.AXIS_NAMES[len(r.axes)], r.axes, strict=True):
        if holes(a):
            window = f"size {a.size}" + (f" and dilation {a.dilation}" if a.dilation > 1 else "")
            unread = f"windows of {window} at stride {a.stride} never read {holes(a)} of every {a.stride}"
            groups.setdefault(unread, []).append(f"{name}s")
    if not groups:
        return None
    message = "; ".join(f"{unread} input {' and '.join(names)}" for unread, names in groups.items())
    # No holes needs F >= S and D coprime to S: the largest such stride is near min(S, F).
    strides = [
        next(s for s in range(min(a.stride, a.size), 0, -1) if gcd(a.dilation, s) == 1) for a in r.axes
    ]
    fix = f"stride {fm.setting(strides)}"
    return _finding(spec, r, Severity.WARNING, Code.STRIDE_SKIPS_INPUT, message, key="stride", fixes=(fix,))


def _expect_mismatches(
    spec: Spec,
    r: Resolved | None,
    net_output: Shape,
    params: int,
    macs: int,
    *,
    group: Group | None = None,
) -> list[Finding]:
    """Compare what the author wrote under `expect` with what the layer, the block instance (`group`,
    whose last layer is `r`) or the network gives."""
    expect = group.expect if group is not None else spec.expect if r is None else r.layer.expect
    if expect is None:
        return []
    found = []
    checks: list[tuple[str, str | None, str]] = []
    if expect.output is not None:
        wanted = Shape.read(expect.output, spec.layout)
        checks.append(("output", None if wanted == net_output else str(wanted), str(net_output)))
    for key, actual in (("params", params), ("macs", macs)):
        value = getattr(expect, key)
        if value is not None:
            checks.append((key, None if value == actual else fm.number(value), fm.number(actual)))
    for key, wanted_text, actual_text in checks:
        if wanted_text is None:
            continue
        line, column = expect.where.get(key, (None, None))
        who = f"block {group.name}" if group is not None else "the network" if r is None else r.layer.name
        message = f"{who}: expected {key} {wanted_text} but it is {actual_text}"
        found.append(
            Finding(
                severity=Severity.ERROR,
                code=Code.EXPECT_MISMATCH,
                message=message,
                file=(group.file if group is not None else None) or spec.file,
                line=line if line is not None else (r.layer.where.line if r else None),
                column=column if column is not None else (r.layer.where.column if r else None),
                layer=r.index if r else None,
                layer_name=r.layer.name if r else None,
            )
        )
    return found


def diagnose(
    spec: Spec,
    dims: tuple[int, ...],
    first: Shape,
    layers: tuple[Resolved, ...],
    *,
    layout: Layout | None = None,
    source: Source | None = None,
) -> tuple[Finding, ...]:
    """Every finding about a resolved stack, in layer order; `dims` is the input as given, read in
    `layout` (the spec's unless overridden), and `source` says which options gave them.

    `expect:` values describe the spec's own input, so they are not checked when another is tried.
    """
    layout = layout or spec.layout
    misread = _layout(spec, dims, layout, source or Source())
    found: list[Finding | None] = [misread]
    asserted = dims == spec.input and layout is spec.layout
    misfits = sum(1 for r in layers if r.fractional and any(arith.drops_input(a) for a in r.axes))
    budget = INPUT_BUDGET // max(1, misfits)
    made: list[Margins] = [None]  # the padding rows at the edges of each layer's output; [0] the input's
    edges: list[Margins] = []  # and of each layer's (first) input
    for r in layers:
        edges.append(made[spec.sources(r.index)[0]])
        made.append(kinds.of(r.layer).margins(r, edges[-1]))
    for r, margins in zip(layers, edges, strict=True):
        refused = kinds.of(r.layer).refusals(r)
        found.extend(_refused(spec, r, x, len(spec.layers) - r.index) for x in refused)
        if r.axes:
            found.append(_not_in_pytorch(spec, r))
            found.append(_caffe_rounding(spec, r))
            if not r.axes[0].transposed:
                found.append(_skips(spec, r))
        if refused and not r.output.positive:
            continue
        if any(a.out < 1 for a in r.axes):
            found.append(_non_positive(spec, r, len(spec.layers) - r.index, misread))
            continue
        if r.fractional:
            found.append(_fractional(spec, first, layers, r, budget=budget, seen=_within(r, margins)))
        if asserted:
            found.extend(_expect_mismatches(spec, r, r.output, r.params, r.macs))
    found.extend(_unused_outputs(spec, layers))
    if asserted and len(layers) == len(spec.layers):
        for g in spec.groups:
            if g.expect is not None:
                inside = layers[g.first - 1 : g.last]
                totals = (sum(r.params for r in inside), sum(r.macs for r in inside))
                found.extend(_expect_mismatches(spec, inside[-1], inside[-1].output, *totals, group=g))
    complete = len(layers) == len(spec.layers) and all(
        o > 0 for o in (layers[-1].output.spatial if layers else ())
    )
    if complete and asserted:
        output = layers[-1].output if layers else first
        found.extend(
            _expect_mismatches(spec, None, output, sum(r.params for r in layers), sum(r.macs for r in layers))
        )
    return tuple(f for f in found if f is not None and not _allowed(spec, f))


def _unused_outputs(spec: Spec, layers: tuple[Resolved, ...]) -> list[Finding]:
    """In a graph, a layer nobody reads (but the last): a branch meant to be merged, or left over."""
    if not spec.inputs or len(layers) != len(spec.layers):
        return []
    read = {s for r in layers for s in spec.sources(r.index)}
    out = []
    for r in layers[:-1]:
        if r.index not in read:
            message = (
                "no layer reads its output and it is not the last, so it changes nothing: "
                "merge it into a later layer (from: [..., its name]) or leave it out"
            )
            out.append(_finding(spec, r, Severity.WARNING, Code.UNUSED_OUTPUT, message))
    return out


def _allowed(spec: Spec, f: Finding) -> bool:
    """Whether the finding's layer turns its code off with `allow:`."""
    return f.layer is not None and f.code in spec.layers[f.layer - 1].allow


def about_input(f: Finding) -> bool:
    """Whether a finding says how the input itself was read: shown before any result."""
    return f.code is Code.SUSPICIOUS_LAYOUT


def selected(
    findings: tuple[Finding, ...], *, select: set[str] | None = None, ignore: set[str] | None = None
) -> tuple[Finding, ...]:
    """The findings whose codes are selected (all by default) and not ignored, as lint keeps them."""
    return tuple(
        f
        for f in findings
        if (select is None or f.code.value in select) and (ignore is None or f.code.value not in ignore)
    )


_NAMES_SHOWN = 3
"""Layer names listed per kind of note in the one-line summary before 'and N more'."""


def notes_line(findings: tuple[Finding, ...], *, flag: str = "--notes") -> str | None:
    """The info findings in one line, grouped by what they say: 5 notes: unused padding at stride 2
    in conv1, layer2.0.conv1 and 3 more; show them with --notes. None when there are none."""
    notes = [f for f in findings if f.severity is Severity.INFO]
    if not notes:
        return None
    groups: dict[str, list[str]] = {}
    for f in notes:
        groups.setdefault(f.brief or f.code.value, []).append(f.layer_name or "the network")
    parts = []
    for brief, names in groups.items():
        shown = ", ".join(names[:_NAMES_SHOWN])
        more = len(names) - _NAMES_SHOWN
        parts.append(f"{brief} in {shown}" + (f" and {more} more" if more > 0 else ""))
    return f"{fm.plural(len(notes), 'note')}: {'; '.join(parts)}; show them with {flag}"
