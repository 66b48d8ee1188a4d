"""Resolved networks as one self-contained HTML page: diagram, sortable and foldable layer table, totals,
bar charts, findings and the spec's source; several networks side by side. Standard library only; every
user string escaped; no request leaves the page (a Content-Security-Policy forbids it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from . import formulas as fm
from .model import Finding, Group, Network
from .present import COLUMN_SET, column_keys, columns, rows, shown, summary, totals_row
from .svg import diagram, ident, xml
from .values import frozen

KEYS = ("index", "name", "type", "window", "input", "output", "params", "fc", "macs", "activations", "memory")
"""The table's default columns: the text table's with the activations and their memory."""
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
"""Inline style and script only: the page cannot fetch anything."""


def _json(data: object) -> str:
    """JSON safe inside a <script> element: `<`, `>` and `&` as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _key(entry: Group | int, net: Network) -> str:
    """The key a row and its box share: `layer-NAME` or `block-NAME`, as svg.ident writes ids."""
    if isinstance(entry, Group):
        return ident("block", entry.name)
    return ident("layer", net.layers[entry - 1].layer.name)


def _anchor(prefix: str, files: Mapping[str, str], file: str | None, line: int | None) -> str | None:
    """The id of a line in a shown source: `L12` in the spec's own, `F1-L12` in the first included file;
    None when that file is not shown."""
    if line is None or file is None or file not in files:
        return None
    return f"{prefix}{files[file]}L{line}"


def _line(entry: Group | int, net: Network, prefix: str, files: Mapping[str, str]) -> str:
    """A link to the layer's line in its file's source (the spec's, or a block's included file), when
    that source is shown."""
    if isinstance(entry, Group):
        return ""
    where = net.layers[entry - 1].layer.where
    at = _anchor(prefix, files, where.file or net.spec.file, where.line)
    if at is None:
        return ""
    shown = f"{_short(where.file)}:{where.line}" if where.file else str(where.line)
    return f'<a href="#{at}">{xml(shown)}</a>'


def _short(file: str) -> str:
    """A file as a link shows it: its name."""
    return file.replace("\\", "/").rsplit("/", 1)[-1]


def _table(
    net: Network, prefix: str, files: Mapping[str, str], depth: int | None, chosen: Sequence[str] | None
) -> str:
    """The layer table: a row per layer and block instance, blocks foldable, every column sortable; the
    chosen columns (the name always, for the fold buttons), else `KEYS`."""
    wanted = tuple(chosen or KEYS)
    wanted = wanted if "name" in wanted else ("name", *wanted)
    keys = column_keys(net, wanted)
    heads = "".join(
        f'<th data-type="{"number" if k != "check" and COLUMN_SET[k].numeric else "text"}" '
        f'aria-sort="none"><button type="button">{xml(t)}</button></th>'
        for k, t in zip(keys, columns(net, wanted), strict=True)
    )
    out = [
        f'<table class="layers" id="{prefix}layers"><thead><tr>{heads}'
        '<th data-type="number" aria-sort="none"><button type="button">line</button></th></tr></thead><tbody>'
    ]
    chain: list[str] = []
    text = {k for k in keys if k == "check" or not COLUMN_SET[k].numeric}
    batch, item = net.sizing.batch, net.sizing.dtype.bytes
    for (entry, level, _), cells in zip(shown(net), rows(net, wanted), strict=True):
        del chain[level:]
        key = _key(entry, net)
        inside = (
            net.layers[entry.first - 1 : entry.last] if isinstance(entry, Group) else [net.layers[entry - 1]]
        )
        held = sum(r.activations for r in inside) * batch * item
        hidden = " hidden" if depth is not None and level > depth else ""
        tds = []
        for k, cell in zip(keys, cells, strict=True):
            shown_cell = xml(cell.strip() if k == "name" else cell)
            if k == "name":
                shut = "false" if depth == level else "true"
                fold = (
                    f'<button type="button" class="fold" aria-expanded="{shut}" title="fold">▾</button>'
                    if isinstance(entry, Group)
                    else ""
                )
                tds.append(
                    f'<td class="t" style="padding-left:{0.3 + 1.2 * level:.1f}em">{fold}{shown_cell}</td>'
                )
            elif k == "memory":
                tds.append(f'<td data-v="{held}">{shown_cell}</td>')
            else:
                tds.append(f'<td class="t">{shown_cell}</td>' if k in text else f"<td>{shown_cell}</td>")
        kind = " block" if isinstance(entry, Group) else ""
        out.append(
            f'<tr id="{prefix}row-{key}" class="l{level}{kind}" data-in="{" ".join(chain)}"{hidden}>'
            f"{''.join(tds)}<td>{_line(entry, net, prefix, files)}</td></tr>"
        )
        if isinstance(entry, Group):
            chain.append(key)
    total = "".join(f"<td>{xml(c)}</td>" for c in totals_row(net, wanted))
    out.append(f'</tbody><tfoot><tr class="total">{total}<td></td></tr></tfoot></table>')
    return "\n".join(out)


