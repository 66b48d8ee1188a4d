"""issue 12's upsample, pixel_shuffle, pixel_unshuffle and reshape: PyTorch's recorded cases, the CLI,
and the kernels against plain loops."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from convcalc import SpecError
from convcalc.__main__ import main
from convcalc.kinds.pixel_shuffle import kernel as pixel_shuffle_kernel
from convcalc.kinds.pixel_unshuffle import kernel as pixel_unshuffle_kernel
from convcalc.kinds.reshape import kernel as reshape_kernel
from convcalc.kinds.upsample import kernel as upsample_kernel
from convcalc.loader import load
from convcalc.model import Severity
from convcalc.resolver import resolve

DATA = json.loads((Path(__file__).resolve().parent / "data" / "torch_kinds.json").read_text(encoding="utf-8"))
MINE = ("upsample", "pixel_shuffle", "pixel_unshuffle", "reshape")
CASES = [c for c in DATA["cases"] if c["kind"] in MINE]


def _outcome(spec: dict[str, Any]) -> tuple[int, ...] | None:
    """The output convcalc gives (channels last), or None when it refuses the layer."""
    try:
        net = resolve(load(spec))
    except SpecError:
        return None
    (r,) = net.layers
    if not r.output.positive or any(f.severity is Severity.ERROR for f in net.findings):
        return None
    return r.output.dims


def _agrees(case: dict[str, Any], layer: dict[str, Any], dims: list[int], layout: str) -> None:
    torch = case["torch"]
    net_spec = {"input": dims, "layout": layout, "layers": [layer]}
    got = _outcome(net_spec)
    if torch["error"] is not None or torch["output"] is None or 0 in torch["output"]:
        assert got is None, f"PyTorch refuses ({torch['stage']}: {torch['error']}) but convcalc gives {got}"
        return
    assert got == tuple(torch["output"])
    (r,) = resolve(load(net_spec)).layers
    assert (r.params, r.non_trainable, r.macs) == (torch["params"], torch["non_trainable"], 0)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_pytorch_recorded_case(case: dict[str, Any]) -> None:
    _agrees(case, case["spec"], case["input"], "hwc")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_pytorch_recorded_case_channels_first(case: dict[str, Any]) -> None:
    """The same case in a chw spec: the input's numbers (and reshape's shape) channels first."""
    dims = case["input"] if len(case["input"]) == 1 else [case["input"][-1], *case["input"][:-1]]
    layer = case.get("spec_chw", case["spec"])
    torch = case["torch"]
    net_spec = {"input": dims, "layout": "chw", "layers": [layer]}
    got = _outcome(net_spec)
    if torch["error"] is not None or torch["output"] is None or 0 in torch["output"]:
        assert got is None
    else:
        assert got == tuple(torch["output"])


def test_every_kind_of_mine_has_cases() -> None:
    counts = {k: sum(c["kind"] == k for c in CASES) for k in MINE}
    assert counts == {"upsample": 172, "pixel_shuffle": 32, "pixel_unshuffle": 32, "reshape": 49}


# ---------------------------------------------------------------- the command line


def _layer(*args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(main, ["layer", *args])
    return result.exit_code, result.stdout.splitlines(), result.stderr


def test_upsample_explains_the_double_precision_floor() -> None:
    code, out, _ = _layer(
        "--in",
        "100x100x3",
        "--type",
        "upsample",
        "--scale",
        "0.57",
        "--mode",
        "bilinear",
        "--explain",
        "--check",
    )
    assert code == 0
    assert out == [
        "upsample1: 100x100x3 -> 56x56x3",
        "  output size      floor(100 x 0.57) = 56",
        "                   N x scale is computed in double precision, as PyTorch does: "
        "100 x 0.57 gives 56, not 57",
        "  parameters       0 (upsampling has no weights)",
        "  MACs             0",
        "  receptive field  not computed: upsample1's outputs do not step evenly over its input",
        "  activations      56x56x3 = 9,408, 36.8 KiB float32",
        "  check            ran it with numpy: 56x56x3 ✓",
    ]


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["--scale", "2"], "upsample1: 100x100x3 -> 200x200x3"),
        (["--scale", "2x0.5"], "upsample1: 100x100x3 -> 200x50x3"),
        (["--size", "14x18", "--mode", "bicubic", "--align-corners"], "upsample1: 100x100x3 -> 14x18x3"),
        (["--size", "9"], "upsample1: 100x100x3 -> 9x9x3"),
    ],
)
def test_upsample_from_flags(args: list[str], output: str) -> None:
    code, out, _ = _layer("--in", "100x100x3", "--type", "upsample", *args, "--check")
    assert code == 0
    assert out[0] == output
    assert out[-1].endswith("✓")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--type upsample needs --scale or --size"),
        (
            ["--scale", "2", "--size", "3"],
            "--scale and --size do not go together (nn.Upsample takes one of them)",
        ),
        (
            ["--scale", "2", "--align-corners"],
            "--align-corners needs --mode linear, bilinear, bicubic or trilinear",
        ),
        (
            ["--scale", "2", "--mode", "trilinear"],
            "upsample1: mode trilinear takes 3-D input (3 spatial axes), but its input has 2; "
            "PyTorch refuses it",
        ),
        (
            ["--scale", "0.001"],
            "upsample1: output size 0x0 has an axis below 1; PyTorch refuses it "
            "(input and output sizes should be greater than 0)",
        ),
        (
            ["--scale", "2x2x2"],
            "upsample1: 'scale' has 3 values but its input has 2 spatial axes (PyTorch refuses it)",
        ),
        (
            ["--scale", "0"],
            "Invalid value for '--scale': expected positive numbers like 2, 0.5 or 2x1.5, got '0'",
        ),
        (["--factor", "2", "--scale", "2"], "--factor does not apply to --type upsample"),
    ],
)
def test_upsample_flags_refused(args: list[str], message: str) -> None:
    code, out, err = _layer("--in", "100x100x3", "--type", "upsample", *args)
    assert (code, out) == (2, [])
    assert err == f"convcalc layer: error: {message} (see 'convcalc layer --help')\n"


def test_pixel_unshuffle_is_a_window_of_r_stride_r() -> None:
    code, out, _ = _layer(
        "--in", "26x26x64", "--type", "pixel_unshuffle", "--factor", "2", "--explain", "--check"
    )
    assert code == 0
    assert out == [
        "pixel_unshuffle1: 26x26x64 -> 13x13x256",
        "  output size      (26 - 2)/2 + 1 = 13",
        "  parameters       0 (a pixel unshuffle has no weights)",
        "  MACs             0",
        "  receptive field  size 1 + (2 - 1) x 1 = 2, jump 1 x 2 = 2, start 0 - 0 x 1 = 0",
        "  activations      13x13x256 = 43,264, 169.0 KiB float32",
        "  check            ran it with numpy: 13x13x256 ✓",
    ]


def test_pixel_shuffle_from_flags() -> None:
    code, out, _ = _layer(
        "--in", "6x10x12", "--type", "pixel_shuffle", "--factor", "2", "--explain", "--check"
    )
    assert code == 0
    assert out == [
        "pixel_shuffle1: 6x10x12 -> 12x20x3",
        "  output size      6x2 = 12, 10x2 = 20; 12/2^2 = 3 channels",
        "  parameters       0 (a pixel shuffle has no weights)",
        "  MACs             0",
        "  receptive field  not computed: pixel_shuffle1's outputs do not step evenly over its input",
        "  activations      12x20x3 = 720, 2.8 KiB float32",
        "  check            ran it with numpy: 12x20x3 ✓",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--in", "6x10x12", "--type", "pixel_shuffle"], "--type pixel_shuffle needs --factor"),
        (
            ["--in", "6x10x12", "--type", "pixel_shuffle", "--factor", "3"],
            "pixel_shuffle1: 12 channels are not a multiple of factor^2 = 9; PyTorch refuses it",
        ),
        (
            ["--in", "6x10x12", "--type", "pixel_unshuffle", "--factor", "4"],
            "pixel_unshuffle1: the height 6 is not a multiple of the factor 4; PyTorch refuses it",
        ),
        (
            ["--in", "8x10x12", "--type", "pixel_unshuffle", "--factor", "4"],
            "pixel_unshuffle1: the width 10 is not a multiple of the factor 4; PyTorch refuses it",
        ),
        (
            ["--in", "7x4", "--type", "pixel_shuffle", "--factor", "2"],
            "pixel_shuffle1: a pixel_shuffle layer needs 2-D input (H x W x C), but its input is 1-D; "
            "PyTorch's works on images only",
        ),
        (
            ["--in", "16", "--type", "pixel_unshuffle", "--factor", "2"],
            "pixel_unshuffle1: a pixel_unshuffle layer needs 2-D input (H x W x C), but its input is a flat "
            "vector; PyTorch's works on images only",
        ),
    ],
)
def test_pixel_shuffles_refused(args: list[str], message: str) -> None:
    code, out, err = _layer(*args)
    assert (code, out) == (2, [])
    assert err == f"convcalc layer: error: {message} (see 'convcalc layer --help')\n"


def test_reshape_works_out_the_minus_one() -> None:
    code, out, _ = _layer("--in", "8192", "--type", "reshape", "--shape", "4x4x-1", "--explain", "--check")
    assert code == 0
    assert out == [
        "reshape1: 8192 -> 4x4x512",
        "  output size      4x4x512 (8,192 elements, in hwc)",
        "                   -1 = 8,192 / 4x4 = 512",
        "  parameters       0 (a reshape has no weights)",
        "  MACs             0",
        "  activations      0 (a view)",
        "  check            ran it with numpy: 4x4x512 ✓",
    ]


def test_reshape_reads_its_shape_in_the_layout() -> None:
    code, out, _ = _layer("--in", "8192", "--type", "reshape", "--shape", "512x4x-1", "--layout", "chw")
    assert code == 0
    assert out[:2] == ["reshape1: 8192 -> 512x4x4", "  output size      512x4x4 (8,192 elements, in chw)"]


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ("4x4x-1", "reshape1: shape 4x4x-1: 180 elements are not a multiple of 16; PyTorch refuses it"),
        ("4x4x4", "reshape1: shape 4x4x4 holds 64 elements but its input has 180; PyTorch refuses it"),
        ("1x2x3x5x6", "reshape1: shape 1x2x3x5x6 has 5 numbers; expected 1 to 4"),
        (
            "-1x-1",
            "reshape: 'shape' must be a shape like 4x4x512 or [4, 4, -1]: positive integers, one of them -1 "
            "at most, got '-1x-1'",
        ),
        (
            "0x180",
            "reshape: 'shape' must be a shape like 4x4x512 or [4, 4, -1]: positive integers, one of them -1 "
            "at most, got '0x180'",
        ),
    ],
)
def test_reshape_refused(shape: str, message: str) -> None:
    code, out, err = _layer("--in", "3x5x12", "--type", "reshape", "--shape", shape)
    assert (code, out) == (2, [])
    assert err == f"convcalc layer: error: {message} (see 'convcalc layer --help')\n"


def test_spec_errors_are_located(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: 8x8x4\nlayers:\n  - {type: upsample, scale: 2}\n  - {type: reshape, shape: [3, -1]}\n"
    )
    result = CliRunner().invoke(main, ["run", str(spec)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{spec}:4:28: error: reshape1: shape 3x-1: 1,024 elements are not a multiple of 3; "
        "PyTorch refuses it\n"
    )
    spec.write_text("input: 8x8x4\nlayers:\n  - {type: upsample, scale: 2, align_corners: true}\n")
    result = CliRunner().invoke(main, ["run", str(spec)])
    assert result.stderr == (
        f"{spec}:3:47: error: layer 1 (upsample1): 'align_corners' is for the interpolating modes (linear, "
        "bilinear, bicubic, trilinear); PyTorch refuses it with nearest, even false\n"
    )


# ---------------------------------------------------------------- a GAN generator: fc -> reshape -> deconv

GENERATOR = """\
name: DCGAN generator
input: 100
layers:
  - {type: fc, units: 8192, bias: false}
  - {type: reshape, shape: 4x4x512}
  - {type: bn}
  - {type: act}
  - {type: deconv, filters: 256, size: 4, stride: 2, pad: 1, bias: false}
  - {type: bn}
  - {type: act}
  - {type: deconv, filters: 128, size: 4, stride: 2, pad: 1, bias: false}
  - {type: upsample, scale: 2}
  - {type: conv, filters: 12, size: 3, pad: 1}
  - {type: pixel_shuffle, factor: 2}
  - {type: act, fn: tanh, expect: {output: 64x64x3}}
