"""`convcalc lint`: every rule code, `allow:`, the summary, exit codes, paths, filters and formats.

Fixtures live in tests/data/lint: each `<rule>.yaml` triggers one finding and its
`<rule>-fixed.yaml` is the same layer with the problem fixed.
"""

from __future__ import annotations

import gc
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sarif_schema
import yaml
from click.testing import CliRunner, Result

from convcalc.__main__ import main
from convcalc.lint import RULES, SPEC_INVALID, Report, spec_files, summary
from convcalc.lint import lint as run_lint
from convcalc.model import Severity
from convcalc.walk import has_layers

ROOT = Path(__file__).resolve().parent.parent
DATA = "tests/data/lint"
SHIPPED = sorted(p for p in (ROOT / "specs").rglob("*.y*ml") if has_layers(str(p)))  # not block libraries
LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): "
    r"(?P<severity>error|warning|info)\[(?P<code>[a-z-]+)\] (?P<message>.+)$"
)
FINDING_KEYS = {"file", "line", "column", "severity", "code", "layer", "layer_name", "message", "fixes"}


def fx(name: str) -> str:
    """A fixture's path, relative to the repository root (the tests' working directory)."""
    return f"{DATA}/{name}"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from the repository root; re-enable the collector that the commands switch off."""
    monkeypatch.chdir(ROOT)
    yield
    gc.enable()


def cli(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(main, ["lint", *args], input=stdin)


def lines(result: Result) -> list[str]:
    return result.stdout.splitlines()


# (fixture, code, severity, line, column, fixes); each fixture has a `-fixed` twin.
RULE_CASES = [
    pytest.param(
        "fractional-error",
        "fractional-size",
        "error",
        5,
        5,
        ("stride 1 -> 222x222", "input 223x223x3 -> 111x111", "input 225x225x3 -> 112x112"),
        id="fractional-size-error",
    ),
    pytest.param(
        "fractional-info",
        "fractional-size",
        "info",
        4,
        5,
        ("pad [[1, 0]] -> 112x112 (in PyTorch: nn.ZeroPad2d((1, 0, 1, 0)), then padding 0)",),
        id="fractional-size-info",
    ),
    pytest.param("non-positive", "non-positive-size", "error", 3, 5, ("pad 1",), id="non-positive-size"),
    pytest.param("pool-pad", "pool-pad-too-large", "error", 3, 45, ("pad 1",), id="pool-pad-too-large"),
    pytest.param("groups", "groups-mismatch", "error", 3, 70, ("groups 1",), id="groups-mismatch"),
    pytest.param("window", "window-exceeds-input", "error", 3, 49, (), id="window-exceeds-input"),
    pytest.param("stride-skips", "stride-skips-input", "warning", 3, 61, ("stride 2",), id="stride-skips"),
    pytest.param(
        "dilation-skips", "stride-skips-input", "warning", 3, 62, ("stride 1",), id="dilation-skips"
    ),
    pytest.param("layout", "suspicious-layout", "warning", 1, 8, ("layout: chw",), id="suspicious-layout"),
    pytest.param("expect-layer", "expect-mismatch", "error", 8, 15, (), id="expect-mismatch-layer"),
    pytest.param("expect-top", "expect-mismatch", "error", 2, 35, (), id="expect-mismatch-top"),
]
EXIT = {"error": (1, 1), "warning": (0, 1), "info": (0, 0)}
"""Exit code without and with --strict, by the severity of the only finding."""


# 1. Each rule code: one fixture that triggers it, one that does not.


@pytest.mark.parametrize(("name", "code", "severity", "line", "column", "fixes"), RULE_CASES)
def test_rule_triggers(
    name: str, code: str, severity: str, line: int, column: int, fixes: tuple[str, ...]
) -> None:
    report = run_lint([fx(f"{name}.yaml")])
    assert report.invalid == ()
    assert [(f.code.value, f.severity.value) for f in report.findings] == [(code, severity)]
    f = report.findings[0]
    assert (f.file, f.line, f.column) == (fx(f"{name}.yaml"), line, column)
    assert f.fixes == fixes


@pytest.mark.parametrize(("name", "code", "severity", "line", "column", "fixes"), RULE_CASES)
def test_rule_line_and_exit(
    runner: CliRunner, name: str, code: str, severity: str, line: int, column: int, fixes: tuple[str, ...]
) -> None:
    result = cli(runner, fx(f"{name}.yaml"))
    first = lines(result)[0]
    m = LINE.match(first)
    assert m, first
    assert m.group("file", "line", "col", "severity", "code") == (
        fx(f"{name}.yaml"),
        str(line),
        str(column),
        severity,
        code,
    )
    if fixes:
        assert first.endswith("; fix: " + " or ".join(fixes))
    else:
        assert "; fix:" not in first
    plain, strict = EXIT[severity]
    assert result.exit_code == plain, result.stdout
    assert cli(runner, "--strict", fx(f"{name}.yaml")).exit_code == strict


@pytest.mark.parametrize(("name", "code", "severity", "line", "column", "fixes"), RULE_CASES)
def test_rule_fixed_is_clean(
    runner: CliRunner, name: str, code: str, severity: str, line: int, column: int, fixes: tuple[str, ...]
) -> None:
    report = run_lint([fx(f"{name}-fixed.yaml")])
    assert report.findings == ()
    assert report.invalid == ()
    result = cli(runner, "--strict", fx(f"{name}-fixed.yaml"))
    assert (result.exit_code, result.stdout) == (0, "0 errors, 0 warnings in 1 file\n")


def test_fractional_error_exact_line(runner: CliRunner) -> None:
    result = cli(runner, fx("fractional-error.yaml"))
    assert lines(result) == [
        "tests/data/lint/fractional-error.yaml:5:5: error[fractional-size] down: (224 - 3)/2 + 1 = 111.5 "
        "is not a whole number; PyTorch floors it to 111x111 and silently drops 1 input row and "
        "1 input column (no symmetric pad fits at stride 2: 224 - 3 = 221 is odd); "
        "fix: stride 1 -> 222x222 or input 223x223x3 -> 111x111 or input 225x225x3 -> 112x112",
        "1 error, 0 warnings in 1 file",
    ]
    assert result.exit_code == 1


def test_fractional_info_never_fails(runner: CliRunner) -> None:
    """3x3 stride 2 pad 1 on 224: 112.5, only padding unused; a note, exit 0 even with --strict."""
    result = cli(runner, "--strict", fx("fractional-info.yaml"))
    assert result.exit_code == 0
    assert lines(result)[0].startswith(
        "tests/data/lint/fractional-info.yaml:4:5: info[fractional-size] down: (224 - 3 + 2x1)/2 + 1 = 112.5"
    )
    assert "no input is lost" in lines(result)[0]
    assert lines(result)[-1] == "0 errors, 0 warnings, 1 note in 1 file"


def test_expect_mismatch_exact_lines(runner: CliRunner) -> None:
    """The line and column are those of the expected value, not of the layer or the key."""
    result = cli(runner, fx("expect-layer.yaml"), fx("expect-top.yaml"))
    assert lines(result) == [
        "tests/data/lint/expect-layer.yaml:8:15: error[expect-mismatch] conv1: "
        "expected output 28x28x5 but it is 28x28x6",
        "tests/data/lint/expect-top.yaml:2:35: error[expect-mismatch] the network: "
        "expected params 457 but it is 456",
        "2 errors, 0 warnings in 2 files",
    ]
    assert result.exit_code == 1
    text = (ROOT / DATA / "expect-top.yaml").read_text().splitlines()[1]
    assert text[34:].startswith("457")
    text = (ROOT / DATA / "expect-layer.yaml").read_text().splitlines()[7]
    assert text[14:] == "28x28x5"


def test_run_reports_expect_mismatch_too(runner: CliRunner) -> None:
    result = runner.invoke(main, ["run", "--format", "json", fx("expect-layer.yaml")])
    assert result.exit_code == 1
    diags = json.loads(result.stdout)["diagnostics"]
    assert [(d["code"], d["line"], d["column"], d["layer_name"]) for d in diags] == [
        ("expect-mismatch", 8, 15, "conv1")
    ]


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("bad-yaml", "tests/data/lint/bad-yaml.yaml:4:1: error[spec-invalid] invalid YAML: "),
        (
            "unknown-key",
            "tests/data/lint/unknown-key.yaml:3:46: error[spec-invalid] layer 1: unknown key 'strid' "
            "for a conv layer; did you mean 'stride'?",
        ),
    ],
)
def test_spec_invalid(runner: CliRunner, name: str, start: str) -> None:
    report = run_lint([fx(f"{name}.yaml")])
    assert report.findings == ()
    assert len(report.invalid) == 1
    assert report.exit_code(strict=False) == 2
    result = cli(runner, fx(f"{name}.yaml"))
    assert result.exit_code == 2
    assert lines(result)[0].startswith(start)
    assert lines(result)[-1] == "0 errors, 0 warnings, 1 invalid spec in 1 file"


# 2. allow: [code]


def test_allow_turns_off_one_layer_only() -> None:
    allowed = run_lint([fx("allow.yaml")]).findings
    assert [(f.code.value, f.layer_name, f.layer) for f in allowed] == [("fractional-size", "reported", 2)]
    off = run_lint([fx("allow-off.yaml")]).findings
    assert [(f.code.value, f.layer_name) for f in off] == [
        ("fractional-size", "kept"),
        ("fractional-size", "reported"),
    ]


def test_allow_in_lint_cli(runner: CliRunner) -> None:
    result = cli(runner, fx("allow.yaml"))
    assert result.exit_code == 1
    assert [line.split(" ", 2)[1] for line in lines(result)[:-1]] == ["error[fractional-size]"]
    assert lines(result)[0].startswith("tests/data/lint/allow.yaml:5:5: error[fractional-size] reported: ")
    assert lines(result)[-1] == "1 error, 0 warnings in 1 file"


def test_allow_in_run(runner: CliRunner) -> None:
    result = runner.invoke(main, ["run", "--format", "json", fx("allow.yaml")])
    assert result.exit_code == 1
    diags = json.loads(result.stdout)["diagnostics"]
    assert [(d["code"], d["layer_name"]) for d in diags] == [("fractional-size", "reported")]
    table = runner.invoke(main, ["run", fx("allow.yaml")])
    assert "reported: (7 - 2)/2 + 1 = 3.5" in table.stdout
    assert "kept: (15 - 2)/2" not in table.stdout
    off = runner.invoke(main, ["run", "--format", "json", fx("allow-off.yaml")])
    assert [d["layer_name"] for d in json.loads(off.stdout)["diagnostics"]] == ["kept", "reported"]


def test_allow_unknown_code_is_invalid(runner: CliRunner) -> None:
    hint = "unknown rule code 'fractional-sise' in 'allow'; did you mean 'fractional-size'?"
    result = cli(runner, fx("allow-unknown.yaml"))
    assert result.exit_code == 2
    assert lines(result)[0].startswith(
        f"tests/data/lint/allow-unknown.yaml:3:69: error[spec-invalid] layer 1 (kept): {hint}"
    )
    run = runner.invoke(main, ["run", fx("allow-unknown.yaml")])
    assert run.exit_code == 2
    assert hint in run.stderr
    assert run.stdout == ""


# 3. Summary line


def test_summary_known_mix(runner: CliRunner) -> None:
    paths = [fx("fractional-error.yaml"), fx("groups.yaml"), fx("layout-note.yaml")]
    result = cli(runner, *paths)
    assert lines(result)[-1] == "2 errors, 1 warning, 1 note in 3 files"
    assert len(lines(result)) == 5
    assert result.exit_code == 1
    assert summary(run_lint(paths)) == "2 errors, 1 warning, 1 note in 3 files"


def test_summary_clean(runner: CliRunner) -> None:
    result = cli(runner, fx("expect-top-fixed.yaml"))
    assert (result.exit_code, result.stdout) == (0, "0 errors, 0 warnings in 1 file\n")


def test_summary_plurals() -> None:
    report = run_lint([fx("allow-off.yaml"), fx("bad-yaml.yaml"), fx("unknown-key.yaml")])
    assert summary(report) == "2 errors, 0 warnings, 2 invalid specs in 3 files"
    assert summary(Report(files=0, findings=(), invalid=())) == "0 errors, 0 warnings in 0 files"


# 4. Exit codes


def test_exit_clean_and_error(runner: CliRunner) -> None:
    assert cli(runner, fx("groups-fixed.yaml")).exit_code == 0
    assert cli(runner, fx("groups.yaml")).exit_code == 1


def test_exit_unreadable(runner: CliRunner) -> None:
    result = cli(runner, fx("missing.yaml"))
    assert result.exit_code == 2
    assert lines(result) == [
        "tests/data/lint/missing.yaml:1:1: error[spec-invalid] no such file",
        "0 errors, 0 warnings, 1 invalid spec in 1 file",
    ]


def test_exit_mix_lints_every_file(runner: CliRunner) -> None:
    paths = [
        fx("expect-top-fixed.yaml"),
        fx("fractional-error.yaml"),
        fx("bad-yaml.yaml"),
        fx("missing.yaml"),
        fx("stride-skips.yaml"),
    ]
    result = cli(runner, *paths)
    assert result.exit_code == 2
    out = lines(result)
    starts = [
        "tests/data/lint/bad-yaml.yaml:4:1: error[spec-invalid] ",
        "tests/data/lint/missing.yaml:1:1: error[spec-invalid] no such file",
        "tests/data/lint/fractional-error.yaml:5:5: error[fractional-size] ",
        "tests/data/lint/stride-skips.yaml:3:61: warning[stride-skips-input] ",
    ]
    assert len(out) == len(starts) + 1
    for start in starts:
        assert any(line.startswith(start) for line in out), start
    assert out[-1] == "1 error, 1 warning, 2 invalid specs in 5 files"
    assert cli(runner, "--strict", *paths).exit_code == 2


def test_exit_warnings_only(runner: CliRunner) -> None:
    paths = [fx("stride-skips.yaml"), fx("layout.yaml"), fx("fractional-info.yaml")]
    assert cli(runner, *paths).exit_code == 0
    assert cli(runner, "--strict", *paths).exit_code == 1


def test_exit_info_never_fails() -> None:
    report = run_lint([fx("fractional-info.yaml"), fx("layout-fixed.yaml")])
    assert [f.severity for f in report.findings] == [Severity.INFO]
    assert report.exit_code(strict=False) == report.exit_code(strict=True) == 0


# 5. Paths: directories, stdin, the shipped specs


def test_directory_recurses_sorted(tmp_path: Path, runner: CliRunner) -> None:
    groups = (ROOT / DATA / "groups.yaml").read_text()
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.yml").write_text((ROOT / DATA / "stride-skips.yaml").read_text())
    (tmp_path / "a.yaml").write_text((ROOT / DATA / "fractional-info.yaml").read_text())
    (tmp_path / "sub" / "c.yaml").write_text(groups)
    (tmp_path / "notes.txt").write_text("not: [a spec\n")
    (tmp_path / "sub" / "data.json").write_text("{")
    (tmp_path / "README.md").write_text("# x\n")
    expected = [str(tmp_path / "a.yaml"), str(tmp_path / "b.yml"), str(tmp_path / "sub" / "c.yaml")]
    assert list(spec_files([str(tmp_path)])) == expected
    result = cli(runner, str(tmp_path))
    out = lines(result)
    assert [LINE.match(line).group("file") for line in out[:-1]] == expected  # type: ignore[union-attr]
    assert out[-1] == "1 error, 1 warning, 1 note in 3 files"
    assert result.exit_code == 1


def test_stdin(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / DATA / "fractional-error.yaml").read_text()
    result = cli(runner, "-", stdin=text)
    assert result.exit_code == 1
    assert lines(result)[0].startswith("<stdin>:5:5: error[fractional-size] down: ")
    assert lines(result)[-1] == "1 error, 0 warnings in 1 file"
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    report = run_lint(["-"])
    assert [(f.file, f.line, f.column) for f in report.findings] == [("<stdin>", 5, 5)]


def test_stdin_invalid(runner: CliRunner) -> None:
    result = cli(runner, "-", stdin="input: 32x32x3\nlayers: []\nbogus: 1\n")
    assert result.exit_code == 2
    m = LINE.match(lines(result)[0])
    assert m, lines(result)[0]
    assert m.group("file", "line", "severity", "code") == ("<stdin>", "3", "error", SPEC_INVALID)
    assert m.group("message").startswith("unknown top-level key 'bogus'")


def test_shipped_specs_lint_clean(runner: CliRunner) -> None:
    result = cli(runner, "--strict", "specs")
    assert result.exit_code == 0, result.stdout
    assert lines(result)[-1].startswith("0 errors, 0 warnings")
    assert lines(result)[-1].endswith(f" in {len(SHIPPED)} files")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT / "specs").as_posix())
def test_shipped_spec_carries_expect(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    expect = data.get("expect")
    assert isinstance(expect, dict)
    assert {"output", "params"} <= expect.keys()
    report = run_lint([str(path)])
    assert report.invalid == ()
    assert all(f.severity is Severity.INFO for f in report.findings)


# 6. --select / --ignore


def test_select_and_ignore(runner: CliRunner) -> None:
    paths = [fx("fractional-error.yaml"), fx("stride-skips.yaml"), fx("groups.yaml")]
    codes = {f.code.value for f in run_lint(paths, select={"stride-skips-input"}).findings}
    assert codes == {"stride-skips-input"}
    codes = {f.code.value for f in run_lint(paths, ignore={"fractional-size", "groups-mismatch"}).findings}
    assert codes == {"stride-skips-input"}
    selected = cli(runner, "--select", "stride-skips-input", *paths)
    assert selected.exit_code == 0
    assert lines(selected)[-1] == "0 errors, 1 warning in 3 files"
    assert cli(runner, "--select", "stride-skips-input", "--strict", *paths).exit_code == 1
    two = cli(runner, "--select", "fractional-size, groups-mismatch", *paths)
    assert [LINE.match(line).group("code") for line in lines(two)[:-1]] == [  # type: ignore[union-attr]
        "fractional-size",
        "groups-mismatch",
    ]
    ignored = cli(runner, "--ignore", "fractional-size,groups-mismatch", *paths)
    assert (ignored.exit_code, lines(ignored)[-1]) == (0, "0 errors, 1 warning in 3 files")


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_code_is_usage_error(runner: CliRunner, option: str) -> None:
    result = cli(runner, option, "fractional-size,fractional-sise", fx("groups.yaml"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("convcalc lint: error: Invalid value for")
    assert result.stderr.count("\n") == 1  # one line, not click's usage block
    assert "unknown rule code fractional-sise" in result.stderr


# 7. Formats


def lint_json(runner: CliRunner, *paths: str) -> dict[str, Any]:
    result = cli(runner, "--format", "json", *paths)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_json_format(runner: CliRunner) -> None:
    paths = [
        fx("fractional-error.yaml"),
        fx("layout-note.yaml"),
        fx("bad-yaml.yaml"),
        fx("groups-fixed.yaml"),
    ]
    result = cli(runner, "--format", "json", *paths)
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert set(data) == {"version", "findings", "invalid", "summary"}
    assert data["version"] == 1
    assert all(set(f) == FINDING_KEYS for f in data["findings"])
    assert [(f["file"], f["line"], f["column"], f["severity"], f["code"]) for f in data["findings"]] == [
        (fx("fractional-error.yaml"), 5, 5, "error", "fractional-size"),
        (fx("layout-note.yaml"), 2, 8, "warning", "suspicious-layout"),
        (fx("layout-note.yaml"), 4, 5, "info", "fractional-size"),
    ]
    first = data["findings"][0]
    assert (first["layer"], first["layer_name"]) == (2, "down")
    assert first["fixes"] == [
        "stride 1 -> 222x222",
        "input 223x223x3 -> 111x111",
        "input 225x225x3 -> 112x112",
    ]
    assert data["findings"][1]["layer"] is None
    [invalid] = data["invalid"]
    assert (invalid["file"], invalid["line"], invalid["column"]) == (fx("bad-yaml.yaml"), 4, 1)
    assert (invalid["severity"], invalid["code"]) == ("error", SPEC_INVALID)
    assert invalid["message"].startswith("invalid YAML: ")
    assert data["summary"] == {"files": 4, "errors": 1, "warnings": 1, "notes": 1, "invalid": 1}


@pytest.mark.parametrize(
    "name", ["fractional-error", "layout-note", "expect-layer", "expect-top", "allow", "non-positive"]
)
def test_json_findings_match_run_diagnostics(runner: CliRunner, name: str) -> None:
    run = runner.invoke(main, ["run", "--format", "json", fx(f"{name}.yaml")])
    diagnostics = json.loads(run.stdout)["diagnostics"]
    assert diagnostics
    assert lint_json(runner, fx(f"{name}.yaml"))["findings"] == diagnostics


def test_github_format(runner: CliRunner) -> None:
    paths = [fx("groups.yaml"), fx("stride-skips.yaml"), fx("fractional-info.yaml"), fx("bad-yaml.yaml")]
    result = cli(runner, "--format", "github", *paths)
    assert result.exit_code == 2
    out = lines(result)
    assert out[:3] == [
        "::error file=tests/data/lint/groups.yaml,line=3,col=70,title=groups-mismatch::grouped: groups 2 "
        "must divide both the input channels (3) and the filters (4); PyTorch refuses it; fix: groups 1",
        "::warning file=tests/data/lint/stride-skips.yaml,line=3,col=61,title=stride-skips-input::sparse: "
        "windows of size 2 at stride 3 never read 1 of every 3 input rows and columns; fix: stride 2",
        "::notice file=tests/data/lint/fractional-info.yaml,line=4,col=5,title=fractional-size::down: "
        "(224 - 3 + 2x1)/2 + 1 = 112.5 is not a whole number; PyTorch floors it to 112x112, but no input "
        "is lost: only padding goes unused past the last window; fix: pad [[1, 0]] -> 112x112 (in PyTorch: "
        "nn.ZeroPad2d((1, 0, 1, 0)), then padding 0)",
    ]
    assert out[3].startswith(
        "::error file=tests/data/lint/bad-yaml.yaml,line=4,col=1,title=spec-invalid::invalid YAML: "
    )
    assert out[4:] == ["1 error, 1 warning, 1 note, 1 invalid spec in 4 files"]


def test_github_escapes_properties(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a,b:c.yaml").write_text((ROOT / DATA / "groups.yaml").read_text())
    (tmp_path / "100%.yaml").write_text("input: 8x8x1\nlayers: []\n'x%y,z': 1\n")
    monkeypatch.chdir(tmp_path)
    result = cli(runner, "--format", "github", "a,b:c.yaml", "100%.yaml")
    out = lines(result)
    assert out[0].startswith("::error file=a%2Cb%3Ac.yaml,line=3,col=70,title=groups-mismatch::grouped: ")
    assert out[0].endswith("; fix: groups 1")
    assert re.fullmatch(
        r"::error file=100%25\.yaml,line=3,col=\d+,title=spec-invalid::unknown top-level key 'x%25y,z'.*",
        out[1],
    ), out[1]


SARIF_SUBSET: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "$schema", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "pattern": "sarif-2\\.1\\.0"},
        "runs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/run"}},
    },
    "$defs": {
        "message": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1}},
        },
        "rule": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "shortDescription": {"$ref": "#/$defs/message"},
            },
        },
        "region": {
            "type": "object",
            "required": ["startLine", "startColumn"],
            "properties": {
                "startLine": {"type": "integer", "minimum": 1},
                "startColumn": {"type": "integer", "minimum": 1},
            },
        },
        "location": {
            "type": "object",
            "required": ["physicalLocation"],
            "properties": {
                "physicalLocation": {
                    "type": "object",
                    "required": ["artifactLocation", "region"],
                    "properties": {
                        "artifactLocation": {
                            "type": "object",
                            "required": ["uri"],
                            "properties": {"uri": {"type": "string", "minLength": 1}},
                        },
                        "region": {"$ref": "#/$defs/region"},
                    },
                }
            },
        },
        "result": {
            "type": "object",
            "required": ["ruleId", "level", "message", "locations"],
            "properties": {
                "ruleId": {"type": "string"},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": {"$ref": "#/$defs/message"},
                "locations": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/location"}},
            },
        },
        "run": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {
                    "type": "object",
                    "required": ["driver"],
                    "properties": {
                        "driver": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "version": {"type": "string"},
                                "rules": {
                                    "type": "array",
                                    "items": {"$ref": "#/$defs/rule"},
                                    "uniqueItems": True,
                                },
                            },
                        }
                    },
                },
                "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
            },
        },
    },
}
"""The part of SARIF 2.1.0 that code-scanning tools read, written from the published schema."""

URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})+")
"""RFC 3986's characters of a URI reference; anything else must be percent-encoded."""


