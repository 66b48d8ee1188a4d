"""Read an ONNX model as a spec, through the official `onnx` package (the `onnx` extra).

Only shapes and attributes are read: `load_external_data=False`, and an initializer's shape comes
from its `dims`, never its data (constants of at most 16 values aside: bounds, shapes, pads, scales).
Each node becomes a layer named by the node (or `<op>_<index>` when unnamed), its inputs becoming
`from:`; the graph's one data input gives the NCHW input with the batch dropped, so the spec's layout
is `chw`. Each tensor's shape comes from onnx's shape inference run on a copy of the graph without
its weights; nodes that compute on constants and shapes only (PyTorch's Shape -> Gather -> Concat
before a Reshape) are folded with onnx's reference evaluator. A few patterns are read as one layer:
Reshape -> Transpose -> Reshape (channel shuffle), Div -> Erf -> Add -> Mul -> Mul (GELU), and
Transpose -> LayerNormalization -> Transpose (a layer norm over the channels). ONNX has no lines: an
error names the node's index, name and op type instead, and `convert` writes the node in a comment.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

from ..build import Located, LocatedList, build
from ..errors import SpecError
from ..model import Spec
from .onnx_graph import PATTERNS, _consumers, _fold, _infer, _small

BINARY = True
"""The loader hands this reader the file's path (or standard input's bytes), not text."""
EXTRA = "reading ONNX needs the onnx package: pip install 'convcalc[onnx]'"
_TYPES = {1: "a number", 2: "an integer", 3: "a string", 7: "a list of integers"}
"""The AttributeProto types read, as errors name them."""
_NOWHERE: Any = (None, None)
"""ONNX has no lines: layers stand nowhere in the file (build reads (None, None) as unlocated)."""
ROUNDS = 4
"""At most this many rounds of shape inference and folding."""
_UNSET = 1 << 62
"""Slice's ends beyond this are "to the end" (PyTorch writes INT64_MAX)."""


class Noted(LocatedList):
    """The layers list, with the ONNX node each layer comes from (`convert` writes it as a comment)."""

    __slots__ = ("notes", "tensors")

    def __init__(self, items: list[Any], *, notes: dict[str, str], tensors: dict[str, str]) -> None:
        super().__init__(items, start=_NOWHERE, at=[_NOWHERE] * len(items))
        self.notes = notes
        """Each layer's note, by layer name: `node 3 'conv1' (Conv)`."""
        self.tensors = tensors
        """The ONNX tensor each layer gives, by layer name (a layer inside one node's reading has none)."""


def _onnx(file: str | None) -> Any:
    """The onnx module, or a one-line error naming the extra."""
    try:
        return importlib.import_module("onnx")
    except ImportError:
        raise SpecError(EXTRA, file=file) from None


