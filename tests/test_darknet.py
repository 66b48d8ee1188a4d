"""Issue 14, Darknet: the cfg reader (convcalc/readers/darknet.py) against PyTorch rebuilds of each
fixture (tools/gen_darknet_truth.py, tests/data/darknet_truth.json), its located errors, and a fuzz
test that a mangled cfg gives a Spec or a SpecError, nothing else."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc import check
from convcalc.errors import SpecError
from convcalc.model import CheckStatus, Code, Network, Severity
from convcalc.readers.darknet import parse
from convcalc.resolver import resolve

DATA = Path(__file__).resolve().parent / "data"
RECORDED = json.loads((DATA / "darknet_truth.json").read_text(encoding="utf-8"))
TRUTH = RECORDED["networks"]
NAMES = sorted(p.stem for p in (DATA / "darknet").glob("*.cfg"))


def text_of(name: str) -> str:
    return (DATA / "darknet" / f"{name}.cfg").read_text(encoding="utf-8")


@cache
def net_of(name: str) -> Network:
    return resolve(parse(text_of(name), file=f"{name}.cfg"))


def by_index(net: Network) -> dict[int, list[str]]:
    """The convcalc layers of each Darknet layer, by the index their names start with."""
    out: dict[int, list[str]] = {}
    for r in net.layers:
        out.setdefault(int(r.layer.name.split("_", 1)[0]), []).append(r.layer.name)
    return out


def test_truth_covers_the_fixtures() -> None:
    assert sorted(TRUTH) == NAMES
    assert NAMES == [
        "darknet19",
        "darknet53",
        "yolov2",
        "yolov2-tiny",
        "yolov3",
        "yolov3-tiny",
        "yolov4-tiny",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_totals_are_exact(name: str) -> None:
    net, truth = net_of(name), TRUTH[name]
    assert list(net.input.dims) == truth["input"]
    assert (net.params, net.non_trainable, net.macs) == (
        truth["params"],
        truth["non_trainable"],
        truth["macs"],
    )
    assert list(net.output.dims) == truth["layers"][-1]["out"]


def test_totals_are_the_published_ones() -> None:
    """Figures the ports print: Ultralytics' yolov3 summary (61,949,149 parameters) and YAD2K's Keras
    yolo.h5 for yolov2 (50,983,561 in total, 20,672 of them non-trainable running statistics)."""
    assert net_of("yolov3").params == 61_949_149
    yolov2 = net_of("yolov2")
    assert (yolov2.params + yolov2.non_trainable, yolov2.non_trainable) == (50_983_561, 20_672)


def test_reorg_is_space_to_depth_in_another_order() -> None:
    """The shapes agree with pixel_unshuffle; the order of the values does not, even within a channel."""
    assert RECORDED["reorg_vs_pixel_unshuffle"] == "elements"
    layers = {r.layer.name: r for r in net_of("yolov2").layers}
    assert (layers["27_reorg"].input.dims, layers["27_reorg"].output.dims) == ((26, 26, 64), (13, 13, 256))


@pytest.mark.parametrize("name", NAMES)
def test_every_darknet_layer_matches(name: str) -> None:
    """Each Darknet layer's output (its last convcalc layer), params and MACs (all its layers)."""
    net = net_of(name)
    resolved = {r.layer.name: r for r in net.layers}
    layers = by_index(net)
    assert sorted(layers) == [t["index"] for t in TRUTH[name]["layers"]]
    for t in TRUTH[name]["layers"]:
        rs = [resolved[n] for n in layers[t["index"]]]
        got = (list(rs[-1].output.dims), sum(r.params for r in rs), sum(r.macs for r in rs))
        assert got == (t["out"], t["params"], t["macs"]), rs[-1].layer.name


@pytest.mark.parametrize("name", NAMES)
def test_every_layer_stands_at_its_section(name: str) -> None:
    """Layer `i_...` is located at the line of the i-th section after [net]."""
    lines = [n for n, line in enumerate(text_of(name).splitlines(), start=1) if line.startswith("[")]
    for r in net_of(name).layers:
        index = int(r.layer.name.split("_", 1)[0])
        assert (r.layer.where.line, r.layer.where.column) == (lines[index + 1], 1), r.layer.name


@pytest.mark.parametrize("name", NAMES)
def test_no_warnings(name: str) -> None:
    """Only notes: the maxpools' uneven padding, the floors that lose only padding, and one kept-out
    note per head or cost section, at its line."""
    findings = net_of(name).findings
    assert all(f.severity is Severity.INFO for f in findings), [f.message for f in findings]
    assert {f.code for f in findings} <= {Code.NOT_IN_PYTORCH, Code.FRACTIONAL_SIZE, Code.KEPT_OUT}
    heads = [
        (n, line.strip("[]"))
        for n, line in enumerate(text_of(name).splitlines(), start=1)
        if line.strip("[]") in ("yolo", "region", "detection", "cost")
    ]
    kept = [
        (f.line, f.message.split("stands for Darknet [", 1)[1].split("]")[0])
        for f in findings
        if f.code is Code.KEPT_OUT
    ]
    assert kept == heads


