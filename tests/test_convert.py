"""Issue 14: `convcalc convert` writes a Caffe or Darknet file as an idiomatic YAML spec that gives the
same numbers, layer for layer, and never a half-written file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.loader import read
from convcalc.resolver import resolve

DATA = Path(__file__).resolve().parent / "data"
SOURCES = sorted([*DATA.glob("caffe/*.prototxt"), *DATA.glob("darknet/*.cfg")])


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_convert_round_trips(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    original, converted = resolve(read(source)), resolve(read(out))
    assert (converted.params, converted.non_trainable, converted.macs) == (
        original.params,
        original.non_trainable,
        original.macs,
    )
    assert [(r.layer.name, r.output.dims) for r in converted.layers] == [
        (r.layer.name, r.output.dims) for r in original.layers
    ]
    assert [f.code for f in converted.findings] == [f.code for f in original.findings]
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# Converted by convcalc from {source.name}")
    first = next(line for line in text.splitlines() if line.startswith("  - "))
    assert "from: input" not in first  # a chain needs no from:, the first layer reads the input
    assert f"# {source.name}:" in first


def test_convert_to_standard_output() -> None:
    result = CliRunner().invoke(main, ["convert", str(DATA / "caffe" / "lenet.prototxt")])
    assert result.exit_code == 0
    assert "  - {type: conv, name: conv1, filters: 20, size: 5}  # lenet.prototxt:" in result.stdout


def test_a_bad_source_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cfg"
    bad.write_text("[net]\nheight=8\nwidth=8\nchannels=3\n[convolutional]\nfilters=eight\n")
    out = tmp_path / "net.yaml"
    out.write_text("kept\n")
    result = CliRunner().invoke(main, ["convert", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:6:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.cfg", "net.yaml"]  # no temporary left


def test_convert_refuses_to_overwrite_its_source(tmp_path: Path) -> None:
    source = tmp_path / "lenet.prototxt"
    source.write_text((DATA / "caffe" / "lenet.prototxt").read_text())
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(source)])
    assert result.exit_code == 2
    assert "is the source itself" in result.stderr
    assert source.read_text() == (DATA / "caffe" / "lenet.prototxt").read_text()


def test_convert_output_errors_are_one_line(tmp_path: Path) -> None:
    """A folder or a missing folder as -o: one line naming it, exit 2, nothing written."""
    source = str(DATA / "caffe" / "lenet.prototxt")
    for out in (tmp_path, tmp_path / "missing" / "net.yaml"):
        result = CliRunner().invoke(main, ["convert", source, "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []
