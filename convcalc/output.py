"""Everything that writes: the rich table, Markdown, CSV, JSON and the formula sheet."""

from __future__ import annotations

import enum
import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from . import formulas as fm
from .findings import about_input, notes_line
from .model import Field, Finding, Network, Resolved, Severity
from .report import (
    COLUMN_SET,
    NARROW_ORDER,
    column_keys,
    columns,
    finding_line,
    numeric,
    rows,
    sees_everything,
    summary,
    to_json,
    totals_row,
)

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


@dataclass(frozen=True, slots=True)
class View:
    """What to show: the columns chosen (None for the defaults, fitted to the width) and explanations."""

    columns: tuple[str, ...] | None = None
    explain: bool = False
    notes: bool = True
    """Every info finding in full; else one line sums them up (run's table, without --notes)."""


class Format(enum.Enum):
    """Output formats shared by every command."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"


def _json_text(data: dict[str, object]) -> str:
    """Indented at the top, one compact line per layer and finding: readable, and fast to write."""
    import json

    lines = []
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = ",\n".join(f"    {json.dumps(v)}" for v in value)
            lines.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def _explained(net: Network) -> dict[str, object]:
    data = to_json(net)
    for item, r in zip(data["layers"], net.layers, strict=True):
        item["explain"] = explain_lines(r, net)
    return data


def write_json(nets: list[Network], out: TextIO, view: View = View()) -> None:
    """One network as an object, several as a list; with explain, each layer's formulas as lines."""
    texts = [_json_text(_explained(n) if view.explain else to_json(n)) for n in nets]
    out.write((texts[0] if len(texts) == 1 else "[\n" + ",\n".join(texts) + "\n]") + "\n")


