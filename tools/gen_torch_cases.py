#!/usr/bin/env python3
"""Regenerate tests/data/torch_cases.json: ground truth of what PyTorch does.

The fixture lets convcalc's tests compare against real PyTorch behaviour
without torch being installed.  This script and tools/gen_torch_rf.py are the
only places torch is imported; tests never run them.

Usage (needs torch==2.13.0, CPU build is fine):

    python tools/gen_torch_cases.py [--out tests/data/torch_cases.json]

Each case builds an nn module (Conv, ConvTranspose, MaxPool/AvgPool,
AdaptiveMaxPool/AdaptiveAvgPool in 1d/2d/3d, Linear, Flatten, BatchNorm,
an activation, Dropout), runs a forward pass on zeros with batch 1 (in eval
mode, so that BatchNorm takes a batch of one), and records the output shape
(channels LAST), the parameter count and any error (first line of the
exception message).

PyTorch's layers pad alike on both sides.  `valid`, and `same` or per-side
pairs that come out alike on both sides of every axis, use the module's own
padding.  Padding they cannot take is done around the module, the way a
PyTorch user would write it (`torch.via` says how):

    conv, pool            F.pad(x, ...) (value -inf before a max pool, else 0),
                          then the module with padding 0
    deconv                ConvTranspose with padding 0, then F.pad(y, ...) with
                          negative pads to crop

`same` is TensorFlow's: output ceil(N/S), total pad max((o-1)S + E - N, 0)
for a window of extent E, before = total // 2, the odd pixel after; for
deconv, output N*S: a crop of max(E - S, 0) split the same way, and
output_padding S - E when the window is shorter than the stride.  Every conv
with `same` at stride 1 is also checked against the module's own
padding='same' (same weights, same values) before it is recorded.  Average
pools padded with F.pad count the padding (count_pad false is not emulated
there: shapes only).

Case record (one JSON object per line inside a JSON list):

    id          unique, stable string label
    kind        "conv" | "pool" | "deconv" | "fc" | "global_pool" | "flatten"
                | "bn" | "act" | "dropout"
    mode        "max" | "avg" for pools and global pools, else null
    input       [spatial..., C] (channels last); [features] for a flat input
    filters     out_channels K for conv/deconv, else null
    units       out_features for fc, else null
    size        kernel per axis for conv/deconv/pool, else null (and null for
                adaptive pools)
    stride      per axis for conv/deconv/pool; null for pools built with
                stride=None (torch then uses stride = kernel), else null
    pad         per axis, symmetric; or "same" | "valid"; or per-side
                [[before, after], ...] pairs (one per axis, or one for all);
                null for kinds without padding
    dilation    per axis for conv/deconv; null for pool and others
    output_pad  per axis for deconv, else null
    groups      conv/deconv groups, else null
    bias        bool for conv/deconv/fc, else null
    ceil        bool for fixed-window pools, else null
    count_pad   bool for fixed-window average pools (count_include_pad),
                else null
    output      adaptive pools' output size per axis, else null
    affine      bool for bn, else null
    fn          the activation's convcalc name for act, else null
    p           the dropout probability for dropout, else null
    torch       {"output": [spatial..., C] | [features] | null,
                 "params": int | null   (sum of p.numel(); null only if
                                         construction failed),
                 "error": null | first line of the exception message,
                 "error_type": null | exception class name,
                 "stage": null | "construct" | "forward",
                 "via": null | how padding PyTorch's layers cannot take was
                        done around the module (see above),
                 "padding_only": null | for pools padded with F.pad: whether
                        some window saw padding alone (a max pool then
                        outputs -inf)}

An output with a size 0 (a crop that leaves nothing) is what PyTorch gives,
not an error; the tests count it as a refusal.

Cases are deterministic: fixed random seeds plus hand-picked edge cases.
Nothing depends on torch's RNG (shapes and parameter counts only).
"""

import argparse
import json
import math
import os
import random
import sys
import warnings

SEED = 20240607
EXPECTED_TORCH = "2.13.0"

DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "data", "torch_cases.json"
)

FIELDS = (
    "kind",
    "mode",
    "input",
    "filters",
    "units",
    "size",
    "stride",
    "pad",
    "dilation",
    "output_pad",
    "groups",
    "bias",
    "ceil",
    "count_pad",
    "output",
    "affine",
    "fn",
    "p",
)

# convcalc's activation names and the torch modules they stand for
ACTIVATIONS = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "selu": "SELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "mish": "Mish",
    "sigmoid": "Sigmoid",
    "hardsigmoid": "Hardsigmoid",
    "hardswish": "Hardswish",
    "tanh": "Tanh",
    "softplus": "Softplus",
    "softmax": "Softmax",
    "identity": "Identity",
}


# --------------------------------------------------------------------------
# case constructors (pure python, no torch)
# --------------------------------------------------------------------------


def _axes(v, n):
    """Broadcast an int to a per-axis list of length n."""
    if isinstance(v, (list, tuple)):
        assert len(v) == n, (v, n)
        return list(v)
    return [v] * n


def _pad(P, n):
    """Symmetric pads per axis, "same" / "valid", or per-side [before, after] pairs as given."""
    if isinstance(P, str):
        assert P in ("same", "valid"), P
        return P
    if isinstance(P, (list, tuple)) and P and isinstance(P[0], (list, tuple)):
        assert len(P) in (1, n), (P, n)
        assert all(len(pair) == 2 for pair in P), P
        return [list(pair) for pair in P]
    return _axes(P, n)


def record(kind, dims, **values):
    """A case with every field, null unless given."""
    case = dict.fromkeys(FIELDS)
    case.update(kind=kind, input=list(dims), **values)
    return case


def conv(spatial, C, K, F, S=1, P=0, D=1, g=1, bias=True, kind="conv", OP=None):
    n = len(spatial)
    return record(
        kind,
        list(spatial) + [C],
        filters=K,
        size=_axes(F, n),
        stride=_axes(S, n),
        pad=_pad(P, n),
        dilation=_axes(D, n),
        output_pad=_axes(OP if OP is not None else 0, n) if kind == "deconv" else None,
        groups=g,
        bias=bias,
    )


def deconv(spatial, C, K, F, S=1, P=0, D=1, OP=0, g=1, bias=True):
    return conv(spatial, C, K, F, S, P, D, g, bias, kind="deconv", OP=OP)


def pool(mode, spatial, C, F, S=None, P=0, ceil=False, count_pad=None):
    """A fixed-window pool; an average pool counts its padding unless told (same: not, like TensorFlow)."""
    n = len(spatial)
    if mode == "avg" and count_pad is None:
        count_pad = P != "same"
    return record(
        "pool",
        list(spatial) + [C],
        mode=mode,
        size=_axes(F, n),
        stride=None if S is None else _axes(S, n),
        pad=_pad(P, n),
        ceil=ceil,
        count_pad=count_pad if mode == "avg" else None,
    )


def adaptive(mode, spatial, C, out):
    return record("pool", list(spatial) + [C], mode=mode, output=_axes(out, len(spatial)))


def global_pool(mode, spatial, C):
    return record("global_pool", list(spatial) + [C], mode=mode)


def fc(n_in, n_out, bias=True):
    return record("fc", [n_in], units=n_out, bias=bias)


def flatten(dims):
    return record("flatten", dims)


def bn(dims, affine=True):
    return record("bn", dims, affine=affine)


