"""Hostile YAML and hostile files: bounded, located, one line, never a traceback (issue 11, items 18-27)."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import convcalc
from convcalc import loader, schema
from convcalc.__main__ import main
from convcalc.loader import MAX_ALIAS_NODES, MAX_DEPTH
from convcalc.source import MAX_SPEC_SIZE


def refusal(text: str) -> convcalc.SpecError:
    with pytest.raises(convcalc.SpecError) as info:
        loader.parse(text)
    return info.value


def one(layer: str) -> str:
    return f"input: 32x32x3\nlayers:\n  - {layer}\n"


def run_file(runner: CliRunner, path: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["run", str(path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


# --- 18: alias bombs ------------------------------------------------------------------------


def laughs(levels: int, width: int = 10) -> str:
    """The "billion laughs": each level an anchored list of `width` aliases of the one before."""
    lines = ["input: 32x32x3", "x-a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"layers: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_fast_in_little_memory(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs(10), encoding="utf-8")
    assert len(path.read_bytes()) < 700
    tracemalloc.start()
    start = time.perf_counter()
    code, out, err = run_file(runner, path)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (code, out) == (2, "")
    assert err == (
        f"{path}:6:47: error: aliases expand to more than 100,000 values (an alias bomb?); "
        "a spec's anchors are small: write the values out\n"
    )
    assert elapsed < 2
    assert peak < 16 * 1024**2


def expansion(aliases: int) -> str:
    """Aliases of a 1,000-value anchor (a list and 999 numbers), `aliases` times."""
    return (
        "input: 8x8x1\n"
        f"x-big: &big [{', '.join(['1'] * 999)}]\n"
        f"x-copies: [{', '.join(['*big'] * aliases)}]\n"
        "layers: [{type: conv, filters: 2, size: 3}]\n"
    )


def test_alias_bound_is_exact() -> None:
    assert MAX_ALIAS_NODES == 100_000
    assert loader.parse(expansion(100)).layers[0].filters == 2
    e = refusal(expansion(101))
    assert (e.line, e.column) == (3, 12 + 6 * 100)
    assert e.message.startswith("aliases expand to more than 100,000 values")


def test_small_anchors_and_merges_still_work() -> None:
    text = "input: 32x32x3\nx-c: &c {type: conv, size: 3, pad: 1}\nx-s: &s 2\nlayers:\n" + "".join(
        f"  - {{<<: *c, filters: 4, name: c{i}, stride: *s}}\n" for i in range(2000)
    )
    spec = loader.parse(text)
    assert len(spec.layers) == 2000
    assert {(layer.size, layer.pad, layer.stride) for layer in spec.layers} == {((3,), (1,), (2,))}


# --- 19: deep nesting -----------------------------------------------------------------------


def test_deep_nesting_is_one_located_line(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("input: 32x32x3\nlayers:\n  - " + "[" * 990 + "]" * 990 + "\n", encoding="utf-8")
    code, out, err = run_file(runner, path)
    assert (code, out) == (2, "")
    assert err == f"{path}:3:67: error: lists and mappings nested more than 64 deep; a spec needs a few\n"


def test_nesting_bound_is_exact() -> None:
    """The top mapping is level 1: 63 lists inside it are fine, 64 are not."""
    assert MAX_DEPTH == 64
    fine = "x-deep: " + "[" * 63 + "]" * 63 + "\ninput: 4\nlayers: []\n"
    assert loader.parse(fine).input == (4,)
    e = refusal("x-deep: " + "{a: " * 64 + "}" * 64 + "\ninput: 4\nlayers: []\n")
    assert (e.line, e.column) == (1, 9 + 4 * 63)


def test_deep_dicts_from_python_are_one_error() -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze({"input": deep, "layers": []})
    assert len(str(info.value)) < 200


# --- 20: tags -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "column", "message"),
    [
        ("!!bool 3", 36, "invalid bool value '3': expected true or false"),
        ("!!timestamp x", 36, "unsupported YAML tag !!timestamp: write a plain value without a tag"),
        ("!!timestamp 2001-12-14", 36, "unsupported YAML tag !!timestamp: write a plain value without a tag"),
        (
            "!!python/object/apply:os.system [8, 8, 3]",
            36,
            "unsupported YAML tag !!python/object/apply:os.system: write a plain value without a tag",
        ),
        ("!custom [3, 3]", 36, "unsupported YAML tag !custom: write a plain value without a tag"),
        ("!custom 3", 36, "unsupported YAML tag !custom: write a plain value without a tag"),
        ("!!set {3: null}", 36, "unsupported YAML tag !!set: write a plain value without a tag"),
        ("!!binary AAAA", 36, "unsupported YAML tag !!binary: write a plain value without a tag"),
        ("!!seq {a: 3}", 36, "unsupported YAML tag !!seq: write a plain value without a tag"),
        ("!!null x", 36, "invalid null value 'x': expected null, ~ or nothing"),
        ("!!int abc", 36, "invalid int value 'abc': expected an integer"),
        ("!!int ''", 36, "invalid int value '': expected an integer"),
        ("!!float abc", 36, "invalid float value 'abc': expected a number"),
        ("[3, !!bool maybe]", 40, "invalid bool value 'maybe': expected true or false"),
    ],
)
def test_tags_are_spec_errors(
    runner: CliRunner, tmp_path: Path, value: str, column: int, message: str
) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(one(f"{{type: conv, filters: 1, size: {value}}}"), encoding="utf-8")
    assert run_file(runner, path) == (2, "", f"{path}:3:{column}: error: {message}\n")


def test_plain_tags_read_as_without() -> None:
    tagged = "!!map {input: !!str 32x32x3, layers: !!seq [{type: conv, filters: !!int 4, size: 3, "
    tagged += "bias: !!bool false}]}"
    plain = "{input: 32x32x3, layers: [{type: conv, filters: 4, size: 3, bias: false}]}"
    assert convcalc.analyze(tagged) == convcalc.analyze(plain)


def test_tagged_null_and_float_values() -> None:
    spec = loader.parse("name: !!null ~\ninput: 10\nlayers:\n  - {type: dropout, p: !!float 0.25}\n")
    assert spec.name is None
    assert spec.layers[0].p == 0.25


# --- 21: YAML 1.1 numbers that read otherwise -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "064",
            "064 is an octal number (a leading 0 means octal) in YAML 1.1 and reads as 52; "
            "write the plain number you mean, or quote it ('064') for text",
        ),
        (
            "-010",
            "-010 is an octal number (a leading 0 means octal) in YAML 1.1 and reads as -8; "
            "write the plain number you mean, or quote it ('-010') for text",
        ),
        (
            "0x10",
            "0x10 is a hexadecimal number in YAML 1.1 and reads as 16; "
            "write the plain number you mean, or quote it ('0x10') for sizes per axis",
        ),
        (
            "0x1F",
            "0x1F is a hexadecimal number in YAML 1.1 and reads as 31; "
            "write the plain number you mean, or quote it ('0x1F') for text",
        ),
        (
            "0b11",
            "0b11 is a binary number in YAML 1.1 and reads as 3; "
            "write the plain number you mean, or quote it ('0b11') for text",
        ),
        (
            "1:30",
            "1:30 is a base-60 number in YAML 1.1 and reads as 90; "
            "write the plain number you mean, or quote it ('1:30') for text",
        ),
        (
            "1:30.5",
            "1:30.5 is a base-60 number in YAML 1.1 and reads as 90.5; "
            "write the plain number you mean, or quote it ('1:30.5') for text",
        ),
        (
            "!!int 0x1f",
            "0x1f is a hexadecimal number in YAML 1.1 and reads as 31; "
            "write the plain number you mean, or quote it ('0x1f') for text",
        ),
    ],
)
def test_yaml_11_numbers_are_refused(runner: CliRunner, tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(one(f"{{type: conv, filters: 4, size: {value}}}"), encoding="utf-8")
    assert run_file(runner, path) == (2, "", f"{path}:3:36: error: {message}\n")


@pytest.mark.parametrize(
    "layer",
    [
        "{type: conv, filters: 010, size: 5}",
        "{type: conv, filters: 0x10, size: 5}",
        "{type: conv, filters: 6, size: 3, pad: [[0x1, 010]]}",
        "{type: conv, filters: 6, size: 3, pad: 0x1}",
        "{type: deconv, filters: 6, size: 3, output_pad: 0b1}",
        "{type: dropout, p: 0b1}",
    ],
)
def test_yaml_11_numbers_are_left_to_the_loader(layer: str) -> None:
    """yaml.safe_load reads them as numbers (the schema sees those); the loader refuses them."""
    assert "is refused by the loader" not in yaml.safe_load(one(layer))  # parses: a number to a schema
    assert " in YAML 1.1 and reads as " in refusal(one(layer)).message
    assert "leading-zero octal like 064, hex like 0x1" in schema.text()


def forms(n: int) -> st.SearchStrategy[str]:
    """n written the YAML 1.1 ways that do not look like n."""
    sign = "-" if n < 0 else ""
    m = abs(n)
    options = [f"{sign}0x{m:x}", f"{sign}0b{m:b}"]
    if m:
        options.append(f"{sign}0{m:o}")
    if m >= 60:
        options.append(f"{sign}{m // 60}:{m % 60:02d}")
    return st.sampled_from(options)


@given(st.integers(-(10**6), 10**6).flatmap(lambda n: st.tuples(st.just(n), forms(n))))
def test_any_yaml_11_integer_form_says_how_it_reads(case: tuple[int, str]) -> None:
    n, text = case
    assert yaml.safe_load(f"v: {text}")["v"] == n
    e = refusal(f"input: 8\nx-v: {text}\nlayers: []\n")
    assert (e.line, e.column) == (2, 6)
    assert (
        f" in YAML 1.1 and reads as {n}; write the plain number you mean, or quote it ('{text}')" in e.message
    )


def test_a_date_is_refused_as_text_would_not_be() -> None:
    e = refusal("input: 8\nname: 2024-01-31\nlayers: []\n")
    assert str(e) == "2:7: error: 2024-01-31 is a date in YAML 1.1; quote it ('2024-01-31') for text"
    assert loader.parse("input: 8\nname: '2024-01-31'\nlayers: []\n").name == "2024-01-31"


@pytest.mark.parametrize("text", ["10", "+10", "1_000", "0", "-0", "0.5", "1e3", "08", "'064'"])
def test_decimal_numbers_still_read(text: str) -> None:
    assert loader.parse(f"input: 8\nx-v: {text}\nlayers: []\n").input == (8,)


# --- 22: endless and non-regular files, size cap --------------------------------------------


def test_symlink_to_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    for command in ("run", "lint"):
        result = subprocess.run(
            [sys.executable, "-m", "convcalc", command, str(link)], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 2
        output = result.stdout + result.stderr
        assert f"{link}" in output
        assert "is a character device, not a spec file" in output
        assert len(output.splitlines()) == (1 if command == "run" else 2)
        assert "Traceback" not in output


def test_spec_size_is_capped(runner: CliRunner, tmp_path: Path) -> None:
    assert MAX_SPEC_SIZE == 64 * 1024**2
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:  # sparse: costs nothing, and is never read
        f.truncate(MAX_SPEC_SIZE + 1)
    limit = "larger than {}, the limit for a spec (raise it with --max-spec-size)"
    assert run_file(runner, big) == (2, "", f"{big}: error: {limit.format('64 MiB')}\n")
    small = tmp_path / "small.yaml"
    small.write_text(one("{type: conv, filters: 4, size: 3}") + "#" * 2000 + "\n", encoding="utf-8")
    assert run_file(runner, small, "--max-spec-size", "1K") == (
        2,
        "",
        f"{small}: error: {limit.format('1 KiB')}\n",
    )
    assert run_file(runner, small, "--max-spec-size", "3K")[0] == 0
    result = runner.invoke(main, ["lint", str(small), "--max-spec-size", "1000"])
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0] == f"{small}:1:1: error[spec-invalid] {limit.format('1,000 B')}"
    result = runner.invoke(main, ["run", "-", "--max-spec-size", "1K"], input=small.read_bytes())
    assert (result.exit_code, result.stderr) == (2, f"<stdin>: error: {limit.format('1 KiB')}\n")


def test_fifo_is_read(runner: CliRunner, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    text = one("{type: conv, filters: 4, size: 3}")
    writer = threading.Thread(target=fifo.write_text, args=(text,))
    writer.start()
    code, out, err = run_file(runner, fifo, "--format", "json")
    writer.join(timeout=10)
    assert (code, err) == (0, "")
    assert json.loads(out)["output_shape"] == [30, 30, 4]


def test_endless_fifo_stops_at_the_limit(runner: CliRunner, tmp_path: Path) -> None:
    fifo = tmp_path / "endless.yaml"
    os.mkfifo(fifo)

    def endless() -> None:
        with contextlib.suppress(BrokenPipeError), fifo.open("wb") as f:
            while True:
                f.write(b"# " + b"x" * 65_533 + b"\n")

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    code, out, err = run_file(runner, fifo, "--max-spec-size", "1M")
    writer.join(timeout=10)
    assert (code, out) == (2, "")
    assert err == f"{fifo}: error: larger than 1 MiB, the limit for a spec (raise it with --max-spec-size)\n"
    assert not writer.is_alive()


# --- 25: no state kept between analyses -----------------------------------------------------

LEAKY = "input: 10\nlayers: []\nname: null\nx-a: [true, ~, 1.5]\n"
"""Bools, floats and nulls: each one left a PyYAML node behind."""


def test_analyze_of_yaml_text_keeps_memory_flat() -> None:
    """5,000 calls count pymalloc's blocks (no tracing cost); 500 of them are traced by tracemalloc."""
    for _ in range(200):
        convcalc.analyze(LEAKY)
    gc.collect()
    blocks = sys.getallocatedblocks()
    for _ in range(5000):
        convcalc.analyze(LEAKY)
    gc.collect()
    assert sys.getallocatedblocks() - blocks < 500
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(500):
        convcalc.analyze(LEAKY)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 16 * 1024


