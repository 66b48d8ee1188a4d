"""Repeated structures in a converted chain of layers, found so that `convert` can write them as blocks.

A run is a unit of 2 or more layers repeated exactly, 2 or more times in a row: the same keys on every
layer (the name aside) and the same wiring, each repetition reading only its own layers and the output
before it (a block's `in`), and no layer after the run reading any of its layers but the last. A run is
folded only when a block can give its layers their source names: graph.py names the layer `L` of
repetition `k` of a use `G` as `G.R.L`, `R` being `k` or a `names:` pattern of it such as
`denselayer{index + 1}`; or, for sources whose names are not dotted (Caffe's res2b_branch2a, Darknet's
12_conv, Keras's conv2_block2_1_conv), each block layer's name is a pattern of the repetition's index
that gives the whole name: `res2{letter(index + 1)}_branch2a`, `{12 + 3 * index}_conv`.
Pure: no click, rich or numpy."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NETWORK_INPUT = "input"
BLOCK_INPUT = "in"
LONGEST = 100
"""The most layers a unit may have: longer repeats are rare, and the search grows with it."""


@dataclass(frozen=True, slots=True)
class Naming:
    """How a block use reproduces the source's names of a run's layers."""

    use: str
    """The use's name, `G`: also the name later layers read the run's output by."""
    names: str | None
    """The `names:` pattern of the repetitions, or None for graph.py's default `0`, `1`, ..."""
    local: tuple[str, ...]
    """The layers' names inside the block, `L`."""


@dataclass(frozen=True, slots=True)
class Run:
    """A unit of `size` layers from index `start`, repeated `repeat` times in a row."""

    start: int
    """The index of the run's first layer in the chain."""
    size: int
    """The layers in one repetition."""
    repeat: int
    """The repetitions, 2 or more."""
    naming: Naming | None
    """How a block keeps the source's names; None if it cannot (the run is then found, not folded)."""

    @property
    def stop(self) -> int:
        """The index after the run's last layer."""
        return self.start + self.size * self.repeat


def runs(layers: Sequence[Mapping[str, Any]], *, keep_names: bool = True) -> list[Run]:
    """The runs of a chain, left to right, none overlapping; with `keep_names`, only those a block can
    write with the source's names, else every run the structure allows (each with its naming if any)."""
    keys, refs = _keys(layers)
    readers = _readers(refs, len(layers))
    found: list[Run] = []
    taken = {NETWORK_INPUT, BLOCK_INPUT}.union(str(layer.get("name")) for layer in layers)
    i = 0
    while i < len(layers) - 3:
        first, second = layers[i].get("name"), layers[i + 1].get("name")
        if keep_names and not _one_repetition(first, second) and _tokens(first) is None:
            i += 1
            continue
        run = _best(i, layers, keys, refs, readers, taken, keep_names=keep_names)
        if run is None:
            i += 1
            continue
        found.append(run)
        if run.naming is not None:
            taken.add(run.naming.use)
        i = run.stop
    return found


def _keys(layers: Sequence[Mapping[str, Any]]) -> tuple[list[int | None], list[tuple[int, ...]]]:
    """Each layer's key, equal for layers that are the same but for their name and where they stand,
    (None for one that cannot go in a block) and the indices of the layers it reads (-1: the input)."""
    index = {NETWORK_INPUT: -1}
    ids: dict[str, int] = {}
    keys: list[int | None] = []
    refs: list[tuple[int, ...]] = []
    for i, layer in enumerate(layers):
        given = layer.get("from")
        names = [given] if isinstance(given, str) else given
        read = (i - 1,) if names is None else tuple(index.get(str(n), -2) for n in names)
        name = layer.get("name")
        foldable = (
            isinstance(name, str)
            and "block" not in layer
            and -2 not in read
            and not (layer.get("type") == "split" and "part" not in layer)
        )
        if isinstance(name, str):
            index[name] = i
        rest = {k: v for k, v in layer.items() if k not in ("name", "from")}
        text = json.dumps([rest, [i - j for j in read]], sort_keys=True, default=str)
        keys.append(ids.setdefault(text, len(ids)) if foldable else None)
        refs.append(read)
    return keys, refs


def _readers(refs: Sequence[tuple[int, ...]], count: int) -> list[int]:
    """The last index that reads each layer (-1 if none does)."""
    last = [-1] * count
    for i, read in enumerate(refs):
        for j in read:
            if j >= 0:
                last[j] = max(last[j], i)
    return last


