"""A resolved network as plain data: the JSON contract and the rows every table shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import formulas as fm
from . import kinds
from .kinds.window import Deconv, Pool
from .model import (
    CheckStatus,
    Finding,
    Group,
    Kind,
    LayerCheck,
    Layout,
    Network,
    PadMode,
    Resolved,
)
from .values import frozen

if TYPE_CHECKING:
    from fractions import Fraction

    from .errors import SpecError

JSON_VERSION = 2
KIND_FIELDS = (
    "mode",
    "adaptive_output",
    "count_pad",
    "rounding",
    "groups",
    "affine",
    "fn",
    "p",
    "axis",
    "sizes",
    "chunks",
    "part",
    "offset",
    "stands_for",
)
"""The JSON fields some kinds fill (`json_fields`): null for the others, so every layer has every field."""


@frozen
class Column:
    """One table column: its title, how a layer fills it, and how the totals row does."""

    title: str
    cell: Callable[[Resolved, Network], str]
    total: Callable[[Network], str]
    numeric: bool = False
    fixed: bool = False
    """Never shrinks or wraps (shapes and numbers); other columns fold."""


def _none(net: Network) -> str:
    return ""


def _why_no_field(r: Resolved, net: Network) -> str | None:
    """Why a layer without a field may not see the whole input (None when it does): after an fc or a
    global pool it does; after an adaptive pool (windows of varying size), or a layer whose outputs do not
    step evenly over its input (upsample, reshape), and until one of those, it need not."""
    why: str | None = None
    for p in net.layers[: r.index]:
        if isinstance(p.layer, Pool) and p.layer.adaptive:
            why = None if all(o == 1 for o in p.output.spatial) else "an adaptive pool's windows vary in size"
        elif p.layer.kind is Kind.FC or p.layer.kind is Kind.GLOBAL_POOL:
            why = None
        elif p.field is None and p.layer.kind is not Kind.FLATTEN and p.output.positive:
            had = net.layers[p.index - 2].field if p.index > 1 else net.input.spatial
            if had:
                why = f"{p.layer.name}'s outputs do not step evenly over its input"
    return why


def sees_everything(r: Resolved, net: Network) -> bool:
    """Whether a layer without a field sees the whole input (see `_why_no_field`)."""
    return _why_no_field(r, net) is None


def field_gap(r: Resolved, net: Network) -> str:
    """Why a layer's receptive field is not computed."""
    return _why_no_field(r, net) or "unknown"


def _rf_cell(r: Resolved, net: Network) -> str:
    """196 (16): the field's size and, in brackets, its jump; per axis when they differ."""
    if r.field is None:
        if not net.input.spatial or r.layer.kind is Kind.FLATTEN or not r.output.positive:
            return ""
        return "all" if sees_everything(r, net) else "varies"
    size = fm.fractions([f.size for f in r.field])
    jump = fm.fractions([f.jump for f in r.field])
    return f"{size} ({jump})"


COLUMN_SET: dict[str, Column] = {
    "index": Column("#", lambda r, n: str(r.index), _none, numeric=True, fixed=True),
    "name": Column("name", lambda r, n: r.layer.name, lambda n: "total"),
    "type": Column("type", lambda r, n: type_cell(r), _none),
    "window": Column("filter/stride/pad", lambda r, n: window_cell(r), _none),
    "input": Column("input", lambda r, n: r.input.show(n.order), lambda n: n.input.show(n.order), fixed=True),
    "output": Column(
        "output", lambda r, n: output_cell(r, n.order), lambda n: n.output.show(n.order), fixed=True
    ),
    "params": Column(
        "params", lambda r, n: fm.number(r.params), lambda n: fm.number(n.params), numeric=True, fixed=True
    ),
    "fc": Column(
        "FC-equivalent",
        lambda r, n: "" if r.fc_params is None else fm.number(r.fc_params),
        lambda n: fm.number(sum(r.fc_params or 0 for r in n.layers)),
        numeric=True,
        fixed=True,
    ),
    "macs": Column(
        "MACs", lambda r, n: fm.number(r.macs), lambda n: fm.number(n.macs), numeric=True, fixed=True
    ),
    "rf": Column("RF (jump)", _rf_cell, _none, numeric=True, fixed=True),
    "activations": Column(
        "activations",
        lambda r, n: fm.number(r.activations * n.sizing.batch),
        lambda n: fm.number(n.batch_activations),
        numeric=True,
        fixed=True,
    ),
    "memory": Column(
        "memory",
        lambda r, n: fm.size(r.activations * n.sizing.batch * n.sizing.dtype.bytes) if r.activations else "",
        lambda n: fm.size(n.activation_bytes),
        numeric=True,
        fixed=True,
    ),
}
"""Every column a table can show, by the name `--columns` takes."""
DEFAULT_COLUMNS = ("index", "name", "type", "window", "input", "output", "params", "fc", "macs")
NARROW_ORDER = ("fc", "input", "activations", "memory", "rf", "window", "type", "macs", "index")
"""Columns dropped first when a table does not fit its width; name, output and params stay; the type
outlives the window, which alone cannot tell a conv from a pool."""
COLUMNS = tuple(COLUMN_SET[k].title for k in DEFAULT_COLUMNS)
"""The default column titles, shared by the table, Markdown and CSV writers."""


