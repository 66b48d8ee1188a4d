"""The JSON Schema of spec files agrees with the loader: fixtures, shipped specs and random layers."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from convcalc import SpecError, loader, schema
from convcalc.walk import has_layers

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "schema"
FIXTURES = sorted(DATA.glob("*/*.y*ml"))
SPECS = sorted(
    p for p in (ROOT / "specs").rglob("*") if p.suffix in (".yaml", ".yml") and has_layers(str(p))
)  # block libraries are not specs

SCHEMA: dict[str, Any] = json.loads(schema.text())
VALIDATOR = Draft202012Validator(SCHEMA)
DEFS = SCHEMA["$defs"]
KINDS = tuple(DEFS["layer"]["properties"]["type"]["enum"])
LAYER_KEYS = {kind: tuple(DEFS[kind]["properties"]) for kind in KINDS}
CODES = tuple(DEFS["allow"]["items"]["enum"])
FNS = tuple(DEFS["act"]["properties"]["fn"]["enum"])
ADAPTIVE_EXCLUDES = ("size", "stride", "pad", "ceil", "count_pad")
"""The pool keys that adaptive pooling (`output`) leaves out."""


def schema_errors(data: object) -> list[str]:
    """The schema's complaints about data, empty when it is valid."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)]


def loader_error(load: Any, arg: object) -> str | None:
    """The loader's SpecError message, None when it accepts the spec."""
    try:
        load(arg)
    except SpecError as e:
        return str(e)
    return None


def verdicts(path: Path) -> tuple[bool, str | None, list[str]]:
    """What the loader and the schema say of a file; the schema sees it as YAML becomes JSON."""
    problem = loader_error(loader.read, path)
    errors = schema_errors(yaml.safe_load(path.read_text(encoding="utf-8")))
    return problem is None, problem, errors


# --- the schema itself ----------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == schema.SCHEMA_ID
    assert SCHEMA["title"]
    assert "duplicate layer names" in SCHEMA["$comment"]


def test_text_is_the_shipped_file() -> None:
    shipped = (ROOT / "convcalc" / "schema.json").read_text(encoding="utf-8")
    assert schema.text() == shipped
    assert shipped.endswith("}\n")


