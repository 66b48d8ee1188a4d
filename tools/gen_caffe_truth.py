#!/usr/bin/env python3
"""Record the ground truth of the Caffe fixtures (tests/data/caffe/*.prototxt) from PyTorch rebuilds.

Each prototxt is read by a small parser of its own, written here apart from convcalc's reader so that
the two are independent, and rebuilt layer by layer in plain PyTorch from the same numbers:
Convolution as nn.Conv2d, Pooling as nn.MaxPool2d/nn.AvgPool2d with ceil_mode=True (global pooling as
the adaptive pools to 1x1), InnerProduct as flatten + nn.Linear, BatchNorm as nn.BatchNorm2d without
affine (its running mean and variance; Caffe's third blob, the moving-average factor, is one number
that convcalc leaves out as it leaves out PyTorch's num_batches_tracked), Scale as a per-channel weight
(and bias), LRN as nn.LocalResponseNorm, Concat as torch.cat, Eltwise SUM/PROD as + and *, Crop as a
slice x[:, :, o:o + h, o:o + w] to the second bottom's size. Each pool's
output is also checked against Caffe's own rule (pooling_layer.cpp: ceil((N + 2P - F)/S) + 1, minus 1
when the pad is not 0 and the last window starts at or past N + P), so the ceil-mode rebuild is exact.

How to run (a scratch venv OUTSIDE the repo; torch is never a project dependency):

    /tmp/tvenv/bin/python tools/gen_caffe_truth.py [--out tests/data/caffe_truth.json]

File written (one JSON object; `models` maps each fixture's file stem to):

    input      [H, W, C] (channels last, as convcalc writes shapes; the batch axis dropped)
    output     [H, W, C] of the last layer
    params     sum(p.numel() for p in model.parameters())
    buffers    the batch norms' running mean and variance (num_batches_tracked left out)
    macs       convcalc's convention: conv prod(output spatial) x out x in/groups x prod(kernel),
               linear in x out, everything else 0
    layers     one entry per Caffe layer but the Input: name, class, out, params, macs
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "caffe"
TOKEN = re.compile(r'\s+|#[^\n]*|"[^"]*"|[{}:]|[^\s{}:"#]+')
V1 = {
    "CONVOLUTION": "Convolution",
    "POOLING": "Pooling",
    "RELU": "ReLU",
    "INNER_PRODUCT": "InnerProduct",
    "SOFTMAX": "Softmax",
}


def parse(text: str) -> dict[str, list]:
    """Protobuf text to nested dicts of lists of values (strings unquoted, everything else as text)."""
    tokens = [t for t in TOKEN.findall(text) if t.strip() and not t.startswith("#")]
    stack: list[dict[str, list]] = [{}]
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "}":
            stack.pop()
            i += 1
            continue
        key, i = t, i + 1
        if tokens[i] == ":":
            i += 1
        if tokens[i] == "{":
            inner: dict[str, list] = {}
            stack[-1].setdefault(key, []).append(inner)
            stack.append(inner)
        else:
            stack[-1].setdefault(key, []).append(tokens[i].strip('"'))
        i += 1
    return stack[0]


def one(m: dict, key: str, default: object = None) -> object:
    return m.get(key, [default])[-1]


def num(m: dict, key: str, default: int) -> int:
    return int(one(m, key, default))  # type: ignore[arg-type]


def kernel(p: dict, key: str, default: int) -> tuple[int, int]:
    short = "kernel" if key == "kernel_size" else key
    if f"{short}_h" in p:
        return int(p[f"{short}_h"][-1]), int(p[f"{short}_w"][-1])
    v = [int(x) for x in p.get(key, [default])]
    return (v[0], v[-1])


class Scale(nn.Module):
    def __init__(self, c: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c, 1, 1))
        self.bias = nn.Parameter(torch.zeros(c, 1, 1)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight + (self.bias if self.bias is not None else 0)


def caffe_pool(n: int, f: int, s: int, p: int) -> int:
    out = math.ceil((n + 2 * p - f) / s) + 1
    if p and (out - 1) * s >= n + p:
        out -= 1
    return out


def hwc(t: torch.Tensor) -> list[int]:
    return [*t.shape[2:], t.shape[1]]


def rebuild(net: dict) -> dict:
    """Run the net on zeros, one module per layer, and record what PyTorch says."""
    layers = [
        (layer, V1.get(one(layer, "type"), one(layer, "type")))
        for layer in net.get("layer", []) + net.get("layers", [])
    ]
    blobs: dict[str, torch.Tensor] = {}
    if "input" in net:
        dims = [int(d) for d in (net["input_shape"][0]["dim"] if "input_shape" in net else net["input_dim"])]
        blobs[one(net, "input")] = torch.zeros(1, *dims[1:])  # type: ignore[index]
    records, params, buffers, macs = [], 0, 0, 0
    torch.manual_seed(0)
    for layer, kind in layers:
        name, tops, bottoms = one(layer, "name"), layer.get("top", []), layer.get("bottom", [])
        if kind == "Input":
            dims = [int(d) for d in layer["input_param"][0]["shape"][0]["dim"]]
            blobs[tops[0]] = torch.zeros(1, *dims[1:])
            continue
        x = blobs[bottoms[0]]
        cin = x.shape[1]
        mac = 0
        if kind == "Split":
            for top in tops:
                blobs[top] = x
            continue
        if kind == "Slice":
            parts = torch.chunk(x, len(tops), dim=1)
            for i, (top, part) in enumerate(zip(tops, parts, strict=True)):
                blobs[top] = part
                records.append(
                    {"name": f"{name}.{i}", "class": "Slice", "out": hwc(part), "params": 0, "macs": 0}
                )
            continue
        if kind in ("Convolution", "Deconvolution"):
            p = layer["convolution_param"][0]
            k, s, pad = kernel(p, "kernel_size", 1), kernel(p, "stride", 1), kernel(p, "pad", 0)
            d, g, n = kernel(p, "dilation", 1), num(p, "group", 1), num(p, "num_output", 1)
            bias = one(p, "bias_term", "true") == "true"
            cls = nn.Conv2d if kind == "Convolution" else nn.ConvTranspose2d
            module: nn.Module = cls(cin, n, k, s, pad, dilation=d, groups=g, bias=bias)
            y = module(x)
            at = y if kind == "Convolution" else x
            mac = at.shape[2] * at.shape[3] * cin * n // g * k[0] * k[1]
        elif kind == "Pooling":
            p = layer["pooling_param"][0]
            mode = one(p, "pool", "MAX")
            if one(p, "global_pooling", "false") == "true":
                module = nn.AdaptiveMaxPool2d(1) if mode == "MAX" else nn.AdaptiveAvgPool2d(1)
                y = module(x)
            else:
                k, s, pad = kernel(p, "kernel_size", 1), kernel(p, "stride", 1), kernel(p, "pad", 0)
                cls = nn.MaxPool2d if mode == "MAX" else nn.AvgPool2d
                module = cls(k, s, pad, ceil_mode=True)
                y = module(x)
                want = [caffe_pool(n, f, st, q) for n, f, st, q in zip(x.shape[2:], k, s, pad)]
                assert list(y.shape[2:]) == want, (name, list(y.shape), want)
        elif kind == "InnerProduct":
            p = layer["inner_product_param"][0]
            module = nn.Linear(
                x[0].numel(), num(p, "num_output", 1), bias=one(p, "bias_term", "true") == "true"
            )
            y = module(x.flatten(1))
            mac = module.in_features * module.out_features
        elif kind in ("PReLU", "ELU", "Sigmoid", "TanH"):
            shared = one(layer.get("prelu_param", [{}])[0], "channel_shared", "false") == "true"
            module = {
                "PReLU": lambda: nn.PReLU(1 if shared else cin),
                "ELU": nn.ELU,
                "Sigmoid": nn.Sigmoid,
                "TanH": nn.Tanh,
            }[kind]()
            y = module(x)
        elif kind == "Flatten":
            module = nn.Flatten()
            y = module(x)
        elif kind == "Reshape":
            dims = [int(v) for v in layer["reshape_param"][0]["shape"][0]["dim"]]
            module, y = nn.Identity(), x.reshape(x.shape[0], *dims[1:])
        elif kind == "ReLU":
            module, y = nn.ReLU(), torch.relu(x)
        elif kind == "Softmax":
            module = nn.Softmax(dim=1)
            y = module(x)
        elif kind == "LRN":
            module = nn.LocalResponseNorm(num(layer["lrn_param"][0], "local_size", 5))
            y = module(x)
        elif kind == "Dropout":
            module = nn.Dropout(float(one(layer.get("dropout_param", [{}])[0], "dropout_ratio", 0.5)))  # type: ignore[arg-type]
            y = module.eval()(x)
        elif kind == "BatchNorm":
            module = nn.BatchNorm2d(cin, affine=False).eval()
            y = module(x)
        elif kind == "Scale":
            module = Scale(cin, one(layer.get("scale_param", [{}])[0], "bias_term", "false") == "true")
            y = module(x)
        elif kind == "Concat":
            module, y = nn.Identity(), torch.cat([blobs[b] for b in bottoms], dim=1)
        elif (
            kind == "Crop"
        ):  # crop_layer.cpp with axis 2: bottom 0 to bottom 1's spatial size from the offset
            offsets = [int(v) for v in layer.get("crop_param", [{}])[0].get("offset", ["0"])]
            (oh, ow), like = (offsets * 2 if len(offsets) == 1 else offsets), blobs[bottoms[1]]
            h, w = like.shape[2], like.shape[3]
            assert oh + h <= x.shape[2], (name, "Caffe refuses a crop past the end")
            assert ow + w <= x.shape[3], (name, "Caffe refuses a crop past the end")
            module, y = nn.Identity(), x[:, :, oh : oh + h, ow : ow + w]
        elif kind == "Eltwise":
            op = one(layer.get("eltwise_param", [{}])[0], "operation", "SUM")
            parts = [blobs[b] for b in bottoms]
            module, y = (
                nn.Identity(),
                (sum(parts[1:], parts[0]) if op == "SUM" else math.prod(parts[1:], start=parts[0])),
            )
        else:
            raise SystemExit(f"{name}: no rebuild for {kind}")
        n_params = sum(q.numel() for q in module.parameters())
        n_buffers = sum(b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))
        params, buffers, macs = params + n_params, buffers + n_buffers, macs + mac
        blobs[tops[0]] = y
        out = hwc(y) if y.dim() > 2 else [y.shape[1]]
        records.append(
            {
                "name": name,
                "class": type(module).__name__
                if kind not in ("Concat", "Eltwise", "Reshape", "Crop")
                else kind,
                "out": out,
                "params": n_params,
                "macs": mac,
            }
        )
    first = next(iter(blobs.values()))
    return {
        "input": hwc(first),
        "output": records[-1]["out"],
        "params": params,
        "buffers": buffers,
        "macs": macs,
        "layers": records,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "caffe_truth.json")
    args = ap.parse_args()
    models = {}
    with torch.no_grad():
        for path in sorted(FIXTURES.glob("*.prototxt")):
            models[path.stem] = rebuild(parse(path.read_text(encoding="utf-8")))
    lines = [
        "{",
        f'"torch": "{torch.__version__}",',
        '"command": "/tmp/tvenv/bin/python tools/gen_caffe_truth.py",',
        '"models": {',
    ]
    for i, (stem, m) in enumerate(models.items()):
        head = {k: v for k, v in m.items() if k != "layers"}
        body = ",\n".join("      " + json.dumps(r) for r in m["layers"])
        inner = ",\n".join(f'    "{k}": {json.dumps(v)}' for k, v in head.items())
        lines.append(
            f'  "{stem}": {{\n{inner},\n    "layers": [\n{body}\n    ]\n  }}'
            + ("," if i < len(models) - 1 else "")
        )
    lines += ["}", "}"]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for stem, m in models.items():
        print(
            f"{stem}: {m['params']:,} params, {m['buffers']:,} buffers, {m['macs']:,} MACs, out {m['output']}"
        )


if __name__ == "__main__":
    main()
