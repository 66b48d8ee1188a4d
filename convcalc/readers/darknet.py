"""Read a Darknet .cfg (the YOLO family) as a spec: each section one or more layers, at its own line.

Darknet's INI-like format is read here without Darknet: `[section]` headers, `key=value` lines,
`#` and `;` comments. Darknet's layer index names every layer (`0_conv`, `0_bn`, `0_leaky`,
`1_maxpool`), so tables and errors map back to the cfg; `route` and `shortcut` become `from:`.
Darknet only warns of a key it does not know and uses the default instead (a `filter=` typo gives
one filter); here it is an error, as is a value that is not a number where one is expected.

Detection heads and losses ([yolo], [region], [detection], [cost]) keep the shape and hold no
weights: they become `identity` layers that may go unread (each head is an output). [reorg] is
`pixel_unshuffle`: the same shapes, but Darknet's reorg orders the values otherwise, even within a
channel (recorded by tools/gen_darknet_truth.py). A dilated conv is read as Darknet runs it (padding
x dilation), and refused where Darknet's output size and its kernel disagree.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..build import Located, LocatedList, build
from ..errors import SpecError
from ..model import Spec

Pos = tuple[int, int]
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

ALIASES = {
    "net": "net",
    "network": "net",
    "conv": "convolutional",
    "convolutional": "convolutional",
    "deconv": "deconvolutional",
    "deconvolutional": "deconvolutional",
    "max": "maxpool",
    "maxpool": "maxpool",
    "avg": "avgpool",
    "avgpool": "avgpool",
    "conn": "connected",
    "connected": "connected",
    "soft": "softmax",
    "softmax": "softmax",
    "lrn": "normalization",
    "normalization": "normalization",
    **{
        k: k
        for k in [
            "route",
            "shortcut",
            "upsample",
            "reorg",
            "dropout",
            "batchnorm",
            "activation",
            "logistic",
            "scale_channels",
            "sam",
            "empty",
            "silence",
            "yolo",
            "region",
            "detection",
            "cost",
            "Gaussian_yolo",
        ]
    },
}
"""Darknet's section names (its own short forms too) and the section each one is."""
HEADS = frozenset(("yolo", "region", "detection", "cost", "Gaussian_yolo"))
"""Detection heads and losses: the shape kept, no weights; they become `identity`."""
UNSUPPORTED = frozenset(
    [
        "local",
        "crnn",
        "rnn",
        "gru",
        "lstm",
        "conv_lstm",
        "history",
        "crop",
        "l2norm",
        "xnor",
        "iseg",
        "implicit_add",
        "implicit_mul",
        "contrastive",
        "reorg3d",
        "local_avgpool",
    ]
)
"""Darknet sections convcalc has no layer for."""
ACTIVATIONS = {
    "logistic": "sigmoid",
    "relu": "relu",
    "relu6": "relu6",
    "leaky": "leaky_relu",
    "elu": "elu",
    "selu": "selu",
    "gelu": "gelu",
    "tanh": "tanh",
    "swish": "silu",
    "mish": "mish",
    "hardtan": "hardtanh",
    "linear": "",
}
"""Darknet's activations and convcalc's `fn` for each ('' for none)."""
_GENERIC = ("stopbackward", "dontload", "dontloadscales", "learning_rate", "train_only_bn", "dont_update")
_IGNORED = {
    "convolutional": ("flipped", "dot", "binary", "xnor", "bin_output", "assisted_excitation", "cbn"),
    "dropout": ("dropblock", "dropblock_size_rel", "dropblock_size_abs"),
    "upsample": ("scale",),
    "normalization": ("alpha", "beta", "kappa"),
    "softmax": ("temperature", "tree", "spatial", "noloss"),
}
"""Keys that change no shape or count, accepted and left out."""
_SHAPED = {
    "convolutional": ("antialiasing", "coordconv", "deform", "sway", "rotate", "stretch", "stretch_sway"),
    "maxpool": ("maxpool_depth", "out_channels", "antialiasing"),
    "reorg": ("reverse", "flatten", "extra"),
    "scale_channels": ("scale_wh",),
}
"""Keys that change what a layer is in ways convcalc cannot express: an error unless 0."""
_KNOWN: dict[str, tuple[str, ...]] = {
    "convolutional": (
        "filters",
        "size",
        "stride",
        "stride_x",
        "stride_y",
        "pad",
        "padding",
        "groups",
        "batch_normalize",
        "activation",
        "dilation",
    ),
    "deconvolutional": ("filters", "size", "stride", "pad", "padding", "batch_normalize", "activation"),
    "maxpool": ("size", "stride", "stride_x", "stride_y", "padding"),
    "avgpool": (),
    "connected": ("output", "activation", "batch_normalize"),
    "route": ("layers", "groups", "group_id"),
    "shortcut": ("from", "activation", "weights_type", "weights_normalization"),
    "upsample": ("stride",),
    "reorg": ("stride",),
    "dropout": ("probability",),
    "softmax": ("groups",),
    "batchnorm": (),
    "activation": ("activation",),
    "logistic": (),
    "scale_channels": ("from", "activation"),
    "sam": ("from", "activation"),
    "empty": (),
    "silence": (),
    "normalization": ("size",),
}


