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
from convcalc.readers.onnx import parse  # noqa: E402
from convcalc.resolver import resolve  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def weight(name: str, *dims: int) -> Any:
    return helper.make_tensor(name, TensorProto.FLOAT, dims, bytes(4 * math.prod(dims)), raw=True)


def model(nodes: list[Any], inits: list[Any], shape: list[int], out: str = "y") -> Any:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
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
def test_check_passes_on_exports(name: str, runner: CliRunner) -> None:
    """--check runs every layer's kernel on the shapes read from the file."""
    result = runner.invoke(main, ["run", "--check", str(DATA / "onnx" / f"{name}.onnx")])
    assert result.exit_code == 0, result.output


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_mutated_exports_give_a_spec_or_one_error(data: st.DataObject) -> None:
    """Random byte flips, cuts and insertions in a real export: a Spec or a SpecError, nothing else."""
    raw = bytearray((DATA / "onnx" / "tiny_branches.onnx").read_bytes())
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
