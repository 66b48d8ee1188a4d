"""Rebuild each Darknet fixture (tests/data/darknet/*.cfg) in PyTorch and record its numbers.

Run with /tmp/tvenv/bin/python (torch 2.13.0): python tools/gen_darknet_truth.py
Writes tests/data/darknet_truth.json: per network the input (H, W, C), params, non-trainable values
(BatchNorm's running mean and variance; num_batches_tracked left out), MACs in convcalc's
convention (conv and linear only: output elements x C_in/groups x k x k; in x out), and the
output shape (H, W, C), params and MACs of every Darknet layer, by its Darknet index.

The cfg is read here with a parser of its own, as Darknet's read_cfg does (whitespace removed,
`#` and `;` lines skipped), not with convcalc's reader, and every layer is built as Darknet's
parse.c builds it: a conv with batch_normalize has no bias; `pad=1` means size/2; a maxpool pads
`padding` (default size-1) with padding/2 before and the rest after and floors; a route concatenates
(or with groups/group_id takes one channel group of each input); a shortcut adds; an upsample
repeats each pixel; yolo/region/cost/detection heads keep the shape.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
NAMES = {
    "conv": "convolutional",
    "max": "maxpool",
    "avg": "avgpool",
    "conn": "connected",
    "soft": "softmax",
    "network": "net",
}
ACTS = {
    "leaky": lambda: nn.LeakyReLU(0.1),
    "relu": nn.ReLU,
    "logistic": nn.Sigmoid,
    "mish": nn.Mish,
    "swish": nn.SiLU,
    "tanh": nn.Tanh,
    "linear": nn.Identity,
}


def read_cfg(text):
    """Darknet's read_cfg: a list of (type, {key: value})."""
    sections = []
    for line in text.splitlines():
        line = "".join(line.split())
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            name = line[1:-1]
            sections.append((NAMES.get(name, name), {}))
        else:
            key, value = line.split("=", 1)
            sections[-1][1][key] = value
    return sections


class Net(nn.Module):
    def __init__(self, sections):
        super().__init__()
        net = sections[0][1]
        self.input = (int(net["height"]), int(net["width"]), int(net["channels"]))
        self.specs = sections[1:]
        self.mods = nn.ModuleList()
        shapes = []  # (C, H, W) of every layer, worked out by running as we build
        x = torch.zeros(1, self.input[2], self.input[0], self.input[1])
        outs = []
        for i, (kind, o) in enumerate(self.specs):
            mod = self._make(kind, o, x, outs, i)
            self.mods.append(mod)
            x = self._run(i, x, outs)
            outs.append(x)
            shapes.append(tuple(x.shape[1:]))

    def _make(self, kind, o, x, outs, i):
        c = x.shape[1]
        g = lambda k, d: int(o.get(k, d))
        if kind == "convolutional":
            size, bn = g("size", 1), g("batch_normalize", 0)
            pad = size // 2 if g("pad", 0) else g("padding", 0)
            layers = [
                nn.Conv2d(c, g("filters", 1), size, g("stride", 1), pad, groups=g("groups", 1), bias=not bn)
            ]
            if bn:
                layers.append(nn.BatchNorm2d(g("filters", 1)))
            layers.append(ACTS[o.get("activation", "logistic")]())
            return nn.Sequential(*layers)
        if kind == "maxpool":
            stride = g("stride", 1)
            size = g("size", stride)
            padding = g("padding", size - 1)
            before, after = padding // 2, padding - padding // 2
            pool = nn.MaxPool2d(size, stride)
            return Lambda(lambda t: pool(F.pad(t, (before, after, before, after), value=float("-inf"))))
        if kind == "avgpool":
            return nn.AdaptiveAvgPool2d(1)
        if kind == "connected":
            bn = g("batch_normalize", 0)
            layers = [nn.Flatten(), nn.Linear(x[0].numel(), g("output", 1), bias=not bn)]
            if bn:
                layers.append(nn.BatchNorm1d(g("output", 1)))
            layers.append(ACTS[o.get("activation", "logistic")]())
            return nn.Sequential(*layers)
        if kind == "upsample":
            return nn.Upsample(scale_factor=g("stride", 2), mode="nearest")
        if kind == "reorg":
            return Lambda(lambda t: darknet_reorg(t, g("stride", 1)))
        if kind == "softmax":
            return nn.Softmax(dim=1)
        if kind == "dropout":
            return nn.Dropout(float(o.get("probability", 0.5)))
        if kind in ("route", "shortcut"):
            return nn.Identity()
        if kind in ("yolo", "region", "cost", "detection"):
            return nn.Identity()
        raise SystemExit(f"no rebuild for [{kind}]")

    def _run(self, i, x, outs):
        kind, o = self.specs[i]
        idx = lambda k: [int(v) + i if int(v) < 0 else int(v) for v in o[k].split(",")]
        if kind == "route":
            groups, gid = int(o.get("groups", 1)), int(o.get("group_id", 0))
            parts = [torch.chunk(outs[j], groups, dim=1)[gid] for j in idx("layers")]
            return torch.cat(parts, dim=1)
        if kind == "shortcut":
            y = x
            for j in idx("from"):
                y = y + outs[j]
            return ACTS[o.get("activation", "linear")]()(y)
        return self.mods[i](x)

    def forward(self, x):
        outs = []
        for i in range(len(self.specs)):
            x = self._run(i, x, outs)
            outs.append(x)
        return outs


