"""Issue 13: networks with branches. References by name, conditions, blocks with arguments and repeat,
includes, the tree table, the inference peak, --check on graphs, and every error located."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.errors import SpecError
from convcalc.loader import parse, read
from convcalc.model import Code, Severity
from convcalc.resolver import resolve

ROOT = Path(__file__).resolve().parent.parent
TRUTH = ROOT / "tests" / "data" / "torchvision"


def _readme_resnet18() -> str:
    """The ResNet-18 the README shows, so the README's example is the one tested."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```yaml\n(name: resnet18\n.*?)```", text, re.DOTALL)
    assert found, "the README's ResNet-18 example"
    return found.group(1)


RESNET18 = _readme_resnet18()


def _run(args: list[str], spec: str | None = None, tmp_path: Path | None = None) -> tuple[int, str, str]:
    if spec is not None:
        assert tmp_path is not None
        path = tmp_path / "net.yaml"
        path.write_text(spec, encoding="utf-8")
        args = [args[0], str(path), *args[1:]]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        resolve(parse(text))
    return caught.value.message


# ---------------------------------------------------------------- ResNet-18 against torchvision


def test_resnet18_is_torchvisions() -> None:
    net = resolve(parse(RESNET18))
    truth = json.loads((TRUTH / "resnet18.json").read_text(encoding="utf-8"))
    totals = json.loads((TRUTH / "totals.json").read_text(encoding="utf-8"))["totals"]["resnet18"]
    assert (net.params, net.macs, net.non_trainable) == (totals["params"], totals["macs"], totals["buffers"])
    weighted = [(r.layer.name, r.params) for r in net.layers if r.params]
    assert weighted == [(m["name"], m["params"]) for m in truth["layers"] if m["params"]]
    assert len(net.spec.groups) == 4 + 8  # four stages and their two repetitions each


def test_a_projection_exists_only_where_the_shape_changes() -> None:
    names = [r.layer.name for r in resolve(parse(RESNET18)).layers]
    assert [n for n in names if "downsample.0" in n] == [
        "layer2.0.downsample.0",
        "layer3.0.downsample.0",
        "layer4.0.downsample.0",
    ]


def test_the_add_reads_the_block_input_when_the_projection_is_left_out() -> None:
    net = resolve(parse(RESNET18))
    index = {r.layer.name: r.index for r in net.layers}
    add = next(r for r in net.layers if r.layer.name == "layer1.0.add1")
    assert net.spec.sources(add.index) == (index["layer1.0.bn2"], index["maxpool"])
    add2 = next(r for r in net.layers if r.layer.name == "layer2.0.add1")
    assert net.spec.sources(add2.index) == (index["layer2.0.bn2"], index["layer2.0.downsample.1"])


def test_depth_folds_rows_and_keeps_totals(tmp_path: Path) -> None:
    outputs = {}
    for depth in (0, 1, 2, None):
        args = ["run", "--format", "markdown"] + ([] if depth is None else ["--depth", str(depth)])
        code, out, _ = _run(args, RESNET18, tmp_path)
        assert code == 0
        outputs[depth] = out
    rows = {d: [line for line in o.splitlines() if line.startswith("| ")] for d, o in outputs.items()}
    assert len(rows[0]) < len(rows[1]) < len(rows[2]) == len(rows[None])
    totals = {d: r[-1] for d, r in rows.items()}
    assert len(set(totals.values())) == 1
    assert "11,689,512" in totals[0]
    assert any("layer1" in r and "basic x2" in r and "147,968" in r for r in rows[0])


def test_json_says_what_each_layer_reads_and_lists_the_blocks(tmp_path: Path) -> None:
    code, out, _ = _run(["run", "--format", "json"], RESNET18, tmp_path)
    assert code == 0
    data = json.loads(out)
    reads = {layer["name"]: layer["inputs"] for layer in data["layers"]}
    assert reads["conv1"] == ["input"]
    assert reads["layer2.0.add1"] == ["layer2.0.bn2", "layer2.0.downsample.1"]
    paths = {layer["name"]: layer["path"] for layer in data["layers"]}
    assert paths["layer2.0.downsample.0"] == ["layer2", 0, "downsample.0"]
    assert paths["fc"] == ["fc"]
    stage = next(b for b in data["blocks"] if b["name"] == "layer2")
    assert (stage["block"], stage["depth"], stage["repeat"], stage["params"]) == ("basic", 1, 2, 525_568)
    first = next(b for b in data["blocks"] if b["name"] == "layer2.0")
    assert first["args"] == {"width": 128, "stride": 2}


