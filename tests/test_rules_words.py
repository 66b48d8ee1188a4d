"""Issue 11, items 4, 5 and 23: every word of an explanation is true of its numbers, a note's fix
keeps the layer's output, and no fix search or divisor listing grows out of bounds."""

from __future__ import annotations

import time
from typing import Any

from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc import build as specmod
from convcalc import factor
from convcalc import formulas as fm
from convcalc.__main__ import main
from convcalc.loader import parse
from convcalc.model import Code, Network, Severity
from convcalc.present import output_cell
from convcalc.resolver import resolve

FAST = settings(max_examples=150, deadline=None)
FEW = settings(max_examples=60, deadline=None)


def net_of(input: list[int], *layers: dict[str, Any]) -> Network:
    return resolve(specmod.build({"input": input, "layers": list(layers)}))


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1"})


def pool_1d(n: int, size: int, stride: int, pad: int, ceil: bool) -> Network:
    return net_of([n, 1], {"type": "pool", "size": size, "stride": stride, "pad": pad, "ceil": ceil})


@FAST
@given(
    n=st.integers(1, 40),
    size=st.integers(1, 7),
    stride=st.integers(1, 6),
    pad=st.integers(0, 3),
    ceil=st.booleans(),
)
def test_words_follow_the_numbers(n: int, size: int, stride: int, pad: int, ceil: bool) -> None:
    """Derived by brute force from the windows PyTorch keeps: 'up' only above the floor, 'padding'
    only when the dropped window lies in padding, '(ceil mode)' at most once, 'past the input' only
    when the last window runs past it, 'only padding' only when every real pixel is read."""
    assume(pad <= size // 2)
    net = pool_1d(n, size, stride, pad, ceil)
    r = net.layers[0]
    (a,) = r.axes
    assume(a.out >= 1)
    floor = (n + 2 * pad - size) // stride + 1
    up = a.out > floor
    dropped = ceil and a.fractional and not up
    dropped_start = a.out * stride - pad
    in_padding = dropped and n <= dropped_start < n + pad
    read = {x for j in range(a.out) for x in range(j * stride - pad, j * stride - pad + size) if 0 <= x < n}
    line = fm.size_line(a)
    assert ("rounds up" in line) == up
    assert ("padding" in line) == in_padding
    assert ("keeps the floor" in line) == dropped
    assert ("ceil" in output_cell(r)) == up
    fractional = [f for f in net.findings if f.code is Code.FRACTIONAL_SIZE]
    assert bool(fractional) == a.fractional
    if not fractional:
        return
    message = fractional[0].message
    assert message.count("ceil mode") <= 1
    assert ("rounds it up" in message) == up
    assert ("floors it" in message) == (not ceil)
    assert ("runs past the input" in message) == up
    assert (" in the padding" in message) == in_padding
    if "only padding goes unused past the last window" in message:
        assert n - 1 in read
        assert pad > 0
    if "regular gap" in message:
        assert n - 1 not in read


@FEW
@given(
    n=st.integers(1, 60),
    size=st.integers(1, 7),
    stride=st.integers(1, 6),
    pad=st.integers(0, 3),
    kind=st.sampled_from(["conv", "max", "avg", "ceil"]),
)
def test_a_notes_fix_keeps_the_output(n: int, size: int, stride: int, pad: int, kind: str) -> None:
    """An info-level misfit is only offered per-side padding that gives the same output, exactly;
    never another stride or input."""
    layer: dict[str, Any] = {"type": "conv", "filters": 1} if kind == "conv" else {"type": "pool"}
    if kind != "conv":
        assume(pad <= size // 2)
        layer.update(mode="avg" if kind == "avg" else "max", ceil=kind == "ceil")
    layer.update(size=size, stride=stride, pad=pad)
    net = net_of([n, 1], layer)
    notes = [f for f in net.findings if f.code is Code.FRACTIONAL_SIZE and f.severity is Severity.INFO]
    assume(notes and net.layers[0].output.spatial[0] >= 1)
    for fix in notes[0].fixes:
        assert fix.startswith("pad [[")
        before, after = (int(x) for x in fix[len("pad [[") :].split("]")[0].split(", "))
        assert before == pad
        fixed = net_of(
            [n, 1],
            {**layer, "pad": [[before, after]], "ceil": False}
            if kind != "conv"
            else {**layer, "pad": [[before, after]]},
        )
        assert fixed.layers[0].output == net.layers[0].output
        assert not fixed.layers[0].fractional


def test_issue_examples_read_true() -> None:
    """The issue's three cases, word for word."""
    one = cli("layer", "--in", "4x4x1", "--type", "pool", "--filter", "1", "--stride", "2", "--ceil")
    assert one.output.splitlines()[1] == (
        "  output size      (4 - 1)/2 + 1 = 2.5 -> 2 (ceil mode keeps the floor: one more window would "
        "start past the input)"
    )
    assert "padding" not in one.output
    assert "runs past" not in one.output
    two = cli(
        "layer", "--in", "5x5x1", "--type", "pool", "--filter", "2", "--stride", "2", "--pad", "1", "--ceil"
    )
    assert "PyTorch keeps the floor, 3x3, even in ceil mode (one more window would start in the padding)" in (
        two.output
    )
    assert "rounds" not in two.output
    three = net_of([112, 112, 64], {"type": "pool", "size": 3, "stride": 2, "ceil": True})
    assert output_cell(three.layers[0]) == "56x56x64 (ceil 55.5)"
    (f,) = three.findings
    assert f.message == (
        "pool1: (112 - 3)/2 + 1 = 55.5 is not a whole number; PyTorch rounds it up (ceil mode) to 56x56, "
        "but no input is lost: the last window runs past the input"
    )


def test_resnet_stem_note_keeps_its_shape() -> None:
    """ResNet's stem: 7x7 stride 2 pad 3 on 224 floors 112.5; the fix pads (3, 2), not stride 1."""
    result = cli("layer", "--in", "224x224x3", "--filter", "7", "--stride", "2", "--pad", "3", "-k", "64")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == (
        "    fix: pad [[3, 2]] -> 112x112 (in PyTorch: nn.ZeroPad2d((3, 2, 3, 2)), then padding 0)"
    )
    assert "stride 1" not in result.output


def test_divisors_by_factorisation() -> None:
    """Divisors listed from prime factors, so 2**62 takes no time; a number too hard to factor in the
    budget gives None and the searches scan instead."""
    assert factor.divisors(720720) == tuple(d for d in range(1, 720721) if 720720 % d == 0)
    assert factor.divisors(2**62) == tuple(2**k for k in range(63))
    assert factor.divisors((2**61 - 1) * (2**31 - 1)) == (1, 2**31 - 1, 2**61 - 1, (2**61 - 1) * (2**31 - 1))
    assert factor.divisors(((1 << 64) - 59) * ((1 << 63) - 25)) is None


def test_groups_on_huge_channels_is_instant() -> None:
    """groups 3 on 2**62 channels: the nearest divisors of gcd(C, K) without listing 2**62 candidates."""
    start = time.perf_counter()
    result = cli("layer", "--in", f"8x8x{2**62}", "--filter", "1", "-k", str(2**62), "--groups", "3")
    assert time.perf_counter() - start < 2
    assert result.output.splitlines()[-1] == "    fix: groups 2 or groups 4"


def _alternating(layers: int, *, misfit: bool) -> str:
    lines = ["input: 64x64x8", "layers:"]
    for i in range(layers):
        if i % 2 == 0:
            size, stride, pad = (2, 3, 0) if misfit else (3, 2, 1)
            lines.append(f"  - {{type: conv, filters: 8, size: {size}, stride: {stride}, pad: {pad}}}")
        else:
            stride, extra = (3, 2) if misfit else (2, 1)
            lines.append(
                f"  - {{type: deconv, filters: 8, size: 3, stride: {stride}, pad: 1, output_pad: {extra}}}"
            )
    return "\n".join(lines) + "\n"


def test_deep_alternating_stack_resolves_fast() -> None:
    """1,000 alternating conv/deconv layers, each conv a misfit (notes, then errors that search for
    an input): the shared budget keeps it well under a second (it took 58 s)."""
    for misfit in (False, True):
        text = _alternating(1000, misfit=misfit)
        start = time.perf_counter()
        net = resolve(parse(text))
        assert time.perf_counter() - start < 3
        assert len(net.findings) >= 500


@FAST
@given(
    n=st.integers(1, 12), c=st.integers(1, 8), k=st.integers(1, 8), size=st.integers(1, 5), bias=st.booleans()
)
def test_saving_line_says_only_what_is_so(n: int, c: int, k: int, size: int, bias: bool) -> None:
    """'Nx fewer weights' is exact unless it says 'about' or shows decimals, and never 0x."""
    net = net_of([n, n, c], {"type": "conv", "filters": k, "size": size, "pad": size // 2, "bias": bias})
    r = net.layers[0]
    assume(r.output.positive)
    line = fm.saving_line(r)
    assert line is not None
    assert " 0x" not in line
    fc, params = r.fc_params or 0, r.params
    if fc <= params:
        assert line.endswith(": no fewer weights than fully connected")
        return
    times = line.split(" = ")[1].split("x fewer")[0]
    if times.startswith("about "):
        assert fc % params
    elif "." in times:
        assert abs(float(times) - fc / params) <= 0.005
    else:
        assert fc == int(times.replace(",", "")) * params


@FAST
@given(
    n=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    size=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    pad=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    kind=st.sampled_from(["conv", "max", "ceil"]),
)
def test_2d_notes_never_change_the_architecture(
    n: tuple[int, int], size: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int], kind: str
) -> None:
    """Per axis, in 2-D: a note's only fix is per-side padding, and applying it keeps the output."""
    layer: dict[str, Any] = {"type": "conv", "filters": 1} if kind == "conv" else {"type": "pool"}
    if kind != "conv":
        assume(all(p <= f // 2 for p, f in zip(pad, size, strict=True)))
        layer["ceil"] = kind == "ceil"
    layer.update(size=list(size), stride=list(stride), pad=list(pad))
    net = net_of([*n, 1], layer)
    assume(net.layers[0].output.positive)
    for f in net.findings:
        if f.severity is not Severity.INFO:
            continue
        assert not any(fix.startswith(("stride", "input")) for fix in f.fixes)
        for fix in f.fixes:
            if not fix.startswith("pad [["):
                continue
            text = fix.split(" -> ")[0].removeprefix("pad ").removesuffix(" and ceil false")
            pairs = [[int(x) for x in pair.split(", ")] for pair in text[2:-2].split("], [")]
            fixed = net_of([*n, 1], {**layer, "pad": pairs, **({} if kind == "conv" else {"ceil": False})})
            assert fixed.layers[0].output == net.layers[0].output
            assert not fixed.layers[0].fractional
            assert all(g.severity is not Severity.ERROR for g in fixed.findings)
