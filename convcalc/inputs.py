"""How the numbers of an input are read: another rank refused, a likely misreading named."""

from __future__ import annotations

from . import formulas as fm
from .errors import SpecError
from .model import Layout, Spec
from .values import frozen

_MEANING = {1: "a flat vector", 2: "1 spatial axis and channels", 3: "2 spatial axes and channels"}


@frozen
class Source:
    """Where the input and its layout came from, so that a fix names what to change."""

    input_flag: str | None = None
    """The option that gave the input (`--in`, `--input`); None when the spec's `input` did."""
    layout_flag: str | None = None
    """The option that sets the layout (`--layout`); None when only the spec's `layout` key can."""

    def layout_fix(self, layout: Layout) -> str:
        """`--layout chw` or the spec's `layout: chw`."""
        return f"{self.layout_flag} {layout.value}" if self.layout_flag else f"layout: {layout.value}"

    def input_fix(self, dims: tuple[int, ...]) -> str:
        """`--in 28x28x1` or the spec's `input: 28x28x1`."""
        return f"{self.input_flag} {fm.product(dims)}" if self.input_flag else f"input: {fm.product(dims)}"


def _meaning(rank: int) -> str:
    return _MEANING.get(rank, f"{rank - 1} spatial axes and channels")


def _suggest(given: tuple[int, ...], spec: Spec, layout: Layout) -> tuple[int, ...] | None:
    """The given numbers at the spec's rank: its channels added, or a leading batch of 1 dropped
    (and PyTorch's channels-first order turned round for an hwc spec)."""
    want = len(spec.input)
    if len(given) < want:
        rest = len(spec.input) - len(given)
        return (*given, *spec.input[-rest:]) if layout is Layout.HWC else (*spec.input[:rest], *given)
    dims = given
    while len(dims) > want and dims[0] == 1:
        dims = dims[1:]
    if len(dims) != want:
        return None
    if layout is Layout.HWC and len(dims) > 2 and dims[0] <= 4 < dims[-1]:
        dims = (*dims[1:], dims[0])  # 1x3x224x224, PyTorch's NCHW: 224x224x3
    return dims


def check_rank(spec: Spec, given: tuple[int, ...], layout: Layout, flag: str) -> None:
    """Refuse an input with another number of axes than the spec's: it would silently change the
    network (a 2-D net read as 1-D or 3-D)."""
    want = len(spec.input)
    if len(given) == want:
        return
    message = (
        f"{flag} {fm.product(given)} has {len(given)} numbers, but the spec's input "
        f"{fm.product(spec.input)} has {want} ({_meaning(want)})"
    )
    suggestion = _suggest(given, spec, layout)
    if suggestion is not None:
        message += f"; did you mean {fm.product(suggestion)}?"
    line, column = spec.input_where
    raise SpecError(message, file=spec.file, line=line, column=column)


def misreading(dims: tuple[int, ...], layout: Layout, source: Source) -> tuple[str, tuple[str, ...]] | None:
    """How these numbers may have been misread, with the fixes: channels where spatial sizes were
    meant (3x224x224 in hwc, 224x224x3 in chw, 1x8000 for PyTorch's (C, L) audio), or an image
    without its channels (28x28, which reads as 28 positions of 28 channels)."""
    hwc = layout is Layout.HWC
    other = Layout.CHW if hwc else Layout.HWC
    first, last = (dims[0], dims[-1]) if hwc else (dims[-1], dims[0])
    read = fm.product(dims)
    if len(dims) == 2 and dims[0] == dims[1] > 1:
        n = dims[0]
        image = (n, n, 1) if hwc else (1, n, n)
        return (
            f"input {read} is read as 1-D: {n} positions with {n} channels (layout {layout.value}); "
            f"for a {n}x{n} image with one channel write {fm.product(image)} (a 1-D signal of {n} "
            f"channels is read as written)",
            (source.input_fix(image),),
        )
    if len(dims) < 2 or not (first <= 4 < last):
        return None
    if len(dims) > 2 and (dims[0] == dims[1] if hwc else dims[-1] == dims[-2]):
        return None  # square as written (4x4x512, a generator's 1x1x100): the channels are where they say
    spatial, channels = (dims[:-1], dims[-1]) if hwc else (dims[1:], dims[0])
    axes = fm.plural(spatial[0], "position") if len(spatial) == 1 else fm.product(spatial)
    where = "first" if hwc else "last"
    fix = source.layout_fix(other)
    how = f"give {fix}" if source.layout_flag else f"add '{fix}'"
    return (
        f"input {read} is read as {axes} with {channels} channels (layout {layout.value}); "
        f"if the {first} comes {where} as channels, {how}",
        (fix,),
    )
