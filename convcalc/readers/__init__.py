"""Readers of other formats (Caffe prototxt, Darknet cfg, Keras config): each turns its text into the
located data a YAML spec would give, and builds it, so errors point at the source file's lines."""

from __future__ import annotations

READERS = {
    ".prototxt": "caffe",
    ".cfg": "darknet",
    ".keras": "keras",
}
"""A file's extension to the module of `convcalc.readers` that reads it (imported when used)."""
