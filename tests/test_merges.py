"""The merge kinds add, mul, concat and split (issue 13): against PyTorch's recorded cases
(tests/data/torch_merges.json), their messages and fixes, `convcalc layer`, and their kernels against loops.

Until the builder reads `from:`, a spec cannot give a merge two inputs: these tests call the kind API
(read, resolve, refusals) directly, as the resolver will."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import kinds
from convcalc.__main__ import main
from convcalc.build import Reader
from convcalc.errors import SpecError
from convcalc.kinds.add import kernel as add_kernel
from convcalc.kinds.concat import kernel as concat_kernel
from convcalc.kinds.mul import kernel as mul_kernel
from convcalc.kinds.split import chunked
from convcalc.kinds.split import kernel as split_kernel
from convcalc.model import Code, Held, Kind, Layer, Layout, Resolved, Shape

DATA = json.loads(
    (Path(__file__).resolve().parent / "data" / "torch_merges.json").read_text(encoding="utf-8")
)
CASES = DATA["cases"]
EXAMPLES = settings(max_examples=60, deadline=None)


def layer(kind: Kind, name: str = "m", sources: tuple[str, ...] = (), **keys: Any) -> Layer:
    """A layer read from a spec line's mapping, with the sources the builder would fill in."""
    read = kinds.get(kind).read(Reader(keys, f"layer 1 ({name})", None, name=name, kind=kind))
    return dataclasses.replace(read, sources=sources) if sources else read  # type: ignore[type-var]


def shapes(dims: list[list[int]]) -> tuple[Shape, ...]:
    """Channels-last dims as shapes."""
    return tuple(Shape.read(tuple(d), Layout.HWC) for d in dims)


def resolved(kind: Kind, inputs: tuple[Shape, ...], **keys: Any) -> Resolved:
    return kinds.get(kind).resolve(1, layer(kind, **keys), inputs, file=None)


def codes(r: Resolved) -> list[Code]:
    return [f.code for f in kinds.of(r.layer).refusals(r)]


# ---------------------------------------------------------------- PyTorch's recorded cases


def test_the_recorded_file() -> None:
    assert DATA["torch"].startswith("2.13.0")
    assert DATA["counts"] == {"add": 38, "concat": 51, "mul": 43, "split": 51}
    assert len({c["id"] for c in CASES}) == len(CASES) == 183
    points = [c for c in CASES if "points" in c["spec"]]
    assert sum(0 in c["torch"]["parts"] for c in points) >= 3  # tensor_split's empty parts are recorded
    chunk = [c for c in CASES if "chunks" in c["spec"]]
    fewer = [c for c in chunk if len(c["torch"]["parts"]) < c["spec"]["chunks"]]
    assert len(fewer) >= 8  # torch.chunk giving fewer chunks than asked is recorded, not assumed


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES if c["kind"] != "split"])
def test_merges_agree_with_torch(case: dict[str, Any]) -> None:
    """The output shape where PyTorch gives one, a merge-shape-mismatch error where it refuses; add
    refuses any shapes that differ, also those PyTorch's + broadcasts (the issue: shapes must match), and
    every merge refuses inputs of different ranks (PyTorch aligns them from the last axis)."""
    kind, torch, inputs = Kind(case["kind"]), case["torch"], shapes(case["inputs"])
    keys = {k: v for k, v in case["spec"].items() if k != "type"}
    r = resolved(kind, inputs, **keys)
    ranks = {len(s.spatial) for s in inputs}
    refused = torch["error"] is not None or len(ranks) > 1 or (kind is Kind.ADD and len(set(inputs)) > 1)
    if refused:
        assert codes(r) == [Code.MERGE_SHAPE_MISMATCH]
        assert not kinds.of(r.layer).runnable(r, r.input.channels)
        return
    assert codes(r) == []
    assert list(r.output.dims) == torch["output"]
    assert (r.params, r.macs, r.fc_params, r.others) == (0, 0, None, inputs[1:])


def test_add_refuses_what_torch_broadcasts() -> None:
    """The one recorded case where PyTorch and convcalc part: + broadcasts a 1x1 shortcut."""
    (case,) = [c for c in CASES if c["id"] == "add-broadcast-1x1"]
    assert case["torch"]["output"] == [4, 4, 8]
    assert codes(resolved(Kind.ADD, shapes(case["inputs"]))) == [Code.MERGE_SHAPE_MISMATCH]


