#!/usr/bin/env python3
"""Record the ground truth of torchvision's convolutional classification models (issue 13).

The 68 builders of torchvision.models that are not ViT, Swin or MaxViT, built with
weights=None (nothing is downloaded), in eval mode, at batch 1 x 3 x 224 x 224
(inception_v3: 299 x 299); googlenet and inception_v3 with aux_logits=False (their
inference graph) and init_weights=False (faster; the values do not matter here). The
specs of issue 13 (specs/torchvision/<name>.yaml) are written by hand; this script only
records what torch says, for their `expect:` values and for tests. Tests never run it and
never import torch (tests/test_torchvision_truth.py checks the files it writes).

How to run (a scratch venv OUTSIDE the repo; torch is never a project dependency):

    python3.11 -m venv /tmp/tvenv
    /tmp/tvenv/bin/pip install torch==2.13.0          # the CPU wheel; never plain `torch`
    /tmp/tvenv/bin/pip install --no-deps 'torchvision==0.28.*' pillow numpy
    /tmp/tvenv/bin/python tools/gen_torchvision.py [--out tests/data/torchvision] [--no-field]

numpy is needed only because `import torchvision` imports torchvision.datasets, which
imports numpy. torchvision's compiled ops (torchvision::nms and friends) cannot load beside
this torch wheel: importing torchvision fails in torchvision/_meta_registrations.py, which
registers fake kernels for those ops. The classification models use none of them, so an
empty module is put in sys.modules['torchvision._meta_registrations'] before the import;
that is the only workaround needed (without it: RuntimeError "operator torchvision::nms
does not exist"). Run time: about 2.5 minutes on two cores, 1 minute of it DenseNet-121's
receptive field at 4096 x 64 (--no-field: about a minute); about 3.2 GB of memory
(regnet_y_128gf's 645M parameters).

Files written (one JSON object each; lists hold one entry per line):

totals.json
    torch, torchvision, command, models (the 68 names, in list_models order), and per model
    input      [H, W, C]
    output     the output tensor's shape without the batch ([1000])
    params     sum(p.numel() for p in model.parameters())
    buffers    sum of numel over the model's buffers EXCEPT the int64 scalars
               num_batches_tracked (so: batch norms' running_mean and running_var)
    macs       convcalc's convention, summed over every call of every Conv{1,2,3}d,
               ConvTranspose{1,2,3}d and Linear module, from the shapes a forward hook saw:
               conv  prod(output spatial) x out_channels x in_channels/groups x prod(kernel)
               convT prod(input spatial) x in_channels x out_channels/groups x prod(kernel)
               linear in_features x out_features x rows (rows = prod of the input's
               dimensions other than the batch and the last: H x W for ConvNeXt's
               channels-last Linear layers, 1 for a classifier)
               everything else 0
    layers     the number of leaf-module calls recorded
    field      resnet50, googlenet and densenet121 only (see below)
    per_layer  whether <name>.json was written

<name>.json (per-layer records)
    model, input, and `layers`: one record per CALL of a leaf module (a module without
    children), in the order the calls finish, which for leaves is the order they run:
    name      qualified module name (model.named_modules())
    class     the module's class name
    settings  constructor settings as the module stores them (tuples as lists; an int
              kernel_size of a pool stays an int): conv in/out_channels, kernel_size,
              stride, padding, dilation, groups, output_padding (transposed), padding_mode
              when not zeros; linear in/out_features; pools kernel_size, stride, padding,
              ceil_mode, dilation (max), count_include_pad (avg); adaptive pools
              output_size; batch norm num_features; layer norm normalized_shape; dropout p;
              stochastic depth p and mode; flatten start_dim and end_dim; Permute dims;
              GELU approximate. `bias` (true/false) for conv and linear.
    in        the shapes of the call's tensor arguments, batch dropped, as torch has them
              (C, H, W; ConvNeXt's LayerNorm and Linear see H, W, C after its Permute)
    out       the output shape, batch dropped
    params    the module's parameters (numel); a module called several times (torchvision
              ResNet's Bottleneck calls its one ReLU three times) has one record per call,
              each with the module's params: count params once per distinct name
    buffers   as in totals (no num_batches_tracked)
    macs      this call's MACs, convention above
    own       modules WITH children that also hold parameters directly (ConvNeXt's
              CNBlock.layer_scale, C x 1 x 1, multiplied functionally): name, class,
              params, buffers. Leaf params (distinct names) + own params = total params.
    uncalled  leaf modules never called: EfficientNet's stochastic_depth in blocks without a
              residual (the first of a stage), ShuffleNetV2's empty nn.Sequential branch1 in
              its stride-1 blocks; none holds parameters (checked)

Not recorded, because functional operations fire no module hook: the residual additions
(ResNet, MobileNetV2/V3, EfficientNet, RegNet, MNASNet, ConvNeXt `result += input`),
torch.cat (DenseNet, GoogLeNet, Inception, SqueezeNet's Fire, ShuffleNetV2),
torch.flatten, F.relu / F.adaptive_avg_pool2d called as functions (DenseNet's last ReLU
and pool, GoogLeNet's and Inception's BasicConv2d ReLU, Inception's functional
max_pool2d/avg_pool2d inside its blocks), ShuffleNetV2's chunk and channel_shuffle, the
squeeze-and-excitation multiply (its scale activation IS a module and is recorded), and
ConvNeXt's layer_scale multiply. None of them has parameters or MACs in convcalc's
convention, so totals are unaffected; their shapes follow from the records around them.

Receptive field (`field` in totals.json: resnet50, googlenet, densenet121), by gradient
as tools/gen_torch_rf.py does, of the last spatial feature map before global pooling
(resnet50, googlenet: the input of `avgpool`; densenet121: the output of `features`). A
fresh copy of the model in float64: every conv weight set to the constant 1/fan_in
(fan_in = in_channels/groups x prod(kernel); positive, so no gradient cancels, and the
activations stay near 1 instead of overflowing float64 through 50-120 convolutions:
constant 1 would reach 1e190 and beyond), every bias 0, every MaxPool2d replaced by an
AvgPool2d with the same window, stride, padding and ceil mode (a max sends its gradient to
one pixel); batch norms keep their fresh running stats (a positive scale) and ReLUs stay,
as the input is all ones, so every activation is positive and passes its gradient. The
batch holds three copies; from each, one backward seed on EVERY channel of one output
position: the centre unit m // 2, and m // 2 - 1 and m // 2 + 1 along the measured axis
(all channels, because channels of a concatenation have different fields: DenseNet's
channel 0 is the last transition's output and skips all of block 4, GoogLeNet's is
inception5b's 1x1 branch; a seed on channel 0 alone gave 1047 and 315 instead of the
largest field over all paths, 2071 and 379). Per axis: size = last - first
+ 1 of the input pixels with a nonzero gradient (checked to have no holes, and equal for
the three units), jump = the difference of neighbouring units' first pixels (the same
both ways), start = first(centre) - (m // 2) x jump (negative: it reaches into the zero
padding). Borders: the image is made tall and thin for the H axis (n x 64) and short and
wide for the W axis (64 x n), with n doubled from 512 until all three fields keep at
least one pixel clear of both ends of the measured axis, so no field is cut short by the
finite input; the field on one axis does not depend on the other axis' extent (every
window is a rectangle and every weight positive, so the set of pixels reached is a
union of products of per-axis intervals), which a square 512 x 512 pass on resnet50
confirms. Clipped windows at the border (padding) play no part, as the measured fields
stay interior.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

EXPECTED_TORCH = "2.13.0"
EXPECTED_TORCHVISION = "0.28"
COMMAND = "/tmp/tvenv/bin/python tools/gen_torchvision.py"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "data" / "torchvision"
EXCLUDED = ("vit_", "swin_", "maxvit_")
"""Transformer models: not convolutional classification networks for issue 13."""
EXTRA_ARGS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}
INPUT_SIZE = {"inception_v3": 299}
PER_LAYER_LIMIT = 8_000_000
"""Bytes: above this for all per-layer files together, keep only KEEP's."""
KEEP = (
    "resnet18",
    "resnet50",
    "resnet152",
    "densenet121",
    "googlenet",
    "inception_v3",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "shufflenet_v2_x1_0",
    "squeezenet1_0",
    "convnext_tiny",
    "regnet_y_400mf",
    "mnasnet1_0",
)
REFERENCE = {
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet50": (25_557_032, 4_089_184_256),
    "densenet121": (7_978_856, 2_834_161_664),
    "mobilenet_v2": (3_504_872, 300_774_272),
    "efficientnet_b0": (5_288_548, 385_814_752),
    "convnext_tiny": (28_589_128, 4_455_531_264),
    "googlenet": (6_624_904, None),
    "inception_v3": (23_834_568, None),
}
"""Issue 13's figures: params, MACs (None: not given)."""
FIELD_AT = {"resnet50": ("avgpool", "in"), "googlenet": ("avgpool", "in"), "densenet121": ("features", "out")}
"""Where the last spatial feature map is: the input of a module, or its output."""
THIN = 64
SETTINGS = (
    "in_channels",
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "output_padding",
    "in_features",
    "out_features",
    "ceil_mode",
    "count_include_pad",
    "output_size",
    "num_features",
    "normalized_shape",
    "p",
    "mode",
    "dims",
    "start_dim",
    "end_dim",
    "approximate",
)
CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
CONV_T = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def plain(value: Any) -> Any:
    """A setting as JSON: tuples as lists, torch.Size as a list."""
    if isinstance(value, (tuple, list, torch.Size)):
        return [plain(v) for v in value]
    return value


