"""A resolved network as an SVG diagram: a box per layer (or folded block), blocks as frames, edges
with arrowheads; every user string escaped, so the SVG can be inlined into HTML."""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
from collections.abc import Sequence

from . import formulas as fm
from . import kinds, safe
from . import layout as lay
from .model import Finding, Group, Network, Severity
from .present import finding_line, output_cell, shown, type_cell, window_cell
from .values import frozen

FONT = 12.0
"""The size of a box's text, in pixels."""
SMALL = 10.0
"""Params and MACs, frame labels and shape labels."""
CHAR = 0.62
"""A monospace character's advance as a fraction of its size: the common ones take 0.6 (DejaVu Sans Mono,
Liberation Mono, Courier, Menlo), so text measured with 0.62 cannot overflow its box."""
LINE = 1.3
"""The line height as a multiple of the size."""
PAD_X = 8.0
PAD_Y = 5.0
MARK = 8.0
"""Room at the right of a box for its finding's dot."""


class Box(enum.Enum):
    """What a box shows: the network's input, a layer, or a block folded by `--depth`."""

    INPUT = "input"
    LAYER = "layer"
    BLOCK = "block"

    @property
    def attribute(self) -> str:
        """The data attribute that carries the box's name: data-input, data-layer, data-block."""
        return f"data-{self.value}"


_STYLE = """
.convcalc-svg { font-family: monospace; }
.convcalc-svg text { fill: #1f2328; white-space: pre; }
.convcalc-svg .box { fill: #ffffff; stroke: #57606a; stroke-width: 1; }
.convcalc-svg .block .box { fill: #eef2f7; stroke-dasharray: 4 2; }
.convcalc-svg .input .box { fill: #f6f8fa; }
.convcalc-svg .name { font-weight: bold; }
.convcalc-svg .small, .convcalc-svg .shape, .convcalc-svg .frame-label { font-size: 10px; }
.convcalc-svg .small, .convcalc-svg .shape { fill: #57606a; }
.convcalc-svg .frame { fill: #8c959f; fill-opacity: 0.06; stroke: #8c959f; stroke-width: 1; }
.convcalc-svg .frame-label { fill: #57606a; }
.convcalc-svg .bg, .convcalc-svg .label-bg { fill: #ffffff; }
.convcalc-svg .edge { fill: none; stroke: #57606a; stroke-width: 1.2; }
.convcalc-svg .arrowhead { fill: #57606a; }
.convcalc-svg .error .box { stroke: #cf222e; stroke-width: 2; }
.convcalc-svg .warning .box { stroke: #bf8700; stroke-width: 2; }
.convcalc-svg .info .box { stroke: #8c959f; stroke-width: 1.5; }
.convcalc-svg .error .mark { fill: #cf222e; }
.convcalc-svg .warning .mark { fill: #d4a72c; }
.convcalc-svg .info .mark { fill: #8c959f; }
@media (prefers-color-scheme: dark) {
  .convcalc-svg text { fill: #e6edf3; }
  .convcalc-svg .box { fill: #161b22; stroke: #8b949e; }
  .convcalc-svg .block .box { fill: #1c2633; }
  .convcalc-svg .input .box { fill: #21262d; }
  .convcalc-svg .small, .convcalc-svg .shape, .convcalc-svg .frame-label { fill: #8b949e; }
  .convcalc-svg .frame { fill: #8b949e; fill-opacity: 0.08; stroke: #6e7681; }
  .convcalc-svg .bg, .convcalc-svg .label-bg { fill: #0d1117; }
  .convcalc-svg .edge { stroke: #8b949e; }
  .convcalc-svg .arrowhead { fill: #8b949e; }
  .convcalc-svg .error .box { stroke: #f85149; }
  .convcalc-svg .warning .box { stroke: #d29922; }
  .convcalc-svg .info .box { stroke: #6e7681; }
  .convcalc-svg .error .mark { fill: #f85149; }
  .convcalc-svg .warning .mark { fill: #d29922; }
  .convcalc-svg .info .mark { fill: #6e7681; }
}
"""

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
_ID_SAFE = re.compile(r"[^A-Za-z0-9.-]")