def test_mul_refuses_a_flat_vector_that_torch_would_align_with_the_columns() -> None:
    """Why mul wants one rank: PyTorch multiplies a flat 64 into the 64 columns of 4x64x8 without a word,
    and refuses it against 4x4x64, whose channels it was meant for."""
    columns, channels = (
        next(c for c in CASES if c["id"] == f"mul-flat-meets-{w}") for w in ("columns", "channels")
    )
    assert (columns["torch"]["output"], channels["torch"]["error"] is not None) == ([4, 64, 8], True)
    for case in (columns, channels):
        r = resolved(Kind.MUL, shapes(case["inputs"]))
        fixes = kinds.of(r.layer).refusals(r)[0].fixes
        assert fixes == ("reshape input 2 to 1x1x64 ({type: reshape, shape: 1x1x64})",)


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES if c["kind"] == "split"])
def test_split_agrees_with_torch(case: dict[str, Any]) -> None:
    """Every part's channels as torch.split, torch.chunk or torch.tensor_split gives them; the part after
    the last is a located spec error; sizes PyTorch refuses are an error finding on `sizes`; points at or
    past the channels, where tensor_split gives empty parts, a located spec error (Caffe refuses them)."""
    torch, (shape,) = case["torch"], shapes(case["inputs"])
    keys = {k: v for k, v in case["spec"].items() if k != "type"}
    if "points" in keys and keys["points"][-1] >= shape.channels:
        assert 0 in torch["parts"]
        with pytest.raises(
            SpecError, match=rf"points \[.*\] must be below the channels \({shape.channels}\)"
        ):
            resolved(Kind.SPLIT, (shape,), **keys)
        return
    if torch["error"] is not None:
        r = resolved(Kind.SPLIT, (shape,), **keys)
        (found,) = kinds.of(r.layer).refusals(r)
        assert (found.code, found.key) == (Code.MERGE_SHAPE_MISMATCH, "sizes")
        assert found.message.endswith("PyTorch refuses it")
        assert not kinds.of(r.layer).runnable(r, shape.channels)
        return
    parts = torch["parts"]
    if "chunks" in keys:
        assert list(chunked(shape.channels, keys["chunks"])) == parts
    for part, channels in enumerate(parts):
        r = resolved(Kind.SPLIT, (shape,), **keys, part=part)
        assert (r.output, codes(r)) == (Shape(shape.spatial, channels), [])
    with pytest.raises(SpecError, match=rf"part {len(parts)} does not exist: .* give {len(parts)} parts?"):
        resolved(Kind.SPLIT, (shape,), **keys, part=len(parts))


def test_chunk_gives_fewer_than_asked() -> None:
    assert chunked(5, 4) == (2, 2, 1)
    assert chunked(6, 4) == (2, 2, 2)
    assert chunked(5, 9) == (1, 1, 1, 1, 1)
    assert chunked(116, 2) == (58, 58)


# ---------------------------------------------------------------- messages and fixes


def message_and_fixes(r: Resolved) -> tuple[str, tuple[str, ...]]:
    (found,) = kinds.of(r.layer).refusals(r)
    assert found.code is Code.MERGE_SHAPE_MISMATCH
    assert not found.empty
    return found.message, found.fixes


RESNET = ("layer3.0.bn3", "layer2.3.relu")


