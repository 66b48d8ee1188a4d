"""The fixes findings suggest, checked against brute force and the solver, and their limits: huge
sizes, strides and dilations resolve at once (they once looped for hours)."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc import arith, solve
from convcalc import build as specmod
from convcalc import formulas as fm
from convcalc.model import Code, Finding, Network, Severity
from convcalc.resolver import resolve

FAST = settings(max_examples=200, deadline=None)


def net_of(input: list[int], *layers: dict[str, Any]) -> Network:
    return resolve(specmod.build({"input": input, "layers": list(layers)}))


def finding(net: Network, code: Code) -> Finding:
    (f,) = [f for f in net.findings if f.code is code]
    return f


def unread_brute(size: int, dilation: int, stride: int) -> int:
    """Positions modulo the stride that no tap of any window lands on."""
    return stride - len({(dilation * k) % stride for k in range(size)})


@FAST
@given(size=st.integers(1, 12), dilation=st.integers(1, 6), stride=st.integers(1, 12), n=st.integers(40, 80))
def test_stride_skips_exactly_when_taps_miss_a_residue(size: int, dilation: int, stride: int, n: int) -> None:
    """The warning fires when some input position modulo S is never read (a 1x1 window excepted),
    and its fix is the largest stride up to S whose windows read everything."""
    net = net_of([n, 1], {"type": "conv", "filters": 1, "size": size, "stride": stride, "dilation": dilation})
    assume(net.layers[0].output.spatial[0] >= 1)
    skips = [f for f in net.findings if f.code is Code.STRIDE_SKIPS_INPUT]
    holes = unread_brute(size, dilation, stride)
    assert bool(skips) == (holes > 0 and size > 1)
    if skips:
        assert f"never read {holes} of every {stride}" in skips[0].message
        best = max(s for s in range(1, stride + 1) if unread_brute(size, dilation, s) == 0)
        assert skips[0].fixes == (f"stride {best}",)


@FAST
@given(
    n=st.integers(1, 60),
    size=st.integers(1, 7),
    stride=st.integers(1, 6),
    dilation=st.integers(1, 3),
    pad=st.integers(0, 3),
)
def test_pad_fix_is_the_solvers_smallest_exact_pad(
    n: int, size: int, stride: int, dilation: int, pad: int
) -> None:
    """A fractional conv's pad fix is the smallest exact pad `convcalc solve` lists (0 to D(F-1)),
    at any output size; when there is none, the message says why."""
    net = net_of(
        [n, 1],
        {"type": "conv", "filters": 1, "size": size, "stride": stride, "dilation": dilation, "pad": pad},
    )
    r = net.layers[0]
    assume(r.output.spatial[0] >= 1 and r.fractional)
    extent = dilation * (size - 1) + 1
    exact = [
        s.pad
        for t in range(1, n + 2 * extent)
        for s in solve.solutions(n=n, out=t, size=size, stride=stride, dilation=dilation)
        if s.kind is solve.Fit.EXACT
    ]
    f = finding(net, Code.FRACTIONAL_SIZE)
    pads = [fix for fix in f.fixes if fix.startswith("pad ")]
    if f.severity is Severity.INFO:  # nothing lost: only fixes that keep the output are offered
        assert all(fix.split(" -> ")[1].split(" ")[0] == str(r.output.spatial[0]) for fix in f.fixes)
    elif exact:
        out = (n + 2 * min(exact) - extent) // stride + 1
        assert pads == [f"pad {min(exact)} -> {out}"]
    else:
        assert pads == []
        assert f"no pad from 0 to D(F-1) = {extent - 1} fits" in f.message or "is odd" in f.message


def test_pad_fix_looks_past_the_next_output_size() -> None:
    """9 wide, F 2, D 2, S 3, P 1: (9 + 2 - 3)/3 + 1 = 3.67 drops the last input; pad 0 gives 3
    exactly (pad 3 gives 5)."""
    net = net_of([9, 1], {"type": "conv", "filters": 1, "size": 2, "dilation": 2, "stride": 3, "pad": 1})
    assert finding(net, Code.FRACTIONAL_SIZE).fixes[0] == "pad 0 -> 3"


def test_no_pad_message_names_the_layer_kind() -> None:
    """A pool may pad at most half its window; a conv up to D(F-1)."""
    pool = net_of([10, 10, 1], {"type": "pool", "size": 2, "stride": 3})  # 8 + 2P: 8, 10, not 9
    assert "(no pad fits within the 1 a pool allows)" in finding(pool, Code.FRACTIONAL_SIZE).message
    conv = net_of([32, 32, 1], {"type": "conv", "filters": 1, "size": 1, "stride": 10**9})
    message = finding(conv, Code.FRACTIONAL_SIZE).message
    assert "a pool" not in message
    assert "(32 - 1)/1000000000 + 1 = 1.00000003 is not a whole number" in message


def test_stride_fix_keeps_per_side_pads() -> None:
    """Rows padded (0, 1): stride 2 gives (16 - 3 + 0 + 1)/2 + 1 = 8 rows, where no end pad gives 7.5."""
    net = net_of([16, 8, 1], {"type": "pool", "size": 3, "stride": 3, "pad": [[0, 1], [1, 1]]})
    assert "stride 2x1 -> 8x8" in finding(net, Code.FRACTIONAL_SIZE).fixes


def test_stride_fix_adds_no_unread_input() -> None:
    """F 3, D 2 (taps 0, 2, 4) on 20: stride 4 leaves 2 of every 4 unread, so the fix above the
    given stride 3 is not 4 (though (20 - 5)/4 is not whole either way) and no fix has holes."""
    net = net_of([20, 1], {"type": "conv", "filters": 1, "size": 3, "dilation": 2, "stride": 2})
    for fix in finding(net, Code.FRACTIONAL_SIZE).fixes:
        if fix.startswith("stride "):
            s = int(fix.split()[1])
            assert unread_brute(3, 2, s) <= unread_brute(3, 2, 2)


def test_input_fix_never_shrinks_a_layer_below_its_window() -> None:
    """avg_pool3d F 3 P 1 on 3: an input of 2 would fit the conv after it, but avg_pool3d refuses an
    input smaller than its window; the fix goes up to 4 instead."""
    net = net_of(
        [3, 3, 3, 1],
        {"type": "pool", "mode": "avg", "size": 3, "stride": 1, "pad": 1},
        {"type": "conv", "filters": 1, "size": 2, "stride": 2},
    )
    fixes = [f for f in finding(net, Code.FRACTIONAL_SIZE).fixes if f.startswith("input ")]
    assert fixes == ["input 4x4x4x1 -> 2x2x2"]
    assert Code.WINDOW_EXCEEDS_INPUT not in {
        f.code
        for f in net_of(
            [4, 4, 4, 1], {"type": "pool", "mode": "avg", "size": 3, "stride": 1, "pad": 1}
        ).findings
    }


def test_uneven_avg_pool_without_padding_in_the_divisor() -> None:
    """F.pad's zeros would count in the divisor: the advice divides by a pooled mask of ones."""
    net = net_of([8, 8, 1], {"type": "pool", "mode": "avg", "size": 2, "pad": "same", "stride": 1})
    message = finding(net, Code.NOT_IN_PYTORCH).message
    assert "avg_pool(F.pad(x)) / avg_pool(F.pad(ones))" in message
    counted = net_of(
        [8, 8, 1], {"type": "pool", "mode": "avg", "size": 2, "stride": 1, "pad": [[0, 1], [0, 1]]}
    )
    assert "F.pad (value -inf for a max pool)" in finding(counted, Code.NOT_IN_PYTORCH).message


