"""The recorded PyTorch behaviour of issue 12's new kinds (tests/data/torch_kinds.json) is whole and agrees
with plain formulas.

The fixture is written by tools/gen_torch_kinds.py (torch 2.13.0, in a scratch venv); torch is never
imported here, and neither is convcalc: this pins the data the new kinds will be tested against.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

DATA = json.loads((Path(__file__).resolve().parent / "data" / "torch_kinds.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DATA["cases"]
COUNTS = {
    "act": 150,
    "channel_shuffle": 25,
    "crop": 109,
    "group_norm": 43,
    "identity": 15,
    "instance_norm": 50,
    "layer_norm": 22,
    "lrn": 17,
    "pad": 218,
    "pixel_shuffle": 32,
    "pixel_unshuffle": 32,
    "prelu": 21,
    "reshape": 49,
    "scale": 22,
    "upsample": 172,
}
KEYS = {
    "upsample": {"scale", "size", "mode", "align_corners"},
    "pad": {"pad", "mode"},
    "crop": {"crop", "size"},
    "reshape": {"shape"},
    "pixel_shuffle": {"factor"},
    "pixel_unshuffle": {"factor"},
    "lrn": {"size"},
    "layer_norm": {"affine"},
    "group_norm": {"groups", "affine"},
    "instance_norm": {"affine", "track_running_stats"},
    "prelu": {"per_channel"},
    "channel_shuffle": {"groups"},
    "scale": {"bias"},
    "identity": set(),
    "act": {"fn"},
}
"""Each kind's spec keys, exactly as issue 12 names them."""
UPSAMPLE_RANKS = {"nearest": {1, 2, 3}, "linear": {1}, "bilinear": {2}, "bicubic": {2}, "trilinear": {3}}
PAD_MODES = ("zeros", "reflect", "replicate", "circular")
TORCH_KEYS = {
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
}


@dataclass(frozen=True, slots=True)
class Expected:
    """What the formulas say: the output (channels last, None when refused) and the counts."""

    output: list[int] | None
    params: int = 0
    non_trainable: int = 0


REFUSED = Expected(None)


def refused(torch: dict[str, Any]) -> bool:
    """Whether PyTorch refuses: an error, or an output with an empty axis."""
    return torch["error"] is not None or 0 in torch["output"]


def sides(pad: Any, n: int) -> list[tuple[int, int]]:
    """A pad or crop (int, per-axis list, one or per-axis [before, after] pairs) as per-axis pairs."""
    if isinstance(pad, int):
        return [(pad, pad)] * n
    if isinstance(pad[0], list):
        return [(b, a) for b, a in (pad * n if len(pad) == 1 else pad)]
    return [(p, p) for p in pad]


def per_axis(value: Any, n: int) -> list[Any]:
    """A number or a per-axis list as a per-axis list."""
    return list(value) if isinstance(value, list) else [value] * n


def upsample(spec: dict[str, Any], spatial: list[int], c: int) -> Expected:
    """floor(N x scale) in double precision, or the size; the mode's ranks; align_corners not for nearest."""
    n = len(spatial)
    mode = spec.get("mode", "nearest")
    if n not in UPSAMPLE_RANKS[mode] or (mode == "nearest" and "align_corners" in spec):
        return REFUSED
    size, scale = spec.get("size"), spec.get("scale")
    if (size is None) == (not scale):  # both, or neither (a scale of 0 reads as none)
        return REFUSED
    if size is not None:
        sizes = per_axis(size, n)
        if len(sizes) != n or not all(isinstance(s, int) for s in sizes):
            return REFUSED
        out = sizes
    else:
        scales = per_axis(scale, n)
        if len(scales) != n:
            return REFUSED
        out = [math.floor(N * float(s)) for N, s in zip(spatial, scales, strict=True)]
    return REFUSED if min(out) < 1 else Expected([*out, c])


def pad(spec: dict[str, Any], spatial: list[int], c: int) -> Expected:
    """N + before + after; reflect needs each side < N, circular each side <= N."""
    mode = spec.get("mode", "zeros")
    pairs = sides(spec["pad"], len(spatial))
    for N, (b, a) in zip(spatial, pairs, strict=True):
        if (mode == "reflect" and max(b, a) >= N) or (mode == "circular" and max(b, a) > N):
            return REFUSED
    return Expected([N + b + a for N, (b, a) in zip(spatial, pairs, strict=True)] + [c])


