"""Issue 14, Keras: the config reader (convcalc/readers/keras.py) against Keras's own counts, per-layer
shapes and MACs for keras.applications and two small models (tools/gen_keras_truth.py,
tests/data/keras_truth.json, Keras 3 on the PyTorch backend), hand-written Keras 2 configs, `.keras`
zips, `convert`, located errors, and a fuzz test that a mangled config gives a Spec or a located
SpecError, nothing else."""

from __future__ import annotations

import copy
import json
import os
import re
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc import check
from convcalc.__main__ import main
from convcalc.errors import SpecError
from convcalc.loader import read
from convcalc.model import CheckStatus, Code, Network, Severity
from convcalc.readers.keras import parse
from convcalc.resolver import resolve

DATA = Path(__file__).resolve().parent / "data"
TRUTH = json.loads((DATA / "keras_truth.json").read_text(encoding="utf-8"))["models"]
NAMES = sorted(p.stem for p in (DATA / "keras").glob("*.json"))
PUBLISHED = {
    "resnet50": 25_636_712,
    "vgg16": 138_357_544,
    "mobilenet": 4_253_864,
    "mobilenet_v2": 3_538_984,
    "densenet121": 8_062_504,
    "inception_v3": 23_851_784,
    "xception": 22_910_480,
}


def text_of(name: str) -> str:
    return (DATA / "keras" / f"{name}.json").read_text(encoding="utf-8")


@cache
def net_of(name: str) -> Network:
    return resolve(parse(text_of(name), file=f"{name}.json"))


def keras_outputs(net: Network) -> dict[str, Any]:
    """Each Keras layer's output: its last convcalc layer (`name` or `name.part`)."""
    out: dict[str, Any] = {}
    for r in net.layers:
        out[r.layer.name.split(".", 1)[0]] = r
    return out


def keras_layers(net: Network) -> list[dict[str, Any]]:
    """convcalc's layers as Keras's, in order: the parts of one Keras layer (`name`, `name.part`)
    summed, the output that of the last part, as tools/gen_keras_truth.py records each layer."""
    rows: dict[str, dict[str, Any]] = {}
    for r in net.layers:
        name = r.layer.name.split(".", 1)[0]
        row = rows.setdefault(name, {"name": name, "params": 0, "non_trainable": 0, "macs": 0})
        row["out"] = list(r.output.dims)
        row["params"] += r.params
        row["non_trainable"] += r.non_trainable
        row["macs"] += r.macs
    return list(rows.values())


def test_truth_covers_the_fixtures() -> None:
    assert sorted(TRUTH) == NAMES == sorted([*PUBLISHED, "small_functional", "small_sequential"])


@pytest.mark.parametrize("name", NAMES)
def test_totals_are_keras_own(name: str) -> None:
    net, truth = net_of(name), TRUTH[name]
    assert (net.params, net.non_trainable, net.macs) == (
        truth["params"],
        truth["non_trainable"],
        truth["macs"],
    )
    assert net.params + net.non_trainable == truth["count_params"]
    assert truth["count_params"] == PUBLISHED.get(name, truth["count_params"])
    assert (list(net.input.dims), list(net.output.dims)) == (truth["input"], truth["output"])


@pytest.mark.parametrize("name", NAMES)
def test_every_layer_is_keras_own(name: str) -> None:
    """Layer by layer in Keras's order: output shape, trainable and non-trainable counts, MACs."""
    keys = ("name", "out", "params", "non_trainable", "macs")
    want = [{k: row[k] for k in keys} for row in TRUTH[name]["layers"]]
    got = keras_layers(net_of(name))
    assert [row["name"] for row in got] == [row["name"] for row in want]
    for mine, keras in zip(got, want, strict=True):
        assert mine == keras


@pytest.mark.parametrize(
    ("name", "layer", "macs"),
    [
        ("vgg16", "block1_conv1", 224 * 224 * 64 * 3 * 3 * 3),
        ("vgg16", "fc1", 7 * 7 * 512 * 4096),
        ("mobilenet", "conv_dw_1", 112 * 112 * 32 * 3 * 3),
        ("xception", "block2_sepconv1", 147 * 147 * 64 * 3 * 3 + 147 * 147 * 128 * 64),
        ("small_sequential", "sep", 26 * 26 * 16 * 3 * 3 + 26 * 26 * 16 * 16),
        ("small_sequential", "deconv", 26 * 26 * 16 * 3 * 3 * 4),
        ("small_functional", "causal", 20 * 8 * 5 * 4),
        ("small_functional", "dense_per_step", 10 * 6 * 16),
    ],
)
def test_recorded_macs_by_hand(name: str, layer: str, macs: int) -> None:
    """The record's convention, worked by hand: output elements x window x C_in/groups (a separable
    conv's depthwise part at depth_multiplier 2 in `sep`; a transposed conv by its input elements)."""
    (row,) = [row for row in TRUTH[name]["layers"] if row["name"] == layer]
    assert row["macs"] == macs