@pytest.mark.parametrize("name", NAMES)
def test_check_runs_every_layer(name: str) -> None:
    net = check.checked(net_of(name))
    assert net.checks is not None
    assert {c.status for c in net.checks} == {CheckStatus.OK}
    assert not [f for f in net.findings if f.code is Code.CHECK_MISMATCH]


def test_names_follow_darknet_indices() -> None:
    names = [r.layer.name for r in net_of("yolov4-tiny").layers]
    assert names[:8] == ["0_conv", "0_bn", "0_leaky", "1_conv", "1_bn", "1_leaky", "2_conv", "2_bn"]
    assert names[9:11] == ["3_route", "4_conv"]
    assert "30_yolo" in names


def test_route_groups_take_the_second_half() -> None:
    """yolov4-tiny's `[route] layers=-1 groups=2 group_id=1`: the last 32 of 64 channels."""
    layers = {r.layer.name: r for r in net_of("yolov4-tiny").layers}
    assert layers["3_route"].output.dims == (104, 104, 32)
    assert layers["3_route"].layer.part == 1  # type: ignore[union-attr]
    assert layers["8_route"].output.dims == (104, 104, 128)


def test_maxpool_2_1_keeps_13x13() -> None:
    layers = {r.layer.name: r for r in net_of("yolov3-tiny").layers}
    assert layers["11_maxpool"].input.dims == (13, 13, 512)
    assert layers["11_maxpool"].output.dims == (13, 13, 512)


NET = "[net]\nwidth=32\nheight=32\nchannels=3\n"


def small(body: str) -> Network:
    return resolve(parse(NET + body, file="t.cfg"))


@pytest.mark.parametrize(
    ("body", "output", "params"),
    [
        ("[convolutional]\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=mish\n", (16, 16, 8), 8 * 27 + 8),
        ("[convolutional]\nfilters=8\nsize=5\npadding=1\nactivation=linear\n", (30, 30, 8), 8 * 75 + 8),
        ("[convolutional]\nfilters=8\nsize=1\nstride_x=2\nstride_y=1\nactivation=swish\n", (32, 16, 8), 32),
        ("[convolutional]\nfilters=3\ngroups=3\nsize=3\npad=1\nbatch_normalize=1\n", (32, 32, 3), 27 + 6),
        ("[maxpool]\nsize=3\nstride=2\n", (16, 16, 3), 0),
        ("[maxpool]\nsize=3\nstride=2\npadding=0\n", (15, 15, 3), 0),
        ("[avgpool]\n", (1, 1, 3), 0),
        ("[connected]\noutput=10\nactivation=relu\n", (10,), 3072 * 10 + 10),
        ("[connected]\noutput=10\nbatch_normalize=1\n", (10,), 3072 * 10 + 20),
        ("[reorg]\nstride=2\n", (16, 16, 12), 0),
        ("[upsample]\nstride=2\n", (64, 64, 3), 0),
        ("[deconvolutional]\nfilters=4\nsize=4\nstride=2\npadding=1\nactivation=relu\n", (64, 64, 4), 196),
        ("[dropout]\nprobability=.5\n[softmax]\ngroups=1\n", (32, 32, 3), 0),
        ("[conv]\nfilters=4\nsize=1\n[conv]\nfilters=2\nsize=1\n[route]\nlayers=-1,-2\n", (32, 32, 6), 26),
        ("[conv]\nfilters=4\nsize=1\n[route]\nlayers=0,0\ngroups=2\ngroup_id=0\n", (32, 32, 4), 16),
        (
            "[conv]\nfilters=3\nsize=1\n[conv]\nfilters=3\nsize=1\n[shortcut]\nfrom=-2\nactivation=leaky\n",
            (32, 32, 3),
            24,
        ),
        ("[conv]\nfilters=3\nsize=1\n[avgpool]\n[scale_channels]\nfrom=-2\n", (32, 32, 3), 12),
        ("[batchnorm]\n[activation]\nactivation=relu\n[empty]\n", (32, 32, 3), 6),
        ("[convolutional]\nfilters=2\nsize=3\npad=1\ndilation=2\nactivation=linear\n", (32, 32, 2), 56),
        ("[convolutional]\nfilters=2\nsize=3\nstride=2\npad=1\ndilation=3\n", (16, 16, 2), 56),
    ],
)
def test_sections(body: str, output: tuple[int, ...], params: int) -> None:
    net = small(body)
    assert (net.output.dims, net.params) == (output, params)
    assert {c.status for c in check.checked(net).checks or ()} == {CheckStatus.OK}


