"""Will it fit? The largest batch under a memory budget, and the largest input under a budget of MACs,
parameters or memory; pure arithmetic over a resolved network (no click, rich or numpy)."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import replace
from typing import Any

from . import formulas as fm
from . import kinds
from .errors import SpecError
from .formats import Format, unhandled
from .model import (
    Code,
    Held,
    Layout,
    Network,
    Resolved,
    Severity,
    Shape,
    Sizing,
    Spec,
    training_memory,
)
from .values import frozen

JSON_VERSION = 1
LIMIT = 1 << 16
"""The largest size of the input's first axis the input search tries (or the spec's own, if larger)."""
SCAN = 512
"""Sizes a scan looks at below the largest within budget, for one that runs, then for an exact one."""
NOT_ESTIMATED = (
    "not estimated: the framework's workspace (cuDNN's convolution algorithms), the allocator's caching "
    "and fragmentation, framework overhead, the CUDA context (often 300 MiB to 1 GiB), the loss and the "
    "labels, and mixed precision's float32 master weights"
)
"""What no estimate here includes: say it wherever a budget is answered."""
_COUNT = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)\s*", re.IGNORECASE)


def parse_count(text: str) -> int:
    """A count such as 5M, 1.5G, 300k or 25557032: k, M, G and T are powers of 1000 (MACs, params)."""
    match = _COUNT.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid count {text!r}; expected a number with an optional k, M, G or T")
    number, unit = match.groups()
    from fractions import Fraction

    from .budget import COUNTS  # the suffixes a budget's counts take, so both read 5M alike

    count = int(Fraction(number) * COUNTS[unit.lower()])
    if count < 1:
        raise ValueError(f"invalid count {text!r}; it must be at least 1")
    return count


class Purpose(enum.Enum):
    """What the memory is for."""

    TRAINING = "training"
    """Every activation kept for the backward pass, with weights, gradients and optimizer states."""
    INFERENCE = "inference"
    """The live-tensor peak (each tensor freed after its last reader) and the weights once."""


@frozen
class Checkpoints:
    """sqrt(L) checkpointing of the layers in order: what the backward pass keeps per example."""

    layers: int
    """L, the layers in order."""
    every: int
    """s = ceil(sqrt(L)): layers per segment; a boundary after layers s, 2s, ... (and the input)."""
    boundaries: int
    """Elements of every tensor made at or before a boundary and read after it (each buffer once)."""
    segment: int
    """Elements of the largest segment's own tensors (not boundaries), recomputed in the backward pass."""

    @property
    def segments(self) -> int:
        """ceil(L / s)."""
        return -(-self.layers // self.every) if self.layers else 0

    @property
    def kept(self) -> int:
        """Elements kept per example: boundaries + the largest segment."""
        return self.boundaries + self.segment


def checkpoints(net: Network) -> Checkpoints:
    """What checkpointing at ceil(sqrt(L))-layer boundaries keeps: the tensors crossing each boundary
    (a chain's: the boundary layer's output; a graph's: its skips too), and one segment recomputed."""
    n = len(net.layers)
    every = math.isqrt(n - 1) + 1 if n else 1
    owner = [0] * (n + 1)  # the buffer each tensor lives in (in-place layers and views share one)
    size = [net.input.elements] + [0] * n
    last = list(range(n + 1))
    for r in net.layers:
        sources = net.spec.sources(r.index)
        for s in sources:
            last[s] = max(last[s], r.index)
        held = kinds.of(r.layer).HELD is Held.OUTPUT
        owner[r.index] = r.index if held else owner[sources[0]]
        size[r.index] = r.activations
    if n:
        last[n] = n + 1
    kept: set[int] = set()
    for t in range(n + 1):
        boundary = -(-t // every) * every  # the first boundary at or after tensor t
        if boundary < last[t] and boundary < n:
            kept.add(owner[t])
    segment = max(
        (
            sum(size[i] for i in range(first, min(first + every, n + 1)) if owner[i] == i and i not in kept)
            for first in range(1, n + 1, every)
        ),
        default=0,
    )
    return Checkpoints(n, every, sum(size[b] for b in kept), segment)


@frozen
class Part:
    """One line of a breakdown: what, its formula with the numbers, and its bytes."""

    name: str
    formula: str
    bytes: int
    note: str = ""
    """What the numbers count, when the formula alone does not say."""


@frozen
class Batch:
    """The largest batch for one purpose, and the breakdown at that batch."""

    purpose: Purpose
    batch: int
    """The largest batch that fits; 0 when one example does not."""
    parts: tuple[Part, ...]
    """The breakdown at `batch` (at 1 when it is 0)."""
    after: int
    """Bytes at batch + 1 (at 1 when `batch` is 0): over the budget."""
    rule: str
    """The formula in words."""

    @property
    def total(self) -> int:
        """Bytes at `batch`."""
        return sum(p.bytes for p in self.parts)


@frozen
class Batches:
    """What `fit --memory` answers: the largest batch for training and for inference."""

    memory: int
    sizing: Sizing
    """The dtype and optimizer (its batch is unused)."""
    checkpointing: Checkpoints | None
    training: Batch
    inference: Batch
    refused: tuple[str, ...] = ()
    """The error findings' codes on this input, other than a floor (fractional-size): what PyTorch would
    refuse, so the sizes are of a network that does not run."""


def _kept(net: Network, ckpt: Checkpoints | None) -> int:
    return net.activations if ckpt is None else ckpt.kept


def training_parts(net: Network, ckpt: Checkpoints | None = None) -> tuple[Part, ...]:
    """The training estimate at the network's sizing, part by part (`model.training_memory`)."""
    s = net.sizing
    kept = _kept(net, ckpt)
    m = training_memory(kept=kept, params=net.params, non_trainable=net.non_trainable, sizing=s)
    b = f"{s.dtype.bytes} B"
    p = fm.number(net.params)
    if ckpt is None:
        why = "every layer's output and the input, kept for the backward pass, each with its gradient"
    else:
        why = (
            f"{fm.number(ckpt.boundaries)} crossing the checkpoint boundaries + {fm.number(ckpt.segment)} in "
            "the largest segment, recomputed in the backward pass; each with its gradient"
        )
    states = s.optimizer.states
    parts = [
        Part("activations", f"2 x {fm.number(kept)} x {fm.number(s.batch)} x {b}", m.activations, why),
        Part("weights", f"{p} x {b}", m.weights),
        Part("gradients", f"{p} x {b}", m.gradients),
        Part(
            "optimizer",
            f"{states} x {p} x {b}",
            m.optimizer,
            f"{s.optimizer.value} keeps {fm.plural(states, 'value')} per parameter",
        ),
    ]
    if net.non_trainable:
        parts.append(Part("running stats", f"{fm.number(net.non_trainable)} x {b}", m.running))
    return tuple(parts)


def inference_parts(net: Network) -> tuple[Part, ...]:
    """The inference estimate at the network's sizing: the live peak of the batch and the weights once."""
    s = net.sizing
    peak, at = net.peak()
    where = net.layers[at - 1].layer.name if at else "the input"
    b = f"{s.dtype.bytes} B"
    weights = f"({fm.number(net.params)} + {fm.number(net.non_trainable)})" if net.non_trainable else None
    note = f"the most activations alive at once, at {where}, each tensor freed after its last reader" + (
        "; act and dropout in place" if s.in_place else ""
    )
    return (
        Part(
            "live peak",
            f"{fm.number(peak)} x {fm.number(s.batch)} x {b}",
            peak * s.batch * s.dtype.bytes,
            note,
        ),
        Part("weights", f"{weights or fm.number(net.params)} x {b}", net.param_bytes),
    )


def _at(net: Network, batch: int) -> Network:
    return replace(net, sizing=replace(net.sizing, batch=batch))


def _largest(purpose: Purpose, net: Network, memory: int, ckpt: Checkpoints | None) -> Batch:
    """The largest batch whose total is within `memory`: the total is a + b x batch, so it is solved in
    closed form, then checked with the formula itself."""

    def parts(batch: int) -> tuple[Part, ...]:
        at = _at(net, batch)
        return training_parts(at, ckpt) if purpose is Purpose.TRAINING else inference_parts(at)

    fixed = sum(p.bytes for p in parts(0))
    each = sum(p.bytes for p in parts(1)) - fixed
    batch = max(0, (memory - fixed) // each)
    shown = parts(max(batch, 1))
    after = sum(p.bytes for p in parts(batch + 1))
    assert batch == 0 or sum(p.bytes for p in shown) <= memory < after
    if purpose is Purpose.TRAINING:
        o = net.sizing.optimizer
        rule = f"2 x activations x batch + (2 + {o.states} {o.value}) x params"
        rule += " + running stats" if net.non_trainable else ""
    else:
        rule = "live peak x batch + weights"
    return Batch(purpose, batch, shown, after, rule)


def batches(net: Network, *, memory: int, checkpointing: bool = False) -> Batches:
    """The largest batch for training and for inference within `memory` bytes."""
    ckpt = checkpoints(net) if checkpointing else None
    return Batches(
        memory,
        net.sizing,
        ckpt,
        _largest(Purpose.TRAINING, net, memory, ckpt),
        _largest(Purpose.INFERENCE, net, memory, ckpt),
        _refused(net),
    )


def _refused(net: Network) -> tuple[str, ...]:
    """The codes of the error findings that mean PyTorch refuses the network, in order, once each."""
    fine = (Code.FRACTIONAL_SIZE, Code.EXPECT_MISMATCH, Code.OVER_BUDGET)  # a budget is fit's own question
    found = [f.code.value for f in net.findings if f.severity is Severity.ERROR and f.code not in fine]
    return tuple(dict.fromkeys(found))


@frozen
class Budget:
    """Limits on one network: any of MACs, parameters and memory (bytes at the sizing's batch)."""

    macs: int | None = None
    params: int | None = None
    memory: int | None = None


@frozen
class Point:
    """One input size with its counts."""

    input: tuple[int, ...]
    """The input as written, in the spec's layout."""
    macs: int
    params: int
    training: int
    """Training bytes at the batch."""
    inference: int
    """Inference bytes at the batch."""


@frozen
class Grown:
    """The largest input within a budget, for one purpose of the memory (None: no memory budget)."""

    purpose: Purpose | None
    fits: Point | None
    """The largest size that is within budget and runs (every layer an output, nothing refused)."""
    exact: Point | None
    """The largest that is within budget, runs and drops no input (a floor that loses only padding is
    exact)."""
    over: Point | None
    """The size above the largest within budget (over it); None when every size up to LIMIT is within."""
    scanned: tuple[tuple[int, int], ...] = ()
    """The sizes n of the first axis looked at for `fits` and `exact`, each range from its top down: below
    the largest within budget, then below the spec's own size when that found nothing."""
    ceiling: int = LIMIT
    """The largest n tried: LIMIT, or the spec's own size when larger."""


@frozen
class Sizes:
    """What `fit --macs/--params/--find input` answers."""

    budget: Budget
    sizing: Sizing
    checkpointing: bool
    start: tuple[int, ...]
    """The spec's input as written."""
    grown: tuple[Grown, ...]
    tried: int
    """Input sizes resolved in all."""


def _dims(start: Shape, n: int) -> Shape:
    """The input with its first spatial axis n and the others in proportion, rounded half up."""
    first = start.spatial[0]
    return Shape(tuple(max(1, (2 * d * n + first) // (2 * first)) for d in start.spatial), start.channels)


def _network(spec: Spec, shape: Shape, layout: Layout, sizing: Sizing) -> tuple[Network, bool] | None:
    """The network on this input without findings, and whether every layer has an output; None when the
    spec cannot be built on it."""
    from .resolver import resolve_layer

    if spec.program is not None:
        from . import graph

        try:
            made = graph.expand(spec.program, shape, layout, spec.file)
        except SpecError:
            return None
        spec = replace(spec, layers=tuple(made.layers), inputs=tuple(made.inputs), groups=tuple(made.groups))
        complete = not made.stopped and len(made.resolved) == len(made.layers)
        return Network(spec, shape, tuple(made.resolved), (), sizing=sizing), complete
    layers: list[Resolved] = []
    current = shape
    for index, layer in enumerate(spec.layers, start=1):
        try:
            r = resolve_layer(index, layer, (current,), file=spec.file)
        except SpecError:
            return None
        layers.append(r)
        if not r.output.positive:
            break
        current = r.output
    complete = len(layers) == len(spec.layers) and current.positive
    return Network(spec, shape, tuple(layers), (), sizing=sizing), complete


def _verdict(net: Network, complete: bool, layout: Layout) -> tuple[bool, bool]:
    """Whether PyTorch runs the network on its input (every layer an output, nothing refused; a floor
    allowed), and whether it also drops no input."""
    from .rules import diagnose

    if not complete:
        return False, False
    dims = net.input.written(layout)
    found = diagnose(net.spec, dims, net.input, net.layers, layout=layout)
    errors = {f.code for f in found if f.severity is Severity.ERROR} - {
        Code.EXPECT_MISMATCH,
        Code.OVER_BUDGET,
    }
    runs = not errors - {Code.FRACTIONAL_SIZE}
    return runs, runs and Code.FRACTIONAL_SIZE not in errors


class _Search:
    """Input sizes by the first axis's size n: each one's counts and verdict worked out once."""

    def __init__(self, spec: Spec, start: Shape, layout: Layout, sizing: Sizing, ckpt: bool) -> None:
        self.spec, self.start, self.layout, self.sizing, self.ckpt = spec, start, layout, sizing, ckpt
        self.points: dict[int, Point | None] = {}
        self.verdicts: dict[int, tuple[bool, bool]] = {}
        self.last: tuple[int, tuple[Network, bool] | None] | None = None
        """The last network built (networks are not kept: a scan may build a thousand)."""

    @property
    def tried(self) -> int:
        """Sizes looked at."""
        return len(self.points.keys() | self.verdicts.keys())

    def net(self, n: int) -> tuple[Network, bool] | None:
        """The network at size n."""
        if self.last is None or self.last[0] != n:
            self.last = (n, _network(self.spec, _dims(self.start, n), self.layout, self.sizing))
        return self.last[1]

    def verdict(self, n: int) -> tuple[bool, bool]:
        """Whether size n runs, and whether it is exact."""
        if n not in self.verdicts:
            made = self.net(n)
            self.verdicts[n] = (False, False) if made is None else _verdict(*made, self.layout)
        return self.verdicts[n]

    def point(self, n: int) -> Point | None:
        """The counts at size n."""
        if n in self.points:
            return self.points[n]
        made = self.net(n)
        self.points[n] = None if made is None else self._count(made[0])
        return self.points[n]

    def _count(self, net: Network) -> Point:
        """A network's counts, with the training and inference bytes at the sizing."""
        ckpt = checkpoints(net) if self.ckpt else None
        return Point(
            input=net.input.written(self.layout),
            macs=net.macs,
            params=net.params,
            training=sum(p.bytes for p in training_parts(net, ckpt)),
            inference=sum(p.bytes for p in inference_parts(net)),
        )


def _within(p: Point | None, budget: Budget, purpose: Purpose | None) -> bool:
    """Whether a size's counts are within every limit; a size the spec cannot be built on counts as within,
    so that the search passes over it (the scans then skip it)."""
    if p is None:
        return True
    memory = p.training if purpose is Purpose.TRAINING else p.inference
    return (
        (budget.macs is None or p.macs <= budget.macs)
        and (budget.params is None or p.params <= budget.params)
        and (budget.memory is None or memory <= budget.memory)
    )


def _grow(search: _Search, budget: Budget, purpose: Purpose | None) -> Grown:
    """Binary search for the largest n within budget (MACs, params and memory never fall as n grows: every
    layer's output size is a non-decreasing function of its input's), then a bounded scan down for the
    largest n that runs and the largest that is exact."""
    n0 = search.start.spatial[0]

    def ok(n: int) -> bool:
        return _within(search.point(n), budget, purpose)

    ceiling = max(LIMIT, n0)
    if ok(n0):
        low, high = n0, n0 * 2
        while high <= ceiling and ok(high):
            low, high = high, high * 2
        high = min(high, ceiling + 1)
    else:
        low, high = n0 // 2, n0
        while low >= 1 and not ok(low):
            low, high = low // 2, low
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if ok(mid) else (low, mid)
    over = search.point(high) if high <= ceiling else None
    fits: Point | None = None
    exact: Point | None = None
    scanned: list[tuple[int, int]] = []
    # Below the largest within budget, then (when that finds nothing) below the spec's own size.
    for top in (low, min(n0, low - SCAN - 1)):
        n = top
        while n >= max(1, top - SCAN) and exact is None:
            runs, whole = search.verdict(n)
            fits = search.point(n) if runs and fits is None else fits
            exact = search.point(n) if whole else exact
            n -= 1
        if top >= 1:
            scanned.append((top, n + 1))
        if exact is not None:
            break
    return Grown(purpose, fits, exact, over, tuple(scanned), ceiling)


def sizes(
    spec: Spec, *, budget: Budget, sizing: Sizing, layout: Layout | None = None, checkpointing: bool = False
) -> Sizes:
    """The largest input (the spec's scaled, same aspect) within the budget; with a memory limit, once
    for training and once for inference."""
    layout = layout or spec.layout
    start = Shape.read(spec.input, layout)
    if not start.spatial:
        raise SpecError(
            f"the input {fm.product(spec.input)} has no spatial axis to grow: give --memory alone for the "
            "largest batch",
            file=spec.file,
        )
    search = _Search(spec, start, layout, sizing, checkpointing)
    purposes = (Purpose.TRAINING, Purpose.INFERENCE) if budget.memory is not None else (None,)
    grown = tuple(_grow(search, budget, p) for p in purposes)
    return Sizes(budget, sizing, checkpointing, spec.input, grown, search.tried)


def _title(net: Network) -> str:
    return f"{net.spec.name or net.spec.file or 'network'} at {net.input.show(net.order)}"


def _ckpt_line(c: Checkpoints, net: Network) -> str:
    return (
        f"checkpointing: L = {c.layers} layers in {c.segments} segments of s = ceil(sqrt(L)) = {c.every}; "
        f"kept per example = tensors crossing a boundary + the largest segment = {fm.number(c.boundaries)} + "
        f"{fm.number(c.segment)} = {fm.number(c.kept)} (all kept: {fm.number(net.activations)}); "
        "the backward pass runs each segment's forward again (about one more forward pass of compute)"
    )


def batch_lines(answer: Batches, net: Network) -> list[str]:
    """The largest batches as text, each part with its formula and numbers."""
    s = answer.sizing
    out = [
        f"{_title(net)}, {s.dtype.value}, {s.optimizer.value}: the largest batch in {fm.size(answer.memory)}"
    ]
    if answer.refused:
        out.extend(
            _wrap(
                f"warning: PyTorch would refuse this network on this input ({', '.join(answer.refused)}; "
                "convcalc run shows where): the sizes below are of layers that would not run",
                "  ",
            )
        )
    if answer.checkpointing is not None:
        out.extend(_wrap(_ckpt_line(answer.checkpointing, net), "  "))
    for b in (answer.training, answer.inference):
        out.append("")
        if b.batch:
            out.append(
                f"{b.purpose.value}: batch {fm.number(b.batch)}, {fm.number(b.total)} B of "
                f"{fm.number(answer.memory)} (batch {fm.number(b.batch + 1)} needs {fm.number(b.after)} B)"
            )
        else:
            out.append(
                f"{b.purpose.value}: does not fit (batch 1 needs {fm.number(b.total)} B "
                f"of {fm.number(answer.memory)})"
            )
        out.append(f"  = {b.rule}")
        width = max(len(p.name) for p in b.parts)
        out.extend(f"  {p.name:<{width}}  {p.formula} = {fm.size(p.bytes)}" for p in b.parts)
        for p in b.parts:
            out.extend(_wrap(f"  {p.name}: {p.note}", "    ") if p.note else [])
    return [*out, "", *_caveat()]


def _caveat() -> list[str]:
    """What is estimated and what is not, wrapped."""
    return ["estimated: a lower bound, every value in the one dtype", *_wrap(NOT_ESTIMATED, "  ")]


def _wrap(text: str, indent: str) -> list[str]:
    """A long line folded at 100 columns, the continuation lines indented."""
    import textwrap

    return textwrap.wrap(text, width=100, subsequent_indent=indent, break_on_hyphens=False)


def _part_json(b: Batch) -> dict[str, Any]:
    return {
        "batch": b.batch,
        "bytes": b.total,
        "next_bytes": b.after,
        "formula": b.rule,
        "parts": [{"name": p.name, "formula": p.formula, "bytes": p.bytes, "note": p.note} for p in b.parts],
    }


def _ckpt_json(c: Checkpoints | None) -> dict[str, int] | None:
    if c is None:
        return None
    return {
        "layers": c.layers,
        "every": c.every,
        "segments": c.segments,
        "boundaries": c.boundaries,
        "segment": c.segment,
        "kept": c.kept,
    }


def batch_json(answer: Batches, net: Network) -> dict[str, Any]:
    """The largest batches as JSON."""
    return {
        "version": JSON_VERSION,
        "name": net.spec.name,
        "file": net.spec.file,
        "input_shape": list(net.input.written(net.order)),
        "memory": answer.memory,
        "sizing": {"dtype": answer.sizing.dtype.value, "optimizer": answer.sizing.optimizer.value},
        "checkpointing": _ckpt_json(answer.checkpointing),
        "refused": list(answer.refused),
        "training": _part_json(answer.training),
        "inference": _part_json(answer.inference),
        "not_estimated": NOT_ESTIMATED,
    }


def _limits(b: Budget) -> str:
    parts = [
        f"{fm.number(b.macs)} MACs" if b.macs is not None else "",
        f"{fm.number(b.params)} params" if b.params is not None else "",
        f"{fm.size(b.memory)}" if b.memory is not None else "",
    ]
    return " and ".join(p for p in parts if p)


def _point_text(p: Point | None, purpose: Purpose | None) -> str:
    if p is None:
        return "none"
    text = f"{fm.product(p.input)}: {fm.number(p.macs)} MACs, {fm.number(p.params)} params"
    if purpose is not None:
        memory = p.training if purpose is Purpose.TRAINING else p.inference
        text += f", {fm.number(memory)} B {purpose.value} ({fm.size(memory)})"
    return text


def sizes_lines(answer: Sizes, spec: Spec) -> list[str]:
    """The largest inputs as text."""
    s = answer.sizing
    memory = (
        f", batch {fm.number(s.batch)}, {s.dtype.value}, {s.optimizer.value}" if answer.budget.memory else ""
    )
    out = [
        f"{spec.name or spec.file or 'network'}: the largest input within {_limits(answer.budget)}"
        f" ({fm.product(answer.start)} scaled{memory})"
    ]
    for g in answer.grown:
        out.append("")
        if g.purpose is not None:
            out.append(f"{g.purpose.value}:")
        out.append(f"  largest that fits   {_point_text(g.fits, g.purpose)}")
        out.append(f"  largest that works  {_point_text(g.exact, g.purpose)}")
        over = (
            _point_text(g.over, g.purpose)
            if g.over
            else f"none up to {fm.number(g.ceiling)} on the first axis"
        )
        out.append(f"  next size, over     {over}")
        ranges = ", ".join(f"{a} to {b}" if a != b else f"{a}" for a, b in g.scanned)
        out.append(f"  first axis scanned  {ranges or 'none: no size is within budget'}")
    out.append("")
    for line in (
        "sizes tried: the first axis at every n, the others in proportion (rounded half up), channels kept; "
        "binary search over n (MACs, params and memory never fall as the input grows), then a scan down of "
        f"at most {SCAN} sizes for the largest that runs (fits) and the largest that drops no input (works); "
        f"{fm.number(answer.tried)} sizes resolved",
        "fits: every layer has an output and PyTorch refuses nothing (a floor that drops input is allowed); "
        "works: no layer floors away input (a floor that loses only padding works), as in solve SPEC",
        "width: no shipped spec takes a width multiplier (their blocks take channel counts), so only the "
        "input is grown",
    ):
        out.extend(_wrap(line, "  "))
    if answer.budget.memory is not None:
        out += ["memory: as `convcalc fit --memory` counts it", *_caveat()]
    return out


def _point_json(p: Point | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "input_shape": list(p.input),
        "macs": p.macs,
        "params": p.params,
        "training_bytes": p.training,
        "inference_bytes": p.inference,
    }


def sizes_json(answer: Sizes, spec: Spec) -> dict[str, Any]:
    """The largest inputs as JSON."""
    b, s = answer.budget, answer.sizing
    return {
        "version": JSON_VERSION,
        "name": spec.name,
        "file": spec.file,
        "input_shape": list(answer.start),
        "budget": {"macs": b.macs, "params": b.params, "memory": b.memory},
        "sizing": {"dtype": s.dtype.value, "optimizer": s.optimizer.value, "batch": s.batch},
        "checkpointing": answer.checkpointing,
        "tried": answer.tried,
        "results": [
            {
                "purpose": g.purpose.value if g.purpose else None,
                "fits": _point_json(g.fits),
                "works": _point_json(g.exact),
                "over": _point_json(g.over),
                "scanned": [list(r) for r in g.scanned],
            }
            for g in answer.grown
        ],
    }


def render(answer: Batches | Sizes, source: Network | Spec, fmt: Format) -> str:
    """An answer as `fit --format` writes it: text or JSON; `source` is the network of a batch answer,
    the spec of a sizes answer."""
    from .present import json_text

    if fmt is Format.TEXT or fmt is Format.JSON:
        if isinstance(answer, Batches) and isinstance(source, Network):
            lines, data = batch_lines(answer, source), batch_json(answer, source)
        elif isinstance(answer, Sizes) and isinstance(source, Spec):
            lines, data = sizes_lines(answer, source), sizes_json(answer, source)
        else:
            raise TypeError("a batch answer goes with its network, a sizes answer with its spec")
        return (json_text(data) if fmt is Format.JSON else "\n".join(lines)) + "\n"
    unhandled(fmt, "fit")