def finding_json(f: Finding) -> dict[str, Any]:
    """One finding as the object used wherever findings appear."""
    return {
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "severity": f.severity.value,
        "code": f.code.value,
        "layer": f.layer,
        "layer_name": f.layer_name,
        "message": f.message,
        "fixes": list(f.fixes),
    }


def _window(r: Resolved) -> dict[str, Any] | None:
    if not r.axes:
        return None
    window: dict[str, Any] = {
        "size": [a.size for a in r.axes],
        "stride": [a.stride for a in r.axes],
        "pad": [a.pad for a in r.axes],
        "pad_end": [a.end_pad for a in r.axes],
        "dilation": [a.dilation for a in r.axes],
        "pad_mode": getattr(r.layer, "pad_mode", PadMode.EXPLICIT).value,
    }
    if isinstance(r.layer, Deconv):
        window["output_pad"] = [a.output_pad for a in r.axes]
    return window


def _json_number(x: int | Fraction) -> int | float:
    if type(x) is int:
        return x
    return int(x) if x.denominator == 1 else float(x)


def field_json(r: Resolved) -> dict[str, list[int | float]] | None:
    """The receptive field per axis: size, jump and start, in network input pixels."""
    if r.field is None:
        return None
    return {key: [_json_number(getattr(f, key)) for f in r.field] for key in ("size", "jump", "start")}


def exact_number(x: float | Fraction) -> float:
    """An exact fractional size as JSON gives it (run, layer and solve alike): four decimals, more when
    four would make a fraction look whole."""
    value = float(x)
    for digits in range(4, 10):
        rounded = round(value, digits)
        if rounded != int(rounded) or value == int(value):
            return rounded
    return value


def exact_text(r: Resolved) -> str:
    """The exact output size per axis for CSV: 2.3333, or 2.3333x5.5 when the axes differ; blank if whole."""
    if not r.fractional:
        return ""
    values = [repr(exact_number(a.exact)) for a in r.axes]
    return values[0] if len(set(values)) == 1 else "x".join(values)


def _type(r: Resolved) -> str:
    return r.layer.kind.value


def layer_json(
    r: Resolved,
    net: Network,
    check: LayerCheck | None = None,
    inputs: list[str] | None = None,
    path: list[str | int] | None = None,
) -> dict[str, Any]:
    """One resolved layer as JSON, with what running it showed when checked; `inputs` names the layers
    it reads (the one before it, by default) and `path` its place in the blocks (its name, by default)."""
    layer = r.layer
    before = net.layers[r.index - 2].layer.name if r.index > 1 else "input"
    return {
        "index": r.index,
        "name": layer.name,
        "type": _type(r),
        "line": layer.where.line,
        "inputs": inputs if inputs is not None else [before],
        "path": path if path is not None else [layer.name],
        "input_shape": list(r.input.written(net.order)),
        "output_shape": list(r.output.written(net.order)) if r.output.positive else None,
        "params": r.params,
        "non_trainable_params": r.non_trainable,
        "fc_params": r.fc_params,
        "macs": r.macs,
        "activations": r.activations * net.sizing.batch,
        "activation_bytes": r.activations * net.sizing.batch * net.sizing.dtype.bytes,
        "receptive_field": field_json(r),
        "fractional": r.fractional,
        "exact_output": [exact_number(a.exact) for a in r.axes] if r.fractional else None,
        "window": _window(r),
        **dict.fromkeys(KIND_FIELDS),
        **kinds.of(layer).json_fields(r),
        "check": check.status.value if check else None,
        "checked_shape": _ordered(check.shape, net.order) if check and check.shape else None,
    }