expect: {output: 64x64x3}
"""


def test_a_gan_generator_starts_with_fc_reshape_deconv(tmp_path: Path) -> None:
    spec = tmp_path / "gan.yaml"
    spec.write_text(GENERATOR)
    result = CliRunner().invoke(main, ["run", str(spec), "--check", "--format", "json"])
    assert (result.exit_code, result.stderr) == (0, "")
    layers = json.loads(result.stdout)["layers"]
    assert [
        (r["type"], r["output_shape"], r["params"], r["non_trainable_params"], r["macs"]) for r in layers
    ] == [
        ("fc", [8192], 100 * 8192, 0, 100 * 8192),
        ("reshape", [4, 4, 512], 0, 0, 0),
        ("bn", [4, 4, 512], 1024, 1024, 0),
        ("act", [4, 4, 512], 0, 0, 0),
        ("deconv", [8, 8, 256], 512 * 256 * 16, 0, 4 * 4 * 512 * 256 * 16),
        ("bn", [8, 8, 256], 512, 512, 0),
        ("act", [8, 8, 256], 0, 0, 0),
        ("deconv", [16, 16, 128], 256 * 128 * 16, 0, 8 * 8 * 256 * 128 * 16),
        ("upsample", [32, 32, 128], 0, 0, 0),
        ("conv", [32, 32, 12], 12 * (9 * 128 + 1), 0, 32 * 32 * 12 * 9 * 128),
        ("pixel_shuffle", [64, 64, 3], 0, 0, 0),
        ("act", [64, 64, 3], 0, 0, 0),
    ]
    assert [r["check"] for r in layers] == ["ok"] * 12
    assert [r["activations"] for r in layers][:2] == [8192, 0]  # reshape is a view


def test_the_generator_in_chw_is_the_same_network() -> None:
    hwc = resolve(load(GENERATOR))
    chw_text = GENERATOR.replace("input: 100", "input: 100\nlayout: chw").replace("4x4x512", "512x4x4")
    chw = resolve(load(chw_text.replace("64x64x3", "3x64x64")))
    assert [r.output for r in chw.layers] == [r.output for r in hwc.layers]
    assert not [f for f in chw.findings if f.severity is Severity.ERROR]


# ---------------------------------------------------------------- kernels against plain loops

A = -0.75
"""PyTorch's cubic convolution coefficient."""