class _Node:
    """One node being read: its attributes, and errors that name it."""

    def __init__(self, node: Any, index: int, net: _Net) -> None:
        self.node = node
        self.index = index
        self.net = net
        self.op = str(node.op_type)
        self.attrs = {a.name: a for a in node.attribute}

    def fail(self, text: str) -> SpecError:
        """An error naming this node."""
        name = f" {self.node.name!r}" if self.node.name else ""
        return SpecError(f"node {self.index}{name} ({self.op}): {text}", file=self.net.file)

    def attr(self, key: str, kind: int) -> Any:
        """An attribute of the given AttributeProto type, or None; another type is an error."""
        a = self.attrs.get(key)
        if a is not None and a.type != kind:
            raise self.fail(f"attribute {key!r} must be {_TYPES[kind]}")
        return a

    def ints(self, key: str, default: list[int], length: int | None = None) -> list[int]:
        """An INTS attribute (of `length` values when given)."""
        a = self.attr(key, 7)
        values = [int(v) for v in a.ints] if a is not None else default
        if length is not None and len(values) != length:
            raise self.fail(f"{key} has {len(values)} values, expected {length}")
        return values

    def integer(self, key: str, default: int) -> int:
        """An INT attribute."""
        a = self.attr(key, 2)
        return int(a.i) if a is not None else default

    def number(self, key: str) -> float | None:
        """A FLOAT attribute, or None."""
        a = self.attr(key, 1)
        return float(a.f) if a is not None else None

    def string(self, key: str, default: str) -> str:
        """A STRING attribute."""
        a = self.attr(key, 3)
        return a.s.decode("utf-8", "replace") if a is not None else default

    def source(self, k: int = 0) -> str:
        """The layer that gives the node's k-th input."""
        if k >= len(self.node.input) or not self.node.input[k]:
            raise self.fail(f"input {k} is missing")
        tensor = self.node.input[k]
        if tensor in self.net.consts or tensor in self.net.computed:
            raise self.fail(f"input {k} ({tensor!r}) is a constant where a layer's output is expected")
        if tensor not in self.net.names:
            raise self.fail(
                f"reads {tensor!r}, which no earlier node gives (the graph is cyclic or not sorted)"
            )
        return self.net.names[tensor]

    def weight(self, k: int, rank: int | None = None) -> list[int]:
        """The shape of a constant input (an initializer), never its data."""
        if k >= len(self.node.input) or self.node.input[k] not in self.net.consts:
            raise self.fail(f"input {k} must be a constant weight (an initializer)")
        dims = self.net.consts[self.node.input[k]]
        if rank is not None and len(dims) != rank:
            raise self.fail(f"expected a {rank}-D weight, got shape {dims}")
        return dims

    def has(self, k: int) -> bool:
        """Whether the optional input k is given."""
        return k < len(self.node.input) and bool(self.node.input[k])

    def constant(self, k: int, what: str) -> list[int] | None:
        """The values of the optional constant input k as integers (None when not given)."""
        if not self.has(k):
            return None
        values = self.net.values.get(self.node.input[k])
        if values is None:
            raise self.fail(f"{what} ({self.node.input[k]!r}) must be a constant (or computed from shapes)")
        return [int(v) for v in values]

    def learned(self, k: int) -> bool:
        """Whether input k is a weight the file keeps as an initializer (not a Constant node's literal)."""
        return self.has(k) and self.node.input[k] not in self.net.literals

    def axis(self, default: int) -> int:
        """The `axis` attribute, counted from the front (the batch is 0) by the rank of input 0."""
        axis = self.integer("axis", default)
        return axis + self.net.ranks[self.source(0)] if axis < 0 else axis

    def dims(self, k: int = 0) -> list[int]:
        """Input k's shape, the batch first, every size after it known."""
        shape = self.net.shapes.get(self.node.input[k]) if self.has(k) else None
        if shape is None or any(d is None for d in shape[1:]):
            raise self.fail(f"the shape of input {k} is not known (onnx's shape inference cannot tell it)")
        return [1 if d is None else d for d in shape]

    def out(self) -> list[int]:
        """The shape of the node's first output, the batch first, every size after it known."""
        shape = self.net.shapes.get(self.node.output[0])
        if shape is None or any(d is None for d in shape[1:]):
            raise self.fail("the output's shape is not known (onnx's shape inference cannot tell it)")
        return [1 if d is None else d for d in shape]


class _Net:
    """The layers made so far and, per tensor, the layer that gives it."""

    def __init__(
        self,
        file: str | None,
        consts: dict[str, list[int]],
        values: dict[str, list[float]],
        shapes: dict[str, list[int | None]] | None = None,
    ) -> None:
        self.file = file
        self.consts = consts
        self.values = values
        """Constants small enough to read (and values folded from shapes), by name."""
        self.shapes = shapes or {}
        """Each tensor's shape as onnx's shape inference gives it (None for a size it cannot tell)."""
        self.computed: set[str] = set()
        self.literals: set[str] = set()
        """Outputs of Constant nodes: PyTorch writes a norm without affine with Constant ones and zeros,
        and a learned scale as an initializer."""
        """Tensors computed from constants and shapes only (no layer reads them)."""
        self.layers: list[Located] = []
        self.notes: dict[str, str] = {}
        self.tensors: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.taken: set[str] = {"input"}
        self.matmuls: set[str] = set()
        """The fc layers read from a MatMul, which a following Add may give a bias."""
        self.ranks: dict[str, int] = {}
        """Each layer's output rank, the batch counted (an axis may count from the end)."""

    def add(
        self,
        n: _Node,
        values: dict[str, Any],
        *,
        sources: list[str] | None = None,
        rank: int | None = None,
        output: int | None = 0,
        name: str | None = None,
        note: str | None = None,
    ) -> str:
        """Add one layer for a node (of output `rank`, else its input's); its output names it."""
        name = name or n.node.name or f"{n.op}_{n.index}"
        if name in self.taken:
            name = f"{name}_{n.index}"
        while name in self.taken:
            name = f"{name}_"
        self.taken.add(name)
        froms = sources if sources is not None else [n.source(0)]
        item = {
            "type": values.pop("type"),
            "name": name,
            **values,
            "from": froms[0] if len(froms) == 1 else froms,
        }
        self.layers.append(Located(item, start=_NOWHERE, at={}))
        self.notes[name] = note or f"node {n.index} {n.node.name!r} ({n.op})"
        if output is not None:
            self.names[n.node.output[output]] = name
            self.tensors[name] = n.node.output[output]
        self.ranks[name] = rank if rank is not None else self.ranks[froms[0]]
        return name

    def alias(self, n: _Node) -> None:
        """A node that passes its input through: its output is its input's layer."""
        self.names[n.node.output[0]] = n.source(0)


