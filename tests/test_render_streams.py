"""The streams: a closed pipe keeps the exit code, a full disk is one line and exit 2, and a stdout that
cannot write Unicode gets ASCII (issue 11, items 9 and 27)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
BAD = "tests/data/invalid/typo.yaml"
GOOD = "specs/vgg16.yaml"


def closed_pipe(*args: str, stderr_open: bool = False) -> subprocess.CompletedProcess[bytes]:
    """Run convcalc writing into a pipe nobody reads (as `2>&1 | head` once head has gone)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "convcalc", *args],
            stdin=subprocess.DEVNULL,
            stdout=write,
            stderr=subprocess.PIPE if stderr_open else write,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["run", BAD, GOOD], 2),
    ],
)
def test_a_closed_pipe_keeps_the_exit_code(args: list[str], code: int) -> None:
    done = closed_pipe(*args)
    assert done.returncode == code


def test_a_closed_stdout_still_reports_on_stderr() -> None:
    done = closed_pipe("run", GOOD, BAD, stderr_open=True)
    assert done.returncode == 2
    assert done.stderr.decode().startswith(BAD + ":")
    assert b"Traceback" not in done.stderr
    assert done.stderr.count(b"\n") == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["run", GOOD]])
def test_a_full_disk_is_one_line_and_exit_2(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "convcalc", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.decode() == "convcalc: error: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("encoding", ["cp1252", "ascii", "latin-1"])
def test_a_stdout_without_unicode_gets_ascii_rules(encoding: str, tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        json.dumps(
            {
                "name": "卷积网络",
                "input": "8x8x1",
                "layers": [{"type": "conv", "name": "é…", "size": 3, "filters": 2}],
            }
        ),
        encoding="utf-8",
    )
    result = CliRunner(charset=encoding).invoke(main, ["run", str(spec), "--check"], env={"COLUMNS": None})
    assert result.exit_code == 0, result.output
    result.stdout_bytes.decode(encoding)
    lines = result.stdout.splitlines()
    assert lines[0] == "\\u5377\\u79ef\\u7f51\\u7edc"
    assert set(lines[3].strip()) == {"-"}
    assert lines[4].split()[1] == "é…".encode(encoding, "backslashreplace").decode(encoding)
    assert lines[4].split()[-1] == "ok"


def test_layer_check_mark_in_ascii() -> None:
    result = CliRunner(charset="ascii").invoke(
        main, ["layer", "--in", "8x8x1", "--filter", "3", "-k", "2", "--check"], env={"COLUMNS": None}
    )
    assert result.exit_code == 0
    assert "ran it with numpy: 6x6x2 ok" in result.stdout