def act(dims, fn):
    assert fn in ACTIVATIONS, fn
    return record("act", dims, fn=fn)


def dropout(dims, p):
    return record("dropout", dims, p=p)


# --------------------------------------------------------------------------
# hand-picked cases
# --------------------------------------------------------------------------


def handpicked_conv():
    out = []
    add = lambda name, c: out.append((name, c))
    # seed examples (CS231n-style, AlexNet)
    add("seed-32x32x3-F5-S1-P0-K1", conv([32, 32], 3, 1, 5, 1, 0))
    add("seed-32x32x3-F5-S1-P0-K6", conv([32, 32], 3, 6, 5, 1, 0))
    add("seed-32x32x3-F5-S1-P2-K10", conv([32, 32], 3, 10, 5, 1, 2))
    add("seed-32x32x3-F1-S1-P0-K6", conv([32, 32], 3, 6, 1, 1, 0))
    add("seed-7x7x1-F3-S3-P0", conv([7, 7], 1, 1, 3, 3, 0))
    add("seed-7x7x1-F3-S3-P1", conv([7, 7], 1, 1, 3, 3, 1))
    add("seed-7x7x3-F3-S3-P0", conv([7, 7], 3, 1, 3, 3, 0))
    add("seed-7x7x3-F3-S3-P1", conv([7, 7], 3, 1, 3, 3, 1))
    add("seed-7x7x1-F3-S1-P0", conv([7, 7], 1, 1, 3, 1, 0))
    add("seed-7x7x1-F3-S2-P0", conv([7, 7], 1, 1, 3, 2, 0))
    for N in (224, 227):
        for P in (0, 2):
            add("seed-alexnet-conv1-%d-P%d" % (N, P), conv([N, N], 3, 96, 11, 4, P))
    add("alexnet-conv2", conv([27, 27], 96, 256, 5, 1, 2, g=2))
    add("vgg-conv3x3-224", conv([224, 224], 3, 64, 3, 1, 1))
    add("resnet-conv1-224", conv([224, 224], 3, 64, 7, 2, 3, bias=False))
    add("resnet-1x1-s2", conv([56, 56], 64, 128, 1, 2, 0, bias=False))
    # padded input vs kernel extent
    for n in (1, 2, 3):
        dims = [5] * n
        add("extent-equal-%dd" % n, conv(dims, 1, 1, 5))
        add("extent-short-%dd" % n, conv([4] * n, 1, 1, 5))
        add("extent-pad-rescues-%dd" % n, conv([3] * n, 1, 1, 5, P=1))
        add("extent-dil-equal-%dd" % n, conv([7] * n, 1, 1, 3, D=3))
        add("extent-dil-short-%dd" % n, conv([6] * n, 1, 1, 3, D=3))
        add("extent-short-stride3-%dd" % n, conv([3] * n, 1, 1, 5, S=3))
        add("stride-gt-input-%dd" % n, conv([3] * n, 1, 1, 1, S=5))
        add("input1-F1-%dd" % n, conv([1] * n, 2, 3, 1))
        add("input1-F3-P1-%dd" % n, conv([1] * n, 2, 3, 3, P=1))
        add("input1-F3-P0-%dd" % n, conv([1] * n, 2, 3, 3, P=0))
        add("pad-gt-kernel-%dd" % n, conv([4] * n, 1, 2, 3, S=1, P=4))
        add("pad-gt-kernel-s2-%dd" % n, conv([4] * n, 1, 2, 1, S=2, P=3))
    # only one axis too short
    add("extent-short-one-axis", conv([10, 4], 1, 1, 5))
    add("extent-short-one-axis-3d", conv([10, 10, 2], 1, 1, [3, 3, 3]))
    # fractional
    add("frac-8-F3-S2", conv([8, 8], 1, 1, 3, 2))
    add("frac-10-F3-S4-P1", conv([10], 1, 1, 3, 4, 1))
    add("frac-aniso", conv([9, 12], 2, 4, [3, 5], [2, 3], [0, 1]))
    add("aniso-3d", conv([8, 16, 12], 2, 4, [1, 3, 5], [1, 2, 2], [0, 1, 2], [1, 2, 1]))
    # groups
    add("groups-C-not-div", conv([8, 8], 3, 6, 3, g=2))
    add("groups-K-not-div", conv([8, 8], 4, 6, 3, g=4))
    add("groups-both-not-div", conv([8, 8], 3, 5, 3, g=2))
    add("groups-ok", conv([8, 8], 4, 8, 3, g=4))
    add("groups-gt-C", conv([8, 8], 2, 8, 3, g=4))
    add("groups-zero", conv([8, 8], 4, 8, 3, g=0))
    add("depthwise", conv([16, 16], 32, 32, 3, 1, 1, g=32, bias=False))
    add("depthwise-mult2", conv([16, 16], 8, 16, 3, 1, 1, g=8))
    add("groups-1d-not-div", conv([10], 6, 4, 3, g=3))
    add("groups-3d-not-div", conv([6, 6, 6], 4, 6, 3, g=4))
    add("groups-3d-ok", conv([6, 6, 6], 4, 8, 3, g=2))
    return out