def darknet_reorg(x, s):
    """Darknet's reorg layer as it runs (reorg_cpu with forward=0 on the input's w, h, c): a
    permutation of the input read as (c*s*s, h/s, w/s), which is not PyTorch's pixel_unshuffle."""
    _, c, h, w = x.shape
    k, j, i = torch.meshgrid(torch.arange(c), torch.arange(h), torch.arange(w), indexing="ij")
    out_c = c // (s * s)
    c2, offset = k % out_c, k // out_c
    w2, h2 = i * s + offset % s, j * s + offset // s
    source = (w2 + w * s * (h2 + h * s * c2)).reshape(-1)
    return x.reshape(x.shape[0], -1)[:, source].reshape(x.shape[0], c * s * s, h // s, w // s)


def reorg_order(c=8, h=4, w=4, s=2):
    """How Darknet's reorg relates to pixel_unshuffle on one input: 'same', 'channels' (the same
    channels in another order) or 'elements' (the values of a channel differ too)."""
    x = torch.arange(c * h * w, dtype=torch.float32).reshape(1, c, h, w)
    ours, theirs = F.pixel_unshuffle(x, s)[0], darknet_reorg(x, s)[0]
    if torch.equal(ours, theirs):
        return "same"
    mine = {tuple(ch.flatten().tolist()) for ch in ours}
    return "channels" if all(tuple(ch.flatten().tolist()) in mine for ch in theirs) else "elements"


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def record(path):
    net = Net(read_cfg(path.read_text(encoding="utf-8"))).eval()
    macs = [0] * len(net.specs)

    def hook(i):
        def count(m, inp, out):
            if isinstance(m, nn.Conv2d):
                macs[i] += out.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            elif isinstance(m, nn.Linear):
                macs[i] += m.in_features * m.out_features

        return count

    for i, mod in enumerate(net.mods):
        for m in mod.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                m.register_forward_hook(hook(i))
    h, w, c = net.input
    with torch.no_grad():
        outs = net(torch.zeros(1, c, h, w))
    return {
        "input": list(net.input),
        "params": sum(p.numel() for p in net.parameters()),
        "non_trainable": sum(
            b.numel() for n, b in net.named_buffers() if not n.endswith("num_batches_tracked")
        ),
        "macs": sum(macs),
        "layers": [
            {
                "index": i,
                "type": kind,
                "out": [*o.shape[2:], o.shape[1]] if o.dim() == 4 else [o.shape[1]],
                "params": sum(p.numel() for p in mod.parameters()),
                "macs": macs[i],
            }
            for i, ((kind, _), mod, o) in enumerate(zip(net.specs, net.mods, outs))
        ],
    }


def main():
    assert torch.__version__.startswith("2.13"), torch.__version__
    truth = {"torch": torch.__version__, "reorg_vs_pixel_unshuffle": reorg_order(), "networks": {}}
    for path in sorted((DATA / "darknet").glob("*.cfg")):
        truth["networks"][path.stem] = record(path)
        t = truth["networks"][path.stem]
        print(
            f"{path.stem}: {t['params']:,} params, {t['non_trainable']:,} non-trainable, {t['macs']:,} MACs",
            file=sys.stderr,
        )
    nets = []
    for name, t in truth["networks"].items():  # one line per layer, for reading and diffs
        head = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in t.items() if k != "layers")
        rows = ",\n".join("    " + json.dumps(layer) for layer in t["layers"])
        nets.append(f' {json.dumps(name)}: {{{head}, "layers": [\n{rows}\n ]}}')
    text = (
        f'{{"torch": {json.dumps(truth["torch"])}, '
        f'"reorg_vs_pixel_unshuffle": {json.dumps(truth["reorg_vs_pixel_unshuffle"])}, "networks": {{\n'
        + ",\n".join(nets)
        + "\n}}"
    )
    (DATA / "darknet_truth.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
