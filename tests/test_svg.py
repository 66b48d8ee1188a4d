"""Issue 15, the diagram: `run --format svg` draws every layer once, boxes never overlap, edges never
cross a box, blocks are frames that fold with --depth, findings mark their layers, names are escaped."""

from __future__ import annotations

import bisect
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import layout as lay
from convcalc.__main__ import main
from convcalc.loader import parse, read
from convcalc.model import Network
from convcalc.resolver import resolve
from convcalc.svg import CHAR, PAD_X, diagram, display, ident, laid_out, text_width, xml
from convcalc.walk import has_layers

ROOT = Path(__file__).parent.parent
SPECS = ROOT / "specs"
ALL_SPECS = sorted(p for p in SPECS.rglob("*.yaml") if has_layers(str(p)))
SVG = "{http://www.w3.org/2000/svg}"
DRAWN = {
    "resnet50": SPECS / "torchvision" / "resnet50.yaml",
    "googlenet": SPECS / "torchvision" / "googlenet.yaml",
    "densenet121": SPECS / "torchvision" / "densenet121.yaml",
    "unet": SPECS / "unet.yaml",
    "unet_padded": SPECS / "unet_padded.yaml",
}


def _net(path: Path | str) -> Network:
    return resolve(read(str(path)))


def _svg(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    return root


def _nodes(root: ET.Element, attr: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if attr in g.attrib]


# --- geometry on the layout's own output -------------------------------------------------------------


def _overlap(a: lay.Rect, b: lay.Rect) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _inside(a: lay.Rect, b: lay.Rect) -> bool:
    return b.x <= a.x and a.right <= b.right and b.y <= a.y and a.bottom <= b.bottom


def _crosses(p: tuple[float, float], q: tuple[float, float], box: lay.Rect) -> bool:
    """Whether an axis-parallel segment enters the box's interior."""
    (x0, y0), (x1, y1) = p, q
    lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    if lo_x == hi_x:
        return box.x < lo_x < box.right and max(lo_y, box.y) < min(hi_y, box.bottom)
    return box.y < lo_y < box.bottom and max(lo_x, box.x) < min(hi_x, box.right)


def check_geometry(
    drawn: lay.Diagram, groups: Sequence[int], parents: Sequence[int], edges: Sequence[tuple[int, int]]
) -> None:
    """No two boxes overlap; every route is axis-parallel, leaves its source's bottom, enters its
    target's top and crosses no box; every frame holds its nodes' boxes and its child frames, and
    meets no other box or frame."""
    boxes = drawn.boxes
    order = sorted(range(len(boxes)), key=lambda i: boxes[i].y)
    tops = [boxes[i].y for i in order]
    tallest = max((b.h for b in boxes), default=0.0)

    def near(lo: float, hi: float) -> list[int]:
        """The boxes whose vertical extent may meet lo..hi."""
        return order[bisect.bisect_right(tops, lo - tallest) : bisect.bisect_left(tops, hi)]

    for i, a in enumerate(boxes):
        for j in near(a.y, a.bottom):
            assert j == i or not _overlap(a, boxes[j]), f"boxes {i} and {j} overlap"
    assert [(r.source, r.target) for r in drawn.routes] == list(edges)
    for r in drawn.routes:
        s, t = boxes[r.source], boxes[r.target]
        (x0, y0), (x1, y1) = r.points[0], r.points[-1]
        assert y0 == s.bottom, f"edge {r.source}->{r.target} leaves its source's bottom"
        assert s.x < x0 < s.right, f"edge {r.source}->{r.target} leaves its source"
        assert y1 == t.y, f"edge {r.source}->{r.target} enters its target's top"
        assert t.x < x1 < t.right, f"edge {r.source}->{r.target} enters its target"
        for p, q in zip(r.points, r.points[1:], strict=False):
            assert p[0] == q[0] or p[1] == q[1], f"edge {r.source}->{r.target}: {p} {q} is slanted"
            for k in near(min(p[1], q[1]), max(p[1], q[1])):
                assert not _crosses(p, q, boxes[k]), f"edge {r.source}->{r.target} crosses box {k}"

    runs: dict[tuple[bool, float], list[tuple[float, float, int]]] = {}  # segments by line: spans, source
    for r in drawn.routes:
        for (x0, y0), (x1, y1) in zip(r.points, r.points[1:], strict=False):
            line = (x0 == x1, x0 if x0 == x1 else y0)
            lo, hi = (min(y0, y1), max(y0, y1)) if x0 == x1 else (min(x0, x1), max(x0, x1))
            runs.setdefault(line, []).append((lo, hi, r.source))
    for line, spans in runs.items():
        spans.sort()
        for i, (_, hi, a) in enumerate(spans):
            for lo, _, b in itertools.takewhile(lambda span, hi=hi: span[0] < hi, spans[i + 1 :]):
                assert a == b, f"edges from {a} and {b} run along each other on {line} from {lo} to {hi}"

    def chain(g: int) -> set[int]:
        out = set()
        while g >= 0:
            out.add(g)
            g = parents[g]
        return out

    for i, box in enumerate(boxes):
        mine = chain(groups[i])
        for g, frame in enumerate(drawn.frames):
            if g in mine:
                assert _inside(box, frame), f"box {i} is outside its frame {g}"
            else:
                assert not _overlap(box, frame), f"box {i} is inside frame {g}, not its own"
    for g, frame in enumerate(drawn.frames):
        for h, other in enumerate(drawn.frames):
            if h in chain(parents[g]):
                assert _inside(frame, other), f"frame {g} is outside its parent {h}"
            elif g != h and g not in chain(parents[h]):
                assert not _overlap(frame, other), f"frames {g} and {h} overlap"


@pytest.mark.parametrize("name", sorted(DRAWN))
@pytest.mark.parametrize("depth", [None, 0, 1, 2])
def test_the_branchy_networks_are_readable(name: str, depth: int | None) -> None:
    units, frames, edges, drawn = laid_out(_net(DRAWN[name]), depth)
    check_geometry(drawn, [u.frame for u in units], [f.parent for f in frames], edges)


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[lay.Node], list[lay.Group], list[tuple[int, int]]]:
    """Random DAGs: mostly chains, with skip edges, branches, unconnected nodes and nested groups."""
    n = draw(st.integers(1, 40))
    spans = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=8))
    laminar: list[tuple[int, int]] = []
    for a, b in sorted((min(p), max(p)) for p in spans):
        if all(b < c or d < a or (c <= a and b <= d) or (a <= c and d <= b) for c, d in laminar):
            laminar.append((a, b))
    laminar.sort(key=lambda s: (s[0], -s[1]))
    parents: list[int] = []
    for g, (a, b) in enumerate(laminar):
        holders = [h for h in range(g) if laminar[h][0] <= a and b <= laminar[h][1]]
        parents.append(max(holders, default=-1))
    groups = [lay.Group(p, draw(st.floats(0, 150))) for p in parents]
    nodes = []
    for i in range(n):
        holders = [g for g, (a, b) in enumerate(laminar) if a <= i <= b]
        nodes.append(
            lay.Node(
                draw(st.floats(10, 250)),
                draw(st.floats(10, 90)),
                max(holders, default=-1),
                draw(st.sampled_from([0.0, 13.0])),
            )
        )
    chained = [(i - 1, i) for i in range(1, n) if draw(st.integers(0, 5))]
    skips = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))
    edges = sorted({*chained, *((min(p), max(p)) for p in skips if p[0] != p[1])}, key=lambda e: (e[1], e[0]))
    return nodes, groups, edges


