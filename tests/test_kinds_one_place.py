"""Issue 12: a kind is one module. Nothing outside it names the kind, each module checks itself against
the protocol, imports on its own, and `convcalc layer --set` reaches every key without a flag of its own."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc import kinds
from convcalc.__main__ import main
from convcalc.model import Kind

PACKAGE = Path(kinds.__file__).resolve().parent.parent


def _references(path: Path) -> set[str]:
    """The names a module's code uses or imports, and the Kind members it names (Kind.CONV)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.alias):
            found.add(node.name.rsplit(".", 1)[-1])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Kind":
            found.add(f"Kind.{node.attr}")
    return found


# The stages that know particular kinds, and why; every other kind is named by its own module alone.
WINDOW_RULES = {"kinds/window.py", "rules.py", "__main__.py"}
"""conv, deconv and pool share window.py (their classes live there), the rules about sliding windows
and their fixes, and `convcalc layer`'s hints for a window's flags."""
KNOWN_ELSEWHERE = {
    Kind.CONV: WINDOW_RULES | {"formulas.py", "build.py"},  # FC-equivalent ratio; the reader's default kind
    Kind.DECONV: WINDOW_RULES | {"formulas.py", "present.py"},  # its output_pad in the JSON window
    Kind.POOL: WINDOW_RULES | {"present.py", "fixes.py"},  # an adaptive pool's field; a pool's pad cap
    Kind.FC: {"present.py"},  # after an fc every output sees the whole input
    Kind.GLOBAL_POOL: {"present.py"},  # likewise after a global pool
    Kind.FLATTEN: {"present.py"},  # a flatten keeps the field it was given
    Kind.ACT: {"hints.py"},  # 'activation: relu' is a misspelt act
    Kind.PIXEL_UNSHUFFLE: {"kinds/pixel_shuffle.py"},  # the two share the 2-D check and its errors
}


CONVENTIONS = {"conventions.py"}
"""Issue 16: other tools' counting rules, one table keyed by kind per tool (torchinfo, ptflops, fvcore,
thop, FlopCounterMode). They are those tools' rules, not convcalc's: they belong together, to be read
beside the tools' sources, rather than as a part of every kind module."""


def _kind_names(kind: Kind) -> set[str]:
    module = kinds.get(kind)
    classes = {n for n, v in vars(module).items() if isinstance(v, type) and getattr(v, "kind", None) is kind}
    assert classes, f"{kind.value} has no layer class"
    return {f"Kind.{kind.name}", *classes}


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value)
def test_a_kind_is_named_only_in_its_module(kind: Kind) -> None:
    """Adding a kind is its module, its registry line, schema, README and tests: no stage names it."""
    names = _kind_names(kind)
    own = {f"kinds/{kind.value}.py", "kinds/__init__.py"}  # the module, and the registry's enum member
    own |= CONVENTIONS
    naming = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).as_posix() not in own and _references(path) & names
    }
    assert naming == KNOWN_ELSEWHERE.get(kind, set())


def test_the_kinds_of_this_issue_are_named_nowhere_else() -> None:
    added = {
        Kind.IDENTITY, Kind.UPSAMPLE, Kind.PIXEL_SHUFFLE, Kind.RESHAPE, Kind.PAD, Kind.CROP, Kind.LRN,
        Kind.CHANNEL_SHUFFLE, Kind.LAYER_NORM, Kind.GROUP_NORM, Kind.INSTANCE_NORM, Kind.PRELU, Kind.SCALE,
    }  # fmt: skip
    assert not added & set(KNOWN_ELSEWHERE)


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value)
def test_every_kind_module_checks_itself_against_the_protocol(kind: Kind) -> None:
    """mypy sees `_checked: LayerKind = <the module itself>` in each module, so a part missing or of the
    wrong type fails mypy there (and `MissingPart` at run time)."""
    path = PACKAGE / "kinds" / f"{kind.value}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checks = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for node in node.body
    ]
    imports = [n for n in checks if isinstance(n, ast.ImportFrom) and n.level == 1]
    assert any(a.name == kind.value and a.asname == "_this" for n in imports for a in n.names)
    assert any(
        isinstance(n, ast.AnnAssign)
        and ast.unparse(n.annotation) == "LayerKind"
        and isinstance(n.value, ast.Name)
        and n.value.id == "_this"
        for n in checks
    )


