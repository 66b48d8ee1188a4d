#!/usr/bin/env python3
"""Regenerate tests/data/torch_kinds.json: what PyTorch does for issue 12's new single-input kinds.

Ground truth for the kinds `upsample`, `pad`, `crop`, `reshape`, `pixel_shuffle`,
`pixel_unshuffle`, `lrn`, `layer_norm`, `group_norm`, `instance_norm`, `prelu`,
`channel_shuffle`, `scale`, `identity` and every activation `act` could name, recorded
so that convcalc's implementation of these kinds can be tested without torch.  Like
tools/gen_torch_cases.py, this script is one of the few places torch is imported;
tests never run it (tests/test_torch_kinds_data.py only checks the file it writes).

How to run (a scratch venv OUTSIDE the repo; torch is never a project dependency):

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0 numpy pyyaml   # the CPU wheel
    /tmp/torchenv/bin/python tools/gen_torch_kinds.py [--out tests/data/torch_kinds.json]

It takes a few seconds; the cases are fixed (hand-picked plus `random.Random(SEED)`),
every tensor is zeros or an index ramp, so the file is byte-for-byte reproducible.

File layout: one JSON object, `torch` (version), `command`, `seed`, `counts` (cases per
kind) and `cases`, sorted by id, one case per line, keys sorted.  A case is

    id          unique, stable label
    kind        the spec's `type:` name
    spec        the convcalc layer mapping the case stands for, with EXACTLY the issue's keys
                (a key left out takes the issue's default); `type` equals `kind`
    spec_chw    reshape only: the same layer for a spec with `layout: chw`
    input       the spec's input, channels last ([spatial..., C]; [features] when flat)
    input_nchw  the tensor given to PyTorch: [1, C, spatial...] ([1, features] when flat)
    torch       module       what was run, in PyTorch's words
                output       [spatial..., C] (channels last) | null
                output_nchw  the tensor's shape | null
                params       sum of p.numel() over parameters (trainable) | null
                non_trainable sum of numel over floating-point buffers (running mean and
                             variance: what convcalc calls non-trainable) | null
                buffers      sum of numel over ALL buffers (adds the int64 scalar
                             num_batches_tracked) | null
                kept         crop only: per axis [first, last] input index kept (read from
                             the values of an index ramp, not computed) | null
                error        first line of the exception message | null
                error_type   exception class name; "Unsupported" when PyTorch has no module
                             for the rank (stage "rank": nothing was run) | null
                stage        null | "rank" | "construct" | "forward"
                warning      first line of the first warning raised | null

A refusal is an error, or an output with a 0 in it (a crop that leaves nothing, which
PyTorch returns without complaint), as in tests/data/torch_cases.json.

How each kind is built (batch 1, module in eval mode, forward under no_grad):

    upsample         nn.Upsample(size=..., scale_factor=..., mode=..., align_corners=...)
    pad              nn.{Zero,Reflection,Replication,Circular}Pad{1,2,3}d, padding in
                     PyTorch's order (last axis first, (before, after) each)
    crop             SLICING: x.narrow(axis, start, length) per spatial axis (narrow is
                     slicing that refuses out-of-range bounds instead of clamping them);
                     per-side crop: start = before, length = N - before - after; centre
                     crop to `size`: start = (N - size) // 2, the odd pixel removed AFTER
                     (TensorFlow/Keras CenterCrop and Caffe's Crop convention).  Checked to
                     equal x[..., start:start + length] whenever that is in range.
    reshape          x.reshape(1, *shape) with `shape` converted from the spec's layout to
                     PyTorch's: hwc [s..., C] -> [C, s...] (a rank-1 shape stays)
    pixel_shuffle    nn.PixelShuffle(factor) / nn.PixelUnshuffle(factor)
    lrn              nn.LocalResponseNorm(size)
    layer_norm       ConvNeXt's LayerNorm2d: x.permute(channels last) -> nn.LayerNorm(C,
                     elementwise_affine=affine) -> permute back
    group_norm       nn.GroupNorm(groups, C, affine=affine)
    instance_norm    nn.InstanceNorm{1,2,3}d(C, affine=..., track_running_stats=...)
    prelu            nn.PReLU() (per_channel false) or nn.PReLU(C)
    channel_shuffle  nn.ChannelShuffle(groups)
    scale            a module with a C-parameter (and a C-bias when `bias`):
                     y = x * w[c] (+ b[c]); PyTorch has no such layer
    identity         nn.Identity(), and dropout in eval mode (its inference form)
    act              every module of torch.nn.modules.activation but PReLU (its own kind)
                     and MultiheadAttention; softmax-like ones over dim=1 (channels)

Facts learnt (torch 2.13.0, CPU):

- Upsample size: floor(N * scale) where N * scale is ONE IEEE double multiplication of
  N and the double nearest the written scale (Python's math.floor(N * scale)); 100 x 0.57
  is 56.99999999999999 -> 56, not 57 (so does 100 x 0.29 -> 28, 100 x 0.58 -> 57,
  100 x 1.15 -> 114).  It is NOT exact arithmetic on the decimal (57), and not exact
  arithmetic on the double either: 10 x 0.7 rounds to 7.0 -> 7, although the double 0.7 is
  below 7/10.  The same in every mode, with recompute_scale_factor=True, and in
  'nearest-exact' (checked on every witness).  Cases with id upsample-rounding-* are
  such witnesses.
- Upsample modes and ranks: nearest takes 1-, 2- and 3-D; linear only 1-D, bilinear and
  bicubic only 2-D, trilinear only 3-D (NotImplementedError "Got 4D input, but linear
  mode needs 3D input"; bicubic's message differs).  A flat [features] input is refused
  in every mode.  align_corners may be given (true or false) only for linear, bilinear,
  bicubic, trilinear: nearest with align_corners, even false, is a ValueError.
- Upsample refusals: an output size < 1 ("Input and output sizes should be greater than
  0"), a negative scale (output truncated towards zero: -0.57 x 100 -> -56 in the message);
  scale 0 reads as "not given" (ValueError "either size or scale_factor should be
  defined"); size and scale together; a per-axis list of the wrong length; a float size
  (TypeError).  Per-axis scales and sizes are allowed.
- Pad: output N + before + after per axis.  reflect needs EACH side < N on its axis
  (before and after checked separately, the last axis first; pad 0 on N = 1 is fine,
  1 is not); circular
  needs each side <= N ("wraps around more than once" beyond); zeros and replicate take
  any size (replicate even with N = 1).
- Crop: nothing in PyTorch; narrow refuses before + after > N ("narrow(): length must be
  non-negative.") and a centre size > N; before + after = N gives an empty axis.
  torchvision's CenterCrop is different (its source, not recorded: torchvision is not
  installed): it pads a too-small image and starts at int(round((N - size) / 2)), Python's
  round-half-even, so for N - size = 3, 7, 11 ... the odd pixel goes BEFORE; Keras 3's
  CenterCrop resizes a too-small image.  The issue picks the TensorFlow/Caffe floor:
  start = (N - size) // 2.
- Reshape: refuses a product mismatch ("shape '[1, 3, 5]' is invalid for input of size
  16"), two -1 ("only one dimension can be inferred"), a -1 that does not divide, a 0,
  and any other negative ("invalid shape dimension -2 ...").  In a chw spec the shape's
  numbers are the tensor's; in an hwc spec the channels move to the front.
- PixelShuffle/PixelUnshuffle are 2-D only: they read the LAST three dims as (C, H, W),
  so a 1-D or 3-D tensor is silently misread (recorded as stage "rank"); a flat input is
  refused.  Shuffle: C % r^2 == 0, output [H r, W r, C / r^2]; unshuffle: H % r == 0 and
  W % r == 0 (height checked first), output [H / r, W / r, C r^2]; factor < 1 refused.
- LocalResponseNorm: any rank with spatial axes (1-, 2-, 3-D), size >= 1, size > C fine;
  flat refused.  0 params.
- LayerNorm over channels: 2C params (affine), 0 without; no buffers; any rank.
- GroupNorm: construct refuses C % groups ("num_channels (6) must be divisible by
  num_groups (4)"), groups 0 is a ZeroDivisionError; forward, EVEN IN EVAL MODE, refuses a
  group of one value: (C / groups) x prod(spatial) == 1 ("Expected more than 1 value per
  channel when training").  2C params with affine.  Works on a flat input.
- InstanceNorm: 2C params with affine; with track_running_stats 2C float buffers + the
  int64 num_batches_tracked (buffers 2C + 1).  Without track_running_stats a single
  spatial element (prod(spatial) == 1) is refused even in eval mode ("Expected more than
  1 spatial element when training"); with it, eval mode uses the running stats and
  accepts it.  A flat input is misread as unbatched (warning): stage "rank".
- PReLU: 1 param, or C (num_parameters must equal C); works flat (features are C).
- ChannelShuffle: 1-, 2-, 3-D; C % groups == 0 and groups >= 1 ("Number of channels must
  be divisible by groups. Got 6 channels and 4 groups."); flat refused.
- Activations: all keep the shape except GLU (dim=1: halves C; odd C refused).
  Softmax2d takes 2-D only (a 1-D tensor is misread, stage "rank"; 3-D and flat refused).
  Threshold has no defaults (recorded as Threshold(0.0, 0.0)).  `swish` is recorded as
  an alias of silu, `gelu_tanh` as GELU(approximate='tanh').
"""

