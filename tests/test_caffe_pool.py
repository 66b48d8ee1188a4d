"""Issue 14, Caffe's part: `ceil: caffe` reproduces Caffe's pooling (PoolingLayer::Reshape and
Forward_cpu of BVLC/caffe's pooling_layer.cpp) exactly, and where PyTorch's ceil_mode differs a
caffe-rounding warning says what PyTorch gives and how to get Caffe's size there."""

from __future__ import annotations

import json
import re
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc import check, formulas
from convcalc.__main__ import main
from convcalc.arith import caffe_out_size, float32, out_size
from convcalc.errors import SpecError
from convcalc.kernels import avg_pool, max_pool
from convcalc.kinds.pool import FLT_MAX, caffe_pool
from convcalc.loader import load, read
from convcalc.model import CheckStatus, Code, Network, Severity
from convcalc.resolver import resolve

FIXTURES = Path(__file__).resolve().parent / "data" / "caffe"


def net(layer: dict[str, Any], shape: str = "6x6x1") -> Network:
    """One pool on an input of `shape` (hwc), resolved."""
    return resolve(load({"input": shape, "layers": [layer]}))


def pool(**keys: Any) -> dict[str, Any]:
    """A pool layer with Caffe's rounding."""
    return {"type": "pool", "ceil": "caffe", **keys}


# --- ports of pooling_layer.cpp, literal, in numpy's float32 -------------------------------------


def caffe_reshape(h: int, k: int, s: int, p: int, *, padded: bool) -> int:
    """Reshape's pooled_height_: static_cast<int>(ceil(static_cast<float>(h + 2p - k) / s)) + 1, and,
    under `if (pad_h_ || pad_w_)`, one less when the last window starts at h + p or later."""
    pooled = int(np.ceil(np.float32(h + 2 * p - k) / np.float32(s))) + 1
    if padded and (pooled - 1) * s >= h + p:
        pooled -= 1
    return pooled


def caffe_forward(
    x: np.ndarray, k: tuple[int, int], s: tuple[int, int], p: tuple[int, int], mode: str
) -> Any:
    """Forward_cpu's loops for one image x (C, H, W), window by window and item by item."""
    c_, height, width = x.shape
    padded = bool(p[0] or p[1])
    out_h = caffe_reshape(height, k[0], s[0], p[0], padded=padded)
    out_w = caffe_reshape(width, k[1], s[1], p[1], padded=padded)
    top = np.zeros((c_, out_h, out_w), dtype=np.float32)
    with np.errstate(all="ignore"):
        for c in range(c_):
            for ph in range(out_h):
                for pw in range(out_w):
                    hstart, wstart = ph * s[0] - p[0], pw * s[1] - p[1]
                    if mode == "max":
                        hend, wend = min(hstart + k[0], height), min(wstart + k[1], width)
                        hstart, wstart = max(hstart, 0), max(wstart, 0)
                        value = np.float32(-FLT_MAX)
                        for h in range(hstart, hend):
                            for w in range(wstart, wend):
                                if x[c, h, w] > value:
                                    value = x[c, h, w]
                    else:
                        hend, wend = min(hstart + k[0], height + p[0]), min(wstart + k[1], width + p[1])
                        pool_size = (hend - hstart) * (wend - wstart)
                        hstart, wstart = max(hstart, 0), max(wstart, 0)
                        hend, wend = min(hend, height), min(wend, width)
                        value = np.float32(0)
                        for h in range(hstart, hend):
                            for w in range(wstart, wend):
                                value = np.float32(value + x[c, h, w])
                        value = np.float32(value / np.float32(pool_size))
                    top[c, ph, pw] = value
    return top


