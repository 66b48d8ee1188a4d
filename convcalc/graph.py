"""Networks with branches: blocks with arguments, layers read by name, and their expansion into layers.

A spec that uses `from:`, `if:`, `block:`, `blocks:` or `include:` is a *program*: `build` checks its
structure and keeps it as written; the resolver expands it once the input is known, because a block may
read the channels of its input (`in_channels`). Expansion walks the program in order and resolves each
layer as soon as it is made, so every reference points backwards and the network is a DAG by
construction; it is one pass, with no recursion over the length of a chain.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import kinds
from .build import (
    _KINDS,
    KIND_NAMES,
    Located,
    LocatedList,
    Reader,
    _at,
    _expect,
    _fail,
    _start,
    a,
    layer_keys,
)
from .build import show as _show
from .errors import SpecError
from .model import Group, Layer, Layout, Resolved, Shape

Pos = tuple[int | None, int | None]

RESERVED = ("in_channels", "index")
"""Names every block expression may read: its input's channels, and the repetition (from 0)."""
ITEM_KEYS = ("name", "from", "if")
"""Keys any item of a layers list may have besides its kind's own."""
USE_KEYS = ("block", "name", "from", "if", "repeat", "first", "names", "allow", "expect")
"""The keys of an item that uses a block, besides the block's arguments."""
BLOCK_KEYS = ("args", "inputs", "layers")
"""The keys of a block definition."""
NETWORK_INPUT = "input"
"""The name of the network input in the top-level layers."""
BLOCK_INPUT = "in"
"""The name of a block's input, unless it declares `inputs:`."""


@dataclass(frozen=True, eq=False)
class Block:
    """A block as defined: its arguments with their defaults (in order), inputs and layers."""

    name: str
    args: tuple[tuple[str, Any], ...]
    inputs: tuple[str, ...]
    layers: Sequence[Any]
    file: str | None
    pos: Pos
    arg_pos: Mapping[str, Pos] = dataclasses.field(default_factory=dict)
    """Where each argument's default stands."""


@dataclass(frozen=True, eq=False)
class Program:
    """The top-level layers and the blocks, as written."""

    items: Sequence[Any]
    blocks: Mapping[str, Block]
    file: str | None