def test_every_kind_module_imports_on_its_own() -> None:
    """No import cycle hides behind another module imported first: each kind in a fresh interpreter."""
    code = "import importlib, sys\nimportlib.import_module(sys.argv[1])\n"
    failed = {}
    for kind in Kind:
        done = subprocess.run(
            [sys.executable, "-c", code, f"convcalc.kinds.{kind.value}"], capture_output=True, text=True
        )
        if done.returncode:
            failed[kind.value] = done.stderr.strip().splitlines()[-1]
    assert failed == {}


# ---------------------------------------------------------------- --set: any key, no flag needed


def _layer_json(*args: str) -> dict[str, object]:
    got = CliRunner().invoke(main, ["layer", *args, "--format", "json"])
    assert got.exit_code == 0, got.output
    layer: dict[str, object] = json.loads(got.stdout)["layers"][0]
    layer.pop("line")
    return layer


def _spec_json(tmp_path: Path, input_: str, line: str) -> dict[str, object]:
    spec = tmp_path / "one.yaml"
    spec.write_text(f"input: {input_}\nlayers:\n  - {line}\n")
    got = CliRunner().invoke(main, ["run", str(spec), "--format", "json"])
    assert got.exit_code == 0, got.output
    layer: dict[str, object] = json.loads(got.stdout)["layers"][0]
    layer.pop("line")
    return layer


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--type", "pad", "--set", "pad=[[3, 2], [1, 0]]"], "{type: pad, pad: [[3, 2], [1, 0]]}"),
        (
            ["--type", "upsample", "--set", "scale=[2, 1.5]", "--set", "mode=bilinear"],
            "{type: upsample, scale: [2, 1.5], mode: bilinear}",
        ),
        (["--type", "conv", "--set", "size=3", "-k", "8", "--set", "pad=same"], "{type: conv, size: 3, filters: 8, pad: same}"),  # noqa: E501
        (["--type", "crop", "--set", "crop=[[1, 2]]"], "{type: crop, crop: [[1, 2]]}"),
    ],
)  # fmt: skip
def test_set_reads_a_key_as_the_spec_line_does(args: list[str], line: str, tmp_path: Path) -> None:
    assert _layer_json("--in", "15x15x6", *args) == _spec_json(tmp_path, "15x15x6", line)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--type", "pad", "--set", "pad"], "--set needs KEY=VALUE, got 'pad'"),
        (["--type", "pad", "--set", "=3"], "--set needs KEY=VALUE, got '=3'"),
        (["--type", "pad", "--set", "fill=3"], "--set fill is not a key of pad (its keys: pad, mode)"),
        (["--type", "identity", "--set", "p=1"], "--set p is not a key of identity (its keys: stands_for)"),
        (["--type", "pad", "--set", "pad=1", "--set", "pad=2"], "--set pad is given twice"),
        (["--type", "pad", "--pad", "1", "--set", "pad=2"], "--pad and --set pad both give 'pad'"),
        (["--type", "pad", "--set", "pad=[[3,"], "--set pad=[[3, is not a value a spec could hold"),
        (
            ["--type", "group_norm", "--set", "groups=abc"],
            "--set groups must be a positive integer, got 'abc'",
        ),
        (["--type", "conv", "--set", "size=0"], "--set size must be a positive integer"),
    ],
)
def test_set_errors_name_the_set(args: list[str], error: str) -> None:
    got = CliRunner().invoke(main, ["layer", "--in", "8x8x4", *args])
    assert got.exit_code == 2
    assert got.stderr.startswith(f"convcalc layer: error: {error}")
    assert "Traceback" not in got.output
    assert len(got.stderr.strip().splitlines()) == 1
