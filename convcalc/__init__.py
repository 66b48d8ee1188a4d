"""convcalc: convolutional-network layer arithmetic, exactly as PyTorch does it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ConvcalcError, SpecError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__version__ = "0.1.0"
__all__ = ["ConvcalcError", "SpecError", "__version__", "analyze"]


def analyze(spec: str | Path | Mapping[str, Any], *, input: tuple[int, ...] | None = None) -> dict[str, Any]:
    """Resolve a spec (a .yaml path, YAML text or a dict) into convcalc's JSON structure."""
    from .loader import load
    from .report import to_json
    from .resolver import resolve

    return to_json(resolve(load(spec), input=input))
