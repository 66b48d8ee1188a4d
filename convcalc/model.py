"""Typed values: the spec as loaded, and the network as resolved."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Protocol

from .kinds import Kind as Kind
from .values import frozen

if TYPE_CHECKING:
    from fractions import Fraction

    from .graph import Program


class Fill(enum.Enum):
    """What a pad layer fills its border with (PyTorch's Zero-, Reflection-, Replication-, CircularPad)."""

    ZEROS = "zeros"
    REFLECT = "reflect"
    """The input mirrored about its edge pixel: each side must be smaller than the input."""
    REPLICATE = "replicate"
    """The edge pixel repeated."""
    CIRCULAR = "circular"
    """The input wrapped around: each side at most the input."""


class Held(enum.Enum):
    """What a layer keeps of its output: activations of its own, none (applied in place), or a view."""

    OUTPUT = "output"
    IN_PLACE = "in place"
    VIEW = "a view"


class PadMode(enum.Enum):
    """How a layer's padding is given: numbers, or TensorFlow's rule by name."""

    EXPLICIT = "explicit"
    SAME = "same"
    """Output ceil(N/S) (a transposed layer: N x S), the odd pixel after."""
    VALID = "valid"
    """No padding."""


class Fn(enum.Enum):
    """Activation functions: shape-preserving, no weights."""

    RELU = "relu"
    RELU6 = "relu6"
    LEAKY_RELU = "leaky_relu"
    ELU = "elu"
    SELU = "selu"
    GELU = "gelu"
    SILU = "silu"
    MISH = "mish"
    SIGMOID = "sigmoid"
    HARDSIGMOID = "hardsigmoid"
    HARDSWISH = "hardswish"
    TANH = "tanh"
    SOFTPLUS = "softplus"
    SOFTMAX = "softmax"
    IDENTITY = "identity"
    GELU_TANH = "gelu_tanh"
    CELU = "celu"
    RRELU = "rrelu"
    HARDTANH = "hardtanh"
    SOFTSIGN = "softsign"
    LOG_SIGMOID = "log_sigmoid"
    HARDSHRINK = "hardshrink"
    SOFTSHRINK = "softshrink"
    TANHSHRINK = "tanhshrink"
    LOG_SOFTMAX = "log_softmax"
    SOFTMIN = "softmin"
    SOFTMAX2D = "softmax2d"


class Resample(enum.Enum):
    """How an upsample layer fills its output (nn.Upsample's mode)."""

    NEAREST = "nearest"
    LINEAR = "linear"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    TRILINEAR = "trilinear"


class Dtype(enum.Enum):
    """Element types for byte counts."""

    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    INT8 = "int8"

    @property
    def bytes(self) -> int:
        """Bytes per element."""
        return {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}[self.value]


class Optimizer(enum.Enum):
    """Training optimizers, by how many extra values they keep per trainable parameter."""

    SGD = "sgd"
    MOMENTUM = "momentum"
    ADAM = "adam"

    @property
    def states(self) -> int:
        """Optimizer state values per trainable parameter: 0, 1 (velocity) or 2 (Adam's moments)."""
        return {"sgd": 0, "momentum": 1, "adam": 2}[self.value]


class PoolMode(enum.Enum):
    """How a pooling window reduces its values."""

    MAX = "max"
    AVG = "avg"


class Layout(enum.Enum):
    """How the numbers of `input` are ordered."""

    HWC = "hwc"
    CHW = "chw"


class Convention(enum.Enum):
    """Whose count `totals.macs` holds (`--convention`; the rules are in `conventions`)."""

    CONVCALC = "convcalc"
    TORCHINFO = "torchinfo"
    PTFLOPS = "ptflops"
    PTFLOPS_ATEN = "ptflops-aten"
    FVCORE = "fvcore"
    THOP = "thop"
    PYTORCH = "pytorch"


class Severity(enum.Enum):
    """How much a finding matters; `rank` orders them."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Larger is worse."""
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Code(enum.Enum):
    """Rule codes of findings about a valid spec."""

    __hash__ = object.__hash__

    FRACTIONAL_SIZE = "fractional-size"
    NON_POSITIVE_SIZE = "non-positive-size"
    POOL_PAD_TOO_LARGE = "pool-pad-too-large"
    GROUPS_MISMATCH = "groups-mismatch"
    SUSPICIOUS_LAYOUT = "suspicious-layout"
    OUTPUT_PAD_TOO_LARGE = "output-pad-too-large"
    STRIDE_SKIPS_INPUT = "stride-skips-input"
    NOT_IN_PYTORCH = "not-in-pytorch"
    EXPECT_MISMATCH = "expect-mismatch"
    WINDOW_EXCEEDS_INPUT = "window-exceeds-input"
    CHECK_MISMATCH = "check-mismatch"
    SPEC_UNREADABLE = "spec-unreadable"
    MERGE_SHAPE_MISMATCH = "merge-shape-mismatch"
    UNUSED_OUTPUT = "unused-output"
    KEPT_OUT = "kept-out"
    CAFFE_ROUNDING = "caffe-rounding"
    OVER_BUDGET = "over-budget"


@frozen
class Where:
    """Where a layer stands in its file, and where each of its keys' values is."""

    line: int | None = None
    """1-based line of the layer's mapping, or None when there is no file."""
    column: int | None = None
    """1-based column of the layer's mapping."""
    keys: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    """Line and column of each key's value."""
    file: str | None = None
    """The file these lines are in when it is not the spec's own (a block from an included file)."""
    context: str = ""
    """Where in the expanded network the layer comes from, for messages: ' (in layer3.6: block
    bottleneck, repetition 7 of 23, width=256, stride=1)'; empty outside blocks."""

    def of(self, key: str) -> tuple[int | None, int | None]:
        """The position of `key`'s value, else of the layer itself."""
        return self.keys.get(key, (self.line, self.column))


@frozen
class Expect:
    """Shape assertions: what the author believes a layer or the network gives."""

    output: tuple[int, ...] | None = None
    """The output shape as written, in the spec's layout."""
    params: int | None = None
    macs: int | None = None
    where: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    """Line and column of each expected value."""


@frozen
class Limit:
    """One line of a spec's `budget:`: a total that must not exceed a value."""

    metric: str
    """The total it bounds: params, macs, activations, activation_memory, peak_memory, training_memory."""
    value: int
    """The most allowed: a count, or bytes for a memory."""
    text: str
    """The value as written (30M, 200MiB), for messages."""
    line: int | None = None
    """1-based line of the value in the spec."""
    column: int | None = None
    """1-based column of the value."""


PerAxis = tuple[int, ...]
"""A per-axis setting: one value for every axis, or one per spatial axis."""

Margins = tuple[tuple[int, int], ...] | None
"""Per spatial axis, how many leading and trailing positions of a tensor are padding a layer added,
not data; None when none are known to be."""


class Layer(Protocol):
    """What every layer value has, whatever its kind; the kind's module (convcalc.kinds) knows the rest."""

    @property
    def name(self) -> str: ...

    @property
    def where(self) -> Where: ...

    @property
    def allow(self) -> frozenset[Code]:
        """Finding codes turned off for this layer."""
        ...

    @property
    def expect(self) -> Expect | None: ...

    @property
    def kind(self) -> Kind:
        """The layer's kind: its class's, whose value is the spec's `type:` name."""
        ...


@frozen
class Group:
    """A block instance: the layers `first` to `last` (1-based, inclusive) of the expanded network."""

    name: str
    """Its full dotted name: layer3.5."""
    block: str
    """The block it instantiates."""
    first: int
    last: int
    depth: int
    """1 for an instance in the top-level layers, 2 inside one of those, and so on."""
    args: tuple[tuple[str, int | bool | str], ...] = ()
    """The argument values of this instance (numbers, conditions and words)."""
    repeat: int = 0
    """For an instance used with `repeat: n`: n (its repetitions are the instances one level deeper)."""
    expect: Expect | None = None
    """What the author believes the instance gives (`expect:` on its use): output, params, MACs."""
    file: str | None = None
    """The file of the use's line when it is not the spec's (a use inside an included block)."""


@frozen
class Spec:
    """A network spec as loaded: an input shape and a stack of layers."""

    input: tuple[int, ...]
    """The numbers of `input` as written, in `layout` order."""
    layers: tuple[Layer, ...]
    name: str | None = None
    layout: Layout = Layout.HWC
    file: str | None = None
    """The file the spec came from, for messages; None for text or a dict."""
    input_where: tuple[int | None, int | None] = (None, None)
    """Line and column of the `input` value."""
    expect: Expect | None = None
    """What the author believes the whole network gives."""
    budget: tuple[Limit, ...] = ()
    """The spec's `budget:`: totals the network must stay within (an over-budget error otherwise)."""
    inputs: tuple[tuple[int, ...], ...] = ()
    """Per layer, the layers it reads (0: the network input); empty for a plain chain."""
    groups: tuple[Group, ...] = ()
    """The block instances, in order, each a run of consecutive layers."""
    program: Program | None = None
    """The spec's blocks and references as written, expanded by the resolver once the input is known
    (a block may read its input's channels); None for a plain chain."""

    def sources(self, index: int) -> tuple[int, ...]:
        """The layers that layer `index` (1-based) reads; 0 is the network input."""
        return self.inputs[index - 1] if self.inputs else (index - 1,)


@frozen
class Shape:
    """A tensor shape: spatial sizes (any number of axes) and channels."""

    spatial: tuple[int, ...]
    channels: int

    @property
    def dims(self) -> tuple[int, ...]:
        """Spatial sizes then channels, the order of every output."""
        return (*self.spatial, self.channels)

    @property
    def elements(self) -> int:
        """How many numbers the tensor holds: none when a spatial size is not positive."""
        n = self.channels
        for s in self.spatial:
            n *= s
        return n if self.positive else 0

    @property
    def positive(self) -> bool:
        """Whether every spatial size is at least 1 (a window larger than its input gives none)."""
        return all(s > 0 for s in self.spatial)

    def __str__(self) -> str:
        return "x".join(map(str, self.dims)) if self.positive else "none"

    def written(self, layout: Layout) -> tuple[int, ...]:
        """The numbers in a layout's order: spatial sizes then channels (hwc), or channels first."""
        return (self.channels, *self.spatial) if layout is Layout.CHW else self.dims

    def show(self, layout: Layout) -> str:
        """32x32x3 in hwc, 3x32x32 in chw; none when a size is not positive."""
        return "x".join(map(str, self.written(layout))) if self.positive else "none"

    @staticmethod
    def read(dims: tuple[int, ...], layout: Layout) -> Shape:
        """Numbers as a spec writes them: one is a flat vector, more are spatial and channels."""
        if len(dims) == 1:
            return Shape((), dims[0])
        if layout is Layout.CHW:
            return Shape(dims[1:], dims[0])
        return Shape(dims[:-1], dims[-1])


@frozen
class Axis:
    """One spatial axis of a sliding window: its geometry and its output size."""

    n: int
    """Input size on this axis."""
    size: int
    stride: int
    pad: int
    """Padding before the axis (on both sides unless `pad_end` is set)."""
    dilation: int = 1
    ceil: bool = False
    out: int = 0
    """The output size PyTorch gives (floor, or its ceil-mode rule), or Caffe's with `caffe`."""
    pad_end: int | None = None
    """Padding after the axis when it differs from `pad`."""
    output_pad: int = 0
    """A transposed layer's extra output after the axis."""
    transposed: bool = False
    """Whether the window scatters (deconv): out = (N-1)S - P_b - P_a + E + output_pad."""
    caffe: bool = False
    """Caffe's rounding (with `ceil`): ceil in float32, and the last window kept wherever it starts
    unless `caffe_clip` (pooling_layer.cpp's Reshape)."""
    caffe_clip: bool = False
    """Whether Caffe drops a last window starting at N + P or later: only when the layer pads some axis."""

    @property
    def end_pad(self) -> int:
        """Padding after the axis."""
        return self.pad if self.pad_end is None else self.pad_end

    @property
    def symmetric(self) -> bool:
        """Whether both sides are padded alike."""
        return self.pad_end is None or self.pad_end == self.pad

    @property
    def extent(self) -> int:
        """E = D(F-1) + 1, the span of one window."""
        return self.dilation * (self.size - 1) + 1

    @property
    def numerator(self) -> int:
        """N + P_b + P_a - E (N + 2P - E), which the stride must divide for an exact fit."""
        return self.n + self.pad + self.end_pad - self.extent

    @property
    def fractional(self) -> bool:
        """Whether (N + 2P - E)/S + 1 is not a whole number; a transposed layer never is."""
        return not self.transposed and self.numerator % self.stride != 0

    @property
    def exact(self) -> float:
        """The unrounded (N + 2P - E)/S + 1 (the output itself for a transposed layer)."""
        return float(self.out) if self.transposed else self.numerator / self.stride + 1

    @property
    def lost(self) -> int:
        """Real input pixels after the end of the last window."""
        if self.transposed:
            return 0
        end = (self.out - 1) * self.stride + self.extent - self.pad
        return max(0, self.n - max(0, end))

    @property
    def gap(self) -> int:
        """Pixels skipped between two windows by design (stride wider than extent)."""
        return 0 if self.transposed else max(0, self.stride - self.extent)


@frozen
class Field:
    """The receptive field of a layer's outputs on one axis of the network input (Araujo et al.)."""

    size: int | Fraction
    """How many input pixels one output sees (the widest, after a transposed layer)."""
    jump: int | Fraction
    """The distance in input pixels between neighbouring outputs; a fraction below 1 after upsampling."""
    start: int | Fraction
    """Where the first output's field begins; negative when it reaches into padding."""


@frozen
class Refusal:
    """Something PyTorch refuses of a layer on the input it gets, as the layer's kind says: an error
    (or, with another severity, something else the kind says of the layer, such as what it stands for)."""

    code: Code
    message: str
    """What is refused and why, without the layer's name."""
    key: str | None = None
    """The spec key it is about (the error points at its value), or None for the layer."""
    fixes: tuple[str, ...] = ()
    empty: bool = False
    """Whether the layer is left with no output, so the layers after it cannot be resolved."""
    severity: Severity = Severity.ERROR
    brief: str | None = None
    """What the finding says in a few words, for the one-line summary of notes."""


@frozen
class Finding:
    """Something the resolver noticed about a valid spec."""

    severity: Severity
    code: Code
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    layer: int | None = None
    """1-based index of the layer, or None for the spec as a whole."""
    layer_name: str | None = None
    fixes: tuple[str, ...] = ()
    brief: str | None = None
    """A few words for a one-line summary of notes: unused padding at stride 2."""


@frozen
class Resolved:
    """One layer with its input, output and counts."""

    index: int
    layer: Layer
    input: Shape
    output: Shape
    axes: tuple[Axis, ...]
    """Per spatial axis geometry; empty for an fc layer."""
    params: int
    fc_params: int | None
    """Weights of a fully-connected layer with the same input and output."""
    macs: int
    non_trainable: int = 0
    """Values kept but not trained: batch norm's running mean and variance."""
    field: tuple[Field, ...] | None = None
    """The receptive field per spatial axis; None once every output sees the whole input."""
    others: tuple[Shape, ...] = ()
    """The inputs after the first, for a layer that merges several (add, concat)."""

    @property
    def inputs(self) -> tuple[Shape, ...]:
        """Every input, the first one first."""
        return (self.input, *self.others)

    @property
    def fractional(self) -> bool:
        """Whether any axis has a fractional output size (a layer with no output has no size at all)."""
        return any(a.fractional for a in self.axes) and self.output.positive

    @property
    def activations(self) -> int:
        """Elements this layer adds to memory: its output, or none for in-place layers and views."""
        from . import kinds

        return 0 if kinds.of(self.layer).HELD is not Held.OUTPUT else self.output.elements


@frozen
class Sizing:
    """How to turn counts into bytes: element type, batch size and the optimizer of a training estimate."""

    dtype: Dtype = Dtype.FLOAT32
    batch: int = 1
    optimizer: Optimizer = Optimizer.ADAM
    in_place: bool = True
    """Whether the inference peak lets act and dropout write over their input (PyTorch's inplace=True)."""


@frozen
class TrainingMemory:
    """The training estimate in bytes, part by part: `run`'s training line and `fit` both read it."""

    activations: int
    """2 x the activations kept for the backward pass, the batch's (the values and their gradients)."""
    weights: int
    """The trainable parameters."""
    gradients: int
    """One gradient per trainable parameter."""
    optimizer: int
    """The optimizer's states: 0, 1 or 2 values per trainable parameter."""
    running: int
    """Values kept but not trained (batch norm's running statistics)."""

    @property
    def total(self) -> int:
        """Every part."""
        return self.activations + self.weights + self.gradients + self.optimizer + self.running


def training_memory(*, kept: int, params: int, non_trainable: int, sizing: Sizing) -> TrainingMemory:
    """convcalc's one training formula: 2 x kept x batch + (2 + optimizer states) x params + running
    statistics, every value in the sizing's element type; `kept` is the activation elements per example
    kept for the backward pass."""
    size = sizing.dtype.bytes
    return TrainingMemory(
        activations=2 * kept * sizing.batch * size,
        weights=params * size,
        gradients=params * size,
        optimizer=sizing.optimizer.states * params * size,
        running=non_trainable * size,
    )


class CheckStatus(enum.Enum):
    """What running one layer with the numpy kernels showed (--check)."""

    OK = "ok"
    MISMATCH = "mismatch"
    SKIPPED = "skipped"


@frozen
class LayerCheck:
    """The outcome of running one layer."""

    index: int
    """1-based index of the layer."""
    status: CheckStatus
    shape: tuple[int, ...] | None
    """The real output shape, spatial sizes then channels; None when the layer did not run."""


@frozen
class Network:
    """A resolved spec: every layer's shapes and counts, and the findings."""

    spec: Spec
    input: Shape
    layers: tuple[Resolved, ...]
    findings: tuple[Finding, ...]
    checks: tuple[LayerCheck, ...] | None = None
    """Per layer, what running it showed; None when not checked."""
    sizing: Sizing = Sizing()
    shapes: Layout | None = None
    """The order shapes are shown in; None for the spec's layout."""

    @property
    def order(self) -> Layout:
        """The order shapes are shown in: chosen, else the spec's layout."""
        return self.shapes or self.spec.layout

    @property
    def output(self) -> Shape:
        """The last layer's output, or the input of an empty stack."""
        return self.layers[-1].output if self.layers else self.input

    @property
    def params(self) -> int:
        """Total parameters."""
        return sum(r.params for r in self.layers)

    @property
    def macs(self) -> int:
        """Total multiply-accumulates."""
        return sum(r.macs for r in self.layers)

    @property
    def non_trainable(self) -> int:
        """Total values kept but not trained (running statistics)."""
        return sum(r.non_trainable for r in self.layers)

    @property
    def activations(self) -> int:
        """Elements of the input and of every layer's output, per example, as the cs231n notes count."""
        return self.input.elements + sum(r.activations for r in self.layers)

    def live(self) -> list[int]:
        """Activation elements alive, per example, while each layer runs ([0]: the input alone), when
        every tensor is freed after its last reader (inference).

        A layer that works in place (act, dropout) or gives a view (flatten, reshape, crop; crop_to of its
        first input) shares its input's buffer, unless it works in place on an input a later layer still
        reads: then it needs its own.
        """
        from . import kinds

        n = len(self.layers)
        sources = [self.spec.sources(r.index) for r in self.layers]
        last = list(range(n + 1))  # the last layer that reads each tensor; the output lives to the end
        for i, srcs in enumerate(sources, start=1):
            for s in srcs:
                last[s] = max(last[s], i)
        if n:
            last[n] = n + 1
        buffer = [0] * (n + 1)  # the buffer each tensor lives in, named by the tensor that made it
        size = {0: self.input.elements}
        ends = {0: last[0]}
        for i, r in enumerate(self.layers, start=1):
            src = sources[i - 1][0]
            held = kinds.of(r.layer).HELD
            if held is Held.IN_PLACE and not self.sizing.in_place:
                held = Held.OUTPUT
            view = held is Held.VIEW  # of its first input, whatever else it reads (crop_to)
            if view or (held is not Held.OUTPUT and len(sources[i - 1]) == 1 and last[src] <= i):
                buffer[i] = buffer[src]
                ends[buffer[i]] = max(ends[buffer[i]], last[i])
            else:
                buffer[i] = i
                size[i] = r.output.elements if r.output.positive else 0
                ends[i] = last[i]
        frees: dict[int, int] = {}
        for b, end in ends.items():
            frees[end] = frees.get(end, 0) + size[b]
        alive = size[0]
        out = [alive]
        for i in range(1, n + 1):
            if buffer[i] == i:
                alive += size[i]
            out.append(alive)
            alive -= frees.get(i, 0)
        return out

    def peak(self) -> tuple[int, int]:
        """The most activation elements alive at once, per example, at inference (see `live`), and the
        layer where that is first reached (0: the input itself)."""
        live = self.live()
        best = max(live)
        return best, live.index(best)

    @property
    def flops(self) -> int:
        """Floating-point operations: 2 x MACs (a multiply and an add each)."""
        return 2 * self.macs

    @property
    def batch_activations(self) -> int:
        """Activations of the whole batch."""
        return self.activations * self.sizing.batch

    @property
    def activation_bytes(self) -> int:
        """Bytes of every activation of the batch, in the chosen element type."""
        return self.batch_activations * self.sizing.dtype.bytes

    @property
    def param_bytes(self) -> int:
        """Bytes of the weights and the running statistics."""
        return (self.params + self.non_trainable) * self.sizing.dtype.bytes

    @property
    def training_bytes(self) -> int:
        """A training estimate (`training_memory`) with every activation of the batch kept."""
        return training_memory(
            kept=self.activations, params=self.params, non_trainable=self.non_trainable, sizing=self.sizing
        ).total

    @property
    def worst(self) -> Severity | None:
        """The most severe finding, if any."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)