def test_long_scalars_are_not_cached() -> None:
    for i in range(20):
        loader.parse(f"input: 10\nx-long: {chr(97 + i) * 100_000}\nlayers: []\n")
    cache = loader._cached.cache_info()  # type: ignore[attr-defined]
    assert cache.currsize <= cache.maxsize
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(20):
        loader.parse(f"input: 10\nx-long: {chr(65 + i) * 100_000}\nlayers: []\n")
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 100_000


# --- 26: messages quote a short excerpt -----------------------------------------------------


def test_a_10_mb_input_gives_a_short_line(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(f"input: 224x{'9' * 10_000_000}x3\nlayers: []\n", encoding="utf-8")
    start = time.perf_counter()
    code, out, err = run_file(runner, path)
    assert time.perf_counter() - start < 5
    assert (code, out) == (2, "")
    shown = f"'224x{'9' * 52}..."
    assert err == f"{path}:1:8: error: 'input' must be a shape like 32x32x3 or [32, 32, 3], got {shown}\n"


@pytest.mark.parametrize(
    "layer",
    [
        "{{type: conv, filters: 4, size: {big}}}",
        "{{type: conv, filters: 4, size: 3, {big}: 1}}",
        "{{type: {big}}}",
        "{{type: conv, name: {big}, filters: 0, size: 3}}",
        "{{type: conv, filters: 4, size: 3, pad: [[0, {big}]]}}",
        "{{type: conv, filters: 4, size: 3, allow: [{big}]}}",
        "{{type: conv, filters: 4, size: 3, expect: {{{big}: 1}}}}",
        "{{type: conv, filters: 4, size: !!int {big}}}",
        "{{type: conv, filters: 4, size: 0x{digits}}}",
        "{{type: conv, filters: 4, size: 3, {big}: 1, {big}: 2}}",
        "{{type: conv, filters: 4, size: 3, ? [{big}] : 1}}",
    ],
)
def test_messages_quote_an_excerpt(layer: str) -> None:
    text = one(layer.format(big="q" * 1_000_000, digits="f" * 1_000_000))
    assert len(str(refusal(text))) < 400  # the excerpt and the list of what was expected


class NoRepr(list[object]):
    """A list whose whole repr must never be built."""

    def __repr__(self) -> str:
        raise AssertionError("the whole value was shown")


@pytest.mark.parametrize("key", ["input", "layers", "name"])
def test_a_huge_value_is_never_shown_whole(key: str) -> None:
    spec: dict[str, object] = {"input": [8, 8, 1], "layers": []}
    spec[key] = NoRepr([NoRepr([0] * 10) for _ in range(10**5)])
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze(spec)
    assert len(str(info.value)) < 200
    assert "[0, 0, 0, 0, 0" in str(info.value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (3, "3"),
        (True, "true"),
        (None, "null"),
        ("abc", "'abc'"),
        ([32, 32, True], "[32, 32, True]"),
        ((3,), "(3,)"),
        ({"a": [1, 2]}, "{'a': [1, 2]}"),
        (2.5, "2.5"),
        pytest.param(10**5000, "<an integer of 16610 bits>", id="huge-int"),
        ("x" * 100, repr("x" * 100)[:57] + "..."),
    ],
)
def test_show_is_repr_when_short(value: object, shown: str) -> None:
    from convcalc.build import show

    assert show(value) == shown


