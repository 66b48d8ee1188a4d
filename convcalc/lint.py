"""`convcalc lint`: many spec files in one process, in the forms CI systems read."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from . import __version__
from .errors import SpecError
from .formats import Format, unhandled
from .model import Code, Finding, Severity
from .present import diagnostic, finding_json, finding_line, fix_text
from .safe import visible
from .source import MAX_SPEC_SIZE
from .walk import SUFFIXES, has_layers, is_library, shown, walk

SPEC_INVALID = "spec-invalid"
"""Not a finding: the file cannot be read or is not a valid spec (exit 2)."""

RULES: dict[str, str] = {
    Code.FRACTIONAL_SIZE.value: "A window does not tile its input: (N + 2P - E)/S + 1 is not whole.",
    Code.NON_POSITIVE_SIZE.value: (
        "The window is larger than the padded input, or a crop removes everything; PyTorch refuses it."
    ),
    Code.POOL_PAD_TOO_LARGE.value: "A pool's pad exceeds half its window; PyTorch refuses it.",
    Code.GROUPS_MISMATCH.value: (
        "Groups do not divide the input channels and the filters (a channel shuffle: the channels)."
    ),
    Code.WINDOW_EXCEEDS_INPUT.value: (
        "The input is too small for the layer: PyTorch's avg_pool3d window, a reflect or circular pad, "
        "a centre crop."
    ),
    Code.STRIDE_SKIPS_INPUT.value: "Windows leave input positions unread by design (stride or dilation).",
    Code.OUTPUT_PAD_TOO_LARGE.value: "A deconv's output_pad is not below its stride or dilation.",
    Code.NOT_IN_PYTORCH.value: "Uneven padding (per-side, or same) that PyTorch's layers cannot take.",
    Code.SUSPICIOUS_LAYOUT.value: "An input that looks misread: 3x224x224 or 1x8000 in hwc, 28x28 (no C).",
    Code.EXPECT_MISMATCH.value: "A shape, parameter or MAC count differs from the spec's expect:.",
    Code.MERGE_SHAPE_MISMATCH.value: (
        "The inputs of a merge do not agree: add's shapes differ, mul's do not broadcast, concat's other "
        "axes differ."
    ),
    Code.UNUSED_OUTPUT.value: "A layer whose output no other layer reads (the last one aside).",
    Code.KEPT_OUT.value: "A source's weightless, shape-keeping layer (a loss, a head) read as an identity.",
    Code.CAFFE_ROUNDING.value: (
        "A pool with Caffe's rounding (ceil: caffe) whose size PyTorch's ceil_mode computes differently."
    ),
    Code.OVER_BUDGET.value: "A total (params, MACs, activations, memory) exceeds the spec's budget:.",
    Code.CHECK_MISMATCH.value: "Running the layer gave another shape than the resolver (--check).",
    Code.SPEC_UNREADABLE.value: "A file or directory the walk found could not be read (it vanished, say).",
    SPEC_INVALID: "The file is not a valid spec: bad YAML, an unknown key or type, a bad value.",
}
"""Every code lint can print, with its one-line description (README and SARIF use these)."""


@dataclass(frozen=True, slots=True)
class Report:
    """What linting a set of files found."""

    files: int
    findings: tuple[Finding, ...]
    invalid: tuple[SpecError, ...]
    order: tuple[str, ...] = ()
    """The files in the order they were linted, to print in that order."""
    notes: tuple[str, ...] = ()
    """What the directory walks skipped and why, one line each (printed on stderr)."""
    empty: tuple[str, ...] = ()
    """Directories given that hold no spec file (exit 2)."""

    def entries(self) -> list[Finding | SpecError]:
        """Invalid files and findings together, file by file, then by line."""

        def key(item: Finding | SpecError) -> tuple[int, int, int]:
            file = item.file or "<stdin>"
            index = self.order.index(file) if file in self.order else len(self.order)
            return (index, item.line or 0, item.column or 0)

        return sorted([*self.invalid, *self.findings], key=key)

    def count(self, severity: Severity) -> int:
        """How many findings of this severity."""
        return sum(f.severity is severity for f in self.findings)

    def exit_code(self, *, strict: bool) -> int:
        """2 for any invalid or unreadable file or empty directory, else 1 for errors (or warnings
        when strict), else 0."""
        if self.invalid or self.empty or any(f.code is Code.SPEC_UNREADABLE for f in self.findings):
            return 2
        failing = self.count(Severity.ERROR) + (self.count(Severity.WARNING) if strict else 0)
        return 1 if failing else 0


def spec_files(paths: Iterable[str], *, exclude: Iterable[str] = ()) -> Iterator[str]:
    """Each path, with directories expanded to their *.yaml and *.yml files, sorted (see walk.py)."""
    yield from (t.path for t in walk(paths, exclude=exclude).targets)


def _unreadable(path: str, message: str) -> Finding:
    return Finding(Severity.ERROR, Code.SPEC_UNREADABLE, message, file=path, line=1, column=1)


def lint(
    paths: Iterable[str],
    *,
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    exclude: Iterable[str] = (),
    max_spec_size: int = MAX_SPEC_SIZE,
    reader: str | None = None,
) -> Report:
    """Load and resolve every spec (read as `reader`'s format, or by extension); keep the findings whose
    codes are selected."""

    from .loader import read
    from .resolver import resolve

    walked = walk(paths, exclude=exclude)
    findings = [_unreadable(u.path, u.message) for u in walked.unreadable]
    invalid: list[SpecError] = []
    order: list[str] = [u.path for u in walked.unreadable]
    notes = list(walked.notes)
    linted: set[str] = set()
    for target in walked.targets:
        path = target.path
        try:
            spec = read(path, max_size=max_spec_size, reader=reader)
            net = resolve(spec)  # some errors show only once the shapes are known (a block's arguments)
        except SpecError as e:
            if target.root is not None and not os.path.lexists(path):
                findings.append(_unreadable(path, "the file vanished during the walk"))
            elif target.root is not None and path.endswith(SUFFIXES) and not has_layers(path):
                if not is_library(path):  # a library of blocks is read by the specs that include it
                    notes.append(f"skipped {shown(path)}: no top-level 'layers' key, so not a spec")
                continue
            else:
                invalid.append(e)
        else:
            findings.extend(net.findings)
        order.append("<stdin>" if path == "-" else path)
        linted.add(target.root or "")
    kept = tuple(
        f
        for f in findings
        if f.code is Code.SPEC_UNREADABLE
        or ((select is None or f.code.value in select) and (ignore is None or f.code.value not in ignore))
    )
    return Report(
        files=len(order) - len(walked.unreadable),
        findings=kept,
        invalid=tuple(invalid),
        order=tuple(order),
        notes=tuple(notes),
        empty=tuple(r for r in walked.roots if r not in linted),
    )


def summary(report: Report) -> str:
    """3 errors, 1 warning, 2 notes in 12 files (and any invalid ones)."""
    parts = [
        f"{n} {word}{'' if n == 1 else 's'}"
        for n, word in (
            (report.count(Severity.ERROR), "error"),
            (report.count(Severity.WARNING), "warning"),
            (report.count(Severity.INFO), "note"),
        )
        if n or word != "note"
    ]
    if report.invalid:
        n = len(report.invalid)
        parts.append(f"{n} invalid spec{'' if n == 1 else 's'}")
    files = f"{report.files} file{'' if report.files == 1 else 's'}"
    return f"{', '.join(parts)} in {files}"


def text(report: Report) -> str:
    """One line per finding, file:line:col: severity[code] message; fix: ..., then a summary."""
    lines = []
    for f in report.entries():
        if isinstance(f, SpecError):
            lines.append(
                visible(
                    diagnostic(f"{f.file}:{f.line or 1}:{f.column or 1}", "error", SPEC_INVALID, f.message)
                )
            )
        else:
            lines.append(visible(finding_line(f, fixes=True)))
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _invalid_json(e: SpecError) -> dict[str, object]:
    return {
        "file": e.file,
        "line": e.line,
        "column": e.column,
        "severity": "error",
        "code": SPEC_INVALID,
        "message": e.message,
    }


def as_json(report: Report) -> str:
    """{"version": 1, "findings": [...], "invalid": [...], "summary": {...}}."""
    data = {
        "version": 1,
        "findings": [finding_json(f) for f in report.findings],
        "invalid": [_invalid_json(e) for e in report.invalid],
        "summary": {
            "files": report.files,
            "errors": report.count(Severity.ERROR),
            "warnings": report.count(Severity.WARNING),
            "notes": report.count(Severity.INFO),
            "invalid": len(report.invalid),
        },
    }
    return json.dumps(data, indent=2) + "\n"


def _escape(value: str, *, property: bool = False) -> str:
    """GitHub's workflow-command escaping, after control characters are shown escaped: no name can start
    a line of its own (`::add-mask::`) nor reach the log raw."""
    value = visible(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property else value


_GITHUB = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github(report: Report) -> str:
    """GitHub Actions workflow commands, so findings show on the pull request's lines."""
    lines = []
    for f in report.entries():
        props = f"file={_escape(f.file or '', property=True)},line={f.line or 1},col={f.column or 1}"
        if isinstance(f, SpecError):
            lines.append(f"::error {props},title={SPEC_INVALID}::{_escape(f.message)}")
        else:
            title = _escape(f.code.value, property=True)
            lines.append(f"::{_GITHUB[f.severity]} {props},title={title}::{_escape(f.message + fix_text(f))}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _result(
    code: str, level: str, message: str, file: str | None, line: int | None, column: int | None
) -> dict[str, object]:
    region = {"startLine": line or 1, "startColumn": column or 1}
    return {
        "ruleId": code,
        "level": level,
        "message": {"text": message},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": quote(file or "<stdin>")}, "region": region}}
        ],
    }


def sarif(report: Report) -> str:
    """SARIF 2.1.0, for code-scanning tools."""
    results = [
        _result(SPEC_INVALID, "error", f.message, f.file, f.line, f.column)
        if isinstance(f, SpecError)
        else _result(
            f.code.value, _SARIF_LEVEL[f.severity], f.message + fix_text(f), f.file, f.line, f.column
        )
        for f in report.entries()
    ]
    rules = [{"id": code, "shortDescription": {"text": text}} for code, text in RULES.items()]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "convcalc", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


FORMATS = {Format.TEXT: text, Format.JSON: as_json, Format.GITHUB: github, Format.SARIF: sarif}
"""lint's writer for each format it offers."""


def write(report: Report, fmt: Format) -> str:
    """The report in one of lint's formats."""
    if fmt not in FORMATS:
        unhandled(fmt, "lint")
    return FORMATS[fmt](report)
