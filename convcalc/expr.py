"""Integer expressions for block arguments: parsed once with `ast`, checked, run as closures.

The grammar is Python's for integer literals, names, unary `-` `+` `not`, binary `+ - * // %`,
comparisons (chains too), `and`/`or`, `x if c else y` and calls of `min` and `max`; the meaning is Python's
for that subset (floor division and modulo of negatives included). Nothing is ever given to `eval`,
`exec` or `compile`.

Decisions:
- Booleans are values, not literals: `True`/`False` are refused in the text. A YAML `true`/`false` argument
  reaches an expression as a Python bool in the environment, and comparisons make bools; Python's rules then
  apply (`True + 1 == 2`, `a and b` gives one of its operands).
- Every literal, argument value and intermediate result stays within +-(2**63 - 1), the int64 in which numpy
  and most JSON readers hold counts: a value past it is a typo (a `*` meant as `//`), never a channel count.
- A text has at most 1000 characters and nests at most 100 levels, so no input can exhaust the stack or the
  memory: it gets an ExprError instead. Every free name must be in the environment, even one in a branch not
  taken, so a typo is caught by the first evaluation, not by the rare one that reaches it.
- Whether a YAML string is an expression is the caller's decision, made by the field's type (a field that
  holds an integer takes an int, a bool or an expression string): `relu` is at once a valid name and a valid
  activation, so no test on the text could tell them apart.
"""

from __future__ import annotations

import ast
import difflib
import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn, TypeAlias

from .errors import ConvcalcError
from .safe import visible

Value: TypeAlias = "int | bool"
Run: TypeAlias = Callable[[Sequence[Value]], Value]
Code: TypeAlias = "Run | int"
"""A compiled part: a closure over the argument values in slot order, or a constant folded at parse time."""