import argparse
import json
import math
import os
import random
import sys
import warnings
from fractions import Fraction

SEED = 20261202
EXPECTED_TORCH = "2.13.0"
COMMAND = "/tmp/torchenv/bin/python tools/gen_torch_kinds.py"

DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "data", "torch_kinds.json"
)

PAD_CLASSES = {
    "zeros": "ZeroPad",
    "reflect": "ReflectionPad",
    "replicate": "ReplicationPad",
    "circular": "CircularPad",
}

# fn name -> (what PyTorch is asked for, module factory, shape note)
ACTIVATIONS = {
    "relu": ("nn.ReLU()", lambda nn: nn.ReLU()),
    "relu6": ("nn.ReLU6()", lambda nn: nn.ReLU6()),
    "leaky_relu": ("nn.LeakyReLU()", lambda nn: nn.LeakyReLU()),
    "rrelu": ("nn.RReLU().eval()", lambda nn: nn.RReLU()),
    "elu": ("nn.ELU()", lambda nn: nn.ELU()),
    "celu": ("nn.CELU()", lambda nn: nn.CELU()),
    "selu": ("nn.SELU()", lambda nn: nn.SELU()),
    "gelu": ("nn.GELU()", lambda nn: nn.GELU()),
    "gelu_tanh": ("nn.GELU(approximate='tanh')", lambda nn: nn.GELU(approximate="tanh")),
    "silu": ("nn.SiLU()", lambda nn: nn.SiLU()),
    "swish": ("nn.SiLU()", lambda nn: nn.SiLU()),
    "mish": ("nn.Mish()", lambda nn: nn.Mish()),
    "sigmoid": ("nn.Sigmoid()", lambda nn: nn.Sigmoid()),
    "hardsigmoid": ("nn.Hardsigmoid()", lambda nn: nn.Hardsigmoid()),
    "hardswish": ("nn.Hardswish()", lambda nn: nn.Hardswish()),
    "hardtanh": ("nn.Hardtanh()", lambda nn: nn.Hardtanh()),
    "hardshrink": ("nn.Hardshrink()", lambda nn: nn.Hardshrink()),
    "softshrink": ("nn.Softshrink()", lambda nn: nn.Softshrink()),
    "tanhshrink": ("nn.Tanhshrink()", lambda nn: nn.Tanhshrink()),
    "threshold": ("nn.Threshold(0.0, 0.0)", lambda nn: nn.Threshold(0.0, 0.0)),
    "tanh": ("nn.Tanh()", lambda nn: nn.Tanh()),
    "softplus": ("nn.Softplus()", lambda nn: nn.Softplus()),
    "softsign": ("nn.Softsign()", lambda nn: nn.Softsign()),
    "log_sigmoid": ("nn.LogSigmoid()", lambda nn: nn.LogSigmoid()),
    "softmax": ("nn.Softmax(dim=1)", lambda nn: nn.Softmax(dim=1)),
    "softmin": ("nn.Softmin(dim=1)", lambda nn: nn.Softmin(dim=1)),
    "log_softmax": ("nn.LogSoftmax(dim=1)", lambda nn: nn.LogSoftmax(dim=1)),
    "softmax2d": ("nn.Softmax2d()", lambda nn: nn.Softmax2d()),
    "glu": ("nn.GLU(dim=1)", lambda nn: nn.GLU(dim=1)),
    "identity": ("nn.Identity()", lambda nn: nn.Identity()),
}