def _same(n: _Node, kernel: list[int], strides: list[int], dilations: list[int], lower: bool) -> Any:
    """auto_pad SAME_*: ceil(N/S) out, the total pad split evenly, the odd row before (LOWER) or after."""
    sizes = n.dims(0)[2:]
    pairs = []
    for size, k, s, d in zip(sizes, kernel, strides, dilations, strict=True):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        small, large = total // 2, total - total // 2
        pairs.append([large, small] if lower else [small, large])
    if all(b == e for b, e in pairs):
        return _one([b for b, _ in pairs])
    return pairs


def _pads(n: _Node, spatial: int, kernel: list[int] | None = None, strides: list[int] | None = None) -> Any:
    """ONNX pads (all begins, then all ends) as convcalc's `pad`: one number, per axis, or per side."""
    mode = n.string("auto_pad", "NOTSET")
    if mode == "SAME_UPPER":  # ceil(N/S), the odd pixel at the end: TensorFlow's rule, convcalc's `same`
        return "same"
    if mode == "SAME_LOWER" and kernel is not None and strides is not None:
        dilations = n.ints("dilations", [1] * spatial, spatial)
        return _same(n, kernel, strides, dilations, lower=True)
    if mode == "VALID":
        return 0
    if mode != "NOTSET":
        raise n.fail(f"auto_pad {mode} has no convcalc equivalent (SAME_UPPER, SAME_LOWER, VALID and pads)")
    pads = n.ints("pads", [0] * 2 * spatial)
    return _sides(n, pads, spatial)


def _sides(n: _Node, pads: list[int], spatial: int) -> Any:
    """Begins then ends, one per axis, as one number, one per axis, or [before, after] per axis."""
    if len(pads) != 2 * spatial:
        raise n.fail(f"pads has {len(pads)} values, expected {2 * spatial}")
    pairs = [[pads[i], pads[i + spatial]] for i in range(spatial)]
    if all(b == e for b, e in pairs):
        return _one([b for b, _ in pairs])
    return pairs


def _one(values: list[int]) -> Any:
    """A list of equal values as one number."""
    return values[0] if len(set(values)) == 1 else values


def _conv(net: _Net, n: _Node, *, deconv: bool = False) -> None:
    """Conv and ConvTranspose: the weight's shape gives filters and kernel; bias if a third input."""
    dims = n.weight(1)
    if len(dims) < 3:
        raise n.fail(f"expected a weight of rank 3 or more, got shape {dims}")
    spatial = len(dims) - 2
    group = n.integer("group", 1)
    kernel = n.ints("kernel_shape", dims[2:], spatial)
    strides = n.ints("strides", [1] * spatial, spatial)
    dilations = n.ints("dilations", [1] * spatial, spatial)
    values: dict[str, Any] = {
        "type": "deconv" if deconv else "conv",
        "filters": dims[1] * group if deconv else dims[0],
        "size": _one(kernel),
        "stride": _one(strides),
        "pad": 0 if deconv else _pads(n, spatial, kernel, strides),
        "dilation": _one(dilations),
        "groups": group,
        "bias": n.has(2),
    }
    if deconv:
        extra = n.ints("output_padding", [0] * spatial, spatial)
        mode = n.string("auto_pad", "NOTSET")
        if "output_shape" in n.attrs or mode in ("SAME_UPPER", "SAME_LOWER"):
            values["pad"], extra = _deconv_pads(n, kernel, strides, dilations, extra, mode)
        else:
            values["pad"] = _pads(n, spatial)
        values["output_pad"] = _one(extra)
    net.add(n, values)


def _deconv_pads(
    n: _Node, kernel: list[int], strides: list[int], dilations: list[int], extra: list[int], mode: str
) -> tuple[Any, list[int]]:
    """ConvTranspose's pads from `output_shape` (or N x S for auto_pad SAME_*), as ONNX works them out:
    the total S(N-1) + output_padding + (K-1)D + 1 - out split in two, the odd row at the end for
    SAME_UPPER, at the start otherwise; an output larger than that is output_padding."""
    sizes = n.dims(0)[2:]
    spatial = len(sizes)
    wanted = n.ints("output_shape", [])
    if wanted:
        wanted = wanted[-spatial:]
        if len(wanted) != spatial:
            raise n.fail(f"output_shape has {len(wanted)} values, expected {spatial}")
    else:
        wanted = [size * s for size, s in zip(sizes, strides, strict=True)]
    pairs, pads = [], []
    for i, size in enumerate(sizes):
        total = strides[i] * (size - 1) + extra[i] + (kernel[i] - 1) * dilations[i] + 1 - wanted[i]
        if total < 0:
            extra[i] -= total
            total = 0
        small, large = total // 2, total - total // 2
        pairs.append([small, large] if mode == "SAME_UPPER" else [large, small])
        pads.extend(pairs[-1])
    return _sides(n, [b for b, _ in pairs] + [e for _, e in pairs], spatial), extra