@pytest.mark.parametrize("name", NAMES)
def test_check_runs_every_layer(name: str) -> None:
    net = check.checked(net_of(name))
    assert net.checks is not None
    assert {c.status for c in net.checks} == {CheckStatus.OK}


def test_layers_stand_at_their_names() -> None:
    """A compact to_json() is one line: each layer is located at the column of its name."""
    text = text_of("resnet50")
    for r in net_of("resnet50").layers[:12]:
        keras_name = r.layer.name.split(".", 1)[0]
        assert r.layer.where.line == 1
        column = r.layer.where.column
        assert column is not None
        assert re.match(r'"name":\s*' + re.escape(json.dumps(keras_name)), text[column - 1 :]), keras_name


def test_separable_is_depthwise_then_pointwise() -> None:
    layers = {r.layer.name: r for r in net_of("xception").layers}
    depthwise, pointwise = layers["block2_sepconv1.depthwise"], layers["block2_sepconv1"]
    assert (depthwise.params, pointwise.params) == (9 * 64, 64 * 128)
    assert (depthwise.macs, pointwise.macs) == (147 * 147 * 64 * 9, 147 * 147 * 128 * 64)
    assert depthwise.output.dims == (147, 147, 64)
    assert pointwise.output.dims == (147, 147, 128)


def _layer(kind: str, name: str, inbound: list[str] | None, **config: Any) -> dict[str, Any]:
    """A Keras 2 functional layer."""
    item: dict[str, Any] = {"class_name": kind, "name": name, "config": {"name": name, **config}}
    if inbound is not None:
        item["inbound_nodes"] = [[[n, 0, 0, {}] for n in inbound]] if inbound else []
    return item


KERAS2_FUNCTIONAL = {
    "class_name": "Model",
    "config": {
        "name": "small",
        "layers": [
            _layer("InputLayer", "in", [], batch_input_shape=[None, 32, 32, 3]),
            _layer("Conv2D", "c1", ["in"], filters=8, kernel_size=[3, 3], padding="same", activation="relu"),
            _layer(
                "DepthwiseConv2D",
                "dw",
                ["c1"],
                kernel_size=3,
                strides=2,
                padding="same",
                depth_multiplier=2,
                use_bias=False,
            ),
            _layer("BatchNormalization", "bn", ["dw"], axis=-1, scale=False),
            _layer("Conv2D", "p", ["in"], filters=16, kernel_size=1, strides=2),
            _layer("Add", "add", ["bn", "p"]),
            _layer("UpSampling2D", "up", ["add"], size=[2, 2]),
            _layer("Cropping2D", "crop", ["up"], cropping=[[1, 1], [2, 2]]),
            _layer("ZeroPadding2D", "pad", ["crop"], padding=1),
            _layer("Conv2DTranspose", "t", ["pad"], filters=4, kernel_size=3, strides=2, padding="same"),
            _layer("PReLU", "pr", ["t"], shared_axes=[1, 2]),
            _layer("GlobalAveragePooling2D", "gap", ["pr"]),
            _layer("Dense", "fc", ["gap"], units=10, activation="softmax"),
        ],
        "input_layers": [["in", 0, 0]],
        "output_layers": [["fc", 0, 0]],
    },
}
KERAS2_SEQUENTIAL = {
    "class_name": "Sequential",
    "config": {
        "name": "lenet",
        "layers": [
            {
                "class_name": "Conv2D",
                "config": {
                    "name": "conv2d",
                    "batch_input_shape": [None, 28, 28, 1],
                    "filters": 4,
                    "kernel_size": [5, 5],
                    "activation": "relu",
                },
            },
            {"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [2, 2]}},
            {"class_name": "Flatten", "config": {"name": "flatten"}},
            {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.25}},
            {"class_name": "Dense", "config": {"name": "dense", "units": 10}},
        ],
    },
}


