"""The rules: what is wrong or worth knowing about a resolved stack, and how to fix it."""

from __future__ import annotations

import functools
from dataclasses import replace
from math import gcd

from . import arith, kinds
from . import formulas as fm
from .inputs import Source, misreading
from .kinds.window import Conv, Deconv, Pool
from .model import (
    Axis,
    Code,
    Finding,
    Layout,
    Margins,
    PadMode,
    PoolMode,
    Refusal,
    Resolved,
    Severity,
    Shape,
    Spec,
)

"""Kinds whose output has their input's shape."""

_MAX_INPUT_STEPS = 4096

_INPUT_BUDGET = 200_000
"""Layer steps that every input-size fix search of a network takes together, at most: the
searches share it, so a deep stack with many misfits stays linear in its depth."""


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
        file=spec.file,
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


def _shape_text(dims: tuple[int, ...], layout: Layout, channels: int) -> str:
    return fm.product((channels, *dims) if layout is Layout.CHW else (*dims, channels))


def _pad_limit(r: Resolved, a: Axis) -> int:
    """The most padding worth suggesting: half a pool's window (PyTorch's cap), D(F-1) otherwise."""
    return a.extent // 2 if isinstance(r.layer, Pool) else a.extent - 1


def _pad_fix(r: Resolved) -> tuple[str | None, str | None]:
    """The smallest symmetric pad that fits on every axis, or why there is none."""
    pads, outs = [], []
    for a in r.axes:
        limit = _pad_limit(r, a)
        p = arith.smallest_pad(a, limit=limit) if a.fractional else a.pad
        if p is None:
            if a.stride % 2 == 0 and (a.n - a.extent) % 2:
                odd = f"{a.n} - {a.extent} = {a.n - a.extent}"
                why = f"no symmetric pad fits at stride {a.stride}: {odd} is odd"
            elif isinstance(r.layer, Pool):
                why = f"no pad fits within the {limit} a pool allows"
            else:
                why = f"no pad from 0 to D(F-1) = {limit} fits"
            return None, why
        pads.append(p)
        outs.append(arith.out_size(n=a.n, size=a.size, stride=a.stride, pad=p, dilation=a.dilation))
    return f"pad {fm.setting(pads)} -> {fm.product(tuple(outs))}", None


def _stride_fixes(r: Resolved) -> list[str]:
    """The nearest strides below and above that fit, unless they would leave input unread."""
    fixes = []
    for side in (0, 1):
        strides, outs = [], []
        for a in r.axes:
            s: int | None = a.stride
            if a.fractional:
                s = arith.near_strides(a, functools.partial(_no_more_holes, a))[side]
            if s is None:
                break
            strides.append(s)
            outs.append(_again(a, stride=s).out)
        else:
            fixes.append(f"stride {fm.setting(strides)} -> {fm.product(tuple(outs))}")
    return fixes


def _no_more_holes(a: Axis, stride: int) -> bool:
    return _holes(a, stride) <= _holes(a)


def _again(p: Axis, n: int | None = None, *, stride: int | None = None) -> Axis:
    """The same window on an input of size n, or at another stride; per-side pads and ceil kept."""
    return arith.axis(
        n=p.n if n is None else n,
        size=p.size,
        stride=p.stride if stride is None else stride,
        pad=p.pad,
        dilation=p.dilation,
        ceil=p.ceil,
        pad_end=p.pad_end,
        output_pad=p.output_pad,
        transposed=p.transposed,
    )


def _carry(x: int, j: int, before: tuple[Resolved, ...], a: Axis) -> int | None:
    """This layer's output on axis j for network input x, if it fits and nothing before drops input."""
    n = x
    for prev in before:
        step = _again(prev.axes[j], n)
        if step.out < 1 or arith.drops_input(step) or _shrinks_below_window(prev.axes[j], n):
            return None
        n = step.out
    here = _again(a, n)
    return here.out if arith.fits(here) and not _shrinks_below_window(a, n) else None


def _shrinks_below_window(a: Axis, n: int) -> bool:
    """Whether an input of size n would be smaller than a window the layer's own input covers
    (some kernels, avg_pool3d's among them, refuse that even with padding)."""
    return not a.transposed and n < a.size <= a.n


def _carriable(r: Resolved) -> bool:
    """Whether the layer's windows stay the same on another input (no 'same' pads, nothing adaptive)."""
    from . import kinds

    if kinds.of(r.layer).ELEMENTWISE:
        return True
    return bool(r.axes) and getattr(r.layer, "pad_mode", PadMode.EXPLICIT) is not PadMode.SAME


