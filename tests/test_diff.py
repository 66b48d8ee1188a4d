"""`convcalc diff`: exact changes on shipped specs, reports as sides, thresholds, every output format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.__main__ import main
from convcalc.diff import (
    TOTALS,
    Status,
    as_json,
    as_markdown,
    crossed,
    diff,
    from_json,
    side,
    threshold,
)

ROOT = Path(__file__).resolve().parent.parent
TV = ROOT / "specs" / "torchvision"
RECORDED = json.loads((ROOT / "tests/data/torchvision/totals.json").read_text())["totals"]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def sides(old: object, new: object, **options: Any) -> Any:
    """The diff of two specs (paths, text or dicts) as convcalc.analyze reads them."""
    return diff(side(convcalc.analyze(old, **options)), side(convcalc.analyze(new, **options)))


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, ["diff", *args], env={"NO_COLOR": "1"})


# --- exact numbers on shipped specs ------------------------------------------------------------


def test_resnet18_to_resnet34_totals_are_the_recorded_difference() -> None:
    d = sides(TV / "resnet18.yaml", TV / "resnet34.yaml")
    totals = {t.metric: t for t in d.totals}
    for metric in ("params", "macs"):
        recorded = RECORDED["resnet34"][metric] - RECORDED["resnet18"][metric]
        assert totals[metric].change == recorded
    assert totals["params"].change == 10_108_160
    assert totals["macs"].change == 1_849_688_064
    # ResNet-34 has 3, 4, 6, 3 basic blocks where ResNet-18 has 2 of each: 1 + 2 + 4 + 1 more, 7 layers each.
    assert d.count(Status.ADDED) == 8 * 7
    assert d.count(Status.REMOVED) == 0
    added = [c.name for c in d.layers if c.status is Status.ADDED]
    assert added[:7] == [f"layer1.2.{n}" for n in ("conv1", "bn1", "relu", "conv2", "bn2", "add", "relu2")]
    changed = {c.name: c for c in d.layers if c.status is Status.CHANGED}
    # The blocks after an added one only see further: their receptive fields grow, nothing else.
    assert {f for c in changed.values() for f in c.fields} == {"receptive_field"}
    assert changed["layer4.1.relu2"].old.receptive_field == (435, 435)  # type: ignore[union-attr]
    assert changed["layer4.1.relu2"].new.receptive_field == (771, 771)  # type: ignore[union-attr]
    assert "fc" not in changed  # an fc sees everything on both sides
    assert d.unchanged == len(side(convcalc.analyze(TV / "resnet18.yaml")).layers) - len(changed)


def test_vgg16_with_one_conv_changed() -> None:
    """conv1_1 with 32 filters instead of 64: it and conv1_2 (its reader) change, nothing else."""
    text = (ROOT / "specs/vgg16.yaml").read_text()
    narrow = text.replace("name: conv1_1, filters: 64", "name: conv1_1, filters: 32", 1)
    assert narrow != text
    d = sides(ROOT / "specs/vgg16.yaml", narrow)
    assert [(c.name, c.status, c.fields) for c in d.layers] == [
        ("conv1_1", Status.CHANGED, ("output_shape", "params", "macs")),
        ("conv1_2", Status.CHANGED, ("params", "macs")),
    ]
    conv1_1, conv1_2 = d.layers
    assert conv1_1.old.output_shape == (224, 224, 64)  # type: ignore[union-attr]
    assert conv1_1.new.output_shape == (224, 224, 32)  # type: ignore[union-attr]
    assert (conv1_1.old.params, conv1_1.new.params) == (1_792, 896)  # type: ignore[union-attr]
    assert (conv1_2.old.params, conv1_2.new.params) == (36_928, 18_496)  # type: ignore[union-attr]
    assert (conv1_2.old.macs, conv1_2.new.macs) == (1_849_688_064, 924_844_032)  # type: ignore[union-attr]
    assert d.unchanged == 19
    totals = {t.metric: t for t in d.totals}
    assert totals["params"].change == (896 - 1_792) + (18_496 - 36_928)
    assert totals["macs"].change == -(86_704_128 // 2) - 924_844_032
    assert totals["activations"].change == -224 * 224 * 32
    assert totals["activation_memory"].change == -224 * 224 * 32 * 4


def test_a_spec_and_its_own_report_diff_to_nothing(tmp_path: Path) -> None:
    for args in ((), ("--batch", "8", "--dtype", "float16", "--optimizer", "sgd"), ("--no-in-place",)):
        report = tmp_path / "resnet50.json"
        spec = "specs/torchvision/resnet50.yaml"
        saved = CliRunner().invoke(main, ["run", spec, "--format", "json", *args])
        report.write_text(saved.stdout)
        for pair in ((spec, str(report)), (str(report), spec)):
            result = invoke(*pair, "--format", "json", "--fail-on", "params>0", "--fail-on", "peak_memory>0")
            assert result.exit_code == 0, result.output
            data = json.loads(result.stdout)
            assert data["layers"] == []
            assert all(t["change"] == 0 for t in data["totals"])
            assert data["unchanged"] == 174
            # a spec takes the report's sizing, so the memory totals compare like with like
            assert data["old"]["sizing"] == data["new"]["sizing"]


# --- thresholds --------------------------------------------------------------------------------

R18, R34 = "specs/torchvision/resnet18.yaml", "specs/torchvision/resnet34.yaml"


@pytest.mark.parametrize(
    ("gates", "failed"),
    [
        (("params>+5%",), ["params changed by +10,108,160 (+86.5%), above --fail-on params>+5%"]),
        (("params>+90%",), []),
        (("params>+86.4%",), ["params changed by +10,108,160 (+86.5%), above --fail-on params>+86.4%"]),
        (("params>+86.5%",), []),  # 86.47%: not above
        (("macs>+1G",), ["macs changed by +1,849,688,064 (+102.0%), above --fail-on macs>+1G"]),
        (("macs>+2G",), []),
        (("peak_memory>0",), []),  # the same peak: 6.1 MiB at the stem
        (
            ("training_memory>+100MiB",),
            ["training_memory changed by +178.2 MiB (+79.3%), above --fail-on training_memory>+100MiB"],
        ),
        (("training_memory>+200MiB",), []),
        (("params<-1%",), []),
        (("activations>+3136000",), []),  # exactly the change: not above
        (
            ("activations>+3135999",),
            ["activations changed by +3,136,000 (+51.6%), above --fail-on activations>+3135999"],
        ),
        (("params>0", "macs<0"), ["params changed by +10,108,160 (+86.5%), above --fail-on params>0"]),
    ],
)
def test_fail_on(gates: tuple[str, ...], failed: list[str]) -> None:
    result = invoke(R18, R34, *(a for g in gates for a in ("--fail-on", g)))
    assert result.exit_code == (1 if failed else 0)
    assert result.stderr.splitlines() == [f"convcalc diff: {line}" for line in failed]


def test_decrease_gate_the_other_way() -> None:
    result = invoke(R34, R18, "--fail-on", "params<-10%", "--fail-on", "macs<-60%")
    assert result.exit_code == 1
    assert result.stderr == (
        "convcalc diff: params changed by -10,108,160 (-46.4%), below --fail-on params<-10%\n"
    )


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("parms>+5%", "'parms>+5%': unknown metric 'parms'; did you mean 'params'?"),
        ("params+5%", "'params+5%' is not METRIC>CHANGE or METRIC<CHANGE, such as 'params>+5%'"),
        ("params>", "is not METRIC>CHANGE"),
        ("peak_memory>+16M", "'peak_memory>+16M': peak_memory must be bytes like 200MiB"),
        ("params>+1MiB", "(params is a count: K, M, G, T)"),
        ("params>+1.2345K", "is not a whole number"),
        ("", "is not METRIC>CHANGE"),
    ],
)
def test_bad_threshold_is_one_line(gate: str, message: str) -> None:
    result = invoke(R18, R34, "--fail-on", gate)
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("convcalc diff: error: Invalid value for '--fail-on': ")
    assert message in line
    with pytest.raises(ValueError, match=r"METRIC|metric|must|count|whole"):
        threshold(gate)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("specs/nope.yaml", R18), "specs/nope.yaml: error: no such file"),
        (
            ("tests/data/invalid/typo.yaml", R18),
            "tests/data/invalid/typo.yaml:4:67: error: layer 1: unknown key",
        ),
    ],
)
def test_bad_side_is_one_line(args: tuple[str, str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(message)


def test_bad_reports_are_one_line(tmp_path: Path) -> None:
    several = tmp_path / "several.json"
    several.write_text(CliRunner().invoke(main, ["run", R18, R34, "--format", "json"]).stdout)
    result = invoke(str(several), R18)
    assert result.exit_code == 2
    assert (
        result.stderr == f"{several}: error: holds 2 networks (a report of several specs): diff takes one\n"
    )
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"version": 2, "totals": {}, "layers": []}))
    result = invoke(str(broken), R18)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{broken}: error: the report lacks 'sizing'")
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"version": 1, "totals": {}, "layers": []}))
    assert (
        invoke(str(old), R18).stderr == f"{old}: error: not a convcalc run --format json report (version 2)\n"
    )


# --- output formats ----------------------------------------------------------------------------

SMALL = """name: {name}
input: 32x32x3
layers:
  - {{type: conv, name: conv1, filters: {filters}, size: 5, pad: 2}}
  - {{type: pool, size: 2}}
  - {{type: fc, name: {fc}, units: 10}}