@dataclass(frozen=True, slots=True)
class Option:
    """One `key=value` line."""

    value: str
    key_at: Pos
    at: Pos
    """Line and column of the value."""


@dataclass(frozen=True, slots=True)
class Section:
    """One `[section]` and its options, as written."""

    kind: str
    """Darknet's own name for it (a short form made long: conv is convolutional)."""
    written: str
    at: Pos
    options: dict[str, Option]


def _fail(message: str, at: Pos, file: str | None) -> SpecError:
    """A located error."""
    return SpecError(message, file=file, line=at[0], column=at[1])


def _suggest(word: str, choices: list[str]) -> str:
    """`; did you mean ...?` for a close choice, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def sections(text: str, *, file: str | None = None) -> list[Section]:
    """The sections of a cfg, each option with its line and column; SpecError on a line that is neither."""
    out: list[Section] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        stripped = line.lstrip()
        column = len(line) - len(stripped) + 1
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise _fail(
                    f"unclosed section header {stripped[:40]!r}: expected ']'", (number, column), file
                )
            name = stripped[1:-1].strip()
            if name not in ALIASES:
                if name in UNSUPPORTED:
                    raise _fail(f"[{name}] has no convcalc layer", (number, column), file)
                hint = _suggest(name, sorted(ALIASES))
                raise _fail(f"unknown section [{name[:40]}]{hint}", (number, column), file)
            out.append(Section(ALIASES[name], name, (number, column), {}))
            continue
        key, eq, value = stripped.partition("=")
        key = key.strip()
        if not eq or not key:
            raise _fail(f"expected key=value or a [section], got {stripped[:40]!r}", (number, column), file)
        if not out:
            raise _fail(
                f"'{key[:40]}' comes before any [section]; the first must be [net]", (number, column), file
            )
        options = out[-1].options
        if key in options:
            raise _fail(
                f"duplicate key '{key[:40]}' in [{out[-1].written}] (also line {options[key].key_at[0]})",
                (number, column),
                file,
            )
        value_column = column + len(stripped) - len(stripped.partition("=")[2].lstrip())
        options[key] = Option(value.strip(), (number, column), (number, value_column))
    if not out:
        raise _fail("no sections: a Darknet cfg starts with [net]", (1, 1), file)
    if out[0].kind != "net":
        raise _fail(f"the first section must be [net], not [{out[0].written}]", out[0].at, file)
    return out


class _Reader:
    """Reads one section's options, naming the Darknet layer in every error."""

    def __init__(self, section: Section, index: int, file: str | None) -> None:
        self.s = section
        self.index = index
        self.file = file
        self.label = f"layer {index} [{section.written}]" if index >= 0 else "[net]"

    def at(self, key: str) -> Pos:
        """Where a key's value stands, or the section when it is not given."""
        option = self.s.options.get(key)
        return option.at if option is not None else self.s.at

    def fail(self, key: str | None, text: str) -> SpecError:
        """An error about a key (None: the section), at its value."""
        return _fail(f"{self.label}: {text}", self.at(key) if key else self.s.at, self.file)

    def integer(self, key: str, default: int | None) -> int:
        """An integer option; `default` when absent (None: required)."""
        option = self.s.options.get(key)
        if option is None:
            if default is None:
                raise self.fail(None, f"missing '{key}'")
            return default
        if not _INT.fullmatch(option.value):
            raise self.fail(key, f"'{key}' must be an integer, got {option.value[:40]!r}")
        return int(option.value)

    def number(self, key: str, default: float) -> float:
        """A number option, `default` when absent."""
        option = self.s.options.get(key)
        if option is None:
            return default
        if not _FLOAT.fullmatch(option.value):
            raise self.fail(key, f"'{key}' must be a number, got {option.value[:40]!r}")
        return float(option.value)

    def indices(self, key: str) -> list[int]:
        """Layer references (-1 the one before, 61 layer 61), each to an earlier layer's index."""
        option = self.s.options.get(key)
        if option is None:
            raise self.fail(None, f"missing '{key}'")
        out = []
        for part in option.value.split(","):
            part = part.strip()
            if not _INT.fullmatch(part):
                raise self.fail(key, f"'{key}' must be layer indices like -1,61, got {option.value[:40]!r}")
            i = int(part)
            target = self.index + i if i < 0 else i
            if not 0 <= target < self.index:
                span = f"0 to {self.index - 1}" if self.index else "none: it is the first layer"
                raise self.fail(
                    key,
                    f"'{key}' {i} is layer {target}, not one of the layers before it ({span})",
                )
            out.append(target)
        return out

    def activation(self, default: str) -> str:
        """convcalc's `fn` for the section's activation ('' for linear); an error for one it lacks."""
        option = self.s.options.get("activation")
        word = option.value if option is not None else default
        if word not in ACTIVATIONS:
            hint = _suggest(word, sorted(ACTIVATIONS))
            raise self.fail(
                "activation",
                f"activation {word[:40]!r} has no convcalc equivalent{hint} "
                f"(convcalc reads: {', '.join(ACTIVATIONS)})",
            )
        return ACTIVATIONS[word]

    def check_keys(self) -> None:
        """Refuse an unknown key, and a known one that would change the layer beyond convcalc."""
        kind = self.s.kind
        if kind in HEADS or kind == "net":
            return
        known = (*_KNOWN[kind], *_IGNORED.get(kind, ()), *_SHAPED.get(kind, ()), *_GENERIC)
        for key in self.s.options:
            if key not in known:
                hint = _suggest(key, list(known))
                raise _fail(
                    f"{self.label}: unknown key '{key[:40]}'{hint} "
                    f"(expected one of: {', '.join(_KNOWN[kind]) or 'none'})",
                    self.s.options[key].key_at,
                    self.file,
                )
        for key in _SHAPED.get(kind, ()):
            if key in self.s.options and self.integer(key, 0) != 0:
                raise self.fail(key, f"'{key}={self.s.options[key].value}' has no convcalc equivalent")


