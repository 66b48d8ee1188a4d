"""The diagram: layout and SVG text of a 1,000-layer chain, 1,000 layers of residual blocks and
DenseNet-121, and the size of each file.

    python benchmarks/bench_svg.py

Targets (issue 15): the layout of a 1,000-layer chain and of DenseNet-121 well under a second; the SVG
of 1,000 layers well under 2 MB (the HTML report that inlines it must stay under 2 MB).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_graph import make_spec  # noqa: E402


def chain(layers: int) -> str:
    """Alternating 3x3 convs and ReLUs: one column of `layers` boxes."""
    body = "".join(
        "  - {type: conv, filters: 8, size: 3, pad: 1}\n" if i % 2 == 0 else "  - {type: act}\n"
        for i in range(layers)
    )
    return "name: chain\ninput: 32x32x8\nlayers:\n" + body


def _median(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from convcalc.loader import parse, read
    from convcalc.model import Network
    from convcalc.resolver import resolve
    from convcalc.svg import diagram, laid_out

    cases: list[tuple[str, Network]] = [
        ("1,000-layer chain", resolve(parse(chain(1000)))),
        ("1,000 layers of residual blocks", resolve(parse(make_spec(1000)))),
        ("DenseNet-121", resolve(read(str(ROOT / "specs" / "torchvision" / "densenet121.yaml")))),
    ]
    print("in process, median of 5: the boxes and their layout; the whole SVG text; its size")
    for name, net in cases:
        layout = _median(lambda net=net: laid_out(net), 5)
        whole = _median(lambda net=net: diagram(net), 5)
        size = len(diagram(net).encode("utf-8"))
        print(
            f"  {name:<32} {len(net.layers):>5} layers  layout {layout * 1000:7.1f} ms  "
            f"svg {whole * 1000:7.1f} ms  {size / 1e6:5.2f} MB"
        )
    script = Path(sys.executable).with_name("convcalc")
    exe = [str(script)] if script.exists() else [sys.executable, "-m", "convcalc"]
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "chain.yaml"
        spec.write_text(chain(1000), encoding="utf-8")
        for path in (spec, ROOT / "specs" / "torchvision" / "densenet121.yaml"):
            took = {}
            for fmt in ("json", "svg"):
                args = [*exe, "run", str(path), "--format", fmt, "-o", str(Path(tmp) / f"net.{fmt}")]
                took[fmt] = _median(
                    lambda args=args: subprocess.run(args, check=False, capture_output=True), 5
                )
            print(
                f"  convcalc run {path.name} -o, whole process: svg {took['svg'] * 1000:.1f} ms, "
                f"json {took['json'] * 1000:.1f} ms (baseline)"
            )


if __name__ == "__main__":
    main()
