"""`convcalc.analyze`: what `convcalc run --format json` prints, from Python, with run's options."""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ConvcalcError, SpecError
from .model import Dtype, Layout, Optimizer, Sizing
from .source import MAX_SPEC_SIZE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .conventions import Convention as Convention
    from .model import Spec

MAX_DEPTH = 100
"""Nesting levels a spec given as Python data may have (a spec needs four)."""
_MAX_SIZE = 2**63 - 1


class OptionError(ConvcalcError, ValueError):
    """An argument of `analyze` other than the spec is not one `convcalc run` would take."""


def _plain(value: object, depth: int = 0) -> Any:
    """Spec data as YAML would give it: any Integral an int, Real a float, Mapping a dict, tuple a list."""
    if depth > MAX_DEPTH:
        raise SpecError(f"the spec is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, bool | str) or value is None:
        return value
    if getattr(getattr(value, "dtype", None), "kind", None) == "b":  # numpy.bool_, not an Integral
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {_plain(k, depth + 1): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    return value


def _read(path: str, max_size: int, reader: str | None = None) -> Spec:
    """The spec file at `path`, read as `reader`'s format or by extension; a directory is refused by name."""
    from .loader import read

    if os.path.isdir(path):
        raise SpecError(
            "is a directory; analyze() takes one spec file (convcalc lint walks directories)", file=path
        )
    return read(path, max_size=max_size, reader=reader)


def load(spec: object, *, max_size: int = MAX_SPEC_SIZE, reader: str | None = None) -> Spec:
    """A spec from a path (str, pathlib.Path or any os.PathLike), YAML text, or a Mapping of Python data;
    a file larger than `max_size` bytes is refused; `reader` ('yaml', 'caffe') names the file's format."""
    from .build import build
    from .loader import parse

    if isinstance(spec, Mapping):
        return build(_plain(spec))
    if isinstance(spec, os.PathLike):
        return _read(os.fsdecode(spec), max_size, reader)
    if not isinstance(spec, str):
        raise SpecError(f"expected a path, YAML text or a dict, got {type(spec).__name__}")
    if "\n" not in spec and (spec.endswith((".yaml", ".yml")) or os.path.exists(spec)):
        return _read(spec, max_size, reader)
    if reader not in (None, "yaml"):
        from importlib import import_module

        module = import_module(f".readers.{reader}", __package__)
        if getattr(module, "BINARY", False):
            raise SpecError(f"{reader} is a binary format: give the model's path, not text")
        return module.parse(spec)  # type: ignore[no-any-return]
    return parse(spec)


def _shape(value: object) -> tuple[int, ...] | None:
    """`input` as the CLI takes it (28x28x1) or as numbers ((28, 28, 1), numpy integers too)."""
    from .build import parse_dims, show

    if value is None:
        return None
    data = _plain(value)
    try:
        return parse_dims(data)
    except ValueError as e:
        if "too large" in str(e):
            raise SpecError(f"the input {e}") from None
        raise SpecError(
            f"the input must be positive integers like '28x28x1' or (28, 28, 1), got {show(value)}"
        ) from None


def _integer(name: str, value: object, *, minimum: int) -> int:
    """An Integral (or its decimal string) from `minimum` to 2**63 - 1."""
    text = value.strip() if isinstance(value, str) else None
    if text is not None and text.isascii() and text.isdigit() and len(text) < 30:
        value = int(text)
    number = int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else None
    if number is None or not minimum <= number <= _MAX_SIZE:
        least = "a positive" if minimum == 1 else "a non-negative"
        raise OptionError(f"{name} must be {least} integer up to 2**63 - 1, got {value!r:.60}")
    return number


def _choice(
    name: str, value: object, kind: type[Dtype] | type[Optimizer] | type[Layout] | type[Convention]
) -> Any:
    """A member of `kind`, given as itself or by its name."""
    if isinstance(value, kind):
        return value
    names = [m.value for m in kind]
    if isinstance(value, str) and value.strip().lower() in names:
        return kind(value.strip().lower())
    raise OptionError(f"{name} must be one of {', '.join(names)}, got {value!r:.60}")


def _codes(name: str, value: object) -> set[str] | None:
    """Rule codes as `run --select/--ignore` take them: comma-separated text or an iterable of codes."""
    from .lint import RULES

    if value is None:
        return None
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise OptionError(f"{name} must be rule codes, got {value!r:.60}")
    codes = {item.strip() for item in items if isinstance(item, str) and item.strip()}
    known = [code for code in RULES if code not in ("spec-invalid", "spec-unreadable")]
    unknown = sorted(codes - set(known)) or [repr(i)[:60] for i in items if not isinstance(i, str)]
    if unknown:
        raise OptionError(f"{name}: unknown rule code {', '.join(unknown)} (expected: {', '.join(known)})")
    return codes


def _flag(name: str, value: object) -> bool:
    """True or False, nothing else."""
    if not isinstance(value, bool):
        raise OptionError(f"{name} must be True or False, got {value!r:.60}")
    return value


def _bytes(value: object) -> int:
    """--max-memory as bytes: an Integral or a size like '512M' or '4G'."""
    from .check import parse_bytes

    if isinstance(value, str):
        try:
            return parse_bytes(value)
        except ValueError as e:
            raise OptionError(f"max_memory: {e}") from None
    return _integer("max_memory", value, minimum=1)


def analyze(
    spec: str | os.PathLike[str] | Mapping[str, Any],
    *,
    input: str | Sequence[int] | None = None,
    layout: str | None = None,
    dtype: str = "float32",
    batch: int = 1,
    optimizer: str = "adam",
    check: bool = False,
    seed: int = 0,
    max_memory: int | str = "2G",
    explain: bool = False,
    shapes: str | None = None,
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
    max_spec_size: int = MAX_SPEC_SIZE,
    no_in_place: bool = False,
    reader: str | None = None,
    convention: str | None = None,
) -> dict[str, Any]:
    """Resolve a spec into the structure `convcalc run --format json` prints.

    `spec` is a path (str, pathlib.Path or os.PathLike), YAML text or a dict (numpy integers and floats
    welcome). Every other argument is the `run` option of the same name and takes what it takes: `input`
    as '28x28x1' or (28, 28, 1); `layout` 'hwc' or 'chw', the order of the input's numbers (default: the
    spec's); `dtype`, `batch` and `optimizer` for the sizes; `check`, `seed` and `max_memory` ('512M', or
    bytes) to run every layer with numpy; `explain` adds each layer's formulas; `shapes` 'hwc' or 'chw', the
    order shapes are written in (default: the input's); `select` and `ignore` rule codes (comma-separated
    or a list) keep or drop findings; `max_spec_size` caps a spec file's bytes; `no_in_place` gives act and
    dropout tensors of their own in the inference peak; `reader` ('yaml' or 'caffe', `--from`) reads `spec` as
    that format whatever its extension; `convention` ('torchinfo', 'ptflops', 'ptflops-aten', 'fvcore',
    'thop', 'pytorch' or 'convcalc') counts MACs as that tool does. `--columns`, `--format` and
    `--notes` only shape text output and `--strict` only the exit status, so they have no argument here:
    each finding carries its severity.

    Raises SpecError for an invalid spec or input, OptionError (a ValueError) for another bad argument and
    convcalc.check.MemoryLimit when a check would need more than `max_memory`.
    """
    from .conventions import Convention
    from .inputs import Source
    from .readers import READERS
    from .resolver import resolve
    from .rules import selected

    shape = _shape(input)
    sizing = Sizing(
        dtype=_choice("dtype", dtype, Dtype),
        batch=_integer("batch", batch, minimum=1),
        optimizer=_choice("optimizer", optimizer, Optimizer),
        in_place=not _flag("no_in_place", no_in_place),
    )
    checking, seed, limit = _flag("check", check), _integer("seed", seed, minimum=0), _bytes(max_memory)
    explaining = _flag("explain", explain)
    counted = None if convention is None else _choice("convention", convention, Convention)
    order = None if layout is None else _choice("layout", layout, Layout)
    shown = order if shapes is None else _choice("shapes", shapes, Layout)
    kept = {"select": _codes("select", select), "ignore": _codes("ignore", ignore)}
    limit_spec = _integer("max_spec_size", max_spec_size, minimum=1)
    source = Source(input_flag="input" if shape is not None else None, layout_flag="layout")
    formats = ("yaml", *sorted(set(READERS.values())))
    if reader is not None and reader not in formats:
        raise OptionError(f"reader must be one of {', '.join(formats)}, got {reader!r:.60}")
    loaded = load(spec, max_size=limit_spec, reader=reader)
    net = resolve(loaded, input=shape, sizing=sizing, layout=order, source=source)
    if checking:
        from .check import checked

        net = checked(net, seed=seed, max_memory=limit)
    net = dataclasses.replace(net, findings=selected(net.findings, **kept), shapes=shown)
    from .write import View, network_json

    return network_json(net, View(explain=explaining, convention=counted))
