"""The layer kinds: one module per kind, found by the spec's `type:` name and imported when first used."""

from __future__ import annotations

import enum
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model import Layer, Margins, Refusal, Resolved
    from .types import LayerKind


class Kind(enum.Enum):
    """The registry: the layer kinds a spec may use, each the name of its module under convcalc.kinds."""

    # Members are singletons compared by identity: hash them as such, not by name in Python code
    # (Enum's own __hash__ is a Python call, and deep stacks look kinds up in dicts and sets).
    __hash__ = object.__hash__

    CONV = "conv"
    DECONV = "deconv"
    POOL = "pool"
    GLOBAL_POOL = "global_pool"
    FC = "fc"
    FLATTEN = "flatten"
    BN = "bn"
    ACT = "act"
    DROPOUT = "dropout"
    IDENTITY = "identity"
    LAYER_NORM = "layer_norm"
    GROUP_NORM = "group_norm"
    INSTANCE_NORM = "instance_norm"
    PRELU = "prelu"
    SCALE = "scale"
    UPSAMPLE = "upsample"
    PIXEL_SHUFFLE = "pixel_shuffle"
    PIXEL_UNSHUFFLE = "pixel_unshuffle"
    RESHAPE = "reshape"
    PAD = "pad"
    CROP = "crop"
    CROP_TO = "crop_to"
    CHANNEL_SHUFFLE = "channel_shuffle"
    LRN = "lrn"
    ADD = "add"
    MUL = "mul"
    MAX = "max"
    CONCAT = "concat"
    SPLIT = "split"


MODULES: dict[Kind, str] = {k: k.value for k in Kind}
"""Each kind's module under convcalc.kinds: the one named as the kind."""

NAMES = tuple(k.value for k in MODULES)
"""The spec's `type:` names, in the registry's order (the order `layer --type` offers them)."""

PARTS = (
    "KIND",
    "KEYS",
    "REQUIRED",
    "HELD",
    "ELEMENTWISE",
    "MERGE",
    "read",
    "resolve",
    "field",
    "margins",
    "size_lines",
    "params_line",
    "macs_line",
    "type_cell",
    "window_cell",
    "json_fields",
    "refusals",
    "runnable",
    "scratch",
    "shares_input",
    "forward",
)
"""What every kind module defines: the members of `types.LayerKind`."""

_LOADED: dict[Kind, LayerKind] = {}


class MissingPart(TypeError):
    """A registered kind module lacks a part of the protocol: a programming error, caught by the tests."""


def load(module: str, kind: Kind) -> LayerKind:
    """Import a kind's module and check that it defines every part, for the kind it is registered as."""
    mod = importlib.import_module(f"{__name__}.{module}")
    missing = [part for part in PARTS if not hasattr(mod, part)]
    if missing:
        raise MissingPart(f"kind module {module!r} lacks {', '.join(missing)}")
    if mod.KIND is not kind:
        raise MissingPart(f"kind module {module!r} is registered as {kind.value} but says {mod.KIND.value}")
    return mod  # checked above; mypy checks each module against the protocol in types.py


def get(kind: Kind) -> LayerKind:
    """The module of a kind, imported the first time it is asked for."""
    found = _LOADED.get(kind)
    if found is None:
        found = _LOADED[kind] = load(MODULES[kind], kind)
    return found


def of(layer: Layer) -> LayerKind:
    """The module of a layer's kind."""
    return get(layer.kind)


# The parts most kinds share; a kind module imports them as its own (`from . import macs_line as macs_line`):
# no formula for a kept shape, no arithmetic, no window, no extra JSON fields, nothing PyTorch refuses,
# no temporaries.


def margins(r: Resolved, before: Margins) -> Margins:
    """A kind that keeps every position in place (elementwise) keeps the padding rows; others lose track."""
    return before if of(r.layer).ELEMENTWISE else None


def size_lines(r: Resolved) -> list[str]:
    """The shape is kept (or the output is its own formula): no output-size line."""
    return []


def macs_line(r: Resolved) -> str:
    """No multiply-accumulates."""
    return "0"


def type_cell(r: Resolved) -> str:
    """The spec's type name."""
    return r.layer.kind.value


def window_cell(r: Resolved) -> str:
    """No window to show."""
    return ""


def json_fields(r: Resolved) -> dict[str, Any]:
    """Nothing beyond the common fields."""
    return {}


def refusals(r: Resolved) -> tuple[Refusal, ...]:
    """Nothing PyTorch refuses of the layer on any input it resolved on."""
    return ()


def channel_groups(channels: int, groups: int) -> tuple[Refusal, ...]:
    """Not a part: what channel_shuffle and group_norm refuse, groups that do not divide the channels,
    with the nearest groups that do."""
    if channels % groups == 0:
        return ()
    from .. import factor
    from ..model import Code, Refusal

    message = f"groups {groups} must divide the channels ({channels}); PyTorch refuses it"
    fixes = tuple(f"groups {d}" for d in factor.near_divisors(channels, groups))
    return (Refusal(Code.GROUPS_MISMATCH, message, "groups", fixes),)


def runnable(r: Resolved, channels: int) -> bool:
    """PyTorch takes any input this layer resolved on."""
    return True


def scratch(r: Resolved) -> int:
    """No temporaries."""
    return 0


def shares_input(r: Resolved) -> bool:
    """The output is a new array."""
    return False