@settings(max_examples=300, deadline=None)
@given(dags())
def test_random_dags_are_readable(
    graph: tuple[list[lay.Node], list[lay.Group], list[tuple[int, int]]],
) -> None:
    nodes, groups, edges = graph
    drawn = lay.layout(nodes, groups, edges)
    assert [(b.w, b.h) for b in drawn.boxes] == [(v.width, v.height) for v in nodes]
    check_geometry(drawn, [v.group for v in nodes], [g.parent for g in groups], edges)
    assert all(min(b.x, b.y) >= 0 for b in drawn.boxes)
    assert all(b.right <= drawn.width and b.bottom <= drawn.height for b in drawn.boxes)


def test_a_chain_is_one_column_and_branches_stand_side_by_side() -> None:
    """A chain keeps one column; GoogLeNet's four branches take four; a merge returns to the left."""
    chain = lay.layout([lay.Node(50, 20)] * 5, [], [(i, i + 1) for i in range(4)])
    assert chain.cells == ((0, 0), (1, 0), (2, 0), (3, 0), (4, 0))
    assert all(len(r.points) == 2 for r in chain.routes)  # straight down
    units, _, _, drawn = laid_out(_net(DRAWN["googlenet"]))
    cells = {u.name: cell for u, cell in zip(units, drawn.cells, strict=True)}
    starts = [cells[f"inception3a.{b}.conv"] for b in ("branch1", "branch2.0", "branch3.0")]
    starts.append(cells["inception3a.branch4.0"])
    assert {r for r, _ in starts} == {starts[0][0]}
    assert [c for _, c in starts] == [0, 1, 2, 3]
    assert cells["inception3a.cat"] == (cells["inception3a.branch2.1.relu"][0] + 1, 0)


