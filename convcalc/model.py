"""Typed values: the spec as loaded, and the network as resolved."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class Kind(enum.Enum):
    """The layer kinds a spec may use."""

    CONV = "conv"
    POOL = "pool"
    FC = "fc"


class PoolMode(enum.Enum):
    """How a pooling window reduces its values."""

    MAX = "max"
    AVG = "avg"


class Layout(enum.Enum):
    """How the numbers of `input` are ordered."""

    HWC = "hwc"
    CHW = "chw"


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

    FRACTIONAL_SIZE = "fractional-size"
    NON_POSITIVE_SIZE = "non-positive-size"
    POOL_PAD_TOO_LARGE = "pool-pad-too-large"
    GROUPS_MISMATCH = "groups-mismatch"
    SUSPICIOUS_LAYOUT = "suspicious-layout"
    STRIDE_SKIPS_INPUT = "stride-skips-input"
    EXPECT_MISMATCH = "expect-mismatch"
    WINDOW_EXCEEDS_INPUT = "window-exceeds-input"
    CHECK_MISMATCH = "check-mismatch"


@dataclass(frozen=True, slots=True)
class Where:
    """Where a layer stands in its file, and where each of its keys' values is."""

    line: int | None = None
    """1-based line of the layer's mapping, or None when there is no file."""
    column: int | None = None
    """1-based column of the layer's mapping."""
    keys: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    """Line and column of each key's value."""

    def of(self, key: str) -> tuple[int | None, int | None]:
        """The position of `key`'s value, else of the layer itself."""
        return self.keys.get(key, (self.line, self.column))


@dataclass(frozen=True, slots=True)
class Expect:
    """Shape assertions: what the author believes a layer or the network gives."""

    output: tuple[int, ...] | None = None
    """The output shape as written, in the spec's layout."""
    params: int | None = None
    macs: int | None = None
    where: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    """Line and column of each expected value."""


PerAxis = tuple[int, ...]
"""A per-axis setting: one value for every axis, or one per spatial axis."""


@dataclass(frozen=True, slots=True)
class Conv:
    """A convolution: K filters of size F sliding with stride S over padding P."""

    name: str
    filters: int
    size: PerAxis
    stride: PerAxis = (1,)
    pad: PerAxis = (0,)
    dilation: PerAxis = (1,)
    groups: int = 1
    bias: bool = True
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    """Finding codes turned off for this layer (a deliberate floor, say)."""
    expect: Expect | None = None

    kind = Kind.CONV


@dataclass(frozen=True, slots=True)
class Pool:
    """A max or average pooling window; it has no weights."""

    name: str
    size: PerAxis
    stride: PerAxis | None = None
    """None means the stride equals the size, as in PyTorch."""
    pad: PerAxis = (0,)
    mode: PoolMode = PoolMode.MAX
    ceil: bool = False
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    """Finding codes turned off for this layer (a deliberate floor, say)."""
    expect: Expect | None = None

    kind = Kind.POOL


@dataclass(frozen=True, slots=True)
class FC:
    """A fully-connected layer; it flattens its input first."""

    name: str
    units: int
    bias: bool = True
    where: Where = Where()
    allow: frozenset[Code] = frozenset()
    """Finding codes turned off for this layer (a deliberate floor, say)."""
    expect: Expect | None = None

    kind = Kind.FC


Layer = Conv | Pool | FC


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
        """How many numbers the tensor holds."""
        n = self.channels
        for s in self.spatial:
            n *= s
        return n

    def __str__(self) -> str:
        return "x".join(map(str, self.dims))

    @staticmethod
    def read(dims: tuple[int, ...], layout: Layout) -> Shape:
        """Numbers as a spec writes them: one is a flat vector, more are spatial and channels."""
        if len(dims) == 1:
            return Shape((), dims[0])
        if layout is Layout.CHW:
            return Shape(dims[1:], dims[0])
        return Shape(dims[:-1], dims[-1])


@dataclass(frozen=True, slots=True)
class Axis:
    """One spatial axis of a sliding window: its geometry and its output size."""

    n: int
    """Input size on this axis."""
    size: int
    stride: int
    pad: int
    dilation: int = 1
    ceil: bool = False
    out: int = 0
    """The output size PyTorch gives (floor, or its ceil-mode rule)."""

    @property
    def extent(self) -> int:
        """E = D(F-1) + 1, the span of one window."""
        return self.dilation * (self.size - 1) + 1

    @property
    def numerator(self) -> int:
        """N + 2P - E, which the stride must divide for an exact fit."""
        return self.n + 2 * self.pad - self.extent

    @property
    def fractional(self) -> bool:
        """Whether (N + 2P - E)/S + 1 is not a whole number."""
        return self.numerator % self.stride != 0

    @property
    def exact(self) -> float:
        """The unrounded (N + 2P - E)/S + 1."""
        return self.numerator / self.stride + 1

    @property
    def lost(self) -> int:
        """Real input pixels after the end of the last window."""
        end = (self.out - 1) * self.stride + self.extent - self.pad
        return max(0, self.n - max(0, end))

    @property
    def gap(self) -> int:
        """Pixels skipped between two windows by design (stride wider than extent)."""
        return max(0, self.stride - self.extent)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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

    @property
    def fractional(self) -> bool:
        """Whether any axis has a fractional output size."""
        return any(a.fractional for a in self.axes)


class CheckStatus(enum.Enum):
    """What running one layer with the numpy kernels showed (--check)."""

    OK = "ok"
    MISMATCH = "mismatch"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class LayerCheck:
    """The outcome of running one layer."""

    index: int
    """1-based index of the layer."""
    status: CheckStatus
    shape: tuple[int, ...] | None
    """The real output shape, spatial sizes then channels; None when the layer did not run."""


@dataclass(frozen=True, slots=True)
class Network:
    """A resolved spec: every layer's shapes and counts, and the findings."""

    spec: Spec
    input: Shape
    layers: tuple[Resolved, ...]
    findings: tuple[Finding, ...]
    checks: tuple[LayerCheck, ...] | None = None
    """Per layer, what running it showed; None when not checked."""

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
    def worst(self) -> Severity | None:
        """The most severe finding, if any."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)
