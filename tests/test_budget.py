"""A spec's `budget:`: its amounts, the over-budget finding in every lint format and in run, bad values."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import sarif_schema
from click.testing import CliRunner
from test_lint import SARIF_SUBSET

from convcalc.__main__ import main
from convcalc.budget import amount
from convcalc.lint import RULES
from convcalc.lint import lint as run_lint

ROOT = Path(__file__).resolve().parent.parent
OVER = "tests/data/budget/over.yaml"
WITHIN = "tests/data/budget/within.yaml"

PARAMS = "params 26,370 is 6,370 (31.9%) over the budget of 20K"
PEAK = "peak_memory 53,248 bytes (52.0 KiB) is 2,048 bytes (4.0%) over the budget of 50KiB (float32, batch 1)"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(
    ("value", "metric", "expected"),
    [
        ("30M", "params", 30_000_000),
        ("5G", "macs", 5_000_000_000),
        ("1.5K", "params", 1_500),
        ("793.6K", "macs", 793_600),
        ("2t", "macs", 2_000_000_000_000),
        (0, "params", 0),
        (123, "peak_memory", 123),
        ("200MiB", "peak_memory", 200 * 1024**2),
        ("200 MiB", "peak_memory", 200 * 1024**2),
        ("1.5GiB", "training_memory", 1536 * 1024**2),
        ("64MB", "activation_memory", 64_000_000),
        ("2gb", "training_memory", 2_000_000_000),
        ("12B", "peak_memory", 12),
        ("12", "peak_memory", 12),
    ],
)
def test_amounts(value: object, metric: str, expected: int) -> None:
    assert amount(value, metric=metric) == expected


@pytest.mark.parametrize(
    ("value", "metric", "message"),
    [
        ("200M", "peak_memory", "bytes need a unit"),
        ("1MiB", "params", "params is a count"),
        ("1.2345K", "params", "is not a whole number of units"),
        ("1.5", "params", "is not a whole number"),
        ("0.5B", "peak_memory", "is not a whole number of bytes"),
        (-1, "macs", "must not be negative"),
        (True, "macs", "got true"),
        (1.5, "params", "got 1.5"),
        ("30 M ", "params", "got '30 M '"),
        ("lots", "params", "a count like 30M"),
        ("x" * 500, "params", "..."),
    ],
)
def test_bad_amounts(value: object, metric: str, message: str) -> None:
    with pytest.raises(ValueError, match=metric) as e:
        amount(value, metric=metric)
    assert message in str(e.value)
    assert len(str(e.value)) < 200


def test_over_budget_findings_at_their_keys() -> None:
    report = run_lint([OVER])
    assert report.invalid == ()
    found = [(f.code.value, f.severity.value, f.line, f.column, f.message) for f in report.findings]
    assert found == [
        ("over-budget", "error", 4, 18, PARAMS),
        ("over-budget", "error", 4, 46, PEAK),
    ]
    assert report.exit_code(strict=False) == 1


def test_within_budget_is_clean() -> None:
    """Every limit there is the exact total (inclusive), or above it."""
    report = run_lint([WITHIN])
    assert report.findings == ()
    assert report.invalid == ()


def test_lint_text(runner: CliRunner) -> None:
    result = runner.invoke(main, ["lint", OVER])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{OVER}:4:18: error[over-budget] {PARAMS}\n{OVER}:4:46: error[over-budget] {PEAK}\n"
        "2 errors, 0 warnings in 1 file\n"
    )


def test_lint_json(runner: CliRunner) -> None:
    result = runner.invoke(main, ["lint", OVER, "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [(f["code"], f["line"], f["column"], f["message"]) for f in data["findings"]] == [
        ("over-budget", 4, 18, PARAMS),
        ("over-budget", 4, 46, PEAK),
    ]
    assert data["findings"][0]["layer"] is None
    assert data["findings"][0]["file"] == OVER
    assert data["summary"]["errors"] == 2


def test_lint_github(runner: CliRunner) -> None:
    result = runner.invoke(main, ["lint", OVER, "--format", "github"])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first == f"::error file={OVER},line=4,col=18,title=over-budget::{PARAMS.replace('%', '%25')}"


def test_lint_sarif(runner: CliRunner) -> None:
    result = runner.invoke(main, ["lint", OVER, "--format", "sarif"])
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.validate(log, SARIF_SUBSET, cls=jsonschema.Draft202012Validator)
    sarif_schema.validator().validate(log)
    [run] = log["runs"]
    rules = {r["id"]: r["shortDescription"]["text"] for r in run["tool"]["driver"]["rules"]}
    assert rules["over-budget"] == RULES["over-budget"]
    assert [(r["ruleId"], r["level"], r["message"]["text"]) for r in run["results"]] == [
        ("over-budget", "error", PARAMS),
        ("over-budget", "error", PEAK),
    ]
    assert run["results"][1]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4,
        "startColumn": 46,
    }


def test_run_reports_and_fails(runner: CliRunner) -> None:
    result = runner.invoke(main, ["run", OVER], env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    assert f"{OVER}:4:18: error[over-budget] {PARAMS}" in result.output
    data = json.loads(runner.invoke(main, ["run", OVER, "--format", "json"]).stdout)
    assert [d["code"] for d in data["diagnostics"]] == ["over-budget", "over-budget"]
    assert runner.invoke(main, ["run", OVER, "--ignore", "over-budget"]).exit_code == 0


def test_memory_follows_the_sizing(runner: CliRunner) -> None:
    """peak_memory is in the element type and batch run uses: float16 halves it, under 50KiB."""
    assert runner.invoke(main, ["run", WITHIN, "--batch", "2"]).exit_code == 1
    half = runner.invoke(main, ["run", OVER, "--dtype", "float16", "--format", "json"])
    messages = [d["message"] for d in json.loads(half.stdout)["diagnostics"]]
    assert messages == [PARAMS]


@pytest.mark.parametrize(
    ("budget", "column", "message"),
    [
        ("{peak_memory: 200M}", 23, "budget: peak_memory must be bytes like 200MiB"),
        ("{parms: 30M}", 17, "unknown key 'parms' in 'budget'; did you mean 'params'?"),
        ("{params: 1.5MiB}", 18, "(params is a count: K, M, G, T)"),
        ("[30M]", 9, "'budget' must be a mapping like {params: 30M, peak_memory: 200MiB}, got ['30M']"),
        ("{}", 9, "'budget' must be a mapping"),
        ("{macs: -1}", 16, "budget: macs must not be negative, got -1"),
    ],
)
def test_bad_budget_is_one_located_line(
    runner: CliRunner, tmp_path: Path, budget: str, column: int, message: str
) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: 32x32x3\nbudget: {budget}\nlayers:\n  - {{type: fc, units: 10}}\n")
    result = runner.invoke(main, ["run", str(spec)])
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{spec}:2:{column}: error: ")
    assert message in line


def test_budget_of_a_graph_spec(tmp_path: Path) -> None:
    """A spec of blocks carries its budget through the expansion: ResNet-18 has 11,689,512 params."""
    import shutil

    shutil.copytree(ROOT / "specs/torchvision/blocks", tmp_path / "blocks")
    text = (ROOT / "specs/torchvision/resnet18.yaml").read_text()
    spec = tmp_path / "resnet18.yaml"
    spec.write_text(text.replace("\nlayers:\n", "\nbudget: {params: 11M}\nlayers:\n", 1))
    [f] = run_lint([str(spec)], select={"over-budget"}).findings
    assert (f.line, f.column) == (5, 18)
    assert f.message == "params 11,689,512 is 689,512 (6.3%) over the budget of 11M"


def test_the_unet_over_a_macs_budget(tmp_path: Path) -> None:
    """The original U-Net's 150,428,424,448 MACs against a 100G budget: 50,428,424,448 (50.4%) over, at
    the budget's line; the padded U-Net's 48,171,581,440 fit."""
    root = Path(__file__).resolve().parent.parent
    for name, over in (("unet", True), ("unet_padded", False)):
        text = (
            (root / "specs" / f"{name}.yaml")
            .read_text()
            .replace("include: blocks/", f"include: {root}/specs/blocks/")
        )
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(text + "budget: {macs: 100G}\n")
        line = len(text.splitlines()) + 1
        got = CliRunner().invoke(main, ["lint", str(spec)])
        assert got.exit_code == (1 if over else 0), got.output
        if over:
            assert f"{spec}:{line}:" in got.stdout
            assert "macs 150,428,424,448 is 50,428,424,448 (50.4%) over the budget of 100G" in got.stdout
