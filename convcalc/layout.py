"""A layered layout for network diagrams: boxes on a grid of rows and columns, blocks as nested frames,
edges routed orthogonally through the gaps between rows and the gutters between columns.

Our own, not a library's: these graphs are nearly chains with skip edges and nested blocks, which a
grid lays out exactly, and grandalf, the pure-Python Sugiyama layout, is unmaintained and knows no
frames. Each block is laid out first, as a rectangle of cells its parent then places like one layer
(its row the longest path to it, its column its leftmost input's, or the next free one to the right), so
a chain stays in one column, branches stand side by side and a frame never holds another block's box.
No box shares a row band with a gap or a column band with a gutter, so an edge that leaves its box
downwards, runs along a gap, down a lane in a gutter and along another gap into its target's top
crosses no box: a skip edge (a residual add, a U-Net or DenseNet concat) takes a lane beside the column.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from .values import frozen

PAD = 8.0
"""A frame's margin around what it holds (per nesting level)."""
LABEL = 14.0
"""Room for a frame's label above its contents."""
TRACK = 6.0
"""The distance between two horizontal edge tracks in a gap."""
LANE = 8.0
"""The distance between two vertical lanes in a gutter."""
GAP = 16.0
"""The least space between two rows."""
GUTTER = 24.0
"""The least space between two columns."""
MARGIN = 10.0


@frozen
class Node:
    """A box to place: its size, the innermost group it sits in (-1: none) and the room its outgoing
    edges' label needs below it."""

    width: float
    height: float
    group: int = -1
    below: float = 0.0


@frozen
class Group:
    """A frame around consecutive nodes: the group it sits in (-1: none, else an earlier group) and
    the width of its label."""

    parent: int = -1
    label: float = 0.0


@frozen
class Rect:
    """An axis-aligned rectangle."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        """The right edge."""
        return self.x + self.w

    @property
    def bottom(self) -> float:
        """The bottom edge."""
        return self.y + self.h


@frozen
class Route:
    """An edge as a polyline of horizontal and vertical segments, from its source's bottom to its
    target's top."""

    source: int
    target: int
    points: tuple[tuple[float, float], ...]


@frozen
class Diagram:
    """A laid-out graph: a box per node, a frame per group, a route per edge, and the whole size."""

    boxes: tuple[Rect, ...]
    frames: tuple[Rect, ...]
    routes: tuple[Route, ...]
    width: float
    height: float
    cells: tuple[tuple[int, int], ...]
    """Each node's row and column on the grid."""


def _chains(nodes: Sequence[Node], groups: Sequence[Group]) -> list[tuple[int, ...]]:
    """Each group's ancestors and itself, outermost first; checks parents come first and groups hold
    consecutive nodes."""
    chains: list[tuple[int, ...]] = []
    for g, group in enumerate(groups):
        if not -1 <= group.parent < g:
            raise ValueError(f"group {g}: its parent must be an earlier group")
        chains.append((*(chains[group.parent] if group.parent >= 0 else ()), g))
    closed: set[int] = set()
    before: tuple[int, ...] = ()
    for i, node in enumerate(nodes):
        if not -1 <= node.group < len(groups):
            raise ValueError(f"node {i}: no group {node.group}")
        chain = chains[node.group] if node.group >= 0 else ()
        closed.update(set(before) - set(chain))
        if closed.intersection(chain):
            raise ValueError(f"node {i}: a group's nodes must be consecutive")
        before = chain
    held = set(before) | closed
    if len(held) != len(groups):
        raise ValueError("every group must hold a node")
    return chains


def layout(nodes: Sequence[Node], groups: Sequence[Group], edges: Iterable[tuple[int, int]]) -> Diagram:
    """Lay out a DAG whose nodes are in topological order (every edge goes from a lower index to a
    higher one) and whose groups each hold consecutive nodes."""
    pairs = list(edges)
    n = len(nodes)
    for s, t in pairs:
        if not 0 <= s < t < n:
            raise ValueError(f"edge {s} -> {t}: edges go from a node to a later one")
    chains = _chains(nodes, groups)
    node_chain = [chains[v.group] if v.group >= 0 else () for v in nodes]
    row, col = _grid(nodes, groups, pairs, node_chain)
    return _Pixels(nodes, groups, pairs, row, col).diagram()