def _cubic_weight(d: float) -> float:
    """Keys' cubic convolution kernel at distance d."""
    d = abs(d)
    if d <= 1:
        return ((A + 2) * d - (A + 3)) * d * d + 1
    if d < 2:
        return A * d**3 - 5 * A * d**2 + 8 * A * d - 4 * A
    return 0.0


def _taps(y: int, n: int, out: int, scale: float | None, mode: str, align: bool) -> list[tuple[int, float]]:
    """The inputs output y reads along one axis, with weights: PyTorch's source-index rules, one by one."""
    if mode == "nearest":  # PyTorch's nearest_idx works in float: floorf(y * (float)(1.0 / scale))
        import numpy as np

        step = np.float32(1 / scale) if scale is not None else np.float32(n) / np.float32(out)
        return [(min(math.floor(np.float32(y) * step), n - 1), 1.0)]
    if align:
        src = y * (n - 1) / (out - 1) if out > 1 else 0.0
    else:
        src = (1 / scale if scale is not None else n / out) * (y + 0.5) - 0.5
        if mode != "bicubic":
            src = max(src, 0.0)
    i = math.floor(src)
    t = src - i
    if mode == "bicubic":
        return [(min(max(i + k, 0), n - 1), _cubic_weight(t - k)) for k in (-1, 0, 1, 2)]
    return [(min(i, n - 1), 1 - t), (min(i + 1, n - 1), t)]