IDENTITIES = {
    "identity": ("nn.Identity()", lambda nn, n: nn.Identity()),
    "dropout": ("nn.Dropout(0.5).eval()", lambda nn, n: nn.Dropout(0.5)),
    "dropout-nd": ("nn.Dropout{n}d(0.2).eval()", lambda nn, n: getattr(nn, "Dropout%dd" % n)(0.2)),
    "alpha-dropout": ("nn.AlphaDropout(0.1).eval()", lambda nn, n: nn.AlphaDropout(0.1)),
}


# --------------------------------------------------------------------------
# cases (pure python, no torch)
# --------------------------------------------------------------------------


def case(kind, dims, **keys):
    """A case: the spec layer (keys given, in the issue's words) and its channels-last input."""
    return {"kind": kind, "spec": dict({"type": kind}, **keys), "input": list(dims)}


def upsample_cases(rng):
    out = []
    add = lambda name, c: out.append(("upsample-" + name, c))
    up = lambda dims, **k: case("upsample", dims, **k)
    # the example and other float-rounding witnesses
    add("rounding-issue-100x0.57", up([100, 100, 3], scale=0.57))
    for mode, dims in (
        ("linear", [100, 3]),
        ("bilinear", [100, 100, 3]),
        ("bicubic", [100, 7, 3]),
        ("trilinear", [100, 4, 4, 1]),
    ):
        add("rounding-issue-100x0.57-" + mode, up(dims, scale=0.57, mode=mode))
    decimal, product = [], []
    for N in range(1, 301):
        for k in range(1, 401):
            s = k / 100
            got = math.floor(N * s)
            if got != math.floor(Fraction(N * k, 100)):
                decimal.append((N, s))
            if got != math.floor(N * Fraction(s)):
                product.append((N, s))
    for N, s in sorted(rng.sample(decimal, 24)):
        n = rng.choice((1, 2, 2, 3))
        other = max(2, math.ceil(1 / s))  # other axes long enough not to round to 0
        dims = [N] + [other] * (n - 1) + [rng.choice((1, 2, 3))]
        add("rounding-decimal-%dd-%dx%g" % (n, N, s), up(dims, scale=s))
    for N, s in sorted(rng.sample(product, 12)):
        add("rounding-product-1d-%dx%g" % (N, s), up([N, 2], scale=s))
    for N, s in ((10, 0.7), (100, 0.29), (100, 0.58), (100, 1.15), (100, 2.3)):
        add("rounding-named-%dx%g" % (N, s), up([N, 4, 1], scale=s))
    # modes x ranks, align_corners variants
    modes = ("nearest", "linear", "bilinear", "bicubic", "trilinear")
    for n in (1, 2, 3):
        dims = [[7], [5, 6], [3, 4, 5]][n - 1] + [2]
        for mode in modes:
            add("mode-%s-%dd" % (mode, n), up(dims, scale=2, mode=mode))
            for ac in (False, True):
                add(
                    "mode-%s-%dd-align-%s" % (mode, n, str(ac).lower()),
                    up(dims, scale=2, mode=mode, align_corners=ac),
                )
        add("default-mode-%dd" % n, up(dims, scale=3))
        add("size-int-%dd" % n, up(dims, size=9))
        add("size-axes-%dd" % n, up(dims, size=[4 + j for j in range(n)]))
        add("scale-axes-%dd" % n, up(dims, scale=[2, 0.5, 1.5][:n]))
        add("scale-float-2.0-%dd" % n, up(dims, scale=2.0))
        add("noop-scale-1-%dd" % n, up(dims, scale=1))
    for mode in modes:
        add("flat-" + mode, up([12], scale=2, mode=mode))
    # refusals and odd forms
    add("scale-zero", up([8, 8, 1], scale=0))
    add("scale-negative", up([8, 8, 1], scale=-0.57))
    add("scale-negative-1d", up([100, 1], scale=-0.57))
    add("scale-to-zero", up([8, 8, 1], scale=0.1))
    add("scale-to-one", up([8, 8, 1], scale=0.125))
    add("size-zero", up([8, 8, 1], size=0))
    add("size-axes-zero", up([8, 8, 1], size=[4, 0]))
    add("size-and-scale", up([8, 8, 1], size=4, scale=2))
    add("neither", up([8, 8, 1]))
    add("size-wrong-length", up([8, 8, 1], size=[4, 4, 4]))
    add("scale-wrong-length", up([8, 8, 1], scale=[2]))
    add("size-float", up([8, 8, 1], size=[2.5, 3]))
    add("bilinear-size-1", up([5, 5, 1], size=1, mode="bilinear", align_corners=True))
    add("bicubic-from-1", up([1, 1, 2], scale=2, mode="bicubic", align_corners=True))
    add("trilinear-aniso", up([2, 3, 4, 1], scale=[1.5, 2, 0.75], mode="trilinear"))
    add("downsample-odd-bilinear", up([9, 7, 3], scale=0.5, mode="bilinear"))
    add("unet-2x-bilinear", up([28, 28, 512], scale=2, mode="bilinear", align_corners=True))
    add("fpn-nearest-2x", up([13, 13, 256], scale=2))
    # random
    for i in range(40):
        n = rng.choice((1, 2, 2, 3))
        dims = [rng.randint(1, 40 if n < 3 else 9) for _ in range(n)] + [rng.choice((1, 2, 3))]
        mode = rng.choice(("nearest",) * 3 + modes)
        keys = {}
        if rng.random() < 0.7:
            keys["scale"] = rng.choice((2, 3, 0.5, 1.5, rng.randint(1, 300) / 100))
            if rng.random() < 0.3:
                keys["scale"] = [rng.randint(25, 300) / 100 for _ in range(n)]
        else:
            keys["size"] = (
                [rng.randint(1, 30) for _ in range(n)] if rng.random() < 0.7 else rng.randint(1, 30)
            )
        if mode != "nearest" or rng.random() < 0.2:
            keys["mode"] = mode
        if mode != "nearest" and rng.random() < 0.5:
            keys["align_corners"] = rng.random() < 0.5
        add("rand-%03d" % i, up(dims, **keys))
    return out


