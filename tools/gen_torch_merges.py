#!/usr/bin/env python3
"""Regenerate tests/data/torch_merges.json: what PyTorch does for the merge kinds add, mul, concat, split.

Ground truth for issue 13's merge kinds, recorded so that convcalc's shape rules can be tested without
torch.  Like tools/gen_torch_kinds.py, this script is one of the few places torch is imported; tests
never run it (tests/test_merges.py reads the file it writes).

How to run (a scratch venv OUTSIDE the repo; torch is never a project dependency):

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0   # the CPU wheel
    /tmp/torchenv/bin/python tools/gen_torch_merges.py [--out tests/data/torch_merges.json]

It takes a second; the cases are fixed (hand-picked plus `random.Random(SEED)`) and every tensor is
zeros, so the file is byte-for-byte reproducible.

File layout: one JSON object, `torch` (version), `command`, `seed`, `counts` (cases per kind) and
`cases`, one case per line, keys sorted.  A case is

    id          unique, stable label
    kind        add | mul | concat | split
    spec        the convcalc layer mapping the case stands for (`type` equals `kind`); split's
                without `part`: the case records every part
    inputs      the input shapes, channels last ([spatial..., C]; [features] when flat)
    inputs_nchw the tensors given to PyTorch: [1, C, spatial...] ([1, features] when flat)
    torch       output       [spatial..., C] (channels last) | null; split: null
                output_nchw  the tensor's shape | null
                parts        split only: the channels of every tensor returned, in order | null
                error        first line of the exception message | null
                error_type   exception class name | null

How each kind is run (batch 1, under no_grad):

    add      a + b (+ c): PyTorch broadcasts; convcalc does not (the issue: shapes must be equal),
             so the tests expect a refusal whenever the shapes differ, broadcast or not
    mul      a * b (* c): broadcasting on the NCHW shapes; convcalc wants one rank, as the cases
             flat-meets-* show why: a flat (1, C) meets the last spatial axis, not the channels
    concat   torch.cat(xs, dim): dim 1 is convcalc's `axis: channels`, dims 2.. its spatial axes
             (positions on 1-D input; rows, columns on 2-D; frames, rows, columns on 3-D)
    split    torch.split(x, sizes, 1) for `sizes`, torch.chunk(x, n, 1) for `chunks`,
             torch.tensor_split(x, points, 1) for `points` (points at or past C give empty parts)

Facts learnt (torch 2.13.0, CPU):

- torch.chunk(x, n, 1) returns chunks of ceil(C/n) channels, the last smaller, and FEWER than n
  when ceil(C/n) does not fit n times: C=5, n=4 gives 2, 2, 1; C=6, n=4 gives 2, 2, 2; n > C gives
  C chunks of 1.  torch.split with sizes that do not sum to C raises a RuntimeError.
- a + b and a * b broadcast: each axis equal or 1 in one of them; torch.cat needs the same rank and
  every dim but its own equal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys

SEED = 20261213
EXPECTED_TORCH = "2.13.0"
COMMAND = "/tmp/tvenv/bin/python tools/gen_torch_merges.py"
DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "torch_merges.json"
)
AXES = {1: ("positions",), 2: ("rows", "columns"), 3: ("frames", "rows", "columns")}
"""convcalc's names of the spatial axes, by rank: PyTorch's dims 2, 3, 4."""


def nchw(dims):
    """Channels-last dims as PyTorch's batch-1 NCHW shape."""
    return [1, *dims] if len(dims) == 1 else [1, dims[-1], *dims[:-1]]


def hwc(shape):
    """A batch-1 NCHW shape as channels-last dims."""
    dims = list(shape[1:])
    return dims if len(dims) == 1 else [*dims[1:], dims[0]]


def shape(rng, ndim):
    """Random spatial sizes and channels."""
    return [rng.randint(1, 9) for _ in range(ndim)] + [rng.randint(1, 24)]


