"""Did-you-mean for the names people type first, any-case pad and layout names, tabs (issue 11, item 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import convcalc
from convcalc import loader
from convcalc.__main__ import main
from convcalc.hints import TYPES
from convcalc.model import Fn

KINDS = (
    "conv, deconv, pool, global_pool, fc, flatten, bn, act, dropout, identity, "
    "layer_norm, group_norm, instance_norm, prelu, scale, upsample, pixel_shuffle, pixel_unshuffle, reshape, "
    "pad, crop, channel_shuffle, lrn, add, mul, concat, split"
)
CONV_KEYS = "type, name, filters, size, stride, pad, dilation, groups, bias, allow, expect, from, if"


def one(layer: str) -> str:
    return f"input: 32x32x3\nlayers:\n  - {layer}\n"


def message(text: str) -> str:
    with pytest.raises(convcalc.SpecError) as info:
        loader.parse(text)
    return str(info.value)


TYPE_CASES = [
    ("linear", "'fc'"),
    ("dense", "'fc'"),
    ("Linear", "'fc'"),
    ("Dense", "'fc'"),
    ("relu", "'act' with 'fn: relu'"),
    ("ReLU", "'act' with 'fn: relu'"),
    ("LeakyReLU", "'act' with 'fn: leaky_relu'"),
    ("Sigmoid", "'act' with 'fn: sigmoid'"),
    ("batchnorm", "'bn'"),
    ("BatchNorm2d", "'bn'"),
    ("BatchNormalization", "'bn'"),
    ("Conv2d", "'conv'"),
    ("Conv1d", "'conv'"),
    ("convolution", "'conv'"),
    ("ConvTranspose2d", "'deconv'"),
    ("Conv2DTranspose", "'deconv'"),
    ("MaxPool2d", "'pool' with 'mode: max'"),
    ("MaxPooling2D", "'pool' with 'mode: max'"),
    ("AvgPool2d", "'pool' with 'mode: avg'"),
    ("GlobalAveragePooling2D", "'global_pool'"),
    ("Dropout", "'dropout'"),
    ("Flatten", "'flatten'"),
    ("activation", "'act'"),
]


@pytest.mark.parametrize(("written", "meant"), TYPE_CASES)
def test_type_names_from_other_frameworks(written: str, meant: str) -> None:
    assert message(one(f"{{type: {written}}}")) == (
        f"3:12: error: layer 1: unknown type '{written}'; did you mean {meant}? (expected one of: {KINDS})"
    )


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("Add", "'add'"),
        ("Concatenate", "'concat'"),
        ("cat", "'concat'"),
        ("route", "'concat'"),
        ("residual", "'add'"),
        ("shortcut", "'add'"),
        ("Eltwise", "'add'"),
        ("Multiply", "'mul'"),
        ("chunk", "'split'"),
        ("Slice", "'split'"),
        ("merge", "'add' or 'concat'"),
    ],
)
def test_merge_names_from_other_frameworks(written: str, meant: str) -> None:
    """Keras's Add and Concatenate, Darknet's route and shortcut, Caffe's Eltwise and Slice: merge kinds."""
    assert message(one(f"{{type: {written}}}")) == (
        f"3:12: error: layer 1: unknown type '{written}'; did you mean {meant}? (expected one of: {KINDS})"
    )


KEY_CASES = [
    ("{type: conv, filters: 4, kernel_size: 3}", "kernel_size", "conv", "size", CONV_KEYS),
    ("{type: conv, filters: 4, kernel: 3}", "kernel", "conv", "size", CONV_KEYS),
    ("{type: conv, filters: 4, size: 3, padding: 1}", "padding", "conv", "pad", CONV_KEYS),
    ("{type: conv, size: 3, out_channels: 4}", "out_channels", "conv", "filters", CONV_KEYS),
    ("{type: conv, filters: 4, size: 3, strides: 2}", "strides", "conv", "stride", CONV_KEYS),
    (
        "{type: pool, size: 2, ceil_mode: true}",
        "ceil_mode",
        "pool",
        "ceil",
        "type, name, mode, size, stride, pad, ceil, count_pad, output, allow, expect, from, if",
    ),
    (
        "{type: fc, out_features: 10}",
        "out_features",
        "fc",
        "units",
        "type, name, units, bias, allow, expect, from, if",
    ),
    ("{type: act, activation: relu}", "activation", "act", "fn", "type, name, fn, allow, expect, from, if"),
    ("{type: dropout, rate: 0.2}", "rate", "dropout", "p", "type, name, p, allow, expect, from, if"),
]


