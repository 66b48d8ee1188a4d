"""Caffe's prototxt (protobuf text format, V2 `layer` and legacy V1 `layers`) read as a graph spec.

The text is parsed here (no Caffe, no protoc) into located data as a YAML spec gives, in Caffe's
channels-first layout, the batch axis dropped: each layer keeps its Caffe name and the position of its
`layer {`, its settings the position of its `*_param` block, and `from:` names the layer that last wrote
each `bottom` blob (so a later layer reading an in-place ReLU's top reads the ReLU). Choices made:

- BatchNorm is `bn` without affine (its running mean and variance: 2C non-trainable) and Scale is
  `scale` (C, and C more with `bias_term`), so a BatchNorm + Scale pair counts as PyTorch's affine
  BatchNorm2d. Caffe's third BatchNorm blob, the moving-average factor (1 value), is left out, as
  convcalc leaves out PyTorch's `num_batches_tracked`.
- Pooling rounds as Caffe does (`ceil: caffe`, always, so that a converted spec gives the prototxt's
  numbers): PyTorch's ceil mode but for a layer with no pad, where Caffe keeps a last window starting
  past the input that PyTorch drops (a caffe-rounding warning then says how to get it in PyTorch), and
  in float32. `round_mode: FLOOR` (newer Caffe) is `ceil: false`.
- Split makes no layer (its tops are its bottom); Slice into equal parts along the channels is one
  `split` layer per top, named `<name>.<part>`; Silence, Accuracy and the losses are `identity` on their
  first bottom, with `stands_for` naming them and a kept-out note. Crop (axis 2, FCN's) is `crop_to`
  its second bottom's size from the offset; Eltwise MAX is `max`. LRN within channels, Slice at given points
  and Reshape with axis/num_axes or a 0 after the batch are errors naming the layer and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..build import Located, LocatedList, build
from ..errors import SpecError
from ..model import Spec

Pos = tuple[int, int]

_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n]+|\#[^\n]*)
    |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?(?![\w.]))
    |(?P<word>-?[A-Za-z_][\w.]*)
    |(?P<punct>[{}:\[\],;<>])""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(.)")


class Word(str):
    """A bare identifier: an enum value (MAX, CONVOLUTION), true or false."""

    __slots__ = ()


@dataclass(slots=True)
class Message:
    """A protobuf text message: its fields in order, repeated ones as they come."""

    start: Pos
    fields: list[tuple[str, Any, Pos]] = field(default_factory=list)

    def all(self, key: str) -> list[tuple[Any, Pos]]:
        """Every value of a field, with where each stands."""
        return [(value, pos) for k, value, pos in self.fields if k == key]

    def has(self, key: str) -> bool:
        """Whether the field is given at all."""
        return any(k == key for k, _, _ in self.fields)


class _Tokens:
    """The tokens of a text with their line and column, read one at a time."""

    def __init__(self, text: str, file: str | None) -> None:
        self.text, self.file = text, file
        self.at = 0
        self.line, self.line_start = 1, 0
        self.peeked: tuple[str, str, Pos] | None = None

    def error(self, message: str, pos: Pos) -> SpecError:
        return SpecError(message, file=self.file, line=pos[0], column=pos[1])

    def peek(self) -> tuple[str, str, Pos]:
        """The next token (kind, text, position); kind 'end' at the end of the text."""
        if self.peeked is None:
            self.peeked = self._scan()
        return self.peeked

    def next(self) -> tuple[str, str, Pos]:
        token = self.peek()
        self.peeked = None
        return token

    def _scan(self) -> tuple[str, str, Pos]:
        while True:
            pos = (self.line, self.at - self.line_start + 1)
            if self.at >= len(self.text):
                return ("end", "", pos)
            m = _TOKEN.match(self.text, self.at)
            if m is None:
                bad = re.match(r"[\w.+-]+", self.text[self.at : self.at + 40])
                if bad is not None:
                    raise self.error(f"invalid number or name {bad.group()!r} in prototxt", pos)
                raise self.error(f"invalid character {self.text[self.at]!r} in prototxt", pos)
            self.at = m.end()
            newlines = m.group().count("\n")
            if newlines:
                self.line += newlines
                self.line_start = m.start() + m.group().rindex("\n") + 1
            kind = m.lastgroup or "space"
            if kind != "space":
                return (kind, m.group(), pos)


_MAX_DEPTH = 32


def parse_text(text: str, *, file: str | None = None) -> Message:
    """Parse protobuf text into nested Messages; SpecError with line and column on bad syntax."""
    tokens = _Tokens(text, file)
    stack = [Message((1, 1))]
    while True:
        kind, value, pos = tokens.next()
        if kind == "end":
            if len(stack) > 1:
                raise tokens.error(
                    f"unexpected end of file: '{{' at line {stack[-1].start[0]} is not closed", pos
                )
            return stack[0]
        if kind == "punct" and value in "}>":
            if len(stack) == 1:
                raise tokens.error(f"unexpected '{value}': no message is open", pos)
            stack.pop()
            continue
        if kind == "punct" and value in ",;":
            continue
        if kind != "word":
            raise tokens.error(f"expected a field name, got {value!r}", pos)
        key = value
        kind, sep, at = tokens.next()
        if sep == ":":
            kind, sep, at = tokens.next()
        if kind == "punct" and sep in "{<":
            if len(stack) >= _MAX_DEPTH:
                raise tokens.error(f"messages nested more than {_MAX_DEPTH} deep", at)
            inner = Message(pos)
            stack[-1].fields.append((key, inner, pos))
            stack.append(inner)
            continue
        if kind == "punct" and sep == "[":
            while True:
                kind, item, at = tokens.next()
                if kind == "punct" and item == "]":
                    break
                stack[-1].fields.append((key, _scalar(tokens, kind, item, at, key), pos))
                kind, sep, at = tokens.next()
                if kind == "punct" and sep == "]":
                    break
                if sep != ",":
                    raise tokens.error(f"expected ',' or ']' in the list of {key!r}, got {sep!r}", at)
            continue
        stack[-1].fields.append((key, _scalar(tokens, kind, sep, at, key), pos))


def _scalar(tokens: _Tokens, kind: str, text: str, pos: Pos, key: str) -> Any:
    """A number, a quoted string (adjacent ones joined) or an enum word."""
    if kind == "number":
        body = text.rstrip("fF")
        return int(body) if re.fullmatch(r"[-+]?\d+", body) else float(body)
    if kind == "string":
        value = _ESCAPE.sub(lambda m: m.group(1), text[1:-1])
        while tokens.peek()[0] == "string":
            more = tokens.next()[1]
            value += _ESCAPE.sub(lambda m: m.group(1), more[1:-1])
        return value
    if kind == "word":
        return Word(text)
    what = "the end of the file" if kind == "end" else repr(text)
    raise tokens.error(f"expected a value for {key!r}, got {what}", pos)


class _Fields:
    """Typed reads of one message's fields, each error located at the field."""

    def __init__(self, message: Message, where: str, file: str | None) -> None:
        self.m, self.where, self.file = message, where, file

    def fail(self, message: str, pos: Pos | None = None) -> SpecError:
        line, column = pos or self.m.start
        return SpecError(f"{self.where}: {message}", file=self.file, line=line, column=column)

    def values(self, key: str, kind: type | tuple[type, ...], what: str) -> list[tuple[Any, Pos]]:
        found = self.m.all(key)
        for value, pos in found:
            if not isinstance(value, kind) or isinstance(value, bool):
                raise self.fail(f"'{key}' must be {what}, got {_show(value)}", pos)
        return found

    def ints(self, key: str) -> list[int]:
        """A repeated unsigned integer field."""
        found = self.values(key, int, "a whole number")
        for value, pos in found:
            if value < 0:
                raise self.fail(f"'{key}' must not be negative, got {value}", pos)
        return [v for v, _ in found]

    def one(self, key: str, kind: type | tuple[type, ...], what: str, default: Any) -> Any:
        found = self.values(key, kind, what)
        return found[-1][0] if found else default

    def int(self, key: str, default: int) -> int:
        values = self.ints(key)
        return values[-1] if values else default

    def word(self, key: str, default: str) -> str:
        """An enum field: a bare word (or, leniently, a string)."""
        return str(self.one(key, str, "a name", default)).upper()

    def flag(self, key: str, default: bool) -> bool:
        value = self.one(key, str, "true or false", None)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise self.fail(f"'{key}' must be true or false, got {_show(value)}", self.pos(key))
        return bool(value.lower() == "true")

    def number(self, key: str, default: float) -> float:
        return float(self.one(key, (int, float), "a number", default))

    def sub(self, key: str) -> _Fields:
        """A nested message (empty when absent)."""
        found = self.values(key, Message, "a message { ... }")
        return _Fields(found[-1][0] if found else Message(self.m.start), self.where, self.file)

    def pos(self, key: str) -> Pos:
        found = self.m.all(key)
        return found[-1][1] if found else self.m.start