def _properties(node: object, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (path, schema) declared under properties or patternProperties."""
    if isinstance(node, Mapping):
        for group in ("properties", "patternProperties"):
            for key, sub in node.get(group, {}).items():
                yield f"{where}/{key}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{where}/{i}")


def _conditional(path: str) -> bool:
    """Whether a path lies in an if/then/else, which restates a property the layer describes."""
    return any(f"/{word}/" in path for word in ("if", "then", "else"))


def test_every_property_has_a_description() -> None:
    missing = [
        path for path, sub in _properties(SCHEMA) if not _conditional(path) and not sub.get("description")
    ]
    if "description" not in DEFS["allow"]:
        missing.append("$defs/allow")
    assert not missing


def test_layer_keys_and_codes_are_the_loaders() -> None:
    from convcalc.build import CODES as LOADER_CODES
    from convcalc.build import EXPECT_KEYS, REQUIRED, TOP_KEYS
    from convcalc.build import LAYER_KEYS as LOADER_KEYS
    from convcalc.model import Kind

    assert set(KINDS) == {k.value for k in Kind}
    for kind in KINDS:
        assert set(LAYER_KEYS[kind]) == set(LOADER_KEYS[Kind(kind)]), kind
        assert set(DEFS[kind]["required"]) == {"type", *REQUIRED[Kind(kind)]}, kind
    assert set(SCHEMA["properties"]) == set(TOP_KEYS)
    assert set(CODES) == set(LOADER_CODES)
    for expect in (SCHEMA["properties"]["expect"], DEFS["layerExpect"]):
        assert set(expect["properties"]) == set(EXPECT_KEYS)


def test_enums_are_the_models() -> None:
    from convcalc.model import Code, Fn, PoolMode, Resample

    kept_on = {Code.CHECK_MISMATCH.value, Code.SUSPICIOUS_LAYOUT.value, Code.SPEC_UNREADABLE.value}
    allowed = {c.value for c in Code} - kept_on
    assert set(CODES) == allowed
    assert len(CODES) == len(allowed)
    assert tuple(f.value for f in Fn) == FNS
    for kind in ("pool", "global_pool"):
        assert set(DEFS[kind]["properties"]["mode"]["enum"]) == {m.value for m in PoolMode}
    assert tuple(DEFS["upsample"]["properties"]["mode"]["enum"]) == tuple(m.value for m in Resample)


def test_adaptive_pool_excludes_the_window_keys() -> None:
    """output (adaptive pooling) leaves out exactly the keys that make a window."""
    branch = DEFS["pool"]["allOf"][0]
    assert branch["if"] == {"required": ["output"]}
    assert branch["then"]["properties"] == dict.fromkeys(ADAPTIVE_EXCLUDES, False)
    assert branch["else"] == {"required": ["size"]}


def _defaults() -> Iterator[tuple[str, str, object]]:
    for kind in KINDS:
        for key, sub in DEFS[kind]["properties"].items():
            if "default" in sub:
                yield kind, key, sub["default"]


@pytest.mark.parametrize(("kind", "key", "default"), list(_defaults()))
def test_layer_defaults_are_the_loaders(kind: str, key: str, default: object) -> None:
    """Writing a key with the schema's default gives the same layer as leaving it out."""
    required = {
        "conv": {"filters": 4, "size": 3},
        "deconv": {"filters": 4, "size": 3},
        "pool": {"size": 2, "mode": "avg"} if key == "count_pad" else {"size": 2},
        "fc": {"units": 4},
        "group_norm": {"groups": 2},
        "upsample": {"scale": 2, "mode": "bilinear"} if key == "align_corners" else {"scale": 2},
        "pad": {"pad": 1},
        "split": {"chunks": 2},
    }.get(kind, {})
    layer = {"type": kind, **required}
    bare = loader.load({"input": "8x8x4", "layers": [layer]})
    written = loader.load({"input": "8x8x4", "layers": [{**layer, key: default}]})
    assert written == bare


def test_spec_defaults_are_the_loaders() -> None:
    assert SCHEMA["properties"]["layout"]["default"] == "hwc"
    spec = {"input": 10, "layers": [{"type": "fc", "units": 1}]}
    assert loader.load(spec) == loader.load({**spec, "layout": "hwc"})


def test_defaults_cover_every_optional_setting() -> None:
    """stride of a pool has none on purpose: it defaults to the window size; output is adaptive pooling;
    a required key needs none, nor do crop's crop (a crop gives it or a centre size) and split's sizes
    and chunks (one of them is given)."""
    with_default = {(kind, key) for kind, key, _ in _defaults()}
    no_default = {
        "type",
        "name",
        "allow",
        "expect",
        "from",  # the layer before
        "if",  # kept
        "filters",
        "size",
        "units",
        "output",
        "scale",
        "factor",
        "shape",
        "stands_for",  # a reader's note: absent for a plain identity
    }
    one_of = {("crop", "crop"), ("split", "sizes"), ("split", "chunks")}
    expected = {
        (kind, key)
        for kind in KINDS
        for key in LAYER_KEYS[kind]
        if key not in no_default and key not in DEFS[kind]["required"] and (kind, key) not in one_of
    }
    assert with_default == expected - {("pool", "stride")}


# --- fixtures and shipped specs -------------------------------------------------------------


def test_fixture_folders() -> None:
    folders = {p.parent.name for p in FIXTURES}
    assert folders == {"valid", "invalid"}
    assert sum(p.parent.name == "valid" for p in FIXTURES) >= 35
    assert sum(p.parent.name == "invalid" for p in FIXTURES) >= 110


def test_fixtures_cover_every_kind_and_pad_form() -> None:
    """Each layer kind and each form of pad shows up in a valid fixture and in an invalid one."""
    seen: dict[str, set[str]] = {"valid": set(), "invalid": set()}
    for path in FIXTURES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        layers = data.get("layers") if isinstance(data, dict) else None
        for layer in layers if isinstance(layers, list) else []:
            if isinstance(layer, dict) and isinstance(layer.get("type"), str):
                seen[path.parent.name].add(layer["type"])
                if "pad" in layer:
                    seen[path.parent.name].add(f"pad:{_pad_form(layer['pad'])}")
                if "output" in layer:
                    seen[path.parent.name].add("adaptive")
    wanted = {*KINDS, "adaptive", *(f"pad:{form}" for form in ("number", "list", "string", "name", "sides"))}
    for folder, kinds in seen.items():
        assert wanted <= kinds, (folder, wanted - kinds)


def _pad_form(pad: object) -> str:
    """number, list, string, name (same or valid) or sides (per-side pairs)."""
    if isinstance(pad, str):
        return "name" if pad.isalpha() else "string"
    if isinstance(pad, list):
        return "sides" if pad and all(isinstance(p, list) for p in pad) else "list"
    return "number"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_loader_and_schema_agree_on_fixture(path: Path) -> None:
    expected = path.parent.name == "valid"
    loader_ok, problem, errors = verdicts(path)
    assert loader_ok is expected, f"loader: {problem}"
    assert (not errors) is expected, f"schema: {errors}"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_spec_is_valid(path: Path) -> None:
    loader_ok, problem, errors = verdicts(path)
    assert not errors
    assert loader_ok, problem


# --- YAML edge cases: the loader reads them as yaml.safe_load and editors do ----------------

EDGE_CASES = [
    pytest.param("filters: 08, size: 5", id="08-is-text"),
    pytest.param("filters: 1_0, size: 5", id="underscore-int"),
    pytest.param("filters: 6, size: '\\uff15'", id="fullwidth-digit"),
    pytest.param("filters: 6, size: ['\\u0665']", id="arabic-indic-digit-in-list"),
    pytest.param('filters: 6, size: "\\t3\\nx\\u00a05"', id="unicode-spaces"),
    pytest.param('filters: 6, size: "3\\x1cx5"', id="separator-control-space"),
    pytest.param("filters: 6, size: 3, bias: off", id="yaml-1.1-bool"),
    pytest.param("filters: 6, size: 3, bias: !!bool true", id="tagged-bool"),
    pytest.param("filters: !!str 6, size: 3", id="tagged-str"),
    pytest.param("filters: 6, size: 3, pad: Same", id="pad-name-capital"),
    pytest.param("filters: 6, size: 3, pad: !!str same", id="pad-name-tagged"),
    pytest.param("filters: 6, size: 3, pad: [['0', '1']]", id="per-side-digit-strings"),
    pytest.param("filters: 6, size: 3, pad: [[08, 1]]", id="per-side-08-is-text"),
    pytest.param("filters: 6, size: 3, pad: [[1_0, 0]]", id="per-side-underscore-int"),
]
OTHER_EDGE_CASES = [
    pytest.param("type: deconv, filters: 6, size: 3, output_pad: '\uff11'", id="fullwidth-output-pad"),
    pytest.param("type: pool, mode: avg, size: 2, count_pad: off", id="count-pad-yaml-1.1-bool"),
    pytest.param("type: pool, mode: avg, output: '\u0667x7'", id="arabic-indic-output"),
    pytest.param("type: act, fn: RELU", id="fn-capitals"),
    pytest.param("type: dropout, p: 0.5e+0", id="p-exponent"),
    pytest.param("type: dropout, p: 1e0", id="p-1e0-is-text"),
    pytest.param("type: dropout, p: 0:30", id="p-sexagesimal"),
    pytest.param("type: dropout, p: -.inf", id="p-minus-inf"),
    # YAML 1.1 octal, hex and binary numbers: refused by the loader only (tests/test_yaml_hostile.py)
    pytest.param("type: dropout, p: !!float 1", id="p-tagged-float"),
    pytest.param("type: bn, affine: Off", id="affine-yaml-1.1-bool"),
    pytest.param("type: global_pool, mode: !!str max", id="global-mode-tagged"),
]


@pytest.mark.parametrize(
    "layer", [*(pytest.param(f"type: conv, {p.values[0]}", id=p.id) for p in EDGE_CASES), *OTHER_EDGE_CASES]
)
def test_loader_and_schema_agree_on_yaml_edge_case(layer: str) -> None:
    text = f"input: 32x32x3\nlayers:\n  - {{{layer}}}\n"
    problem = loader_error(loader.parse, text)
    errors = schema_errors(yaml.safe_load(text))
    assert (problem is None) == (not errors), f"loader: {problem}; schema: {errors}"


@pytest.mark.xfail(
    reason="Known gap: JSON Schema's integer takes 3.0 (JSON does not tell 3.0 from 3) and the "
    "loader refuses floats. Passes once the loader takes integral floats as integers."
)
def test_integral_float_is_judged_alike() -> None:
    text = "input: 32x32x3\nlayers:\n  - {type: conv, filters: 3.0, size: 5}\n"
    loader_ok = loader_error(loader.parse, text) is None
    schema_ok = not schema_errors(yaml.safe_load(text))
    assert loader_ok == schema_ok


def test_nan_p_is_left_to_the_loader() -> None:
    """JSON has no NaN and comparisons with it are false: the schema cannot refuse .nan; the loader does."""
    text = "input: 10\nlayers:\n  - {type: dropout, p: .nan}\n"
    assert "nan" in SCHEMA["$comment"].lower()
    assert not schema_errors(yaml.safe_load(text))
    assert loader_error(loader.parse, text) is not None


# --- random layers and specs ----------------------------------------------------------------

BOGUS_KEYS = ("strde", "kernel", "Type", "x-note", "channels", "")
ALL_KEYS = tuple(sorted({k for keys in LAYER_KEYS.values() for k in keys}))

numbers = st.integers(min_value=-2, max_value=12)
shape_strings = st.builds(
    lambda parts, sep, pad: pad + sep.join(parts) + pad,
    st.lists(
        numbers.map(str) | st.sampled_from(["", "a", "03", "00", "+2", "2.5", " 3 "]),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["x", "X", " x ", "*", ",", "xx"]),
    st.sampled_from(["", " "]),
)
words = st.sampled_from(
    [*KINDS, "max", "avg", "mean", "hwc", "chw", "conv1", "", "true", "same", "valid", "SAME", "relu", "ReLU"]
)
strings = (
    shape_strings
    | words
    | st.sampled_from(CODES)
    | st.text(alphabet="0123456789xX -ab", max_size=8)
    | st.text(max_size=6)
)
scalars = st.none() | st.booleans() | numbers | st.sampled_from([2.5, -0.5]) | strings
lists = st.lists(scalars, max_size=5)
expects = st.dictionaries(
    st.sampled_from(["output", "params", "macs", "shape"]),
    numbers | shape_strings | lists | st.booleans() | st.none(),
    max_size=3,
)
values = scalars | lists | expects | st.lists(lists | expects, min_size=1, max_size=2)


def mostly(good: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Draw from good seven times in eight, from odd the rest."""
    return st.integers(0, 7).flatmap(lambda i: odd if i == 0 else good)


positive = st.integers(min_value=1, max_value=12)
counts = st.integers(min_value=0, max_value=10**9)
per_axis = positive | st.lists(positive, min_size=1, max_size=3) | st.sampled_from(["3", "3x5", "2 X 2"])
small = st.integers(min_value=0, max_value=3)
non_negative = small | st.lists(small, min_size=1, max_size=3) | st.sampled_from(["0", "0x1", "1 X 0"])
per_side = st.lists(st.lists(small, min_size=2, max_size=2), min_size=1, max_size=3)
odd_per_side = st.lists(
    st.lists(
        numbers | st.sampled_from(["1", "same", 0.5, True, None]) | st.lists(small, max_size=2), max_size=3
    ),
    max_size=3,
) | st.lists(small | st.lists(small, min_size=2, max_size=2), min_size=2, max_size=3)
pads = non_negative | st.sampled_from(["same", "valid"]) | mostly(per_side, odd_per_side)
probabilities = st.floats(min_value=0, max_value=1) | st.sampled_from([0, 1])
shapes = positive | st.lists(positive, min_size=1, max_size=5) | shape_strings
expect_values = st.fixed_dictionaries(
    {},
    optional={
        "output": mostly(shapes, values),
        "params": mostly(counts, values),
        "macs": mostly(counts, values),
    },
)
plausible: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["conv1", "a b", "x"]),
    "filters": positive,
    "units": positive,
    "groups": positive,
    "size": per_axis,
    "stride": per_axis,
    "pad": pads,
    "output_pad": non_negative,
    "output": per_axis,
    "dilation": per_axis,
    "bias": st.booleans(),
    "ceil": st.booleans(),
    "count_pad": st.booleans(),
    "affine": st.booleans(),
    "mode": st.sampled_from(["max", "avg", "nearest", "linear", "bilinear", "bicubic", "trilinear"]),
    "scale": st.sampled_from([2, 0.5, 1.5]) | st.lists(st.sampled_from([2, 0.57, 1]), min_size=1, max_size=3),
    "align_corners": st.booleans(),
    "factor": positive,
    "shape": shapes
    | st.lists(st.sampled_from([-1, 2, 4]), min_size=1, max_size=5)
    | st.sampled_from(["4x4x-1", "-1", "-1x-1", "2 X -1"]),
    "fn": st.sampled_from(FNS),
    "p": probabilities,
    "allow": st.lists(st.sampled_from(CODES), max_size=3),
    "expect": expect_values,
    "axis": st.sampled_from(["channels", "rows", "columns", "frames", "positions", "height", "Rows", 1]),
    "sizes": st.lists(st.integers(min_value=0, max_value=6), max_size=3),
    "chunks": st.integers(min_value=0, max_value=6),
    "part": st.integers(min_value=-1, max_value=3),
}
REQUIRED = {kind: tuple(k for k in DEFS[kind]["required"] if k != "type") for kind in KINDS}
REQUIRED["pool"] = ("size",)


@st.composite
def layers(draw: st.DrawFn) -> object:
    """A layer dict, mostly close to valid: each key or value is off now and then."""
    if draw(st.integers(0, 29)) == 0:
        return draw(scalars | lists)
    odd_kind = draw(st.integers(0, 14)) == 0
    kind = draw(
        st.sampled_from([None, "dense", "Conv", "batchnorm", "relu", 3, True, ["conv"]])
        if odd_kind
        else st.sampled_from(KINDS)
    )
    own = LAYER_KEYS[kind] if kind in KINDS else ALL_KEYS
    keys = [k for k in (REQUIRED[kind] if kind in KINDS else ()) if draw(st.integers(0, 14)) > 0]
    if kind == "pool" and draw(st.integers(0, 3)) == 0:
        keys = ["output" if k == "size" else k for k in keys]
    for key in draw(st.lists(st.sampled_from(own), unique=True, max_size=6)):
        if key not in keys:
            keys.append(key)
    if draw(st.integers(0, 9)) == 0:
        keys.append(draw(st.sampled_from(ALL_KEYS + BOGUS_KEYS)))
    layer: dict[str, object] = {}
    if draw(st.integers(0, 14)) > 0:
        layer["type"] = kind
    for key in keys:
        if key != "type":
            layer[key] = draw(mostly(plausible[key], values) if key in plausible else values)
    return layer


def duplicate_names(layers: object) -> bool:
    """Whether two layers would share a name, given or by default (conv1, pool1, ...)."""
    if not isinstance(layers, list):
        return False
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        if isinstance(layer, dict) and layer.get("type") in KINDS:
            kind = layer["type"]
            counts[kind] = counts.get(kind, 0) + 1
            names.append(layer.get("name", f"{kind}{counts[kind]}"))
    return any(names.count(n) > 1 for n in names if isinstance(n, str))


def agree(spec: dict[str, Any]) -> None:
    """The loader takes the spec exactly when the schema does."""
    problem = loader_error(loader.load, spec)
    errors = schema_errors(spec)
    event("valid" if problem is None else "invalid")
    assert (problem is None) == (not errors), f"loader: {problem}; schema: {errors}"


@settings(max_examples=1500, deadline=None)
@given(layers())
def test_loader_and_schema_agree_on_random_layers(layer: object) -> None:
    agree({"input": "32x32x3", "layers": [layer]})


@settings(max_examples=700, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "input": mostly(positive | st.lists(positive, min_size=1, max_size=4), shapes | values),
            "layers": mostly(st.lists(layers(), max_size=2), values),
        },
        optional={
            "name": mostly(st.text(max_size=5), values),
            "layout": mostly(st.sampled_from(["hwc", "chw"]), st.sampled_from(["HWC", "nhwc"]) | values),
            "expect": expect_values,
            "x-anchor": values,
            "xanchor": values,
        },
    )
)
def test_loader_and_schema_agree_on_random_specs(spec: dict[str, Any]) -> None:
    assume(not duplicate_names(spec["layers"]))  # left to the loader: see the schema's $comment
    agree(spec)