@pytest.mark.parametrize(("layer", "key", "kind", "meant", "keys"), KEY_CASES)
def test_key_names_from_other_frameworks(layer: str, key: str, kind: str, meant: str, keys: str) -> None:
    column = layer.index(f"{key}: ") + len(key) + 7  # at the value, as every unknown key
    article = "an" if kind[0] in "aeiou" else "a"
    assert message(one(layer)) == (
        f"3:{column}: error: layer 1: unknown key '{key}' for {article} {kind} layer; "
        f"did you mean '{meant}'? "
        f"(expected one of: {keys})"
    )


def test_activation_on_a_conv_layer_is_a_layer_of_its_own() -> None:
    assert message(one("{type: conv, filters: 4, size: 3, activation: relu}")) == (
        "3:51: error: layer 1: unknown key 'activation' for a conv layer; put the activation in a layer "
        f"of its own after this one: {{type: act, fn: relu}} (expected one of: {CONV_KEYS})"
    )


def test_in_channels_is_followed_not_given() -> None:
    assert "convcalc follows the input's channels and features itself: drop it" in message(
        one("{type: conv, in_channels: 3, filters: 4, size: 3}")
    )


def test_names_in_other_cases_are_suggested_as_written() -> None:
    """fn: ReLU and mode: MAX: a close match by case, before difflib's guesses."""
    assert message(one("{type: act, fn: ReLU}")).endswith("got 'ReLU'; did you mean 'relu'?")
    assert message(one("{type: pool, size: 2, mode: MAX}")).endswith("got 'MAX'; did you mean 'max'?")


@pytest.mark.parametrize(
    ("written", "meant"),
    [("swish", "silu"), ("Swish", "silu"), ("LeakyReLU", "leaky_relu"), ("hard-swish", "hardswish"),
     ("h_swish", "hardswish"), ("LogSoftmax", "log_softmax"), ("GELU", "gelu")],
)  # fmt: skip
def test_activation_names_from_other_frameworks(written: str, meant: str) -> None:
    """EfficientNet's swish is PyTorch's silu (difflib guessed hardswish); class names map to fn names."""
    assert message(one(f"{{type: act, fn: {written}}}")).endswith(f"got '{written}'; did you mean '{meant}'?")


def test_every_hinted_type_is_a_kind_with_known_settings() -> None:
    fns = {f.value for f in Fn}
    for hint in TYPES.values():
        kind = hint.split("'")[1]
        assert kind in KINDS.split(", ")
        if "fn: " in hint:
            assert hint.split("fn: ")[1].rstrip("'") in fns


@pytest.mark.parametrize("pad", ["SAME", "Same", "VALID", "Valid"])
def test_pad_names_in_any_case(pad: str) -> None:
    upper = loader.parse(one(f"{{type: conv, filters: 4, size: 3, stride: 2, pad: {pad}}}"))
    lower = loader.parse(one(f"{{type: conv, filters: 4, size: 3, stride: 2, pad: {pad.lower()}}}"))
    assert upper == lower


@pytest.mark.parametrize("layout", ["CHW", "Chw", "HWC"])
def test_layout_in_any_case(layout: str) -> None:
    text = "input: 3x32x32\nlayout: {}\nlayers:\n  - {{type: conv, filters: 4, size: 3}}\n"
    assert loader.parse(text.format(layout)) == loader.parse(text.format(layout.lower()))
    spec = {"input": [3, 32, 32], "layers": [{"type": "conv", "filters": 4, "size": 3}]}
    assert convcalc.analyze({**spec, "layout": layout}) == convcalc.analyze(
        {**spec, "layout": layout.lower()}
    )


def test_pad_names_not_ascii_are_refused() -> None:
    """Only the ASCII letters fold: the schema's pattern and the loader agree."""
    assert "'pad' must be" in message(one("{type: conv, filters: 4, size: 3, pad: \u017fame}"))  # a long s


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("input: 32x32x3\n\tlayers: []\n", 2, 1),
        ("input: 32x32x3\nlayers:\n  - type: conv\n\t  size: 3\n", 4, 1),
        ("layers:\n  - type: conv\n \tfilters: 3\n", 3, 2),
    ],
)
def test_a_tab_says_yaml_forbids_tabs(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, line: int, column: int
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["run", "net.yaml"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"net.yaml:{line}:{column}: error: invalid YAML: a tab in the indentation: "
        "YAML forbids tabs for indentation; indent with spaces\n"
    )
