"""convcalc: convolutional-network layer arithmetic, exactly as PyTorch does it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ConvcalcError, SpecError

if TYPE_CHECKING:
    from .api import OptionError, analyze

__version__ = "0.1.0"
__all__ = ["ConvcalcError", "OptionError", "SpecError", "__version__", "analyze"]


def __getattr__(name: str) -> object:
    """The library API, imported on first use: the command line never needs it."""
    if name in ("OptionError", "analyze"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """What the package offers, lazy names included."""
    return sorted({*globals(), *__all__})