def _show(value: Any) -> str:
    if isinstance(value, Message):
        return "a message { ... }"
    if isinstance(value, Word):
        return str(value)
    return repr(value)[:40]


_V1 = {
    "CONVOLUTION": "Convolution",
    "DECONVOLUTION": "Deconvolution",
    "POOLING": "Pooling",
    "INNER_PRODUCT": "InnerProduct",
    "RELU": "ReLU",
    "SIGMOID": "Sigmoid",
    "TANH": "TanH",
    "LRN": "LRN",
    "DROPOUT": "Dropout",
    "CONCAT": "Concat",
    "ELTWISE": "Eltwise",
    "SLICE": "Slice",
    "SPLIT": "Split",
    "FLATTEN": "Flatten",
    "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "ACCURACY": "Accuracy",
    "SILENCE": "Silence",
    "EUCLIDEAN_LOSS": "EuclideanLoss",
}
"""The legacy V1 layer type enums and their V2 names."""

_ACTS = {"ReLU": "relu", "Sigmoid": "sigmoid", "TanH": "tanh", "ELU": "elu", "Softmax": "softmax"}
_KEPT_OUT = frozenset(("Silence", "Accuracy", "SoftmaxWithLoss", "EuclideanLoss", "SigmoidCrossEntropyLoss"))
"""Weightless layers that keep the shape (losses, accuracy, Silence): read as identity."""


