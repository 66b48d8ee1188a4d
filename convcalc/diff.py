"""`convcalc diff`: what changed between two networks, layer by layer and in the totals, and CI gates.

Both sides are `run --format json` reports (a spec is resolved into one first), so a spec and its own
saved report give the same side. Pure: no click, rich or numpy.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from . import formulas as fm
from .budget import METRICS, amount, is_bytes
from .formats import Format, unhandled
from .model import Dtype, Optimizer, Sizing
from .safe import markdown, visible
from .values import frozen

TOTALS = {
    "params": "params",
    "macs": "macs",
    "activations": "activations",
    "activation_memory": "activation_bytes",
    "peak_memory": "peak_activation_bytes",
    "training_memory": "training_bytes",
}
"""Each total a diff compares (the budget's metrics), and its key in a report's `totals`."""
assert tuple(TOTALS) == tuple(METRICS)

FIELDS = ("output_shape", "params", "macs", "receptive_field")
"""What is compared of a layer matched by name (the receptive field: its size per axis)."""


class Status(enum.Enum):
    """How a layer differs between the two sides."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


MARKS = {Status.ADDED: "+", Status.REMOVED: "-", Status.CHANGED: "~"}
"""The mark of each status in the table's first column."""


@frozen
class Facts:
    """What a diff compares of one layer."""

    output_shape: tuple[int, ...] | None
    """The output shape as the report writes it; None when the layer has none."""
    params: int
    macs: int
    receptive_field: tuple[int, ...] | None
    """The receptive field's size per axis; None where it is `all` or `varies`."""

    def get(self, name: str) -> object:
        """One of FIELDS."""
        return getattr(self, name)


@frozen
class About:
    """Which network a side is."""

    name: str | None
    file: str | None
    sizing: str
    """Element type, batch and optimizer the memory totals follow: 'float32, batch 1, adam'."""


@frozen
class Side:
    """One network as a diff sees it."""

    about: About
    totals: tuple[int, ...]
    """Each of TOTALS, in order."""
    layers: tuple[tuple[str, Facts], ...]
    """Every layer by name, in order."""


@frozen
class Change:
    """One layer added, removed or changed."""

    name: str
    status: Status
    old: Facts | None
    new: Facts | None
    fields: tuple[str, ...]
    """Which of FIELDS differ (all of them for an added or removed layer)."""


@frozen
class Total:
    """One total on both sides."""

    metric: str
    old: int
    new: int

    @property
    def change(self) -> int:
        """New minus old."""
        return self.new - self.old

    @property
    def percent(self) -> Fraction | float:
        """The change as a percentage of the old value (infinite from 0, 0 for no change)."""
        if self.old:
            return Fraction(100 * self.change, self.old)
        return math.copysign(math.inf, self.change) if self.change else 0.0


@frozen
class Diff:
    """What changed from one network to another."""

    old: About
    new: About
    totals: tuple[Total, ...]
    layers: tuple[Change, ...]
    unchanged: int
    """Layers of the same name whose facts agree."""

    def count(self, status: Status) -> int:
        """How many layers have this status."""
        return sum(c.status is status for c in self.layers)


def side(report: Mapping[str, Any]) -> Side:
    """A side from a `run --format json` report (version 2); ValueError when it is none."""
    if not isinstance(report, Mapping) or report.get("version") != 2 or "totals" not in report:
        raise ValueError("not a convcalc run --format json report (version 2)")
    if report.get("valid") is False:
        raise ValueError("the report is of an invalid spec")
    try:
        sizing = report["sizing"]
        layers = tuple((str(r["name"]), _facts(r)) for r in report["layers"])
        totals = tuple(int(report["totals"][key]) for key in TOTALS.values())
        text = f"{sizing['dtype']}, batch {sizing['batch']}, {sizing['optimizer']}"
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"the report lacks {e} or has it malformed") from None
    return Side(About(report.get("name"), report.get("file"), text), totals, layers)


