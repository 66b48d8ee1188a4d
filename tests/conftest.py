"""Shared fixtures: a CLI runner and the --update-golden flag."""

from __future__ import annotations

import pytest
from click.testing import CliRunner


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --update-golden: rewrite golden files instead of comparing with them."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Regenerate tests/golden/* from the current output.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether golden files should be rewritten (pytest --update-golden)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner; click 8.2+ keeps stderr apart from stdout."""
    return CliRunner()


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables fit COLUMNS when it is set: tests that want a width set it, the others see none."""
    monkeypatch.delenv("COLUMNS", raising=False)
