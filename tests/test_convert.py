"""Issue 14: `convcalc convert` writes a Caffe, Darknet, Keras or ONNX file as an idiomatic YAML spec that
gives the same numbers, layer for layer, folds exact repeats into blocks where a block keeps the source's
names, and never writes a half-written file."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.__main__ import main
from convcalc.convert import to_yaml
from convcalc.fold import Naming, Run, _layer_pattern, _pattern, runs
from convcalc.loader import read, read_data
from convcalc.resolver import resolve

DATA = Path(__file__).resolve().parent / "data"
SOURCES = sorted([*DATA.glob("caffe/*.prototxt"), *DATA.glob("darknet/*.cfg")])
NO_ONNX = importlib.util.find_spec("onnx") is None
EVERY = sorted([*SOURCES, *DATA.glob("keras/*.json"), *DATA.glob("keras/*.keras")]) + [
    pytest.param(
        p,
        marks=pytest.mark.skipif(
            NO_ONNX, reason="the ONNX reader needs the onnx extra: pip install 'convcalc[onnx]'"
        ),
    )
    for p in sorted(DATA.glob("onnx/*.onnx"))
]
LAYER_FIELDS = (
    "name",
    "type",
    "inputs",
    "input_shape",
    "output_shape",
    "params",
    "non_trainable_params",
    "macs",
)
TOTALS = ("params", "trainable_params", "non_trainable_params", "macs", "activations", "peak_activations")


def numbers(net: dict[str, Any]) -> tuple[Any, ...]:
    """What a converted spec must give as its source does: totals, each layer, the findings."""
    return (
        net["input_shape"],
        net["output_shape"],
        {k: net["totals"][k] for k in TOTALS},
        [{k: layer[k] for k in LAYER_FIELDS} for layer in net["layers"]],
        [(d["code"], d["layer_name"]) for d in net["diagnostics"]],
    )


@pytest.mark.parametrize("flat", [False, True], ids=["folded", "flat"])
@pytest.mark.parametrize("source", EVERY, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_converts_to_the_same_numbers(source: Path, flat: bool, tmp_path: Path) -> None:
    """`convcalc run` on the converted spec gives the JSON numbers `convcalc run` gives on the source."""
    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(out), *(["--flat"] if flat else [])])
    assert result.exit_code == 0, result.output
    assert numbers(convcalc.analyze(out)) == numbers(convcalc.analyze(source))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_convert_round_trips(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    original, converted = resolve(read(source)), resolve(read(out))
    assert (converted.params, converted.non_trainable, converted.macs) == (
        original.params,
        original.non_trainable,
        original.macs,
    )
    assert [(r.layer.name, r.output.dims) for r in converted.layers] == [
        (r.layer.name, r.output.dims) for r in original.layers
    ]
    assert [f.code for f in converted.findings] == [f.code for f in original.findings]
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# Converted by convcalc from {source.name}")
    first = next(line for line in text.splitlines() if line.startswith("  - "))
    assert "from: input" not in first  # a chain needs no from:, the first layer reads the input
    assert f"# {source.name}:" in first


def test_convert_to_standard_output() -> None:
    result = CliRunner().invoke(main, ["convert", str(DATA / "caffe" / "lenet.prototxt")])
    assert result.exit_code == 0
    assert "  - {type: conv, name: conv1, filters: 20, size: 5}  # lenet.prototxt:" in result.stdout


def test_a_bad_source_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cfg"
    bad.write_text("[net]\nheight=8\nwidth=8\nchannels=3\n[convolutional]\nfilters=eight\n")
    out = tmp_path / "net.yaml"
    out.write_text("kept\n")
    result = CliRunner().invoke(main, ["convert", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:6:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.cfg", "net.yaml"]  # no temporary left


def test_convert_refuses_to_overwrite_its_source(tmp_path: Path) -> None:
    source = tmp_path / "lenet.prototxt"
    source.write_text((DATA / "caffe" / "lenet.prototxt").read_text())
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(source)])
    assert result.exit_code == 2
    assert "is the source itself" in result.stderr
    assert source.read_text() == (DATA / "caffe" / "lenet.prototxt").read_text()


def test_convert_output_errors_are_one_line(tmp_path: Path) -> None:
    """A folder or a missing folder as -o: one line naming it, exit 2, nothing written."""
    source = str(DATA / "caffe" / "lenet.prototxt")
    for out in (tmp_path, tmp_path / "missing" / "net.yaml"):
        result = CliRunner().invoke(main, ["convert", source, "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def source_runs(path: Path) -> list[tuple[str, int, int]]:
    """The repeats the structure of a fixture allows, names aside: (first layer, size, repeat)."""
    _, data = read_data(str(path))
    layers = [dict(layer) for layer in data["layers"]]
    return [(layers[r.start]["name"], r.size, r.repeat) for r in runs(layers, keep_names=False)]


def test_darknet53_residual_units_fold_with_name_patterns(runner: CliRunner) -> None:
    """Darknet-53's residual units (conv 1x1, conv 3x3, shortcut: 7 layers with bn and leaky) repeat
    1, 2, 8, 8, 4 times; the single one is no repeat. The reader's names count up by 3 per unit, so each
    block layer's name is a pattern of the index that gives them: {13 + 3 * index}_conv."""
    assert source_runs(DATA / "darknet" / "darknet53.cfg") == [
        ("6_conv", 7, 2),
        ("13_conv", 7, 8),
        ("38_conv", 7, 8),
        ("63_conv", 7, 4),
    ]
    result = runner.invoke(main, ["convert", str(DATA / "darknet" / "darknet53.cfg")])
    assert result.exit_code == 0
    uses = re.findall(r"^  - \{block: (\S+), name: (\S+), repeat: (\d+)\}", result.stdout, re.M)
    assert uses == [
        ("unit_6_conv", "6_conv..11_shortcut", "2"),
        ("unit_13_conv", "13_conv..36_shortcut", "8"),
        ("unit_38_conv", "38_conv..61_shortcut", "8"),
        ("unit_63_conv", "63_conv..74_shortcut", "4"),
    ]
    assert "Repeated" not in result.stdout
    assert (
        "      - {type: add, name: '{15 + 3 * index}_shortcut', from: ['{14 + 3 * index}_leaky', in]}"
        "  # darknet53.cfg:139" in result.stdout
    )
    assert "  - {block: unit_13_conv, name: 13_conv..36_shortcut, repeat: 8}  # darknet53.cfg:123, 143," in (
        result.stdout
    )
    flat = runner.invoke(main, ["convert", "--flat", str(DATA / "darknet" / "darknet53.cfg")])
    assert "block:" not in flat.stdout
    assert len(result.stdout.splitlines()) < len(flat.stdout.splitlines()) - 100


