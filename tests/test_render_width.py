"""Tables fit the terminal: piped (COLUMNS) and in a pseudo-terminal, headers never split inside a word,
names folded at `.`/`_` or elided, findings wrapped at spaces (issue 11, items 6 and 27)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.loader import read
from convcalc.present import COLUMN_SET
from convcalc.resolver import resolve
from convcalc.write import table

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
WIDTHS = (60, 80, 100, 160)
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _header_words() -> set[str]:
    """Every word of a column title, and its halves where a title may break (after `/` or `-`)."""
    words = {"check"}
    for column in COLUMN_SET.values():
        for word in column.title.split():
            words.add(word)
            words.update(p for i, c in enumerate(word) if c in "/-" for p in (word[: i + 1], word[i + 1 :]))
    return words


HEADER_WORDS = _header_words()


def check_fits(text: str, width: int) -> None:
    """No line wider than `width`, and every table header made of whole title words."""
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, [line for line in lines if len(line) > width]
    rules = [i for i, line in enumerate(lines) if line.strip() and set(line.strip()) <= {"─", "-"}]
    assert rules
    for i in rules:
        head = []
        while i > 0 and lines[i - 1].strip():
            i -= 1
            head.extend(lines[i].split())
        assert head
        assert set(head) <= HEADER_WORDS, set(head) - HEADER_WORDS


def run_piped(path: Path, width: int, *args: str) -> str:
    result = CliRunner().invoke(main, ["run", str(path), *args], env={"COLUMNS": str(width), "NO_COLOR": "1"})
    assert result.exit_code in (0, 1), result.output
    return result.stdout


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_every_spec_fits_when_piped(path: Path, width: int) -> None:
    check_fits(run_piped(path, width), width)


def in_pty(write: Callable[[TextIO], None], columns: int) -> str:
    """What `write` puts on a pseudo-terminal `columns` wide (no CR added), read from its other end."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the terminal's last writer has gone
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    with open(slave, "w", encoding="utf-8") as out:
        write(out)
    reader.join(timeout=20)
    os.close(master)
    return b"".join(chunks).decode("utf-8")


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A colour terminal whose width only the terminal knows."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")


@pytest.mark.usefixtures("terminal_env")
@pytest.mark.parametrize("width", WIDTHS)
def test_every_spec_fits_a_pseudo_terminal(width: int) -> None:
    nets = [resolve(read(p)) for p in SPECS]
    for net in nets:
        shown = in_pty(lambda out, net=net: table([net], out), width)  # type: ignore[misc]
        assert "\x1b[" in shown  # a terminal: coloured
        check_fits(SGR.sub("", shown), width)


