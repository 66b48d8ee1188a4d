"""Caffe prototxt files read directly: the fixtures against PyTorch rebuilds (tools/gen_caffe_truth.py,
tests/data/caffe_truth.json), located errors for malformed files, and a fuzz test of the parser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.__main__ import main
from convcalc.errors import SpecError
from convcalc.loader import read
from convcalc.model import Network, Spec
from convcalc.readers import caffe
from convcalc.resolver import resolve

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "caffe"
TRUTH = json.loads((ROOT / "tests" / "data" / "caffe_truth.json").read_text(encoding="utf-8"))["models"]
NAMES = sorted(p.stem for p in FIXTURES.glob("*.prototxt"))
LENET = (FIXTURES / "lenet.prototxt").read_text(encoding="utf-8")


def net_of(name: str) -> Network:
    """The resolved fixture, read through the loader by its extension."""
    return resolve(read(FIXTURES / f"{name}.prototxt"))


def test_truth_covers_the_fixtures() -> None:
    assert sorted(TRUTH) == NAMES
    assert len(NAMES) == 8


@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_exact(name: str) -> None:
    """Params, running statistics, MACs (conv and fc), input and output as PyTorch counts them."""
    net = net_of(name)
    truth = TRUTH[name]
    assert (net.params, net.non_trainable, net.macs) == (truth["params"], truth["buffers"], truth["macs"])
    assert (list(net.input.dims), list(net.output.dims)) == (truth["input"], truth["output"])


@pytest.mark.parametrize("name", NAMES)
def test_every_layer_matches(name: str) -> None:
    """Each Caffe layer is a convcalc layer of the same name with PyTorch's shape, params and MACs."""
    layers = {r.layer.name: r for r in net_of(name).layers}
    assert len(layers) == len(TRUTH[name]["layers"])
    for record in TRUTH[name]["layers"]:
        r = layers[record["name"]]
        assert (list(r.output.dims), r.params, r.macs) == (record["out"], record["params"], record["macs"])


def test_the_zoo_figures() -> None:
    """The issue's figures: AlexNet's 60,965,224 params; cifar10_quick's pools 32 -> 16 -> 8 -> 4 (ceil)."""
    assert net_of("bvlc_alexnet").params == 60_965_224
    pools = [r.output.spatial for r in net_of("cifar10_quick").layers if r.layer.name.startswith("pool")]
    assert pools == [(16, 16), (8, 8), (4, 4)]


def test_in_place_layers_chain() -> None:
    """ReLU's top is its bottom: a later layer reading that blob reads the ReLU."""
    spec = read(FIXTURES / "bvlc_alexnet.prototxt")
    assert spec.program is not None
    net = net_of("bvlc_alexnet")
    inputs = {r.layer.name: r for r in net.layers}
    assert inputs["norm1"].input.dims == (55, 55, 96)
    graph = json.loads(
        CliRunner().invoke(main, ["run", "--format", "json", str(FIXTURES / "lenet.prototxt")]).stdout
    )
    reads = {layer["name"]: layer["inputs"] for layer in graph["layers"]}
    assert reads["relu1"] == ["ip1"]
    assert reads["ip2"] == ["relu1"]


def test_batchnorm_scale_pair() -> None:
    """Caffe's BatchNorm is running mean and variance (2C non-trainable), its Scale the C + C trained."""
    layers = {r.layer.name: r for r in net_of("resnet-50-deploy").layers}
    assert (layers["bn_conv1"].params, layers["bn_conv1"].non_trainable) == (0, 128)
    assert (layers["scale_conv1"].params, layers["scale_conv1"].non_trainable) == (128, 0)


def test_v1_and_v2_forms_agree() -> None:
    """The legacy `layers { type: CONVOLUTION }` form reads as the V2 one."""
    v2 = LENET.replace("layer {", "layers {").replace('"Convolution"', "CONVOLUTION")
    v2 = v2.replace('"Pooling"', "POOLING").replace('"InnerProduct"', "INNER_PRODUCT")
    a, b = resolve(caffe.parse(LENET)), resolve(caffe.parse(v2))
    assert [(r.layer.name, r.output) for r in a.layers] == [(r.layer.name, r.output) for r in b.layers]


def test_input_forms_agree() -> None:
    """input + input_dim, input + input_shape and an Input layer give the same input."""
    body = LENET[LENET.index('layer {\n  name: "conv1"') :]
    dims = 'input: "data"\ninput_dim: 1\ninput_dim: 1\ninput_dim: 28\ninput_dim: 28\n'
    shape = 'input: "data"\ninput_shape { dim: 1 dim: 1 dim: 28 dim: 28 }\n'
    for head in (dims, shape):
        assert resolve(caffe.parse(head + body)).params == 431_080


