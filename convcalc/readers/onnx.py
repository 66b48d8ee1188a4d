"""Read an ONNX model as a spec, through the official `onnx` package (the `onnx` extra).

Only shapes and attributes are read: `load_external_data=False`, and an initializer's shape comes
from its `dims`, never its data (Clip's scalar bounds aside). Each node becomes a layer named by
the node (or `<op>_<index>` when unnamed), its inputs becoming `from:`; the graph's one data input
gives the NCHW input with the batch dropped, so the spec's layout is `chw`. ONNX has no lines:
an error names the node's index, name and op type instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..build import Located, LocatedList, build
from ..errors import SpecError
from ..model import Spec

SMALL = 8
"""Constants of at most this many values are read (shapes, bounds); larger ones are weights: dims only."""
BINARY = True
"""The loader hands this reader the file's path (or standard input's bytes), not text."""
EXTRA = "reading ONNX needs the onnx package: pip install 'convcalc[onnx]'"
_TYPES = {1: "a number", 2: "an integer", 3: "a string", 7: "a list of integers"}
"""The AttributeProto types read, as errors name them."""
_NOWHERE: Any = (None, None)
"""ONNX has no lines: layers stand nowhere in the file (build reads (None, None) as unlocated)."""


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
        if tensor in self.net.consts:
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

    def axis(self, default: int) -> int:
        """The `axis` attribute, counted from the front (the batch is 0) by the rank of input 0."""
        axis = self.integer("axis", default)
        return axis + self.net.ranks[self.source(0)] if axis < 0 else axis


class _Net:
    """The layers made so far and, per tensor, the layer that gives it."""

    def __init__(self, file: str | None, consts: dict[str, list[int]], values: dict[str, Any]) -> None:
        self.file = file
        self.consts = consts
        self.values = values
        """Initializers small enough to read (scalars), by name."""
        self.layers: list[Located] = []
        self.names: dict[str, str] = {}
        self.taken: set[str] = {"input"}
        self.matmuls: set[str] = set()
        self.ranks: dict[str, int] = {}
        """Each layer's output rank, the batch counted (an axis may count from the end)."""
        """The fc layers read from a MatMul, which a following Add may give a bias."""

    def add(
        self, n: _Node, values: dict[str, Any], *, sources: list[str] | None = None, rank: int | None = None
    ) -> str:
        """Add one layer for a node (of output `rank`, else its input's); its first output names it."""
        name = n.node.name or f"{n.op}_{n.index}"
        if name in self.taken:
            name = f"{name}_{n.index}"
        self.taken.add(name)
        froms = sources if sources is not None else [n.source(0)]
        item = {
            "type": values.pop("type"),
            "name": name,
            **values,
            "from": froms[0] if len(froms) == 1 else froms,
        }
        self.layers.append(Located(item, start=_NOWHERE, at={}))
        self.names[n.node.output[0]] = name
        self.ranks[name] = rank if rank is not None else self.ranks[froms[0]]
        return name

    def alias(self, n: _Node) -> None:
        """A node that passes its input through: its output is its input's layer."""
        self.names[n.node.output[0]] = n.source(0)


def _pads(n: _Node, spatial: int) -> Any:
    """ONNX pads (all begins, then all ends) as convcalc's `pad`: one number, per axis, or per side."""
    mode = n.string("auto_pad", "NOTSET")
    if mode == "SAME_UPPER":  # ceil(N/S), the odd pixel at the end: TensorFlow's rule, convcalc's `same`
        return "same"
    if mode == "VALID":
        return 0
    if mode != "NOTSET":
        raise n.fail(f"auto_pad {mode} has no convcalc equivalent (SAME_UPPER, VALID and pads are read)")
    pads = n.ints("pads", [0] * 2 * spatial)
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
    values: dict[str, Any] = {
        "type": "deconv" if deconv else "conv",
        "filters": dims[1] * group if deconv else dims[0],
        "size": _one(kernel),
        "stride": _one(n.ints("strides", [1] * spatial, spatial)),
        "pad": _pads(n, spatial),
        "dilation": _one(n.ints("dilations", [1] * spatial, spatial)),
        "groups": group,
        "bias": n.has(2),
    }
    if deconv:
        if "output_shape" in n.attrs:
            raise n.fail("output_shape is not read yet; export with pads and output_padding")
        values["output_pad"] = _one(n.ints("output_padding", [0] * spatial, spatial))
    net.add(n, values)


