"""A pad layer's rows are padding to the layers after it: a window that leaves only those unread loses
no input (a note), exactly as when the same padding is written on the window itself."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.loader import parse
from convcalc.model import Code, Severity
from convcalc.resolver import resolve


def _fractional(text: str) -> list[tuple[Severity, str]]:
    net = resolve(parse(text))
    return [(f.severity, f.message) for f in net.findings if f.code is Code.FRACTIONAL_SIZE]


def test_resnet_stem_written_with_a_pad_layer_is_a_note() -> None:
    """ResNet's stem at 225: the fix convcalc gives, pad [[3, 2]], as its own layer before the conv."""
    found = _fractional(
        "input: 225x225x3\nlayers:\n  - {type: pad, pad: [[3, 2]]}\n"
        "  - {type: conv, filters: 64, size: 7, stride: 2}\n"
    )
    assert found == [
        (
            Severity.INFO,
            "conv1: (230 - 7)/2 + 1 = 112.5 is not a whole number; PyTorch floors it to 112x112, but no "
            "input is lost: only padding goes unused past the last window (an earlier pad layer's)",
        )
    ]


def test_real_rows_past_the_pad_are_still_an_error() -> None:
    """13 rows and a pad row: windows of 3 at stride 3 read rows 0 to 11; row 12 is data."""
    found = _fractional(
        "input: 13x13x1\nlayers:\n  - {type: pad, pad: [[0, 1]]}\n"
        "  - {type: conv, filters: 1, size: 3, stride: 3}\n"
    )
    assert [s for s, _ in found] == [Severity.ERROR]
    assert "silently drops 1 input row and 1 input column" in found[0][1]


def test_padding_survives_elementwise_layers_and_a_crop_but_not_a_conv() -> None:
    head = "input: 12x12x2\nlayers:\n  - {type: pad, pad: [[0, 2]]}\n"
    window = "  - {type: pool, size: 3, stride: 3}\n"  # 14 rows: windows read 0 to 11, 12 and 13 unread
    assert [s for s, _ in _fractional(head + "  - {type: bn}\n  - {type: act}\n" + window)] == [Severity.INFO]
    cropped = "  - {type: crop, crop: [[0, 1]]}\n"  # 13 rows, the last one padding: still only padding unread
    assert [s for s, _ in _fractional(head + cropped + window)] == [Severity.INFO]
    mixed = "  - {type: conv, filters: 2, size: 1}\n"  # a conv's outputs are data, whatever fed them
    assert [s for s, _ in _fractional(head + mixed + window)] == [Severity.ERROR]


def test_a_pad_layer_before_a_transposed_conv_changes_nothing() -> None:
    text = (
        "input: 5x5x1\nlayers:\n  - {type: pad, pad: 1}\n  - {type: deconv, filters: 1, size: 3, stride: 2}\n"
    )
    assert _fractional(text) == []


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 40),
    before=st.integers(0, 6),
    after=st.integers(0, 6),
    size=st.integers(1, 7),
    stride=st.integers(1, 6),
    dilation=st.integers(1, 3),
)
def test_a_pad_layer_is_judged_as_the_same_padding_on_the_conv(
    n: int, before: int, after: int, size: int, stride: int, dilation: int
) -> None:
    """Whether input is lost does not depend on where the padding is written (1-D, so the fractional
    finding of the conv is the only one that can differ)."""
    conv = f"filters: 1, size: {size}, stride: {stride}, dilation: {dilation}"
    head = f"input: {n}x1\nlayers:\n"
    as_layer = f"{head}  - {{type: pad, pad: [[{before}, {after}]]}}\n  - {{type: conv, {conv}}}\n"
    on_conv = f"{head}  - {{type: conv, {conv}, pad: [[{before}, {after}]]}}\n"
    if n + before + after < dilation * (size - 1) + 1:
        return  # no output at all: a different finding
    assert [s for s, _ in _fractional(as_layer)] == [s for s, _ in _fractional(on_conv)]
