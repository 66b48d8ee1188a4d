"""The check engine: real forward passes against resolved shapes, the comparison and the memory guard."""

from __future__ import annotations

import dataclasses
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import check, formulas, kernels
from convcalc.check import CheckStatus, LayerCheck, MemoryLimit
from convcalc.kinds.act import Act
from convcalc.kinds.bn import BatchNorm
from convcalc.kinds.dropout import Dropout
from convcalc.kinds.fc import FC
from convcalc.kinds.flatten import Flatten
from convcalc.kinds.global_pool import GlobalPool
from convcalc.kinds.window import Conv, Deconv, Pool
from convcalc.loader import parse, read
from convcalc.model import Axis, Code, Fn, Layer, Network, PadMode, PoolMode, Resolved, Severity, Shape, Spec
from convcalc.resolver import resolve
from convcalc.walk import has_layers

SPECS = Path(__file__).parent.parent / "specs"
GRAPHS = {"unet.yaml", "unet_padded.yaml"}
ALL_SPECS = sorted(
    p
    for p in SPECS.glob("**/*.yaml")
    if has_layers(str(p)) and "torchvision" not in p.parts and p.name not in GRAPHS
)
"""Every shipped chain (block libraries are not specs). The networks of blocks are checked apart, at a
smaller input: the torchvision models and the U-Nets take minutes at their own sizes."""
GRAPH_CHECKS = [
    ("torchvision/resnet50.yaml", (96, 96, 3)),
    ("torchvision/googlenet.yaml", (96, 96, 3)),
    ("torchvision/densenet121.yaml", (96, 96, 3)),
    ("torchvision/shufflenet_v2_x0_5.yaml", (64, 64, 3)),
    ("torchvision/efficientnet_b0.yaml", (64, 64, 3)),
    ("unet_padded.yaml", (64, 64, 3)),
]
"""Graphs run through --check: residual adds, Inception's and DenseNet's concats, ShuffleNet's split and
shuffle, EfficientNet's squeeze-and-excitation multiply, U-Net's skips."""
OK, MISMATCH, SKIPPED = CheckStatus.OK, CheckStatus.MISMATCH, CheckStatus.SKIPPED
KIB, MIB, GIB = 1024, 1024**2, 1024**3


def net_of(text: str) -> Network:
    """Resolve a spec written inline."""
    return resolve(parse(text, file="inline.yaml"))


def statuses(checks: tuple[LayerCheck, ...]) -> list[CheckStatus]:
    """The status of every check, in order."""
    return [c.status for c in checks]


@pytest.fixture(scope="module")
def vgg16() -> Network:
    """VGG-16 resolved once for the module."""
    return resolve(read(SPECS / "vgg16.yaml"))


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: str(p.relative_to(SPECS)))
def test_every_spec_checks_ok(path: Path) -> None:
    """Every layer of every shipped spec runs and gives the resolved shape."""
    net = resolve(read(path))
    checks = check.run(net)
    positive = [all(o >= 1 for o in r.output.spatial) for r in net.layers]
    first_bad = positive.index(False) if False in positive else len(positive)
    assert statuses(checks) == [OK] * first_bad + [SKIPPED] * (len(positive) - first_bad)
    assert [c.index for c in checks] == [r.index for r in net.layers]
    assert [c.shape for c in checks[:first_bad]] == [r.output.dims for r in net.layers[:first_bad]]
    assert check.compare(net, checks) == ()


def test_specs_exist() -> None:
    """The parametrized test above really covers the shipped specs."""
    assert len(ALL_SPECS) >= 10
    assert SPECS / "vgg16.yaml" in ALL_SPECS


def test_wrong_expected_shape_is_caught() -> None:
    """A resolved shape that is wrong gives a mismatch, and the next layer still runs on the real output."""
    net = resolve(read(SPECS / "cs231n.yaml"))
    wrong = dataclasses.replace(net.layers[0], output=Shape((31, 31), 10))
    net = dataclasses.replace(net, layers=(wrong, *net.layers[1:]))
    checks = check.run(net)
    assert checks == (
        LayerCheck(1, MISMATCH, (32, 32, 10)),
        LayerCheck(2, OK, (16, 16, 10)),
        LayerCheck(3, OK, (10,)),
    )
    (finding,) = check.compare(net, checks)
    assert finding.severity is Severity.ERROR
    assert finding.code is Code.CHECK_MISMATCH
    assert finding.message == "conv1: the resolver says 31x31x10 but running the layer gives 32x32x10"
    where = wrong.layer.where
    assert (finding.file, finding.line, finding.column) == (
        str(SPECS / "cs231n.yaml"),
        where.line,
        where.column,
    )
    assert where.line is not None
    assert (finding.layer, finding.layer_name, finding.fixes) == (1, "conv1", ())