def add_cases(rng):
    cases = [
        ("resnet-projection-missing", [[28, 28, 512], [56, 56, 256]]),
        ("resnet-shortcut-first", [[56, 56, 256], [28, 28, 512]]),
        ("channels-only", [[56, 56, 256], [56, 56, 512]]),
        ("broadcast-1x1", [[4, 4, 8], [1, 1, 8]]),
        ("rank-differs", [[4, 4, 8], [8]]),
        ("flat", [[10], [10]]),
    ]
    for i in range(24):
        ndim = rng.choice((1, 2, 2, 3))
        s = shape(rng, ndim)
        cases.append(("equal-%dd-%d" % (ndim, i), [s] * rng.choice((2, 2, 3))))
    for i in range(8):
        ndim = rng.choice((1, 2, 3))
        a, b = shape(rng, ndim), shape(rng, ndim)
        cases.append(("differ-%dd-%d" % (ndim, i), [a, b]))
    return [{"id": "add-" + n, "kind": "add", "spec": {"type": "add"}, "inputs": ins} for n, ins in cases]


def mul_cases(rng):
    cases = [
        ("se-2d", [[56, 56, 64], [1, 1, 64]]),
        ("se-first-small", [[1, 1, 64], [56, 56, 64]]),
        ("se-channels-differ", [[56, 56, 64], [1, 1, 32]]),
        ("spatial-gate", [[14, 14, 32], [14, 14, 1]]),
        ("three", [[7, 7, 16], [1, 1, 16], [7, 7, 1]]),
        ("three-bad", [[7, 7, 16], [1, 1, 16], [6, 7, 1]]),
        ("rows-differ", [[7, 5, 16], [5, 5, 16]]),
        ("flat", [[10], [10]]),
        ("flat-one", [[10], [1]]),
        ("flat-meets-columns", [[4, 64, 8], [64]]),  # PyTorch aligns the 64 with the columns, not channels
        ("flat-meets-channels", [[4, 4, 64], [64]]),  # and refuses here, where the channels would fit
    ]
    for i in range(24):
        ndim = rng.choice((1, 2, 2, 3))
        base = shape(rng, ndim)
        a, b = list(base), list(base)
        for k in range(len(base)):
            pick = rng.randrange(4)
            if pick == 1:
                a[k] = 1
            elif pick == 2:
                b[k] = 1
        cases.append(("broadcast-%dd-%d" % (ndim, i), [a, b]))
    for i in range(8):
        ndim = rng.choice((1, 2, 3))
        a = [rng.randint(2, 9) for _ in range(ndim + 1)]
        b = list(a)
        k = rng.randrange(ndim + 1)
        b[k] = a[k] + rng.randint(1, 3)
        cases.append(("mismatch-%dd-%d" % (ndim, i), [a, b]))
    return [{"id": "mul-" + n, "kind": "mul", "spec": {"type": "mul"}, "inputs": ins} for n, ins in cases]


def concat_cases(rng):
    cases = [
        ("unet-valid", "channels", [[56, 56, 512], [64, 64, 512]]),
        ("unet-odd", "channels", [[57, 57, 64], [64, 64, 64]]),
        ("densenet", "channels", [[56, 56, 64], [56, 56, 32], [56, 56, 32]]),
        ("flat", "channels", [[10], [6]]),
        ("rank-differs", "channels", [[4, 4, 8], [4, 8]]),
        ("rows-channels-differ", "rows", [[4, 5, 8], [3, 5, 6]]),
        ("rows-columns-differ", "rows", [[4, 5, 8], [3, 6, 8]]),
    ]
    for i in range(20):
        ndim = rng.choice((1, 2, 2, 3))
        base = shape(rng, ndim)
        ins = []
        for _ in range(rng.choice((2, 2, 3))):
            s = list(base)
            s[-1] = rng.randint(1, 24)
            ins.append(s)
        cases.append(("channels-%dd-%d" % (ndim, i), "channels", ins))
    for i in range(16):
        ndim = rng.choice((1, 2, 3))
        at = rng.randrange(ndim)
        base = shape(rng, ndim)
        ins = []
        for _ in range(rng.choice((2, 3))):
            s = list(base)
            s[at] = rng.randint(1, 9)
            ins.append(s)
        cases.append(("%s-%dd-%d" % (AXES[ndim][at], ndim, i), AXES[ndim][at], ins))
    for i in range(8):
        ndim = rng.choice((1, 2, 3))
        a, b = shape(rng, ndim), shape(rng, ndim)
        axis = rng.choice(("channels", *AXES[ndim]))
        cases.append(("mismatch-%dd-%d" % (ndim, i), axis, [a, b]))
    out = []
    for n, axis, ins in cases:
        spec = {"type": "concat"} if axis == "channels" else {"type": "concat", "axis": axis}
        out.append({"id": "concat-" + n, "kind": "concat", "spec": spec, "inputs": ins})
    return out


