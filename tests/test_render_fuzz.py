"""Hostile names through every `run --format` and every `lint --format`, each output parsed back
(issue 11, the fuzz test of "Delivered when"): JSON, CSV with the csv module, SARIF against the SARIF
2.1.0 schema, Markdown with a CommonMark parser, text formats line by line."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import sarif_schema
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from convcalc.__main__ import main
from convcalc.safe import visible

SARIF = sarif_schema.validator()
TOKENS = [
    "[", "]", "[/]", "[bold red]", "[link=http://x]", "[/conv]", "\x1b[31m", "\x1b[2J", "\x1b]0;title\x07",
    "\n", "\r", "\t", "|", ",", '"', "'", ";", ":", "::", "::add-mask::", "%", "#", "*", "_", "`", "~",
    "<b>", "&amp;", "\\", "é", "卷积", "\u202e", "\x7f", "\x85", " ", "a", "conv", "1", "-", ".",
]  # fmt: skip
RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters no text output may carry raw (newline only as a line end)."""


def hostile(most: int = 6) -> st.SearchStrategy[str]:
    """A string built from the hostile tokens; never blank."""
    return st.lists(st.sampled_from(TOKENS), min_size=1, max_size=most).map("".join).filter(str.strip)


def _yaml(data: dict[str, Any]) -> str:
    """JSON (a YAML subset) with every non-printable character as a \\u escape, as YAML requires."""
    text = json.dumps(data, ensure_ascii=False)
    return re.sub(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", lambda m: f"\\u{ord(m[0]):04x}", text)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": None, "NO_COLOR": "1"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def markdown_table(document: str) -> tuple[list[str], list[list[str]], list[str]]:
    """The first table's header and rows as the text a renderer shows, and every heading's text."""
    tokens = MarkdownIt("commonmark").enable("table").parse(document)
    rows: list[list[str]] = []
    headings: list[str] = []
    for i, t in enumerate(tokens):
        if t.type == "tr_open":
            rows.append([])
        elif t.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            kinds = {c.type for c in t.children or ()}
            assert kinds <= {"text"} or t.content.startswith("**"), t.children  # only the totals are bold
            rows[-1].append("".join(c.content for c in t.children or ()))
        elif t.type == "inline" and tokens[i - 1].type == "heading_open":
            headings.append("".join(c.content for c in t.children or ()))
    return rows[0], rows[1:], headings


def check_run_formats(path: str, title: str, names: list[str]) -> None:
    code, out, err = invoke("run", path)
    assert code == 0, err
    assert not RAW.search(out + err)
    assert visible(title) in out.splitlines()
    for name in names:
        assert visible(name) in out

    code, out, _ = invoke("run", path, "--format", "json")
    data = json.loads(out)
    assert (data["name"], data["file"]) == (title, path)
    assert [layer["name"] for layer in data["layers"]] == names
    assert data["diagnostics"][0]["layer_name"] == names[0]

    code, out, err = invoke("run", path, "--format", "csv")
    assert not RAW.search(out + err)
    rows = list(csv.reader(io.StringIO(out)))
    assert [(r[0], r[2]) for r in rows[1:]] == [(visible(path), visible(n)) for n in names]
    assert all(len(r) == len(rows[0]) for r in rows)
    assert err.startswith(visible(path) + ":")

    code, out, err = invoke("run", path, "--format", "markdown")
    assert not RAW.search(out + err)
    header, body, headings = markdown_table(out)
    assert all(len(r) == len(header) for r in body)
    assert [r[1] for r in body[:-1]] == [visible(n).strip() for n in names]
    assert headings[0] == visible(title).strip()


def check_lint_formats(path: str, names: list[str]) -> None:
    code, out, _ = invoke("lint", path)
    assert code == 0
    assert not RAW.search(out)
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{visible(path)}:")
    assert re.match(r".+:\d+:\d+: info\[fractional-size\] ", lines[0])
    assert f"] {visible(names[0])}: " in lines[0]

    _, out, _ = invoke("lint", path, "--format", "json")
    data = json.loads(out)
    assert [(f["file"], f["layer_name"]) for f in data["findings"]] == [(path, names[0])]

    _, out, _ = invoke("lint", path, "--format", "github")
    assert not RAW.search(out)
    lines = out.splitlines()
    assert len(lines) == 2
    assert re.match(r"::notice file=[^:,\n]+,line=\d+,col=\d+,title=fractional-size::", lines[0])

    _, out, _ = invoke("lint", path, "--format", "sarif")
    log = json.loads(out)
    SARIF.validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["message"]["text"].startswith(f"{names[0]}: ")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=hostile(),
    first=hostile(),
    second=hostile(),
    file=hostile(4).filter(lambda s: "/" not in s and len(s.encode()) < 200),
)
def test_hostile_names_survive_every_format(title: str, first: str, second: str, file: str) -> None:
    names = [first, second if second != first else second + "2"]
    spec = {
        "name": title,
        "input": "8x8x1",
        "layers": [
            {"type": "conv", "name": names[0], "filters": 2, "size": 3, "stride": 2, "pad": 1},
            {"type": "act", "name": names[1]},
        ],
    }
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / (file + ".yaml")
        path.write_text(_yaml(spec), encoding="utf-8")
        check_run_formats(str(path), title, names)
        check_lint_formats(str(path), names)


def test_the_sarif_schema_is_the_official_one_and_can_fail() -> None:
    """The validator the fuzz test uses is SARIF 2.1.0's own and rejects a log that breaks it."""
    assert sarif_schema.schema()["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    assert not SARIF.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})
    assert SARIF.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "convcalc"}}}]})