def test_wrong_channels_are_caught() -> None:
    """A wrong channel count is a mismatch too, and an fc layer adapts to what it really receives."""
    net = net_of("input: 8x8x3\nlayers:\n  - {type: conv, filters: 4, size: 3}\n  - {type: fc, units: 2}\n")
    wrong = dataclasses.replace(net.layers[0], output=Shape((6, 6), 5))
    checks = check.run(dataclasses.replace(net, layers=(wrong, net.layers[1])))
    assert checks == (LayerCheck(1, MISMATCH, (6, 6, 4)), LayerCheck(2, OK, (2,)))


def test_a_kernel_that_cannot_run_is_a_mismatch() -> None:
    """A window too large for the real input, where the resolver fitted it, is a disagreement."""
    net = net_of(
        "input: 8x8x1\nlayers:\n"
        "  - {type: conv, filters: 1, size: 3}\n"
        "  - {type: conv, filters: 1, size: 6}\n"
        "  - {type: fc, units: 3}\n"
    )
    checks = check.run(dataclasses.replace(net, input=Shape((5, 5), 1)))
    assert checks == (
        LayerCheck(1, MISMATCH, (3, 3, 1)),
        LayerCheck(2, MISMATCH, None),
        LayerCheck(3, SKIPPED, None),
    )
    assert [f.layer for f in check.compare(net, checks)] == [1, 2]


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        pytest.param(
            ["{type: conv, filters: 2, size: 9}", "{type: fc, units: 3}"], [SKIPPED], id="non-positive"
        ),
        pytest.param(
            ["{type: conv, filters: 4, size: 3, groups: 2}", "{type: pool, size: 2}"],
            [SKIPPED, SKIPPED],
            id="groups-mismatch",
        ),
        pytest.param(
            ["{type: conv, filters: 4, size: 1}", "{type: pool, size: 2, pad: 2}", "{type: fc, units: 3}"],
            [OK, SKIPPED, SKIPPED],
            id="pool-pad-too-large",
        ),
    ],
)
def test_layers_torch_refuses_are_skipped(layers: list[str], expected: list[CheckStatus]) -> None:
    """A non-positive size, a groups mismatch or a too-wide pool pad: skipped with all after it."""
    net = net_of("input: 8x8x3\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers))
    checks = check.run(net)
    assert statuses(checks) == expected
    assert all(c.shape is None for c in checks if c.status is SKIPPED)
    assert check.compare(net, checks) == ()


@pytest.mark.parametrize(
    ("layer", "input", "shape"),
    [
        ("{type: conv, filters: 1, size: 3, stride: 3}", "7x7x1", (2, 2, 1)),
        ("{type: conv, filters: 2, size: 3, stride: 2}", "8x8x3", (3, 3, 2)),
        ("{type: pool, size: 3, stride: 2}", "8x8x3", (3, 3, 3)),
        ("{type: pool, size: 2, ceil: true}", "7x7x2", (4, 4, 2)),
        ("{type: pool, mode: avg, size: 3, stride: 2, ceil: true}", "6x9x2", (3, 4, 2)),
        ("{type: pool, size: 2, pad: 1, ceil: true}", "5x5x1", (3, 3, 1)),
        ("{type: pool, mode: avg, size: 2, pad: 1, ceil: true}", "5x5x1", (3, 3, 1)),
        (
            "{type: conv, filters: 4, size: [3, 5], stride: [1, 2], dilation: 2, groups: 2}",
            "12x15x2",
            (8, 4, 4),
        ),
        ("{type: conv, filters: 3, size: 3, pad: 1}", "10x1", (10, 3)),
        ("{type: pool, mode: avg, size: 2}", "6x4x5x2", (3, 2, 2, 2)),
        ("{type: fc, units: 7}", "5", (7,)),
    ],
)
def test_fractional_ceil_and_odd_shapes(layer: str, input: str, shape: tuple[int, ...]) -> None:
    """Fractional sizes floor (or ceil with the last-window rule), as PyTorch does; 1-D and 3-D run too."""
    net = net_of(f"input: {input}\nlayers:\n  - {layer}\n")
    assert net.layers[0].output.dims == shape
    assert check.run(net) == (LayerCheck(1, OK, shape),)


def test_deterministic(vgg16: Network) -> None:
    """The same seed gives the same checks; the shapes do not depend on the seed."""
    net = resolve(read(SPECS / "alexnet.yaml"))
    assert check.run(net, seed=7) == check.run(net, seed=7) == check.run(net, seed=8)


def test_progress_is_reported_per_layer() -> None:
    """on_layer gets (done, total) once after every layer, skipped ones included."""
    net = net_of(
        "input: 8x8x3\nlayers:\n"
        "  - {type: conv, filters: 4, size: 3}\n"
        "  - {type: conv, filters: 4, size: 3, groups: 3}\n"
        "  - {type: fc, units: 2}\n"
    )
    calls: list[tuple[int, int]] = []
    check.run(net, on_layer=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_estimate_of_vgg16(vgg16: Network) -> None:
    """VGG-16 peaks at fc6: its 411 MB of weights and bias plus its input and output."""
    weights = (25088 * 4096 + 4096) * 4
    assert check.estimate(vgg16) == (weights + (25088 + 4096) * 4, "fc6")


@pytest.mark.parametrize(("name", "size"), GRAPH_CHECKS, ids=[n for n, _ in GRAPH_CHECKS])
def test_graphs_check_ok_within_their_estimate(name: str, size: tuple[int, int, int]) -> None:
    """Every layer of the graph runs with every input it reads and gives the resolved shape, and what
    numpy allocates stays within the estimate from the live tensors (plus small objects)."""
    net = resolve(read(SPECS / name), input=size)
    check.run(net)  # once, so numpy's one-time buffers are not counted against the estimate
    tracemalloc.start()
    try:
        checks = check.run(net)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert statuses(checks) == [OK] * len(net.layers)
    # small objects: 64 KiB as for a chain, and a check record and bookkeeping per layer of the graph
    assert peak <= check.estimate(net)[0] + 64 * KIB + len(net.layers) * KIB


def test_estimate_bounds_the_real_allocations() -> None:
    """What numpy really allocates during a check stays within the estimate (plus small objects)."""
    for path in ALL_SPECS:
        if path.name == "vgg16.yaml":
            continue
        net = resolve(read(path))
        tracemalloc.start()
        try:
            check.run(net)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak <= check.estimate(net)[0] + 64 * KIB, path


def test_memory_guard_refuses_before_allocating() -> None:
    """A check needing hundreds of GiB is refused with the layer and the estimate, before any allocation."""
    net = net_of("input: 30000x30000x3\nlayers:\n  - {type: conv, name: big, filters: 64, size: 3, pad: 1}\n")
    needed, layer = check.estimate(net)
    assert layer == "big"
    assert 100 * GIB < needed < 1024 * GIB
    tracemalloc.start()
    try:
        with pytest.raises(MemoryLimit) as caught:
            check.run(net)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MIB
    error = caught.value
    assert (error.layer, error.cost.total, error.limit) == ("big", needed, 2 * GIB)
    message = str(error)
    assert message.startswith(f"big: checking needs about {formulas.size(needed)} (")
    assert " GiB " in message
    assert message.endswith("above --max-memory 2.0 GiB")


def test_memory_limit_is_configurable(vgg16: Network) -> None:
    """VGG-16 fits the default 2 GiB but not 256 MiB, and the message names fc6's weights."""
    with pytest.raises(MemoryLimit, match=r"^fc6: checking needs about 392\.1 MiB \(392\.0 MiB of weights, "):
        check.run(vgg16, max_memory=256 * MIB)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000000", 1_000_000),
        ("7B", 7),
        ("64k", 64 * KIB),
        ("512M", 512 * MIB),
        ("512MB", 512 * MIB),
        ("512 MiB", 512 * MIB),
        ("4G", 4 * GIB),
        ("2GiB", 2 * GIB),
        ("2gib", 2 * GIB),
        ("1.5G", 3 * GIB // 2),
        (".5k", 512),
        (" 1T ", 1024**4),
    ],
)
def test_parse_bytes(text: str, expected: int) -> None:
    """K, M, G and T are powers of 1024, with or without B or iB, in any case."""
    assert check.parse_bytes(text) == expected


@pytest.mark.parametrize(
    "text", ["", "G", "abc", "-1G", "0", "0.1", "1.2.3G", "12X", "1e9", "inf", "4 G B", "5iB"]
)
def test_parse_bytes_rejects(text: str) -> None:
    """Junk, negative and zero sizes are a ValueError."""
    with pytest.raises(ValueError, match="invalid size"):
        check.parse_bytes(text)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (411_041_792, "392.0 MiB"),
        (2 * GIB, "2.0 GiB"),
        (3 * 1024**5, "3.0 PiB"),
        (10**25 * 1024**5, "1.0e+25 PiB"),
    ],
)
def test_size(size: int, text: str) -> None:
    """One decimal in the largest binary unit, capped at PiB."""
    assert formulas.size(size) == text