def cli_in_pty(args: list[str], columns: int, env: dict[str, str]) -> tuple[int, str]:
    """The real command in a pseudo-terminal: its exit code and what the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    process = subprocess.Popen(
        [sys.executable, "-m", "convcalc", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env={**environ, "TERM": "xterm", **env},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return process.wait(timeout=30), SGR.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")


def test_the_command_fits_its_terminal() -> None:
    code, shown = cli_in_pty(["run", "--notes", "specs/mobilenet_v1.yaml", "specs/alexnet.yaml"], 60, {})
    assert code == 0
    check_fits(shown, 60)
    assert "info[fractional-size]" in shown


def test_columns_0_on_a_terminal_still_prints_the_findings() -> None:
    code, shown = cli_in_pty(["run", "tests/data/misfit.yaml"], 70, {"COLUMNS": "0"})
    assert code == 1
    check_fits(shown, 70)
    assert "error[fractional-size]" in shown
    assert "    fix: " in shown


def test_columns_is_honoured_when_piped() -> None:
    assert max(len(line) for line in run_piped(ROOT / "specs" / "alexnet.yaml", 80).splitlines()) <= 80
    wide = run_piped(ROOT / "specs" / "alexnet.yaml", 400)
    assert "FC-equivalent" in wide
    assert "not shown" not in wide


def test_without_columns_or_a_terminal_nothing_is_cut() -> None:
    result = CliRunner().invoke(main, ["run", "tests/data/misfit.yaml"], env={"COLUMNS": None})
    findings = [line for line in result.stdout.splitlines() if "[fractional-size]" in line]
    assert len(findings) == 1
    assert findings[0].endswith("drops 1 input row and 1 input column")


def test_headers_take_two_lines_before_columns_go() -> None:
    shown = run_piped(ROOT / "specs" / "dilated.yaml", 100)
    head = shown.splitlines()[2:4]
    assert head[0].split() == ["filter/"]
    assert head[1].split()[:4] == ["#", "name", "type", "stride/pad"]
    assert "not shown" not in shown


def test_type_outlives_filter_stride_pad() -> None:
    shown = run_piped(ROOT / "specs" / "alexnet.yaml", 70)
    header = shown.splitlines()[2].split()
    assert "type" in header
    assert not {"filter/stride/pad", "filter/", "stride/pad"} & set(header)
    assert "max pool" in shown
    assert "(not shown to fit 70 columns: FC-equivalent, input, filter/stride/pad;" in shown


LONG = [
    "features.denseblock4.denselayer16.conv2",
    "transformer_encoder_layer_11_attention_output",
    "averyveryveryverylongnamewithoutanybreakatallpleasefoldme",
]


def test_names_fold_at_dots_and_underscores_or_are_elided(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    layers = [{"type": "act", "name": n} for n in LONG]
    path.write_text(json.dumps({"input": "8x8x3", "layers": layers}), encoding="utf-8")
    shown = run_piped(path, 40)
    check_fits(shown, 40)
    lines = shown.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"}) + 1
    cells = [line.split()[0] for line in lines[start : lines.index("", start)]]
    assert cells[:6] == [
        "features.",
        "denseblock4.",
        "denselayer16.conv2",
        "transformer_",
        "encoder_layer_11_",
        "attention_output",
    ]
    elided = cells[-1]
    assert "…" in elided
    head, tail = elided.split("…")
    assert LONG[2].startswith(head)
    assert LONG[2].endswith(tail)
    assert len(head) >= 5
    assert len(tail) >= 5


def test_findings_wrap_at_spaces_with_the_continuation_indented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    path = Path("specs/alexnet.yaml")
    wide = [
        line
        for line in run_piped(path, 1000, "--notes").splitlines()
        if "fractional-size" in line or "fix:" in line
    ]
    narrow = run_piped(path, 60, "--notes").splitlines()
    block = narrow[next(i for i, line in enumerate(narrow) if "fractional-size" in line) :]
    assert block[0].startswith("specs/alexnet.yaml:8:5: info[fractional-size] conv1: ")
    assert all(line.startswith("    ") for line in block[1:])
    assert all(len(line) <= 60 for line in block)
    assert " ".join(block).split() == " ".join(wide).split()  # no word broken
    fix = next(i for i, line in enumerate(block) if line.startswith("    fix: "))
    assert fix > 1
    assert all(line.startswith(" " * 9) for line in block[fix + 1 :])
    assert len(block) > fix + 1


def test_the_layer_sheet_fits_too() -> None:
    args = ["layer", "--in", "7x7x1", "--filter", "3", "--stride", "3", "-k", "2", "--explain"]
    narrow = CliRunner().invoke(main, args, env={"COLUMNS": "60"}).stdout.splitlines()
    wide = CliRunner().invoke(main, args).stdout.splitlines()
    assert max(len(line) for line in narrow) <= 60 < max(len(line) for line in wide)
    assert " ".join(narrow).split() == " ".join(wide).split()
    assert "                   connected" in narrow
    assert "         2x2 or input 9x9x1 -> 3x3" in narrow


def test_piped_to_a_pager_it_fits_the_terminal_but_a_file_gets_everything(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 70, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    command = [sys.executable, "-m", "convcalc", "run", "specs/alexnet.yaml"]
    try:
        piped = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=slave, cwd=ROOT, env=environ, check=True
        )
        with open(tmp_path / "out.txt", "w") as file:
            subprocess.run(command, stdout=file, stderr=slave, cwd=ROOT, env=environ, check=True)
    finally:
        os.close(slave)
        os.close(master)
    check_fits(piped.stdout.decode(), 70)
    written = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "not shown" not in written
    assert "FC-equivalent" in written
    assert max(len(line) for line in written.splitlines()) > 100