def _sides(pad, n):
    """A pad/crop value (int, per-axis list, or [[before, after], ...] for one or each axis) as pairs."""
    if isinstance(pad, int):
        return [(pad, pad)] * n
    if isinstance(pad[0], list):
        return [tuple(p) for p in (pad * n if len(pad) == 1 else pad)]
    return [(p, p) for p in pad]


def pad_cases(rng):
    out = []
    add = lambda name, c: out.append(("pad-" + name, c))
    for mode in PAD_CLASSES:
        for n in (1, 2, 3):
            N = [5, 4, 3][n - 1]
            dims = [N] * n + [2]
            tag = "%s-%dd" % (mode, n)
            add(tag + "-int-1", case("pad", dims, pad=1, mode=mode))
            add(tag + "-int-N-minus-1", case("pad", dims, pad=N - 1, mode=mode))
            add(tag + "-int-N", case("pad", dims, pad=N, mode=mode))
            add(tag + "-int-N-plus-1", case("pad", dims, pad=N + 1, mode=mode))
            add(tag + "-zero", case("pad", dims, pad=0, mode=mode))
            add(tag + "-before-N", case("pad", dims, pad=[[N, 0]], mode=mode))
            add(tag + "-after-N", case("pad", dims, pad=[[0, N]], mode=mode))
            add(tag + "-before-N-plus-1", case("pad", dims, pad=[[N + 1, 0]], mode=mode))
            add(tag + "-after-N-plus-1", case("pad", dims, pad=[[0, N + 1]], mode=mode))
            add(tag + "-sides-lt-N", case("pad", dims, pad=[[N - 1, 1]], mode=mode))
            axes = [j + 1 for j in range(n)]
            add(tag + "-axes", case("pad", [6, 5, 4][:n] + [1], pad=axes, mode=mode))
            pairs = [[j, (2 * j + 1) % 4] for j in range(n)]
            add(tag + "-pairs", case("pad", [6, 5, 4][:n] + [1], pad=pairs, mode=mode))
            add(tag + "-N1-pad1", case("pad", [1] * n + [3], pad=1, mode=mode))
            add(tag + "-N1-pad0", case("pad", [1] * n + [3], pad=0, mode=mode))
        add("%s-one-axis-over-2d" % mode, case("pad", [8, 3, 1], pad=[3, 3], mode=mode))
        add("%s-one-axis-over-3d" % mode, case("pad", [3, 8, 8, 1], pad=[[0, 4], [1, 1], [2, 2]], mode=mode))
    add("default-mode-2d", case("pad", [7, 7, 3], pad=2))
    add("readme-zeropad2d", case("pad", [224, 224, 3], pad=[[0, 1]]))
    for i in range(40):
        n = rng.choice((1, 2, 2, 3))
        dims = [rng.randint(1, 9) for _ in range(n)] + [rng.choice((1, 2, 3, 4))]
        side = lambda: rng.choices((0, 1, 2, 3, 5, 9), weights=(4, 6, 4, 2, 1, 1))[0]
        r = rng.random()
        pad = (
            side()
            if r < 0.3
            else [side() for _ in range(n)]
            if r < 0.5
            else [[side(), side()] for _ in range(n)]
        )
        keys = {"pad": pad}
        mode = rng.choice(tuple(PAD_CLASSES) + ("default",))
        if mode != "default":
            keys["mode"] = mode
        add("rand-%03d" % i, case("pad", dims, **keys))
    return out