def _report(path: str, *, max_size: int, reader: str | None) -> dict[str, Any] | None:
    """A saved `run --format json` report, or None when the file is a spec (in any format)."""
    from .errors import SpecError
    from .source import read_text

    if reader is not None or not path.lower().endswith(".json"):
        return None
    _, text = read_text(path, limit=max_size)
    try:
        data = json.loads(text)
    except ValueError:
        return None  # a Keras model's JSON: the readers know it by its content
    if isinstance(data, list) and data and all(isinstance(d, dict) and "version" in d for d in data):
        raise SpecError(f"holds {len(data)} networks (a report of several specs): diff takes one", file=path)
    if isinstance(data, dict) and "totals" in data and "layers" in data:
        return data
    return None


def _sizing(report: Mapping[str, Any]) -> Sizing:
    """The element type, batch, optimizer and in-place peak a report was made with (defaults where it
    does not say: `side` refuses a report without them)."""
    try:
        s, totals = report["sizing"], report["totals"]
        return Sizing(
            dtype=Dtype(s["dtype"]),
            batch=int(s["batch"]),
            optimizer=Optimizer(s["optimizer"]),
            in_place=bool(totals.get("peak_in_place", True)),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return Sizing()


def load(paths: tuple[str, str], *, max_size: int, reader: str | None = None) -> tuple[Side, Side]:
    """The two sides from files: each a saved report, or a spec resolved with the sizing of the report on
    the other side (so a spec and its own report compare like with like); SpecError naming the file."""
    from .errors import SpecError
    from .loader import read
    from .present import to_json
    from .resolver import resolve

    reports = [_report(p, max_size=max_size, reader=reader) for p in paths]
    sizing = next((_sizing(r) for r in reports if r is not None), Sizing())
    sides = []
    for path, report in zip(paths, reports, strict=True):
        if report is None:
            report = to_json(resolve(read(path, max_size=max_size, reader=reader), sizing=sizing))
        try:
            sides.append(side(report))
        except ValueError as e:
            raise SpecError(str(e), file=path) from None
    return sides[0], sides[1]


def _facts(r: Mapping[str, Any]) -> Facts:
    shape = r["output_shape"]
    field = r["receptive_field"]
    return Facts(
        output_shape=None if shape is None else tuple(int(n) for n in shape),
        params=int(r["params"]),
        macs=int(r["macs"]),
        receptive_field=None if field is None else tuple(int(n) for n in field["size"]),
    )


def diff(old: Side, new: Side) -> Diff:
    """Layers matched by name (changed and added in the new order, then removed in the old), and totals."""
    before = dict(old.layers)
    after = dict(new.layers)
    changes = []
    unchanged = 0
    for name, facts in new.layers:
        was = before.get(name)
        if was is None:
            changes.append(Change(name, Status.ADDED, None, facts, FIELDS))
            continue
        fields = tuple(f for f in FIELDS if was.get(f) != facts.get(f))
        if fields:
            changes.append(Change(name, Status.CHANGED, was, facts, fields))
        else:
            unchanged += 1
    changes += [Change(n, Status.REMOVED, f, None, FIELDS) for n, f in old.layers if n not in after]
    totals = tuple(Total(m, a, b) for m, a, b in zip(TOTALS, old.totals, new.totals, strict=True))
    return Diff(old.about, new.about, totals, tuple(changes), unchanged)


# --- thresholds: --fail-on 'params>+5%' ------------------------------------------------------

_THRESHOLD = re.compile(r"\s*([A-Za-z_]+)\s*([<>])\s*([+-]?)\s*([0-9]+(?:\.[0-9]+)?)\s*(%|[A-Za-z]*)\s*")
EXAMPLES = "'params>+5%', 'macs>+1G', 'peak_memory>+16MiB' or 'params>0'"


@frozen
class Threshold:
    """A gate on one total's change: above (>) or below (<) a number, or a percentage of the old value."""

    metric: str
    above: bool
    """True for >, False for <."""
    limit: Fraction
    """The change allowed: a count, bytes, or a percentage."""
    percent: bool
    text: str
    """As written."""

    def crossed(self, total: Total) -> bool:
        """Whether the total's change goes past the threshold."""
        change = total.percent if self.percent else total.change
        return change > self.limit if self.above else change < self.limit


def threshold(text: str) -> Threshold:
    """Parse `METRIC>CHANGE`: 'params>+5%', 'macs>+1G', 'peak_memory>+16MiB', 'params>0', 'macs<-10%';
    ValueError with one line saying what is wrong."""
    match = _THRESHOLD.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not METRIC>CHANGE or METRIC<CHANGE, such as {EXAMPLES}")
    metric, op, sign, number, unit = match.groups()
    if metric not in METRICS:
        import difflib

        close = difflib.get_close_matches(metric, METRICS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{text!r}: unknown metric {metric!r}{hint} (expected one of: {', '.join(METRICS)})")
    if unit == "%":
        limit = Fraction(number)
    else:
        try:
            limit = Fraction(amount(number + unit, metric=metric))
        except ValueError as e:
            raise ValueError(f"{text!r}: {e}") from None
    return Threshold(metric, op == ">", -limit if sign == "-" else limit, unit == "%", text)


def crossed(d: Diff, thresholds: tuple[Threshold, ...]) -> tuple[str, ...]:
    """A line for each threshold that the diff crosses: which total, by how much, and the threshold."""
    totals = {t.metric: t for t in d.totals}
    return tuple(
        f"{t.metric} changed by {_change(totals[t.metric])}, "
        f"{'above' if t.above else 'below'} --fail-on {visible(t.text)}"
        for t in thresholds
        if t.crossed(totals[t.metric])
    )


# --- rendering ---------------------------------------------------------------------------------


def _value(metric: str, n: int) -> str:
    return fm.size(n) if is_bytes(metric) else fm.number(n)


def _percent(p: Fraction | float) -> str:
    """+86.5%, +0.012% (two digits below 0.05%), or 'new' from nothing."""
    x = float(p)
    if math.isinf(x):
        return "new"
    return f"{x:+.2g}%" if x and abs(x) < 0.05 else f"{x:+.1f}%"


def _change(t: Total) -> str:
    """+10,108,160 (+86.5%), -1.5 MiB (-3.0%), 0."""
    if not t.change:
        return "0"
    sign = "+" if t.change > 0 else "-"
    return f"{sign}{_value(t.metric, abs(t.change))} ({_percent(t.percent)})"


def _cell(name: str, value: object) -> str:
    if value is None:
        return "-" if name != "receptive_field" else "all/varies"
    if isinstance(value, tuple):
        same = name == "receptive_field" and len(set(value)) == 1
        return str(value[0]) if same else "x".join(str(v) for v in value)
    assert isinstance(value, int)
    return fm.number(value)


def _cells(c: Change) -> list[str]:
    """The change's output, params, MACs and receptive field: a value, or `old -> new` where it changed."""
    out = []
    only = c.new if c.old is None else c.old if c.new is None else None
    for f in FIELDS:
        if only is not None:
            out.append(_cell(f, only.get(f)))
        elif c.old is None or c.new is None:
            raise ValueError(f"layer {c.name} is on neither side")
        elif f in c.fields:
            out.append(f"{_cell(f, c.old.get(f))} -> {_cell(f, c.new.get(f))}")
        else:
            out.append(_cell(f, c.new.get(f)))
    return out


def _titles(d: Diff) -> tuple[str, str]:
    """The two sides' names, or their files when the names do not tell them apart."""
    if d.old.name and d.new.name and d.old.name != d.new.name:
        return d.old.name, d.new.name
    return d.old.file or d.old.name or "(old)", d.new.file or d.new.name or "(new)"


def _layers_line(d: Diff) -> str:
    counts = ", ".join(f"{d.count(s)} {s.value}" for s in Status)
    return f"layers: {counts}, {d.unchanged} unchanged"


def _align(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def table(d: Diff) -> str:
    """Plain text: the two sides, the totals, then each added, removed or changed layer."""
    old, new = _titles(d)
    lines = [visible(f"{old} -> {new}")]
    for label, s in (("old", d.old), ("new", d.new)):
        lines.append(visible(f"  {label}  {s.file or '-'} ({s.sizing})"))
    rows = [["total", "old", "new", "change"]]
    rows += [[t.metric, _value(t.metric, t.old), _value(t.metric, t.new), _change(t)] for t in d.totals]
    lines += ["", *("  " + line for line in _align(rows, {1, 2, 3}))]
    lines += ["", _layers_line(d)]
    if d.layers:
        rows = [["", "name", "output", "params", "macs", "rf"]]
        rows += [[MARKS[c.status], visible(c.name), *_cells(c)] for c in d.layers]
        lines += ["  " + line for line in _align(rows, {3, 4})]
    return "\n".join(lines) + "\n"


def summary_line(d: Diff) -> str:
    """One line for a pull request: the sides, params and MACs changes, and the layer counts."""
    totals = {t.metric: t for t in d.totals}
    changes = f"params {_change(totals['params'])}, MACs {_change(totals['macs'])}"
    layers = ", ".join(f"{d.count(s)} {s.value}" for s in Status)
    old, new = (markdown(t) for t in _titles(d))
    return f"**convcalc diff** {old} → {new}: {changes}; layers {layers}"


def as_markdown(d: Diff, failed: tuple[str, ...] = ()) -> str:
    """A pull-request comment: the summary line, the totals table, the changed layers folded away."""
    lines = [summary_line(d), ""]
    lines += [f"- :x: {markdown(line)}" for line in failed]
    if failed:
        lines.append("")
    lines += ["| total | old | new | change |", "|---|---:|---:|---:|"]
    lines += [
        f"| {t.metric} | {_value(t.metric, t.old)} | {_value(t.metric, t.new)} | {_change(t)} |"
        for t in d.totals
    ]
    if d.layers:
        lines += ["", f"<details><summary>{_layers_line(d)}</summary>", ""]
        lines += ["| | layer | output | params | MACs | RF |", "|---|---|---|---:|---:|---|"]
        lines += [
            f"| {MARKS[c.status]} | {markdown(c.name)} | "
            + " | ".join(markdown(x).replace(" -> ", " → ") for x in _cells(c))
            + " |"
            for c in d.layers
        ]
        lines += ["", "</details>"]
    else:
        lines += ["", f"{_layers_line(d)}."]
    return "\n".join(lines) + "\n"


def _facts_json(f: Facts | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {k: list(v) if isinstance(v, tuple) else v for k in FIELDS for v in (f.get(k),)}


def _side_json(s: About) -> dict[str, Any]:
    return {"name": s.name, "file": s.file, "sizing": s.sizing}


def to_json(d: Diff, failed: tuple[str, ...] = ()) -> dict[str, Any]:
    """The diff as plain data (version 1); `from_json` reads it back."""
    return {
        "version": 1,
        "old": _side_json(d.old),
        "new": _side_json(d.new),
        "totals": [
            {
                "metric": t.metric,
                "old": t.old,
                "new": t.new,
                "change": t.change,
                "percent": None if math.isinf(t.percent) else round(float(t.percent), 4),
            }
            for t in d.totals
        ],
        "layers": [
            {
                "name": c.name,
                "status": c.status.value,
                "changed": list(c.fields),
                "old": _facts_json(c.old),
                "new": _facts_json(c.new),
            }
            for c in d.layers
        ],
        "unchanged": d.unchanged,
        "failed": list(failed),
    }


def _facts_of(data: Mapping[str, Any] | None) -> Facts | None:
    if data is None:
        return None
    shape, field = data["output_shape"], data["receptive_field"]
    return Facts(
        None if shape is None else tuple(shape),
        data["params"],
        data["macs"],
        None if field is None else tuple(field),
    )


def from_json(data: Mapping[str, Any]) -> Diff:
    """A diff from `to_json`'s data."""
    totals = tuple(Total(t["metric"], t["old"], t["new"]) for t in data["totals"])

    def side_of(key: str) -> About:
        return About(data[key]["name"], data[key]["file"], data[key]["sizing"])

    layers = tuple(
        Change(c["name"], Status(c["status"]), _facts_of(c["old"]), _facts_of(c["new"]), tuple(c["changed"]))
        for c in data["layers"]
    )
    return Diff(side_of("old"), side_of("new"), totals, layers, data["unchanged"])


def as_json(d: Diff, failed: tuple[str, ...] = ()) -> str:
    """The JSON text of `to_json`."""
    return json.dumps(to_json(d, failed), indent=2) + "\n"


def render(d: Diff, fmt: Format, failed: tuple[str, ...] = ()) -> str:
    """The diff in one of the formats `diff` offers; the thresholds crossed go into JSON and Markdown."""
    if fmt is Format.TABLE:
        return table(d)
    if fmt is Format.JSON:
        return as_json(d, failed)
    if fmt is Format.MARKDOWN:
        return as_markdown(d, failed)
    unhandled(fmt, "diff")