def handpicked_pool():
    out = []
    add = lambda name, c: out.append((name, c))
    for mode in ("max", "avg"):
        m = mode
        # ceil-mode last-window rule
        for ceil in (False, True):
            tag = "ceil" if ceil else "floor"
            add("%s-N5-F2-S2-P1-%s" % (m, tag), pool(m, [5], 1, 2, 2, 1, ceil))
            add("%s-N6-F3-S3-P1-%s" % (m, tag), pool(m, [6], 1, 3, 3, 1, ceil))
            add("%s-N4-F2-S2-P1-%s" % (m, tag), pool(m, [4], 1, 2, 2, 1, ceil))
            add("%s-N5-F3-S3-P1-%s" % (m, tag), pool(m, [5], 1, 3, 3, 1, ceil))
            add("%s-2d-N5-F2-S2-P1-%s" % (m, tag), pool(m, [5, 5], 3, 2, 2, 1, ceil))
            add("%s-3d-N5-F2-S2-P1-%s" % (m, tag), pool(m, [5, 5, 5], 2, 2, 2, 1, ceil))
            add("%s-alexnet-55-F3-S2-%s" % (m, tag), pool(m, [55, 55], 96, 3, 2, 0, ceil))
            add("%s-13-F3-S2-%s" % (m, tag), pool(m, [13, 13], 256, 3, 2, 0, ceil))
            add("%s-112-F3-S2-P1-%s" % (m, tag), pool(m, [112, 112], 64, 3, 2, 1, ceil))
            add("%s-224-F2-S2-%s" % (m, tag), pool(m, [224, 224], 64, 2, 2, 0, ceil))
            add("%s-7-F7-global-%s" % (m, tag), pool(m, [7, 7], 512, 7, None, 0, ceil))
            add("%s-stride-none-5-F2-%s" % (m, tag), pool(m, [5, 5], 1, 2, None, 0, ceil))
            add("%s-stride-none-5-F2-P1-%s" % (m, tag), pool(m, [5, 5], 1, 2, None, 1, ceil))
            # floor vs truncation for negative numerator: N=2,F=4,S=3 -> floor 0, trunc 1
            add("%s-negnum-N2-F4-S3-%s" % (m, tag), pool(m, [2], 1, 4, 3, 0, ceil))
            add("%s-negnum-N1-F3-S2-%s" % (m, tag), pool(m, [1], 1, 3, 2, 0, ceil))
            add("%s-negnum-2d-N1-F3-S2-%s" % (m, tag), pool(m, [1, 1], 1, 3, 2, 0, ceil))
            add("%s-zero-N3-F5-%s" % (m, tag), pool(m, [3], 1, 5, None, 0, ceil))
            add("%s-zero-2d-N3-F5-%s" % (m, tag), pool(m, [3, 3], 1, 5, None, 0, ceil))
            add("%s-neg-N1-F7-S1-%s" % (m, tag), pool(m, [1], 1, 7, 1, 0, ceil))
            add("%s-neg-2d-N1-F7-S1-%s" % (m, tag), pool(m, [1, 1], 1, 7, 1, 0, ceil))
            add("%s-neg-3d-N1-F7-S1-%s" % (m, tag), pool(m, [1, 1, 1], 1, 7, 1, 0, ceil))
            add("%s-zero-one-axis-%s" % (m, tag), pool(m, [10, 3], 1, 5, 1, 0, ceil))
            add("%s-pad-rescues-N3-F5-P2-%s" % (m, tag), pool(m, [3], 1, 5, 1, 2, ceil))
            add("%s-aniso-%s" % (m, tag), pool(m, [9, 14], 4, [3, 2], [2, 3], [1, 0], ceil))
            add("%s-aniso-3d-%s" % (m, tag), pool(m, [9, 14, 5], 4, [3, 2, 5], [2, 3, 1], [1, 1, 2], ceil))
        # padding limit (pad <= kernel // 2 ?)
        for n in (1, 2, 3):
            for F, P in (
                (1, 1),
                (2, 1),
                (2, 2),
                (3, 1),
                (3, 2),
                (4, 2),
                (4, 3),
                (5, 2),
                (5, 3),
                (6, 3),
                (6, 4),
                (7, 4),
            ):
                add("%s-padlimit-%dd-F%d-P%d" % (m, n, F, P), pool(m, [12] * n, 2, F, 1, P))
        add("%s-padlimit-one-axis" % m, pool(m, [12, 12], 2, [4, 3], 1, [2, 2]))
        add("%s-padlimit-one-axis-3d" % m, pool(m, [12, 12, 12], 2, [4, 4, 1], 1, [2, 2, 1]))
        add("%s-padlimit-big" % m, pool(m, [8, 8], 2, 3, 2, 5))
        # AvgPool3d alone also requires the UNPADDED input to be >= kernel per axis
        for n in (1, 2, 3):
            add("%s-unpadded-lt-kernel-%dd" % (m, n), pool(m, [3] * n, 1, 4, 1, 2))
            add("%s-unpadded-lt-kernel-ceil-%dd" % (m, n), pool(m, [3] * n, 1, 4, 2, 2, True))
        add("%s-unpadded-lt-kernel-one-axis-3d" % m, pool(m, [8, 8, 2], 1, [2, 2, 3], 1, [0, 0, 1]))
    return out


def handpicked_deconv():
    out = []
    add = lambda name, c: out.append((name, c))
    add("dcgan-1-to-4", deconv([1, 1], 100, 512, 4, 1, 0, bias=False))
    add("dcgan-4-to-8", deconv([4, 4], 512, 256, 4, 2, 1, bias=False))
    add("dcgan-32-to-64", deconv([32, 32], 64, 3, 4, 2, 1, bias=False))
    add("unet-up-2x2", deconv([28, 28], 1024, 512, 2, 2))
    add("fcn-up-64-S32", deconv([7, 7], 21, 21, 64, 32, 16, bias=False))
    for n in (1, 2, 3):
        s = [5] * n
        add("op-lt-stride-%dd" % n, deconv(s, 1, 1, 3, S=2, OP=1))
        add("op-eq-stride-%dd" % n, deconv(s, 1, 1, 3, S=2, OP=2))
        add("op-gt-stride-%dd" % n, deconv(s, 1, 1, 3, S=2, OP=3))
        add("op-s1-d1-%dd" % n, deconv(s, 1, 1, 3, S=1, D=1, OP=1))
        add("op-lt-dil-%dd" % n, deconv(s, 1, 1, 3, S=1, D=2, OP=1))
        add("op-eq-both-%dd" % n, deconv(s, 1, 1, 3, S=2, D=2, OP=2))
        add("op-lt-dil-ge-stride-%dd" % n, deconv(s, 1, 1, 3, S=2, D=3, OP=2))
        add("op-lt-stride-ge-dil-%dd" % n, deconv(s, 1, 1, 3, S=3, D=2, OP=2))
        add("out-zero-%dd" % n, deconv([2] * n, 1, 1, 1, S=1, P=1))
        add("out-neg-%dd" % n, deconv([2] * n, 1, 1, 3, S=1, P=5))
        add("out-one-%dd" % n, deconv([1] * n, 1, 1, 3, S=1, P=1))
        add("input1-%dd" % n, deconv([1] * n, 2, 3, 1))
    add("op-one-axis-bad", deconv([5, 5], 1, 1, 3, S=[2, 1], OP=[1, 1]))
    add("op-aniso-ok", deconv([5, 6], 2, 2, [3, 4], [2, 3], [1, 0], [1, 2], [1, 2]))
    add("deconv-groups-C-not-div", deconv([8, 8], 3, 6, 3, g=2))
    add("deconv-groups-K-not-div", deconv([8, 8], 4, 6, 3, g=4))
    add("deconv-groups-ok", deconv([8, 8], 4, 6, 3, S=2, g=2))
    add("deconv-depthwise", deconv([8, 8], 8, 8, 3, S=2, P=1, OP=1, g=8, bias=False))
    add("deconv-groups-zero", deconv([8, 8], 4, 8, 3, g=0))
    add("deconv-pad-gt-kernel", deconv([6, 6], 1, 1, 3, S=2, P=4))
    # negative output with groups > 1: CPU (oneDNN) path raises a different message
    add("deconv-groups-neg-out-1d", deconv([2], 2, 8, 3, S=2, P=5, D=3, g=2))
    add("deconv-groups-neg-out-2d", deconv([2, 2], 2, 4, 3, S=1, P=4, g=2))
    add("deconv-groups-zero-out-2d", deconv([2, 2], 2, 4, 1, S=1, P=1, g=2))
    return out


def handpicked_fc():
    out = []
    add = lambda name, c: out.append((name, c))
    add("fc-1-1", fc(1, 1))
    add("fc-1-1-nobias", fc(1, 1, False))
    add("fc-alexnet-fc6", fc(9216, 4096))
    add("fc-alexnet-fc8", fc(4096, 1000))
    add("fc-cifar", fc(3072, 10))
    add("fc-cifar-nobias", fc(3072, 10, False))
    add("fc-lenet", fc(400, 120))
    add("fc-mnist-logreg", fc(784, 10))
    return out


# --------------------------------------------------------------------------
# sweeps and random cases
# --------------------------------------------------------------------------