# --- the shape rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "padded", "caffe", "torch"),
    [
        (6, 1, 2, 0, False, 4, 3),  # ceil(5/2) + 1 = 4: the 4th window starts at 6, past the input
        (6, 1, 3, 0, False, 3, 2),  # ceil(5/3) + 1 = 3, starting at 6 = N: kept by Caffe only
        (5, 1, 3, 0, False, 3, 2),  # ceil(4/3) + 1 = 3, starting at 6 > N = 5: kept all the same
        (7, 2, 3, 0, False, 3, 3),  # ceil(5/3) + 1 = 3 starts at 6 < 7: both keep it
        (32, 3, 2, 0, False, 16, 16),  # cifar10_quick: ceil(29/2) + 1 = 16
        (6, 3, 2, 1, True, 4, 4),  # ceil(5/2) + 1 = 4 starts at 6 - 1 = 5 < 6: inside
        (5, 3, 3, 1, True, 2, 2),  # ceil(4/3) + 1 = 3 starts at 6 >= N + P = 6: clipped to 2
        (6, 2, 3, 0, True, 2, 2),  # ceil(4/3) + 1 = 3 starts at 6 = N + 0; another axis pads: clipped
        (6, 2, 3, 0, False, 3, 2),  # the same axis in a layer with no pad at all: kept
        (2**24 + 2, 1, 1, 0, False, 2**24 + 1, 2**24 + 2),  # float(2^24 + 1) is 2^24: one window fewer
        (2**24 + 4, 1, 1, 0, False, 2**24 + 5, 2**24 + 4),  # float(2^24 + 3) is 2^24 + 4: one more
    ],
)
def test_hand_worked_sizes(n: int, k: int, s: int, p: int, padded: bool, caffe: int, torch: int) -> None:
    """Each number worked by hand from Reshape's lines, beside PyTorch's ceil_mode."""
    assert caffe_out_size(n=n, size=k, stride=s, pad=p, clip=padded) == caffe
    assert caffe_reshape(n, k, s, p, padded=padded) == caffe
    assert out_size(n=n, size=k, stride=s, pad=p, ceil=True) == torch


@given(
    n=st.integers(1, 2000),
    k=st.integers(1, 12),
    s=st.integers(1, 12),
    p=st.integers(0, 11),
    padded=st.booleans(),
)
def test_rule_is_caffes_loop_and_pytorchs_where_they_agree(
    n: int, k: int, s: int, p: int, padded: bool
) -> None:
    """The shape rule equals the port of Reshape; it equals PyTorch's ceil rule except where Caffe
    keeps a last window starting at N + P or later (no pad on any axis), and then it is one more."""
    assume(p < k and (padded or p == 0) and n + 2 * p >= k)
    caffe = caffe_out_size(n=n, size=k, stride=s, pad=p, clip=padded)
    assert caffe == caffe_reshape(n, k, s, p, padded=padded)
    torch = out_size(n=n, size=k, stride=s, pad=p, ceil=True)
    exact = -(-(n + 2 * p - k) // s) + 1
    if not padded and (exact - 1) * s >= n + p:
        assert (caffe, torch) == (exact, exact - 1)
        assert k < s  # only a stride above the window leaves a whole window past the input
    else:
        assert caffe == torch


@given(num=st.integers(-(2**40), 2**40), s=st.integers(1, 2**30))
def test_float32_is_numpys(num: int, s: int) -> None:
    """arith.float32 rounds as the hardware does, numerator and quotient: Caffe's arithmetic at any size."""
    from fractions import Fraction

    ours = float32(float32(Fraction(num)) / float32(Fraction(s)))
    assert ours == Fraction(float(np.float32(num) / np.float32(s)))


# --- the kernel: Caffe's Forward_cpu ----------------------------------------------------------------


@st.composite
def caffe_layers(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, int, int]]:
    """A 2-D Caffe pool that PyTorch would also take (pad at most half the window) and its input."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 11)), draw(st.integers(1, 11)))
    mode = draw(st.sampled_from(["max", "avg"]))
    return pool(mode=mode, size=list(k), stride=list(s), pad=list(p)), shape


def _spec_of(layer: dict[str, Any], shape: tuple[int, int, int]) -> Network:
    c, h, w = shape
    return net(layer, f"{h}x{w}x{c}")


@settings(max_examples=150, deadline=None)
@given(caffe_layers(), st.integers(0, 2**32 - 1))
def test_kernel_is_caffes_forward(case: tuple[dict[str, Any], tuple[int, int, int]], seed: int) -> None:
    """caffe_pool equals the loop port on every output, NaN, -0.0 and -FLT_MAX included; small integers
    keep every sum exact, so the fold's order of additions cannot differ from Caffe's."""
    layer, shape = case
    network = _spec_of(layer, shape)
    (r,) = network.layers
    assume(all(o > 0 for o in r.output.spatial))
    x = np.random.default_rng(seed).integers(-8, 9, size=shape).astype(np.float32)
    mode = layer["mode"]
    ours = caffe_pool(x, r.axes, mode=mode)
    theirs = caffe_forward(x, tuple(layer["size"]), tuple(layer["stride"]), tuple(layer["pad"]), mode)
    assert ours.shape == theirs.shape == (shape[0], *r.output.spatial)
    np.testing.assert_array_equal(ours, theirs)
    assert (np.signbit(ours) == np.signbit(theirs)).all()


def test_kernel_hand_worked() -> None:
    """6 wide, window 1, stride 2, no pad: outputs at 0, 2, 4 and the kept window at 6. A max gives
    -FLT_MAX there; an average 0/pool_size with pool_size = min(6 + 1, 6) - 6 = 0: 0/0, NaN on the
    window's row or column, and (0 x 0 = 0) NaN at the corner too. 5 wide, stride 3: the window at 6
    has pool_size 5 - 6 = -1, and 0 / -1 is -0.0 on one axis; the corner's (-1) x (-1) = 1 gives +0."""
    x = np.arange(36, dtype=np.float32).reshape(1, 6, 6)
    (r,) = net(pool(size=1, stride=2)).layers
    top = caffe_pool(x, r.axes, mode="max")
    assert top.shape == (1, 4, 4)
    assert top[0, :3, :3].tolist() == [[0, 2, 4], [12, 14, 16], [24, 26, 28]]
    assert set(top[0, 3, :].tolist()) == set(top[0, :, 3].tolist()) == {-FLT_MAX}
    (r,) = net(pool(mode="avg", size=1, stride=2)).layers
    top = caffe_pool(x, r.axes, mode="avg")
    assert top[0, :3, :3].tolist() == [[0, 2, 4], [12, 14, 16], [24, 26, 28]]
    assert np.isnan(top[0, 3, :]).all()
    assert np.isnan(top[0, :, 3]).all()
    x5 = np.ones((1, 5, 5), dtype=np.float32)
    (r,) = net(pool(mode="avg", size=1, stride=3), "5x5x1").layers
    top = caffe_pool(x5, r.axes, mode="avg")
    assert top.shape == (1, 3, 3)
    assert top[0, :2, :2].tolist() == [[1, 1], [1, 1]]
    assert top[0, 2, :2].tolist() == [0, 0]
    assert np.signbit(top[0, 2, :2]).all()
    assert top[0, 2, 2] == 0
    assert not np.signbit(top[0, 2, 2])