LIMIT = 2**63 - 1
"""The largest magnitude of any value: int64, in which numpy and JSON readers hold counts."""
MAX_LENGTH = 1000
MAX_DEPTH = 100
FUNCTIONS = ("min", "max")
_QUOTE = 60
_ALLOWED = "integers, names, + - * // %, comparisons, and/or/not, min(), max() and `x if c else y`"
_ARITHMETIC: dict[type[ast.operator], tuple[str, Callable[[int, int], int]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
}
_REFUSED_OPERATORS: dict[type[ast.operator], tuple[str, str]] = {
    ast.Div: ("/", "use `//` for integer division"),
    ast.Pow: ("**", "there are no powers; write the product, e.g. `c * c`"),
    ast.MatMult: ("@", "there is no matrix product; use `*`"),
    ast.LShift: ("<<", "there are no bit shifts; multiply by a power of 2"),
    ast.RShift: (">>", "there are no bit shifts; use `//` by a power of 2"),
    ast.BitAnd: ("&", "there are no bitwise operators; use `and` for conditions"),
    ast.BitOr: ("|", "there are no bitwise operators; use `or` for conditions"),
    ast.BitXor: ("^", "there are no bitwise operators, and `^` is not a power; write the product"),
}
_COMPARISONS: dict[type[ast.cmpop], Callable[[int, int], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_REFUSED_COMPARISONS: dict[type[ast.cmpop], tuple[str, str]] = {
    ast.Is: ("is", "use `==`"),
    ast.IsNot: ("is", "use `!=`"),
    ast.In: ("in", "there are no containers; compare with `==`"),
    ast.NotIn: ("not", "there are no containers; compare with `!=`"),
}
_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Slice: "slices",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generators",
    ast.NamedExpr: "assignment (`:=`)",
    ast.JoinedStr: "f-strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Starred: "unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


class ExprError(ConvcalcError):
    """An expression that is not allowed, or whose evaluation fails; `column` is 0-based in the text."""

    def __init__(self, message: str, *, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed expression: check its names once, evaluate it many times."""

    text: str
    """The text as the user wrote it."""
    names: tuple[str, ...]
    """The free names, in order of first use."""
    columns: tuple[int, ...]
    """The 0-based column of each name's first use."""
    constant: Value | None
    """The value when the expression has no names and evaluates without error, else None."""
    _code: Run = field(repr=False, compare=False)
    _fetch: Callable[[Mapping[str, Value]], Sequence[Value]] = field(repr=False, compare=False)

    def column_of(self, name: str) -> int:
        """The column where `name` is first used."""
        return self.columns[self.names.index(name)]

    def check_names(self, known: Collection[str]) -> None:
        """Raise ExprError for the first name not in `known`, with a did-you-mean from `known`."""
        for name, column in zip(self.names, self.columns, strict=True):
            if name not in known:
                raise ExprError(_unknown(name, known), column=column)

    def evaluate(self, env: Mapping[str, Value]) -> Value:
        """The value with each name read from `env`; ExprError for an unknown name, a non-integer value, a
        division or modulo by zero, or a value beyond +-LIMIT."""
        try:
            values = self._fetch(env)
        except KeyError:
            self.check_names(env)
            raise
        for value in values:
            if (value.__class__ is not int or not -LIMIT <= value <= LIMIT) and value.__class__ is not bool:
                self._refuse(values)
        return self._code(values)

    def _refuse(self, values: Sequence[object]) -> NoReturn:
        """Raise the error for the first value that is not an integer within the limit."""
        for value, name, column in zip(values, self.names, self.columns, strict=True):
            if type(value) is not int and type(value) is not bool:
                shown = visible(repr(value))[:_QUOTE]
                raise ExprError(
                    f"`{name}` is {type(value).__name__} {shown}, not an integer or a boolean", column=column
                )
            if not -LIMIT <= value <= LIMIT:
                raise ExprError(f"`{name}` is {_size(value)}: beyond +-(2**63 - 1)", column=column)
        raise AssertionError("no value to refuse")


def _fetcher(names: tuple[str, ...]) -> Callable[[Mapping[str, Value]], Sequence[Value]]:
    """A function reading `names` from an environment, in order, as fast as the interpreter allows."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        (name,) = names
        return lambda env: (env[name],)
    fetch: Callable[[Mapping[str, Value]], Sequence[Value]] = operator.itemgetter(*names)
    return fetch


def parse(text: str) -> Expr:
    """The expression in `text`, or ExprError naming what is wrong and its column."""
    if len(text) > MAX_LENGTH:
        raise ExprError(
            f"expression `{_quote(text)}` is {len(text)} characters long: at most {MAX_LENGTH}",
            column=MAX_LENGTH,
        )
    start = len(text) - len(text.lstrip())
    if not text.strip():
        raise ExprError("empty expression: expected an integer expression such as `c * 4`", column=0)
    if "#" in text:
        raise ExprError(f"`{_quote(text)}` is not allowed: no comments (`#`)", column=text.index("#"))
    try:
        tree = ast.parse(text[start:], mode="eval")
    except SyntaxError as e:
        column = _Compiler(text, start).at(e.lineno or 1, 0) + max((e.offset or 1) - 1, 0)
        raise ExprError(
            f"`{_quote(text)}` is not a valid expression: {e.msg}", column=min(column, len(text))
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExprError(f"`{_quote(text)}` is not a valid expression", column=0) from None
    compiler = _Compiler(text, start)
    code = compiler.compile(tree.body, 0)
    slots = tuple(compiler.slots)
    columns = tuple(compiler.columns)
    if isinstance(code, int):
        return Expr(text, slots, columns, code, _constant(code), _fetcher(slots))
    return Expr(text, slots, columns, None, code, _fetcher(slots))


def _constant(value: Value) -> Run:
    """A closure that gives `value`."""
    return lambda _: value


def _run(code: Code) -> Run:
    """`code` as a closure."""
    return _constant(code) if isinstance(code, int) else code


def _quote(text: str) -> str:
    """The text on one line, visible and at most _QUOTE characters."""
    line = visible(" ".join(text.split()))
    return line if len(line) <= _QUOTE else line[: _QUOTE - 3] + "..."


def _size(value: int) -> str:
    """A huge value, named by its number of digits rather than printed."""
    return str(value) if abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"


def _unknown(name: str, known: Collection[str]) -> str:
    """The message for an unknown name, with the closest known name or the list of them."""
    candidates = sorted(known)
    close = difflib.get_close_matches(name, candidates, n=1)
    if close:
        return f"unknown name `{name}`: did you mean `{close[0]}`?"
    if not candidates:
        return f"unknown name `{name}`: no names are defined here"
    listed = ", ".join(candidates[:8]) + (", ..." if len(candidates) > 8 else "")
    return f"unknown name `{name}`: known names are {listed}"


class _Compiler:
    """Turns a checked AST into closures, recording each name's slot and column."""

    def __init__(self, text: str, start: int = 0) -> None:
        self.text = text
        self.start = start
        self.source = text[start:]
        self.line_starts = [0]
        for i, char in enumerate(self.source):
            if char == "\n":
                self.line_starts.append(i + 1)
        self.slots: dict[str, int] = {}
        self.columns: list[int] = []

    def at(self, lineno: int, col_byte: int) -> int:
        """The 0-based index in the text of a (1-based line, UTF-8 byte column) position."""
        first = self.line_starts[min(lineno, len(self.line_starts)) - 1]
        line = self.source[first:].split("\n", 1)[0]
        chars = len(line.encode()[:col_byte].decode(errors="ignore"))
        return self.start + first + chars

    def column(self, node: ast.expr) -> int:
        """Where `node` starts in the text."""
        return self.at(node.lineno, node.col_offset)

    def snippet(self, node: ast.expr) -> str:
        """`node` as the user wrote it, quoted."""
        return _quote(ast.get_source_segment(self.source, node) or "")

    def between(self, left: ast.expr, right: ast.expr, symbol: str) -> int:
        """The column of the operator `symbol` written between `left` and `right`."""
        begin = self.at(left.end_lineno or left.lineno, left.end_col_offset or 0)
        end = self.column(right)
        found = self.text.find(symbol, begin, end)
        return found if found >= 0 else begin

    def refuse(self, node: ast.expr, reason: str) -> NoReturn:
        """Raise the error for a construct outside the grammar."""
        raise ExprError(f"`{self.snippet(node)}` is not allowed: {reason}", column=self.column(node))

    def compile(self, node: ast.expr, depth: int) -> Code:
        """The closure (or constant) computing `node`."""
        if depth > MAX_DEPTH:
            raise ExprError(
                f"`{_quote(self.text)}` nests more than {MAX_DEPTH} levels deep", column=self.column(node)
            )
        depth += 1
        if isinstance(node, ast.Constant):
            return self.literal(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, self.compile(node.operand, depth))
        if isinstance(node, ast.BinOp):
            return self.binary(node, self.compile(node.left, depth), self.compile(node.right, depth))
        if isinstance(node, ast.Compare):
            return self.comparison(node, depth)
        if isinstance(node, ast.BoolOp):
            return self.boolean(node, [self.compile(value, depth) for value in node.values])
        if isinstance(node, ast.IfExp):
            test, body, orelse = (self.compile(part, depth) for part in (node.test, node.body, node.orelse))
            return self.conditional(test, body, orelse)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        what = _REFUSED_NODES.get(type(node), type(node).__name__)
        self.refuse(node, f"{what}; an expression has {_ALLOWED}")

    def literal(self, node: ast.Constant) -> Code:
        """An integer literal within the limit."""
        value = node.value
        if isinstance(value, bool):
            self.refuse(node, "no boolean literals; compare (`s == 1`) or pass a true/false argument")
        if not isinstance(value, int):
            self.refuse(node, "only integer literals; an expression has " + _ALLOWED)
        if abs(value) > LIMIT:
            raise ExprError(f"`{self.snippet(node)}` is beyond +-(2**63 - 1)", column=self.column(node))
        return value

    def name(self, node: ast.Name) -> Code:
        """A read of the name's slot."""
        if node.id not in self.slots:
            self.slots[node.id] = len(self.slots)
            self.columns.append(self.column(node))
        read: Run = operator.itemgetter(self.slots[node.id])
        return read

    def unary(self, node: ast.UnaryOp, operand: Code) -> Code:
        """`-x`, `+x` or `not x`."""
        op = node.op
        if isinstance(op, ast.Invert):
            self.refuse(node, "there are no bitwise operators; use `-` or `not`")
        if isinstance(operand, int):
            return (
                -operand
                if isinstance(op, ast.USub)
                else +operand
                if isinstance(op, ast.UAdd)
                else not operand
            )
        run = operand
        if isinstance(op, ast.USub):
            return lambda v: -run(v)
        if isinstance(op, ast.UAdd):
            return lambda v: +run(v)
        return lambda v: not run(v)

    def binary(self, node: ast.BinOp, left: Code, right: Code) -> Code:
        """`x + y`, `x - y`, `x * y`, `x // y` or `x % y`, each checked."""
        kind = type(node.op)
        if kind in _REFUSED_OPERATORS:
            symbol, reason = _REFUSED_OPERATORS[kind]
            raise ExprError(
                f"`{symbol}` is not allowed: {reason}", column=self.between(node.left, node.right, symbol)
            )
        symbol, op = _ARITHMETIC[kind]
        column = self.between(node.left, node.right, symbol)
        snippet = self.snippet(node)
        limit = LIMIT

        def by_zero() -> NoReturn:
            raise ExprError(f"`{snippet}` divides by zero", column=column)

        def too_big(result: int) -> NoReturn:
            raise ExprError(f"`{snippet}` is {_size(result)}: beyond +-(2**63 - 1)", column=column)

        if isinstance(left, int) and isinstance(right, int):
            if kind in (ast.FloorDiv, ast.Mod):
                if right:
                    return op(left, right)
            elif -limit <= (result := op(left, right)) <= limit:
                return result
        a = _run(left)
        if kind in (ast.FloorDiv, ast.Mod):
            if isinstance(right, int) and right:
                divisor = right
                return lambda v: op(a(v), divisor)
            b = _run(right)

            def divide(v: Sequence[Value]) -> Value:
                try:
                    return op(a(v), b(v))
                except ZeroDivisionError:
                    by_zero()

            return divide
        if isinstance(right, int):
            constant = right

            def step_constant(v: Sequence[Value]) -> Value:
                result = op(a(v), constant)
                if -limit <= result <= limit:
                    return result
                too_big(result)

            return step_constant
        b = right

        def step(v: Sequence[Value]) -> Value:
            result = op(a(v), b(v))
            if -limit <= result <= limit:
                return result
            too_big(result)

        return step

    def comparison(self, node: ast.Compare, depth: int) -> Code:
        """A comparison or a chain of them, each operand computed once."""
        operands = [node.left, *node.comparators]
        ops: list[Callable[[int, int], bool]] = []
        for op, left, right in zip(node.ops, operands[:-1], operands[1:], strict=True):
            if type(op) in _REFUSED_COMPARISONS:
                symbol, reason = _REFUSED_COMPARISONS[type(op)]
                raise ExprError(
                    f"`{symbol}{' not' if isinstance(op, ast.IsNot) else ''}"
                    f"{' in' if isinstance(op, ast.NotIn) else ''}` is not allowed: {reason}",
                    column=self.between(left, right, symbol),
                )
            ops.append(_COMPARISONS[type(op)])
        codes = [self.compile(operand, depth) for operand in operands]
        if all(isinstance(code, int) for code in codes):
            return all(op(a, b) for op, a, b in zip(ops, codes[:-1], codes[1:], strict=True))  # type: ignore[arg-type]
        runs = [_run(code) for code in codes]
        if len(ops) == 1:
            compare, first, second = ops[0], runs[0], runs[1]
            return lambda v: compare(first(v), second(v))
        pairs = list(zip(ops, runs[1:], strict=True))
        head = runs[0]

        def chain(v: Sequence[Value]) -> Value:
            left = head(v)
            for compare, run in pairs:
                right = run(v)
                if not compare(left, right):
                    return False
                left = right
            return True

        return chain

    def boolean(self, node: ast.BoolOp, codes: list[Code]) -> Code:
        """`x and y ...` or `x or y ...`, giving an operand as Python does."""
        runs = [_run(code) for code in codes]
        is_and = isinstance(node.op, ast.And)
        if len(runs) == 2:
            first, second = runs
            if is_and:
                return lambda v: first(v) and second(v)
            return lambda v: first(v) or second(v)
        *init, last = runs

        def run(v: Sequence[Value]) -> Value:
            for part in init:
                value = part(v)
                if bool(value) != is_and:
                    return value
            return last(v)

        return run

    def conditional(self, test: Code, body: Code, orelse: Code) -> Code:
        """`body if test else orelse`."""
        if isinstance(test, int):
            return body if test else orelse
        run_test, run_body, run_else = test, _run(body), _run(orelse)
        return lambda v: run_body(v) if run_test(v) else run_else(v)

    def call(self, node: ast.Call, depth: int) -> Code:
        """`min(...)` or `max(...)` of two or more positional arguments."""
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            self.refuse(node, "the only functions are min() and max()")
        if node.keywords:
            self.refuse(node, f"{func.id}() takes positional arguments only")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            self.refuse(node, f"{func.id}() takes no `*` unpacking")
        if len(node.args) < 2:
            self.refuse(node, f"{func.id}() needs at least 2 arguments")
        pick: Callable[..., Value] = min if func.id == "min" else max
        codes = [self.compile(arg, depth) for arg in node.args]
        if all(isinstance(code, int) for code in codes):
            return pick(codes)
        runs = [_run(code) for code in codes]
        if len(runs) == 2:
            first, second = runs
            return lambda v: pick(first(v), second(v))
        return lambda v: pick([run(v) for run in runs])