def pool_sweeps():
    out = []
    for mode in ("max", "avg"):
        for N in range(1, 9):
            for F in (2, 3):
                for S in (1, 2, 3):
                    for P in range(0, F // 2 + 1):
                        for ceil in (False, True):
                            name = "sweep-%s-N%d-F%d-S%d-P%d-%s" % (
                                mode,
                                N,
                                F,
                                S,
                                P,
                                "ceil" if ceil else "floor",
                            )
                            out.append((name, pool(mode, [N], 1, F, S, P, ceil)))
    return out


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def _pick_ndim(rng, w=(2, 6, 2)):
    return rng.choices((1, 2, 3), weights=w)[0]


def _per_axis(rng, n, gen, iso_prob=0.7):
    if rng.random() < iso_prob:
        v = gen()
        return [v] * n
    return [gen() for _ in range(n)]


def _spatial(rng, n, big_ok=True):
    hi = 40 if n < 3 else 20
    if n == 2 and big_ok and rng.random() < 0.05:
        v = rng.choice((224, 227))
        return [v, v]
    return _per_axis(rng, n, lambda: rng.choices((rng.randint(1, 8), rng.randint(1, hi)), weights=(1, 2))[0])


CHANNELS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)


def _groups(rng, C, K):
    r = rng.random()
    if r < 0.6:
        return 1
    if r < 0.85:
        return rng.choice(_divisors(_gcd(C, K)))
    if r < 0.92 and C > 1:
        return C  # depthwise-ish (may fail if K % C != 0)
    return rng.randint(2, 5)  # often invalid


def random_conv(rng, count):
    out = []
    for i in range(count):
        n = _pick_ndim(rng)
        spatial = _spatial(rng, n)
        big = max(spatial) > 100
        C = rng.choice((1, 3) if big else CHANNELS)
        K = rng.choice((1, 4, 8, 16) if big else CHANNELS)
        if n == 3:
            C, K = min(C, 8), min(K, 8)
        F = _per_axis(
            rng, n, lambda: rng.choices((1, 2, 3, 4, 5, 6, 7, 9, 11), weights=(4, 2, 8, 2, 5, 1, 3, 1, 1))[0]
        )
        S = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4, 5), weights=(8, 6, 2, 2, 1))[0])
        P = _per_axis(rng, n, lambda: rng.choices((0, 1, 2, 3, 4, 6), weights=(8, 6, 3, 2, 1, 1))[0])
        D = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4), weights=(14, 3, 2, 1))[0], 0.85)
        g = _groups(rng, C, K)
        if g > 1 and rng.random() < 0.4 and C % g == 0:
            K = g * rng.choice((1, 2))  # make depthwise/grouped shapes valid more often
        bias = rng.random() < 0.75
        out.append(("rand-conv-%04d" % i, conv(spatial, C, K, F, S, P, D, g, bias)))
    return out


def random_pool(rng, count):
    out = []
    for i in range(count):
        n = _pick_ndim(rng)
        spatial = _spatial(rng, n)
        C = rng.choice(CHANNELS)
        mode = rng.choice(("max", "avg"))
        F = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4, 5, 7), weights=(1, 8, 8, 2, 2, 1))[0])
        if rng.random() < 0.25:
            S = None
        else:
            S = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4), weights=(3, 8, 3, 1))[0])
        if rng.random() < 0.12:
            P = [f // 2 + rng.randint(1, 2) for f in F]  # beyond the limit
        else:
            P = [rng.randint(0, f // 2) if rng.random() < 0.6 else 0 for f in F]
        ceil = rng.random() < 0.5
        out.append(("rand-pool-%04d" % i, pool(mode, spatial, C, F, S, P, ceil)))
    return out


def random_deconv(rng, count):
    out = []
    for i in range(count):
        n = _pick_ndim(rng, (3, 5, 2))
        hi = 16 if n < 3 else 8
        spatial = _per_axis(rng, n, lambda: rng.randint(1, hi))
        C = rng.choice(CHANNELS[:8])
        K = rng.choice(CHANNELS[:8])
        if n == 3:
            C, K = min(C, 4), min(K, 4)
        F = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4, 5), weights=(2, 4, 6, 5, 2))[0])
        S = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4), weights=(4, 8, 2, 1))[0])
        P = _per_axis(rng, n, lambda: rng.choices((0, 1, 2, 3, 5), weights=(6, 6, 2, 1, 1))[0])
        D = _per_axis(rng, n, lambda: rng.choices((1, 2, 3), weights=(10, 3, 1))[0], 0.85)
        OP = []
        for s, d in zip(S, D):
            lim = max(s, d)
            r = rng.random()
            if r < 0.5:
                OP.append(0)
            elif r < 0.85:
                OP.append(rng.randint(0, lim - 1))
            else:
                OP.append(lim + rng.randint(0, 1))  # torch refuses
        if rng.random() < 0.7:
            OP = [OP[0]] * n if len(set(S)) == 1 and len(set(D)) == 1 else OP
        g = _groups(rng, C, K)
        bias = rng.random() < 0.75
        out.append(("rand-deconv-%04d" % i, deconv(spatial, C, K, F, S, P, D, OP, g, bias)))
    return out


def random_fc(rng, count):
    out = []
    sizes = (1, 2, 3, 5, 10, 16, 32, 64, 100, 120, 128, 256, 500, 512, 784, 1000, 1024, 2048)
    for i in range(count):
        if rng.random() < 0.5:
            a, b = rng.choice(sizes), rng.choice(sizes)
        else:
            a, b = rng.randint(1, 3000), rng.randint(1, 1200)
        out.append(("rand-fc-%04d" % i, fc(a, b, rng.random() < 0.75)))
    return out


# --------------------------------------------------------------------------
# padding PyTorch's layers cannot take, and the shape-only kinds
# --------------------------------------------------------------------------