def crop_windows(spec: dict[str, Any], spatial: list[int]) -> list[tuple[int, int]]:
    """Per axis, the first and last index kept: centre crops lose their odd pixel after."""
    if "size" in spec:
        sizes = per_axis(spec["size"], len(spatial))
        return [((N - s) // 2, (N - s) // 2 + s - 1) for N, s in zip(spatial, sizes, strict=True)]
    return [(b, N - a - 1) for N, (b, a) in zip(spatial, sides(spec["crop"], len(spatial)), strict=True)]


def crop(spec: dict[str, Any], spatial: list[int], c: int) -> Expected:
    """What is left inside the window; nothing, or a window out of bounds, is a refusal."""
    windows = crop_windows(spec, spatial)
    if any(first < 0 or last < first or last >= N for (first, last), N in zip(windows, spatial, strict=True)):
        return REFUSED
    return Expected([last - first + 1 for first, last in windows] + [c])


def reshape(spec: dict[str, Any], dims: list[int]) -> Expected:
    """The shape with its one -1 worked out; the element count kept."""
    shape, total = spec["shape"], math.prod(dims)
    known = math.prod(d for d in shape if d != -1)
    if shape.count(-1) > 1 or any(d == 0 or d < -1 for d in shape):
        return REFUSED
    if -1 in shape:
        if total % known:
            return REFUSED
        return Expected([total // known if d == -1 else d for d in shape])
    return Expected(shape) if known == total else REFUSED


def expected(case: dict[str, Any]) -> Expected:
    """What the formulas say of one case."""
    spec, dims = case["spec"], case["input"]
    spatial, c = dims[:-1], dims[-1]
    n = len(spatial)
    kind = case["kind"]
    if kind == "upsample":
        return upsample(spec, spatial, c)
    if kind == "pad":
        return pad(spec, spatial, c)
    if kind == "crop":
        return crop(spec, spatial, c)
    if kind == "reshape":
        return reshape(spec, dims)
    if kind == "pixel_shuffle":
        r = spec["factor"]
        if n != 2 or r < 1 or c % (r * r):
            return REFUSED
        return Expected([spatial[0] * r, spatial[1] * r, c // (r * r)])
    if kind == "pixel_unshuffle":
        r = spec["factor"]
        if n != 2 or r < 1 or spatial[0] % r or spatial[1] % r:
            return REFUSED
        return Expected([spatial[0] // r, spatial[1] // r, c * r * r])
    if kind == "lrn":
        return Expected(dims) if n and spec["size"] >= 1 else REFUSED
    if kind == "layer_norm":
        return Expected(dims, 2 * c if spec.get("affine", True) else 0)
    if kind == "group_norm":
        g = spec["groups"]
        if g < 1 or c % g or c // g * math.prod(spatial) == 1:
            return REFUSED
        return Expected(dims, 2 * c if spec.get("affine", True) else 0)
    if kind == "instance_norm":
        track = spec.get("track_running_stats", False)
        if not n or (math.prod(spatial) == 1 and not track):
            return REFUSED
        return Expected(dims, 2 * c if spec.get("affine", False) else 0, 2 * c if track else 0)
    if kind == "prelu":
        return Expected(dims, c if spec.get("per_channel", False) else 1)
    if kind == "channel_shuffle":
        g = spec["groups"]
        return Expected(dims) if n and g >= 1 and c % g == 0 else REFUSED
    if kind == "scale":
        return Expected(dims, 2 * c if spec.get("bias", False) else c)
    if kind == "identity":
        return Expected(dims)
    assert kind == "act", kind
    if spec["fn"] == "glu":
        return Expected([*spatial, c // 2]) if c % 2 == 0 else REFUSED
    if spec["fn"] == "softmax2d":
        return Expected(dims) if n == 2 else REFUSED
    return Expected(dims)


def params_of(cases: list[dict[str, Any]]) -> list[Any]:
    """One pytest param per case, with its id."""
    return [pytest.param(case, id=case["id"]) for case in cases]


def test_header_names_torch_and_the_command() -> None:
    assert DATA["torch"].startswith("2.13.0")
    assert DATA["command"].endswith("python tools/gen_torch_kinds.py")
    assert isinstance(DATA["seed"], int)
    assert DATA["counts"] == COUNTS
    assert list(DATA) == ["torch", "command", "seed", "counts", "cases"]


def test_cases_are_the_expected_ones_sorted_and_unique() -> None:
    assert Counter(c["kind"] for c in CASES) == COUNTS
    assert len(CASES) == sum(COUNTS.values()) == 977
    ids = [c["id"] for c in CASES]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_the_file_is_written_one_sorted_case_a_line() -> None:
    lines = (Path(__file__).resolve().parent / "data" / "torch_kinds.json").read_text().splitlines()
    body = lines[lines.index('"cases":[') + 1 : -1]
    assert [json.loads(line.rstrip(",")) for line in body] == CASES
    assert all(
        line.rstrip(",") == json.dumps(json.loads(line.rstrip(",")), sort_keys=True, separators=(",", ":"))
        for line in body
    )


@pytest.mark.parametrize("case", params_of(CASES))
def test_case_is_well_formed(case: dict[str, Any]) -> None:
    spec, torch, dims = case["spec"], case["torch"], case["input"]
    assert set(case) == {"id", "kind", "spec", "input", "input_nchw", "torch"} | (
        {"spec_chw"} if case["kind"] == "reshape" else set()
    )
    assert spec["type"] == case["kind"]
    assert set(spec) - {"type"} <= KEYS[case["kind"]]
    assert set(torch) == TORCH_KEYS
    assert case["input_nchw"] == ([1, *dims] if len(dims) == 1 else [1, dims[-1], *dims[:-1]])
    assert (torch["error"] is None) == (torch["error_type"] is None) == (torch["stage"] is None)
    assert (torch["output"] is None) == (torch["error"] is not None) == (torch["output_nchw"] is None)
    out, nchw = torch["output"], torch["output_nchw"]
    if out is not None:
        assert nchw == ([1, *out] if len(out) == 1 else [1, out[-1], *out[:-1]])
    if torch["stage"] == "rank":
        assert torch["error_type"] == "Unsupported"
        assert torch["params"] is None
    if torch["stage"] in (None, "forward"):
        assert torch["module"]
        assert isinstance(torch["params"], int)
    assert (torch["kept"] is not None) == (case["kind"] == "crop" and not refused(torch))


@pytest.mark.parametrize("case", params_of(CASES))
def test_agrees_with_the_formulas(case: dict[str, Any]) -> None:
    want, torch = expected(case), case["torch"]
    if want.output is None:
        assert refused(torch), torch
        return
    assert not refused(torch), torch
    assert torch["output"] == want.output
    assert torch["params"] == want.params
    assert torch["non_trainable"] == want.non_trainable
    assert torch["buffers"] == want.non_trainable + (1 if want.non_trainable else 0)
    if case["kind"] == "crop":
        windows = crop_windows(case["spec"], case["input"][:-1])
        assert torch["kept"] == [list(w) for w in windows]


def test_spec_keys_each_kind_needs_are_there() -> None:
    needed = {
        "pad": {"pad"},
        "reshape": {"shape"},
        "pixel_shuffle": {"factor"},
        "pixel_unshuffle": {"factor"},
        "lrn": {"size"},
        "group_norm": {"groups"},
        "channel_shuffle": {"groups"},
        "act": {"fn"},
    }
    for case in CASES:
        assert needed.get(case["kind"], set()) <= set(case["spec"]), case["id"]
        if case["kind"] == "crop":
            assert len({"crop", "size"} & set(case["spec"])) == 1, case["id"]
    assert {c["spec"]["mode"] for c in CASES if c["kind"] == "pad" and "mode" in c["spec"]} == set(PAD_MODES)
    modes = {c["spec"]["mode"] for c in CASES if c["kind"] == "upsample" and "mode" in c["spec"]}
    assert modes == set(UPSAMPLE_RANKS)


def test_reshape_chw_spec_is_the_tensor_shape() -> None:
    for case in (c for c in CASES if c["kind"] == "reshape"):
        shape = case["spec"]["shape"]
        assert case["spec_chw"] == {
            "type": "reshape",
            "shape": shape if len(shape) == 1 else [shape[-1], *shape[:-1]],
        }
        numbers = ", ".join(map(str, case["spec_chw"]["shape"]))
        assert case["torch"]["module"] == f"x.reshape(1, {numbers})"


def test_only_ranks_pytorch_lacks_are_marked_unsupported() -> None:
    marked = {c["id"] for c in CASES if c["torch"]["stage"] == "rank"}
    lacking = {
        c["id"]
        for c in CASES
        if (c["kind"] in ("pixel_shuffle", "pixel_unshuffle") and len(c["input"]) in (2, 4))
        or (c["kind"] == "instance_norm" and len(c["input"]) == 1)
        or (c["kind"] == "act" and c["spec"]["fn"] == "softmax2d" and len(c["input"]) == 2)
    }
    assert marked == lacking
    assert len(marked) == 10


def test_every_kind_is_recorded_at_each_rank_pytorch_supports() -> None:
    ranks: dict[str, set[int]] = {}
    for case in CASES:
        if not refused(case["torch"]):
            ranks.setdefault(case["kind"], set()).add(len(case["input"]) - 1)
    for kind in KEYS:
        want = {2} if kind.startswith("pixel") else {1, 2, 3}
        assert want <= ranks[kind], kind
    for kind in ("layer_norm", "group_norm", "prelu", "scale", "identity", "act", "reshape"):
        assert 0 in ranks[kind], kind


def test_every_refusal_pytorch_makes_is_recorded() -> None:
    refusing = Counter(c["kind"] for c in CASES if refused(c["torch"]))
    for kind in KEYS.keys() - {"layer_norm", "prelu", "scale", "identity"}:
        assert refusing[kind] >= 2, kind
    for kind in ("layer_norm", "prelu", "scale", "identity"):
        assert refusing[kind] == 0, kind


@pytest.mark.parametrize("mode", PAD_MODES)
def test_pad_modes_recorded_at_every_rank_with_and_without_limits(mode: str) -> None:
    for ndim in (1, 2, 3):
        rows = [
            c
            for c in CASES
            if c["kind"] == "pad" and c["spec"].get("mode", "zeros") == mode and len(c["input"]) == ndim + 1
        ]
        assert sum(not refused(c["torch"]) for c in rows) >= 7, ndim
        assert sum(refused(c["torch"]) for c in rows) >= (3 if mode in ("reflect", "circular") else 0)


@pytest.mark.parametrize("mode", sorted(UPSAMPLE_RANKS))
def test_upsample_modes_recorded_at_every_rank(mode: str) -> None:
    for ndim in (0, 1, 2, 3):
        rows = [
            c
            for c in CASES
            if c["kind"] == "upsample" and c["spec"].get("mode") == mode and len(c["input"]) == ndim + 1
        ]
        assert rows, ndim
        assert all(
            refused(c["torch"]) != (ndim in UPSAMPLE_RANKS[mode])
            for c in rows
            if "align_corners" not in c["spec"]
        )


def scaled(case: dict[str, Any]) -> tuple[int, float, int, int]:
    """An upsample's first axis: its size, its scale, its recorded output; and the case's rank."""
    scale = per_axis(case["spec"]["scale"], 1)[0]
    return case["input"][0], scale, case["torch"]["output"][0], len(case["input"]) - 1


def test_the_issue_example_100_by_057_gives_56_in_every_mode() -> None:
    cases = [c for c in CASES if c["id"].startswith("upsample-rounding-issue-100x0.57")]
    assert {c["spec"].get("mode", "nearest") for c in cases} == set(UPSAMPLE_RANKS)
    assert {c["torch"]["output"][0] for c in cases} == {56}
    assert math.floor(Fraction("0.57") * 100) == 57


def test_upsample_rounds_the_double_product_not_the_decimal() -> None:
    witnesses = [scaled(c) for c in CASES if c["id"].startswith("upsample-rounding-")]
    assert all(out == math.floor(N * s) for N, s, out, _ in witnesses)
    decimal = [rank for N, s, out, rank in witnesses if out != math.floor(N * Fraction(str(s)))]
    exact_double = [rank for N, s, out, rank in witnesses if out != math.floor(N * Fraction(s))]
    assert len(decimal) >= 24
    assert len(exact_double) >= 12
    assert set(decimal) == {1, 2, 3}


def test_centre_crop_loses_the_odd_pixel_after() -> None:
    odd = []
    for case in CASES:
        if case["kind"] == "crop" and "size" in case["spec"] and case["torch"]["kept"]:
            spatial, kept = case["input"][:-1], case["torch"]["kept"]
            odd += [
                (N, first, last)
                for N, (first, last) in zip(spatial, kept, strict=True)
                if (N - 1 - last + first) % 2
            ]
    assert len(odd) >= 10
    for N, first, last in odd:
        assert N - 1 - last == first + 1
