#!/usr/bin/env python3
"""Regenerate the README's pictures: docs/resnet50-report.png (the HTML report's first screen) and
docs/googlenet-diagram.png (GoogLeNet's diagram from maxpool2 on: the first inception blocks, their
branches side by side, folded below the first level).

Needs what the browser tests need: Debian's `chromium` and `chromium-driver`, and selenium (in the
test extra):

    apt-get install -y --no-install-recommends chromium chromium-driver
    pip install -e '.[test]'
    python tools/screenshots.py [--out docs]

Both pages are rendered in headless Chromium at a device scale of 1, in the light colour scheme.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from convcalc.html import report  # noqa: E402
from convcalc.loader import read  # noqa: E402
from convcalc.resolver import resolve  # noqa: E402
from convcalc.svg import diagram  # noqa: E402
from convcalc.write import source_text  # noqa: E402

RESNET = "specs/torchvision/resnet50.yaml"
GOOGLENET = "specs/torchvision/googlenet.yaml"
"""As the README's commands name them, read from the repository's root."""


def browser(width: int, height: int) -> Any:
    """Headless Chromium through chromedriver, a window of this size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        sys.exit("screenshots: needs chromium and chromedriver: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(arg)
    options.add_argument("--force-device-scale-factor=1")
    options.add_argument("--force-color-profile=srgb")
    options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def main() -> None:
    """Write both PNGs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    out = parser.parse_args().out.resolve()
    os.chdir(ROOT)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "resnet50.html"
        net = resolve(read(RESNET))
        page.write_text(report([net], sources=[source_text(RESNET)], depth=1), encoding="utf-8")
        drawn = Path(tmp) / "googlenet.svg"
        drawn.write_text(diagram(resolve(read(GOOGLENET)), depth=1), encoding="utf-8")

        driver = browser(1400, 900)
        try:
            driver.get(page.as_uri())
            driver.find_element("css selector", "#layer-conv1 rect").click()  # a selected box and row
            driver.execute_script("window.scrollTo(0, 0)")
            driver.save_screenshot(str(out / "resnet50-report.png"))
        finally:
            driver.quit()
        driver = browser(1400, 1300)
        try:
            driver.get(drawn.as_uri())
            width = driver.execute_script("return document.documentElement.width.baseVal.value")
            driver.set_window_size(int(width) + 20, 1300)
            top = driver.execute_script("return document.getElementById('layer-maxpool2').getBBox().y")
            driver.execute_script("window.scrollTo(0, arguments[0])", top - 10)  # the first inceptions
            driver.save_screenshot(str(out / "googlenet-diagram.png"))
        finally:
            driver.quit()
    for name in ("resnet50-report.png", "googlenet-diagram.png"):
        print(f"{out / name}: {(out / name).stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