def _grid(
    nodes: Sequence[Node],
    groups: Sequence[Group],
    pairs: list[tuple[int, int]],
    node_chain: list[tuple[int, ...]],
) -> tuple[list[int], list[int]]:
    """Every unit's row and column on the grid (units: nodes 0..n-1, then groups n..n+g-1), relative to
    its group first, then absolute."""
    n = len(nodes)
    units = n + len(groups)
    children: dict[int, list[int]] = {-1: []}
    seen: set[int] = set()
    for i in range(n):
        outer = -1
        for g in node_chain[i]:
            if g not in seen:
                seen.add(g)
                children[outer].append(n + g)
                children[g] = []
            outer = g
        children[outer].append(i)
    into: list[list[int]] = [[] for _ in range(units)]  # per unit, its sources among its siblings
    for s, t in pairs:
        a, b = node_chain[s], node_chain[t]
        depth = 0
        while depth < len(a) and depth < len(b) and a[depth] == b[depth]:
            depth += 1
        into[n + b[depth] if depth < len(b) else t].append(n + a[depth] if depth < len(a) else s)
    row = [0] * units
    col = [0] * units
    height = [1] * units
    width = [1] * units
    for container in [*range(len(groups) - 1, -1, -1), -1]:  # inner blocks first
        taken: dict[int, set[int]] = {}
        for u in children[container]:  # a unit's sources come before it: blocks are consecutive
            r = max((row[p] + height[p] for p in into[u]), default=0)
            c = min((col[p] for p in into[u]), default=0)  # the leftmost input's: the main chain's
            while any(c + k in taken.get(r + j, ()) for j in range(height[u]) for k in range(width[u])):
                c += 1
            for j in range(height[u]):
                taken.setdefault(r + j, set()).update(range(c, c + width[u]))
            row[u], col[u] = r, c
        if container >= 0:
            inside = children[container]
            height[n + container] = max(row[u] + height[u] for u in inside)
            width[n + container] = max(col[u] + width[u] for u in inside)
    for container in [-1, *range(len(groups))]:
        base_r, base_c = (row[n + container], col[n + container]) if container >= 0 else (0, 0)
        for u in children[container]:
            row[u] += base_r
            col[u] += base_c
    return row, col