@settings(max_examples=80, deadline=None)
@given(caffe_layers(), st.integers(0, 2**32 - 1))
def test_pytorch_fix_gives_caffes_numbers(
    case: tuple[dict[str, Any], tuple[int, int, int]], seed: int
) -> None:
    """The warning's fix, F.pad then ceil_mode (run with convcalc's numpy ports of PyTorch's pools), gives
    Caffe's shape and Caffe's value in every window that reads input."""
    layer, shape = case
    layer["pad"] = [0, 0]
    network = _spec_of(layer, shape)
    (r,) = network.layers
    assume(all(o > 0 for o in r.output.spatial))
    found = [f for f in network.findings if f.code is Code.CAFFE_ROUNDING]
    torch = tuple(formulas.torch_ceil(a) for a in r.axes)
    assert bool(found) == (torch != r.output.spatial)
    assume(found)
    (finding,) = found
    assert finding.severity is Severity.WARNING
    match = re.fullmatch(
        r"in PyTorch: F\.pad\(x, \(0, (\d+), 0, (\d+)\)(, value=-inf)?\), then ceil_mode=True -> .*",
        finding.fixes[0],
    )
    assert match is not None
    after_w, after_h = int(match[1]), int(match[2])
    x = np.random.default_rng(seed).integers(-8, 9, size=shape).astype(np.float32)
    fill = -np.inf if layer["mode"] == "max" else 0.0
    padded = np.pad(x, [(0, 0), (0, after_h), (0, after_w)], constant_values=fill)
    torch_pool = max_pool if layer["mode"] == "max" else avg_pool
    torch_out = torch_pool(
        padded, size=tuple(layer["size"]), stride=tuple(layer["stride"]), pad=(0, 0), ceil=True
    )
    caffe_out = caffe_pool(x, r.axes, mode=layer["mode"])
    assert torch_out.shape == caffe_out.shape
    reads = np.ones(caffe_out.shape[1:], dtype=bool)  # windows that start inside the input
    for axis, a in enumerate(r.axes):
        starts = np.arange(a.out) * a.stride
        reads &= np.expand_dims(starts < a.n, 1 - axis)
    np.testing.assert_array_equal(torch_out[:, reads], caffe_out[:, reads])


