"""The other modules of the project a file imports, as far as rules need them: the
constants their module level defines (`EPOCHS = 200`, `DEVICE = "cuda"`, `CONFIG = {...}`,
`class Config: epochs = 50`).

A module is found the way Python would find it when the project runs: relative imports
from the importing file's package; absolute ones from the importing file's folder (a
script's own folder is on `sys.path`), from the folder above its top package, and from the
roots the run was given (and their `src/`). A module is summarised from CPython's tree of
its file on first use, once per process; dynamic imports, `getattr`, star imports and
values computed at run time are not followed: the value is then unknown.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Larger files are not read for constants (a config module is small).
MAX_MODULE_BYTES = 1_000_000


@dataclass(frozen=True)
class Constant:
    value: Any
    path: Path
    line: int


class ProjectModules:
    def __init__(self, roots: Sequence[Path] = ()) -> None:
        self.roots = tuple(Path(root) for root in roots)
        self._summaries: dict[Path, ModuleSummary] = {}

    # Pickled into pool workers: each process summarises the modules it meets itself.
    def __getstate__(self) -> dict:
        return {"roots": self.roots}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["roots"])

    def constant(self, qualified: str, importer: Path | None, depth: int = 0) -> Constant | None:
        """The constant `qualified` (`config.EPOCHS`, `.settings.CONFIG`,
        `cfg.Config.epochs`) names, seen from the file `importer`; through re-exports
        (`from .config import EPOCHS` in a package's `__init__.py`) too."""
        if importer is None or depth > 4:
            return None
        level = len(qualified) - len(qualified.lstrip("."))
        parts = qualified[level:].split(".")
        # The longest prefix that is a module of the project; the rest names its constant.
        for split in range(len(parts) - 1, -1 if level else 0, -1):
            path = self.module_path(parts[:split], level, importer)
            if path is not None:
                return self._in_module(path, ".".join(parts[split:]), depth)
        return None

    def _in_module(self, path: Path, name: str, depth: int) -> Constant | None:
        summary = self._summary(path)
        found = summary.constants.get(name)
        if found is None and name in summary.imports:
            found = self.constant(summary.imports[name], path, depth + 1)
        return found

    def module_path(self, parts: list[str], level: int, importer: Path) -> Path | None:
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
        top = importer.parent
        while (top / "__init__.py").is_file() and top.parent != top:
            top = top.parent
        bases = [importer.parent, top]
        for root in self.roots:
            folder = root if root.is_dir() else root.parent
            bases += [folder, folder / "src"]
        return list(dict.fromkeys(bases))

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


@dataclass(frozen=True)
class ModuleSummary:
    # Names the module level binds once to a literal, and its classes' literal attributes.
    constants: dict[str, Constant]
    # Names its module level imports once, with the qualified name they stand for
    # (`.config.EPOCHS` for `from .config import EPOCHS`): re-exports.
    imports: dict[str, str]


def summarise(path: Path) -> ModuleSummary:
    """The constants of the module in `path`: names its module level binds once, to a
    literal (numbers, strings, booleans, None, and tuples, lists and dicts of them, `-x`,
    arithmetic of numbers), the literal attributes of its classes (`Config.epochs`), and
    what it imports once (to follow re-exports)."""
    try:
        if path.stat().st_size > MAX_MODULE_BYTES:
            return ModuleSummary({}, {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return ModuleSummary({}, {})
    counts = _binding_counts(tree)
    constants = {
        name: Constant(value, path, line)
        for name, value, line in _literal_assignments(tree.body, "")
        if counts.get(name.rsplit(".", 1)[-1], 0) == 1
    }
    imports = {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module != "__future__":
            prefix = "." * statement.level + (statement.module or "")
            for alias in statement.names:
                local = alias.asname or alias.name
                if alias.name != "*" and counts.get(local, 0) == 1:
                    joiner = "" if prefix.endswith(".") or not prefix else "."
                    imports[local] = f"{prefix}{joiner}{alias.name}"
    return ModuleSummary(constants, imports)


def _literal_assignments(body: list[ast.stmt], prefix: str):
    for statement in body:
        if isinstance(statement, ast.ClassDef) and not prefix:
            yield from _literal_assignments(statement.body, statement.name + ".")
            continue
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            folded = _fold(value)
            if folded is not _UNKNOWN:
                yield prefix + target.id, folded, statement.lineno


def _binding_counts(tree: ast.Module) -> dict[str, int]:
    """How many times the module binds each name, anywhere in it (a function's local of
    the same name counts: a superset is safe, the name is then not followed). `global` in
    a function counts twice: what it assigns is not known here."""
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            counts[node.id] = counts.get(node.id, 0) + 1
        elif isinstance(node, ast.Global):
            for name in node.names:
                counts[name] = counts.get(name, 0) + 2
        elif isinstance(node, ast.alias):
            name = node.asname or node.name.split(".")[0]
            counts[name] = counts.get(name, 0) + 1
    return counts


_UNKNOWN = object()
_ARITHMETIC = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Div: lambda a, b: a / b,
}


def _fold(node: ast.expr) -> Any:
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _fold(node.left), _fold(node.right)
        if _number(left) and _number(right):
            try:
                return _ARITHMETIC[type(node.op)](left, right)
            except ArithmeticError:
                return _UNKNOWN
        return _UNKNOWN
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNKNOWN


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