def json_text(data: dict[str, Any]) -> str:
    """convcalc's one JSON layout (run, layer, solve): indented at the top, one compact line per item of a
    list of objects (layers, findings, solutions): readable, and fast to write."""
    import json

    lines = []
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = ",\n".join(f"    {json.dumps(v)}" for v in value)
            lines.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def totals_json(net: Network) -> dict[str, Any]:
    """The network's totals; bytes follow the sizing (element type, batch, optimizer)."""
    return {
        "params": net.params,
        "trainable_params": net.params,
        "non_trainable_params": net.non_trainable,
        "fc_params": sum(r.fc_params or 0 for r in net.layers),
        "macs": net.macs,
        "flops": net.flops,
        "activations": net.batch_activations,
        "activation_bytes": net.activation_bytes,
        "param_bytes": net.param_bytes,
        "training_bytes": net.training_bytes,
        **_peak_json(net),
    }


def _peak_json(net: Network) -> dict[str, Any]:
    elements, at = net.peak()
    batch = elements * net.sizing.batch
    return {
        "peak_activations": batch,
        "peak_activation_bytes": batch * net.sizing.dtype.bytes,
        "peak_at": net.layers[at - 1].layer.name if at else "input",
        "peak_in_place": net.sizing.in_place,
    }


def to_json(net: Network) -> dict[str, Any]:
    """The whole network as convcalc's stable JSON structure (version 1)."""
    return {
        "version": JSON_VERSION,
        "name": net.spec.name,
        "file": net.spec.file,
        "input_shape": list(net.input.written(net.order)),
        "output_shape": list(net.output.written(net.order)) if net.output.positive else None,
        "sizing": {
            "dtype": net.sizing.dtype.value,
            "batch": net.sizing.batch,
            "optimizer": net.sizing.optimizer.value,
        },
        "layers": _layers_json(net),
        "blocks": _blocks_json(net),
        "totals": totals_json(net),
        "diagnostics": [finding_json(f) for f in net.findings],
    }


def _layers_json(net: Network) -> list[dict[str, Any]]:
    """Every layer, with what it reads and its path through the blocks (["layer2", 0, "conv1"])."""
    names = ["input", *(r.layer.name for r in net.layers)]
    paths: dict[int, list[str | int]] = {}
    if net.spec.groups:
        chain: list[Group] = []
        for entry, _level, _parent in tree(net):
            if isinstance(entry, Group):
                while chain and chain[-1].last < entry.first:
                    chain.pop()
                chain.append(entry)
                continue
            while chain and chain[-1].last < entry:
                chain.pop()
            parts: list[str | int] = []
            outer = ""
            for g in chain:
                step = g.name.removeprefix(outer + ".") if outer else g.name
                parts.append(int(step) if step.isdigit() else step)
                outer = g.name
            name = names[entry]
            parts.append(name.removeprefix(outer + ".") if outer else name)
            paths[entry] = parts
    return [
        layer_json(r, net, c, [names[s] for s in net.spec.sources(r.index)], paths.get(r.index))
        for r, c in zip(net.layers, _checks(net), strict=True)
    ]


def _blocks_json(net: Network) -> list[dict[str, Any]]:
    """Every block instance: its block, layers (first and last index), depth, arguments and totals."""
    return [
        {
            "name": g.name,
            "block": g.block,
            "first": g.first,
            "last": g.last,
            "depth": g.depth,
            "repeat": g.repeat or None,
            "args": dict(g.args),
            "params": sum(r.params for r in net.layers[g.first - 1 : g.last]),
            "macs": sum(r.macs for r in net.layers[g.first - 1 : g.last]),
        }
        for g in net.spec.groups
    ]


def window_cell(r: Resolved) -> str:
    """5/1/2 for filter 5, stride 1, pad 2; dilation and groups appended when set."""
    return kinds.of(r.layer).window_cell(r)


def type_cell(r: Resolved) -> str:
    """conv, fc, deconv, bn, the pooling mode (max pool, avg pool, adaptive avg), the function (act relu)."""
    return kinds.of(r.layer).type_cell(r)


def _ordered(dims: tuple[int, ...], layout: Layout) -> list[int]:
    """Spatial sizes then channels, put in a layout's order."""
    return [dims[-1], *dims[:-1]] if layout is Layout.CHW and len(dims) > 1 else list(dims)


