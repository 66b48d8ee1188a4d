#!/usr/bin/env python3
"""Record what five counting tools report for the shipped torchvision models and U-Nets (issue 16, part 1).

Each tool's headline total for one forward pass at batch 1, in eval mode, at the input of the
model's spec (tests/data/torchvision/totals.json: 224 x 224, inception_v3 299 x 299), built as
tools/gen_torchvision.py builds it (weights=None; googlenet and inception_v3 with
aux_logits=False, init_weights=False):

    torchinfo      torchinfo.summary(model, input_size=(1, C, H, W), verbose=0).total_mult_adds
    ptflops        ptflops.get_model_complexity_info(model, (C, H, W), as_strings=False,
                   print_per_layer_stat=False, backend='pytorch')[0]
    ptflops_aten   the same with backend='aten'
    fvcore         fvcore.nn.FlopCountAnalysis(model, x).total()
    thop           thop.profile(model, inputs=(x,), verbose=False)[0] (MACs; a float64 sum, whole)
    pytorch        torch.utils.flop_counter.FlopCounterMode(display=False): get_total_flops()

and, to find each tool's rules, cheap breakdowns: ptflops's module hooks alone
(backend_specific_config={'count_functional': False}), fvcore's by_operator(), and
FlopCounterMode's flops per aten operator. Every tool gets its own deep copy of the model
(thop adds and removes buffers, torchinfo and ptflops add hooks).

How to run (a scratch venv OUTSIDE the repo, the one of tools/gen_torchvision.py, with the
four tools added from the package index; never install another torch):

    /tmp/tvenv/bin/pip install torchinfo ptflops fvcore thop
    /tmp/tvenv/bin/python tools/gen_conventions.py [--models resnet50,googlenet] [--out FILE]

Recorded with torch 2.13.0, torchvision 0.28.0, torchinfo 1.8.0, ptflops 0.7.5,
fvcore 0.1.5.post20221221, thop 0.1.1.post2209072238, for all 68 shipped specs
(`--models all`): the six models of the issue take about 1.5 minutes on two busy cores, all 68
about 30 (ConvNeXt-Large, EfficientNet-V2-L and RegNet-Y-128GF the longest). Tests never run
this script and never import torch.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import sys
import time
import types
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "data" / "conventions.json"
TOTALS = ROOT / "tests" / "data" / "torchvision" / "totals.json"
SIX = ("resnet18", "resnet50", "mobilenet_v2", "densenet121", "googlenet", "efficientnet_b0")
EXTRA_ARGS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}
TOOLS = ("torch", "torchvision", "torchinfo", "ptflops", "fvcore", "thop")
COMMAND = "/tmp/tvenv/bin/python tools/gen_conventions.py"


def kinds_model() -> nn.Module:
    """Layers no torchvision model has, to check the rules read for them (tests/test_conventions.py holds
    the same network as a spec, KINDS): input 16 x 16 x 3."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.GroupNorm(2, 8),
        nn.PReLU(),
        nn.ConvTranspose2d(8, 4, 2, stride=2),
        nn.InstanceNorm2d(4, affine=True),
        nn.LeakyReLU(),
        nn.AvgPool2d(2),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Hardswish(),
        nn.MaxPool2d(2),
        nn.Upsample(size=(24, 24), mode="bilinear"),
        nn.LocalResponseNorm(3),
        nn.Softmax(dim=1),
        nn.AdaptiveAvgPool2d((5, 5)),
        nn.Flatten(),
        nn.Linear(100, 10),
        nn.GELU(),
        nn.ELU(),
        nn.LayerNorm(10),
        nn.ReLU6(),
        nn.SiLU(),
    )