def crop_cases(rng):
    out = []
    add = lambda name, c: out.append(("crop-" + name, c))
    for n in (1, 2, 3):
        dims = [[9], [9, 8], [6, 7, 8]][n - 1] + [2]
        tag = "%dd" % n
        add("int-1-" + tag, case("crop", dims, crop=1))
        add("axes-" + tag, case("crop", dims, crop=[1, 2, 0][:n]))
        add("pairs-" + tag, case("crop", dims, crop=[[0, 1], [2, 1], [1, 3]][:n]))
        add("pair-all-" + tag, case("crop", dims, crop=[[2, 1]]))
        add("to-one-" + tag, case("crop", [5] * n + [1], crop=[[2, 2]]))
        add("to-empty-" + tag, case("crop", [5] * n + [1], crop=[[3, 2]]))
        add("past-" + tag, case("crop", [5] * n + [1], crop=[[3, 3]]))
        add("before-past-" + tag, case("crop", [5] * n + [1], crop=[[6, 0]]))
        add("zero-" + tag, case("crop", dims, crop=0))
        add("size-int-" + tag, case("crop", dims, size=5))
        for N in (7, 8):
            for S in range(1, N + 2):
                add("centre-N%d-S%d-%s" % (N, S, tag), case("crop", [N] * n + [1], size=S))
        add("size-axes-" + tag, case("crop", dims, size=[4, 5, 3][:n]))
        add("size-zero-" + tag, case("crop", dims, size=0))
    add("unet-skip-64-to-56", case("crop", [64, 64, 512], size=[56, 56]))
    add("unet-skip-136-to-104", case("crop", [136, 136, 256], size=[104, 104]))
    for i in range(20):
        n = rng.choice((1, 2, 2, 3))
        dims = [rng.randint(1, 12) for _ in range(n)] + [rng.choice((1, 2, 3))]
        if rng.random() < 0.5:
            keys = {"size": [rng.randint(1, d + 1) for d in dims[:-1]]}
        else:
            keys = {"crop": [[rng.randint(0, 4), rng.randint(0, 4)] for _ in range(n)]}
        add("rand-%03d" % i, case("crop", dims, **keys))
    return out


def reshape_cases(rng):
    out = []
    add = lambda name, c: out.append(("reshape-" + name, c))
    add("gan-fc-to-4x4x512", case("reshape", [8192], shape=[4, 4, 512]))
    add("gan-fc-to-minus1", case("reshape", [8192], shape=[4, 4, -1]))
    add("gan-fc-minus1-spatial", case("reshape", [8192], shape=[-1, 4, 512]))
    add("dcgan-fc-to-7x7x128", case("reshape", [6272], shape=[7, 7, 128]))
    add("flatten-like", case("reshape", [7, 7, 64], shape=[3136]))
    add("flatten-minus1", case("reshape", [7, 7, 64], shape=[-1]))
    add("to-1d", case("reshape", [4, 4, 8], shape=[16, 8]))
    add("to-3d", case("reshape", [4, 4, 8], shape=[2, 4, 2, 8]))
    add("same", case("reshape", [4, 4, 8], shape=[4, 4, 8]))
    add("swap", case("reshape", [4, 6, 8], shape=[6, 4, 8]))
    add("move-channels", case("reshape", [4, 4, 8], shape=[8, 8, 2]))
    add("1d-to-flat", case("reshape", [10, 3], shape=[30]))
    add("mismatch", case("reshape", [16], shape=[3, 5]))
    add("mismatch-3d", case("reshape", [4, 4, 8], shape=[4, 4, 4]))
    add("minus1-not-dividing", case("reshape", [16], shape=[-1, 3]))
    add("two-minus1", case("reshape", [16], shape=[-1, -1]))
    add("minus2", case("reshape", [16], shape=[-2, 8]))
    add("zero", case("reshape", [16], shape=[0, 16]))
    add("zero-minus1", case("reshape", [16], shape=[0, -1]))
    add("minus1-alone-flat", case("reshape", [5, 3], shape=[-1]))
    for i in range(30):
        n_in = rng.choice((0, 1, 2, 3))
        dims = [rng.choice((1, 2, 3, 4, 6)) for _ in range(n_in)] + [rng.choice((1, 2, 4, 6, 8, 12))]
        total = math.prod(dims)
        shape = []
        rest = total
        for _ in range(rng.choice((0, 1, 2))):
            d = rng.choice([v for v in range(1, rest + 1) if rest % v == 0])
            shape.append(d)
            rest //= d
        shape.append(rest)
        rng.shuffle(shape)
        r = rng.random()
        if r < 0.35:
            shape[rng.randrange(len(shape))] = -1
        elif r < 0.45:
            shape[rng.randrange(len(shape))] += 1
        add("rand-%03d" % i, case("reshape", dims, shape=shape))
    return out


