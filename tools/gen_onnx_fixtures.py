"""Export two small PyTorch models to tests/data/onnx/*.onnx and record their truth in
tests/data/onnx_truth.json: params (trainable), non-trainable values (BN running mean and variance),
MACs in convcalc's convention (conv, deconv and linear only) and the output shape without the batch.

Run with /tmp/tvenv/bin/python (torch, onnx). BN is kept as BatchNormalization (training-mode export:
an eval-mode export folds it into the conv before it, which changes the counts the file shows).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "onnx"
TRUTH = ROOT / "tests" / "data" / "onnx_truth.json"


class Residual(nn.Module):
    """A ResNet basic block, 8 channels."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + x)


class TinyResNet(nn.Module):
    """Stem conv-bn-relu, a ceil-mode max pool, one residual block, global average pool, linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.block = Residual(8)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

    def forward(self, x):
        return self.head(self.block(self.pool(self.stem(x))))


class TinyBranches(nn.Module):
    """ReLU6 and a depthwise conv, two branches concatenated, an avg pool, a transposed conv."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Hardswish())
        self.pw = nn.Sequential(nn.Conv2d(8, 8, 1), nn.Sigmoid())
        self.pool = nn.AvgPool2d(2, stride=2, padding=1, count_include_pad=False)
        self.up = nn.ConvTranspose2d(16, 4, 2, stride=2)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([self.dw(x), self.pw(x)], dim=1)
        return torch.tanh(self.up(self.pool(x)))


MODELS = {"tiny_resnet": (TinyResNet, (1, 3, 32, 32)), "tiny_branches": (TinyBranches, (1, 3, 16, 16))}


def macs(model, x):
    """conv: output elements x C_in/groups x kernel; deconv: input elements x C_out/groups x kernel;
    linear: in x out per row."""
    total = [0]

    def hook(m, inputs, output):
        if isinstance(m, nn.ConvTranspose2d):
            total[0] += inputs[0].numel() * m.out_channels // m.groups * math.prod(m.kernel_size)
        elif isinstance(m, nn.Conv2d):
            total[0] += output.numel() * m.in_channels // m.groups * math.prod(m.kernel_size)
        elif isinstance(m, nn.Linear):
            total[0] += m.in_features * m.out_features * (output.numel() // m.out_features)

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        y = model(x)
    for h in handles:
        h.remove()
    return total[0], list(y.shape[1:])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name, (make, shape) in MODELS.items():
        torch.manual_seed(0)
        model = make().eval()
        x = torch.randn(*shape)
        count, out = macs(model, x)
        truth[name] = {
            "input": list(shape[1:]),
            "params": sum(p.numel() for p in model.parameters()),
            "non_trainable": sum(
                b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")
            ),
            "macs": count,
            "output": out,
        }
        torch.onnx.export(
            model,
            (x,),
            str(OUT / f"{name}.onnx"),
            dynamo=False,
            opset_version=17,
            training=torch.onnx.TrainingMode.TRAINING,
            do_constant_folding=False,
            input_names=["x"],
            output_names=["y"],
        )
    TRUTH.write_text(json.dumps(truth, indent=2) + "\n")
    print(json.dumps(truth, indent=2))


if __name__ == "__main__":
    main()
