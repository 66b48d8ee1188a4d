"""`convcalc convert`: a model read from another format, written as a YAML spec that gives the same
numbers: the source's layer names kept, one flow mapping per layer, and the source line of each in a
comment."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

TOP = ("name", "input", "layout")
"""The top-level keys written before the layers, in this order."""


def _flow(value: Any) -> str:
    """A value in YAML's flow style on one line, quoted where YAML would read it otherwise."""
    import yaml

    text: str = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 30)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _plain(value: Any) -> Any:
    """Located mappings and lists as plain ones, for the YAML emitter."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_yaml(data: Mapping[str, Any], *, source: str) -> str:
    """The spec text of a reader's data: top-level keys, then each layer with its source line."""
    shown = os.path.basename(source)
    lines = [f"# Converted by convcalc from {shown}; every layer's comment is its line there."]
    for key in TOP:
        if data.get(key) is not None:
            value = data[key]
            if key == "input" and isinstance(value, list):
                value = "x".join(map(str, value))
            lines.append(f"{key}: {_flow(_plain(value))}")
    lines.append("layers:")
    layers: Sequence[Any] = data["layers"]
    at = getattr(layers, "at", None) or [None] * len(layers)
    defaults = _defaults()
    previous = "input"
    for layer, pos in zip(layers, at, strict=True):
        note = getattr(layers, "notes", {}).get(layer.get("name")) if isinstance(layer, Mapping) else None
        comment = f"  # {shown}:{pos[0]}" if pos and pos[0] is not None else ""
        comment = comment or (f"  # {shown}: {note}" if note else "")
        lines.append(f"  - {_flow(_idiomatic(_plain(layer), previous, defaults))}{comment}")
        previous = layer.get("name", previous) if isinstance(layer, Mapping) else previous
    if data.get("expect") is not None:
        lines.append(f"expect: {_flow(_plain(data['expect']))}")
    return "\n".join(lines) + "\n"


def _defaults() -> dict[str, dict[str, Any]]:
    """Each kind's keys with a default, and the default, as the spec schema documents them."""
    import json

    from .schema import text

    defs = json.loads(text())["$defs"]
    return {
        kind: {k: v["default"] for k, v in defs[kind].get("properties", {}).items() if "default" in v}
        for kind in defs["layer"]["properties"]["type"]["enum"]
        if kind in defs
    }


def _idiomatic(layer: dict[str, Any], previous: str, defaults: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A layer as a person would write it: no `from:` naming the layer before it, no key at its default."""
    if layer.get("from") == previous:
        del layer["from"]
    kept = dict(defaults.get(str(layer.get("type")), {}))
    kept.pop("part", None)  # a split without a part is every part: the reader's one part stays
    return {k: v for k, v in layer.items() if k not in kept or kept[k] != v}


def write(text: str, out: str) -> None:
    """Write the spec to `out` whole or not at all: to a temporary file beside it, then renamed."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(out))
    handle, temporary = tempfile.mkstemp(prefix=".convcalc-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, out)
    except BaseException:
        os.unlink(temporary)
        raise
