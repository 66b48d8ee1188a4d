"""Issue 12: one module per layer kind, a registry that covers them all, and one reader for spec and flags."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from convcalc import kinds
from convcalc.__main__ import main
from convcalc.kinds.identity import kernel as identity_kernel
from convcalc.kinds.types import LayerKind
from convcalc.model import Kind

PROTOCOL = {n for n in vars(LayerKind) if not n.startswith("_")} | set(LayerKind.__annotations__)


def test_the_registry_covers_every_kind() -> None:
    assert set(kinds.MODULES) == set(Kind)
    assert tuple(k.value for k in kinds.MODULES) == kinds.NAMES
    assert set(kinds.NAMES) == {k.value for k in Kind}


def test_the_schema_and_the_readme_name_every_registered_kind() -> None:
    from convcalc.schema import text

    schema = json.loads(text())
    assert tuple(schema["$defs"]["layer"]["properties"]["type"]["enum"]) == kinds.NAMES
    assert set(kinds.NAMES) <= set(schema["$defs"])
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert [name for name in kinds.NAMES if f"| `{name}` |" not in readme] == []


def test_the_parts_checked_are_the_protocol() -> None:
    assert set(kinds.PARTS) == PROTOCOL
    assert len(PROTOCOL) == 21


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value)
def test_every_kind_implements_every_part(kind: Kind) -> None:
    module = kinds.get(kind)
    assert module.KIND is kind
    for part in PROTOCOL:
        assert hasattr(module, part), part
    assert set(module.REQUIRED) <= set(module.KEYS)
    assert not {"type", "name", "allow", "expect"} & set(module.KEYS)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch):
    """Register a throwaway module as the flatten kind, with some of its parts taken away."""

    def register(*, without: tuple[str, ...] = (), kind: Kind = Kind.FLATTEN) -> None:
        from convcalc.kinds import flatten

        fake = types.ModuleType("convcalc.kinds.broken")
        for part in kinds.PARTS:
            if part not in without:
                setattr(fake, part, getattr(flatten, part))
        fake.KIND = kind
        monkeypatch.setitem(sys.modules, "convcalc.kinds.broken", fake)
        monkeypatch.setitem(kinds.MODULES, Kind.FLATTEN, "broken")
        monkeypatch.setattr(kinds, "_LOADED", {})

    return register


def test_a_kind_registered_without_a_part_fails(registered) -> None:
    registered(without=("forward", "scratch"))
    with pytest.raises(kinds.MissingPart, match=r"^kind module 'broken' lacks scratch, forward$"):
        kinds.get(Kind.FLATTEN)


def test_a_kind_registered_without_a_part_fails_the_command_not_silently(registered) -> None:
    registered(without=("field",))
    result = CliRunner().invoke(main, ["layer", "--in", "7x7x64", "--type", "flatten"])
    assert isinstance(result.exception, kinds.MissingPart)


def test_a_module_registered_as_another_kind_fails(registered) -> None:
    registered(kind=Kind.ACT)
    with pytest.raises(kinds.MissingPart, match="registered as flatten but says act"):
        kinds.get(Kind.FLATTEN)


def test_a_whole_module_passes(registered) -> None:
    registered()
    assert kinds.get(Kind.FLATTEN).KIND is Kind.FLATTEN


def test_layer_type_choices_come_from_the_registry() -> None:
    param = next(p for p in main.commands["layer"].params if p.name == "kind")
    assert isinstance(param.type, click.Choice)
    assert tuple(param.type.choices) == kinds.NAMES


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ("--filter 5 --pad 2 -k 10", "{type: conv, filters: 10, size: 5, pad: 2}"),
        (
            "--filter 3x5 --stride 2 --pad same -k 4 --no-bias",
            "{type: conv, filters: 4, size: 3x5, stride: 2, pad: same, bias: false}",
        ),
        (
            "--filter 3 --groups 3 -k 6 --dilation 2",
            "{type: conv, filters: 6, size: 3, groups: 3, dilation: 2}",
        ),
        (
            "--type deconv --filter 4 --stride 2 --pad 1 --output-pad 1 -k 8",
            "{type: deconv, filters: 8, size: 4, stride: 2, pad: 1, output_pad: 1}",
        ),
        (
            "--type pool --filter 3 --stride 2 --pad 1 --mode avg --no-count-pad --ceil",
            "{type: pool, size: 3, stride: 2, pad: 1, mode: avg, count_pad: false, ceil: true}",
        ),
        ("--type pool --output 3 --mode avg", "{type: pool, output: 3, mode: avg}"),
        ("--type global_pool --mode max", "{type: global_pool, mode: max}"),
        ("--type fc --units 10 --no-bias", "{type: fc, units: 10, bias: false}"),
        ("--type bn --no-affine", "{type: bn, affine: false}"),
        ("--type act --fn gelu", "{type: act, fn: gelu}"),
        ("--type dropout -p 0.25", "{type: dropout, p: 0.25}"),
        ("--type flatten", "{type: flatten}"),
    ],
)
def test_layer_options_read_as_the_spec_line(options: str, line: str, tmp_path: Path) -> None:
    """The options and the spec line give the same layer: the same reader reads both."""
    runner = CliRunner()
    got = runner.invoke(main, ["layer", "--in", "9x9x6", *options.split(), "--format", "json"])
    spec = tmp_path / "one.yaml"
    spec.write_text(f"input: 9x9x6\nlayers:\n  - {line}\n")
    want = runner.invoke(main, ["run", str(spec), "--format", "json"])
    assert got.exit_code == want.exit_code == 0, (got.output, want.output)
    one, other = json.loads(got.stdout)["layers"][0], json.loads(want.stdout)["layers"][0]
    assert {k: v for k, v in one.items() if k != "line"} == {k: v for k, v in other.items() if k != "line"}


@pytest.mark.parametrize(
    ("options", "flag_error", "line", "key_error"),
    [
        (
            "--type pool --output 2 --stride 2 --pad 1",
            "convcalc layer: error: --stride, --pad does not apply with --output (adaptive pooling)",
            "{type: pool, output: 2, stride: 2, pad: 1}",
            "layer 1 (pool1): 'stride' does not go with 'output'",
        ),
        (
            "--type pool --filter 2 --pad same --ceil",
            "convcalc layer: error: --ceil needs a numeric --pad (PyTorch's ceil_mode)",
            "{type: pool, size: 2, pad: same, ceil: true}",
            "layer 1 (pool1): 'ceil: true' needs a numeric pad",
        ),
        (
            "--type pool --filter 2 --no-count-pad",
            "convcalc layer: error: --no-count-pad is for average pools: add --mode avg",
            "{type: pool, size: 2, count_pad: false}",
            "layer 1 (pool1): 'count_pad' is only for average pools",
        ),
        (
            "--type fc",
            "convcalc layer: error: --type fc needs --units",
            "{type: fc}",
            "layer 1 (fc): missing required key 'units'",
        ),
        (
            "--type pool",
            "convcalc layer: error: --type pool needs --filter (the window size F) or --output (adaptive)",
            "{type: pool}",
            "layer 1 (pool1): missing required key 'size' (or 'output' for adaptive pooling)",
        ),
    ],
)
def test_errors_name_the_flag_where_the_spec_names_the_key(
    options: str, flag_error: str, line: str, key_error: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    got = runner.invoke(main, ["layer", "--in", "8x8x3", *options.split()])
    assert got.exit_code == 2
    assert got.stderr.startswith(flag_error)
    spec = tmp_path / "one.yaml"
    spec.write_text(f"input: 8x8x3\nlayers:\n  - {line}\n")
    want = runner.invoke(main, ["run", str(spec)])
    assert want.exit_code == 2
    assert want.stderr.startswith(f"{spec}:3:")
    assert f": error: {key_error}" in want.stderr


def test_a_spec_imports_only_the_kinds_it_uses() -> None:
    code = (
        "import sys\n"
        "from convcalc.loader import parse\n"
        "from convcalc.resolver import resolve\n"
        "net = resolve(parse('input: 8x8x3\\nlayers:\\n  - {type: conv, filters: 4, size: 3}\\n'))\n"
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('convcalc.kinds.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['conv', 'window']"


# ---------------------------------------------------------------- identity, added through the new path


def test_identity_keeps_everything() -> None:
    from convcalc.loader import parse
    from convcalc.resolver import resolve

    net = resolve(
        parse(
            "input: 9x9x3\nlayers:\n  - {type: conv, filters: 4, size: 3}\n  - {type: identity, name: skip}\n"
        )
    )
    conv, ident = net.layers
    assert (ident.layer.name, ident.input, ident.output) == ("skip", conv.output, conv.output)
    assert (ident.params, ident.non_trainable, ident.fc_params, ident.macs, ident.activations) == (
        0,
        0,
        None,
        0,
        0,
    )
    assert ident.field == conv.field
    assert net.activations == 9 * 9 * 3 + 7 * 7 * 4


def test_identity_from_the_command_line() -> None:
    result = CliRunner().invoke(
        main, ["layer", "--in", "8x8x4", "--type", "identity", "--explain", "--check"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "identity1: 8x8x4 -> 8x8x4",
        "  parameters       0 (an identity layer has no weights)",
        "  MACs             0",
        "  receptive field  1 (unchanged)",
        "  activations      0 (a view)",
        "  check            ran it with numpy: 8x8x4 ✓",
    ]


def test_identity_takes_no_other_flag() -> None:
    result = CliRunner().invoke(main, ["layer", "--in", "8x8x4", "--type", "identity", "-p", "0.1"])
    assert result.exit_code == 2
    assert result.stderr == (
        "convcalc layer: error: --p does not apply to --type identity (see 'convcalc layer --help')\n"
    )


def test_identity_takes_no_other_key(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 8x8x4\nlayers:\n  - {type: identity, p: 0.1}\n")
    result = CliRunner().invoke(main, ["run", str(spec)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{spec}:3:25: error: layer 1: unknown key 'p' for an identity layer "
        "(expected one of: type, name, stands_for, allow, expect, from, if)\n"
    )


def test_identity_json_fields_are_all_null() -> None:
    result = CliRunner().invoke(main, ["layer", "--in", "8x8x4", "--type", "identity", "--format", "json"])
    (row,) = json.loads(result.stdout)["layers"]
    assert row["type"] == "identity"
    assert [
        row[k] for k in ("window", "mode", "adaptive_output", "count_pad", "groups", "affine", "fn", "p")
    ] == [None] * 8


def test_identity_kernel_against_a_loop() -> None:
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
    def same(shape: list[int], seed: int) -> None:
        x = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
        out = identity_kernel(x)
        assert out.shape == x.shape
        for index in np.ndindex(*x.shape):
            assert out[index] == x[index]

    same()