def shuffle_cases(rng):
    out = []
    add = lambda name, c: out.append((name, c))
    for r in (0, 1, 2, 3):
        for C in (8, 9, 12, 18, 36):
            add("pixel_shuffle-r%d-C%d" % (r, C), case("pixel_shuffle", [3, 5, C], factor=r))
    for r in (0, 1, 2, 3):
        for H, W in ((6, 4), (6, 6), (5, 4), (4, 5), (3, 9)):
            add("pixel_unshuffle-r%d-%dx%d" % (r, H, W), case("pixel_unshuffle", [H, W, 3], factor=r))
    add("pixel_shuffle-espcn", case("pixel_shuffle", [56, 56, 27], factor=3))
    add("pixel_unshuffle-yolo-reorg", case("pixel_unshuffle", [26, 26, 64], factor=2))
    for kind in ("pixel_shuffle", "pixel_unshuffle"):
        add(kind + "-flat", case(kind, [16], factor=2))
        add(kind + "-1d", case(kind, [8, 4], factor=2))
        add(kind + "-3d", case(kind, [4, 4, 4, 8], factor=2))
    for i in range(16):
        r = rng.choice((1, 2, 2, 3, 4))
        if rng.random() < 0.5:
            C = rng.choice((r * r, 2 * r * r, 3 * r * r, rng.randint(1, 40)))
            add(
                "pixel_shuffle-rand-%03d" % i,
                case("pixel_shuffle", [rng.randint(1, 9), rng.randint(1, 9), C], factor=r),
            )
        else:
            H, W = (rng.choice((r * rng.randint(1, 4), rng.randint(1, 12))) for _ in range(2))
            add("pixel_unshuffle-rand-%03d" % i, case("pixel_unshuffle", [H, W, rng.randint(1, 6)], factor=r))
    for g in (0, 1, 2, 3, 4, 6, 12):
        add("channel_shuffle-g%d-C6" % g, case("channel_shuffle", [5, 5, 6], groups=g))
    for n, dims in ((0, [6]), (1, [7, 6]), (2, [7, 5, 6]), (3, [3, 4, 5, 6])):
        add(
            "channel_shuffle-%dd" % n if n else "channel_shuffle-flat",
            case("channel_shuffle", dims, groups=2),
        )
    add("channel_shuffle-shufflenet", case("channel_shuffle", [28, 28, 240], groups=3))
    add("channel_shuffle-not-dividing-3d", case("channel_shuffle", [3, 3, 3, 10], groups=4))
    for i in range(12):
        dims = [rng.randint(1, 6) for _ in range(rng.choice((1, 2, 3)))] + [rng.choice((4, 6, 8, 9, 12, 15))]
        add("channel_shuffle-rand-%03d" % i, case("channel_shuffle", dims, groups=rng.choice((2, 3, 4, 5))))
    return out


SHAPES = (
    [6],
    [7, 4],
    [5, 3, 6],
    [1, 1, 4],
    [3, 4, 2, 4],
    [1, 2],
    [2, 1, 1, 3],
    [1, 1, 1, 6],
    [1, 8],
    [9, 7, 5],
)


def norm_cases(rng):
    out = []
    add = lambda name, c: out.append((name, c))
    tag = lambda dims: "x".join(map(str, dims))
    for size in (0, 1, 2, 3, 5, 7):
        add("lrn-size%d" % size, case("lrn", [5, 5, 3], size=size))
    for dims in SHAPES:
        add("lrn-5-" + tag(dims), case("lrn", dims, size=5))
    add("lrn-alexnet", case("lrn", [55, 55, 96], size=5))
    for dims in SHAPES:
        add("layer_norm-" + tag(dims), case("layer_norm", dims))
        add("layer_norm-affine-false-" + tag(dims), case("layer_norm", dims, affine=False))
    add("layer_norm-affine-true", case("layer_norm", [7, 7, 96], affine=True))
    add("layer_norm-convnext", case("layer_norm", [56, 56, 96]))
    for g in (0, 1, 2, 3, 4, 6):
        add("group_norm-g%d-C6" % g, case("group_norm", [3, 3, 6], groups=g))
    for dims in SHAPES:
        C = dims[-1]
        for g in sorted({1, C}):
            add("group_norm-g%d-%s" % (g, tag(dims)), case("group_norm", dims, groups=g))
    add("group_norm-affine-false", case("group_norm", [4, 4, 8], groups=2, affine=False))
    add("group_norm-affine-true", case("group_norm", [4, 4, 8], groups=4, affine=True))
    add("group_norm-one-value-2d", case("group_norm", [1, 1, 6], groups=6))
    add("group_norm-two-values-2d", case("group_norm", [1, 1, 6], groups=3))
    add("group_norm-resnet-gn32", case("group_norm", [56, 56, 256], groups=32))
    for dims in SHAPES:
        for affine, track in ((None, None), (True, None), (None, True), (True, True), (False, False)):
            keys = {}
            if affine is not None:
                keys["affine"] = affine
            if track is not None:
                keys["track_running_stats"] = track
            name = "instance_norm-%s-%s-%s" % (
                {None: "default", True: "affine", False: "no-affine"}[affine],
                {None: "default", True: "track", False: "no-track"}[track],
                tag(dims),
            )
            add(name, case("instance_norm", dims, **keys))
    for dims in SHAPES:
        add("prelu-" + tag(dims), case("prelu", dims))
        add("prelu-per-channel-" + tag(dims), case("prelu", dims, per_channel=True))
    add("prelu-per-channel-false", case("prelu", [4, 4, 8], per_channel=False))
    for dims in SHAPES:
        add("scale-" + tag(dims), case("scale", dims))
        add("scale-bias-" + tag(dims), case("scale", dims, bias=True))
    add("scale-bias-false", case("scale", [4, 4, 8], bias=False))
    add("scale-convnext-layer-scale", case("scale", [56, 56, 96]))
    for i in range(12):
        n = rng.choice((1, 2, 3))
        C = rng.choice((2, 3, 4, 6, 8, 12, 16))
        dims = [rng.choice((1, 1, 2, 5)) for _ in range(n)] + [C]
        add("group_norm-rand-%03d" % i, case("group_norm", dims, groups=rng.choice((1, 2, 3, 4, 8))))
    return out


def act_cases():
    out = []
    for fn in sorted(ACTIVATIONS):
        for dims in ([6], [7, 4], [5, 3, 6], [3, 4, 2, 4], [1, 1, 5]):
            out.append(("act-%s-%s" % (fn, "x".join(map(str, dims))), case("act", dims, fn=fn)))
    return out


def identity_cases():
    out = []
    for name in IDENTITIES:
        for dims in ([6], [7, 4], [5, 3, 6], [3, 4, 2, 4]):
            if name == "dropout-nd" and len(dims) == 1:
                continue
            out.append(("identity-%s-%s" % (name, "x".join(map(str, dims))), case("identity", dims)))
    return out