def display(text: str) -> str:
    """The text as the diagram shows it: controls escaped as the table shows them, and the characters
    XML forbids (lone surrogates, U+FFFE) written as \\uXXXX."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m[0]):04x}", safe.visible(text))


def xml(text: str) -> str:
    """Text safe in XML content and attribute values, and in HTML when inlined: `display`ed, then &, <,
    >, and quotes as entities (so neither `]]>` nor `</script>` survives)."""
    return display(text).translate(_ESCAPES)


def ident(kind: str, name: str, prefix: str = "") -> str:
    """An XML id from a name, one to one: letters, digits, `.` and `-` kept, any other character (`_`
    too) written as _hex_."""
    return f"{prefix}{kind}-" + _ID_SAFE.sub(lambda m: f"_{ord(m[0]):x}_", name)


def text_width(text: str, size: float) -> float:
    """The width monospace text takes at most: wide (East Asian) characters take two cells."""
    cells = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return cells * CHAR * size


@frozen
class Unit:
    """One box of the diagram and what it says."""

    kind: Box
    name: str
    """The full name (a layer's or block instance's), for ids and tooltips."""
    label: str
    """The name shown: relative to the block the box sits in."""
    lines: tuple[str, ...]
    small: str
    """Params and MACs, in smaller text ('' for none)."""
    output: str
    changed: bool
    """Whether the box changes the shape: its outgoing edges are labelled with the new one."""
    frame: int
    """The frame it sits in, -1 for none."""
    findings: tuple[Finding, ...] = ()

    @property
    def worst(self) -> Severity | None:
        """The worst severity among its findings."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    @property
    def shown_lines(self) -> tuple[str, ...]:
        """Every line of the box, the name first."""
        return (self.label, *self.lines)

    def size(self) -> tuple[float, float]:
        """Width and height from the text."""
        texts = [text_width(display(t), FONT) for t in self.shown_lines]
        texts.append(text_width(self.small, SMALL))
        rows = len(self.shown_lines)
        height = 2 * PAD_Y + rows * LINE * FONT + (LINE * SMALL if self.kind is not Box.INPUT else 0)
        return max(texts) + 2 * PAD_X + MARK, height


@frozen
class Frame:
    """A block instance drawn as a frame around its layers."""

    group: Group
    label: str
    parent: int


def _numbers(params: int, macs: int) -> str:
    return f"{fm.number(params)} params · {fm.number(macs)} MACs" if params or macs else ""


def units(net: Network, depth: int | None = None) -> tuple[list[Unit], list[Frame], list[tuple[int, int]]]:
    """The boxes (the input first), frames and edges the diagram shows, blocks deeper than `depth`
    folded into one box each as the table folds them."""
    order = net.order
    shape = net.input.show(order)
    out = [Unit(Box.INPUT, "input", "input", (shape,), "", shape, False, -1)]
    frames: list[Frame] = []
    unit_of = [0] * (len(net.layers) + 1)
    stack: list[int] = []
    for entry, level, parent in shown(net, depth):
        del stack[level:]
        frame = stack[-1] if stack else -1
        if isinstance(entry, Group):
            label = entry.name.removeprefix(parent + ".") if parent else entry.name
            block = f"{entry.block} x{entry.repeat}" if entry.repeat else entry.block
            if depth is None or level < depth:
                frames.append(Frame(entry, f"{label} · {block}", frame))
                stack.append(len(frames) - 1)
                continue
            inside = net.layers[entry.first - 1 : entry.last]
            params, macs = sum(r.params for r in inside), sum(r.macs for r in inside)
            shape = output_cell(inside[-1], order)
            changed = inside[-1].output != inside[0].input
            out.append(
                Unit(
                    Box.BLOCK,
                    entry.name,
                    label,
                    (block, shape),
                    _numbers(params, macs),
                    shape,
                    changed,
                    frame,
                )
            )
            unit_of[entry.first : entry.last + 1] = [len(out) - 1] * (entry.last - entry.first + 1)
            continue
        r = net.layers[entry - 1]
        module = kinds.of(r.layer)
        kind = module.KIND.value if module.MERGE else type_cell(r)
        window = window_cell(r)
        shape = output_cell(r, order)
        label = r.layer.name.removeprefix(parent + ".") if parent else r.layer.name
        out.append(
            Unit(
                Box.LAYER,
                r.layer.name,
                label,
                (f"{kind}  {window}" if window else kind, shape),
                _numbers(r.params, r.macs),
                shape,
                r.output != r.input,
                frame,
            )
        )
        unit_of[entry] = len(out) - 1
    found: dict[int, list[Finding]] = {}
    for f in net.findings:
        found.setdefault(unit_of[f.layer] if f.layer and f.layer < len(unit_of) else 0, []).append(f)
    out = [dataclasses.replace(u, findings=tuple(found[i])) if i in found else u for i, u in enumerate(out)]
    edges = dict.fromkeys(
        (unit_of[s], unit_of[r.index])
        for r in net.layers
        for s in net.spec.sources(r.index)
        if unit_of[s] != unit_of[r.index]
    )
    return out, frames, list(edges)


def _f(v: float) -> str:
    """A coordinate, to a tenth of a pixel."""
    return f"{v:.1f}".removesuffix(".0")


def laid_out(
    net: Network, depth: int | None = None
) -> tuple[list[Unit], list[Frame], list[tuple[int, int]], lay.Diagram]:
    """The units, frames and edges, and where the layout puts them."""
    boxes, frames, edges = units(net, depth)
    sizes = [u.size() for u in boxes]
    shape_line = LINE * SMALL + 2
    drawn = lay.layout(
        [
            lay.Node(w, h, u.frame, shape_line if u.changed else 0.0)
            for u, (w, h) in zip(boxes, sizes, strict=True)
        ],
        [lay.Group(f.parent, text_width(display(f.label), SMALL) + 8) for f in frames],
        edges,
    )
    return boxes, frames, edges, drawn


