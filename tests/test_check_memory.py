"""Issue 11 item 24: the --check memory guard bounds the real peak, views cost nothing, messages differ."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import check
from convcalc.__main__ import main
from convcalc.loader import load
from convcalc.model import Network
from convcalc.resolver import resolve

KIB, MIB = 1024, 1024**2
SLACK = 64 * KIB
"""Python objects (a few arrays' headers, index tuples) that no estimate counts."""


def net(spec: dict[str, Any]) -> Network:
    """Resolve a spec given as a dict."""
    return resolve(load(spec))


def traced_peak(network: Network) -> int:
    """Peak bytes traced while checking the network, after a warm-up run of it outside the trace."""
    check.run(network, max_memory=1 << 40)  # first calls of numpy paths cache Python objects
    tracemalloc.start()
    try:
        check.run(network, max_memory=1 << 40)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("spec", "estimate"),
    [
        pytest.param(
            {"input": "10000000x1", "layers": [{"type": "pool", "size": 10_000_000}]},
            40_000_012 + check.BUFFERS,
            id="max-pool-of-10M-on-10M",
        ),
        pytest.param(
            {"input": "1x1", "layers": [{"type": "pool", "output": 10_000_000}]},
            80_000_132 + check.BUFFERS,
            id="adaptive-pool-1-to-10M",
        ),
        pytest.param(
            {"input": "1x1", "layers": [{"type": "pool", "mode": "avg", "output": 10_000_000}]},
            80_000_132 + check.BUFFERS,
            id="adaptive-avg-pool-1-to-10M",
        ),
        pytest.param(
            {"input": "3000000x1", "layers": [{"type": "pool", "size": 1_000_000, "stride": 1}]},
            None,
            id="overlapping-max-pool-of-1M",
        ),
        pytest.param(
            {"input": "3000000x1", "layers": [{"type": "pool", "size": 999_999, "stride": 3, "mode": "avg"}]},
            None,
            id="overlapping-avg-pool",
        ),
        pytest.param(
            {"input": "1000000x2", "layers": [{"type": "pool", "output": 999_999, "mode": "avg"}]},
            None,
            id="adaptive-pool-of-uneven-boxes",
        ),
    ],
)
def test_huge_windows_stay_within_the_estimate(spec: dict[str, Any], estimate: int | None) -> None:
    """Issue 11's cases peaked at 1.6 and 3.6 GB against estimates of 38 and 114 MiB: now within them."""
    network = net(spec)
    needed, layer = check.estimate(network)
    assert layer == "pool1"
    if estimate is not None:
        assert needed == estimate
    assert traced_peak(network) <= needed + SLACK