def handpicked_padded_conv():
    out = []
    add = lambda name, c: out.append((name, c))
    for n in (1, 2, 3):
        d = "%dd" % n
        add("same-conv-s1-F3-" + d, conv([7] * n, 2, 3, 3, 1, "same"))
        add("same-conv-s1-F4-even-" + d, conv([7] * n, 2, 3, 4, 1, "same"))
        add("same-conv-s1-F3-D2-" + d, conv([6] * n, 2, 3, 3, 1, "same", D=2))
        add("same-conv-s1-F2-D3-" + d, conv([6] * n, 2, 2, 2, 1, "same", D=3))
        add("same-conv-s1-input-lt-window-" + d, conv([2] * n, 1, 2, 5, 1, "same"))
        add("same-conv-s1-input1-" + d, conv([1] * n, 1, 2, 3, 1, "same"))
        add("same-conv-s2-F3-odd-" + d, conv([7] * n, 2, 3, 3, 2, "same"))
        add("same-conv-s2-F3-even-" + d, conv([8] * n, 2, 3, 3, 2, "same"))
        add("same-conv-stride-gt-filter-" + d, conv([10] * n, 1, 1, 1, 3, "same"))
        add("same-conv-stride-gt-filter-F2-S4-" + d, conv([7] * n, 1, 1, 2, 4, "same"))
        add("same-conv-stride-gt-input-" + d, conv([3] * n, 1, 1, 3, 5, "same"))
        add("same-conv-input-lt-window-s2-" + d, conv([2] * n, 1, 1, 5, 2, "same"))
        add("same-conv-groups-" + d, conv([6] * n, 4, 8, 3, 2, "same", g=2))
        add("same-conv-groups-mismatch-" + d, conv([6] * n, 3, 8, 3, 1, "same", g=2))
        add("valid-conv-" + d, conv([7] * n, 2, 3, 3, 2, "valid"))
        add("valid-conv-equal-" + d, conv([5] * n, 1, 1, 5, 1, "valid"))
        add("valid-conv-short-" + d, conv([4] * n, 1, 1, 5, 1, "valid"))
        add("valid-conv-dil-short-" + d, conv([6] * n, 1, 1, 3, 1, "valid", D=3))
        add("sides-conv-one-pair-" + d, conv([6] * n, 2, 3, 4, 1, [[1, 2]]))
        add("sides-conv-before-only-" + d, conv([6] * n, 2, 3, 3, 2, [[2, 0]]))
        add("sides-conv-after-only-" + d, conv([6] * n, 2, 3, 3, 2, [[0, 1]]))
        add("sides-conv-rescues-" + d, conv([3] * n, 1, 1, 5, 1, [[2, 0]]))
        add("sides-conv-short-" + d, conv([3] * n, 1, 1, 5, 1, [[0, 1]]))
        add("sides-conv-symmetric-pairs-" + d, conv([6] * n, 1, 1, 3, 1, [[1, 1]]))
        add("sides-conv-wider-than-window-" + d, conv([4] * n, 1, 2, 3, 2, [[5, 0]]))
    add("sides-conv-per-axis-2d", conv([9, 8], 2, 4, 3, [2, 1], [[0, 1], [2, 1]]))
    add("sides-conv-per-axis-one-even-2d", conv([9, 8], 2, 4, 3, 1, [[1, 1], [0, 2]]))
    add("sides-conv-per-axis-3d", conv([5, 6, 7], 2, 2, [1, 3, 5], [1, 2, 3], [[0, 0], [1, 0], [3, 2]]))
    add("sides-conv-per-axis-short-3d", conv([5, 6, 2], 2, 2, 3, 1, [[0, 0], [1, 0], [0, 0]]))
    add("same-conv-aniso-s1-2d", conv([9, 12], 2, 4, [3, 4], 1, "same", [1, 2]))
    add("same-conv-aniso-2d", conv([9, 12], 2, 4, [3, 4], [2, 3], "same"))
    add("same-conv-aniso-3d", conv([5, 9, 4], 2, 2, [3, 2, 5], [1, 2, 3], "same", [2, 1, 1]))
    add("same-conv-resnet-stem", conv([224, 224], 3, 64, 7, 2, "same", bias=False))
    add("same-conv-mobilenet-dw", conv([112, 112], 32, 32, 3, 2, "same", g=32, bias=False))
    return out


def handpicked_padded_pool():
    out = []
    add = lambda name, c: out.append((name, c))
    for mode in ("max", "avg"):
        for n in (1, 2, 3):
            d = "%s-%dd" % (mode, n)
            add("same-pool-F2-S2-odd-" + d, pool(mode, [7] * n, 2, 2, 2, "same"))
            add("same-pool-F3-S2-even-" + d, pool(mode, [8] * n, 2, 3, 2, "same"))
            add("same-pool-F3-S1-" + d, pool(mode, [5] * n, 2, 3, 1, "same"))
            add("same-pool-F4-S1-" + d, pool(mode, [5] * n, 2, 4, 1, "same"))
            add("same-pool-stride-none-" + d, pool(mode, [7] * n, 2, 3, None, "same"))
            add("same-pool-stride-gt-filter-" + d, pool(mode, [10] * n, 1, 2, 3, "same"))
            add("same-pool-input-lt-window-" + d, pool(mode, [2] * n, 1, 3, 1, "same"))
            add("same-pool-input-lt-window-s2-" + d, pool(mode, [2] * n, 1, 5, 2, "same"))
            add("same-pool-input1-" + d, pool(mode, [1] * n, 1, 3, None, "same"))
            add("valid-pool-" + d, pool(mode, [7] * n, 2, 3, 2, "valid"))
            add("valid-pool-stride-none-" + d, pool(mode, [7] * n, 2, 2, None, "valid"))
            add("valid-pool-short-" + d, pool(mode, [2] * n, 2, 3, 1, "valid"))
            add("sides-pool-" + d, pool(mode, [7] * n, 2, 3, 2, [[0, 1]]))
            add("sides-pool-side-eq-size-minus-1-" + d, pool(mode, [7] * n, 2, 3, 2, [[2, 1]]))
            add("sides-pool-symmetric-over-limit-" + d, pool(mode, [7] * n, 2, 3, 2, [[2, 2]]))
            add("sides-pool-before-alone-" + d, pool(mode, [5] * n, 1, 2, 3, [[2, 0]]))
            add("sides-pool-after-never-alone-" + d, pool(mode, [5] * n, 1, 2, 3, [[0, 2]]))
            add("sides-pool-after-alone-" + d, pool(mode, [4] * n, 1, 2, 2, [[0, 3]]))
            add("sides-pool-rescues-" + d, pool(mode, [2] * n, 1, 3, 1, [[0, 1]]))
            add("sides-pool-short-" + d, pool(mode, [1] * n, 1, 3, 1, [[0, 1]]))
        add("same-pool-aniso-%s-2d" % mode, pool(mode, [9, 14], 4, [3, 2], [2, 3], "same"))
        add("same-pool-aniso-%s-3d" % mode, pool(mode, [9, 14, 5], 4, [3, 2, 5], [2, 3, 1], "same"))
        add("sides-pool-per-axis-%s-2d" % mode, pool(mode, [9, 8], 2, 3, 2, [[0, 1], [1, 2]]))
        add("sides-pool-per-axis-%s-3d" % mode, pool(mode, [6, 9, 8], 2, 3, 2, [[1, 1], [0, 1], [2, 0]]))
    for n in (1, 2, 3):
        d = "%dd" % n
        add("same-pool-count-pad-avg-" + d, pool("avg", [7] * n, 1, 3, 2, "same", count_pad=True))
        add("sides-pool-nocount-avg-" + d, pool("avg", [7] * n, 1, 3, 2, [[1, 2]], count_pad=False))
        add("nocount-F3-S2-P1-" + d, pool("avg", [7] * n, 2, 3, 2, 1, count_pad=False))
        add("nocount-F2-S2-P1-ceil-" + d, pool("avg", [5] * n, 2, 2, 2, 1, True, False))
        add("nocount-F3-S3-P1-ceil-" + d, pool("avg", [6] * n, 1, 3, 3, 1, True, False))
        add("nocount-padlimit-" + d, pool("avg", [6] * n, 2, 3, 1, 2, count_pad=False))
        add("nocount-unpadded-lt-kernel-" + d, pool("avg", [3] * n, 1, 4, 1, 2, count_pad=False))
        add("nocount-negnum-" + d, pool("avg", [1] * n, 1, 3, 2, 0, True, False))
    add("nocount-resnet-avgpool", pool("avg", [7, 7], 512, 7, 1, 0, count_pad=False))
    add("nocount-inception-3x3", pool("avg", [35, 35], 192, 3, 1, 1, count_pad=False))
    return out


