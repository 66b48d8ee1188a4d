"""max: the elementwise maximum of inputs of one shape (Caffe's Eltwise MAX, Keras's Maximum, ONNX's Max)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from convcalc import loader
from convcalc.__main__ import main
from convcalc.kinds import max as max_kind
from convcalc.model import Code, Severity
from convcalc.readers import caffe, keras
from convcalc.resolver import resolve

MAXOUT = """\
input: 8x8x3
layers:
  - {name: a, type: conv, filters: 4, size: 3, pad: 1}
  - {name: b, type: conv, filters: 4, size: 3, pad: 1, from: input}
  - {name: m, type: max, from: [a, b]}
"""


def test_maxout_of_two_convs() -> None:
    """Two 3x3 convs of 4 filters on 3 channels, 4 x (27 + 1) = 112 params each; the max adds none."""
    net = resolve(loader.parse(MAXOUT))
    m = net.layers[-1]
    assert (m.output.spatial, m.output.channels, m.params, m.macs) == ((8, 8), 4, 0, 0)
    assert net.params == 224
    assert net.findings == ()


def test_table_explain_and_check(tmp_path: Path) -> None:
    spec = tmp_path / "maxout.yaml"
    spec.write_text(MAXOUT)
    got = CliRunner().invoke(main, ["run", str(spec), "--check", "--explain"])
    assert got.exit_code == 0, got.output
    assert "max(a, b)   max of 2 inputs" in got.stdout
    assert "8x8x4 max 8x8x4 -> 8x8x4" in got.stdout
    assert "0 (a max has no weights)" in got.stdout


def test_shapes_that_differ_are_a_merge_mismatch_naming_max() -> None:
    text = MAXOUT.replace("filters: 4, size: 3, pad: 1, from", "filters: 8, size: 3, pad: 1, from")
    (f,) = resolve(loader.parse(text)).findings
    assert (f.severity, f.code, f.layer_name) == (Severity.ERROR, Code.MERGE_SHAPE_MISMATCH, "m")
    assert f.message == "m: b is 8x8x8 but a is 8x8x4: channels differ; max needs equal shapes"


@given(
    st.lists(st.integers(-50, 50), min_size=6, max_size=6),
    st.lists(st.integers(-50, 50), min_size=6, max_size=6),
)
def test_kernel_is_numpys_maximum(a: list[int], b: list[int]) -> None:
    x = np.array(a, dtype=np.float32).reshape(1, 2, 3)
    y = np.array(b, dtype=np.float32).reshape(1, 2, 3)
    before = x.copy()
    got = max_kind.kernel((x, y))
    assert np.array_equal(got, np.maximum(x, y))
    assert np.array_equal(x, before)  # the inputs are not written to


def test_caffe_eltwise_max(tmp_path: Path) -> None:
    text = """\
input: "data"
input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer { name: "a" type: "Convolution" bottom: "data" top: "a"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "b" type: "Convolution" bottom: "data" top: "b"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "m" type: "Eltwise" bottom: "a" bottom: "b" top: "m" eltwise_param { operation: MAX } }
"""
    net = resolve(caffe.parse(text, file="m.prototxt"))
    m = net.layers[-1]
    assert (m.layer.kind.value, m.layer.where.line, m.output.channels) == ("max", 7, 4)
    assert net.params == 2 * 4 * (3 + 1)


def test_keras_maximum() -> None:
    def layer(cls: str, name: str, inbound: list[str], **config: object) -> dict[str, object]:
        nodes = [[[src, 0, 0, {}] for src in inbound]] if inbound else []
        return {"class_name": cls, "name": name, "config": {"name": name, **config}, "inbound_nodes": nodes}

    config = {
        "class_name": "Functional",
        "config": {
            "name": "f",
            "layers": [
                layer("InputLayer", "in", [], batch_input_shape=[None, 8, 8, 3]),
                layer("Conv2D", "a", ["in"], filters=4, kernel_size=[1, 1]),
                layer("Conv2D", "b", ["in"], filters=4, kernel_size=[1, 1]),
                layer("Maximum", "m", ["a", "b"]),
            ],
            "input_layers": [["in", 0, 0]],
            "output_layers": [["m", 0, 0]],
        },
    }
    net = resolve(keras.parse(json.dumps(config), file="f.json"))
    assert [r.layer.kind.value for r in net.layers] == ["conv", "conv", "max"]
    assert net.params == 2 * 4 * (3 + 1)


def test_onnx_max(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
    from onnx import TensorProto, helper

    from convcalc.readers import onnx as reader

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Max", ["x", "r"], ["y"], name="top"),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)]
    )
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    net = resolve(reader.parse(path.read_bytes(), file=str(path)))
    assert [r.layer.kind.value for r in net.layers] == ["act", "max"]
    assert net.layers[-1].output.channels == 3
