"""The ONNX reader: models built with onnx.helper (numbers worked out by hand below) and small PyTorch
exports (tests/data/onnx, truth recorded by tools/gen_onnx_fixtures.py)."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip(
    "onnx", reason="the ONNX reader needs the onnx extra: pip install 'convcalc[onnx]'"
)
from onnx import TensorProto, helper  # noqa: E402

from convcalc.__main__ import main  # noqa: E402
from convcalc.errors import SpecError  # noqa: E402
from convcalc.loader import read  # noqa: E402
from convcalc.model import Network  # noqa: E402
from convcalc.readers import READERS  # noqa: E402
from convcalc.readers.onnx import parse, to_data  # noqa: E402
from convcalc.resolver import resolve  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def weight(name: str, *dims: int) -> Any:
    return helper.make_tensor(name, TensorProto.FLOAT, dims, bytes(4 * math.prod(dims)), raw=True)


def model(
    nodes: list[Any], inits: list[Any], shape: list[int], out: str = "y", opset: int = 17, check: bool = True
) -> Any:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if check:  # onnx's own checker and strict shape inference accept the model
        onnx.checker.check_model(onnx.shape_inference.infer_shapes(m), full_check=True)
    return m


def save(m: Any, tmp_path: Path, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    onnx.save(m, str(path))
    return path


def net_of(m: Any, tmp_path: Path) -> Network:
    return resolve(read(save(m, tmp_path)))


def chw(dims: tuple[int, ...]) -> tuple[int, ...]:
    """A resolved shape (channels last inside convcalc) as ONNX writes it, without the batch."""
    return dims if len(dims) < 2 else (dims[-1], *dims[:-1])


def shapes(net: Network) -> dict[str, tuple[int, ...]]:
    return {r.layer.name: chw(tuple(r.output.dims)) for r in net.layers}


def lenet() -> Any:
    n = helper.make_node
    return model(
        [
            n("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[5, 5]),
            n("Relu", ["c1"], ["r1"], name="relu1"),
            n("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
            n("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[5, 5]),
            n("Relu", ["c2"], ["r2"], name="relu2"),
            n("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
            n("Flatten", ["p2"], ["f"], name="flatten"),
            n("Gemm", ["f", "w3", "b3"], ["g1"], name="fc1", transB=1),
            n("Relu", ["g1"], ["r3"], name="relu3"),
            n("Gemm", ["r3", "w4", "b4"], ["y"], name="fc2", transB=1),
        ],
        [
            weight("w1", 6, 1, 5, 5),
            weight("b1", 6),
            weight("w2", 16, 6, 5, 5),
            weight("b2", 16),
            weight("w3", 120, 256),
            weight("b3", 120),
            weight("w4", 10, 120),
            weight("b4", 10),
        ],
        [1, 1, 28, 28],
    )


def test_onnx_is_read_by_extension() -> None:
    assert READERS[".onnx"] == "onnx"


def test_lenet(tmp_path: Path) -> None:
    """conv1 6x(25+1) = 156, 24x24x150 MACs; conv2 16x(150+1) = 2,416, 8x8x2,400;
    fc 256x120+120 and 120x10+10."""
    net = net_of(lenet(), tmp_path)
    assert net.params == 156 + 2_416 + 30_840 + 1_210
    assert net.macs == 24 * 24 * 150 + 8 * 8 * 2_400 + 256 * 120 + 120 * 10
    assert net.non_trainable == 0
    got = shapes(net)
    assert [r.layer.name for r in net.layers] == [
        "conv1",
        "relu1",
        "pool1",
        "conv2",
        "relu2",
        "pool2",
        "flatten",
        "fc1",
        "relu3",
        "fc2",
    ]
    assert (got["pool1"], got["pool2"], got["fc2"]) == ((6, 12, 12), (16, 4, 4), (10,))


def test_residual_block(tmp_path: Path) -> None:
    """Two 3x3 convs 16->16 without bias (2,304 each, 64 x 2,304 MACs), two BNs (2C + 2C running), Add."""
    n = helper.make_node
    m = model(
        [
            n("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            n("BatchNormalization", ["c1", "s1", "o1", "m1", "v1"], ["b1"], name="bn1"),
            n("Relu", ["b1"], ["r1"], name="relu1"),
            n("Conv", ["r1", "w2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            n("BatchNormalization", ["c2", "s2", "o2", "m2", "v2"], ["b2"], name="bn2"),
            n("Add", ["b2", "x"], ["a"], name="add"),
            n("Relu", ["a"], ["y"], name="relu2"),
        ],
        [weight("w1", 16, 16, 3, 3), weight("w2", 16, 16, 3, 3)]
        + [weight(f"{k}{i}", 16) for i in (1, 2) for k in "somv"],
        [1, 16, 8, 8],
    )
    net = net_of(m, tmp_path)
    assert (net.params, net.non_trainable, net.macs) == (2 * 2_304 + 2 * 32, 2 * 32, 2 * 64 * 2_304)
    assert chw(tuple(net.output.dims)) == (16, 8, 8)
    add = next(r for r in net.layers if r.layer.name == "add")
    assert add.layer.kind.value == "add"


def test_concat_branch(tmp_path: Path) -> None:
    """A 1x1 conv 3->8 (32 params, 256 x 24 MACs) and a 3x3 conv 3->4 (112, 256 x 108) side by side."""
    n = helper.make_node
    m = model(
        [
            n("Conv", ["x", "wa", "ba"], ["a"], name="a", kernel_shape=[1, 1]),
            n("Conv", ["x", "wb", "bb"], ["b"], name="b", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            n("Concat", ["a", "b"], ["c"], name="cat", axis=1),
            n("GlobalAveragePool", ["c"], ["g"], name="gap"),
            n("Flatten", ["g"], ["y"], name="flat"),
        ],
        [weight("wa", 8, 3, 1, 1), weight("ba", 8), weight("wb", 4, 3, 3, 3), weight("bb", 4)],
        [1, 3, 16, 16],
    )
    net = net_of(m, tmp_path)
    assert (net.params, net.macs) == (32 + 112, 256 * 24 + 256 * 108)
    got = shapes(net)
    assert got["cat"] == (12, 16, 16)
    assert got["flat"] == (12,)


def test_gemm_head(tmp_path: Path) -> None:
    """MatMul by a 32x16 weight plus a constant Add is one fc with bias; Gemm without transB: B is K x N."""
    n = helper.make_node
    m = model(
        [
            n("MatMul", ["x", "w1"], ["mm"], name="mm"),
            n("Add", ["mm", "b1"], ["h"], name="bias"),
            n("Relu", ["h"], ["r"], name="relu"),
            n("Gemm", ["r", "w2", "b2"], ["g"], name="fc2"),
            n("Softmax", ["g"], ["y"], name="softmax", axis=1),
        ],
        [weight("w1", 32, 16), weight("b1", 16), weight("w2", 16, 4), weight("b2", 4)],
        [1, 32],
    )
    net = net_of(m, tmp_path)
    assert [r.layer.name for r in net.layers] == ["mm", "relu", "fc2", "softmax"]
    assert (net.params, net.macs) == (32 * 16 + 16 + 16 * 4 + 4, 32 * 16 + 16 * 4)
    assert chw(tuple(net.output.dims)) == (4,)


def test_uneven_pads_clip_avgpool_deconv(tmp_path: Path) -> None:
    """pads [0, 0, 1, 1]: 7 + 1 -> (8 - 3) // 2 + 1 = 3; Clip(0, 6) is relu6; a 2x2 avg pool, stride 1:
    2x2; a stride-2 ConvTranspose 8->4, k2: 4x4, 8x4x4 + 4 = 132 params, 2x2x8x4x4 = 512 MACs."""
    n = helper.make_node
    m = model(
        [
            n(
                "Conv",
                ["x", "w1"],
                ["c"],
                name="conv",
                kernel_shape=[3, 3],
                strides=[2, 2],
                pads=[0, 0, 1, 1],
            ),
            n("Clip", ["c", "lo", "hi"], ["r"], name="relu6"),
            n("AveragePool", ["r"], ["p"], name="pool", kernel_shape=[2, 2]),
            n("ConvTranspose", ["p", "w2", "b2"], ["y"], name="up", kernel_shape=[2, 2], strides=[2, 2]),
        ],
        [
            weight("w1", 8, 4, 3, 3),
            helper.make_tensor("lo", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("hi", TensorProto.FLOAT, [], [6.0]),
            weight("w2", 8, 4, 2, 2),
            weight("b2", 4),
        ],
        [1, 4, 7, 7],
    )
    net = net_of(m, tmp_path)
    got = shapes(net)
    assert (got["conv"], got["pool"], got["up"]) == ((8, 3, 3), (8, 2, 2), (4, 4, 4))
    layers = {r.layer.name: r for r in net.layers}
    assert layers["relu6"].layer.fn.value == "relu6"  # type: ignore[union-attr]
    assert layers["pool"].layer.count_pad is False  # type: ignore[union-attr]
    assert (net.params, net.macs) == (288 + 132, 9 * 288 + 512)


def lines(result: Any) -> list[str]:
    assert "Traceback" not in result.output
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_unknown_op_is_one_line(tmp_path: Path, runner: CliRunner) -> None:
    n = helper.make_node
    m = model(
        [
            n("Relu", ["x"], ["r"], name="relu"),
            n("Einsum", ["r", "r"], ["y"], name="odd", equation="ij,ij->ij"),
        ],
        [],
        [1, 4],
    )
    path = save(m, tmp_path)
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert lines(result) == [
        f"{path}: error: node 1 'odd' (Einsum): ONNX op Einsum has no convcalc equivalent"
    ]


@pytest.mark.parametrize("cut", [None, 40, 400])
def test_not_protobuf_or_truncated(cut: int | None, tmp_path: Path, runner: CliRunner) -> None:
    data = lenet().SerializeToString()
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\xff\xfe not a model at all\x00" * 3 if cut is None else data[:cut])
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    got = lines(result)
    assert len(got) == 1, got
    assert got[0].startswith(f"{path}: error: not a valid ONNX model")


def test_a_graph_read_out_of_order(tmp_path: Path) -> None:
    """A node reading a tensor no earlier node gives (a cycle, or unsorted): one error naming it."""
    n = helper.make_node
    graph = helper.make_graph(
        [n("Relu", ["b"], ["a"], name="first"), n("Relu", ["a"], ["b"], name="second")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, None)],
    )
    path = save(helper.make_model(graph), tmp_path)
    with pytest.raises(SpecError, match=r"node 0 'first' \(Relu\): reads 'b', which no earlier node gives"):
        read(path)


def test_without_the_extra(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(lenet(), tmp_path)
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert lines(result) == [
        f"{path}: error: reading ONNX needs the onnx package: pip install 'convcalc[onnx]'"
    ]


def test_from_onnx_reads_any_name(tmp_path: Path, runner: CliRunner) -> None:
    path = save(lenet(), tmp_path, "model.bin")
    result = runner.invoke(main, ["run", "--from", "onnx", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["params"] == 34_622


def test_external_weights_are_not_loaded(tmp_path: Path) -> None:
    """Weights saved outside the model: only their shapes are read, and the data file need not exist."""
    m = lenet()
    path = tmp_path / "ext.onnx"
    onnx.save(
        m,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="w.bin",
        size_threshold=0,
    )
    (tmp_path / "w.bin").unlink()
    assert resolve(read(path)).params == 34_622


TRUTH_FILE = DATA / "onnx_truth.json"
TRUTH: dict[str, Any] = json.loads(TRUTH_FILE.read_text()) if TRUTH_FILE.exists() else {}


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_pytorch_exports(name: str) -> None:
    """Each exported model's params, non-trainable values, MACs and output shape, as PyTorch counts."""
    truth = TRUTH[name]
    net = resolve(read(DATA / "onnx" / f"{name}.onnx"))
    assert (net.params, net.non_trainable, net.macs) == (
        truth["params"],
        truth["non_trainable"],
        truth["macs"],
    )
    assert list(chw(tuple(net.output.dims))) == truth["output"]


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_pytorch_exports_layer_by_layer(name: str) -> None:
    """Every layer's output shape is the shape its ONNX tensor has when the file runs (the tool runs
    it with onnx's reference evaluator); every layer but a reduction's inner pool gives a tensor."""
    path = DATA / "onnx" / f"{name}.onnx"
    tensors = to_data(str(path))["layers"].tensors
    got, truth = shapes(resolve(read(path))), TRUTH[name]["shapes"]
    assert {layer: got[layer] for layer in tensors} == {
        layer: tuple(truth[tensor]) for layer, tensor in tensors.items()
    }
    assert len(tensors) >= len(got) - 1


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_check_passes_on_exports(name: str, runner: CliRunner) -> None:
    """--check runs every layer's kernel on the shapes read from the file."""
    result = runner.invoke(main, ["run", "--check", str(DATA / "onnx" / f"{name}.onnx")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["tiny_branches", "tiny_shuffle"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_mutated_exports_give_a_spec_or_one_error(name: str, data: st.DataObject) -> None:
    """Random byte flips, cuts and insertions in a real export (tiny_shuffle: Shape arithmetic that is
    folded): a Spec or a SpecError, nothing else."""
    raw = bytearray((DATA / "onnx" / f"{name}.onnx").read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at:]
            if not raw:
                raw = bytearray(b"\x00")
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    message = ""
    try:
        resolve(parse(bytes(raw), file="m.onnx"))
    except SpecError as e:
        message = e.message
    assert "\n" not in message


def test_the_library_reads_a_path_not_text(tmp_path: Path) -> None:
    import convcalc

    assert convcalc.analyze(str(save(lenet(), tmp_path)))["totals"]["params"] == 34_622
    with pytest.raises(SpecError, match="onnx is a binary format: give the model's path, not text"):
        convcalc.analyze("input: 3x4x4\nlayers: []", reader="onnx")


def test_auto_pad_and_negative_axes(tmp_path: Path) -> None:
    """SAME_UPPER is convcalc's `same` (ceil(7/2) = 4); VALID floors 7 to 3, pads 1 and 2 give it 4 back;
    Concat axis -3 of a 4-D tensor is the channels."""
    n = helper.make_node
    m = model(
        [
            n(
                "Conv",
                ["x", "w"],
                ["a"],
                name="same",
                kernel_shape=[3, 3],
                strides=[2, 2],
                auto_pad="SAME_UPPER",
            ),
            n("MaxPool", ["x"], ["b"], name="valid", kernel_shape=[2, 2], strides=[2, 2], auto_pad="VALID"),
            n("Conv", ["b", "w"], ["c"], name="c", kernel_shape=[3, 3], pads=[1, 1, 2, 2]),
            n("Concat", ["a", "c"], ["y"], name="cat", axis=-3),
        ],
        [weight("w", 4, 2, 3, 3)],
        [1, 2, 7, 7],
    )
    got = shapes(net_of(m, tmp_path))
    assert (got["same"], got["valid"], got["c"], got["cat"]) == ((4, 4, 4), (2, 3, 3), (4, 4, 4), (8, 4, 4))


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (
            helper.make_node("Softmax", ["x"], ["y"], name="sm"),
            "node 0 'sm' (Softmax): softmax over axis -1: only the channels (axis 1) are read",
        ),
        (
            helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[0, 2, 3, 1]),
            "node 0 't' (Transpose): Transpose [0, 2, 3, 1] is read only inside a channel shuffle",
        ),
        (
            helper.make_node("Flatten", ["x"], ["y"], name="f", axis=2),
            "node 0 'f' (Flatten): flatten from axis 2: only axis 1 is read",
        ),
    ],
)
def test_what_is_not_read_is_named(node: Any, message: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        read(save(model([node], [], [1, 2, 4, 4]), tmp_path))


def test_reshape_by_a_constant_shape(tmp_path: Path) -> None:
    """x.view(N, -1) is a flatten; an fc to 64 then view(N, 4, 4, 4) feeds a deconv (a GAN's start)."""
    n = helper.make_node

    def shape(name: str, *values: int) -> Any:
        return helper.make_tensor(name, TensorProto.INT64, [len(values)], list(values))

    m = model(
        [
            n("Reshape", ["x", "s1"], ["f"], name="view"),
            n("Gemm", ["f", "w", "b"], ["g"], name="fc", transB=1),
            n("Reshape", ["g", "s2"], ["r"], name="unview"),
            n("ConvTranspose", ["r", "wt"], ["y"], name="up", kernel_shape=[2, 2], strides=[2, 2]),
        ],
        [
            shape("s1", 1, -1),
            weight("w", 64, 12),
            weight("b", 64),
            shape("s2", 0, 4, 4, 4),
            weight("wt", 4, 2, 2, 2),
        ],
        [1, 3, 2, 2],
    )
    net = net_of(m, tmp_path)
    layers = {r.layer.name: r for r in net.layers}
    assert layers["view"].layer.kind.value == "flatten"
    got = shapes(net)
    assert (got["view"], got["unview"], got["up"]) == ((12,), (4, 4, 4), (2, 8, 8))
    assert net.params == 12 * 64 + 64 + 4 * 2 * 2 * 2


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_convert_round_trips(name: str, tmp_path: Path, runner: CliRunner) -> None:
    """`convert` writes a YAML spec that gives the recorded numbers again."""
    out = tmp_path / f"{name}.yaml"
    result = runner.invoke(main, ["convert", str(DATA / "onnx" / f"{name}.onnx"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "layout: chw" in out.read_text()
    net, truth = resolve(read(out)), TRUTH[name]
    assert (net.params, net.non_trainable, net.macs) == (
        truth["params"],
        truth["non_trainable"],
        truth["macs"],
    )


def ints(name: str, *values: int) -> Any:
    """A constant INT64 vector (a shape, axes, pads, starts)."""
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], list(values))


def floats(name: str, *values: float) -> Any:
    """A constant FLOAT vector (scales) or, given one value, a scalar."""
    dims = [] if len(values) == 1 else [len(values)]
    return helper.make_tensor(name, TensorProto.FLOAT, dims, list(values))


def layers_of(m: Any, tmp_path: Path) -> dict[str, Any]:
    """Each layer of the spec read from the model, by name, as the reader wrote it."""
    return {layer["name"]: dict(layer) for layer in to_data(str(save(m, tmp_path)))["layers"]}


def test_channel_shuffle_with_constant_shapes(tmp_path: Path) -> None:
    """8 x 5 x 5 viewed as 2 x 4 x 5 x 5, axes 1 and 2 swapped, viewed back: one channel_shuffle, 2 groups."""
    n = helper.make_node
    m = model(
        [
            n("Reshape", ["x", "s5"], ["a"], name="view"),
            n("Transpose", ["a"], ["b"], name="shuffle", perm=[0, 2, 1, 3, 4]),
            n("Reshape", ["b", "s4"], ["c"], name="back"),
            n("Relu", ["c"], ["y"], name="relu"),
        ],
        [ints("s5", 1, 2, 4, 5, 5), ints("s4", 1, -1, 5, 5)],
        [1, 8, 5, 5],
    )
    got = layers_of(m, tmp_path)
    assert got["shuffle"] == {"type": "channel_shuffle", "name": "shuffle", "groups": 2, "from": "input"}
    assert list(got) == ["shuffle", "relu"]
    assert shapes(net_of(m, tmp_path))["relu"] == (8, 5, 5)


def shape_chain(prefix: str, source: str, tail: list[str]) -> list[Any]:
    """PyTorch's `x.view(x.size(0), *tail)`: Shape -> Gather(0) -> Unsqueeze -> Concat with constants."""
    n = helper.make_node
    return [
        n("Shape", [source], [f"{prefix}_shape"], name=f"{prefix}_Shape"),
        n("Gather", [f"{prefix}_shape", "zero"], [f"{prefix}_n"], name=f"{prefix}_Gather", axis=0),
        n("Unsqueeze", [f"{prefix}_n", "axis0"], [f"{prefix}_n1"], name=f"{prefix}_Unsqueeze"),
        n("Concat", [f"{prefix}_n1", *tail], [f"{prefix}_dims"], name=f"{prefix}_Concat", axis=0),
    ]


def test_reshapes_computed_from_shapes_are_folded(tmp_path: Path) -> None:
    """The shuffle's views and a flatten's [N, -1] come from Shape -> Gather -> Unsqueeze -> Concat:
    folded from the known shapes; the shape arithmetic makes no layer. A 3x3 conv 2 -> 6 (108 + 6
    params) then an fc 6 x 16 -> 10 (970)."""
    n = helper.make_node
    m = model(
        [
            n("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            *shape_chain("v", "c", ["t5"]),
            n("Reshape", ["c", "v_dims"], ["a"], name="view"),
            n("Transpose", ["a"], ["t"], name="shuffle", perm=[0, 2, 1, 3, 4]),
            *shape_chain("u", "t", ["t4"]),
            n("Reshape", ["t", "u_dims"], ["s"], name="back"),
            *shape_chain("f", "s", ["minus"]),
            n("Reshape", ["s", "f_dims"], ["flat"], name="flatten"),
            n("Gemm", ["flat", "w2", "b2"], ["y"], name="fc", transB=1),
        ],
        [
            weight("w", 6, 2, 3, 3),
            weight("b", 6),
            helper.make_tensor("zero", TensorProto.INT64, [], [0]),
            ints("axis0", 0),
            ints("t5", 3, 2, 4, 4),
            ints("t4", 6, 4, 4),
            ints("minus", -1),
            weight("w2", 10, 96),
            weight("b2", 10),
        ],
        [1, 2, 4, 4],
    )
    got = layers_of(m, tmp_path)
    assert list(got) == ["conv", "shuffle", "flatten", "fc"]
    assert got["shuffle"]["groups"] == 3
    assert got["flatten"]["type"] == "flatten"
    net = net_of(m, tmp_path)
    assert (net.params, shapes(net)["flatten"]) == (108 + 6 + 970, (96,))


def test_a_shape_that_cannot_be_folded_is_one_error(tmp_path: Path) -> None:
    """A Reshape whose shape arithmetic cannot be worked out (here a Gather past the end of x's shape)."""
    n = helper.make_node
    m = model(
        [
            n("Shape", ["x"], ["s"], name="shape"),
            n("Gather", ["s", "seven"], ["g"], name="gather", axis=0),
            n("Reshape", ["x", "g"], ["y"], name="view"),
        ],
        [ints("seven", 7)],
        [1, 4],
        check=False,  # onnx refuses it too
    )
    message = "node 2 'view' (Reshape): the shape ('g') must be a constant (or computed from shapes)"
    with pytest.raises(SpecError, match=re.escape(message)):
        read(save(m, tmp_path))


def test_squeeze_and_unsqueeze(tmp_path: Path) -> None:
    """A global pool's C x 1 x 1 squeezed on axes 2 and 3 is a flatten to C; unsqueezed back, a reshape."""
    n = helper.make_node
    m = model(
        [
            n("GlobalAveragePool", ["x"], ["g"], name="gap"),
            n("Squeeze", ["g", "hw"], ["s"], name="squeeze"),
            n("Unsqueeze", ["s", "last"], ["y"], name="unsqueeze"),
        ],
        [ints("hw", 2, 3), ints("last", -1)],
        [1, 6, 4, 4],
    )
    got = layers_of(m, tmp_path)
    assert (got["squeeze"]["type"], got["unsqueeze"]) == (
        "flatten",
        {"type": "reshape", "name": "unsqueeze", "shape": [6, 1], "from": "squeeze"},
    )
    assert shapes(net_of(m, tmp_path))["unsqueeze"] == (6, 1)
    batch = model([n("Squeeze", ["x", "zero"], ["y"], name="sq")], [ints("zero", 0)], [1, 6])
    with pytest.raises(
        SpecError, match=re.escape("node 0 'sq' (Squeeze): only constant axes after the batch")
    ):
        read(save(batch, tmp_path))


def test_resize_and_upsample(tmp_path: Path) -> None:
    """Resize by scales [1, 1, 2, 2] (nearest): scale 2, 5 -> 10; by sizes, bilinear with aligned corners:
    size [7, 9]; cubic by scales [1, 1, 1.5, 2]: 7 -> 10 (floor 10.5), 9 -> 18."""
    n = helper.make_node
    m = model(
        [
            n("Resize", ["x", "", "s2"], ["a"], name="up", mode="nearest"),
            n(
                "Resize",
                ["a", "", "", "sz"],
                ["b"],
                name="to_size",
                mode="linear",
                coordinate_transformation_mode="align_corners",
            ),
            n("Resize", ["b", "", "s3"], ["y"], name="cubic", mode="cubic"),
        ],
        [floats("s2", 1, 1, 2, 2), ints("sz", 1, 3, 7, 9), floats("s3", 1, 1, 1.5, 2)],
        [1, 3, 5, 5],
    )
    got = layers_of(m, tmp_path)
    assert got["up"] == {"type": "upsample", "name": "up", "mode": "nearest", "scale": 2.0, "from": "input"}
    assert (got["to_size"]["mode"], got["to_size"]["align_corners"], got["to_size"]["size"]) == (
        "bilinear",
        True,
        [7, 9],
    )
    assert got["cubic"]["scale"] == [1.5, 2.0]
    assert shapes(net_of(m, tmp_path)) == {"up": (3, 10, 10), "to_size": (3, 7, 9), "cubic": (3, 10, 18)}


def test_upsample_of_opset_9(tmp_path: Path) -> None:
    """The old Upsample op, its scales an input."""
    n = helper.make_node
    m = model([n("Upsample", ["x", "s"], ["y"], name="up")], [floats("s", 1, 1, 3, 3)], [1, 2, 4, 4], opset=9)
    assert shapes(net_of(m, tmp_path)) == {"up": (2, 12, 12)}


def test_pad(tmp_path: Path) -> None:
    """Pads [N, C, H, W begins, then ends]: 1/3 on H, 2/4 on W (zeros); reflect 1 all round; edge is
    replicate; negative pads on every side are a crop."""
    n = helper.make_node
    m = model(
        [
            n("Pad", ["x", "p1"], ["a"], name="zeros"),
            n("Pad", ["a", "p2"], ["b"], name="reflect", mode="reflect"),
            n("Pad", ["b", "p3"], ["c"], name="edge", mode="edge"),
            n("Pad", ["c", "p4"], ["y"], name="crop"),
        ],
        [
            ints("p1", 0, 0, 1, 2, 0, 0, 3, 4),
            ints("p2", 0, 0, 1, 1, 0, 0, 1, 1),
            ints("p3", 0, 0, 0, 2, 0, 0, 0, 0),
            ints("p4", 0, 0, -1, -2, 0, 0, -1, -2),
        ],
        [1, 2, 4, 4],
    )
    got = layers_of(m, tmp_path)
    assert got["zeros"] == {"type": "pad", "name": "zeros", "pad": [[1, 3], [2, 4]], "from": "input"}
    assert (got["reflect"]["pad"], got["reflect"]["mode"]) == (1, "reflect")
    assert (got["edge"]["pad"], got["edge"]["mode"]) == ([[0, 0], [2, 0]], "replicate")
    assert got["crop"] == {"type": "crop", "name": "crop", "crop": [1, 2], "from": "edge"}
    assert shapes(net_of(m, tmp_path)) == {
        "zeros": (2, 8, 10),
        "reflect": (2, 10, 12),
        "edge": (2, 10, 14),
        "crop": (2, 8, 10),
    }


def test_slice_and_split(tmp_path: Path) -> None:
    """Of 8 channels: [0:3] is part 0 of sizes [3, 5], [2:5] part 1 of [2, 3, 3]; rows 1:-1 and columns
    2: are a crop; Split [3, 5] gives parts s.0 and s.1."""
    n = helper.make_node
    m = model(
        [
            n("Slice", ["x", "z", "three", "one"], ["a"], name="head"),
            n("Slice", ["x", "two", "five", "one"], ["b"], name="middle"),
            n("Slice", ["x", "st", "en", "hw"], ["c"], name="crop"),
            n("Split", ["x", "sizes"], ["s0", "s1"], name="s", axis=1),
            n("Concat", ["a", "b", "s1"], ["y0"], name="cat", axis=1),
            n("Concat", ["c", "s0"], ["y"], name="cat2", axis=1),
        ],
        [
            ints("z", 0),
            ints("three", 3),
            ints("one", 1),
            ints("two", 2),
            ints("five", 5),
            ints("st", 1, 2),
            ints("en", -1, 1 << 63 - 1),
            ints("hw", 2, 3),
            ints("sizes", 3, 5),
        ],
        [1, 8, 6, 6],
        check=False,
    )
    got = layers_of(m, tmp_path)
    assert (got["head"]["sizes"], got["head"]["part"]) == ([3, 5], 0)
    assert (got["middle"]["sizes"], got["middle"]["part"]) == ([2, 3, 3], 1)
    assert got["crop"]["crop"] == [[1, 1], [2, 0]]
    assert (got["s.0"]["part"], got["s.1"]["part"], got["s.1"]["sizes"]) == (0, 1, [3, 5])
    assert got["cat"]["from"] == ["head", "middle", "s.1"]
    got_shapes = shapes(net_of(m, tmp_path))
    assert (got_shapes["cat"], got_shapes["crop"], got_shapes["cat2"]) == ((11, 6, 6), (8, 4, 4), (11, 4, 4))


def test_sub_div_and_constant_operands(tmp_path: Path) -> None:
    """Sub and Div of two layers read as add and mul (the same shapes, no weights); an input
    normalisation (x - mean) / std by 1 x C x 1 x 1 constants keeps the shape: identities, 0 params."""
    n = helper.make_node
    m = model(
        [
            n("Sub", ["x", "mean"], ["a"], name="minus_mean"),
            n("Div", ["a", "std"], ["b"], name="over_std"),
            n("Relu", ["b"], ["r"], name="relu"),
            n("Sub", ["b", "r"], ["d"], name="sub"),
            n("Div", ["d", "b"], ["y"], name="div"),
        ],
        [weight("mean", 1, 3, 1, 1), weight("std", 1, 3, 1, 1)],
        [1, 3, 4, 4],
    )
    got = layers_of(m, tmp_path)
    assert [got[k]["type"] for k in got] == ["identity", "identity", "act", "add", "mul"]
    assert got["div"]["from"] == ["sub", "over_std"]
    net = net_of(m, tmp_path)
    assert (net.params, shapes(net)["div"]) == (0, (3, 4, 4))
    assert got["minus_mean"]["stands_for"] == "ONNX Sub by a constant of shape [1, 3, 1, 1]"
    kept = [(f.code.value, f.layer_name) for f in net.findings]
    assert kept == [("kept-out", "minus_mean"), ("kept-out", "over_std")]
    wide = model([n("Mul", ["x", "big"], ["y"], name="grow")], [weight("big", 5, 4)], [1, 4])
    with pytest.raises(
        SpecError, match=re.escape("node 0 'grow' (Mul): Mul by the constant 'big' of shape [5, 4]")
    ):
        read(save(wide, tmp_path))


def test_norms_lrn_prelu(tmp_path: Path) -> None:
    """InstanceNormalization: 2C = 8 params; LRN size 5; PRelu with a C x 1 x 1 slope: C = 4, with one
    slope: 1; LayerNormalization of a 2-D input over its features: 2 x 64."""
    n = helper.make_node
    m = model(
        [
            n("InstanceNormalization", ["x", "s", "b"], ["a"], name="inorm"),
            n("LRN", ["a"], ["l"], name="lrn", size=5),
            n("PRelu", ["l", "slope"], ["p"], name="prelu"),
            n("PRelu", ["p", "one"], ["q"], name="prelu1"),
            n("Flatten", ["q"], ["f"], name="flat"),
            n("LayerNormalization", ["f", "g", "h"], ["y"], name="ln", axis=-1),
        ],
        [
            weight("s", 4),
            weight("b", 4),
            weight("slope", 4, 1, 1),
            weight("one", 1),
            weight("g", 64),
            weight("h", 64),
        ],
        [1, 4, 4, 4],
    )
    got = layers_of(m, tmp_path)
    assert got["lrn"] == {"type": "lrn", "name": "lrn", "size": 5, "from": "inorm"}
    assert (got["prelu"]["per_channel"], got["prelu1"]["per_channel"]) == (True, False)
    assert net_of(m, tmp_path).params == 8 + 4 + 1 + 128


def test_layer_norm_channels_last_and_refused(tmp_path: Path) -> None:
    """NCHW -> NHWC, LayerNormalization over C, back: one layer_norm, 2C = 16; over W of NCHW: refused."""
    n = helper.make_node
    m = model(
        [
            n("Transpose", ["x"], ["t"], name="to_last", perm=[0, 2, 3, 1]),
            n("LayerNormalization", ["t", "g", "h"], ["l"], name="ln", axis=-1),
            n("Transpose", ["l"], ["y"], name="to_first", perm=[0, 3, 1, 2]),
        ],
        [weight("g", 8), weight("h", 8)],
        [1, 8, 3, 3],
    )
    got = layers_of(m, tmp_path)
    assert got == {"ln": {"type": "layer_norm", "name": "ln", "affine": True, "from": "input"}}
    assert net_of(m, tmp_path).params == 16
    wrong = model(
        [n("LayerNormalization", ["x", "g"], ["y"], name="lnw", axis=-1)], [weight("g", 3)], [1, 8, 3, 3]
    )
    with pytest.raises(
        SpecError, match=re.escape("node 0 'lnw' (LayerNormalization): a LayerNormalization is read")
    ):
        read(save(wrong, tmp_path))


def test_gelu_from_erf_and_gelu_op(tmp_path: Path) -> None:
    """x / sqrt(2) -> Erf -> + 1 -> x * that -> * 0.5 is one gelu named by its Erf; Gelu (opset 20) with
    approximate tanh is gelu_tanh."""
    n = helper.make_node
    m = model(
        [
            n("Div", ["x", "r2"], ["d"], name="div"),
            n("Erf", ["d"], ["e"], name="erf"),
            n("Add", ["e", "one"], ["a"], name="add"),
            n("Mul", ["x", "a"], ["m"], name="mul"),
            n("Mul", ["m", "half"], ["y"], name="mul_half"),
        ],
        [floats("r2", math.sqrt(2)), floats("one", 1.0), floats("half", 0.5)],
        [1, 4, 2, 2],
    )
    assert layers_of(m, tmp_path) == {"erf": {"type": "act", "name": "erf", "fn": "gelu", "from": "input"}}
    tanh = model([n("Gelu", ["x"], ["y"], name="g", approximate="tanh")], [], [1, 4], opset=20)
    assert layers_of(tanh, tmp_path)["g"]["fn"] == "gelu_tanh"


def test_erf_alone_is_one_error(tmp_path: Path) -> None:
    n = helper.make_node
    m = model([n("Erf", ["x"], ["y"], name="erf")], [], [1, 4])
    with pytest.raises(
        SpecError, match=re.escape("node 0 'erf' (Erf): ONNX op Erf has no convcalc equivalent")
    ):
        read(save(m, tmp_path))


@pytest.mark.parametrize("opset", [17, 18])
def test_reduce_mean_over_the_spatial_axes(opset: int, tmp_path: Path) -> None:
    """ReduceMean over axes 2, 3 (an attribute before opset 18, an input from 18): a global pool, C x 1 x 1
    with keepdims, C without (a global pool and a flatten); over the channels: refused."""
    n = helper.make_node

    def reduce(name: str, source: str, out: str, axes: list[int], keep: int) -> Any:
        if opset >= 18:
            return n("ReduceMean", [source, f"{name}_axes"], [out], name=name, keepdims=keep)
        return n("ReduceMean", [source], [out], name=name, axes=axes, keepdims=keep)

    axes = [ints("keep_axes", 2, 3), ints("drop_axes", -2, -1)] if opset >= 18 else []
    m = model(
        [reduce("keep", "x", "k", [2, 3], 1), reduce("drop", "k", "y", [-2, -1], 0)],
        axes,
        [1, 5, 3, 3],
        opset=opset,
    )
    net = net_of(m, tmp_path)
    assert shapes(net) == {"keep": (5, 1, 1), "drop": (5, 1, 1), "drop_flatten": (5,)}
    assert [r.layer.kind.value for r in net.layers] == ["global_pool", "global_pool", "flatten"]
    channels = model(
        [reduce("c", "x", "y", [1], 1)], [ints("c_axes", 1)] if opset >= 18 else [], [1, 5, 3, 3], opset=opset
    )
    with pytest.raises(SpecError, match=re.escape("node 0 'c' (ReduceMean): a reduction over axes [1]")):
        read(save(channels, tmp_path))


def test_auto_pad_same_lower(tmp_path: Path) -> None:
    """SAME_LOWER: ceil(N/S) out, the odd pad row before. k3 s2 on 8: total (4-1)x2 + 3 - 8 = 1, all
    before: [[1, 0], [1, 0]]; k2 s1 pool on 4: total 1, before."""
    n = helper.make_node
    m = model(
        [
            n(
                "Conv",
                ["x", "w"],
                ["c"],
                name="conv",
                kernel_shape=[3, 3],
                strides=[2, 2],
                auto_pad="SAME_LOWER",
            ),
            n("MaxPool", ["c"], ["y"], name="pool", kernel_shape=[2, 2], auto_pad="SAME_LOWER"),
        ],
        [weight("w", 4, 2, 3, 3)],
        [1, 2, 8, 8],
    )
    got = layers_of(m, tmp_path)
    assert (got["conv"]["pad"], got["pool"]["pad"]) == ([[1, 0], [1, 0]], [[1, 0], [1, 0]])
    assert shapes(net_of(m, tmp_path)) == {"conv": (4, 4, 4), "pool": (4, 4, 4)}


@pytest.mark.parametrize(
    ("attrs", "pad", "output_pad", "out"),
    [
        ({"output_shape": [8, 8]}, [[1, 0], [1, 0]], 0, 8),  # (4-1)x2 + 3 = 9: total 1, before
        ({"output_shape": [9, 9]}, 0, 0, 9),
        ({"output_shape": [10, 10]}, 0, 1, 10),  # one more than 9: output_padding 1
        ({"output_shape": [1, 3, 7, 7]}, 1, 0, 7),  # N and C given too: total 2
        ({"auto_pad": "SAME_UPPER"}, [[0, 1], [0, 1]], 0, 8),  # N x S = 8: total 1, after
        ({"auto_pad": "SAME_LOWER"}, [[1, 0], [1, 0]], 0, 8),
    ],
)
def test_conv_transpose_output_shape(
    attrs: dict[str, Any], pad: Any, output_pad: int, out: int, tmp_path: Path
) -> None:
    """ConvTranspose k3 s2 on 4 x 4: ONNX's pads from output_shape (or auto_pad) and output_padding."""
    n = helper.make_node
    m = model(
        [n("ConvTranspose", ["x", "w"], ["y"], name="up", kernel_shape=[3, 3], strides=[2, 2], **attrs)],
        [weight("w", 2, 3, 3, 3)],
        [1, 2, 4, 4],
        check=len(attrs.get("output_shape", [])) != 4,  # onnx's inference takes the spatial sizes only
    )
    got = layers_of(m, tmp_path)["up"]
    assert (got["pad"], got["output_pad"]) == (pad, output_pad)
    assert shapes(net_of(m, tmp_path)) == {"up": (3, out, out)}


@pytest.mark.parametrize(
    ("nodes", "inits", "message"),
    [
        (
            [helper.make_node("Slice", ["x", "a", "b", "c", "d"], ["y"], name="sl")],
            [ints("a", 0), ints("b", 4), ints("c", 2), ints("d", 2)],
            "node 0 'sl' (Slice): starts [0], ends [4], axes [2], steps [2]: only steps of 1 are read",
        ),
        (
            [helper.make_node("Slice", ["x", "a", "b", "c"], ["y"], name="sl")],
            [ints("a", 0, 1), ints("b", 2, 3), ints("c", 1, 2)],
            "node 0 'sl' (Slice): only a slice of the channels alone, or of the spatial axes, is read",
        ),
        (
            [helper.make_node("Pad", ["x", "p"], ["y"], name="pd")],
            [ints("p", 0, 1, 0, 0, 0, 1, 0, 0)],
            "node 0 'pd' (Pad): pads [0, 1, 0, 0, 0, 1, 0, 0]: only the spatial axes may be padded",
        ),
        (
            [helper.make_node("Resize", ["x", "", "s"], ["y"], name="rs")],
            [floats("s", 1, 2, 2, 2)],
            "node 0 'rs' (Resize): scales [1.0, 2.0, 2.0, 2.0]: only the spatial axes may be scaled",
        ),
        (
            [
                helper.make_node("Relu", ["x"], ["r"], name="relu"),
                helper.make_node("Shape", ["r"], ["s"], name="shape"),
                helper.make_node("Cast", ["s"], ["y"], name="cast", to=TensorProto.FLOAT),
            ],
            [],
            "graph output 'y' is computed from constants alone",
        ),
    ],
)
def test_what_the_new_ops_refuse(
    nodes: list[Any], inits: list[Any], message: str, tmp_path: Path, runner: CliRunner
) -> None:
    """One located line, exit 2."""
    path = save(model(nodes, inits, [1, 4, 4, 4]), tmp_path)
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert lines(result) == [f"{path}: error: {message}"]


def test_an_if_is_refused_not_folded(tmp_path: Path) -> None:
    """PyTorch's squeeze(dim) of an unknown size exports an If whose only input is the condition: it is
    never taken for shape arithmetic, so the layers after it are not lost."""
    n = helper.make_node
    branch = helper.make_graph(
        [n("Identity", ["x"], ["o"])], "b", [], [helper.make_tensor_value_info("o", TensorProto.FLOAT, None)]
    )
    m = model(
        [
            n("Shape", ["x"], ["s"], name="shape"),
            n("ReduceSum", ["s"], ["t"], name="sum", keepdims=0),
            n("Greater", ["t", "zero"], ["cond"], name="cmp"),
            n("If", ["cond"], ["i"], name="if", then_branch=branch, else_branch=branch),
            n("Relu", ["i"], ["y"], name="relu"),
        ],
        [helper.make_tensor("zero", TensorProto.INT64, [], [0])],
        [1, 4],
    )
    with pytest.raises(SpecError, match=re.escape("node 3 'if' (If): ONNX op If has no convcalc equivalent")):
        read(save(m, tmp_path))


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_convert_names_each_node(name: str, tmp_path: Path, runner: CliRunner) -> None:
    """Every converted layer's comment names its ONNX node, and the YAML gives the file's shapes."""
    out = tmp_path / f"{name}.yaml"
    path = DATA / "onnx" / f"{name}.onnx"
    assert runner.invoke(main, ["convert", str(path), "-o", str(out)]).exit_code == 0
    layer_lines = [line for line in out.read_text().splitlines() if line.startswith("  - ")]
    assert all(re.search(rf"  # {name}\.onnx: nodes? \d+", line) for line in layer_lines), layer_lines
    assert shapes(resolve(read(out))) == shapes(resolve(read(path)))


def test_reduce_max_is_a_max_global_pool(tmp_path: Path) -> None:
    n = helper.make_node
    m = model([n("ReduceMax", ["x"], ["y"], name="rmax", axes=[2, 3], keepdims=1)], [], [1, 5, 3, 3])
    assert layers_of(m, tmp_path)["rmax"] == {
        "type": "global_pool",
        "name": "rmax",
        "mode": "max",
        "from": "input",
    }


def test_norms_without_affine_as_pytorch_writes_them(tmp_path: Path) -> None:
    """PyTorch writes an InstanceNorm2d / LayerNorm / BatchNorm2d without affine with Constant nodes for
    the scale and shift (a learned one is an initializer): no trainable values; BN keeps its 2C
    running statistics."""
    n = helper.make_node

    def literal(name: str, size: int) -> Any:
        return n("Constant", [], [name], name=f"{name}_c", value=floats(name, *([1.0] * size)))

    m = model(
        [
            literal("s", 4),
            literal("b", 4),
            n("InstanceNormalization", ["x", "s", "b"], ["a"], name="inorm"),
            n("BatchNormalization", ["a", "s", "b", "mean", "var"], ["c"], name="bn"),
            n("Flatten", ["c"], ["f"], name="flat"),
            literal("g", 64),
            n("LayerNormalization", ["f", "g"], ["y"], name="ln", axis=-1),
        ],
        [weight("mean", 4), weight("var", 4)],
        [1, 4, 4, 4],
    )
    got = layers_of(m, tmp_path)
    assert (got["inorm"]["affine"], got["bn"]["affine"], got["ln"]["affine"]) == (False, False, False)
    net = net_of(m, tmp_path)
    assert (net.params, net.non_trainable) == (0, 8)
