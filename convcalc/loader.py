"""Read spec files: YAML text to located values, with PyYAML's C parser when present."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml

from .build import Located, LocatedList, build, excerpt, show
from .errors import SpecError
from .model import Spec
from .source import MAX_SPEC_SIZE, STDIN, read_bytes, read_text

if TYPE_CHECKING:
    from pathlib import Path

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_INT = re.compile(r"0|[1-9][0-9]*")
"""Plain decimal integers, typed at once (08 is text; 010, octal, is refused with a reason)."""
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
"""The one integer form that reads the same in YAML 1.1 and 1.2 (and as people read it)."""
_SCALARS = yaml.SafeLoader("")
_NOT_YET = object()
_CACHED = 64
"""Plain scalars up to this length are typed through the cache; longer ones are rare and may be huge."""

MAX_DEPTH = 64
"""The deepest nesting of lists and mappings a spec may have."""
MAX_ALIAS_NODES = 100_000
"""The most values that aliases (*name, <<: *name) may add to a spec by expansion."""

_Y = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_Y + t for t in ("str", "int", "float", "bool", "null"))
_CONTAINER_TAGS = {
    yaml.MappingStartEvent: (None, "!", _Y + "map"),
    yaml.SequenceStartEvent: (None, "!", _Y + "seq"),
}
_CONSTRUCT = yaml.SafeLoader.yaml_constructors
_FORMS = {"x": "hexadecimal", "b": "binary"}
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))


def _pos(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _error(message: str, event: Any) -> SpecError:
    line, column = _pos(event.start_mark)
    return SpecError(message, line=line, column=column)


def _typed(text: str) -> tuple[str, Any]:
    """The tag of a plain scalar and, for the common ones, its value."""
    if _PLAIN_INT.fullmatch(text) and len(text) < 40:
        return "int", int(text)
    tag = _SCALARS.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag, text if tag == "tag:yaml.org,2002:str" else _NOT_YET


_cached = functools.lru_cache(maxsize=8192)(_typed)
"""Keys and settings repeat: type each short text once."""


def _plain(text: str) -> tuple[str, Any]:
    return _cached(text) if len(text) <= _CACHED else _typed(text)


def _cut(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _tag_name(tag: str) -> str:
    """A tag as people write it: !!timestamp, !custom."""
    name = "!!" + tag[len(_Y) :] if tag.startswith(_Y) else tag
    return name if len(name) <= 40 else name[:37] + "..."


def _surprise(text: str, tag: str, value: Any) -> str | None:
    """Why an int or float is refused: a YAML 1.1 form (octal 064, hex, base-60 1:30) that misleads."""
    if (tag == _Y + "int" and _DECIMAL.fullmatch(text)) or (tag == _Y + "float" and ":" not in text):
        return None
    digits = text.lstrip("+-").replace("_", "")
    if ":" in text:
        form = "a base-60 number"
    elif digits[1:2].lower() in _FORMS:
        form = f"a {_FORMS[digits[1].lower()]} number"
    else:
        form = "an octal number (a leading 0 means octal)"
    quote = "for sizes per axis" if form.startswith("a hex") and digits[2:].isdigit() else "for text"
    return (
        f"{_cut(text)[1:-1]} is {form} in YAML 1.1 and reads as {show(value)}; "
        f"write the plain number you mean, or quote it ({_cut(text)}) {quote}"
    )


def _scalar(event: Any) -> Any:
    """A plain scalar as YAML 1.1 types it (PyYAML's safe rules); quoted ones stay text."""
    text = event.value
    if event.implicit[0]:
        tag, value = _plain(text)
        if value is not _NOT_YET:
            return value
    elif event.tag not in (None, "!"):
        tag = event.tag
        if tag not in _SCALAR_TAGS:
            raise _error(f"unsupported YAML tag {_tag_name(tag)}: write a plain value without a tag", event)
        if tag == _Y + "str":
            return text
    else:
        return text
    kind = tag.rsplit(":", 1)[-1]
    construct = _CONSTRUCT.get(tag)
    if construct is None:  # '=' and '<<' out of place: no value of their own in YAML 1.1
        return text
    if kind == "null" and text not in _NULLS:
        raise _error(f"invalid null value {_cut(text)}: expected null, ~ or nothing", event)
    node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
    try:
        value = construct(_SCALARS, node)  # not construct_object, which keeps every node it builds
    except (yaml.YAMLError, ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise _error(f"invalid {kind} value {_cut(text)}: {_why(kind, e)}", event) from None
    if kind == "int" or kind == "float":
        message = _surprise(text, tag, value)
        if message is not None:
            raise _error(message, event)
    elif kind == "timestamp":
        raise _error(f"{_cut(text)[1:-1]} is a date in YAML 1.1; quote it ({_cut(text)}) for text", event)
    return value


def _why(kind: str, e: Exception) -> str:
    """What was wrong with a tagged value, in a few words (never the value again)."""
    if kind == "bool":
        return "expected true or false"
    if isinstance(e, ValueError) and "digits" in str(e):
        return "too many digits"
    if isinstance(e, yaml.YAMLError) and getattr(e, "problem", None):
        return str(getattr(e, "problem", ""))[:80]
    return {"int": "expected an integer", "float": "expected a number"}.get(kind, f"not a YAML {kind}")


class _Frame:
    """A mapping or sequence being filled, with the positions of what it holds."""

    __slots__ = ("anchor", "at", "first", "items", "key", "key_event", "merged", "start")

    def __init__(self, event: Any, items: Any, first: tuple[int, int]) -> None:
        self.items = items
        self.at: Any = {} if isinstance(items, dict) else []
        self.start = event
        self.anchor = event.anchor
        self.first = first
        """The event count and alias expansion when it started: its size when it ends."""
        self.key: Any = None
        self.key_event: Any = None
        self.merged: list[Any] = []

    def add(self, value: Any, event: Any) -> None:
        """Put a finished value in place: a list item, a key, or a key's value."""
        if isinstance(self.items, list):
            self.items.append(value)
            self.at.append(_pos(event.start_mark))
        elif self.key_event is None:
            self.key, self.key_event = value, event
        else:
            key, key_event = self.key, self.key_event
            self.key = self.key_event = None
            if key is _MERGE:
                self.merged.extend(value if isinstance(value, list) else [value])
            elif not isinstance(key, str):
                raise _error(f"keys must be names, got {excerpt(key)}", key_event)
            elif key in self.items:
                raise _error(f"duplicate key {excerpt(key)} (first on line {self.at[key][0]})", key_event)
            else:
                self.items[key] = value
                self.at[key] = _pos(event.start_mark)

    def done(self) -> Any:
        """The finished container, merges applied."""
        start = _pos(self.start.start_mark)
        if isinstance(self.items, list):
            return LocatedList(self.items, start=start, at=self.at)
        for extra in self.merged:
            if not isinstance(extra, dict):
                raise _error("'<<' must merge a mapping", self.start)
            for key, value in extra.items():
                if key not in self.items:
                    self.items[key] = value
                    self.at[key] = extra.at[key] if isinstance(extra, Located) else start
        return Located(self.items, start=start, at=self.at)


_MERGE = object()


def _start(event: Any, stack: list[_Frame], first: tuple[int, int]) -> _Frame:
    """A new mapping or sequence, refused when nested too deep or tagged as something else."""
    if len(stack) >= MAX_DEPTH:
        raise _error(f"lists and mappings nested more than {MAX_DEPTH} deep; a spec needs a few", event)
    if event.tag not in _CONTAINER_TAGS[type(event)]:
        raise _error(f"unsupported YAML tag {_tag_name(event.tag)}: write a plain value without a tag", event)
    return _Frame(event, {} if type(event) is yaml.MappingStartEvent else [], first)


def _document(text: str) -> Any:
    """The one document of the text, built straight from parser events (no node tree)."""
    stack: list[_Frame] = []
    anchors: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    """How many values each anchor stands for, its aliases expanded."""
    expanded = 0
    root: list[Any] = []
    documents = 0
    event: Any
    for count, event in enumerate(yaml.parse(text, Loader=_Parser)):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            top = stack[-1] if stack else None
            merge = event.value == "<<" and event.implicit[0]
            if merge and top is not None and top.key_event is None and isinstance(top.items, dict):
                top.add(_MERGE, event)
                continue
            value = _scalar(event)
            if event.anchor:
                anchors[event.anchor] = value
                sizes[event.anchor] = 1
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            stack.append(_start(event, stack, (count, expanded)))
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = stack.pop()
            value = frame.done()
            if frame.anchor:
                anchors[frame.anchor] = value
                sizes[frame.anchor] = count - frame.first[0] + expanded - frame.first[1]
            event = frame.start
        elif kind is yaml.AliasEvent:
            if event.anchor not in anchors:
                raise _error(f"unknown alias *{_tag_name(event.anchor)}", event)
            value = anchors[event.anchor]
            expanded += sizes[event.anchor]
            if expanded > MAX_ALIAS_NODES:
                raise _error(
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} values (an alias bomb?); "
                    "a spec's anchors are small: write the values out",
                    event,
                )
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _error("expected one YAML document, found several", event)
            continue
        else:
            continue
        if stack:
            stack[-1].add(value, event)
        else:
            root.append(value)
    return root[0] if root else None


def parse(text: str, *, file: str | None = None) -> Spec:
    """Parse YAML text into a checked Spec; SpecError names the line and column."""
    try:
        data = _document(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "malformed YAML"
        if "tab" in problem or (mark is not None and text[mark.index : mark.index + 1] == "\t"):
            problem = "a tab in the indentation: YAML forbids tabs for indentation; indent with spaces"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise SpecError(f"invalid YAML: {problem}", file=file, line=line, column=column) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", file=file) from None
    except SpecError as e:
        raise e.located(file) from None
    if data is None:
        raise SpecError(
            "the spec is empty; expected a mapping with 'input' and 'layers'",
            file=file,
            line=1,
            column=1,
        )
    return build(data, file=file, include=functools.partial(_included, file) if file else None)


def _included(root: str | None, path: str, including: str | None) -> tuple[Any, str]:
    """Read a file that a spec includes, its path relative to the including file; its data and name."""
    import os

    base = os.path.dirname(including or root or "")
    name = os.path.normpath(os.path.join(base, path))
    try:
        _, text = read_text(name, limit=MAX_SPEC_SIZE)
    except SpecError as e:
        raise SpecError(e.message.removeprefix(f"{name}: ")) from None
    try:
        return _document(text), name
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f" at line {mark.line + 1}" if mark else ""
        raise SpecError(f"invalid YAML{at}: {e.problem or e.context or 'malformed'}") from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}") from None


def _source_text(path: str | Path, max_size: int, reader: str | None) -> tuple[str, str]:
    """A file's name and text; a `.keras` zip's text is its `config.json` (the one binary source)."""
    if reader == "keras" and str(path).lower().endswith(".keras"):
        from .readers.keras import read_keras_zip

        return str(path), read_keras_zip(str(path), limit=max_size)
    return read_text(path, limit=max_size)


def _module(reader: str | None) -> Any:
    """The module of `convcalc.readers` that reads a format, or None for YAML."""
    import importlib

    if reader is None or reader == "yaml":
        return None
    return importlib.import_module(f".readers.{reader}", __package__)


def read(path: str | Path, *, max_size: int = MAX_SPEC_SIZE, reader: str | None = None) -> Spec:
    """Read and parse a spec file, or standard input for "-"; SpecError if unreadable or invalid.
    `reader` names a format ("yaml", "caffe"); without it, a file whose extension `readers.READERS`
    lists is read by that format's reader, any other as YAML."""
    import os

    from .readers import READERS, by_content

    if reader is None:
        reader = READERS.get(os.path.splitext(str(path))[1].lower())
    module = _module(reader)
    if getattr(
        module, "BINARY", False
    ):  # a binary format (ONNX) reads its own file: its path, or stdin's bytes
        source = read_bytes(path, limit=max_size) if str(path) == "-" else str(path)
        return module.parse(source, file=STDIN if str(path) == "-" else str(path))  # type: ignore[no-any-return]
    name, text = _source_text(path, max_size, reader)
    if reader is None:  # nothing in the name says: the text may (a Keras model's JSON)
        module = _module(by_content(text))
    if module is not None:
        return module.parse(text, file=name)  # type: ignore[no-any-return]
    return parse(text, file=name)


def read_data(path: str, *, max_size: int = MAX_SPEC_SIZE, reader: str | None = None) -> tuple[str, Any]:
    """A file's name and the located data a spec is built from, read as `read` reads it (for convert)."""
    import os

    from .readers import READERS, by_content

    if reader is None:
        reader = READERS.get(os.path.splitext(str(path))[1].lower())
    module = _module(reader)
    if module is not None and getattr(module, "BINARY", False):
        source = read_bytes(path, limit=max_size) if str(path) == "-" else str(path)
        return STDIN if str(path) == "-" else str(path), module.to_data(
            source, file=STDIN if str(path) == "-" else str(path)
        )
    name, text = _source_text(path, max_size, reader)
    if reader is None:
        module = _module(by_content(text))
    if module is not None:
        return name, module.to_data(text, file=name)
    try:
        return name, _document(text)
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", file=name) from None


def load(spec: str | Path | Mapping[str, Any]) -> Spec:
    """A spec from a path to a .yaml/.yml file (or a format `readers.READERS` lists), YAML text, or a dict."""
    from pathlib import Path  # for the library: the command line reads paths as text

    from .readers import READERS

    if isinstance(spec, Mapping):
        return build(spec)
    if not isinstance(spec, str | Path):
        raise SpecError(f"expected a path, YAML text or a dict, got {type(spec).__name__}")
    if isinstance(spec, Path) or (
        isinstance(spec, str) and "\n" not in spec and spec.endswith((".yaml", ".yml", *READERS))
    ):
        return read(spec)
    return parse(spec)