def _input_fixes(
    spec: Spec, first: Shape, before: tuple[Resolved, ...], r: Resolved, *, budget: int
) -> list[str]:
    """Network inputs near the given one that make this layer fit; `budget` bounds the layer steps."""
    if not all(_carriable(p) for p in before):
        return []
    before = tuple(p for p in before if p.axes)
    if len(first.spatial) != len(r.axes) or any(len(p.axes) != len(r.axes) for p in before):
        return []
    steps = min(
        _MAX_INPUT_STEPS,
        max(64, 8 * r.axes[0].stride * max((p.axes[0].stride for p in before), default=1) ** 2),
        budget // (2 * len(r.axes) * (len(before) + 1)),
    )
    fixes = []
    for direction in (-1, 1):
        dims, outs = [], []
        for j, (x0, a) in enumerate(zip(first.spatial, r.axes, strict=True)):
            if not a.fractional:
                dims.append(x0)
                outs.append(a.out)
                continue
            found = None
            for k in range(1, steps + 1):
                x = x0 + direction * k
                if x < 1:
                    break
                out = _carry(x, j, before, a)
                if out is not None:
                    found = (x, out)
                    break
            if found is None:
                break
            dims.append(found[0])
            outs.append(found[1])
        else:
            shape = _shape_text(tuple(dims), spec.layout, first.channels)
            fixes.append(f"input {shape} -> {fm.product(tuple(outs))}")
    return fixes


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
    budget: int = _INPUT_BUDGET,
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
    message = f"{formula} is not a whole number; PyTorch {fm.rounded_to(r.axes, fm.spatial(r.output))}"
    if not any(arith.drops_input(a) for a in seen):
        # Nothing is lost: a fix may only say how to make the windows fit with the same output.
        message += f", but no input is lost: {_unused_text(seen)}"
        if seen != r.axes:
            message += " (an earlier pad layer's)"
        fixes = _same_output_fixes(r)
        brief = _unused_brief(seen)
        return _finding(spec, r, Severity.INFO, Code.FRACTIONAL_SIZE, message, fixes=fixes, brief=brief)
    message += f" and silently drops {_lost_text(seen)}"
    pad, no_pad = _pad_fix(r)
    before = layers[: r.index - 1]
    fixes = tuple(
        f for f in (pad, *_stride_fixes(r), *_input_fixes(spec, first, before, r, budget=budget)) if f
    )
    if no_pad:
        message += f" ({no_pad})"
    return _finding(spec, r, Severity.ERROR, Code.FRACTIONAL_SIZE, message, fixes=fixes)


def _same_output_fixes(r: Resolved) -> tuple[str, ...]:
    """Per-side padding that makes every window fit exactly and keeps the layer's output and its
    windows (the padding before stays): the trailing pad shrinks to what the last window uses, or
    grows to what a ceil-mode window reads. None when the unread pixels lie in a stride's gap."""
    pairs = []
    for a in r.axes:
        total = (a.out - 1) * a.stride + a.extent - a.n
        if total < a.pad:
            return ()
        pairs.append((a.pad, total - a.pad))
    shown = pairs if len(set(pairs)) > 1 else pairs[:1]
    text = "pad [" + ", ".join(f"[{b}, {e}]" for b, e in shown) + "]"
    if isinstance(r.layer, Pool) and r.layer.ceil:
        text += " and ceil false"
    text += f" -> {fm.spatial(r.output)}"
    order = ", ".join(f"{b}, {e}" for b, e in reversed(pairs))  # F.pad and ZeroPad: the last axis first
    if isinstance(r.layer, Pool) and r.layer.mode is PoolMode.MAX:
        how = f"F.pad(x, ({order}), value=-inf), then padding 0"
    elif isinstance(r.layer, Pool):
        return (text,)  # zeros from F.pad would change an average's divisor: no one-line PyTorch form
    else:
        how = f"nn.ZeroPad{len(pairs)}d(({order})), then padding 0"
    return (f"{text} (in PyTorch: {how})",)


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
    """What PyTorch refuses of the layer, as its kind says, as an error at the key it is about."""
    message = x.message
    if x.empty and rest:
        message += f"; the {fm.plural(rest, 'layer')} after it could not be resolved"
    return _finding(spec, r, Severity.ERROR, x.code, message, key=x.key, fixes=x.fixes)


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


def _holes(a: Axis, stride: int | None = None) -> int:
    """Input positions out of every `stride` that no window ever reads, in the steady state."""
    return _unread(a.size, a.dilation, stride or a.stride)


def _unread(size: int, dilation: int, stride: int) -> int:
    """Taps k D (k < F) land on min(F, S/gcd(D, S)) distinct positions modulo S; the rest are unread."""
    return stride - min(size, stride // gcd(dilation, stride))


def _skips(spec: Spec, r: Resolved) -> Finding | None:
    """Windows that leave input unread by design; a 1x1 window's subsampling is the idiom, not a slip."""
    if all(a.size == 1 for a in r.axes):
        return None
    groups: dict[str, list[str]] = {}
    for name, a in zip(fm.AXIS_NAMES[len(r.axes)], r.axes, strict=True):
        if _holes(a):
            window = f"size {a.size}" + (f" and dilation {a.dilation}" if a.dilation > 1 else "")
            unread = f"windows of {window} at stride {a.stride} never read {_holes(a)} of every {a.stride}"
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
    spec: Spec, r: Resolved | None, net_output: Shape, params: int, macs: int
) -> list[Finding]:
    """Compare what the author wrote under `expect` with what the layer or network gives."""
    expect = spec.expect if r is None else r.layer.expect
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
        who = "the network" if r is None else r.layer.name
        message = f"{who}: expected {key} {wanted_text} but it is {actual_text}"
        found.append(
            Finding(
                severity=Severity.ERROR,
                code=Code.EXPECT_MISMATCH,
                message=message,
                file=spec.file,
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
    budget = _INPUT_BUDGET // max(1, misfits)
    edges: list[Margins] = [None]  # the padding rows at the edges of each layer's input, then the output's
    for r in layers:
        edges.append(kinds.of(r.layer).margins(r, edges[-1]))
    for r, margins in zip(layers, edges, strict=False):
        refused = kinds.of(r.layer).refusals(r)
        found.extend(_refused(spec, r, x, len(spec.layers) - r.index) for x in refused)
        if r.axes:
            found.append(_not_in_pytorch(spec, r))
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
    complete = len(layers) == len(spec.layers) and all(
        o > 0 for o in (layers[-1].output.spatial if layers else ())
    )
    if complete and asserted:
        output = layers[-1].output if layers else first
        found.extend(
            _expect_mismatches(spec, None, output, sum(r.params for r in layers), sum(r.macs for r in layers))
        )
    return tuple(f for f in found if f is not None and not _allowed(spec, f))


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
