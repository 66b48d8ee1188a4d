"""The terminal and the streams: the width to fit, the glyphs the encoding can show, and writes that
neither crash nor change the exit code when a pipe closes."""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from .values import frozen


@frozen
class Glyphs:
    """The few non-ASCII characters the table uses, or their ASCII stand-ins."""

    rule: str = "─"
    ellipsis: str = "…"
    ok: str = "✓"
    bad: str = "✗"


UNICODE = Glyphs()
ASCII = Glyphs(rule="-", ellipsis="~", ok="ok", bad="mismatch")


def glyphs(out: TextIO) -> Glyphs:
    """Unicode when the stream's encoding can write it (UTF-8), else ASCII (cp1252, Latin-1, ASCII)."""
    try:
        "─…✓✗".encode(getattr(out, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return ASCII
    return UNICODE


def _columns_variable() -> int | None:
    text = os.environ.get("COLUMNS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _terminal(stream: TextIO) -> int | None:
    try:
        if not stream.isatty():
            return None
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return None


def _piped(stream: TextIO) -> bool:
    """Whether the stream is a pipe (to `less`, `cat`, `head`), not a file."""
    try:
        return stat.S_ISFIFO(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def width(out: TextIO) -> int | None:
    """The width to fit: COLUMNS when set to a positive number, else the terminal's: of `out`, or of
    stderr when `out` is a pipe to a pager; else None: no limit for files and CI logs."""
    if (columns := _columns_variable() or _terminal(out)) is not None:
        return columns
    return _terminal(sys.stderr) if out is not sys.stderr and _piped(out) else None


def colour(out: TextIO) -> bool:
    """Whether to colour: a terminal, without NO_COLOR or TERM=dumb."""
    return _terminal(out) is not None and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def prepare() -> None:
    """Characters the streams cannot encode are written as backslash escapes, never a traceback."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _silence(stream: TextIO) -> None:
    """Point a stream whose reader has gone at /dev/null, so later writes and the final flush pass."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


class WriteFailed(Exception):
    """The output could not be written (a full disk, an I/O error): one line, exit 2."""


@contextmanager
def guarded() -> Iterator[None]:
    """Write inside: a closed pipe (`| head`) silences that stream and the command goes on to its own
    exit code; any other failure to write raises WriteFailed."""
    try:
        yield
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except BrokenPipeError:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                _silence(stream)
    except OSError as e:
        _silence(sys.stdout)
        raise WriteFailed(f"cannot write the output: {e.strerror or e}") from None