def test_kernel_leaves_its_input_alone() -> None:
    """A window of 1 at stride 1 folds to a view of x: the -FLT_MAX floor must not write through it."""
    x = np.full((1, 3, 3), -np.inf, dtype=np.float32)
    (r,) = net(pool(size=1, stride=1), "3x3x1").layers
    top = caffe_pool(x, r.axes, mode="max")
    assert (top == -FLT_MAX).all()
    assert (x == -np.inf).all()


@st.composite
def any_caffe_pool(draw: st.DrawFn) -> dict[str, Any]:
    """A spec of one Caffe-rounded pool, 1-3-D, with windows up to a few thousand items."""
    dims = draw(st.integers(1, 3))
    n = [draw(st.integers(1, 6000 if dims == 1 else 40)) for _ in range(dims)]
    size = [draw(st.integers(1, a)) for a in n]
    stride = [draw(st.integers(1, f + 3)) for f in size]
    pad = [draw(st.integers(0, f // 2)) for f in size]
    mode = draw(st.sampled_from(["max", "avg"]))
    layer = pool(mode=mode, size=size, stride=stride, pad=pad)
    return {"input": [*n, draw(st.integers(1, 3))], "layers": [layer]}


@settings(max_examples=40, deadline=None)
@given(any_caffe_pool())
def test_estimate_bounds_the_peak(spec: dict[str, Any]) -> None:
    """What numpy allocates for Caffe's kernel stays within the --check memory estimate."""
    network = resolve(load(spec))
    assume(all(o > 0 for o in network.layers[0].output.spatial))
    check.run(network, max_memory=1 << 40)  # first calls of numpy paths cache Python objects
    tracemalloc.start()
    try:
        checks = check.run(network, max_memory=1 << 40)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [c.status for c in checks] == [CheckStatus.OK]
    assert peak <= check.estimate(network)[0] + 64 * 1024


# --- what convcalc says about it ----------------------------------------------------------------------


def test_explain_table_json_and_warning(runner: CliRunner, tmp_path: Path) -> None:
    """The size line, the window cell, the JSON field and the finding, word for word."""
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "input: 6x6x1\nlayers:\n"
        "  - {type: pool, size: 1, stride: 2, ceil: caffe}\n"
        "  - {type: pool, mode: avg, size: 2, stride: 2, ceil: caffe}\n"
        "  - {type: pool, size: 1, ceil: true}\n"
        "  - {type: pool, output: 1}\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["run", str(spec), "--explain"], env={"NO_COLOR": "1", "COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "1/2/0 ceil caffe" in out
    assert "2/2/0 ceil caffe" in out
    assert "1/1/0 ceil " in out
    assert (
        "output size      (6 - 1)/2 + 1 = 3.5 -> 4 (Caffe rounds up and, with no pad, keeps a last window "
        "starting past the input; PyTorch's ceil_mode drops it: 3)"
    ) in out
    assert "output size      (4 - 2)/2 + 1 = 2\n" in out
    assert (
        f"{spec}:3:44: warning[caffe-rounding] pool1: Caffe's rounding gives 4x4 but PyTorch's ceil_mode "
        "gives 3x3: with no pad on any axis, Caffe keeps a last window that starts past the input and "
        "PyTorch drops it (that window reads no input: Caffe gives -FLT_MAX there)\n"
        "    fix: in PyTorch: F.pad(x, (0, 1, 0, 1), value=-inf), then ceil_mode=True -> 4x4"
    ) in out
    assert out.count("caffe-rounding") == 1  # pool2 tiles 4 exactly: nothing to say
    data = json.loads(runner.invoke(main, ["run", str(spec), "--format", "json"]).output)
    assert [layer["rounding"] for layer in data["layers"]] == ["caffe", "caffe", "ceil", None]
    assert [d["code"] for d in data["diagnostics"]].count("caffe-rounding") == 1


@pytest.mark.parametrize(
    ("shape", "layer", "line"),
    [
        (
            "5x5x1",
            pool(size=3, stride=3, pad=1),
            "(5 - 3 + 2x1)/3 + 1 = 2.33 -> 2 (Caffe keeps the floor: one more window would start "
            "in the padding)",
        ),
        (
            "6x6x1",
            pool(size=3, stride=2, pad=1),
            "(6 - 3 + 2x1)/2 + 1 = 3.5 -> 4 (Caffe rounds up, as PyTorch's ceil_mode)",
        ),
        ("6x6x1", pool(size=2, stride=2), "(6 - 2)/2 + 1 = 3"),
    ],
)
def test_size_lines_where_caffe_and_pytorch_agree(shape: str, layer: dict[str, Any], line: str) -> None:
    """Padded: ceil((5 + 2 - 3)/3) + 1 = 3 starts at 6 - 1 = 5 = N, in the padding, so Caffe clips it
    as PyTorch does; ceil(5/2) + 1 = 4 starts at 5 < 6; a whole size says nothing more."""
    network = net(layer, shape)
    assert [formulas.size_line(a) for a in network.layers[0].axes] == [line, line]
    assert not [f for f in network.findings if f.code is Code.CAFFE_ROUNDING]


def test_average_warning_and_per_axis_fix() -> None:
    """An average 7 tall and 5 wide, window 1, stride 3: Caffe 3x3 (the windows at 6 kept), PyTorch 3x2
    (rows: the window at 6 starts inside 7); the fix pads the columns only, by 6 - 5 + 1 = 2."""
    network = net(pool(mode="avg", size=1, stride=3), "7x5x1")
    (r,) = network.layers
    assert r.output.spatial == (3, 3)
    (finding,) = [f for f in network.findings if f.code is Code.CAFFE_ROUNDING]
    assert finding.message == (
        "pool1: Caffe's rounding gives 3x3 but PyTorch's ceil_mode gives 3x2: with no pad on any axis, Caffe "
        "keeps a last window that starts past the input and PyTorch drops it (that window reads no input: "
        "Caffe gives 0/0 (NaN) or 0 over a negative size there)"
    )
    assert finding.fixes == ("in PyTorch: F.pad(x, (0, 2, 0, 0)), then ceil_mode=True -> 3x3",)


def test_one_padded_axis_clips_both() -> None:
    """`if (pad_h_ || pad_w_)` is one test for the layer: a pad on the columns clips the rows too."""
    layer = pool(size=2, stride=3)
    assert net(layer).layers[0].output.spatial == (3, 3)
    assert net({**layer, "pad": [0, 1]}).layers[0].output.spatial == (2, 3)
    assert not [f for f in net({**layer, "pad": [0, 1]}).findings if f.code is Code.CAFFE_ROUNDING]


def test_float32_warning() -> None:
    """2^24 + 2 wide, window 1, stride 1: float(2^24 + 1) rounds to 2^24, so Caffe gives one fewer."""
    network = net(pool(size=1, stride=1), f"{2**24 + 2}x1")
    assert network.layers[0].output.spatial == (2**24 + 1,)
    assert formulas.size_line(network.layers[0].axes[0]) == (
        "(16777218 - 1)/1 + 1 = 16777218 -> 16777217 (Caffe's float32 arithmetic; exact ceil gives "
        "16777218, PyTorch's ceil_mode 16777218)"
    )
    (finding,) = [f for f in network.findings if f.code is Code.CAFFE_ROUNDING]
    assert finding.message == (
        f"pool1: Caffe's rounding gives {2**24 + 1} but PyTorch's ceil_mode gives {2**24 + 2}: "
        "Caffe computes the size in float32, which rounds it at this size"
    )
    assert finding.fixes == ()


def test_allow_turns_it_off() -> None:
    """allow: [caffe-rounding] on the layer: the difference is known and accepted."""
    network = net(pool(size=1, stride=2, allow=["caffe-rounding"]))
    assert not [f for f in network.findings if f.code is Code.CAFFE_ROUNDING]


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (
            {"type": "pool", "size": 2, "ceil": "yes"},
            "layer 1 (pool1): 'ceil' must be true or false (or caffe, Caffe's rounding), got 'yes'",
        ),
        (
            pool(size=3, stride=2, pad="same"),
            "layer 1 (pool1): 'ceil: caffe' needs a numeric pad, alike on both sides (as Caffe pads); "
            "got pad 'same'",
        ),
        (
            pool(mode="avg", size=3, count_pad=False),
            "layer 1 (pool1): 'count_pad: false' does not go with 'ceil: caffe': Caffe's average always "
            "counts the padding",
        ),
        (
            pool(output=2),
            "layer 1 (pool1): 'ceil' does not go with 'output' (adaptive pooling chooses its own windows); "
            "drop one of them",
        ),
    ],
)
def test_spec_errors(layer: dict[str, Any], message: str) -> None:
    """Each refusal is one line naming the key."""
    with pytest.raises(SpecError) as error:
        net(layer)
    assert str(error.value).endswith(message)


def test_check_passes_and_memory_within_estimate() -> None:
    """--check runs Caffe's kernel: every shape agrees, and what numpy allocates stays in the estimate."""
    network = net(pool(mode="avg", size=[3, 1], stride=[2, 4], pad=[1, 0]), "401x333x3")
    assert network.layers[0].output.spatial == (201, 84)
    checks = check.run(network)
    assert [c.status for c in checks] == [CheckStatus.OK]
    check.run(network)
    tracemalloc.start()
    try:
        check.run(network)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= check.estimate(network)[0] + 64 * 1024


# --- the Caffe reader ---------------------------------------------------------------------------------

PROTOTXT = """name: "strided"
input: "data"
input_shape { dim: 1 dim: 8 dim: 6 dim: 6 }
layer {
  name: "pool1"
  type: "Pooling"
  bottom: "data"
  top: "pool1"
  pooling_param {
    pool: MAX
    kernel_size: 1
    stride: 2%s
  }
}
"""


def test_reader_keeps_caffes_window(runner: CliRunner, tmp_path: Path) -> None:
    """The pool refused before: now 6 -> 4 as Caffe gives, a warning at its pooling_param, --check
    passing, and a converted spec that gives the same numbers."""
    path = tmp_path / "strided.prototxt"
    path.write_text(PROTOTXT % "", encoding="utf-8")
    network = resolve(read(path))
    assert network.layers[0].output.dims == (4, 4, 8)
    (finding,) = [f for f in network.findings if f.code is Code.CAFFE_ROUNDING]
    assert (finding.line, finding.column) == (9, 3)
    result = runner.invoke(main, ["run", str(path), "--check"])
    assert result.exit_code == 0, result.output
    converted = tmp_path / "strided.yaml"
    assert runner.invoke(main, ["convert", str(path), "-o", str(converted)]).exit_code == 0
    assert "ceil: caffe" in converted.read_text(encoding="utf-8")
    assert resolve(read(converted)).layers[0].output.dims == (4, 4, 8)


def test_round_mode_floor(tmp_path: Path) -> None:
    """Newer Caffe's round_mode: FLOOR is floor((6 - 1)/2) + 1 = 3, and nothing to warn about."""
    path = tmp_path / "floor.prototxt"
    path.write_text(PROTOTXT % "\n    round_mode: FLOOR", encoding="utf-8")
    network = resolve(read(path))
    assert network.layers[0].output.dims == (3, 3, 8)
    assert not [f for f in network.findings if f.code is Code.CAFFE_ROUNDING]


def test_zoo_fixtures_need_no_warning() -> None:
    """BVLC's pools all pad or overlap: Caffe's rounding is PyTorch's on every fixture."""
    for path in sorted(FIXTURES.glob("*.prototxt")):
        network = resolve(read(path))
        assert not [f for f in network.findings if f.code is Code.CAFFE_ROUNDING], path.name


def test_lint_lists_the_code(runner: CliRunner, tmp_path: Path) -> None:
    """lint's SARIF rules carry the code, and --select finds the warning (exit 1 only with --strict)."""
    path = tmp_path / "strided.prototxt"
    path.write_text(PROTOTXT % "", encoding="utf-8")
    result = runner.invoke(main, ["lint", str(path), "--select", "caffe-rounding"])
    assert result.exit_code == 0
    assert "warning[caffe-rounding]" in result.output
    assert runner.invoke(main, ["lint", str(path), "--select", "caffe-rounding", "--strict"]).exit_code == 1
    sarif = json.loads(runner.invoke(main, ["lint", str(path), "--format", "sarif"]).output)
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert "caffe-rounding" in [rule["id"] for rule in rules]