def _read_size(text: str) -> tuple[float, int]:
    """The number and the unit's power in a `formulas.size` text."""
    number, unit = text.split(" ")
    return float(number), formulas.BYTE_UNITS.index(unit)


@given(st.integers(0, 1024**7), st.integers(0, 1024**7))
def test_size_properties(a: int, b: int) -> None:
    """Exact below 1 KiB; else at least 1 and at most 1024 of a binary unit (PiB aside), within half a digit;
    monotone."""
    a, b = sorted((a, b))
    for n in (a, b):
        text = formulas.size(n)
        value, power = _read_size(text)
        if n < 1024:
            assert text == f"{n} B"
            continue
        assert power == min(5, (n.bit_length() - 1) // 10)
        assert value >= 1
        assert value <= 1024 or power == 5
        assert abs(value * 1024**power - n) <= max(0.05 * 1024**power, 0.05 * n)
    (va, pa), (vb, pb) = _read_size(formulas.size(a)), _read_size(formulas.size(b))
    assert va * 1024**pa <= vb * 1024**pb


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1000, "1,000 B"),
        (1024, "1 KiB"),
        (64 * 1024**2, "64 MiB"),
        (1024**4, "1 TiB"),
        (1024**6, "1,024 PiB"),
    ],
)
def test_size_exact(size: int, text: str) -> None:
    """A whole count in the largest unit that divides the size, with thousands separators."""
    assert formulas.size(size, exact=True) == text