@dataclass(slots=True)
class _Net:
    """The layers read so far and which layer holds each top (blob) now."""

    file: str | None
    layers: list[Located] = field(default_factory=list)
    at: list[Pos] = field(default_factory=list)
    tops: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)


def parse(text: str, *, file: str | None = None) -> Spec:
    """Parse a Caffe prototxt into a checked Spec (channels first, as Caffe's NCHW)."""
    return build(to_data(text, file=file), file=file)


def to_data(text: str, *, file: str | None = None) -> Located:
    """The prototxt as the data a YAML spec would give, each layer located at its line."""
    root = parse_text(text, file=file)
    net = _Net(file)
    top = _Fields(root, "net", file)
    dims, input_at = _net_input(top, net)
    for key, value, pos in root.fields:
        if key in ("layer", "layers"):
            if not isinstance(value, Message):
                raise SpecError(f"'{key}' must be a message {{ ... }}", file=file, line=pos[0], column=pos[1])
            found = _layer(value, key == "layers", net, len(net.layers) + 1)
            if found is not None:
                dims, input_at = found
    if dims is None or input_at is None:
        raise SpecError(
            "no input: give 'input' with 'input_shape { dim: ... }' or 'input_dim', or an Input layer",
            file=file,
            line=1,
            column=1,
        )
    if not net.layers:
        raise SpecError("the net has no layers besides its input", file=file, line=1, column=1)
    data = Located(
        {
            "name": str(top.one("name", str, "a string", "caffe")),
            "input": "x".join(map(str, dims)),
            "layout": "chw",
            "layers": LocatedList(net.layers, start=net.at[0], at=net.at),
        },
        start=(1, 1),
        at={"name": top.pos("name"), "input": input_at, "layout": (1, 1), "layers": net.at[0]},
    )
    return data


def _shape(dims: list[int], where: _Fields, pos: Pos) -> list[int]:
    """An NCHW (or NC, NCL, NCDHW) shape without its batch axis."""
    if not 2 <= len(dims) <= 5 or min(dims) < 1:
        raise where.fail(f"an input shape needs 2 to 5 positive dims (N, C, spatial...), got {dims}", pos)
    return dims[1:]