def test_resnet50_bottlenecks_fold_with_letters() -> None:
    """ResNet-50's identity bottlenecks (3 convs, each with BatchNorm and Scale, the Eltwise and its
    ReLU: 13 layers) repeat 2, 3, 5, 2 times after each stage's projecting first unit; Caffe's names
    count b, c, d...: res4{letter(1 + index)}_branch2a."""
    path = DATA / "caffe" / "resnet-50-deploy.prototxt"
    assert source_runs(path) == [
        ("res2b_branch2a", 13, 2),
        ("res3b_branch2a", 13, 3),
        ("res4b_branch2a", 13, 5),
        ("res5b_branch2a", 13, 2),
    ]
    _, data = read_data(str(path))
    found = runs([dict(layer) for layer in data["layers"]])
    assert [(r.repeat, r.naming.use if r.naming else None) for r in found] == [
        (2, "res2b_branch2a..res2c_relu"),
        (3, "res3b_branch2a..res3d_relu"),
        (5, "res4b_branch2a..res4f_relu"),
        (2, "res5b_branch2a..res5c_relu"),
    ]
    assert found[2].naming is not None
    assert found[2].naming.local[:4] == (
        "res4{letter(1 + index)}_branch2a",
        "bn4{letter(1 + index)}_branch2a",
        "scale4{letter(1 + index)}_branch2a",
        "res4{letter(1 + index)}_branch2a_relu",
    )


@pytest.mark.parametrize(
    ("names", "pattern"),
    [
        (["12_conv", "15_conv", "18_conv"], "{12 + 3 * index}_conv"),
        (["res2b_branch2a", "res2c_branch2a"], "res2{letter(1 + index)}_branch2a"),
        (["conv2_block2_1_conv", "conv2_block3_1_conv"], "conv2_block{2 + index}_1_conv"),
        (["/l1/l1.0/Conv", "/l1/l1.1/Conv"], "/l1/l1.{index}/Conv"),
        (["a0", "a2", "a4"], "a{2 * index}"),
        (["ra", "rb"], "r{letter(index)}"),  # a letter run: "ra" is one token
        (["x1", "x3", "x4"], None),  # not a fixed step
        (["x2", "x1"], None),  # counting down
        (["x01", "x02"], None),  # a pattern cannot write the leading zero
        (["x{1}", "x{2}"], None),  # braces would be read as an expression
        (["conv", "conv"], "conv"),  # no count: _patterned refuses it (a source holds no name twice)
        (["x9", "x10"], "x{9 + index}"),
        (["aB", "aC"], None),  # upper case is not counted
    ],
)
def test_layer_patterns(names: list[str], pattern: str | None) -> None:
    assert _layer_pattern(names) == pattern


