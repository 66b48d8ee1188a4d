"""Issue 15 in a real browser: the HTML report and the SVG rendered by headless Chromium (Debian's
`chromium` and `chromium-driver`, driven by Selenium): no console error, no request, a box per layer,
no overlap, text inside its box, sorting, folding and the box-row link working, a screenshot of each."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convcalc.html import report
from convcalc.loader import parse, read
from convcalc.model import Network
from convcalc.resolver import resolve
from convcalc.svg import diagram, display
from convcalc.write import source_text

ROOT = Path(__file__).parent.parent
SPECS = ROOT / "specs"
SHOWN = {
    "resnet50": SPECS / "torchvision" / "resnet50.yaml",
    "googlenet": SPECS / "torchvision" / "googlenet.yaml",
    "densenet121": SPECS / "torchvision" / "densenet121.yaml",
    "unet": SPECS / "unet.yaml",
}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed: pip install '.[test]'"
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="headless Chromium is not installed: apt-get install chromium chromium-driver (.ci/run does)",
)

GEOMETRY = """
const within = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5
  && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
const boxes = Array.from(arguments[0].querySelectorAll("g.node")).map(g => {
  const rect = g.querySelector("rect.box").getBoundingClientRect();
  const out = Array.from(g.querySelectorAll("text")).filter(t => !within(t.getBoundingClientRect(), rect));
  return {id: g.id, layer: g.getAttribute("data-layer"), r: [rect.left, rect.top, rect.right, rect.bottom],
          overflow: out.map(t => t.textContent)};
});
const overlaps = [];
const order = boxes.slice().sort((a, b) => a.r[1] - b.r[1]);
for (let i = 0; i < order.length; i++) {
  for (let j = i + 1; j < order.length && order[j].r[1] < order[i].r[3]; j++) {
    const a = order[i].r, b = order[j].r;
    if (a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]) overlaps.push([order[i].id, order[j].id]);
  }
}
return {layers: boxes.filter(b => b.layer !== null).map(b => b.layer), count: boxes.length,
        overlaps: overlaps, overflow: boxes.filter(b => b.overflow.length).map(b => [b.id, b.overflow])};
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, logging the console and the network."""
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1400,1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _net(path: Path) -> Network:
    return resolve(read(str(path)))


def _open(browser: Any, page: Path) -> None:
    """Load a file, the logs emptied first so that they hold this page's alone."""
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(page.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"


def _errors(browser: Any) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def _requests(browser: Any) -> list[str]:
    """Every URL the page asked for (the page itself included)."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _write(tmp_path: Path, name: str, *paths: Path, depth: int | None = None) -> Path:
    nets = [_net(p) for p in paths]
    out = tmp_path / f"{name}.html"
    out.write_text(report(nets, sources=[source_text(str(p)) for p in paths], depth=depth), encoding="utf-8")
    return out


def _ids(browser: Any) -> list[str]:
    return list(
        browser.execute_script(
            "return Array.from(document.querySelectorAll('#layers tbody tr')).map(r => r.id)"
        )
    )


def _cells(browser: Any, column: int) -> list[str]:
    """The text of one column of the layer table, in the rows' order."""
    script = "return Array.from(document.querySelectorAll('#layers tbody tr')).map(r => r.cells[arguments[0]]"
    return list(browser.execute_script(script + ".textContent)", column))


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_the_report_renders_readably(browser: Any, tmp_path: Path, name: str) -> None:
    net = _net(SHOWN[name])
    page = _write(tmp_path, name, SHOWN[name])
    _open(browser, page)
    assert _errors(browser) == []
    assert _requests(browser) == [page.as_uri()]
    svg = browser.find_element("css selector", "svg.convcalc-svg")
    found = browser.execute_script(GEOMETRY, svg)
    assert found["layers"] == [display(r.layer.name) for r in net.layers]
    assert found["count"] == len(net.layers) + 1  # and the input's box
    assert found["overlaps"] == []
    assert found["overflow"] == []
    shot = tmp_path / f"{name}.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_the_svg_alone_renders_readably(browser: Any, tmp_path: Path) -> None:
    net = _net(SHOWN["googlenet"])
    page = tmp_path / "googlenet.svg"
    page.write_text(diagram(net, depth=0), encoding="utf-8")
    _open(browser, page)
    assert _errors(browser) == []
    found = browser.execute_script(GEOMETRY, browser.find_element("css selector", "svg"))
    assert found["overlaps"] == []
    assert found["overflow"] == []
    assert found["count"] == 1 + 3 + 9 + 8  # the input, three conv blocks, nine inceptions, eight layers
    assert found["layers"] == [
        "maxpool1",
        "maxpool2",
        "maxpool3",
        "maxpool4",
        "avgpool",
        "flatten",
        "dropout",
        "fc",
    ]


def test_sorting_by_a_column(browser: Any, tmp_path: Path) -> None:
    net = _net(SHOWN["resnet50"])
    _open(browser, _write(tmp_path, "sort", SHOWN["resnet50"]))
    tree = _ids(browser)
    header = browser.find_element("xpath", "//table[@id='layers']//th[normalize-space(.)='params']")
    column = browser.execute_script("return arguments[0].cellIndex", header)

    def numbers() -> list[int]:
        return [int(t.replace(",", "") or -1) for t in _cells(browser, column)]

    header.find_element("tag name", "button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    ascending = numbers()
    assert ascending == sorted(ascending)
    assert ascending[-1] == 14_964_736  # layer4, the block with the most weights
    header.click()
    descending = numbers()
    assert descending == sorted(ascending, reverse=True)
    assert _ids(browser)[:3] == [
        "row-block-layer4",
        "row-block-layer3",
        "row-block-layer4.0",
    ]  # 15.0M, 7.1M, 6.0M
    header.click()
    assert header.get_attribute("aria-sort") == "none"
    assert _ids(browser) == tree
    name = browser.find_element("xpath", "//table[@id='layers']//th[normalize-space(.)='name']")
    name.click()
    names = [t.strip() for t in _cells(browser, 1)]
    assert names == sorted(names)
    assert len(names) == len(net.layers) + len(net.spec.groups)
    assert _errors(browser) == []


def _shown(browser: Any) -> list[str]:
    return list(
        browser.execute_script(
            "return Array.from(document.querySelectorAll('#layers tbody tr')).filter(r => !r.hidden "
            "&& r.getBoundingClientRect().height > 0).map(r => r.id)"
        )
    )


def test_folding_a_block(browser: Any, tmp_path: Path) -> None:
    _open(browser, _write(tmp_path, "fold", SHOWN["resnet50"]))
    everything = _shown(browser)
    assert len(everything) == 174 + 20
    fold = browser.find_element("css selector", "#row-block-layer2 button.fold")
    fold.click()
    assert fold.get_attribute("aria-expanded") == "false"
    folded = _shown(browser)
    inside = [i for i in everything if i.startswith(("row-layer-layer2.", "row-block-layer2."))]
    assert (
        len(inside) == 4 * 10 + 2 + 4
    )  # four bottlenecks of 10 layers, a downsample conv and bn, their rows
    assert folded == [i for i in everything if i not in inside]
    inner = browser.find_element("css selector", "#row-block-layer3 button.fold")
    browser.find_element("css selector", "#row-block-layer3\\.0 button.fold").click()
    inner.click()
    inner.click()  # layer3 open again: its first bottleneck stays folded
    assert "row-layer-layer3.0.conv1" not in _shown(browser)
    assert "row-layer-layer3.1.conv1" in _shown(browser)
    fold.click()
    assert "row-layer-layer2.0.conv1" in _shown(browser)
    assert _errors(browser) == []


def test_clicking_a_box_selects_its_row_and_back(browser: Any, tmp_path: Path) -> None:
    _open(browser, _write(tmp_path, "select", SHOWN["resnet50"], depth=1))
    assert "row-layer-layer3.2.conv2" not in _shown(browser)  # deeper than --depth 1: folded
    box = browser.find_element("css selector", "#block-layer3\\.2")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.find_element("css selector", "rect.box").click()
    row = browser.find_element("id", "row-block-layer3.2")
    assert "selected" in row.get_attribute("class")
    assert "selected" in box.get_attribute("class")
    assert row.is_displayed()
    in_view = "const r = arguments[0].getBoundingClientRect(), p = arguments[0].closest('.tablebox')"
    in_view += ".getBoundingClientRect(); return r.top >= p.top && r.bottom <= p.bottom"
    assert browser.execute_script(in_view, row)
    browser.find_element("css selector", "#row-block-layer3\\.2 button.fold").click()
    inner = browser.find_element("id", "row-layer-layer3.2.conv2")
    inner.find_elements("tag name", "td")[2].click()
    assert "selected" in inner.get_attribute("class")
    assert "selected" in box.get_attribute("class")  # the folded block's box stands for its layers
    assert "selected" not in row.get_attribute("class")
    stem = browser.find_element("id", "row-layer-conv1")
    stem.find_elements("tag name", "td")[2].click()
    conv1 = browser.find_element("id", "layer-conv1")
    assert conv1.get_attribute("class").split() == ["node", "layer", "info", "selected"]
    assert browser.find_elements("css selector", ".selected") == [conv1, stem]  # the diagram comes first
    assert _errors(browser) == []


def test_hostile_names_stay_text(browser: Any, tmp_path: Path) -> None:
    names = [
        "</script><script>window.pwned = 1</script>",
        '"><img src=x onerror="window.pwned = 2">',
        "a&b<c",
    ]
    lines = [f"name: {json.dumps('</title><script>window.pwned = 3</script>')}", "input: 8x8x3", "layers:"]
    lines += [f"  - {{type: act, name: {json.dumps(n)}}}" for n in names]
    page = tmp_path / "hostile.html"
    page.write_text(report([resolve(parse("\n".join(lines) + "\n"))], sources=[None]), encoding="utf-8")
    _open(browser, page)
    assert browser.execute_script("return window.pwned") is None
    assert _errors(browser) == []
    assert browser.title == "</title><script>window.pwned = 3</script> · convcalc"
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('#layers tbody tr')).map(r => r.cells[1].textContent)"
    )
    assert cells == names
    assert _requests(browser) == [page.as_uri()]