def _net_input(top: _Fields, net: _Net) -> tuple[list[int] | None, Pos | None]:
    """The net-level input: `input` with `input_shape { dim }` or four `input_dim`s."""
    names = top.values("input", str, "a blob name")
    if not names:
        return None, None
    if len(names) > 1:
        raise top.fail("convcalc reads networks with one input; this net has several", names[1][1])
    name, pos = names[0]
    net.tops[name] = "input"
    if top.m.has("input_shape"):
        return _shape(top.sub("input_shape").ints("dim"), top, top.pos("input_shape")), pos
    dims = top.ints("input_dim")
    return _shape(dims, top, top.pos("input_dim") if dims else pos), pos


def _layer(m: Message, v1: bool, net: _Net, index: int) -> tuple[list[int], Pos] | None:
    """Read one layer into net; an Input layer gives the input shape instead."""
    f = _Fields(m, f"layer {index}", net.file)
    name = str(f.one("name", str, "a string", f"layer{index}"))
    f.where = f"layer {name!r}"
    kind = f.one("type", str, "a layer type", None)
    if kind is None:
        raise f.fail("missing 'type'")
    type_at = f.pos("type")
    kind = _V1.get(kind.upper(), kind) if isinstance(kind, Word) or v1 else kind
    bottoms = f.values("bottom", str, "a blob name")
    tops = f.values("top", str, "a blob name")
    if kind in ("Input", "DummyData") or (kind == "Data" and m.has("input_param")):
        shapes = f.sub("input_param").values("shape", Message, "a message { dim: ... }")
        if len(tops) != 1 or len(shapes) != 1 or "input" in net.tops.values():
            raise f.fail("convcalc reads networks with one input: one Input layer, one top, one shape")
        net.tops[tops[0][0]] = "input"
        shape = _Fields(shapes[0][0], f.where, net.file)
        return _shape(shape.ints("dim"), f, shapes[0][1]), m.start
    if kind.upper().endswith("DATA") or kind in ("Python", "PYTHON"):
        article = "an" if kind[:1] in "AEIOU" else "a"
        raise f.fail(
            f"{article} {kind} layer reads data for training: convcalc reads deploy files; "
            "give the input as an Input layer or 'input' with 'input_shape'",
            type_at,
        )
    sources = []
    for blob, pos in bottoms:
        if blob not in net.tops:
            raise f.fail(f"bottom {blob!r} is not the top of any earlier layer (nor the input)", pos)
        sources.append(net.tops[blob])
    if not sources:
        raise f.fail(f"a {kind} layer needs a 'bottom'", type_at)
    if name == "input":
        raise f.fail("'input' names the network's input in convcalc: rename the layer", f.pos("name"))
    if name in net.names:
        raise f.fail(f"the layer name {name!r} is used twice", f.pos("name"))
    if kind == "Split":
        for blob, _ in tops:
            net.tops[blob] = sources[0]
        return None
    keys = _keys(kind, f, type_at, len(tops))
    if isinstance(keys, list):  # one layer per top (Slice)
        for (blob, _), part in zip(tops, keys, strict=True):
            _add(net, m, f"{name}.{part['part']}" if len(tops) > 1 else name, part, sources, f)
            net.tops[blob] = net.layers[-1]["name"]
        return None
    if not tops and kind in _KEPT_OUT:  # Silence has no top
        _add(net, m, name, keys, sources, f)
        return None
    if len(tops) != 1:
        raise f.fail(f"a {kind} layer has one 'top', got {len(tops)}", tops[1][1] if tops else m.start)
    _add(net, m, name, keys, sources, f)
    net.tops[tops[0][0]] = name
    return None


def _add(net: _Net, m: Message, name: str, keys: dict[str, Any], sources: list[str], f: _Fields) -> None:
    params = [pos for key, _, pos in m.fields if key.endswith("_param")]
    at = dict.fromkeys(keys, params[0] if params else m.start)
    at.update({"type": f.pos("type"), "name": f.pos("name"), "from": f.pos("bottom")})
    if "stands_for" in keys:
        at["stands_for"] = f.pos("type")
    if keys["type"] == "identity":
        sources = sources[:1]
    body = {
        "type": keys.pop("type"),
        "name": name,
        **keys,
        "from": sources[0] if len(sources) == 1 else sources,
    }
    net.layers.append(Located(body, start=m.start, at=at))
    net.at.append(m.start)
    net.names.add(name)


