"""CSV, Markdown and JSON as tools read them (issue 11, items 7 and 8)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
MISFIT = "tests/data/misfit.yaml"
LENET = "specs/lenet5.yaml"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": None})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_findings_go_to_stderr_in_lint_format(fmt: str) -> None:
    code, _, err = invoke("run", MISFIT, "--format", fmt)
    _, lint, _ = invoke("lint", MISFIT)
    assert code == 1
    assert err == lint.splitlines()[0] + "\n"
    assert err.startswith("tests/data/misfit.yaml:6:5: error[fractional-size] conv1: ")


def test_csv_cells_are_numbers_with_the_exact_size_apart() -> None:
    code, out, _ = invoke("run", LENET, MISFIT, "--format", "csv", "--columns", "+rf,+activations,+memory")
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 7 + 1  # one row per layer, no totals
    for row in rows:
        for key in ("#", "params", "MACs", "activations", "memory (bytes)"):
            int(row[key])
        assert row["RF"] in ("all", "") or int(row["RF"]) > 0  # after an fc the field is the whole input
        assert row["RF jump"] == "" or int(row["RF jump"]) > 0
        assert row["FC-equivalent"] == "" or int(row["FC-equivalent"]) >= 0
    assert [(r["output"], r["exact_output"]) for r in rows[-1:]] == [("2x2x1", "2.3333")]
    assert {r["exact_output"] for r in rows[:-1]} == {""}
    assert sum(int(r["params"]) for r in rows[:7]) == 61_706
    assert rows[0]["memory (bytes)"] == str(28 * 28 * 6 * 4)


def test_several_files_give_a_list_with_the_invalid_one_as_an_entry() -> None:
    code, out, err = invoke("run", LENET, "tests/data/missing.yaml", MISFIT, "--format", "json")
    assert code == 2
    data = json.loads(out)
    assert [d["file"] for d in data] == [LENET, "tests/data/missing.yaml", MISFIT]
    bad = data[1]
    assert bad["valid"] is False
    assert [(d["severity"], d["code"]) for d in bad["diagnostics"]] == [("error", "spec-invalid")]
    assert err.count("\n") == 1
    assert err.startswith("tests/data/missing.yaml")


def test_one_invalid_file_gives_one_object() -> None:
    code, out, _ = invoke("run", "tests/data/invalid/typo.yaml", "--format", "json")
    assert code == 2
    data = json.loads(out)
    assert isinstance(data, dict)
    assert data["file"] == "tests/data/invalid/typo.yaml"
    assert data["diagnostics"][0]["line"] is not None


def test_two_invalid_files_give_a_list() -> None:
    code, out, _ = invoke(
        "run", "tests/data/invalid/typo.yaml", "tests/data/missing.yaml", "--format", "json"
    )
    assert code == 2
    assert [d["valid"] for d in json.loads(out)] == [False, False]


def _solve_exact(n: int, f: int, s: int, p: int, out: int) -> float | None:
    _, text, _ = invoke(
        "solve", "--in", str(n), "--filter", str(f), "--stride", str(s), "--out", str(out), "--format", "json"
    )
    found = [x for x in json.loads(text)["solutions"] if x["pad"] == p]
    return found[0]["exact_output"] if found else None


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(5, 60), f=st.integers(2, 5), s=st.integers(2, 5), p=st.integers(0, 2), third=st.booleans()
)
def test_exact_output_is_rounded_alike_in_run_layer_and_solve(
    n: int, f: int, s: int, p: int, third: bool
) -> None:
    s = 3 if third else s
    if n + 2 * p < f or (n + 2 * p - f) % s == 0:
        return
    _, text, _ = invoke(
        "layer",
        "--in",
        f"{n}x1",
        "--filter",
        str(f),
        "--stride",
        str(s),
        "--pad",
        str(p),
        "-k",
        "1",
        "--format",
        "json",
    )
    layer = json.loads(text)["layers"][0]
    exact = (n + 2 * p - f) / s + 1
    assert layer["exact_output"][0] == round(exact, 4)
    solved = _solve_exact(n, f, s, p, layer["output_shape"][0])
    assert solved in (None, layer["exact_output"][0])


def test_exact_output_of_a_third_is_the_same_everywhere() -> None:
    _, text, _ = invoke(
        "layer",
        "--in",
        "7x7x1",
        "--filter",
        "3",
        "--stride",
        "3",
        "--pad",
        "2",
        "-k",
        "1",
        "--format",
        "json",
    )
    assert json.loads(text)["layers"][0]["exact_output"] == [3.6667, 3.6667]
    assert _solve_exact(7, 3, 3, 2, 3) == 3.6667
    spec = "input: 7x7x1\nlayers:\n  - {type: conv, filters: 1, size: 3, stride: 3, pad: 2}\n"
    result = CliRunner().invoke(main, ["run", "-", "--format", "json"], input=spec)
    assert json.loads(result.stdout)["layers"][0]["exact_output"] == [3.6667, 3.6667]
