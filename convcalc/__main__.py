"""The command line: argument checks only; the work lives in the other modules."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from . import __version__, kinds
from .build import MAX_SIZE, parse_dims
from .errors import ConvcalcError, SpecError
from .formats import OFFERED, Format
from .model import (
    Convention,
    Dtype,
    Fill,
    Fn,
    Kind,
    Layer,
    Layout,
    Network,
    Optimizer,
    PoolMode,
    Resample,
    Severity,
    Sizing,
    Spec,
)
from .safe import visible
from .streams import glyphs, guarded, width
from .write import View, render, sheet, write_json

F = TypeVar("F", bound=Callable[..., Any])


class Dims(click.ParamType):  # type: ignore[type-arg]
    """A shape or per-axis setting: 32x32x3, 3x5 or 7."""

    name = "NxN"

    def __init__(self, minimum: int = 1, most: int | None = None) -> None:
        self.minimum = minimum
        self.most = most

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...]:
        """Parse the text into integers, failing as a usage error."""
        if isinstance(value, tuple):
            return value
        try:
            dims = parse_dims(value, minimum=self.minimum)
        except ValueError:
            least = "positive" if self.minimum else "non-negative"
            self.fail(f"expected {least} integers like 32x32x3 or 3, got {value!r}", param, ctx)
        if self.most is not None and len(dims) > self.most:
            self.fail(
                f"expected at most {self.most} numbers (up to 3 spatial axes and channels), got {value!r}"
            )
        return dims


class Scales(click.ParamType):  # type: ignore[type-arg]
    """Scale factors: 2, 0.57, or 2x1.5 per axis."""

    name = "SCALE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[float, ...]:
        """Parse the text into positive numbers, failing as a usage error."""
        if isinstance(value, tuple):
            return value
        try:
            factors = tuple(float(v) for v in str(value).lower().split("x"))
        except ValueError:
            factors = ()
        if not factors or not all(0 < f < float("inf") for f in factors):
            self.fail(f"expected positive numbers like 2, 0.5 or 2x1.5, got {value!r}", param, ctx)
        return factors


class Count(click.IntRange):
    """A size, count or seed: an integer from `minimum` to 2**63 - 1, the largest PyTorch takes."""

    def __init__(self, minimum: int = 1) -> None:
        super().__init__(min=minimum)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """As IntRange, with the top of the range said in words."""
        number = super().convert(value, param, ctx)
        if number > MAX_SIZE:
            self.fail(
                f"{number} is too large: PyTorch sizes are 64-bit integers, at most {MAX_SIZE}", param, ctx
            )
        return number


class Probability(click.FloatRange):
    """A number from 0 to 1, nan refused."""

    def __init__(self) -> None:
        super().__init__(0, 1)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """As FloatRange, which lets nan through every comparison."""
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{number} is not in the range 0<=x<=1.", param, ctx)
        return number


class Pads(Dims):
    """Padding: numbers as Dims, or TensorFlow's same or valid."""

    name = "P|same|valid"

    def __init__(self) -> None:
        super().__init__(minimum=0)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """same and valid by name, else per-axis numbers."""
        if isinstance(value, str) and value.strip().lower() in ("same", "valid"):
            return value.strip().lower()
        return super().convert(value, param, ctx)


