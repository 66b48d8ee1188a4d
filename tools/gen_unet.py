#!/usr/bin/env python3
"""Record the ground truth of the two U-Nets shipped as specs/unet.yaml and specs/unet_padded.yaml.

Issue 13 asks for a U-Net beside the torchvision models: the original (Ronneberger, Fischer and
Brox 2015, "U-Net: Convolutional Networks for Biomedical Image Segmentation": 572 x 572 x 1 in,
valid 3x3 convolutions, 2x2 max pools, 2x2 up-convolutions that halve the channels, the skip
connection centre-cropped before the concatenation, a 1x1 convolution to 2 classes, 388 x 388 x 2
out) and a padded one as milesial/Pytorch-UNet builds it (UNet(n_channels=3, n_classes=2,
bilinear=False): padded 3x3 convolutions without bias, each followed by a batch norm and a ReLU,
transposed-convolution upsampling; 256 x 256 x 3 in, 256 x 256 x 2 out). Neither is in
torchvision, so both are written here in plain PyTorch, with milesial's module names (inc,
down1..down4 with maxpool_conv, up1..up4 with up and conv, outc.conv, and double_conv inside)
for both, so the specs can use the same names. The specs are written by hand; this script only
records what torch says, for their `expect:` values and for tests/test_unet_specs.py, which
never imports torch.

How to run (a scratch venv OUTSIDE the repo; torch is never a project dependency):

    python3 -m venv /tmp/tvenv
    /tmp/tvenv/bin/pip install torch==2.13.0          # the CPU wheel; never plain `torch`
    /tmp/tvenv/bin/python tools/gen_unet.py [--out tests/data/unet_truth.json]

It takes a few seconds (the original U-Net at 572 x 572 is the slow part); the models are built
with torch.manual_seed(0), run on zeros in eval mode, and nothing recorded depends on the values.

File written (one JSON object; `models` maps unet and unet_padded to):

    input      [H, W, C] (channels last, as convcalc writes shapes)
    output     [H, W, C] of the output
    params     sum(p.numel() for p in model.parameters())
    buffers    sum of numel over the buffers except num_batches_tracked (batch norms' running
               mean and variance; 0 for the original, which has no batch norm)
    macs       convcalc's convention, summed over every Conv2d, ConvTranspose2d and Linear call,
               from the shapes a forward hook saw (tools/gen_torchvision.py's rule):
               conv  prod(output spatial) x out_channels x in_channels/groups x prod(kernel)
               convT prod(input spatial) x in_channels x out_channels/groups x prod(kernel)
               everything else 0
    crops      the original only: one entry per skip connection, in order: `up` (the Up module),
               `skip` (the skip tensor's [H, W, C]) and `size` ([H, W] it is cropped to, the
               up-convolution's output; the crop starts at (N - size) // 2)
    layers     one record per leaf-module call, in the order they run: name (qualified module
               name), class, out ([H, W, C]), params, macs. The crop, the padding (padded U-Net:
               F.pad by the size difference, nothing at 256 x 256) and torch.cat are functional,
               so they have no record.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

EXPECTED_TORCH = "2.13.0"
COMMAND = "/tmp/tvenv/bin/python tools/gen_unet.py"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "data" / "unet_truth.json"
CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
CONV_T = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
MODELS = {
    # name: (input size, input channels, classes, padded)
    "unet": (572, 1, 2, False),
    "unet_padded": (256, 3, 2, True),
}
EXPECTED_OUTPUT = {"unet": [388, 388, 2], "unet_padded": [256, 256, 2]}
EXPECTED_CROPS = [56, 104, 200, 392]
"""The paper's Figure 1: the skips of 64, 136, 280 and 568 pixels cropped to these."""


class DoubleConv(nn.Module):
    """(3x3 conv => [BN] => ReLU) x 2; padded with batch norm (milesial), or valid without (the paper)."""

    def __init__(self, c_in: int, c_out: int, *, padded: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a in (c_in, c_out):
            layers.append(nn.Conv2d(a, c_out, kernel_size=3, padding=1 if padded else 0, bias=not padded))
            if padded:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU(inplace=True))
        self.double_conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.double_conv(x)


class Down(nn.Module):
    """2x2 max pool, stride 2, then a DoubleConv."""

    def __init__(self, c_in: int, c_out: int, *, padded: bool) -> None:
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(c_in, c_out, padded=padded))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool_conv(x)


