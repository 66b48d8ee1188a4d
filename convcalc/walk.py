"""Which files `convcalc lint` reads: paths as given, directories walked the way a repository expects."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from .safe import visible

SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})
"""Directory names never walked into, besides hidden ones and virtual environments."""
ENV_MARKERS = ("pyvenv.cfg", "conda-meta")
"""A directory holding one of these is a virtual environment (venv, virtualenv, conda)."""
SNIFF_BYTES = 1 << 20
"""How much of a walked file that is not a valid spec is read to look for a top-level `layers` key."""
_LAYERS_LINE = re.compile(r"""^["']?layers["']?[ \t]*:|[{,][ \t]*["']?layers["']?[ \t]*:""", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Target:
    """One file to lint."""

    path: str
    root: str | None = None
    """The directory whose walk found it (a file without `layers` is then skipped); None if named."""


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file or directory the walk found but could not read."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Walk:
    """The files to lint, in order, and what the walk skipped or could not read."""

    targets: tuple[Target, ...]
    notes: tuple[str, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    roots: tuple[str, ...] = ()
    """The directories walked, in order."""


def shown(path: str) -> str:
    """A path for a note line: control characters escaped, so a file name cannot inject lines."""
    return visible(path)


def _excluded(rel: str, display: str, globs: tuple[str, ...]) -> bool:
    """Whether a glob names this path: a bare glob matches any name, one with a slash the path."""
    name = rel.rsplit("/", 1)[-1]
    for glob in globs:
        g = glob.rstrip("/")
        if g.startswith("./"):
            g = g[2:]
        if "/" in g:
            if fnmatch.fnmatchcase(rel, g) or fnmatch.fnmatchcase(display, g):
                return True
        elif fnmatch.fnmatchcase(name, g):
            return True
    return False


def _skipped_dir(entry: os.DirEntry[str]) -> bool:
    """Hidden directories, virtual environments and package caches."""
    if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
        return True
    return any(os.path.lexists(os.path.join(entry.path, m)) for m in ENV_MARKERS)


def _git(root: str, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(["git", "-C", root, *args], capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None


def git_files(root: str) -> frozenset[str] | None:
    """Files under root that git does not ignore (tracked or not), relative to root; None outside git
    (or when the directory, named on the command line, is itself ignored)."""
    done = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if done is None or done.returncode != 0:
        return None
    files = frozenset(os.fsdecode(p) for p in done.stdout.split(b"\0") if p)
    if not files:
        ignored = _git(root, "check-ignore", "-q", ".")
        if ignored is not None and ignored.returncode == 0:
            return None
    return files


class _Walker:
    """One directory given on the command line, walked without recursion."""

    def __init__(self, root: str, exclude: tuple[str, ...]) -> None:
        self.root = root
        self.real = Path(root).resolve()
        self.exclude = exclude
        self.allowed = git_files(root)
        self.found: list[tuple[Path, str]] = []
        self.notes: list[str] = []
        self.unreadable: list[Unreadable] = []

    def _leaves(self, path: str) -> str | None:
        """Why a symbolic link is not followed (it leaves the tree, or is broken), or None."""
        try:
            target = Path(path).resolve(strict=True)
        except (OSError, RuntimeError):
            return "a broken symbolic link"
        if target == self.real or self.real in target.parents:
            return None
        return f"a symbolic link that leaves {shown(self.root)}"

    def run(self) -> None:
        """Walk the tree: directories depth-first, entries sorted."""
        pending = [(self.root, "")]
        while pending:
            directory, prefix = pending.pop()
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except FileNotFoundError:
                gone = "the directory vanished during the walk"
                self.unreadable.append(Unreadable(str(Path(directory)), gone))
                continue
            except OSError as e:
                self.unreadable.append(
                    Unreadable(str(Path(directory)), f"cannot read the directory: {e.strerror}")
                )
                continue
            below = []
            for entry in entries:
                rel = prefix + entry.name
                path = str(Path(entry.path))
                if _excluded(rel, path, self.exclude):
                    continue
                try:
                    why = self._leaves(entry.path) if entry.is_symlink() else None
                    if why is not None:
                        if not entry.name.startswith(".") and (entry.is_dir() or _yaml(entry.name)):
                            self.notes.append(f"not following {shown(path)}: {why}")
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        if not _skipped_dir(entry):
                            below.append((entry.path, rel + "/"))
                    elif (
                        _yaml(entry.name, entry.path)
                        and not entry.name.startswith(".")
                        and entry.is_file()
                        and (self.allowed is None or rel in self.allowed)
                    ):
                        self.found.append((Path(path), path))
                except OSError as e:
                    self.unreadable.append(Unreadable(path, f"cannot read: {e.strerror}"))
            pending.extend(reversed(below))


def _yaml(name: str, path: str | None = None) -> bool:
    """Whether a walked file is a spec to lint: YAML, a Caffe prototxt, or a .cfg that is Darknet's
    (its first section [net]; setup.cfg and the like are not)."""
    if name.endswith(SUFFIXES) or name.endswith(".prototxt"):
        return True
    return path is not None and name.endswith(".cfg") and _darknet(path)


def _darknet(path: str) -> bool:
    """Whether a .cfg file's first section is Darknet's [net] (or [network])."""
    try:
        with open(path, "rb") as f:
            text = f.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            return line.replace(" ", "").lower() in ("[net]", "[network]")
    return False


def _is_dir(path: str) -> bool:
    """Whether a path names a directory; False for anything that cannot be looked at."""
    try:
        return os.path.isdir(path)
    except (OSError, ValueError):
        return False


def walk(paths: Iterable[str], *, exclude: Iterable[str] = ()) -> Walk:
    """Each path as given, with directories expanded to their spec files, sorted; "-" is stdin."""
    globs = tuple(exclude)
    targets: list[Target] = []
    notes: list[str] = []
    unreadable: list[Unreadable] = []
    roots: list[str] = []
    for path in paths:
        if path == "-" or not _is_dir(path):
            targets.append(Target(path))
            continue
        walker = _Walker(path, globs)
        walker.run()
        roots.append(path)
        targets.extend(Target(p, root=path) for _, p in sorted(walker.found))
        notes.extend(walker.notes)
        unreadable.extend(walker.unreadable)
    return Walk(tuple(targets), tuple(notes), tuple(unreadable), tuple(roots))


def has_layers(path: str) -> bool:
    """Whether a file's top-level mapping has a `layers` key (for YAML that breaks first: a line like one)."""
    try:
        with open(path, "rb") as f:
            text = f.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return True  # let the loader say what is wrong with it
    try:
        return _top_key(text, "layers")
    except yaml.YAMLError:
        return _LAYERS_LINE.search(text) is not None


def is_library(path: str) -> bool:
    """Whether a file holds blocks for specs to include (a top-level `blocks` and no `layers`)."""
    try:
        with open(path, "rb") as f:
            text = f.read(SNIFF_BYTES).decode("utf-8", errors="replace")
        return _top_key(text, "blocks") and not _top_key(text, "layers")
    except (OSError, yaml.YAMLError):
        return False


def _top_key(text: str, key: str) -> bool:
    """Whether the first document is a mapping with this key, read from parser events (no values built)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    counts: list[int] = []
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            if not counts and not isinstance(event, yaml.MappingStartEvent):
                return False
            counts.append(0)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            counts.pop()
            if not counts:
                return False
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            if not counts:
                return False
            if len(counts) == 1 and counts[0] % 2 == 0 and getattr(event, "value", None) == key:
                return True
        else:
            continue
        counts[-1] += 1
    return False
