"""Repeated structures in a converted chain of layers, found so that `convert` can write them as blocks.

A run is a unit of 2 or more layers repeated exactly, 2 or more times in a row: the same keys on every
layer (the name aside) and the same wiring, each repetition reading only its own layers and the output
before it (a block's `in`), and no layer after the run reading any of its layers but the last. A run is
folded only when a block can give its layers their source names: graph.py names the layer `L` of
repetition `k` of a use `G` as `G.R.L`, `R` being `k` or a `names:` pattern of it such as
`denselayer{index + 1}`. Pure: no click, rich or numpy."""

from __future__ import annotations

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
        if keep_names and not _one_repetition(layers[i].get("name"), layers[i + 1].get("name")):
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
        for shift in range(1 if keep_names else size):  # names say where repetitions start
            start = i + shift
            count = _count(keys, start, size)
            for repeat in range(count, 1, -1):
                if not _closed(start, size, repeat, refs, readers):
                    continue
                naming = _naming(layers, start, size, repeat, taken)
                if keep_names and naming is None:
                    continue
                fans = sum(start - 1 in refs[start + p] for p in range(size))
                score = (size * repeat, fans, -size)
                if best is None or score > best[0]:
                    best = (score, Run(start, size, repeat, naming))
                break
    return None if best is None else best[1]


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
    shortest R that do (a layer's own name may hold dots: downsample.0); None if no use can."""
    if not all(_dotted(layers[start + k * size].get("name")) for k in range(repeat)):
        return None
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
    return None


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
