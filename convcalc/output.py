"""Everything that writes: the rich table, Markdown, CSV, JSON and the formula sheet."""

from __future__ import annotations

import enum
import io
import os
import sys
from typing import Any, TextIO

from . import formulas as fm
from .model import Network, Severity
from .report import columns, finding_line, rows, to_json, totals_row

_NUMERIC = (0, 6, 7, 8)
_FIXED = (0, 4, 5, 6, 7, 8)
"""Columns that never shrink or wrap: shapes and numbers; names and settings fold instead."""
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


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


def write_json(nets: list[Network], out: TextIO) -> None:
    """One network as an object, several as a list."""
    texts = [_json_text(to_json(n)) for n in nets]
    out.write((texts[0] if len(texts) == 1 else "[\n" + ",\n".join(texts) + "\n]") + "\n")


def write_csv(nets: list[Network], out: TextIO) -> None:
    """Plain numbers (no separators) with a leading spec column, one header for all."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("spec", *columns(nets[0])))
    for net in nets:
        spec = net.spec.file or net.spec.name or ""
        for row in rows(net):
            writer.writerow((spec, *(c.replace(",", "") if c[:1].isdigit() else c for c in row)))


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown(net: Network) -> str:
    """A GitHub-flavoured Markdown table followed by the findings as a list."""
    title = net.spec.name or net.spec.file or "network"
    numeric = {0, 6, 7, 8}
    titles = columns(net)
    lines = [f"### {title}", "", "| " + " | ".join(titles) + " |"]
    lines.append("|" + "|".join("---:" if i in numeric else "---" for i in range(len(titles))) + "|")
    for row in [*rows(net), tuple(f"**{c}**" if c else "" for c in totals_row(net))]:
        lines.append("| " + " | ".join(_escape(c) for c in row) + " |")
    if net.findings:
        lines.append("")
        for f in net.findings:
            fixes = f"; fix: {' or '.join(f.fixes)}" if f.fixes else ""
            lines.append(f"- `{f.severity.value}[{f.code.value}]` {_escape(f.message)}{fixes}")
    return "\n".join(lines) + "\n"


def findings_text(net: Network) -> list[str]:
    """The findings as linter lines, each followed by its fixes."""
    out = []
    for f in net.findings:
        out.append(finding_line(f))
        if f.fixes:
            out.append(f"    fix: {' or '.join(f.fixes)}")
    return out


def table(nets: list[Network], out: TextIO = sys.stdout, *, width: int | None = None) -> None:
    """A rich table per network, diagnostics with their fixes below; plain when not a terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = out.isatty() and not os.environ.get("NO_COLOR")
    buffer = None if terminal else io.StringIO()
    console = Console(file=buffer or out, width=width or (None if terminal else 200), highlight=False)
    for net in nets:
        title = net.spec.name or net.spec.file
        grid = Table(title=title, box=box.SIMPLE_HEAD, show_footer=False, title_justify="left")
        cells = rows(net)
        total = totals_row(net)
        for i, column in enumerate(columns(net)):
            fixed = i in _FIXED
            grid.add_column(
                column,
                justify="right" if i in _NUMERIC else "left",
                no_wrap=fixed,
                overflow="fold",
                min_width=max(len(column), len(total[i]), *(len(c[i]) for c in cells)) if fixed else None,
            )
        for r, row in zip(net.layers, cells, strict=True):
            style = "yellow" if r.fractional else None
            grid.add_row(*row, style=style)
        grid.add_section()
        grid.add_row(*total, style="bold")
        console.print(grid)
        for f in net.findings:
            line = Text(finding_line(f), style=_STYLE[f.severity])
            console.print(line, soft_wrap=True)
            if f.fixes:
                console.print(f"    fix: {' or '.join(f.fixes)}", soft_wrap=True, highlight=False)
        if net is not nets[-1]:
            console.print()
    if buffer is not None:
        out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def sheet(net: Network) -> str:
    """The formula sheet of a single layer, as `convcalc layer` prints it."""
    r = net.layers[0]
    lines = [f"{r.layer.name}: {r.input} -> {r.output}"]

    def put(label: str, texts: list[str]) -> None:
        for i, text in enumerate(texts):
            lines.append(f"  {label if i == 0 else '':<15}{text}")

    if r.axes:
        put("output size", fm.per_axis(r.axes, fm.size_line))
        notes = [n for n in (fm.extent_note(a) for a in r.axes[:1]) if n]
        put("", notes)
    put("parameters", [fm.params_line(r)])
    fc = fm.fc_line(r)
    if fc:
        put("FC-equivalent", [fc, *filter(None, [fm.saving_line(r)])])
    put("MACs", [fm.macs_line(r)])
    if net.checks is not None:
        (c,) = net.checks
        ran = {
            "ok": f"ran it with numpy: {fm.product(c.shape or ())} ✓",
            "mismatch": f"ran it with numpy: {fm.product(c.shape or ())} ✗",
        }
        put("check", [ran.get(c.status.value, "not run (PyTorch would refuse this layer)")])
    text = "\n".join(lines) + "\n"
    if net.findings:
        text += "\n" + "\n".join(findings_text(net)) + "\n"
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


def render(nets: list[Network], fmt: Format, out: TextIO) -> None:
    """Write networks in the chosen format."""
    if fmt is Format.JSON:
        write_json(nets, out)
    elif fmt is Format.CSV:
        write_csv(nets, out)
    elif fmt is Format.MARKDOWN:
        out.write("\n".join(markdown(n) for n in nets))
    else:
        table(nets, out)


def to_text(nets: list[Network], fmt: Format, *, width: int = 120) -> str:
    """Render to a string at a fixed width, without colour (for tests and the README)."""
    buffer = io.StringIO()
    if fmt is Format.TABLE:
        table(nets, buffer, width=width)
    else:
        render(nets, fmt, buffer)
    return buffer.getvalue()