def test_keras2_functional_by_hand() -> None:
    """Counts worked by hand: c1 3*9*8+8, dw 9*8*2, bn beta 16 (+32 running), p 3*16+16,
    t 16*4*9+4, pr 4 slopes, fc 4*10+10."""
    net = resolve(parse(json.dumps(KERAS2_FUNCTIONAL, indent=1), file="small.json"))
    assert (net.params, net.non_trainable) == (224 + 144 + 16 + 64 + 580 + 4 + 50, 32)
    # MACs by hand, and what the same model built in Keras 3 records (tools/gen_keras_truth.record):
    # c1 32*32*8 x 27, dw 16*16*16 x 9, p 16*16*16 x 3, t by its 32x30x16 input x 9x4, fc 4 x 10
    assert net.macs == 221_184 + 36_864 + 12_288 + 552_960 + 40 == 823_336
    shapes = {k: r.output.dims for k, r in keras_outputs(net).items()}
    assert shapes == {
        "c1": (32, 32, 8),
        "dw": (16, 16, 16),
        "bn": (16, 16, 16),
        "p": (16, 16, 16),
        "add": (16, 16, 16),
        "up": (32, 32, 16),
        "crop": (30, 28, 16),
        "pad": (32, 30, 16),
        "t": (64, 60, 4),
        "pr": (64, 60, 4),
        "gap": (4,),
        "fc": (10,),
    }
    names = [r.layer.name for r in net.layers]
    assert names[:3] == ["c1", "c1.act", "dw"]
    assert "bn.affine" in names
    assert names[-1] == "fc.act"


def test_keras2_sequential_by_hand() -> None:
    net = resolve(parse(json.dumps(KERAS2_SEQUENTIAL), file="lenet.json"))
    assert (net.params, net.non_trainable) == (4 * 25 + 4 + 576 * 10 + 10, 0)
    assert net.macs == 24 * 24 * 4 * 25 + 576 * 10 == 63_360
    assert [(r.layer.name, r.output.dims) for r in net.layers] == [
        ("conv2d", (24, 24, 4)),
        ("conv2d.act", (24, 24, 4)),
        ("pool", (12, 12, 4)),
        ("flatten", (576,)),
        ("drop", (576,)),
        ("dense", (10,)),
    ]


def test_a_keras_zip_is_read_by_extension(tmp_path: Path) -> None:
    path = tmp_path / "mobilenet.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", '{"keras_version": "3"}')
        archive.writestr("config.json", text_of("mobilenet"))
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + bytes(64))
    net = resolve(read(path))
    assert (net.params, net.non_trainable) == (4_231_976, 21_888)


def test_a_keras_zip_saved_by_keras() -> None:
    """small_sequential.keras is `model.save()` of Keras 3 (config.json beside model.weights.h5)."""
    net = resolve(read(DATA / "keras" / "small_sequential.keras"))
    assert (net.params, net.non_trainable) == (1_146, 32)
    truth = TRUTH["small_sequential"]
    assert (net.params, net.non_trainable, net.macs) == (
        truth["params"],
        truth["non_trainable"],
        truth["macs"],
    )


def test_a_keras_file_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "bad.keras"
    path.write_bytes(b"\x00\x01 not a zip")
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "not a .keras zip" in result.output


@pytest.mark.parametrize("name", NAMES)
def test_convert_round_trips(name: str, tmp_path: Path) -> None:
    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(
        main, ["convert", "--from", "keras", str(DATA / "keras" / f"{name}.json"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    original, converted = net_of(name), resolve(read(out))
    assert (converted.params, converted.non_trainable, converted.macs) == (
        original.params,
        original.non_trainable,
        original.macs,
    )
    assert [(r.layer.name, r.output.dims) for r in converted.layers] == [
        (r.layer.name, r.output.dims) for r in original.layers
    ]


def test_run_with_from_keras_and_a_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(KERAS2_FUNCTIONAL, indent=1)[:500], encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--from", "keras", str(path)])
    assert result.exit_code == 2
    assert re.fullmatch(r"\S*net\.json:\d+:\d+: error: invalid JSON: .*\n", result.output), result.output


def _mutated(path: list[Any], value: Any) -> str:
    data = copy.deepcopy(KERAS2_FUNCTIONAL)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(data, indent=1)


@pytest.mark.parametrize(
    ("path", "value", "line_of", "message"),
    [
        (
            ["config", "layers", 4, "class_name"],
            "Conv4D",
            "p",
            "Conv4D layer 'p': the layer class 'Conv4D' has no",
        ),
        (["config", "layers", 5, "inbound_nodes"], [[["nowhere", 0, 0, {}]]], "add", "reads 'nowhere'"),
        (["config", "layers", 1, "config", "filters"], "8", "c1", "'filters' must be a positive integer"),
        (["config", "layers", 1, "config", "padding"], "full", "c1", "padding 'full' has no convcalc"),
        (["config", "layers", 1, "config", "activation"], "swoosh", "c1", "activation 'swoosh'"),
        (["config", "layers", 10, "config", "shared_axes"], None, "pr", "one slope per channel"),
        (
            ["config", "layers", 0, "config", "batch_input_shape"],
            [None, None, None, 3],
            "in",
            "must be known",
        ),
        (
            ["config", "layers", 2, "inbound_nodes"],
            [[["c1", 0, 0, {}]], [["c1", 0, 0, {}]]],
            "dw",
            "called more than once",
        ),
    ],
)
def test_errors_are_located(path: list[Any], value: Any, line_of: str, message: str) -> None:
    text = _mutated(path, value)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if s.strip() == f'"name": "{line_of}",')
    with pytest.raises(SpecError) as caught:
        parse(text, file="m.json")
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"m.json:{line}:"), str(caught.value)


def test_a_builder_finding_names_the_keras_line() -> None:
    """A conv whose kernel outgrows its input: convcalc's own error, at the Keras layer's line."""
    text = _mutated(["config", "layers", 4, "config", "kernel_size"], 40)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if s.strip() == '"name": "p",')
    found = [f for f in resolve(parse(text, file="m.json")).findings if f.code is Code.NON_POSITIVE_SIZE]
    assert [(f.severity, f.file, f.line, f.layer_name) for f in found] == [
        (Severity.ERROR, "m.json", line, "p")
    ]


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 40)
    | st.sampled_from(["same", "valid", "relu", "in", "c1", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["name", "config"]), inner),
    max_leaves=4,
)


