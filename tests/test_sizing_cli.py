"""Issue 5 through the command line: memory options, columns, explanations and the new layer kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.loader import read
from convcalc.resolver import resolve
from convcalc.write import Format, View, to_text

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

CS231N = """\
input: 32x32x3
layers:
  - {type: conv, name: conv1, filters: 10, size: 5, stride: 1, pad: 2}
  - {type: pool, mode: max, size: 2, stride: 2}
  - {type: fc, units: 10}
"""

BN_NET = """\
input: 8x8x4
layers:
  - {type: conv, filters: 8, size: 3, pad: 1, bias: false}
  - {type: bn}
  - {type: act, fn: relu}
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_json(runner: CliRunner, tmp_path: Path, text: str, *args: str) -> dict:
    spec = tmp_path / "net.yaml"
    spec.write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["run", str(spec), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_dtype_batch_and_optimizer_scale_the_bytes(runner: CliRunner, tmp_path: Path) -> None:
    data = run_json(runner, tmp_path, CS231N, "--dtype", "float16", "--batch", "8", "--optimizer", "sgd")
    t = data["totals"]
    # activations per example: input 3,072 + conv1 10,240 + pool 2,560 + fc 10 = 15,882; batch 8
    assert t["activations"] == 15_882 * 8 == 127_056
    assert t["activation_bytes"] == 127_056 * 2
    assert t["param_bytes"] == 26_370 * 2
    # 2 x activations + params x 2 bytes x (weights + gradients, no SGD state)
    assert t["training_bytes"] == 2 * 254_112 + 26_370 * 2 * 2 == 613_704
    assert data["sizing"] == {"dtype": "float16", "batch": 8, "optimizer": "sgd"}
    assert data["layers"][1]["activations"] == 2_560 * 8
    assert data["layers"][1]["activation_bytes"] == 2_560 * 8 * 2


@pytest.mark.parametrize(("optimizer", "states"), [("sgd", 0), ("momentum", 1), ("adam", 2)])
def test_optimizer_states(runner: CliRunner, tmp_path: Path, optimizer: str, states: int) -> None:
    t = run_json(runner, tmp_path, CS231N, "--optimizer", optimizer)["totals"]
    assert t["training_bytes"] == 2 * 4 * 15_882 + 26_370 * 4 * (2 + states)


def test_batch_norm_running_statistics(runner: CliRunner, tmp_path: Path) -> None:
    data = run_json(runner, tmp_path, BN_NET)
    conv, bn, act = data["layers"]
    assert (conv["params"], bn["params"], bn["non_trainable_params"], act["params"]) == (288, 16, 16, 0)
    assert (bn["activations"], act["activations"]) == (512, 0)
    t = data["totals"]
    assert (t["trainable_params"], t["non_trainable_params"]) == (304, 16)
    # input 256 + conv 512 + bn 512 (the relu is in place)
    assert t["activations"] == 1_280
    assert t["param_bytes"] == (304 + 16) * 4
    assert t["training_bytes"] == 2 * 1_280 * 4 + (304 * 4 + 16) * 4 == 15_168


def test_int8_and_bfloat16_bytes(runner: CliRunner, tmp_path: Path) -> None:
    for dtype, size in (("int8", 1), ("bfloat16", 2), ("float32", 4)):
        t = run_json(runner, tmp_path, CS231N, "--dtype", dtype)["totals"]
        assert t["activation_bytes"] == 15_882 * size
        assert t["flops"] == 2 * t["macs"]


def test_vgg16_memory_summary(runner: CliRunner) -> None:
    result = runner.invoke(main, ["run", str(ROOT / "specs" / "vgg16.yaml")])
    assert "activations  15,237,608 with the input = 58.1 MiB float32" in result.stdout
    assert "15,470,264,320 MACs = 30,940,528,640 FLOPs" in result.stdout


def test_bad_sizing_options(runner: CliRunner) -> None:
    vgg = str(ROOT / "specs" / "vgg16.yaml")
    for args, words in (
        (["--dtype", "float64"], "'float64' is not one of"),
        (["--batch", "0"], "0 is not in the range x>=1"),
        (["--optimizer", "rmsprop"], "'rmsprop' is not one of"),
        (["--columns", "name,flops"], "unknown column flops"),
    ):
        result = runner.invoke(main, ["run", vgg, *args])
        assert result.exit_code == 2
        assert words in result.stderr
        assert "Traceback" not in result.output


def test_columns_choose_and_add(runner: CliRunner) -> None:
    lenet = str(ROOT / "specs" / "lenet5.yaml")
    result = runner.invoke(main, ["run", lenet, "--columns", "name,rf", "--format", "csv"])
    assert result.stdout.splitlines()[:2] == ["spec,name,RF,RF jump", f"{lenet},c1,5,1"]
    result = runner.invoke(main, ["run", lenet, "--columns", "+rf,+memory", "--format", "csv"])
    header = result.stdout.splitlines()[0].split(",")
    assert header[-4:] == ["MACs", "RF", "RF jump", "memory (bytes)"]
    assert header[1:4] == ["#", "name", "type"]


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_default_table_fits_80_columns(path: Path) -> None:
    net = resolve(read(path))
    text = to_text([net], Format.TABLE, width=80)
    table = text.split("\n\n")[1]  # title, then the table itself
    assert max(len(line) for line in table.splitlines()) <= 80
    summary = [line for line in text.splitlines() if line.startswith(("params ", "training "))]
    assert len(summary) == 2
    assert all(len(line) <= 80 for line in summary)
    for title in (" name ", " output ", " params "):
        assert title in table


def test_narrow_table_says_what_it_left_out() -> None:
    net = resolve(read(ROOT / "specs" / "vgg16.yaml"))
    text = to_text([net], Format.TABLE, width=80)
    assert "(not shown to fit 80 columns: FC-equivalent" in text
    wide = to_text([net], Format.TABLE, width=200)
    assert "not shown" not in wide
    assert "FC-equivalent" in wide


def test_run_explain_writes_every_layer(runner: CliRunner) -> None:
    result = runner.invoke(main, ["run", str(ROOT / "specs" / "cs231n.yaml"), "--explain"])
    assert result.exit_code == 0
    out = result.stdout
    assert "1. conv1: 32x32x3 -> 32x32x10" in out
    assert "output size      (32 - 5 + 2x2)/1 + 1 = 32" in out
    assert "receptive field  size 1 + (5 - 1) x 1 = 5, jump 1 x 1 = 1, start 0 - 2 x 1 = -2" in out
    assert "activations      32x32x10 = 10,240, 40.0 KiB float32" in out


def test_explain_in_json(runner: CliRunner, tmp_path: Path) -> None:
    data = run_json(runner, tmp_path, CS231N, "--explain")
    lines = data["layers"][1]["explain"]
    assert any("size 5 + (2 - 1) x 1 = 6, jump 1 x 2 = 2" in line for line in lines)
    assert "explain" not in run_json(runner, tmp_path, CS231N)["layers"][0]


def test_markdown_has_totals_and_explanations() -> None:
    net = resolve(read(ROOT / "specs" / "lenet5.yaml"))
    text = to_text([net], Format.MARKDOWN, view=View(explain=True))
    assert "- activations  9,118 with the input = 35.6 KiB float32" in text
    assert text.count("```") == 2 * len(net.layers)


# ---------------------------------------------------------------- convcalc layer, new kinds


def layer(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["layer", *args])
    return result.exit_code, result.stdout, result.stderr


def test_layer_deconv_explain(runner: CliRunner) -> None:
    code, out, _ = layer(
        runner, "--in", "4x4x512", "--type", "deconv", "--filter", "4", "--stride", "2", "--pad", "1",
        "-k", "256", "--explain",
    )  # fmt: skip
    assert code == 0
    assert "deconv1: 4x4x512 -> 8x8x256" in out
    assert "(4 - 1)x2 - 2x1 + 4 = 8" in out
    assert "512 x 256 x 4x4 + 256 = 2,097,408" in out
    assert "4x4x512 x 4x4x256 = 33,554,432" in out
    assert "jump 1 / 2 = 0.5" in out
    assert "suspicious-layout" not in out


def test_layer_output_pad_too_large(runner: CliRunner) -> None:
    code, out, _ = layer(
        runner, "--in", "8x8x4", "--type", "deconv", "--filter", "3", "--stride", "2", "--output-pad", "2"
    )
    assert code == 1
    assert "error[output-pad-too-large]" in out
    assert "fix: output_pad 1" in out


def test_layer_same_padding_and_its_note(runner: CliRunner) -> None:
    code, out, _ = layer(
        runner, "--in", "32x32x3", "--filter", "3", "--stride", "2", "--pad", "same", "-k", "8"
    )
    assert code == 0
    assert "conv1: 32x32x3 -> 16x16x8" in out
    assert "(32 - 3 + 0 + 1)/2 + 1 = 16" in out
    assert "info[not-in-pytorch]" in out
    assert "nn.ZeroPad2d((0, 1, 0, 1))" in out


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (["--in", "13x17x8", "--type", "pool", "--mode", "avg", "--output", "7"], "pool1: 13x17x8 -> 7x7x8"),
        (["--in", "7x7x512", "--type", "global_pool"], "global_pool1: 7x7x512 -> 1x1x512"),
        (["--in", "7x7x64", "--type", "bn"], "bn1: 7x7x64 -> 7x7x64"),
        (["--in", "7x7x64", "--type", "act", "--fn", "gelu"], "act1: 7x7x64 -> 7x7x64"),
        (["--in", "4096", "--type", "dropout", "-p", "0.2"], "dropout1: 4096 -> 4096"),
        (["--in", "7x7x64", "--type", "flatten"], "flatten1: 7x7x64 -> 3136"),
        (["--in", "100x16", "--filter", "5", "--pad", "same", "-k", "4"], "conv1: 100x16 -> 100x4"),
        (["--in", "8x16x16x3", "--type", "pool", "--filter", "2"], "pool1: 8x16x16x3 -> 4x8x8x3"),
    ],
)
def test_layer_every_kind(runner: CliRunner, args: list[str], first: str) -> None:
    code, out, err = layer(runner, *args)
    assert code == 0, err
    assert out.splitlines()[0] == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("--in 8x8x4 --filter 3 --output-pad 1", "--output-pad does not apply to --type conv"),
        ("--in 8x8x4 --type pool --filter 3 --no-count-pad", "--no-count-pad is for average"),
        ("--in 8x8x4 --type pool --output 2 --filter 3", "--filter does not apply with --output"),
        ("--in 8x8x4 --type pool --filter 3 --pad same --ceil", "--ceil needs a numeric --pad"),
        ("--in 8x8x4 --type bn --fn relu", "--fn does not apply to --type bn"),
        ("--in 8x8x4 --pad full --filter 3", "expected non-negative integers"),
        ("--in 8x8x4 --type dropout -p 1.5", "1.5 is not in the range 0<=x<=1"),
        ("--in 4096 --type global_pool", "needs spatial input"),
    ],
)
def test_layer_refuses_with_one_line(runner: CliRunner, args: str, message: str) -> None:
    code, _, err = layer(runner, *args.split())
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_window_cell_shows_the_padding_chosen(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "pads.yaml"
    spec.write_text(
        "input: 9x9x4\nlayers:\n"
        "  - {type: conv, filters: 8, size: 3, pad: [[0, 1], [1, 2]]}\n"
        "  - {type: pool, mode: avg, size: 3, stride: 2, pad: same}\n"
        "  - {type: deconv, filters: 4, size: 4, stride: 2, pad: 1, output_pad: 1, dilation: 2}\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["run", str(spec), "--columns", "name,window,output", "--format", "csv"])
    rows = [line.split(",")[1:-1] for line in result.stdout.splitlines()[1:]]  # less exact_output
    # conv: 9 - 3 + 0 + 1 = 7 rows + 1; 9 - 3 + 1 + 2 = 9 columns + 1.  pool same: ceil(8/2), ceil(10/2),
    # total (4-1)2 + 3 - 8 = 1 -> 0 before, 1 after.  deconv: (4-1)2 - 2 + 2(4-1) + 1 + 1 = 12.
    assert rows == [
        ["conv1", "3/1/(0+1)x(1+2)", "8x10x8"],
        ["pool1", "3/2/0+1 same", "4x5x8"],
        ["deconv1", "4/2/1 op1 d2", "12x14x4"],
    ]


ADAPTIVE = """\
input: 16x16x3
layers:
  - {type: conv, filters: 4, size: 3}
  - {type: pool, mode: avg, output: 5x5}
  - {type: conv, filters: 4, size: 3}
  - {type: global_pool}
  - {type: fc, units: 2}
"""


def test_adaptive_pool_field_varies_until_a_global_pool(runner: CliRunner, tmp_path: Path) -> None:
    """14 -> 5 adaptive windows are 3 or 4 wide: no one field, so 'varies' (not 'all', which a global
    pool and an fc layer earn); null in JSON either way."""
    spec = tmp_path / "net.yaml"
    spec.write_text(ADAPTIVE, encoding="utf-8")
    net = resolve(read(spec))
    table = to_text([net], Format.TABLE, view=View(columns=("name", "rf")), width=80)
    cells = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert cells["conv1"] == ["3", "(1)"]
    assert cells["pool1"] == ["varies"]
    assert cells["conv2"] == ["varies"]
    assert cells["global_pool1"] == ["all"]
    assert cells["fc1"] == ["all"]
    explained = runner.invoke(main, ["run", str(spec), "--explain"]).stdout
    assert explained.count("receptive field  not computed: an adaptive pool's windows vary in size") == 2
    assert explained.count("receptive field  the whole input") == 2
    assert [r["receptive_field"] for r in run_json(runner, tmp_path, ADAPTIVE)["layers"]][1:] == [None] * 4


def test_layer_without_weights_reads_well(runner: CliRunner) -> None:
    code, out, _ = layer(runner, "--in", "8x8x3", "--type", "act", "--explain")
    assert code == 0
    assert "0 (an act layer has no weights)" in out


@pytest.mark.parametrize(
    ("layer", "stats"),
    [
        ("{type: conv, filters: 4, size: 3}", False),
        ("{type: bn}", True),
        ("{type: instance_norm}", False),
        ("{type: instance_norm, track_running_stats: true}", True),
    ],
)
def test_training_line_names_running_stats(
    runner: CliRunner, tmp_path: Path, layer: str, stats: bool
) -> None:
    """Batch norm and instance norm that tracks statistics hold running stats; the training line says so."""
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: 8x8x3\nlayers:\n  - {layer}\n", encoding="utf-8")
    result = runner.invoke(main, ["run", str(spec)])
    (line,) = [t for t in result.stdout.splitlines() if t.startswith("training")]
    assert line.endswith("x params + running stats" if stats else "x params")
    assert "bn stats" not in result.stdout
