"""Start-up and resolver speed, each against a baseline measured in the same run.

    python benchmarks/bench_core.py

Targets (issues 2 and 12): whole processes, output piped, against a bare `python -c pass` of the same
interpreter: `convcalc layer --in 32x32x3 --filter 5 --pad 2 -k 10` at most 6x, `convcalc run
specs/vgg16.yaml` (the table) at most 8x and with `--format json` at most 5x. A 10,000-layer spec
resolves (parse, resolve, write JSON) well under a second, and the cost grows linearly from 1,000 to
10,000 layers.

The processes run as an installed package runs: from compiled bytecode (a private
PYTHONPYCACHEPREFIX, filled by a first untimed run, so PYTHONDONTWRITEBYTECODE in the environment
does not make every run compile convcalc's modules again). The commands take turns, so a busy
machine slows them alike.
"""

from __future__ import annotations

import gc
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("convcalc")
CONVCALC = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "convcalc"]
"""The console script `pip install` made next to this interpreter, else `python -m convcalc`."""
LAYER = ["layer", "--in", "32x32x3", "--filter", "5", "--pad", "2", "-k", "10"]
VGG = str(ROOT / "specs" / "vgg16.yaml")
BARE = [sys.executable, "-c", "pass"]
STARTUP: dict[str, tuple[list[str], float | None]] = {
    "python -c pass": (BARE, None),
    "python -c 'import click, yaml, json'": ([sys.executable, "-c", "import click, yaml, json"], None),
    "convcalc layer ...": ([*CONVCALC, *LAYER], 6),
    "python -m convcalc layer ...": ([sys.executable, "-m", "convcalc", *LAYER], None),
    "convcalc run vgg16.yaml": ([*CONVCALC, "run", VGG], 8),
    "convcalc run vgg16.yaml --format json": ([*CONVCALC, "run", VGG, "--format", "json"], 5),
}
"""Each start-up command and its target, a multiple of `python -c pass` (None: shown for reference)."""


def bytecode_env(cache: str) -> dict[str, str]:
    """The environment with bytecode written to and read from `cache`, as from an installed package."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def spawn_ms(argv: list[str], runs: int = 21, env: dict[str, str] | None = None) -> list[float]:
    """Wall times of a whole process, in milliseconds, output piped."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, env=env)
        times.append((time.perf_counter() - start) * 1000)
    return times


def startup(env: dict[str, str], runs: int = 21) -> dict[str, list[float]]:
    """Every start-up command's wall times, the commands taking turns, after one untimed run each."""
    times: dict[str, list[float]] = {name: [] for name in STARTUP}
    for argv, _ in STARTUP.values():
        subprocess.run(argv, capture_output=True, check=True, env=env)
    for _ in range(runs):
        for name, (argv, _) in STARTUP.items():
            times[name] += spawn_ms(argv, runs=1, env=env)
    return times


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
    from convcalc.resolver import resolve
    from convcalc.write import write_json

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
    with tempfile.TemporaryDirectory() as cache:
        report(bytecode_env(cache))


def report(env: dict[str, str]) -> None:
    """Time everything with bytecode cached as `env` says."""
    times = startup(env)
    bare = times["python -c pass"]
    best, median = min(bare), statistics.median(bare)
    print(
        f"{'start-up, whole process, piped (21 runs)':40} {'best':>8} {'ratio':>6} {'median':>9} {'ratio':>6}"
    )
    for name, (_, target) in STARTUP.items():
        t = times[name]
        goal = f"   (target <= {target}x)" if target else ""
        print(
            f"{name:40} {min(t):6.1f} ms {min(t) / best:5.1f}x {statistics.median(t):6.1f} ms "
            f"{statistics.median(t) / median:5.1f}x{goal}"
        )
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
        whole = statistics.median(
            spawn_ms([*CONVCALC, "run", str(path), "--format", "json"], runs=5, env=env)
        )
    print(f"convcalc run 10k --format json {whole:5.1f} ms   (whole process)")


if __name__ == "__main__":
    main()