def all_cases():
    rng = random.Random(SEED)
    named = []
    named += upsample_cases(rng)
    named += pad_cases(rng)
    named += crop_cases(rng)
    named += reshape_cases(rng)
    named += shuffle_cases(rng)
    named += norm_cases(rng)
    named += act_cases()
    named += identity_cases()
    seen, ids, cases = set(), set(), []
    for name, c in named:
        assert name not in ids, name
        ids.add(name)
        key = json.dumps(c, sort_keys=True)
        if key in seen and c["kind"] != "identity":
            continue
        seen.add(key)
        cases.append(dict(id=name, **c))
    return sorted(cases, key=lambda c: c["id"])


# --------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------


def nchw(dims):
    """The channels-last dims as PyTorch's batch-1 channels-first shape."""
    return [1, dims[0]] if len(dims) == 1 else [1, dims[-1], *dims[:-1]]


def hwc(shape):
    """PyTorch's batch-1 shape back to channels last."""
    assert shape[0] == 1, shape
    return list(shape[1:]) if len(shape) == 2 else list(shape[2:]) + [shape[1]]


def _flat(pairs):
    """Per-axis (before, after) pairs in PyTorch's padding order: the last axis first."""
    return tuple(v for pair in reversed(pairs) for v in pair)


def _first_line(exc):
    msg = str(exc).strip()
    return msg.splitlines()[0] if msg else type(exc).__name__


def custom_modules(torch):
    """The modules PyTorch lacks: LayerNorm2d, Scale, Crop, Reshape."""
    nn = torch.nn

    class LayerNorm2d(nn.Module):
        """ConvNeXt's LayerNorm over channels: permute channels last, nn.LayerNorm(C), permute back."""

        def __init__(self, C, affine):
            super().__init__()
            self.norm = nn.LayerNorm(C, elementwise_affine=affine)

        def forward(self, x):
            if x.dim() == 2:
                return self.norm(x)
            order = (0, *range(2, x.dim()), 1)
            back = (0, x.dim() - 1, *range(1, x.dim() - 1))
            return self.norm(x.permute(order)).permute(back)

    class Scale(nn.Module):
        """A learned per-channel multiplier, and bias."""

        def __init__(self, C, bias):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(C))
            self.bias = nn.Parameter(torch.zeros(C)) if bias else None

        def forward(self, x):
            view = (1, -1) + (1,) * (x.dim() - 2)
            y = x * self.weight.view(view)
            return y if self.bias is None else y + self.bias.view(view)

    class Crop(nn.Module):
        """Slicing, one (start, length) per spatial axis, with narrow (bounds refused, not clamped)."""

        def __init__(self, windows):
            super().__init__()
            self.windows = windows

        def forward(self, x):
            y = x
            for axis, (start, length) in enumerate(self.windows):
                y = y.narrow(2 + axis, start, length)
            index = (slice(None), slice(None), *(slice(s, s + n) for s, n in self.windows))
            if all(s >= 0 and s + n <= N for (s, n), N in zip(self.windows, x.shape[2:])):
                assert torch.equal(y, x[index]), "narrow disagrees with slicing"
            return y

    class Reshape(nn.Module):
        """x.reshape(1, *shape)."""

        def __init__(self, shape):
            super().__init__()
            self.shape = shape

        def forward(self, x):
            return x.reshape(1, *self.shape)

    return LayerNorm2d, Scale, Crop, Reshape


class Unsupported(Exception):
    """PyTorch has no module for this rank (its module would misread the tensor)."""