def _totals(net: Network, lines: Sequence[str] | None = None) -> str:
    """The totals as the text report words them: params, compute, activations, peak, training (`lines`:
    as the caller worded them, e.g. the compute line under a counting convention)."""
    items = []
    for text in lines if lines is not None else summary(net):
        head, _, rest = text.partition(" ")
        items.append(f"<dt>{xml(head)}</dt><dd>{xml(rest.strip())}</dd>")
    shapes = f"{net.input.show(net.order)} → {net.output.show(net.order)}"
    return f'<dl class="totals"><dt>shapes</dt><dd>{xml(shapes)}</dd>{"".join(items)}</dl>'


@frozen
class Share:
    """One bar of each chart: a top-level block or layer and its totals."""

    name: str
    key: str
    params: int
    macs: int
    memory: int


def _shares(net: Network) -> list[Share]:
    """The top-level entries of the table (blocks and the layers outside them) with their totals."""
    batch, item = net.sizing.batch, net.sizing.dtype.bytes
    out = []
    for entry, level, _ in shown(net, 0):
        if level:
            continue
        first, last = (entry.first, entry.last) if isinstance(entry, Group) else (entry, entry)
        inside = net.layers[first - 1 : last]
        out.append(
            Share(
                entry.name if isinstance(entry, Group) else inside[0].layer.name,
                _key(entry, net),
                sum(r.params for r in inside),
                sum(r.macs for r in inside),
                sum(r.activations for r in inside) * batch * item,
            )
        )
    return out


def _bars(net: Network, prefix: str) -> str:
    """Params, MACs and activation memory per top-level block (or per layer in a chain), as CSS bars."""
    shares = _shares(net)
    per = "top-level block" if net.spec.groups else "layer"
    charts = []
    for title, field, show in (
        ("params", "params", fm.number),
        ("MACs", "macs", fm.number),
        ("activation memory", "memory", lambda v: fm.size(v) if v else "0"),
    ):
        values = [getattr(e, field) for e in shares]
        top = max(values, default=0) or 1
        bars = "".join(
            f'<tr><td><a href="#{prefix}row-{e.key}">{xml(e.name)}</a></td>'
            f'<td class="bar"><i style="width:{100 * v / top:.1f}%"></i></td>'
            f"<td>{xml(show(v))}</td></tr>"
            for e, v in zip(shares, values, strict=True)
        )
        charts.append(
            f'<figure class="chart"><figcaption>{title} per {per}</figcaption><table>{bars}</table></figure>'
        )
    return f'<div class="charts">{"".join(charts)}</div>'


