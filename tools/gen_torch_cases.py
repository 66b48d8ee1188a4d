#!/usr/bin/env python3
"""Regenerate tests/data/torch_cases.json: ground truth of what PyTorch does.

The fixture lets convcalc's tests compare against real PyTorch behaviour
without torch being installed.  This script is the only place torch is
imported; tests never run it.

Usage (needs torch==2.13.0, CPU build is fine):

    python tools/gen_torch_cases.py [--out tests/data/torch_cases.json]

Each case builds an nn module (Conv1d/2d/3d, ConvTranspose1d/2d/3d,
MaxPool/AvgPool 1d/2d/3d, Linear), runs a forward pass on zeros with batch 1,
and records the output shape (channels LAST), the parameter count and any
error (first line of the exception message).

Case record (one JSON object per line inside a JSON list):

    id          unique, stable string label
    kind        "conv" | "pool" | "deconv" | "fc"
    mode        "max" | "avg" for pools, else null
    input       [spatial..., C] (channels last); for fc [in_features]
    filters     out_channels K for conv/deconv, else null
    units       out_features for fc, else null
    size        kernel per axis (null for fc)
    stride      per axis; null for fc, and null for pools built with
                stride=None (torch then uses stride = kernel)
    pad         per axis, symmetric (null for fc)
    dilation    per axis for conv/deconv; null for pool and fc
    output_pad  per axis for deconv, else null
    groups      conv/deconv groups, else null
    bias        bool for conv/deconv/fc, else null
    ceil        bool for pools, else null
    torch       {"output": [spatial..., C] | [units] | null,
                 "params": int | null   (sum of p.numel(); null only if
                                         construction failed),
                 "error": null | first line of the exception message,
                 "error_type": null | exception class name,
                 "stage": null | "construct" | "forward"}

Cases are deterministic: a fixed random seed plus hand-picked edge cases.
Nothing depends on torch's RNG (shapes and parameter counts only).
"""

import argparse
import json
import os
import random
import sys
import warnings

SEED = 20240607
EXPECTED_TORCH = "2.13.0"

DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "data", "torch_cases.json"
)


# --------------------------------------------------------------------------
# case constructors (pure python, no torch)
# --------------------------------------------------------------------------


def _axes(v, n):
    """Broadcast an int to a per-axis list of length n."""
    if isinstance(v, (list, tuple)):
        assert len(v) == n, (v, n)
        return list(v)
    return [v] * n


def conv(spatial, C, K, F, S=1, P=0, D=1, g=1, bias=True, kind="conv", OP=None):
    n = len(spatial)
    case = {
        "kind": kind,
        "mode": None,
        "input": list(spatial) + [C],
        "filters": K,
        "units": None,
        "size": _axes(F, n),
        "stride": _axes(S, n),
        "pad": _axes(P, n),
        "dilation": _axes(D, n),
        "output_pad": _axes(OP if OP is not None else 0, n) if kind == "deconv" else None,
        "groups": g,
        "bias": bias,
        "ceil": None,
    }
    return case


def deconv(spatial, C, K, F, S=1, P=0, D=1, OP=0, g=1, bias=True):
    return conv(spatial, C, K, F, S, P, D, g, bias, kind="deconv", OP=OP)


def pool(mode, spatial, C, F, S=None, P=0, ceil=False):
    n = len(spatial)
    return {
        "kind": "pool",
        "mode": mode,
        "input": list(spatial) + [C],
        "filters": None,
        "units": None,
        "size": _axes(F, n),
        "stride": None if S is None else _axes(S, n),
        "pad": _axes(P, n),
        "dilation": None,
        "output_pad": None,
        "groups": None,
        "bias": None,
        "ceil": ceil,
    }


def fc(n_in, n_out, bias=True):
    return {
        "kind": "fc",
        "mode": None,
        "input": [n_in],
        "filters": None,
        "units": n_out,
        "size": None,
        "stride": None,
        "pad": None,
        "dilation": None,
        "output_pad": None,
        "groups": None,
        "bias": bias,
        "ceil": None,
    }


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


def build_module(torch, case):
    nn = torch.nn
    kind = case["kind"]
    if kind == "fc":
        return nn.Linear(case["input"][0], case["units"], bias=case["bias"])
    n = len(case["input"]) - 1
    C = case["input"][-1]
    F = tuple(case["size"])
    P = tuple(case["pad"])
    if kind == "conv":
        cls = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[n - 1]
        return cls(
            C,
            case["filters"],
            kernel_size=F,
            stride=tuple(case["stride"]),
            padding=P,
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
            output_padding=tuple(case["output_pad"]),
            groups=case["groups"],
            bias=case["bias"],
            dilation=tuple(case["dilation"]),
        )
    if kind == "pool":
        S = None if case["stride"] is None else tuple(case["stride"])
        if case["mode"] == "max":
            cls = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[n - 1]
        else:
            cls = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[n - 1]
        return cls(F, stride=S, padding=P, ceil_mode=case["ceil"])
    raise ValueError(kind)


def run_case(torch, case):
    res = {"output": None, "params": None, "error": None, "error_type": None, "stage": None}
    try:
        mod = build_module(torch, case)
    except Exception as e:
        res.update(error=_first_line(e), error_type=type(e).__name__, stage="construct")
        return res
    res["params"] = int(sum(p.numel() for p in mod.parameters()))
    if case["kind"] == "fc":
        x = torch.zeros(1, case["input"][0])
    else:
        x = torch.zeros(1, case["input"][-1], *case["input"][:-1])
    try:
        with torch.no_grad():
            y = mod(x)
    except Exception as e:
        res.update(error=_first_line(e), error_type=type(e).__name__, stage="forward")
        return res
    shape = list(y.shape)
    assert shape[0] == 1, shape
    if case["kind"] == "fc":
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


if __name__ == "__main__":
    main()
