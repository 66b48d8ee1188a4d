"""Fix searches on deep stacks of misfits, and divisors of huge numbers.

    python benchmarks/bench_fixes.py

Targets (issue 11, item 23): a spec of alternating conv/deconv layers, every conv a misfit
(fractional notes, or errors whose fixes search the network input), resolves in time linear in
its depth: 10,000 layers take about 10x the 1,000 (it was 58 s for 1,000, quadratic); and groups
on 2**62 channels finds the nearest divisors at once (divisors come from a factorisation).
"""

from __future__ import annotations

import gc
import statistics
import time


def make_spec(layers: int, *, misfit: bool) -> str:
    """Alternating conv/deconv that keeps 64x64: every conv floors (a note), or drops input (an error)."""
    lines = ["name: alternating", "input: 64x64x8", "layers:"]
    for i in range(layers):
        if i % 2 == 0:
            size, stride, pad = (2, 3, 0) if misfit else (3, 2, 1)
            lines.append(
                f"  - {{type: conv, name: c{i}, filters: 8, size: {size}, stride: {stride}, pad: {pad}}}"
            )
        else:
            stride, extra = (3, 2) if misfit else (2, 1)
            lines.append(
                f"  - {{type: deconv, name: d{i}, filters: 8, size: 3, stride: {stride}, pad: 1, "
                f"output_pad: {extra}}}"
            )
    return "\n".join(lines) + "\n"


def resolve_ms(text: str, runs: int = 3) -> tuple[float, int]:
    """Median time to parse and resolve (every finding and fix), in ms, and the findings' count."""
    from convcalc.loader import parse
    from convcalc.resolver import resolve

    times, found = [], 0
    gc.disable()  # as `convcalc run` does
    for _ in range(runs):
        start = time.perf_counter()
        found = len(resolve(parse(text)).findings)
        times.append(time.perf_counter() - start)
    gc.enable()
    return statistics.median(times) * 1000, found


def main() -> None:
    """Print the figures and the ratios."""
    for misfit, what in ((False, "notes (floors, nothing lost)"), (True, "errors (input searches)")):
        small, n_small = resolve_ms(make_spec(1_000, misfit=misfit))
        large, n_large = resolve_ms(make_spec(10_000, misfit=misfit))
        print(f"{what}")
        print(f"  1,000 layers   {small:8.1f} ms   {n_small:6,} findings")
        ratio = large / small
        print(f"  10,000 layers  {large:8.1f} ms   {n_large:6,} findings   {ratio:5.1f}x   (target ~10x)")
    from convcalc import factor

    start = time.perf_counter()
    near = factor.near_divisors(2**62, 3)
    print(f"groups 3 on 2**62 channels: {near} in {(time.perf_counter() - start) * 1000:.2f} ms")
    start = time.perf_counter()
    listed = factor.divisors((2**61 - 1) * (2**31 - 1))
    took = (time.perf_counter() - start) * 1000
    print(f"divisors of (2**61-1)(2**31-1): {len(listed or ())} in {took:.2f} ms")


if __name__ == "__main__":
    main()