def _pool(net: _Net, n: _Node, mode: str) -> None:
    """MaxPool and AveragePool: ONNX's stride defaults to 1, its count_include_pad to 0."""
    kernel = n.ints("kernel_shape", [])
    if not kernel:
        raise n.fail("kernel_shape is missing")
    if any(d != 1 for d in n.ints("dilations", [])):
        raise n.fail("a dilated pool has no convcalc equivalent")
    values: dict[str, Any] = {
        "type": "pool",
        "mode": mode,
        "size": _one(kernel),
        "stride": _one(n.ints("strides", [1] * len(kernel), len(kernel))),
        "pad": _pads(n, len(kernel)),
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
    """Add and Mul of layers; an Add of a constant right after a MatMul is that fc's bias."""
    consts = [t for t in n.node.input if t in net.consts]
    if consts:
        first = n.node.input[0] if n.node.input[0] not in net.consts else n.node.input[1]
        source = net.names.get(first)
        fc = next((layer for layer in net.layers if layer["name"] == source), None)
        if kind == "add" and fc is not None and source in net.matmuls:
            fc["bias"] = True
            net.names[n.node.output[0]] = source
            return
        raise n.fail(f"{n.op} with a constant ({consts[0]!r}) has no convcalc equivalent")
    net.add(n, {"type": kind}, sources=[n.source(k) for k in range(len(n.node.input))])


def _concat(net: _Net, n: _Node) -> None:
    """Concat over the channels (axis 1)."""
    if n.axis(1) != 1:
        raise n.fail(f"concatenation over axis {n.integer('axis', 1)}: only axis 1 (the channels) is read")
    net.add(n, {"type": "concat"}, sources=[n.source(k) for k in range(len(n.node.input))])


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


def _reshape(net: _Net, n: _Node) -> None:
    """Reshape by a constant shape that keeps the batch: [N, -1] is a flatten, any other a reshape."""
    tensor = n.node.input[1] if n.has(1) else ""
    if tensor not in net.values:
        raise n.fail("only a Reshape to a constant shape is read")
    shape = [int(v) for v in net.values[tensor]]
    if len(shape) < 2 or shape[0] not in (0, 1, -1) or 0 in shape[1:]:
        raise n.fail(f"Reshape to {shape}: only shapes that keep the batch first (N x ...) are read")
    if shape[1:] == [-1]:
        net.add(n, {"type": "flatten"}, rank=2)
    else:
        net.add(n, {"type": "reshape", "shape": shape[1:]}, rank=len(shape))


def _clip(net: _Net, n: _Node) -> None:
    """Clip: relu (0, none), relu6 (0, 6) or hardtanh (-1, 1); other bounds have no act of their own."""
    low: float | None = n.number("min")
    high: float | None = n.number("max")
    for k in (1, 2):
        if n.has(k):
            tensor = n.node.input[k]
            if tensor not in net.values:
                raise n.fail(f"bound {tensor!r} must be a constant scalar")
            if len(net.values[tensor]) != 1:
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
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "BatchNormalization": _layer(type="bn"),
    "Add": lambda net, n: _merge(net, n, "add"),
    "Mul": lambda net, n: _merge(net, n, "mul"),
    "Concat": _concat,
    "Dropout": _layer(type="dropout"),
    "Identity": lambda net, n: net.alias(n),
    "Softmax": _softmax,
    "Clip": _clip,
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
            "Gelu": "gelu",
            "Softplus": "softplus",
            "Softsign": "softsign",
            "Mish": "mish",
        }.items()
    },
}
"""ONNX op types and the reader of each."""


def _small(onnx: Any, tensor: Any) -> list[float] | None:
    """The values of a constant of at most 8 (a Clip bound, a Reshape's shape); None for weights."""
    count = 1
    for d in tensor.dims:
        count *= int(d)
    if count > SMALL or tensor.data_location == 1:  # 1: EXTERNAL
        return None
    try:
        return [float(v) for v in onnx.numpy_helper.to_array(tensor).reshape(-1)]
    except (ValueError, TypeError, IndexError, KeyError):  # a malformed constant: read as a weight
        return None


def to_data(source: str | bytes, *, file: str | None = None) -> Located:
    """A model (a path or its bytes) as the data a YAML spec would give: `input` (C, H, W),
    `layout: chw` and `layers`."""
    return from_model(load(source, file=file), file=file)


def from_model(model: Any, *, file: str | None = None) -> Located:
    """A loaded ModelProto as a spec's data."""
    onnx = _onnx(file)
    graph = model.graph
    consts = {t.name: [int(d) for d in t.dims] for t in graph.initializer}
    values = {t.name: v for t in graph.initializer if (v := _small(onnx, t)) is not None}
    for index, node in enumerate(graph.node):
        if node.op_type == "Constant" and node.output:
            tensor = next((a.t for a in node.attribute if a.name == "value"), None)
            if tensor is None:
                raise _Node(node, index, _Net(file, {}, {})).fail("only a tensor 'value' is read")
            consts[node.output[0]] = [int(d) for d in tensor.dims]
            if (v := _small(onnx, tensor)) is not None:
                values[node.output[0]] = v
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
    net = _Net(file, consts, values)
    net.names[inputs[0].name] = "input"
    net.ranks["input"] = len(dims)
    for index, node in enumerate(graph.node):
        n = _Node(node, index, net)
        if n.op == "Constant":
            continue
        if not node.output or not node.output[0]:
            raise n.fail("the node has no output")
        if node.domain not in ("", "ai.onnx"):
            raise n.fail(f"op domain {node.domain!r} is not read (only the standard ONNX ops)")
        reader = OPS.get(n.op)
        if reader is None:
            raise n.fail(f"ONNX op {n.op} has no convcalc equivalent")
        reader(net, n)
    if not net.layers:
        raise SpecError("the graph has no layers", file=file)
    return Located(
        {
            "input": dims[1:],
            "layout": "chw",
            "layers": LocatedList(net.layers, start=_NOWHERE, at=[_NOWHERE] * len(net.layers)),
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
