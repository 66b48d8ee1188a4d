"""Prove resolved shapes by running every layer through the numpy kernels, batch 1, float32."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from . import formulas as fm
from . import kinds
from .errors import ConvcalcError
from .model import (
    CheckStatus,
    Code,
    Finding,
    LayerCheck,
    Network,
    Resolved,
    Severity,
)

if TYPE_CHECKING:
    from .kernels import Array

ITEM = 4
"""Bytes of one float32."""
BUFFERS = 3 * 8192 * 8
"""Bytes of the buffers one numpy ufunc may make over strided views: 8192 items (numpy's default
`bufsize`) of up to 8 bytes for each of two inputs and the output."""
_BYTES = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(?:i?b)?|b)?\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Cost:
    """The float32 bytes one layer holds at its peak while it runs."""

    weights: int
    scratch: int
    """im2col matrix, padded input copy and pooling temporaries."""
    activations: int
    """The layer's input and output."""

    @property
    def total(self) -> int:
        """All of it."""
        return self.weights + self.scratch + self.activations


class MemoryLimit(ConvcalcError):
    """A check pass would need more memory than allowed; raised before anything runs."""

    def __init__(self, *, layer: str, cost: Cost, limit: int) -> None:
        self.layer = layer
        self.cost = cost
        self.limit = limit
        parts = (
            (cost.weights, "weights"),
            (cost.scratch, "im2col and padding"),
            (cost.activations, "activations"),
        )
        detail = ", ".join(f"{fm.size(n)} of {what}" for n, what in parts if n)
        needed, allowed = format_apart(cost.total, limit)
        super().__init__(f"{layer}: checking needs about {needed} ({detail}), above --max-memory {allowed}")


def parse_bytes(text: str) -> int:
    """Bytes from `512M`, `4G`, `2GiB`, `1.5g` or `1000000`: K, M, G and T are powers of 1024."""
    match = _BYTES.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid size {text!r}; expected a number with an optional K, M, G or T")
    number, unit = match.groups()
    size = int(Fraction(number) * 1024 ** ("kmgt".index(unit.lower()) + 1 if unit else 0))
    if size < 1:
        raise ValueError(f"invalid size {text!r}; it must be at least one byte")
    return size


def format_apart(a: int, b: int) -> tuple[str, str]:
    """Two sizes that read apart: as `format_bytes` writes them, else in b's unit to 3 decimals, or bytes."""
    power = fm.byte_power(b)
    if fm.size(a, power=power) != fm.size(b, power=power):
        return fm.size(a), fm.size(b)
    for digits in (2, 3):
        pair = fm.size(a, power=power, digits=digits), fm.size(b, power=power, digits=digits)
        if pair[0] != pair[1] or a == b:
            return pair
    return fm.size(a, power=0, exact=True), fm.size(b, power=0, exact=True)


def _runnable(r: Resolved, channels: int) -> bool:
    """Whether PyTorch would run this layer on `channels` input channels: an output, and no refusal."""
    if any(o < 1 for o in r.output.spatial):
        return False
    return kinds.of(r.layer).runnable(r, channels)


def _cost(r: Resolved) -> Cost:
    """Weights (and running statistics), temporaries and activations of one layer, from its shapes."""
    kind = kinds.of(r.layer)
    view = kind.shares_input(r)
    activations = (r.input.elements + (0 if view else r.output.elements)) * ITEM
    return Cost(
        weights=(r.params + r.non_trainable) * ITEM,
        scratch=kind.scratch(r),
        activations=activations,
    )


def _peak(net: Network) -> tuple[Cost, str]:
    """The costliest layer that would run, and its name; in a graph, every tensor still to be read
    counts while a layer runs (the live tensors, as the run frees them)."""
    peak, name = Cost(0, 0, net.input.elements * ITEM), "input"
    live = net.live() if net.spec.inputs else None
    for r in net.layers:
        if not _runnable(r, r.input.channels):
            break
        cost = _cost(r)
        if live is not None:
            cost = Cost(cost.weights, cost.scratch, live[r.index] * ITEM)
        if cost.total > peak.total:
            peak, name = cost, r.layer.name
    return peak, name


