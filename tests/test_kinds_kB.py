"""pad, crop, channel_shuffle and lrn: PyTorch's recorded cases, the command line, --explain, kernels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.__main__ import main
from convcalc.errors import SpecError
from convcalc.kinds.channel_shuffle import kernel as channel_shuffle_kernel
from convcalc.kinds.crop import kernel as crop_kernel
from convcalc.kinds.lrn import kernel as local_response_norm_kernel
from convcalc.kinds.pad import kernel as pad_kernel
from convcalc.loader import load
from convcalc.model import Severity
from convcalc.resolver import resolve

DATA = json.loads((Path(__file__).resolve().parent / "data" / "torch_kinds.json").read_text())
MINE = ("pad", "crop", "channel_shuffle", "lrn")
CASES = [c for c in DATA["cases"] if c["kind"] in MINE]


def refused(torch: dict[str, Any]) -> bool:
    """Whether PyTorch refuses: an error, or an output with an empty axis."""
    return torch["error"] is not None or 0 in torch["output"]


def test_every_case_of_these_kinds_is_here() -> None:
    assert len(CASES) == sum(DATA["counts"][k] for k in MINE) == 369


@pytest.mark.parametrize("layout", ["hwc", "chw"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_agrees_with_pytorch(case: dict[str, Any], layout: str) -> None:
    dims = case["input"] if layout == "hwc" or len(case["input"]) == 1 else case["input_nchw"][1:]
    spec = {"input": dims, "layout": layout, "layers": [case["spec"]]}
    torch = case["torch"]
    try:
        net = resolve(load(spec))
    except SpecError:
        assert refused(torch), f"convcalc refuses it, but PyTorch gives {torch['output']}"
        return
    errors = [f for f in net.findings if f.severity is Severity.ERROR]
    if refused(torch):
        assert errors, f"PyTorch refuses it: {torch['error']}"
        return
    assert not errors, errors
    (r,) = net.layers
    assert list(r.output.dims) == torch["output"]
    assert list(r.output.written(net.spec.layout)) == (
        torch["output"] if layout == "hwc" else torch["output_nchw"][1:]
    )
    assert (r.params, r.non_trainable, r.macs) == (torch["params"], torch["non_trainable"], 0)


@pytest.mark.parametrize("case", [c for c in CASES if not refused(c["torch"])][::4], ids=lambda c: c["id"])
def test_check_runs_the_recorded_successes(case: dict[str, Any]) -> None:
    from convcalc.check import checked

    net = checked(resolve(load({"input": case["input"], "layers": [case["spec"]]})))
    assert [c.status.value for c in net.checks or ()] == ["ok"]
    assert net.checks
    assert list(net.checks[0].shape or ()) == case["torch"]["output"]


def layer(*args: str) -> tuple[int, list[str], str]:
    """`convcalc layer` with these options: exit code, stdout lines, stderr."""
    result = CliRunner().invoke(main, ["layer", *args])
    return result.exit_code, result.stdout.splitlines(), result.stderr


def run(tmp_path: Path, layers: str, *args: str, input: str = "8x8x4") -> tuple[int, str, str]:
    """`convcalc run` on a spec of these layers: exit code, stdout, stderr."""
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: {input}\nlayers:\n{layers}")
    result = CliRunner().invoke(main, ["run", str(spec), *args])
    return result.exit_code, result.stdout, result.stderr.replace(str(spec), "net.yaml")


# ---------------------------------------------------------------- pad


def test_pad_from_the_command_line() -> None:
    args = ("--in", "8x8x4", "--type", "pad", "--pad", "1x2", "--mode", "reflect", "--explain", "--check")
    assert layer(*args) == (
        0,
        [
            "pad1: 8x8x4 -> 10x12x4",
            "  output size      rows: 8 + 1 + 1 = 10",
            "                   columns: 8 + 2 + 2 = 12",
            "  parameters       0 (a pad layer has no weights)",
            "  MACs             0",
            "  receptive field  1 (unchanged)",
            "  activations      10x12x4 = 480, 1.9 KiB float32",
            "  check            ran it with numpy: 10x12x4 \u2713",
        ],
        "",
    )


@pytest.mark.parametrize(
    ("mode", "pad", "code"),
    [("reflect", 8, 1), ("reflect", 7, 0), ("circular", 9, 1), ("circular", 8, 0), ("replicate", 99, 0)],
)
def test_pad_limits_by_mode(mode: str, pad: int, code: int, tmp_path: Path) -> None:
    exit_code, _, _ = run(tmp_path, f"  - {{type: pad, pad: {pad}, mode: {mode}}}\n", "--format", "json")
    assert exit_code == code


def test_reflect_pad_of_the_input_size_is_an_error_at_the_pad(tmp_path: Path) -> None:
    exit_code, out, _ = run(
        tmp_path, "  - {type: pad, pad: [[1, 8], [0, 0]], mode: reflect}\n", "--format", "json"
    )
    (finding,) = json.loads(out)["diagnostics"]
    assert exit_code == 1
    assert (finding["code"], finding["line"], finding["column"]) == ("window-exceeds-input", 3, 22)
    assert finding["fixes"] == ["pad [[1, 7], [0, 0]]", "mode replicate"]
    assert finding["message"] == (
        "pad1: reflect padding 8 on 8 rows: each side must be smaller than the input (8); PyTorch refuses it"
    )


def test_circular_pad_above_the_input_size_is_an_error() -> None:
    exit_code, lines, _ = layer("--in", "4x6x2", "--type", "pad", "--pad", "5x1", "--mode", "circular")
    assert exit_code == 1
    assert lines[-2:] == [
        "error[window-exceeds-input] pad1: circular padding 5 on 4 rows: each side must be at most "
        "the input (4); PyTorch refuses it",
        "    fix: pad 4x1 or mode replicate",
    ]


@pytest.mark.parametrize(
    ("layer_text", "message"),
    [
        (
            "{type: pad, pad: same}",
            "4:22: error: layer 1 (pad1): 'pad' must be numbers, not same (that is for conv, "
            "deconv and pool), got 'same'",
        ),
        (
            "{type: pad, pad: 1, mode: edge}",
            "4:31: error: layer 1 (pad1): 'mode' must be one of: zeros, reflect, "
            "replicate, circular, got 'edge'",
        ),
        ("{type: pad, mode: zeros}", "4:5: error: layer 1 (pad): missing required key 'pad'"),
        (
            "{type: pad, pad: [[1, 2, 3]]}",
            "4:22: error: layer 1 (pad1): 'pad' must be [before, after] pairs of "
            "non-negative integers, like [[0, 1], [1, 0]], got [[1, 2, 3]]",
        ),
        (
            "{type: crop, crop: 1, size: 2}",
            "4:5: error: layer 1 (crop1): give 'crop' (the amounts removed) or "
            "'size' (a centre crop), not both",
        ),
        (
            "{type: crop}",
            "4:5: error: layer 1 (crop1): give 'crop' (the amounts removed) or 'size' (a centre crop)",
        ),
        ("{type: lrn, size: 0}", "4:23: error: layer 1 (lrn1): 'size' must be a positive integer, got 0"),
        ("{type: channel_shuffle}", "4:5: error: layer 1 (channel_shuffle): missing required key 'groups'"),
    ],
)
def test_bad_keys_are_located_spec_errors(layer_text: str, message: str, tmp_path: Path) -> None:
    assert run(tmp_path, f"  - {layer_text}\n", input="8x8x4\nlayout: hwc") == (
        2,
        "",
        f"net.yaml:{message}\n",
    )


@pytest.mark.parametrize(
    "kind",
    [
        "{type: pad, pad: 1}",
        "{type: crop, crop: 1}",
        "{type: channel_shuffle, groups: 2}",
        "{type: lrn, size: 5}",
    ],
)
def test_a_flat_input_is_refused(kind: str, tmp_path: Path) -> None:
    name = kind.split(",")[0].split(": ")[1].rstrip("}")
    assert run(tmp_path, f"  - {kind}\n", input="6") == (
        2,
        "",
        f"net.yaml:3:5: error: {name}1: a {name} layer needs spatial input, "
        "but its input is a flat vector of 6\n",
    )


# ---------------------------------------------------------------- crop


def test_centre_crop_from_the_command_line() -> None:
    assert layer("--in", "9x8x4", "--type", "crop", "--size", "4x5", "--explain", "--check") == (
        0,
        [
            "crop1: 9x8x4 -> 4x5x4",
            "  output size      rows: centre 4: from (9 - 4) // 2 = 2 to 5 (the odd pixel removed after)",
            "                   columns: centre 5: from (8 - 5) // 2 = 1 to 5 (the odd pixel removed after)",
            "  parameters       0 (a crop has no weights)",
            "  MACs             0",
            "  receptive field  1 (unchanged)",
            "  activations      0 (a view)",
            "  check            ran it with numpy: 4x5x4 \u2713",
        ],
        "",
    )


def test_crop_that_leaves_nothing_stops_the_network(tmp_path: Path) -> None:
    layers = "  - {type: crop, crop: [[3, 3]]}\n  - {type: conv, filters: 2, size: 1}\n"
    exit_code, out, _ = run(tmp_path, layers, "--format", "json", input="5x5x1")
    data = json.loads(out)
    assert exit_code == 1
    assert [f["message"] for f in data["diagnostics"]] == [
        "crop1: cropping 3 + 3 of 5 rows leaves nothing (5 - 3 - 3 = -1); PyTorch refuses it; "
        "the 1 layer after it could not be resolved"
    ]
    assert data["diagnostics"][0]["code"] == "non-positive-size"
    assert [row["output_shape"] for row in data["layers"]] == [None]


def test_centre_crop_larger_than_the_input_is_an_error() -> None:
    exit_code, lines, _ = layer("--in", "7x9x1", "--type", "crop", "--size", "8")
    assert exit_code == 1
    assert lines[-1] == (
        "error[window-exceeds-input] crop1: the centre crop's size 8 is larger than the input's 7 rows; "
        "PyTorch refuses it"
    )


def test_crop_moves_the_receptive_field_start() -> None:
    spec = {"input": "9x9x1", "layers": [{"type": "pad", "pad": 2}, {"type": "crop", "crop": [[3, 0]]}]}
    pad, crop = resolve(load(spec)).layers
    assert [f.start for f in pad.field or ()] == [-2, -2]
    assert [f.start for f in crop.field or ()] == [1, 1]
    assert crop.output.dims == (10, 10, 1)


def test_unet_skip_crop_and_the_table_cells(tmp_path: Path) -> None:
    layers = (
        "  - {type: pad, pad: [[0, 1], [1, 2]], mode: reflect}\n"
        "  - {type: crop, size: 56}\n"
        "  - {type: crop, crop: [[1, 2]]}\n"
        "  - {type: channel_shuffle, groups: 4}\n"
        "  - {type: lrn, size: 5}\n"
    )
    exit_code, out, _ = run(
        tmp_path, layers, "--format", "csv", "--columns", "name,type,window,output", input="64x64x8"
    )
    assert exit_code == 0
    assert [line.split(",", 1)[1] for line in out.splitlines()] == [
        "name,type,filter/stride/pad,output,exact_output",
        "pad1,pad reflect,(0+1)x(1+2),65x67x8,",
        "crop1,crop,centre 56,56x56x8,",
        "crop2,crop,1+2,53x53x8,",
        "channel_shuffle1,channel_shuffle,g4,53x53x8,",
        "lrn1,lrn,n5,53x53x8,",
    ]


# ---------------------------------------------------------------- channel_shuffle and lrn


def test_channel_shuffle_groups_must_divide_the_channels() -> None:
    exit_code, lines, _ = layer("--in", "4x4x6", "--type", "channel_shuffle", "--groups", "4")
    assert exit_code == 1
    assert lines[-2:] == [
        "error[groups-mismatch] channel_shuffle1: groups 4 must divide the channels (6); PyTorch refuses it",
        "    fix: groups 2 or groups 3",
    ]


def test_lrn_from_the_command_line() -> None:
    assert layer("--in", "55x55x96", "--type", "lrn", "--size", "5", "--format", "json")[0] == 0
    exit_code, lines, err = layer("--in", "4x4x4", "--type", "lrn")
    assert (exit_code, lines, err) == (
        2,
        [],
        "convcalc layer: error: --type lrn needs --size (see 'convcalc layer --help')\n",
    )


def test_json_fields() -> None:
    rows = []
    for args in (("pad", "--pad", "1", "--mode", "circular"), ("channel_shuffle", "--groups", "2")):
        _, lines, _ = layer("--in", "4x4x4", "--type", *args, "--format", "json")
        (row,) = json.loads("\n".join(lines))["layers"]
        rows.append((row["type"], row["mode"], row["groups"], row["window"], row["macs"]))
    assert rows == [("pad", "circular", None, None, 0), ("channel_shuffle", None, 2, None, 0)]


# ---------------------------------------------------------------- kernels against loops

small = st.lists(st.integers(1, 5), min_size=1, max_size=3)


def array(channels: int, spatial: list[int], seed: int) -> np.ndarray:
    """Random float32 values, channels first."""
    return np.random.default_rng(seed).standard_normal((channels, *spatial), dtype=np.float32)


def source(i: int, n: int, before: int, mode: str) -> int | None:
    """The input index an output index i of a padded axis reads (None: a zero)."""
    j = i - before
    if 0 <= j < n:
        return j
    if mode == "zeros":
        return None
    if mode == "replicate":
        return min(max(j, 0), n - 1)
    if mode == "circular":
        return j % n
    while not 0 <= j < n:  # reflect about the edge pixels, as often as it takes
        j = -j if j < 0 else 2 * (n - 1) - j
    return j


@settings(max_examples=60, deadline=None)
@given(small, st.integers(1, 3), st.data(), st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
def test_pad_kernel_against_a_loop(spatial: list[int], channels: int, data: st.DataObject, mode: str) -> None:
    most = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 4)
    sides = tuple((data.draw(st.integers(0, most(n))), data.draw(st.integers(0, most(n)))) for n in spatial)
    x = array(channels, spatial, data.draw(st.integers(0, 2**32 - 1)))
    out = pad_kernel(x, sides=sides, mode=mode)
    assert out.shape == (channels, *(n + b + a for n, (b, a) in zip(spatial, sides, strict=True)))
    for index in np.ndindex(*out.shape):
        c, *at = index
        read = [source(i, n, b, mode) for i, n, (b, _) in zip(at, spatial, sides, strict=True)]
        assert out[index] == (0 if None in read else x[(c, *read)])


@settings(max_examples=60, deadline=None)
@given(small, st.integers(1, 3), st.data())
def test_crop_kernel_against_a_loop(spatial: list[int], channels: int, data: st.DataObject) -> None:
    kept = []
    for n in spatial:
        first = data.draw(st.integers(0, n - 1))
        kept.append((first, data.draw(st.integers(first, n - 1))))
    x = array(channels, spatial, data.draw(st.integers(0, 2**32 - 1)))
    out = crop_kernel(x, kept=tuple(kept))
    assert out.shape == (channels, *(last - first + 1 for first, last in kept))
    for index in np.ndindex(*out.shape):
        c, *at = index
        assert out[index] == x[(c, *(i + first for i, (first, _) in zip(at, kept, strict=True)))]


@settings(max_examples=60, deadline=None)
@given(small, st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_channel_shuffle_kernel_against_a_loop(spatial: list[int], groups: int, per: int, seed: int) -> None:
    x = array(groups * per, spatial, seed)
    out = channel_shuffle_kernel(x, groups=groups)
    assert out.shape == x.shape
    for c in range(groups * per):
        # output channel c = i x groups + g reads input channel g x per + i
        i, g = divmod(c, groups)
        assert np.array_equal(out[c], x[g * per + i])


@settings(max_examples=60, deadline=None)
@given(small, st.integers(1, 8), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_lrn_kernel_against_a_loop(spatial: list[int], channels: int, size: int, seed: int) -> None:
    x = array(channels, spatial, seed) * 10
    out = local_response_norm_kernel(x, size=size)
    assert out.shape == x.shape
    for index in np.ndindex(*x.shape):
        c, *at = index
        near = range(max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1))
        total = sum(float(x[(d, *at)]) ** 2 for d in near)
        want = float(x[index]) / (1.0 + 1e-4 / size * total) ** 0.75
        assert out[index] == pytest.approx(want, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("ZeroPad2d", "'pad'"),
        ("ZeroPadding2D", "'pad'"),
        ("ReflectionPad2d", "'pad' with 'mode: reflect'"),
        ("ReplicationPad3d", "'pad' with 'mode: replicate'"),
        ("CircularPad1d", "'pad' with 'mode: circular'"),
        ("Cropping2D", "'crop'"),
        ("CenterCrop", "'crop' with 'size' (a centre crop)"),
        ("LocalResponseNorm", "'lrn'"),
        ("ChannelShuffle", "'channel_shuffle'"),
    ],
)
def test_names_from_other_frameworks(word: str, meant: str, tmp_path: Path) -> None:
    exit_code, _, err = run(tmp_path, f"  - {{type: {word}}}\n")
    assert exit_code == 2
    assert f"unknown type '{word}'; did you mean {meant}? (expected one of:" in err


@pytest.mark.parametrize(
    ("layer_text", "meant"),
    [
        ("{type: crop, cropping: 2}", "crop"),
        ("{type: lrn, local_size: 5}", "size"),
        ("{type: pad, padding: 1}", "pad"),
    ],
)
def test_keys_from_other_frameworks(layer_text: str, meant: str, tmp_path: Path) -> None:
    exit_code, _, err = run(tmp_path, f"  - {layer_text}\n")
    assert exit_code == 2
    assert f"; did you mean '{meant}'? (expected one of:" in err


# ---------------------------------------------------------------- the --check memory estimate


@st.composite
def my_layers(draw: st.DrawFn) -> dict[str, Any]:
    """A pad, crop, channel shuffle or LRN that PyTorch runs, on a small 1-3-D input, then a flatten."""
    n = [draw(st.integers(3, 300)) for _ in range(draw(st.integers(1, 3)))]
    n = n if len(n) == 1 else [min(x, 20) for x in n]
    c = draw(st.integers(1, 4)) * 2
    kind = draw(st.sampled_from(MINE))
    layer: dict[str, Any] = {"type": kind}
    if kind == "pad":
        layer |= {
            "pad": draw(st.integers(0, 2)),
            "mode": draw(st.sampled_from(["zeros", "reflect", "replicate"])),
        }
    elif kind == "crop":
        layer |= {"crop": 1} if draw(st.booleans()) else {"size": 2}
    elif kind == "channel_shuffle":
        layer["groups"] = 2
    else:
        layer["size"] = draw(st.integers(1, 7))
    return {"input": [*n, c], "layers": [layer, {"type": "flatten"}]}


@settings(max_examples=40, deadline=None)
@given(my_layers())
def test_estimate_bounds_the_peak(spec: dict[str, Any]) -> None:
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
    assert peak <= check.estimate(network)[0] + 64 * 1024


def test_a_crop_is_a_view_in_the_model_but_a_copy_in_the_check() -> None:
    from convcalc import check

    network = resolve(load({"input": "2048x2048x4", "layers": [{"type": "crop", "crop": [[0, 1024]]}]}))
    assert network.layers[0].activations == 0
    assert check.estimate(network)[0] == (64 + 16) * 1024**2  # the input, and the 1024x1024x4 window copied


# ---------------------------------------------------------------- receptive fields after upsampling


@settings(max_examples=60, deadline=None)
@given(
    st.integers(4, 12),
    st.integers(2, 5),
    st.integers(2, 3),
    st.integers(0, 1),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(1, 3),
)
def test_pad_and_crop_move_the_exact_field_after_a_deconv(
    n: int, size: int, stride: int, pad: int, before: int, after: int, conv: int
) -> None:
    """A pad reads as a 1x1 conv with that padding; a crop of the same amounts undoes it."""
    deconv = {"type": "deconv", "filters": 1, "size": size, "stride": stride, "pad": pad}
    last = {"type": "conv", "filters": 1, "size": conv}
    sides = [[before, after]]

    def fields(*layers: dict[str, Any]) -> list[Any]:
        return [r.field for r in resolve(load({"input": [n, 1], "layers": [deconv, *layers, last]})).layers]

    padded = fields({"type": "pad", "pad": sides})
    assert padded == fields({"type": "conv", "filters": 1, "size": 1, "pad": sides})
    assert fields({"type": "pad", "pad": sides}, {"type": "crop", "crop": sides})[-1] == fields()[-1]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.sampled_from(["reflect", "circular"]),
    st.data(),
)
def test_the_pad_fixes_are_taken(spatial: list[int], mode: str, data: st.DataObject) -> None:
    """Each fix of a refused reflect or circular pad, written back into the spec, passes."""
    import yaml

    pairs = [[data.draw(st.integers(0, 9)), data.draw(st.integers(0, 9))] for _ in spatial]
    net = resolve(load({"input": [*spatial, 2], "layers": [{"type": "pad", "pad": pairs, "mode": mode}]}))
    errors = [f for f in net.findings if f.severity is Severity.ERROR]
    assert all(f.code.value == "window-exceeds-input" for f in errors)
    for finding in errors:
        for fix in finding.fixes:
            key, value = fix.split(" ", 1)
            # 3x5 is a per-axis string (YAML would read an unquoted 0x1 as hex)
            written = value if value.replace("x", "").isdigit() else yaml.safe_load(value)
            layer = {"type": "pad", "pad": pairs, "mode": mode, key: written}
            fixed = resolve(load({"input": [*spatial, 2], "layers": [layer]}))
            assert not [f for f in fixed.findings if f.severity is Severity.ERROR], fix