def _pool(net: _Net, n: _Node, mode: str) -> None:
    """MaxPool and AveragePool: ONNX's stride defaults to 1, its count_include_pad to 0."""
    kernel = n.ints("kernel_shape", [])
    if not kernel:
        raise n.fail("kernel_shape is missing")
    if any(d != 1 for d in n.ints("dilations", [])):
        raise n.fail("a dilated pool has no convcalc equivalent")
    strides = n.ints("strides", [1] * len(kernel), len(kernel))
    values: dict[str, Any] = {
        "type": "pool",
        "mode": mode,
        "size": _one(kernel),
        "stride": _one(strides),
        "pad": _pads(n, len(kernel), kernel, strides),
        "ceil": n.integer("ceil_mode", 0) != 0,
    }
    if mode == "avg":
        values["count_pad"] = n.integer("count_include_pad", 0) != 0
    net.add(n, values)


def _gemm(net: _Net, n: _Node) -> None:
    """Gemm: A x B (+ C), B a constant weight; transB picks which of its sizes is the units."""
    if n.integer("transA", 0):
        raise n.fail("transA=1 has no convcalc equivalent")
    dims = n.weight(1, 2)
    units = dims[0] if n.integer("transB", 0) else dims[1]
    net.add(n, {"type": "fc", "units": units, "bias": n.has(2)}, rank=2)


def _matmul(net: _Net, n: _Node) -> None:
    """MatMul by a constant 2-D weight: an fc without bias (a following Add of a constant is its bias)."""
    dims = n.weight(1, 2)
    if net.ranks[n.source(0)] != 2:
        raise n.fail("a MatMul of an input that is not 2-D (batch x features) is not read; Flatten first")
    net.matmuls.add(net.add(n, {"type": "fc", "units": dims[1], "bias": False}, rank=2))


def _merge(net: _Net, n: _Node, kind: str) -> None:
    """Add, Mul, Sub and Div of layers (Sub as add, Div as mul: the same shapes and counts).

    An Add of a constant right after a MatMul is that fc's bias; any other constant operand
    (an input normalisation's mean and std, a scalar, a trained layer scale) keeps the shape and is
    read as an `identity` standing for it, with a kept-out note: nothing of it is counted."""
    inputs = list(n.node.input)
    consts = [t for t in inputs if t in net.consts or t in net.computed]
    if consts:
        if len(inputs) != 2 or len(consts) != 1:
            raise n.fail(f"{n.op} of {len(inputs)} inputs, {len(consts)} of them constant, is not read")
        k = 0 if inputs[0] not in consts else 1
        source = n.source(k)
        fc = next((layer for layer in net.layers if layer["name"] == source), None)
        if n.op == "Add" and fc is not None and source in net.matmuls:
            fc["bias"] = True
            net.names[n.node.output[0]] = source
            net.tensors[source] = n.node.output[0]
            return
        shape, other = n.dims(k), n.net.consts.get(consts[0], [])
        if len(other) > len(shape) or any(
            d not in (1, s) for d, s in zip(reversed(other), reversed(shape), strict=False)
        ):
            raise n.fail(f"{n.op} by the constant {consts[0]!r} of shape {other} changes the shape {shape}")
        what = f"ONNX {n.op} by a constant of shape {other}"
        net.add(n, {"type": "identity", "stands_for": what}, sources=[source])
        return
    net.add(n, {"type": kind}, sources=[n.source(k) for k in range(len(inputs))])


def _concat(net: _Net, n: _Node) -> None:
    """Concat over the channels (axis 1)."""
    if n.axis(1) != 1:
        raise n.fail(f"concatenation over axis {n.integer('axis', 1)}: only axis 1 (the channels) is read")
    net.add(n, {"type": "concat"}, sources=[n.source(k) for k in range(len(n.node.input))])