def _finding(f: Finding, net: Network, prefix: str, files: Mapping[str, str]) -> str:
    """One finding with its fixes, linked to its line (in the spec or an included file) and its row."""
    links = []
    at = _anchor(prefix, files, f.file, f.line)
    if at is not None:
        shown = f"line {f.line}" if f.file == net.spec.file else f"{_short(f.file or '')}:{f.line}"
        links.append(f'<a href="#{at}">{xml(shown)}</a>')
    if f.layer:
        links.append(f'<a href="#{prefix}row-{ident("layer", net.layers[f.layer - 1].layer.name)}">row</a>')
    fixes = "".join(f"<li>fix: {xml(x)}</li>" for x in f.fixes)
    return (
        f'<li class="{f.severity.value}"><span class="sev">{f.severity.value}[{xml(f.code.value)}]</span> '
        f"{xml(f.message)} {' '.join(links)}" + (f"<ul>{fixes}</ul>" if fixes else "") + "</li>"
    )


def _source(text: str, prefix: str, key: str, file: str | None, net: Network) -> str:
    """A file's text, a line per element with its anchor (id="L12" in the spec's own, "F1-L12" in an
    included one), the lines findings point to marked with the worst one's severity."""
    here = sorted((f for f in net.findings if f.file == file), key=lambda f: f.severity.rank)
    marks = {f.line: f' class="{f.severity.value}"' for f in here if f.line is not None}  # the worst last
    at = f"{prefix}{key}L"
    body = "".join(
        f'<span id="{at}{i}"{marks.get(i, "")}><a href="#{at}{i}">{i}</a>{xml(line)}\n</span>'
        for i, line in enumerate(text.splitlines(), 1)
    )
    return f'<pre class="source">{body}</pre>'


def _formulas(net: Network, prefix: str, explained: Sequence[Sequence[str]]) -> str:
    """Each layer's formulas with their numbers (`--explain`), folded under the layer's name and shapes,
    linked from its row by its key."""
    items = []
    for r, lines in zip(net.layers, explained, strict=True):
        shapes = f"{r.input.show(net.order)} → {r.output.show(net.order)}"
        key = f"{prefix}explain-{_key(r.index, net)}"
        body = "\n".join(xml(line) for line in lines)
        items.append(
            f'<details id="{key}"><summary><b>{xml(r.layer.name)}</b> {xml(shapes)}</summary>'
            f"<pre>{body}</pre></details>"
        )
    return f'<div class="formulas">{"".join(items)}</div>'


def section(
    net: Network,
    *,
    prefix: str,
    source: str | None,
    depth: int | None,
    columns: Sequence[str] | None = None,
    included: Mapping[str, str] | None = None,
    totals: Sequence[str] | None = None,
    explained: Sequence[Sequence[str]] | None = None,
) -> str:
    """One network's part of the page; `included` holds the text of each other file its layers come from
    (a block library), shown after the spec's own source and linked as it is."""
    files = {} if source is None or net.spec.file is None else {net.spec.file: ""}
    files.update({file: f"F{k}-" for k, file in enumerate(included or {}, start=1)})
    title = net.spec.name or net.spec.file or "network"
    parts = [
        f'<section class="spec" id="{prefix}spec" data-prefix="{prefix}">',
        f"<h2>{xml(title)}</h2>",
        f'<p class="file">{xml(net.spec.file)}</p>' if net.spec.file and net.spec.name else "",
        "<h3>Totals</h3>",
        _totals(net, totals),
        '<div class="pair"><div>',
        f'<h3>Diagram</h3><div class="diagram">{diagram(net, depth=depth, prefix=prefix)}</div>',
        "</div><div>",
        "<h3>Layers</h3>",
        f'<div class="tablebox">{_table(net, prefix, files, depth, columns)}</div>',
        "</div></div>",
        "<h3>Where the weights, compute and memory are</h3>",
        _bars(net, prefix),
    ]
    if explained is not None:
        parts.append(f"<h3>Formulas</h3>{_formulas(net, prefix, explained)}")
    if net.findings:
        items = "".join(_finding(f, net, prefix, files) for f in net.findings)
        parts.append(f'<h3>Findings</h3><ul class="findings">{items}</ul>')
    if source is not None:
        parts.append(f"<h3>Source</h3>{_source(source, prefix, '', net.spec.file, net)}")
    for file, text in (included or {}).items():
        shown = _source(text, prefix, files[file], file, net)
        parts.append(f"<h3>Source: {xml(file)}</h3>{shown}")
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def comparison(nets: Sequence[Network]) -> str:
    """The totals of several networks side by side, a column each."""
    figures: list[tuple[str, Callable[[Network], str]]] = [
        ("input", lambda n: n.input.show(n.order)),
        ("output", lambda n: n.output.show(n.order)),
        ("layers", lambda n: fm.number(len(n.layers))),
        ("params", lambda n: fm.number(n.params)),
        ("MACs", lambda n: fm.number(n.macs)),
        ("FLOPs", lambda n: fm.number(n.flops)),
        ("param memory", lambda n: fm.size(n.param_bytes)),
        ("activation memory", lambda n: fm.size(n.activation_bytes)),
        ("peak activation memory", lambda n: fm.size(n.peak()[0] * n.sizing.batch * n.sizing.dtype.bytes)),
        ("training memory", lambda n: "~" + fm.size(n.training_bytes)),
        ("findings", lambda n: fm.number(len(n.findings))),
    ]
    head = "".join(
        f'<th><a href="#s{i}-spec">{xml(n.spec.name or n.spec.file or "network")}</a></th>'
        for i, n in enumerate(nets, 1)
    )
    body = "".join(
        f"<tr><th>{label}</th>{''.join(f'<td>{xml(cell(n))}</td>' for n in nets)}</tr>"
        for label, cell in figures
    )
    return f'<h2>Comparison</h2><table class="compare"><thead><tr><th></th>{head}</tr></thead>{body}</table>'


