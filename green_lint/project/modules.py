"""The other modules of the project, as far as rules need them: the constants, functions
and classes a module imports from them (`EPOCHS = 200` in config.py, `load_weights()` that
calls `torch.load`, a `Net` with dropout), and the calls other modules make of a module's
own functions and classes (`callers`: who calls `evaluate`, under which grad mode, and
what becomes of what it returns).

A module is found the way Python would find it when the project runs: relative imports
from the importing file's package; absolute ones from the importing file's folder (a
script's own folder is on `sys.path`), from the folder above its top package, and from the
roots the run was given (and their `src/`); names through re-exports and star imports
(`from .models import *`). A module is summarised from CPython's tree of its file on first
use, once per process, or read from the summary store by its content digest. Dynamic
imports, `getattr`, registries and values computed at run time are not followed: the value
is then unknown, and when a name has several candidates the rules stay silent.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from green_lint.findings import Position
from green_lint.project.files import ProjectFiles
from green_lint.project.functions import Function
from green_lint.project.store import SummaryFile, SummaryStore
from green_lint.project.summary import (
    EMPTY,
    MAX_MODULE_BYTES,
    Constant,
    ModuleSummary,
    summarise_source,
)
from green_lint.project.uses import Use

# A notebook's outputs (plots) can weigh megabytes: it is read up to this size.
MAX_NOTEBOOK_BYTES = 8_000_000


@dataclass(frozen=True)
class ProjectClass:
    """A top-level class of a project module, as a rule in another module needs it."""

    name: str
    path: Path
    line: int
    mode_dependent: bool  # dropout, batch norm...: what it computes depends on train/eval mode
    training_methods: frozenset[str] = frozenset()  # its methods that run a training step


@dataclass(frozen=True)
class Caller:
    """A call, in another module of the project, of a function or class of this one."""

    path: Path
    use: Use


@dataclass
class _Record:
    """What a lint read of other files: each module summarised (path -> content digest),
    and each search for a name's callers (name, folders) -> the files that mention it."""

    files: dict[str, str] = field(default_factory=dict)
    # (name, folders) -> [the files that mention it, the folders' fingerprint]
    mentions: dict[tuple[str, tuple[str, ...]], list] = field(default_factory=dict)

    def merge(self, other: _Record) -> None:
        self.files.update(other.files)
        self.mentions.update(other.mentions)

    def to_data(self) -> dict[str, Any]:
        if not (self.files or self.mentions):
            return {}
        mentions = [[name, list(folders), *found] for (name, folders), found in self.mentions.items()]
        return {"files": self.files, "mentions": mentions}


# The ProjectModules of this process by roots and store, once `share_between_jobs` was
# called (in a pool worker); None elsewhere.
_shared: dict[tuple, ProjectModules] | None = None


def share_between_jobs() -> None:
    """Make the ProjectModules unpickled in this process one instance per roots and store.

    A pool worker gets the run's settings again with every chunk of jobs; a fresh instance
    per chunk summarised the same imported modules again and again (on scikit-learn, 90
    summaries of 12 modules with two workers). Called where the process serves one run
    only: its files do not change under it, as in a single-process run."""
    global _shared
    _shared = {}


def _unpickled(roots: tuple[Path, ...], store_file: SummaryFile | None) -> ProjectModules:
    if _shared is None:
        return ProjectModules(roots, store_file)
    key = (roots, store_file)
    found = _shared.get(key)
    if found is None:
        found = _shared[key] = ProjectModules(roots, store_file)
    return found