class _Pixels:
    """From grid cells to coordinates: row heights and column widths from the boxes, gaps and gutters
    from the frames and the edges' tracks and lanes."""

    def __init__(
        self,
        nodes: Sequence[Node],
        groups: Sequence[Group],
        pairs: list[tuple[int, int]],
        row: list[int],
        col: list[int],
    ) -> None:
        n = len(nodes)
        self.nodes, self.groups, self.pairs, self.n = nodes, groups, pairs, n
        self.row, self.col = row, col
        self.rows = max((row[i] + 1 for i in range(n)), default=0)
        self.cols = max((col[i] + 1 for i in range(n)), default=0)
        self.span = self._spans()

    def _spans(self) -> list[tuple[int, int, int, int]]:
        """Each group's first and last row and column."""
        lo_r = [1 << 30] * len(self.groups)
        hi_r = [-1] * len(self.groups)
        lo_c = [1 << 30] * len(self.groups)
        hi_c = [-1] * len(self.groups)
        for i, node in enumerate(self.nodes):
            g = node.group
            while g >= 0:
                lo_r[g] = min(lo_r[g], self.row[i])
                hi_r[g] = max(hi_r[g], self.row[i])
                lo_c[g] = min(lo_c[g], self.col[i])
                hi_c[g] = max(hi_c[g], self.col[i])
                g = self.groups[g].parent
        return list(zip(lo_r, hi_r, lo_c, hi_c, strict=True))

    def _extents(self) -> list[list[float]]:
        """Each frame's reach beyond its cells: top, bottom, left, right (a frame holds the frames of
        its children that touch the same side)."""
        ext = [[PAD + LABEL, PAD, PAD, PAD] for _ in self.groups]
        for g in range(len(self.groups) - 1, -1, -1):
            parent = self.groups[g].parent
            if parent >= 0:
                for side in range(4):
                    if self.span[g][side] == self.span[parent][side]:
                        grown = ext[g][side] + (PAD + LABEL if side == 0 else PAD)
                        ext[parent][side] = max(ext[parent][side], grown)
        return ext

    def diagram(self) -> Diagram:
        """Sizes, tracks and lanes, then every coordinate."""
        nodes, n = self.nodes, self.n
        row, col = self.row, self.col
        row_h = [0.0] * self.rows
        col_w = [0.0] * self.cols
        below = [0.0] * self.rows
        for i, v in enumerate(nodes):
            row_h[row[i]] = max(row_h[row[i]], v.height)
            col_w[col[i]] = max(col_w[col[i]], v.width)
            below[row[i]] = max(below[row[i]], v.below)
        for g, group in enumerate(self.groups):
            _, _, c0, c1 = self.span[g]
            short = group.label + 2 * PAD - sum(col_w[c0 : c1 + 1])
            if short > 0:
                col_w[c1] += short
        ext = self._extents()
        close = [0.0] * self.rows
        opening = [0.0] * (self.rows + 1)
        right = [0.0] * (self.cols + 1)  # right[c + 1]: the reach of frames ending at column c
        left = [0.0] * (self.cols + 1)  # left[c]: of frames starting at column c
        for g, (r0, r1, c0, c1) in enumerate(self.span):
            opening[r0] = max(opening[r0], ext[g][0])
            close[r1] = max(close[r1], ext[g][1])
            left[c0] = max(left[c0], ext[g][2])
            right[c1 + 1] = max(right[c1 + 1], ext[g][3])

        # Edges on the grid: x in column units (column c spans c..c+1, its right gutter is c+1).
        into: dict[int, list[tuple[float, int, int]]] = {}
        lane_of: dict[int, int] = {}
        for e, (s, t) in enumerate(self.pairs):
            if row[t] == row[s] + 1:
                key = col[s] + 0.5
            else:
                # the gutter beside the column further right: the long run goes down beside the branch
                lane_of[e] = max(col[s], col[t]) - 1 if col[s] != col[t] else col[t]
                key = lane_of[e] + 1.0
            into.setdefault(t, []).append((key, s, e))
        above = {(row[i] + 1, col[i]): i for i in range(n)}
        port: dict[int, float] = {}  # each edge's in-port, as a fraction of its target's width
        for t, items in into.items():
            items.sort()
            k = len(items)
            slots = [(j + 1) / (k + 1) for j in range(k)]
            middle = items[k // 2][1] if k % 2 else None
            if middle is not None and above.get((row[t], col[t]), middle) != middle:
                # the centre is where the box above sends its edges down: another source keeps off it
                slots = [x for x in ((j + 1) / (k + 2) for j in range(k + 1)) if x != 0.5][:k]
            for (_, _, e), x in zip(items, slots, strict=True):
                port[e] = x
        nets: dict[tuple[int, int], list[float]] = {}  # (gap, source): the span of its segments there
        buses: dict[tuple[int, int], list[int]] = {}  # (gutter, source): the gaps its lane spans
        for e, (s, t) in enumerate(self.pairs):
            out_x, in_x = col[s] + 0.5, col[t] + port[e]
            if e in lane_of:
                g = lane_of[e]
                _widen(nets, (row[s], s), out_x, g + 1.0)
                _widen(nets, (row[t] - 1, s), g + 1.0, in_x)
                bus = buses.setdefault((g, s), [row[s], row[t] - 1])
                bus[0], bus[1] = min(bus[0], row[s]), max(bus[1], row[t] - 1)
            else:
                _widen(nets, (row[s], s), out_x, in_x)
        track = _colour({k: (v[0], v[1]) for k, v in nets.items() if v[0] < v[1]})
        lane = _colour({k: (v[0], v[1]) for k, v in buses.items()})
        tracks = [0] * self.rows
        for (gap, _), k in track.items():
            tracks[gap] = max(tracks[gap], k + 1)
        lanes = [0] * (self.cols + 1)  # lanes[g + 1]: in gutter g
        for (g, _), k in lane.items():
            lanes[g + 1] = max(lanes[g + 1], k + 1)

        # Coordinates: rows down, columns across.
        row_y = [0.0] * self.rows
        track_y = [0.0] * self.rows
        y = MARGIN + opening[0]
        for r in range(self.rows):
            row_y[r] = y
            y += row_h[r] + below[r] + close[r]
            if r + 1 < self.rows:
                y += GAP / 2
                track_y[r] = y
                y += tracks[r] * TRACK + GAP / 2 + opening[r + 1]
        height = y + MARGIN
        col_x = [0.0] * self.cols
        lane_x = [0.0] * (self.cols + 1)  # lane_x[g + 1]: where gutter g's lanes start
        x = MARGIN
        for c in range(self.cols + 1):
            x += right[c] + GUTTER / 2
            lane_x[c] = x
            x += lanes[c] * LANE + GUTTER / 2
            if c < self.cols:
                col_x[c] = x + left[c]
                x = col_x[c] + col_w[c]
        width = x + MARGIN

        boxes = tuple(
            Rect(col_x[col[i]] + (col_w[col[i]] - v.width) / 2, row_y[row[i]], v.width, v.height)
            for i, v in enumerate(nodes)
        )
        frames = tuple(
            Rect(
                col_x[c0] - ext[g][2],
                row_y[r0] - ext[g][0],
                col_x[c1] + col_w[c1] + ext[g][3] - (col_x[c0] - ext[g][2]),
                row_y[r1] + row_h[r1] + below[r1] + ext[g][1] - (row_y[r0] - ext[g][0]),
            )
            for g, (r0, r1, c0, c1) in enumerate(self.span)
        )

        def level(gap: int, s: int) -> float:
            k = track.get((gap, s))
            return track_y[gap] + (k + 0.5) * TRACK if k is not None else track_y[gap]

        routes = []
        for e, (s, t) in enumerate(self.pairs):
            a, b = boxes[s], boxes[t]
            points: tuple[tuple[float, float], ...]
            out_x = col_x[col[s]] + col_w[col[s]] / 2
            in_x = col_x[col[t]] + col_w[col[t]] / 2 + (port[e] - 0.5) * b.w
            if e in lane_of:
                g = lane_of[e]
                x = lane_x[g + 1] + (lane[(g, s)] + 0.5) * LANE
                y0, y1 = level(row[s], s), level(row[t] - 1, s)
                points = ((out_x, a.bottom), (out_x, y0), (x, y0), (x, y1), (in_x, y1), (in_x, b.y))
            elif out_x == in_x:
                points = ((out_x, a.bottom), (in_x, b.y))
            else:
                y0 = level(row[s], s)
                points = ((out_x, a.bottom), (out_x, y0), (in_x, y0), (in_x, b.y))
            routes.append(Route(s, t, _simplified(points)))
        cells = tuple(zip(row[:n], col[:n], strict=True))
        return Diagram(boxes, frames, tuple(routes), width, height, cells)


def _widen(spans: dict[tuple[int, int], list[float]], key: tuple[int, int], a: float, b: float) -> None:
    """Grow a span to hold a..b."""
    lo, hi = min(a, b), max(a, b)
    span = spans.setdefault(key, [lo, hi])
    span[0], span[1] = min(span[0], lo), max(span[1], hi)


def _colour(spans: dict[tuple[int, int], tuple[float, float]]) -> dict[tuple[int, int], int]:
    """Tracks per place (the first of each key: a gap or a gutter) such that spans sharing one neither
    overlap nor touch; the shortest spans first, each on the first track free for it, so a span nested
    in another runs nearer the boxes and neither end of it crosses the other."""
    out: dict[tuple[int, int], int] = {}
    taken: dict[int, list[list[tuple[float, float]]]] = {}  # per place, per track: sorted spans
    for key, (lo, hi) in sorted(spans.items(), key=lambda item: (item[1][1] - item[1][0], item[1])):
        tracks = taken.setdefault(key[0], [])
        for k, track in enumerate(tracks):
            at = bisect.bisect_left(track, (lo, hi))
            if (at == 0 or track[at - 1][1] < lo) and (at == len(track) or hi < track[at][0]):
                track.insert(at, (lo, hi))
                out[key] = k
                break
        else:
            out[key] = len(tracks)
            tracks.append([(lo, hi)])
    return out


def _simplified(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """The polyline without repeated points and without middle points of straight runs."""
    kept: list[tuple[float, float]] = []
    for p in points:
        if kept and kept[-1] == p:
            continue
        if len(kept) >= 2:
            (x0, y0), (x1, y1) = kept[-2], kept[-1]
            if (x0 == x1 == p[0]) or (y0 == y1 == p[1]):
                kept[-1] = p
                continue
        kept.append(p)
    return tuple(kept)