# --- limits: huge numbers finish at once ---------------------------------------------------------


@pytest.mark.parametrize(
    ("input", "layer"),
    [
        ([32, 32, 1], {"type": "conv", "filters": 1, "size": 1, "stride": 10**9}),
        ([32, 32, 1], {"type": "conv", "filters": 1, "size": 3, "stride": 10**9}),
        ([32, 32, 1], {"type": "conv", "filters": 1, "size": 3, "stride": 10**18, "dilation": 10**6}),
        ([2**50 + 3, 1], {"type": "conv", "filters": 1, "size": 2**45, "stride": 7}),
        ([10**12, 1], {"type": "pool", "size": 10**6 + 1, "stride": 10**6 - 1}),
    ],
)
def test_huge_strides_and_windows_are_diagnosed_at_once(input: list[int], layer: dict[str, Any]) -> None:
    """Every suggested stride divides the numerator; every pad fits (once counted one by one)."""
    net = net_of(input, layer)
    a = net.layers[0].axes[0]
    for f in net.findings:
        for fix in f.fixes:
            if m := re.fullmatch(r"stride (\d+)(?: -> .*)?", fix):
                assert f.code is Code.STRIDE_SKIPS_INPUT or a.numerator % int(m.group(1)) == 0


def test_smallest_pad_in_closed_form_for_huge_strides() -> None:
    """7 wide, F 3, S 10**18: 4 + 2P must be a multiple of 10**18, so P = 10**18/2 - 2."""
    a = arith.axis(n=7, size=3, stride=10**18, pad=0)
    assert arith.smallest_pad(a) == 10**18 // 2 - 2
    assert arith.smallest_pad(a, limit=2) is None


