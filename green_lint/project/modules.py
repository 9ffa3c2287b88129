"""The other modules of the project a file imports, as far as rules need them: the
constants their module level defines (`EPOCHS = 200`, `DEVICE = "cuda"`, `CONFIG = {...}`,
`class Config: epochs = 50`) and what their top-level functions call (`load_weights()`
calls `torch.load`).

A module is found the way Python would find it when the project runs: relative imports
from the importing file's package; absolute ones from the importing file's folder (a
script's own folder is on `sys.path`), from the folder above its top package, and from the
roots the run was given (and their `src/`). A module is summarised from CPython's tree of
its file on first use, once per process; dynamic imports, `getattr`, star imports and
values computed at run time are not followed: the value is then unknown.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from green_lint.project.files import ProjectFiles
from green_lint.project.summary import Constant, Function, ModuleSummary, summarise
from green_lint.project.uses import Use


@dataclass(frozen=True)
class ProjectClass:
    """A top-level class of a project module, as a rule in another module needs it."""

    name: str
    path: Path
    line: int
    mode_dependent: bool  # dropout, batch norm...: what it computes depends on train/eval mode


@dataclass(frozen=True)
class Caller:
    """A call, in another module of the project, of a function or class of this one."""

    path: Path
    use: Use


class ProjectModules:
    def __init__(self, roots: Sequence[Path] = ()) -> None:
        self.roots = tuple(Path(root) for root in roots)
        self._summaries: dict[Path, ModuleSummary] = {}
        self._paths: dict[tuple, Path | None] = {}
        self._files = ProjectFiles()
        self._callers: dict[tuple[str, str], list[Caller]] = {}

    # Pickled into pool workers: each process summarises the modules it meets itself.
    def __getstate__(self) -> dict:
        return {"roots": self.roots}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["roots"])

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
        return ProjectClass(own, path, line, own in summary.mode_dependent_classes)

    def callers(self, name: str, defined_in: Path) -> list[Caller]:
        """The calls, in the project's other modules, of the top-level function or class
        `name` of the module `defined_in`. The project is the folder above the module's
        top package and the roots of the run; only files that mention `name` are read."""
        key = (name, _real(defined_in))
        if key not in self._callers:
            self._callers[key] = self._find_callers(name, defined_in)
        return self._callers[key]

    def _find_callers(self, name: str, defined_in: Path) -> list[Caller]:
        target = _real(defined_in)
        folders = [_top_folder(defined_in)] + [
            root if root.is_dir() else _top_folder(root) for root in self.roots
        ]
        found = []
        for path in self._files.mentioning(name, folders):
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
        bases = [importer.parent, _top_folder(importer)]
        for root in self.roots:
            folder = root if root.is_dir() else root.parent
            bases += [folder, folder / "src"]
        return list(dict.fromkeys(bases))

    def summary(self, path: Path) -> ModuleSummary:
        return self._summary(path)

    def _summary(self, path: Path) -> ModuleSummary:
        found = self._summaries.get(path)
        if found is None:
            found = self._summaries[path] = summarise(path)
        return found


def _module_file(base: Path, parts: list[str]) -> Path | None:
    folder = base.joinpath(*parts)
    if parts and folder.with_suffix(".py").is_file():
        return folder.with_suffix(".py")
    if (folder / "__init__.py").is_file():
        return folder / "__init__.py"
    return None


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