# --- 27: standard input ---------------------------------------------------------------------


def test_stdin_not_utf8_is_one_line(runner: CliRunner) -> None:
    for command in (["run", "-"], ["lint", "-"]):
        result = runner.invoke(main, command, input=b"input: 8x8x1\nname: \xff\xfe\nlayers: []\n")
        assert result.exit_code == 2
        assert result.exception is None or isinstance(result.exception, SystemExit)
        line = "<stdin>: error: not UTF-8 text (invalid start byte at byte 19)"
        if command[0] == "run":
            assert result.stderr == line + "\n"
        else:
            assert (
                result.stdout.splitlines()[0]
                == "<stdin>:1:1: error[spec-invalid] not UTF-8 text (invalid start byte at byte 19)"
            )


def test_stdin_closed_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "convcalc", "run", "-"],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=lambda: os.close(0),
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "<stdin>: error: standard input is closed; pipe a spec into it or name a file\n"


def test_stdin_closed_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    with open(os.devnull) as closed:
        pass
    for stdin in (None, closed):
        monkeypatch.setattr(sys, "stdin", stdin)
        with pytest.raises(convcalc.SpecError) as info:
            loader.read("-")
        assert (
            str(info.value) == "<stdin>: error: standard input is closed; pipe a spec into it or name a file"
        )


def test_stdin_crlf_reads_as_files_do(runner: CliRunner) -> None:
    text = one("{type: conv, filters: 4, size: 3}")
    plain = runner.invoke(main, ["run", "-", "--format", "json"], input=text.encode())
    crlf = runner.invoke(main, ["run", "-", "--format", "json"], input=text.replace("\n", "\r\n").encode())
    assert plain.exit_code == crlf.exit_code == 0
    assert plain.stdout == crlf.stdout
