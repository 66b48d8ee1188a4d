"""Read a Keras model config as a spec: `model.to_json()` text, or the `config.json` of a `.keras` zip.

Keras 2 and Keras 3 configs, Sequential and Functional (`inbound_nodes`), are read with the standard
library's `json` (no Keras). Every layer keeps its Keras name and is located at that name in the text
(a compact `to_json()` is one line: the column says where). Keras is channels-last, as convcalc's `hwc`.

A Keras layer may become more than one convcalc layer, the one with the weights keeping the Keras
name and the others named `<name>.<part>`: a conv's or Dense's `activation` is an `act` layer after it
(`<name>.act`); SeparableConv2D is a depthwise conv (`<name>.depthwise`) then the pointwise conv
(`<name>`); a GlobalPooling without `keepdims` is a `global_pool` then `<name>.flatten`; a
BatchNormalization with only one of `center` and `scale` is a `bn` without `affine` then a `scale`
(`<name>.affine`, the C weights of Keras's beta or gamma). The Keras layer's output is that of the
last of them; other layers read it by `from:`.

Counted as Keras counts: BatchNormalization is 2C trainable + 2C non-trainable (convcalc's `bn`); a
Dense on a spatial input works on the channels at each position, so it is a 1x1 conv. Rescaling and
Normalization become `identity`: Keras counts Normalization's mean, variance and count (2C + 1)
as non-trainable weights, which convcalc leaves out (they are input preprocessing, not the network).
Reshape's `target_shape` is kept as the shape; convcalc's reshape orders the elements channels-first
(shapes and counts are the same). A DepthwiseConv2D needs its input's channels and a Dense or PReLU
its input's rank: Keras 3 records each input's shape in `inbound_nodes`; for Keras 2 configs, which
do not, they are followed through the layers here.

The loader reads a `.keras` zip's `config.json` from the path (`read_keras_zip`, the weights beside it
never read) and a `.json` whose text opens with a model's class (`readers.by_content`).
"""

from __future__ import annotations

import bisect
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

from ..build import Located, LocatedList, build
from ..errors import SpecError
from ..model import Spec

Pos = tuple[int, int]

ACTIVATIONS = {
    "relu": "relu",
    "relu6": "relu6",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
    "log_softmax": "log_softmax",
    "tanh": "tanh",
    "linear": "",
    "elu": "elu",
    "selu": "selu",
    "celu": "celu",
    "gelu": "gelu",
    "swish": "silu",
    "silu": "silu",
    "mish": "mish",
    "softplus": "softplus",
    "softsign": "softsign",
    "hard_sigmoid": "hardsigmoid",
    "hard_swish": "hardswish",
    "hard_silu": "hardswish",
    "leaky_relu": "leaky_relu",
    "hard_tanh": "hardtanh",
    "tanh_shrink": "tanhshrink",
    "soft_shrink": "softshrink",
    "hard_shrink": "hardshrink",
    "log_sigmoid": "log_sigmoid",
}
"""Keras's activation names and convcalc's `fn` for each ('' for none)."""


