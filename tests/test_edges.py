"""Hostile and extreme inputs: each gets a located one-line error or an exact answer, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.__main__ import main
from convcalc.lint import lint
from convcalc.resolver import resolve
from convcalc.write import Format, table

ROOT = Path(__file__).resolve().parent.parent


def test_a_5000_digit_size_is_a_located_error(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("input: 8x8x3\nlayers:\n  - {type: conv, filters: 1, size: " + "9" * 5000 + "}\n")
    result = CliRunner().invoke(main, ["run", str(spec)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{spec}:3:36: error: invalid int value '999")
    assert result.stderr.endswith("...': too many digits\n")
    assert lint([str(spec), str(ROOT / "specs" / "lenet5.yaml")]).files == 2


def test_sizes_beyond_64_bits_are_refused() -> None:
    with pytest.raises(convcalc.SpecError, match="too large: PyTorch sizes are 64-bit integers"):
        convcalc.analyze({"input": "8x8x3", "layers": [{"type": "conv", "filters": 1, "size": 2**63}]})


def test_huge_sizes_stay_exact() -> None:
    n = 10**18
    result = CliRunner().invoke(main, ["layer", "--in", f"{n}x{n}x3", "--filter", "3", "--stride", "2"])
    assert f"({n} - 3)/2 + 1 = 499999999999999999.5 -> 499999999999999999 (floor)" in result.stdout
    exact = CliRunner().invoke(
        main, ["layer", "--in", f"{n + 1}x{n + 1}x3", "--filter", "3", "--stride", "2"]
    )
    assert f"({n + 1} - 3)/2 + 1 = 500000000000000000\n" in exact.stdout


@pytest.mark.parametrize("bad", [42, None, 3.5, b"input: 1"])
def test_analyze_refuses_what_is_not_a_spec(bad: object) -> None:
    with pytest.raises(convcalc.SpecError, match="expected a path, YAML text or a dict"):
        convcalc.analyze(bad)  # type: ignore[arg-type]


def test_analyze_refuses_a_non_positive_input_override() -> None:
    with pytest.raises(convcalc.SpecError, match="the input must be positive integers"):
        convcalc.analyze("input: 8x8x1\nlayers: [{type: conv, filters: 1, size: 3}]", input=(-5, 8, 1))


def test_no_color_means_plain_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    monkeypatch.setenv("NO_COLOR", "1")
    table([resolve(convcalc.loader.read(ROOT / "specs" / "cs231n.yaml"))], out)
    assert "\x1b[" not in out.getvalue()
    assert all(line == line.rstrip() for line in out.getvalue().splitlines())


def test_a_memory_refusal_leaves_the_other_files_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        main, ["run", "specs/cs231n.yaml", "tests/data/huge.yaml", "--check", "--format", "json"]
    )
    assert result.exit_code == 2
    good, refused = json.loads(result.stdout)
    assert good["name"] == "cs231n example"
    assert refused["file"] == "tests/data/huge.yaml"
    assert refused["diagnostics"][0]["message"].startswith("conv1: checking needs about ")
    assert result.stderr.startswith("tests/data/huge.yaml: error: conv1: checking needs about ")


def test_a_pointwise_stride_2_shortcut_is_clean_under_strict(tmp_path: Path) -> None:
    spec = tmp_path / "shortcut.yaml"
    spec.write_text("input: 56x56x64\nlayers:\n  - {type: conv, filters: 128, size: 1, stride: 2}\n")
    report = lint([str(spec)])
    assert [f.severity.value for f in report.findings] == ["info"]
    assert report.exit_code(strict=True) == 0


def test_a_floor_into_the_stride_gap_is_worded_by_its_cause() -> None:
    data = convcalc.analyze(
        {"input": "8x8x64", "layers": [{"type": "conv", "filters": 128, "size": 1, "stride": 2}]}
    )
    (finding,) = data["diagnostics"]
    assert finding["severity"] == "info"
    assert "fall in the stride's regular gap" in finding["message"]
    assert "only padding" not in finding["message"]


def test_layout_cannot_be_allowed_per_layer() -> None:
    spec = {
        "input": "8x8x3",
        "layers": [{"type": "conv", "filters": 1, "size": 3, "allow": ["suspicious-layout"]}],
    }
    with pytest.raises(convcalc.SpecError, match="unknown rule code 'suspicious-layout' in 'allow'"):
        convcalc.analyze(spec)


@pytest.mark.parametrize("code", ["spec-invalid", "check-mismatch"])
def test_lint_refuses_codes_it_cannot_filter(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["lint", "specs", "--ignore", code])
    assert result.exit_code == 2
    assert "unknown rule code" in result.stderr


def test_table_format_is_plain_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["run", "specs/lenet5.yaml", "--format", Format.TABLE.value])
    assert "\x1b[" not in result.stdout
