"""The one format vocabulary: every --format value, and which ones each command offers."""

from __future__ import annotations

import enum
from typing import NoReturn


class Format(enum.Enum):
    """Every output format a command can write."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"
    TEXT = "text"
    GITHUB = "github"
    SARIF = "sarif"
    SVG = "svg"
    HTML = "html"


_REPORT = (Format.TABLE, Format.JSON, Format.MARKDOWN, Format.CSV)
_DRAWN = (*_REPORT, Format.SVG, Format.HTML)

OFFERED: dict[str, tuple[Format, ...]] = {
    "run": _DRAWN,
    "layer": _DRAWN,
    "solve": _REPORT,
    "diff": (Format.TABLE, Format.JSON, Format.MARKDOWN),
    "lint": (Format.TEXT, Format.JSON, Format.GITHUB, Format.SARIF),
    "fit": (Format.TEXT, Format.JSON),
}
"""Each command's --format choices, its default first."""


def unhandled(fmt: Format, writer: str) -> NoReturn:
    """Refuse a format a writer does not write, loudly rather than falling through to another."""
    raise ValueError(f"{writer} does not write {fmt.value!r}")
