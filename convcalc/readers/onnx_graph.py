"""The graph-level parts of the ONNX reader: the op patterns read as one layer (PyTorch's channel
shuffle, the Erf form of GELU, LayerNorm over the channels) and the shapes, from onnx's shape inference
run on a weightless copy of the graph and the shape arithmetic folded by onnx's reference evaluator.
Only `onnx` (the extra) and the standard library: the caller hands the onnx module in."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .onnx import _Net

SMALL = 16
"""Constants of at most this many values are read (shapes, bounds, pads); larger ones are weights."""


def _consumers(graph: Any) -> dict[str, list[int]]:
    """Each tensor's readers by node index (a graph output counts as a reader, index -1)."""
    readers: dict[str, list[int]] = {}
    for index, node in enumerate(graph.node):
        for tensor in node.input:
            readers.setdefault(tensor, []).append(index)
    for out in graph.output:
        readers.setdefault(out.name, []).append(-1)
    return readers


def _next(graph: Any, readers: dict[str, list[int]], index: int, op: str) -> int | None:
    """The one node reading node `index`'s output (a Shape reads no data: not counted), if an `op`."""
    after = readers.get(graph.node[index].output[0], []) if graph.node[index].output else []
    after = [i for i in after if i < 0 or graph.node[i].op_type != "Shape"]
    if len(after) != 1 or after[0] < 0 or graph.node[after[0]].op_type != op:
        return None
    return after[0]


def _near(values: list[float] | None, target: float) -> bool:
    """Whether a constant is the one scalar `target`."""
    return values is not None and len(values) == 1 and abs(values[0] - target) < 1e-4


def _gelu(net: _Net, graph: Any, readers: dict[str, list[int]], index: int) -> tuple[list[int], Any] | None:
    """x / sqrt(2) -> Erf -> + 1 -> x * that -> * 0.5, as PyTorch exports nn.GELU before opset 20."""
    div = graph.node[index]
    if len(div.input) != 2 or not _near(net.values.get(div.input[1]), math.sqrt(2)):
        return None
    chain = [index]
    for op in ("Erf", "Add", "Mul", "Mul"):
        following = _next(graph, readers, chain[-1], op)
        if following is None:
            return None
        chain.append(following)
    _, erf, add, mul, half = (graph.node[i] for i in chain)
    one = [t for t in add.input if t != erf.output[0]]
    x = div.input[0]
    if len(one) != 1 or not _near(net.values.get(one[0]), 1.0) or set(mul.input) != {x, add.output[0]}:
        return None
    if not any(_near(net.values.get(t), 0.5) for t in half.input):
        return None
    return chain, {"type": "act", "fn": "gelu"}


def _shuffle(
    net: _Net, graph: Any, readers: dict[str, list[int]], index: int
) -> tuple[list[int], Any] | None:
    """Reshape N x C x H x W to N x G x C/G x H x W, swap axes 1 and 2, Reshape back: channel_shuffle."""
    transpose = _next(graph, readers, index, "Transpose")
    back = _next(graph, readers, transpose, "Reshape") if transpose is not None else None
    if transpose is None or back is None:
        return None
    perm = [a.ints for a in graph.node[transpose].attribute if a.name == "perm"]
    first, last = net.shapes.get(graph.node[index].input[0]), net.shapes.get(graph.node[back].output[0])
    split = net.shapes.get(graph.node[index].output[0])
    if not perm or list(perm[0]) != [0, 2, 1, 3, 4] or not first or not last or not split:
        return None
    if len(first) != 4 or first[1:] != last[1:] or len(split) != 5 or split[3:] != first[2:]:
        return None
    groups = split[1]
    if groups is None or split[2] is None or groups * split[2] != first[1]:
        return None
    return [index, transpose, back], {"type": "channel_shuffle", "groups": groups}


def _channels_last(
    net: _Net, graph: Any, readers: dict[str, list[int]], index: int
) -> tuple[list[int], Any] | None:
    """Transpose to channels last, LayerNormalization over the last axis, Transpose back: layer_norm."""
    norm = _next(graph, readers, index, "LayerNormalization")
    back = _next(graph, readers, norm, "Transpose") if norm is not None else None
    if norm is None or back is None:
        return None
    perms = [[list(a.ints) for a in graph.node[i].attribute if a.name == "perm"] for i in (index, back)]
    axis = [a.i for a in graph.node[norm].attribute if a.name == "axis"] or [-1]
    if perms != [[[0, 2, 3, 1]], [[0, 3, 1, 2]]] or axis[0] not in (-1, 3):
        return None
    affine = len(graph.node[norm].input) > 1 and graph.node[norm].input[1] not in net.literals
    return [index, norm, back], {"type": "layer_norm", "affine": affine}


