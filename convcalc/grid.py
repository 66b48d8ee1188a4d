"""A plain-text table that fits a width: two-line headers broken between words, names folded at `.`/`_`
or elided in the middle, other text folded at spaces; and word-wrapped paragraphs."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

from .values import frozen

GAP = 3
"""Spaces between columns (and two before the first): the look of rich's SIMPLE_HEAD box."""


class Fold(enum.Enum):
    """How a column's cells may be split over lines."""

    NEVER = "never"
    WORDS = "words"
    NAME = "name"


@frozen
class Column:
    """A column to lay out: its title, its cells (body rows, then the totals row) and how they fold."""

    title: str
    cells: tuple[str, ...]
    right: bool = False
    fold: Fold = Fold.NEVER


_HEAD_BREAK = re.compile(r"(?<=[/-])|(?= )")


def title_lines(title: str, width: int) -> list[str]:
    """The title on one line, or on two broken after a `/` or `-` or at a space, never inside a word."""
    if len(title) <= width:
        return [title]
    best: list[str] = [title]
    for m in _HEAD_BREAK.finditer(title):
        first, second = title[: m.start()].rstrip(), title[m.start() :].strip()
        if first and second and max(len(first), len(second)) <= max(len(s) for s in best):
            best = [first, second]
    return best


def title_min(title: str) -> int:
    """The narrowest width a title can take in at most two lines."""
    return max(len(s) for s in title_lines(title, 0))


def _pieces(cell: str, fold: Fold) -> list[str]:
    if fold is Fold.NAME:
        return [p for p in re.split(r"(?<=[._])", cell) if p]
    if fold is Fold.WORDS:
        return cell.split(" ")
    return [cell]


def cell_min(cell: str, fold: Fold) -> int:
    """The narrowest width a cell can take without breaking a word (names may always be elided)."""
    if fold is Fold.NAME:
        return min(len(cell), 5)
    return max((len(p) for p in _pieces(cell, fold)), default=0)


def elide(text: str, width: int, ellipsis: str = "…") -> str:
    """The text cut in the middle to `width`, keeping both ends: conv_block_…_3x3."""
    if len(text) <= width:
        return text
    if width <= len(ellipsis):
        return text[:width]
    keep = width - len(ellipsis)
    return text[: (keep + 1) // 2] + ellipsis + text[len(text) - keep // 2 :]


def fold(cell: str, width: int, how: Fold, *, ellipsis: str = "…", most: int = 3) -> list[str]:
    """A cell as lines no wider than `width`: joined pieces per line; a name that needs more than
    `most` lines or has a piece too long is elided in the middle instead."""
    if len(cell) <= width or how is Fold.NEVER:
        return [cell]
    lines: list[str] = []
    joiner = " " if how is Fold.WORDS else ""
    for piece in _pieces(cell, how):
        if lines and len(lines[-1]) + len(joiner) + len(piece) <= width:
            lines[-1] += joiner + piece
        else:
            lines.append(piece)
    if how is Fold.NAME and (len(lines) > most or any(len(line) > width for line in lines)):
        return [elide(cell, width, ellipsis)]
    return lines


def natural(col: Column) -> int:
    """The width a column takes when nothing folds."""
    return max(len(col.title), *(len(c) for c in col.cells))


def compact(col: Column) -> int:
    """The width a column takes with its title on two lines if need be, cells unfolded."""
    return max(title_min(col.title), *(len(c) for c in col.cells))


def narrowest(col: Column) -> int:
    """The least width a column can take: two-line title, cells folded as they allow."""
    return max(title_min(col.title), *(cell_min(c, col.fold) for c in col.cells))


def span(widths: Sequence[int]) -> int:
    """The width of a table whose columns have these widths, rule included."""
    return sum(widths) + GAP * len(widths)


def widths(cols: Sequence[Column], width: int | None) -> list[int]:
    """Each column's width: natural if the table fits, else titles on two lines (the biggest saving
    first), else folding columns narrowed (names last) down to what they allow."""
    sizes = [natural(c) for c in cols]
    if width is None:
        return sizes
    for i in sorted(range(len(cols)), key=lambda i: compact(cols[i]) - natural(cols[i])):
        if span(sizes) <= width:
            return sizes
        sizes[i] = compact(cols[i])
    for i in sorted(range(len(cols)), key=lambda i: cols[i].fold is Fold.NAME):
        over = span(sizes) - width
        if over > 0 and cols[i].fold is not Fold.NEVER:
            sizes[i] = max(narrowest(cols[i]), sizes[i] - over)
    return sizes


def render(
    cols: Sequence[Column], width: int | None, *, rule: str = "─", ellipsis: str = "…"
) -> list[tuple[str, int]]:
    """The table's lines, each with the index of the row it belongs to (-1 header, len(rows) totals)."""
    sizes = widths(cols, width)
    heads = [title_lines(c.title, w) for c, w in zip(cols, sizes, strict=True)]
    depth = max(len(h) for h in heads)
    heads = [[""] * (depth - len(h)) + h for h in heads]

    def line(parts: Sequence[str]) -> str:
        cells = [p.rjust(w) if c.right else p.ljust(w) for p, c, w in zip(parts, cols, sizes, strict=True)]
        return ("  " + (" " * GAP).join(cells)).rstrip()

    out = [(line([h[k] for h in heads]), -1) for k in range(depth)]
    out.append((" " + rule * (span(sizes) - 1), -1))
    count = len(cols[0].cells)
    for row in range(count):
        if row == count - 1:
            out.append(("", row))
        folded = [fold(c.cells[row], w, c.fold, ellipsis=ellipsis) for c, w in zip(cols, sizes, strict=True)]
        for k in range(max(len(f) for f in folded)):
            out.append((line([f[k] if k < len(f) else "" for f in folded]), row))
    return out


def wrap(text: str, width: int | None, indent: int = 4) -> list[str]:
    """A paragraph broken at spaces to `width`, continuation lines indented; words longer than a line
    are cut, since nothing else fits."""
    if width is None or len(text) <= width:
        return [text]
    import textwrap  # only for lines wider than a terminal: piped output is never wrapped

    lead = len(text) - len(text.lstrip(" "))
    return textwrap.wrap(
        text[lead:],
        width=width,
        initial_indent=" " * lead,
        subsequent_indent=" " * min(max(indent, lead), max(width // 2, 0)),
        break_on_hyphens=False,
        replace_whitespace=False,
        drop_whitespace=True,
    ) or [text]
