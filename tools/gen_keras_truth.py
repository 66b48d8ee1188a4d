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

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "vgg16": (keras.applications.VGG16, 224),
    "mobilenet": (keras.applications.MobileNet, 224),
    "mobilenet_v2": (keras.applications.MobileNetV2, 224),
    "resnet50": (keras.applications.ResNet50, 224),
    "densenet121": (keras.applications.DenseNet121, 224),
    "inception_v3": (keras.applications.InceptionV3, 299),
    "xception": (keras.applications.Xception, 299),
}


def _count(weights: list[object]) -> int:
    return sum(int(keras.ops.size(w)) for w in weights)


def main() -> None:
    names = sys.argv[1:] or list(MODELS)
    out_path = ROOT / "tests/data/keras_truth.json"
    truth = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in names:
        make, side = MODELS[name]
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
