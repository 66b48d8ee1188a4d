"""Walk a spec's layers and compute every shape and count; pure, no I/O."""

from __future__ import annotations

from math import prod

from . import arith
from .errors import SpecError
from .findings import diagnose
from .model import FC, Axis, Conv, Layer, Network, PerAxis, Pool, Resolved, Shape, Spec

MAX_DIMS = 4
"""An input has at most 3 spatial axes and channels."""


def _broadcast(layer: Layer, key: str, value: PerAxis, ndim: int, file: str | None) -> PerAxis:
    if len(value) == 1:
        return value * ndim
    if len(value) == ndim:
        return value
    line, column = layer.where.of(key)
    raise SpecError(
        f"{layer.name}: '{key}' has {len(value)} values but its input has {ndim} spatial axes",
        file=file,
        line=line,
        column=column,
    )


def _axes(layer: Conv | Pool, shape: Shape, file: str | None) -> tuple[Axis, ...]:
    ndim = len(shape.spatial)
    if ndim == 0:
        line, column = layer.where.line, layer.where.column
        raise SpecError(
            f"{layer.name}: a {layer.kind.value} layer needs spatial input, "
            f"but its input is a flat vector of {shape.channels}",
            file=file,
            line=line,
            column=column,
        )
    size = _broadcast(layer, "size", layer.size, ndim, file)
    stride = _broadcast(layer, "stride", layer.stride or layer.size, ndim, file)
    pad = _broadcast(layer, "pad", layer.pad, ndim, file)
    dilation = (
        _broadcast(layer, "dilation", layer.dilation, ndim, file) if isinstance(layer, Conv) else (1,) * ndim
    )
    ceil = isinstance(layer, Pool) and layer.ceil
    return tuple(
        arith.axis(n=n, size=f, stride=s, pad=p, dilation=d, ceil=ceil)
        for n, f, s, p, d in zip(shape.spatial, size, stride, pad, dilation, strict=True)
    )


def resolve_layer(index: int, layer: Layer, shape: Shape, *, file: str | None = None) -> Resolved:
    """One layer's output shape, parameters, FC-equivalent and MACs for an input shape."""
    if isinstance(layer, FC):
        n = shape.elements
        weights = n * layer.units
        params = weights + (layer.units if layer.bias else 0)
        return Resolved(index, layer, shape, Shape((), layer.units), (), params, weights, weights)
    axes = _axes(layer, shape, file)
    spatial = tuple(a.out for a in axes)
    positions = prod(max(0, o) for o in spatial)
    if isinstance(layer, Pool):
        return Resolved(index, layer, shape, Shape(spatial, shape.channels), axes, 0, None, 0)
    out = Shape(spatial, layer.filters)
    per_filter = prod(a.size for a in axes) * (shape.channels // layer.groups)
    params = layer.filters * per_filter + (layer.filters if layer.bias else 0)
    fc_params = shape.elements * positions * layer.filters
    macs = positions * layer.filters * per_filter
    return Resolved(index, layer, shape, out, axes, params, fc_params, macs)


def resolve(spec: Spec, *, input: tuple[int, ...] | None = None) -> Network:
    """Resolve every layer of a spec, stopping after a layer with no output."""
    dims = input or spec.input
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise SpecError(f"the input must be positive integers like (32, 32, 3), got {dims!r}", file=spec.file)
    if len(dims) > MAX_DIMS:
        raise SpecError(
            f"the input has {len(dims)} numbers; expected 1 to {MAX_DIMS} "
            "(up to 3 spatial axes and channels)",
            file=spec.file,
        )
    first = shape = Shape.read(dims, spec.layout)
    layers: list[Resolved] = []
    for index, layer in enumerate(spec.layers, start=1):
        resolved = resolve_layer(index, layer, shape, file=spec.file)
        layers.append(resolved)
        if any(o < 1 for o in resolved.output.spatial):
            break
        shape = resolved.output
    findings = diagnose(spec, dims, first, tuple(layers))
    return Network(spec=spec, input=first, layers=tuple(layers), findings=findings)
