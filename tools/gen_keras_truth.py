"""Record keras.applications configs and Keras's own counts, shapes and MACs as convcalc's Keras ground truth.

Run in a scratch venv with Keras 3 on the PyTorch backend (no weights are downloaded; torch is never a
project dependency):
    KERAS_BACKEND=torch /tmp/tvenv/bin/python tools/gen_keras_truth.py [--configs] [name ...]
Each model is built by Keras from its committed config, tests/data/keras/<name>.json, so that the truth
is that of the very fixture. With --configs (or for a fixture not yet there) the model is first built
from keras.applications or the builders below and its `model.to_json()` written there (compacted: a
config holds no weights), the small Sequential model also as tests/data/keras/small_sequential.keras.
Writes tests/data/keras_truth.json in the layout of caffe_truth.json and darknet_truth.json (one line
per layer), `models` mapping each name to:

    input          the input's shape (batch axis left out), channels last as Keras and convcalc
    output         the last layer's output shape
    params         trainable values (`model.trainable_weights`), as convcalc's params
    non_trainable  `model.non_trainable_weights` (BatchNormalization's moving mean and variance)
    count_params   `model.count_params()`, the figure `model.summary()` prints
    macs           the sum of the layers' MACs
    layers         one entry per Keras layer but the InputLayer, in `model.layers` order: name, class,
                   out (the built layer's output shape), params, non_trainable, macs

MACs are convcalc's convention, computed from each layer's real kernel shape in Keras (everything but
these is 0): Conv1D/2D/3D and Dense, output elements x the kernel's other axes (window x C_in/groups, or
a Dense's inputs, per position on a spatial input); DepthwiseConv, output elements x window;
SeparableConv, its depthwise part (depthwise output elements x window) plus its pointwise part (output
elements x C_in x depth_multiplier); a transposed conv, as convcalc and caffe_truth.json count it,
input elements x window x filters (each input value scattered through the kernel). Each is checked
against PyTorch's FlopCounterMode (half its FLOPs) while the Keras layer runs on zeros.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
MODELS: dict[str, tuple[Any, int]] = {
    "vgg16": (keras.applications.VGG16, 224),
    "mobilenet": (keras.applications.MobileNet, 224),
    "mobilenet_v2": (keras.applications.MobileNetV2, 224),
    "resnet50": (keras.applications.ResNet50, 224),
    "densenet121": (keras.applications.DenseNet121, 224),
    "inception_v3": (keras.applications.InceptionV3, 299),
    "xception": (keras.applications.Xception, 299),
}


def small_sequential(input_shape: tuple[int, ...]) -> keras.Model:
    """Layers keras.applications leaves out, in a Sequential model (also saved as a .keras zip)."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(input_shape),
            layers.Rescaling(1 / 255),
            layers.Conv2D(8, 3, activation="relu", name="conv"),
            layers.SeparableConv2D(16, 3, padding="same", depth_multiplier=2, name="sep"),
            layers.BatchNormalization(center=False, name="bn_gamma_only"),
            layers.LeakyReLU(name="leaky"),
            layers.Conv2DTranspose(4, 3, strides=2, padding="same", name="deconv"),
            layers.UpSampling2D(name="up"),
            layers.Cropping2D(((1, 2), (3, 0)), name="crop"),
            layers.ZeroPadding2D(((0, 1), (2, 0)), name="pad"),
            layers.MaxPooling2D(3, strides=2, padding="same", name="maxpool"),
            layers.AveragePooling2D(2, name="avgpool"),
            layers.PReLU(shared_axes=[1, 2], name="prelu"),
            layers.GlobalMaxPooling2D(name="gmp"),
            layers.Dropout(0.2, name="drop"),
            layers.Dense(10, name="dense"),
            layers.Activation("softmax", name="softmax"),
        ],
        name="small_sequential",
    )


def small_functional(input_shape: tuple[int, ...]) -> keras.Model:
    """A 1-D functional model: causal Conv1D, Multiply, Concatenate, Reshape, Dense per position."""
    layers = keras.layers
    x = keras.Input(input_shape, name="signal")
    a = layers.Conv1D(8, 5, padding="causal", dilation_rate=2, activation="tanh", name="causal")(x)
    b = layers.Conv1D(8, 3, padding="same", use_bias=False, name="same")(x)
    gate = layers.Activation("sigmoid", name="gate")(b)
    m = layers.Multiply(name="mul")([a, gate])
    c = layers.Concatenate(name="cat")([m, b])
    p = layers.MaxPooling1D(2, name="pool")(c)
    d = layers.Dense(6, name="dense_per_step", activation="relu")(p)
    r = layers.Reshape((12, 5), name="reshape")(d)
    f = layers.Flatten(name="flat")(r)
    y = layers.Dense(3, name="out")(f)
    return keras.Model(x, y, name="small_functional")


MODELS["small_sequential"] = (small_sequential, 0)
MODELS["small_functional"] = (small_functional, 0)
SHAPES = {"small_sequential": (28, 28, 1), "small_functional": (20, 4)}
WINDOWED = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
"""Classes whose kernel is (window..., C_in/groups, filters)."""