class _Net:
    """The layers made so far, and the name of each Darknet layer's output."""

    def __init__(self) -> None:
        self.layers: list[Located] = []
        self.at: list[Pos] = []
        self.outputs: list[str] = []
        """Per Darknet layer, the name of the convcalc layer that gives its output."""

    def add(self, r: _Reader, suffix: str, values: dict[str, Any], keys: dict[str, str] | None = None) -> str:
        """Add one layer, its keys located at the Darknet options they come from."""
        name = f"{r.index}_{suffix}"
        item = {"type": values.pop("type"), "name": name, **values}
        at = {k: r.at((keys or {}).get(k, "")) for k in item}
        self.layers.append(Located(item, start=r.s.at, at=at))
        self.at.append(r.s.at)
        return name

    def act(self, r: _Reader, default: str) -> None:
        """The section's activation as a layer of its own, named by Darknet's word; none for linear."""
        fn = r.activation(default)
        if fn:
            word = r.s.options["activation"].value if "activation" in r.s.options else default
            self.add(r, word, {"type": "act", "fn": fn}, {"fn": "activation"})


def _conv(net: _Net, r: _Reader, *, deconv: bool = False) -> None:
    """[convolutional] (or [deconvolutional]): conv, bn without the conv's bias, activation."""
    size = r.integer("size", 1)
    stride = [r.integer("stride_y", r.integer("stride", 1)), r.integer("stride_x", r.integer("stride", 1))]
    pad = size // 2 if r.integer("pad", 0) else r.integer("padding", 0)
    bn = r.integer("batch_normalize", 0) != 0
    values: dict[str, Any] = {
        "type": "deconv" if deconv else "conv",
        "filters": r.integer("filters", 1),
        "size": size,
        "stride": stride if stride[0] != stride[1] else stride[0],
        "pad": pad,
    }
    dilation = r.integer("dilation", 1) if size > 1 else 1
    if dilation > 1 and 2 * pad != size - 1:
        raise r.fail(
            "dilation",
            f"dilation={dilation} with padding {pad} and size {size}: Darknet sizes the output as if "
            "undilated but runs the kernel dilated with padding x dilation; they agree only when "
            "the padding is (size-1)/2",
        )
    if not deconv:
        values["groups"] = r.integer("groups", 1)
        values["dilation"] = dilation
        values["pad"] = pad * dilation
    values["bias"] = not bn
    keys = {
        "filters": "filters",
        "size": "size",
        "stride": "stride",
        "pad": "pad" if "pad" in r.s.options else "padding",
    }
    net.add(r, "deconv" if deconv else "conv", values, {**keys, "groups": "groups", "dilation": "dilation"})
    if bn:
        net.add(r, "bn", {"type": "bn"}, {})
    net.act(r, "logistic")