def unet_model(name: str) -> nn.Module:
    """The two U-Nets as tools/gen_unet.py builds them (the original at 572 x 572 x 1, the padded one,
    milesial's, at 256 x 256 x 3)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gen_unet import MODELS, UNet

    _, channels, classes, padded = MODELS[name]
    return UNet(channels, classes, padded=padded, crops=[])


BUILT_IN = {
    "kinds": (kinds_model, [16, 16, 3]),
    "unet": (lambda: unet_model("unet"), [572, 572, 1]),
    "unet_padded": (lambda: unet_model("unet_padded"), [256, 256, 3]),
}
"""Networks built here rather than by torchvision: name -> (builder, input H, W, C)."""


def build(name: str) -> nn.Module:
    """The model in eval mode, untrained."""
    torch.manual_seed(0)
    if name in BUILT_IN:
        return BUILT_IN[name][0]().eval()
    return torchvision.models.get_model(name, weights=None, **EXTRA_ARGS.get(name, {})).eval()


def quiet() -> contextlib.ExitStack:
    """Silence a tool's prints and warnings."""
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def measure(name: str, hwc: list[int]) -> dict[str, Any]:
    """Every tool's total for one model, and the breakdowns."""
    import fvcore.nn
    import ptflops
    import thop
    import torchinfo
    from torch.utils.flop_counter import FlopCounterMode

    h, w, c = hwc
    base = build(name)
    x = torch.randn(1, c, h, w)
    out: dict[str, Any] = {"input": hwc}
    with torch.no_grad(), quiet():
        out["torchinfo"] = int(
            torchinfo.summary(copy.deepcopy(base), input_size=(1, c, h, w), verbose=0).total_mult_adds
        )
        for key, backend in (("ptflops", "pytorch"), ("ptflops_aten", "aten")):
            macs, _ = ptflops.get_model_complexity_info(
                copy.deepcopy(base), (c, h, w), as_strings=False, print_per_layer_stat=False, backend=backend
            )
            out[key] = int(macs)
        modules_only, _ = ptflops.get_model_complexity_info(
            copy.deepcopy(base),
            (c, h, w),
            as_strings=False,
            print_per_layer_stat=False,
            backend="pytorch",
            backend_specific_config={"count_functional": False},
        )
        analysis = fvcore.nn.FlopCountAnalysis(copy.deepcopy(base), (x,))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        out["fvcore"] = int(analysis.total())
        by_op = {k: int(v) for k, v in sorted(analysis.by_operator().items())}
        macs_f, _ = thop.profile(copy.deepcopy(base), inputs=(x,), verbose=False)
        if macs_f != int(macs_f):
            raise SystemExit(f"{name}: thop gave a fraction {macs_f}")
        out["thop"] = int(macs_f)
        counter = FlopCounterMode(display=False)
        with counter:
            copy.deepcopy(base)(x)
        out["pytorch"] = int(counter.get_total_flops())
        pt_ops = {str(k): int(v) for k, v in sorted(counter.get_flop_counts()["Global"].items(), key=str)}
    out["breakdown"] = {
        "ptflops_modules_only": int(modules_only),
        "fvcore_by_operator": by_op,
        "pytorch_by_operator": pt_ops,
    }
    return out


def main() -> None:
    """Measure the models asked for (default: the six of the issue) and merge them into the file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        default=",".join(SIX),
        help="comma-separated names, or 'all' (every shipped spec, and kinds)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    totals = json.loads(TOTALS.read_text())["totals"]
    names = (
        [*sorted(p.stem for p in (ROOT / "specs" / "torchvision").glob("*.yaml")), *BUILT_IN]
        if args.models == "all"
        else args.models.split(",")
    )
    data: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    data["versions"] = {t: version(t) for t in TOOLS}
    data["command"] = COMMAND
    models = data.setdefault("models", {})
    for name in names:
        start = time.time()
        models[name] = measure(name, BUILT_IN[name][1] if name in BUILT_IN else totals[name]["input"])
        print(
            f"{name}: {time.time() - start:.1f} s",
            json.dumps({k: v for k, v in models[name].items() if k != "breakdown"}),
            flush=True,
        )
        data["models"] = dict(sorted(models.items()))
        args.out.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