def output_cell(r: Resolved, layout: Layout = Layout.HWC) -> str:
    """The output shape in a layout's order, with the exact fractional size beside it."""
    text = r.output.show(layout)
    if r.fractional:
        text += f" ({fm.exact_note(r.axes)})"
    return text


def _checks(net: Network) -> list[LayerCheck | None]:
    return list(net.checks) if net.checks is not None else [None] * len(net.layers)


def column_keys(net: Network, keys: Sequence[str] | None = None) -> tuple[str, ...]:
    """The chosen columns (the default ones if none), with a check column when the network was checked."""
    chosen = tuple(keys or DEFAULT_COLUMNS)
    return (*chosen, "check") if net.checks is not None and "check" not in chosen else chosen


def columns(net: Network, keys: Sequence[str] | None = None) -> tuple[str, ...]:
    """The column titles."""
    return tuple("check" if k == "check" else COLUMN_SET[k].title for k in column_keys(net, keys))


def check_cell(c: LayerCheck | None) -> str:
    """✓, ✗ with the real shape, or - when the layer could not run."""
    if c is None or c.status is CheckStatus.SKIPPED:
        return "-"
    if c.status is CheckStatus.OK:
        return "✓"
    return "✗ " + fm.product(c.shape or ())


def numeric(key: str) -> bool:
    """Whether a column holds numbers (right-aligned)."""
    return key != "check" and COLUMN_SET[key].numeric


def rows(net: Network, keys: Sequence[str] | None = None, depth: int | None = None) -> list[tuple[str, ...]]:
    """One row of cells per layer, in `columns(net, keys)` order, numbers with thousands separators; for
    a network of blocks, a tree: each block instance a row with its totals, its layers indented under it,
    and the levels deeper than `depth` folded into their block's row."""
    chosen = column_keys(net, keys)
    checks = _checks(net)
    if not net.spec.groups:
        return [
            tuple(check_cell(c) if k == "check" else COLUMN_SET[k].cell(r, net) for k in chosen)
            for r, c in zip(net.layers, checks, strict=True)
        ]
    out = []
    for entry, level, parent in shown(net, depth):
        indent = "  " * level
        if isinstance(entry, Group):
            cells = _group_cells(entry, net, chosen, checks, entry.repeat)
            name = entry.name.removeprefix(parent + ".") if parent else entry.name
        else:
            r = net.layers[entry - 1]
            cells = {
                k: check_cell(checks[entry - 1]) if k == "check" else COLUMN_SET[k].cell(r, net)
                for k in chosen
            }
            name = r.layer.name.removeprefix(parent + ".") if parent else r.layer.name
        cells["name"] = indent + name
        out.append(tuple(cells[k] for k in chosen))
    return out


def shown(net: Network, depth: int | None = None) -> list[tuple[Group | int, int, str]]:
    """The rows a table shows, as `tree` gives them, to `depth` (a chain: one per layer)."""
    if not net.spec.groups:
        return [(r.index, 0, "") for r in net.layers]
    return [row for row in tree(net) if depth is None or row[1] <= depth]


def row_layers(net: Network, depth: int | None = None) -> list[int | None]:
    """For each row of the table, the layer it shows (1-based), or None for a block instance's row."""
    return [entry if isinstance(entry, int) else None for entry, _, _ in shown(net, depth)]


def tree(net: Network) -> list[tuple[Group | int, int, str]]:
    """The rows of a network of blocks in order: each block instance (a Group) before its layers (their
    1-based indices), with its nesting level and the name of the instance it sits in ('' at the top)."""
    groups = sorted(net.spec.groups, key=lambda g: (g.first, -g.last, g.depth))
    out: list[tuple[Group | int, int, str]] = []
    stack: list[Group] = []
    g = 0
    for index in range(1, len(net.layers) + 1):
        while stack and stack[-1].last < index:
            stack.pop()
        while g < len(groups) and groups[g].first == index:
            if groups[g].last >= index:  # an instance with no layers (all left out by 'if') has no row
                out.append((groups[g], len(stack), stack[-1].name if stack else ""))
                stack.append(groups[g])
            g += 1
        out.append((index, len(stack), stack[-1].name if stack else ""))
    return out