def _suggest(word: str, choices: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---------------------------------------------------------------- structure, checked when built


def blocks_of(data: Any, file: str | None, into: dict[str, Block]) -> None:
    """Add the block definitions of a spec's (or an included file's) `blocks:` to `into`."""
    if not isinstance(data, Mapping):
        raise _fail(
            f"'blocks' must be a mapping of block names to definitions, got {_show(data)}", _start(data), file
        )
    for name, body in data.items():
        where = _at(data, name)
        if not isinstance(name, str) or not name.isidentifier():
            raise _fail(f"block name {_show(name)} must be a name like bottleneck", where, file)
        if name in into:
            raise _fail(f"block {name!r} is defined twice", where, file)
        if not isinstance(body, Mapping):
            raise _fail(f"block {name!r} must be a mapping with 'layers' (and 'args', 'inputs')", where, file)
        for key in body:
            if key not in BLOCK_KEYS:
                hint = _suggest(key, BLOCK_KEYS) if isinstance(key, str) else ""
                raise _fail(
                    f"block {name!r}: unknown key {_show(key)}{hint} "
                    f"(expected one of: {', '.join(BLOCK_KEYS)})",
                    _at(body, key),
                    file,
                )
        layers = body.get("layers")
        if not isinstance(layers, list) or not layers:
            raise _fail(f"block {name!r}: 'layers' must be a non-empty list", _at(body, "layers"), file)
        args = body.get("args", {})
        if not isinstance(args, Mapping):
            raise _fail(
                f"block {name!r}: 'args' must be a mapping of names to defaults", _at(body, "args"), file
            )
        for arg in args:
            if not isinstance(arg, str) or not arg.isidentifier() or arg in RESERVED or arg in USE_KEYS:
                why = "a reserved name" if arg in RESERVED or arg in USE_KEYS else "not a name like width"
                raise _fail(f"block {name!r}: argument {_show(arg)} is {why}", _at(args, arg), file)
        inputs = body.get("inputs", [BLOCK_INPUT])
        if (
            not isinstance(inputs, list)
            or not inputs
            or not all(isinstance(i, str) and i.isidentifier() for i in inputs)
            or len(set(inputs)) != len(inputs)
        ):
            raise _fail(
                f"block {name!r}: 'inputs' must be a list of distinct names like [x, skip], "
                f"got {_show(inputs)}",
                _at(body, "inputs"),
                file,
            )
        for item in layers:
            _check_item(item, file, f"block {name!r}")
        arg_pos = {arg: _at(args, arg) for arg in args}
        into[name] = Block(name, tuple(args.items()), tuple(inputs), layers, file, where, arg_pos)


def _check_item(item: Any, file: str | None, where: str) -> None:
    """What can be checked of a layers item before the blocks are all known: its shape as a mapping."""
    if not isinstance(item, Mapping):
        raise _fail(
            f"{where}: expected a mapping like {{type: conv, ...}} or {{block: ...}}", _start(item), file
        )
    if ("type" in item) == ("block" in item):
        what = "both 'type' and 'block'" if "type" in item else "no 'type' (or 'block')"
        raise _fail(f"{where}: a layer has {what}", _start(item), file)
    given = item.get("from", "input")
    names = given if isinstance(given, list) else [given]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise _fail(
            f"{where}: 'from' must be a layer name or a list of names, got {_show(given)}",
            _at(item, "from"),
            file,
        )
    if "if" in item and not isinstance(item["if"], bool | int | str):
        raise _fail(
            f"{where}: 'if' must be true/false or an expression like 'stride != 1', got {_show(item['if'])}",
            _at(item, "if"),
            file,
        )


def program(data: Mapping[str, Any], file: str | None, included: Mapping[str, Block]) -> Program:
    """The program of a spec, its blocks those of its includes and its own; SpecError when malformed."""
    blocks: dict[str, Block] = dict(included)
    if "blocks" in data:
        own: dict[str, Block] = {}
        blocks_of(data["blocks"], file, own)
        for name, block in own.items():
            if name in blocks:
                raise _fail(f"block {name!r} is also defined in {blocks[name].file}", block.pos, file)
            blocks[name] = block
    items = data["layers"]
    for item in items:
        _check_item(item, file, "layers")
    for block in blocks.values():
        for item in block.layers:
            _check_use(item, blocks, block.file)
    for item in items:
        _check_use(item, blocks, file)
    _check_cycles(blocks)
    return Program(items=items, blocks=blocks, file=file)


def _check_use(item: Mapping[str, Any], blocks: Mapping[str, Block], file: str | None) -> None:
    if "block" not in item:
        return
    name = item["block"]
    if not isinstance(name, str) or name not in blocks:
        hint = _suggest(name, tuple(blocks)) if isinstance(name, str) else ""
        known = ", ".join(blocks) or "none is defined"
        raise _fail(f"unknown block {_show(name)}{hint} (blocks: {known})", _at(item, "block"), file)
    args = dict(blocks[name].args)
    for key in item:
        if key not in USE_KEYS and key not in args:
            hint = _suggest(key, (*args, *USE_KEYS)) if isinstance(key, str) else ""
            raise _fail(
                f"block {name!r} has no argument {_show(key)}{hint} "
                f"(its arguments: {', '.join(args) or 'none'})",
                _at(item, key),
                file,
            )
    first = item.get("first")
    if first is not None:
        if not isinstance(first, Mapping):
            raise _fail(
                "'first' must be a mapping of arguments for the first repetition", _at(item, "first"), file
            )
        for key in first:
            if key not in args:
                hint = _suggest(key, tuple(args)) if isinstance(key, str) else ""
                raise _fail(f"block {name!r} has no argument {_show(key)}{hint}", _at(first, key), file)


def _check_cycles(blocks: Mapping[str, Block]) -> None:
    """A block that uses itself, directly or through others, would never end."""
    uses = {name: [i["block"] for i in b.layers if "block" in i] for name, b in blocks.items()}
    state: dict[str, int] = {}
    for root in blocks:
        stack = [(root, iter(uses[root]))]
        path = [root]
        state[root] = state.get(root, 0) or 1
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                cycle = " -> ".join([*path[path.index(child) :], child])
                block = blocks[child]
                raise _fail(f"blocks use each other without end: {cycle}", block.pos, block.file)
            if not state.get(child):
                state[child] = 1
                stack.append((child, iter(uses[child])))
                path.append(child)


# ---------------------------------------------------------------- expressions in values


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> Any:
    """The expression a text is; None when it is no expression at all (3x3, a word list); the refusal's
    message when it is Python that the evaluator refuses (w / 2)."""
    from .expr import ExprError, parse

    try:
        return parse(text)
    except ExprError as e:
        return None if "is not a valid expression" in e.message else e.message


def _value(value: Any, env: Mapping[str, int | bool], pos: Pos, file: str | None, key: str) -> Any:
    """A value with the block's arguments put in: a string that is an expression over them is evaluated;
    a bare word that names none of them (same, relu) stays a word."""
    from .expr import ExprError

    if isinstance(value, str):
        expr = _parsed(value)
        if isinstance(expr, str):
            raise _fail(f"{key}: {value!r}: {expr}", pos, file)
        if expr is None or (not expr.names and expr.constant is None):
            return value
        if len(expr.names) == 1 and expr.text.strip() == expr.names[0] and expr.names[0] not in env:
            return value  # a word: same, relu, bilinear
        try:
            expr.check_names(env)
            return expr.evaluate(env)
        except ExprError as e:
            raise _fail(f"{key}: {value!r}: {e.message}", pos, file) from None
    if isinstance(value, list):
        out = [_value(v, env, pos, file, key) for v in value]
        return LocatedList(out, start=value.start, at=value.at) if isinstance(value, LocatedList) else out
    return value


LETTER = re.compile(r"\s*letter\s*\((.*)\)\s*")
"""A pattern's `{letter(n)}`: the n-th lowercase letter from 0 (a), as Caffe names res2a, res2b, ..."""


def _fill(pattern: str, env: Mapping[str, int | bool], pos: Pos, file: str | None, what: str) -> str:
    """A name pattern's {expressions} filled in: "denselayer{index + 1}", "res4{letter(index + 1)}_relu"."""
    parts = pattern.replace("}", "{").split("{")
    if len(parts) % 2 == 0:
        raise _fail(f"{what}: unbalanced braces in {pattern!r}", pos, file)
    out = []
    for i, text in enumerate(parts):
        if i % 2 == 0:
            out.append(text)
            continue
        letter = LETTER.fullmatch(text)
        value = _evaluate(letter.group(1) if letter else text, env, pos, file, what)
        if letter is None:
            out.append(str(value))
        elif isinstance(value, bool) or not 0 <= value < 26:
            raise _fail(f"{what} {pattern!r}: letter() takes 0 to 25 (a to z), got {value}", pos, file)
        else:
            out.append(chr(ord("a") + value))
    return "".join(out)


def _evaluate(text: Any, env: Mapping[str, int | bool], pos: Pos, file: str | None, what: str) -> int | bool:
    """A value that must be a number or a condition: an int, a bool or an expression."""
    from .expr import Expr, ExprError, parse

    if isinstance(text, bool | int):
        return text
    if not isinstance(text, str):
        raise _fail(f"{what} must be an integer, true/false or an expression, got {_show(text)}", pos, file)
    parsed = _parsed(text)
    try:
        expr = parse(text) if not isinstance(parsed, Expr) else parsed  # parse again: the error's message
        expr.check_names(env)
        return expr.evaluate(env)
    except ExprError as e:
        raise _fail(f"{what} {text!r}: {e.message}", pos, file) from None


# ---------------------------------------------------------------- expansion


@dataclass
class Expanded:
    """The network a program makes: its layers with their inputs, block instances and resolved layers."""

    layers: list[Layer] = dataclasses.field(default_factory=list)
    inputs: list[tuple[int, ...]] = dataclasses.field(default_factory=list)
    groups: list[Group] = dataclasses.field(default_factory=list)
    resolved: list[Resolved] = dataclasses.field(default_factory=list)
    stopped: bool = False
    """Whether a layer had no output, so the layers after it were not made."""


@dataclass
class _Scope:
    """The names one layers list sees: the layers it made so far and its inputs."""

    names: dict[str, int]
    prefix: str
    env: dict[str, int | bool]
    context: str
    file: str | None
    items: Sequence[Any] = ()
    """The layers list, to tell a reference to a later layer from an unknown one."""
    allow: frozenset[Any] = frozenset()
    """Rule codes turned off for every layer of the block instances this scope is in (`allow` on a use)."""
    words: dict[str, str] = dataclasses.field(default_factory=dict)
    """Arguments that are words (fn: hardswish), put in where a value is exactly the argument's name."""
    aliases: set[str] = dataclasses.field(default_factory=set)
    """Names that a layer left out by `if:` passes its input on under; a kept layer may take one."""
    counts: dict[str, int] = dataclasses.field(default_factory=dict)


Steps = Generator["Steps", int, int]
"""A part of the expansion: it yields the parts it needs done (a block's layers inside a layers list),
is sent each one's last layer, and returns its own. `_drive` runs them with a stack of its own, so blocks
nest to any depth without Python's recursion limit."""


def _drive(steps: Steps) -> int:
    """Run a part of the expansion and every part it needs, depth first, without recursion."""
    stack = [steps]
    value: int | None = None
    while stack:
        try:
            needed = stack[-1].send(value)  # type: ignore[arg-type]  # None starts a generator
        except StopIteration as done:
            stack.pop()
            value = done.value
        else:
            stack.append(needed)
            value = None
    assert value is not None
    return value


class Expander:
    """Expands a program into layers, resolving each as it is made."""

    def __init__(self, program: Program, first: Shape, layout: Layout, spec_file: str | None) -> None:
        self.program = program
        self.layout = layout
        self.spec_file = spec_file
        self.out = Expanded()
        self.shapes: list[Shape] = [first]
        self.taken: set[str] = set()
        """Every layer name made so far, for the names a block's pattern makes (they have no prefix)."""
        """The output shape of each layer made so far; [0] is the network input."""

    def run(self) -> Expanded:
        scope = _Scope({NETWORK_INPUT: 0}, "", {}, "", self.program.file, self.program.items)
        _drive(self._items(self.program.items, scope, 0, depth=0))
        return self.out

    def _items(self, items: Sequence[Any], scope: _Scope, previous: int, *, depth: int) -> Steps:
        """Expand one layers list; the index of its last layer's output."""
        for item in items:
            if self.out.stopped:
                return previous
            sources = self._sources(item, scope, previous)
            if "if" in item:
                keep = _evaluate(item["if"], scope.env, _at(item, "if"), scope.file, "'if'")
                if not keep:  # a layer left out passes its first input on, under its name
                    name = item.get("name")
                    if isinstance(name, str) and name not in scope.names:  # else: the kept alternative's
                        scope.names[name] = sources[0]
                        scope.aliases.add(name)
                    previous = sources[0]
                    continue
            if "block" in item:
                previous = yield self._use(item, scope, sources, depth=depth + 1)
            else:
                previous = self._layer(item, scope, sources)
        return previous

    def _sources(self, item: Mapping[str, Any], scope: _Scope, previous: int) -> tuple[int, ...]:
        if "from" not in item:
            return (previous,)
        given = item["from"]
        names = given if isinstance(given, list) else [given]
        if not names or not all(isinstance(n, str) for n in names):
            raise _fail(
                f"'from' must be a layer name or a list of names, got {_show(given)}",
                _at(item, "from"),
                scope.file,
            )
        found = []
        for n in names:
            if n not in scope.names:
                parts = [k for k in scope.names if k.startswith(n + ".") and k[len(n) + 1 :].isdigit()]
                later = any(isinstance(i, Mapping) and i.get("name") == n for i in scope.items)
                if parts:
                    why = f" (it is a split: read its parts, {', '.join(parts)})"
                elif later:
                    why = " (a layer may read only layers before it)"
                else:
                    why = _suggest(n, tuple(scope.names))
                raise _fail(
                    f"'from': unknown layer {n!r}{why}{scope.context}",
                    _at(item, "from"),
                    scope.file,
                )
            found.append(scope.names[n])
        return tuple(found)

    def _name(self, item: Mapping[str, Any], scope: _Scope, default: str) -> str:
        name = item.get("name")
        if name is None:
            scope.counts[default] = scope.counts.get(default, 0) + 1
            name = f"{default}{scope.counts[default]}"
        if not isinstance(name, str) or not name:
            raise _fail(
                f"'name' must be a non-empty string, got {_show(name)}", _at(item, "name"), scope.file
            )
        if name in scope.aliases:  # one of two alternatives, the other left out: this one is kept
            scope.aliases.discard(name)
        elif name in scope.names or name in (NETWORK_INPUT, BLOCK_INPUT):
            raise _fail(f"duplicate layer name {name!r}{scope.context}", _at(item, "name"), scope.file)
        return name

    def _layer(self, item: Mapping[str, Any], scope: _Scope, sources: tuple[int, ...]) -> int:
        type_ = item["type"]
        kind = _KINDS.get(type_) if isinstance(type_, str) else None
        if kind is None:
            raise _fail(
                f"unknown type {_show(type_)} (expected one of: {KIND_NAMES})", _at(item, "type"), scope.file
            )
        local = self._name(item, scope, kind.value)
        allowed = set(layer_keys(kind))
        data: dict[str, Any] = {}
        for key, value in item.items():
            if key not in allowed:
                raise _fail(
                    f"unknown key {_show(key)} for {a(kind.value)} layer{_suggest(str(key), tuple(allowed))}"
                    f"{scope.context}",
                    _at(item, key),
                    scope.file,
                )
            if key in ITEM_KEYS:
                continue
            if isinstance(value, str) and value in scope.words:
                value = scope.words[value]
            elif scope.env:
                try:
                    value = _value(value, scope.env, _at(item, key), scope.file, key)
                except SpecError as e:
                    e.message = f"layer {scope.prefix + local}: {e.message}"
                    raise _in_context(e, scope) from None
            data[key] = value
        data["name"] = scope.prefix + local
        if scope.prefix and "{" in local:  # a pattern: the whole name, as the source had it (res2b_branch2a)
            data["name"] = _fill(local, scope.env, _at(item, "name"), scope.file, f"layer name {local!r}")
            if data["name"] in self.taken:
                raise _fail(
                    f"duplicate layer name {data['name']!r} (from the pattern {local!r}){scope.context}",
                    _at(item, "name"),
                    scope.file,
                )
        located = Located(data, start=_start(item), at=getattr(item, "at", {}))
        label = f"layer {data['name']}"
        module = kinds.get(kind)
        for key in module.REQUIRED:
            if key not in data:
                raise _fail(f"{label}: missing required key '{key}'{scope.context}", _start(item), scope.file)
        reader = Reader(located, label, scope.file, name=data["name"], kind=kind, layout=self.layout)
        reader.where_file = scope.file if scope.file != self.spec_file else None
        reader.context = scope.context
        try:
            layer = module.read(reader)
        except SpecError as e:
            raise _in_context(e, scope) from None
        if scope.allow:
            layer = dataclasses.replace(layer, allow=layer.allow | scope.allow)  # type: ignore[type-var]
        if module.MERGE and hasattr(layer, "sources") and isinstance(item.get("from"), list):
            shown = tuple(  # as the spec names them, a pattern as the name it made
                self.out.layers[i - 1].name if "{" in str(n) and i >= 1 else str(n)
                for n, i in zip(item["from"], sources, strict=True)
            )
            layer = dataclasses.replace(layer, sources=shown)  # type: ignore[type-var]
        if (len(sources) > 1) != module.MERGE and not (module.MERGE and sources):
            reads = "several inputs" if module.MERGE else "one input"
            raise _fail(
                f"{label}: a {kind.value} layer reads {reads}, got {len(sources)} in 'from'{scope.context}",
                _at(item, "from"),
                scope.file,
            )
        if kind is kinds.Kind.SPLIT and "part" not in item:  # one layer per part: name.0, name.1, ...
            from .kinds.split import parts

            count = len(parts(layer, self.shapes[sources[0]].channels))  # type: ignore[arg-type]
            made = [
                (f"{local}.{k}", dataclasses.replace(layer, part=k, name=f"{data['name']}.{k}"))  # type: ignore[type-var]
                for k in range(count)
            ]
        else:
            made = [(local, layer)]
        for local_name, one in made:
            index = self._add(one, module, sources, scope)
            scope.names[local_name] = index
        return index

    def _add(self, layer: Layer, module: Any, sources: tuple[int, ...], scope: _Scope) -> int:
        """Resolve a layer on its sources' outputs and add it to the network."""
        index = len(self.out.layers) + 1
        try:
            r = module.resolve(index, layer, tuple(self.shapes[s] for s in sources), file=scope.file)
        except SpecError as e:
            raise _in_context(e, scope) from None
        self.out.layers.append(layer)
        self.taken.add(layer.name)
        self.out.inputs.append(sources)
        self.out.resolved.append(r)
        self.shapes.append(r.output)
        if any(o < 1 for o in r.output.spatial):
            self.out.stopped = True
        return index

    def _use(self, item: Mapping[str, Any], scope: _Scope, sources: tuple[int, ...], *, depth: int) -> Steps:
        block = self.program.blocks[item["block"]]
        local = self._name(item, scope, block.name)
        if len(sources) != len(block.inputs):
            raise _fail(
                f"block {block.name!r} takes {len(block.inputs)} input{'s' if len(block.inputs) > 1 else ''} "
                f"({', '.join(block.inputs)}), got {len(sources)}{scope.context}",
                _at(item, "from") if "from" in item else _start(item),
                scope.file,
            )
        repeat = item.get("repeat")
        times = (
            1 if repeat is None else _evaluate(repeat, scope.env, _at(item, "repeat"), scope.file, "'repeat'")
        )
        if isinstance(times, bool) or times < 1:
            raise _fail(
                f"'repeat' must be at least 1, got {times!r}{scope.context}", _at(item, "repeat"), scope.file
            )
        given = {k: v for k, v in item.items() if k not in USE_KEYS}
        words: dict[str, str] = {}
        first = item.get("first") or {}
        previous = sources
        env: dict[str, int | bool] = {}
        group_name = scope.prefix + local
        start = len(self.out.layers) + 1
        for k in range(times):
            if self.out.stopped:
                break
            name = self._repetition(item, scope, group_name, k) if repeat is not None else group_name
            env, words = self._args(
                block, {**given, **(first if k == 0 else {})}, item, scope, previous[0], k
            )
            shown = ", ".join(f"{a}={v}" for a, v in {**env, **words}.items() if a not in RESERVED)
            rep = f", repetition {k + 1} of {times}" if repeat is not None else ""
            inner = _Scope(
                names=dict(zip(block.inputs, previous, strict=True)),
                prefix=name + ".",
                env=env,
                words=words,
                context=f" (in {name}: block {block.name}{rep}{', ' if shown else ''}{shown})",
                file=block.file,
                items=block.layers,
                allow=scope.allow | self._allowed(item, scope),
            )
            at = len(self.out.layers) + 1
            last = yield self._items(block.layers, inner, previous[0], depth=depth)
            if repeat is not None:
                self.out.groups.append(
                    Group(name, block.name, at, len(self.out.layers), depth + 1, _shown(env, words))
                )
            previous = (last,)
        expect = self._expect(item, scope)
        file = scope.file if scope.file != self.spec_file else None
        last = len(self.out.layers)
        args = () if repeat is not None else _shown(env, words)
        self.out.groups.append(
            Group(group_name, block.name, start, last, depth, args, times if repeat else 0, expect, file)
        )
        scope.names[local] = previous[0]
        return previous[0]

    def _expect(self, item: Mapping[str, Any], scope: _Scope) -> Any:
        """What a use's `expect:` says of the instance, checked as a layer's is."""
        if "expect" not in item:
            return None
        return _expect(item, f"block use {item.get('name', item['block'])}: ", scope.file)

    def _allowed(self, item: Mapping[str, Any], scope: _Scope) -> frozenset[Any]:
        """The codes a block use turns off for its layers, checked as a layer's `allow` is."""
        if "allow" not in item:
            return frozenset()
        return Reader(item, f"block use {item.get('name', item['block'])}", scope.file).allow()

    def _repetition(self, item: Mapping[str, Any], scope: _Scope, group: str, index: int) -> str:
        """A repetition's name: group.0, group.1, ...; or as `names:` says, its {expressions} of index
        (and of the enclosing block's arguments) filled in: names: "denselayer{index + 1}"."""
        pattern = item.get("names")
        if pattern is None:
            return f"{group}.{index}"
        if not isinstance(pattern, str) or not pattern:
            raise _fail(f"'names' must be a pattern like \"block{{index + 1}}\", got {_show(pattern)}",
                        _at(item, "names"), scope.file)  # fmt: skip
        env = {**scope.env, "index": index}
        out = [_fill(pattern, env, _at(item, "names"), scope.file, "'names'")]
        return f"{group}.{''.join(out)}"

    def _args(
        self,
        block: Block,
        given: Mapping[str, Any],
        item: Mapping[str, Any],
        scope: _Scope,
        source: int,
        index: int,
    ) -> tuple[dict[str, int | bool], dict[str, str]]:
        """The arguments of one repetition, numbers and words apart: given ones evaluated where the block
        is used (in_channels and index there are the enclosing block's, or at the top level this use's
        input and repetition), the others from their defaults, which may read the earlier arguments and
        the block's own input channels and repetition."""
        env: dict[str, int | bool] = {"in_channels": self.shapes[source].channels, "index": index}
        outer = scope.env if scope.env else env
        words: dict[str, str] = {}
        for arg, default in block.args:
            if arg in given:
                holder = item if arg in item else item.get("first", item)
                value, names, where, file = given[arg], outer, _at(holder, arg), scope.file
            else:
                value, names, where, file = default, env, block.arg_pos.get(arg, block.pos), block.file
            if isinstance(value, str) and value in scope.words and arg in given:
                words[arg] = scope.words[value]  # a word passed on from the enclosing block
            elif isinstance(value, str) and _is_word(value, names):
                words[arg] = value
            else:
                env[arg] = _evaluate(value, names, where, file, f"argument {arg!r}")
        return env, words


def _shown(
    env: Mapping[str, int | bool], words: Mapping[str, str]
) -> tuple[tuple[str, int | bool | str], ...]:
    """An instance's arguments, as its Group keeps them (the reserved names left out)."""
    out: list[tuple[str, int | bool | str]] = [(a, v) for a, v in env.items() if a not in RESERVED]
    return (*out, *words.items())


def _is_word(text: str, names: Mapping[str, Any]) -> bool:
    """Whether an argument's text is a word (hardswish, max) rather than an expression over numbers."""
    parsed = _parsed(text)
    if parsed is None:
        return True
    return not isinstance(parsed, str) and parsed.names == (text.strip(),) and text.strip() not in names


def _in_context(e: SpecError, scope: _Scope) -> SpecError:
    """An error inside a block instance, naming the instance, repetition and arguments."""
    message = e.message + scope.context if scope.context and scope.context not in e.message else e.message
    return SpecError(message, file=e.file or scope.file, line=e.line, column=e.column)


def expand(program: Program, first: Shape, layout: Layout, spec_file: str | None) -> Expanded:
    """The layers a program makes on this input, each resolved; block instances in table order."""
    made = Expander(program, first, layout, spec_file).run()
    made.groups.sort(key=lambda g: (g.first, -g.last, g.depth))
    return made
