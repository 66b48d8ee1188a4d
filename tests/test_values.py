"""`values.frozen` behaves as `@dataclass(frozen=True, slots=True)` does, at a tenth of the start-up cost."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc import grid, inputs, model, present, streams, write
from convcalc.values import frozen


class _Body:
    """The same fields for both decorators: required, defaulted, a factory, and one left out of eq."""

    name: str
    size: tuple[int, ...]
    stride: int | None = None
    keys: Mapping[str, int] = field(default_factory=dict, compare=False)
    ratio: float = 0.5
    KIND: ClassVar[str] = "twin"

    @property
    def area(self) -> int:
        """A property survives the class being made again."""
        n = 1
        for s in self.size:
            n *= s
        return n


Slow: Any = dataclass(frozen=True, slots=True)(type("Twin", (), dict(vars(_Body))))
Fast: Any = frozen(type("Twin", (), dict(vars(_Body))))

values = st.builds(
    lambda *a: a,
    st.text(max_size=3),
    st.lists(st.integers(-3, 3), max_size=3).map(tuple),
    st.none() | st.integers(0, 3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sampled_from([0.5, 1.0, float("nan"), -0.0, 0.0]),
)


@given(values, values)
def test_equality_hash_and_repr_match_dataclasses(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    slow_a, slow_b, fast_a, fast_b = Slow(*a), Slow(*b), Fast(*a), Fast(*b)
    assert (fast_a == fast_b) is (slow_a == slow_b)
    assert (fast_a != fast_b) is (slow_a != slow_b)
    assert (fast_a == fast_a) is (slow_a == slow_a)  # nan: identity first, as tuples compare
    assert hash(fast_a) == hash(slow_a)
    assert repr(fast_a) == repr(slow_a)
    assert fast_a.area == slow_a.area


def test_keywords_defaults_and_factories() -> None:
    one = Fast("a", (2, 3), keys={"x": 1})
    assert (one.name, one.size, one.stride, one.keys, one.ratio) == ("a", (2, 3), None, {"x": 1}, 0.5)
    assert Fast(name="a", size=(1,)).keys == {}
    assert Fast("a", (1,)).keys is not Fast("a", (1,)).keys  # a fresh dict each time
    assert Fast("a", (1,), 2, {}, 0.25) == Fast(ratio=0.25, size=(1,), name="a", stride=2)
    assert Fast("a", (1,), keys={"x": 1}) == Fast("a", (1,))  # compare=False
    assert Fast("a", size=(1,), ratio=2.0).ratio == 2.0
    assert Fast(*("a", (1,), 2, {"y": 2}, 1.5)) == Fast(size=(1,), name="a", keys={}, stride=2, ratio=1.5)
    assert Fast.KIND == "twin"
    assert "KIND" not in {f.name for f in dataclasses.fields(Fast)}


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "Twin.__init__() missing required arguments: 'name', 'size'"),
        (("a",), {}, "Twin.__init__() missing required arguments: 'size'"),
        ((), {"size": (1,), "ratio": 1.0}, "Twin.__init__() missing required arguments: 'name'"),
        (("a",), {"stride": 1}, "Twin.__init__() missing required arguments: 'size'"),
        (("a", (1,)), {"colour": 1}, "Twin.__init__() got an unexpected keyword argument 'colour'"),
        (("a", (1,)), {"name": "b"}, "Twin.__init__() got multiple values for argument 'name'"),
        (("a", (1,), 1, {}, 0.5, 6), {}, "Twin.__init__() takes 6 positional arguments but 7 were given"),
    ],
)
def test_bad_calls_raise_type_error(args: tuple[Any, ...], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as caught:
        Fast(*args, **kwargs)
    assert str(caught.value) == message
    with pytest.raises(TypeError):
        Slow(*args, **kwargs)


def test_frozen_and_slotted() -> None:
    one = Fast("a", (1,))
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'name'"):
        one.name = "b"
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'other'"):
        one.other = 1
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'name'"):
        del one.name
    assert not hasattr(one, "__dict__")
    assert Fast.__slots__ == Slow.__slots__ == ("name", "size", "stride", "keys", "ratio")
    assert Fast.__match_args__ == Slow.__match_args__
    match one:
        case Fast(name, size):
            assert (name, size) == ("a", (1,))
        case _:
            pytest.fail("no match")


def test_dataclasses_functions_work() -> None:
    one = Fast("a", (1,), 2)
    assert dataclasses.is_dataclass(one)
    assert dataclasses.is_dataclass(Fast)
    fields = dataclasses.fields(Fast)
    assert [f.name for f in fields] == [f.name for f in dataclasses.fields(Slow)]
    assert [(f.compare, f.repr, f.type) for f in fields] == [
        (f.compare, f.repr, f.type) for f in dataclasses.fields(Slow)
    ]
    assert dataclasses.replace(one, stride=3) == Fast("a", (1,), 3)
    assert dataclasses.asdict(one) == dataclasses.asdict(Slow("a", (1,), 2))
    assert dataclasses.astuple(one) == ("a", (1,), 2, {}, 0.5)


def test_signature_as_dataclasses_shows_it() -> None:
    assert str(inspect.signature(Fast)) == str(inspect.signature(Slow))
    assert str(inspect.signature(model.Where)) == (
        "(line: 'int | None' = None, column: 'int | None' = None, "
        "keys: 'Mapping[str, tuple[int, int]]' = <factory>, file: 'str | None' = None, "
        "context: 'str' = '') -> None"
    )


def test_copy_and_pickle() -> None:
    shape = model.Shape((32, 32), 3)
    assert copy.copy(shape) == shape
    assert copy.deepcopy(shape) == shape
    assert pickle.loads(pickle.dumps(shape)) == shape
    finding = model.Finding(model.Severity.INFO, model.Code.GROUPS_MISMATCH, "m", line=3)
    assert pickle.loads(pickle.dumps(finding)) == finding


def test_methods_the_class_writes_win() -> None:
    @frozen
    class Named:
        """A repr of its own."""

        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

    assert repr(Named("x")) == "<x>"
    assert Named("x") == Named("x")


def test_what_it_does_not_do_is_refused() -> None:
    with pytest.raises(ValueError, match="mutable default <class 'list'> for field a"):
        frozen(type("Bad", (), {"__annotations__": {"a": "list[int]"}, "a": []}))
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        frozen(type("Bad", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
    with pytest.raises(TypeError, match="cannot inherit fields"):
        frozen(type("Bad", (Fast,), {"__annotations__": {"c": "int"}}))
    with pytest.raises(TypeError, match="neither init=False nor kw_only"):
        frozen(type("Bad", (), {"__annotations__": {"a": "int"}, "a": field(default=1, init=False)}))
    with pytest.raises(TypeError, match="Cannot overwrite attribute __setattr__"):
        frozen(type("Bad", (), {"__annotations__": {"a": "int"}, "__setattr__": lambda *a: None}))


@pytest.mark.parametrize(
    "cls",
    [
        model.Where,
        model.Expect,
        model.Spec,
        model.Shape,
        model.Axis,
        model.Field,
        model.Finding,
        model.Resolved,
        model.Sizing,
        model.LayerCheck,
        model.Network,
        present.Column,
        grid.Column,
        streams.Glyphs,
        inputs.Source,
        write.View,
    ],
)
def test_start_up_values_are_frozen_slotted_dataclasses(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    assert "__slots__" in vars(cls)
    assert "__dict__" not in vars(cls)
    assert cls.__setattr__.__module__ == "convcalc.values"  # type: ignore[attr-defined]