def settings_of(m: nn.Module) -> dict[str, Any]:
    """The module's constructor settings that shape or count it."""
    out = {k: plain(getattr(m, k)) for k in SETTINGS if hasattr(m, k) and not callable(getattr(m, k))}
    if isinstance(m, (*CONV, *CONV_T)):
        if m.padding_mode != "zeros":
            out["padding_mode"] = m.padding_mode
        if isinstance(m, CONV):
            out.pop("output_padding", None)
    if isinstance(m, (*CONV, *CONV_T, nn.Linear)):
        out["bias"] = m.bias is not None
    return out


def numel(tensors: Any) -> int:
    """Elements over parameters or buffers, without the int64 counters num_batches_tracked."""
    return sum(t.numel() for t in tensors)


def buffers_of(m: nn.Module, recurse: bool = True) -> int:
    """Buffer elements, num_batches_tracked excluded."""
    named = m.named_buffers(recurse=recurse)
    return sum(b.numel() for n, b in named if not n.endswith("num_batches_tracked"))


def macs_of(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """convcalc's MACs of one call, from the shapes seen (batch 1)."""
    if isinstance(m, CONV):
        return (
            math.prod(y.shape[2:]) * m.out_channels * (m.in_channels // m.groups) * math.prod(m.kernel_size)
        )
    if isinstance(m, CONV_T):
        return (
            math.prod(x.shape[2:]) * m.in_channels * (m.out_channels // m.groups) * math.prod(m.kernel_size)
        )
    if isinstance(m, nn.Linear):
        return math.prod(x.shape[1:-1]) * m.in_features * m.out_features
    return 0


def shape(t: Any) -> Any:
    """A tensor's shape without the batch; a tuple of tensors as a list of shapes."""
    if isinstance(t, torch.Tensor):
        return list(t.shape[1:])
    return [shape(v) for v in t if isinstance(v, torch.Tensor)]


def build(name: str) -> nn.Module:
    """torchvision's model, untrained, in eval mode."""
    model = torchvision.models.get_model(name, weights=None, **EXTRA_ARGS.get(name, {}))
    return model.eval()


def record(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the model once with hooks on its leaves: (totals entry, per-layer file)."""
    model = build(name)
    n = INPUT_SIZE.get(name, 224)
    leaves = {q: m for q, m in model.named_modules() if not list(m.children())}
    rows: list[dict[str, Any]] = []
    called: set[str] = set()

    def hook(q: str) -> Any:
        def run(m: nn.Module, args: tuple[Any, ...], y: Any) -> None:
            x = next(a for a in args if isinstance(a, torch.Tensor))
            called.add(q)
            rows.append(
                {
                    "name": q,
                    "class": type(m).__name__,
                    "settings": settings_of(m),
                    "in": shape(args),
                    "out": shape(y),
                    "params": numel(m.parameters()),
                    "buffers": buffers_of(m),
                    "macs": macs_of(m, x, y),
                }
            )

        return run

    handles = [m.register_forward_hook(hook(q)) for q, m in leaves.items()]
    with torch.no_grad():
        y = model(torch.zeros(1, 3, n, n))
    for h in handles:
        h.remove()
    own = [
        {
            "name": q,
            "class": type(m).__name__,
            "params": numel(m.parameters(recurse=False)),
            "buffers": buffers_of(m, recurse=False),
        }
        for q, m in model.named_modules()
        if q not in leaves and (numel(m.parameters(recurse=False)) or buffers_of(m, recurse=False))
    ]
    total = {
        "input": [n, n, 3],
        "output": list(y.shape[1:]),
        "params": numel(model.parameters()),
        "buffers": buffers_of(model),
        "macs": sum(r["macs"] for r in rows),
        "layers": len(rows),
    }
    layers = {
        "model": name,
        "input": [n, n, 3],
        "layers": rows,
        "own": own,
        "uncalled": [q for q in leaves if q not in called],
        "idle": sum(numel(m.parameters()) + buffers_of(m) for q, m in leaves.items() if q not in called),
    }
    return total, layers


class Stop(Exception):
    """Raised by the feature-map hook: nothing after the feature map is needed."""


def field_model(model: nn.Module) -> nn.Module:
    """A float64 copy with conv weights 1/fan_in, biases 0, max pools as average pools."""
    model = copy.deepcopy(model).double()
    for q, m in list(model.named_modules()):
        if isinstance(m, nn.Conv2d):
            with torch.no_grad():
                m.weight.fill_(1.0 / (m.in_channels // m.groups * math.prod(m.kernel_size)))
                if m.bias is not None:
                    m.bias.zero_()
        elif isinstance(m, nn.MaxPool2d):
            assert m.dilation in (1, (1, 1)), (q, m)
            parent, _, leaf = q.rpartition(".")
            avg = nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode)
            setattr(model.get_submodule(parent), leaf, avg)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def feature_map(model: nn.Module, name: str, x: torch.Tensor) -> torch.Tensor:
    """The model's last spatial feature map for input x (the forward stops there)."""
    where, side = FIELD_AT[name]
    got: list[torch.Tensor] = []

    def grab(m: nn.Module, args: tuple[Any, ...], y: Any) -> None:
        got.append(args[0] if side == "in" else y)
        raise Stop

    handle = model.get_submodule(where).register_forward_hook(grab)
    try:
        model(x)
    except Stop:
        pass
    finally:
        handle.remove()
    return got[0]


def span(grad: torch.Tensor, axis: int) -> tuple[int, int]:
    """First and last pixel on one spatial axis (0: H, 1: W) with a nonzero gradient; no holes."""
    assert torch.isfinite(grad).all()
    other = [d for d in range(grad.dim()) if d != axis + 1]
    hit = (grad.abs().amax(dim=other) > 0).nonzero().flatten().tolist()
    first, last = hit[0], hit[-1]
    assert len(hit) == last - first + 1, f"field with holes on axis {axis}"
    return first, last


def field_axis(model: nn.Module, name: str, axis: int, n: int, other: int) -> dict[str, int] | None:
    """size, jump, start on one axis with an n-long measured axis; None if a field hits a border."""
    dims = (n, other) if axis == 0 else (other, n)
    x = torch.ones(3, 3, *dims, dtype=torch.float64, requires_grad=True)
    y = feature_map(model, name, x)
    m = y.shape[2 + axis]
    assert m >= 3, (name, tuple(y.shape))
    mid = [s // 2 for s in y.shape[2:]]
    seed = torch.zeros_like(y)
    for b in range(3):
        unit = list(mid)
        unit[axis] += b - 1
        seed[(b, slice(None), *unit)] = 1.0
    (grad,) = torch.autograd.grad(y, x, seed)
    spans = [span(grad[b], axis) for b in range(3)]
    if spans[0][0] < 1 or spans[2][1] > n - 2:
        return None
    sizes = {last - first + 1 for first, last in spans}
    jumps = {spans[1][0] - spans[0][0], spans[2][0] - spans[1][0]}
    assert len(sizes) == 1, (name, axis, spans)
    assert len(jumps) == 1, (name, axis, spans)
    jump = jumps.pop()
    return {
        "size": sizes.pop(),
        "jump": jump,
        "start": spans[1][0] - mid[axis] * jump,
        "map": m,
        "input": n,
    }


def field(name: str, model: nn.Module) -> dict[str, Any]:
    """The receptive field of the last feature map's centre unit, per axis (H, W)."""
    fm = field_model(model)
    axes = []
    for axis in (0, 1):
        n = 512
        while (got := field_axis(fm, name, axis, n, THIN)) is None:
            n *= 2
        axes.append(got)
    out: dict[str, Any] = {k: [a[k] for a in axes] for k in ("size", "jump", "start")}
    out["feature_map"] = FIELD_AT[name][0] + (" input" if FIELD_AT[name][1] == "in" else " output")
    out["measured_at"] = [[a["input"], THIN] if i == 0 else [THIN, a["input"]] for i, a in enumerate(axes)]
    if name == "resnet50":
        square = [field_axis(fm, name, axis, 512, 512) for axis in (0, 1)]
        assert all(s is not None for s in square), "resnet50 field hits the border at 512 x 512"
        assert [s["size"] for s in square if s] == out["size"], (square, out)
        assert [s["jump"] for s in square if s] == out["jump"], (square, out)
        assert [s["start"] for s in square if s] == out["start"], (square, out)
        out["checked_square"] = [512, 512]
    return out


def dump(head: dict[str, Any], key: str, rows: Sequence[Any]) -> str:
    """One JSON object: head's keys on a line each, then `key` with one row per line."""
    lines = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    body = ",\n".join(f"  {json.dumps(r)}" for r in rows)
    lines.append(f"{json.dumps(key)}: [\n{body}\n]")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Record every model's totals and layers, check the issue's figures, write the files."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    ap.add_argument("--no-field", action="store_true", help="skip the receptive fields")
    args = ap.parse_args(argv)
    if not torch.__version__.startswith(EXPECTED_TORCH):
        print(f"warning: made with torch {EXPECTED_TORCH}, running {torch.__version__}", file=sys.stderr)
    if not torchvision.__version__.startswith(EXPECTED_TORCHVISION):
        print(f"warning: made with torchvision {EXPECTED_TORCHVISION}, running {torchvision.__version__}")
    torch.manual_seed(0)
    torch.set_grad_enabled(True)
    began = time.perf_counter()
    every = torchvision.models.list_models(module=torchvision.models)
    names = [m for m in every if not m.startswith(EXCLUDED)]
    print(f"{len(names)} models: {' '.join(names)}")
    totals: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    problems: list[str] = []
    for name in names:
        t0 = time.perf_counter()
        total, layers = record(name)
        if layers.pop("idle"):
            problems.append(f"{name}: leaves with parameters never called: {layers['uncalled']}")
        if name in FIELD_AT and not args.no_field:
            t1 = time.perf_counter()
            total["field"] = field(name, build(name))
            print(f"  field of {name}: {total['field']} ({time.perf_counter() - t1:.1f} s)")
        totals[name] = total
        head = {k: layers[k] for k in ("model", "input")}
        head |= {"own": layers["own"], "uncalled": layers["uncalled"]}
        files[name] = dump(head, "layers", layers["layers"])
        want = REFERENCE.get(name)
        if want is not None:
            for key, value in zip(("params", "macs"), want, strict=True):
                if value is not None and total[key] != value:
                    problems.append(f"{name}: {key} {total[key]:,} != the issue's {value:,}")
        print(
            f"{name:20} params {total['params']:>12,} macs {total['macs']:>16,} "
            f"out {total['output']} layers {total['layers']} ({time.perf_counter() - t0:.1f} s)"
        )
    size = sum(len(text.encode()) for text in files.values())
    keep = names if size <= PER_LAYER_LIMIT else [n for n in names if n in KEEP]
    print(f"per-layer files: {size:,} bytes for all; keeping {len(keep)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.json"):
        old.unlink()
    for name in keep:
        (args.out / f"{name}.json").write_text(files[name], encoding="utf-8")
    for name in names:
        totals[name]["per_layer"] = name in keep
    head = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "command": COMMAND,
        "models": names,
    }
    body = ",\n".join(f"  {json.dumps(n)}: {json.dumps(totals[n])}" for n in names)
    text = "{\n" + "".join(f"{json.dumps(k)}: {json.dumps(v)},\n" for k, v in head.items())
    (args.out / "totals.json").write_text(text + f'"totals": {{\n{body}\n}}\n}}\n', encoding="utf-8")
    for p in problems:
        print("MISMATCH", p, file=sys.stderr)
    print(f"wrote {args.out} in {time.perf_counter() - began:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