def write_csv(nets: list[Network], out: TextIO, view: View = View()) -> None:
    """Plain numbers (no separators) with a leading spec column, one header for all."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("spec", *columns(nets[0], view.columns)))
    for net in nets:
        spec = net.spec.file or net.spec.name or ""
        for row in rows(net, view.columns):
            writer.writerow((spec, *(c.replace(",", "") if c[:1].isdigit() else c for c in row)))


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown(net: Network, view: View = View()) -> str:
    """A GitHub-flavoured Markdown table, the totals, and the findings as a list."""
    title = net.spec.name or net.spec.file or "network"
    keys = column_keys(net, view.columns)
    titles = columns(net, view.columns)
    lines = [f"### {title}", "", "| " + " | ".join(titles) + " |"]
    lines.append("|" + "|".join("---:" if numeric(k) else "---" for k in keys) + "|")
    for row in [
        *rows(net, view.columns),
        tuple(f"**{c}**" if c else "" for c in totals_row(net, view.columns)),
    ]:
        lines.append("| " + " | ".join(_escape(c) for c in row) + " |")
    lines.append("")
    lines.extend(f"- {line}" for line in summary(net))
    if view.explain:
        for r in net.layers:
            shapes = f"{r.input.show(net.order)} -> {r.output.show(net.order)}"
            lines.extend(["", f"**{_escape(r.layer.name)}**: {shapes}", "", "```"])
            lines.extend(explain_lines(r, net))
            lines.append("```")
    if net.findings:
        lines.append("")
        for f in net.findings:
            fixes = f"; fix: {' or '.join(f.fixes)}" if f.fixes else ""
            lines.append(f"- `{f.severity.value}[{f.code.value}]` {_escape(f.message)}{fixes}")
    return "\n".join(lines) + "\n"


def findings_text(net: Network, findings: Sequence[Finding] | None = None) -> list[str]:
    """The findings (the network's by default) as linter lines, each followed by its fixes."""
    out = []
    for f in net.findings if findings is None else findings:
        out.append(finding_line(f))
        if f.fixes:
            out.append(f"    fix: {' or '.join(f.fixes)}")
    return out


def _natural(net: Network, keys: Sequence[str]) -> int:
    """The width a table needs without folding any cell (SIMPLE_HEAD: one space either side)."""
    cells = [columns(net, keys), totals_row(net, keys), *rows(net, keys)]
    return sum(max(len(row[i]) for row in cells) + 2 for i in range(len(keys)))


def fit(net: Network, width: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The default columns that fit in `width`, dropping the least needed first, and those dropped."""
    keys = list(column_keys(net))
    dropped = []
    for key in NARROW_ORDER:
        if _natural(net, keys) <= width:
            break
        if key in keys:
            keys.remove(key)
            dropped.append(key)
    return tuple(keys), tuple(dropped)


def table(
    nets: list[Network], out: TextIO = sys.stdout, *, width: int | None = None, view: View = View()
) -> None:
    """A rich table per network, its totals, then diagnostics with their fixes; plain when not a terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = out.isatty() and not os.environ.get("NO_COLOR")
    buffer = None if terminal else io.StringIO()
    console = Console(file=buffer or out, width=width or (None if terminal else 200), highlight=False)
    for net in nets:
        title = net.spec.name or net.spec.file
        keys, dropped = (view.columns, ()) if view.columns else fit(net, console.width)
        grid = Table(title=title, box=box.SIMPLE_HEAD, show_footer=False, title_justify="left")
        cells = rows(net, keys)
        total = totals_row(net, keys)
        early = [f for f in net.findings if about_input(f)]  # how the input was read comes first
        shown = [
            f for f in net.findings if not about_input(f) and (view.notes or f.severity is not Severity.INFO)
        ]
        for f in early:
            console.print(Text(finding_line(f), style=_STYLE[f.severity]), soft_wrap=True)
            if f.fixes:
                console.print(f"    fix: {' or '.join(f.fixes)}", soft_wrap=True, highlight=False)
        for i, key in enumerate(column_keys(net, keys)):
            fixed = key == "check" or COLUMN_SET[key].fixed
            title_text = columns(net, keys)[i]
            grid.add_column(
                title_text,
                justify="right" if numeric(key) else "left",
                no_wrap=fixed,
                overflow="fold",
                min_width=max(len(title_text), len(total[i]), *(len(c[i]) for c in cells)) if fixed else None,
            )
        for r, row in zip(net.layers, cells, strict=True):
            style = "yellow" if r.fractional else None
            grid.add_row(*row, style=style)
        grid.add_section()
        grid.add_row(*total, style="bold")
        console.print(grid)
        if dropped:
            hidden = ", ".join(COLUMN_SET[k].title for k in dropped)
            console.print(
                f"(not shown to fit {console.width} columns: {hidden}; choose with --columns)", style="dim"
            )
        for total_line in summary(net):
            console.print(total_line, highlight=False)
        if view.explain:
            for r in net.layers:
                console.print()
                console.print(
                    f"{r.index}. {r.layer.name}: {r.input.show(net.order)} -> {r.output.show(net.order)}",
                    style="bold",
                    highlight=False,
                )
                for explained in explain_lines(r, net):
                    console.print(explained, highlight=False, soft_wrap=True)
        noted = None if view.notes else notes_line(net.findings)
        if shown or noted:
            console.print()
        for f in shown:
            console.print(Text(finding_line(f), style=_STYLE[f.severity]), soft_wrap=True)
            if f.fixes:
                console.print(f"    fix: {' or '.join(f.fixes)}", soft_wrap=True, highlight=False)
        if noted:
            console.print(Text(noted, style=_STYLE[Severity.INFO]), soft_wrap=True)
        if net is not nets[-1]:
            console.print()
    if buffer is not None:
        out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def _field_before(r: Resolved, net: Network) -> tuple[Field, ...] | None:
    """The receptive field of a layer's input: the previous layer's, or one pixel of the network input."""
    if r.index > 1:
        return net.layers[r.index - 2].field
    return tuple(Field(1, 1, 0) for _ in net.input.spatial) or None


def explain_lines(r: Resolved, net: Network, *, label_width: int = 17) -> list[str]:
    """One layer's formulas with its numbers: output size, parameters, FC-equivalent, MACs,
    receptive field and activations, the way the cs231n notes write them."""
    lines: list[str] = []

    def put(label: str, texts: list[str]) -> None:
        for i, text in enumerate(texts):
            lines.append(f"  {label if i == 0 else '':<{label_width}}{text}")

    if r.axes:
        put("output size", fm.per_axis(r.axes, fm.size_line))
        put("", [n for n in (fm.extent_note(a) for a in r.axes[:1]) if n])
        pads = _pad_note(r)
        put("", [pads] if pads else [])
    elif getattr(r.layer, "adaptive", False):
        put("output size", [fm.adaptive_line(r)])
    put("parameters", [fm.params_line(r)])
    fc = fm.fc_line(r)
    if fc:
        put("FC-equivalent", [fc, *filter(None, [fm.saving_line(r)])])
    put("MACs", [fm.macs_line(r)])
    before = _field_before(r, net)
    if r.field is not None and before is not None and r.axes:
        texts = [fm.field_line(a, b, f) for a, b, f in zip(r.axes, before, r.field, strict=True)]
        names = fm.AXIS_NAMES[len(r.axes)]
        put(
            "receptive field",
            texts[:1] if len(set(texts)) == 1 else [f"{n}s: {t}" for n, t in zip(names, texts, strict=True)],
        )
    elif r.field is not None:
        put("receptive field", [f"{fm.fractions([f.size for f in r.field])} (unchanged)"])
    elif not r.output.positive:
        put("receptive field", ["none (no output)"])
    elif net.input.spatial and sees_everything(r, net):
        put("receptive field", ["the whole input"])
    elif net.input.spatial:
        put("receptive field", ["not computed: an adaptive pool's windows vary in size"])
    put("activations", [_activation_line(r, net)])
    return lines


def _pad_note(r: Resolved) -> str | None:
    """The padding TensorFlow's `same` chose, which the spec does not spell out."""
    mode = getattr(r.layer, "pad_mode", None)
    if mode is None or mode.value != "same":
        return None
    if r.axes[0].transposed:
        return "pad same: output N x S; crop " + ", ".join(f"{a.pad} + {a.end_pad}" for a in r.axes)
    return "pad same: total max((o-1)S + E - N, 0), the odd pixel after: " + ", ".join(
        f"{a.pad} + {a.end_pad}" for a in r.axes
    )


def _activation_line(r: Resolved, net: Network) -> str:
    if not r.output.positive:
        return "0 (no output)"
    if not r.activations:
        return f"0 ({'a view' if r.layer.kind.value == 'flatten' else 'in place'})"
    s = net.sizing
    text = f"{fm.product(r.output.dims)} = {fm.number(r.activations)}"
    if s.batch != 1:
        text += f" x batch {s.batch} = {fm.number(r.activations * s.batch)}"
    return text + f", {fm.size(r.activations * s.batch * s.dtype.bytes)} {s.dtype.value}"


def sheet(net: Network, *, explain: bool = False, note: str | None = None) -> str:
    """The formula sheet of a single layer, as `convcalc layer` prints it; explain adds the
    receptive field and the activations, and a note goes beside the output."""
    r = net.layers[0]
    lines = [f"{r.layer.name}: {r.input.show(net.order)} -> {r.output.show(net.order)}"]
    if note:
        lines[0] += f" ({note})"
    body = explain_lines(r, net)
    if not explain:
        body = [line for line in body if not line.startswith(("  receptive field", "  activations"))]
    lines.extend(body)
    if net.checks is not None:
        (c,) = net.checks
        ran = {
            "ok": f"ran it with numpy: {fm.product(c.shape or ())} ✓",
            "mismatch": f"ran it with numpy: {fm.product(c.shape or ())} ✗",
        }
        lines.append(f"  {'check':<17}{ran.get(c.status.value, 'not run (PyTorch would refuse this layer)')}")
    early = [f for f in net.findings if about_input(f)]  # how the input was read comes first
    later = [f for f in net.findings if not about_input(f)]
    text = "".join(line + "\n" for line in findings_text(net, early)) + "\n".join(lines) + "\n"
    if later:
        text += "\n" + "\n".join(findings_text(net, later)) + "\n"
    return text


class Progress:
    """A progress bar on stderr for a check that runs longer than about a second; silent when piped."""

    def __init__(self, label: str) -> None:
        import time

        self.label = label
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        """Called after each layer."""
        import time

        if self.bar is None:
            if not sys.stderr.isatty() or time.monotonic() - self.start < 1.0 or done >= total:
                return
            from rich.console import Console
            from rich.progress import Progress as Bar

            self.bar = Bar(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done)
        if done >= total:
            self.bar.stop()


def render(nets: list[Network], fmt: Format, out: TextIO, view: View = View()) -> None:
    """Write networks in the chosen format."""
    if fmt is Format.JSON:
        write_json(nets, out, view)
    elif fmt is Format.CSV:
        write_csv(nets, out, view)
    elif fmt is Format.MARKDOWN:
        out.write("\n".join(markdown(n, view) for n in nets))
    else:
        table(nets, out, view=view)


def to_text(nets: list[Network], fmt: Format, *, width: int = 120, view: View = View()) -> str:
    """Render to a string at a fixed width, without colour (for tests and the README)."""
    buffer = io.StringIO()
    if fmt is Format.TABLE:
        table(nets, buffer, width=width, view=view)
    else:
        render(nets, fmt, buffer, view)
    return buffer.getvalue()
