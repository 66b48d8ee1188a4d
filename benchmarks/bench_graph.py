"""Graphs of residual blocks: resolving is linear in the number of layers, the table keeps up with the
JSON, and torchvision-sized specs start fast.

    python benchmarks/bench_graph.py

Targets (issue 13): a generated graph of repeated residual blocks (conv, relu, add) resolves in time
linear in its size (1k, 10k and 100k layers: about 10x per 10x), with no recursion limit at any length;
its table renders in at most twice the JSON's time; `convcalc run specs/torchvision/resnet50.yaml
--format json` takes at most 10x a bare `python -c pass`, and resnet152 at most 1.5x resnet50.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_spec(layers: int) -> str:
    """A stem and `layers // 3` residual blocks of a 3x3 conv, a relu and an add."""
    return (
        "input: 8x8x8\n"
        "blocks:\n"
        "  res:\n"
        "    args: {w: 8}\n"
        "    layers:\n"
        "      - {type: conv, name: c, filters: w, size: 3, pad: 1}\n"
        "      - {type: act, name: r}\n"
        "      - {type: add, from: [r, in]}\n"
        "layers:\n"
        "  - {type: conv, name: stem, filters: 8, size: 1}\n"
        f"  - {{block: res, name: s, repeat: {max(1, layers // 3)}}}\n"
    )


def _process(args: list[str], runs: int) -> float:
    """Median seconds of a whole process, output discarded."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _in_process(text: str, runs: int) -> float:
    from convcalc.loader import parse
    from convcalc.present import json_text, to_json
    from convcalc.resolver import resolve

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        json_text(to_json(resolve(parse(text))))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


SCRIPT = Path(sys.executable).with_name("convcalc")
"""The installed command, as bench_core.py times it; `python -m convcalc` when it is not installed."""


def main() -> None:
    exe = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "convcalc"]
    print("parse + resolve + JSON in process (median of 3)")
    base = None
    for n in (1_000, 10_000, 100_000):
        took = _in_process(make_spec(n), 3 if n < 100_000 else 1)
        ratio = f"{took / base:6.1f}x the 1k" if base else ""
        base = base or took
        print(f"  {n:>7,} layers  {took * 1000:9.1f} ms  {ratio}")
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "g.yaml"
        spec.write_text(make_spec(100_000), encoding="utf-8")
        as_json = _process([*exe, "run", str(spec), "--format", "json"], 1)
        table = _process([*exe, "run", str(spec)], 1)
        print(f"100k layers, whole process: json {as_json:.2f} s, table {table:.2f} s "
              f"({table / as_json:.1f}x the json; target <= 2x)")  # fmt: skip
    bare = _process([sys.executable, "-c", "pass"], 11)
    specs = ROOT / "specs" / "torchvision"
    for name in ("resnet50", "resnet152"):
        path = specs / f"{name}.yaml"
        if not path.exists():
            print(f"{name}: not shipped yet")
            continue
        took = _process([*exe, "run", str(path), "--format", "json"], 11)
        shown = f"{took * 1000:7.1f} ms  {took / bare:5.1f}x python -c pass"
        print(f"convcalc run {name}.yaml --format json  {shown}")


if __name__ == "__main__":
    main()