def test_several_specs_side_by_side(browser: Any, tmp_path: Path) -> None:
    page = _write(tmp_path, "both", SHOWN["resnet50"], SHOWN["googlenet"])
    _open(browser, page)
    assert _errors(browser) == []
    columns = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.compare thead th')).map(t => t.textContent)"
    )
    assert columns == ["", "resnet50", "googlenet"]
    first, second = browser.find_elements("css selector", "section.spec")
    a, b = first.rect, second.rect
    assert a["y"] == b["y"]
    assert a["x"] + a["width"] <= b["x"]
    browser.find_element("css selector", "#s2-row-block-inception3a button.fold").click()
    assert not browser.find_element("id", "s2-row-layer-inception3a.branch1.conv").is_displayed()
    assert browser.find_element("id", "s1-row-layer-layer1.0.conv1").is_displayed()
    assert browser.save_screenshot(str(tmp_path / "both.png"))
    assert _errors(browser) == []


def test_dark_mode_and_print(browser: Any, tmp_path: Path) -> None:
    _open(browser, _write(tmp_path, "media", SHOWN["resnet50"], depth=0))
    style = "return getComputedStyle(document.querySelector(arguments[0]))[arguments[1]]"
    tall = "return Array.from(document.querySelectorAll('#layers tbody tr'))"
    tall += ".filter(r => r.offsetHeight > 0).length"
    assert browser.execute_script(style, "body", "backgroundColor") == "rgb(255, 255, 255)"
    assert browser.execute_script(tall) == 10  # --depth 0: the top level
    try:
        dark = {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", dark)
        assert browser.execute_script(style, "body", "backgroundColor") == "rgb(13, 17, 23)"
        assert browser.execute_script(style, "#layer-conv1 rect.box", "fill") == "rgb(22, 27, 34)"
        assert browser.execute_script(style, "#layer-conv1 text", "fill") == "rgb(230, 237, 243)"
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print", "features": []})
        assert browser.execute_script(style, "body", "backgroundColor") == "rgb(255, 255, 255)"
        assert browser.execute_script(tall) == 174 + 20  # printed whole: every row unfolded
        assert browser.execute_script(style, ".diagram", "overflow") == "visible"
        assert browser.execute_script(style, "button.fold", "display") == "none"
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})
    assert _errors(browser) == []
