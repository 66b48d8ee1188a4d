"""Build a typed `Spec` from loaded data, checking every key and value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import kinds
from .errors import SpecError
from .hints import key_hint, type_hint
from .model import (
    Code,
    Expect,
    Fill,
    Fn,
    Kind,
    Layer,
    Layout,
    Limit,
    PadMode,
    PerAxis,
    PoolMode,
    Resample,
    Spec,
    Where,
)

Pos = tuple[int | None, int | None]
E = TypeVar("E", PoolMode, Fn, Resample, Fill)
MAX_SIZE = 2**63 - 1
"""The largest size a 64-bit PyTorch tensor dimension can hold."""

TOP_KEYS = ("name", "input", "layout", "layers", "expect", "budget", "blocks", "include")


def layer_keys(kind: Kind) -> tuple[str, ...]:
    """Every key a layer of this kind may hold, in the order errors list them."""
    return ("type", "name", *kinds.get(kind).KEYS, "allow", "expect", "from", "if")


def __getattr__(name: str) -> dict[Kind, tuple[str, ...]]:
    """LAYER_KEYS and REQUIRED of every kind, built from the registry when asked for (it imports them all)."""
    if name == "LAYER_KEYS":
        return {kind: layer_keys(kind) for kind in kinds.MODULES}
    if name == "REQUIRED":
        return {kind: kinds.get(kind).REQUIRED for kind in kinds.MODULES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


KIND_NAMES = ", ".join(kinds.NAMES)
EXPECT_KEYS = ("output", "params", "macs")
_KINDS = {k.value: k for k in kinds.MODULES}
CODES = tuple(
    c.value for c in Code if c not in (Code.CHECK_MISMATCH, Code.SUSPICIOUS_LAYOUT, Code.SPEC_UNREADABLE)
)
"""The codes a layer may `allow`: those about a layer (not check-mismatch, nor the input's layout)."""
PAD_EXPECTED = (
    "a non-negative integer, a per-axis list like [1, 2], a string like '1x2', "
    "same, valid, or per-side pairs like [[0, 1], [1, 0]]"
)
Pads = tuple[PerAxis, PerAxis | None, PadMode]


class Located(dict[str, Any]):
    """A mapping that remembers where it and each of its values stand in the file."""

    __slots__ = ("at", "start")

    def __init__(self, items: dict[str, Any], *, start: Pos, at: dict[str, tuple[int, int]]):
        super().__init__(items)
        self.start = start
        self.at = at


class LocatedList(list[Any]):
    """A list that remembers where it and each of its items stand in the file."""

    __slots__ = ("at", "start")

    def __init__(self, items: list[Any], *, start: Pos, at: list[tuple[int, int]]):
        super().__init__(items)
        self.start = start
        self.at = at


def _start(data: Mapping[str, Any]) -> Pos:
    return data.start if isinstance(data, Located) else (None, None)


def _at(data: Mapping[str, Any], key: str) -> Pos:
    if isinstance(data, Located) and key in data.at:
        return data.at[key]
    return _start(data)


def _fail(message: str, pos: Pos, file: str | None) -> SpecError:
    return SpecError(message, file=file, line=pos[0], column=pos[1])


SHOWN = 60
"""The most characters of a value that an error message quotes."""
_DEPTH = 8
"""How deep an excerpt looks into nested lists and mappings."""


def show(value: object, limit: int = SHOWN) -> str:
    """A value as YAML writes it (true, null, 'text', 3), cut to `limit` characters, never built whole."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return excerpt(value, limit)


def excerpt(value: object, limit: int = SHOWN) -> str:
    """Python's repr of a value, cut to `limit` characters, never built whole."""
    text = _excerpt(value, limit + 1)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _excerpt(value: object, budget: int) -> str:
    """Python's repr of a value, stopped soon after `budget` characters and `_DEPTH` levels."""
    out: list[str] = []
    size = 0

    def put(text: str) -> None:
        nonlocal size
        out.append(text)
        size += len(text)

    def walk(v: object, depth: int) -> None:
        if size > budget:
            return
        if depth > _DEPTH:
            put("...")
        elif isinstance(v, str):
            put(repr(v[: budget + 1]))
        elif isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 128:
            put(f"<an integer of {v.bit_length()} bits>")
        elif isinstance(v, Mapping):
            put("{")
            for i, (key, item) in enumerate(v.items()):
                if size > budget:
                    break
                put(", " if i else "")
                walk(key, depth + 1)
                put(": ")
                walk(item, depth + 1)
            put("}")
        elif isinstance(v, list | tuple):
            put("[" if isinstance(v, list) else "(")
            for i, item in enumerate(v):
                if size > budget:
                    break
                put(", " if i else "")
                walk(item, depth + 1)
            put("]" if isinstance(v, list) else ",)" if len(v) == 1 else ")")
        else:
            put(repr(v))

    walk(value, 0)
    return "".join(out)


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    import difflib

    if len(word) > 2 * SHOWN:
        return ""
    from .hints import value_hint

    meant = value_hint(word, choices)
    if meant is not None:
        return f"; did you mean '{meant}'?"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def parse_dims(value: object, *, minimum: int = 1) -> tuple[int, ...]:
    """Read `32x32x3`, `[32, 32, 3]` or `7` as integers >= minimum; ValueError if not."""
    if isinstance(value, int) and not isinstance(value, bool):
        parts: list[object] = [value]
    elif isinstance(value, str):
        parts = list(value.lower().split("x"))
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        parts = [value]
    out = []
    for p in parts:
        if isinstance(p, str) and p.strip().isascii() and p.strip().isdigit():
            p = int(p)
        if isinstance(p, bool) or not isinstance(p, int) or p < minimum:
            raise ValueError(f"expected integers >= {minimum}, got {show(value)}")
        if p > MAX_SIZE:
            raise ValueError(f"{show(p)} is too large: PyTorch sizes are 64-bit integers, at most {MAX_SIZE}")
        out.append(p)
    if not out:
        raise ValueError("expected at least one number")
    return tuple(out)


FLAGS = {"size": "--filter", "bias": "--no-bias", "affine": "--no-affine", "count_pad": "--no-count-pad"}
"""The `convcalc layer` flag of each key that is not --key."""


def a(word: str) -> str:
    """The word after its article: a conv, an identity."""
    return f"an {word}" if word[:1] in ("a", "e", "i", "o", "u") else f"a {word}"


def flag_of(key: str) -> str:
    """The `convcalc layer` flag that gives a spec key: --filter for size, --no-bias for bias."""
    return FLAGS.get(key, "--" + key.replace("_", "-"))


class Reader:
    """Reads one layer's values, naming the key and layer in every error (the flag, for `convcalc layer`)."""

    def __init__(
        self,
        data: Mapping[str, Any],
        label: str,
        file: str | None,
        *,
        name: str = "",
        kind: Kind = Kind.CONV,
        flags: bool = False,
        named: Mapping[str, str] | None = None,
        layout: Layout = Layout.HWC,
    ) -> None:
        self.data = data
        self.label = label
        self.file = file
        self.name = name
        """The layer's name, given or counted (conv1)."""
        self.kind = kind
        self.flags = flags
        """Whether the values came from `convcalc layer`'s options, so errors name flags, not keys."""
        self.named = named or {}
        """How errors name the keys given another way than their own flag (--set key=...)."""
        self.layout = layout
        """The spec's layout, for keys written in it (reshape's shape)."""
        self.where_file: str | None = None
        """The file of the layer's lines when it is not the spec's (a block from an included file)."""
        self.context = ""
        """Where in the expanded network the layer comes from (a block instance), for messages."""

    def flag_name(self, key: str) -> str:
        """How an error names a key: --filter for `convcalc layer`, else 'size'."""
        if not self.flags:
            return f"'{key}'"
        return self.named.get(key) or flag_of(key)

    def shown(self, key: str) -> str:
        """A key's value as an error quotes it."""
        return show(self.data[key])

    def refuse(self, key: str | None, text: str, flag_text: str) -> SpecError:
        """An error about a key (None: the layer), worded for a spec or, from flags, for `convcalc layer`."""
        pos = _start(self.data) if key is None else _at(self.data, key)
        return _fail(flag_text if self.flags else f"{self.label}: {text}", pos, self.file)

    def expect(self) -> Expect | None:
        """The layer's `expect` mapping."""
        return _expect(self.data, f"{self.label}: ", self.file)

    def fail(self, key: str, expected: str) -> SpecError:
        got = self.data[key]
        if key in self.named:
            return _fail(f"{self.named[key]} must be {expected}, got {show(got)}", (None, None), None)
        return _fail(
            f"{self.label}: '{key}' must be {expected}, got {show(got)}",
            _at(self.data, key),
            self.file,
        )

    def integer(self, key: str, default: int, *, minimum: int = 1) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_SIZE:
            kind = "a positive integer" if minimum == 1 else "a non-negative integer"
            raise self.fail(key, kind)
        return value

    def per_axis(self, key: str, default: PerAxis, *, minimum: int = 1) -> PerAxis:
        if key not in self.data:
            return default
        value = self.data[key]
        if type(value) is int and minimum <= value <= MAX_SIZE:
            return (value,)
        what = "positive" if minimum == 1 else "non-negative"
        try:
            return parse_dims(self.data[key], minimum=minimum)
        except ValueError as e:
            if "too large" in str(e):
                raise _fail(f"{self.label}: '{key}' {e}", _at(self.data, key), self.file) from None
            raise self.fail(
                key, f"a {what} integer, a per-axis list like [3, 5], or a string like '3x5'"
            ) from None

    def text(self, key: str) -> str | None:
        """A short one-line string, or None when the key is absent."""
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, str) or not value.strip() or "\n" in value or len(value) > 200:
            raise self.fail(key, "a one-line string of at most 200 characters")
        return value.strip()

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false")
        return value

    def pads(self) -> Pads:
        """`pad`: numbers for both sides, same or valid by name, or [before, after] pairs per axis."""
        if "pad" not in self.data:
            return (0,), None, PadMode.EXPLICIT
        value = self.data["pad"]
        if isinstance(value, str) and value.isascii() and value.lower() in ("same", "valid"):
            return (0,), None, PadMode(value.lower())
        if not isinstance(value, list) or not any(isinstance(v, list) for v in value):
            try:
                return self.per_axis("pad", (0,), minimum=0), None, PadMode.EXPLICIT
            except SpecError:
                raise self.fail("pad", PAD_EXPECTED) from None
        pairs = []
        for pair in value:
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_SIZE for v in pair)
            ):
                raise _fail(
                    f"{self.label}: each per-side 'pad' must be a [before, after] pair of non-negative "
                    f"integers, one per spatial axis or one for all, like [[0, 1], [1, 0]]; got {show(pair)}",
                    _at(self.data, "pad"),
                    self.file,
                )
            pairs.append(pair)
        before = tuple(b for b, _ in pairs)
        after = tuple(a for _, a in pairs)
        return before, (None if before == after else after), PadMode.EXPLICIT

    def number(self, key: str, default: float, *, low: float, high: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.fail(key, f"a number from {low:g} to {high:g}")
        return float(value)

    def choice(self, key: str, enum: type[E], default: E) -> E:
        value = self.data.get(key, default.value)
        names = tuple(m.value for m in enum)
        if value not in names:
            expected = " or ".join(names) if len(names) < 3 else f"one of: {', '.join(names)}"
            hint = _suggest(value, names) if isinstance(value, str) else ""
            raise _fail(
                f"{self.label}: '{key}' must be {expected}, got {show(value)}{hint}",
                _at(self.data, key),
                self.file,
            )
        return enum(value)

    def allow(self) -> frozenset[Code]:
        """The codes of `allow`, each one checked."""
        value = self.data.get("allow", [])
        if not isinstance(value, list):
            raise self.fail(
                "allow", f"a list of rule codes like [fractional-size] (one of: {', '.join(CODES)})"
            )
        codes = set()
        for code in value:
            if code not in CODES:
                hint = _suggest(code, CODES) if isinstance(code, str) else ""
                raise _fail(
                    f"{self.label}: unknown rule code {show(code)} in 'allow'{hint} "
                    f"(expected one of: {', '.join(CODES)})",
                    _at(self.data, "allow"),
                    self.file,
                )
            codes.add(Code(code))
        return frozenset(codes)

    def where(self) -> Where:
        keys = self.data.at if isinstance(self.data, Located) else {}
        line, column = _start(self.data)
        return Where(line=line, column=column, keys=keys, file=self.where_file, context=self.context)


def _expect(data: Mapping[str, Any], label: str, file: str | None) -> Expect | None:
    """The `expect` mapping of a layer or of the spec."""
    if "expect" not in data:
        return None
    value = data["expect"]
    if not isinstance(value, Mapping) or not value:
        raise _fail(
            f"{label}'expect' must be a mapping like {{output: 28x28x6, params: 456}}, got {show(value)}",
            _at(data, "expect"),
            file,
        )
    for key in value:
        if key not in EXPECT_KEYS:
            raise _fail(
                f"{label}unknown key {show(key)} in 'expect'{_suggest(str(key), EXPECT_KEYS)} "
                f"(expected one of: {', '.join(EXPECT_KEYS)})",
                _at(value, key),
                file,
            )
    output = None
    if "output" in value:
        try:
            output = parse_dims(value["output"])
            if len(output) > 4:
                raise ValueError(output)
        except ValueError:
            raise _fail(
                f"{label}expected 'output' must be a shape like 28x28x6, got {show(value['output'])}",
                _at(value, "output"),
                file,
            ) from None
    counts: dict[str, int | None] = {}
    for key in ("params", "macs"):
        count = value.get(key)
        if key in value and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise _fail(
                f"{label}expected '{key}' must be a non-negative integer, got {show(count)}",
                _at(value, key),
                file,
            )
        counts[key] = count
    where = value.at if isinstance(value, Located) else {}
    return Expect(output=output, params=counts["params"], macs=counts["macs"], where=where)


def _budget(data: Mapping[str, Any], file: str | None) -> tuple[Limit, ...]:
    """The spec's `budget:` mapping: a limit per total, each a count (30M) or bytes (200MiB)."""
    if "budget" not in data:
        return ()
    from .budget import METRICS, amount, is_bytes  # only for a spec that has one

    value = data["budget"]
    if not isinstance(value, Mapping) or not value:
        raise _fail(
            f"'budget' must be a mapping like {{params: 30M, peak_memory: 200MiB}}, got {show(value)}",
            _at(data, "budget"),
            file,
        )
    limits = []
    for key, v in value.items():
        if key not in METRICS:
            raise _fail(
                f"unknown key {show(key)} in 'budget'{_suggest(str(key), tuple(METRICS))} "
                f"(expected one of: {', '.join(METRICS)})",
                _at(value, key),
                file,
            )
        try:
            limit = amount(v, metric=key)
        except ValueError as e:
            raise _fail(f"budget: {e}", _at(value, key), file) from None
        line, column = _at(value, key)
        text = v if isinstance(v, str) else f"{limit:,}" + (" bytes" if is_bytes(key) else "")
        limits.append(Limit(key, limit, text, line, column))
    return tuple(limits)


def _without(data: Mapping[str, Any], keys: tuple[str, ...]) -> Mapping[str, Any]:
    """A layer's mapping without the keys that say where it reads from, its positions kept."""
    kept = {k: v for k, v in data.items() if k not in keys}
    if isinstance(data, Located):
        return Located(kept, start=data.start, at=data.at)
    return kept


def _layer(
    data: object, index: int, counts: dict[Kind, int], file: str | None, pos: Pos, layout: Layout = Layout.HWC
) -> Layer:
    if not isinstance(data, dict) and not isinstance(data, Mapping):
        raise _fail(
            f"layer {index}: expected a mapping like {{type: conv, ...}}, got {show(data)}",
            pos,
            file,
        )
    if "type" not in data:
        raise _fail(f"layer {index}: missing 'type' (expected one of: {KIND_NAMES})", _start(data), file)
    type_ = data["type"]
    kind = _KINDS.get(type_) if isinstance(type_, str) else None
    if kind is None:
        hint = (type_hint(type_) or _suggest(type_, tuple(_KINDS))) if isinstance(type_, str) else ""
        raise _fail(
            f"layer {index}: unknown type {show(type_)}{hint} (expected one of: {KIND_NAMES})",
            _at(data, "type"),
            file,
        )
    allowed = layer_keys(kind)
    for key in data.keys() - set(allowed):
        hint = ""
        if isinstance(key, str):
            hint = key_hint(key, kind, allowed, data[key]) or _suggest(key, allowed)
        raise _fail(
            f"layer {index}: unknown key {show(key)} for {a(kind.value)} layer{hint} "
            f"(expected one of: {', '.join(allowed)})",
            _at(data, key),
            file,
        )
    label = f"layer {index} ({kind.value})"
    for key in kinds.get(kind).REQUIRED:
        if key not in data:
            raise _fail(f"{label}: missing required key '{key}'", _start(data), file)
    counts[kind] = counts.get(kind, 0) + 1
    name = data.get("name", f"{kind.value}{counts[kind]}")
    if not isinstance(name, str) or not name:
        raise _fail(f"{label}: 'name' must be a non-empty string, got {show(name)}", _at(data, "name"), file)
    label = f"layer {index} ({name if len(name) <= 40 else name[:37] + '...'})"
    return kinds.get(kind).read(Reader(data, label, file, name=name, kind=kind, layout=layout))


Include = Callable[[str, "str | None"], tuple[Any, str]]
"""Reads an included file: its path as written and the including file, to its data and its name."""


def _is_program(data: Mapping[str, Any]) -> bool:
    """Whether a spec uses blocks or references (a plain chain keeps the plain, faster path)."""
    if "blocks" in data or "include" in data:
        return True
    items = data.get("layers")
    return isinstance(items, list) and any(
        isinstance(item, Mapping) and ("block" in item or "from" in item or "if" in item) for item in items
    )


def _include(
    data: Mapping[str, Any],
    file: str | None,
    include: Include | None,
    into: dict[str, Any],
    seen: tuple[str, ...],
) -> None:
    """Add the blocks of the files `data` includes (and of theirs) to `into`; cycles are errors."""
    paths = data["include"]
    listed = paths if isinstance(paths, list) else [paths]
    if not listed or not all(isinstance(p, str) and p for p in listed):
        raise _fail(
            f"'include' must be a file path or a list of them, got {show(paths)}", _at(data, "include"), file
        )
    if include is None:
        raise _fail(
            "'include' needs a spec read from a file (paths are relative to it)", _at(data, "include"), file
        )
    for path in listed:
        try:
            sub, name = include(path, file)
        except SpecError as e:
            raise _fail(f"include {path!r}: {e.message}", _at(data, "include"), file) from None
        if name in seen:
            cycle = " -> ".join([*seen[seen.index(name) :], name])
            raise _fail(f"include cycle: {cycle}", _at(data, "include"), file)
        if not isinstance(sub, Mapping) or ("blocks" not in sub and "include" not in sub):
            raise _fail(f"{path} must hold 'blocks:' (and may 'include:')", (1, 1), name)
        for key in sub:
            if key not in ("blocks", "include") and not str(key).startswith("x-"):
                raise _fail(
                    f"an included file holds only 'blocks' and 'include', not {show(key)}",
                    _at(sub, key),
                    name,
                )
        if "include" in sub:
            _include(sub, name, include, into, (*seen, name))
        if "blocks" in sub:
            own: dict[str, Any] = {}
            from . import graph

            graph.blocks_of(sub["blocks"], name, own)
            for block_name, block in own.items():
                if block_name in into and into[block_name].file != name:
                    raise _fail(
                        f"block {block_name!r} is also defined in {into[block_name].file}", block.pos, name
                    )
                into[block_name] = block


def build(data: object, *, file: str | None = None, include: Include | None = None) -> Spec:
    """Check loaded spec data and turn it into a `Spec`; raise SpecError if invalid. `include` reads the
    files an `include:` names (the loader gives it for a spec read from a file)."""
    if not isinstance(data, Mapping):
        raise _fail(f"a spec must be a mapping with 'input' and 'layers', got {show(data)}", (1, 1), file)
    for key in data:
        if key not in TOP_KEYS and not str(key).startswith("x-"):
            hint = _suggest(key, TOP_KEYS) if isinstance(key, str) else ""
            raise _fail(
                f"unknown top-level key {show(key)}{hint} "
                f"(expected one of: {', '.join(TOP_KEYS)}, or x-... for anchors)",
                _at(data, key),
                file,
            )
    for key in ("input", "layers"):
        if key not in data:
            raise _fail(f"missing required top-level key '{key}'", _start(data), file)
    try:
        dims = parse_dims(data["input"])
    except ValueError:
        raise _fail(
            f"'input' must be a shape like 32x32x3 or [32, 32, 3], got {show(data['input'])}",
            _at(data, "input"),
            file,
        ) from None
    if len(dims) > 4:
        raise _fail(
            f"'input' has {len(dims)} numbers; expected 1 to 4 (up to 3 spatial axes and channels)",
            _at(data, "input"),
            file,
        )
    layout = data.get("layout", "hwc")
    if isinstance(layout, str) and layout.isascii():
        layout = layout.lower()
    if layout not in ("hwc", "chw"):
        raise _fail(f"'layout' must be hwc or chw, got {show(layout)}", _at(data, "layout"), file)
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise _fail(f"'name' must be a string, got {show(name)}", _at(data, "name"), file)
    raw = data["layers"]
    if not isinstance(raw, list):
        raise _fail(f"'layers' must be a list of layers, got {show(raw)}", _at(data, "layers"), file)
    if _is_program(data):
        from . import graph

        counted: dict[Kind, int] = {}
        for i, item in enumerate(raw, start=1):  # a top-level layer is checked as in a chain
            if isinstance(item, Mapping) and "type" in item and "block" not in item:
                pos = raw.at[i - 1] if isinstance(raw, LocatedList) else _at(data, "layers")
                _layer(_without(item, graph.ITEM_KEYS[1:]), i, counted, file, pos, Layout(layout))
        blocks: dict[str, Any] = {}
        if "include" in data:
            _include(data, file, include, blocks, (file or "",))
        return Spec(
            input=dims,
            layers=(),
            name=name,
            layout=Layout(layout),
            file=file,
            input_where=_at(data, "input"),
            expect=_expect(data, "", file),
            budget=_budget(data, file),
            program=graph.program(data, file, blocks),
        )
    counts: dict[Kind, int] = {}
    layers = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw, start=1):
        pos = raw.at[i - 1] if isinstance(raw, LocatedList) else _at(data, "layers")
        layer = _layer(item, i, counts, file, pos, Layout(layout))
        if layer.name in seen:
            raise _fail(
                f"layer {i}: duplicate layer name {show(layer.name)} (also layer {seen[layer.name]})",
                layer.where.of("name"),
                file,
            )
        seen[layer.name] = i
        layers.append(layer)
    return Spec(
        input=dims,
        layers=tuple(layers),
        name=name,
        layout=Layout(layout),
        file=file,
        input_where=_at(data, "input"),
        expect=_expect(data, "", file),
        budget=_budget(data, file),
    )
