"""Issue 15, the report: `run --format html` writes one self-contained page: every layer a row and a box,
rows linked to their source lines, the totals the text report gives, names escaped, nothing fetched."""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.html import CSP, report
from convcalc.loader import parse, read
from convcalc.model import Network
from convcalc.present import summary
from convcalc.resolver import resolve
from convcalc.svg import display, ident
from convcalc.write import source_text

ROOT = Path(__file__).parent.parent
SPECS = ROOT / "specs"
RESNET = SPECS / "torchvision" / "resnet50.yaml"
HOSTILE = [
    'a<b>&c"d',
    "</script><script>alert(1)</script>",
    "</SCRIPT >x",
    "tab\tnew\nline\x1bescape",
    "q'uote & <!-- -->",
    "\u2028sep</style>",
]


class Page(HTMLParser):
    """Every element's tag and attributes, the text of each <script>, and whether the tags nest."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.stack: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag == "script":
            self.scripts.append((attributes, ""))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1:] == [tag], f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "script":
            attributes, text = self.scripts[-1]
            self.scripts[-1] = (attributes, text + data)

    def with_attr(self, name: str) -> list[dict[str, str]]:
        """The attributes of every element that has `name`."""
        return [a for _, a in self.elements if name in a]


def _net(path: Path) -> Network:
    return resolve(read(str(path)))


def _page(*paths: Path, depth: int | None = None) -> tuple[str, Page]:
    nets = [_net(p) for p in paths]
    text = report(nets, sources=[source_text(n.spec.file) for n in nets], depth=depth)
    page = Page(text)
    assert page.stack == []
    return text, page


def _data(page: Page) -> dict[str, object]:
    (data,) = [text for attrs, text in page.scripts if attrs.get("type") == "application/json"]
    loaded = json.loads(data)
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize(
    "name", ["torchvision/resnet50", "torchvision/googlenet", "torchvision/densenet121", "unet", "vgg16"]
)
def test_every_layer_has_one_row_and_one_box(name: str) -> None:
    net = _net(SPECS / f"{name}.yaml")
    _, page = _page(SPECS / f"{name}.yaml")
    rows = [a["id"] for a in page.with_attr("id") if a["id"].startswith("row-layer-")]
    boxes = [a["data-layer"] for a in page.with_attr("data-layer")]
    assert rows == [f"row-{ident('layer', r.layer.name)}" for r in net.layers]
    assert boxes == [display(r.layer.name) for r in net.layers]
    blocks = [a["id"] for a in page.with_attr("id") if a["id"].startswith("row-block-")]
    assert len(blocks) == len(net.spec.groups)
    ids = [a["id"] for a in page.with_attr("id")]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_rows_and_findings_link_to_source_lines() -> None:
    net = _net(SPECS / "alexnet.yaml")
    text, page = _page(SPECS / "alexnet.yaml")
    source = (SPECS / "alexnet.yaml").read_text().splitlines()
    anchors = {a["id"] for a in page.with_attr("id") if re.fullmatch(r"L\d+", a["id"])}
    assert anchors == {f"L{i}" for i in range(1, len(source) + 1)}
    conv1 = net.layers[0].layer.where.line
    assert conv1 is not None
    row = re.search(r'<tr id="row-layer-conv1"[^>]*>.*?</tr>', text)
    assert row is not None
    assert f'<a href="#L{conv1}">{conv1}</a>' in row[0]
    links = {a["href"][1:] for _, a in page.elements if a.get("href", "").startswith("#")}
    assert links - {a["id"] for a in page.with_attr("id")} == set(), "every link has its target"
    finding = re.search(r'<ul class="findings">(.*?)</ul>\n', text, re.DOTALL)
    assert finding is not None
    assert f'<a href="#L{net.findings[0].line}">line {net.findings[0].line}</a>' in finding[1]


def test_the_totals_are_the_text_reports() -> None:
    net = _net(RESNET)
    text, _ = _page(RESNET)
    block = re.search(r'<dl class="totals">(.*?)</dl>', text)
    assert block is not None
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block[1])
    assert pairs[0] == ("shapes", "224x224x3 → 1000")
    assert [f"{k} {v}" for k, v in pairs[1:]] == [re.sub(r" +", " ", line, count=1) for line in summary(net)]
    assert "~604.6 MiB = 2 x activations + (2 + 2 adam) x params + running stats" in block[1]


def test_bars_go_per_top_level_block() -> None:
    text, _ = _page(RESNET)
    chart = re.search(r"<figcaption>params per top-level block</figcaption><table>(.*?)</table>", text)
    assert chart is not None
    names = re.findall(r'<a href="#row-[^"]*">([^<]*)</a>', chart[1])
    assert names == [
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "fc",
    ]
    widths = dict(zip(names, re.findall(r'style="width:([\d.]+)%"', chart[1]), strict=True))
    assert widths["layer4"] == "100.0"  # 14,964,736 of ResNet-50's weights sit in layer4
    assert widths["relu"] == "0.0"
    chain, _ = _page(SPECS / "vgg16.yaml")
    assert "<figcaption>MACs per layer</figcaption>" in chain


def test_depth_folds_the_table_rows_below_it() -> None:
    text, page = _page(RESNET, depth=0)
    hidden = [a["id"] for _, a in page.elements if "hidden" in a and a.get("id", "").startswith("row-")]
    shown = [a["id"] for _, a in page.elements if "hidden" not in a and a.get("id", "").startswith("row-")]
    assert shown == [
        "row-layer-conv1",
        "row-layer-bn1",
        "row-layer-relu",
        "row-layer-maxpool",
        "row-block-layer1",
        "row-block-layer2",
        "row-block-layer3",
        "row-block-layer4",
        "row-layer-avgpool",
        "row-layer-fc",
    ]
    assert len(_net(RESNET).layers) == 174
    assert len(hidden) == 174 - 6 + 16  # the layers inside the four stages, and their 16 bottlenecks
    shut = [a for t, a in page.elements if t == "button" and a.get("aria-expanded") == "false"]
    assert len(shut) == 4
    assert 'id="block-layer1"' in text  # the diagram folds to the same depth


def _hostile() -> Network:
    lines = [f"name: {json.dumps('</title><script>x</script>')}", "input: 8x8x3", "layers:"]
    lines += [f"  - {{type: act, name: {json.dumps(n)}}}" for n in HOSTILE]
    return resolve(parse("\n".join(lines) + "\n"))


def test_hostile_names_cannot_break_out() -> None:
    net = _hostile()
    text = report([net], sources=["layers:\n  - {name: '</script><b>'}\n"])
    assert re.findall(r"</script", text, re.IGNORECASE) == ["</script", "</script"]  # our two
    assert len(re.findall(r"<script", text, re.IGNORECASE)) == 2
    for bad in ("<b>", "<!--", "</style>x", "\x1b", "</title><script"):
        assert bad not in text
    page = Page(text)
    assert [a["data-layer"] for a in page.with_attr("data-layer")] == [display(n) for n in HOSTILE]
    data = _data(page)
    assert data["specs"] == [{"prefix": "", "name": "</title><script>x</script>", "file": None}]
    (raw,) = [t for a, t in page.scripts if a.get("type") == "application/json"]
    assert "<" not in raw
    assert "\\u003c/title\\u003e" in raw


def test_the_page_fetches_nothing() -> None:
    text, page = _page(SPECS / "torchvision" / "googlenet.yaml")
    (policy,) = [a["content"] for t, a in page.elements if a.get("http-equiv") == "Content-Security-Policy"]
    assert policy == CSP
    assert "default-src 'none'" in policy
    assert set(re.findall(r"\b(?:https?|ftp)://[^\s\"'<>)]+", text)) == {"http://www.w3.org/2000/svg"}
    fetching = [(t, a) for t, a in page.elements if {"src", "srcset"} & set(a) or t in ("link", "iframe")]
    assert fetching == []
    assert not re.search(r"@import|url\((?!#)", text)


def test_several_specs_compare_side_by_side(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "both.html"
    result = runner.invoke(
        main, ["run", str(RESNET), str(SPECS / "vgg16.yaml"), "--format", "html", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    table = re.search(r'<table class="compare">(.*?)</table>', text)
    assert table is not None
    assert re.findall(r'<th><a href="#(s\d-spec)">([^<]*)</a></th>', table[1]) == [
        ("s1-spec", "resnet50"),
        ("s2-spec", "VGG-16"),
    ]
    assert "<tr><th>params</th><td>25,557,032</td><td>138,357,544</td></tr>" in table[1]
    assert [s["prefix"] for s in _data(page)["specs"]] == ["s1-", "s2-"]  # type: ignore[index]
    ids = [a["id"] for a in page.with_attr("id")]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert {"s1-row-layer-conv1", "s2-row-layer-conv1_5f_1", "s1-layer-conv1", "s1-L1", "s2-L1"} <= set(ids)


def test_cli_writes_the_report_and_findings_to_stderr(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["run", str(SPECS / "alexnet.yaml"), "--input", "227x227x3", "--format", "html"]
    )
    assert result.exit_code == 1
    assert "error[fractional-size] pool1" in result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>")
    finding = '<li class="error"><span class="sev">error[fractional-size]</span> pool1: (56 - 3)/2'
    assert finding in result.stdout
    assert '<span id="L9" class="error"><a href="#L9">9</a>  - {type: pool, name: pool1,' in result.stdout
    svg = runner.invoke(main, ["run", str(RESNET), str(RESNET), "--format", "svg"])
    assert svg.exit_code == 2
    assert "--format svg draws one network: give one spec" in svg.stderr


def test_source_text_leaves_out_what_is_not_text(tmp_path: Path) -> None:
    binary = tmp_path / "model.onnx"
    binary.write_bytes(b"\x08\x07\x12\x00\xff\xfe")
    assert source_text(str(binary)) is None
    assert source_text(None) is None
    assert source_text(str(tmp_path / "missing.yaml")) is None
    big = tmp_path / "big.yaml"
    big.write_text("# x\n" * 10)
    assert source_text(str(big)) == "# x\n" * 10
    assert source_text(str(big), limit=39) is None


def test_columns_choose_the_tables_and_name_stays(runner: CliRunner) -> None:
    result = runner.invoke(main, ["run", str(RESNET), "--format", "html", "--columns", "output,params"])
    assert result.exit_code == 0
    heads = re.search(r"<thead><tr>(.*?)</tr></thead>", result.stdout)
    assert heads is not None
    assert re.findall(r"<button[^>]*>([^<]*)</button>", heads[1]) == ["name", "output", "params", "line"]
    row = re.search(r'<tr id="row-block-layer1" [^>]*>(.*?)</tr>', result.stdout)
    assert row is not None
    assert re.sub(r"<button.*?</button>|<[^>]*>", "|", row[1]).strip("|").split("||") == [
        "layer1",
        "56x56x256",
        "215,808",
    ]


def test_layers_and_findings_in_an_included_block_file_link_to_its_source(tmp_path: Path) -> None:
    """ResNet-50's bottlenecks live in blocks/resnet.yaml: that file's text follows the spec's, its lines
    anchored F1-L<n>; a row and a finding from it link there; every link on the page has its target."""
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["run", str(RESNET), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    blocks = (SPECS / "torchvision" / "blocks" / "resnet.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(blocks, 1) if "name: conv2" in text and "stride" in text)
    assert f'<span id="F1-L{line}" class="info"><a href="#F1-L{line}">{line}</a>' in page
    assert f'<a href="#F1-L{line}">resnet.yaml:{line}</a>' in page  # a finding (layer2.0.conv2) and its row
    assert "<h3>Source: " in page
    targets = set(re.findall(r'href="#([^"]+)"', page))
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert targets <= ids, sorted(targets - ids)[:5]


def test_explain_adds_each_layers_formulas(tmp_path: Path) -> None:
    """--explain puts each layer's formulas with their numbers under a fold of its name and shapes, as
    the text report prints them; without it there is no Formulas part."""
    spec = str(SPECS / "cs231n.yaml")
    out = tmp_path / "e.html"
    assert (
        CliRunner().invoke(main, ["run", spec, "--explain", "--format", "html", "-o", str(out)]).exit_code
        == 0
    )
    page = out.read_text()
    assert '<details id="explain-layer-conv1"><summary><b>conv1</b> 32x32x3 → 32x32x10</summary><pre>' in page
    assert "  output size      (32 - 5 + 2x2)/1 + 1 = 32\n  parameters       10 x (5x5x3 + 1) = 760\n" in page
    plain = tmp_path / "p.html"
    assert CliRunner().invoke(main, ["run", spec, "--format", "html", "-o", str(plain)]).exit_code == 0
    assert "<h3>Formulas</h3>" not in plain.read_text()
