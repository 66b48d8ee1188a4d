"""README "Speed" speaks to users; targets live in benchmarks/README.md (issue 11, item 12)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BENCH = ROOT / "benchmarks"


def speed() -> str:
    """The README's Speed section."""
    m = re.search(r"^## Speed\n(.*?)^## ", README, re.DOTALL | re.MULTILINE)
    assert m, "no Speed section"
    return m[1]


def test_speed_section_has_no_developer_words() -> None:
    words = re.findall(r"\b(issue \d+|missed|not yet|target|borderline)\b", speed(), re.IGNORECASE)
    assert words == []


def test_speed_section_says_how_it_was_measured() -> None:
    text = speed()
    assert "median" in text
    assert "`benchmarks/README.md`" in text
    assert (BENCH / "README.md").is_file()


def test_benchmarks_readme_has_every_script_and_target() -> None:
    text = (BENCH / "README.md").read_text()
    scripts = sorted(p.name for p in BENCH.glob("bench_*.py"))
    assert scripts
    for name in scripts:
        assert f"`python {name}`" in text, name
    table = [line for line in text.splitlines() if line.startswith("| `python bench_")]
    assert len(table) == len(scripts)
    assert all(line.count("|") == 5 for line in table)
    assert "## Latest figures" in text
    assert "load average" in " ".join(text.split())