@pytest.mark.parametrize("name", NAMES)
def test_check_runs(name: str, runner: CliRunner) -> None:
    """--check runs every layer with numpy and agrees; NIN's conv1 floors 54.25 (an error finding)."""
    result = runner.invoke(main, ["run", "--check", str(FIXTURES / f"{name}.prototxt")])
    assert result.exit_code == (1 if name == "nin" else 0), result.output
    rows = [line for line in result.stdout.splitlines() if re.match(r" +[0-9]+ ", line)]
    assert len(rows) == len(TRUTH[name]["layers"])
    assert all(row.rstrip().endswith("\u2713") for row in rows)
    if name == "nin":
        assert "nin.prototxt:7:1: error[fractional-size] conv1: (224 - 11)/4 + 1 = 54.25" in result.output


BAD = [
    (LENET[:300], "trunc", ":20:14: error: expected a value for 'num_outpu', got the end of the file"),
    (
        LENET.replace("num_output: 20", 'num_output: "twenty"'),
        "types",
        "20:5: error: layer 'conv1': 'num_output' must be a whole number, got 'twenty'",
    ),
    (
        LENET.replace('"Pooling"', '"Poolin"', 1),
        "unknown",
        "33:3: error: layer 'pool1': unknown Caffe layer type 'Poolin'; did you mean 'Pooling'?",
    ),
    (
        LENET.replace('bottom: "pool1"', 'bottom: "pool9"'),
        "dangling",
        "45:3: error: layer 'conv2': bottom 'pool9' is not the top of any earlier layer (nor the input)",
    ),
    (
        LENET.replace("pool: MAX", "pool: STOCHASTIC", 1),
        "pool",
        ":37:5: error: layer 'pool1': pooling STOCHASTIC is not supported (MAX or AVE)",
    ),
    (
        LENET.replace("stride: 2\n  }", "stride: 2\n    round_mode: UP\n  }", 1),
        "caffe-round",
        ":40:5: error: layer 'pool1': round_mode UP is not Caffe's (CEIL or FLOOR)",
    ),
    (LENET.replace('name: "conv1"', 'name: "input"'), "input", ":9:3: error: layer 'input': 'input' names"),
    (
        LENET.replace("kernel_size: 5", "kernel_size: 5x5", 1),
        "token",
        ":21:18: error: invalid number or name '5x5'",
    ),
    (
        LENET.replace('"Input"', '"ImageData"'),
        "data",
        ":4:3: error: layer 'data': an ImageData layer reads data for training",
    ),
    (LENET + "}", "brace", "error: unexpected '}': no message is open"),
    (
        LENET.replace("kernel_size: 5", "kernel_size: 5 @", 1),
        "char",
        ":21:20: error: invalid character '@' in prototxt",
    ),
    (
        LENET.replace('"ReLU"', '"Eltwise"\n  eltwise_param { operation: MIN }'),
        "min",
        "error: layer 'relu1': Eltwise MIN is not an operation (SUM, PROD or MAX)",
    ),
]


@pytest.mark.parametrize(("text", "stem", "message"), BAD, ids=[b[1] for b in BAD])
def test_malformed_file_is_one_located_line(
    text: str, stem: str, message: str, tmp_path: Path, runner: CliRunner
) -> None:
    """A malformed prototxt: one line naming file, line and column; exit 2; no traceback."""
    path = tmp_path / f"{stem}.prototxt"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{path}:")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_convcalc_errors_point_at_the_source(tmp_path: Path, runner: CliRunner) -> None:
    """A layer convcalc refuses is a finding at the prototxt line of its parameters."""
    path = tmp_path / "group.prototxt"
    path.write_text(LENET.replace("num_output: 50", "num_output: 50\n    group: 3"), encoding="utf-8")
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 1
    assert f"{path}:53:3: error[groups-mismatch] conv2: groups 3 must divide" in result.output


def test_library_loads_prototxt() -> None:
    """convcalc.loader.load takes a .prototxt path as it takes a .yaml one."""
    from convcalc.loader import load

    assert resolve(load(str(FIXTURES / "lenet.prototxt"))).params == 431_080


def test_lint_reads_prototxt(runner: CliRunner) -> None:
    result = runner.invoke(main, ["lint", str(FIXTURES / "lenet.prototxt")])
    assert result.exit_code == 0, result.output