def sarif_of(runner: CliRunner, *paths: str) -> dict[str, Any]:
    result = cli(runner, "--format", "sarif", *paths)
    log: dict[str, Any] = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(SARIF_SUBSET)
    jsonschema.validate(log, SARIF_SUBSET, cls=jsonschema.Draft202012Validator)
    sarif_schema.validator().validate(log)
    return log


def test_sarif_format(runner: CliRunner) -> None:
    paths = [
        fx("fractional-error.yaml"),
        fx("layout-note.yaml"),
        fx("unknown-key.yaml"),
        fx("expect-top.yaml"),
        fx("window.yaml"),
    ]
    log = sarif_of(runner, *paths)
    assert log["version"] == "2.1.0"
    assert "sarif-2.1.0" in log["$schema"]
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "convcalc"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert set(RULES) <= set(rule_ids)
    results = run["results"]
    assert all(r["ruleId"] in rule_ids for r in results)
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for r in results for loc in r["locations"]]
    assert all(URI_REFERENCE.fullmatch(uri) for uri in uris)
    got = [
        (
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        for r in results
    ]
    assert got == [
        ("fractional-size", "error", fx("fractional-error.yaml"), 5, 5),
        ("suspicious-layout", "warning", fx("layout-note.yaml"), 2, 8),
        ("fractional-size", "note", fx("layout-note.yaml"), 4, 5),
        (SPEC_INVALID, "error", fx("unknown-key.yaml"), 3, 46),
        ("expect-mismatch", "error", fx("expect-top.yaml"), 2, 35),
        ("window-exceeds-input", "error", fx("window.yaml"), 3, 49),
    ]
    fix = "; fix: stride 1 -> 222x222 or input 223x223x3 -> 111x111 or input 225x225x3 -> 112x112"
    assert results[0]["message"]["text"].endswith(fix)
    assert results[4]["message"]["text"] == "the network: expected params 457 but it is 456"


def test_sarif_clean_has_no_results(runner: CliRunner) -> None:
    log = sarif_of(runner, fx("groups-fixed.yaml"))
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"]


@pytest.mark.parametrize("where", ["space", "stdin"])
def test_sarif_uri_is_a_uri_reference(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    text = (ROOT / DATA / "groups.yaml").read_text()
    if where == "space":
        (tmp_path / "my spec.yaml").write_text(text)
        monkeypatch.chdir(tmp_path)
        result = cli(runner, "--format", "sarif", "my spec.yaml")
    else:
        result = cli(runner, "--format", "sarif", "-", stdin=text)
    log = json.loads(result.stdout)
    jsonschema.validate(log, SARIF_SUBSET, cls=jsonschema.Draft202012Validator)
    sarif_schema.validator().validate(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert URI_REFERENCE.fullmatch(uri), uri


def test_text_in_file_order(runner: CliRunner) -> None:
    paths = [fx("groups.yaml"), fx("bad-yaml.yaml"), fx("stride-skips.yaml")]
    text = [LINE.match(line).group("file") for line in lines(cli(runner, *paths))[:-1]]  # type: ignore[union-attr]
    github = [
        re.match(r"::\w+ file=([^,]+),", line).group(1)  # type: ignore[union-attr]
        for line in lines(cli(runner, "--format", "github", *paths))[:-1]
    ]
    assert github == paths
    assert text == paths


def test_formats_agree_on_exit_codes(runner: CliRunner) -> None:
    for fmt in ("text", "json", "github", "sarif"):
        assert cli(runner, "--format", fmt, fx("stride-skips.yaml")).exit_code == 0
        assert cli(runner, "--format", fmt, "--strict", fx("stride-skips.yaml")).exit_code == 1
        assert cli(runner, "--format", fmt, fx("groups.yaml")).exit_code == 1
        assert cli(runner, "--format", fmt, fx("bad-yaml.yaml")).exit_code == 2