"""


@pytest.fixture
def small(tmp_path: Path) -> tuple[str, str]:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(SMALL.format(name="small", filters=10, fc="fc"))
    new.write_text(SMALL.format(name="small | wider", filters=12, fc="head"))
    return str(old), str(new)


def test_markdown_exact(small: tuple[str, str]) -> None:
    result = invoke(*small, "--format", "markdown", "--fail-on", "params>+10%")
    assert result.exit_code == 1
    summary = (
        "**convcalc diff** small → small \\| wider: params +5,272 (+20.0%), MACs +158,720 (+20.0%); "
        "layers 1 added, 1 removed, 2 changed"
    )
    assert (
        result.stdout
        == summary
        + """

- :x: params changed by +5,272 (+20.0%), above --fail-on params>+10%

| total | old | new | change |
|---|---:|---:|---:|
| params | 26,370 | 31,642 | +5,272 (+20.0%) |
| macs | 793,600 | 952,320 | +158,720 (+20.0%) |
| activations | 15,882 | 18,442 | +2,560 (+16.1%) |
| activation_memory | 62.0 KiB | 72.0 KiB | +10.0 KiB (+16.1%) |
| peak_memory | 52.0 KiB | 60.0 KiB | +8.0 KiB (+15.4%) |
| training_memory | 536.1 KiB | 638.5 KiB | +102.4 KiB (+19.1%) |