_SOURCES = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.prototxt"))[:4]]
_PIECES = ['"', "{", "}", ":", "#", "[", "]", "1.5", "-1", "layer", "bottom", "x", "\n", "'", "true", "MAX"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(_SOURCES),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 40), st.sampled_from(_PIECES) | st.text(max_size=3)),
        min_size=1,
        max_size=4,
    ),
)
def test_fuzzed_prototxt_gives_a_spec_or_a_spec_error(
    source: str, edits: list[tuple[float, int, str]]
) -> None:
    """Random cuts and insertions: the reader gives a Spec or a located SpecError, nothing else."""
    text = source
    for where, cut, piece in edits:
        at = int(where * len(text))
        text = text[:at] + piece + text[at + cut :]
    error: SpecError | None = None
    try:
        spec = caffe.parse(text, file="f.prototxt")
    except SpecError as e:
        error = e
    if error is None:
        assert isinstance(spec, Spec)
    else:
        assert (error.file, error.line is None, error.column is None) == ("f.prototxt", False, False)
        assert "\n" not in error.message


def _caffe_pool(n: int, f: int, s: int, p: int) -> int:
    """pooling_layer.cpp: ceil((N + 2P - F)/S) + 1, one less when padded and the last starts past N + P."""
    out = -(-(n + 2 * p - f) // s) + 1
    if p and (out - 1) * s >= n + p:
        out -= 1
    return out


@given(n=st.integers(1, 300), f=st.integers(1, 12), s=st.integers(1, 12), p=st.integers(0, 6))
def test_ceil_mode_is_caffes_rounding_but_for_the_refused_case(n: int, f: int, s: int, p: int) -> None:
    """convcalc's `ceil: true` (PyTorch's rule) is Caffe's, except with pad 0 and a stride above the
    window, the case `ceil: caffe` is for; there Caffe keeps one window more, sometimes."""
    from hypothesis import assume

    from convcalc.arith import out_size

    assume(n + 2 * p >= f and p <= f // 2)
    torch_out = out_size(n=n, size=f, stride=s, pad=p, ceil=True)
    if p == 0 and f < s:
        assert _caffe_pool(n, f, s, p) - torch_out in (0, 1)
    else:
        assert torch_out == _caffe_pool(n, f, s, p)


def test_caffe_keeps_a_window_pytorch_drops() -> None:
    """6 wide, window 1, stride 3: Caffe gives 3 (the last window starts at 6, past the input), PyTorch 2."""
    from convcalc.arith import out_size

    assert (_caffe_pool(6, 1, 3, 0), out_size(n=6, size=1, stride=3, pad=0, ceil=True)) == (3, 2)


def test_weightless_shape_keeping_layers_are_identity() -> None:
    """Silence (no top) holds no weights and keeps the shape: identity on its first bottom."""
    net = resolve(caffe.parse(LENET + 'layer { name: "quiet" type: "Silence" bottom: "prob" }\n'))
    last = net.layers[-1]
    got = (last.layer.name, last.layer.kind.value, last.output.dims, last.params)
    assert got == ("quiet", "identity", (10,), 0)


def test_from_caffe_reads_any_name(tmp_path: Path, runner: CliRunner) -> None:
    """--from caffe reads a file whatever its extension, and standard input; --from yaml overrides."""
    path = tmp_path / "deploy.txt"
    path.write_text(LENET, encoding="utf-8")
    for args, stdin in (
        (["run", "--from", "caffe", str(path)], None),
        (["run", "--from", "caffe", "-"], LENET),
    ):
        result = runner.invoke(main, [*args, "--format", "json"], input=stdin)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["totals"]["params"] == 431_080
    assert runner.invoke(main, ["lint", "--from", "caffe", str(path)]).exit_code == 0
    result = runner.invoke(main, ["lint", "--from", "yaml", str(FIXTURES / "lenet.prototxt")])
    assert result.exit_code == 2
    assert "lenet.prototxt:3:7: error[spec-invalid] invalid YAML" in result.output


def test_analyze_reads_caffe() -> None:
    """The library: a .prototxt path by its extension, prototxt text with reader='caffe'."""
    import convcalc

    assert convcalc.analyze(str(FIXTURES / "lenet.prototxt"))["totals"]["params"] == 431_080
    assert convcalc.analyze(LENET, reader="caffe")["totals"]["params"] == 431_080
    with pytest.raises(
        convcalc.OptionError, match=r"reader must be one of yaml, caffe(, \w+)*, got .tflite."
    ):
        convcalc.analyze(LENET, reader="tflite")