def report(
    nets: Sequence[Network],
    *,
    sources: Sequence[str | None],
    depth: int | None = None,
    columns: Sequence[str] | None = None,
    included: Sequence[Mapping[str, str]] | None = None,
    totals: Sequence[Sequence[str]] | None = None,
    counted_as: str | None = None,
    explained: Sequence[Sequence[Sequence[str]]] | None = None,
) -> str:
    """The whole page; `sources` holds each spec's text (None: not shown), `depth` folds the diagram's
    and the table's blocks below it (the table's unfold with a click), `columns` chooses the table's."""
    several = len(nets) > 1
    prefixes = [f"s{i}-" if several else "" for i in range(1, len(nets) + 1)]
    title = " vs ".join(n.spec.name or n.spec.file or "network" for n in nets)
    sizing = nets[0].sizing
    counted = f" · MACs as {xml(counted_as)} counts them" if counted_as else ""
    data = {
        "specs": [
            {"prefix": p, "name": n.spec.name, "file": n.spec.file}
            for p, n in zip(prefixes, nets, strict=True)
        ]
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{xml(title)} · convcalc</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<header><h1>{xml(title)}</h1><p class="sizing">{xml(sizing.dtype.value)}, batch {sizing.batch}, '
        f"{xml(sizing.optimizer.value)}{counted} · convcalc</p></header><main>",
    ]
    if several:
        parts.append(comparison(nets))
    parts.append('<div class="specs">' if several else "<div>")
    others = included or [{} for _ in nets]
    worded: Sequence[Sequence[str] | None] = totals or [None for _ in nets]
    formulas: Sequence[Sequence[Sequence[str]] | None] = explained or [None for _ in nets]
    for net, prefix, source, extra, lines, why in zip(
        nets, prefixes, sources, others, worded, formulas, strict=True
    ):
        parts.append(
            section(
                net,
                prefix=prefix,
                source=source,
                depth=depth,
                columns=columns,
                included=extra,
                totals=lines,
                explained=why,
            )
        )
    parts.append("</div></main>")
    parts.append(f'<script type="application/json" id="convcalc-data">{_json(data)}</script>')
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


