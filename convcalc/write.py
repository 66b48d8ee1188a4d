"""Everything that writes: the rich table, Markdown, CSV, JSON, SVG, HTML and the formula sheet."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from . import formulas as fm
from . import grid, safe, streams
from .errors import SpecError
from .formats import Format, unhandled
from .model import Convention, Field, Finding, LayerCheck, Network, Resolved, Severity
from .present import (
    COLUMN_SET,
    NARROW_ORDER,
    column_keys,
    columns,
    exact_text,
    field_gap,
    finding_line,
    invalid_json,
    json_text,
    numeric,
    row_layers,
    rows,
    sees_everything,
    summary,
    to_json,
    totals_row,
)
from .rules import about_input, notes_line
from .values import frozen

_STYLE: dict[Severity, str | None] = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}


@frozen
class View:
    """What to show: the columns chosen (None for the defaults, fitted to the width) and explanations."""

    columns: tuple[str, ...] | None = None
    explain: bool = False
    notes: bool = True
    """Every info finding in full; else one line sums them up (run's table, without --notes)."""
    depth: int | None = None
    """A network of blocks shows its block instances to this depth, deeper levels folded; None: all."""
    convention: Convention | None = None
    """Whose count the MACs column and totals hold (--convention); None: convcalc's, unsaid."""


def _counted(net: Network, view: View) -> Network:
    """The network as the table and totals show it: each layer's MACs under the chosen convention."""
    if view.convention is None:
        return net
    from . import conventions as cv

    return cv.applied(net, view.convention)


def _convention_lines(r: Resolved, net: Network, view: View) -> list[str]:
    """Under --explain with --convention: what each convention counts of the layer."""
    if view.convention is None:
        return []
    from . import conventions as cv

    return [
        f"  {'counted as' if i == 0 else '':<17}{t}" for i, t in enumerate(cv.explain_lines(r, net.spec.name))
    ]


def _summary(net: Network, view: View) -> list[str]:
    """The totals under a table; with a convention, the compute line says whose count it is (and, with
    --explain, reconciles it term by term)."""
    lines = summary(net)
    if view.convention is None:
        return lines
    from . import conventions as cv

    c = view.convention
    shown = cv.total(net, c)
    at = next(i for i, line in enumerate(lines) if line.startswith("compute "))
    lines[at] = (
        f"compute      {fm.number(shown)} {cv.UNIT[c]} as {c.value} counts them"
        f" (convcalc: {fm.number(net.macs)} MACs = {fm.number(net.flops)} FLOPs)"
    )
    if view.explain:
        lines.insert(at + 1, f"reconciled   {cv.reconcile(net, c)}")
    return lines


def network_json(net: Network, view: View = View()) -> dict[str, Any]:
    """One network's JSON; with a convention, `totals.macs` is that tool's number and `convention` says so."""
    data = to_json(_counted(net, view))
    if view.explain:
        for item, r in zip(data["layers"], net.layers, strict=True):
            item["explain"] = explain_lines(r, net) + _convention_lines(r, net, view)
    if view.convention is None:
        return data
    if view.convention is Convention.PYTORCH:  # FlopCounterMode's number is FLOPs already
        data["totals"]["flops"] = data["totals"]["macs"]
    keys = list(data)
    at = keys.index("totals")
    return {
        **{k: data[k] for k in keys[:at]},
        "convention": view.convention.value,
        **{k: data[k] for k in keys[at:]},
    }


def write_json(
    nets: Sequence[Network | SpecError], out: TextIO, view: View = View(), *, several: bool | None = None
) -> None:
    """One network as an object, several as a list (always, when several files were asked for: an
    invalid one is an entry with its diagnostic); with explain, each layer's formulas as lines."""
    texts = [json_text(invalid_json(n) if isinstance(n, SpecError) else network_json(n, view)) for n in nets]
    listed = len(texts) != 1 if several is None else several
    out.write(("[\n" + ",\n".join(texts) + "\n]" if listed else texts[0]) + "\n")


def _csv_cells(key: str, r: Resolved, net: Network, check: LayerCheck | None) -> tuple[object, ...]:
    """A column's cells for CSV: numbers as plain numbers, the exact size in a column of its own."""
    batch = r.activations * net.sizing.batch
    raw: dict[str, tuple[object, ...]] = {
        "params": (r.params,),
        "fc": ("" if r.fc_params is None else r.fc_params,),
        "macs": (r.macs,),
        "activations": (batch,),
        "memory": (batch * net.sizing.dtype.bytes if r.activations else "",),
        "output": (str(r.output), exact_text(r)),
        "check": ("" if check is None else check.status.value,),
    }
    if key == "rf":
        if r.field is None:
            return (COLUMN_SET["rf"].cell(r, net), "")
        return (fm.fractions([f.size for f in r.field]), fm.fractions([f.jump for f in r.field]))
    return raw.get(key) or (safe.visible(COLUMN_SET[key].cell(r, net)),)


_CSV_TITLES = {"output": ("output", "exact_output"), "rf": ("RF", "RF jump"), "memory": ("memory (bytes)",)}


def write_csv(nets: list[Network], out: TextIO, view: View = View()) -> None:
    """One row per layer under one header, with a leading spec column: plain numbers (no separators),
    the exact fractional size in `exact_output`, the receptive field and its jump apart."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    keys = column_keys(nets[0], view.columns)
    titles = columns(nets[0], view.columns)
    head = (t for k, title in zip(keys, titles, strict=True) for t in _CSV_TITLES.get(k, (title,)))
    writer.writerow(("spec", *head))
    for net in (_counted(n, view) for n in nets):
        spec = safe.visible(net.spec.file or net.spec.name or "")
        checks = net.checks if net.checks is not None else [None] * len(net.layers)
        for r, c in zip(net.layers, checks, strict=True):
            writer.writerow((spec, *(v for k in keys for v in _csv_cells(k, r, net, c))))


def markdown(net: Network, view: View = View()) -> str:
    """A GitHub-flavoured Markdown table, the totals, and the findings as a list; user strings are text,
    never Markdown or HTML."""
    md = safe.markdown
    title = net.spec.name or net.spec.file or "network"
    net, plain = _counted(net, view), net
    keys = column_keys(net, view.columns)
    titles = columns(net, view.columns)
    lines = [f"### {md(title)}", "", "| " + " | ".join(titles) + " |"]
    lines.append("|" + "|".join("---:" if numeric(k) else "---" for k in keys) + "|")
    body = [tuple(md(c) for c in row) for row in rows(net, view.columns, view.depth)]
    total = tuple(f"**{md(c)}**" if c else "" for c in totals_row(net, view.columns))
    lines.extend("| " + " | ".join(row) + " |" for row in [*body, total])
    lines.append("")
    lines.extend(f"- {md(line)}" for line in _summary(plain, view))
    if view.explain:
        for r in plain.layers:
            shapes = f"{r.input.show(net.order)} -> {r.output.show(net.order)}"
            lines.extend(["", f"**{md(r.layer.name)}**: {shapes}", "", "```"])
            explained = explain_lines(r, plain) + _convention_lines(r, plain, view)
            lines.extend(safe.visible(line) for line in explained)
            lines.append("```")
    if net.findings:
        lines.append("")
        for f in net.findings:
            fixes = f"; fix: {md(' or '.join(f.fixes))}" if f.fixes else ""
            lines.append(f"- `{f.severity.value}[{f.code.value}]` {md(f.message)}{fixes}")
    return "\n".join(lines) + "\n"


def findings_text(net: Network, findings: Sequence[Finding] | None = None) -> list[str]:
    """The findings (the network's by default) as linter lines, each followed by its fixes; user strings
    escaped."""
    out = []
    for f in net.findings if findings is None else findings:
        out.append(safe.visible(finding_line(f)))
        if f.fixes:
            out.append(safe.visible(f"    fix: {' or '.join(f.fixes)}"))
    return out


_FOLD = {"name": grid.Fold.NAME, "type": grid.Fold.WORDS, "window": grid.Fold.WORDS}


def _grid(
    net: Network, keys: Sequence[str] | None, glyph: streams.Glyphs, depth: int | None = None
) -> list[grid.Column]:
    """The table's columns as plain text: user strings escaped, ✓ and ✗ as the stream can write them."""
    chosen = column_keys(net, keys)
    titles = columns(net, keys)
    cells = [*rows(net, keys, depth), totals_row(net, keys)]
    marks = {"✓": glyph.ok, "✗": glyph.bad}
    return [
        grid.Column(
            title=title,
            cells=tuple(
                marks[c[:1]] + c[1:] if k == "check" and c[:1] in marks else safe.visible(c)
                for c in (row[i] for row in cells)
            ),
            right=numeric(k),
            fold=_FOLD.get(k, grid.Fold.NEVER),
        )
        for i, (k, title) in enumerate(zip(chosen, titles, strict=True))
    ]


def fit(
    net: Network,
    width: int | None,
    depth: int | None = None,
    every: dict[str, grid.Column] | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The default columns that fit in `width` (titles may take two lines), dropping the least needed
    first, and those dropped; `every` holds the default columns when the caller has made them."""
    keys = list(column_keys(net))
    if width is None:
        return tuple(keys), ()
    if every is None:
        every = dict(zip(keys, _grid(net, keys, streams.UNICODE, depth), strict=True))
    dropped = []
    for key in NARROW_ORDER:
        if width is None or grid.span([grid.compact(every[k]) for k in keys]) <= width:
            break
        if key in keys:
            keys.remove(key)
            dropped.append(key)
    return tuple(keys), tuple(dropped)


Line = tuple[str, str | None]
"""A line of output and its rich style (None: plain)."""


def _table_lines(net: Network, width: int | None, view: View, glyph: streams.Glyphs) -> list[Line]:
    """One network's table, totals, explanations and findings, as lines no wider than `width`."""
    out: list[Line] = []
    net, plain = _counted(net, view), net
    title = safe.visible(net.spec.name or net.spec.file or "")
    out.extend((t, None) for t in grid.wrap(title, width) if title)
    early = [f for f in net.findings if about_input(f)]  # how the input was read comes first
    out.extend(_finding_lines(early, width))
    out.append(("", None))
    dropped: tuple[str, ...] = ()
    if view.columns:
        cols = _grid(net, view.columns, glyph, view.depth)
    else:  # every default column, made once: fitting drops some, the rest are shown
        every = dict(zip(column_keys(net), _grid(net, None, glyph, view.depth), strict=True))
        keys, dropped = fit(net, width, view.depth, every)
        cols = [every[k] for k in column_keys(net, keys)]
    which = row_layers(net, view.depth)
    count = len(which)
    for text, row in grid.render(cols, width, rule=glyph.rule, ellipsis=glyph.ellipsis):
        style = "bold" if row in (-1, count) or (0 <= row < count and which[row] is None) else None
        layer = which[row] if 0 <= row < count else None
        out.append((text, "yellow" if layer is not None and net.layers[layer - 1].fractional else style))
    out.append(("", None))
    if dropped:
        hidden = ", ".join(COLUMN_SET[k].title for k in dropped)
        note = f"(not shown to fit {width} columns: {hidden}; choose with --columns)"
        out.extend((t, "dim") for t in grid.wrap(note, width, 1))
    for total_line in _summary(plain, view):
        out.extend((t, None) for t in grid.wrap(safe.visible(total_line), width, 13))
    if view.explain:
        for r in plain.layers:
            shapes = f"{r.input.show(net.order)} -> {r.output.show(net.order)}"
            head = f"{r.index}. {safe.visible(r.layer.name)}: {shapes}"
            out.append(("", None))
            out.extend((t, "bold") for t in grid.wrap(head, width))
            for explained in explain_lines(r, plain) + _convention_lines(r, plain, view):
                out.extend((t, None) for t in grid.wrap(explained, width, 19))
    shown = [
        f for f in net.findings if not about_input(f) and (view.notes or f.severity is not Severity.INFO)
    ]
    noted = None if view.notes else notes_line(net.findings)
    if shown or noted:
        out.append(("", None))
    out.extend(_finding_lines(shown, width))
    if noted:
        out.extend((t, _STYLE[Severity.INFO]) for t in grid.wrap(safe.visible(noted), width, 4))
    return out


def _finding_lines(findings: Sequence[Finding], width: int | None) -> list[Line]:
    """Findings as styled linter lines wrapped at spaces, each followed by its fixes."""
    out: list[Line] = []
    for f in findings:
        out.extend((t, _STYLE[f.severity]) for t in grid.wrap(safe.visible(finding_line(f)), width, 4))
        if f.fixes:
            fixes = safe.visible(f"    fix: {' or '.join(f.fixes)}")
            out.extend((t, None) for t in grid.wrap(fixes, width, 9))
    return out


def _write(out: TextIO, lines: list[Line], colour: bool) -> None:
    """Plain lines, or coloured by rich (styles only: the text is never read as markup)."""
    if not colour:
        out.write("".join(text + "\n" for text, _ in lines))
        return
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="standard", width=1 << 20, highlight=False
    )
    for text, style in lines:
        console.print(Text(text, style=style or ""), soft_wrap=True, markup=False, emoji=False)
    out.write(buffer.getvalue())


def table(
    nets: list[Network],
    out: TextIO = sys.stdout,
    *,
    width: int | None = None,
    view: View = View(),
    colour: bool | None = None,
) -> None:
    """A table per network, its totals, then diagnostics with their fixes, fitted to the width (COLUMNS,
    the terminal, or none when piped); coloured on a terminal; ASCII when the encoding needs it."""
    glyph = streams.glyphs(out)
    fitted = width if width is not None else streams.width(out)
    lines: list[Line] = []
    for net in nets:
        lines.extend(_table_lines(net, fitted, view, glyph))
        if net is not nets[-1]:
            lines.append(("", None))
    _write(out, lines, streams.colour(out) if colour is None else colour)


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
    else:
        from . import kinds

        put("output size", kinds.of(r.layer).size_lines(r))
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
        put("receptive field", [f"not computed: {field_gap(r, net)}"])
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
        from . import kinds

        return f"0 ({kinds.of(r.layer).HELD.value})"
    s = net.sizing
    text = f"{fm.product(r.output.dims)} = {fm.number(r.activations)}"
    if s.batch != 1:
        text += f" x batch {s.batch} = {fm.number(r.activations * s.batch)}"
    return text + f", {fm.size(r.activations * s.batch * s.dtype.bytes)} {s.dtype.value}"


def sheet(
    net: Network,
    *,
    explain: bool = False,
    glyph: streams.Glyphs = streams.UNICODE,
    width: int | None = None,
    note: str | None = None,
) -> str:
    """The formula sheet of a single layer, as `convcalc layer` prints it; explain adds the
    receptive field and the activations, and a note goes beside the output; lines wrap at spaces to
    `width`, continuations indented."""
    r = net.layers[0]
    lines = [f"{safe.visible(r.layer.name)}: {r.input.show(net.order)} -> {r.output.show(net.order)}"]
    if note:
        lines[0] += f" ({note})"
    body = explain_lines(r, net)
    if not explain:
        body = [line for line in body if not line.startswith(("  receptive field", "  activations"))]
    lines.extend(body)
    if net.checks is not None:
        (c,) = net.checks
        ran = {
            "ok": f"ran it with numpy: {fm.product(c.shape or ())} {glyph.ok}",
            "mismatch": f"ran it with numpy: {fm.product(c.shape or ())} {glyph.bad}",
        }
        lines.append(f"  {'check':<17}{ran.get(c.status.value, 'not run (PyTorch would refuse this layer)')}")
    lines = [part for line in lines for part in grid.wrap(line, width, 19)]
    early = [f for f in net.findings if about_input(f)]  # how the input was read comes first
    later = [f for f in net.findings if not about_input(f)]
    text = "".join(part + "\n" for part in _wrapped_findings(net, early, width)) + "\n".join(lines) + "\n"
    if later:
        text += "\n" + "\n".join(_wrapped_findings(net, later, width)) + "\n"
    return text


def _wrapped_findings(net: Network, findings: Sequence[Finding], width: int | None) -> list[str]:
    """Finding lines wrapped at spaces, continuations indented under the message or the fix."""
    return [
        part
        for line in findings_text(net, findings)
        for part in grid.wrap(line, width, 9 if line.startswith("    fix: ") else 4)
    ]


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
            from rich.markup import escape
            from rich.progress import Progress as Bar

            self.bar = Bar(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(escape(safe.visible(self.label)), total=total)
        self.bar.update(self.task, completed=done)
        if done >= total:
            self.bar.stop()


def render(
    nets: list[Network], fmt: Format, out: TextIO, view: View = View(), *, err: TextIO | None = None
) -> None:
    """Write networks in the chosen format; CSV, Markdown and SVG also write the findings to `err` in
    lint's text format, so an exit 1 always has a printed reason."""
    if fmt is Format.JSON:
        write_json(nets, out, view)
    elif fmt is Format.CSV:
        write_csv(nets, out, view)
    elif fmt is Format.MARKDOWN:
        out.write("\n".join(markdown(n, view) for n in nets))
    elif fmt is Format.TABLE:
        table(nets, out, view=view)
    elif fmt is Format.SVG:
        from .svg import diagrams

        out.write(diagrams([_counted(n, view) for n in nets], depth=view.depth))
    elif fmt is Format.HTML:
        from .html import report

        sources = [source_text(n.spec.file) for n in nets]
        included = [_included(n) for n in nets]
        out.write(
            report(
                [_counted(n, view) for n in nets],
                sources=sources,
                included=included,
                depth=view.depth,
                columns=view.columns,
                totals=[_summary(n, view) for n in nets],
                counted_as=view.convention.value if view.convention else None,
                explained=[
                    [explain_lines(r, n) + _convention_lines(r, n, view) for r in n.layers] for n in nets
                ]
                if view.explain
                else None,
            )
        )
    else:
        unhandled(fmt, "render")
    if err is not None and fmt in (Format.CSV, Format.MARKDOWN, Format.SVG, Format.HTML):
        err.write("".join(safe.visible(finding_line(f, fixes=True)) + "\n" for n in nets for f in n.findings))


def _included(net: Network) -> dict[str, str]:
    """The text of each other file the network's layers come from (a block library), for the HTML
    report: in the order first used, those that can be read."""
    found: dict[str, str] = {}
    for r in net.layers:
        file = r.layer.where.file
        if file is not None and file != net.spec.file and file not in found:
            text = source_text(file)
            if text is not None:
                found[file] = text
    return found


def source_text(file: str | None, limit: int = 1 << 20) -> str | None:
    """A spec file's text for the HTML report: None when there is no file, it is larger than `limit`
    bytes, or it is not UTF-8 text (an ONNX model)."""
    import os

    if file is None or not os.path.isfile(file) or os.path.getsize(file) > limit:
        return None
    try:
        with open(file, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError):
        return None
    return None if "\0" in text else text


def save(text: str, path: str) -> None:
    """Write `text` to `path` whole or not at all: to a temporary file beside it, then renamed."""
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".convcalc-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # as open() would make it, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def to_text(nets: list[Network], fmt: Format, *, width: int = 120, view: View = View()) -> str:
    """Render to a string at a fixed width, without colour (for tests and the README)."""
    buffer = io.StringIO()
    if fmt is Format.TABLE:
        table(nets, buffer, width=width, view=view)
    else:
        render(nets, fmt, buffer, view)
    return buffer.getvalue()