@pytest.mark.parametrize(
    ("reps", "pattern"),
    [
        (["0", "1", "2"], ""),
        (["denselayer1", "denselayer2", "denselayer3"], "denselayer{index + 1}"),
        (["b0x", "b1x"], "b{index}x"),
        (["s2.u7", "s2.u8"], "s2.u{index + 7}"),
        (["1", "2"], "{index + 1}"),
        (["01", "02"], None),  # a pattern cannot write the leading zero
        (["a1", "a3"], None),
        (["x{1}", "x{2}"], None),  # braces would be read as an expression
        (["b", "c"], None),
    ],
)
def test_repetition_names_a_pattern_can_write(reps: list[str], pattern: str | None) -> None:
    assert _pattern(reps) == pattern


def conv(name: str, **keys: Any) -> dict[str, Any]:
    return {"type": "conv", "name": name, "filters": 4, "size": 3, "pad": 1, **keys}


def unit(k: int) -> list[dict[str, Any]]:
    return [conv(f"u.{k}.a"), {"type": "act", "name": f"u.{k}.b"}]


def same_layers(data: dict[str, Any], text: str) -> None:
    """The spec text gives the layers the data does: names, what each reads, shapes, counts."""
    assert numbers(convcalc.analyze(text)) == numbers(convcalc.analyze(data))


def test_a_run_is_cut_where_a_later_layer_reads_inside_it() -> None:
    """A use's inner layers cannot be read after it, only its last one, by the use's name: `sum` reads
    u.1.b, so u.0 and u.1 fold and u.2 stays a chain; read as `u`, u.1.b keeps its name in the table."""
    layers = [*unit(0), *unit(1), *unit(2), {"type": "add", "name": "sum", "from": ["u.2.b", "u.1.b"]}]
    assert runs(layers) == [Run(0, 2, 2, Naming("u", None, ("a", "b")))]
    data = {"input": "6x6x4", "layers": layers}
    text = to_yaml(data, source="net.cfg")
    assert text.splitlines()[-4:] == [
        "  - {block: u, name: u, repeat: 2}",
        "  - {type: conv, name: u.2.a, filters: 4, size: 3, pad: 1}",
        "  - {type: act, name: u.2.b}",
        "  - {type: add, name: sum, from: [u.2.b, u]}",
    ]
    same_layers(data, text)


def test_a_run_read_inside_by_a_later_layer_is_not_folded() -> None:
    layers = [*unit(0), *unit(1), *unit(2), {"type": "add", "name": "sum", "from": ["u.1.a", "u.2.b"]}]
    assert runs(layers) == []
    assert runs(layers[:-1]) == [Run(0, 2, 3, Naming("u", None, ("a", "b")))]


KEEPS_SHAPE = st.sampled_from(
    [
        {"type": "conv", "filters": 4, "size": 3, "pad": 1},
        {"type": "conv", "filters": 4, "size": 1, "bias": False},
        {"type": "bn"},
        {"type": "act"},
        {"type": "act", "fn": "sigmoid"},
        {"type": "pool", "size": 3, "stride": 1, "pad": 1},
    ]
)