def split_cases(rng):
    cases = [
        ("shufflenet", {"sizes": [58, 58]}, [28, 28, 116]),
        ("sizes-short", {"sizes": [58, 50]}, [28, 28, 116]),
        ("sizes-long", {"sizes": [4, 4]}, [7, 7, 6]),
        ("chunks-even", {"chunks": 2}, [28, 28, 116]),
        ("chunks-5-4", {"chunks": 4}, [7, 7, 5]),
        ("chunks-6-4", {"chunks": 4}, [7, 7, 6]),
        ("chunks-more-than-c", {"chunks": 9}, [7, 7, 5]),
        ("chunks-one", {"chunks": 1}, [7, 7, 5]),
        ("flat-chunks", {"chunks": 3}, [10]),
    ]
    for i in range(16):
        ndim = rng.choice((1, 2, 3))
        s = shape(rng, ndim)
        cases.append(("chunks-%dd-%d" % (ndim, i), {"chunks": rng.randint(1, 12)}, s))
    for i in range(12):
        ndim = rng.choice((1, 2, 3))
        s = shape(rng, ndim)
        c, sizes = s[-1], []
        while sum(sizes) < c:
            sizes.append(rng.randint(1, c - sum(sizes)))
        if i % 4 == 3:  # sizes that do not sum to C
            sizes[-1] += rng.choice((1, 2))
        cases.append(("sizes-%dd-%d" % (ndim, i), {"sizes": sizes}, s))
    cases += [
        ("points-caffe", {"points": [2, 5]}, [8, 8, 10]),
        ("points-one", {"points": [1]}, [7, 7, 3]),
        ("points-at-c", {"points": [2, 6]}, [7, 7, 6]),
        ("points-past-c", {"points": [9]}, [7, 7, 6]),
    ]
    more = random.Random(14)  # its own stream, so the cases above stay as recorded
    for i in range(10):
        ndim = more.choice((1, 2, 3))
        s = shape(more, ndim)
        c = s[-1]
        points = sorted(more.sample(range(1, c + 3), k=min(3, c + 1)))
        cases.append(("points-%dd-%d" % (ndim, i), {"points": points}, s))
    return [
        {"id": "split-" + n, "kind": "split", "spec": {"type": "split", **keys}, "inputs": [dims]}
        for n, keys, dims in cases
    ]


def run_case(torch, case):
    xs = [torch.zeros(nchw(d)) for d in case["inputs"]]
    spec = case["spec"]
    res = {"output": None, "output_nchw": None, "parts": None, "error": None, "error_type": None}
    try:
        with torch.no_grad():
            if case["kind"] == "add":
                y = xs[0]
                for x in xs[1:]:
                    y = y + x
            elif case["kind"] == "mul":
                y = xs[0]
                for x in xs[1:]:
                    y = y * x
            elif case["kind"] == "concat":
                axis = spec.get("axis", "channels")
                ndim = len(case["inputs"][0]) - 1
                dim = 1 if axis == "channels" else 2 + AXES[ndim].index(axis)
                y = torch.cat(xs, dim)
            else:
                (x,) = xs
                if "sizes" in spec:
                    got = torch.split(x, spec["sizes"], 1)
                elif "points" in spec:
                    got = torch.tensor_split(x, spec["points"], 1)
                else:
                    got = torch.chunk(x, spec["chunks"], 1)
                res["parts"] = [int(t.shape[1]) for t in got]
                return res
    except Exception as e:  # any refusal of PyTorch's is the fact recorded
        res["error"] = str(e).strip().splitlines()[0]
        res["error_type"] = type(e).__name__
        return res
    res["output_nchw"] = list(y.shape)
    res["output"] = hwc(list(y.shape))
    return res


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
    torch.set_num_threads(1)
    rng = random.Random(SEED)
    cases = add_cases(rng) + mul_cases(rng) + concat_cases(rng) + split_cases(rng)
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for c in cases:
        c["inputs_nchw"] = [nchw(d) for d in c["inputs"]]
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
    refused = sum(1 for c in cases if c["torch"]["error"])
    print("wrote %d cases (%d refused) to %s: %s" % (len(cases), refused, out, dump(counts)))


if __name__ == "__main__":
    main()