class ProjectModules:
    def __init__(self, roots: Sequence[Path] = (), store_file: SummaryFile | None = None) -> None:
        self.roots = tuple(Path(root) for root in roots)
        self.store_file = store_file
        self._store: SummaryStore | None = None
        self._summaries: dict[Path, tuple[ModuleSummary, str]] = {}
        self._digests: dict[str, str] = {}
        self._paths: dict[tuple, Path | None] = {}
        self._files = ProjectFiles()
        self._callers: dict[tuple[str, str], tuple[list[Caller], _Record]] = {}
        self._recording: _Record | None = None

    # Pickled into pool workers without what it knows: each worker summarises the modules
    # it meets itself (or reads them from the store), and hands back the summaries it made
    # (`take_fresh`). Within a worker, the chunks of jobs share one instance (see
    # `share_between_jobs`).
    def __reduce__(self):
        return (_unpickled, (self.roots, self.store_file))

    # -- what a file's findings depend on ------------------------------------------------
    def start_recording(self) -> None:
        self._recording = _Record()

    def stop_recording(self) -> dict[str, Any]:
        """What the lint since `start_recording` read of other files, as cache data."""
        record, self._recording = self._recording, None
        return record.to_data() if record is not None else {}

    def still_holds(self, depends: Any) -> bool:
        """Whether the other files a cached lint read are as they were (`stop_recording`)."""
        if not depends:
            return True
        try:
            for path, digest in depends.get("files", {}).items():
                if self._digest(path) != digest:
                    return False
            for name, folders, paths, fingerprint in depends.get("mentions", []):
                folders = [Path(folder) for folder in folders]
                if self._files.fingerprint(folders) == fingerprint:
                    continue  # no file there changed: the same files mention the name
                if [str(path) for path in self._files.mentioning(name, folders)] != paths:
                    return False
        except (AttributeError, TypeError, ValueError):
            return False
        return True

    # -- summaries kept between runs -------------------------------------------------------
    def take_fresh(self) -> dict[str, Any]:
        """The summaries this process made since the last call, as store data."""
        return self._store.take_fresh() if self._store is not None else {}

    def save_summaries(self, fresh: Sequence[dict[str, Any]]) -> None:
        """Write the summaries the run made (here and in pool workers) to the store."""
        if self.store_file is None:
            return
        made = {**self.take_fresh()}
        for entries in fresh:
            made.update(entries)
        if made:
            self.store_file.save(made)
        else:
            self.store_file.mark_used()

    def constant(self, qualified: str, importer: Path | None) -> Constant | None:
        """The constant `qualified` (`config.EPOCHS`, `.settings.CONFIG`,
        `cfg.Config.epochs`) names, seen from the file `importer`."""
        found = self._locate(qualified, importer, "constants")
        return found[0] if found else None

    def function(self, qualified: str, importer: Path | None) -> Function | None:
        """The top-level function of a project module that `qualified` names, seen from
        `importer`."""
        found = self._locate(qualified, importer, "functions")
        return found[0] if found else None

    def project_class(self, qualified: str, importer: Path | None) -> ProjectClass | None:
        """The top-level class of a project module that `qualified` names, seen from
        `importer`."""
        found = self._locate(qualified, importer, "classes")
        if found is None:
            return None
        name = qualified.rsplit(".", 1)[-1]
        line, path = found
        # Through a re-export the class may have another name in its own module.
        summary = self._summary(path)
        own = (
            name
            if name in summary.classes
            else next((n for n, at in summary.classes.items() if at == line), name)
        )
        return ProjectClass(
            own,
            path,
            line,
            own in summary.mode_dependent_classes,
            summary.training_methods.get(own, frozenset()),
        )

    def callers(self, name: str, defined_in: Path) -> list[Caller]:
        """The calls, in the project's other modules, of the top-level function or class
        `name` of the module `defined_in`. The project is the folder above the module's
        top package and the roots of the run; only files that mention `name` are read."""
        key = (name, _real(defined_in))
        if key not in self._callers:
            outer, self._recording = self._recording, _Record()
            try:
                found = self._find_callers(name, defined_in)
            finally:
                record, self._recording = self._recording, outer
            self._callers[key] = (found, record)
        found, record = self._callers[key]
        if self._recording is not None:
            self._recording.merge(record)
        return found

    def _find_callers(self, name: str, defined_in: Path) -> list[Caller]:
        target = _real(defined_in)
        folders = [_top_folder(defined_in)] + [
            root if root.is_dir() else _top_folder(root) for root in self.roots
        ]
        found = []
        mentioning = self._files.mentioning(name, folders)
        if self._recording is not None:
            key = (name, tuple(str(folder) for folder in folders))
            self._recording.mentions[key] = [
                [str(path) for path in mentioning],
                self._files.fingerprint(folders),
            ]
        for path in mentioning:
            if _real(path) == target:
                continue
            for use in self._summary(path).uses:
                if use.callee.rsplit(".", 1)[-1] != name:
                    continue
                definition = self._locate(use.callee, path, "functions") or self._locate(
                    use.callee, path, "classes"
                )
                if definition is not None and _real(definition[1]) == target:
                    found.append(Caller(path, use))
        return found

    def _locate(self, qualified: str, importer: Path | None, kind: str, depth: int = 0):
        """What `qualified` names in the summaries' `kind` table, with the module file it
        is in: the longest prefix that is a module of the project, then the rest in that
        module, or through its re-exports (`from .config import EPOCHS` in a package's
        `__init__.py`)."""
        if importer is None or depth > 4:
            return None
        level = len(qualified) - len(qualified.lstrip("."))
        parts = qualified[level:].split(".")
        for split in range(len(parts) - 1, -1 if level else 0, -1):
            path = self.module_path(parts[:split], level, importer)
            if path is None:
                continue
            summary, name = self._summary(path), ".".join(parts[split:])
            found = getattr(summary, kind).get(name)
            if found is not None:
                return found, path
            if name in summary.imports:
                return self._locate(summary.imports[name], path, kind, depth + 1)
            for star in summary.star_imports:  # `from .models import *` in a package
                joiner = "" if star.endswith(".") else "."
                found = self._locate(f"{star}{joiner}{name}", path, kind, depth + 1)
                if found is not None:
                    return found
            return None
        return None

    def module_path(self, parts: list[str], level: int, importer: Path) -> Path | None:
        key = (tuple(parts), level, importer.parent)
        if key not in self._paths:
            self._paths[key] = self._find_module(parts, level, importer)
        return self._paths[key]

    def _find_module(self, parts: list[str], level: int, importer: Path) -> Path | None:
        if level:
            base = importer.parent
            for _ in range(level - 1):
                base = base.parent
            return _module_file(base, parts)
        for base in self._bases(importer):
            found = _module_file(base, parts)
            if found is not None:
                return found
        return None

    def _bases(self, importer: Path) -> list[Path]:
        # A file named on the command line (a pre-commit run) is no place to import from
        # for the other files: only folders are (the config's root among them).
        bases = [importer.parent, _top_folder(importer)]
        for root in self.roots:
            if root.is_dir():
                bases += [root, root / "src"]
        return list(dict.fromkeys(bases))

    def summary(self, path: Path) -> ModuleSummary:
        return self._summary(path)

    def _summary(self, path: Path) -> ModuleSummary:
        found = self._summaries.get(path)
        if found is None:
            found = self._summaries[path] = self._read_summary(path)
        if self._recording is not None:
            self._recording.files[str(path)] = found[1]
        return found[0]

    def _read_summary(self, path: Path) -> tuple[ModuleSummary, str]:
        data = _read_module(str(path))
        if data is None:
            return EMPTY, ""
        digest = self._digests[str(path)] = _digest(data)
        if self._store is None and self.store_file is not None:
            self._store = self.store_file.load()
        if self._store is not None:
            kept = self._store.get(path, digest)
            if kept is not None:
                return kept, digest
        summary = summarise_source(path, data) if path.suffix != ".ipynb" else _summarise_notebook(path, data)
        if self._store is not None:
            self._store.put(path, digest, summary)
        return summary, digest

    def _digest(self, path: str) -> str:
        if path not in self._digests:
            data = _read_module(path)
            self._digests[path] = "" if data is None else _digest(data)
        return self._digests[path]


