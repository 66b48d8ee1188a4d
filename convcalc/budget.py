"""A spec's `budget:`: amounts like 30M or 200MiB, and the over-budget findings of a resolved network."""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction

from . import formulas as fm
from .model import Code, Finding, Network, Severity

COUNTS: dict[str, int] = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}
"""Count suffixes (any case): powers of 1000."""
BYTES: dict[str, int] = {
    "": 1,
    "b": 1,
    **{f"{p}ib": 1024 ** (i + 1) for i, p in enumerate("kmgt")},
    **{f"{p}b": 1000 ** (i + 1) for i, p in enumerate("kmgt")},
}
"""Byte suffixes (any case): KiB, MiB, GiB, TiB are powers of 1024, KB, MB, GB, TB of 1000."""

METRICS: dict[str, tuple[bool, Callable[[Network], int]]] = {
    "params": (False, lambda n: n.params),
    "macs": (False, lambda n: n.macs),
    "activations": (False, lambda n: n.batch_activations),
    "activation_memory": (True, lambda n: n.activation_bytes),
    "peak_memory": (True, lambda n: n.peak()[0] * n.sizing.batch * n.sizing.dtype.bytes),
    "training_memory": (True, lambda n: n.training_bytes),
}
"""Each total a budget may bound: whether it is in bytes, and how a network gives it (bytes and
activations follow the sizing: element type, batch and optimizer; lint's are float32, batch 1, adam)."""

_AMOUNT = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?([A-Za-z]*)")


def _quoted(value: object) -> str:
    """A value as a message quotes it, cut to 60 characters."""
    text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return text if len(text) <= 60 else f"{text[:45]}...{text[-10:]}"


def is_bytes(metric: str) -> bool:
    """Whether the metric is a memory, in bytes."""
    return METRICS[metric][0]


def amount(value: object, *, metric: str) -> int:
    """The number a budget or threshold value means for `metric`: 30M, 1.5G, 200MiB, 64MB or a plain
    integer; ValueError with the reason otherwise."""
    memory = is_bytes(metric)
    expected = (
        "bytes like 200MiB, 1.5GiB, 64MB or an integer"
        if memory
        else "a count like 30M, 5G, 1.5K or an integer"
    )
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{metric} must be {expected}, got {_quoted(value)}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{metric} must not be negative, got {value}")
        return value
    match = _AMOUNT.fullmatch(value)
    units = BYTES if memory else COUNTS
    if match is None or match[2].lower() not in units:
        hint = ""
        if match is not None and memory and match[2].lower() in COUNTS:
            n, unit = match[1], match[2].upper()
            hint = f" (write {n}{unit}iB or {n}{unit}B: bytes need a unit)"
        elif match is not None and not memory and match[2].lower() in BYTES:
            hint = f" ({metric} is a count: K, M, G, T)"
        raise ValueError(f"{metric} must be {expected}, got {_quoted(value)}{hint}")
    number = Fraction(match[1]) * units[match[2].lower()]
    if number.denominator != 1:
        raise ValueError(
            f"{metric} {_quoted(value)} is not a whole number of {'bytes' if memory else 'units'}"
        )
    return int(number)


def shown(metric: str, n: int) -> str:
    """A total as messages write it: 31,234,567, or 210,763,776 bytes (201.0 MiB)."""
    if is_bytes(metric):
        return f"{fm.number(n)} bytes ({fm.size(n)})" if n >= 1024 else f"{fm.number(n)} bytes"
    return fm.number(n)


def over(net: Network) -> tuple[Finding, ...]:
    """An over-budget error for each limit of the spec's budget that the network exceeds."""
    found = []
    for limit in net.spec.budget:
        actual = METRICS[limit.metric][1](net)
        if actual <= limit.value:
            continue
        excess = actual - limit.value
        share = f" ({100 * excess / limit.value:.1f}%)" if limit.value else ""
        excess_text = fm.number(excess) + (" bytes" if is_bytes(limit.metric) else "")
        total = f"{limit.metric} {shown(limit.metric, actual)}"
        message = f"{total} is {excess_text}{share} over the budget of {limit.text}"
        s = net.sizing
        if limit.metric == "activations":
            message += f" (batch {s.batch})"
        elif is_bytes(limit.metric):
            optimizer = f", {s.optimizer.value}" if limit.metric == "training_memory" else ""
            message += f" ({s.dtype.value}, batch {s.batch}{optimizer})"
        found.append(
            Finding(
                Severity.ERROR,
                Code.OVER_BUDGET,
                message,
                file=net.spec.file,
                line=limit.line,
                column=limit.column,
            )
        )
    return tuple(found)