def _columns(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    """name,output,params: these columns; +rf,+memory: the defaults and these."""
    from .present import COLUMN_SET, DEFAULT_COLUMNS

    if value is None:
        return None
    names = [c.strip() for c in value.split(",") if c.strip()]
    unknown = [n for n in names if n.lstrip("+") not in (*COLUMN_SET, "check")]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown column {', '.join(unknown) or repr(value)} (expected a comma-separated list of: "
            f"{', '.join(COLUMN_SET)}, check; or +name to add to the defaults)"
        )
    if all(n.startswith("+") for n in names):
        return (*DEFAULT_COLUMNS, *(n[1:] for n in names if n[1:] not in DEFAULT_COLUMNS))
    return tuple(dict.fromkeys(n.lstrip("+") for n in names))


def view_options(f: F) -> F:
    """--dtype, --batch, --optimizer, --columns and --explain, shared by layer and run."""
    f = click.option(
        "--explain", is_flag=True, help="Under each layer, its formulas with their numbers (and the field)."
    )(f)
    f = click.option(
        "--columns",
        callback=_columns,
        help="Table columns, comma-separated: index, name, type, window, input, output, params, fc, "
        "macs, rf, activations, memory, check; +rf,+memory adds to the defaults.",
    )(f)
    f = click.option(
        "--optimizer",
        type=click.Choice([m.value for m in Optimizer]),
        default="adam",
        show_default=True,
        help="Optimizer of the training estimate: 0, 1 or 2 extra values per parameter.",
    )(f)
    f = click.option(
        "--batch",
        type=Count(),
        default=1,
        show_default=True,
        help="Batch size for activations.",
    )(f)
    return click.option(
        "--dtype",
        type=click.Choice([m.value for m in Dtype]),
        default="float32",
        show_default=True,
        help="Element type for bytes.",
    )(f)


def _sizing(dtype: str, batch: int, optimizer: str) -> Sizing:
    return Sizing(dtype=Dtype(dtype), batch=batch, optimizer=Optimizer(optimizer))


class Invalid(click.ClickException):
    """An invalid spec: printed as file:line:col: error: message, exit 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print the one line, nothing else (control characters escaped; a closed stderr is no crash)."""
        with guarded():
            click.echo(visible(self.message), err=True)


def format_option(command: str, *, help: str = "Output format.") -> Callable[[F], F]:
    """The --format option with the formats `formats.OFFERED` gives `command`, the first by default."""
    offered = OFFERED[command]
    return click.option(
        "--format",
        "fmt",
        type=click.Choice([m.value for m in offered]),
        default=offered[0].value,
        show_default=True,
        help=help,
    )


class Bytes(click.ParamType):  # type: ignore[type-arg]
    """A memory size: 512M, 4G, 2GiB."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Parse into bytes, failing as a usage error."""
        if isinstance(value, int):
            return value
        from .check import parse_bytes

        try:
            return parse_bytes(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


def max_spec_size_option(f: F) -> F:
    """--max-spec-size, shared by run and lint."""
    return click.option(
        "--max-spec-size",
        type=Bytes(),
        default=64 * 1024**2,
        show_default="64M",
        help="Refuse a spec file larger than this (512K, 1G).",
    )(f)


def from_option(f: F) -> F:
    """--from, shared by run and lint: the format of the files, when their extension does not say."""
    from .readers import READERS

    return click.option(
        "--from",
        "reader",
        type=click.Choice(("yaml", *sorted(set(READERS.values())))),
        help="Read the files as this format (default: by extension, "
        + ", ".join(f"{ext} {name}" for ext, name in READERS.items())
        + ", else YAML).",
    )(f)


def output_option(what: str) -> Callable[[F], F]:
    """-o/--output, shared by run and convert: `what` says what is written."""
    return click.option(
        "-o",
        "--output",
        "out",
        type=click.Path(dir_okay=False, allow_dash=True),
        default="-",
        show_default=True,
        help=f"{what} (written whole or not at all); - for standard output.",
    )


def check_options(f: F) -> F:
    """--check, --seed and --max-memory, shared by layer and run."""
    f = click.option(
        "--max-memory",
        type=Bytes(),
        default=2 * 1024**3,
        show_default="2G",
        help="Refuse a check that would need more memory (512M, 4G).",
    )(f)
    f = click.option(
        "--seed", type=Count(0), default=0, show_default=True, help="Seed of the check's random input."
    )(f)
    return click.option("--check", is_flag=True, help="Prove every shape by running the layers with numpy.")(
        f
    )


def _checked(net: Network, *, seed: int, max_memory: int) -> Network:
    """Run the check with a progress bar for long ones."""
    from .check import checked
    from .write import Progress

    return checked(net, seed=seed, max_memory=max_memory, on_layer=Progress("checking"))


def exit_code(nets: list[Network], *, strict: bool = False) -> int:
    """1 when any error finding (or, when strict, any warning), else 0."""
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return 1 if any(n.worst in failing for n in nets) else 0


def _quoted(message: str) -> str:
    """A message quoting what anyone typed: control characters escaped, words over 240 characters cut."""
    import re

    return re.sub(r"\S{241,}", lambda m: f"{m[0][:100]}...{m[0][-40:]}", visible(message))


def _one_line(e: click.UsageError) -> Invalid:
    """A usage error as one line naming the command, where click would print three."""
    where = e.ctx.command_path if e.ctx is not None else "convcalc"
    return Invalid(f"{where}: error: {_quoted(e.format_message()).rstrip('.')} (see '{where} --help')")


class _Cli(click.Group):
    """convcalc's commands, whose usage errors (bad options, missing ones) print one line."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as e:
            raise _one_line(e) from None

    def invoke(self, ctx: click.Context) -> Any:
        import gc

        from .streams import WriteFailed, prepare

        prepare()
        # A command makes many small objects that live to its end and few cycles: the collector's young
        # generations would walk them again and again (a 100,000-layer graph spent a third of its time
        # there). Objects made before now are frozen out of collections; new ones are collected rarely.
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as e:
            raise _one_line(e) from None
        except WriteFailed as e:
            raise Invalid(f"convcalc: error: {e}") from None


@click.group("convcalc", cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convcalc")
def main() -> None:
    """Layer arithmetic for convolutional networks, exactly as PyTorch does it."""


@main.command()
@click.option("--in", "in_", type=Dims(most=4), required=True, help="Input shape, e.g. 32x32x3 (H x W x C).")
@click.option(
    "--type",
    "kind",
    type=click.Choice(kinds.NAMES),
    default="conv",
    show_default=True,
    help="Layer kind.",
)
@click.option(
    "--filter",
    "--size",
    "size",
    type=Dims(),
    help="Filter size F: 5, or 3x5 per axis (crop: a centre size; lrn: channels).",
)
@click.option("-k", "--filters", type=Count(), help="Number of filters K (conv, deconv; default 1).")
@click.option("--stride", type=Dims(), help="Stride S (default 1; a pool's default is its size).")
@click.option(
    "--pad", type=Pads(), help="Zero padding P on each side (default 0), or same or valid (pad: its amounts)."
)
@click.option("--output-pad", type=Dims(minimum=0), help="Extra output after each axis (deconv; default 0).")
@click.option("--dilation", type=Dims(), help="Dilation D (conv, deconv; default 1).")
@click.option("--groups", type=Count(), help="Groups (conv, deconv; default 1; group_norm, channel_shuffle).")
@click.option(
    "--mode",
    type=click.Choice([*(m.value for m in PoolMode), *(m.value for m in Resample), *(f.value for f in Fill)]),
    help="Pooling mode (default max; global: avg), upsample's (default nearest), or pad's: zeros (default), "
    "reflect, replicate or circular.",
)
@click.option("--ceil", is_flag=True, default=None, help="Pool with PyTorch's ceil_mode.")
@click.option(
    "--no-count-pad", is_flag=True, default=None, help="An average divides by real pixels only (avg pool)."
)
@click.option("--output", type=Dims(), help="Adaptive pooling to this output size, e.g. 7x7 (pool).")
@click.option("--scale", type=Scales(), help="Scale factor: 2, 0.5, or 2x1.5 per axis (upsample).")
@click.option("--align-corners", is_flag=True, default=None, help="Align corner pixels (upsample).")
@click.option("--factor", type=Count(), help="Factor r (pixel_shuffle, pixel_unshuffle).")
@click.option("--shape", help="Output shape like --in, one -1 at most: 4x4x512, 4x4x-1 (reshape).")
@click.option("--crop", type=Dims(minimum=0), help="Removed from each side of each axis (crop; or --size).")
@click.option("--units", type=Count(), help="Output units (fc).")
@click.option("--no-bias", is_flag=True, default=None, help="Leave out the bias (conv, deconv, fc).")
@click.option("--no-affine", is_flag=True, default=None, help="No learned scale and shift (bn).")
@click.option(
    "--affine", is_flag=True, default=None, help="Learn a scale and shift (instance_norm; default off)."
)
@click.option(
    "--track-running-stats", is_flag=True, default=None, help="Keep running statistics (instance_norm)."
)
@click.option("--per-channel", is_flag=True, default=None, help="A slope per channel (prelu; default one).")
@click.option("--bias", is_flag=True, default=None, help="Add a learned bias per channel (scale).")
@click.option(
    "--fn", type=click.Choice([m.value for m in Fn]), help="Activation function (act; default relu)."
)
@click.option("-p", "--p", "p", type=Probability(), help="Drop probability (dropout; default 0.5).")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any key of the kind as a spec writes it, e.g. --set 'pad=[[3, 2]]'; for keys without a flag.",
)
@click.option(
    "--layout",
    type=click.Choice([m.value for m in Layout]),
    default="hwc",
    show_default=True,
    help="Order of the numbers of --in.",
)
@check_options
@view_options
@format_option("layer")
def layer(
    in_: tuple[int, ...],
    kind: str,
    fmt: str,
    layout: str,
    check: bool,
    seed: int,
    max_memory: int,
    dtype: str,
    batch: int,
    optimizer: str,
    columns: tuple[str, ...] | None,
    explain: bool,
    **options: Any,
) -> None:
    """Compute one layer's output size, parameters and FC-equivalent, with the formulas.

    \b
    convcalc layer --in 32x32x3 --filter 5 --stride 1 --pad 2 -k 10
    convcalc layer --in 4x4x1 --type pool --filter 2 --stride 2
    convcalc layer --in 7x7x3 --filter 3 --stride 3
    convcalc layer --in 4x4x512 --type deconv --filter 4 --stride 2 --pad 1 -k 256 --explain
    """
    from .inputs import Source
    from .resolver import resolve

    spec = Spec(
        input=in_, layers=(_read_options(Kind(kind), options, Layout(layout)),), layout=Layout(layout)
    )
    source = Source(input_flag="--in", layout_flag="--layout")
    try:
        net = resolve(spec, sizing=_sizing(dtype, batch, optimizer), source=source)
    except SpecError as e:
        raise click.UsageError(e.message) from None  # the options' fault: no file to name
    if check:
        try:
            net = _checked(net, seed=seed, max_memory=max_memory)
        except ConvcalcError as e:
            raise Invalid(f"error: {e}") from None
    chosen = Format(fmt)
    defaulted = options.get("filters", 0) is None and "filters" in kinds.get(Kind(kind)).REQUIRED
    with guarded():
        if chosen is Format.TABLE and columns is None:
            note = "1 filter: give -k" if defaulted else None
            text = sheet(net, explain=explain, glyph=glyphs(sys.stdout), width=width(sys.stdout), note=note)
            click.echo(text, nl=False)
        else:
            render([net], chosen, sys.stdout, View(columns=columns, explain=explain), err=sys.stderr)
    sys.exit(exit_code([net]))


OPTION_KEYS = {
    "no_bias": ("bias", False),
    "no_affine": ("affine", False),
    "no_count_pad": ("count_pad", False),
    "ceil": ("ceil", True),
}
"""The options of `convcalc layer` that set a spec key of another name, and the value they set."""
_WHY = {"size": " (the filter size F)"}


def option_key(option: str) -> str:
    """The spec key a `convcalc layer` option sets: bias for no_bias, size for size."""
    return OPTION_KEYS[option][0] if option in OPTION_KEYS else option


def _option_flag(option: str) -> str:
    """The flag of a `convcalc layer` option as typed: --filter for size, --no-bias for no_bias."""
    return "--filter" if option == "size" else "--" + option.replace("_", "-")


def _read_options(kind: Kind, options: dict[str, Any], layout: Layout = Layout.HWC) -> Layer:
    """The options as the mapping a spec line holds, read by the kind's reader; errors name the flags."""
    from . import kinds
    from .build import Reader, flag_of

    sets = options.pop("sets", ())
    given = {k: v for k, v in options.items() if v is not None}
    module = kinds.get(kind)
    if module.MERGE:  # one --in cannot feed it
        raise click.UsageError(f"{kind.value} merges several inputs: write it in a spec")
    extra = sorted(k for k in given if option_key(k) not in module.KEYS)
    if extra:
        flags = ", ".join(_option_flag(k) for k in extra)
        raise click.UsageError(f"{flags} does not apply to --type {kind.value}")
    both = [k for k in given if k in OPTION_KEYS and OPTION_KEYS[k][0] != k and OPTION_KEYS[k][0] in given]
    if both:  # --bias with --no-bias: neither silently wins
        raise click.UsageError(
            f"{_option_flag(OPTION_KEYS[both[0]][0])} and {_option_flag(both[0])} contradict"
        )
    data = {option_key(k): OPTION_KEYS[k][1] if k in OPTION_KEYS else v for k, v in given.items()}
    flagged = {option_key(k): _option_flag(k) for k in given}
    named = _set_keys(kind, module.KEYS, sets, data, flagged)
    for key in sorted(module.REQUIRED, key=lambda k: k == "filters"):
        if key in data:
            continue
        if key != "filters":
            windowed = kind in (Kind.CONV, Kind.DECONV, Kind.POOL)
            flag, why = (flag_of(key), _WHY.get(key, "")) if windowed else ("--" + key.replace("_", "-"), "")
            raise click.UsageError(f"--type {kind.value} needs {flag}{why}")
        groups = data.get("groups", 1)
        if groups > 1:  # without -k a layer has 1 filter, which no more than one group divides
            raise click.UsageError(
                f"--groups {groups} needs -k/--filters, a multiple of {groups} (without -k a "
                f"{kind.value} has 1 filter)"
            )
        data["filters"] = 1
    try:
        reader = Reader(
            data, kind.value, None, name=f"{kind.value}1", kind=kind, flags=True, named=named, layout=layout
        )
        return module.read(reader)
    except SpecError as e:
        raise click.UsageError(e.message) from None


def _set_keys(
    kind: Kind, keys: tuple[str, ...], sets: tuple[str, ...], data: dict[str, Any], flagged: dict[str, str]
) -> dict[str, str]:
    """Add each --set KEY=VALUE to the layer's mapping, the value read as YAML reads a spec's; return how
    errors name each key so set (--set pad). `flagged` names the flag that gave each key already given."""
    named: dict[str, str] = {}
    for item in sets:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise click.UsageError(f"--set needs KEY=VALUE, got {_quoted(repr(item))}")
        if key not in keys:
            known = ", ".join(keys) or "none"
            raise click.UsageError(f"--set {_quoted(key)} is not a key of {kind.value} (its keys: {known})")
        if key in named:
            raise click.UsageError(f"--set {key} is given twice")
        if key in flagged:
            raise click.UsageError(f"{flagged[key]} and --set {key} both give '{key}'")
        import yaml

        try:
            data[key] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise click.UsageError(f"--set {key}={_quoted(text)} is not a value a spec could hold") from None
        named[key] = f"--set {key}"
    return named


def fail(errors: list[SpecError]) -> NoReturn:
    """Print every invalid spec's one line and exit 2."""
    with guarded():
        for e in errors[:-1]:
            click.echo(visible(str(e)), err=True)
    raise Invalid(str(errors[-1]))


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--input",
    "input_",
    type=Dims(most=4),
    help="Try another input shape, e.g. 227x227x3 (as many numbers as the spec's input).",
)
@click.option(
    "--layout",
    type=click.Choice([m.value for m in Layout]),
    help="Order of the numbers of --input (and of the spec's input); default: the spec's layout.",
)
@click.option(
    "--shapes",
    type=click.Choice([m.value for m in Layout]),
    help="Order of the shapes shown in the table and JSON; default: the spec's layout.",
)
@click.option("--notes", is_flag=True, help="Show every note in full, not summed up in one line.")
@click.option(
    "--convention",
    type=click.Choice([c.value for c in Convention]),
    help="Count MACs as this tool does (torchinfo, ptflops, fvcore, thop; pytorch: FlopCounterMode's FLOPs).",
)
@click.option(
    "--no-in-place",
    "no_in_place",
    is_flag=True,
    help="The inference peak gives act and dropout tensors of their own (PyTorch's inplace=False).",
)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    help="Show blocks to this depth, deeper levels folded into their block's row (0: the top level).",
)
@click.option("--select", callback=lambda c, p, v: _run_codes(c, p, v), help="Report only these rule codes.")
@click.option("--ignore", callback=lambda c, p, v: _run_codes(c, p, v), help="Do not report these codes.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too; notes never fail.")
@output_option("The file to write")
@max_spec_size_option
@from_option
@check_options
@view_options
@format_option(
    "run", help="Output format; svg draws one network as a diagram, html a report of one or several."
)
def run(
    specs: tuple[str, ...],
    input_: tuple[int, ...] | None,
    max_spec_size: int,
    reader: str | None,
    layout: str | None,
    shapes: str | None,
    notes: bool,
    convention: str | None,
    depth: int | None,
    no_in_place: bool,
    select: set[str] | None,
    ignore: set[str] | None,
    strict: bool,
    out: str,
    fmt: str,
    check: bool,
    seed: int,
    max_memory: int,
    dtype: str,
    batch: int,
    optimizer: str,
    columns: tuple[str, ...] | None,
    explain: bool,
) -> None:
    """Resolve network specs and print every layer's shapes and counts.

    A spec is a YAML file with an input shape and a list of layers:
    'convcalc example' prints a commented one to start from, 'convcalc
    schema' the JSON Schema of every key, and the README's "The spec
    format" explains them.

    Errors and warnings are shown in full, notes summed up in one line (--notes
    shows them); JSON keeps every finding. --select, --ignore and --strict mean
    what they mean for lint.

    Exit status: 0 clean (or only warnings and notes), 1 an error finding (or a
    warning with --strict), 2 an invalid spec or usage; with several files, the highest.
    """
    import dataclasses
    import gc
    import io
    import os

    from .inputs import Source
    from .loader import read
    from .resolver import resolve
    from .rules import selected

    if Format(fmt) is Format.SVG and len(specs) > 1:
        raise click.UsageError("--format svg draws one network: give one spec")
    if (
        out != "-"
        and os.path.exists(out)
        and any(os.path.exists(p) and os.path.samefile(p, out) for p in specs)
    ):
        raise click.UsageError(f"-o {_quoted(out)} is one of the specs: give another file")
    gc.disable()  # a short-lived process that builds many small acyclic objects: collections only cost time
    results: list[Network | SpecError] = []
    sizing = dataclasses.replace(_sizing(dtype, batch, optimizer), in_place=not no_in_place)
    chosen = Layout(layout) if layout else None
    flags = input_ is not None or layout is not None  # a misread input is then fixed by the options
    source = Source(input_flag="--input" if input_ else None, layout_flag="--layout" if flags else None)
    for path in specs:
        try:
            net = resolve(
                read(path, max_size=max_spec_size, reader=reader),
                input=input_,
                sizing=sizing,
                layout=chosen,
                source=source,
            )
            net = _checked(net, seed=seed, max_memory=max_memory) if check else net
            kept = selected(net.findings, select=select, ignore=ignore)
            order = Layout(shapes) if shapes else chosen  # default: the layout the input was read in
            results.append(dataclasses.replace(net, findings=kept, shapes=order))
        except SpecError as e:
            results.append(e)
        except ConvcalcError as e:  # the memory guard: this file is refused, the others still run
            results.append(SpecError(str(e), file=path))
    nets = [r for r in results if isinstance(r, Network)]
    errors = [r for r in results if isinstance(r, SpecError)]
    counted = None if convention is None else Convention(convention)
    view = View(columns=columns, explain=explain, notes=notes, depth=depth, convention=counted)
    stream = sys.stdout if out == "-" else io.StringIO()
    with guarded():
        if Format(fmt) is Format.JSON:  # one object per file asked for, invalid ones included
            write_json(results, stream, view, several=len(specs) > 1)
        elif nets:
            render(nets, Format(fmt), stream, view, err=sys.stderr)
    if out != "-" and isinstance(stream, io.StringIO) and stream.getvalue():
        from .write import save

        try:
            save(stream.getvalue(), out)
        except OSError as e:
            raise Invalid(f"convcalc: error: cannot write {_quoted(out)}: {e.strerror}") from None
    if errors:
        fail(errors)
    sys.exit(exit_code(nets, strict=strict))


