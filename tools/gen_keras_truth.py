"""Record keras.applications configs and Keras's own counts as convcalc's Keras ground truth.

Run in a scratch venv with Keras 3 on the PyTorch backend (no weights are downloaded):
    KERAS_BACKEND=torch /tmp/tvenv/bin/python tools/gen_keras_truth.py
Writes tests/data/keras/<name>.json (each `model.to_json()`, compacted: a config holds no weights) and
tests/data/keras_truth.json: per model the total, trainable and non-trainable counts of
`model.count_params()` and the weights, and every layer's output shape (batch axis left out).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras

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


def _count(weights: list[object]) -> int:
    return sum(int(keras.ops.size(w)) for w in weights)


def main() -> None:
    names = sys.argv[1:] or list(MODELS)
    out_path = ROOT / "tests/data/keras_truth.json"
    truth = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in names:
        make, side = MODELS[name]
        if name in SHAPES:
            model = make(SHAPES[name])
            if name == "small_sequential":
                model.save(ROOT / "tests/data/keras" / f"{name}.keras")
        else:
            model = make(weights=None, include_top=True, input_shape=(side, side, 3))
        text = json.dumps(json.loads(model.to_json()), separators=(",", ":"))
        (ROOT / "tests/data/keras" / f"{name}.json").write_text(text + "\n")
        shapes = {}
        for layer in model.layers:
            shape = layer.output.shape
            shapes[layer.name] = [int(d) for d in shape[1:]]
        truth[name] = {
            "keras": keras.__version__,
            "params": int(model.count_params()),
            "trainable": _count(model.trainable_weights),
            "non_trainable": _count(model.non_trainable_weights),
            "shapes": shapes,
        }
        print(name, truth[name]["params"], truth[name]["trainable"], truth[name]["non_trainable"])
    out_path.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