class Up(nn.Module):
    """2x2 up-convolution halving the channels, the skip aligned (cropped or the upsampled padded),
    concatenated skip first, then a DoubleConv."""

    def __init__(
        self, c_in: int, c_out: int, *, padded: bool, crops: list[dict[str, Any]], name: str
    ) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_in // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(c_in, c_out, padded=padded)
        self.padded = padded
        self.crops = crops
        self.name = name

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        x1 = self.up(x1)
        dy, dx = x2.size(2) - x1.size(2), x2.size(3) - x1.size(3)
        if self.padded:  # milesial: pad the upsampled tensor to the skip's size
            x1 = F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        else:  # the paper: crop the skip to the upsampled size, centred
            h, w = x1.shape[2:]
            self.crops.append({"up": self.name, "skip": hwc(x2), "size": [h, w]})
            x2 = x2[:, :, dy // 2 : dy // 2 + h, dx // 2 : dx // 2 + w]
        return self.conv(torch.cat([x2, x1], dim=1))


class OutConv(nn.Module):
    """1x1 convolution to the classes."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class UNet(nn.Module):
    """U-Net with 64 to 1024 channels over four levels, milesial's module names."""

    def __init__(self, channels: int, classes: int, *, padded: bool, crops: list[dict[str, Any]]) -> None:
        super().__init__()
        self.inc = DoubleConv(channels, 64, padded=padded)
        self.down1 = Down(64, 128, padded=padded)
        self.down2 = Down(128, 256, padded=padded)
        self.down3 = Down(256, 512, padded=padded)
        self.down4 = Down(512, 1024, padded=padded)
        self.up1 = Up(1024, 512, padded=padded, crops=crops, name="up1")
        self.up2 = Up(512, 256, padded=padded, crops=crops, name="up2")
        self.up3 = Up(256, 128, padded=padded, crops=crops, name="up3")
        self.up4 = Up(128, 64, padded=padded, crops=crops, name="up4")
        self.outc = OutConv(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


def hwc(t: torch.Tensor) -> list[int]:
    """A batch-1 NCHW tensor's shape as convcalc writes it: [H, W, C]."""
    return [*t.shape[2:], t.shape[1]]


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


def buffers_of(m: nn.Module) -> int:
    """Buffer elements, num_batches_tracked excluded."""
    return sum(b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked"))


def record(name: str) -> dict[str, Any]:
    """Build one U-Net, run it once with hooks on its leaves, and return its record."""
    size, channels, classes, padded = MODELS[name]
    crops: list[dict[str, Any]] = []
    model = UNet(channels, classes, padded=padded, crops=crops).eval()
    rows: list[dict[str, Any]] = []

    def hook(q: str) -> Any:
        def run(m: nn.Module, args: tuple[Any, ...], y: torch.Tensor) -> None:
            rows.append(
                {
                    "name": q,
                    "class": type(m).__name__,
                    "out": hwc(y),
                    "params": sum(p.numel() for p in m.parameters()),
                    "macs": macs_of(m, args[0], y),
                }
            )

        return run

    leaves = [(q, m) for q, m in model.named_modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook(q)) for q, m in leaves]
    with torch.no_grad():
        y = model(torch.zeros(1, channels, size, size))
    for h in handles:
        h.remove()
    out: dict[str, Any] = {
        "input": [size, size, channels],
        "output": hwc(y),
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": buffers_of(model),
        "macs": sum(r["macs"] for r in rows),
    }
    if not padded:
        out["crops"] = crops
    out["layers"] = rows
    return out


def dump(head: dict[str, Any], models: dict[str, dict[str, Any]]) -> str:
    """One JSON object, a line per key and per layer record, so diffs stay readable."""
    lines = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    parts = []
    for name, rec in models.items():
        keys = [f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in rec.items() if k != "layers"]
        body = ",\n".join(f"      {json.dumps(r)}" for r in rec["layers"])
        keys.append(f'    "layers": [\n{body}\n    ]')
        parts.append(f"  {json.dumps(name)}: {{\n" + ",\n".join(keys) + "\n  }")
    lines.append('"models": {\n' + ",\n".join(parts) + "\n}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Record both U-Nets, check the paper's figures, write the file."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output file")
    args = ap.parse_args(argv)
    if not torch.__version__.startswith(EXPECTED_TORCH):
        print(f"warning: made with torch {EXPECTED_TORCH}, running {torch.__version__}", file=sys.stderr)
    torch.manual_seed(0)
    models = {name: record(name) for name in MODELS}
    problems = [
        f"{name}: output {models[name]['output']} != {want}"
        for name, want in EXPECTED_OUTPUT.items()
        if models[name]["output"] != want
    ]
    if [c["size"] for c in models["unet"]["crops"]] != [[n, n] for n in EXPECTED_CROPS]:
        problems.append(f"unet: crops {models['unet']['crops']}")
    for name, rec in models.items():
        print(f"{name:12} params {rec['params']:>12,} macs {rec['macs']:>16,} out {rec['output']}")
    head = {"torch": torch.__version__, "command": COMMAND}
    args.out.write_text(dump(head, models), encoding="utf-8")
    for p in problems:
        print("MISMATCH", p, file=sys.stderr)
    print(f"wrote {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