def handpicked_padded_deconv():
    out = []
    add = lambda name, c: out.append((name, c))
    for n in (1, 2, 3):
        d = "%dd" % n
        for F in (1, 2, 3, 4, 5):
            for S in (1, 2, 3):
                add("same-deconv-F%d-S%d-%s" % (F, S, d), deconv([4] * n, 2, 3, F, S, "same"))
        add("same-deconv-D2-" + d, deconv([4] * n, 2, 3, 3, 2, "same", D=2))
        add("same-deconv-D3-S4-" + d, deconv([3] * n, 2, 3, 2, 4, "same", D=3))
        add("same-deconv-input1-" + d, deconv([1] * n, 4, 2, 4, 2, "same"))
        add("same-deconv-groups-" + d, deconv([4] * n, 4, 6, 3, 2, "same", g=2))
        add("same-deconv-groups-mismatch-" + d, deconv([4] * n, 4, 6, 3, 2, "same", g=4))
        add("valid-deconv-" + d, deconv([4] * n, 2, 3, 3, 2, "valid"))
        add("valid-deconv-F1-S3-" + d, deconv([4] * n, 2, 3, 1, 3, "valid"))
        add("valid-deconv-op-" + d, deconv([4] * n, 2, 3, 3, 2, "valid", OP=1))
        add("valid-deconv-op-eq-stride-" + d, deconv([4] * n, 2, 3, 3, 2, "valid", OP=2))
        add("sides-deconv-" + d, deconv([4] * n, 2, 3, 4, 2, [[1, 2]]))
        add("sides-deconv-op-" + d, deconv([4] * n, 2, 3, 3, 2, [[0, 1]], OP=1))
        add("sides-deconv-op-eq-stride-" + d, deconv([4] * n, 2, 3, 3, 2, [[0, 1]], OP=2))
        add("sides-deconv-crop-to-one-" + d, deconv([2] * n, 1, 1, 3, 1, [[3, 0]]))
        add("sides-deconv-crop-to-zero-" + d, deconv([2] * n, 1, 1, 3, 1, [[0, 4]]))
        add("sides-deconv-crop-past-" + d, deconv([2] * n, 1, 1, 3, 1, [[2, 3]]))
        add("sides-deconv-symmetric-pairs-" + d, deconv([4] * n, 1, 1, 3, 2, [[1, 1]]))
        add("sides-deconv-symmetric-pairs-to-zero-" + d, deconv([2] * n, 1, 1, 1, 1, [[1, 1]]))
        for S in (3, 4):
            add("op-eq-stride-minus-1-S%d-%s" % (S, d), deconv([3] * n, 2, 2, 3, S, 1, OP=S - 1))
            add("op-eq-stride-S%d-%s" % (S, d), deconv([3] * n, 2, 2, 3, S, 1, OP=S))
        add("op-eq-dil-minus-1-" + d, deconv([3] * n, 2, 2, 3, 1, 0, D=3, OP=2))
        add("op-eq-dil-" + d, deconv([3] * n, 2, 2, 3, 1, 0, D=3, OP=3))
        add("op-lt-dil-gt-stride-" + d, deconv([3] * n, 2, 2, 3, 2, 0, D=4, OP=3))
    add("sides-deconv-per-axis-2d", deconv([5, 6], 2, 4, [3, 4], [2, 3], [[0, 1], [2, 1]], OP=[1, 0]))
    add("sides-deconv-per-axis-3d", deconv([2, 3, 4], 2, 2, 3, [1, 2, 2], [[1, 0], [0, 0], [2, 1]]))
    add("same-deconv-aniso-2d", deconv([5, 3], 2, 2, [3, 1], [2, 3], "same"))
    add("same-deconv-aniso-3d", deconv([2, 3, 4], 2, 2, [4, 1, 3], [2, 3, 1], "same", [1, 1, 2]))
    add("op-one-axis-eq-stride-3d", deconv([3, 3, 3], 1, 1, 3, [2, 3, 1], 0, [1, 1, 2], OP=[1, 3, 1]))
    add("same-dcgan-4-to-8", deconv([4, 4], 512, 256, 4, 2, "same", bias=False))
    return out


SHAPES = ([10], [1], [8, 3], [1, 1], [6, 5, 4], [4, 5, 6, 2], [1, 1, 1, 1], [7, 7, 512])


def handpicked_shapes():
    out = []
    add = lambda name, c: out.append((name, c))
    for mode in ("max", "avg"):
        add("adaptive-%s-7x7-from-224" % mode, adaptive(mode, [224, 224], 8, 7))
        add("adaptive-%s-7x7-from-13" % mode, adaptive(mode, [13, 13], 4, 7))
        add("adaptive-%s-out-gt-in" % mode, adaptive(mode, [3, 5], 2, [7, 7]))
        add("adaptive-%s-out-eq-in" % mode, adaptive(mode, [6, 6], 2, 6))
        add("adaptive-%s-out1" % mode, adaptive(mode, [5, 7], 2, 1))
        add("adaptive-%s-aniso" % mode, adaptive(mode, [10, 9], 3, [3, 4]))
        add("adaptive-%s-input1" % mode, adaptive(mode, [1, 1], 3, [2, 3]))
        add("adaptive-%s-1d-10-to-3" % mode, adaptive(mode, [10], 2, 3))
        add("adaptive-%s-1d-out-gt-in" % mode, adaptive(mode, [2], 2, 5))
        add("adaptive-%s-3d" % mode, adaptive(mode, [4, 6, 8], 2, [2, 3, 5]))
        add("adaptive-%s-3d-out-gt-in" % mode, adaptive(mode, [1, 2, 3], 1, [2, 2, 4]))
        add("adaptive-%s-3d-iso" % mode, adaptive(mode, [8, 8, 8], 2, 3))
        for n in (1, 2, 3):
            add("global-%s-%dd" % (mode, n), global_pool(mode, [5] * n, 4))
            add("global-%s-input1-%dd" % (mode, n), global_pool(mode, [1] * n, 3))
        add("global-%s-aniso-2d" % mode, global_pool(mode, [7, 3], 16))
        add("global-%s-resnet" % mode, global_pool(mode, [7, 7], 2048))
    for dims in SHAPES:
        tag = "x".join(map(str, dims))
        add("flatten-" + tag, flatten(dims))
        add("bn-" + tag, bn(dims))
        add("bn-no-affine-" + tag, bn(dims, affine=False))
    for i, fn in enumerate(sorted(ACTIVATIONS)):
        add("act-%s" % fn, act(SHAPES[i % len(SHAPES)], fn))
    for i, p in enumerate((0.0, 0.1, 0.5, 0.9, 1.0)):
        add("dropout-%g" % p, dropout(SHAPES[(3 * i) % len(SHAPES)], p))
    return out


def _random_sides(rng, n, side):
    """Per-side pads: one [before, after] pair for all axes, or one pair per axis."""
    if rng.random() < 0.3:
        return [[side(0), side(0)]]
    return [[side(j), side(j)] for j in range(n)]


def random_padded_conv(rng, count):
    out = []
    for i in range(count):
        n = _pick_ndim(rng, (3, 5, 3))
        spatial = _spatial(rng, n, big_ok=False)
        C, K = rng.choice(CHANNELS[:8]), rng.choice(CHANNELS[:8])
        if n == 3:
            C, K = min(C, 4), min(K, 4)
        F = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4, 5, 7), weights=(2, 3, 8, 3, 4, 2))[0])
        S = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4), weights=(8, 6, 2, 1))[0])
        D = _per_axis(rng, n, lambda: rng.choices((1, 2, 3), weights=(14, 3, 2))[0], 0.85)
        r = rng.random()
        if r < 0.45:
            P = "same"
        elif r < 0.6:
            P = "valid"
        else:
            P = _random_sides(rng, n, lambda j: rng.choices((0, 1, 2, 3, 5), weights=(6, 6, 3, 2, 1))[0])
        g = _groups(rng, C, K)
        bias = rng.random() < 0.75
        out.append(("rand-padded-conv-%04d" % i, conv(spatial, C, K, F, S, P, D, g, bias)))
    return out