@st.composite
def planted(draw: st.DrawFn) -> tuple[list[dict[str, Any]], Run]:
    """A chain of shape-keeping layers with a run of one unit planted in it, named as a block names it,
    the unit perhaps residual, a layer after it perhaps reading it by name."""
    before = [{**layer, "name": f"x{i}"} for i, layer in enumerate(draw(st.lists(KEEPS_SHAPE, max_size=3)))]
    body = draw(st.lists(KEEPS_SHAPE, min_size=1, max_size=4))
    residual = draw(st.booleans()) or len(body) == 1
    skip, order = draw(st.sampled_from(["in", "l0"])), draw(st.sampled_from([1, -1]))  # what the add reads
    local = [f"l{p}" for p in range(len(body))] + (["add"] if residual else [])
    repeat = draw(st.integers(2, 4))
    use = draw(st.sampled_from(["layer1", "stage.2", "features"]))
    names = draw(st.sampled_from([None, "block{index + 1}", "u{index}"]))
    reps = [
        str(k) if names is None else names.replace("{index + 1}", str(k + 1)).replace("{index}", str(k))
        for k in range(repeat)
    ]
    layers = list(before)
    for k in range(repeat):
        entry = layers[-1]["name"] if layers else "input"
        prefix = f"{use}.{reps[k]}."
        layers += [{**layer, "name": prefix + local[p]} for p, layer in enumerate(body)]
        if residual:
            reads = [layers[-1]["name"], entry if skip == "in" else prefix + "l0"]
            layers.append({"type": "add", "name": prefix + "add", "from": reads[::order]})
    last = layers[-1]["name"]
    after = [{**layer, "name": f"y{i}"} for i, layer in enumerate(draw(st.lists(KEEPS_SHAPE, max_size=3)))]
    layers += after
    if after and draw(st.booleans()):
        layers.append({"type": "add", "name": "z", "from": [layers[-1]["name"], last]})
    return layers, Run(len(before), len(local), repeat, Naming(use, names, tuple(local)))


@settings(max_examples=150, deadline=None)
@given(planted())
def test_folding_then_expanding_gives_the_same_layers(case: tuple[list[dict[str, Any]], Run]) -> None:
    """The planted run, and only it, is folded, and the spec expands to the source's layers."""
    layers, run = case
    assert runs(layers) == [run]
    data = {"input": "6x6x4", "layers": layers}
    text = to_yaml(data, source="net.cfg")
    uses = [line for line in text.splitlines() if line.startswith("  - {block: ")]
    assert len(uses) == 1, text
    assert f"repeat: {run.repeat}" in uses[0]
    assert len(re.findall(r"^      - ", text, re.M)) == run.size
    same_layers(data, text)
    assert "block:" not in to_yaml(data, source="net.cfg", flat=True)


README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)


def test_readme_folding_example_is_real(runner: CliRunner, tmp_path: Path) -> None:
    """The README's flat spec with PyTorch's names converts to exactly the folded spec it shows."""
    source = next(b for b in YAML_BLOCKS if b.startswith("name: tiny\n"))
    shown = next(b for b in YAML_BLOCKS if b.startswith("# Converted by convcalc from tiny.yaml"))
    (tmp_path / "tiny.yaml").write_text(source, encoding="utf-8")
    result = runner.invoke(main, ["convert", str(tmp_path / "tiny.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout == shown
    assert numbers(convcalc.analyze(shown)) == numbers(convcalc.analyze(source))
    flat = runner.invoke(main, ["convert", "--flat", str(tmp_path / "tiny.yaml")])
    assert [line for line in flat.stdout.splitlines() if line.startswith("  - ")] == [
        f"{line}  # tiny.yaml:{n}" for n, line in enumerate(source.splitlines(), 1) if line.startswith("  - ")
    ]


def test_readme_shows_darknet53_folded(runner: CliRunner) -> None:
    shown = next(b for b in YAML_BLOCKS if b.startswith("  unit_6_conv:"))
    result = runner.invoke(main, ["convert", str(DATA / "darknet" / "darknet53.cfg")])
    assert shown in result.stdout
    use = "{block: unit_13_conv, name: 13_conv..36_shortcut, repeat: 8}"
    assert f"`- {use}`" in README
    assert f"  - {use}  #" in result.stdout


def test_two_runs_fold_into_two_blocks_read_by_their_use_names() -> None:
    """Each run gets a block named after its use (made an identifier); a layer reading a run's output
    names the use, and a counting pattern keeps torchvision-like names such as head.block1."""
    layers = [conv("stem")]
    for k in range(3):
        p, entry = f"stage.1.{k}.", "stem" if k == 0 else f"stage.1.{k - 1}.relu"
        layers += [conv(p + "conv"), {"type": "add", "name": p + "add", "from": [entry, p + "conv"]}]
        layers += [{"type": "act", "name": p + "relu"}]
    for k in range(2):
        layers += [
            conv(f"head.block{k + 1}.c", size=1, pad=0),
            {"type": "act", "name": f"head.block{k + 1}.a"},
        ]
    layers.append({"type": "add", "name": "final", "from": ["head.block2.a", "stage.1.2.relu"]})
    data = {"input": "6x6x4", "layers": layers}
    text = to_yaml(data, source="net.cfg")
    assert text.splitlines()[2:] == [
        "# A block's layers give the lines of its first repetition; a use, where each one starts.",
        "blocks:",
        "  stage_1:",
        "    layers:",
        "      - {type: conv, name: conv, filters: 4, size: 3, pad: 1}",
        "      - {type: add, name: add, from: [in, conv]}",
        "      - {type: act, name: relu}",
        "  head:",
        "    layers:",
        "      - {type: conv, name: c, filters: 4, size: 1}",
        "      - {type: act, name: a}",
        "layers:",
        "  - {type: conv, name: stem, filters: 4, size: 3, pad: 1}",
        "  - {block: stage_1, name: stage.1, repeat: 3}",
        "  - {block: head, name: head, repeat: 2, names: 'block{index + 1}'}",
        "  - {type: add, name: final, from: [head, stage.1]}",
    ]
    same_layers(data, text)


class Noted(list[dict[str, Any]]):
    """Layers as the ONNX reader gives them: no lines, a note per layer name."""

    notes: dict[str, str]


def test_a_use_without_source_lines_carries_its_first_layers_note() -> None:
    layers = Noted([*unit(0), *unit(1)])
    layers.notes = {layer["name"]: f"node {i} {layer['name']!r}" for i, layer in enumerate(layers)}
    text = to_yaml({"input": "6x6x4", "layers": layers}, source="m.onnx")
    assert "      - {type: conv, name: a, filters: 4, size: 3, pad: 1}  # m.onnx: node 0 'u.0.a'" in text
    assert "      - {type: act, name: b}  # m.onnx: node 1 'u.0.b'" in text
    assert text.endswith("layers:\n  - {block: u, name: u, repeat: 2}  # m.onnx: node 0 'u.0.a'\n")


@pytest.mark.parametrize("use", ["in", "input", "stem"])
def test_a_use_never_takes_a_name_the_spec_holds(use: str) -> None:
    """`in` and `input` name the block's and the network's inputs, `stem` a layer: no use takes them,
    so those runs fold by name patterns instead (the whole name, no use before it)."""
    layers = [
        conv("stem"),
        *[{**layer, "name": use + layer["name"][1:]} for k in (0, 1) for layer in unit(k)],
    ]
    assert runs(layers) == [
        Run(1, 2, 2, Naming(f"{use}.0.a..{use}.1.b", None, (f"{use}.{{index}}.a", f"{use}.{{index}}.b")))
    ]
    assert runs(
        layers[:1] + [{**layer, "name": "v" + layer["name"][len(use) :]} for layer in layers[1:]]
    ) == [Run(1, 2, 2, Naming("v", None, ("a", "b")))]


def test_keras_resnet50_folds_and_a_compact_config_gives_its_one_line_once(runner: CliRunner) -> None:
    """Keras's ResNet50 identity blocks (10 layers) repeat 2, 3, 5, 2 times, named by patterns such as
    conv2_block{2 + index}_1_conv; its JSON holds every layer on line 1, so a use names that line once."""
    result = runner.invoke(main, ["convert", str(DATA / "keras" / "resnet50.json")])
    assert result.exit_code == 0
    uses = re.findall(r"^  - \{block: \S+, name: \S+, repeat: (\d+)\}(.*)$", result.stdout, re.M)
    assert uses == [(n, "  # resnet50.json:1") for n in ("2", "3", "5", "2")]
    assert (
        "      - {type: conv, name: 'conv4_block{2 + index}_1_conv', filters: 256, size: 1}" in result.stdout
    )


@pytest.mark.parametrize("key", ["blocks", "include"])
def test_a_spec_with_blocks_or_includes_is_refused_with_its_line(key: str, tmp_path: Path) -> None:
    src = tmp_path / "s.yaml"
    value = "{b: {layers: [{type: act}]}}" if key == "blocks" else "[other.yaml]"
    src.write_text(f"input: 8x8x3\n{key}: {value}\nlayers:\n  - {{type: act}}\n")
    result = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "out.yaml")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{src}:2:")
    assert f"a spec with '{key}' is a spec already" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.yaml").exists()


def test_the_header_says_lines_or_nodes() -> None:
    caffe = CliRunner().invoke(main, ["convert", str(DATA / "caffe" / "lenet.prototxt")])
    assert caffe.stdout.startswith(
        "# Converted by convcalc from lenet.prototxt; every layer's comment is its line"
    )
    if importlib.util.find_spec("onnx") is None:
        return
    onnx = CliRunner().invoke(main, ["convert", str(DATA / "onnx" / "tiny_resnet.onnx")])
    assert onnx.stdout.startswith(
        "# Converted by convcalc from tiny_resnet.onnx; every layer's comment is its node"
    )