def _module_file(base: Path, parts: list[str]) -> Path | None:
    folder = base.joinpath(*parts)
    if parts and folder.with_suffix(".py").is_file():
        return folder.with_suffix(".py")
    if (folder / "__init__.py").is_file():
        return folder / "__init__.py"
    return None


def _read_module(path: str) -> bytes | None:
    """The bytes of a module file (or notebook); None when it is not a regular file, too
    large or unreadable."""
    limit = MAX_NOTEBOOK_BYTES if path.endswith(".ipynb") else MAX_MODULE_BYTES
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > limit:
            return None
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except OSError:
        return None


def _notebook(path: Path, data: bytes):
    from green_lint.notebook import load_notebook
    from green_lint.source import SourceError

    try:
        return load_notebook(path, path.name, data)
    except SourceError:
        return None


def _summarise_notebook(path: Path, data: bytes) -> ModuleSummary:
    """A notebook calls the project's functions from its code cells (joined, magics
    neutralised): its uses, with lines of the joined text (`caller_place` maps them back)."""
    notebook = _notebook(path, data)
    return summarise_source(path, notebook.text.encode()) if notebook is not None else EMPTY


def caller_place(caller: Caller, seen_from: Path) -> str:
    """`train.py:88`, or `resnet.ipynb:cell14:1` for a call in a notebook, relative to the
    project folder of `seen_from`."""
    where, line = where_in_project(caller.path, seen_from), caller.use.line
    if caller.path.suffix == ".ipynb":
        data = _read_module(str(caller.path))
        notebook = _notebook(caller.path, data) if data is not None else None
        if notebook is not None:
            cell, position = notebook.to_cell(Position(line, 1))
            return f"{where}:cell{cell}:{position.row}"
    return f"{where}:{line}"


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def where_in_project(path: Path, seen_from: Path) -> str:
    """`path` relative to the project folder of `seen_from` (as it is when outside it)."""
    try:
        return Path(_real(path)).relative_to(_real(_top_folder(seen_from))).as_posix()
    except ValueError:
        return str(path)


def _top_folder(path: Path) -> Path:
    """The folder above the top package holding `path` (its own folder outside a package):
    where Python finds its absolute imports when the project runs."""
    top = path.parent
    while (top / "__init__.py").is_file() and top.parent != top:
        top = top.parent
    return top


@lru_cache(maxsize=4096)
def _real(path: Path) -> str:
    return os.path.realpath(path)
