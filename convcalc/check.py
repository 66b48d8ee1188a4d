"""Prove resolved shapes by running every layer through the numpy kernels, batch 1, float32."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from .errors import ConvcalcError
from .model import (
    FC,
    CheckStatus,
    Code,
    Conv,
    Finding,
    LayerCheck,
    Network,
    Pool,
    PoolMode,
    Resolved,
    Severity,
)

if TYPE_CHECKING:
    from .kernels import Array

ITEM = 4
"""Bytes of one float32."""
BAND = 16 * 1024**2
"""im2col bytes per band of output rows: bounds the memory of a conv and keeps it warm in cache."""
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
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
        detail = ", ".join(f"{format_bytes(n)} of {what}" for n, what in parts if n)
        super().__init__(
            f"{layer}: checking needs about {format_bytes(cost.total)} ({detail}), "
            f"above --max-memory {format_bytes(limit)}"
        )


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


def format_bytes(size: int) -> str:
    """`411.0 MiB`: one decimal in the largest binary unit that keeps the number at least 1."""
    power = min(len(_UNITS) - 1, max(0, (size.bit_length() - 1) // 10))
    return f"{size} B" if power == 0 else f"{size / 1024**power:.1f} {_UNITS[power]}"


def _runnable(r: Resolved, channels: int) -> bool:
    """Whether PyTorch would run this layer on `channels` input channels at all."""
    if any(o < 1 for o in r.output.spatial):
        return False
    if isinstance(r.layer, Conv):
        return channels % r.layer.groups == 0 and r.layer.filters % r.layer.groups == 0
    return not isinstance(r.layer, Pool) or all(a.pad <= a.extent // 2 for a in r.axes)


def _band_rows(*, channels: int, size: tuple[int, ...], padded: tuple[int, ...], band: int = BAND) -> int:
    """Output rows per band: as many as keep the im2col matrix within `band` bytes, at least one."""
    return max(1, band // (channels * math.prod(size) * math.prod(padded[1:]) * ITEM))


def _conv_scratch(r: Resolved) -> int:
    """Bytes of one im2col band, the padded input copy and, with several bands, their joined copy."""
    from .kernels import im2col_bytes

    assert isinstance(r.layer, Conv)
    size, padded = tuple(a.size for a in r.axes), tuple(a.n + 2 * a.pad for a in r.axes)
    out = r.output.spatial
    rows = min(out[0], _band_rows(channels=r.input.channels, size=size, padded=padded))
    joined = r.output.elements * ITEM if rows < out[0] else 0
    return joined + im2col_bytes(
        in_channels=r.input.channels,
        out_spatial=(rows, *out[1:]),
        size=size,
        groups=r.layer.groups,
        padded_spatial=padded if any(a.pad for a in r.axes) else None,
    )


def _pool_scratch(r: Resolved) -> int:
    """Bytes of the padded input copy and the partial results of folding the window axis by axis."""
    spans = [(a.out - 1) * a.stride + a.size for a in r.axes]
    outs = [a.out for a in r.axes]
    copied = any(a.pad for a in r.axes) or spans != [a.n for a in r.axes]
    padded = math.prod(spans) if copied else 0
    folds = sum(math.prod(outs[: k + 1]) * math.prod(spans[k + 1 :]) for k in range(len(spans)))
    return r.input.channels * (padded + folds) * ITEM


def _cost(r: Resolved) -> Cost:
    """Weights, temporaries and activations of one layer, from its resolved shapes."""
    scratch = _conv_scratch(r) if isinstance(r.layer, Conv) else _pool_scratch(r) if r.axes else 0
    activations = (r.input.elements + r.output.elements) * ITEM
    return Cost(weights=r.params * ITEM, scratch=scratch, activations=activations)


def _peak(net: Network) -> tuple[Cost, str]:
    """The costliest layer that would run, and its name."""
    peak, name = Cost(0, 0, net.input.elements * ITEM), "input"
    for r in net.layers:
        if not _runnable(r, r.input.channels):
            break
        cost = _cost(r)
        if cost.total > peak.total:
            peak, name = cost, r.layer.name
    return peak, name


def estimate(net: Network) -> tuple[int, str]:
    """Peak bytes of a check pass (weights, im2col, live activations) and the layer where it occurs."""
    cost, name = _peak(net)
    return cost.total, name


def _zeros(*shape: int) -> Array:
    """Zero-filled float32 weights: untouched pages cost nearly nothing, and values do not matter."""
    import numpy as np

    return np.zeros(shape, dtype=np.float32)


def banded_conv(
    x: Array,
    weight: Array,
    bias: Array | None,
    *,
    stride: tuple[int, ...],
    pad: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
    band: int = BAND,
) -> Array:
    """`kernels.conv` over bands of output rows, so no im2col matrix is much above `band` bytes."""
    import numpy as np

    from .kernels import conv

    xp = np.pad(x, [(0, 0), *((p, p) for p in pad)]) if any(pad) else x
    size = weight.shape[2:]
    rows = _band_rows(channels=x.shape[0], size=size, padded=xp.shape[1:], band=band)
    extent = dilation[0] * (size[0] - 1) + 1
    span, step, flat = (rows - 1) * stride[0] + extent, rows * stride[0], (0,) * len(pad)
    parts: list[Array] = []
    start = 0
    while not parts or start + extent <= xp.shape[1]:
        chunk = xp[:, start : start + span]
        parts.append(conv(chunk, weight, bias, stride=stride, pad=flat, dilation=dilation, groups=groups))
        start += step
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _run_conv(x: Array, r: Resolved, layer: Conv) -> Array:
    """Convolve x with zero weights for the channels x really has."""
    weight = _zeros(layer.filters, x.shape[0] // layer.groups, *(a.size for a in r.axes))
    return banded_conv(
        x,
        weight,
        _zeros(layer.filters) if layer.bias else None,
        stride=tuple(a.stride for a in r.axes),
        pad=tuple(a.pad for a in r.axes),
        dilation=tuple(a.dilation for a in r.axes),
        groups=layer.groups,
    )


def _run_pool(x: Array, r: Resolved, layer: Pool) -> Array:
    """Max- or average-pool x."""
    from .kernels import avg_pool, max_pool

    kernel = max_pool if layer.mode is PoolMode.MAX else avg_pool
    return kernel(
        x,
        size=tuple(a.size for a in r.axes),
        stride=tuple(a.stride for a in r.axes),
        pad=tuple(a.pad for a in r.axes),
        ceil=layer.ceil,
    )


def _run_fc(x: Array, layer: FC) -> Array:
    """Flatten x and apply zero weights for the elements x really has."""
    from .kernels import linear

    return linear(x, _zeros(layer.units, x.size), _zeros(layer.units) if layer.bias else None)


def _forward(x: Array, r: Resolved) -> Array:
    """Run one layer on x, dispatching on its kind."""
    if isinstance(r.layer, Conv):
        return _run_conv(x, r, r.layer)
    if isinstance(r.layer, Pool):
        return _run_pool(x, r, r.layer)
    return _run_fc(x, r.layer)


def _step(x: Array | None, r: Resolved) -> Array | None:
    """The layer's real output, or None when it cannot run (or nothing came before it)."""
    if x is None or not _runnable(r, x.shape[0]):
        return None
    return _forward(x, r)


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
    x: Array | None = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
    checks: list[LayerCheck] = []
    for r in net.layers:
        try:
            x = _step(x, r)
        except ValueError:  # the kernels refuse a layer the resolver gave a shape: a disagreement
            x = None
            checks.append(LayerCheck(r.index, CheckStatus.MISMATCH, None))
        else:
            checks.append(_verdict(r, x))
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
