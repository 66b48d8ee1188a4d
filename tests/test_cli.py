"""The command line: exit codes, --input, every --format, `layer`, and the golden table."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.__main__ import main
from convcalc.loader import read
from convcalc.present import COLUMNS
from convcalc.resolver import resolve
from convcalc.walk import has_layers
from convcalc.write import Format, View, to_text

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).resolve().parent / "golden"
LENET = str(SPECS / "lenet5.yaml")
ALEXNET = str(SPECS / "alexnet.yaml")
MISFIT = str(SPECS.parent / "tests" / "data" / "misfit.yaml")
ALL_SPECS = sorted(p for p in SPECS.rglob("*.yaml") if has_layers(str(p)))  # block libraries are not specs


def run(runner: CliRunner, *args: str, input: str | None = None):
    result = runner.invoke(main, list(args), input=input)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    return result


# ---------------------------------------------------------------- exit codes


def test_clean_spec_exits_0(runner: CliRunner) -> None:
    result = run(runner, "run", LENET)
    assert result.exit_code == 0
    assert "61,706" in result.stdout
    assert result.stderr == ""


def test_error_finding_exits_1(runner: CliRunner) -> None:
    result = run(runner, "run", MISFIT)
    assert result.exit_code == 1
    assert "error[fractional-size]" in result.stdout
    assert "fix: pad 1 -> 3x3" in result.stdout


def test_info_finding_exits_0(runner: CliRunner) -> None:
    result = run(runner, "run", ALEXNET)
    assert result.exit_code == 0
    assert "1 note: unused padding at stride 4 in conv1; show them with --notes" in result.stdout
    result = run(runner, "run", ALEXNET, "--notes")
    assert result.exit_code == 0
    assert "info[fractional-size]" in result.stdout
    assert "only padding goes unused" in result.stdout


def test_warning_finding_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "chw.yaml"
    path.write_text("input: 3x224x224\nlayers:\n  - {type: conv, filters: 8, size: 3, pad: 1}\n")
    result = run(runner, "run", str(path))
    assert result.exit_code == 0
    assert "warning[suspicious-layout]" in result.stdout
    assert "layout: chw" in result.stdout


def test_invalid_spec_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("input: 32x32x3\nlayers: [\n")
    assert run(runner, "run", str(path)).exit_code == 2


@pytest.mark.parametrize(
    ("files", "code"),
    [
        (["lenet5", "alexnet"], 0),
        (["lenet5", "misfit"], 1),
        (["misfit", "lenet5"], 1),
        (["alexnet", "misfit", "lenet5"], 1),
        (["lenet5", "bad"], 2),
        (["bad", "misfit"], 2),
        (["misfit", "bad", "alexnet"], 2),
    ],
)
def test_several_files_exit_with_the_highest(
    runner: CliRunner, tmp_path: Path, files: list[str], code: int
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: 32x32x3\nlayers:\n  - {type: cnov}\n")
    paths = {"lenet5": LENET, "alexnet": ALEXNET, "misfit": MISFIT, "bad": str(bad)}
    result = run(runner, "run", *(paths[f] for f in files), "--format", "json")
    assert result.exit_code == code
    data = json.loads(result.stdout)
    assert isinstance(data, list)  # several files: always a list, an invalid one as an entry
    assert [d["file"] for d in data] == [paths[f] for f in files]
    assert [d.get("valid", True) for d in data] == [f != "bad" for f in files]
    if "bad" in files:
        assert (
            result.stderr == f"{bad}:3:12: error: layer 1: unknown type 'cnov'; did you mean 'conv'? "
            "(expected one of: conv, deconv, pool, global_pool, fc, flatten, bn, act, dropout, identity, "
            "layer_norm, group_norm, instance_norm, prelu, scale, upsample, pixel_shuffle, pixel_unshuffle, "
            "reshape, pad, crop, crop_to, channel_shuffle, lrn, add, mul, max, concat, split)\n"
        )


def test_run_needs_a_file(runner: CliRunner) -> None:
    result = run(runner, "run")
    assert result.exit_code == 2


def test_run_from_stdin(runner: CliRunner) -> None:
    text = (SPECS / "seed" / "pad-2.yaml").read_text()
    result = run(runner, "run", "-", "--format", "json", input=text)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["file"] == "<stdin>"
    assert data["layers"][0]["fc_params"] == 31_457_280


# ---------------------------------------------------------------- --input


def test_input_override_changes_results(runner: CliRunner) -> None:
    before = json.loads(run(runner, "run", LENET, "--format", "json").stdout)
    result = run(runner, "run", LENET, "--input", "28x28x1", "--format", "json")
    assert result.exit_code == 0
    after = json.loads(result.stdout)
    assert before["input_shape"] == [32, 32, 1]
    assert after["input_shape"] == [28, 28, 1]
    assert after["layers"][0]["output_shape"] == [24, 24, 6]
    assert after["layers"][4]["input_shape"] == [4, 4, 16]
    assert after["layers"][4]["params"] == 4 * 4 * 16 * 120 + 120
    assert after["totals"]["params"] == 61_706 - 48_120 + 30_840


def test_input_override_fixes_the_seed_misfit(runner: CliRunner) -> None:
    result = run(runner, "run", MISFIT, "--input", "9x9x1", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["layers"][0]["output_shape"] == [3, 3, 1]
    assert data["diagnostics"] == []


def test_input_override_227_on_alexnet(runner: CliRunner) -> None:
    result = run(runner, "run", ALEXNET, "--input", "227x227x3", "--format", "json")
    data = json.loads(result.stdout)
    assert data["input_shape"] == [227, 227, 3]
    assert data["layers"][0]["output_shape"] == [56, 56, 64]
    # torchvision's pad 2 at 227 makes pool1 drop a row and a column
    assert [(d["layer_name"], d["severity"]) for d in data["diagnostics"]] == [("pool1", "error")]
    assert result.exit_code == 1


def test_input_override_in_api() -> None:
    data = convcalc.analyze(MISFIT, input=(9, 9, 1))
    assert data["layers"][0]["output_shape"] == [3, 3, 1]


def test_input_override_gets_layout_warning(runner: CliRunner) -> None:
    result = run(runner, "run", str(SPECS / "vgg16.yaml"), "--input", "3x224x224", "--format", "json")
    codes = [d["code"] for d in json.loads(result.stdout)["diagnostics"]]
    assert "suspicious-layout" in codes


@pytest.mark.parametrize("shape", ["1x2x3x4x5", "9x9x9x9x3"])
def test_input_override_too_many_dims(runner: CliRunner, shape: str) -> None:
    result = runner.invoke(main, ["run", LENET, "--input", shape])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, KeyError)
    assert "--input': expected at most 4 numbers" in result.stderr


# ---------------------------------------------------------------- formats


def test_format_json(runner: CliRunner) -> None:
    result = run(runner, "run", LENET, "--format", "json")
    data = json.loads(result.stdout)
    assert data["version"] == 2
    assert data["name"] == "LeNet-5"
    assert len(data["layers"]) == 7
    assert data["totals"]["params"] == 61_706


def test_format_json_several_files_is_a_list(runner: CliRunner) -> None:
    data = json.loads(run(runner, "run", LENET, MISFIT, "--format", "json").stdout)
    assert isinstance(data, list)
    assert [d["name"] for d in data] == ["LeNet-5", "stride that does not fit"]


def test_format_csv(runner: CliRunner) -> None:
    result = run(runner, "run", LENET, "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["spec", *COLUMNS[:5], "output", "exact_output", *COLUMNS[6:]]
    assert len(rows) == 1 + 7
    assert all(len(r) == len(rows[0]) for r in rows)
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["name"] for r in body] == ["c1", "s2", "c3", "s4", "c5", "f6", "output"]
    assert sum(int(r["params"]) for r in body) == 61_706
    assert body[0]["FC-equivalent"] == "4816896"
    assert body[1]["FC-equivalent"] == ""
    assert {r["spec"] for r in body} == {LENET}


def test_format_csv_several_files_one_header(runner: CliRunner) -> None:
    result = run(runner, "run", LENET, MISFIT, "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][0] == "spec"
    assert len(rows) == 1 + 7 + 1
    assert rows[-1][0] == MISFIT
    last = dict(zip(rows[0], rows[-1], strict=True))
    assert (last["output"], last["exact_output"], last["params"]) == ("2x2x1", "2.3333", "10")


def markdown_rows(text: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip().strip("|").split(" | ")]
        for line in text.splitlines()
        if line.startswith("|")
    ]


def test_format_markdown(runner: CliRunner) -> None:
    result = run(runner, "run", LENET, "--format", "markdown")
    lines = [line for line in result.stdout.splitlines() if line.startswith("|")]
    assert len(lines) == 1 + 1 + 7 + 1  # header, separator, layers, totals
    header = markdown_rows(result.stdout)[0]
    assert header == list(COLUMNS)
    assert set(lines[1].replace("|", "").replace(":", "")) == {"-"}
    body = markdown_rows(result.stdout)[2:]
    assert all(len(r) == len(COLUMNS) for r in body)
    params = COLUMNS.index("params")
    assert [r[0] for r in body[:-1]] == [str(i) for i in range(1, 8)]
    totals = body[-1]
    assert totals[1] == "**total**"
    assert totals[params] == "**61,706**"
    assert sum(int(r[params].replace(",", "")) for r in body[:-1]) == 61_706


def test_format_markdown_lists_findings(runner: CliRunner) -> None:
    result = run(runner, "run", MISFIT, "--format", "markdown")
    assert "- `error[fractional-size]` conv1:" in result.stdout
    assert "fix: pad 1 -> 3x3" in result.stdout


def test_format_table_plain_when_piped(runner: CliRunner) -> None:
    result = run(runner, "run", LENET, "--format", "table")
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout
    header = next(line for line in result.stdout.splitlines() if "FC-equivalent" in line)
    for column in COLUMNS:
        assert column in header
    assert "total" in result.stdout
    assert run(runner, "run", LENET).stdout == result.stdout  # table is the default


def test_bad_format_is_usage_error(runner: CliRunner) -> None:
    assert run(runner, "run", LENET, "--format", "xml").exit_code == 2


# ---------------------------------------------------------------- golden table and invariant


def lenet_table() -> str:
    return to_text([resolve(read(LENET))], Format.TABLE, width=120)


def test_golden_lenet5_table(update_golden: bool) -> None:
    golden = GOLDEN / "lenet5.txt"
    text = lenet_table()
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), "run pytest --update-golden to create tests/golden/lenet5.txt"
    assert text == golden.read_text(encoding="utf-8")


def table_column(text: str, title: str) -> tuple[list[int], int]:
    """The numbers in a right-aligned column of a rendered table, and its total."""
    lines = text.splitlines()
    header = next(line for line in lines if title in line and "params" in line)
    end = header.index(title) + len(title)
    start = lines.index(header)
    values, total = [], None
    for line in lines[start + 2 :]:
        if not line.strip():
            continue
        cell = line[:end].rsplit(" ", 1)[-1]
        if line.split()[0] == "total":
            total = int(cell.replace(",", "") or 0)
            break
        values.append(int(cell.replace(",", "") or 0))
    assert total is not None
    return values, total


def test_lenet_table_totals_add_up() -> None:
    text = lenet_table()
    for title in ("params", "FC-equivalent", "MACs"):
        values, total = table_column(text, title)
        assert len(values) == 7
        assert sum(values) == total, title
    assert table_column(text, "params") == ([156, 0, 2416, 0, 48120, 10164, 850], 61_706)


@pytest.mark.parametrize(
    "path",
    ALL_SPECS,
    ids=[str(p.relative_to(SPECS)) for p in ALL_SPECS],
)
def test_every_table_totals_add_up(path: Path) -> None:
    """The rows add up to the totals: every layer of a chain; a network of blocks folded to its top
    level (--depth 0), where each block instance's row holds its layers' sums."""
    net = resolve(read(path))
    columns = ("name", "output", "params", "fc", "macs")
    text = to_text([net], Format.TABLE, width=120, view=View(columns=columns, depth=0))
    assert "…" not in text
    top = len(net.layers) - sum(g.last - g.first + 1 for g in net.spec.groups if g.depth == 1)
    top += sum(1 for g in net.spec.groups if g.depth == 1)
    for title in ("params", "FC-equivalent", "MACs"):
        values, total = table_column(text, title)
        assert len(values) == top
        assert sum(values) == total, title
    assert table_column(text, "params")[1] == net.params


def test_wide_vgg_table_totals_add_up() -> None:
    net = resolve(read(SPECS / "vgg16.yaml"))
    text = to_text([net], Format.TABLE, width=200)
    values, total = table_column(text, "params")
    assert sum(values) == total == 138_357_544


# ---------------------------------------------------------------- version and python -m


def test_python_m_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"convcalc, version {convcalc.__version__}"


def test_version_option(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert convcalc.__version__ in result.stdout


# ---------------------------------------------------------------- layer


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--in", "32x32x3", "--filter", "5", "--units", "10"], "--units does not apply to --type conv"),
        (["--in", "32x32x3"], "--type conv needs --filter"),
        (["--in", "32xa", "--filter", "3"], "'32xa'"),
        (["--in", "32x32x3", "--filter", "0"], "Invalid value for '--filter'"),
        (["--in", "32x32x3", "--filter", "3", "--pad", "-1"], "Invalid value for '--pad'"),
        (["--in", "32x32x3", "--filter", "3", "-k", "0"], "Invalid value for '-k'"),
        (["--in", "32x32x3", "--filter", "3", "--ceil"], "--ceil does not apply to --type conv"),
        (["--in", "4x4x1", "--type", "pool", "--filter", "2", "--no-bias"], "--no-bias does not apply"),
        (["--in", "4x4x1", "--type", "pool", "--filter", "2", "-k", "3"], "--filters does not apply"),
        (["--in", "4x4x1", "--type", "pool"], "--type pool needs --filter"),
        (["--in", "32x32x3", "--type", "fc"], "--type fc needs --units"),
        (["--in", "32x32x3", "--type", "fc", "--units", "3", "--filter", "3"], "--filter does not apply"),
        (["--in", "32x32x3", "--type", "dense", "--units", "3"], "Invalid value for '--type'"),
        (["--in", "32x32x3", "--filter", "3x3x3"], "'size' has 3 values"),
        (["--in", "10", "--filter", "3"], "needs spatial input"),
        (["--filter", "3"], "Missing option '--in'"),
    ],
)
def test_layer_usage_errors(runner: CliRunner, args: list[str], fragment: str) -> None:
    result = run(runner, "layer", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert fragment in result.stderr
    assert result.stderr.startswith("convcalc layer: error: ")
    assert result.stderr.endswith(" (see 'convcalc layer --help')\n")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["--bogus"], "convcalc"),
        (["nosuch"], "convcalc"),
        (["run"], "convcalc run"),
        (["solve", "--in", "7"], "convcalc solve"),
    ],
)
def test_usage_errors_are_one_line(runner: CliRunner, args: list[str], where: str) -> None:
    result = run(runner, *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"{where}: error: ")
    assert result.stderr.count("\n") == 1


def test_no_command_prints_help(runner: CliRunner) -> None:
    result = run(runner)
    assert "Commands:" in result.stdout + result.stderr


def test_layer_pool(runner: CliRunner) -> None:
    result = run(runner, "layer", "--in", "4x4x1", "--type", "pool", "--filter", "2", "--format", "json")
    assert result.exit_code == 0
    (r,) = json.loads(result.stdout)["layers"]
    assert (r["type"], r["output_shape"], r["params"], r["fc_params"], r["mode"]) == (
        "pool",
        [2, 2, 1],
        0,
        None,
        "max",
    )


def test_layer_avg_pool_ceil(runner: CliRunner) -> None:
    args = ["--in", "5x5x2", "--type", "pool", "--mode", "avg", "--filter", "2", "--ceil", "--format", "json"]
    result = run(runner, "layer", *args)
    (r,) = json.loads(result.stdout)["layers"]
    assert (r["mode"], r["output_shape"]) == ("avg", [3, 3, 2])
    assert r["window"]["stride"] == [2, 2]


def test_layer_fc(runner: CliRunner) -> None:
    result = run(runner, "layer", "--in", "32x32x3", "--type", "fc", "--units", "10")
    assert result.exit_code == 0
    assert result.stdout.startswith("fc1: 32x32x3 -> 10\n")
    assert "(32x32x3 + 1) x 10 = 30,730" in result.stdout
    result = run(
        runner, "layer", "--in", "32x32x3", "--type", "fc", "--units", "10", "--no-bias", "--format", "json"
    )
    assert json.loads(result.stdout)["layers"][0]["params"] == 30_720


def test_layer_groups_and_dilation(runner: CliRunner) -> None:
    args = [
        "--in",
        "16x16x8",
        "--filter",
        "3",
        "-k",
        "16",
        "--groups",
        "4",
        "--dilation",
        "2",
        "--format",
        "json",
    ]
    (r,) = json.loads(run(runner, "layer", *args).stdout)["layers"]
    assert r["output_shape"] == [12, 12, 16]
    assert r["params"] == 16 * (3 * 3 * 2) + 16
    assert r["groups"] == 4


def test_layer_groups_mismatch_exits_1(runner: CliRunner) -> None:
    result = run(runner, "layer", "--in", "8x8x3", "--filter", "3", "-k", "6", "--groups", "2")
    assert result.exit_code == 1
    assert "error[groups-mismatch]" in result.stdout


def test_layer_non_positive_exits_1(runner: CliRunner) -> None:
    result = run(runner, "layer", "--in", "4x4x1", "--filter", "5")
    assert result.exit_code == 1
    assert "error[non-positive-size]" in result.stdout


def test_layer_suspicious_layout_warns(runner: CliRunner) -> None:
    result = run(runner, "layer", "--in", "3x224x224", "--filter", "3")
    assert result.exit_code == 0
    assert "warning[suspicious-layout]" in result.stdout
    assert "fix: --layout chw" in result.stdout


def test_layer_chw_layout(runner: CliRunner) -> None:
    result = run(
        runner, "layer", "--in", "3x224x224", "--layout", "chw", "--filter", "3", "-k", "64", "--pad", "1"
    )
    assert result.exit_code == 0
    assert result.stdout.startswith("conv1: 3x224x224 -> 64x224x224\n")  # shown in the order given
    assert "suspicious-layout" not in result.stdout


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown"])
def test_layer_formats(runner: CliRunner, fmt: str) -> None:
    result = run(
        runner, "layer", "--in", "32x32x3", "--filter", "5", "--pad", "2", "-k", "10", "--format", fmt
    )
    assert result.exit_code == 0
    if fmt == "json":
        assert json.loads(result.stdout)["layers"][0]["params"] == 760
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert len(rows) == 2
        assert rows[1][rows[0].index("params")] == "760"
    else:
        assert "| 760 |" in result.stdout


def test_layer_imports_no_numpy_rich_or_yaml() -> None:
    code = (
        "import sys\n"
        "from convcalc.__main__ import main\n"
        "sys.argv = ['convcalc', 'layer', '--in', '32x32x3', '--filter', '5']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "bad = [m for m in ('numpy', 'rich', 'yaml') if m in sys.modules]\n"
        "print('LOADED', bad, file=sys.stderr)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert "LOADED []\n" in proc.stderr, proc.stderr
    assert proc.returncode == 0
    assert "conv1: 32x32x3 -> 28x28x1" in proc.stdout


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_layer_findings_on_stderr_have_no_empty_location(runner: CliRunner, fmt: str) -> None:
    """A finding with no file is written as lint writes it, without a leading `: `."""
    args = ["layer", "--in", "7x7x3", "--filter", "3", "--stride", "3", "--format", fmt]
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert result.stderr.startswith("error[fractional-size] conv1: (7 - 3)/3 + 1 = 2.33 is not a whole")
    assert "; fix: pad 1 -> 3x3 or stride 2 -> 3x3" in result.stderr
