"""What the merge kinds (add, mul, concat) share: how they name their inputs and axes, and their arity."""

from __future__ import annotations

from .. import formulas as fm
from ..errors import SpecError
from ..model import Layer, Shape


def named(sources: tuple[str, ...], i: int) -> str:
    """The i-th input (from 0) as the spec wrote it in `from:`, else input 1, input 2."""
    return sources[i] if i < len(sources) else f"input {i + 1}"


def described(sources: tuple[str, ...], i: int, shape: Shape) -> str:
    """layer3.0.conv3 (56x56x256), or input 2 (56x56x256)."""
    return f"{named(sources, i)} ({shape})"


def axis_words(ndim: int) -> tuple[str, ...]:
    """The spatial axes' names in the plural, as convcalc writes them: rows, columns (frames, positions)."""
    return tuple(f"{name}s" for name in fm.AXIS_NAMES[ndim]) if ndim else ()


def listed(words: list[str]) -> str:
    """rows, columns and channels."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def differing(a: Shape, b: Shape) -> list[str]:
    """The axes (rows, columns, channels) on which two shapes of the same rank differ."""
    words = [w for w, x, y in zip(axis_words(len(a.spatial)), a.spatial, b.spatial, strict=True) if x != y]
    return words + (["channels"] if a.channels != b.channels else [])


def ranks(sources: tuple[str, ...], j: int, shape: Shape, first: Shape) -> str:
    """input 2 (64) is flat but input 1 (56x56x64) has 2 spatial axes."""

    def rank(s: Shape) -> str:
        n = len(s.spatial)
        return "is flat" if not n else "has 1 spatial axis" if n == 1 else f"has {n} spatial axes"

    return f"{described(sources, j, shape)} {rank(shape)} but {described(sources, 0, first)} {rank(first)}"


def arity(layer: Layer, kind: str, inputs: tuple[Shape, ...], file: str | None) -> None:
    """A located error unless a merge has at least 2 inputs."""
    if len(inputs) < 2:
        line, column = layer.where.of("from")
        raise SpecError(
            f"{layer.name}: {kind} needs at least 2 inputs, got {len(inputs)}",
            file=file,
            line=line,
            column=column,
        )


def shapes_line(shapes: tuple[Shape, ...], sign: str, out: Shape) -> str:
    """56x56x256 + 56x56x256 -> 56x56x256."""
    return f" {sign} ".join(map(str, shapes)) + f" -> {out}"


def call(kind: str, sources: tuple[str, ...]) -> str:
    """A merge's table type: add(conv3, downsample), or the kind alone when the inputs are not named."""
    return f"{kind}({', '.join(sources)})" if sources else kind
