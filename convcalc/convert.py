"""`convcalc convert`: a model read from another format, written as a YAML spec that gives the same
numbers: the source's layer names kept, one flow mapping per layer, and the source line of each in a
comment; exact repeats folded into blocks where a block gives their layers the same names (`fold`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .fold import Run, runs

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


def to_yaml(data: Mapping[str, Any], *, source: str, flat: bool = False) -> str:
    """The spec text of a reader's data: top-level keys, the blocks its repeats fold into (none if
    `flat`), then each layer or block use with its source line."""
    shown = os.path.basename(source)
    noted = getattr(data["layers"], "notes", None)
    what = "its node there" if noted else "its line there"
    lines = [f"# Converted by convcalc from {shown}; every layer's comment is {what}."]
    for key in TOP:
        if data.get(key) is not None:
            value = data[key]
            if key == "input" and isinstance(value, list):
                value = "x".join(map(str, value))
            lines.append(f"{key}: {_flow(_plain(value))}")
    layers: Sequence[Any] = data["layers"]
    at = getattr(layers, "at", None) or [None] * len(layers)
    defaults = _defaults()
    rows: list[tuple[dict[str, Any], str]] = []
    previous = "input"
    for layer, pos in zip(layers, at, strict=True):
        note = getattr(layers, "notes", {}).get(layer.get("name")) if isinstance(layer, Mapping) else None
        comment = f"  # {shown}:{pos[0]}" if pos and pos[0] is not None else ""
        comment = comment or (f"  # {shown}: {note}" if note else "")
        rows.append((_idiomatic(_plain(layer), previous, defaults), comment))
        previous = layer.get("name", previous) if isinstance(layer, Mapping) else previous
    plain = [_plain(layer) for layer in layers]
    folded = [] if flat else runs(plain)
    found = [] if flat else runs(plain, keep_names=False)
    unfolded = [r for r in found if all(r.stop <= f.start or f.stop <= r.start for f in folded)]
    names = _block_names(folded)
    if folded:
        lines.append(
            "# A block's layers give the lines of its first repetition; a use, where each one starts."
        )
    lines += _unfolded(unfolded, plain, at, shown)
    lines += _blocks(folded, names, plain, rows, defaults)
    lines.append("layers:")
    lines += _uses(folded, names, rows, at, shown)
    if data.get("expect") is not None:
        lines.append(f"expect: {_flow(_plain(data['expect']))}")
    return "\n".join(lines) + "\n"


def _line(pos: Any) -> int | None:
    """The source line of a layer's position, if the reader gave one."""
    return pos[0] if pos and pos[0] is not None else None


def _where(shown: str, starts: Sequence[Any]) -> str:
    """`file:12, 40` for the source lines of some layers (one line once: a compact JSON file holds them
    all on line 1), or "" if the reader gave none."""
    found = [_line(pos) for pos in starts]
    if found and len(set(found)) == 1:
        found = found[:1]
    return f"{shown}:{', '.join(map(str, found))}" if found and None not in found else ""


def _unfolded(
    found: Sequence[Run], plain: Sequence[dict[str, Any]], at: Sequence[Any], shown: str
) -> list[str]:
    """A comment listing the repeats left unfolded because a block would rename their layers."""
    lines = ["# Repeated, but not folded into blocks (a block would rename their layers):"] if found else []
    lined = len({_line(pos) for pos in at}) > 1  # a compact JSON file has every layer on line 1
    for run in found:
        where = _where(shown, [at[run.start]]) if lined else ""
        lines.append(
            f"#   {run.repeat} x {run.size} layers from {plain[run.start]['name']}"
            + (f" ({where})" if where else "")
        )
    return lines


def _blocks(
    found: Sequence[Run],
    names: Sequence[str],
    plain: Sequence[dict[str, Any]],
    rows: Sequence[tuple[dict[str, Any], str]],
    defaults: dict[str, dict[str, Any]],
) -> list[str]:
    """The `blocks:` section: one block per folded run, its layers as in the run's first repetition."""
    if not found:
        return []
    lines = ["blocks:"]
    for run, block in zip(found, names, strict=True):
        assert run.naming is not None
        lines += [f"  {block}:", "    layers:"]
        local = run.naming.local
        for p in range(run.size):
            i = run.start + p
            layer = {k: v for k, v in plain[i].items() if k != "from"}
            layer["name"] = local[p]
            given = plain[i].get("from")
            reads = [given] if isinstance(given, str) else given
            if reads is not None:
                inside = {str(plain[run.start + q]["name"]): local[q] for q in range(p)}
                named = [inside.get(str(n), "in") for n in reads]
                if isinstance(given, list) or named != [local[p - 1] if p else "in"]:
                    layer["from"] = named if isinstance(given, list) else named[0]
            body = _idiomatic(layer, local[p - 1] if p else "in", defaults)
            lines.append(f"      - {_flow(_ordered(body))}{rows[i][1]}")
    return lines


def _block_names(found: Sequence[Run]) -> list[str]:
    """Each folded run's block name: its use's, made a name like `layer1`, and unique; for a run named
    by patterns (6_conv..11_shortcut), `unit_` and its first layer's name: unit_6_conv."""
    names: list[str] = []
    for run in found:
        assert run.naming is not None
        use = run.naming.use
        patterned = any("{" in local for local in run.naming.local)
        name = re.sub(r"\W", "_", f"unit_{use.split('..')[0]}" if patterned else use)
        name = name if name.isidentifier() else f"b_{name}"
        unique, n = name, 1
        while unique in names:
            n += 1
            unique = f"{name}_{n}"
        names.append(unique)
    return names


def _ordered(layer: dict[str, Any]) -> dict[str, Any]:
    """A layer with `type` and `name` first, as every spec writes them."""
    return {k: layer[k] for k in ("type", "name") if k in layer} | layer


def _uses(
    found: Sequence[Run],
    names: Sequence[str],
    rows: Sequence[tuple[dict[str, Any], str]],
    at: Sequence[Any],
    shown: str,
) -> list[str]:
    """The `layers:` list: each layer outside a run, and a block use for each run, whose comment gives
    the line where each repetition starts; a layer reading a run's last layer reads the use."""
    lines: list[str] = []
    renamed: dict[str, str] = {}
    i = 0
    for run, block in zip(found, names, strict=True):
        lines += [f"  - {_flow(_reading(rows[j][0], renamed))}{rows[j][1]}" for j in range(i, run.start)]
        assert run.naming is not None
        use: dict[str, Any] = {"block": block, "name": run.naming.use, "repeat": run.repeat}
        if run.naming.names is not None:
            use["names"] = run.naming.names
        starts = [at[run.start + k * run.size] for k in range(run.repeat)]
        comment = f"  # {_where(shown, starts)}" if _where(shown, starts) else rows[run.start][1]
        lines.append(f"  - {_flow(_reading(use, renamed))}{comment}")
        renamed[str(rows[run.stop - 1][0]["name"])] = run.naming.use
        i = run.stop
    lines += [f"  - {_flow(_reading(rows[j][0], renamed))}{rows[j][1]}" for j in range(i, len(rows))]
    return lines


def _reading(layer: dict[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """A layer whose `from:` names a folded run's last layer, reading the run's use instead."""
    given = layer.get("from")
    if given is None or not renamed:
        return layer
    if isinstance(given, list):
        return layer | {"from": [renamed.get(str(n), n) for n in given]}
    return layer | {"from": renamed.get(str(given), given)}


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