class _Text:
    """The source text's lines, to turn an offset into a (line, column)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.cursor = 0

    def pos(self, offset: int) -> Pos:
        """The line and column (from 1) of an offset."""
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def here(self) -> Pos:
        """Where the last layer found stands (the text's start before any)."""
        return self.pos(self.cursor)

    def find(self, name: str) -> Pos:
        """Where the next layer named `name` stands after the last one found (the start if not found)."""
        pattern = re.compile(r'"name"\s*:\s*' + re.escape(json.dumps(name)))
        match = pattern.search(self.text, self.cursor) or pattern.search(self.text)
        if match is None:
            return self.pos(self.cursor)
        self.cursor = match.end()
        return self.pos(match.start())


class _Layer:
    """One Keras layer's config, naming the layer in every error."""

    def __init__(self, kind: str, name: str, config: dict[str, Any], at: Pos, file: str | None) -> None:
        self.kind = kind
        self.name = name
        self.config = config
        self.at = at
        self.file = file
        self.in_shape: list[int | None] | None = None
        self.rank: int | None = None
        """The rank of its input without the batch axis (3 for HxWxC), when known."""

    def fail(self, text: str) -> SpecError:
        """A located error about this layer."""
        return SpecError(
            f"{self.kind} layer '{self.name[:60]}': {text}",
            file=self.file,
            line=self.at[0],
            column=self.at[1],
        )

    def get(self, key: str, default: Any = None) -> Any:
        """A config value."""
        return self.config.get(key, default)

    def ints(self, key: str, default: Any = None, *, allow_none: bool = False) -> Any:
        """An int or a list of ints (a scalar when all are equal), or a list of pairs as given."""
        value = self.config.get(key, default)
        if value is None and allow_none:
            return None
        return _int_value(self, key, value)

    def channels_last(self) -> None:
        """Refuse channels-first data."""
        if self.get("data_format", "channels_last") not in ("channels_last", None):
            raise self.fail(f"data_format {self.get('data_format')!r}: convcalc reads channels_last")

    def activation(self) -> str:
        """convcalc's `fn` for the layer's `activation` ('' for linear)."""
        word = self.config.get("activation", "linear")
        if isinstance(word, dict):  # a serialised activation: {"class_name": ..., "config": {"name": ...}}
            inner = word.get("config")
            word = inner.get("name") if isinstance(inner, dict) else word.get("class_name")
        if word is None:
            return ""
        if not isinstance(word, str) or word not in ACTIVATIONS:
            raise self.fail(f"activation {str(word)[:40]!r} has no convcalc equivalent")
        return ACTIVATIONS[word]


def _int_value(layer: _Layer, key: str, value: Any) -> Any:
    """An int, or a (nested) list of ints, checked; a list of equal ints becomes one int."""
    if isinstance(value, bool) or value is None:
        raise layer.fail(f"'{key}' must be an integer or a list of integers, got {json.dumps(value)[:40]}")
    if isinstance(value, int):
        if value < 0:
            raise layer.fail(f"'{key}' must not be negative, got {value}")
        return value
    if isinstance(value, list) and value:
        items = [_int_value(layer, key, v) for v in value]
        if all(isinstance(v, int) for v in items) and len(set(items)) == 1:
            return items[0]
        return items
    raise layer.fail(f"'{key}' must be an integer or a list of integers, got {json.dumps(value)[:40]}")


def _padding(layer: _Layer, size: Any, dilation: Any) -> Any:
    """convcalc's `pad` for Keras's `padding`: valid is 0, same is TensorFlow's same, causal pads before."""
    word = layer.get("padding", "valid")
    if word == "valid":
        return 0
    if word == "same":
        return "same"
    if word == "causal" and isinstance(size, int) and isinstance(dilation, int):
        return [[(size - 1) * dilation, 0]]
    raise layer.fail(f"padding {str(word)[:40]!r} has no convcalc equivalent (valid, same)")


def _check_bias(layer: _Layer) -> bool:
    value = layer.get("use_bias", True)
    if not isinstance(value, bool):
        raise layer.fail(f"'use_bias' must be true or false, got {json.dumps(value)[:40]}")
    return value


def _positive(layer: _Layer, key: str, default: Any = None) -> int:
    value = layer.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise layer.fail(f"'{key}' must be a positive integer, got {json.dumps(value)[:40]}")
    return value


Made = list[tuple[str, dict[str, Any]]]
"""The convcalc layers of one Keras layer: (name suffix, values), the last with the Keras name."""


def _with_act(layer: _Layer, made: Made) -> Made:
    """The layers, then the layer's `activation` as an `act` layer of its own (none for linear)."""
    fn = layer.activation()
    return [*made, (".act", {"type": "act", "fn": fn})] if fn else made


def _conv(layer: _Layer, channels: int | None) -> Made:
    layer.channels_last()
    size = layer.ints("kernel_size")
    dilation = layer.ints("dilation_rate", 1)
    values: dict[str, Any] = {
        "type": "conv",
        "filters": _positive(layer, "filters"),
        "size": size,
        "stride": layer.ints("strides", 1),
        "pad": _padding(layer, size, dilation),
        "dilation": dilation,
        "groups": _positive(layer, "groups", 1),
        "bias": _check_bias(layer),
    }
    return _with_act(layer, [("", values)])


def _depthwise(layer: _Layer, channels: int | None, *, separable: bool = False) -> Made:
    layer.channels_last()
    if channels is None:
        raise layer.fail("its input's channels are unknown")
    size = layer.ints("kernel_size")
    dilation = layer.ints("dilation_rate", 1)
    multiplier = _positive(layer, "depth_multiplier", 1)
    depthwise: dict[str, Any] = {
        "type": "conv",
        "filters": channels * multiplier,
        "size": size,
        "stride": layer.ints("strides", 1),
        "pad": _padding(layer, size, dilation),
        "dilation": dilation,
        "groups": channels,
        "bias": False if separable else _check_bias(layer),
    }
    if not separable:
        return _with_act(layer, [("", depthwise)])
    pointwise = {
        "type": "conv",
        "filters": _positive(layer, "filters"),
        "size": 1,
        "bias": _check_bias(layer),
    }
    return _with_act(layer, [(".depthwise", depthwise), ("", pointwise)])


def _deconv(layer: _Layer, channels: int | None) -> Made:
    layer.channels_last()
    size = layer.ints("kernel_size")
    dilation = layer.ints("dilation_rate", 1)
    values: dict[str, Any] = {
        "type": "deconv",
        "filters": _positive(layer, "filters"),
        "size": size,
        "stride": layer.ints("strides", 1),
        "pad": _padding(layer, size, dilation),
        "dilation": dilation,
        "bias": _check_bias(layer),
    }
    output_pad = layer.ints("output_padding", None, allow_none=True)
    if output_pad is not None:
        if values["pad"] != 0:
            raise layer.fail("output_padding with padding 'same' has no convcalc equivalent")
        values["output_pad"] = output_pad
    return _with_act(layer, [("", values)])


def _pool(mode: str) -> Callable[[_Layer, int | None], Made]:
    def read(layer: _Layer, channels: int | None) -> Made:
        layer.channels_last()
        size = layer.ints("pool_size", 2)
        stride = layer.ints("strides", None, allow_none=True)
        values: dict[str, Any] = {"type": "pool", "mode": mode, "size": size, "pad": _padding(layer, size, 1)}
        if stride is not None:
            values["stride"] = stride
        return [("", values)]

    return read


def _global(mode: str) -> Callable[[_Layer, int | None], Made]:
    def read(layer: _Layer, channels: int | None) -> Made:
        layer.channels_last()
        pool = {"type": "global_pool", "mode": mode}
        if layer.get("keepdims", False) is True:
            return [("", pool)]
        return [("", pool), (".flatten", {"type": "flatten"})]

    return read


def _dense(layer: _Layer, channels: int | None) -> Made:
    units = _positive(layer, "units")
    bias = _check_bias(layer)
    if layer.rank is not None and layer.rank > 1:
        return _with_act(layer, [("", {"type": "conv", "filters": units, "size": 1, "bias": bias})])
    return _with_act(layer, [("", {"type": "fc", "units": units, "bias": bias})])


def _bn(layer: _Layer, channels: int | None) -> Made:
    axis = layer.get("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    rank = layer.rank
    if axis != -1 and (rank is None or axis != rank):
        raise layer.fail(f"axis {json.dumps(axis)[:40]}: convcalc normalises the channels (axis -1)")
    center, scale = layer.get("center", True), layer.get("scale", True)
    if center and scale:
        return [("", {"type": "bn"})]
    if not center and not scale:
        return [("", {"type": "bn", "affine": False})]
    return [("", {"type": "bn", "affine": False}), (".affine", {"type": "scale", "bias": False})]


def _relu(layer: _Layer, channels: int | None) -> Made:
    if layer.get("max_value") == 6 and not layer.get("negative_slope"):
        return [("", {"type": "act", "fn": "relu6"})]
    if layer.get("negative_slope"):
        return [("", {"type": "act", "fn": "leaky_relu"})]
    return [("", {"type": "act", "fn": "relu"})]


def _prelu(layer: _Layer, channels: int | None) -> Made:
    shared = layer.get("shared_axes") or []
    rank = layer.rank
    if not isinstance(shared, list) or not all(isinstance(a, int) for a in shared):
        raise layer.fail(f"'shared_axes' must be a list of axes, got {json.dumps(shared)[:40]}")
    if rank is None or sorted(shared) != list(range(1, rank)):
        raise layer.fail(
            f"shared_axes {json.dumps(shared)[:40]}: convcalc's prelu has one slope per channel "
            "(shared_axes over every spatial axis)"
        )
    return [("", {"type": "prelu", "per_channel": True})]


def _activation(layer: _Layer, channels: int | None) -> Made:
    return [("", {"type": "act", "fn": layer.activation() or "identity"})]


def _merge(kind: str) -> Callable[[_Layer, int | None], Made]:
    def read(layer: _Layer, channels: int | None) -> Made:
        values: dict[str, Any] = {"type": kind}
        if kind == "concat":
            axis = layer.get("axis", -1)
            rank = layer.rank
            if axis != -1 and (rank is None or axis != rank):
                raise layer.fail(f"axis {json.dumps(axis)[:40]}: convcalc reads a concatenation of channels")
        return [("", values)]

    return read


def _pad(source: str, kind: str) -> Callable[[_Layer, int | None], Made]:
    def read(layer: _Layer, channels: int | None) -> Made:
        layer.channels_last()
        return [("", {"type": kind, kind: layer.ints(source, 1)})]

    return read


def _upsample(layer: _Layer, channels: int | None) -> Made:
    layer.channels_last()
    mode = layer.get("interpolation", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise layer.fail(f"interpolation {str(mode)[:40]!r} has no convcalc equivalent (nearest, bilinear)")
    return [("", {"type": "upsample", "scale": layer.ints("size", 2), "mode": mode})]


def _reshape(layer: _Layer, channels: int | None) -> Made:
    shape = layer.get("target_shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(v, int) and not isinstance(v, bool) and (v > 0 or v == -1) for v in shape)
    ):
        raise layer.fail(f"'target_shape' must be a list of sizes, got {json.dumps(shape)[:40]}")
    return [("", {"type": "reshape", "shape": shape})]


def _dropout(layer: _Layer, channels: int | None) -> Made:
    rate = layer.get("rate", 0.5)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise layer.fail(f"'rate' must be a number from 0 to 1, got {json.dumps(rate)[:40]}")
    return [("", {"type": "dropout", "p": rate})]


def _identity(layer: _Layer, channels: int | None) -> Made:
    """A layer kept out: it keeps the shape, and its weights (if any) are not counted; it says so."""
    return [("", {"type": "identity", "stands_for": f"Keras {layer.kind}"})]


KINDS: dict[str, Callable[[_Layer, int | None], Made]] = {
    "Conv1D": _conv,
    "Conv2D": _conv,
    "Conv3D": _conv,
    "Convolution1D": _conv,
    "Convolution2D": _conv,
    "Convolution3D": _conv,
    "DepthwiseConv1D": _depthwise,
    "DepthwiseConv2D": _depthwise,
    "SeparableConv1D": lambda layer, c: _depthwise(layer, c, separable=True),
    "SeparableConv2D": lambda layer, c: _depthwise(layer, c, separable=True),
    "Conv1DTranspose": _deconv,
    "Conv2DTranspose": _deconv,
    "Conv3DTranspose": _deconv,
    "MaxPooling1D": _pool("max"),
    "MaxPooling2D": _pool("max"),
    "MaxPooling3D": _pool("max"),
    "MaxPool2D": _pool("max"),
    "AveragePooling1D": _pool("avg"),
    "AveragePooling2D": _pool("avg"),
    "AveragePooling3D": _pool("avg"),
    "AvgPool2D": _pool("avg"),
    "GlobalAveragePooling1D": _global("avg"),
    "GlobalAveragePooling2D": _global("avg"),
    "GlobalAveragePooling3D": _global("avg"),
    "GlobalMaxPooling1D": _global("max"),
    "GlobalMaxPooling2D": _global("max"),
    "GlobalMaxPooling3D": _global("max"),
    "Dense": _dense,
    "Flatten": lambda layer, c: [("", {"type": "flatten"})],
    "Reshape": _reshape,
    "BatchNormalization": _bn,
    "Activation": _activation,
    "ReLU": _relu,
    "LeakyReLU": lambda layer, c: [("", {"type": "act", "fn": "leaky_relu"})],
    "PReLU": _prelu,
    "ELU": lambda layer, c: [("", {"type": "act", "fn": "elu"})],
    "Softmax": lambda layer, c: [("", {"type": "act", "fn": "softmax"})],
    "Dropout": _dropout,
    "SpatialDropout1D": _dropout,
    "SpatialDropout2D": _dropout,
    "SpatialDropout3D": _dropout,
    "Add": _merge("add"),
    "Multiply": _merge("mul"),
    "Maximum": _merge("max"),
    "Concatenate": _merge("concat"),
    "ZeroPadding1D": _pad("padding", "pad"),
    "ZeroPadding2D": _pad("padding", "pad"),
    "ZeroPadding3D": _pad("padding", "pad"),
    "Cropping1D": _pad("cropping", "crop"),
    "Cropping2D": _pad("cropping", "crop"),
    "Cropping3D": _pad("cropping", "crop"),
    "UpSampling1D": _upsample,
    "UpSampling2D": _upsample,
    "UpSampling3D": _upsample,
    "Rescaling": _identity,
    "Normalization": _identity,
    "GaussianNoise": _identity,
    "GaussianDropout": _identity,
    "ActivityRegularization": _identity,
}
"""Keras's layer classes and how each becomes convcalc layers."""


def _fail(message: str, at: Pos, file: str | None) -> SpecError:
    return SpecError(message, file=file, line=at[0], column=at[1])


def _tensors(value: Any) -> list[str]:
    """The layer names a Keras 3 node's args refer to (each `keras_history`), in order."""
    if isinstance(value, dict):
        config = value.get("config")
        if value.get("class_name") == "__keras_tensor__" and isinstance(config, dict):
            history = config.get("keras_history")
            if isinstance(history, list) and history and isinstance(history[0], str):
                return [history[0]]
        return [n for v in value.values() for n in _tensors(v)]
    if isinstance(value, list):
        return [n for v in value for n in _tensors(v)]
    return []


def _in_shape(node: Any) -> list[int | None] | None:
    """The first input's shape (without the batch axis) a Keras 3 node records, if it does."""
    if isinstance(node, dict):
        config = node.get("config")
        if node.get("class_name") == "__keras_tensor__" and isinstance(config, dict):
            shape = config.get("shape")
            return list(shape[1:]) if isinstance(shape, list) and shape else None
        for v in node.values():
            found = _in_shape(v)
            if found is not None:
                return found
    if isinstance(node, list):
        for v in node:
            found = _in_shape(v)
            if found is not None:
                return found
    return None


def _sources(layer: _Layer, nodes: Any) -> tuple[list[str], list[int | None] | None]:
    """The names of the layers a functional layer reads, and its input's shape when recorded."""
    if not isinstance(nodes, list):
        raise layer.fail("'inbound_nodes' must be a list")
    if len(nodes) > 1:
        raise layer.fail("a layer called more than once (shared weights) has no convcalc equivalent")
    if not nodes:
        return [], None
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        return _tensors(node.get("args", [])), _in_shape(node.get("args", []))
    if isinstance(node, list):  # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
        names = []
        for item in node:
            if not isinstance(item, list) or not item or not isinstance(item[0], str):
                raise layer.fail(f"malformed inbound node {json.dumps(item)[:40]}")
            names.append(item[0])
        return names, None
    raise layer.fail(f"malformed inbound node {json.dumps(node)[:40]}")


def _input_dims(layer: _Layer) -> list[int]:
    shape = layer.get("batch_shape", layer.get("batch_input_shape"))
    if not isinstance(shape, list) or len(shape) < 2:
        raise layer.fail(
            "the input needs a 'batch_shape' (or 'batch_input_shape') such as [null, 224, 224, 3]"
        )
    dims = shape[1:]
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise layer.fail(f"input shape {json.dumps(shape)[:60]}: every size but the batch must be known")
    return dims


def _model_config(data: Any, at: Pos, file: str | None) -> tuple[str, dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise _fail('not a Keras model config: expected {"class_name": ..., "config": {...}}', at, file)
    kind = data.get("class_name")
    if kind not in ("Sequential", "Functional", "Model"):
        raise _fail(f"a Keras model is Sequential or Functional, not {str(kind)[:40]!r}", at, file)
    config = data["config"]
    if not isinstance(config.get("layers"), list) or not config["layers"]:
        raise _fail("the model config has no 'layers'", at, file)
    return str(kind), config


def _layer_of(item: Any, text: _Text, file: str | None, index: int) -> _Layer:
    if not isinstance(item, dict) or not isinstance(item.get("config", {}), dict):
        raise _fail(
            f"layer {index}: expected a mapping with 'class_name' and 'config'", text.pos(text.cursor), file
        )
    config = item.get("config", {})
    name = item.get("name", config.get("name"))
    kind = item.get("class_name")
    if not isinstance(name, str) or not name:
        raise _fail(f"layer {index}: missing its 'name'", text.here(), file)
    at = text.find(name)
    if not isinstance(kind, str):
        raise _fail(f"layer '{name[:60]}': missing its 'class_name'", at, file)
    return _Layer(kind, name, config, at, file)


def to_data(text: str, *, file: str | None = None) -> Located:
    """A Keras config as the data a YAML spec would give: `input` and located `layers`, Keras's names kept."""
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as e:
        raise SpecError(f"invalid JSON: {e.msg}", file=file, line=e.lineno, column=e.colno) from None
    except RecursionError:
        raise SpecError("invalid JSON: nested too deeply", file=file) from None
    try:
        return _read(data, _Text(text), file)
    except RecursionError:
        raise SpecError("a value is nested too deeply", file=file) from None


def _read(data: Any, source: _Text, file: str | None) -> Located:
    """The located spec data of a decoded config."""
    kind, config = _model_config(data, (1, 1), file)
    layers: list[Located] = []
    at: list[Pos] = []
    outputs: dict[str, str] = {"input": "input"}
    """Each Keras layer's name to the convcalc layer that gives its output ("input": the input)."""
    channels: dict[str, int | None] = {}
    ranks: dict[str, int | None] = {}
    dims: list[int] | None = None
    input_at: Pos = (1, 1)
    previous = "input"
    """The convcalc layer made last."""
    previous_keras = "input"
    for index, item in enumerate(config["layers"]):
        layer = _layer_of(item, source, file, index)
        if layer.name in outputs:
            raise layer.fail("the name is taken (by the network's input or an earlier layer): rename it")
        shape: list[int | None] | None = None
        if kind == "Sequential":
            names = [previous_keras]
        else:
            names, shape = _sources(layer, item.get("inbound_nodes", []))
        starts = index == 0 and dims is None and "batch_input_shape" in layer.config
        if layer.kind == "InputLayer" or starts:
            if dims is not None:
                raise layer.fail("convcalc reads networks with one input; this model has several")
            dims = _input_dims(layer)
            input_at = layer.at
            channels["input"], ranks["input"] = dims[-1], len(dims)
            if layer.kind == "InputLayer":
                outputs[layer.name] = "input"
                channels[layer.name], ranks[layer.name] = dims[-1], len(dims)
                previous_keras = layer.name
                continue
            names = ["input"]
        if dims is None:
            raise layer.fail("comes before the model's input (an InputLayer or a 'batch_input_shape')")
        if not names:
            raise layer.fail("reads no layer ('inbound_nodes' is empty)")
        sources = []
        for n in names:
            if n not in outputs:
                raise layer.fail(f"reads '{n[:60]}', which is not an earlier layer")
            sources.append(outputs[n])
        make = KINDS.get(layer.kind)
        if make is None:
            raise layer.fail(f"the layer class {layer.kind[:60]!r} has no convcalc equivalent")
        layer.in_shape = shape
        layer.rank = len(shape) if shape else ranks.get(names[0])
        first_channels = shape[-1] if shape else channels.get(names[0])
        if not isinstance(first_channels, int):
            first_channels = None
        made = make(layer, first_channels)
        for k, (suffix, values) in enumerate(made):
            name = layer.name + suffix
            item_values: dict[str, Any] = {"type": values["type"], "name": name}
            item_values.update((k, v) for k, v in values.items() if k != "type")
            reads = sources if k == 0 else [previous]
            if len(reads) > 1 or reads[0] != previous:
                item_values["from"] = reads if len(reads) > 1 else reads[0]
            layers.append(Located(item_values, start=layer.at, at={key: layer.at for key in item_values}))
            at.append(layer.at)
            previous = name
        outputs[layer.name] = previous
        channels[layer.name] = _out_channels(made, names, channels, first_channels)
        ranks[layer.name] = _out_rank(made, layer.rank)
        previous_keras = layer.name
    if dims is None:
        raise _fail("the model has no input (an InputLayer or a 'batch_input_shape')", (1, 1), file)
    if not layers:
        raise _fail("the model has no layers after its input", input_at, file)
    return Located(
        {"input": dims, "layers": LocatedList(layers, start=at[0], at=at)},
        start=(1, 1),
        at={"input": input_at, "layers": at[0]},
    )


def _out_channels(
    made: Made, names: list[str], channels: dict[str, int | None], first: int | None
) -> int | None:
    """The output channels of a Keras layer, as far as its kind says (for a depthwise conv after it)."""
    for _, values in reversed(made):
        kind = values.get("type")
        if kind in ("conv", "deconv"):
            filters = values.get("filters")
            return filters if isinstance(filters, int) else None
        if kind == "fc":
            units = values.get("units")
            return units if isinstance(units, int) else None
        if kind == "concat":
            parts = [channels.get(n) for n in names]
            return sum(p for p in parts if p is not None) if all(p is not None for p in parts) else None
        if kind == "reshape":
            shape = values.get("shape")
            return shape[-1] if isinstance(shape, list) and shape[-1] != -1 else None
    return first


def _out_rank(made: Made, rank: int | None) -> int | None:
    """The rank of a Keras layer's output, as far as its kind says (for a Dense or PReLU after it)."""
    kind = made[-1][1].get("type")
    if kind in ("flatten", "fc"):
        return 1
    if kind == "reshape":
        shape = made[-1][1].get("shape")
        return len(shape) if isinstance(shape, list) else None
    return rank


def read_keras_zip(path: str, *, limit: int) -> str:
    """The `config.json` of a `.keras` zip, as text (the weights beside it are never read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > limit:
                raise SpecError(f"its config.json is larger than {limit} bytes", file=path)
            return archive.read(info).decode("utf-8")
    except KeyError:
        raise SpecError("not a .keras file: no config.json in the zip", file=path) from None
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, EOFError) as e:
        raise SpecError(f"not a .keras zip: {e}", file=path) from None


def parse(text: str, *, file: str | None = None) -> Spec:
    """A Keras config's text as a Spec, every layer located at its name in the text."""
    return build(to_data(text, file=file), file=file)