def _codes(ctx: click.Context, param: click.Parameter, value: str | None) -> set[str] | None:
    """Comma-separated rule codes, each one known."""
    from .lint import RULES

    if value is None:
        return None
    codes = {c.strip() for c in value.split(",") if c.strip()}
    known = [code for code in RULES if code not in ("spec-invalid", "spec-unreadable", "check-mismatch")]
    unknown = sorted(codes - set(known))
    if unknown:
        raise click.BadParameter(
            f"unknown rule code {', '.join(unknown)} (expected: {', '.join(known)}; "
            "spec-invalid and spec-unreadable always fail and check-mismatch needs run --check)"
        )
    return codes


def _run_codes(ctx: click.Context, param: click.Parameter, value: str | None) -> set[str] | None:
    """Rule codes as lint takes them, and check-mismatch, which run --check can find."""
    if value is None:
        return None
    codes = {c.strip() for c in value.split(",") if c.strip()}
    rest = _codes(ctx, param, ",".join(sorted(codes - {"check-mismatch"})) or None)
    return (rest or set()) | (codes & {"check-mismatch"})


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@format_option("lint", help="text for people, github for workflow annotations, sarif for code scanning.")
@click.option("--select", callback=_codes, help="Report only these rule codes (comma-separated).")
@click.option("--ignore", callback=_codes, help="Do not report these rule codes (comma-separated).")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too; notes never fail.")
@click.option(
    "--exclude",
    metavar="GLOB",
    multiple=True,
    help="Skip matching files and directories in directory walks (repeatable): a glob without / "
    "matches names at any depth, one with / the path.",
)
@max_spec_size_option
@from_option
def lint(
    paths: tuple[str, ...],
    fmt: str,
    select: set[str] | None,
    ignore: set[str] | None,
    strict: bool,
    exclude: tuple[str, ...],
    max_spec_size: int,
    reader: str | None,
) -> None:
    """Lint spec files and directories (*.yaml, *.yml; - reads stdin) the way CI expects.

    Directory walks skip hidden directories, virtual environments,
    node_modules, what .gitignore ignores (with git), symbolic links that
    leave the tree, and YAML files without a top-level layers key.

    Exit status: 0 clean, 1 an error finding (or a warning with --strict),
    2 a file that cannot be read or is not a valid spec, or a directory
    holding no spec file; the highest wins.
    """
    import gc

    from .lint import lint as run_lint
    from .lint import write
    from .walk import shown

    gc.disable()  # one short-lived process for many files
    report = run_lint(
        paths, select=select, ignore=ignore, exclude=exclude, max_spec_size=max_spec_size, reader=reader
    )
    with guarded():
        for note in report.notes:
            click.echo(f"convcalc lint: note: {note}", err=True)
        click.echo(write(report, Format(fmt)), nl=False)
        for directory in report.empty:
            click.echo(f"convcalc lint: error: no spec files found under {shown(directory)}", err=True)
    sys.exit(report.exit_code(strict=strict))


