"""The block-argument evaluator: exact values, Python's meaning, refusals with their column, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.expr import LIMIT, MAX_DEPTH, MAX_LENGTH, ExprError, parse


def make_divisible(v: int, divisor: int = 8) -> int:
    """torchvision's _make_divisible, written out as MobileNetV2 has it (min_value = divisor)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


MAKE_DIVISIBLE = "max(8, (v + 4) // 8 * 8) + (8 if max(8, (v + 4) // 8 * 8) * 10 < 9 * v else 0)"


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("4 * width", {"width": 64}, 256),  # ResNet-50's bottleneck out of layer1
        ("4 * width", {"width": 512}, 2048),
        ("width * groups // 32 * 4", {"width": 128, "groups": 32}, 512),
        ("c * 6", {"c": 24}, 144),  # MobileNetV2's expansion
        ("max(8, (c + 4) // 8 * 8)", {"c": 32 * 11 // 10}, 32),  # EfficientNet-B2 rounding 35.2 -> 32
        ("max(8, (c + 4) // 8 * 8)", {"c": 36}, 40),
        ("max(8, (c + 4) // 8 * 8)", {"c": 3}, 8),
        ("max(8, (c * 6 + 4) // 8 * 8) if s == 1 else c", {"c": 32, "s": 1}, 192),
        ("max(8, (c * 6 + 4) // 8 * 8) if s == 1 else c", {"c": 32, "s": 2}, 32),
        ("s == 1 and cin == cout", {"s": 1, "cin": 24, "cout": 24}, True),
        ("s == 1 and cin == cout", {"s": 2, "cin": 24, "cout": 24}, False),
        ("-7 // 2", {}, -4),
        ("-7 % 3", {}, 2),
        ("7 % -3", {}, -2),
        ("1 < a <= 3 < b", {"a": 3, "b": 4}, True),
        ("1 < a <= 3 < b", {"a": 3, "b": 2}, False),
        ("proj + 1", {"proj": True}, 2),
        ("not proj", {"proj": False}, True),
        ("a or b", {"a": 0, "b": 5}, 5),
        ("min(a, b, 3, 1_000)", {"a": 7, "b": 4}, 3),
        ("(c +\n 2) * 2", {"c": 1}, 6),
        ("  c", {"c": 9}, 9),
    ],
)
def test_values(text: str, env: dict[str, int], expected: int) -> None:
    value = parse(text).evaluate(env)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("v", [16, 24, 32, 35, 36, 44, 67, 96, 100, 1280, 1281, 3, 1])
def test_make_divisible(v: int) -> None:
    assert parse(MAKE_DIVISIBLE).evaluate({"v": v}) == make_divisible(v)


def test_names_in_order_of_first_use_with_columns() -> None:
    expr = parse("max(8, (c * 6 + 4) // 8 * 8) if s == 1 else c")
    assert expr.names == ("s", "c")
    assert expr.columns == (32, 8)
    assert expr.column_of("c") == 8
    assert expr.constant is None
    assert parse("(4 + 4) * 8 // 3").constant == 21
    assert parse("64").constant == 64
    assert parse("1 // 0 if 0 else 2").constant == 2


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("c / 2", 2, "`/` is not allowed: use `//` for integer division"),
        ("c ** 2", 2, "`**` is not allowed: there are no powers; write the product, e.g. `c * c`"),
        ("(c) ^ 2", 4, "`^` is not allowed: there are no bitwise operators"),
        ("c & 1", 2, "`&` is not allowed: there are no bitwise operators; use `and`"),
        ("c | 1", 2, "`|` is not allowed: there are no bitwise operators; use `or`"),
        ("c << 1", 2, "`<<` is not allowed: there are no bit shifts"),
        ("c >> 1", 2, "`>>` is not allowed: there are no bit shifts"),
        ("a @ b", 2, "`@` is not allowed: there is no matrix product"),
        ("~c", 0, "`~c` is not allowed: there are no bitwise operators"),
        ("c.real", 0, "`c.real` is not allowed: attribute access; an expression has integers"),
        ("x + c[0]", 4, "`c[0]` is not allowed: subscripts"),
        ("abs(c)", 0, "`abs(c)` is not allowed: the only functions are min() and max()"),
        ("c.__class__()", 0, "`c.__class__()` is not allowed: the only functions are min() and max()"),
        ("max(c)", 0, "`max(c)` is not allowed: max() needs at least 2 arguments"),
        ("min(a, b, key=c)", 0, "`min(a, b, key=c)` is not allowed: min() takes positional arguments only"),
        ("min(*a, 2)", 0, "`min(*a, 2)` is not allowed: min() takes no `*` unpacking"),
        ("1.5 * c", 0, "`1.5` is not allowed: only integer literals"),
        ("c + 'x'", 4, "`'x'` is not allowed: only integer literals"),
        ("c if True else 1", 5, "`True` is not allowed: no boolean literals"),
        ("None", 0, "`None` is not allowed: only integer literals"),
        ("(lambda: 1)", 1, "`lambda: 1` is not allowed: lambdas"),
        ("[c for c in d]", 0, "`[c for c in d]` is not allowed: comprehensions"),
        ("(y := 2)", 1, "`y := 2` is not allowed: assignment (`:=`)"),
        ("f'{c}'", 0, "`f'{c}'` is not allowed: f-strings"),
        ("(1, 2)", 0, "`(1, 2)` is not allowed: tuples"),
        ("[c]", 0, "`[c]` is not allowed: lists"),
        ("{c: 1}", 0, "`{c: 1}` is not allowed: dicts"),
        ("a is b", 2, "`is` is not allowed: use `==`"),
        ("a is not b", 2, "`is not` is not allowed: use `!=`"),
        ("a in b", 2, "`in` is not allowed: there are no containers"),
        ("a not in b", 2, "`not in` is not allowed: there are no containers"),
        ("c + 1 # why", 6, "`c + 1 # why` is not allowed: no comments (`#`)"),
        ("c +* 2", 3, "`c +* 2` is not a valid expression: invalid syntax"),
        ("(c * 6", 0, "`(c * 6` is not a valid expression: '(' was never closed"),
        ("x = 1", 2, "`x = 1` is not a valid expression"),
        ("", 0, "empty expression: expected an integer expression such as `c * 4`"),
        ("   ", 0, "empty expression"),
        ("é + 1 / 2", 6, "`/` is not allowed"),  # columns count characters, not UTF-8 bytes
        ("(c +\n  d / 2)", 9, "`/` is not allowed"),
        ("  c / 2", 4, "`/` is not allowed"),
        ("9223372036854775808", 0, "`9223372036854775808` is beyond +-(2**63 - 1)"),
    ],
)
def test_refusals(text: str, column: int, message: str) -> None:
    with pytest.raises(ExprError) as info:
        parse(text)
    assert info.value.message.startswith(message)
    assert info.value.column == column
    assert "\n" not in str(info.value)