def test_check_runs_the_graph(tmp_path: Path) -> None:
    spec = (
        "input: 16x16x8\n"
        "layers:\n"
        "  - {type: conv, name: a, filters: 8, size: 3, pad: 1}\n"
        "  - {type: split, name: s, chunks: 2}\n"
        "  - {type: conv, name: b, from: s.1, filters: 4, size: 1}\n"
        "  - {type: concat, name: c, from: [s.0, b]}\n"
        "  - {type: global_pool, name: g}\n"
        "  - {type: mul, name: m, from: [c, g]}\n"
        "  - {type: add, name: r, from: [m, a]}\n"
    )
    code, out, err = _run(["run", "--check", "--format", "json"], spec, tmp_path)
    assert code == 0, err
    data = json.loads(out)
    assert [layer["check"] for layer in data["layers"]] == ["ok"] * 8
    assert [layer["output_shape"] for layer in data["layers"]][-1] == [16, 16, 8]


# ---------------------------------------------------------------- the inference peak


def test_peak_keeps_a_skip_alive() -> None:
    """The input (4x4x2 = 32) is read again by the add, so it lives through both convs."""
    net = resolve(
        parse(
            "input: 4x4x2\nlayers:\n"
            "  - {type: conv, name: a, filters: 8, size: 1}\n"  # 128
            "  - {type: conv, name: b, filters: 2, size: 1}\n"  # 32
            "  - {type: add, from: [b, input]}\n"  # 32
        )
    )
    assert net.live() == [32, 32 + 128, 32 + 128 + 32, 32 + 32 + 32]
    assert net.peak() == (192, 2)


def test_in_place_layers_share_a_buffer_unless_their_input_is_read_later() -> None:
    chain = resolve(parse("input: 4x4x2\nlayers:\n  - {type: conv, filters: 8, size: 1}\n  - {type: act}\n"))
    assert chain.live() == [32, 160, 128]  # the act writes over the conv's output
    kept = resolve(
        parse(
            "input: 4x4x2\nlayers:\n  - {type: conv, name: a, filters: 8, size: 1}\n"
            "  - {type: act, name: r}\n"
            "  - {type: add, from: [r, a]}\n"
        )
    )
    assert kept.live() == [32, 160, 128 + 128, 128 + 128 + 128]


# ---------------------------------------------------------------- blocks: arguments, conditions, nesting


def test_arguments_read_earlier_ones_and_the_input_channels() -> None:
    """MobileNetV2's expansion: hidden = 6 x in_channels; the residual only when the shape is kept."""
    spec = (
        "input: 8x8x16\n"
        "blocks:\n"
        "  inverted:\n"
        "    args: {out: 16, stride: 1, hidden: in_channels * 6}\n"
        "    layers:\n"
        "      - {type: conv, name: expand, filters: hidden, size: 1}\n"
        "      - {type: conv, name: dw, filters: hidden, size: 3, stride: stride, pad: 1, groups: hidden}\n"
        "      - {type: conv, name: project, filters: out, size: 1}\n"
        "      - {type: add, name: res, from: [project, in], if: stride == 1 and in_channels == out}\n"
        "layers:\n"
        "  - {block: inverted, name: b1}\n"
        "  - {block: inverted, name: b2, out: 24, stride: 2}\n"
    )
    net = resolve(parse(spec))
    assert [(r.layer.name, r.output.channels) for r in net.layers] == [
        ("b1.expand", 96),
        ("b1.dw", 96),
        ("b1.project", 16),
        ("b1.res", 16),
        ("b2.expand", 96),
        ("b2.dw", 96),
        ("b2.project", 24),
    ]


def test_repeat_first_and_index() -> None:
    spec = (
        "input: 32x32x3\n"
        "blocks:\n"
        "  stage:\n"
        "    args: {width: 8, stride: 1}\n"
        "    layers:\n"
        "      - {type: conv, filters: width + index, size: 3, stride: stride, pad: 1}\n"
        "layers:\n"
        "  - {block: stage, name: s, repeat: 3, first: {stride: 2}}\n"
    )
    net = resolve(parse(spec))
    assert [(r.layer.name, r.output.dims) for r in net.layers] == [
        ("s.0.conv1", (16, 16, 8)),
        ("s.1.conv1", (16, 16, 9)),
        ("s.2.conv1", (16, 16, 10)),
    ]


