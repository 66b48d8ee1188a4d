"""User strings are text: never Rich markup, never raw control characters, in every renderer (issue 11,
items 1 and 26)."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.__main__ import main
from convcalc.loader import read
from convcalc.resolver import resolve
from convcalc.write import Progress, table

SGR = re.compile(r"\x1b\[[0-9;]*m")
NAMES = ["x[/conv]", "layer1[downsample]", "[conv]", "[bold red]hot", "[link=http://x]click", "a|b", 'c,"d"']


def spec(tmp_path: Path, names: list[str], title: str = "[/]", file: str = "net.yaml") -> Path:
    """A spec whose first layer (fractional, so it has a finding) and others carry these names."""
    layers = [{"type": "conv", "name": names[0], "filters": 2, "size": 3, "stride": 2, "pad": 1}]
    layers += [{"type": "act", "name": n} for n in names[1:]]
    path = tmp_path / file
    path.write_text(json.dumps({"name": title, "input": "8x8x1", "layers": layers}), encoding="utf-8")
    return path


def invoke(*args: str | Path, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": None, **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_bracketed_names_are_printed_exactly_in_the_table(tmp_path: Path) -> None:
    code, out, err = invoke("run", spec(tmp_path, NAMES), "--notes")
    assert (code, err) == (0, "")  # the fractional conv is an info note: no crash, no exit 1
    lines = out.splitlines()
    assert lines[0] == "[/]"
    cells = [line.split()[1] for line in lines[4 : 4 + len(NAMES)]]
    assert cells == [n.split()[0] for n in NAMES]
    assert "[bold red]hot" in out
    assert "[link=http://x]click" in out
    assert re.search(r"^\S+net\.yaml:\d+:\d+: info\[fractional-size\] x\[/conv\]: ", out, re.M)


def test_bracketed_names_in_explain_and_layer_findings(tmp_path: Path) -> None:
    code, out, _ = invoke("run", spec(tmp_path, NAMES), "--explain")
    assert code == 0
    assert "1. x[/conv]: 8x8x1 -> 4x4x2" in out
    assert "4. [bold red]hot: 4x4x2 -> 4x4x2" in out
    assert "5. [link=http://x]click: " in out


def test_colour_comes_from_styles_not_from_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    net = resolve(read(spec(tmp_path, [*NAMES, "\x1b[31mred\x1b[0m"])))
    out = io.StringIO()
    table([net], out, width=120, colour=True)
    text = out.getvalue()
    assert SGR.search(text)  # coloured...
    plain = SGR.sub("", text)
    assert "\x1b" not in plain  # ...and nothing else reaches the terminal raw
    assert "[bold red]hot" in plain
    assert "x[/conv]" in plain
    assert "\\x1b[31mred\\x1b[0m" in plain


def test_progress_label_is_text(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = Progress("checking x[/conv] [/]")
    bar.start -= 5.0  # as if the check had run for seconds
    bar(1, 3)
    bar.bar.refresh()
    bar(3, 3)
    assert "x[/conv] [/]" in SGR.sub("", terminal.getvalue())


HOSTILE = "a\x1b[2Jb\x1b]0;title\x07c\nd\re\u202ef"
SHOWN = "a\\x1b[2Jb\\x1b]0;title\\x07c\\nd\\re\\u202ef"


def test_control_characters_are_escaped_in_table_markdown_and_csv(tmp_path: Path) -> None:
    path = spec(tmp_path, [HOSTILE, "ok"], title=HOSTILE)
    for fmt in ("table", "markdown", "csv"):
        _, out, err = invoke("run", path, "--format", fmt)
        assert SHOWN in (out if fmt != "markdown" else markdown_text(out)), fmt
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\u202e]", out + err), fmt
    _, out, _ = invoke("run", path, "--format", "csv")
    assert [row[2] for row in csv.reader(io.StringIO(out))] == ["name", SHOWN, "ok"]


def markdown_text(document: str) -> str:
    """The text a Markdown renderer shows, inline by inline (table cells, headings, list items)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(document)
    return "\n".join("".join(c.content for c in t.children or ()) for t in tokens if t.type == "inline")


def test_json_keeps_json_escapes(tmp_path: Path) -> None:
    _, out, _ = invoke("run", spec(tmp_path, [HOSTILE, "ok"], title=HOSTILE), "--format", "json")
    data = json.loads(out)
    assert data["name"] == HOSTILE
    assert data["layers"][0]["name"] == HOSTILE
    assert data["diagnostics"][0]["layer_name"] == HOSTILE


def test_a_file_name_cannot_inject_lines_into_lint_output(tmp_path: Path) -> None:
    path = spec(tmp_path, ["conv1"], file="x\n::add-mask::secret\r\x1b[2J.yaml")
    _, text, _ = invoke("lint", path)
    lines = text.splitlines()
    assert len(lines) == 2  # the finding and the summary
    assert lines[0].startswith(str(tmp_path) + "/x\\n::add-mask::secret\\r\\x1b[2J.yaml:")
    _, github, _ = invoke("lint", path, "--format", "github")
    lines = github.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("::notice file=")  # the fractional conv: only padding unused
    assert "\n::add-mask" not in github
    assert "\x1b" not in github
    assert "x\\n%3A%3Aadd-mask%3A%3Asecret\\r\\x1b[2J.yaml" in lines[0]


def test_an_invalid_file_named_with_a_newline_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad\n::error::x.yaml"
    path.write_text("input: 8x8x1\nlayers:\n  - {type: cnov}\n", encoding="utf-8")
    code, out, err = invoke("run", path)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(str(tmp_path) + "/bad\\n::error::x.yaml:3:")
    _, text, _ = invoke("lint", path)
    assert text.count("\n") == 2
