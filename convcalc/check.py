"""Prove resolved shapes by running every layer through the numpy kernels, batch 1, float32."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from .errors import ConvcalcError
from .model import (
    FC,
    Act,
    Axis,
    BatchNorm,
    CheckStatus,
    Code,
    Conv,
    Deconv,
    Dropout,
    Finding,
    Flatten,
    Fn,
    GlobalPool,
    LayerCheck,
    Network,
    Pool,
    PoolMode,
    Resolved,
    Severity,
)

if TYPE_CHECKING:
    from .kernels import Array, Ints

ITEM = 4
"""Bytes of one float32."""
BAND = 16 * 1024**2
"""im2col bytes per band of output rows: bounds the memory of a conv and keeps it warm in cache."""
BUFFERS = 3 * 8192 * 8
"""Bytes of the buffers one numpy ufunc may make over strided views: 8192 items (numpy's default
`bufsize`) of up to 8 bytes for each of two inputs and the output."""
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


def _power(size: int) -> int:
    """The largest binary unit that keeps `size` at least 1 in it."""
    return min(len(_UNITS) - 1, max(0, (size.bit_length() - 1) // 10))


def format_bytes(size: int, *, power: int | None = None, digits: int = 1) -> str:
    """`411.0 MiB`: `digits` decimals in the unit `power` (default: the largest that keeps it at least 1)."""
    power = _power(size) if power is None else power
    if power == 0:
        return f"{size} B"
    value = size / 1024**power
    return f"{value:.{digits}{'e' if value >= 1e6 else 'f'}} {_UNITS[power]}"  # 2.2e+25 TiB, not 26 digits


def format_apart(a: int, b: int) -> tuple[str, str]:
    """Two sizes that read apart: as `format_bytes` writes them, else in b's unit to 3 decimals, or bytes."""
    power = _power(b)
    if format_bytes(a, power=power) != format_bytes(b, power=power):
        return format_bytes(a), format_bytes(b)
    for digits in (2, 3):
        pair = format_bytes(a, power=power, digits=digits), format_bytes(b, power=power, digits=digits)
        if pair[0] != pair[1] or a == b:
            return pair
    return f"{a:,} B", f"{b:,} B"