def _group_cells(
    g: Group, net: Network, chosen: Sequence[str], checks: list[LayerCheck | None], repeated: int
) -> dict[str, str]:
    """A block instance's row: its block (x the times it repeats), the input of its first layer, the
    output of its last, and its layers' totals."""
    inside = net.layers[g.first - 1 : g.last]
    batch, item = net.sizing.batch, net.sizing.dtype.bytes
    held = sum(r.activations for r in inside)
    fc = [r.fc_params for r in inside if r.fc_params is not None]
    verdicts = [checks[i - 1] for i in range(g.first, g.last + 1)]
    cells = {
        "index": "",
        "type": f"{g.block} x{repeated}" if repeated else g.block,
        "window": "",
        "input": inside[0].input.show(net.order),
        "output": output_cell(inside[-1], net.order),
        "params": fm.number(sum(r.params for r in inside)),
        "fc": fm.number(sum(fc)) if fc else "",
        "macs": fm.number(sum(r.macs for r in inside)),
        "rf": COLUMN_SET["rf"].cell(inside[-1], net),
        "activations": fm.number(held * batch),
        "memory": fm.size(held * batch * item) if held else "",
        "check": "" if all(v is None for v in verdicts) else _group_check(verdicts),
    }
    return {k: cells.get(k, "") for k in chosen}


def _group_check(verdicts: list[LayerCheck | None]) -> str:
    """✓ when every layer of the instance ran as resolved, else the first verdict that did not."""
    for v in verdicts:
        if v is None or v.status is not CheckStatus.OK:
            return check_cell(v)
    return "✓"


def totals_row(net: Network, keys: Sequence[str] | None = None) -> tuple[str, ...]:
    """The totals row, aligned with `columns(net, keys)`."""
    return tuple("" if k == "check" else COLUMN_SET[k].total(net) for k in column_keys(net, keys))


def _peak_line(net: Network) -> str:
    """The inference peak: the most activations alive at once, each freed after its last reader."""
    elements, at = net.peak()
    where = net.layers[at - 1].layer.name if at else "the input"
    batch = elements * net.sizing.batch
    return (
        f"peak         {fm.number(batch)} = {fm.size(batch * net.sizing.dtype.bytes)} at {where} "
        "(inference: each tensor freed after its last reader"
        + ("; act and dropout in place)" if net.sizing.in_place else "; no layer in place)")
    )


def summary(net: Network) -> list[str]:
    """The totals a table has no column for: trainable or not, FLOPs, activations and memory."""
    s = net.sizing
    dtype = s.dtype.value
    batch = f", batch {s.batch}" if s.batch != 1 else ""
    lines = [
        f"params       {fm.number(net.params)} trainable + {fm.number(net.non_trainable)} non-trainable"
        f" = {fm.size(net.param_bytes)} {dtype}",
        f"compute      {fm.number(net.macs)} MACs = {fm.number(net.flops)} FLOPs (1 MAC = 2 FLOPs)",
        f"activations  {fm.number(net.batch_activations)} with the input{batch}"
        f" = {fm.size(net.activation_bytes)} {dtype}",
        _peak_line(net),
        f"training     ~{fm.size(net.training_bytes)} = 2 x activations + (2 + {s.optimizer.states} "
        f"{s.optimizer.value}) x params" + (" + running stats" if net.non_trainable else ""),
    ]
    return lines


def location(f: Finding) -> str:
    """file:line:column, whichever parts are known."""
    return ":".join(str(p) for p in (f.file, f.line, f.column) if p is not None)


def diagnostic(where: str, severity: str, code: str, message: str) -> str:
    """The one finding-to-text form, file:line:col: severity[code] message, without `: ` when no location."""
    head = f"{where}: " if where else ""
    return f"{head}{severity}[{code}] {message}"


def fix_text(f: Finding) -> str:
    """`; fix: a or b`, or nothing when the finding has no fix."""
    return f"; fix: {' or '.join(f.fixes)}" if f.fixes else ""


def finding_line(f: Finding, *, fixes: bool = False) -> str:
    """One finding in the linter form, with `; fix: ...` when asked (lint's text format); not escaped."""
    return diagnostic(location(f), f.severity.value, f.code.value, f.message + (fix_text(f) if fixes else ""))


def invalid_json(e: SpecError) -> dict[str, Any]:
    """A file that is not a valid spec, as an entry among networks: no layers, its one diagnostic."""
    return {
        "version": JSON_VERSION,
        "name": None,
        "file": e.file,
        "valid": False,
        "diagnostics": [
            {
                "file": e.file,
                "line": e.line,
                "column": e.column,
                "severity": "error",
                "code": "spec-invalid",
                "layer": None,
                "layer_name": None,
                "message": e.message,
                "fixes": [],
            }
        ],
    }
