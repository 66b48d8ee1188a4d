"""`convcalc lint DIR`: what a directory walk reads, skips and says (issue 11, items 10, 22, 27, 28)."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import walk as walk_module
from convcalc.__main__ import main
from convcalc.lint import lint as run_lint
from convcalc.walk import has_layers, walk

ROOT = Path(__file__).resolve().parent.parent
CLEAN = "input: 32x32x3\nlayers:\n  - {type: conv, filters: 6, size: 5}\n"
GROUPS = (ROOT / "tests/data/lint/groups.yaml").read_text()
WORKFLOW = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
HAS_GIT = shutil.which("git") is not None


@pytest.fixture(autouse=True)
def _gc() -> Iterator[None]:
    """The lint command switches the collector off; switch it back on."""
    yield
    gc.enable()


def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """`convcalc lint ARGS` run from tmp_path."""
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["lint", *args])


def tree(root: Path, files: dict[str, str]) -> None:
    """Write each relative path with its text."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def linted(result: Result) -> list[str]:
    """The files named by finding lines, in order."""
    return [line.split(":", 1)[0] for line in result.stdout.splitlines()[:-1]]


# item 10: what a walk skips


def test_walk_skips_hidden_venvs_and_node_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(
        tmp_path,
        {
            "specs/net.yaml": GROUPS,
            ".github/workflows/ci.yml": WORKFLOW,
            ".git/config.yaml": GROUPS,
            ".hidden/net.yaml": GROUPS,
            ".venv/lib/net.yaml": GROUPS,
            "venv/pyvenv.cfg": "home = /usr/bin\n",
            "venv/lib/site/net.yaml": GROUPS,
            "env3/conda-meta/history.yaml": GROUPS,
            "env3/pkgs/net.yaml": GROUPS,
            "node_modules/pkg/net.yaml": GROUPS,
            "specs/__pycache__/net.yaml": GROUPS,
            "specs/.draft.yaml": GROUPS,
        },
    )
    result = cli(tmp_path, monkeypatch, ".")
    assert linted(result) == ["specs/net.yaml"]
    assert result.stdout.splitlines()[-1] == "1 error, 0 warnings in 1 file"
    assert result.stderr == ""
    assert result.exit_code == 1


def test_named_hidden_directory_is_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, {".specs/net.yaml": GROUPS})
    result = cli(tmp_path, monkeypatch, ".specs")
    assert linted(result) == [".specs/net.yaml"]
    assert result.exit_code == 1


def test_walked_yaml_without_layers_is_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree(
        tmp_path,
        {
            "ci/workflow.yml": WORKFLOW,
            "ci/list.yaml": "- a\n- b\n",
            "ci/empty.yaml": "",
            "ci/nested.yaml": "model:\n  layers: []\n",
            "ci/net.yaml": CLEAN,
        },
    )
    result = cli(tmp_path, monkeypatch, "ci")
    assert result.stdout == "0 errors, 0 warnings in 1 file\n"
    assert result.stderr.splitlines() == [
        f"convcalc lint: note: skipped ci/{name}: no top-level 'layers' key, so not a spec"
        for name in ("empty.yaml", "list.yaml", "nested.yaml", "workflow.yml")
    ]
    assert result.exit_code == 0


def test_named_yaml_without_layers_is_still_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, {"ci/workflow.yml": WORKFLOW})
    result = cli(tmp_path, monkeypatch, "ci/workflow.yml")
    assert result.stdout.splitlines() == [
        "ci/workflow.yml:2:1: error[spec-invalid] keys must be names, got True",
        "0 errors, 0 warnings, 1 invalid spec in 1 file",
    ]
    assert result.exit_code == 2