def _axes(p: _Fields, key: str, default: int | None) -> int | list[int] | None:
    """kernel_size/stride/pad as one value, or [h, w] from the repeated field or key_h and key_w."""
    plain = "kernel" if key == "kernel_size" else key
    h, w = f"{plain}_h", f"{plain}_w"
    if p.m.has(h) or p.m.has(w):
        if p.m.has(key):
            raise p.fail(f"give either '{key}' or '{h}' and '{w}'", p.pos(h))
        if not (p.m.has(h) and p.m.has(w)):
            raise p.fail(f"'{h}' and '{w}' go together", p.pos(h if p.m.has(h) else w))
        return [p.int(h, 0), p.int(w, 0)]
    values = p.ints(key)
    if not values:
        return default
    return values[0] if len(values) == 1 else values


def _conv(f: _Fields, deconv: bool) -> dict[str, Any]:
    p = f.sub("convolution_param")
    if not p.m.has("num_output"):
        raise f.fail("convolution_param needs 'num_output'", f.pos("convolution_param"))
    size = _axes(p, "kernel_size", None)
    if size is None:
        raise f.fail(
            "convolution_param needs 'kernel_size' (or kernel_h and kernel_w)", f.pos("convolution_param")
        )
    keys: dict[str, Any] = {
        "type": "deconv" if deconv else "conv",
        "filters": p.int("num_output", 1),
        "size": size,
    }
    for key, ours in (("stride", "stride"), ("pad", "pad"), ("dilation", "dilation")):
        value = _axes(p, key, None)
        if value is not None:
            keys[ours] = value
    if p.m.has("group"):
        keys["groups"] = p.int("group", 1)
    if not p.flag("bias_term", True):
        keys["bias"] = False
    return keys


def _pool(f: _Fields) -> dict[str, Any]:
    p = f.sub("pooling_param")
    mode = p.word("pool", "MAX")
    if mode not in ("MAX", "AVE"):
        raise f.fail(f"pooling {mode} is not supported (MAX or AVE)", p.pos("pool"))
    ours = "max" if mode == "MAX" else "avg"
    if p.flag("global_pooling", False):
        return {"type": "global_pool", "mode": ours}
    size = _axes(p, "kernel_size", None)
    if size is None:
        raise f.fail("pooling_param needs 'kernel_size' (or kernel_h and kernel_w, or global_pooling)")
    stride = _axes(p, "stride", 1)
    pad = _axes(p, "pad", 0)
    assert stride is not None
    assert pad is not None
    rounding = p.word("round_mode", "CEIL")
    if rounding not in ("CEIL", "FLOOR"):
        raise f.fail(f"round_mode {rounding} is not Caffe's (CEIL or FLOOR)", p.pos("round_mode"))
    ceil = "caffe" if rounding == "CEIL" else False
    return {"type": "pool", "mode": ours, "size": size, "stride": stride, "pad": pad, "ceil": ceil}


