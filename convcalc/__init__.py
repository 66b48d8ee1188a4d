"""convcalc: convolutional-network layer arithmetic, exactly as PyTorch does it."""

from __future__ import annotations

from .api import OptionError, analyze
from .errors import ConvcalcError, SpecError

__version__ = "0.1.0"
__all__ = ["ConvcalcError", "OptionError", "SpecError", "__version__", "analyze"]