def random_padded_pool(rng, count):
    out = []
    for i in range(count):
        n = _pick_ndim(rng, (3, 5, 3))
        spatial = _spatial(rng, n, big_ok=False)
        C = rng.choice(CHANNELS[:8])
        mode = rng.choice(("max", "avg"))
        F = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4, 5), weights=(1, 8, 8, 2, 2))[0])
        S = (
            None
            if rng.random() < 0.2
            else _per_axis(rng, n, lambda: rng.choices((1, 2, 3), weights=(3, 8, 2))[0])
        )
        r = rng.random()
        if r < 0.45:
            P = "same"
        elif r < 0.6:
            P = "valid"
        else:
            # mostly below the window (no window of padding alone), sometimes not
            wide = rng.random() < 0.1
            P = _random_sides(rng, n, lambda j: rng.randint(0, (F[j] + 1) if wide else (F[j] - 1)))
        count_pad = rng.random() < 0.5 if mode == "avg" else None
        out.append(("rand-padded-pool-%04d" % i, pool(mode, spatial, C, F, S, P, False, count_pad)))
    return out


def random_padded_deconv(rng, count):
    out = []
    for i in range(count):
        n = _pick_ndim(rng, (3, 5, 2))
        hi = 12 if n < 3 else 6
        spatial = _per_axis(rng, n, lambda: rng.randint(1, hi))
        C, K = rng.choice(CHANNELS[:6]), rng.choice(CHANNELS[:6])
        if n == 3:
            C, K = min(C, 4), min(K, 4)
        F = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4, 5), weights=(2, 4, 6, 5, 2))[0])
        S = _per_axis(rng, n, lambda: rng.choices((1, 2, 3, 4), weights=(4, 8, 2, 1))[0])
        D = _per_axis(rng, n, lambda: rng.choices((1, 2, 3), weights=(10, 3, 1))[0], 0.85)
        OP = [0] * n
        r = rng.random()
        if r < 0.45:
            P = "same"
        else:
            P = (
                "valid"
                if r < 0.6
                else _random_sides(rng, n, lambda j: rng.choices((0, 1, 2, 3, 5), (5, 6, 3, 2, 1))[0])
            )
            for j in range(n):
                lim = max(S[j], D[j])
                u = rng.random()
                OP[j] = 0 if u < 0.5 else rng.randint(0, lim - 1) if u < 0.9 else lim
        g = _groups(rng, C, K)
        bias = rng.random() < 0.75
        out.append(("rand-padded-deconv-%04d" % i, deconv(spatial, C, K, F, S, P, D, OP, g, bias)))
    return out


