"""Start-up and resolver speed, each against a baseline measured in the same run.

    python benchmarks/bench_core.py

Targets (issue 2): `convcalc layer ...` piped takes at most ~6x a bare `python -c pass`;
a 10,000-layer spec resolves (parse, resolve, write JSON) well under a second, and the
cost grows linearly from 1,000 to 10,000 layers.
"""

from __future__ import annotations

import gc
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAYER = [
    sys.executable,
    "-m",
    "convcalc",
    "layer",
    "--in",
    "32x32x3",
    "--filter",
    "5",
    "--pad",
    "2",
    "-k",
    "10",
]
BARE = [sys.executable, "-c", "pass"]


def spawn_ms(argv: list[str], runs: int = 21) -> float:
    """Median wall time of a whole process, in milliseconds, output piped."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def make_spec(layers: int) -> str:
    """A deep stack of shape-preserving convs with a pool every 1,000 layers."""
    lines = ["name: deep", "input: 64x64x16", "layers:"]
    for i in range(layers):
        if i % 1000 == 999:
            lines.append("  - {type: pool, mode: max, size: 3, stride: 1, pad: 1}")
        else:
            lines.append(f"  - {{type: conv, name: c{i}, filters: 16, size: 3, stride: 1, pad: 1}}")
    return "\n".join(lines) + "\n"


def resolve_ms(text: str, runs: int = 5) -> float:
    """Median time to parse, resolve and write JSON, in process, in milliseconds."""
    from convcalc.loader import parse
    from convcalc.output import write_json
    from convcalc.resolver import resolve

    times = []
    gc.disable()  # as `convcalc run` does: a short-lived process has no use for cyclic collection
    for _ in range(runs):
        start = time.perf_counter()
        write_json([resolve(parse(text))], io.StringIO())
        times.append(time.perf_counter() - start)
    gc.enable()
    return statistics.median(times) * 1000


def main() -> None:
    """Print the figures and the ratios."""
    bare = spawn_ms(BARE)
    layer = spawn_ms(LAYER)
    print(f"python -c pass              {bare:8.1f} ms")
    print(f"convcalc layer (piped)      {layer:8.1f} ms   {layer / bare:5.1f}x python   (target <= ~6x)")
    small = resolve_ms(make_spec(1_000))
    large = resolve_ms(make_spec(10_000))
    print(f"resolve 1,000 layers        {small:8.1f} ms   (parse + resolve + JSON, in process)")
    print(
        f"resolve 10,000 layers       {large:8.1f} ms   {large / small:5.1f}x the 1,000"
        "   (target < 1 s, ~10x)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "deep.yaml")
        path.write_text(make_spec(10_000))
        whole = spawn_ms([sys.executable, "-m", "convcalc", "run", str(path), "--format", "json"], runs=5)
    print(f"convcalc run 10k --format json {whole:5.1f} ms   (whole process)")


if __name__ == "__main__":
    main()