def _count(weights: list[Any]) -> int:
    return sum(math.prod(w.shape) for w in weights)


def _shape(tensor: Any) -> list[int]:
    return [int(d) for d in tensor.shape[1:]]


def macs(layer: Any) -> int:
    """The layer's MACs in convcalc's convention, from its kernel's shape in Keras."""
    base = keras.src.layers.convolutional
    out = math.prod(_shape(layer.output))
    if isinstance(layer, base.base_separable_conv.BaseSeparableConv):
        *window, c_in, multiplier = layer.depthwise_kernel.shape
        depthwise = out // layer.filters * c_in * multiplier * math.prod(window)
        return depthwise + out * math.prod(layer.pointwise_kernel.shape[:-1])
    if isinstance(layer, base.base_depthwise_conv.BaseDepthwiseConv):
        return out * math.prod(layer.kernel.shape[:-2])
    if isinstance(layer, base.base_conv_transpose.BaseConvTranspose):
        return math.prod(_shape(layer.input)) * math.prod(layer.kernel.shape[:-1])
    if type(layer) in (*WINDOWED, keras.layers.Dense):
        return out * math.prod(layer.kernel.shape[:-1])
    if hasattr(layer, "kernel"):
        raise SystemExit(f"{layer.name}: no MAC rule for {type(layer).__name__}")
    return 0


def counted(layer: Any) -> int:
    """The MACs PyTorch's FlopCounterMode counts (half its FLOPs) while the layer runs on zeros."""
    x = torch.zeros((1, *_shape(layer.input)))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(x)
    return int(counter.get_total_flops()) // 2


def record(model: keras.Model) -> dict[str, Any]:
    """The model's totals and one entry per layer (the InputLayer left out); each MAC count from a
    kernel's shape is checked against what the layer costs when Keras runs it on PyTorch."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if hasattr(layer, "kernel") or hasattr(layer, "depthwise_kernel"):
            assert macs(layer) == counted(layer), (layer.name, macs(layer), counted(layer))
        layers.append(
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "out": _shape(layer.output),
                "params": _count(layer.trainable_weights),
                "non_trainable": _count(layer.non_trainable_weights),
                "macs": macs(layer),
            }
        )
    params, non_trainable = _count(model.trainable_weights), _count(model.non_trainable_weights)
    assert params == sum(r["params"] for r in layers), model.name
    assert non_trainable == sum(r["non_trainable"] for r in layers), model.name
    assert params + non_trainable == model.count_params(), model.name
    return {
        "input": _shape(model.inputs[0]),
        "output": _shape(model.outputs[0]),
        "params": params,
        "non_trainable": non_trainable,
        "count_params": int(model.count_params()),
        "macs": sum(r["macs"] for r in layers),
        "layers": layers,
    }


def write(path: Path, models: dict[str, dict[str, Any]]) -> None:
    """The truth with one line per layer, for reading and diffs."""
    nets = []
    for name, t in sorted(models.items()):
        head = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in t.items() if k != "layers")
        rows = ",\n".join("    " + json.dumps(layer) for layer in t["layers"])
        nets.append(f' {json.dumps(name)}: {{{head}, "layers": [\n{rows}\n ]}}')
    text = (
        f'{{"keras": {json.dumps(keras.__version__)}, "torch": {json.dumps(torch.__version__)}, '
        '"command": "KERAS_BACKEND=torch /tmp/tvenv/bin/python tools/gen_keras_truth.py", "models": {\n'
        + ",\n".join(nets)
        + "\n}}"
    )
    path.write_text(text + "\n", encoding="utf-8")


def save_config(name: str) -> None:
    """Build the model in Keras (generated names start afresh, so every run names alike) and write its
    config (and the small Sequential model's .keras zip)."""
    make, side = MODELS[name]
    keras.backend.clear_session()
    if name in SHAPES:
        model = make(SHAPES[name])
        if name == "small_sequential":
            model.save(ROOT / "tests/data/keras" / f"{name}.keras")
    else:
        model = make(weights=None, include_top=True, input_shape=(side, side, 3))
    text = json.dumps(json.loads(model.to_json()), separators=(",", ":"))
    (ROOT / "tests/data/keras" / f"{name}.json").write_text(text + "\n")


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--configs"]
    names = args or list(MODELS)
    out_path = ROOT / "tests/data/keras_truth.json"
    models = json.loads(out_path.read_text())["models"] if out_path.exists() and args else {}
    for name in names:
        if "--configs" in sys.argv or not (ROOT / "tests/data/keras" / f"{name}.json").exists():
            save_config(name)
        text = (ROOT / "tests/data/keras" / f"{name}.json").read_text()
        models[name] = t = record(keras.models.model_from_json(text))
        print(f"{name}: {t['params']:,} trainable, {t['non_trainable']:,} non-trainable, {t['macs']:,} MACs")
    write(out_path, models)


if __name__ == "__main__":
    main()
