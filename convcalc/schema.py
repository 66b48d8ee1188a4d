"""The JSON Schema (draft 2020-12) of spec files, shipped as convcalc/schema.json."""

from __future__ import annotations

from importlib.resources import files

SCHEMA_ID = "https://convcalc.dev/schema/spec-v1.json"


def text() -> str:
    """The schema as JSON text, as `convcalc schema` prints it."""
    return files("convcalc").joinpath("schema.json").read_text(encoding="utf-8")