def error_of(body: str, *, net: str = NET) -> str:
    with pytest.raises(SpecError) as e:
        parse(net + body, file="bad.cfg")
    return str(e.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "[convolutional\nfilters=8\n",
            "bad.cfg:5:1: error: unclosed section header '[convolutional': expected ']'",
        ),
        (
            "[convolutional]\nfilters=8\nsize=3x3\n",
            "bad.cfg:7:6: error: layer 0 [convolutional]: 'size' must be an integer, got '3x3'",
        ),
        (
            "[convolutional]\nfilters=eight\n",
            "bad.cfg:6:9: error: layer 0 [convolutional]: 'filters' must be an integer, got 'eight'",
        ),
        (
            "[dropout]\nprobability=half\n",
            "bad.cfg:6:13: error: layer 0 [dropout]: 'probability' must be a number, got 'half'",
        ),
        (
            "[convolutinal]\nfilters=8\n",
            "bad.cfg:5:1: error: unknown section [convolutinal]; did you mean 'convolutional'?",
        ),
        ("[lstm]\noutput=8\n", "bad.cfg:5:1: error: [lstm] has no convcalc layer"),
        (
            "[convolutional]\nfilters=8\n[route]\nlayers=-2\n",
            "bad.cfg:8:8: error: "
            "layer 1 [route]: 'layers' -2 is layer -1, not one of the layers before it (0 to 0)",
        ),
        (
            "[convolutional]\nfilters=8\n[route]\nlayers=5\n",
            "bad.cfg:8:8: error: "
            "layer 1 [route]: 'layers' 5 is layer 5, not one of the layers before it (0 to 0)",
        ),
        (
            "[shortcut]\nfrom=-3\n",
            "bad.cfg:6:6: error: layer 0 [shortcut]: 'from' -3 is layer -3, "
            "not one of the layers before it (none: it is the first layer)",
        ),
        ("[route]\n", "bad.cfg:5:1: error: layer 0 [route]: missing 'layers'"),
        (
            "[convolutional]\nfilter=8\n",
            "bad.cfg:6:1: error: layer 0 [convolutional]: unknown key 'filter'; did you mean 'filters'?",
        ),
        (
            "[convolutional]\nfilters=8\nfilters=9\n",
            "bad.cfg:7:1: error: duplicate key 'filters' in [convolutional] (also line 6)",
        ),
        (
            "[convolutional]\nfilters=8\nactivation=leakey\n",
            "bad.cfg:7:12: error: "
            "layer 0 [convolutional]: activation 'leakey' has no convcalc equivalent; did you mean 'leaky'?",
        ),
        (
            "[convolutional]\nfilters=0\n",
            "bad.cfg:6:9: error: layer 1 (0_conv): 'filters' must be a positive integer, got 0",
        ),
        (
            "[convolutional]\nfilters=8\nsize\n",
            "bad.cfg:7:1: error: expected key=value or a [section], got 'size'",
        ),
        (
            "[convolutional]\nfilters=8\nantialiasing=1\n",
            "bad.cfg:7:14: error: layer 0 [convolutional]: 'antialiasing=1' has no convcalc equivalent",
        ),
        (
            "[convolutional]\nfilters=2\nsize=3\ndilation=2\n",
            "bad.cfg:8:10: error: layer 0 [convolutional]: dilation=2 with padding 0 and size 3: Darknet",
        ),
        ("[conv]\nfilters=2\n[net]\nwidth=3\n", "bad.cfg:7:1: error: layer 1 [net]: [net] comes once, first"),
        (
            "[upsample]\nstride=0\n",
            "bad.cfg:6:8: error: layer 0 [upsample]: 'stride' must be a positive integer, got 0",
        ),
        (
            "[conv]\nfilters=2\n[route]\nlayers=-1\ngroups=0\n",
            "bad.cfg:9:8: error: layer 1 [route]: 'groups' must be a positive integer, got 0",
        ),
        (
            "[conv]\nfilters=2\n[route]\nlayers=-1\ngroups=2\ngroup_id=2\n",
            "bad.cfg:10:10: error: layer 1 [route]: 'group_id' must be from 0 to groups - 1 (1), got 2",
        ),
        (
            "[route]\nlayers=a,b\n",
            "bad.cfg:6:8: error: layer 0 [route]: 'layers' must be layer indices like -1,61, got 'a,b'",
        ),
    ],
)
def test_errors_are_located(body: str, message: str) -> None:
    got = error_of(body)
    assert got.startswith(message)
    assert "\n" not in got


