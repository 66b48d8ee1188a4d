"""Linting many spec files in one process.

    python benchmarks/bench_lint.py

Target (issue 4): 1,000 spec files lint in a few seconds. Baseline from the same run:
the same process doing nothing (`convcalc --version`), so the ratio shows the per-file cost.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench_core import spawn_ms

SPECS = Path(__file__).resolve().parent.parent / "specs"


def main() -> None:
    """Copy the shipped specs into 1,000 files and lint them all at once."""
    shipped = sorted(SPECS.rglob("*.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(1000):
            source = shipped[i % len(shipped)]
            Path(tmp, f"spec{i:04d}.yaml").write_text(source.read_text())
        idle = spawn_ms([sys.executable, "-m", "convcalc", "--version"], runs=5)
        many = spawn_ms([sys.executable, "-m", "convcalc", "lint", tmp], runs=5)
    print(f"convcalc --version           {idle:8.1f} ms")
    per_file = (many - idle) / 1000
    print(f"convcalc lint, 1,000 files   {many:8.1f} ms   {per_file:5.2f} ms per file   (target: a few s)")


if __name__ == "__main__":
    main()
