"""Read spec files: YAML text to located values, with PyYAML's C parser when present."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .model import Spec
from .spec import Located, LocatedList, build

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_INT = re.compile(r"0|[1-9][0-9]*")
"""Plain decimal integers as YAML 1.1 reads them (08 is text, 010 octal: left to PyYAML)."""
_SCALARS = yaml.SafeLoader("")
_NOT_YET = object()


def _pos(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _error(message: str, event: Any) -> SpecError:
    line, column = _pos(event.start_mark)
    return SpecError(message, line=line, column=column)


@functools.lru_cache(maxsize=8192)
def _plain(text: str) -> tuple[str, Any]:
    """The tag of a plain scalar and, for the common ones, its value: keys and settings repeat."""
    if _PLAIN_INT.fullmatch(text) and len(text) < 40:
        return "int", int(text)
    tag = _SCALARS.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag, text if tag == "tag:yaml.org,2002:str" else _NOT_YET


def _scalar(event: Any) -> Any:
    """A plain scalar as YAML 1.1 types it (PyYAML's safe rules); quoted ones stay text."""
    text = event.value
    if event.implicit[0]:
        tag, value = _plain(text)
        if value is not _NOT_YET:
            return value
    elif event.tag not in (None, "!"):
        tag = event.tag
    else:
        return text
    node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
    try:
        return _SCALARS.construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError) as e:
        kind = tag.rsplit(":", 1)[-1]
        shown = text if len(text) <= 40 else text[:37] + "..."
        why = (
            "too many digits"
            if isinstance(e, ValueError) and "digits" in str(e)
            else getattr(e, "problem", e)
        )
        raise _error(f"invalid {kind} value {shown!r}: {why}", event) from None


class _Frame:
    """A mapping or sequence being filled, with the positions of what it holds."""

    __slots__ = ("anchor", "at", "items", "key", "key_event", "merged", "start")

    def __init__(self, event: Any, items: Any) -> None:
        self.items = items
        self.at: Any = {} if isinstance(items, dict) else []
        self.start = event
        self.anchor = event.anchor
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
                raise _error(f"keys must be names, got {key!r}", key_event)
            elif key in self.items:
                raise _error(f"duplicate key '{key}' (first on line {self.at[key][0]})", key_event)
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


def _document(text: str) -> Any:
    """The one document of the text, built straight from parser events (no node tree)."""
    stack: list[_Frame] = []
    anchors: dict[str, Any] = {}
    root: list[Any] = []
    documents = 0
    event: Any
    for event in yaml.parse(text, Loader=_Parser):
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
        elif kind is yaml.MappingStartEvent:
            stack.append(_Frame(event, {}))
            continue
        elif kind is yaml.SequenceStartEvent:
            stack.append(_Frame(event, []))
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = stack.pop()
            value = frame.done()
            if frame.anchor:
                anchors[frame.anchor] = value
            event = frame.start
        elif kind is yaml.AliasEvent:
            if event.anchor not in anchors:
                raise _error(f"unknown alias *{event.anchor}", event)
            value = anchors[event.anchor]
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
    return build(data, file=file)


def read(path: str | Path) -> Spec:
    """Read and parse a spec file, or standard input for "-"; SpecError if unreadable or invalid."""
    if str(path) == "-":
        return parse(sys.stdin.read(), file="<stdin>")
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", file=name) from None
    except IsADirectoryError:
        raise SpecError("is a directory, expected a spec file", file=name) from None
    except UnicodeDecodeError as e:
        raise SpecError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=name) from None
    except OSError as e:
        raise SpecError(f"cannot read: {e.strerror}", file=name) from None
    return parse(text, file=name)


def load(spec: str | Path | Mapping[str, Any]) -> Spec:
    """A spec from a path to a .yaml/.yml file, YAML text, or a dict."""
    if isinstance(spec, Mapping):
        return build(spec)
    if not isinstance(spec, str | Path):
        raise SpecError(f"expected a path, YAML text or a dict, got {type(spec).__name__}")
    if isinstance(spec, Path) or (
        isinstance(spec, str) and "\n" not in spec and spec.endswith((".yaml", ".yml"))
    ):
        return read(spec)
    return parse(spec)