STYLE = """
:root { --fg: #1f2328; --muted: #57606a; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  --accent: #0969da; --hl: #fff8c5; --bar: #54aeff; --error: #cf222e; --warning: #9a6700; --info: #57606a; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #8b949e; --bg: #0d1117; --panel: #161b22; --line: #30363d;
    --accent: #58a6ff; --hl: #3b2e00; --bar: #1f6feb; --error: #f85149; --warning: #d29922; --info: #8b949e; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
header { padding: 12px 20px; border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { margin: 0; font-size: 20px; }
h2 { font-size: 18px; margin: 24px 0 8px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.sizing, .file { margin: 2px 0; color: var(--muted); }
main { padding: 0 20px 40px; }
a { color: var(--accent); }
.specs { display: flex; gap: 24px; align-items: flex-start; }
.specs > .spec { flex: 1 1 0; min-width: 0; }
.pair { display: grid; grid-template-columns: minmax(0, auto) minmax(0, 1fr); gap: 16px; }
.specs .pair { display: block; }
@media (max-width: 1100px) { .pair { display: block; } }
.diagram { overflow: auto; max-height: 80vh; border: 1px solid var(--line); border-radius: 6px; }
.diagram svg { display: block; }
.convcalc-svg .node, .convcalc-svg .frame-group { cursor: pointer; }
.convcalc-svg .node.selected .box, .convcalc-svg .frame-group.selected .frame { stroke: var(--accent);
  stroke-width: 3; }
.tablebox { overflow: auto; max-height: 80vh; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; }
table.layers { font: 12px/1.3 ui-monospace, monospace; width: 100%; }
table.layers th { position: sticky; top: 0; background: var(--panel); border-bottom: 1px solid var(--line); }
th button { font: inherit; font-weight: bold; color: inherit; background: none; border: 0; padding: 0;
  cursor: pointer; white-space: nowrap; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
td, th { padding: 2px 8px; text-align: right; white-space: nowrap; }
td.t, th[data-type="text"] { text-align: left; }
tbody tr:hover { background: var(--panel); }
tr.block { font-weight: bold; }
tbody tr.selected, tbody tr:target, .source span:target { background: var(--hl); }
tfoot td { font-weight: bold; border-top: 1px solid var(--line); }
button.fold { font: inherit; color: var(--muted); background: none; border: 0; padding: 0 4px 0 0;
  cursor: pointer; }
button.fold[aria-expanded="false"] { transform: rotate(-90deg); }
dl.totals { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0;
  font: 13px/1.4 ui-monospace, monospace; }
dl.totals dt { font-weight: bold; } dl.totals dd { margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { margin: 0; flex: 1 1 300px; min-width: 0; max-height: 50vh; overflow: auto; }
.chart figcaption { font-weight: bold; margin-bottom: 4px; }
.chart table { width: 100%; font: 12px/1.3 ui-monospace, monospace; }
.chart td:first-child { text-align: left; max-width: 14em; overflow: hidden; text-overflow: ellipsis; }
.chart td.bar { width: 50%; }
.chart i { display: block; height: 10px; min-width: 1px; background: var(--bar); }
ul.findings { padding-left: 20px; }
ul.findings li { margin: 4px 0; }
.sev { font: bold 12px ui-monospace, monospace; }
li.error .sev { color: var(--error); }
li.warning .sev { color: var(--warning); }
li.info .sev { color: var(--info); }
.formulas details { margin: 2px 0; }
.formulas pre { font: 12px/1.4 ui-monospace, monospace; background: var(--panel); padding: 6px 8px;
  margin: 4px 0; overflow-x: auto; }
pre.source { font: 12px/1.4 ui-monospace, monospace; background: var(--panel); padding: 8px 0;
  border: 1px solid var(--line); border-radius: 6px; overflow: auto; max-height: 80vh; }
pre.source span { display: block; padding-right: 8px; border-left: 3px solid transparent; }
pre.source span.error { border-left-color: var(--error); }
pre.source span.warning { border-left-color: var(--warning); }
pre.source span.info { border-left-color: var(--info); }
pre.source span a { display: inline-block; width: 4em; padding-right: 1em; text-align: right;
  color: var(--muted); text-decoration: none; user-select: none; }
table.compare td, table.compare th { border: 1px solid var(--line); }
@media print {
  body { font-size: 10pt; color: #000; background: #fff; }
  header { background: none; }
  .diagram, .tablebox, .chart, pre.source { max-height: none; overflow: visible; border: 0; }
  .specs { display: block; }
  tbody tr[hidden] { display: table-row; }
  button.fold { display: none; }
  th button::after { content: none !important; }
  table.layers th { position: static; }
  tr, li, pre.source span { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .chart i { background: #555; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""

SCRIPT = """
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("convcalc-data").textContent);
  data.specs.forEach(function (spec) {
    var p = spec.prefix;
    var section = document.getElementById(p + "spec");
    var table = document.getElementById(p + "layers");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var folded = new Set();
    rows.forEach(function (r) {
      var b = r.querySelector("button.fold");
      if (b && b.getAttribute("aria-expanded") === "false") folded.add(r.id.slice(p.length + 4));
    });
    function value(row, col, numeric) {
      var cell = row.cells[col];
      if (!numeric) return cell.textContent.trim();
      var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.replace(/,/g, "");
      v = parseFloat(v);
      return isNaN(v) ? -Infinity : v;
    }
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var now = th.getAttribute("aria-sort");
        var dir = now === "none" ? "ascending" : now === "ascending" ? "descending" : "none";
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", dir);
        var numeric = th.getAttribute("data-type") === "number";
        var sign = dir === "descending" ? -1 : 1;
        var keyed = rows.map(function (r, i) { return [dir === "none" ? i : value(r, col, numeric), i, r]; });
        keyed.sort(function (a, b) {
          var c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
          return sign * c || a[1] - b[1];
        });
        var frag = document.createDocumentFragment();
        keyed.forEach(function (k) { frag.appendChild(k[2]); });
        body.appendChild(frag);
      });
    });
    function ancestors(row) {
      var a = row.getAttribute("data-in");
      return a ? a.split(" ") : [];
    }
    function apply() {
      rows.forEach(function (r) {
        r.hidden = ancestors(r).some(function (k) { return folded.has(k); });
        var b = r.querySelector("button.fold");
        if (b) b.setAttribute("aria-expanded", folded.has(r.id.slice(p.length + 4)) ? "false" : "true");
      });
    }
    apply();
    function select(key, fromBox) {
      section.querySelectorAll(".selected").forEach(function (e) { e.classList.remove("selected"); });
      var row = document.getElementById(p + "row-" + key);
      if (row) {
        if (fromBox && row.hidden) { ancestors(row).forEach(function (k) { folded.delete(k); }); apply(); }
        row.classList.add("selected");
        if (fromBox) row.scrollIntoView({ block: "center" });
      }
      var box = document.getElementById(p + key);
      if (!box && row) {
        var up = ancestors(row).reverse();
        for (var i = 0; i < up.length && !box; i++) box = document.getElementById(p + up[i]);
      }
      if (!box && key.indexOf("block-") === 0) box = document.getElementById(p + "frame-" + key.slice(6));
      if (box) {
        box.classList.add("selected");
        if (!fromBox) box.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    }
    body.addEventListener("click", function (e) {
      var row = e.target.closest("tr");
      if (!row) return;
      var fold = e.target.closest("button.fold");
      var key = row.id.slice(p.length + 4);
      if (fold) {
        if (folded.has(key)) folded.delete(key); else folded.add(key);
        apply();
      } else if (!e.target.closest("a")) {
        select(key, false);
      }
    });
    section.querySelector("svg").addEventListener("click", function (e) {
      var g = e.target.closest("g.node, g.frame-group");
      if (!g || g.id.indexOf(p) !== 0) return;
      var key = g.id.slice(p.length);
      if (key.indexOf("frame-") === 0) key = "block-" + key.slice(6);
      select(key, true);
    });
  });
})();
"""
