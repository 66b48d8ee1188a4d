"""The README's pre-commit and GitHub Actions snippets work as written, offline (issue 11, item 11).

Each test runs real tools in a temporary directory: pre-commit on the README's hook and on the
repository's `.pre-commit-hooks.yaml` (in a clone), and `python -m build`, `twine check` and a
fresh virtual environment on the package.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent
CLEAN = "input: 32x32x3\nlayers:\n  - {type: conv, filters: 6, size: 5}\n"
BAD = (ROOT / "tests/data/lint/groups.yaml").read_text()
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""}
"""Whatever pip is asked here must come from the disk."""


def snippet(heading: str) -> str:
    """The first yaml block after a README heading."""
    section = README[README.index(heading) :]
    m = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert m, heading
    return m[1]


def env(tmp_path: Path) -> dict[str, str]:
    """This environment's convcalc first on PATH, pre-commit's cache in tmp_path, pip offline."""
    return {
        **os.environ,
        **OFFLINE,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }


def sh(argv: list[str], cwd: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=300, check=False
    )


def project(tmp_path: Path, environ: dict[str, str]) -> Path:
    """A git repository holding one clean spec under specs/ and a workflow that is no spec."""
    proj = tmp_path / "proj"
    (proj / "specs").mkdir(parents=True)
    (proj / "specs" / "net.yaml").write_text(CLEAN)
    (proj / ".github" / "workflows").mkdir(parents=True)
    (proj / ".github" / "workflows" / "ci.yml").write_text("on: [push]\njobs: {}\n")
    assert sh(["git", "init", "-q"], proj, environ).returncode == 0
    return proj


def add_bad_spec(proj: Path, environ: dict[str, str]) -> None:
    (proj / "specs" / "bad.yaml").write_text(BAD)
    assert sh(["git", "add", "-A"], proj, environ).returncode == 0


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@needs_git
def test_readme_pre_commit_snippet_works_as_written(tmp_path: Path) -> None:
    environ = env(tmp_path)
    proj = project(tmp_path, environ)
    config = snippet("### pre-commit")
    assert "repo: local" in config
    (proj / ".pre-commit-config.yaml").write_text(config)
    assert sh(["git", "add", "-A"], proj, environ).returncode == 0
    run = [sys.executable, "-m", "pre_commit", "run", "--all-files"]
    done = sh(run, proj, environ)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^convcalc lint\.+Passed$", done.stdout, re.MULTILINE), done.stdout
    add_bad_spec(proj, environ)
    done = sh(run, proj, environ)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "specs/bad.yaml:3:70: error[groups-mismatch]" in done.stdout


@needs_git
def test_hook_manifest_passes_try_repo_on_a_clone(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    environ = env(tmp_path)
    clone = tmp_path / "clone"
    done = sh(["git", "clone", "-q", str(ROOT), str(clone)], tmp_path, environ)
    assert done.returncode == 0, done.stderr
    proj = project(tmp_path, environ)
    assert sh(["git", "add", "-A"], proj, environ).returncode == 0
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", str(clone), "convcalc-lint", "--all-files"]
    done = sh(try_repo, proj, environ)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^convcalc lint\.+Passed$", done.stdout, re.MULTILINE), done.stdout


def test_wheel_and_sdist_build_check_install_and_run(tmp_path: Path) -> None:
    """python -m build, twine check, then the README's workflow steps in a fresh virtual environment."""
    environ = {**os.environ, **OFFLINE}
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)]
    done = sh(build, tmp_path, environ)
    assert done.returncode == 0, done.stdout + done.stderr
    from convcalc import __version__

    wheel = dist / f"convcalc-{__version__}-py3-none-any.whl"
    sdist = dist / f"convcalc-{__version__}.tar.gz"
    assert sorted(dist.iterdir()) == [wheel, sdist]
    done = sh([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], tmp_path, environ)
    assert done.returncode == 0, done.stdout + done.stderr

    workflow = snippet("### GitHub Actions")
    install = re.search(r"- run: pip install (\S+)", workflow)
    assert install, workflow
    assert Path(install[1]).name == wheel.name
    lint = re.search(r"- run: (convcalc lint .*)", workflow)
    assert lint, workflow

    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)]
    done = sh(pip, tmp_path, environ)
    assert done.returncode == 0, done.stdout + done.stderr
    # Then click, rich... from this environment, without a download (after the install, so that pip
    # does not take this environment's own convcalc for the wheel's).
    here = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(purelib, "_test_deps.pth").write_text("\n".join(here) + "\n")

    site = sh([str(python), "-c", "import convcalc; print(convcalc.__file__)"], tmp_path, environ)
    assert site.stdout.startswith(str(fresh)), site.stdout + site.stderr
    work = tmp_path / "work"
    shutil.copytree(ROOT / "specs", work / "specs")
    done = sh([str(fresh / "bin" / lint[1].split()[0]), *lint[1].split()[1:]], work, environ)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("0 errors, 0 warnings")
    example = sh([str(fresh / "bin" / "convcalc"), "example"], work, environ)
    assert example.returncode == 0
    assert example.stdout == (ROOT / "convcalc" / "example.yaml").read_text()
    with zipfile.ZipFile(wheel) as z:
        assert z.read("convcalc/schema.json") == (ROOT / "convcalc" / "schema.json").read_bytes()