def test_long_quotes_are_cut() -> None:
    text = "c + " * 30 + "1.5"
    with pytest.raises(ExprError, match=r"^`1\.5` is not allowed") as info:
        parse(text)
    assert info.value.column == len(text) - 3
    with pytest.raises(ExprError) as info:
        parse("a " + "+ a " * 40 + "+")
    assert "`a + a + a" in info.value.message
    assert "...` is not a valid expression" in info.value.message
    assert len(info.value.message) < 120


class Channels(int):
    """An int subclass, as numpy's or an enum's integers would be: refused, not silently accepted."""


@pytest.mark.parametrize(
    ("env", "column", "message"),
    [
        ({"width": 64, "groups": 1}, 4, "unknown name `widht`: did you mean `width`?"),
        ({"groups": 1}, 4, "unknown name `widht`: known names are groups"),
        ({}, 4, "unknown name `widht`: no names are defined here"),
        ({"widht": "wide", "groups": 1}, 4, "`widht` is str 'wide', not an integer or a boolean"),
        ({"widht": 2**63, "groups": 1}, 4, "`widht` is 9223372036854775808: beyond +-(2**63 - 1)"),
        ({"widht": 64, "groups": 1.0}, 12, "`groups` is float 1.0, not an integer or a boolean"),
        ({"widht": 64, "groups": Channels(2)}, 12, "`groups` is Channels 2, not an integer or a boolean"),
    ],
)
def test_evaluation_errors(env: dict[str, object], column: int, message: str) -> None:
    expr = parse("4 * widht * groups")
    with pytest.raises(ExprError) as info:
        expr.evaluate(env)  # type: ignore[arg-type]
    assert info.value.message == message
    assert info.value.column == column


def test_names_in_untaken_branches_must_exist() -> None:
    with pytest.raises(ExprError, match="unknown name `cout`: did you mean `c_out`"):
        parse("c if s == 1 else cout").evaluate({"c": 1, "s": 1, "c_out": 2})


def test_check_names_against_the_block_arguments() -> None:
    expr = parse("expand * c_in if stride == 1 else c_in")
    expr.check_names({"expand", "c_in", "stride"})
    with pytest.raises(ExprError, match="unknown name `stride`: did you mean `strides`") as info:
        expr.check_names({"expand", "c_in", "strides"})
    assert info.value.column == 17


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("c // (s - 1)", 2, "`c // (s - 1)` divides by zero"),
        ("c % (s - 1)", 2, "`c % (s - 1)` divides by zero"),
        ("c * c * c", 6, "`c * c * c` is 1000000000000000000000: beyond +-(2**63 - 1)"),
        ("c * c - c * c * c", 14, "`c * c * c` is 1000000000000000000000: beyond +-(2**63 - 1)"),
        ("-c * c * c + 1", 7, "`-c * c * c` is -1000000000000000000000: beyond +-(2**63 - 1)"),
    ],
)
def test_runtime_failures(text: str, column: int, message: str) -> None:
    with pytest.raises(ExprError) as info:
        parse(text).evaluate({"c": 10**7, "s": 1})
    assert info.value.message == message
    assert info.value.column == column