def test_a_residual_skip_takes_a_lane_beside_the_column() -> None:
    """ResNet-50's identity shortcut runs down a gutter right of the main column, in no other column."""
    units, _, _, drawn = laid_out(_net(DRAWN["resnet50"]))
    at = {u.name: i for i, u in enumerate(units)}
    main_right = max(
        drawn.boxes[at[f"layer1.1.{n}"]].right for n in ("conv1", "bn1", "conv2", "conv3", "add")
    )
    (route,) = [r for r in drawn.routes if (r.source, r.target) == (at["layer1.0.relu3"], at["layer1.1.add"])]
    lane = {x for (x, _), (x2, _) in zip(route.points, route.points[1:], strict=False) if x == x2}
    assert len(route.points) == 6
    assert max(lane) > main_right


def test_layout_refuses_what_it_cannot_draw() -> None:
    with pytest.raises(ValueError, match="from a node to a later one"):
        lay.layout([lay.Node(1, 1)] * 2, [], [(1, 0)])
    with pytest.raises(ValueError, match="consecutive"):
        lay.layout([lay.Node(1, 1, 0), lay.Node(1, 1), lay.Node(1, 1, 0)], [lay.Group()], [])
    with pytest.raises(ValueError, match="earlier group"):
        lay.layout([lay.Node(1, 1, 0)], [lay.Group(0)], [])
    with pytest.raises(ValueError, match="hold a node"):
        lay.layout([lay.Node(1, 1)], [lay.Group()], [])


# --- the SVG text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: str(p.relative_to(SPECS)))
def test_every_shipped_spec_draws_one_box_per_layer(path: Path) -> None:
    net = _net(path)
    root = _svg(diagram(net))
    layers = _nodes(root, "data-layer")
    assert [g.attrib["data-layer"] for g in layers] == [display(r.layer.name) for r in net.layers]
    assert len(_nodes(root, "data-input")) == 1
    assert not _nodes(root, "data-block")
    assert len(_nodes(root, "data-frame")) == len(net.spec.groups)
    ids = [e.attrib["id"] for e in root.iter() if "id" in e.attrib]
    assert len(ids) == len(set(ids))
    reads = {
        (["input", *(r.layer.name for r in net.layers)][s], r.layer.name)
        for r in net.layers
        for s in net.spec.sources(r.index)
    }
    paths = [p for p in root.iter(f"{SVG}path") if "edge" in p.attrib["class"].split()]
    assert {(p.attrib["data-from"], p.attrib["data-to"]) for p in paths} == {
        (display(a), display(b)) for a, b in reads
    }
    assert len(paths) == len(reads)


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "unet"])
def test_text_fits_its_box(name: str) -> None:
    """Every line measured at CHAR ems per character (two for wide ones) ends inside its box."""
    root = _svg(diagram(_net(DRAWN[name])))
    for g in _nodes(root, "data-layer") + _nodes(root, "data-input"):
        rect = g.find(f"{SVG}rect")
        assert rect is not None
        right = float(rect.attrib["x"]) + float(rect.attrib["width"])
        bottom = float(rect.attrib["y"]) + float(rect.attrib["height"])
        for text in g.iter(f"{SVG}text"):
            size = 10.0 if text.attrib.get("class") == "small" else 12.0
            assert float(text.attrib["x"]) + text_width(text.text or "", size) <= right - PAD_X + 0.1
            assert float(text.attrib["y"]) + 0.25 * size <= bottom


def test_merges_get_their_incoming_edges() -> None:
    """ResNet-50 has 16 adds of two inputs: 32 edges into merges, each to a port of its own."""
    net = _net(DRAWN["resnet50"])
    root = _svg(diagram(net))
    merged = [p for p in root.iter(f"{SVG}path") if "into-merge" in p.attrib["class"].split()]
    assert len(merged) == 32
    ends = {p.attrib["d"].rsplit("L", 1)[1] for p in merged}
    assert len(ends) == 32
    assert all(m.attrib["data-to"].endswith(".add") for m in merged)


def test_shapes_label_the_edges_where_they_change() -> None:
    """A label under each layer whose output differs from its input (and reads on), none elsewhere."""
    net = resolve(
        parse(
            "input: 8x8x3\nlayers:\n  - {type: conv, filters: 3, size: 3, pad: 1}\n  - {type: act}\n"
            "  - {type: conv, filters: 5, size: 3}\n  - {type: act}\n  - {type: pool, size: 2}\n"
        )
    )
    root = _svg(diagram(net))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "shape"]
    assert labels == ["6x6x5"]