def test_nested_blocks_name_their_layers_by_path() -> None:
    spec = (
        "input: 8x8x4\n"
        "blocks:\n"
        "  unit: {args: {k: 4}, layers: [{type: conv, name: c, filters: k, size: 1}, {type: act, name: r}]}\n"
        "  stage:\n"
        "    args: {k: 4}\n"
        "    layers: [{block: unit, name: u, k: k * 2, repeat: 2}]\n"
        "layers:\n"
        "  - {block: stage, name: s, k: 3}\n"
    )
    net = resolve(parse(spec))
    assert [r.layer.name for r in net.layers] == ["s.u.0.c", "s.u.0.r", "s.u.1.c", "s.u.1.r"]
    assert [r.output.channels for r in net.layers] == [6, 6, 6, 6]
    assert [(g.name, g.depth) for g in net.spec.groups] == [("s", 1), ("s.u", 2), ("s.u.0", 3), ("s.u.1", 3)]


def test_a_block_with_two_inputs() -> None:
    """U-Net's decoder step: up-sample x, crop the skip to it, concatenate."""
    spec = (
        "input: 16x16x8\n"
        "blocks:\n"
        "  up:\n"
        "    inputs: [x, skip]\n"
        "    layers:\n"
        "      - {type: deconv, name: up, from: x, filters: 4, size: 2, stride: 2}\n"
        "      - {type: crop, name: crop, from: skip, size: 8}\n"
        "      - {type: concat, from: [crop, up]}\n"
        "layers:\n"
        "  - {type: pool, name: down, size: 4}\n"
        "  - {block: up, name: u, from: [down, input]}\n"
    )
    net = resolve(parse(spec))
    assert net.output.dims == (8, 8, 12)


def test_allow_on_a_block_use_applies_to_its_layers() -> None:
    spec = (
        "input: 9x9x1\n"
        "blocks:\n"
        "  b: {layers: [{type: conv, filters: 1, size: 2, stride: 2}]}\n"
        "layers:\n"
        "  - {block: b, name: quiet, allow: [fractional-size]}\n"
        "  - {block: b, name: loud, from: input}\n"
    )
    net = resolve(parse(spec))
    assert [(f.layer_name, f.code) for f in net.findings if f.severity is Severity.ERROR] == [
        ("loud.conv1", Code.FRACTIONAL_SIZE)
    ]


def test_unused_output_is_a_warning() -> None:
    net = resolve(
        parse(
            "input: 8x8x4\nlayers:\n"
            "  - {type: conv, name: a, filters: 4, size: 3, pad: 1}\n"
            "  - {type: conv, name: lost, filters: 4, size: 3, pad: 1, from: input}\n"
            "  - {type: conv, name: c, filters: 4, size: 1, from: a}\n"
        )
    )
    assert [(f.severity, f.code, f.layer_name) for f in net.findings] == [
        (Severity.WARNING, Code.UNUSED_OUTPUT, "lost")
    ]


def test_a_mismatched_add_is_an_error_with_the_projection() -> None:
    net = resolve(
        parse(
            "input: 56x56x256\nlayers:\n"
            "  - {type: conv, name: main, filters: 512, size: 3, stride: 2, pad: 1}\n"
            "  - {type: add, name: sum, from: [main, input]}\n"
        )
    )
    (found,) = [f for f in net.findings if f.code is Code.MERGE_SHAPE_MISMATCH]
    assert found.severity is Severity.ERROR
    assert "a 1x1 conv, 512 filters, stride 2 on input" in found.fixes


