"""Export small PyTorch models to tests/data/onnx/*.onnx and record their truth in
tests/data/onnx_truth.json: params (trainable), non-trainable values (BN running mean and variance),
MACs in convcalc's convention (conv, deconv and linear only), the output shape without the batch,
and every node output's shape as the exporter traced it (`shapes`, by tensor name).

Run with /tmp/tvenv/bin/python (torch, onnx). BN is kept as BatchNormalization (training-mode export:
an eval-mode export folds it into the conv before it, which changes the counts the file shows).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import onnx
import torch
from onnx.reference import ReferenceEvaluator
from torch import nn
from torch.nn import functional as F

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


def channel_shuffle(x, groups):
    """torchvision's ShuffleNetV2 channel shuffle: view, transpose, view (sizes read from x)."""
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class ShuffleUnit(nn.Module):
    """A ShuffleNetV2 unit of stride 1: half the channels through 1x1, depthwise 3x3, 1x1; shuffled."""

    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.branch = nn.Sequential(
            nn.Conv2d(h, h, 1, bias=False),
            nn.BatchNorm2d(h),
            nn.ReLU(),
            nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False),
            nn.BatchNorm2d(h),
            nn.Conv2d(h, h, 1, bias=False),
            nn.BatchNorm2d(h),
            nn.ReLU(),
        )

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat((a, self.branch(b)), dim=1), 2)


class TinyShuffle(nn.Module):
    """Stem, two shuffle units, x.mean([2, 3]) (ReduceMean without keepdims), a linear head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.units = nn.Sequential(ShuffleUnit(8), ShuffleUnit(8))
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        return self.fc(self.units(self.stem(x)).mean([2, 3]))


class TinyDecoder(nn.Module):
    """An upsampling decoder: nearest x2, a reflection pad and a zero pad of uneven sides, a bilinear
    resize to a size (align_corners), a spatial crop and a channel slice by indexing, PReLU, a
    transposed conv given its output size, a skip merged by subtraction and division."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Conv2d(3, 8, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Conv2d(8, 8, 3)
        self.act = nn.PReLU(8)
        self.act1 = nn.PReLU()
        self.deconv = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)
        self.deconv2 = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)
        self.out = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        x = self.up(self.inp(x))  # 8 x 16 x 16
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")  # 18 x 18
        x = self.act(self.conv(x))  # 16 x 16
        x = F.pad(x, (1, 2, 0, 1))  # 17 x 19
        x = F.interpolate(x, size=(20, 22), mode="bilinear", align_corners=True)
        x = x[:, :, 2:-2, 1:]  # 16 x 21
        y = self.act1(x[:, :4])  # 4 x 16 x 21
        y = self.deconv(y, output_size=[32, 42])
        z = self.deconv2(x[:, 4:], output_size=[31, 41])
        z = F.pad(z, (0, 1, 0, 1))
        return self.out((y - z) / (y + 2.0))


class LayerNorm2d(nn.LayerNorm):
    """ConvNeXt's channels-first layer norm: permute to channels last, nn.LayerNorm(C), permute back."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class TinyNorms(nn.Module):
    """InstanceNorm (affine), GELU (Erf at opset 17), a channels-last LayerNorm, LeakyReLU, a global
    mean with keepdims then flatten, LayerNorm on features, Hardsigmoid, Tanh. nn.LocalResponseNorm
    is left out: PyTorch exports it as a dozen ops (Pad, AveragePool, Pow, an If), not ONNX's LRN,
    which the tests build with onnx.helper."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.gelu = nn.GELU()
        self.conv2 = nn.Conv2d(8, 12, 3, stride=2, padding=1)
        self.lnorm = LayerNorm2d(12)
        self.leaky = nn.LeakyReLU(0.1)
        self.ln = nn.LayerNorm(12)
        self.fc = nn.Linear(12, 6)

    def forward(self, x):
        x = self.gelu(self.inorm(self.conv1(x)))
        x = self.leaky(self.lnorm(self.conv2(x)))
        x = x.mean(dim=(2, 3), keepdim=True).flatten(1)
        return torch.tanh(F.hardsigmoid(self.fc(self.ln(x))))


MODELS = {
    "tiny_resnet": (TinyResNet, (1, 3, 32, 32)),
    "tiny_branches": (TinyBranches, (1, 3, 16, 16)),
    "tiny_shuffle": (TinyShuffle, (1, 3, 16, 16)),
    "tiny_decoder": (TinyDecoder, (1, 3, 8, 8)),
    "tiny_norms": (TinyNorms, (1, 3, 12, 12)),
}
"""Each model and its input; BN models export in training mode (BN kept), without constant folding
(PyTorch's Shape -> Gather -> Concat arithmetic stays in the file); the others fold constants."""


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


def shapes(path, x):
    """Each node output's shape without the batch, from running the exported file itself on x with
    onnx's reference evaluator (every intermediate tensor made a graph output)."""
    model = onnx.load(str(path))
    names = [t for node in model.graph.node for t in node.output if t and node.op_type != "Constant"]
    del model.graph.output[:]
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(t) for t in names)
    results = ReferenceEvaluator(model).run(None, {"x": x.numpy()})
    return {t: list(r.shape[1:]) for t, r in zip(names, results) if getattr(r, "ndim", 0) >= 1}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name, (make, shape) in MODELS.items():
        torch.manual_seed(0)
        model = make().eval()
        x = torch.randn(*shape)
        count, out = macs(model, x)
        with_bn = any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
        path = OUT / f"{name}.onnx"
        torch.onnx.export(
            model,
            (x,),
            str(path),
            dynamo=False,
            opset_version=17,
            training=torch.onnx.TrainingMode.TRAINING if with_bn else torch.onnx.TrainingMode.EVAL,
            do_constant_folding=not with_bn,
            input_names=["x"],
            output_names=["y"],
        )
        truth[name] = {
            "input": list(shape[1:]),
            "params": sum(p.numel() for p in model.parameters()),
            "non_trainable": sum(
                b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")
            ),
            "macs": count,
            "output": out,
            "shapes": shapes(path, x),
        }
    TRUTH.write_text(json.dumps(truth, indent=2) + "\n")
    print(json.dumps({k: {f: v for f, v in t.items() if f != "shapes"} for k, t in truth.items()}, indent=2))


if __name__ == "__main__":
    main()
