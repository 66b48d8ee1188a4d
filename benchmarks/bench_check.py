"""Cold, whole-process cost of `--check` on VGG-16, against VGG-16's bare matrix products.

    python benchmarks/bench_check.py

Target (issue 3): `convcalc run specs/vgg16.yaml --check` minus a plain `convcalc run
specs/vgg16.yaml` is at most 2.5x the bare products, measured in the same run, and well
under 3 seconds on 2 cores. The warm, in-process figure is in bench_kernels.py.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_kernels import build_matmuls, median_times

ROOT = Path(__file__).resolve().parent.parent
PLAIN = [sys.executable, "-m", "convcalc", "run", "specs/vgg16.yaml", "--format", "json"]
CHECK = [*PLAIN, "--check"]


def spawn(argv: list[str]) -> float:
    """Wall time of one whole process in seconds; on failure print its stderr and exit 1."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print(f"{' '.join(argv[1:])} exited {done.returncode}:\n{done.stderr}", file=sys.stderr)
        sys.exit(1)
    return elapsed


def cold_medians(runs: int = 5) -> tuple[float, float]:
    """Median wall times of the plain and the checking command, interleaved, after one warm-up each."""
    spawn(PLAIN)
    spawn(CHECK)
    plain, checked = [], []
    for _ in range(runs):
        plain.append(spawn(PLAIN))
        checked.append(spawn(CHECK))
    return statistics.median(plain), statistics.median(checked)


def main() -> None:
    """Print both cold times, their difference, and the difference against the bare products."""
    plain, checked = cold_medians()
    (bare,) = median_times(build_matmuls())
    extra = checked - plain
    print(f"convcalc run vgg16 (plain)   {plain * 1000:8.1f} ms")
    print(f"convcalc run vgg16 --check   {checked * 1000:8.1f} ms")
    print(f"difference                   {extra * 1000:8.1f} ms   (target well under 3000)")
    print(f"bare matmuls (warm)          {bare * 1000:8.1f} ms")
    print(f"difference / bare            {extra / bare:8.2f}   (target <= 2.50)")


if __name__ == "__main__":
    main()