def test_upsample_kernel_against_a_loop() -> None:
    import itertools

    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    modes = {1: ["nearest", "linear"], 2: ["nearest", "bilinear", "bicubic"], 3: ["nearest", "trilinear"]}

    @settings(max_examples=120, deadline=None)
    @given(st.data())
    def same(data: st.DataObject) -> None:
        ndim = data.draw(st.integers(1, 3))
        n = [data.draw(st.integers(1, 5)) for _ in range(ndim)]
        c = data.draw(st.integers(1, 2))
        mode = data.draw(st.sampled_from(modes[ndim]))
        align = mode != "nearest" and data.draw(st.booleans())
        scale: tuple[float, ...] | None = None
        if data.draw(st.booleans()):
            scale = tuple(data.draw(st.sampled_from([0.5, 0.57, 1.0, 1.5, 2.0, 3.0])) for _ in range(ndim))
            out = [math.floor(a * s) for a, s in zip(n, scale, strict=True)]
            if min(out) < 1:
                return
        else:
            out = [data.draw(st.integers(1, 7)) for _ in range(ndim)]
        x = (
            np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
            .standard_normal((c, *n))
            .astype(np.float32)
        )
        got = upsample_kernel(x, out=tuple(out), scale=scale, mode=mode, align_corners=align)
        assert got.shape == (c, *out)
        for ch in range(c):
            for index in itertools.product(*(range(o) for o in out)):
                per_axis = [
                    _taps(y, n[k], out[k], None if scale is None else scale[k], mode, align)
                    for k, y in enumerate(index)
                ]
                want = 0.0
                for combo in itertools.product(*per_axis):
                    weight = math.prod(w for _, w in combo)
                    want += weight * float(x[(ch, *(i for i, _ in combo))])
                assert got[(ch, *index)] == pytest.approx(want, rel=1e-4, abs=1e-4)

    same()