def _runnable(r: Resolved, channels: int) -> bool:
    """Whether PyTorch would run this layer on `channels` input channels at all.

    Per-side pads are not PyTorch's: a pool's pad limit holds only on symmetric axes, and 3-D average
    pooling's refusal of an input smaller than the window only when every axis is symmetric.
    """
    layer = r.layer
    if any(o < 1 for o in r.output.spatial):
        return False
    if isinstance(layer, Conv | Deconv):
        if channels % layer.groups or layer.filters % layer.groups:
            return False
        return all(a.output_pad < max(a.stride, a.dilation) for a in r.axes)
    if isinstance(layer, Pool):
        if any(a.pad > a.extent // 2 for a in r.axes if a.symmetric):
            return False
        avg3d = layer.mode is PoolMode.AVG and len(r.axes) == 3 and all(a.symmetric for a in r.axes)
        return not (avg3d and any(a.n < a.size for a in r.axes))
    return True


def _band_rows(*, channels: int, size: tuple[int, ...], padded: tuple[int, ...], band: int = BAND) -> int:
    """Output rows per band: as many as keep the im2col matrix within `band` bytes, at least one."""
    return max(1, band // (channels * math.prod(size) * math.prod(padded[1:]) * ITEM))


def _im2col_scratch(r: Resolved, *, padded: tuple[int, ...], copied: bool) -> int:
    """Bytes of one im2col band, the padded input copy when `copied` and, with several bands, their join."""
    from .kernels import im2col_bytes

    assert isinstance(r.layer, Conv | Deconv)
    size, out = tuple(a.size for a in r.axes), r.output.spatial
    rows = min(out[0], _band_rows(channels=r.input.channels, size=size, padded=padded))
    joined = r.output.elements * ITEM if rows < out[0] else 0
    return joined + im2col_bytes(
        in_channels=r.input.channels,
        out_spatial=(rows, *out[1:]),
        size=size,
        groups=r.layer.groups,
        padded_spatial=padded if copied else None,
    )


def _conv_scratch(r: Resolved) -> int:
    """Bytes of a conv's im2col band, its padded input copy and the join of its bands."""
    padded = tuple(a.n + a.pad + a.end_pad for a in r.axes)
    return _im2col_scratch(r, padded=padded, copied=any(a.pad or a.end_pad for a in r.axes))


def _deconv_scratch(r: Resolved) -> int:
    """Bytes of a transposed conv's spread, padded input (out + E - 1 per axis), weight copy and im2col."""
    assert isinstance(r.layer, Deconv)
    padded = tuple(o + a.extent - 1 for o, a in zip(r.output.spatial, r.axes, strict=True))
    flipped = r.input.channels * (r.layer.filters // r.layer.groups) * math.prod(a.size for a in r.axes)
    return flipped * ITEM + _im2col_scratch(r, padded=padded, copied=True)


def _doubling_items(length: int, size: int, out: int, *, result: int) -> int:
    """Items per other position `kernels.fold_axis` holds at once folding overlapping windows by doubling.

    Follows the kernel step by step: the table of spans 1, 2, 4, ... and the accumulator (both views of the
    input until first replaced), and `result` items for the answer (0 when the answer is counted elsewhere).
    """
    acc = table = peak = width = 0
    shared, span, bits, rows = False, 1, size, length
    while True:
        if bits & 1:
            held = table + (0 if shared else acc)
            if bits == 1:
                return max(peak, held + result)
            if width == 0:
                shared = True
            else:
                acc = length - width - span + 1
                peak = max(peak, held + acc)
            width += span
        bits >>= 1
        rows -= span
        peak = max(peak, table + (0 if shared else acc) + rows)
        if shared:
            acc, shared = table, False
        table = rows
        span *= 2


def _fold_bytes(a: Axis, *, rest: int, keep: bool) -> int:
    """Bytes `kernels.fold_axis` holds at once for one pooled axis, the answer included when `keep`."""
    length, result = (a.out - 1) * a.stride + a.size, a.out * rest * ITEM if keep else 0
    if a.size == 1:
        return result
    if a.stride < a.size:
        return _doubling_items(length, a.size, a.out, result=a.out if keep else 0) * rest * ITEM
    if a.stride == a.size:
        return 8 * a.out + result
    return max(24 * a.out, 16 * a.out + (2 * a.out - 1) * rest * ITEM + result)


def _pool_scratch(r: Resolved) -> int:
    """Bytes of the padded input copy, each axis's fold and, for an average, the divisor."""
    assert isinstance(r.layer, Pool)
    spans = [(a.out - 1) * a.stride + a.size for a in r.axes]
    outs = [a.out for a in r.axes]
    avg, c = r.layer.mode is PoolMode.AVG, r.input.channels
    copied = any(a.pad > 0 or span > a.n + a.pad for a, span in zip(r.axes, spans, strict=True))
    peak, held = 0, c * math.prod(spans) * ITEM if copied else 0
    for k, a in enumerate(r.axes):
        keep = avg or k < len(r.axes) - 1  # a max pool's last fold is its output
        rest = c * math.prod(outs[:k]) * math.prod(spans[k + 1 :])
        peak = max(peak, held + _fold_bytes(a, rest=rest, keep=keep))
        held = a.out * rest * ITEM if keep else 0
    if avg:  # the sums, the divisor being built and one axis's int64 starts, ends and float32 counts
        peak = max(peak, held + 2 * math.prod(outs) * ITEM + 20 * max(outs, default=0))
    return peak


def _adaptive_scratch(r: Resolved) -> int:
    """Bytes of adaptive pooling's worst axis: what it reads, its boxes' bounds, temporaries and answer."""
    ns, outs, c = r.input.spatial, r.output.spatial, r.input.channels
    peak = held = 0
    for k, (n, o) in enumerate(zip(ns, outs, strict=True)):
        rest = c * math.prod(outs[:k]) * math.prod(ns[k + 1 :])
        result = o * rest * ITEM if k < len(ns) - 1 else 0
        if n % o == 0:
            temps = 0
        elif n < o:
            temps = 64 * (n + 1) + o * rest * ITEM
        else:
            temps = 24 * o + (2 * o - 1) * rest * ITEM
        peak = max(peak, held + temps + result)
        held = result
    return peak


_ACT_SCRATCH = {Fn.GELU: 8, Fn.ELU: 1, Fn.SELU: 1}
"""Bytes of temporaries per element an activation makes: GELU two float32 buffers, ELU a mask."""


def _scratch(r: Resolved) -> int:
    """Bytes of the temporaries one layer makes besides its input and output."""
    layer = r.layer
    if isinstance(layer, Conv):
        return _conv_scratch(r)
    if isinstance(layer, Deconv):
        return _deconv_scratch(r)
    if isinstance(layer, Pool):
        return BUFFERS + (_pool_scratch(r) if r.axes else _adaptive_scratch(r))
    if isinstance(layer, Act):
        per_position = 2 * ITEM * (r.input.elements // r.input.channels) if layer.fn is Fn.SOFTMAX else 0
        return _ACT_SCRATCH.get(layer.fn, 0) * r.input.elements + per_position
    return 0


def _cost(r: Resolved) -> Cost:
    """Weights (and running statistics), temporaries and activations of one layer, from its shapes."""
    view = isinstance(r.layer, Flatten | Dropout) or (isinstance(r.layer, Act) and r.layer.fn is Fn.IDENTITY)
    activations = (r.input.elements + (0 if view else r.output.elements)) * ITEM
    return Cost(weights=(r.params + r.non_trainable) * ITEM, scratch=_scratch(r), activations=activations)


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
    stride: Ints,
    pad: Ints,
    dilation: Ints,
    groups: int,
    band: int = BAND,
    pad_end: Ints | None = None,
) -> Array:
    """`kernels.conv` over bands of output rows, so no im2col matrix is much above `band` bytes."""
    import numpy as np

    from .kernels import conv

    ends = pad if pad_end is None else pad_end
    xp = np.pad(x, [(0, 0), *zip(pad, ends, strict=True)]) if any(pad) or any(ends) else x
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
        pad_end=tuple(a.end_pad for a in r.axes),
        dilation=tuple(a.dilation for a in r.axes),
        groups=layer.groups,
    )


def _run_deconv(x: Array, r: Resolved, layer: Deconv) -> Array:
    """Transposed-convolve x with zero weights: the equivalent stride-1 conv, run in bands."""
    from .kernels import as_conv

    weight = _zeros(x.shape[0], layer.filters // layer.groups, *(a.size for a in r.axes))
    dilation = tuple(a.dilation for a in r.axes)
    spread, flipped = as_conv(
        x,
        weight,
        stride=tuple(a.stride for a in r.axes),
        pad=tuple(a.pad for a in r.axes),
        pad_end=tuple(a.end_pad for a in r.axes),
        dilation=dilation,
        output_pad=tuple(a.output_pad for a in r.axes),
        groups=layer.groups,
    )
    ones, zeros = (1,) * len(r.axes), (0,) * len(r.axes)
    bias = _zeros(layer.filters) if layer.bias else None
    return banded_conv(spread, flipped, bias, stride=ones, pad=zeros, dilation=dilation, groups=layer.groups)


def _mode(mode: PoolMode) -> Literal["max", "avg"]:
    """The kernels' name of a pooling mode."""
    return "max" if mode is PoolMode.MAX else "avg"


def _run_pool(x: Array, r: Resolved, layer: Pool) -> Array:
    """Max- or average-pool x, or pool it adaptively to the layer's output size."""
    from .kernels import adaptive_pool, avg_pool, max_pool

    if layer.output is not None:
        dims = x.ndim - 1
        output = layer.output * dims if len(layer.output) == 1 else layer.output
        return adaptive_pool(x, output=output, mode=_mode(layer.mode))
    geometry = {
        "size": tuple(a.size for a in r.axes),
        "stride": tuple(a.stride for a in r.axes),
        "pad": tuple(a.pad for a in r.axes),
        "pad_end": tuple(a.end_pad for a in r.axes),
    }
    if layer.mode is PoolMode.MAX:
        return max_pool(x, ceil=layer.ceil, **geometry)
    return avg_pool(x, ceil=layer.ceil, count_pad=layer.count_pad, **geometry)


def _run_fc(x: Array, layer: FC) -> Array:
    """Flatten x and apply zero weights for the elements x really has."""
    from .kernels import linear

    return linear(x, _zeros(layer.units, x.size), _zeros(layer.units) if layer.bias else None)


def _run_bn(x: Array, layer: BatchNorm) -> Array:
    """Normalise x with zero statistics (and zero scale and shift) for the channels x really has."""
    from .kernels import batch_norm

    c = x.shape[0]
    affine = _zeros(c) if layer.affine else None
    return batch_norm(x, mean=_zeros(c), var=_zeros(c), weight=affine, bias=affine)


def _forward(x: Array, r: Resolved) -> Array:
    """Run one layer on x, dispatching on its kind."""
    from . import kernels

    layer = r.layer
    if isinstance(layer, Conv):
        return _run_conv(x, r, layer)
    if isinstance(layer, Deconv):
        return _run_deconv(x, r, layer)
    if isinstance(layer, Pool):
        return _run_pool(x, r, layer)
    if isinstance(layer, GlobalPool):
        return kernels.global_pool(x, mode=_mode(layer.mode))
    if isinstance(layer, FC):
        return _run_fc(x, layer)
    if isinstance(layer, BatchNorm):
        return _run_bn(x, layer)
    if isinstance(layer, Act):
        return kernels.activation(x, fn=layer.fn.value)
    if isinstance(layer, Dropout):
        return kernels.dropout(x, p=layer.p)
    return kernels.flatten(x)


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
            with np.errstate(all="ignore"):  # zero weights meet -inf padding: only shapes matter
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
