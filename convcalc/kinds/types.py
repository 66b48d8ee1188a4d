"""What a layer kind is: the parts every module under convcalc.kinds defines (mypy checks each one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..model import Field, Held, Kind, Layer, Margins, Refusal, Resolved, Shape

if TYPE_CHECKING:
    from ..build import Reader
    from ..kernels import Array


class LayerKind(Protocol):
    """Everything convcalc knows about one layer kind; the stages ask it, never a chain of isinstance."""

    @property
    def KIND(self) -> Kind:
        """The kind, whose value is the spec's `type:` name."""
        ...

    @property
    def KEYS(self) -> tuple[str, ...]:
        """The kind's own spec keys, besides type, name, allow and expect, in the order errors list them."""
        ...

    @property
    def REQUIRED(self) -> tuple[str, ...]:
        """The keys a spec must give."""
        ...

    @property
    def HELD(self) -> Held:
        """What the layer keeps of its output: activations of its own, none (in place), or a view."""
        ...

    @property
    def MERGE(self) -> bool:
        """Whether it reads several inputs (add, concat): every other kind reads exactly one."""
        ...

    @property
    def ELEMENTWISE(self) -> bool:
        """Whether it keeps the shape and treats each position on its own (bn, act): no window to change."""
        ...

    def read(self, r: Reader) -> Layer:
        """The typed layer from a mapping (a spec line, or `convcalc layer`'s options); else SpecError."""
        ...

    def resolve(self, index: int, layer: Layer, inputs: tuple[Shape, ...], *, file: str | None) -> Resolved:
        """The shape rule and counts: output shape, params, non-trainable params, FC-equivalent and MACs."""
        ...

    def field(self, r: Resolved, before: tuple[Field, ...]) -> tuple[Field, ...] | None:
        """The receptive-field step on spatial output; None once every output sees the whole input."""
        ...

    def margins(self, r: Resolved, before: Margins) -> Margins:
        """The padding rows at the edges of the output, given those of the input: a pad layer adds its
        sides, a crop removes its amounts, kinds that keep positions (elementwise) keep them."""
        ...

    def size_lines(self, r: Resolved) -> list[str]:
        """--explain's output-size formula of a kind without a sliding window (windows have theirs)."""
        ...

    def params_line(self, r: Resolved) -> str:
        """The parameter count's formula with its numbers, for --explain."""
        ...

    def macs_line(self, r: Resolved) -> str:
        """The MAC count's formula with its numbers, for --explain (a layer with output)."""
        ...

    def type_cell(self, r: Resolved) -> str:
        """The table's type cell: conv, max pool, relu."""
        ...

    def window_cell(self, r: Resolved) -> str:
        """The table's window cell: 5/1/2, -> 7x7, p 0.5, or blank."""
        ...

    def json_fields(self, r: Resolved) -> dict[str, Any]:
        """The kind's own JSON fields (mode, groups, affine, fn, p ...); the others stay null."""
        ...

    def refusals(self, r: Resolved) -> tuple[Refusal, ...]:
        """What PyTorch refuses of the layer on its input (errors, each with its fixes); () if nothing."""
        ...

    def runnable(self, r: Resolved, channels: int) -> bool:
        """Whether PyTorch would run the layer on `channels` input channels (its refusals)."""
        ...

    def scratch(self, r: Resolved) -> int:
        """Bytes of the temporaries `forward` makes besides its input and output."""
        ...

    def shares_input(self, r: Resolved) -> bool:
        """Whether `forward` returns its input itself, so a check holds no second copy."""
        ...

    def forward(self, xs: tuple[Array, ...], r: Resolved) -> Array:
        """The layer run with numpy on its inputs (channels first; one but for merges), with zero
        weights: for --check."""
        ...