@st.composite
def pool_layers(draw: st.DrawFn) -> dict[str, Any]:
    """A spec of one pool, fixed or adaptive, 1-3-D, with windows up to a few thousand items."""
    dims = draw(st.integers(1, 3))
    longest = 6000 if dims == 1 else 40
    n = [draw(st.integers(1, longest)) for _ in range(dims)]
    channels = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["max", "avg"]))
    if draw(st.booleans()):
        outs = [draw(st.integers(1, 2 * a + 2)) for a in n]
        layer: dict[str, Any] = {"type": "pool", "mode": mode, "output": outs}
    else:
        size = [draw(st.integers(1, a)) for a in n]
        stride = [draw(st.integers(1, f + 3)) for f in size]
        pad = [draw(st.integers(0, f // 2)) for f in size]
        layer = {
            "type": "pool",
            "mode": mode,
            "size": size,
            "stride": stride,
            "pad": pad,
            "ceil": draw(st.booleans()),
        }
    return {"input": [*n, channels], "layers": [layer]}


@settings(max_examples=60, deadline=None)
@given(pool_layers())
def test_estimate_bounds_the_peak_of_random_pools(spec: dict[str, Any]) -> None:
    """What numpy allocates for any pool stays within the estimate: no Python object per window offset."""
    network = net(spec)
    assert traced_peak(network) <= check.estimate(network)[0] + SLACK


@st.composite
def other_layers(draw: st.DrawFn) -> dict[str, Any]:
    """A spec of a conv, deconv, flatten, dropout, fc or activation on a small 1-3-D input."""
    dims = draw(st.integers(1, 3))
    n = [draw(st.integers(3, 300 if dims == 1 else 20)) for _ in range(dims)]
    kind = draw(
        st.sampled_from(
            ["conv", "deconv", "flatten", "dropout", "fc", "act", "bn", "global_pool", "identity"]
        )
    )
    layer: dict[str, Any] = {"type": kind}
    if kind in ("conv", "deconv"):
        layer |= {"filters": draw(st.integers(1, 8)), "size": draw(st.integers(1, 3))}
        layer |= {"stride": draw(st.integers(1, 3)), "pad": draw(st.integers(0, 1))}
    elif kind == "fc":
        layer["units"] = draw(st.integers(1, 50))
    elif kind == "act":
        layer["fn"] = draw(st.sampled_from(["relu", "identity", "gelu", "softmax", "elu"]))
    return {"input": [*n, draw(st.integers(1, 4))], "layers": [layer, {"type": "flatten"}]}


@settings(max_examples=40, deadline=None)
@given(other_layers())
def test_estimate_bounds_the_peak_of_random_layers(spec: dict[str, Any]) -> None:
    """The estimate holds for every other kind too, with views (flatten, dropout, identity) counted free."""
    network = net(spec)
    assert traced_peak(network) <= check.estimate(network)[0] + SLACK


@pytest.mark.parametrize(
    ("layer", "needed"),
    [
        ({"type": "flatten"}, 64 * MIB),
        ({"type": "dropout"}, 64 * MIB),
        ({"type": "act", "fn": "identity"}, 64 * MIB),
        ({"type": "identity"}, 64 * MIB),
        ({"type": "act", "fn": "relu"}, 128 * MIB),
    ],
)
def test_views_are_estimated_free(layer: dict[str, Any], needed: int) -> None:
    """A flatten, dropout or identity returns a view of its input: its estimate is the input alone."""
    network = net({"input": "2048x2048x4", "layers": [layer]})
    assert check.estimate(network)[0] == needed


def test_a_flatten_of_half_the_limit_runs(tmp_path: Any) -> None:
    """A 64 MiB input flattened fits --max-memory 100M (it was refused as needing 128 MiB)."""
    spec = tmp_path / "flat.yaml"
    spec.write_text("input: 2048x2048x4\nlayers:\n  - {type: flatten}\n")
    result = CliRunner().invoke(
        main, ["run", str(spec), "--check", "--max-memory", "100M", "--format", "json"]
    )
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("elements", "limit", "message"),
    [
        (
            8 * MIB + 1,
            "64M",
            "relu: checking needs about 67,108,872 B (64.0 MiB of activations), "
            "above --max-memory 67,108,864 B",
        ),
        (
            8 * MIB + 3000,
            "64M",
            "relu: checking needs about 64.02 MiB (64.0 MiB of activations), above --max-memory 64.00 MiB",
        ),
        (
            8 * MIB + 655,
            "64M",
            "relu: checking needs about 64.005 MiB (64.0 MiB of activations), above --max-memory 64.000 MiB",
        ),
        (
            8 * MIB + 6554,
            "64M",
            "relu: checking needs about 64.1 MiB (64.1 MiB of activations), above --max-memory 64.0 MiB",
        ),
        (
            16 * MIB,
            "64M",
            "relu: checking needs about 128.0 MiB (128.0 MiB of activations), above --max-memory 64.0 MiB",
        ),
    ],
)
def test_the_guard_message_tells_the_numbers_apart(
    tmp_path: Any, elements: int, limit: str, message: str
) -> None:
    """'needs about 64.0 MiB ... above 64.0 MiB' could not be read: as many decimals as set them apart."""
    spec = tmp_path / "act.yaml"
    spec.write_text(f"input: {elements}x1\nlayers:\n  - {{type: act, name: relu}}\n")
    result = CliRunner().invoke(main, ["run", str(spec), "--check", "--max-memory", limit])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"{spec}: error: {message}\n")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (3 * MIB, 2 * MIB, ("3.0 MiB", "2.0 MiB")),
        (2 * MIB + 6 * KIB, 2 * MIB, ("2.01 MiB", "2.00 MiB")),
        (2 * MIB + 1, 2 * MIB, ("2,097,153 B", "2,097,152 B")),
        (5 * 1024**3, 2 * 1024**3, ("5.0 GiB", "2.0 GiB")),
        (2000, 1000, ("2.0 KiB", "1000 B")),
        (5 * 1024**4, 2 * 1024**3, ("5.0 TiB", "2.0 GiB")),
        (1024**3 + 1, 1024**3 - 4 * MIB, ("1.0 GiB", "1020.0 MiB")),
        (1024**3 + 1, 1024**3 - 1, ("1,073,741,825 B", "1,073,741,823 B")),
    ],
)
def test_format_apart(a: int, b: int, expected: tuple[str, str]) -> None:
    """Two sizes in the second's unit, never printed alike."""
    assert check.format_apart(a, b) == expected
