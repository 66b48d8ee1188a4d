#!/usr/bin/env python3
"""Build the networks of specs/ in PyTorch: check their expect values, and measure receptive fields.

Usage (needs torch==2.13.0 and pyyaml; CPU is fine: about ten minutes on two cores, --no-rf 10 s):

    python tools/gen_torch_rf.py [--out tests/data/torch_rf.json] [--no-rf]

This script and tools/gen_torch_cases.py are the only places torch is imported; tests never
run them. Every network below is written by hand after its paper or tutorial, as an ordered
list of (spec layer name, torch module) chunks; a chunk named None is a torch module the spec
has no line for (torchvision AlexNet's ReLUs, dropouts and 6x6 adaptive pool, which is the
identity at 224x224).

1. Shapes and counts. A forward pass at the spec's input gives each layer's output (channels
   last) and its parameters (sum of p.numel(): a batch norm's 2C weight and bias, not its
   running statistics). MACs are counted here from the torch modules and the measured shapes,
   independently of convcalc, with convcalc's rules: conv prod(out spatial) x K x prod(F) x
   C_in/groups; transposed conv prod(in spatial) x C_in x K/groups x prod(F); linear in x out;
   everything else 0. Every `expect:` in the spec (per layer and in total) must agree.

2. Receptive fields (non-transposed networks only). The same layers are rebuilt with every
   weight 1 and bias 0, max pools replaced by average pools with the same window, stride,
   padding and ceil mode (a max sends its gradient to one pixel), and ReLU, batch norm and
   dropout replaced by the identity, in float64 (no overflow, and no gradient can cancel, as
   every weight is positive). The input is enlarged beyond the spec's (RF_INPUT below) so
   interior units exist. For each layer output, one backward pass from three units on the
   diagonal around the middle, (m-1, m-1, ...), (m, m, ...), (m+1, m+1, ...), one per batch
   element, gives the input pixels with a nonzero gradient. Per axis: size = last - first + 1
   (the field is checked to have no holes), jump = the difference of neighbouring units'
   first pixels (it must be the same both ways), start = first(u) - u x jump, extrapolated to
   unit 0 (negative where it reaches into padding). All three fields must keep at least one
   pixel clear of each border, so no field is cut short by the finite input. Measurement stops
   at the first fc, global pool or adaptive pool; that layer and all after it are recorded
   with null fields (their units see the whole input). A batch norm, activation or dropout is
   the identity here, its output the very tensor it was given, so it takes the field just
   measured instead of another backward pass.

   The RF depends only on the geometry of the windows, not on channel counts, so the 3-D
   video network is measured with its channels divided by RF_WIDTH_DIVISOR (C3D at the input
   its pool5 needs, 112x224x224, would cost about a TMAC per pass in float64); every other
   network is measured at full width.

Output: {spec file: [{"layer": name, "size": [...], "jump": [...], "start": [...]}, ...]} with
one entry per spec layer, in order; size, jump and start are null from the first fc or global
pool on. Numbers are per spatial axis in the spec's order (L; H, W; D, H, W).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

EXPECTED_TORCH = "2.13.0"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "data" / "torch_rf.json"

Chunk = tuple[str | None, nn.Module]
Builder = Callable[[int], list[Chunk]]


def seq(*modules: nn.Module) -> nn.Module:
    """Several torch modules as one spec layer (an fc is Flatten then Linear)."""
    return nn.Sequential(*modules)


def fc(n_in: int, n_out: int, bias: bool = True) -> nn.Module:
    """A spec fc layer: it flattens its input first."""
    return seq(nn.Flatten(), nn.Linear(n_in, n_out, bias=bias))


def vgg16(w: int) -> list[Chunk]:
    """VGG-16, configuration D (torchvision's vgg16 without its identity 7x7 adaptive pool)."""
    out: list[Chunk] = []
    c = 3
    for block, (k, n) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for i in range(1, n + 1):
            out.append((f"conv{block}_{i}", nn.Conv2d(c, k // w, 3, padding=1)))
            out.append((None, nn.ReLU()))
            c = k // w
        out.append((f"pool{block}", nn.MaxPool2d(2)))
    out += [
        ("fc6", fc(c * 7 * 7, 4096)),
        (None, nn.ReLU()),
        (None, nn.Dropout()),
        ("fc7", fc(4096, 4096)),
        (None, nn.ReLU()),
        (None, nn.Dropout()),
        ("fc8", fc(4096, 1000)),
    ]
    return out


def alexnet(w: int) -> list[Chunk]:
    """torchvision's AlexNet, module for module (torchvision itself is not installed)."""
    return [
        ("conv1", nn.Conv2d(3, 64 // w, 11, stride=4, padding=2)),
        (None, nn.ReLU()),
        ("pool1", nn.MaxPool2d(3, 2)),
        ("conv2", nn.Conv2d(64 // w, 192 // w, 5, padding=2)),
        (None, nn.ReLU()),
        ("pool2", nn.MaxPool2d(3, 2)),
        ("conv3", nn.Conv2d(192 // w, 384 // w, 3, padding=1)),
        (None, nn.ReLU()),
        ("conv4", nn.Conv2d(384 // w, 256 // w, 3, padding=1)),
        (None, nn.ReLU()),
        ("conv5", nn.Conv2d(256 // w, 256 // w, 3, padding=1)),
        (None, nn.ReLU()),
        ("pool5", nn.MaxPool2d(3, 2)),
        (None, nn.AdaptiveAvgPool2d((6, 6))),
        (None, nn.Dropout()),
        ("fc6", fc(256 // w * 6 * 6, 4096)),
        (None, nn.ReLU()),
        (None, nn.Dropout()),
        ("fc7", fc(4096, 4096)),
        (None, nn.ReLU()),
        ("fc8", fc(4096, 1000)),
    ]


def dcgan(w: int) -> list[Chunk]:
    """The PyTorch DCGAN tutorial's Generator (nz 100, ngf 64, nc 3)."""
    out: list[Chunk] = []
    chans = (100, 512 // w, 256 // w, 128 // w, 64 // w)
    for i, (c, k) in enumerate(itertools.pairwise(chans), 1):
        stride, pad = (1, 0) if i == 1 else (2, 1)
        out.append((f"deconv{i}", nn.ConvTranspose2d(c, k, 4, stride, pad, bias=False)))
        out.append((f"bn{i}", nn.BatchNorm2d(k)))
        out.append((f"relu{i}", nn.ReLU(True)))
    out.append(("deconv5", nn.ConvTranspose2d(chans[-1], 3, 4, 2, 1, bias=False)))
    out.append(("tanh", nn.Tanh()))
    return out


MOBILENET_BLOCKS = (
    ((1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)) + ((1, 512),) * 5 + ((2, 1024), (1, 1024))
)
"""(depthwise stride, pointwise filters) of the 13 blocks."""


def mobilenet_v1(w: int) -> list[Chunk]:
    """MobileNet-v1 at width 1.0 (Howard et al., 2017, Table 1), PyTorch padding 1."""
    c = 32 // w
    out: list[Chunk] = [
        ("conv1", nn.Conv2d(3, c, 3, 2, 1, bias=False)),
        ("conv1_bn", nn.BatchNorm2d(c)),
        ("conv1_relu", nn.ReLU(True)),
    ]
    for i, (s, k) in enumerate(MOBILENET_BLOCKS, 1):
        k //= w
        out += [
            (f"conv_dw_{i}", nn.Conv2d(c, c, 3, s, 1, groups=c, bias=False)),
            (f"conv_dw_{i}_bn", nn.BatchNorm2d(c)),
            (f"conv_dw_{i}_relu", nn.ReLU(True)),
            (f"conv_pw_{i}", nn.Conv2d(c, k, 1, bias=False)),
            (f"conv_pw_{i}_bn", nn.BatchNorm2d(k)),
            (f"conv_pw_{i}_relu", nn.ReLU(True)),
        ]
        c = k
    out += [("pool", nn.AdaptiveAvgPool2d(1)), ("fc", fc(c, 1000)), ("softmax", nn.Softmax(dim=1))]
    return out


DILATIONS = (1, 1, 2, 4, 8, 16, 1)


def dilated(w: int) -> list[Chunk]:
    """Yu & Koltun's basic context module (ICLR 2016, Table 1) for C = 21 classes."""
    c = 21
    out: list[Chunk] = []
    for i, d in enumerate(DILATIONS, 1):
        out.append((f"ctx{i}", nn.Conv2d(c, c, 3, padding=d, dilation=d)))
        out.append((f"relu{i}", nn.ReLU(True)))
    out.append(("ctx8", nn.Conv2d(c, c, 1)))
    return out


def m5(w: int) -> list[Chunk]:
    """M5 of Dai et al. (ICASSP 2017, Table 1): 32000 samples, Keras 'same' convolutions."""
    out: list[Chunk] = []
    c = 1
    for i, (k, f, s, p) in enumerate(((128, 80, 4, 38), (128, 3, 1, 1), (256, 3, 1, 1), (512, 3, 1, 1)), 1):
        out += [
            (f"conv{i}", nn.Conv1d(c, k // w, f, s, p)),
            (f"bn{i}", nn.BatchNorm1d(k // w)),
            (f"relu{i}", nn.ReLU(True)),
            (f"pool{i}", nn.MaxPool1d(4)),
        ]
        c = k // w
    out += [("gap", nn.AdaptiveAvgPool1d(1)), ("fc", fc(c, 10)), ("softmax", nn.Softmax(dim=1))]
    return out


def c3d(w: int) -> list[Chunk]:
    """C3D (Tran et al., ICCV 2015) as its Caffe Sports-1M model: pool5 rounds up (ceil mode)."""
    out: list[Chunk] = []
    c = 3
    plan: list[tuple[str, int, int | tuple[int, ...] | None]] = [
        ("1a", 64, (1, 2, 2)),
        ("2a", 128, 2),
        ("3a", 256, None),
        ("3b", 256, 2),
        ("4a", 512, None),
        ("4b", 512, 2),
        ("5a", 512, None),
        ("5b", 512, 2),
    ]
    for name, k, pool in plan:
        out += [(f"conv{name}", nn.Conv3d(c, k // w, 3, padding=1)), (f"relu{name}", nn.ReLU(True))]
        c = k // w
        if pool is not None:
            n = name[0]
            out.append((f"pool{n}", nn.MaxPool3d(pool, pool, ceil_mode=n == "5")))
    out += [
        ("fc6", fc(c * 1 * 4 * 4, 4096)),
        ("relu6", nn.ReLU(True)),
        ("drop6", nn.Dropout(0.5)),
        ("fc7", fc(4096, 4096)),
        ("relu7", nn.ReLU(True)),
        ("drop7", nn.Dropout(0.5)),
        ("fc8", fc(4096, 487)),
        ("softmax", nn.Softmax(dim=1)),
    ]
    return out


NETWORKS: dict[str, Builder] = {
    "vgg16.yaml": vgg16,
    "alexnet.yaml": alexnet,
    "dcgan.yaml": dcgan,
    "mobilenet_v1.yaml": mobilenet_v1,
    "dilated.yaml": dilated,
    "audio1d.yaml": m5,
    "video3d.yaml": c3d,
}
TRANSPOSED = {"dcgan.yaml"}
RF_INPUT: dict[str, tuple[int, ...]] = {
    "vgg16.yaml": (448, 448),
    "alexnet.yaml": (448, 448),
    "mobilenet_v1.yaml": (768, 768),
    "dilated.yaml": (256, 256),
    "audio1d.yaml": (32000,),
    "video3d.yaml": (112, 224, 224),
}
"""Spatial input for the receptive-field passes: large enough for interior units at every layer."""
RF_WIDTH_DIVISOR = {"video3d.yaml": 16}


def channels_last(shape: Sequence[int]) -> list[int]:
    """A torch shape without its batch, channels last; a (batch, features) shape is [features]."""
    dims = list(shape[1:])
    return dims if len(dims) == 1 else [*dims[1:], dims[0]]


def macs_of(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """convcalc's MAC count of one torch module, from its input and output."""
    total = 0
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            total += (
                math.prod(y.shape[2:])
                * m.out_channels
                * math.prod(m.kernel_size)
                * (m.in_channels // m.groups)
            )
        elif isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
            total += (
                math.prod(x.shape[2:])
                * m.in_channels
                * (m.out_channels // m.groups)
                * math.prod(m.kernel_size)
            )
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features
    return total


def read_expect(value: Any) -> dict[str, Any]:
    """A spec's expect mapping with its output as a list of ints."""
    out = dict(value or {})
    if "output" in out:
        shape = out["output"]
        if isinstance(shape, int):
            out["output"] = [shape]
        elif isinstance(shape, str):
            out["output"] = [int(p) for p in shape.lower().split("x")]
        else:
            out["output"] = list(shape)
    return out


def spatial_of(spec: dict[str, Any]) -> tuple[tuple[int, ...], int]:
    """The spec's input as (spatial sizes, channels); only the hwc layout is used here."""
    dims = tuple(int(p) for p in str(spec["input"]).lower().split("x"))
    assert spec.get("layout", "hwc") == "hwc", spec.get("layout")
    return dims[:-1], dims[-1]


def check_spec(file: str, spec: dict[str, Any], chunks: list[Chunk]) -> list[str]:
    """Run the torch model at the spec's input; print its table; return every expect mismatch."""
    names = [n for n, _ in chunks if n is not None]
    layers = spec["layers"]
    assert names == [layer.get("name") for layer in layers], (file, names)
    spatial, c = spatial_of(spec)
    x = torch.zeros(1, c, *spatial)
    problems: list[str] = []
    total_params = total_macs = 0
    rows: dict[str, tuple[list[int], int, int]] = {}
    with torch.no_grad():
        for name, module in chunks:
            module.eval()
            y = module(x)
            params = sum(p.numel() for p in module.parameters())
            macs = macs_of(module, x, y)
            total_params += params
            total_macs += macs
            if name is None:
                assert params == 0, (file, module)
                assert y.shape == x.shape or y.dim() == 2, (file, module)
            else:
                rows[name] = (channels_last(y.shape), params, macs)
            x = y
    output = channels_last(x.shape)
    print(f"\n{file}: output {'x'.join(map(str, output))}, params {total_params:,}, MACs {total_macs:,}")
    for layer in layers:
        name = layer["name"]
        shape, params, macs = rows[name]
        want = read_expect(layer.get("expect"))
        got = {"output": shape, "params": params, "macs": macs}
        bad = [f"{k} {want[k]} != {got[k]}" for k in want if want[k] != got[k]]
        mark = "  MISMATCH " + "; ".join(bad) if bad else ("  (expect ok)" if want else "")
        print(f"  {name:18} {'x'.join(map(str, shape)):>14} {params:>12,} {macs:>16,}{mark}")
        problems += [f"{file} {name}: {b}" for b in bad]
    want = read_expect(spec.get("expect"))
    got = {"output": output, "params": total_params, "macs": total_macs}
    problems += [f"{file} total: {k} {want[k]} != {got[k]}" for k in want if want[k] != got[k]]
    return problems


def rf_module(module: nn.Module) -> nn.Module:
    """The module for RF measurement: weights 1, bias 0, max pools as average pools, no nonlinearity."""
    if isinstance(module, nn.Sequential):
        return nn.Sequential(*(rf_module(m) for m in module))
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        with torch.no_grad():
            module.weight.fill_(1.0)
            if module.bias is not None:
                module.bias.zero_()
        return module
    avg = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d, nn.MaxPool3d: nn.AvgPool3d}
    if type(module) in avg:
        assert module.dilation in (1, (1,), (1, 1), (1, 1, 1)), module
        return avg[type(module)](module.kernel_size, module.stride, module.padding, module.ceil_mode)
    if isinstance(module, (nn.ReLU, nn.Dropout, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.Identity)):
        return nn.Identity()
    raise TypeError(f"no receptive-field version of {module}")


def ends_fields(module: nn.Module) -> bool:
    """Whether a layer's units see the whole input: fc, global or adaptive pooling."""
    kinds = (nn.Linear, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
    return any(isinstance(m, kinds) for m in module.modules())


def field_of(grad: torch.Tensor, axis: int) -> tuple[int, int]:
    """First and last input index with a nonzero gradient on one spatial axis; no holes allowed."""
    other = [d for d in range(grad.dim()) if d != axis + 1]
    hit = (grad.abs().amax(dim=other) > 0).nonzero().flatten().tolist()
    first, last = hit[0], hit[-1]
    assert len(hit) == last - first + 1, f"field with holes on axis {axis}: {hit}"
    return first, last


def _identity(shape: tuple[int, ...]) -> dict[str, Any]:
    """The field of the input itself: one pixel, jump 1, start 0."""
    return {"size": [1] * len(shape), "jump": [1] * len(shape), "start": [0] * len(shape)}


def measure(file: str, chunks: list[Chunk], channels: int) -> list[dict[str, Any]]:
    """Per spec layer: size, jump and start of its output units' fields on the input, by autograd."""
    torch.set_default_dtype(torch.float64)
    try:
        shape = RF_INPUT[file]
        x = torch.zeros(3, channels, *shape, requires_grad=True)
        y = x
        rows: list[dict[str, Any]] = []
        current = _identity(shape)
        done = False
        for name, module in chunks:
            if not done and ends_fields(module):
                done = True
            if done:
                if name is not None:
                    rows.append({"layer": name, "size": None, "jump": None, "start": None})
                continue
            module = rf_module(module).double()
            if isinstance(module, nn.Identity):
                if name is not None:
                    rows.append({"layer": name, **current})
                continue
            assert name is not None, (file, module)
            for p in module.parameters():
                p.requires_grad_(False)
            y = module(y)
            out = y.shape[2:]
            mids = [n // 2 for n in out]
            assert all(n >= 3 for n in out), (file, name, tuple(out))
            seed = torch.zeros_like(y)
            for b in range(3):
                seed[(b, 0, *(m - 1 + b for m in mids))] = 1.0
            (grad,) = torch.autograd.grad(y, x, seed, retain_graph=True)
            size, jump, start = [], [], []
            for axis, n in enumerate(shape):
                spans = [field_of(grad[b], axis) for b in range(3)]
                sizes = {last - first + 1 for first, last in spans}
                jumps = {spans[1][0] - spans[0][0], spans[2][0] - spans[1][0]}
                assert len(sizes) == 1, (file, name, axis, spans)
                assert len(jumps) == 1, (file, name, axis, spans)
                assert spans[0][0] >= 1, f"{file} {name}: field at the border {spans}"
                assert spans[2][1] <= n - 2, f"{file} {name}: field at the border {spans}"
                j = jumps.pop()
                size.append(sizes.pop())
                jump.append(j)
                start.append(spans[1][0] - mids[axis] * j)
            current = {"size": size, "jump": jump, "start": start}
            rows.append({"layer": name, **current})
        return rows
    finally:
        torch.set_default_dtype(torch.float32)


def main(argv: Sequence[str] | None = None) -> int:
    """Check every spec's expect values against torch, then write the receptive-field fixture."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON path")
    ap.add_argument("--no-rf", action="store_true", help="only check the specs' expect values")
    args = ap.parse_args(argv)
    if not torch.__version__.startswith(EXPECTED_TORCH):
        print(f"warning: made with torch {EXPECTED_TORCH}, running {torch.__version__}", file=sys.stderr)
    torch.manual_seed(0)
    problems: list[str] = []
    fields: dict[str, list[dict[str, Any]]] = {}
    for file, build in NETWORKS.items():
        spec = yaml.safe_load((ROOT / "specs" / file).read_text(encoding="utf-8"))
        problems += check_spec(file, spec, build(1))
        if args.no_rf or file in TRANSPOSED:
            continue
        began = time.perf_counter()
        fields[file] = measure(file, build(RF_WIDTH_DIVISOR.get(file, 1)), spatial_of(spec)[1])
        print(f"  receptive fields measured in {time.perf_counter() - began:.0f} s")
        for row in fields[file]:
            if row["size"] is not None:
                print(f"  rf {row['layer']:18} size {row['size']} jump {row['jump']} start {row['start']}")
    for p in problems:
        print("MISMATCH", p, file=sys.stderr)
    if not args.no_rf:
        text = ",\n".join(
            f"  {json.dumps(file)}: [\n" + ",\n".join(f"    {json.dumps(row)}" for row in rows) + "\n  ]"
            for file, rows in fields.items()
        )
        args.out.write_text("{\n" + text + "\n}\n", encoding="utf-8")
        print(f"\nwrote {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
