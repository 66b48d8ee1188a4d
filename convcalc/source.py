"""A spec's text from a file or standard input: bounded in size, regular files and pipes only."""

from __future__ import annotations

import errno
import os
import stat
import sys
from typing import TYPE_CHECKING, BinaryIO

from .errors import SpecError
from .formulas import size

if TYPE_CHECKING:
    from pathlib import Path

MAX_SPEC_SIZE = 64 * 1024**2
"""The largest spec convcalc reads unless told otherwise (--max-spec-size): 64 MiB."""
STDIN = "<stdin>"

_CHUNK = 1024**2
_CLOSED = "standard input is closed; pipe a spec into it or name a file"


def _too_large(name: str, limit: int) -> SpecError:
    return SpecError(
        f"larger than {size(limit, exact=True)}, the limit for a spec (raise it with --max-spec-size)",
        file=name,
    )


def _capped(stream: BinaryIO, name: str, limit: int, size: int = 0) -> bytes:
    """At most `limit` bytes, refusing a stream that holds more (endless ones included).

    Read in chunks, the first one the file's `size`: reading `limit` bytes at once would allocate them.
    """
    chunks = []
    total = 0
    step = size + 1
    while chunk := stream.read(min(step, limit + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_large(name, limit)
        step = _CHUNK
    return b"".join(chunks)


def _decode(data: bytes, name: str) -> str:
    """UTF-8 text with universal newlines, as Python's text files read it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=name) from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _stdin(limit: int) -> str:
    """Standard input's text; a closed one is an error, not a traceback."""
    stream = sys.stdin
    if stream is None or stream.closed:
        raise SpecError(_CLOSED, file=STDIN)
    try:
        raw = getattr(stream, "buffer", None)
        if raw is not None:
            return _decode(_capped(raw, STDIN, limit), STDIN)
        text = stream.read(limit + 1)  # a text stream without bytes beneath (embedding, tests)
        if len(text) > limit:
            raise _too_large(STDIN, limit)
        return str(text)
    except OSError as e:
        if e.errno == errno.EBADF:
            raise SpecError(_CLOSED, file=STDIN) from None
        raise SpecError(f"cannot read: {e.strerror or e}", file=STDIN) from None
    except ValueError:  # closed under us: "I/O operation on closed file"
        raise SpecError(_CLOSED, file=STDIN) from None


def _what(mode: int) -> str:
    """What a file that is not a regular one or a pipe is."""
    for test, what in (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return what
    return "not a regular file"


def read_bytes(path: str | Path, *, limit: int = MAX_SPEC_SIZE) -> bytes:
    """The bytes of standard input ("-") or a file, for a binary format (ONNX)."""
    if str(path) != "-":
        with open(path, "rb") as stream:
            return _capped(stream, str(path), limit)
    stdin = sys.stdin
    raw = getattr(stdin, "buffer", None) if stdin is not None and not stdin.closed else None
    if raw is None:
        raise SpecError(_CLOSED, file=STDIN)
    return _capped(raw, STDIN, limit)


def read_text(path: str | Path, *, limit: int = MAX_SPEC_SIZE) -> tuple[str, str]:
    """The display name and text of a spec file, or of standard input for "-"."""
    if str(path) == "-":
        return STDIN, _stdin(limit)
    name = str(path)
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
                raise SpecError(f"is {_what(info.st_mode)}, not a spec file", file=name)
            if info.st_size > limit:
                raise _too_large(name, limit)
            data = _capped(stream, name, limit, info.st_size)
    except FileNotFoundError:
        raise SpecError("no such file", file=name) from None
    except IsADirectoryError:
        raise SpecError("is a directory, expected a spec file", file=name) from None
    except OSError as e:
        raise SpecError(f"cannot read: {e.strerror or e}", file=name) from None
    return name, _decode(data, name)