def test_walked_broken_spec_is_still_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spec whose YAML breaks is not mistaken for a non-spec: it has a layers line."""
    tree(tmp_path, {"specs/bad.yaml": (ROOT / "tests/data/lint/bad-yaml.yaml").read_text()})
    result = cli(tmp_path, monkeypatch, "specs")
    assert result.stdout.splitlines() == [
        "specs/bad.yaml:4:1: error[spec-invalid] invalid YAML: did not find expected ',' or '}'",
        "0 errors, 0 warnings, 1 invalid spec in 1 file",
    ]
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CLEAN, True),
        ("{input: 8, layers: []}", True),
        ('"layers": []\n', True),
        ("input: 8\nlayers: [{type: conv, size: 3\n", True),  # broken YAML, a layers line
        ("a: [1\nlayers: 2\n", True),
        ("- layers\n", False),
        ("layers\n", False),
        ("model:\n  layers: []\n", False),
        ("input: 8\nx: {layers: 1}\n", False),
        ("", False),
        ("a: 1\n---\nlayers: []\n", False),
        ("on: push\njobs: {}\n", False),
        ("key: [unclosed\n", False),
    ],
)
def test_has_layers(tmp_path: Path, text: str, expected: bool) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    assert has_layers(str(path)) is expected


def test_exclude_is_repeatable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(
        tmp_path,
        {
            "specs/a.yaml": GROUPS,
            "specs/drafts/b.yaml": GROUPS,
            "specs/c.tmp.yaml": GROUPS,
            "specs/deep/drafts/d.yaml": GROUPS,
            "specs/deep/e.yaml": GROUPS,
            "specs/deep/f.yaml": GROUPS,
        },
    )
    result = cli(
        tmp_path,
        monkeypatch,
        "specs",
        "--exclude",
        "drafts",
        "--exclude",
        "*.tmp.yaml",
        "--exclude",
        "specs/deep/f.yaml",
    )
    assert linted(result) == ["specs/a.yaml", "specs/deep/e.yaml"]
    assert cli(tmp_path, monkeypatch, ".", "--exclude", "deep/*").exit_code == 1
    assert linted(cli(tmp_path, monkeypatch, "specs", "--exclude", "deep/*")) == [
        "specs/a.yaml",
        "specs/c.tmp.yaml",
        "specs/drafts/b.yaml",
    ]
    named = cli(tmp_path, monkeypatch, "specs/c.tmp.yaml", "--exclude", "*.tmp.yaml")
    assert linted(named) == ["specs/c.tmp.yaml"]


@pytest.mark.skipif(not HAS_GIT, reason="needs git")
def test_gitignore_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(
        tmp_path,
        {
            ".gitignore": "build/\n*.local.yaml\n!keep.local.yaml\n",
            "specs/.gitignore": "generated.yaml\n",
            "specs/a.yaml": GROUPS,
            "specs/generated.yaml": GROUPS,
            "specs/me.local.yaml": GROUPS,
            "specs/keep.local.yaml": GROUPS,
            "specs/tracked.local.yaml": GROUPS,
            "build/out.yaml": GROUPS,
        },
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "add", "-f", "specs/tracked.local.yaml"], check=True)
    result = cli(tmp_path, monkeypatch, ".")
    assert linted(result) == ["specs/a.yaml", "specs/keep.local.yaml", "specs/tracked.local.yaml"]
    assert linted(cli(tmp_path, monkeypatch, "specs")) == linted(result)
    named = cli(tmp_path, monkeypatch, "build/out.yaml")
    assert linted(named) == ["build/out.yaml"]
    ignored_root = cli(tmp_path, monkeypatch, "build")
    assert linted(ignored_root) == ["build/out.yaml"]


def test_no_spec_files_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, {"empty/README.md": "# x\n", "configs/ci.yml": WORKFLOW, "specs/a.yaml": CLEAN})
    result = cli(tmp_path, monkeypatch, "empty")
    assert result.stdout == "0 errors, 0 warnings in 0 files\n"
    assert result.stderr == "convcalc lint: error: no spec files found under empty\n"
    assert result.exit_code == 2
    result = cli(tmp_path, monkeypatch, "specs", "configs")
    assert result.stdout == "0 errors, 0 warnings in 1 file\n"
    assert result.stderr.splitlines()[-1] == "convcalc lint: error: no spec files found under configs"
    assert result.exit_code == 2
    assert run_lint(["specs"]).exit_code(strict=False) == 0


def test_fifo_in_tree_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, {"specs/a.yaml": CLEAN})
    os.mkfifo(tmp_path / "specs" / "pipe.yaml")
    result = cli(tmp_path, monkeypatch, "specs")
    assert result.stdout == "0 errors, 0 warnings in 1 file\n"
    assert result.exit_code == 0


# item 22: files and directories that vanish mid-walk


def test_vanished_file_is_a_located_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, {"specs/a.yaml": GROUPS, "specs/b.yaml": CLEAN, "specs/c.yaml": GROUPS})

    def vanishing(paths: list[str], **kwargs: object) -> walk_module.Walk:
        found = walk(paths, **kwargs)  # type: ignore[arg-type]
        (tmp_path / "specs" / "b.yaml").unlink()
        return found

    monkeypatch.setattr("convcalc.lint.walk", vanishing)
    result = cli(tmp_path, monkeypatch, "specs")
    out = result.stdout.splitlines()
    assert [line.split(" ", 2)[:2] for line in out[:-1]] == [
        ["specs/a.yaml:3:70:", "error[groups-mismatch]"],
        ["specs/b.yaml:1:1:", "error[spec-unreadable]"],
        ["specs/c.yaml:3:70:", "error[groups-mismatch]"],
    ]
    assert out[1] == "specs/b.yaml:1:1: error[spec-unreadable] the file vanished during the walk"
    assert out[-1] == "3 errors, 0 warnings in 3 files"
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_vanished_directory_is_a_located_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, {"specs/a.yaml": CLEAN, "specs/sub/b.yaml": CLEAN, "specs/z.yaml": CLEAN})
    skipped = walk_module._skipped_dir

    def removing(entry: os.DirEntry[str]) -> bool:
        shutil.rmtree(entry.path)
        return skipped(entry)

    monkeypatch.setattr(walk_module, "_skipped_dir", removing)
    result = cli(tmp_path, monkeypatch, "specs")
    assert result.stdout.splitlines() == [
        "specs/sub:1:1: error[spec-unreadable] the directory vanished during the walk",
        "1 error, 0 warnings in 2 files",
    ]
    assert result.exit_code == 2


def test_spec_unreadable_cannot_be_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli(tmp_path, monkeypatch, ".", "--ignore", "spec-unreadable")
    assert result.exit_code == 2
    assert "spec-invalid and spec-unreadable always fail" in result.stderr


# item 27: an over-long path


@pytest.mark.parametrize("path", ["a" * 5000, "d/" * 3000 + "x.yaml", "n" * 300 + ".yaml"])
def test_over_long_path_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    result = cli(tmp_path, monkeypatch, path)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout.splitlines() == [
        f"{path.rstrip('/')}:1:1: error[spec-invalid] cannot read: File name too long",
        "0 errors, 0 warnings, 1 invalid spec in 1 file",
    ]
    assert result.exit_code == 2


# item 28: symbolic links


def test_links_out_of_the_tree_are_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(
        tmp_path,
        {
            ".env": "API_KEY=hunter2\n",
            "outside/net.yaml": GROUPS,
            "repo/specs/a.yaml": CLEAN,
        },
    )
    specs = tmp_path / "repo" / "specs"
    (specs / "leak.yaml").symlink_to(tmp_path / ".env")
    (specs / "more").symlink_to(tmp_path / "outside")
    (specs / "inside.yaml").symlink_to(specs / "a.yaml")
    (specs / "loop").symlink_to(specs)
    (specs / "dangling.yaml").symlink_to(specs / "gone.yaml")
    result = cli(tmp_path, monkeypatch, "repo")
    assert "hunter2" not in result.output
    assert linted(result) == []
    assert result.stdout == "0 errors, 0 warnings in 2 files\n"
    assert result.stderr.splitlines() == [
        "convcalc lint: note: not following repo/specs/dangling.yaml: a broken symbolic link",
        "convcalc lint: note: not following repo/specs/leak.yaml: a symbolic link that leaves repo",
        "convcalc lint: note: not following repo/specs/more: a symbolic link that leaves repo",
    ]
    assert result.exit_code == 0
    named = cli(tmp_path, monkeypatch, "repo/specs/more/net.yaml")
    assert linted(named) == ["repo/specs/more/net.yaml"]
    assert named.exit_code == 1


def test_linked_root_is_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path, {"real/net.yaml": GROUPS})
    (tmp_path / "link").symlink_to(tmp_path / "real")
    result = cli(tmp_path, monkeypatch, "link")
    assert linted(result) == ["link/net.yaml"]
    assert result.stderr == ""


def test_control_characters_in_note_paths_are_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree(tmp_path, {"specs/a.yaml": CLEAN, "specs/x\n::error::y.yaml": WORKFLOW})
    result = cli(tmp_path, monkeypatch, "specs")
    assert result.stderr.splitlines() == [
        "convcalc lint: note: skipped specs/x\\n::error::y.yaml: no top-level 'layers' key, so not a spec"
    ]


# a model of the walk, on random trees

NAMES = st.sampled_from(["a", "b", ".h", "node_modules", "__pycache__", "venv", "x.yaml", "y.yml", ".z.yaml"])
TREES = st.lists(st.lists(NAMES, min_size=1, max_size=4).map(tuple), max_size=12)


@settings(max_examples=25, deadline=None)
@given(TREES)
def test_walk_matches_a_model(paths: list[tuple[str, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files: set[tuple[str, ...]] = set()
        for parts in paths:
            *dirs, name = parts
            where = root.joinpath(*dirs)
            if any(root.joinpath(*parts[:i]).is_file() for i in range(1, len(parts))):
                continue
            if (where / name).is_dir():
                continue
            where.mkdir(parents=True, exist_ok=True)
            (where / name).write_text(CLEAN)
            files.add(parts)
        venvs = {d for d in {p[:i] for p in files for i in range(1, len(p))} if d[-1] == "venv"}
        for d in venvs:
            (root.joinpath(*d) / "pyvenv.cfg").write_text("home = /usr/bin\n")

        def kept(parts: tuple[str, ...]) -> bool:
            *dirs, name = parts
            if name.startswith(".") or not name.endswith((".yaml", ".yml")):
                return False
            return not any(
                d.startswith(".") or d in ("node_modules", "__pycache__") or d == "venv" for d in dirs
            )

        expected = sorted(root.joinpath(*p) for p in files if kept(p))
        found = walk([tmp])
        assert [t.path for t in found.targets] == [str(p) for p in expected]
        assert found.notes == found.unreadable == ()


@pytest.mark.parametrize("fmt", ["json", "github", "sarif"])
def test_vanished_file_in_every_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    tree(tmp_path, {"specs/a.yaml": CLEAN, "specs/b.yaml": CLEAN})

    def vanishing(paths: list[str], **kwargs: object) -> walk_module.Walk:
        found = walk(paths, **kwargs)  # type: ignore[arg-type]
        (tmp_path / "specs" / "b.yaml").unlink()
        return found

    monkeypatch.setattr("convcalc.lint.walk", vanishing)
    result = cli(tmp_path, monkeypatch, "specs", "--format", fmt)
    assert result.exit_code == 2
    if fmt == "json":
        [finding] = json.loads(result.stdout)["findings"]
        assert (finding["file"], finding["line"], finding["code"]) == ("specs/b.yaml", 1, "spec-unreadable")
    elif fmt == "github":
        assert result.stdout.splitlines()[0] == (
            "::error file=specs/b.yaml,line=1,col=1,title=spec-unreadable::the file vanished during the walk"
        )
    else:
        [run] = json.loads(result.stdout)["runs"]
        assert [r["ruleId"] for r in run["results"]] == ["spec-unreadable"]
        assert "spec-unreadable" in [r["id"] for r in run["tool"]["driver"]["rules"]]