@pytest.mark.parametrize(
    ("inputs", "sources", "message", "fixes"),
    [
        (
            [[28, 28, 512], [56, 56, 256]],
            RESNET,
            "layer2.3.relu is 56x56x256 but layer3.0.bn3 is 28x28x512: rows, columns and channels differ; "
            "add needs equal shapes",
            ("a 1x1 conv, 512 filters, stride 2 on layer2.3.relu",),
        ),
        (
            [[28, 28, 512], [56, 56, 256]],
            (),
            "input 2 is 56x56x256 but input 1 is 28x28x512: rows, columns and channels differ; "
            "add needs equal shapes",
            ("a 1x1 conv, 512 filters, stride 2 on input 2",),
        ),
        (
            [[56, 56, 256], [28, 28, 512]],
            ("shortcut", "bn3"),
            "bn3 is 28x28x512 but shortcut is 56x56x256: rows, columns and channels differ; add needs equal "
            "shapes (a 1x1 conv cannot enlarge bn3: no projection of it fits)",
            ("a 1x1 conv, 512 filters, stride 2 on shortcut",),
        ),
        (
            [[56, 56, 64], [56, 56, 256]],
            ("conv3", "maxpool"),
            "maxpool is 56x56x256 but conv3 is 56x56x64: channels differ; add needs equal shapes",
            ("a 1x1 conv, 64 filters on maxpool",),
        ),
        (
            [[29, 29, 8], [57, 57, 8]],
            (),
            "input 2 is 57x57x8 but input 1 is 29x29x8: rows and columns differ; add needs equal shapes",
            ("a 1x1 conv, 8 filters, stride 2 on input 2",),  # ceil(57/2) = 29, as the conv gives
        ),
        (
            [[28, 14, 8], [56, 42, 8]],
            (),
            "input 2 is 56x42x8 but input 1 is 28x14x8: rows and columns differ; add needs equal shapes",
            ("a 1x1 conv, 8 filters, stride 2x3 on input 2",),
        ),
        (
            [[28, 28, 8], [56, 20, 8]],
            (),
            "input 2 is 56x20x8 but input 1 is 28x28x8: rows and columns differ; add needs equal shapes "
            "(a 1x1 conv cannot enlarge input 2: no projection of it fits)",
            (),
        ),
        (
            [[8, 8, 4], [8, 8, 4], [8, 8, 5]],
            (),
            "input 3 is 8x8x5 but input 1 is 8x8x4: channels differ; add needs equal shapes",
            ("a 1x1 conv, 4 filters on input 3",),
        ),
    ],
)
def test_add_says_which_input_differs_and_how_to_project_it(
    inputs: list[list[int]], sources: tuple[str, ...], message: str, fixes: tuple[str, ...]
) -> None:
    r = kinds.get(Kind.ADD).resolve(1, layer(Kind.ADD, sources=sources), shapes(inputs), file=None)
    assert r.output == shapes(inputs)[0]
    assert message_and_fixes(r) == (message, fixes)