<details><summary>layers: 1 added, 1 removed, 2 changed, 0 unchanged</summary>

| | layer | output | params | MACs | RF |
|---|---|---|---:|---:|---|
| ~ | conv1 | 32x32x10 → 32x32x12 | 760 → 912 | 768,000 → 921,600 | 5 |
| ~ | pool1 | 16x16x10 → 16x16x12 | 0 | 0 | 6 |
| + | head | 10 | 30,730 | 30,720 | all/varies |
| - | fc | 10 | 25,610 | 25,600 | all/varies |

</details>
"""
    )


def test_table_exact(small: tuple[str, str]) -> None:
    result = invoke(*small)
    assert result.exit_code == 0
    old, new = small
    assert (
        result.stdout
        == f"""\
small -> small | wider
  old  {old} (float32, batch 1, adam)
  new  {new} (float32, batch 1, adam)

  total                    old        new               change
  params                26,370     31,642      +5,272 (+20.0%)
  macs                 793,600    952,320    +158,720 (+20.0%)
  activations           15,882     18,442      +2,560 (+16.1%)
  activation_memory   62.0 KiB   72.0 KiB   +10.0 KiB (+16.1%)
  peak_memory         52.0 KiB   60.0 KiB    +8.0 KiB (+15.4%)
  training_memory    536.1 KiB  638.5 KiB  +102.4 KiB (+19.1%)

