"""crop_to: a first input cropped to a second's spatial size from an offset (Caffe's Crop, as FCN uses it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from convcalc import loader
from convcalc.__main__ import main
from convcalc.errors import SpecError
from convcalc.kinds import of as kinds_of
from convcalc.model import Code, Severity
from convcalc.readers import caffe
from convcalc.resolver import resolve

FCN = """\
input: 500x500x3
layers:
  - {name: conv1, type: conv, filters: 8, size: 3, pad: 100}
  - {name: pool, type: pool, size: 32, stride: 32, ceil: true}
  - {name: fc6, type: conv, filters: 16, size: 7}
  - {name: up, type: deconv, filters: 21, size: 64, stride: 32, bias: false}
  - {name: score, type: crop_to, from: [up, input], offset: 19}
"""


def test_fcn32s_crops_544_back_to_500_from_19() -> None:
    """FCN-32s at 500 (one pool of 32 stands for its five of 2): conv1 pads by 100 to 698, the pool rounds
    (698 - 32)/32 + 1 = 21.8 up to 22, fc6's 7x7 leaves 16, upscore gives (16 - 1) x 32 + 64 = 544, and
    the crop keeps rows and columns 19 to 518."""
    net = resolve(loader.parse(FCN))
    up, score = net.layers[3], net.layers[4]
    assert [r.output.spatial for r in net.layers[:3]] == [(698, 698), (22, 22), (16, 16)]
    assert up.output.spatial == (544, 544)
    assert (score.output.spatial, score.output.channels) == ((500, 500), 21)
    assert (score.params, score.macs, score.activations) == (0, 0, 0)
    assert [f.code for f in net.findings] == [Code.FRACTIONAL_SIZE]  # the pool's ceil-mode overhang note


def test_the_table_explain_and_check(tmp_path: Path) -> None:
    spec = tmp_path / "fcn.yaml"
    spec.write_text(FCN.replace("500x500x3", "64x64x3"))
    got = CliRunner().invoke(main, ["run", str(spec), "--check", "--explain"])
    assert got.exit_code == 0, got.output
    assert "crop_to(up, input)   offset 19" in got.stdout
    assert "up 128x128x21 cropped to input's 64x64 from offset 19 -> 64x64x21" in got.stdout


def test_a_window_past_the_end_is_an_error_with_the_offset_that_fits() -> None:
    text = FCN.replace("offset: 19", "offset: [19, 300]")
    (f,) = (f for f in resolve(loader.parse(text)).findings if f.layer_name == "score")
    assert (f.severity, f.code, f.line, f.column) == (Severity.ERROR, Code.WINDOW_EXCEEDS_INPUT, 7, 61)
    assert f.message == (
        "score: 300 + 500 > 544: the window of input (500x500x3) from offset 300 leaves up (544x544x21) "
        "on the columns; Caffe refuses it and PyTorch's slice would give 244 columns"
    )
    assert f.fixes == ("offset 44",)


def test_inputs_of_different_ranks_are_a_merge_mismatch() -> None:
    text = "input: 8x8x3\nlayers:\n  - {name: f, type: flatten}\n  - {type: crop_to, from: [input, f]}\n"
    (f,) = resolve(loader.parse(text)).findings
    assert f.code is Code.MERGE_SHAPE_MISMATCH


def test_it_reads_two_inputs(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("input: 8x8x3\nlayers:\n  - {type: conv, filters: 2, size: 1}\n  - {type: crop_to}\n")
    got = CliRunner().invoke(main, ["run", str(spec)])
    assert got.exit_code == 2
    assert "Traceback" not in got.output
    assert len(got.stderr.strip().splitlines()) == 1


@given(
    n=st.integers(1, 40),
    like=st.integers(1, 40),
    offset=st.integers(0, 40),
    channels=st.integers(1, 4),
)
def test_the_shape_is_what_slicing_gives(n: int, like: int, offset: int, channels: int) -> None:
    """Within the input, the output is the slice x[o:o + like]; past it, an error (never a wrong shape)."""
    text = (
        f"input: {n}x{n}x{channels}\nlayers:\n  - {{name: like, type: crop, size: 1, from: input}}\n"
        f"  - {{type: crop_to, from: [input, like], offset: {offset}}}\n"
    )
    if like > n:
        return
    text = text.replace("size: 1", f"size: {like}")
    net = resolve(loader.parse(text))
    out = net.layers[-1].output
    errors = [f for f in net.findings if f.severity is Severity.ERROR]
    if offset + like <= n:
        assert (out.spatial, out.channels, errors) == ((like, like), channels, [])
        assert len(range(n)[offset : offset + like]) == like
    else:
        assert [f.code for f in errors] == [Code.WINDOW_EXCEEDS_INPUT]
        assert errors[0].fixes == (f"offset {n - like}",)


def test_caffe_crop_reads_as_crop_to_at_its_line() -> None:
    text = (Path(__file__).parent / "data" / "caffe" / "fcn32s.prototxt").read_text()
    net = resolve(caffe.parse(text, file="fcn32s.prototxt"))
    last = net.layers[-1]
    assert (last.layer.name, last.layer.kind.value, last.output.spatial) == ("score", "crop_to", (64, 64))
    assert last.layer.where.line == text.splitlines().index('  name: "score"')


def test_caffe_crop_on_another_axis_is_refused_at_its_line() -> None:
    text = (Path(__file__).parent / "data" / "caffe" / "fcn32s.prototxt").read_text()
    bad = text.replace("axis: 2\n    offset: 19", "axis: 1\n    offset: 19")
    with pytest.raises(
        SpecError, match=r"Crop is supported from axis 2 only \(the spatial axes, as FCN crops\)$"
    ) as e:
        caffe.parse(bad, file="f.prototxt")
    assert e.value.line == bad.splitlines().index("    axis: 1") + 1


def test_centre_crops_the_skip_as_the_original_unet_does_at_any_input() -> None:
    """An odd difference removes the odd pixel after, as crop's centre crop. U-Net at a 588 input (572 + 16):
    the encoder gives 584, 288, 140 and 66 (each pool's input even), the bottleneck 29, and each skip is
    centre-cropped to its up-convolution's 58, 108, 208 and 408, so the output is 408 - 4 = 404."""
    text = (
        "input: 12x12x2\nlayers:\n  - {name: up, type: conv, filters: 2, size: 5}\n"
        "  - {name: c, type: crop_to, from: [input, up], offset: centre}\n"
    )
    net = resolve(loader.parse(text))
    c = net.layers[-1]
    assert (c.output.spatial, kinds_of(c.layer).json_fields(c)["offset"]) == ((8, 8), [2, 2])
    odd = resolve(loader.parse(text.replace("12x12x2", "13x13x2")))
    assert kinds_of(odd.layers[-1].layer).json_fields(odd.layers[-1])["offset"] == [2, 2]  # (13 - 9) // 2
    unet = resolve(loader.read(Path(__file__).parent.parent / "specs" / "unet.yaml"), input=(588, 588, 1))
    crops = [r for r in unet.layers if r.layer.kind.value == "crop_to"]
    assert [(r.input.spatial[0], r.output.spatial[0]) for r in crops] == [
        (66, 58),
        (140, 108),
        (288, 208),
        (584, 408),
    ]
    assert unet.output.spatial == (404, 404)


def test_a_centre_crop_to_a_larger_input_is_an_error() -> None:
    text = (
        "input: 8x8x2\nlayers:\n  - {name: big, type: deconv, filters: 2, size: 3}\n"
        "  - {name: c, type: crop_to, from: [input, big], offset: centre}\n"
    )
    (f,) = resolve(loader.parse(text)).findings
    assert (f.code, f.layer_name) == (Code.WINDOW_EXCEEDS_INPUT, "c")
    assert (
        f.message
        == "c: big (10x10x2) is larger than input (8x8x2) on the rows: a centre crop cannot enlarge it"
    )
