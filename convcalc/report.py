"""A resolved network as plain data: the JSON contract and the rows every table shares."""

from __future__ import annotations

from typing import Any

from . import formulas as fm
from .model import FC, CheckStatus, Conv, Finding, LayerCheck, Network, Pool, Resolved

JSON_VERSION = 1

COLUMNS = (
    "#",
    "name",
    "type",
    "filter/stride/pad",
    "input",
    "output",
    "params",
    "FC-equivalent",
    "MACs",
)
"""Column titles, shared by the table, Markdown and CSV writers."""


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


def _window(r: Resolved) -> dict[str, list[int]] | None:
    if not r.axes:
        return None
    return {
        "size": [a.size for a in r.axes],
        "stride": [a.stride for a in r.axes],
        "pad": [a.pad for a in r.axes],
        "dilation": [a.dilation for a in r.axes],
    }


def _type(r: Resolved) -> str:
    return r.layer.kind.value


def layer_json(r: Resolved, check: LayerCheck | None = None) -> dict[str, Any]:
    """One resolved layer as JSON, with what running it showed when checked."""
    layer = r.layer
    return {
        "index": r.index,
        "name": layer.name,
        "type": _type(r),
        "line": layer.where.line,
        "input_shape": list(r.input.dims),
        "output_shape": list(r.output.dims),
        "params": r.params,
        "fc_params": r.fc_params,
        "macs": r.macs,
        "fractional": r.fractional,
        "exact_output": [round(a.exact, 4) for a in r.axes] if r.fractional else None,
        "window": _window(r),
        "mode": layer.mode.value if isinstance(layer, Pool) else None,
        "groups": layer.groups if isinstance(layer, Conv) else None,
        "check": check.status.value if check else None,
        "checked_shape": list(check.shape) if check and check.shape else None,
    }


def to_json(net: Network) -> dict[str, Any]:
    """The whole network as convcalc's stable JSON structure (version 1)."""
    return {
        "version": JSON_VERSION,
        "name": net.spec.name,
        "file": net.spec.file,
        "input_shape": list(net.input.dims),
        "output_shape": list(net.output.dims),
        "layers": [layer_json(r, c) for r, c in zip(net.layers, _checks(net), strict=True)],
        "totals": {
            "params": net.params,
            "fc_params": sum(r.fc_params or 0 for r in net.layers),
            "macs": net.macs,
        },
        "diagnostics": [finding_json(f) for f in net.findings],
    }


def window_cell(r: Resolved) -> str:
    """5/1/2 for filter 5, stride 1, pad 2; dilation and groups appended when set."""
    layer = r.layer
    if isinstance(layer, FC):
        return ""

    cell = "/".join(fm.setting([getattr(a, key) for a in r.axes]) for key in ("size", "stride", "pad"))
    if isinstance(layer, Conv):
        if any(a.dilation > 1 for a in r.axes):
            cell += f" d{fm.setting([a.dilation for a in r.axes])}"
        if layer.groups > 1:
            cell += f" g{layer.groups}"
    if isinstance(layer, Pool) and layer.ceil:
        cell += " ceil"
    return cell


def type_cell(r: Resolved) -> str:
    """conv, fc, or the pooling mode: max pool, avg pool."""
    layer = r.layer
    return f"{layer.mode.value} pool" if isinstance(layer, Pool) else layer.kind.value


def output_cell(r: Resolved) -> str:
    """The output shape, with the exact fractional size beside it."""
    text = str(r.output)
    if r.fractional:
        exacts = [fm.ratio(a) for a in r.axes]
        text += f" ({exacts[0] if len(set(exacts)) == 1 else 'x'.join(exacts)})"
    return text


def _checks(net: Network) -> list[LayerCheck | None]:
    return list(net.checks) if net.checks is not None else [None] * len(net.layers)


def columns(net: Network) -> tuple[str, ...]:
    """The column titles, with a check column when the network was checked."""
    return (*COLUMNS, "check") if net.checks is not None else COLUMNS


def check_cell(c: LayerCheck | None) -> str:
    """✓, ✗ with the real shape, or - when the layer could not run."""
    if c is None or c.status is CheckStatus.SKIPPED:
        return "-"
    if c.status is CheckStatus.OK:
        return "✓"
    return "✗ " + fm.product(c.shape or ())


def rows(net: Network) -> list[tuple[str, ...]]:
    """One row of cells per layer, in `columns(net)` order, numbers with thousands separators."""
    checked = net.checks is not None
    return [
        (
            str(r.index),
            r.layer.name,
            type_cell(r),
            window_cell(r),
            str(r.input),
            output_cell(r),
            fm.number(r.params),
            "" if r.fc_params is None else fm.number(r.fc_params),
            fm.number(r.macs),
            *((check_cell(c),) if checked else ()),
        )
        for r, c in zip(net.layers, _checks(net), strict=True)
    ]


def totals_row(net: Network) -> tuple[str, ...]:
    """The totals row, aligned with `columns(net)`."""
    fc_total = sum(r.fc_params or 0 for r in net.layers)
    cells = ("", "total", "", "", str(net.input), str(net.output))
    numbers = (fm.number(net.params), fm.number(fc_total), fm.number(net.macs))
    return (*cells, *numbers, *(("",) if net.checks is not None else ()))


def location(f: Finding) -> str:
    """file:line:column, whichever parts are known."""
    return ":".join(str(p) for p in (f.file, f.line, f.column) if p is not None)


def finding_line(f: Finding) -> str:
    """One finding in the linter form: file:line:col: severity[code] message."""
    where = location(f)
    head = f"{where}: " if where else ""
    return f"{head}{f.severity.value}[{f.code.value}] {f.message}"