layers: 1 added, 1 removed, 2 changed, 0 unchanged
     name   output                    params                macs  rf
  ~  conv1  32x32x10 -> 32x32x12  760 -> 912  768,000 -> 921,600  5
  ~  pool1  16x16x10 -> 16x16x12           0                   0  6
  +  head   10                        30,730              30,720  all/varies
  -  fc     10                        25,610              25,600  all/varies
"""
    )


def test_markdown_without_layer_changes_has_no_details() -> None:
    text = as_markdown(sides("specs/cs231n.yaml", "specs/cs231n.yaml"))
    assert "<details>" not in text
    assert text.endswith("\nlayers: 0 added, 0 removed, 0 changed, 3 unchanged.\n")
    assert "| params | 26,370 | 26,370 | 0 |" in text


def test_markdown_quotes_names() -> None:
    """A name cannot break the table, open HTML, or inject a line into the comment."""
    spec = {"input": "8x8x1", "layers": [{"type": "conv", "name": "a|<b>\n`x`", "filters": 2, "size": 3}]}
    other = {"input": "8x8x1", "layers": [{"type": "conv", "name": "c", "filters": 2, "size": 3}]}
    text = as_markdown(sides(spec, other))
    assert "| - | a\\|\\<b>\\\\n\\`x\\` | 6x6x2 |" in text


def test_json_round_trips(small: tuple[str, str]) -> None:
    result = invoke(*small, "--format", "json", "--fail-on", "macs>+1K")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["failed"] == ["macs changed by +158,720 (+20.0%), above --fail-on macs>+1K"]
    d = sides(*small)
    assert from_json(data) == d
    assert json.loads(as_json(from_json(data), tuple(data["failed"]))) == data
    assert data["layers"][0] == {
        "name": "conv1",
        "status": "changed",
        "changed": ["output_shape", "params", "macs"],
        "old": {"output_shape": [32, 32, 10], "params": 760, "macs": 768000, "receptive_field": [5, 5]},
        "new": {"output_shape": [32, 32, 12], "params": 912, "macs": 921600, "receptive_field": [5, 5]},
    }
    assert data["totals"][0] == {
        "metric": "params",
        "old": 26370,
        "new": 31642,
        "change": 5272,
        "percent": 19.9924,
    }


# --- properties on random specs ------------------------------------------------------------------


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid chain: convs, pools, batch norms and activations that keep a pixel, then fcs."""
    layers: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["conv", "pool", "bn", "act"]))
        if kind == "conv":
            f = draw(st.integers(1, 3))
            layers.append({"type": "conv", "filters": draw(st.integers(1, 8)), "size": f, "pad": f // 2})
        else:
            layers.append({"type": "pool", "size": 2} if kind == "pool" else {"type": kind})
    layers += [{"type": "fc", "units": draw(st.integers(1, 20))} for _ in range(draw(st.integers(0, 2)))]
    size = draw(st.integers(1, 6)) * 2 ** sum(layer["type"] == "pool" for layer in layers)
    return {"input": [size, size, draw(st.integers(1, 3))], "layers": layers}


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(spec=specs())
def test_a_spec_against_itself_is_empty(spec: dict[str, Any]) -> None:
    d = sides(spec, spec)
    assert d.layers == ()
    assert all(t.change == 0 for t in d.totals)
    assert d.unchanged == len(spec["layers"])
    assert crossed(d, tuple(threshold(f"{m}>0") for m in TOTALS)) == ()


@FAST
@given(a=specs(), b=specs())
def test_totals_change_is_the_difference(a: dict[str, Any], b: dict[str, Any]) -> None:
    ra, rb = convcalc.analyze(a), convcalc.analyze(b)
    d = diff(side(ra), side(rb))
    for t in d.totals:
        key = TOTALS[t.metric]
        assert (t.old, t.new, t.change) == (
            ra["totals"][key],
            rb["totals"][key],
            rb["totals"][key] - ra["totals"][key],
        )
    names_a = {r["name"] for r in ra["layers"]}
    names_b = {r["name"] for r in rb["layers"]}
    assert {c.name for c in d.layers if c.status is Status.ADDED} == names_b - names_a
    assert {c.name for c in d.layers if c.status is Status.REMOVED} == names_a - names_b
    assert d.unchanged + d.count(Status.CHANGED) == len(names_a & names_b)
    assert from_json(json.loads(as_json(d))) == d


# --- the README's workflow ---------------------------------------------------------------------


def test_readme_workflow_runs_a_diff_that_parses() -> None:
    """The pull-request job: valid YAML, allowed to comment, and its diff command is one convcalc takes."""
    import re
    import shlex

    import yaml

    readme = (ROOT / "README.md").read_text()
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if "convcalc diff" in b]
    workflow = yaml.safe_load(block)
    assert workflow["permissions"]["pull-requests"] == "write"
    [job] = workflow["jobs"].values()
    [step] = [s for s in job["steps"] if "convcalc diff" in s.get("run", "")]
    assert set(step["env"]) == {"GH_TOKEN", "PR"}
    script = step["run"].replace("\\\n", " ")
    [command] = [line for line in script.splitlines() if "convcalc diff" in line]
    argv = shlex.split(
        command.split(" > diff.md")[0].replace('"$RUNNER_TEMP/base/$SPEC"', R18).replace('"$SPEC"', R34)
    )
    assert argv[:2] == ["convcalc", "diff"]
    result = invoke(*argv[2:])
    assert result.exit_code == 1  # ResNet-34 is far more than 5% larger
    assert result.stdout.startswith("**convcalc diff** resnet18 → resnet34: ")
    assert "gh pr comment" in script


def test_a_spec_takes_the_reports_sizing(tmp_path: Path) -> None:
    """AlexNet's peak is 1,376,512 bytes with act in place, 1,548,800 without: the spec side follows the
    report, so only the sides' own differences show."""
    spec = "specs/torchvision/alexnet.yaml"
    report = tmp_path / "alexnet.json"
    report.write_text(CliRunner().invoke(main, ["run", spec, "--format", "json", "--no-in-place"]).stdout)
    assert json.loads(report.read_text())["totals"]["peak_activation_bytes"] == 1_548_800
    assert (
        invoke(spec, str(report), "--fail-on", "peak_memory>0", "--fail-on", "peak_memory<0").exit_code == 0
    )
    own = tmp_path / "own.json"
    own.write_text(CliRunner().invoke(main, ["run", spec, "--format", "json"]).stdout)
    result = invoke(str(own), str(report), "--fail-on", "peak_memory>0")
    assert result.exit_code == 1
    assert (
        result.stderr
        == "convcalc diff: peak_memory changed by +168.2 KiB (+12.5%), above --fail-on peak_memory>0\n"
    )


def test_the_two_unets_differ_by_their_recorded_totals() -> None:
    """The original U-Net (valid convs with bias, cropped skips, 572) against the padded one (padded convs
    without bias and with batch norm, 256): the params and MACs changes are the differences of the totals
    tools/gen_unet.py recorded from PyTorch."""
    truth = json.loads((ROOT / "tests/data/unet_truth.json").read_text())["models"]
    d = sides(ROOT / "specs/unet.yaml", ROOT / "specs/unet_padded.yaml")
    totals = {t.metric: t for t in d.totals}
    assert totals["params"].change == truth["unet_padded"]["params"] - truth["unet"]["params"] == 7_040
    assert totals["macs"].change == truth["unet_padded"]["macs"] - truth["unet"]["macs"]
    gate = invoke("specs/unet.yaml", "specs/unet_padded.yaml", "--fail-on", "params>0")
    assert gate.exit_code == 1