def test_near_strides_of_a_huge_numerator() -> None:
    """Divisors are listed (not counted down to) below 2**40, and scanned near the stride above."""
    a = arith.axis(n=2 * 3 * 5 * 7 * 11 * 13 * 10**6 + 1, size=2, stride=1_000_003, pad=0)
    below, above = arith.near_strides(a)
    assert below < 1_000_003
    assert a.numerator % below == 0
    assert all(a.numerator % s for s in range(below + 1, 1_000_003))
    assert above is None  # above the stride only up to the window's extent, 2
    huge = arith.axis(n=2**60 + 1, size=1, stride=3, pad=0)
    assert arith.near_strides(huge) == (2, None)
    a = arith.axis(n=24, size=9, stride=5, pad=0)  # 24 - 9 = 15: strides 3 and 1 below, none to 9
    assert arith.near_strides(a) == (3, None)
    assert arith.near_strides(a, ok=lambda s: s != 3) == (1, None)


# --- numbers as the messages print them ----------------------------------------------------------


@FAST
@given(n=st.integers(1, 10**6), size=st.integers(1, 9), stride=st.integers(1, 10**9), pad=st.integers(0, 4))
def test_ratio_never_looks_whole_when_it_is_not(n: int, size: int, stride: int, pad: int) -> None:
    """(N + 2P - E)/S + 1 to two decimals, or as many more as it takes; within half a last digit."""
    a = arith.axis(n=n, size=size, stride=stride, pad=pad)
    assume(a.numerator >= 0)
    text = fm.ratio(a)
    exact = Fraction(a.numerator, stride) + 1
    if exact.denominator == 1:
        assert text == str(exact)
        return
    _, decimals = text.split(".")
    assert decimals
    assert decimals[-1] != "0"
    assert abs(Fraction(text) - exact) <= Fraction(1, 2 * 10 ** max(2, len(decimals)))


@pytest.mark.parametrize(
    ("n", "stride", "text"),
    [(302, 300, "2.003"), (32, 10**9, "1.00000003"), (7, 2, "4"), (8, 3, "3.33"), (1000, 1001, "1.998")],
)
def test_ratio_table(n: int, stride: int, text: str) -> None:
    assert fm.ratio(arith.axis(n=n, size=1, stride=stride, pad=0)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ((1, 2), "0.5"),
        ((1, 16), "0.0625"),
        ((3, 8), "0.375"),
        ((1, 4096), "1/4096"),
        ((2, 3), "2/3"),
        ((5, 1), "5"),
    ],
)
def test_field_fractions_print_exactly(value: tuple[int, int], text: str) -> None:
    """A jump after upsampling: a short decimal when one is exact, else the fraction itself."""
    assert fm.fraction(Fraction(*value)) == text
