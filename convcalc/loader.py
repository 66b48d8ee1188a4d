"""Read spec files: YAML text to located values, with PyYAML's C parser when present."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .model import Spec
from .spec import Located, build

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_INT = re.compile(r"[0-9]+")
_MAPPING_START = yaml.MappingStartEvent
_SEQUENCE_START = yaml.SequenceStartEvent
_SCALAR = yaml.ScalarEvent
_ALIAS = yaml.AliasEvent
_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _pos(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


class _Builder:
    """Builds located values straight from parser events: several times faster than composing nodes."""

    def __init__(self, text: str) -> None:
        self.events = yaml.parse(text, Loader=_Parser)
        self.anchors: dict[str, Any] = {}
        self.scalars = yaml.SafeLoader("")

    def document(self) -> Any:
        """The one document of the text, or None when it is empty."""
        data = None
        documents = 0
        for event in self.events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise SpecError(
                        "expected one YAML document, found several", line=_pos(event.start_mark)[0]
                    )
                data = self.value(next(self.events))
        return data

    def value(self, event: Any) -> Any:
        """The value that starts with this event."""
        if isinstance(event, _SCALAR):
            result = self.scalar(event)
        elif isinstance(event, _MAPPING_START):
            result = self.mapping(event)
        elif isinstance(event, _SEQUENCE_START):
            result = [self.value(e) for e in self.until_end()]
        elif isinstance(event, _ALIAS):
            if event.anchor not in self.anchors:
                raise SpecError(f"unknown alias *{event.anchor}", **_at(event))
            return self.anchors[event.anchor]
        else:
            raise SpecError(f"unexpected {type(event).__name__}", **_at(event))
        if getattr(event, "anchor", None):
            self.anchors[event.anchor] = result
        return result

    def until_end(self) -> Iterator[Any]:
        for event in self.events:
            if isinstance(event, _END):
                return
            yield event

    def scalar(self, event: Any) -> Any:
        text = event.value
        if event.implicit[0]:
            if _PLAIN_INT.fullmatch(text):
                return int(text)
            tag = self.scalars.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        elif event.tag not in (None, "!"):
            tag = event.tag
        else:
            return text
        node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
        try:
            return self.scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError) as e:
            raise SpecError(f"invalid {tag.rsplit(':', 1)[-1]} value {text!r}: {getattr(e, 'problem', e)}", **_at(event)) from None

    def mapping(self, start: Any) -> Located:
        items: dict[str, Any] = {}
        at: dict[str, tuple[int, int]] = {}
        merged: list[Any] = []
        events = self.until_end()
        for key_event in events:
            is_merge = isinstance(key_event, _SCALAR) and key_event.value == "<<" and key_event.implicit[0]
            key = "<<" if is_merge else self.value(key_event)
            value_event = next(events)
            value = self.value(value_event)
            if is_merge:
                merged.extend(value if isinstance(value, list) else [value])
                continue
            if not isinstance(key, str):
                raise SpecError(f"keys must be names, got {key!r}", **_at(key_event))
            if key in items:
                raise SpecError(f"duplicate key '{key}' (first on line {at[key][0]})", **_at(key_event))
            items[key] = value
            at[key] = _pos(value_event.start_mark)
        for extra in merged:
            if not isinstance(extra, dict):
                raise SpecError("'<<' must merge a mapping", **_at(start))
            for key, value in extra.items():
                if key not in items:
                    items[key] = value
                    at[key] = extra.at[key] if isinstance(extra, Located) else _pos(start.start_mark)
        return Located(items, start=_pos(start.start_mark), at=at)


def _at(event: Any) -> dict[str, Any]:
    line, column = _pos(event.start_mark)
    return {"line": line, "column": column}


def parse(text: str, *, file: str | None = None) -> Spec:
    """Parse YAML text into a checked Spec; SpecError names the line and column."""
    try:
        data = _Builder(text).document()
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
    """Read and parse a spec file; SpecError if it cannot be read or is invalid."""
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
    if isinstance(spec, Path) or (
        isinstance(spec, str) and "\n" not in spec and spec.endswith((".yaml", ".yml"))
    ):
        return read(spec)
    return parse(spec)