# ---------------------------------------------------------------- errors, each one located line


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "input: 8x8x4\nlayers:\n  - {type: conv, name: conv1, filters: 4, size: 3}\n"
            "  - {type: act, from: conv}\n",
            "'from': unknown layer 'conv' (did you mean 'conv1'?)",
        ),
        (
            "input: 8x8x4\nlayers:\n  - {type: act, from: later}\n  - {type: act, name: later}\n",
            "'from': unknown layer 'later' (a layer may read only layers before it)",
        ),
        (
            "input: 8x8x4\nlayers:\n  - {type: conv, name: a, filters: 4, size: 1}\n"
            "  - {type: conv, filters: 4, size: 1, from: [a, input]}\n",
            "a conv layer reads one input, got 2 in 'from'",
        ),
        (
            "input: 8x8x4\nlayers:\n  - {type: add, from: input}\n",
            "add needs at least 2 inputs, got 1",
        ),
        (
            "input: 8x8x4\nblocks:\n  b: {args: {w: 4}, layers: [{type: conv, filters: w / 2, size: 1}]}\n"
            "layers:\n  - {block: b}\n",
            "filters: 'w / 2': `/` is not allowed: use `//` for integer division",
        ),
        (
            "input: 8x8x4\nblocks:\n  b: {args: {width: 4}, layers: [{type: act}]}\nlayers:\n"
            "  - {block: b, wdth: 2}\n",
            "block 'b' has no argument 'wdth' (did you mean 'width'?)",
        ),
        (
            "input: 8x8x4\nlayers:\n  - {block: missing}\n",
            "unknown block 'missing' (blocks: none is defined)",
        ),
        (
            "input: 8x8x4\nblocks:\n  b: {layers: [{type: act}]}\nlayers:\n  - {block: b, repeat: 0}\n",
            "'repeat' must be at least 1, got 0",
        ),
        (
            "input: 8x8x4\nblocks:\n  a: {layers: [{block: b}]}\n  b: {layers: [{block: a}]}\nlayers:\n"
            "  - {block: a}\n",
            "blocks use each other without end: a -> b -> a",
        ),
        (
            "input: 8x8x4\nblocks:\n  up: {inputs: [x, skip], layers: [{type: concat, from: [x, skip]}]}\n"
            "layers:\n  - {block: up}\n",
            "block 'up' takes 2 inputs (x, skip), got 1",
        ),
        (
            "input: 8x8x4\nlayers:\n  - {type: act, name: a}\n  - {type: act, name: a, from: input}\n",
            "duplicate layer name 'a'",
        ),
        (
            "input: 8x8x4\nlayers:\n  - {type: split, name: s, chunks: 2}\n  - {type: act, from: s}\n",
            "'from': unknown layer 's' (it is a split: read its parts, s.0, s.1)",
        ),
    ],
)
def test_graph_errors(spec: str, message: str) -> None:
    assert message in _error(spec)


def test_an_error_in_the_seventh_repetition_names_it_and_the_definitions_line(tmp_path: Path) -> None:
    spec = (
        "input: 64x64x8\n"
        "blocks:\n"
        "  b:\n"
        "    args: {w: 8}\n"
        "    layers:\n"
        "      - {type: pool, size: 1}\n"
        "      - {type: group_norm, groups: 7 - index}\n"  # line 7: groups 0 in the eighth repetition
        "layers:\n"
        "  - {block: b, name: stage, repeat: 9}\n"
    )
    code, _, err = _run(["run"], spec, tmp_path)
    assert code == 2
    line = err.strip()
    assert len(err.strip().splitlines()) == 1
    assert re.search(r"net\.yaml:7:\d+: error: ", line), line
    assert "(in stage.7: block b, repetition 8 of 9, w=8)" in line, line


def test_include_reads_blocks_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "one.yaml").write_text("include: two.yaml\nblocks:\n  a: {layers: [{block: b}]}\n")
    (tmp_path / "lib" / "two.yaml").write_text(
        "blocks:\n  b: {layers: [{type: conv, filters: 3, size: 1}]}\n"
    )
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 4x4x2\ninclude: lib/one.yaml\nlayers:\n  - {block: a, name: x}\n")
    net = resolve(read(spec))
    assert [r.layer.name for r in net.layers] == ["x.b1.conv1"]