def _best(
    i: int,
    layers: Sequence[Mapping[str, Any]],
    keys: Sequence[int | None],
    refs: Sequence[tuple[int, ...]],
    readers: Sequence[int],
    taken: set[str],
    *,
    keep_names: bool,
) -> Run | None:
    """The run that starts at `i` (or, names aside, a few layers later where its input fans out more)
    covering the most layers, the smaller unit on a tie, as many repetitions as nothing after reads
    inside them; None if there is none."""
    best: tuple[tuple[int, int, int], Run] | None = None
    for size in range(2, min(LONGEST, (len(layers) - i) // 2) + 1):
        if keys[i] is None or keys[i + size] != keys[i]:
            continue
        if keep_names and _naming(layers, i, size, 2, taken) is None:
            continue  # more repetitions only add conditions to the names of the first two
        if keep_names and _dotted(layers[i].get("name")):
            shifts = [0]  # dotted names say where repetitions start
        else:  # where the unit's input fans out most (a residual unit reads it twice), and here
            fans_at = [_fans(refs, i + s, size) for s in range(min(size, len(layers) - i - size))]
            shifts = sorted({0, max(range(len(fans_at)), key=fans_at.__getitem__)})
        for shift in shifts:
            start = i + shift
            count = _count(keys, start, size)
            fans = _fans(refs, start, size)
            if best is not None and (size * count, fans, -size) <= best[0]:
                continue  # even all its repetitions would not beat the best
            if keep_names:
                count = _named(layers, start, size, count, taken)
            for repeat in range(count, 1, -1):
                if not _closed(start, size, repeat, refs, readers):
                    continue
                naming = _naming(layers, start, size, repeat, taken)
                if keep_names and naming is None:
                    continue
                score = (size * repeat, fans, -size)
                if best is None or score > best[0]:
                    best = (score, Run(start, size, repeat, naming))
                break
    return None if best is None else best[1]


def _named(layers: Sequence[Mapping[str, Any]], start: int, size: int, count: int, taken: set[str]) -> int:
    """The most repetitions (of `count`) whose names a use gives, 1 if not 2: a binary search, since the
    first repetitions of a run a use names are named by it too (a count that goes up by a step does)."""
    low, high = 1, count
    while low < high:
        middle = (low + high + 1) // 2
        if _naming(layers, start, size, middle, taken) is not None:
            low = middle
        else:
            high = middle - 1
    return low


def _fans(refs: Sequence[tuple[int, ...]], start: int, size: int) -> int:
    """How many layers of the unit at `start` read the layer before it (its input)."""
    return sum(start - 1 in refs[start + p] for p in range(size))


def _dotted(name: Any) -> bool:
    """Whether a name could be given by a block, G.R.L: a quick test before the search for G and R."""
    return isinstance(name, str) and name.count(".") >= 2


def _one_repetition(name: Any, next_name: Any) -> bool:
    """Whether two names could be given by one repetition of a block, sharing its G.R.: the quick test
    for a run's first two layers."""
    if not (isinstance(name, str) and isinstance(next_name, str) and _dotted(name) and _dotted(next_name)):
        return False
    pairs = enumerate(zip(name, next_name, strict=False))
    common = name[: next((k for k, (a, b) in pairs if a != b), min(len(name), len(next_name)))]
    return common.rfind(".") > common.find(".") >= 0


def _count(keys: Sequence[int | None], start: int, size: int) -> int:
    """How many times the unit at `start` repeats in a row."""
    unit = keys[start : start + size]
    if None in unit:
        return 0
    repeat = 1
    while keys[start + repeat * size : start + (repeat + 1) * size] == unit:
        repeat += 1
    return repeat


def _closed(
    start: int, size: int, repeat: int, refs: Sequence[tuple[int, ...]], readers: Sequence[int]
) -> bool:
    """Whether each repetition reads only its own layers and the output before it, and nothing after
    the run reads any of its layers but the last."""
    first = all(j >= start - 1 for p in range(size) for j in refs[start + p])
    stop = start + size * repeat
    return first and all(readers[j] < stop for j in range(start, stop - 1))


def _naming(
    layers: Sequence[Mapping[str, Any]], start: int, size: int, repeat: int, taken: set[str]
) -> Naming | None:
    """How a block use gives the run's layers their names, G.R.L, with the longest G and then the
    shortest R that do (a layer's own name may hold dots: downsample.0), else by a pattern per layer;
    None if no use can."""
    if not all(_dotted(layers[start + k * size].get("name")) for k in range(repeat)):
        return _patterned(layers, start, size, repeat, taken)
    names = [[str(layers[start + k * size + p]["name"]) for p in range(size)] for k in range(repeat)]
    first = names[0][0]
    for cut in reversed([m.start() for m in re.finditer(r"\.", first)]):  # the longest use name first
        use = first[:cut]
        if use in taken or not all(n.startswith(use + ".") for one in names for n in one):
            continue
        rests = [[n[cut + 1 :] for n in one] for one in names]
        for inner in (m.start() for m in re.finditer(r"\.", rests[0][0])):
            found = _repetitions(rests, rests[0][0][:inner])
            if found is None:
                continue
            reps, local = found
            pattern = _pattern(reps)
            if pattern is not None:
                return Naming(use, pattern or None, local)
    return _patterned(layers, start, size, repeat, taken)


TOKEN = re.compile(r"\d+|[A-Za-z]+|[^\dA-Za-z]+")
"""A name's runs of digits, of letters, and of anything else: res2b_branch2a is res 2 b _ branch 2 a."""


def _tokens(name: Any) -> tuple[str, ...] | None:
    """A name's tokens, or None for a name a pattern cannot hold (braces) or that has nothing to count."""
    if not isinstance(name, str) or not name or "{" in name or "}" in name:
        return None
    return _split(name)


@functools.lru_cache(maxsize=1 << 16)
def _split(name: str) -> tuple[str, ...] | None:
    found = tuple(TOKEN.findall(name))
    return found if any(t.isdigit() or t.isalpha() for t in found) else None


def _counting(values: Sequence[int], shown: str) -> str | None:
    """The pattern of numbers that go up by a fixed step with the index: 12, 15, 18 is 12 + 3 * index;
    None if they do not."""
    step = values[1] - values[0]
    if step <= 0 or any(v != values[0] + step * k for k, v in enumerate(values)):
        return None
    if values[0] == 0:
        return shown if step == 1 else f"{step} * {shown}"
    return f"{values[0]} + {shown}" if step == 1 else f"{values[0]} + {step} * {shown}"


def _layer_pattern(names: Sequence[str]) -> str | None:
    """The pattern of the repetition's index that gives each of these names, one per repetition: the
    same text but for numbers and single letters that count up; None if there is none."""
    split = [_tokens(n) for n in names]
    first = split[0]
    if first is None or any(t is None or len(t) != len(first) for t in split):
        return None
    out = []
    for j, token in enumerate(first):
        column = [t[j] for t in split]  # type: ignore[index]
        if len(set(column)) == 1:
            out.append(token)
        elif all(c.isdigit() and str(int(c)) == c for c in column):
            counted = _counting([int(c) for c in column], "index")
            if counted is None:
                return None
            out.append("{" + counted + "}")
        elif all(len(c) == len(token) and c[:-1] == token[:-1] and c[-1].islower() for c in column):
            counted = _counting([ord(c[-1]) - ord("a") for c in column], "index")  # res2b, res2c; ra, rb
            if counted is None:
                return None
            out.append(token[:-1] + "{letter(" + counted + ")}")
        else:
            return None
    return "".join(out)


def _patterned(
    layers: Sequence[Mapping[str, Any]], start: int, size: int, repeat: int, taken: set[str]
) -> Naming | None:
    """A use whose block layers are named by patterns of the index that give the source's names
    (graph.py makes a pattern the whole name), named for the run's first and last layers."""
    local = []
    for p in range(size):
        pattern = _layer_pattern([str(layers[start + k * size + p].get("name")) for k in range(repeat)])
        if pattern is None or "{" not in pattern:
            return None
        local.append(pattern)
    use = f"{layers[start].get('name')}..{layers[start + size * repeat - 1].get('name')}"
    if len(set(local)) != len(local) or use in taken:
        return None
    return Naming(use, None, tuple(local))


def _repetitions(rests: list[list[str]], rep: str) -> tuple[list[str], tuple[str, ...]] | None:
    """Each repetition's `R` and the block's layer names, given the first repetition's `R`."""
    if not all(n.startswith(rep + ".") for n in rests[0]):
        return None
    local = tuple(n[len(rep) + 1 :] for n in rests[0])
    if len(set(local)) != len(local) or BLOCK_INPUT in local:
        return None
    reps = [rep]
    for one in rests[1:]:
        tail = "." + local[0]
        if not one[0].endswith(tail):
            return None
        rep = one[0][: -len(tail)]
        if any(n != f"{rep}.{name}" for n, name in zip(one, local, strict=True)):
            return None
        reps.append(rep)
    return reps, local


def _pattern(reps: Sequence[str]) -> str | None:
    """The `names:` pattern that gives these repetition names: "" for graph.py's default (0, 1, ...),
    else text around one number that counts up from the first, `stage{index + 2}`; None if none does."""
    if list(reps) == [str(k) for k in range(len(reps))]:
        return ""
    for m in re.finditer(r"\d+", reps[0]):
        before, after, base = reps[0][: m.start()], reps[0][m.end() :], int(m.group())
        if str(base) != m.group() or any(c in before + after for c in "{}"):
            continue
        if all(r == f"{before}{base + k}{after}" for k, r in enumerate(reps)):
            index = "{index}" if base == 0 else f"{{index + {base}}}"
            return f"{before}{index}{after}"
    return None