HOSTILE = [
    'a<b>&c"d',
    "x]]>y",
    "</script><script>alert(1)</script>",
    "tab\tnew\nline\x1bescape",
    "q'uote & <!-- -->",
    "零一二三四五六七八九",
]


def _hostile_spec() -> str:
    import json

    lines = [f"name: {json.dumps('</svg><script>x</script>')}", "input: 8x8x3", "layers:"]
    lines += [f"  - {{type: act, name: {json.dumps(n)}}}" for n in HOSTILE]
    return "\n".join(lines) + "\n"


def test_hostile_names_cannot_break_out() -> None:
    net = resolve(parse(_hostile_spec()))
    text = diagram(net)
    for bad in ("</script", "<script", "]]>", "<!--", "\x1b", "\t"):
        assert bad not in text
    root = _svg(text)
    names = [g.attrib["data-layer"] for g in _nodes(root, "data-layer")]
    assert names == [display(n) for n in HOSTILE]
    assert names[3] == "tab\\tnew\\nline\\x1bescape"
    ids = [g.attrib["id"] for g in _nodes(root, "data-layer")]
    assert all(re.fullmatch(r"layer-[A-Za-z0-9._-]+", i) for i in ids)
    assert len(set(ids)) == len(ids)
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == "</svg><script>x</script>"
    wide = next(g for g in _nodes(root, "data-layer") if g.attrib["data-layer"] == HOSTILE[5])
    rect = wide.find(f"{SVG}rect")
    assert rect is not None
    assert float(rect.attrib["width"]) >= 20 * CHAR * 12  # two cells a character


@given(st.text())
def test_any_text_is_xml_content_and_attribute(text: str) -> None:
    escaped = xml(text)
    assert not {"<", ">", '"', "'"} & set(escaped)
    element = ET.fromstring(f'<a b="{escaped}">{escaped}</a>')
    assert element.attrib["b"] == element.text or (element.text is None and element.attrib["b"] == "")
    assert element.attrib["b"] == display(text)


@given(st.text(), st.text())
def test_ids_are_xml_names_one_to_one(a: str, b: str) -> None:
    assert re.fullmatch(r"layer-[A-Za-z0-9._-]*", ident("layer", a))
    assert (ident("layer", a) == ident("layer", b)) == (a == b)


# --- folding, findings and the command ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "layers", "blocks", "frames"), [(0, 6, 4, 0), (1, 6, 16, 4), (2, None, 0, 20)]
)
def test_depth_folds_blocks_into_one_box(
    runner: CliRunner, depth: int, layers: int | None, blocks: int, frames: int
) -> None:
    """ResNet-50: 6 layers outside its stages; --depth 0 draws the 4 stages as boxes, --depth 1 their
    16 bottlenecks inside 4 frames, --depth 2 every layer inside 20 frames."""
    net = _net(DRAWN["resnet50"])
    result = runner.invoke(main, ["run", str(DRAWN["resnet50"]), "--format", "svg", "--depth", str(depth)])
    assert result.exit_code == 0, result.output
    root = _svg(result.stdout)
    assert len(_nodes(root, "data-layer")) == (layers or len(net.layers))
    assert len(_nodes(root, "data-block")) == blocks
    assert len(_nodes(root, "data-frame")) == frames
    if depth == 0:
        stages = _nodes(root, "data-block")
        assert [g.attrib["data-block"] for g in stages] == [f"layer{i}" for i in range(1, 5)]
        assert [t.text for t in stages[0].iter(f"{SVG}text")] == [
            "layer1",
            "bottleneck x3",
            "56x56x256",
            "215,808 params · 667,942,912 MACs",
        ]
        notes = {g.attrib["data-block"]: "info" in g.attrib["class"].split() for g in stages}
        assert notes == {"layer1": False, "layer2": True, "layer3": True, "layer4": True}  # stride-2 notes
        edges = [p for p in root.iter(f"{SVG}path") if "edge" in p.attrib["class"].split()]
        assert [(p.attrib["data-from"], p.attrib["data-to"]) for p in edges] == [
            ("input", "conv1"),
            ("conv1", "bn1"),
            ("bn1", "relu"),
            ("relu", "maxpool"),
            ("maxpool", "layer1"),
            ("layer1", "layer2"),
            ("layer2", "layer3"),
            ("layer3", "layer4"),
            ("layer4", "avgpool"),
            ("avgpool", "fc"),
        ]


