"""Issue 11, items 2, 5, 14 and 16: inputs of another rank, misread layouts, notes summed up,
run's rule options, the default filter count, and the order shapes are shown in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
VGG = str(ROOT / "specs" / "vgg16.yaml")


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"NO_COLOR": "1"})


def spec_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    return str(path)


# --- item 2: an input of another rank ------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "meant"),
    [("224x224", "224x224x3"), ("1x224x224x3", "224x224x3"), ("1x3x224x224", "224x224x3")],
)
def test_input_of_another_rank_is_refused(given: str, meant: str) -> None:
    result = cli("run", VGG, "--input", given)
    assert result.exit_code == 2
    assert result.output == (
        f"{VGG}:3:8: error: --input {given} has {len(given.split('x'))} numbers, but the spec's input "
        f"224x224x3 has 3 (2 spatial axes and channels); did you mean {meant}?\n"
    )


def test_api_refuses_another_rank_too() -> None:
    with pytest.raises(convcalc.SpecError, match="did you mean 224x224x3"):
        convcalc.analyze(VGG, input=(224, 224))


def test_mnist_as_students_write_it_is_warned_first() -> None:
    """28x28 reads as 28 positions of 28 channels (846 params); the warning comes before it."""
    result = cli("layer", "--in", "28x28", "--filter", "5", "-k", "6")
    assert result.exit_code == 0
    assert result.output.splitlines()[:3] == [
        "warning[suspicious-layout] input 28x28 is read as 1-D: 28 positions with 28 channels "
        "(layout hwc); for a 28x28 image with one channel write 28x28x1 (a 1-D signal of 28 channels "
        "is read as written)",
        "    fix: --in 28x28x1",
        "conv1: 28x28 -> 24x6",
    ]
    meant = cli("layer", "--in", "28x28x1", "--filter", "5", "-k", "6")
    assert "= 156" in meant.output
    assert "suspicious" not in meant.output


def test_spec_input_28x28_warns_before_the_table(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "input: 28x28\nlayers:\n  - {type: conv, filters: 6, size: 5}\n")
    result = cli("run", path)
    assert result.exit_code == 0
    # the title, then the warning, then the table
    assert result.output.startswith(
        f"{path}\n{path}:1:8: warning[suspicious-layout] input 28x28 is read as 1-D"
    )
    assert "    fix: input: 28x28x1\n" in result.output
    ok = cli("run", spec_file(tmp_path, "input: 8000x1\nlayers:\n  - {type: conv, filters: 6, size: 5}\n"))
    assert "suspicious" not in ok.output  # a 1-D signal written length first is read as written


def test_channels_first_audio_names_the_layout_not_pad_40(tmp_path: Path) -> None:
    """input: 1x8000 (PyTorch's (C, L)): the warning says layout chw; the error that PyTorch would
    raise stays (the network as written is refused), but points at the layout, not at pad 40."""
    path = spec_file(tmp_path, "input: 1x8000\nlayers:\n  - {type: conv, filters: 8, size: 80, stride: 4}\n")
    result = cli("run", path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:3] == [
        str(path),
        f"{path}:1:8: warning[suspicious-layout] input 1x8000 is read as 1 position with 8000 channels "
        "(layout hwc); if the 1 comes first as channels, add 'layout: chw'",
        "    fix: layout: chw",
    ]
    assert "pad 40" not in result.output
    assert lines[-1] == "    fix: layout: chw"
    fixed = cli("run", path, "--layout", "chw")
    assert fixed.exit_code == 0
    assert "suspicious" not in fixed.output


def test_chw_spec_written_hwc_is_warned(tmp_path: Path) -> None:
    """The mirror of 3x224x224 in hwc: 224x224x3 under layout chw."""
    path = spec_file(
        tmp_path, "input: 224x224x3\nlayout: chw\nlayers:\n  - {type: conv, filters: 8, size: 3}\n"
    )
    result = cli("run", path)
    assert (
        "input 224x224x3 is read as 224x3 with 224 channels (layout chw); if the 3 comes last"
        in result.output
    )
    assert "fix: layout: hwc" in result.output


# --- item 16: --layout and --shapes --------------------------------------------------------------


def test_input_layout_fix_names_the_flag() -> None:
    result = cli("run", VGG, "--input", "3x224x224", "--format", "json")
    (d,) = [d for d in json.loads(result.output)["diagnostics"] if d["code"] == "suspicious-layout"]
    assert d["fixes"] == ["--layout chw"]
    assert "give --layout chw" in d["message"]
    good = cli("run", VGG, "--input", "3x224x224", "--layout", "chw", "--format", "json")
    data = json.loads(good.output)
    assert data["diagnostics"] == []
    assert data["input_shape"] == [3, 224, 224]  # shown in the order it was given
    assert data["totals"]["params"] == 138_357_544


def test_shapes_option_orders_table_and_json() -> None:
    hwc = json.loads(cli("run", VGG, "--format", "json").output)
    chw = json.loads(cli("run", VGG, "--shapes", "chw", "--format", "json").output)
    assert hwc["layers"][0]["output_shape"] == [224, 224, 64]
    assert chw["layers"][0]["output_shape"] == [64, 224, 224]
    assert chw["output_shape"] == [1000]
    table = cli("run", VGG, "--shapes", "chw", "--columns", "name,input,output").output
    (row,) = [line.split() for line in table.splitlines() if "conv1_1" in line]
    assert row == ["conv1_1", "3x224x224", "64x224x224"]


# --- item 5: notes summed up, run's rule options ---------------------------------------------------

NOTES = """input: 224x224x3
layers:
  - {type: conv, name: conv1, filters: 8, size: 7, stride: 2, pad: 3}
  - {type: pool, name: pool1, size: 3, stride: 2, pad: 1}
  - {type: conv, name: conv2, filters: 8, size: 3, stride: 2, pad: 1}
  - {type: conv, name: conv3, filters: 8, size: 3, stride: 2, pad: 1}
  - {type: conv, name: conv4, filters: 8, size: 3, stride: 2, pad: 1}
  - {type: conv, name: skip, filters: 8, size: 2, stride: 3, pad: 2}
"""


def test_run_sums_notes_up_in_one_line(tmp_path: Path) -> None:
    path = spec_file(tmp_path, NOTES)
    result = cli("run", path)
    assert result.exit_code == 0
    tail = result.output.splitlines()[-3:]
    assert tail[0].startswith(f"{path}:8:")
    assert "warning[stride-skips-input] skip:" in tail[0]
    assert tail[-1] == (
        "5 notes: unused padding at stride 2 in conv1, pool1, conv2 and 2 more; show them with --notes"
    )
    assert "info[" not in result.output
    full = cli("run", path, "--notes")
    assert full.output.count("info[fractional-size]") == 5
    assert "show them with --notes" not in full.output
    data = json.loads(cli("run", path, "--format", "json").output)
    assert [d["severity"] for d in data["diagnostics"]].count("info") == 5


def test_run_select_ignore_strict(tmp_path: Path) -> None:
    path = spec_file(tmp_path, NOTES)
    assert cli("run", path, "--strict").exit_code == 1
    assert cli("run", path, "--strict", "--ignore", "stride-skips-input").exit_code == 0
    only = json.loads(cli("run", path, "--select", "stride-skips-input", "--format", "json").output)
    assert [d["code"] for d in only["diagnostics"]] == ["stride-skips-input"]
    bad = cli("run", path, "--select", "nonsense")
    assert bad.exit_code == 2
    assert "unknown rule code nonsense" in bad.output


# --- item 14: the default filter count -----------------------------------------------------------


def test_layer_says_it_assumed_one_filter() -> None:
    result = cli("layer", "--in", "32x32x1", "--filter", "3")
    assert result.output.splitlines()[0] == "conv1: 32x32x1 -> 30x30x1 (1 filter: give -k)"
    given = cli("layer", "--in", "32x32x1", "--filter", "3", "-k", "1")
    assert given.output.splitlines()[0] == "conv1: 32x32x1 -> 30x30x1"


def test_groups_without_filters_names_k() -> None:
    result = cli("layer", "--in", "8x8x4", "--filter", "3", "--groups", "2")
    assert result.exit_code == 2
    assert result.output == (
        "convcalc layer: error: --groups 2 needs -k/--filters, a multiple of 2 (without -k a conv has "
        "1 filter) (see 'convcalc layer --help')\n"
    )


def test_run_takes_check_mismatch_as_a_code() -> None:
    """lint refuses check-mismatch (it never runs --check); run, which can, takes it."""
    lenet = str(ROOT / "specs" / "lenet5.yaml")
    assert cli("run", lenet, "--check", "--ignore", "check-mismatch").exit_code == 0
    bad = cli("run", lenet, "--ignore", "nonsense,check-mismatch")
    assert bad.exit_code == 2
    assert "unknown rule code nonsense " in bad.output