_FUZZED = [
    KERAS2_FUNCTIONAL,
    KERAS2_SEQUENTIAL,
    *(json.loads(text_of(n)) for n in ("small_functional", "small_sequential")),
]


@st.composite
def mangled(draw: st.DrawFn) -> str:
    """A small Keras 2 or 3 config with a few values replaced, keys removed or its text cut."""
    data = copy.deepcopy(draw(st.sampled_from(_FUZZED)))
    layers = data["config"]["layers"]
    for _ in range(draw(st.integers(1, 3))):
        layer = layers[draw(st.integers(0, len(layers) - 1))]
        target = draw(st.sampled_from([layer, layer.get("config", layer)]))
        if not isinstance(target, dict) or not target:
            continue
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            target[key] = draw(_JSON)
        else:
            del target[key]
    text = json.dumps(data, indent=1)
    if draw(st.integers(0, 4)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@settings(
    max_examples=int(os.environ.get("KERAS_FUZZ", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mangled())
def test_fuzz_gives_a_spec_or_a_located_error(text: str) -> None:
    try:
        resolve(parse(text, file="f.json"))
    except SpecError as e:
        message = str(e)
    else:
        return
    assert "\n" not in message
    assert re.match(r"f\.json(:\d+:\d+)?: error: ", message), message


def test_a_json_model_config_is_read_by_its_content(tmp_path: Path) -> None:
    """`.json` says nothing: a text that opens with the model's class is Keras, any other YAML."""
    path = tmp_path / "lenet.json"
    path.write_text(json.dumps(KERAS2_SEQUENTIAL), encoding="utf-8")
    assert resolve(read(path)).params == 5_874
    keras3 = resolve(read(DATA / "keras" / "vgg16.json"))
    assert keras3.params == 138_357_544
    spec = tmp_path / "spec.json"
    spec.write_text('{"input": "8x8x3", "layers": [{"type": "conv", "filters": 2, "size": 3}]}')
    assert resolve(read(spec)).params == 2 * 27 + 2


def test_an_unknown_layer_in_a_compact_config_is_located_by_column() -> None:
    data = json.loads(text_of("vgg16"))
    data["config"]["layers"][3]["class_name"] = "MyCustomConv"
    text = json.dumps(data, separators=(",", ":"))
    column = text.index('"name":"block1_pool"') + 1
    with pytest.raises(SpecError) as caught:
        parse(text, file="v.json")
    assert str(caught.value) == (
        f"v.json:1:{column}: error: MyCustomConv layer 'block1_pool': "
        "the layer class 'MyCustomConv' has no convcalc equivalent"
    )


def test_deep_nesting_is_one_error() -> None:
    text = '{"class_name": "Functional", "config": {"layers": [' + "[" * 50_000 + "]" * 50_000 + "]}}"
    with pytest.raises(SpecError, match="nested too deeply"):
        parse(text, file="d.json")


@pytest.mark.parametrize("name", ["small_functional", "small_sequential"])
def test_check_runs_the_small_models(name: str) -> None:
    net = check.checked(net_of(name))
    assert net.checks is not None
    assert {c.status for c in net.checks} == {CheckStatus.OK}
