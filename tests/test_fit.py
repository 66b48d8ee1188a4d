"""convcalc fit: the largest batch under a memory budget, and the largest input under a budget."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import fit
from convcalc.__main__ import main
from convcalc.loader import read
from convcalc.model import Dtype, Optimizer, Sizing
from convcalc.resolver import resolve

ROOT = Path(__file__).resolve().parent.parent
GIB24 = 24 * 1024**3
SPECS = {
    "cs231n": "specs/cs231n.yaml",
    "vgg16": "specs/vgg16.yaml",
    "resnet50": "specs/torchvision/resnet50.yaml",
    "unet": "specs/unet.yaml",
    "unet_padded": "specs/unet_padded.yaml",
}
NETS = {name: resolve(read(str(ROOT / path))) for name, path in SPECS.items()}


def fit_cli(*args: str) -> tuple[int, str]:
    """Exit code and output (stdout and stderr) of `convcalc fit`, from the repository root."""
    result = CliRunner().invoke(main, ["fit", *args], env={"NO_COLOR": "1"})
    return result.exit_code, result.output


def test_tiny_spec_by_hand() -> None:
    # cs231n: input 32x32x3 = 3,072, conv1 32x32x10 = 10,240, pool 16x16x10 = 2,560, fc 10: 15,882 values;
    # 26,370 params. Training at batch b, float32, adam: 2 x 15,882 x b x 4 + (2 + 2) x 26,370 x 4
    # = 127,056 b + 421,920; in 1 MiB (1,048,576): b = 626,656 // 127,056 = 4.
    found = fit.batches(NETS["cs231n"], memory=1024**2)
    assert found.training.batch == 4
    assert found.training.total == 127_056 * 4 + 421_920 == 930_144
    assert found.training.after == 127_056 * 5 + 421_920 == 1_057_200
    assert [(p.name, p.bytes) for p in found.training.parts] == [
        ("activations", 508_224),
        ("weights", 105_480),
        ("gradients", 105_480),
        ("optimizer", 210_960),
    ]
    # Inference: the peak is conv1's input and output alive at once, 3,072 + 10,240 = 13,312 values
    # = 53,248 B an example, plus the weights once, 105,480 B: (1,048,576 - 105,480) // 53,248 = 17.
    assert found.inference.batch == 17
    assert found.inference.total == 17 * 53_248 + 105_480 == 1_010_696
    assert found.inference.parts[0].formula == "13,312 x 17 x 4 B"
    assert found.inference.parts[0].note.startswith("the most activations alive at once, at conv1,")


def test_tiny_spec_checkpointed() -> None:
    # L = 3 layers, s = ceil(sqrt(3)) = 2: boundaries after layer 0 (the input, 3,072, read by conv1) and
    # layer 2 (pool1's 2,560, read by fc1); segments [conv1, pool1] and [fc1]: the largest's own tensors
    # beyond the boundaries are conv1's 10,240. Kept: 3,072 + 2,560 + 10,240 = 15,872.
    c = fit.checkpoints(NETS["cs231n"])
    assert (c.layers, c.every, c.segments, c.boundaries, c.segment, c.kept) == (
        3,
        2,
        2,
        5_632,
        10_240,
        15_872,
    )
    found = fit.batches(NETS["cs231n"], memory=1024**2, checkpointing=True)
    assert found.training.parts[0].bytes == 2 * 15_872 * found.training.batch * 4


@pytest.mark.parametrize(
    ("name", "params", "non_trainable", "activations", "peak", "training", "inference"),
    [
        # training: (24 GiB - (4 params + running stats) x 4 B) // (2 x activations x 4 B);
        # inference: (24 GiB - (params + running stats) x 4 B) // (peak x 4 B)
        ("vgg16", 138_357_544, 0, 15_237_608, 6_422_528, 193, 981),
        ("resnet50", 25_557_032, 53_120, 28_101_608, 2_408_448, 112, 2_664),
        ("unet", 31_030_658, 0, 182_717_488, 50_151_424, 17, 127),
        ("unet_padded", 31_037_698, 11_776, 89_849_856, 16_777_216, 35, 382),
    ],
)
def test_largest_batch_24gib_float32_adam(
    name: str, params: int, non_trainable: int, activations: int, peak: int, training: int, inference: int
) -> None:
    net = NETS[name]
    assert (net.params, net.non_trainable, net.activations, net.peak()[0]) == (
        params,
        non_trainable,
        activations,
        peak,
    )
    assert training == (GIB24 - (4 * params + non_trainable) * 4) // (2 * activations * 4)
    assert inference == (GIB24 - (params + non_trainable) * 4) // (peak * 4)
    found = fit.batches(net, memory=GIB24)
    assert (found.training.batch, found.inference.batch) == (training, inference)


def test_checkpointing_keeps_less_on_every_shipped_network() -> None:
    for name, net in NETS.items():
        c = fit.checkpoints(net)
        assert c.every * c.every >= c.layers > (c.every - 1) ** 2, name
        assert 0 < c.kept <= net.activations, name
    assert fit.batches(NETS["resnet50"], memory=GIB24, checkpointing=True).training.batch > 112


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(NETS)),
    memory=st.integers(min_value=1, max_value=1 << 40),
    dtype=st.sampled_from(list(Dtype)),
    optimizer=st.sampled_from(list(Optimizer)),
    checkpointing=st.booleans(),
)
def test_reported_batch_fits_and_one_more_does_not(
    name: str, memory: int, dtype: Dtype, optimizer: Optimizer, checkpointing: bool
) -> None:
    net = dataclasses.replace(NETS[name], sizing=Sizing(dtype=dtype, optimizer=optimizer))
    found = fit.batches(net, memory=memory, checkpointing=checkpointing)

    def training(batch: int) -> int:  # run's own training estimate, when every activation is kept
        at = dataclasses.replace(net, sizing=dataclasses.replace(net.sizing, batch=batch))
        if not checkpointing:
            return at.training_bytes
        kept = fit.checkpoints(net).kept
        return at.training_bytes - 2 * (net.activations - kept) * batch * dtype.bytes

    def inference(batch: int) -> int:
        return (net.peak()[0] * batch + net.params + net.non_trainable) * dtype.bytes

    for b, total in ((found.training, training), (found.inference, inference)):
        if b.batch:
            assert total(b.batch) == b.total <= memory
        assert total(b.batch + 1) > memory
        assert total(b.batch + 1) == b.after or b.batch == 0


def test_run_training_line_reads_the_same_formula() -> None:
    net = dataclasses.replace(NETS["resnet50"], sizing=Sizing(batch=112))
    found = fit.batches(NETS["resnet50"], memory=GIB24)
    assert net.training_bytes == found.training.total == 25_588_165_760


@pytest.mark.parametrize(
    ("args", "fits", "works", "over"),
    [
        # MACs grow with the input; 100x100 is the last under 1 G and every layer fits it exactly
        (["specs/torchvision/resnet50.yaml", "--macs", "1G"], [100, 100, 3], [100, 100, 3], [101, 101, 3]),
        # VGG-16's fc6 grows with the input: 255 runs (flooring), 224 is the largest that works, 256 is over
        (["specs/vgg16.yaml", "--params", "140M"], [255, 255, 3], [224, 224, 3], [256, 256, 3]),
        # the padded U-Net runs only where every skip agrees: multiples of 16
        (["specs/unet_padded.yaml", "--macs", "10G"], [112, 112, 3], [112, 112, 3], [120, 120, 3]),
        # the original U-Net centre-crops its skips at any size: 763 runs (flooring), 748 = 572 + 11 x 16
        # is the largest that works, 764 is over
        (["specs/unet.yaml", "--macs", "300G"], [763, 763, 1], [748, 748, 1], [764, 764, 1]),
    ],
)
def test_largest_input(args: list[str], fits: list[int], works: list[int], over: list[int]) -> None:
    code, out = fit_cli(*args, "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    (result,) = data["results"]
    assert result["fits"]["input_shape"] == fits
    assert result["works"]["input_shape"] == works
    assert result["over"]["input_shape"] == over
    limit = data["budget"]["macs"] or data["budget"]["params"]
    key = "macs" if data["budget"]["macs"] else "params"
    assert result["fits"][key] <= limit < result["over"][key]


def test_largest_input_under_memory_for_training_and_inference() -> None:
    code, out = fit_cli("specs/unet_padded.yaml", "--find", "input", "--memory", "2GiB", "--format", "json")
    assert code == 0
    training, inference = json.loads(out)["results"]
    assert (training["purpose"], inference["purpose"]) == ("training", "inference")
    assert training["fits"]["input_shape"] == [384, 384, 3]
    assert inference["fits"]["input_shape"] == [1392, 1392, 3]
    assert training["fits"]["training_bytes"] <= 2 * 1024**3 < training["over"]["training_bytes"]
    assert inference["fits"]["inference_bytes"] <= 2 * 1024**3 < inference["over"]["inference_bytes"]


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["resnet50", "vgg16", "unet_padded"]), n=st.integers(min_value=1, max_value=700))
def test_counts_never_fall_as_the_input_grows(name: str, n: int) -> None:
    spec = read(str(ROOT / SPECS[name]))
    search = fit._Search(spec, NETS[name].input, spec.layout, Sizing(), ckpt=False)
    a, b = search.point(n), search.point(n + 1)
    assert a is not None
    assert b is not None
    assert a.macs <= b.macs
    assert a.params <= b.params
    assert a.training <= b.training
    assert a.inference <= b.inference


def test_no_spatial_axis_to_grow(tmp_path: Path) -> None:
    spec = tmp_path / "flat.yaml"
    spec.write_text("input: 100\nlayers: [{type: fc, units: 10}]\n")
    code, out = fit_cli(str(spec), "--macs", "1G")
    assert code == 2
    assert out.count("\n") == 1
    assert "no spatial axis to grow" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--memory", "0"], "Invalid value for '--memory': invalid size '0'; it must be at least one byte"),
        (["--memory", "12XB"], "invalid size '12XB'; expected a number with an optional K, M, G or T"),
        (["--macs", "0"], "invalid count '0'; it must be at least 1"),
        (["--macs", "1X"], "invalid count '1X'; expected a number with an optional k, M, G or T"),
        (["--find", "batch", "--macs", "1G", "--memory", "1G"], "--macs and --params limit the input size"),
        ([], "give --memory for the largest batch"),
        (["--find", "input"], "give a budget for --find input"),
        (["--memory", "1G", "--batch", "4"], "--batch is what --find batch finds"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    code, out = fit_cli("specs/cs231n.yaml", *args)
    assert code == 2
    assert out.count("\n") == 1
    assert out.startswith("convcalc fit: error: ")
    assert message in out


def test_invalid_spec_is_one_line_exit_2() -> None:
    code, out = fit_cli("tests/data/invalid/typo.yaml", "--memory", "1G")
    assert code == 2
    assert out.count("\n") == 1
    assert "unknown key 'strde'" in out


def test_parse_count() -> None:
    assert [fit.parse_count(t) for t in ("1G", "5M", "1.5k", "25557032", "2t")] == [
        10**9,
        5 * 10**6,
        1500,
        25_557_032,
        2 * 10**12,
    ]


def test_text_says_what_is_not_estimated() -> None:
    code, out = fit_cli("specs/cs231n.yaml", "--memory", "1MiB")
    assert code == 0
    assert "training: batch 4, 930,144 B of 1,048,576 (batch 5 needs 1,057,200 B)" in out
    assert "inference: batch 17, 1,010,696 B of 1,048,576" in out
    for word in ("workspace", "fragmentation", "framework overhead", "CUDA context"):
        assert word in out


def test_json_batch_shape() -> None:
    code, out = fit_cli("specs/cs231n.yaml", "--memory", "1MiB", "--format", "json", "--checkpointing")
    assert code == 0
    data = json.loads(out)
    assert data["training"]["batch"] == (1024**2 - 421_920) // (2 * 15_872 * 4)
    assert data["checkpointing"] == {
        "layers": 3,
        "every": 2,
        "segments": 2,
        "boundaries": 5_632,
        "segment": 10_240,
        "kept": 15_872,
    }
    assert sum(p["bytes"] for p in data["training"]["parts"]) == data["training"]["bytes"]
    assert data["sizing"] == {"dtype": "float32", "optimizer": "adam"}


def test_one_example_that_does_not_fit() -> None:
    found = fit.batches(NETS["vgg16"], memory=1024**3)
    assert found.training.batch == 0  # 4 x 138,357,544 x 4 B = 2.06 GiB of weights alone
    assert found.training.total > 1024**3
    code, out = fit_cli("specs/vgg16.yaml", "--memory", "1GiB")
    assert code == 0
    assert "training: does not fit (batch 1 needs" in out


@pytest.mark.parametrize(
    "args",
    [
        ["specs/cs231n.yaml", "--memory", "1MiB"],
        ["specs/vgg16.yaml", "--memory", "1GiB", "--dtype", "bfloat16", "--optimizer", "sgd"],
        ["specs/torchvision/resnet50.yaml", "--memory", "24GiB", "--checkpointing"],
        ["specs/torchvision/resnet50.yaml", "--macs", "1G"],
        ["specs/vgg16.yaml", "--params", "140M", "--memory", "4GiB", "--batch", "2"],
        ["specs/unet_padded.yaml", "--find", "input", "--memory", "64MiB"],
    ],
)
def test_json_follows_the_schema(args: list[str]) -> None:
    import jsonschema

    schema = json.loads((ROOT / "convcalc" / "fit.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    code, out = fit_cli(*args, "--format", "json")
    assert code == 0, out
    jsonschema.Draft202012Validator(schema).validate(json.loads(out))


def test_schema_refuses_a_wrong_report() -> None:
    import jsonschema

    schema = json.loads((ROOT / "convcalc" / "fit.schema.json").read_text(encoding="utf-8"))
    _, out = fit_cli("specs/cs231n.yaml", "--memory", "1MiB", "--format", "json")
    data = json.loads(out)
    data["training"]["batch"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(data)
    del data["training"]
    data["results"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(data)


def test_another_input() -> None:
    code, out = fit_cli("specs/torchvision/resnet50.yaml", "--memory", "24GiB", "--input", "512x512x3")
    assert code == 0
    assert out.startswith("resnet50 at 512x512x3, float32, adam: the largest batch in 24.0 GiB\n")
    code, out = fit_cli("specs/torchvision/resnet50.yaml", "--macs", "1G", "--input", "320x160")
    assert code == 2
    assert out.count("\n") == 1
    assert "did you mean 320x160x3?" in out


def test_a_network_pytorch_refuses_is_said() -> None:
    # the padded U-Net at 250x250: its skips disagree after the second pooling
    code, out = fit_cli("specs/unet_padded.yaml", "--memory", "24GiB", "--input", "250x250x3")
    assert code == 0
    assert "warning: PyTorch would refuse this network on this input (merge-shape-mismatch;" in out
    _, out = fit_cli("specs/unet_padded.yaml", "--memory", "24GiB", "--format", "json")
    assert json.loads(out)["refused"] == []