@pytest.mark.parametrize(
    ("n", "out", "scale", "index"),
    [
        (4, 6, 1.5, [0, 0, 1, 2, 2, 3]),
        (
            11,
            40,
            3.7,
            [*(math.floor(y / 3.7) for y in range(37)), 10, 10, 10],
        ),  # floorf(37 x 0.27027026f) = 10
        (4, 6, None, [0, 0, 1, 2, 2, 3]),
        (5, 10, 2.0, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]),
        (100, 56, 0.57, [math.floor(y / 0.57) for y in range(56)]),
    ],
)
def test_nearest_picks_pytorchs_indices(n: int, out: int, scale: float | None, index: list[int]) -> None:
    from convcalc.kinds.upsample import resample_taps

    taps, weights = resample_taps(n, out, scale=scale, mode="nearest", align_corners=False)
    assert taps[:, 0].tolist() == index
    assert weights.tolist() == [[1.0]] * out


def test_pixel_shuffle_kernels_against_a_loop() -> None:
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None)
    @given(
        st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1)
    )
    def same(r: int, c: int, h: int, w: int, seed: int) -> None:
        x = np.random.default_rng(seed).standard_normal((c * r * r, h, w)).astype(np.float32)
        y = pixel_shuffle_kernel(x, factor=r)
        assert y.shape == (c, h * r, w * r)
        for k in range(c):
            for i in range(h * r):
                for j in range(w * r):
                    assert y[k, i, j] == x[k * r * r + (i % r) * r + j % r, i // r, j // r]
        back = pixel_unshuffle_kernel(y, factor=r)
        assert back.shape == x.shape
        for index in np.ndindex(*x.shape):
            assert back[index] == x[index]

    same()


def test_reshape_kernel_against_a_loop() -> None:
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(0, 2**32 - 1), st.data())
    def same(shape: list[int], seed: int, data: st.DataObject) -> None:
        x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
        total = x.size
        first = data.draw(st.sampled_from([d for d in range(1, total + 1) if total % d == 0]))
        y = reshape_kernel(x, (first, total // first))
        flat = [x[i] for i in np.ndindex(*x.shape)]  # C order, as PyTorch's reshape of a contiguous tensor
        assert [y[i] for i in np.ndindex(*y.shape)] == flat

    same()


# ---------------------------------------------------------------- the check's memory estimate

KIB = 1024


def _traced_peak(spec: dict[str, Any]) -> tuple[int, int]:
    """Peak bytes traced while checking a spec (after a warm-up run), and the estimate."""
    import tracemalloc

    from convcalc import check

    network = resolve(load(spec))
    check.run(network, max_memory=1 << 40)
    tracemalloc.start()
    try:
        check.run(network, max_memory=1 << 40)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, check.estimate(network)[0]


@pytest.mark.parametrize(
    "layer",
    [
        {"type": "upsample", "scale": 2},
        {"type": "upsample", "scale": 1.5, "mode": "bilinear"},
        {"type": "upsample", "size": [40, 50], "mode": "bicubic", "align_corners": True},
        {"type": "upsample", "scale": 0.5, "mode": "bilinear"},
        {"type": "pixel_shuffle", "factor": 2},
        {"type": "pixel_unshuffle", "factor": 4},
        {"type": "reshape", "shape": [-1]},
    ],
    ids=lambda layer: "-".join(str(v) for v in layer.values()),
)
def test_estimate_bounds_the_peak(layer: dict[str, Any]) -> None:
    peak, estimate = _traced_peak({"input": "64x48x16", "layers": [layer]})
    assert peak <= estimate + 64 * KIB


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("UpSampling2D", "'upsample'"),
        ("Upsampling", "'upsample'"),
        ("interpolate", "'upsample'"),
        ("reorg", "'pixel_unshuffle'"),
        ("SpaceToDepth", "'pixel_unshuffle'"),
        ("DepthToSpace", "'pixel_shuffle'"),
        ("PixelShuffle", "'pixel_shuffle'"),
        ("view", "'reshape'"),
        ("Reshape", "'reshape'"),
    ],
)
def test_names_from_other_frameworks(written: str, meant: str) -> None:
    with pytest.raises(SpecError, match=f"unknown type '{written}'; did you mean {meant}"):
        load(f"input: 8x8x4\nlayers:\n  - {{type: {written}}}\n")