PATTERNS: dict[str, Callable[[_Net, Any, dict[str, list[int]], int], tuple[list[int], Any] | None]] = {
    "Div": _gelu,
    "Reshape": _shuffle,
    "Transpose": _channels_last,
}
"""Ops that may open a pattern read as one layer, and the matcher of each (the nodes, the layer)."""


def _small(onnx: Any, tensor: Any) -> Any:
    """The values of a constant of at most SMALL values (a Clip bound, a shape) as an array; None for
    weights."""
    count = 1
    for d in tensor.dims:
        count *= int(d)
    if count > SMALL or tensor.data_location == 1:  # 1: EXTERNAL
        return None
    try:
        array = onnx.numpy_helper.to_array(tensor)
    except (ValueError, TypeError, IndexError, KeyError):  # a malformed constant: read as a weight
        return None
    return array if array.dtype.kind in "biuf" else None  # numbers only (not strings)


def _light(onnx: Any, model: Any, consts: dict[str, list[int]], arrays: dict[str, Any]) -> Any:
    """A copy of the model whose weights are inputs of their shape (no weight data is copied) and
    whose folded values are constants."""
    helper, graph = onnx.helper, model.graph
    copy = onnx.GraphProto(name=graph.name)
    copy.node.extend(  # a Constant is an initializer below, or an input of its shape: its data stays
        n
        for n in graph.node
        if n.op_type != "Constant" and (not n.output or not all(t in arrays for t in n.output))
    )
    copy.initializer.extend(onnx.numpy_helper.from_array(a, name) for name, a in arrays.items())
    copy.input.extend(i for i in graph.input if i.name not in consts)
    kinds = {t.name: t.data_type for t in graph.initializer}
    for name, dims in consts.items():
        if name not in arrays:
            copy.input.append(helper.make_tensor_value_info(name, kinds.get(name, 1) or 1, dims))
    copy.output.extend(graph.output)
    light = onnx.ModelProto(ir_version=model.ir_version, graph=copy)
    light.opset_import.extend(model.opset_import)
    return light


def _infer(onnx: Any, model: Any, consts: dict[str, list[int]], arrays: dict[str, Any]) -> dict[str, Any]:
    """Each tensor's shape, by onnx's shape inference on the model's light copy; {} when onnx cannot
    work the shapes out (a malformed model)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(_light(onnx, model, consts, arrays), data_prop=True)
    except (onnx.shape_inference.InferenceError, ValueError, RuntimeError, TypeError):
        return {}
    shapes: dict[str, Any] = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]:
        if info.type.HasField("tensor_type") and info.type.tensor_type.HasField("shape"):
            shapes[info.name] = [
                int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in info.type.tensor_type.shape.dim
            ]
    return shapes


def _fold(onnx: Any, model: Any, net: _Net, arrays: dict[str, Any]) -> None:
    """Mark the nodes that compute on constants and shapes only, and work out their small results
    (Shape gives the inferred shape, the batch as 1) with onnx's reference evaluator."""
    numpy = importlib.import_module("numpy")
    evaluator: Any = None
    opsets = {o.domain or "": int(o.version) for o in model.opset_import}
    for node in model.graph.node:
        if node.op_type == "Constant" or not node.output or any(a.type in (5, 10) for a in node.attribute):
            continue  # 5, 10: GRAPH(S), an If or a Loop: never folded
        inputs = [t for t in node.input if t]
        if all(t in arrays for t in node.output):
            net.computed.update(node.output)
            continue
        if node.op_type == "Shape" and inputs:
            shape = net.shapes.get(inputs[0])
            net.computed.update(node.output)
            if shape is not None and None not in shape[1:]:
                full = [1 if d is None else d for d in shape]
                start = next((int(a.i) for a in node.attribute if a.name == "start"), 0)
                end = next((int(a.i) for a in node.attribute if a.name == "end"), len(full))
                arrays[node.output[0]] = numpy.array(full[start:end], dtype=numpy.int64)
                net.values[node.output[0]] = [float(d) for d in full[start:end]]
            continue
        if not inputs or not all(t in net.consts or t in net.computed for t in inputs):
            continue
        net.computed.update(node.output)
        if not all(t in arrays for t in inputs):
            continue
        if evaluator is None:
            evaluator = importlib.import_module("onnx.reference").ReferenceEvaluator
        try:
            results = evaluator(node, opsets=opsets).run(None, {t: arrays[t] for t in inputs})
        except (
            ValueError,
            TypeError,
            IndexError,
            KeyError,
            RuntimeError,
            NotImplementedError,
            AttributeError,
        ):
            continue
        for name, result in zip(node.output, results, strict=False):
            array = numpy.asarray(result)
            if array.size <= SMALL:
                arrays[name] = array
                net.values[name] = [float(v) for v in array.reshape(-1)]
