"""Readers of other formats (Caffe prototxt, Darknet cfg, ONNX, Keras config): each turns its source into
the located data a YAML spec would give, and builds it, so errors point at the source file's lines."""

from __future__ import annotations

import re

READERS = {
    ".prototxt": "caffe",
    ".cfg": "darknet",
    ".onnx": "onnx",
    ".keras": "keras",
}
"""A file's extension to the module of `convcalc.readers` that reads it (imported when used)."""

_KERAS = re.compile(
    r'\s*\{\s*(?:"module"\s*:\s*"[^"]*"\s*,\s*)?"class_name"\s*:\s*"(?:Sequential|Functional|Model)"'
)


def by_content(text: str) -> str | None:
    """The reader of a text whose extension says nothing: "keras" for a `model.to_json()` (it opens
    with the model's class), else None (YAML)."""
    return "keras" if _KERAS.match(text) else None