def _classes(root: ET.Element) -> dict[str, set[str]]:
    return {g.attrib["data-layer"]: set(g.attrib["class"].split()) for g in _nodes(root, "data-layer")}


def test_findings_mark_their_layers(runner: CliRunner) -> None:
    """AlexNet at 227: pool1 drops a column (error, red); at 224 conv1 only leaves padding (info)."""
    result = runner.invoke(
        main, ["run", str(SPECS / "alexnet.yaml"), "--input", "227x227x3", "--format", "svg"]
    )
    assert result.exit_code == 1
    assert "error[fractional-size] pool1" in result.stderr
    root = _svg(result.stdout)
    classes = _classes(root)
    assert [name for name, c in classes.items() if "error" in c] == ["pool1"]
    pool1 = next(g for g in _nodes(root, "data-layer") if g.attrib["data-layer"] == "pool1")
    title = pool1.find(f"{SVG}title")
    assert title is not None
    assert "error[fractional-size] pool1: (56 - 3)/2 + 1 = 27.5" in (title.text or "")
    assert pool1.find(f"{SVG}circle") is not None
    quiet = _svg(runner.invoke(main, ["run", str(SPECS / "alexnet.yaml"), "--format", "svg"]).stdout)
    assert {name for name, c in _classes(quiet).items() if {"error", "warning", "info"} & c} == {"conv1"}
    assert "info" in _classes(quiet)["conv1"]


def test_a_warning_is_amber() -> None:
    net = resolve(
        parse(
            "input: 8x8x3\nlayers:\n  - {type: conv, name: a, filters: 4, size: 3}\n"
            "  - {type: conv, name: b, from: input, filters: 4, size: 3}\n"
        )
    )
    classes = _classes(_svg(diagram(net)))
    assert "warning" in classes["a"]
    assert not {"error", "warning", "info"} & classes["b"]


def test_output_file_is_written_whole(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "net.svg"
    target.write_text("old")
    result = runner.invoke(main, ["run", str(SPECS / "lenet5.yaml"), "--format", "svg", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == diagram(_net(SPECS / "lenet5.yaml"))
    assert [p.name for p in tmp_path.iterdir()] == ["net.svg"]  # no temporary file left
    table = tmp_path / "net.txt"
    assert runner.invoke(main, ["run", str(SPECS / "lenet5.yaml"), "-o", str(table)]).exit_code == 0
    assert table.read_text(encoding="utf-8").startswith("LeNet-5")


def test_output_errors_are_one_line(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text((SPECS / "lenet5.yaml").read_text())
    missing = tmp_path / "no" / "net.svg"
    result = runner.invoke(main, ["run", str(spec), "--format", "svg", "-o", str(missing)])
    assert result.exit_code == 2
    assert result.stderr == f"convcalc: error: cannot write {missing}: No such file or directory\n"
    result = runner.invoke(main, ["run", str(spec), "-o", str(spec)])
    assert result.exit_code == 2
    assert "is one of the specs: give another file" in result.stderr
    assert spec.read_text() == (SPECS / "lenet5.yaml").read_text()
    result = runner.invoke(main, ["run", str(spec), str(spec), "--format", "svg"])
    assert result.exit_code == 2
    assert "--format svg draws one network: give one spec" in result.stderr


def test_colours_follow_dark_mode() -> None:
    """Each severity has a border and a dot colour, in the light style and again for dark mode."""
    root = _svg(diagram(_net(SPECS / "lenet5.yaml")))
    style = root.find(f"{SVG}style")
    assert style is not None
    light, dark = (style.text or "").split("@media (prefers-color-scheme: dark)")
    for severity in ("error", "warning", "info"):
        for part in (light, dark):
            assert part.count(f".{severity} .box {{ stroke: #") == 1
            assert part.count(f".{severity} .mark {{ fill: #") == 1
    assert re.findall(r"\.bg, \.convcalc-svg \.label-bg \{ fill: (#\w+)", style.text or "") == [
        "#ffffff",
        "#0d1117",
    ]


def test_standard_output_is_never_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without -o the output goes to sys.stdout whatever it is (a StringIO when embedded), no file '-'."""
    import io

    monkeypatch.chdir(tmp_path)
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stdout", buffer)
    with pytest.raises(SystemExit) as done:
        main(["run", str(SPECS / "lenet5.yaml"), "--format", "svg"], prog_name="convcalc")
    assert done.value.code == 0
    assert buffer.getvalue() == diagram(_net(SPECS / "lenet5.yaml"))
    assert list(tmp_path.iterdir()) == []
