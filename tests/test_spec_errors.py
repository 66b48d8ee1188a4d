"""Every invalid-spec path: one located line on stderr, exit 2, no traceback; SpecError from the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.__main__ import main

CONV = "{type: conv, filters: 1, size: 3}"


def layers(*lines: str) -> str:
    return "input: 32x32x3\nlayers:\n" + "".join(f"  - {line}\n" for line in lines)


# (YAML text, line, column, a fragment of the message)
CASES = [
    pytest.param("input: 32x32x3\nlayers: [\n", 3, 1, "invalid YAML", id="malformed-unclosed-list"),
    pytest.param(layers("{type: conv, size: 3"), 4, 1, "invalid YAML", id="malformed-unclosed-mapping"),
    pytest.param("input: 32x32x3\n\tlayers: []\n", 2, 1, "invalid YAML", id="malformed-tab"),
    pytest.param("input: 32x32x3\n  layers: []\n", 2, 9, "invalid YAML", id="malformed-indent"),
    pytest.param("", 1, 1, "the spec is empty", id="empty-file"),
    pytest.param("# only a comment\n", 1, 1, "the spec is empty", id="comment-only"),
    pytest.param("- 1\n- 2\n", 1, 1, "a spec must be a mapping", id="top-level-list"),
    pytest.param("hello\n", 1, 1, "a spec must be a mapping", id="top-level-scalar"),
    pytest.param(layers(CONV, "5"), 4, 5, "layer 2: expected a mapping", id="layer-scalar"),
    pytest.param(layers(CONV, "[1, 2]"), 4, 5, "layer 2: expected a mapping", id="layer-list"),
    pytest.param(
        "input: 32x32x3\nlayers:\n  - type: conv\n    filters: 1\n    size: 3\n  - null\n",
        6,
        5,
        "layer 2: expected a mapping",
        id="layer-null-block",
    ),
    pytest.param(layers("conv"), 3, 5, "layer 1: expected a mapping", id="first-layer-scalar"),
    pytest.param("input: 32x32x3\nlyers: []\n", 2, 8, "did you mean 'layers'", id="unknown-top-key"),
    pytest.param("input: 32x32x3\nlayers: []\nsize: 3\n", 3, 7, "unknown top-level key 'size'", id="top-key"),
    pytest.param(
        layers("{type: conv, filters: 1, size: 3, strde: 2}"),
        3,
        46,
        "unknown key 'strde' for a conv layer; did you mean 'stride'?",
        id="unknown-layer-key-flow",
    ),
    pytest.param(
        "input: 32x32x3\nlayers:\n  - type: conv\n    filters: 1\n    size: 3\n    strde: 2\n",
        6,
        12,
        "did you mean 'stride'?",
        id="unknown-layer-key-block",
    ),
    pytest.param(
        layers("{type: pool, size: 2, filters: 3}"),
        3,
        36,
        "unknown key 'filters' for a pool",
        id="key-of-other-kind",
    ),
    pytest.param(
        layers("{type: cnov, filters: 1, size: 3}"), 3, 12, "did you mean 'conv'?", id="unknown-type"
    ),
    pytest.param(layers("{type: dense, units: 3}"), 3, 12, "unknown type 'dense'", id="unknown-type-no-hint"),
    pytest.param(layers("{filters: 1, size: 3}"), 3, 5, "missing 'type'", id="missing-type"),
    pytest.param(
        layers("{type: conv, size: 3}"), 3, 5, "missing required key 'filters'", id="missing-filters"
    ),
    pytest.param(layers("{type: conv, filters: 2}"), 3, 5, "missing required key 'size'", id="missing-size"),
    pytest.param(
        layers("{type: pool, mode: max}"), 3, 5, "missing required key 'size'", id="missing-pool-size"
    ),
    pytest.param(layers("{type: fc}"), 3, 5, "missing required key 'units'", id="missing-units"),
    pytest.param("layers: []\n", 1, 1, "missing required top-level key 'input'", id="missing-input"),
    pytest.param("input: 32x32x3\n", 1, 1, "missing required top-level key 'layers'", id="missing-layers"),
    pytest.param(
        layers("{type: conv, filters: 1, size: 3, stride: 0}"), 3, 47, "'stride' must be", id="zero-stride"
    ),
    pytest.param(layers("{type: conv, filters: 1, size: 0}"), 3, 36, "'size' must be", id="zero-size"),
    pytest.param(
        layers("{type: conv, filters: 0, size: 3}"),
        3,
        27,
        "'filters' must be a positive integer",
        id="zero-filters",
    ),
    pytest.param(
        layers("{type: conv, filters: 1, size: 3, pad: -1}"),
        3,
        44,
        "'pad' must be a non-negative",
        id="negative-pad",
    ),
    pytest.param(layers("{type: conv, filters: -4, size: 3}"), 3, 27, "got -4", id="negative-filters"),
    pytest.param(layers("{type: conv, filters: 1, size: true}"), 3, 36, "got true", id="boolean-size"),
    pytest.param(
        layers("{type: conv, filters: true, size: 3}"), 3, 27, "'filters' must be", id="boolean-filters"
    ),
    pytest.param(layers("{type: conv, filters: 2.5, size: 3}"), 3, 27, "got 2.5", id="float-filters"),
    pytest.param(layers("{type: conv, filters: 1, size: 3.0}"), 3, 36, "'size' must be", id="float-size"),
    pytest.param(layers("{type: conv, filters: 1, size: abc}"), 3, 36, "got 'abc'", id="string-size"),
    pytest.param(
        layers("{type: conv, filters: '10', size: 3}"), 3, 27, "'filters' must be", id="string-filters"
    ),
    pytest.param(layers("{type: conv, filters: 1, size: 3x}"), 3, 36, "'size' must be", id="string-size-3x"),
    pytest.param(layers("{type: conv, filters: 1, size: []}"), 3, 36, "'size' must be", id="empty-size-list"),
    pytest.param(
        layers("{type: conv, filters: 1, size: [3, 0]}"), 3, 36, "'size' must be", id="zero-in-list"
    ),
    pytest.param(
        layers("{type: conv, filters: 1, size: 3, dilation: 0}"),
        3,
        49,
        "'dilation' must be",
        id="zero-dilation",
    ),
    pytest.param(
        layers("{type: conv, filters: 4, size: 3, groups: 0}"), 3, 47, "'groups' must be", id="zero-groups"
    ),
    pytest.param(layers("{type: fc, units: 0}"), 3, 23, "'units' must be", id="zero-units"),
    pytest.param(
        layers("{type: conv, filters: 1, size: 3, bias: 1}"),
        3,
        45,
        "'bias' must be true or false",
        id="bias-int",
    ),
    pytest.param(
        layers("{type: pool, size: 2, ceil: yes please}"),
        3,
        33,
        "'ceil' must be true or false",
        id="ceil-string",
    ),
    pytest.param(
        layers("{type: pool, mode: mean, size: 2}"), 3, 24, "'mode' must be max or avg", id="bad-mode"
    ),
    pytest.param(
        layers("{type: conv, name: '', filters: 1, size: 3}"), 3, 24, "'name' must be", id="empty-name"
    ),
    pytest.param(
        layers("{type: conv, name: 7, filters: 1, size: 3}"), 3, 24, "'name' must be", id="number-name"
    ),
    pytest.param("input: 0x32x3\nlayers: []\n", 1, 8, "'input' must be a shape", id="zero-input"),
    pytest.param("input: -32\nlayers: []\n", 1, 8, "'input' must be a shape", id="negative-input"),
    pytest.param("input: 32.5\nlayers: []\n", 1, 8, "'input' must be a shape", id="float-input"),
    pytest.param("input: [32, 32, true]\nlayers: []\n", 1, 8, "'input' must be a shape", id="boolean-input"),
    pytest.param("input: 32xax3\nlayers: []\n", 1, 8, "'input' must be a shape", id="string-input"),
    pytest.param(
        "input: 2x32x32x32x3\nlayers: []\n", 1, 8, "'input' has 5 numbers", id="too-many-input-dims"
    ),
    pytest.param(
        layers("{type: conv, filters: 1, size: [3, 3, 3]}"),
        3,
        36,
        "'size' has 3 values",
        id="size-list-too-long",
    ),
    pytest.param(
        layers("{type: conv, filters: 1, size: 3, stride: 1x2x2}"),
        3,
        47,
        "'stride' has 3 values",
        id="stride-string-too-long",
    ),
    pytest.param(
        layers(CONV, "{type: pool, size: 2, pad: [0, 0, 0]}"),
        4,
        32,
        "'pad' has 3 values",
        id="pool-pad-too-long",
    ),
    pytest.param(
        "input: 32x3\nlayers:\n  - {type: conv, filters: 1, size: [3, 3]}\n",
        3,
        36,
        "its input has 1 spatial",
        id="list-too-long-1d",
    ),
    pytest.param(
        "input: 32x32x3\nlayout: whc\nlayers: []\n", 2, 9, "'layout' must be hwc or chw", id="bad-layout"
    ),
    pytest.param(
        "input: 32x32x3\ninput: 3\nlayers: []\n", 2, 1, "duplicate key 'input'", id="duplicate-top-key"
    ),
    pytest.param(
        "input: 32x32x3\nlayers:\n  - type: conv\n    filters: 1\n    size: 3\n    size: 4\n",
        6,
        5,
        "duplicate key 'size' (first on line 5)",
        id="duplicate-layer-key",
    ),
    pytest.param(
        layers("{type: conv, filters: 1, size: 3, size: 5}"),
        3,
        39,
        "duplicate key 'size'",
        id="duplicate-flow-key",
    ),
    pytest.param(
        layers(CONV, "{type: conv, name: conv1, filters: 1, size: 3}"),
        4,
        24,
        "duplicate layer name 'conv1' (also layer 1)",
        id="duplicate-layer-name",
    ),
    pytest.param(
        layers("{type: conv, name: conv2, filters: 1, size: 3}", CONV),
        4,
        5,
        "duplicate layer name 'conv2'",
        id="duplicate-default-name",
    ),
    pytest.param(layers("{type: fc, units: 10}", CONV), 4, 5, "needs spatial input", id="conv-after-fc"),
    pytest.param(
        layers("{type: fc, units: 10}", "{type: pool, size: 2}"),
        4,
        5,
        "needs spatial input",
        id="pool-after-fc",
    ),
    pytest.param(
        "input: 10\nlayers:\n  - {type: pool, size: 2}\n", 3, 5, "flat vector of 10", id="pool-on-flat-input"
    ),
    pytest.param(
        "input: 32x32x3\nlayers: {type: conv}\n", 2, 9, "'layers' must be a list", id="layers-not-list"
    ),
    pytest.param(
        "name: 5\ninput: 32x32x3\nlayers: []\n", 1, 7, "'name' must be a string", id="top-name-number"
    ),
    pytest.param("input: 32x32x3\n1: 2\nlayers: []\n", 2, 1, "keys must be names", id="non-string-key"),
]


@pytest.mark.parametrize(("text", "line", "column", "fragment"), CASES)
def test_cli_reports_one_located_line(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    line: int,
    column: int,
    fragment: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["run", "net.yaml"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.endswith("\n")
    assert result.stderr.startswith(f"net.yaml:{line}:{column}: error: ")
    assert fragment in result.stderr
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize(("text", "line", "column", "fragment"), CASES)
def test_api_raises_located_spec_error(
    tmp_path: Path, text: str, line: int, column: int, fragment: str
) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze(path)
    e = info.value
    assert (e.file, e.line, e.column) == (str(path), line, column)
    assert fragment in e.message
    assert str(e) == f"{path}:{line}:{column}: error: {e.message}"
    assert "\n" not in str(e)
    assert isinstance(e, convcalc.ConvcalcError)


@pytest.mark.parametrize(("text", "line", "column", "fragment"), CASES)
def test_api_text_has_no_file(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze(text)
    e = info.value
    assert e.file is None
    assert (e.line, e.column) == (line, column)
    assert str(e).startswith(f"{line}:{column}: error: ")
    assert fragment in e.message


def test_missing_file_cli(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["run", "nope.yaml"])
    assert result.exit_code == 2
    assert result.stderr == "nope.yaml: error: no such file\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_missing_file_api(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    for spec in (path, str(path)):
        with pytest.raises(convcalc.SpecError) as info:
            convcalc.analyze(spec)
        assert (info.value.file, info.value.line, info.value.column) == (str(path), None, None)
        assert str(info.value) == f"{path}: error: no such file"


def test_not_utf8(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_bytes(b"input: 32x32x3\nname: \xff\xfe\nlayers: []\n")
    result = runner.invoke(main, ["run", "net.yaml"])
    assert result.exit_code == 2
    assert result.stderr.startswith("net.yaml: error: not UTF-8 text")
    assert result.stderr.count("\n") == 1


def test_several_invalid_files_one_line_each(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_text("", encoding="utf-8")
    Path("b.yaml").write_text(layers("{type: conv, filters: 1, size: 3, strde: 2}"), encoding="utf-8")
    result = runner.invoke(main, ["run", "a.yaml", "b.yaml"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("a.yaml:1:1: error: ")
    assert lines[1].startswith("b.yaml:3:46: error: ")
    assert "Traceback" not in result.output


def test_stdin_spec_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["run", "-"], input=layers("{type: cnov, filters: 1, size: 3}"))
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:3:12: error: ")


# Invalid dicts: the same checks without any location.
DICT_CASES = [
    pytest.param({"input": "32x32x3"}, "missing required top-level key 'layers'", id="missing-layers"),
    pytest.param(
        {"input": "32x32x3", "layers": [], "lyers": []}, "did you mean 'layers'", id="unknown-top-key"
    ),
    pytest.param(
        {"input": "32x32x3", "layers": [{"type": "conv", "filters": 1, "size": 3, "strde": 2}]},
        "did you mean 'stride'",
        id="strde",
    ),
    pytest.param({"input": "32x32x3", "layers": [5]}, "layer 1: expected a mapping", id="non-mapping-layer"),
    pytest.param(
        {"input": "32x32x3", "layers": [{"type": "cnov"}]}, "did you mean 'conv'", id="unknown-type"
    ),
    pytest.param(
        {"input": "32x32x3", "layers": [{"type": "conv", "filters": True, "size": 3}]},
        "'filters' must be a positive integer, got true",
        id="boolean-filters",
    ),
    pytest.param({"input": [32, 32, True], "layers": []}, "'input' must be a shape", id="boolean-input"),
    pytest.param({"input": (32, 32, 3.0), "layers": []}, "'input' must be a shape", id="float-input"),
    pytest.param(
        {"input": [32, 32, 3], "layers": [{"type": "conv", "filters": 1, "size": [3, 3, 3]}]},
        "'size' has 3 values",
        id="axes",
    ),
    pytest.param(
        {"input": 10, "layers": [{"type": "conv", "filters": 1, "size": 3}]},
        "needs spatial input",
        id="flat",
    ),
    pytest.param({"input": "32x32x3", "layout": "nhwc", "layers": []}, "'layout' must be", id="layout-nhwc"),
]


@pytest.mark.parametrize(("spec", "fragment"), DICT_CASES)
def test_api_dict_errors(spec: dict, fragment: str) -> None:
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze(spec)
    e = info.value
    assert (e.file, e.line, e.column) == (None, None, None)
    assert fragment in e.message
    assert str(e) == f"error: {e.message}"