def _keys(kind: str, f: _Fields, type_at: Pos, tops: int) -> dict[str, Any] | list[dict[str, Any]]:
    """The convcalc type and keys of a Caffe layer, or one per top for Slice."""
    if kind in ("Convolution", "Deconvolution"):
        return _conv(f, kind == "Deconvolution")
    if kind == "Pooling":
        return _pool(f)
    if kind == "InnerProduct":
        p = f.sub("inner_product_param")
        if not p.m.has("num_output"):
            raise f.fail("inner_product_param needs 'num_output'", f.pos("inner_product_param"))
        if p.one("axis", int, "an axis", 1) != 1:
            raise f.fail("InnerProduct is supported from axis 1 only", p.pos("axis"))
        keys: dict[str, Any] = {"type": "fc", "units": p.int("num_output", 1)}
        if not p.flag("bias_term", True):
            keys["bias"] = False
        return keys
    if kind in _ACTS:
        fn = _ACTS[kind]
        if kind == "ReLU" and f.sub("relu_param").number("negative_slope", 0.0) != 0:
            fn = "leaky_relu"
        return {"type": "act", "fn": fn}
    if kind == "PReLU":
        return {"type": "prelu", "per_channel": not f.sub("prelu_param").flag("channel_shared", False)}
    if kind == "LRN":
        p = f.sub("lrn_param")
        if p.word("norm_region", "ACROSS_CHANNELS") != "ACROSS_CHANNELS":
            raise f.fail(
                "LRN within channels is not supported (convcalc's lrn runs across channels)",
                p.pos("norm_region"),
            )
        return {"type": "lrn", "size": p.int("local_size", 5)}
    if kind == "Dropout":
        return {"type": "dropout", "p": f.sub("dropout_param").number("dropout_ratio", 0.5)}
    if kind == "BatchNorm":
        return {"type": "bn", "affine": False}
    if kind == "Scale":
        return {"type": "scale", "bias": f.sub("scale_param").flag("bias_term", False)}
    if kind == "Concat":
        p = f.sub("concat_param")
        axis = p.int("concat_dim", 1) if p.m.has("concat_dim") else p.one("axis", int, "an axis", 1)
        if axis not in (1, -3):
            raise f.fail(f"Concat along axis {axis} is not supported (only 1, the channels)", p.pos("axis"))
        return {"type": "concat"}
    if kind == "Eltwise":
        p = f.sub("eltwise_param")
        op = p.word("operation", "SUM")
        ours = {"SUM": "add", "PROD": "mul", "MAX": "max"}.get(op)
        if ours is None:
            raise f.fail(f"Eltwise {op} is not an operation (SUM, PROD or MAX)", p.pos("operation"))
        return {"type": ours}
    if kind == "Slice":
        p = f.sub("slice_param")
        if p.m.has("slice_point") or p.one("axis", int, "an axis", 1) != 1 or p.m.has("slice_dim"):
            raise f.fail("Slice is supported into equal parts along the channels only (no slice_point)")
        return [{"type": "split", "chunks": tops, "part": i} for i in range(tops)]
    if kind == "Flatten":
        p = f.sub("flatten_param")
        if p.one("axis", int, "an axis", 1) != 1 or p.one("end_axis", int, "an axis", -1) != -1:
            raise f.fail("Flatten is supported from axis 1 to the end only", p.pos("axis"))
        return {"type": "flatten"}
    if kind == "Reshape":
        p = f.sub("reshape_param")
        dims = p.sub("shape").values("dim", int, "a whole number")
        shape = [d for d, _ in dims]
        if p.m.has("axis") or p.m.has("num_axes") or len(shape) < 2 or shape[0] not in (0, 1):
            raise f.fail(
                "Reshape is supported with a full shape (batch first, 0 or 1) only", f.pos("reshape_param")
            )
        if 0 in shape[1:]:
            raise f.fail("Reshape with dim 0 (copy) after the batch is not supported", p.pos("shape"))
        return {"type": "reshape", "shape": "x".join(map(str, shape[1:]))}
    if kind == "Crop":
        p = f.sub("crop_param")
        if p.one("axis", int, "an axis", 2) not in (2, -2):
            raise f.fail("Crop is supported from axis 2 only (the spatial axes, as FCN crops)", p.pos("axis"))
        offsets = p.ints("offset")
        return {"type": "crop_to", "offset": offsets[0] if len(offsets) == 1 else offsets or 0}
    if kind in _KEPT_OUT:
        return {"type": "identity", "stands_for": f"Caffe {kind}"}
    import difflib

    near = difflib.get_close_matches(kind, KNOWN, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise f.fail(f"unknown Caffe layer type {kind!r}{hint} (convcalc reads: {', '.join(KNOWN)})", type_at)


KNOWN = (
    "Input",
    "Convolution",
    "Deconvolution",
    "Pooling",
    "InnerProduct",
    *_ACTS,
    "PReLU",
    "LRN",
    "Dropout",
    "BatchNorm",
    "Scale",
    "Concat",
    "Eltwise",
    "Slice",
    "Split",
    "Flatten",
    "Reshape",
    *sorted(_KEPT_OUT),
)
"""The layer types this reader maps."""