def _split(net: _Net, n: _Node) -> None:
    """Split over the channels: one `split` layer per output, `<name>.<part>`."""
    if n.axis(0) != 1:
        raise n.fail(f"a split over axis {n.integer('axis', 0)}: only axis 1 (the channels) is read")
    channels = n.dims(0)[1]
    sizes = n.constant(1, "split") if n.has(1) else n.ints("split", [])
    outputs = len(n.node.output)
    if not sizes:
        part = -(-channels // outputs)
        sizes = [min(part, channels - part * i) for i in range(outputs)]
    if len(sizes) != outputs or sum(sizes) != channels or min(sizes) < 1:
        raise n.fail(f"split sizes {sizes} for {outputs} outputs of {channels} channels")
    base = n.node.name or f"{n.op}_{n.index}"
    source = n.source(0)
    for part in range(outputs):
        net.add(
            n,
            {"type": "split", "sizes": sizes, "part": part},
            sources=[source],
            output=part,
            name=f"{base}.{part}",
        )


def _flatten(net: _Net, n: _Node) -> None:
    """Flatten from axis 1."""
    if n.axis(1) != 1:
        raise n.fail(f"flatten from axis {n.integer('axis', 1)}: only axis 1 is read")
    net.add(n, {"type": "flatten"}, rank=2)


def _softmax(net: _Net, n: _Node) -> None:
    """Softmax over the channels."""
    if n.axis(-1) != 1:
        raise n.fail(f"softmax over axis {n.integer('axis', -1)}: only the channels (axis 1) are read")
    net.add(n, {"type": "act", "fn": "softmax"})


def _reshaped(net: _Net, n: _Node, shape: list[int]) -> None:
    """A layer giving `shape` (the batch first): [N, -1] or [N, C] is a flatten, any other a reshape."""
    if len(shape) == 2:
        net.add(n, {"type": "flatten"}, rank=2)
    else:
        net.add(n, {"type": "reshape", "shape": shape[1:]}, rank=len(shape))


def _reshape(net: _Net, n: _Node) -> None:
    """Reshape by a constant (or computed) shape that keeps the batch first."""
    shape = n.constant(1, "the shape")
    if shape is None:
        raise n.fail("input 1 (the shape) is missing")
    if len(shape) < 2 or shape[0] not in (0, 1, -1):
        raise n.fail(f"Reshape to {shape}: only shapes that keep the batch first (N x ...) are read")
    if shape[1:] == [-1]:
        net.add(n, {"type": "flatten"}, rank=2)
        return
    if 0 in shape[1:] or shape.count(-1) + (shape[0] == -1) > 1:
        shape = n.out()
    _reshaped(net, n, shape)


def _squeeze(net: _Net, n: _Node) -> None:
    """Squeeze and Unsqueeze with constant axes (never the batch): the shape onnx works out."""
    axes = (n.constant(1, "axes") if n.has(1) else None) or n.ints("axes", [])
    rank = net.ranks[n.source(0)]
    out = rank + len(axes) if n.op == "Unsqueeze" else rank - len(axes)
    counted = out if n.op == "Unsqueeze" else rank
    if not axes or 0 in [a + counted if a < 0 else a for a in axes]:
        raise n.fail("only constant axes after the batch are read")
    _reshaped(net, n, n.out())


def _transpose(net: _Net, n: _Node) -> None:
    """A Transpose that keeps every axis in place; the layouts it reads are patterns (channel shuffle,
    a layer norm over channels last)."""
    perm = n.ints("perm", [])
    if perm != sorted(perm):
        raise n.fail(
            f"Transpose {perm} is read only inside a channel shuffle (Reshape -> Transpose -> Reshape) "
            "or around a LayerNormalization over channels last"
        )
    net.alias(n)


def _clip(net: _Net, n: _Node) -> None:
    """Clip: relu (0, none), relu6 (0, 6) or hardtanh (-1, 1); other bounds have no act of their own."""
    low: float | None = n.number("min")
    high: float | None = n.number("max")
    for k in (1, 2):
        if n.has(k):
            tensor = n.node.input[k]
            if tensor not in net.values or len(net.values[tensor]) != 1:
                raise n.fail(f"bound {tensor!r} must be a constant scalar")
            if k == 1:
                low = net.values[tensor][0]
            else:
                high = net.values[tensor][0]
    bounds: dict[tuple[float | None, float | None], str] = {
        (0.0, None): "relu",
        (0.0, 6.0): "relu6",
        (-1.0, 1.0): "hardtanh",
    }
    fn = bounds.get((low, high))
    if fn is None:
        raise n.fail(f"Clip to [{low}, {high}] has no convcalc activation (relu, relu6, hardtanh)")
    net.add(n, {"type": "act", "fn": fn})


_MODES = {
    ("nearest", 1): "nearest",
    ("nearest", 2): "nearest",
    ("nearest", 3): "nearest",
    ("linear", 1): "linear",
    ("linear", 2): "bilinear",
    ("linear", 3): "trilinear",
    ("cubic", 2): "bicubic",
}
"""Resize's mode and the spatial axes, as convcalc's upsample mode."""


def _resize(net: _Net, n: _Node) -> None:
    """Resize (scales or sizes, constant or computed) and Upsample (scales): an upsample layer."""
    shape = n.dims(0)
    spatial = len(shape) - 2
    mode = _MODES.get((n.string("mode", "nearest"), spatial))
    if mode is None:
        raise n.fail(f"mode {n.string('mode', 'nearest')!r} on {spatial} spatial axes has no upsample mode")
    values: dict[str, Any] = {"type": "upsample", "mode": mode}
    if n.string("coordinate_transformation_mode", "half_pixel") == "align_corners" and mode != "nearest":
        values["align_corners"] = True
    k = 1 if n.op == "Upsample" else 2
    scales = [float(v) for v in net.values.get(n.node.input[k], [])] if n.has(k) else []
    if n.op == "Upsample" and not n.has(1):
        scales = [float(v) for v in (n.attr("scales", 6).floats if "scales" in n.attrs else [])]
    if scales:
        if len(scales) != len(shape) or scales[:2] != [1.0, 1.0]:
            raise n.fail(f"scales {scales}: only the spatial axes may be scaled")
        values["scale"] = _one(scales[2:])  # type: ignore[arg-type]
    else:
        out = n.out()
        if out[:2] != shape[:2]:
            raise n.fail(f"resizing {shape[1:]} to {out[1:]}: only the spatial axes may change")
        values["size"] = _one(out[2:])
    net.add(n, values)


_PAD_MODES = {"constant": "zeros", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _pad(net: _Net, n: _Node) -> None:
    """Pad by constant (or computed) pads on the spatial axes: a pad layer; negative pads are a crop."""
    shape = n.dims(0)
    rank = len(shape)
    pads = n.constant(1, "pads") if n.has(1) else n.ints("pads", [])
    axes = n.constant(3, "axes")
    if pads is None:
        raise n.fail("the pads are missing")
    if axes is not None:
        full = [0] * 2 * rank
        for i, a in enumerate(axes):
            a = a + rank if a < 0 else a
            full[a], full[a + rank] = pads[i], pads[i + len(axes)]
        pads = full
    if len(pads) != 2 * rank:
        raise n.fail(f"pads has {len(pads)} values, expected {2 * rank}")
    if any(pads[i] or pads[i + rank] for i in (0, 1)):
        raise n.fail(f"pads {pads}: only the spatial axes may be padded")
    mode = _PAD_MODES.get(n.string("mode", "constant"))
    if mode is None:
        raise n.fail(f"mode {n.string('mode', 'constant')!r} has no convcalc pad mode")
    spatial = [p for i, p in enumerate(pads) if i % rank >= 2]
    if all(p <= 0 for p in spatial):
        net.add(n, {"type": "crop", "crop": _sides(n, [-p for p in spatial], rank - 2)})
        return
    if any(p < 0 for p in spatial):
        raise n.fail(f"pads {pads} pad some sides and crop others")
    values = {"type": "pad", "pad": _sides(n, spatial, rank - 2)}
    if mode != "zeros":
        values["mode"] = mode
    net.add(n, values)


def _slice(net: _Net, n: _Node) -> None:
    """Slice with constant starts and ends, step 1: of the channels a split part, of the spatial axes
    a crop."""
    shape = n.dims(0)
    rank = len(shape)
    if n.op == "Slice" and "starts" in n.attrs:
        starts, ends = n.ints("starts", []), n.ints("ends", [])
        axes = n.ints("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = n.constant(1, "starts") or [], n.constant(2, "ends") or []
        axes = n.constant(3, "axes") or list(range(len(starts)))
        steps = n.constant(4, "steps") or [1] * len(starts)
    if not (len(starts) == len(ends) == len(axes) == len(steps)) or any(s != 1 for s in steps):
        raise n.fail(f"starts {starts}, ends {ends}, axes {axes}, steps {steps}: only steps of 1 are read")
    kept: dict[int, tuple[int, int]] = {}
    for start, end, axis in zip(starts, ends, axes, strict=True):
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis < rank:
            raise n.fail(f"axis {axis} of a {rank}-D input")
        size = shape[axis]
        start = min(max(start + size if start < 0 else start, 0), size)
        end = min(max(end + size if end < 0 else end, 0), size) if end < _UNSET else size
        if end <= start:
            raise n.fail(f"the slice [{start}:{end}] of axis {axis} is empty")
        if (start, end) != (0, size):
            kept[axis] = (start, end)
    if not kept:
        net.alias(n)
        return
    if 0 in kept or (1 in kept and len(kept) > 1):
        raise n.fail("only a slice of the channels alone, or of the spatial axes, is read")
    if 1 in kept:
        start, end = kept[1]
        sizes = [s for s in (start, end - start, shape[1] - end) if s]
        net.add(n, {"type": "split", "sizes": sizes, "part": 1 if start else 0})
        return
    cuts = [kept.get(a, (0, shape[a])) for a in range(2, rank)]
    pads = [b for b, _ in cuts] + [shape[a + 2] - e for a, (_, e) in enumerate(cuts)]
    net.add(n, {"type": "crop", "crop": _sides(n, pads, rank - 2)})


def _norm(net: _Net, n: _Node, kind: str) -> None:
    """InstanceNormalization and LayerNormalization over the channels of a 2-D input: affine (2C
    weights) when the scale is an initializer, not a Constant node (PyTorch's affine=False)."""
    if kind == "layer_norm":
        if net.ranks[n.source(0)] != 2 or n.axis(-1) != 1:
            raise n.fail(
                "a LayerNormalization is read over the channels: of a 2-D input, or channels last "
                "between Transposes"
            )
        net.add(n, {"type": "layer_norm", "affine": n.learned(1)})
        return
    net.add(n, {"type": "instance_norm", "affine": n.learned(1)})


def _prelu(net: _Net, n: _Node) -> None:
    """PRelu: one slope, or one per channel (a slope of C values)."""
    slope = n.weight(1)
    net.add(n, {"type": "prelu", "per_channel": math.prod(slope) > 1})


def _reduce(net: _Net, n: _Node, mode: str) -> None:
    """ReduceMean/ReduceMax over every spatial axis: a global pool (then a flatten without keepdims)."""
    rank = net.ranks[n.source(0)]
    axes = (n.constant(1, "axes") if n.has(1) else None) or n.ints("axes", [])
    if sorted(a + rank if a < 0 else a for a in axes) != list(range(2, rank)) or rank < 3:
        raise n.fail(f"a reduction over axes {axes}: only over every spatial axis (a global pool) is read")
    if n.integer("keepdims", 1):
        net.add(n, {"type": "global_pool", "mode": mode})
        return
    pool = net.add(n, {"type": "global_pool", "mode": mode}, output=None)
    net.add(n, {"type": "flatten"}, sources=[pool], rank=2, name=f"{pool}_flatten")


def _layer(**values: Any) -> Callable[[_Net, _Node], None]:
    """An op that is one layer with fixed keys."""

    def read(net: _Net, n: _Node) -> None:
        """Add the layer."""
        net.add(n, dict(values))

    return read


OPS: dict[str, Callable[[_Net, _Node], None]] = {
    "Conv": _conv,
    "ConvTranspose": lambda net, n: _conv(net, n, deconv=True),
    "MaxPool": lambda net, n: _pool(net, n, "max"),
    "AveragePool": lambda net, n: _pool(net, n, "avg"),
    "GlobalAveragePool": _layer(type="global_pool", mode="avg"),
    "GlobalMaxPool": _layer(type="global_pool", mode="max"),
    "ReduceMean": lambda net, n: _reduce(net, n, "avg"),
    "ReduceMax": lambda net, n: _reduce(net, n, "max"),
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Squeeze": _squeeze,
    "Unsqueeze": _squeeze,
    "Transpose": _transpose,
    "BatchNormalization": lambda net, n: _layer(type="bn", **({} if n.learned(1) else {"affine": False}))(
        net, n
    ),
    "InstanceNormalization": lambda net, n: _norm(net, n, "instance_norm"),
    "LayerNormalization": lambda net, n: _norm(net, n, "layer_norm"),
    "LRN": lambda net, n: _layer(type="lrn", size=n.integer("size", 0))(net, n),
    "PRelu": _prelu,
    "Add": lambda net, n: _merge(net, n, "add"),
    "Sub": lambda net, n: _merge(net, n, "add"),
    "Mul": lambda net, n: _merge(net, n, "mul"),
    "Div": lambda net, n: _merge(net, n, "mul"),
    "Max": lambda net, n: _merge(net, n, "max"),
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Pad": _pad,
    "Resize": _resize,
    "Upsample": _resize,
    "Dropout": _layer(type="dropout"),
    "Identity": lambda net, n: net.alias(n),
    "Softmax": _softmax,
    "Clip": _clip,
    "Gelu": lambda net, n: _layer(
        type="act", fn="gelu_tanh" if n.string("approximate", "none") == "tanh" else "gelu"
    )(net, n),
    **{
        op: _layer(type="act", fn=fn)
        for op, fn in {
            "Relu": "relu",
            "LeakyRelu": "leaky_relu",
            "Sigmoid": "sigmoid",
            "Tanh": "tanh",
            "HardSigmoid": "hardsigmoid",
            "HardSwish": "hardswish",
            "Elu": "elu",
            "Selu": "selu",
            "Softplus": "softplus",
            "Softsign": "softsign",
            "Mish": "mish",
        }.items()
    },
}
"""ONNX op types and the reader of each."""


def to_data(source: str | bytes, *, file: str | None = None) -> Located:
    """A model (a path or its bytes) as the data a YAML spec would give: `input` (C, H, W),
    `layout: chw` and `layers`."""
    return from_model(load(source, file=file), file=file)


def _constants(onnx: Any, graph: Any, file: str | None) -> tuple[dict[str, list[int]], dict[str, Any]]:
    """Every constant's shape (initializers and Constant nodes) and the small ones' values as arrays."""
    consts = {t.name: [int(d) for d in t.dims] for t in graph.initializer}
    arrays = {t.name: a for t in graph.initializer if (a := _small(onnx, t)) is not None}
    for index, node in enumerate(graph.node):
        if node.op_type == "Constant" and node.output:
            tensor = next((a.t for a in node.attribute if a.name == "value"), None)
            if tensor is None:
                raise _Node(node, index, _Net(file, {}, {})).fail("only a tensor 'value' is read")
            consts[node.output[0]] = [int(d) for d in tensor.dims]
            if (a := _small(onnx, tensor)) is not None:
                arrays[node.output[0]] = a
    return consts, arrays


def _input(graph: Any, consts: dict[str, list[int]], file: str | None) -> tuple[str, list[int]]:
    """The graph's one data input: its name and N x C x ... sizes (the batch may be unknown)."""
    inputs = [i for i in graph.input if i.name not in consts]
    if len(inputs) != 1:
        raise SpecError(f"expected one graph input that is not a weight, found {len(inputs)}", file=file)
    dims = []
    for d in inputs[0].type.tensor_type.shape.dim:
        dims.append(int(d.dim_value) if d.HasField("dim_value") else None)
    if len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
        shown = "x".join("?" if d is None else str(d) for d in dims)
        raise SpecError(
            f"graph input {inputs[0].name!r} has shape {shown or 'unknown'}: "
            "expected N x C x ... with fixed sizes after the batch",
            file=file,
        )
    return inputs[0].name, [d or 1 for d in dims]


def from_model(model: Any, *, file: str | None = None) -> Located:
    """A loaded ModelProto as a spec's data."""
    onnx = _onnx(file)
    graph = model.graph
    consts, arrays = _constants(onnx, graph, file)
    name, dims = _input(graph, consts, file)
    values = {k: [float(v) for v in a.reshape(-1)] for k, a in arrays.items()}
    net = _Net(file, consts, values)
    net.literals = {n.output[0] for n in graph.node if n.op_type == "Constant" and n.output}
    for _ in range(ROUNDS):  # a folded shape may let onnx infer more shapes, which may fold more
        known = len(arrays)
        net.shapes = _infer(onnx, model, consts, arrays)
        _fold(onnx, model, net, arrays)
        if len(arrays) == known:
            break
    for tensor in net.computed:
        shape = net.shapes.get(tensor)
        if tensor not in consts and shape is not None and None not in shape:
            consts[tensor] = [int(d or 0) for d in shape]
    net.names[name] = "input"
    net.ranks["input"] = len(dims)
    readers = _consumers(graph)
    inside: set[int] = set()
    for index, node in enumerate(graph.node):
        n = _Node(node, index, net)
        if n.op == "Constant" or index in inside:
            continue
        if not node.output or not node.output[0]:
            raise n.fail("the node has no output")
        if node.domain not in ("", "ai.onnx"):
            raise n.fail(f"op domain {node.domain!r} is not read (only the standard ONNX ops)")
        if all(t in net.computed for t in node.output):
            continue
        matcher = PATTERNS.get(n.op)
        found = matcher(net, graph, readers, index) if matcher is not None else None
        if found is not None:
            chain, values = found
            key = graph.node[chain[1]]
            ops = ", ".join(graph.node[i].op_type for i in chain)
            layer = net.add(
                n, values, name=key.name or None, note=f"nodes {chain[0]}-{chain[-1]} {key.name!r} ({ops})"
            )
            net.names[graph.node[chain[-1]].output[0]] = layer
            net.tensors[layer] = graph.node[chain[-1]].output[0]
            inside.update(chain)
            continue
        reader = OPS.get(n.op)
        if reader is None:
            raise n.fail(f"ONNX op {n.op} has no convcalc equivalent")
        reader(net, n)
    if not net.layers:
        raise SpecError("the graph has no layers", file=file)
    for out in graph.output:
        if out.name in net.computed:
            raise SpecError(f"graph output {out.name!r} is computed from constants alone", file=file)
    return Located(
        {
            "input": dims[1:],
            "layout": "chw",
            "layers": Noted(net.layers, notes=net.notes, tensors=net.tensors),
        },
        start=_NOWHERE,
        at={},
    )


def load(source: str | bytes, *, file: str | None = None) -> Any:
    """The ModelProto of a path or of bytes: never the external weights; a bad file is a SpecError."""
    onnx = _onnx(file)
    DecodeError = importlib.import_module("google.protobuf.message").DecodeError

    try:
        if isinstance(source, bytes):
            return onnx.load_model_from_string(source)
        return onnx.load(source, load_external_data=False)
    except DecodeError as e:
        raise SpecError(
            f"not a valid ONNX model (protobuf: {str(e)[:80] or 'cannot decode'})", file=file
        ) from None
    except OSError as e:
        raise SpecError(f"cannot read: {e.strerror or e}", file=file) from None
    except (ValueError, RuntimeError) as e:
        raise SpecError(f"not a valid ONNX model ({str(e)[:80]})", file=file) from None


def parse(source: str | bytes, *, file: str | None = None) -> Spec:
    """An ONNX model (a path or its bytes) as a Spec."""
    return build(to_data(source, file=file), file=file)