def test_include_cycle_and_errors_in_included_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("include: b.yaml\nblocks: {}\n")
    (tmp_path / "b.yaml").write_text("include: a.yaml\nblocks: {}\n")
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 4x4x2\ninclude: a.yaml\nlayers:\n  - {type: act}\n")
    with pytest.raises(SpecError, match=r"include cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        read(spec)
    (tmp_path / "bad.yaml").write_text("blocks:\n  b: {layers: [{type: conv, filters: 3, sise: 1}]}\n")
    spec.write_text("input: 4x4x2\ninclude: bad.yaml\nlayers:\n  - {block: b}\n")
    code, _, err = _run(["run", str(spec)])
    assert code == 2
    assert err.startswith(f"{tmp_path / 'bad.yaml'}:2:"), err
    assert "unknown key 'sise'" in err


def test_include_needs_a_file() -> None:
    with pytest.raises(SpecError, match="'include' needs a spec read from a file"):
        parse("input: 4x4x2\ninclude: lib.yaml\nlayers:\n  - {type: act}\n")


# ---------------------------------------------------------------- alternatives, words, repetition names


def test_two_alternatives_share_a_name() -> None:
    """One of two layers under one name is kept (MobileNetV3's ReLU or hardswish); a left-out layer
    never takes over a name a kept layer holds."""
    spec = (
        "input: 8x8x4\n"
        "blocks:\n"
        "  b:\n"
        "    args: {hs: false}\n"
        "    layers:\n"
        "      - {type: act, name: a, fn: relu, if: not hs}\n"
        "      - {type: act, name: a, fn: hardswish, if: hs}\n"
        "      - {type: conv, name: c, filters: 2, size: 1, from: a}\n"
        "layers:\n"
        "  - {block: b, name: x}\n"
        "  - {block: b, name: y, hs: true}\n"
        "  - {type: conv, name: k, filters: 8, size: 1}\n"
        "  - {type: act, name: k, if: false}\n"
        "  - {type: conv, filters: 4, size: 1, from: k}\n"
    )
    net = resolve(parse(spec))
    assert [(r.layer.name, kind_cell(r)) for r in net.layers][:4] == [
        ("x.a", "relu"),
        ("x.c", "conv"),
        ("y.a", "hardswish"),
        ("y.c", "conv"),
    ]
    assert net.layers[-1].input.channels == 8  # k is the conv, not the layer left out


def kind_cell(r: object) -> str:
    from convcalc.present import type_cell

    return type_cell(r)  # type: ignore[arg-type]


def test_word_arguments_and_the_enclosing_in_channels() -> None:
    """An argument may be a word (an activation), passed on to nested blocks; in a nested use's
    arguments, in_channels is the enclosing block's input, as every other name there is."""
    spec = (
        "input: 8x8x4\n"
        "blocks:\n"
        "  unit:\n"
        "    args: {fn: relu, width: 4}\n"
        "    layers: [{type: conv, name: c, filters: width, size: 1}, {type: act, name: f, fn: fn}]\n"
        "  mb:\n"
        "    args: {fn: silu}\n"
        "    layers:\n"
        "      - {type: conv, name: widen, filters: 12, size: 1}\n"
        "      - {block: unit, name: u, fn: fn, width: in_channels * 6}\n"
        "layers:\n"
        "  - {block: mb, name: m, fn: hardswish}\n"
    )
    net = resolve(parse(spec))
    assert [(r.layer.name, kind_cell(r), r.output.channels) for r in net.layers] == [
        ("m.widen", "conv", 12),
        ("m.u.c", "conv", 24),  # 6 x the block's 4 input channels, not the 12 the nested use reads
        ("m.u.f", "hardswish", 24),
    ]
    groups = {g.name: dict(g.args) for g in net.spec.groups}
    assert groups["m"] == {"fn": "hardswish"}
    assert groups["m.u"] == {"width": 24, "fn": "hardswish"}


def test_names_pattern_names_the_repetitions() -> None:
    spec = (
        "input: 8x8x4\n"
        "blocks:\n"
        "  d: {layers: [{type: conv, name: conv, filters: 4, size: 1}]}\n"
        "layers:\n"
        "  - {block: d, name: block1, repeat: 3, names: 'layer{index + 1}'}\n"
    )
    net = resolve(parse(spec))
    assert [r.layer.name for r in net.layers] == [
        "block1.layer1.conv",
        "block1.layer2.conv",
        "block1.layer3.conv",
    ]
    assert (net.spec.groups[0].name, net.spec.groups[0].repeat) == ("block1", 3)
    assert "unbalanced braces" in _error(spec.replace("'layer{index + 1}'", "'layer{index'"))


# ---------------------------------------------------------------- peaks of the shipped graphs, by hand


def test_resnet50_peaks_at_its_first_projection() -> None:
    """In layer1.0 the block's output (bn3), the projection (downsample.0) and its batch norm are all
    56x56x256 and alive at once; the 56x56x64 input is freed once the projection has read it."""
    net = resolve(read(ROOT / "specs" / "torchvision" / "resnet50.yaml"))
    elements, at = net.peak()
    assert (elements, net.layers[at - 1].layer.name) == (3 * 56 * 56 * 256, "layer1.0.downsample.1")


def test_unet_peaks_at_its_last_concatenation() -> None:
    """The last skip is a crop, a view of the first block's 568x568x64 output, which stays whole; with
    the up-convolution's 392x392x64 and the concatenation's 392x392x128 that is the peak."""
    net = resolve(read(ROOT / "specs" / "unet.yaml"))
    elements, at = net.peak()
    assert net.layers[at - 1].layer.name.endswith(".cat")
    assert elements == 568 * 568 * 64 + 392 * 392 * 64 + 392 * 392 * 128


def test_expect_on_a_block_use_checks_the_instance(tmp_path: Path) -> None:
    spec = (
        "input: 56x56x64\n"
        "blocks:\n"
        "  b: {args: {w: 64}, layers: [{type: conv, name: c, filters: w, size: 3, pad: 1, bias: false}]}\n"
        "layers:\n"
        "  - {block: b, name: ok, repeat: 2, expect: {output: 56x56x64, params: 73728}}\n"
        "  - {block: b, name: small, w: 32, expect: {params: 18433, output: 56x56x32}}\n"
    )
    code, out, _ = _run(["lint"], spec, tmp_path)
    assert code == 1
    assert out.splitlines()[0] == (
        f"{tmp_path / 'net.yaml'}:6:53: error[expect-mismatch] block small: expected params 18,433 "
        "but it is 18,432"
    )
    assert "block ok" not in out


def test_lint_reports_an_error_found_while_expanding(tmp_path: Path) -> None:
    """An error that shows only once blocks are expanded is an invalid spec for lint too (exit 2, one
    located line), never a traceback."""
    spec = "input: 8x8x4\nlayers:\n  - {type: act, from: nowhere}\n"
    code, out, err = _run(["lint"], spec, tmp_path)
    assert code == 2
    assert "Traceback" not in out + err
    assert f"{tmp_path / 'net.yaml'}:3:23: error[spec-invalid] 'from': unknown layer 'nowhere'" in out


def test_a_unet_at_an_odd_size_gets_the_nearest_inputs_that_fit() -> None:
    """The padded U-Net pools four times: at 250 its skips are 125 and 31 wide where the up-sampled side
    is 124 and 30; the nearest inputs whose every concat agrees are 240 and 256 (multiples of 16)."""
    net = resolve(read(ROOT / "specs" / "unet_padded.yaml"), input=(250, 250, 3))
    merges = [f for f in net.findings if f.code is Code.MERGE_SHAPE_MISMATCH]
    assert merges
    for f in merges:
        assert f.fixes[-2:] == ("--input 240x240x3", "--input 256x256x3")
        assert f.fixes[0].startswith("crop 0 before and 1 after of skip")


def test_googlenet_and_densenet_peaks() -> None:
    """GoogLeNet peaks at its stem (conv1's 112x112x64 and its batch norm); DenseNet-121 inside its first
    dense block's last layer: the block input so far (64 + 5 x 32 = 224 channels at 56x56, kept for the
    concat), its batch norm (the ReLU works in place) and the 1x1 conv's 128 channels."""
    googlenet = resolve(read(ROOT / "specs" / "torchvision" / "googlenet.yaml"))
    elements, at = googlenet.peak()
    assert (elements, googlenet.layers[at - 1].layer.name) == (2 * 112 * 112 * 64, "conv1.bn")
    densenet = resolve(read(ROOT / "specs" / "torchvision" / "densenet121.yaml"))
    elements, at = densenet.peak()
    assert densenet.layers[at - 1].layer.name == "features.denseblock1.denselayer6.conv1"
    assert elements == 2 * 56 * 56 * 224 + 56 * 56 * 128


def test_the_peak_with_and_without_in_place_layers(tmp_path: Path) -> None:
    """VGG-16 at inference holds two 224x224x64 planes at most: with in-place ReLUs, first while conv1_2
    writes beside relu1_1's (= conv1_1's) output; without, already while the ReLU copies conv1_1's."""
    vgg = ROOT / "specs" / "torchvision" / "vgg16.yaml"
    both = {}
    for flag in ((), ("--no-in-place",)):
        code, out, _ = _run(["run", str(vgg), "--format", "json", *flag])
        assert code == 0
        totals = json.loads(out)["totals"]
        both[bool(flag)] = (totals["peak_activations"], totals["peak_at"], totals["peak_in_place"])
    plane = 224 * 224 * 64
    assert both[False] == (2 * plane, "stage1.conv.1.conv", True)
    assert both[True] == (2 * plane, "stage1.conv.0.relu", False)


def test_blocks_nest_past_the_recursion_limit() -> None:
    """2,000 blocks each using the next: expanded with a stack of its own, never a RecursionError."""
    import sys

    depth = sys.getrecursionlimit() * 2
    lines = ["input: 8x8x4", "blocks:"]
    for i in range(depth):
        inner = f"{{block: b{i + 1}}}" if i < depth - 1 else "{type: act, name: deepest}"
        lines.append(f"  b{i}: {{layers: [{inner}]}}")
    lines += ["layers:", "  - {block: b0, name: top}"]
    net = resolve(parse("\n".join(lines) + "\n"))
    assert len(net.layers) == 1
    assert net.layers[0].layer.name.endswith(".deepest")
    assert len(net.spec.groups) == depth


# ---------------------------------------------------------------- name patterns in blocks

PATTERNED = """\
input: 8x8x4
blocks:
  unit:
    args: {at: 0}
    layers:
      - {name: "res{at}{letter(index + 1)}_branch2a", type: conv, filters: 4, size: 1}
      - {name: "res{at}{letter(index + 1)}_relu", type: act}
      - {name: "res{at}{letter(index + 1)}", type: add, from: [in, "res{at}{letter(index + 1)}_relu"]}
layers:
  - {name: res2a, type: conv, filters: 4, size: 3, pad: 1}
  - {name: stage2, block: unit, repeat: 3, at: 2}
  - {name: head, type: global_pool, from: stage2}
"""


def test_a_block_layer_named_by_a_pattern_takes_the_whole_name() -> None:
    """{letter(n)} is the n-th letter from 0; a pattern is the layer's whole name (no stage2.0. before it);
    the block reads its layers by their patterns, and a merge shows the names they made."""
    net = resolve(parse(PATTERNED))
    assert [r.layer.name for r in net.layers] == [
        "res2a",
        *(f"res2{c}{tail}" for c in "bcd" for tail in ("_branch2a", "_relu", "")),
        "head",
    ]
    adds = [r.layer for r in net.layers if r.layer.kind.value == "add"]
    assert [a.sources for a in adds] == [("in", f"res2{c}_relu") for c in "bcd"]  # type: ignore[attr-defined]
    assert net.layers[-1].input.spatial == (8, 8)


def test_a_pattern_that_makes_a_name_twice_is_one_located_error() -> None:
    text = PATTERNED.replace('"res{at}{letter(index + 1)}_relu", type: act', '"res{at}_relu", type: act')
    text = text.replace('from: [in, "res{at}{letter(index + 1)}_relu"]', 'from: [in, "res{at}_relu"]')
    with pytest.raises(
        SpecError, match=r"duplicate layer name 'res2_relu' \(from the pattern 'res\{at\}_relu'\)"
    ):
        resolve(parse(text))


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("x{letter(index + 30)}", "letter() takes 0 to 25 (a to z), got 30"),
        ("x{letter(index)", "unbalanced braces"),
        ("x{nope}", "nope"),
    ],
)
def test_bad_patterns_are_one_located_line(pattern: str, error: str) -> None:
    text = PATTERNED.replace("res{at}{letter(index + 1)}_branch2a", pattern)
    with pytest.raises(SpecError) as caught:
        resolve(parse(text))
    assert error in str(caught.value)
    assert caught.value.line == 6
    assert "\n" not in str(caught.value)


def test_a_plain_name_in_a_block_keeps_its_prefix_and_braces_at_the_top_are_a_name() -> None:
    text = "input: 8x8x4\nlayers:\n  - {name: 'odd{1}', type: act}\n"
    assert resolve(parse(text)).layers[0].layer.name == "odd{1}"
