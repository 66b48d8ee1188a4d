"""Issue 11, item 3: a window larger than its input has no output, and nothing is computed from one."""

from __future__ import annotations

import json
import re
from typing import Any

from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcalc import build as specmod
from convcalc.__main__ import main
from convcalc.resolver import resolve
from convcalc.write import Format, to_text


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1"})


def test_layer_shows_no_output() -> None:
    """32x32x3 with a 40-wide filter: no -7x-7x1, no 0x fewer weights, no FC-equivalent."""
    result = cli("layer", "--in", "32x32x3", "--filter", "40", "-k", "1")
    assert result.exit_code == 1
    assert result.output.splitlines()[:4] == [
        "conv1: 32x32x3 -> none",
        "  output size      (32 - 40)/1 + 1 = -7: no output",
        "  parameters       1 x (40x40x3 + 1) = 4,801",
        "  MACs             0 (no output)",
    ]
    assert "fewer weights" not in result.output
    assert "-7x" not in result.output


def test_json_gives_null() -> None:
    result = cli("layer", "--in", "32x32x3", "--filter", "40", "-k", "1", "--format", "json")
    data = json.loads(result.output)
    (layer,) = data["layers"]
    assert data["output_shape"] is None
    assert (layer["output_shape"], layer["fc_params"], layer["exact_output"]) == (None, None, None)
    assert (layer["macs"], layer["activations"], layer["receptive_field"]) == (0, 0, None)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 20),
    size=st.integers(1, 30),
    stride=st.integers(1, 5),
    pad=st.integers(0, 3),
    kind=st.sampled_from(["conv", "deconv", "pool"]),
)
def test_no_negative_size_is_ever_printed(n: int, size: int, stride: int, pad: int, kind: str) -> None:
    """Whatever the window, no table or JSON shows a negative size or an exact ratio of one."""
    layer: dict[str, Any] = {"type": kind, "size": size, "stride": stride, "pad": pad}
    if kind != "pool":
        layer["filters"] = 2
    net = resolve(specmod.build({"input": [n, n, 3], "layers": [layer]}))
    r = net.layers[0]
    assume(not r.output.positive)
    table = to_text([net], Format.TABLE, width=200)
    row = next(line for line in table.splitlines() if line.strip().startswith("1 "))
    assert re.search(r"(^|[ x(])-\d", row) is None, row
    assert "none" in row
    data = json.loads(to_text([net], Format.JSON))
    assert data["layers"][0]["output_shape"] is None
    assert data["layers"][0]["fc_params"] is None


def test_groups_that_do_not_divide_count_no_weights() -> None:
    """A conv PyTorch refuses for its groups had `2 x (3x3x(1/2) + 1) = 2` and `3x3x0 = 0` MACs printed
    above the error: it has no weights to count, and the lines say why."""
    out = cli("layer", "--in", "8x8x1", "--filter", "3", "-k", "2", "--groups", "2").output
    why = "none: groups 2 must divide the 1 input channels and the 2 filters"
    assert f"  parameters       {why}\n" in out
    assert f"  MACs             {why}\n" in out
    assert "fewer weights" not in out
    assert "(1/2)" not in out
    assert "error[groups-mismatch]" in out
    fine = cli("layer", "--in", "8x8x4", "--filter", "3", "-k", "6", "--groups", "2").output
    assert "  parameters       6 x (3x3x(4/2) + 1) = 114\n" in fine
