"""Peak memory of reading a ~540 MB ONNX model: `convcalc run` against onnx.load alone.

    python benchmarks/bench_onnx_memory.py

Builds, in a temporary folder and in a child process (this one imports neither numpy nor onnx:
a forked child starts from its parent's high-water mark), a model whose weights (two 8192 x 8192
Gemms and a few small layers, about 540 MB of float32) are raw_data initializers, saved once as one
file and once with its weights as external data. Each command runs in its own process; its peak
resident memory is the ru_maxrss that os.wait4 reports for that child.

Target (issue 14): `convcalc run` costs little more than `onnx.load(path, load_external_data=False)`,
the protobuf parse it cannot avoid, and with external weights it never opens the weights file (it
is moved away before that run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

WIDTH = 8192
"""The two big Gemms are WIDTH x WIDTH: 2 x 8192**2 x 4 bytes = 537 MB."""


def weight(name: str, *dims: int) -> Any:
    """A float32 initializer of zeros, stored as raw_data."""
    import numpy as np
    from onnx import TensorProto, helper

    data = np.zeros(dims, dtype=np.float32).tobytes()
    return helper.make_tensor(name, TensorProto.FLOAT, dims, data, raw=True)


def build() -> Any:
    """conv 3 -> 64, global pool, flatten, fc 64 -> WIDTH, two fc WIDTH -> WIDTH, fc WIDTH -> 10."""
    from onnx import TensorProto, helper

    n = helper.make_node
    nodes = [
        n("Conv", ["x", "cw", "cb"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        n("Relu", ["c"], ["r"], name="relu"),
        n("GlobalAveragePool", ["r"], ["g"], name="gap"),
        n("Flatten", ["g"], ["f"], name="flatten"),
        n("Gemm", ["f", "w0", "b0"], ["h0"], name="fc0", transB=1),
        n("Gemm", ["h0", "w1", "b1"], ["h1"], name="fc1", transB=1),
        n("Gemm", ["h1", "w2", "b2"], ["h2"], name="fc2", transB=1),
        n("Gemm", ["h2", "w3", "b3"], ["y"], name="fc3", transB=1),
    ]
    inits = [
        weight("cw", 64, 3, 3, 3),
        weight("cb", 64),
        weight("w0", WIDTH, 64),
        weight("b0", WIDTH),
        weight("w1", WIDTH, WIDTH),
        weight("b1", WIDTH),
        weight("w2", WIDTH, WIDTH),
        weight("b2", WIDTH),
        weight("w3", 10, WIDTH),
        weight("b3", 10),
    ]
    graph = helper.make_graph(
        nodes,
        "big",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def peak(argv: list[str]) -> int:
    """The peak resident memory of one process in bytes (ru_maxrss is in KiB on Linux)."""
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        assert child.stderr is not None
        print(f"{' '.join(argv)} failed:\n{child.stderr.read().decode()}", file=sys.stderr)
        sys.exit(1)
    return int(usage.ru_maxrss) * 1024


def mb(size: int) -> str:
    """Bytes as MB."""
    return f"{size / 1e6:,.0f} MB"


def compare(label: str, path: Path, *, moved: Path | None = None) -> None:
    """Print the peaks of python alone, import onnx, onnx.load, and convcalc run on one file."""
    load = f"import onnx; onnx.load({str(path)!r}, load_external_data=False)"
    python = peak([sys.executable, "-c", "pass"])
    imported = peak([sys.executable, "-c", "import onnx"])
    loaded = peak([sys.executable, "-c", load])
    if moved is not None:  # convcalc must not open the weights: they are not there for its run
        aside = moved.with_suffix(".aside")
        moved.rename(aside)
    try:
        run = peak([sys.executable, "-m", "convcalc", "run", str(path), "--format", "json"])
    finally:
        if moved is not None:
            aside.rename(moved)
    print(f"{label}: {path.name} {mb(path.stat().st_size)}")
    print(f"  python -c pass          {mb(python):>10}")
    print(f"  import onnx             {mb(imported):>10}")
    print(f"  onnx.load(no external)  {mb(loaded):>10}")
    print(f"  convcalc run            {mb(run):>10}   {run / loaded:.2f}x onnx.load, +{mb(run - loaded)}")


def save_both(folder: Path) -> None:
    """Build the model and save it both ways (run in a child: a process that once held the model
    would hand its high-water mark on to every child it forks)."""
    import onnx

    model = build()
    onnx.save(model, str(folder / "big.onnx"))
    (folder / "external").mkdir()
    onnx.save(
        model,
        str(folder / "external" / "big.onnx"),
        save_as_external_data=True,
        location="weights.bin",
        size_threshold=1024,
    )


def main() -> None:
    """Build the model in a child, then compare both files."""
    if len(sys.argv) == 3 and sys.argv[1] == "--build":
        save_both(Path(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        subprocess.run([sys.executable, __file__, "--build", name], check=True)
        compare("one file", folder / "big.onnx")
        weights = folder / "external" / "weights.bin"
        print(f"  (weights.bin: {mb(weights.stat().st_size)}, moved away for convcalc's run)")
        compare("external weights", folder / "external" / "big.onnx", moved=weights)


if __name__ == "__main__":
    main()