def estimate(net: Network) -> tuple[int, str]:
    """Peak bytes of a check pass (weights, im2col, live activations) and the layer where it occurs."""
    cost, name = _peak(net)
    return cost.total, name


def zeros(*shape: int) -> Array:
    """Zero-filled float32 weights: untouched pages cost nearly nothing, and values do not matter."""
    import numpy as np

    return np.zeros(shape, dtype=np.float32)


def _step(xs: tuple[Array | None, ...], r: Resolved) -> Array | None:
    """The layer's real output, or None when it cannot run (or an input could not be made)."""
    ready = tuple(x for x in xs if x is not None)
    if len(ready) != len(xs) or not _runnable(r, ready[0].shape[0]):
        return None
    return kinds.of(r.layer).forward(ready, r)


def _verdict(r: Resolved, out: Array | None) -> LayerCheck:
    """Compare a real output, converted to channels last, with the resolved one."""
    if out is None:
        return LayerCheck(r.index, CheckStatus.SKIPPED, None)
    dims = (*out.shape[1:], out.shape[0])
    return LayerCheck(r.index, CheckStatus.OK if dims == r.output.dims else CheckStatus.MISMATCH, dims)


def run(
    net: Network,
    *,
    seed: int = 0,
    max_memory: int = 2 * 1024**3,
    on_layer: Callable[[int, int], None] | None = None,
) -> tuple[LayerCheck, ...]:
    """Run every layer on random input of the network's shape; MemoryLimit before anything runs."""
    cost, name = _peak(net)
    if cost.total > max_memory:
        raise MemoryLimit(layer=name, cost=cost, limit=max_memory)
    import numpy as np

    shape = (net.input.channels, *net.input.spatial)
    outs: dict[int, Array | None] = {0: np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)}
    last = {s: r.index for r in net.layers for s in net.spec.sources(r.index)}  # each tensor's last reader
    checks: list[LayerCheck] = []
    for r in net.layers:
        sources = net.spec.sources(r.index)
        x: Array | None
        try:
            with np.errstate(all="ignore"):  # zero weights meet -inf padding: only shapes matter
                x = _step(tuple(outs[s] for s in sources), r)
        except ValueError:  # the kernels refuse a layer the resolver gave a shape: a disagreement
            x = None
            checks.append(LayerCheck(r.index, CheckStatus.MISMATCH, None))
        else:
            checks.append(_verdict(r, x))
        outs[r.index] = x
        for s in sources:  # a tensor no later layer reads is freed now
            if last.get(s) == r.index:
                del outs[s]
        if on_layer is not None:
            on_layer(len(checks), len(net.layers))
    return tuple(checks)


def compare(net: Network, checks: tuple[LayerCheck, ...]) -> tuple[Finding, ...]:
    """One check-mismatch error per layer whose real output differs from the resolved one."""
    layers = {r.index: r for r in net.layers}
    findings: list[Finding] = []
    for c in checks:
        if c.status is not CheckStatus.MISMATCH:
            continue
        r = layers[c.index]
        real = "x".join(map(str, c.shape)) if c.shape else "no output at all"
        findings.append(
            Finding(
                severity=Severity.ERROR,
                code=Code.CHECK_MISMATCH,
                message=f"{r.layer.name}: the resolver says {r.output} but running the layer gives {real}",
                file=net.spec.file,
                line=r.layer.where.line,
                column=r.layer.where.column,
                layer=r.index,
                layer_name=r.layer.name,
            )
        )
    return tuple(findings)


def checked(
    net: Network,
    *,
    seed: int = 0,
    max_memory: int = 2 * 1024**3,
    on_layer: Callable[[int, int], None] | None = None,
) -> Network:
    """The network with what running it showed, and a check-mismatch finding for every disagreement."""
    checks = run(net, seed=seed, max_memory=max_memory, on_layer=on_layer)
    return dataclasses.replace(net, checks=checks, findings=net.findings + compare(net, checks))