def random_nocount(rng, count):
    """Average pools with count_pad false and symmetric pads (count_include_pad=False)."""
    out = []
    for i in range(count):
        n = _pick_ndim(rng, (3, 5, 3))
        spatial = _spatial(rng, n, big_ok=False)
        F = _per_axis(rng, n, lambda: rng.choices((2, 3, 4, 5), weights=(8, 8, 2, 2))[0])
        S = (
            None
            if rng.random() < 0.2
            else _per_axis(rng, n, lambda: rng.choices((1, 2, 3), weights=(3, 8, 2))[0])
        )
        P = [rng.randint(0, f // 2 + (1 if rng.random() < 0.1 else 0)) for f in F]
        C = rng.choice(CHANNELS[:8])
        out.append(("rand-nocount-%04d" % i, pool("avg", spatial, C, F, S, P, rng.random() < 0.5, False)))
    return out


def random_adaptive(rng, count):
    out = []
    for i in range(count):
        n = _pick_ndim(rng, (3, 5, 3))
        spatial = _spatial(rng, n, big_ok=False)
        mode = rng.choice(("max", "avg"))
        C = rng.choice(CHANNELS[:8])
        if rng.random() < 0.15:
            out.append(("rand-global-%04d" % i, global_pool(mode, spatial, C)))
            continue
        size = _per_axis(
            rng, n, lambda: rng.choices((1, 2, 3, 4, 5, 6, 7, 9), weights=(2, 3, 3, 2, 1, 1, 3, 1))[0]
        )
        out.append(("rand-adaptive-%04d" % i, adaptive(mode, spatial, C, size)))
    return out


def random_bn(rng, count):
    out = []
    for i in range(count):
        n = rng.choice((0, 1, 2, 3))
        dims = [rng.randint(1, 9) for _ in range(n)] + [rng.choice(CHANNELS)]
        out.append(("rand-bn-%04d" % i, bn(dims, rng.random() < 0.7)))
    return out


def all_cases():
    rng = random.Random(SEED)
    named = []
    named += handpicked_conv()
    named += handpicked_pool()
    named += pool_sweeps()
    named += handpicked_deconv()
    named += handpicked_fc()
    named += random_conv(rng, 1000)
    named += random_pool(rng, 450)
    named += random_deconv(rng, 450)
    named += random_fc(rng, 120)
    # later additions draw from their own generator, so the cases above never change
    rng = random.Random(SEED + 1)
    named += handpicked_padded_conv()
    named += handpicked_padded_pool()
    named += handpicked_padded_deconv()
    named += handpicked_shapes()
    named += random_padded_conv(rng, 300)
    named += random_padded_pool(rng, 300)
    named += random_padded_deconv(rng, 200)
    named += random_nocount(rng, 100)
    named += random_adaptive(rng, 120)
    named += random_bn(rng, 30)
    seen = set()
    cases = []
    for name, c in named:
        key = json.dumps(c, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        cases.append(dict([("id", name)] + list(c.items())))
    return cases


# --------------------------------------------------------------------------
# torch evaluation
# --------------------------------------------------------------------------


def _first_line(exc):
    msg = str(exc).strip()
    if not msg:
        return type(exc).__name__
    return msg.splitlines()[0]


def plan_pads(case):
    """How a case's pad reaches PyTorch: module padding, pads before it, crops after, extra output_padding.

    Pads and crops are per-axis (before, after) pairs, or None when the module's own (symmetric)
    padding says it all, as it does for `same` whenever the total pad is even.
    """
    n = len(case["input"]) - 1
    pad = case["pad"]
    extra = [0] * n
    if pad == "valid":
        pairs = [(0, 0)] * n
    elif pad == "same":
        F = case["size"]
        S = case["stride"] or F
        D = case["dilation"] or [1] * n
        E = [d * (f - 1) + 1 for f, d in zip(F, D)]
        if case["kind"] == "deconv":
            total = [max(e - s, 0) for e, s in zip(E, S)]
            extra = [max(s - e, 0) for e, s in zip(E, S)]
        else:
            outs = [-(-N // s) for N, s in zip(case["input"], S)]
            total = [max((o - 1) * s + e - N, 0) for o, s, e, N in zip(outs, S, E, case["input"])]
        pairs = [(t // 2, t - t // 2) for t in total]
    elif isinstance(pad[0], list):
        pairs = [tuple(p) for p in (pad * n if len(pad) == 1 else pad)]
    else:
        pairs = [(p, p) for p in pad]
    if all(b == a for b, a in pairs):
        return [b for b, _ in pairs], None, None, extra
    if case["kind"] == "deconv":
        return [0] * n, None, pairs, extra
    return [0] * n, pairs, None, extra


def _flat(pairs):
    """Per-axis (before, after) pairs in F.pad's order: the last axis first."""
    return [v for pair in reversed(pairs) for v in pair]


def build_module(torch, case, padding=None, output_padding=None):
    """The case's module; `padding` and `output_padding` override the case's own (see plan_pads)."""
    nn = torch.nn
    kind = case["kind"]
    if kind == "fc":
        return nn.Linear(case["input"][0], case["units"], bias=case["bias"])
    n = len(case["input"]) - 1
    C = case["input"][-1]
    if kind == "flatten":
        return nn.Flatten()
    if kind == "act":
        cls = getattr(nn, ACTIVATIONS[case["fn"]])
        return cls(dim=1) if case["fn"] == "softmax" else cls()
    if kind == "dropout":
        return nn.Dropout(case["p"])
    if kind == "bn":
        cls = (nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)[n]
        return cls(C, affine=case["affine"])
    if kind == "global_pool":
        names = {"max": "AdaptiveMaxPool%dd", "avg": "AdaptiveAvgPool%dd"}
        return getattr(nn, names[case["mode"]] % n)(1)
    if kind == "pool" and case["output"] is not None:
        names = {"max": "AdaptiveMaxPool%dd", "avg": "AdaptiveAvgPool%dd"}
        return getattr(nn, names[case["mode"]] % n)(tuple(case["output"]))
    F = tuple(case["size"])
    P = tuple(case["pad"] if padding is None else padding)
    if kind == "conv":
        cls = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[n - 1]
        return cls(
            C,
            case["filters"],
            kernel_size=F,
            stride=tuple(case["stride"]),
            padding=P if P != ("same",) else "same",
            dilation=tuple(case["dilation"]),
            groups=case["groups"],
            bias=case["bias"],
        )
    if kind == "deconv":
        cls = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[n - 1]
        return cls(
            C,
            case["filters"],
            kernel_size=F,
            stride=tuple(case["stride"]),
            padding=P,
            output_padding=tuple(case["output_pad"] if output_padding is None else output_padding),
            groups=case["groups"],
            bias=case["bias"],
            dilation=tuple(case["dilation"]),
        )
    if kind == "pool":
        S = None if case["stride"] is None else tuple(case["stride"])
        if case["mode"] == "max":
            return (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[n - 1](
                F, stride=S, padding=P, ceil_mode=case["ceil"]
            )
        cls = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[n - 1]
        return cls(F, stride=S, padding=P, ceil_mode=case["ceil"], count_include_pad=case["count_pad"])
    raise ValueError(kind)


SAME_CHECKED = []
"""Ids of the conv cases checked against padding='same'."""


def _torch_name(mod):
    return type(mod).__name__


def _same_agrees(torch, case, mod, forward):
    """Conv 'same' at stride 1: the route taken gives what the module's own padding='same' gives."""
    native = build_module(torch, case, padding=("same",))
    native.load_state_dict(mod.state_dict())
    shape = (1, case["input"][-1], *case["input"][:-1])
    x = torch.arange(math.prod(shape), dtype=torch.float64).reshape(shape).sin()
    native, mod = native.double(), mod.double()
    with torch.no_grad():
        a, b = native(x), forward(mod, x)
    return a.shape == b.shape and bool(torch.allclose(a, b))


def run_case(torch, case):
    res = {
        "output": None,
        "params": None,
        "error": None,
        "error_type": None,
        "stage": None,
        "via": None,
        "padding_only": None,
    }
    windowed = case["kind"] in ("conv", "deconv") or (case["kind"] == "pool" and case["output"] is None)
    padding, before, crop, extra = plan_pads(case) if windowed else (None, None, None, None)
    output_padding = None
    if case["kind"] == "deconv":
        output_padding = [e + x for e, x in zip(case["output_pad"], extra)]
    try:
        mod = build_module(torch, case, padding=padding, output_padding=output_padding)
    except Exception as e:
        res.update(error=_first_line(e), error_type=type(e).__name__, stage="construct")
        return res
    mod.eval()
    res["params"] = int(sum(p.numel() for p in mod.parameters()))
    if len(case["input"]) == 1:
        x = torch.zeros(1, case["input"][0])
    else:
        x = torch.zeros(1, case["input"][-1], *case["input"][:-1])
    F = torch.nn.functional
    value = float("-inf") if case["kind"] == "pool" and case["mode"] == "max" else 0.0

    def forward(mod, x):
        """The module, with the pads before it and the crops after it."""
        y = mod(x if before is None else F.pad(x, _flat(before), value=value))
        return y if crop is None else F.pad(y, [-v for v in _flat(crop)])

    if before is not None:
        res["via"] = "F.pad(x, %s%s) then %s(padding=0)" % (
            tuple(_flat(before)),
            ", value=-inf" if value else "",
            _torch_name(mod),
        )
    if crop is not None:
        res["via"] = "%s(padding=0, output_padding=%s) then F.pad(y, %s)" % (
            _torch_name(mod),
            tuple(output_padding),
            tuple(-v for v in _flat(crop)),
        )
    try:
        with torch.no_grad():
            y = forward(mod, x)
    except Exception as e:
        res.update(error=_first_line(e), error_type=type(e).__name__, stage="forward")
        return res
    if before is not None and case["kind"] == "pool":
        n = len(case["input"]) - 1
        probe = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[n - 1](
            F.pad(torch.zeros_like(x), _flat(before), value=float("-inf")),
            tuple(case["size"]),
            None if case["stride"] is None else tuple(case["stride"]),
        )
        res["padding_only"] = bool(torch.isinf(probe).any())
    if case["kind"] == "conv" and case["pad"] == "same" and all(s == 1 for s in case["stride"]):
        if not _same_agrees(torch, case, mod, forward):
            raise SystemExit("%s: the route taken disagrees with padding='same'" % case["id"])
        SAME_CHECKED.append(case["id"])
    shape = list(y.shape)
    assert shape[0] == 1, shape
    if len(shape) == 2:
        res["output"] = shape[1:]
    else:
        res["output"] = shape[2:] + [shape[1]]  # channels last
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output JSON path")
    args = ap.parse_args(argv)

    import torch  # the only torch import in the project

    if not torch.__version__.startswith(EXPECTED_TORCH):
        print(
            "warning: fixture was made with torch %s, running %s" % (EXPECTED_TORCH, torch.__version__),
            file=sys.stderr,
        )
    torch.manual_seed(0)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")

    cases = all_cases()
    for c in cases:
        c["torch"] = run_case(torch, c)

    out = os.path.normpath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(c, indent=None, separators=(",", ":")) for c in cases))
        f.write("\n]\n")

    counts = {}
    for c in cases:
        k = c["kind"]
        tot, err = counts.get(k, (0, 0))
        counts[k] = (tot + 1, err + (c["torch"]["error"] is not None))
    summary = ", ".join("%s %d (%d errors)" % (k, t, e) for k, (t, e) in sorted(counts.items()))
    print("wrote %d cases to %s: %s" % (len(cases), out, summary))
    print("%d conv 'same' cases agree with padding='same'" % len(SAME_CHECKED))


if __name__ == "__main__":
    main()