def _maxpool(net: _Net, r: _Reader) -> None:
    """[maxpool]: `padding` (size-1) split padding/2 before, the rest after; floor rounding."""
    stride = r.integer("stride", 1)
    strides = [r.integer("stride_y", stride), r.integer("stride_x", stride)]
    size = r.integer("size", stride)
    padding = r.integer("padding", max(size - 1, 0))
    if padding < 0:
        raise r.fail("padding", f"'padding' must be 0 or more, got {padding}")
    pair = [padding // 2, padding - padding // 2]
    net.add(
        r,
        "maxpool",
        {
            "type": "pool",
            "mode": "max",
            "size": size,
            "stride": strides if strides[0] != strides[1] else stride,
            "pad": [pair, pair],
        },
        {"size": "size", "stride": "stride", "pad": "padding"},
    )


def _route(net: _Net, r: _Reader) -> None:
    """[route]: one earlier layer, a concatenation, or with `groups` one channel group of each."""
    sources = [net.outputs[i] for i in r.indices("layers")]
    groups = r.integer("groups", 1)
    group_id = r.integer("group_id", 0)
    if groups < 1:
        raise r.fail("groups", f"'groups' must be a positive integer, got {groups}")
    if not 0 <= group_id < groups:
        raise r.fail("group_id", f"'group_id' must be from 0 to groups - 1 ({groups - 1}), got {group_id}")
    if groups > 1:
        parts = []
        for k, source in enumerate(sources):
            split = {"type": "split", "chunks": groups, "part": group_id, "from": source}
            suffix = "route" if len(sources) == 1 else f"route_split{k}"
            parts.append(
                net.add(r, suffix, split, {"chunks": "groups", "part": "group_id", "from": "layers"})
            )
        sources = parts if len(sources) > 1 else []
    if len(sources) == 1:
        net.add(r, "route", {"type": "identity", "from": sources[0]}, {"from": "layers"})
    elif sources:
        net.add(r, "route", {"type": "concat", "from": sources}, {"from": "layers"})


def _merge(net: _Net, r: _Reader, kind: str, suffix: str) -> None:
    """[shortcut] (add), [scale_channels] and [sam] (mul): the layer before with `from`."""
    weights = r.s.options.get("weights_type")
    if weights is not None and weights.value != "none":
        raise r.fail(
            "weights_type",
            f"a weighted shortcut (weights_type={weights.value[:40]}) has no convcalc equivalent",
        )
    froms = [net.outputs[i] for i in r.indices("from")]
    sources = [*froms, net.outputs[-1]] if kind == "mul" else [net.outputs[-1], *froms]
    net.add(r, suffix, {"type": kind, "from": sources}, {"from": "from"})
    net.act(r, "linear")


def _upsample(net: _Net, r: _Reader) -> None:
    """[upsample]: nearest, by `stride`."""
    stride = r.integer("stride", 2)
    if stride < 0:
        raise r.fail("stride", f"a downsampling [upsample] (stride={stride}) has no convcalc equivalent")
    if stride == 0:
        raise r.fail("stride", "'stride' must be a positive integer, got 0")
    net.add(r, "upsample", {"type": "upsample", "scale": stride, "mode": "nearest"}, {"scale": "stride"})


def _connected(net: _Net, r: _Reader) -> None:
    """[connected]: fc (flattening), bn without the fc's bias, activation."""
    bn = r.integer("batch_normalize", 0) != 0
    net.add(
        r, "connected", {"type": "fc", "units": r.integer("output", 1), "bias": not bn}, {"units": "output"}
    )
    if bn:
        net.add(r, "bn", {"type": "bn"}, {})
    net.act(r, "logistic")


def _simple(
    suffix: str, make: Callable[[_Reader], dict[str, Any]], keys: dict[str, str] | None = None
) -> Callable[[_Net, _Reader], None]:
    """A reader of a section that is one layer."""

    def read(net: _Net, r: _Reader) -> None:
        """Add the layer."""
        net.add(r, suffix, make(r), keys)

    return read


def _activation(net: _Net, r: _Reader) -> None:
    """[activation]: the activation alone (linear: identity)."""
    fn = r.activation("linear")
    net.add(
        r,
        r.s.options["activation"].value if "activation" in r.s.options else "linear",
        {"type": "act", "fn": fn or "identity"},
        {"fn": "activation"},
    )


READERS: dict[str, Callable[[_Net, _Reader], None]] = {
    "convolutional": _conv,
    "deconvolutional": lambda net, r: _conv(net, r, deconv=True),
    "maxpool": _maxpool,
    "avgpool": _simple("avgpool", lambda r: {"type": "global_pool", "mode": "avg"}),
    "connected": _connected,
    "route": _route,
    "shortcut": lambda net, r: _merge(net, r, "add", "shortcut"),
    "scale_channels": lambda net, r: _merge(net, r, "mul", "scale_channels"),
    "sam": lambda net, r: _merge(net, r, "mul", "sam"),
    "upsample": _upsample,
    "reorg": _simple(
        "reorg", lambda r: {"type": "pixel_unshuffle", "factor": r.integer("stride", 1)}, {"factor": "stride"}
    ),
    "dropout": _simple(
        "dropout", lambda r: {"type": "dropout", "p": r.number("probability", 0.5)}, {"p": "probability"}
    ),
    "softmax": _simple("softmax", lambda r: {"type": "act", "fn": "softmax"}),
    "batchnorm": _simple("batchnorm", lambda r: {"type": "bn"}),
    "activation": _activation,
    "logistic": _simple("logistic", lambda r: {"type": "act", "fn": "sigmoid"}),
    "normalization": _simple(
        "lrn", lambda r: {"type": "lrn", "size": r.integer("size", 5)}, {"size": "size"}
    ),
    "empty": _simple("empty", lambda r: {"type": "identity"}),
    "silence": _simple("silence", lambda r: {"type": "identity", "stands_for": "Darknet [silence]"}),
}


def to_data(text: str, *, file: str | None = None) -> Located:
    """The cfg as the data a YAML spec would give: `input` and located `layers`, named by Darknet index."""
    found = sections(text, file=file)
    head = _Reader(found[0], -1, file)
    dims = [head.integer("height", None), head.integer("width", None), head.integer("channels", None)]
    net = _Net()
    for index, section in enumerate(found[1:]):
        r = _Reader(section, index, file)
        r.check_keys()
        before = len(net.layers)
        if section.kind == "net":
            raise r.fail(None, "[net] comes once, first")
        if section.kind in HEADS:
            suffix = section.written.lower()
            kept = {
                "type": "identity",
                "stands_for": f"Darknet [{section.written}]",
                "allow": ["unused-output"],
            }
            net.add(r, suffix, kept, {})
        else:
            READERS[section.kind](net, r)
        net.outputs.append(net.layers[-1]["name"] if len(net.layers) > before else net.outputs[-1])
    if not net.layers:
        raise _fail("no layers after [net]", found[0].at, file)
    at_input = head.at("height")
    return Located(
        {"input": dims, "layers": LocatedList(net.layers, start=at_input, at=net.at)},
        start=(1, 1),
        at={"input": at_input, "layers": found[1].at if len(found) > 1 else at_input},
    )


def parse(text: str, *, file: str | None = None) -> Spec:
    """A Darknet cfg's text as a Spec, every layer located at its section's line."""
    return build(to_data(text, file=file), file=file)