def diagram(net: Network, *, depth: int | None = None, prefix: str = "") -> str:
    """The network as an SVG document (`prefix` starts every id, for several diagrams in one page)."""
    boxes, frames, edges, drawn = laid_out(net, depth)
    title = net.spec.name or net.spec.file or "network"
    arrow = f"{prefix}arrow"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="convcalc-svg" width="{_f(drawn.width)}" '
        f'height="{_f(drawn.height)}" viewBox="0 0 {_f(drawn.width)} {_f(drawn.height)}" '
        f'font-family="monospace" font-size="{_f(FONT)}" role="img">',
        f"<title>{xml(title)}</title>",
        f"<style>{_STYLE}</style>",
        f'<defs><marker id="{arrow}" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" markerUnits="userSpaceOnUse" orient="auto">'
        '<path class="arrowhead" d="M0,0L8,4L0,8z"/></marker></defs>',
        _rect(lay.Rect(0, 0, drawn.width, drawn.height), "bg", 0),
        '<g class="frames">',
    ]
    for f, rect in zip(frames, drawn.frames, strict=True):
        out.append(
            f'<g class="frame-group" id="{ident("frame", f.group.name, prefix)}" '
            f'data-frame="{xml(f.group.name)}">{_rect(rect, "frame", 6)}</g>'
        )
    out.append("</g>")
    out.append('<g class="edges">')
    inputs: dict[int, int] = {}
    for _, t in edges:
        inputs[t] = inputs.get(t, 0) + 1
    for route in drawn.routes:
        target = boxes[route.target]
        merge = " into-merge" if inputs[route.target] > 1 else ""
        d = "M" + "L".join(f"{_f(x)},{_f(y)}" for x, y in route.points)
        out.append(
            f'<path class="edge{merge}" d="{d}" marker-end="url(#{arrow})" '
            f'data-from="{xml(boxes[route.source].name)}" data-to="{xml(target.name)}"/>'
        )
    out.append("</g>")
    out.append('<g class="labels">')  # over the edges, each on a patch of background
    for f, rect in zip(frames, drawn.frames, strict=True):
        out.append(_label(f.label, rect.x + 6, rect.y + 3, "frame-label"))
    sources = {s for s, _ in edges}
    for i, u in enumerate(boxes):
        if u.changed and i in sources:
            rect = drawn.boxes[i]
            out.append(_label(u.output, rect.x + rect.w / 2 + 4, rect.bottom + 1, "shape"))
    out.append("</g>")
    out.append('<g class="layers">')
    for u, rect in zip(boxes, drawn.boxes, strict=True):
        out.append(_box(u, rect, prefix))
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _label(text: str, x: float, y: float, cls: str) -> str:
    """Small text whose top left is at x, y, on a patch of the background."""
    patch = lay.Rect(x - 2, y, text_width(display(text), SMALL) + 4, SMALL + 2)
    return (
        f'{_rect(patch, "label-bg", 2)}<text class="{cls}" x="{_f(x)}" y="{_f(y + SMALL)}">{xml(text)}</text>'
    )


def _rect(rect: lay.Rect, cls: str, rounded: float) -> str:
    """A rect element."""
    return (
        f'<rect class="{cls}" x="{_f(rect.x)}" y="{_f(rect.y)}" width="{_f(rect.w)}" '
        f'height="{_f(rect.h)}" rx="{_f(rounded)}"/>'
    )


def _box(u: Unit, rect: lay.Rect, prefix: str) -> str:
    """One unit's group: its tooltip, box, text and finding marker."""
    worst = u.worst
    classes = " ".join(filter(None, ["node", u.kind.value, worst.value if worst else ""]))
    tip = "\n".join(xml(t) for t in [u.name, *(finding_line(f, fixes=True) for f in u.findings)])
    parts = [
        f'<g id="{ident(u.kind.value, u.name, prefix)}" class="{classes}" '
        f'{u.kind.attribute}="{xml(u.name)}">',
        f"<title>{tip}</title>",
        _rect(rect, "box", 3),
    ]
    x = rect.x + PAD_X
    for k, line in enumerate(u.shown_lines):
        cls = ' class="name"' if k == 0 else ""
        y = rect.y + PAD_Y + FONT + k * LINE * FONT
        parts.append(f'<text{cls} x="{_f(x)}" y="{_f(y)}">{xml(line)}</text>')
    if u.small:
        y = rect.y + PAD_Y + len(u.shown_lines) * LINE * FONT + SMALL
        parts.append(f'<text class="small" x="{_f(x)}" y="{_f(y)}">{xml(u.small)}</text>')
    if worst is not None:
        parts.append(f'<circle class="mark" cx="{_f(rect.right - 6)}" cy="{_f(rect.y + 6)}" r="3.5"/>')
    parts.append("</g>")
    return "".join(parts)


def diagrams(nets: Sequence[Network], *, depth: int | None = None) -> str:
    """One network's diagram (the SVG format draws one network per file)."""
    if len(nets) != 1:
        raise ValueError("an SVG holds one network")
    return diagram(nets[0], depth=depth)