@main.command()
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@output_option("The YAML spec to write")
@click.option(
    "--flat",
    is_flag=True,
    help="One line per layer: repeated structures are not folded into blocks.",
)
@from_option
@max_spec_size_option
def convert(source: str, out: str, flat: bool, reader: str | None, max_spec_size: int) -> None:
    """Write a Caffe, Darknet, ONNX or Keras model as a YAML spec that gives the same numbers.

    Repeated structures become blocks where a block keeps the source's layer names.

    \b
    convcalc convert deploy.prototxt -o net.yaml
    convcalc convert yolov3-tiny.cfg > yolov3-tiny.yaml
    """
    import os

    from .build import build
    from .convert import to_yaml
    from .loader import parse, read_data
    from .resolver import resolve

    try:
        name, data = read_data(source, max_size=max_spec_size, reader=reader)
        for key in ("blocks", "include"):
            if isinstance(data, dict) and key in data:
                line, column = getattr(data, "at", {}).get(key, (None, None))
                raise SpecError(
                    f"a spec with '{key}' is a spec already: convert writes one from another format's "
                    "model or from a flat YAML list of layers",
                    file=name,
                    line=line,
                    column=column,
                )
        resolve(build(data, file=name))  # the source must make a valid network before it is written
        text = to_yaml(data, source=name, flat=flat)
        parse(text)  # and so must what is written
    except SpecError as e:
        raise Invalid(str(e)) from None
    if out == "-":
        with guarded():
            click.echo(text, nl=False)
        return
    if source != "-" and os.path.exists(out) and os.path.samefile(source, out):
        raise click.UsageError(f"-o {_quoted(out)} is the source itself: give another file")
    from .write import save  # whole or not at all, as run -o writes

    try:
        save(text, out)
    except OSError as e:
        raise Invalid(f"convcalc: error: cannot write {_quoted(out)}: {e.strerror}") from None