@pytest.mark.parametrize(
    ("net", "message"),
    [
        ("", "bad.cfg:1:1: error: no sections: a Darknet cfg starts with [net]"),
        ("width=3\n", "bad.cfg:1:1: error: 'width' comes before any [section]; the first must be [net]"),
        ("[convolutional]\n", "bad.cfg:1:1: error: the first section must be [net], not [convolutional]"),
        ("[net]\nwidth=32\nchannels=3\n", "bad.cfg:1:1: error: [net]: missing 'height'"),
        (
            "[net]\nwidth=32\nheight=32.5\nchannels=3\n",
            "bad.cfg:3:8: error: [net]: 'height' must be an integer, got '32.5'",
        ),
    ],
)
def test_net_errors_are_located(net: str, message: str) -> None:
    assert error_of("", net=net) == message


def test_a_layer_error_from_the_builder_names_the_darknet_line() -> None:
    """A shape that does not fit: the merge error points at the shortcut's section."""
    text = (
        NET + "[convolutional]\nfilters=8\nsize=1\n[convolutional]\nfilters=4\nsize=1\n[shortcut]\nfrom=-2\n"
    )
    net = resolve(parse(text, file="t.cfg"))
    errors = [f for f in net.findings if f.severity is Severity.ERROR]
    assert [(f.code, f.line, f.layer_name) for f in errors] == [(Code.MERGE_SHAPE_MISMATCH, 11, "2_shortcut")]


def test_weighted_shortcut_is_refused() -> None:
    got = error_of("[conv]\nfilters=3\n[shortcut]\nfrom=-2\nweights_type=per_channel\n")
    assert got == (
        "bad.cfg:9:14: error: layer 1 [shortcut]: a weighted shortcut (weights_type=per_channel) "
        "has no convcalc equivalent"
    )


_TEXTS = [text_of(n) for n in ("yolov4-tiny", "yolov3-tiny")]
_JUNK = st.text(alphabet="[]=#;,-+.0123456789 \nabcdefgilnoprstuvxyz_", max_size=12)


@st.composite
def mangled(draw: st.DrawFn) -> str:
    """A fixture with a few cuts, insertions, numbers changed, lines repeated or swapped."""
    text = draw(st.sampled_from(_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "insert", "truncate", "swap", "number", "repeat"]))
        i = draw(st.integers(0, len(text)))
        if op == "cut":
            text = text[:i] + text[i + draw(st.integers(1, 40)) :]
        elif op == "insert":
            text = text[:i] + draw(_JUNK) + text[i:]
        elif op == "truncate":
            text = text[:i]
        elif op == "number":  # a value made zero, negative or large
            numbers = list(re.finditer(r"-?[0-9]+", text))
            m = numbers[draw(st.integers(0, len(numbers) - 1))] if numbers else None
            if m is not None:
                value = draw(st.sampled_from([0, -1, -7, 1, 3, 10**6, 10**20]))
                text = text[: m.start()] + str(value) + text[m.end() :]
        elif op == "repeat":  # some lines written again elsewhere: duplicate keys, sections, [net]
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[b:b] = lines[a : a + draw(st.integers(1, 8))]
            text = "\n".join(lines)
        else:
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_fuzz_gives_a_spec_or_a_located_error(text: str) -> None:
    try:
        parse(text, file="f.cfg")
    except SpecError as e:
        message = str(e)
    else:
        return
    assert "\n" not in message
    assert re.match(r"f\.cfg:\d+:\d+: error: ", message), message


def test_lint_walks_darknet_and_caffe_files_but_not_other_cfg(tmp_path: Path) -> None:
    """A directory walk lints .prototxt files and the .cfg files whose first section is [net]; a
    setup.cfg is not a network; a broken prototxt is an invalid spec, not skipped."""
    import shutil

    from click.testing import CliRunner

    from convcalc.__main__ import main

    data = Path(__file__).resolve().parent / "data"
    shutil.copy(data / "darknet" / "yolov3-tiny.cfg", tmp_path)
    shutil.copy(data / "caffe" / "lenet.prototxt", tmp_path)
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    (tmp_path / "broken.prototxt").write_text('layer {\n  name: "x"\n')
    result = CliRunner().invoke(main, ["lint", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        result.stdout.splitlines()[-1] == "0 errors, 0 warnings, 13 notes, 1 invalid spec in 3 files"
    )  # 2 kept-out heads
    assert "setup.cfg" not in result.output
    assert f"{tmp_path / 'broken.prototxt'}:3:1: error[spec-invalid]" in result.stdout