def test_reshape_keeps_the_layout_its_spec_says(tmp_path: Path) -> None:
    """--layout re-reads the input's numbers; a reshape's shape stays in the spec's own layout."""
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 100\nlayers:\n  - {type: fc, units: 8192}\n  - {type: reshape, shape: 4x4x512}\n")
    for layout, shown in (("hwc", [4, 4, 512]), ("chw", [512, 4, 4])):
        result = CliRunner().invoke(main, ["run", str(spec), "--layout", layout, "--format", "json"])
        assert result.exit_code == 0
        assert json.loads(result.stdout)["layers"][1]["output_shape"] == shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--type", "pool", "--filter", "2", "--mode", "bilinear"],
            "pool: 'mode' must be max or avg, got 'bilinear'",
        ),
        (
            ["--type", "global_pool", "--mode", "nearest"],
            "global_pool: 'mode' must be max or avg, got 'nearest'",
        ),
        (
            ["--type", "upsample", "--scale", "2", "--mode", "max"],
            "upsample: 'mode' must be one of: nearest, linear, bilinear, bicubic, trilinear, got 'max'",
        ),
    ],
)
def test_one_mode_flag_each_kind_checks(args: list[str], message: str) -> None:
    code, out, err = _layer("--in", "8x8x3", *args)
    assert (code, out) == (2, [])
    assert err == f"convcalc layer: error: {message} (see 'convcalc layer --help')\n"


@pytest.mark.parametrize(
    ("dims", "layer"),
    [
        ("300x3", {"type": "upsample", "scale": 2.5, "mode": "linear", "align_corners": True}),
        ("300x3", {"type": "upsample", "size": 7}),
        ("12x10x14x3", {"type": "upsample", "scale": [2, 1.5, 0.5], "mode": "trilinear"}),
        ("12x10x14x3", {"type": "upsample", "scale": 3}),
    ],
)
def test_estimate_bounds_the_peak_in_1d_and_3d(dims: str, layer: dict[str, Any]) -> None:
    peak, estimate = _traced_peak({"input": dims, "layers": [layer]})
    assert peak <= estimate + 64 * KIB