@given(st.integers(0, 1024**7), st.integers(0, 5))
def test_size_exact_reads_back(n: int, power: int) -> None:
    """An exact size reads back to the same bytes; a unit that does not divide it is refused."""
    number, unit = formulas.size(n, exact=True).split(" ")
    assert int(number.replace(",", "")) * 1024 ** formulas.BYTE_UNITS.index(unit) == n
    if n % 1024**power:
        with pytest.raises(ValueError, match="not a whole number"):
            formulas.size(n, power=power, exact=True)
    else:
        assert (
            formulas.size(n, power=power, exact=True) == f"{n // 1024**power:,} {formulas.BYTE_UNITS[power]}"
        )


@dataclass(frozen=True)
class Geometry:
    """A random conv and a band budget."""

    seed: int
    x: tuple[int, ...]
    weight: tuple[int, ...]
    stride: tuple[int, ...]
    pad: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    band: int
    pad_end: tuple[int, ...]


@st.composite
def geometries(draw: st.DrawFn) -> Geometry:
    """Draw a 1-3-D conv with at least one output on every axis, and a budget of a few rows or less."""
    dims, groups = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    size, stride, dilation = (tuple(draw(st.integers(1, 3)) for _ in range(dims)) for _ in range(3))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(dims))
    ends = tuple(draw(st.integers(0, 2)) for _ in range(dims)) if draw(st.booleans()) else pad
    n = tuple(
        max(1, d * (f - 1) + 1 - p - e) + draw(st.integers(0, 9))
        for f, d, p, e in zip(size, dilation, pad, ends, strict=True)
    )
    channels, filters = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    return Geometry(
        seed=draw(st.integers(0, 2**32 - 1)),
        x=(channels, *n),
        weight=(filters, channels // groups, *size),
        stride=stride,
        pad=pad,
        dilation=dilation,
        groups=groups,
        band=draw(st.integers(1, 4096)),
        pad_end=ends,
    )


@settings(max_examples=80, deadline=None)
@given(geometries())
def test_banded_conv_equals_the_kernel(g: Geometry) -> None:
    """Running a conv band by band gives exactly what one kernel call gives, values and per-side pads too."""
    rng = np.random.default_rng(g.seed)
    x, weight, bias = (
        rng.uniform(-1, 1, shape).astype(np.float32) for shape in (g.x, g.weight, g.weight[:1])
    )
    geometry = {"stride": g.stride, "pad": g.pad, "pad_end": g.pad_end, "dilation": g.dilation}
    expected = kernels.conv(x, weight, bias, groups=g.groups, **geometry)
    actual = kernels.banded_conv(x, weight, bias, groups=g.groups, band=g.band, **geometry)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_bands_bound_the_im2col_memory() -> None:
    """A 1024x1024x64 conv needs 2.25 GiB of im2col in one piece; in bands, about 16 MiB."""
    net = net_of("input: 1024x1024x64\nlayers:\n  - {type: conv, name: wide, filters: 64, size: 3, pad: 1}\n")
    activation, padded, weights = 1024 * 1024 * 64 * 4, 1026 * 1026 * 64 * 4, (64 * 64 * 9 + 64) * 4
    needed, layer = check.estimate(net)
    assert layer == "wide"
    # input, output, the padded copy and the output's bands before they are joined
    assert 3 * activation + padded < needed <= 3 * activation + padded + weights + kernels.BAND


def hand(input: Shape, *steps: tuple[Layer, Shape, tuple[Axis, ...]]) -> Network:
    """A network resolved by hand: each layer with its output and axes, the input chained through."""
    layers, shape = [], input
    for index, (layer, output, axes) in enumerate(steps, start=1):
        layers.append(Resolved(index, layer, shape, output, axes, params=0, fc_params=None, macs=0))
        shape = output
    spec = Spec(input=input.dims, layers=tuple(step[0] for step in steps))
    return Network(spec=spec, input=input, layers=tuple(layers), findings=())


def windows(
    ns: tuple[int, ...], outs: tuple[int, ...], **geometry: int | tuple[int, ...]
) -> tuple[Axis, ...]:
    """One Axis per spatial axis; a tuple value gives one number per axis, an int the same for all."""
    per_axis = [
        {key: value[k] if isinstance(value, tuple) else value for key, value in geometry.items()}
        for k in range(len(ns))
    ]
    return tuple(Axis(n=n, out=o, **g) for n, o, g in zip(ns, outs, per_axis, strict=True))  # type: ignore[arg-type]


CONV_SAME = Conv("conv", filters=4, size=(3,), stride=(2,), pad=(0,), pad_end=(1,), pad_mode=PadMode.SAME)
DECONV = Deconv("up", filters=4, size=(4,), stride=(2,), pad=(1,))
DECONV_SAME = Deconv("up", filters=6, size=(3,), stride=(2,), pad=(0,), pad_end=(1,), pad_mode=PadMode.SAME)
AVG_SAME = Pool("pool", size=(2,), stride=(2,), pad=(0,), pad_end=(1,), mode=PoolMode.AVG, count_pad=False)
MAX_SIDES = Pool("pool", size=(3,), stride=(2,), pad=(1,), pad_end=(0,))

KINDS = [
    pytest.param(
        hand(
            Shape((8, 8), 3),
            (CONV_SAME, Shape((4, 4), 4), windows((8, 8), (4, 4), size=3, stride=2, pad=0, pad_end=1)),
        ),
        id="conv-same-stride-2",
    ),
    pytest.param(
        hand(
            Shape((9,), 2),
            (CONV_SAME, Shape((5,), 4), windows((9,), (5,), size=3, stride=2, pad=1, pad_end=1)),
        ),
        id="conv-1d",
    ),
    pytest.param(
        hand(
            Shape((8, 8), 3),
            (DECONV, Shape((16, 16), 4), windows((8, 8), (16, 16), size=4, stride=2, pad=1, transposed=True)),
        ),
        id="deconv-2d",
    ),
    pytest.param(
        hand(
            Shape((5,), 2),
            (
                DECONV_SAME,
                Shape((10,), 6),
                windows((5,), (10,), size=3, stride=2, pad=0, pad_end=1, transposed=True),
            ),
        ),
        id="deconv-same-1d",
    ),
    pytest.param(
        hand(
            Shape((3, 4, 5), 4),
            (
                dataclasses.replace(DECONV, filters=6, size=(1, 2, 3), groups=2, output_pad=(1, 0, 1)),
                Shape((6, 6, 9), 6),
                windows(
                    (3, 4, 5),
                    (6, 6, 9),
                    size=(1, 2, 3),
                    stride=2,
                    pad=(0, 1, 1),
                    pad_end=(0, 1, 2),
                    output_pad=(1, 0, 1),
                    transposed=True,
                ),
            ),
        ),
        id="deconv-3d-groups-per-side-output-pad",
    ),
    pytest.param(
        hand(
            Shape((5, 7), 2),
            (AVG_SAME, Shape((3, 4), 2), windows((5, 7), (3, 4), size=2, stride=2, pad=0, pad_end=1)),
        ),
        id="avg-pool-same",
    ),
    pytest.param(
        hand(
            Shape((4, 5, 6), 2),
            (
                MAX_SIDES,
                Shape((2, 2, 3), 2),
                windows((4, 5, 6), (2, 2, 3), size=3, stride=2, pad=1, pad_end=0),
            ),
        ),
        id="max-pool-per-side-3d",
    ),
    pytest.param(
        hand(
            Shape((7, 5), 3), (Pool("ada", size=(1,), output=(3,), mode=PoolMode.AVG), Shape((3, 3), 3), ())
        ),
        id="adaptive-avg-broadcast",
    ),
    pytest.param(
        hand(Shape((4,), 3), (Pool("ada", size=(1,), output=(6,)), Shape((6,), 3), ())),
        id="adaptive-max-1d-upsampling",
    ),
    pytest.param(
        hand(
            Shape((3, 4, 5), 2),
            (GlobalPool("gap"), Shape((1, 1, 1), 2), ()),
            (GlobalPool("gmp", mode=PoolMode.MAX), Shape((1, 1, 1), 2), ()),
        ),
        id="global-pools-3d",
    ),
    pytest.param(
        hand(
            Shape((6, 5), 3),
            (BatchNorm("bn"), Shape((6, 5), 3), ()),
            (BatchNorm("bn2", affine=False), Shape((6, 5), 3), ()),
            *((Act(fn.value, fn=fn), Shape((6, 5), 3), ()) for fn in Fn),
            (Dropout("drop", p=0.3), Shape((6, 5), 3), ()),
            (Flatten("flat"), Shape((), 90), ()),
            (FC("fc", units=7), Shape((), 7), ()),
            (Act("softmax", fn=Fn.SOFTMAX), Shape((), 7), ()),
        ),
        id="shape-preserving-kinds",
    ),
]


@pytest.mark.parametrize("net", KINDS)
def test_every_kind_runs(net: Network) -> None:
    """Each kind, hand-resolved in 1-D, 2-D or 3-D, runs and gives the shape written down for it."""
    assert check.run(net) == tuple(LayerCheck(r.index, OK, r.output.dims) for r in net.layers)


@pytest.mark.parametrize("net", KINDS)
def test_estimate_bounds_every_kind(net: Network) -> None:
    """What numpy allocates for each kind stays within the estimate."""
    tracemalloc.start()
    try:
        check.run(net)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= check.estimate(net)[0] + 64 * KIB


def test_a_banded_deconv_stays_within_the_estimate() -> None:
    """A 64x64x32 deconv to 128x128x32 needs 32 MiB of im2col in one piece, so it runs in bands."""
    axes = windows((64, 64), (128, 128), size=4, stride=2, pad=1, transposed=True)
    net = hand(Shape((64, 64), 32), (dataclasses.replace(DECONV, filters=32), Shape((128, 128), 32), axes))
    tracemalloc.start()
    try:
        assert check.run(net) == (LayerCheck(1, OK, (128, 128, 32)),)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    needed = check.estimate(net)[0]
    assert peak <= needed + 64 * KIB
    assert needed < 32 * MIB + 3 * 128 * 128 * 32 * 4


@pytest.mark.parametrize("fn", list(Fn), ids=lambda fn: fn.value)
def test_estimate_bounds_every_activation(fn: Fn) -> None:
    """Every activation's temporaries are in the estimate, GELU's two buffers included."""
    net = hand(Shape((64, 64), 16), (Act("act", fn=fn), Shape((64, 64), 16), ()))
    tracemalloc.start()
    try:
        check.run(net)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= check.estimate(net)[0] + 64 * KIB


def deconv_net(*, groups: int = 1, output_pad: int = 0, dilation: int = 1) -> Network:
    """A 1-D 4x4 deconv to 4 filters, stride 2, with its output size worked out."""
    layer = Deconv(
        "up", filters=4, size=(3,), stride=(2,), dilation=(dilation,), groups=groups, output_pad=(output_pad,)
    )
    out = 3 * 2 + dilation * 2 + output_pad + 1
    axes = windows(
        (4,), (out,), size=3, stride=2, pad=0, dilation=dilation, output_pad=output_pad, transposed=True
    )
    return hand(Shape((4,), 4), (layer, Shape((out,), 4), axes), (FC("fc", units=2), Shape((), 2), ()))


def pool_net(layer: Pool, ns: tuple[int, ...], outs: tuple[int, ...], **geometry: int) -> Network:
    """One pooling layer on 2 channels with its axes."""
    axes = windows(ns, outs, size=layer.size[0], stride=layer.size[0], **geometry)
    return hand(Shape(ns, 2), (layer, Shape(outs, 2), axes))


@pytest.mark.parametrize(
    ("net", "expected"),
    [
        pytest.param(deconv_net(output_pad=1), [OK, OK], id="deconv-output-pad-below-stride"),
        pytest.param(deconv_net(output_pad=2), [SKIPPED, SKIPPED], id="deconv-output-pad-at-stride"),
        pytest.param(deconv_net(output_pad=2, dilation=3), [OK, OK], id="deconv-output-pad-below-dilation"),
        pytest.param(deconv_net(groups=3), [SKIPPED, SKIPPED], id="deconv-groups-mismatch"),
        pytest.param(deconv_net(groups=2), [OK, OK], id="deconv-groups"),
        pytest.param(
            pool_net(Pool("p", size=(2,), pad=(2,)), (4, 4), (4, 4), pad=2),
            [SKIPPED],
            id="pool-pad-too-large",
        ),
        pytest.param(
            pool_net(Pool("p", size=(2,), pad=(0,), pad_end=(2,)), (4, 4), (3, 3), pad=0, pad_end=2),
            [OK],
            id="per-side-pool-pad-is-not-pytorch",
        ),
        pytest.param(
            pool_net(Pool("p", size=(3,), mode=PoolMode.AVG, pad=(1,)), (2, 6, 6), (1, 2, 2), pad=1),
            [SKIPPED],
            id="avg-pool-3d-input-below-window",
        ),
        pytest.param(
            pool_net(Pool("p", size=(3,), pad=(1,)), (2, 6, 6), (1, 2, 2), pad=1),
            [OK],
            id="max-pool-3d-small",
        ),
        pytest.param(
            pool_net(Pool("p", size=(3,), mode=PoolMode.AVG, pad=(1,)), (2, 6), (1, 2), pad=1),
            [OK],
            id="avg-pool-2d-small",
        ),
        pytest.param(
            pool_net(
                Pool("p", size=(3,), mode=PoolMode.AVG, pad=(1,), pad_end=(0,), count_pad=False),
                (2, 6, 6),
                (1, 2, 2),
                pad=1,
                pad_end=0,
            ),
            [OK],
            id="avg-pool-3d-small-per-side",
        ),
    ],
)
def test_what_pytorch_refuses_is_skipped(net: Network, expected: list[CheckStatus]) -> None:
    """Output padding at the stride and dilation, groups that do not divide, PyTorch's pool limits."""
    assert statuses(check.run(net)) == expected


def every_kind(dims: int) -> str:
    """A spec using every kind and option, with per-side pads written for `dims` spatial axes."""
    sides = "[" + ", ".join(f"[{k % 2}, {1 + k % 3}]" for k in range(dims)) + "]"
    inputs = {1: "17x3", 2: "17x13x3", 3: "9x11x7x3"}
    return (
        f"input: {inputs[dims]}\nlayers:\n"
        "  - {type: conv, filters: 8, size: 3, stride: 2, pad: same}\n"
        "  - {type: bn}\n"
        "  - {type: act, fn: relu}\n"
        f"  - {{type: conv, filters: 8, size: 3, pad: {sides}, groups: 2}}\n"
        "  - {type: bn, affine: false}\n"
        "  - {type: pool, mode: avg, size: 3, stride: 2, pad: same}\n"
        "  - {type: deconv, filters: 6, size: 4, stride: 2, pad: 1}\n"
        "  - {type: deconv, filters: 4, size: 3, stride: 2, pad: same}\n"
        "  - {type: deconv, filters: 4, size: 1, stride: 2, pad: same}\n"
        f"  - {{type: deconv, filters: 4, size: 3, stride: 2, output_pad: 1, groups: 2, pad: {sides}}}\n"
        f"  - {{type: pool, size: 3, stride: 2, pad: {sides}}}\n"
        "  - {type: pool, mode: avg, size: 2, pad: 1, ceil: true, count_pad: false}\n"
        "  - {type: pool, mode: max, size: 2, stride: 2, pad: same}\n"
        "  - {type: pool, mode: avg, output: 3}\n"
        "  - {type: act, fn: gelu}\n"
        "  - {type: dropout, p: 0.2}\n"
        "  - {type: pool, mode: max, output: 2}\n"
        "  - {type: global_pool, mode: max}\n"
        "  - {type: global_pool}\n"
        "  - {type: flatten}\n"
        "  - {type: fc, units: 5}\n"
        "  - {type: act, fn: softmax}\n"
    )


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_every_kind_resolves_and_checks_ok(dims: int) -> None:
    """Every kind and option resolved from a spec in 1-D, 2-D and 3-D runs and gives the resolved shape."""
    net = check.checked(net_of(every_kind(dims)))
    assert net.checks is not None
    assert statuses(net.checks) == [OK] * len(net.layers)
    assert [c.shape for c in net.checks] == [r.output.dims for r in net.layers]
    assert not [f for f in net.findings if f.code is Code.CHECK_MISMATCH]


@pytest.mark.parametrize("fn", list(Fn), ids=lambda fn: fn.value)
def test_every_activation_resolves_and_checks_ok(fn: Fn) -> None:
    """Each activation from a spec keeps its input's shape when run."""
    net = net_of(f"input: 6x5x3\nlayers:\n  - {{type: act, fn: {fn.value}}}\n")
    assert check.run(net) == (LayerCheck(1, OK, (6, 5, 3)),)


@pytest.mark.parametrize(
    ("layer", "input", "shape"),
    [
        ("{type: conv, filters: 2, size: 3, stride: 2, pad: same}", "8x7x1", (4, 4, 2)),
        ("{type: conv, filters: 2, size: 4, stride: 2, pad: same}", "9x1", (5, 2)),
        ("{type: conv, filters: 2, size: 3, pad: [[0, 2], [1, 0]]}", "5x5x1", (5, 4, 2)),
        ("{type: pool, mode: avg, size: 3, stride: 2, pad: same}", "6x5x4x2", (3, 3, 2, 2)),
        ("{type: pool, size: 2, stride: 2, pad: same}", "5x5x1", (3, 3, 1)),
        ("{type: deconv, filters: 4, size: 4, stride: 2, pad: 1}", "8x8x3", (16, 16, 4)),
        ("{type: deconv, filters: 3, size: 3, stride: 2, pad: same}", "5x4x3x2", (10, 8, 6, 3)),
        ("{type: deconv, filters: 3, size: 2, stride: 3, pad: same}", "4x2", (12, 3)),
        ("{type: deconv, filters: 3, size: 3, stride: 2, output_pad: 1, pad: [[1, 0]]}", "4x4x2", (9, 9, 3)),
        ("{type: pool, mode: avg, output: 7x7}", "13x9x3", (7, 7, 3)),
        ("{type: global_pool}", "4x5x6x3", (1, 1, 1, 3)),
        ("{type: flatten}", "4x5x3", (60,)),
    ],
)
def test_resolved_shapes_of_new_kinds_run(layer: str, input: str, shape: tuple[int, ...]) -> None:
    """`same` with stride 2 (odd pixel after), per-side pads and the new kinds: resolved and real agree."""
    net = net_of(f"input: {input}\nlayers:\n  - {layer}\n")
    assert net.layers[0].output.dims == shape
    assert check.run(net) == (LayerCheck(1, OK, shape),)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_estimate_bounds_every_kind_from_a_spec(dims: int) -> None:
    """The memory estimate holds for the every-kind spec too."""
    net = net_of(every_kind(dims))
    tracemalloc.start()
    try:
        check.run(net)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= check.estimate(net)[0] + 64 * KIB