def test_a_projection_fix_is_what_a_1x1_conv_gives() -> None:
    """Every proposed stride maps the input's sizes to the first input's: ceil(N/s), the conv's output."""
    from convcalc.kinds.add import projection

    @EXAMPLES
    @given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 8))
    def fits(n: int, t: int, c: int) -> None:
        found = projection(Shape((n,), c), Shape((t,), 2 * c))
        if found is None:
            assert all(-(-n // s) != t for s in range(1, n + 1))
            return
        stride = int(found.rsplit(" ", 1)[-1]) if "stride" in found else 1
        assert -(-n // stride) == t
        assert found.startswith(f"a 1x1 conv, {2 * c} filters")

    fits()


@pytest.mark.parametrize(
    ("inputs", "message", "fixes"),
    [
        (
            [[56, 56, 64], [1, 1, 32]],
            "input 2 (1x1x32) and input 1 (56x56x64): channels 64 and 32 do not broadcast "
            "(each axis must be equal or 1 in one input)",
            (),
        ),
        (
            [[7, 7, 16], [1, 1, 16], [6, 7, 1]],
            "input 3 (6x7x1) and the inputs before it: rows 7 and 6 do not broadcast "
            "(each axis must be equal or 1 in one input)",
            (),
        ),
        (
            [[56, 56, 64], [64]],
            "input 2 (64) is flat but input 1 (56x56x64) has 2 spatial axes: mul needs the same rank "
            "(PyTorch aligns shapes from the last axis, so a shorter one would meet the last spatial axis, "
            "not the channels)",
            ("reshape input 2 to 1x1x64 ({type: reshape, shape: 1x1x64})",),
        ),
    ],
)
def test_mul_names_the_axis_that_does_not_broadcast(
    inputs: list[list[int]], message: str, fixes: tuple[str, ...]
) -> None:
    assert message_and_fixes(resolved(Kind.MUL, shapes(inputs))) == (message, fixes)


def test_mul_squeeze_and_excitation() -> None:
    r = resolved(Kind.MUL, shapes([[1, 1, 64], [56, 56, 64]]))
    assert (r.output, codes(r)) == (Shape((56, 56), 64), [])
    assert kinds.of(r.layer).size_lines(r) == ["1x1x64 x 56x56x64 -> 56x56x64"]
    assert kinds.of(r.layer).window_cell(r) == "x 2 inputs"


@pytest.mark.parametrize(
    ("inputs", "axis", "sources", "message", "fixes"),
    [
        (
            [[56, 56, 512], [64, 64, 512]],
            "channels",
            ("up4", "down4"),
            "down4 is 64x64x512 but up4 is 56x56x512: rows and columns differ; concat along channels needs "
            "every other axis equal",
            ("crop 4 from each side of down4 ({type: crop, size: 56x56})",),
        ),
        (
            [[57, 57, 64], [64, 64, 64]],
            "channels",
            (),
            "input 2 is 64x64x64 but input 1 is 57x57x64: rows and columns differ; "
            "concat along channels needs every other axis equal",
            ("crop 3 before and 4 after of input 2 ({type: crop, size: 57x57})",),
        ),
        (
            [[64, 60, 8], [56, 64, 8]],
            "channels",
            (),
            "input 2 is 56x64x8 but input 1 is 64x60x8: rows and columns differ; concat along channels needs "
            "every other axis equal",
            (
                "centre-crop input 1 to 56x60 ({type: crop, size: 56x60}) and "
                "centre-crop input 2 to 56x60 ({type: crop, size: 56x60})",
            ),
        ),
        (
            [[4, 5, 8], [3, 6, 8]],
            "rows",
            (),
            "input 2 is 3x6x8 but input 1 is 4x5x8: columns differ; concat along rows needs every other axis "
            "equal",
            ("crop 0 before and 1 after of input 2 ({type: crop, size: 3x5})",),  # its columns only,
        ),
        (
            [[4, 5, 8], [3, 5, 6]],
            "rows",
            (),
            "input 2 is 3x5x6 but input 1 is 4x5x8: channels differ; "
            "concat along rows needs every other axis equal",
            (),
        ),
        (
            [[4, 4, 8], [4, 8]],
            "channels",
            (),
            "input 2 (4x8) has 1 spatial axis but input 1 (4x4x8) has 2 spatial axes: "
            "concat needs the same rank",
            (),
        ),
    ],
)
def test_concat_proposes_the_crop_that_aligns_it(
    inputs: list[list[int]], axis: str, sources: tuple[str, ...], message: str, fixes: tuple[str, ...]
) -> None:
    r = kinds.get(Kind.CONCAT).resolve(
        1, layer(Kind.CONCAT, sources=sources, axis=axis), shapes(inputs), file=None
    )
    assert message_and_fixes(r) == (message, fixes)


def test_concat_crop_fix_gives_the_shape_it_promises() -> None:
    """The crop proposed for U-Net's skip, run through the crop kind, gives the other input's size."""
    crop = kinds.get(Kind.CROP)
    c = crop.read(Reader({"size": "56x56"}, "layer 1 (crop1)", None, name="crop1", kind=Kind.CROP))
    assert crop.resolve(1, c, (Shape((64, 64), 512),), file=None).output == Shape((56, 56), 512)


def test_concat_explain_and_cells() -> None:
    r = resolved(Kind.CONCAT, shapes([[56, 56, 64], [56, 56, 64]]))
    module = kinds.of(r.layer)
    assert (r.output, codes(r)) == (Shape((56, 56), 128), [])
    assert module.size_lines(r) == ["concat along channels: 64 + 64 = 128"]
    assert (module.window_cell(r), module.json_fields(r)) == ("cat C", {"axis": "channels"})
    rows = resolved(Kind.CONCAT, shapes([[5, 7, 3], [2, 7, 3]]), axis="rows")
    assert (rows.output, kinds.of(rows.layer).window_cell(rows)) == (Shape((7, 7), 3), "cat rows")


@pytest.mark.parametrize(
    ("dims", "axis", "error"),
    [
        ([8, 3], "rows", "m: a 1-D input has no rows to join along (its axes are positions and channels)"),
        (
            [8, 8, 3],
            "frames",
            "m: a 2-D input has no frames to join along (its axes are rows, columns and channels)",
        ),
        ([10], "positions", "m: a flat input has no positions to join along (it has channels only)"),
    ],
)
def test_concat_along_an_axis_the_input_lacks_is_a_spec_error(dims: list[int], axis: str, error: str) -> None:
    with pytest.raises(SpecError) as e:
        resolved(Kind.CONCAT, shapes([dims, dims]), axis=axis)
    assert e.value.message == error


@pytest.mark.parametrize("kind", [Kind.ADD, Kind.MUL, Kind.CONCAT])
def test_a_merge_needs_two_inputs(kind: Kind) -> None:
    with pytest.raises(SpecError) as e:
        resolved(kind, shapes([[8, 8, 4]]))
    assert e.value.message == f"m: {kind.value} needs at least 2 inputs, got 1"


def test_split_sizes_that_do_not_sum_propose_sizes_that_do() -> None:
    r = resolved(Kind.SPLIT, shapes([[28, 28, 116]]), sizes=[58, 50], part=1)
    assert r.output == Shape((28, 28), 50)
    assert message_and_fixes(r) == (
        "sizes 58 + 50 = 108 must sum to the channels (116); PyTorch refuses it",
        ("sizes [58, 58]",),
    )
    r = resolved(Kind.SPLIT, shapes([[7, 7, 6]]), sizes=[4, 4])
    assert message_and_fixes(r)[1] == ("sizes [4, 2]", "sizes [3, 3]")
    r = resolved(Kind.SPLIT, shapes([[7, 7, 5]]), sizes=[5, 4])
    assert message_and_fixes(r)[1] == ()  # no positive last size, and 2 does not divide 5


def test_split_explain_and_cells() -> None:
    r = resolved(Kind.SPLIT, shapes([[7, 7, 5]]), chunks=4, part=2)
    module = kinds.of(r.layer)
    assert module.size_lines(r) == [
        "chunks of ceil(5/4) = 2 channels: 3 of them",
        "split 5 into 2 + 2 + 1: part 2 has 1",
    ]
    assert module.window_cell(r) == "split 2/2/1"
    assert module.json_fields(r) == {"sizes": [2, 2, 1], "chunks": 4, "part": 2}
    assert (module.HELD, module.shares_input(r), r.activations) == (Held.VIEW, True, 0)


def test_the_merge_kinds_share_the_conventions() -> None:
    for kind in (Kind.ADD, Kind.MUL, Kind.CONCAT, Kind.SPLIT):
        module = kinds.get(kind)
        assert module.ELEMENTWISE is False
        inputs = shapes([[6, 6, 4]] if kind is Kind.SPLIT else [[6, 6, 4], [6, 6, 4]])
        r = resolved(kind, inputs, **({"chunks": 2} if kind is Kind.SPLIT else {}))
        before = (r.field or ()) + ()
        assert module.field(r, before) == before
        assert module.margins(r, ((1, 1), (1, 1))) is None
        assert (module.macs_line(r), r.macs, r.params) == ("0", 0, 0)
        assert "no weights" in module.params_line(r)


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("kind", ["add", "mul", "concat"])
def test_layer_refuses_a_merge(kind: str) -> None:
    got = CliRunner().invoke(main, ["layer", "--in", "8x8x4", "--type", kind])
    assert got.exit_code == 2
    assert got.stderr.startswith(f"convcalc layer: error: {kind} merges several inputs: write it in a spec")
    assert len(got.stderr.strip().splitlines()) == 1


def test_layer_shows_one_part_of_a_split() -> None:
    got = CliRunner().invoke(
        main,
        [
            "layer",
            "--in",
            "8x8x5",
            "--type",
            "split",
            "--set",
            "chunks=4",
            "--set",
            "part=2",
            "--explain",
            "--check",
        ],
    )
    assert got.exit_code == 0, got.output
    assert got.stdout.splitlines() == [
        "split1: 8x8x5 -> 8x8x1",
        "  output size      chunks of ceil(5/4) = 2 channels: 3 of them",
        "                   split 5 into 2 + 2 + 1: part 2 has 1",
        "  parameters       0 (a split has no weights)",
        "  MACs             0",
        "  receptive field  1 (unchanged)",
        "  activations      0 (a view)",
        "  check            ran it with numpy: 8x8x1 ✓",
    ]


@pytest.mark.parametrize(
    ("sets", "error"),
    [
        (
            ["part=3", "chunks=4"],
            "split1: part 3 does not exist: 4 chunks of 5 channels give 3 parts (0 to 2)",
        ),
        (
            [],
            "--type split needs --set sizes=[...] (the channels of each part), --set chunks=N "
            "or --set points=[...]",
        ),
        (["sizes=[2, 3]", "chunks=2"], "--set sizes and --set chunks do not go together"),
        (["points=[2]", "chunks=2"], "--set chunks and --set points do not go together"),
        (["sizes=[2, 0]"], "--set sizes must be a list of positive integers like [58, 58], got [2, 0]"),
    ],
)
def test_layer_split_errors(sets: list[str], error: str) -> None:
    args = [a for s in sets for a in ("--set", s)]
    got = CliRunner().invoke(main, ["layer", "--in", "8x8x5", "--type", "split", *args])
    assert got.exit_code == 2
    assert got.stderr.startswith(f"convcalc layer: error: {error}")
    assert len(got.stderr.strip().splitlines()) == 1


def test_split_in_a_spec(tmp_path: Path) -> None:
    """A split takes one input, so a chain can hold it: its refusal is located at `sizes`, a missing
    part at `part`, a bad axis of concat at `axis`."""
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 8x8x6\nlayers:\n  - {type: split, sizes: [2, 3], part: 1}\n")
    got = CliRunner().invoke(main, ["lint", str(spec)])
    assert got.exit_code == 1
    assert got.stdout.splitlines()[0] == (
        f"{spec}:3:26: error[merge-shape-mismatch] split1: sizes 2 + 3 = 5 must sum to the channels (6); "
        "PyTorch refuses it; fix: sizes [2, 4] or sizes [3, 3]"
    )
    spec.write_text("input: 8x8x6\nlayers:\n  - {type: split, chunks: 2, part: 2}\n")
    got = CliRunner().invoke(main, ["run", str(spec)])
    assert got.exit_code == 2
    assert got.stderr == (
        f"{spec}:3:36: error: split1: part 2 does not exist: 2 chunks of 6 channels give 2 parts (0 to 1)\n"
    )
    spec.write_text("input: 8x8x6\nlayers:\n  - {type: concat, axis: height}\n")
    got = CliRunner().invoke(main, ["run", str(spec)])
    assert got.exit_code == 2
    assert got.stderr == (
        f"{spec}:3:26: error: layer 1 (concat1): 'axis' must be one of: channels, rows, columns, frames, "
        "positions, got 'height'\n"
    )


# ---------------------------------------------------------------- kernels against loops

spatial_dims = st.lists(st.integers(1, 4), min_size=0, max_size=3)


@EXAMPLES
@given(spatial_dims, st.integers(1, 4), st.integers(2, 3), st.integers(0, 2**32 - 1))
def test_add_kernel_against_a_loop(spatial: list[int], c: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    xs = tuple(rng.standard_normal((c, *spatial), dtype=np.float32) for _ in range(n))
    out = add_kernel(xs)
    assert out.shape == xs[0].shape
    assert out.dtype == np.float32
    for index in np.ndindex(*out.shape):
        want = np.float32(0)
        for x in xs:
            want = np.float32(want + x[index])
        assert out[index] == want


@EXAMPLES
@given(
    spatial_dims,
    st.integers(1, 4),
    st.lists(st.integers(0, 2), min_size=4, max_size=4),
    st.integers(0, 2**32 - 1),
)
def test_mul_kernel_against_a_loop(spatial: list[int], c: int, ones: list[int], seed: int) -> None:
    """Each axis 1 in one input or the other (or in neither): the broadcast product, element by element."""
    full = [c, *spatial]
    a = [1 if ones[k] == 1 else n for k, n in enumerate(full)]
    b = [1 if ones[k] == 2 else n for k, n in enumerate(full)]
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(a, dtype=np.float32), rng.standard_normal(b, dtype=np.float32)
    out = mul_kernel((x, y))
    assert out.shape == tuple(full)
    for index in np.ndindex(*out.shape):
        i = tuple(0 if a[k] == 1 else v for k, v in enumerate(index))
        j = tuple(0 if b[k] == 1 else v for k, v in enumerate(index))
        assert out[index] == np.float32(x[i] * y[j])
    r = resolved(Kind.MUL, (Shape(tuple(a[1:]), a[0]), Shape(tuple(b[1:]), b[0])))
    assert (r.output.channels, *r.output.spatial) == out.shape


@EXAMPLES
@given(spatial_dims, st.lists(st.integers(1, 4), min_size=2, max_size=3), st.data())
def test_concat_kernel_against_a_loop(spatial: list[int], sizes: list[int], data: st.DataObject) -> None:
    axis = data.draw(st.integers(0, len(spatial)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    shapes_ = []
    for n in sizes:
        dims = [4, *spatial]
        dims[axis] = n
        shapes_.append(dims)
    xs = tuple(rng.standard_normal(s, dtype=np.float32) for s in shapes_)
    out = concat_kernel(xs, axis=axis)
    for index in np.ndindex(*out.shape):
        at, k = index[axis], 0
        while at >= xs[k].shape[axis]:
            at -= xs[k].shape[axis]
            k += 1
        assert out[index] == xs[k][(*index[:axis], at, *index[axis + 1 :])]
    names = (
        ("channels", *(("positions",), ("rows", "columns"), ("frames", "rows", "columns"))[len(spatial) - 1])
        if spatial
        else ("channels",)
    )
    inputs = tuple(Shape(tuple(s[1:]), s[0]) for s in shapes_)
    r = resolved(Kind.CONCAT, inputs, axis=names[axis])
    assert (r.output.channels, *r.output.spatial) == out.shape
    assert kinds.of(r.layer).forward(xs, r).shape == out.shape


@EXAMPLES
@given(spatial_dims, st.integers(1, 12), st.integers(1, 14), st.data())
def test_split_kernel_against_a_loop(spatial: list[int], c: int, n: int, data: st.DataObject) -> None:
    parts = chunked(c, n)
    part = data.draw(st.integers(0, len(parts) - 1))
    x = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).standard_normal(
        (c, *spatial), dtype=np.float32
    )
    out = split_kernel(x, sizes=parts, part=part)
    start = sum(parts[:part])
    assert out.shape == (parts[part], *spatial)
    for index in np.ndindex(*out.shape):
        assert out[index] == x[(index[0] + start, *index[1:])]
    assert np.shares_memory(out, x)
    r = resolved(Kind.SPLIT, (Shape(tuple(spatial), c),), chunks=n, part=part)
    assert kinds.of(r.layer).forward((x,), r).shape == out.shape


def test_forward_shapes_are_the_resolved_ones() -> None:
    """What --check will compare: each forward on zeros gives the shape resolve says."""
    for kind, dims, keys in [
        (Kind.ADD, [[5, 5, 3], [5, 5, 3], [5, 5, 3]], {}),
        (Kind.MUL, [[1, 1, 3], [5, 4, 3]], {}),
        (Kind.CONCAT, [[5, 4, 3], [5, 4, 2]], {}),
        (Kind.CONCAT, [[5, 4, 3], [5, 2, 3]], {"axis": "columns"}),
        (Kind.SPLIT, [[5, 4, 7]], {"sizes": [3, 4], "part": 1}),
    ]:
        inputs = shapes(dims)
        r = resolved(kind, inputs, **keys)
        xs = tuple(np.zeros((s.channels, *s.spatial), dtype=np.float32) for s in inputs)
        assert kinds.of(r.layer).forward(xs, r).shape == (r.output.channels, *r.output.spatial), kind


def test_mul_of_three_and_its_sources() -> None:
    """Three inputs broadcast together, element by element; a mismatch names the inputs as `from:` did."""
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    y = np.array([2, 3], dtype=np.float32).reshape(2, 1, 1)
    z = np.arange(4, dtype=np.float32).reshape(1, 1, 4)
    out = mul_kernel((x, y, z))
    for c, i, j in np.ndindex(2, 3, 4):
        assert out[c, i, j] == x[c, i, j] * y[c, 0, 0] * z[0, 0, j]
    se = layer(Kind.MUL, sources=("features.3.block.0", "features.3.block.1.scale"))
    r = kinds.get(Kind.MUL).resolve(1, se, shapes([[28, 28, 40], [1, 1, 24]]), file=None)
    assert message_and_fixes(r)[0] == (
        "features.3.block.1.scale (1x1x24) and features.3.block.0 (28x28x40): channels 40 and 24 do not "
        "broadcast (each axis must be equal or 1 in one input)"
    )