def build(torch, case):
    """The case's module and how it is described."""
    nn = torch.nn
    LayerNorm2d, Scale, Crop, Reshape = custom_modules(torch)
    kind, spec, dims = case["kind"], case["spec"], case["input"]
    n = len(dims) - 1
    C = dims[-1]
    if kind == "upsample":
        args = {}
        if "size" in spec:
            args["size"] = tuple(spec["size"]) if isinstance(spec["size"], list) else spec["size"]
        if "scale" in spec:
            args["scale_factor"] = tuple(spec["scale"]) if isinstance(spec["scale"], list) else spec["scale"]
        args["mode"] = spec.get("mode", "nearest")
        if "align_corners" in spec:
            args["align_corners"] = spec["align_corners"]
        text = ", ".join("%s=%r" % kv for kv in args.items())
        return "nn.Upsample(%s)" % text, lambda: nn.Upsample(**args)
    if kind == "pad":
        assert n >= 1
        name = "%s%dd" % (PAD_CLASSES[spec.get("mode", "zeros")], n)
        padding = _flat(_sides(spec["pad"], n))
        return "nn.%s(%r)" % (name, padding), lambda: getattr(nn, name)(padding)
    if kind == "crop":
        spatial = dims[:-1]
        if "size" in spec:
            sizes = spec["size"] if isinstance(spec["size"], list) else [spec["size"]] * n
            windows = [((N - s) // 2, s) for N, s in zip(spatial, sizes)]
        else:
            windows = [(b, N - b - a) for N, (b, a) in zip(spatial, _sides(spec["crop"], n))]
        text = "; ".join("x.narrow(%d, %d, %d)" % (2 + j, s, m) for j, (s, m) in enumerate(windows))
        return text, lambda: Crop(windows)
    if kind == "reshape":
        shape = spec["shape"]
        chw = shape if len(shape) == 1 else [shape[-1], *shape[:-1]]
        return "x.reshape(1, %s)" % ", ".join(map(str, chw)), lambda: Reshape(chw)
    if kind in ("pixel_shuffle", "pixel_unshuffle"):
        cls = "PixelShuffle" if kind == "pixel_shuffle" else "PixelUnshuffle"
        if n in (1, 3):
            raise Unsupported("nn.%s is 2-D only: it reads the last three dims as (C, H, W)" % cls)
        return "nn.%s(%d)" % (cls, spec["factor"]), lambda: getattr(nn, cls)(spec["factor"])
    if kind == "lrn":
        return "nn.LocalResponseNorm(%d)" % spec["size"], lambda: nn.LocalResponseNorm(spec["size"])
    if kind == "layer_norm":
        affine = spec.get("affine", True)
        text = "permute channels last, nn.LayerNorm(%d, elementwise_affine=%s), permute back" % (C, affine)
        return text, lambda: LayerNorm2d(C, affine)
    if kind == "group_norm":
        affine = spec.get("affine", True)
        text = "nn.GroupNorm(%d, %d, affine=%s)" % (spec["groups"], C, affine)
        return text, lambda: nn.GroupNorm(spec["groups"], C, affine=affine)
    if kind == "instance_norm":
        if n == 0:
            raise Unsupported("nn.InstanceNorm1d reads a (1, C) tensor as an unbatched (C, L) one")
        affine = spec.get("affine", False)
        track = spec.get("track_running_stats", False)
        text = "nn.InstanceNorm%dd(%d, affine=%s, track_running_stats=%s)" % (n, C, affine, track)
        return text, lambda: getattr(nn, "InstanceNorm%dd" % n)(C, affine=affine, track_running_stats=track)
    if kind == "prelu":
        count = C if spec.get("per_channel", False) else 1
        return "nn.PReLU(%d)" % count, lambda: nn.PReLU(count)
    if kind == "channel_shuffle":
        return "nn.ChannelShuffle(%d)" % spec["groups"], lambda: nn.ChannelShuffle(spec["groups"])
    if kind == "scale":
        bias = spec.get("bias", False)
        return "x * w[c]%s, w%s of shape (%d,)" % (
            " + b[c]" if bias else "",
            " and b" if bias else "",
            C,
        ), lambda: Scale(C, bias)
    if kind == "identity":
        which = case["id"].split("-", 1)[1].rsplit("-", 1)[0]
        text, make = IDENTITIES[which]
        return text.replace("{n}", str(n)), lambda: make(nn, n)
    if kind == "act":
        fn = spec["fn"]
        if fn == "softmax2d" and n == 1:
            raise Unsupported("nn.Softmax2d reads a (1, C, L) tensor as an unbatched (C, H, W) one")
        text, make = ACTIVATIONS[fn]
        return text, lambda: make(nn)
    raise ValueError(kind)


def run_case(torch, case):
    """What PyTorch does with the case."""
    res = dict.fromkeys(
        (
            "module",
            "output",
            "output_nchw",
            "params",
            "non_trainable",
            "buffers",
            "kept",
            "error",
            "error_type",
            "stage",
            "warning",
        )
    )
    try:
        res["module"], make = build(torch, case)
    except Unsupported as e:
        res.update(error=str(e), error_type="Unsupported", stage="rank")
        return res
    shape = nchw(case["input"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mod = make()
        except Exception as e:
            res.update(error=_first_line(e), error_type=type(e).__name__, stage="construct")
            mod = None
        if mod is not None:
            mod.eval()
            res["params"] = int(sum(p.numel() for p in mod.parameters()))
            res["non_trainable"] = int(sum(b.numel() for b in mod.buffers() if b.is_floating_point()))
            res["buffers"] = int(sum(b.numel() for b in mod.buffers()))
            try:
                with torch.no_grad():
                    y = mod(torch.zeros(shape))
            except Exception as e:
                res.update(error=_first_line(e), error_type=type(e).__name__, stage="forward")
                y = None
            if y is not None:
                res["output_nchw"] = list(y.shape)
                res["output"] = hwc(list(y.shape))
                if case["kind"] == "crop" and 0 not in y.shape:
                    res["kept"] = kept(torch, mod, shape)
    if caught:
        res["warning"] = _first_line(caught[0].message)
    return res


def kept(torch, mod, shape):
    """Per spatial axis, the first and last input index a crop keeps, read from an index ramp."""
    out = []
    for axis in range(2, len(shape)):
        view = [1] * len(shape)
        view[axis] = shape[axis]
        ramp = torch.arange(shape[axis], dtype=torch.float64).view(view).expand(shape)
        index = [0] * len(shape)
        index[axis] = slice(None)
        line = mod(ramp)[tuple(index)]
        out.append([int(line[0]), int(line[-1])])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output JSON path")
    args = ap.parse_args(argv)

    import torch  # torch is imported here only

    if not torch.__version__.startswith(EXPECTED_TORCH):
        print(
            "warning: fixture was made with torch %s, running %s" % (EXPECTED_TORCH, torch.__version__),
            file=sys.stderr,
        )
    torch.manual_seed(0)
    torch.set_num_threads(1)

    cases = all_cases()
    for c in cases:
        if c["kind"] == "reshape":
            shape = c["spec"]["shape"]
            c["spec_chw"] = {
                "type": "reshape",
                "shape": shape if len(shape) == 1 else [shape[-1], *shape[:-1]],
            }
        c["input_nchw"] = nchw(c["input"])
        c["torch"] = run_case(torch, c)

    counts = {}
    for c in cases:
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
    out = os.path.normpath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    dump = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"))
    with open(out, "w", encoding="utf-8") as f:
        f.write('{"torch":%s,\n"command":%s,\n"seed":%d,\n' % (dump(torch.__version__), dump(COMMAND), SEED))
        f.write('"counts":%s,\n"cases":[\n' % dump(dict(sorted(counts.items()))))
        f.write(",\n".join(dump(c) for c in cases))
        f.write("\n]}\n")
    refused = sum(1 for c in cases if c["torch"]["error"] or 0 in (c["torch"]["output"] or [1]))
    print("wrote %d cases (%d refused) to %s: %s" % (len(cases), refused, out, dump(counts)))


if __name__ == "__main__":
    main()
