"""Time a VGG-16 forward pass through convcalc.kernels against its bare matrix products."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable

import numpy as np

from convcalc import kernels

Array = kernels.Array
POOL = 0
VGG16 = (64, 64, POOL, 128, 128, POOL, 256, 256, 256, POOL, 512, 512, 512, POOL, 512, 512, 512, POOL)
FC = (25088, 4096, 4096, 1000)
ONE, TWO = (1, 1), (2, 2)


def _zeros(*shape: int) -> Array:
    """Return a zero-filled float32 array, whose untouched pages cost nearly nothing."""
    return np.zeros(shape, dtype=np.float32)


def _written(*shape: int) -> Array:
    """Return a zero array in real memory, as an im2col matrix is (untouched zeros share one page)."""
    return np.full(shape, 0.0, dtype=np.float32)


def build_forward() -> Callable[[], Array]:
    """Build VGG-16's 13 convs, 5 max-pools and 3 FC layers as one forward pass."""
    convs: list[tuple[Array, Array] | None] = []
    channels = 3
    for width in VGG16:
        convs.append(None if width == POOL else (_zeros(width, channels, 3, 3), _zeros(width)))
        channels = width or channels
    fcs = [(_zeros(o, i), _zeros(o)) for i, o in itertools.pairwise(FC)]
    image = _zeros(3, 224, 224)

    def forward() -> Array:
        """Run the network on a zero image."""
        x = image
        for layer in convs:
            if layer is None:
                x = kernels.max_pool(x, size=TWO, stride=TWO, pad=(0, 0), ceil=False)
            else:
                x = kernels.conv(x, *layer, stride=ONE, pad=ONE, dilation=ONE, groups=1)
        for weight, bias in fcs:
            x = kernels.linear(x, weight, bias)
        return x

    return forward


def build_matmuls() -> Callable[[], None]:
    """Build the bare products VGG-16 reduces to: (K, 9C) @ (9C, HW) and (out, in) @ (in,)."""
    operands: list[tuple[Array, Array]] = []
    channels, side = 3, 224
    for width in VGG16:
        if width == POOL:
            side //= 2
        else:
            operands.append((_zeros(width, 9 * channels), _written(9 * channels, side * side)))
            channels = width
    operands += [(_zeros(o, i), _zeros(i)) for i, o in itertools.pairwise(FC)]

    def run() -> None:
        """Multiply every prebuilt pair."""
        for a, b in operands:
            np.matmul(a, b)

    return run


def median_times(*fns: Callable[[], object], repeats: int = 5) -> list[float]:
    """Return each function's median wall time over interleaved rounds, after a warm-up."""
    times: list[list[float]] = [[] for _ in fns]
    for fn in fns:
        fn()
    for _ in range(repeats):
        for fn, samples in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return [statistics.median(samples) for samples in times]


def main() -> None:
    """Print the forward-pass time, the bare-matmul time and their ratio."""
    forward = build_forward()
    assert forward().shape == (1000,)
    kernel, bare = median_times(forward, build_matmuls())
    print(f"VGG-16 forward (kernels)  {kernel * 1000:8.1f} ms")
    print(f"bare matmuls              {bare * 1000:8.1f} ms")
    print(f"ratio                     {kernel / bare:8.2f}   (target <= 1.50)")


if __name__ == "__main__":
    main()