def test_the_bound_is_inclusive() -> None:
    assert parse("c * 2 + 1").evaluate({"c": LIMIT // 2}) == LIMIT
    assert parse("-c * 2 - 1").evaluate({"c": LIMIT // 2}) == -LIMIT
    with pytest.raises(ExprError, match="beyond"):
        parse("c * 2 + 2").evaluate({"c": LIMIT // 2})
    assert parse("-c // -1").evaluate({"c": LIMIT}) == LIMIT
    with pytest.raises(ExprError, match=r"^`c \* c` is a 38-digit number: beyond"):
        parse("c * c").evaluate({"c": LIMIT})


def test_constant_failures_wait_for_evaluation() -> None:
    expr = parse("1 // 0")
    assert expr.constant is None
    with pytest.raises(ExprError, match="divides by zero"):
        expr.evaluate({})


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10000,
        "1+" * 100000 + "1",
        "-" * 900 + "1",
        "not " * 200 + "1",
        "1+" * 400 + "1",
        "(" * 300 + "1" + ")" * 300,
        "max(" * 200 + "1" + ", 1)" * 200,
        "not -" * 60 + "1",
        "9" * 999,
        "\x00",
        "c \x1b[31m",
    ],
)
def test_hostile_input_is_an_expr_error(text: str) -> None:
    with pytest.raises(ExprError) as info:
        parse(text).evaluate({"a": 1, "b": 1, "c": 1})
    message = str(info.value)
    assert "\n" not in message
    assert "\x1b" not in message
    assert len(message) < 200


def test_the_limits() -> None:
    assert parse(" " * (MAX_LENGTH - 1) + "1").evaluate({}) == 1
    with pytest.raises(ExprError, match=f"is {MAX_LENGTH + 1} characters long: at most {MAX_LENGTH}"):
        parse(" " * MAX_LENGTH + "1")
    assert parse("-" * MAX_DEPTH + "1").evaluate({}) == 1
    with pytest.raises(ExprError, match=f"nests more than {MAX_DEPTH} levels deep"):
        parse("-" * (MAX_DEPTH + 1) + "1")


NAMES = ("a", "b", "c")
ENV = st.fixed_dictionaries({name: st.integers(-12, 12) | st.booleans() for name in NAMES})


def _wrap(draw: st.DrawFn, text: str) -> str:
    """The text, in parentheses or not: both must mean what Python says they mean."""
    return f"({text})" if draw(st.booleans()) else text


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3) -> str:
    """Text from the allowed grammar; magnitudes small enough (12**16) that no bound is reached."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(NAMES) | st.integers(0, 12).map(str))
    inner = expressions(depth=depth - 1)
    shape = draw(st.sampled_from(["unary", "binary", "compare", "bool", "if", "call"]))
    if shape == "unary":
        return draw(st.sampled_from(["-", "+", "not "])) + _wrap(draw, draw(inner))
    if shape == "binary":
        op = draw(st.sampled_from(["+", "-", "*", "//", "%"]))
        return f"{_wrap(draw, draw(inner))} {op} {_wrap(draw, draw(inner))}"
    if shape == "compare":
        parts = draw(st.lists(inner, min_size=2, max_size=3))
        ops = draw(st.lists(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), min_size=2, max_size=2))
        text = _wrap(draw, parts[0])
        for op, part in zip(ops, parts[1:], strict=False):
            text += f" {op} {_wrap(draw, part)}"
        return text
    if shape == "bool":
        op = draw(st.sampled_from([" and ", " or "]))
        return op.join(_wrap(draw, part) for part in draw(st.lists(inner, min_size=2, max_size=3)))
    if shape == "if":
        body, test, orelse = (_wrap(draw, draw(inner)) for _ in range(3))
        return f"{body} if {test} else {orelse}"
    func = draw(st.sampled_from(["min", "max"]))
    return f"{func}({', '.join(draw(st.lists(inner, min_size=2, max_size=3)))})"


@settings(max_examples=400, deadline=None)
@given(text=expressions(), env=ENV)
def test_python_is_the_oracle(text: str, env: dict[str, int]) -> None:
    try:
        expected: object = eval(text, {"__builtins__": {}, "min": min, "max": max}, dict(env))
    except ZeroDivisionError:
        with pytest.raises(ExprError, match="divides by zero"):
            parse(text).evaluate(env)
        return
    except SyntaxError:  # an operand left unparenthesised where Python's grammar does not take it
        with pytest.raises(ExprError, match="is not a valid expression"):
            parse(text)
        return
    value = parse(text).evaluate(env)
    assert value == expected
    assert type(value) is type(expected)


@settings(max_examples=300, deadline=None)
@given(a=st.integers(-(2**70), 2**70), b=st.integers(-(2**70), 2**70))
def test_bounds_against_python(a: int, b: int) -> None:
    for text, exact in (("a * b", a * b), ("a + b", a + b), ("a - b", a - b)):
        if abs(a) > LIMIT or abs(b) > LIMIT or abs(exact) > LIMIT:
            with pytest.raises(ExprError, match="beyond"):
                parse(text).evaluate({"a": a, "b": b})
        else:
            assert parse(text).evaluate({"a": a, "b": b}) == exact
