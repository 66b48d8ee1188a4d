"""User strings made safe to print: control characters shown escaped, Markdown punctuation quoted."""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INVISIBLE = [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]
"""Bidirectional overrides and line separators: they reorder or break what a terminal shows."""
_CONTROLS = {c: _NAMED.get(chr(c), f"\\x{c:02x}") for c in (*range(0x20), *range(0x7F, 0xA0))} | {
    c: f"\\u{c:04x}" for c in _INVISIBLE
}
_MARKDOWN = {ord(c): "\\" + c for c in "\\`*_[]<|~&#"}


def visible(text: str) -> str:
    """The text with every control character (newline, ESC, DEL, C1, bidi overrides) written as an escape:
    a name can neither move the cursor, colour the terminal nor inject a line."""
    if text.isprintable():
        return text
    return text.translate(_CONTROLS)


def markdown(text: str) -> str:
    """The text as a literal Markdown inline: controls escaped, then emphasis, links, HTML (`<`, `&`), code
    spans, a heading's closing `#` and table pipes quoted with backslashes (a renderer removes them)."""
    return visible(text).translate(_MARKDOWN)
