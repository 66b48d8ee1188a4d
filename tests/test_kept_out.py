"""Layers a reader keeps out (a loss, a detection head, Caffe's Silence, Keras's Rescaling) are never
dropped silently: each is an `identity` whose `stands_for` names it, with a `kept-out` note at its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc import loader
from convcalc.__main__ import main
from convcalc.model import Code, Severity
from convcalc.readers import caffe, keras
from convcalc.resolver import resolve

PROTOTXT = """\
name: "kept"
input: "data"
input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
layer {
  name: "loss"
  type: "SoftmaxWithLoss"
  bottom: "prob"
  top: "loss"
}
layer { name: "quiet" type: "Silence" bottom: "loss" }
"""


def run(*args: str) -> tuple[int, str, str]:
    got = CliRunner().invoke(main, list(args))
    assert "Traceback" not in got.output
    return got.exit_code, got.stdout, got.stderr


def test_caffe_losses_and_silence_are_notes_at_their_type_line(tmp_path: Path) -> None:
    src = tmp_path / "kept.prototxt"
    src.write_text(PROTOTXT)
    code, out, _ = run("lint", str(src))
    assert code == 0
    assert out.splitlines() == [
        f"{src}:8:3: info[kept-out] loss: stands for Caffe SoftmaxWithLoss, kept out as an identity: "
        "its shape is kept and nothing of it is counted",
        f"{src}:12:23: info[kept-out] quiet: stands for Caffe Silence, kept out as an identity: "
        "its shape is kept and nothing of it is counted",
        "0 errors, 0 warnings, 2 notes in 1 file",
    ]


def test_the_table_names_what_each_identity_stands_for_and_the_summary_counts_them(tmp_path: Path) -> None:
    src = tmp_path / "kept.prototxt"
    src.write_text(PROTOTXT)
    code, out, _ = run("run", str(src))
    assert code == 0
    assert "identity (Caffe SoftmaxWithLoss)" in out
    assert "identity (Caffe Silence)" in out
    assert "2 notes: kept out as an identity in loss, quiet; show them with --notes" in out
    # the counts are those of the layers that are modelled: 10 x (3 x 8 x 8 + 1)
    net = resolve(caffe.parse(src.read_text(), file=str(src)))
    assert (net.params, net.macs) == (1930, 1920)


def test_json_and_convert_keep_what_it_stands_for(tmp_path: Path) -> None:
    src = tmp_path / "kept.prototxt"
    src.write_text(PROTOTXT)
    spec = tmp_path / "kept.yaml"
    assert run("convert", str(src), "-o", str(spec))[0] == 0
    assert "{type: identity, name: loss, stands_for: Caffe SoftmaxWithLoss}" in spec.read_text()
    before = json.loads(run("run", str(src), "--format", "json", "--notes")[1])
    after = json.loads(run("run", str(spec), "--format", "json", "--notes")[1])
    assert [x["stands_for"] for x in before["layers"]] == [
        None,
        None,
        "Caffe SoftmaxWithLoss",
        "Caffe Silence",
    ]
    assert [x["stands_for"] for x in after["layers"]] == [x["stands_for"] for x in before["layers"]]
    codes = [(d["code"], d["layer_name"]) for d in after["diagnostics"]]
    assert codes == [("kept-out", "loss"), ("kept-out", "quiet")]


def test_allow_turns_the_note_off() -> None:
    text = "input: 8x8x3\nlayers:\n  - {type: identity, stands_for: 'Darknet [yolo]', allow: [kept-out]}\n"
    assert resolve(loader.parse(text)).findings == ()


def test_a_plain_identity_says_nothing() -> None:
    net = resolve(loader.parse("input: 8x8x3\nlayers:\n  - {type: identity}\n"))
    assert net.findings == ()


@pytest.mark.parametrize(
    ("value", "shown"),
    [("''", "''"), ("3", "3"), ("[a]", "['a']"), ('"a\\nb"', "'a\\nb'"), ("null", "null")],
)
def test_stands_for_must_be_a_short_line(tmp_path: Path, value: str, shown: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(f"input: 8x8x3\nlayers:\n  - {{type: identity, stands_for: {value}}}\n")
    code, _, err = run("run", str(spec))
    assert code == 2
    assert err == (
        f"{spec}:3:34: error: layer 1 (identity1): 'stands_for' must be a one-line string "
        f"of at most 200 characters, got {shown}\n"
    )
    assert len(err.strip().splitlines()) == 1


def test_stands_for_belongs_to_identity_only(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("input: 8x8x3\nlayers:\n  - {type: dropout, stands_for: Caffe Silence}\n")
    code, _, err = run("run", str(spec))
    assert code == 2
    assert err.startswith(f"{spec}:3:33: error: layer 1: unknown key 'stands_for' for a dropout layer")
    assert len(err.strip().splitlines()) == 1


def test_keras_kept_out_layers_say_so() -> None:
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 3], "name": "in"}},
                {"class_name": "Rescaling", "config": {"name": "scale", "scale": 0.5, "offset": 0.0}},
                {"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": [3, 3]}},
            ],
        },
    }
    net = resolve(keras.parse(json.dumps(config), file="s.json"))
    (note,) = net.findings
    assert (note.code, note.severity, note.layer_name) == (Code.KEPT_OUT, Severity.INFO, "scale")
    assert "stands for Keras Rescaling" in note.message
    assert net.params == 4 * (27 + 1)
