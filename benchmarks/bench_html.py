"""The HTML report of 1,000-layer specs: its time and size, against `--format json` of the same spec in
the same run.

    python benchmarks/bench_html.py

Targets (issue 15): a 1,000-layer spec's report renders in under 2 s (the whole `convcalc run` process)
and the file stays under 2 MB.
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
from bench_svg import chain  # noqa: E402


def _median(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from convcalc.html import report
    from convcalc.loader import read
    from convcalc.resolver import resolve
    from convcalc.write import source_text

    script = Path(sys.executable).with_name("convcalc")
    exe = [str(script)] if script.exists() else [sys.executable, "-m", "convcalc"]
    print("per spec: the report in process (median of 5); whole `convcalc run SPEC -o FILE` processes,")
    print("html and json taking turns (median of 5 each); each file's size")
    with tempfile.TemporaryDirectory() as tmp:
        specs = {
            "1,000-layer conv/ReLU chain": chain(1000),
            "1,000 layers of residual blocks": make_spec(1000),
        }
        for name, text in specs.items():
            path = Path(tmp) / "spec.yaml"
            path.write_text(text, encoding="utf-8")
            net = resolve(read(str(path)))
            source = source_text(str(path))
            inside = _median(lambda net=net, source=source: report([net], sources=[source]), 5)
            took: dict[str, list[float]] = {"html": [], "json": []}
            for _ in range(5):
                for fmt in took:
                    args = [*exe, "run", str(path), "--format", fmt, "-o", str(Path(tmp) / f"net.{fmt}")]
                    start = time.perf_counter()
                    subprocess.run(args, check=False, capture_output=True)
                    took[fmt].append(time.perf_counter() - start)
            html, json = (statistics.median(took[f]) for f in ("html", "json"))
            sizes = {f: (Path(tmp) / f"net.{f}").stat().st_size / 1e6 for f in took}
            print(
                f"  {name:<32} {len(net.layers):>5} layers  in process {inside * 1000:6.1f} ms  "
                f"run html {html * 1000:6.1f} ms, json {json * 1000:6.1f} ms  "
                f"html {sizes['html']:4.2f} MB, json {sizes['json']:4.2f} MB"
            )
            assert html < 2.0, f"{name}: the report took {html:.2f} s"
            assert sizes["html"] < 2.0, f"{name}: the report is {sizes['html']:.2f} MB"


if __name__ == "__main__":
    main()