@main.command()
def schema() -> None:
    """Print the JSON Schema of spec files, for editors and CI (draft 2020-12)."""
    from .schema import text

    with guarded():
        click.echo(text(), nl=False)


@main.command()
def example() -> None:
    """Print a commented starter spec (a small CNN) that lints clean: convcalc example > net.yaml."""
    from importlib.resources import files

    with guarded():
        click.echo(files("convcalc").joinpath("example.yaml").read_text(encoding="utf-8"), nl=False)


class Range(click.ParamType):  # type: ignore[type-arg]
    """A range of sizes: 400..800."""

    name = "LOW..HIGH"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Parse LOW..HIGH into two positive integers, failing as a usage error."""
        if isinstance(value, tuple):
            return value
        low, dots, high = str(value).partition("..")
        if not dots or not low.strip().isdigit() or not high.strip().isdigit():
            self.fail(f"expected LOW..HIGH like 400..800, got {value!r}", param, ctx)
        pair = int(low), int(high)
        if not 1 <= pair[0] <= pair[1]:
            self.fail(f"expected 1 <= LOW <= HIGH, got {value!r}", param, ctx)
        return pair


def _thresholds(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[Any, ...]:
    """Each --fail-on parsed, failing as a usage error."""
    from .diff import threshold

    try:
        return tuple(threshold(v) for v in value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@main.command()
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    metavar="METRIC>CHANGE",
    callback=_thresholds,
    help="Exit 1 when a total changes past this (repeatable): params>+5%, macs>+1G, peak_memory>+16MiB, "
    "params>0, macs<-10%. Metrics: params, macs, activations, activation_memory, peak_memory, "
    "training_memory.",
)
@max_spec_size_option
@from_option
@format_option("diff", help="table for people, json for tools, markdown for a pull-request comment.")
def diff(
    old: str, new: str, fail_on: tuple[Any, ...], max_spec_size: int, reader: str | None, fmt: str
) -> None:
    """Compare two networks: each a spec or a saved 'run --format json' report.

    Layers are matched by name (added, removed, changed: output shape,
    params, MACs, receptive field), and the totals compared. A spec is
    resolved with a report's element type, batch and optimizer when the
    other side is one.

    Exit status: 0, or 1 when a --fail-on threshold is crossed (each one
    crossed is a line on stderr), 2 an invalid spec, report or usage.

    \b
    convcalc diff specs/torchvision/resnet18.yaml specs/torchvision/resnet34.yaml
    convcalc diff base.json specs/net.yaml --format markdown --fail-on 'params>+5%'
    """
    from . import diff as d

    try:
        sides = d.load((old, new), max_size=max_spec_size, reader=reader)
    except SpecError as e:
        raise Invalid(str(e)) from None
    result = d.diff(sides[0], sides[1])
    failed = d.crossed(result, fail_on)
    text = d.render(result, Format(fmt), failed)
    with guarded():
        click.echo(text, nl=False)
        for line in failed:
            click.echo(f"convcalc diff: {line}", err=True)
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--in", "in_", type=Count(), help="Input size N on one axis (one layer).")
@click.option("--out", metavar="N|same", help="Wanted output size, or same: ceil(N/S) (one layer).")
@click.option("--filter", "--size", "size", type=Count(), help="Filter size F (else 1-11).")
@click.option("--stride", type=Count(), help="Stride S (else 1 to the window's extent).")
@click.option("--pad", type=Count(0), help="Padding P on each side (else 0 to D(F-1)).")
@click.option("--dilation", type=Count(), default=1, show_default=True, help="Dilation D.")
@click.option(
    "--range",
    "span",
    type=Range(),
    help="With SPEC: the input sizes to try (default: a quarter below to a half above the spec's).",
)
@click.option(
    "--near", type=Count(), multiple=True, help="With SPEC: the sizes closest to N, below and above."
)
@format_option("solve")
@max_spec_size_option
@from_option
def solve(
    spec: str | None,
    in_: int | None,
    out: str | None,
    size: int | None,
    stride: int | None,
    pad: int | None,
    dilation: int,
    span: tuple[int, int] | None,
    near: tuple[int, ...],
    fmt: str,
    max_spec_size: int,
    reader: str | None,
) -> None:
    """List the filters, strides and pads that take input N to an output size;
    or, given a SPEC, the network input sizes it takes.

    One layer: exact solutions first, then ones PyTorch floors that leave
    only padding unused; never one that drops input. Exit status 1 when there
    is none.

    A SPEC: every size in a range is resolved; exact ones have every layer's
    size a whole number, working ones lose no input (a floor may leave padding
    unused), with the rule they follow (572 + 16k, multiples of 32) where one
    step describes them. A square input varies on every axis together.
    Exit status 1 when no size in the range works.

    \b
    convcalc solve --in 7 --filter 3 --stride 3 --out 3
    convcalc solve --in 224 --filter 11 --out 55
    convcalc solve specs/unet.yaml --near 600
    """
    if spec is not None:
        given = [f for f, v in (("--in", in_), ("--out", out), ("--filter", size), ("--stride", stride),
                                ("--pad", pad)) if v is not None]  # fmt: skip
        if given:
            raise click.UsageError(f"{given[0]} solves one layer: with a SPEC, give --range or --near")
        _solve_spec(spec, span, near, Format(fmt), max_spec_size, reader)
        return
    if span is not None or near:
        raise click.UsageError("--range and --near need a SPEC")
    if in_ is None or out is None:
        raise click.UsageError(f"Missing option '{'--in' if in_ is None else '--out'}' (or give a SPEC).")
    from .solve import TooBroad, parse_target, render, search

    try:
        target = parse_target(out)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="'--out'") from None
    try:
        found = search(n=in_, out=target, size=size, stride=stride, pad=pad, dilation=dilation)
    except TooBroad as e:
        raise click.UsageError(f"the search is too broad: {e}") from None
    with guarded():
        click.echo(render(found, Format(fmt)), nl=False)
    sys.exit(0 if found.solutions else 1)


def _solve_spec(
    path: str,
    span: tuple[int, int] | None,
    near: tuple[int, ...],
    fmt: Format,
    max_spec_size: int,
    reader: str | None,
) -> None:
    """`solve SPEC`: the input sizes the network takes, in text or JSON."""
    from . import sizes
    from .loader import read

    if fmt not in (Format.TABLE, Format.JSON):
        raise click.UsageError(f"solve SPEC writes table or json, not {fmt.value}")
    try:
        spec = read(path, max_size=max_spec_size, reader=reader)
        if not sizes.positions(spec):
            raise click.UsageError(f"{path}: the input {spec.input} has no spatial axis to size")
        low, high = span or (None, None)
        solved = sizes.search(spec, low=low, high=high)
        nearest = sizes.nearest_all(solved, near)
    except SpecError as e:
        raise Invalid(str(e)) from None
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    with guarded():
        if fmt is Format.JSON:
            from .present import json_text

            click.echo(json_text(sizes.to_json(solved, nearest)))
        else:
            click.echo(sizes.text(solved, nearest), nl=False)
    sys.exit(0 if any(a.sizes(sizes.Fit.WORKS) for a in solved.axes) else 1)


class Amount(click.ParamType):  # type: ignore[type-arg]
    """A count of MACs or parameters: 1G, 5M, 300k (powers of 1000)."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Parse into a count, failing as a usage error."""
        if isinstance(value, int):
            return value
        from .fit import parse_count

        try:
            return parse_count(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--memory", type=Bytes(), help="Memory budget: 24GiB, 200M (K, M, G, T are powers of 1024).")
@click.option(
    "--macs", type=Amount(), help="MACs budget per example: 1G, 600M (powers of 1000); grows the input."
)
@click.option("--params", type=Amount(), help="Parameter budget: 5M (powers of 1000); grows the input.")
@click.option(
    "--find",
    type=click.Choice(["batch", "input"]),
    help="What to make as large as fits: the batch (default with --memory alone) or the input size "
    "(default with --macs or --params).",
)
@click.option("--batch", type=Count(), help="The batch of --find input's memory (default 1).")
@click.option(
    "--input",
    "input_",
    type=Dims(most=4),
    help="Another input shape than the spec's (for --find input: the shape scaled), as run --input.",
)
@click.option(
    "--dtype",
    type=click.Choice([m.value for m in Dtype]),
    default="float32",
    show_default=True,
    help="Element type for bytes.",
)
@click.option(
    "--optimizer",
    type=click.Choice([m.value for m in Optimizer]),
    default="adam",
    show_default=True,
    help="Optimizer of the training estimate: 0, 1 or 2 extra values per parameter.",
)
@click.option(
    "--checkpointing", is_flag=True, help="Keep activations only at ceil(sqrt(L))-layer boundaries."
)
@max_spec_size_option
@from_option
@format_option("fit")
def fit(
    spec: str,
    memory: int | None,
    macs: int | None,
    params: int | None,
    find: str | None,
    batch: int | None,
    input_: tuple[int, ...] | None,
    dtype: str,
    optimizer: str,
    checkpointing: bool,
    max_spec_size: int,
    reader: str | None,
    fmt: str,
) -> None:
    """Will it fit? The largest batch in a memory budget, or the largest input in a budget.

    \b
    convcalc fit specs/torchvision/resnet50.yaml --memory 24GiB
    convcalc fit specs/torchvision/resnet50.yaml --macs 1G
    convcalc fit specs/unet_padded.yaml --find input --memory 2GiB

    Training keeps every activation (x 2, with its gradient) plus weights,
    gradients and optimizer states; inference the live-tensor peak and the
    weights once. Workspace, fragmentation, framework overhead and the CUDA
    context are not estimated.
    """
    import dataclasses

    from . import fit as core
    from .inputs import Source, check_rank
    from .loader import read
    from .resolver import resolve

    grow = find or ("input" if macs is not None or params is not None else "batch")
    if grow == "batch":
        if macs is not None or params is not None:
            raise click.UsageError(
                "--macs and --params limit the input size (--find input); the batch is found under --memory"
            )
        if memory is None:
            raise click.UsageError("give --memory for the largest batch (or --macs/--params for the input)")
        if batch is not None:
            raise click.UsageError("--batch is what --find batch finds: give it with --find input")
    elif memory is None and macs is None and params is None:
        raise click.UsageError("give a budget for --find input: --macs, --params or --memory")
    sizing = Sizing(dtype=Dtype(dtype), batch=batch or 1, optimizer=Optimizer(optimizer))
    try:
        loaded = read(spec, max_size=max_spec_size, reader=reader)
        if grow == "batch":
            net = resolve(loaded, input=input_, sizing=sizing, source=Source(input_flag="--input"))
            found = core.batches(net, memory=memory or 0, checkpointing=checkpointing)
            text = core.render(found, net, Format(fmt))
        else:
            if input_ is not None:
                check_rank(loaded, input_, loaded.layout, "--input")
                loaded = dataclasses.replace(loaded, input=input_)
            budget = core.Budget(macs=macs, params=params, memory=memory)
            grown = core.sizes(loaded, budget=budget, sizing=sizing, checkpointing=checkpointing)
            text = core.render(grown, loaded, Format(fmt))
    except SpecError as e:
        raise Invalid(str(e)) from None
    with guarded():
        click.echo(text, nl=False)


if __name__ == "__main__":
    main(prog_name="convcalc")
