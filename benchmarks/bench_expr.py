"""Block arguments are evaluated once per repetition: the safe evaluator against a Python lambda.

    python benchmarks/bench_expr.py

Target (issue 13): 100,000 evaluations of a typical argument expression in well under a second,
within about 5x of the same arithmetic written as a Python lambda (the floor any evaluator that
checks its values has to stand on).
"""

from __future__ import annotations

import statistics
import time

from convcalc.expr import parse

TEXT = "max(8, (c * 6 + 4) // 8 * 8) if s == 1 else c"
RUNS = 100_000


def _time(fn: object, env: dict[str, int]) -> float:
    start = time.perf_counter()
    for _ in range(RUNS):
        fn(env)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    expr = parse(TEXT)
    env = {"c": 32, "s": 1}

    def plain(e: dict[str, int]) -> int:
        return max(8, (e["c"] * 6 + 4) // 8 * 8) if e["s"] == 1 else e["c"]

    ours = statistics.median(_time(expr.evaluate, env) for _ in range(5))
    base = statistics.median(_time(plain, env) for _ in range(5))
    print(f"{TEXT!r}, {RUNS:,} evaluations")
    print(f"  convcalc.expr   {ours * 1e3:7.1f} ms  ({ours / RUNS * 1e6:.2f} us each)")
    print(f"  python lambda   {base * 1e3:7.1f} ms")
    print(f"  ratio           {ours / base:7.1f}x")


if __name__ == "__main__":
    main()
