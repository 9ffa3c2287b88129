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

import ast
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Larger files are not read (a config module is small). Only regular files are read, and
# only parsed, never run: a cloned repository's modules are data here.
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
        self._paths: dict[tuple, Path | None] = {}

    # Pickled into pool workers: each process summarises the modules it meets itself.
    def __getstate__(self) -> dict:
        return {"roots": self.roots}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["roots"])

    def constant(self, qualified: str, importer: Path | None) -> Constant | None:
        """The constant `qualified` (`config.EPOCHS`, `.settings.CONFIG`,
        `cfg.Config.epochs`) names, seen from the file `importer`."""
        return self._find(qualified, importer, "constants")

    def function(self, qualified: str, importer: Path | None) -> Function | None:
        """The top-level function of a project module that `qualified` names, seen from
        `importer`."""
        return self._find(qualified, importer, "functions")

    def _find(self, qualified: str, importer: Path | None, kind: str, depth: int = 0):
        """What `qualified` names in the summaries' `kind` table: the longest prefix that is
        a module of the project, then the rest in that module, or through its re-exports
        (`from .config import EPOCHS` in a package's `__init__.py`)."""
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
            if found is None and name in summary.imports:
                found = self._find(summary.imports[name], path, kind, depth + 1)
            return found
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
    # Its top-level functions.
    functions: dict[str, Function] = field(default_factory=dict)


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
    imports, aliases = {}, {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module != "__future__":
            for alias in statement.names:
                local = alias.asname or alias.name
                if alias.name != "*" and counts.get(local, 0) == 1:
                    imports[local] = aliases[local] = imported_name(statement, alias)
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    aliases[head] = head
    return ModuleSummary(constants, imports, _functions(tree, path, aliases))


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


def imported_name(statement: ast.ImportFrom, alias: ast.alias) -> str:
    """The qualified name `from <module> import <alias>` binds, relative ones with their
    leading dots (`.config.EPOCHS`), as the semantic model spells them."""
    prefix = "." * statement.level + (statement.module or "")
    joiner = "" if prefix.endswith(".") or not prefix else "."
    return f"{prefix}{joiner}{alias.name}"


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


@dataclass(frozen=True)
class Call:
    """A call a function makes: what it calls (qualified through the module's imports:
    `torch.load`, `transformers.AutoModel.from_pretrained`; a plain name otherwise) and
    the names its arguments read."""

    callee: str
    reads: frozenset[str]
    line: int


@dataclass(frozen=True)
class Function:
    """A top-level function of a project module, as a rule in another module needs it."""

    name: str
    path: Path
    line: int
    parameters: tuple[str, ...]
    decorators: tuple[str, ...]  # their dotted names, as written
    calls: tuple[Call, ...]  # in its own body (not in nested functions)
    declares_global: bool  # `global x` in it: it may keep what it makes beyond the call


def _functions(tree: ast.Module, path: Path, imports: dict[str, str]) -> dict[str, Function]:
    found = {}
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = statement.args
            parameters = [
                arg.arg for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
            ] + [arg.arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
            calls, declares_global = [], False
            for node in _own_nodes(statement):
                if isinstance(node, ast.Global | ast.Nonlocal):
                    declares_global = True
                elif isinstance(node, ast.Call):
                    callee = _qualified(node.func, imports)
                    if callee is not None:
                        reads = {
                            inner.id
                            for argument in (*node.args, *(keyword.value for keyword in node.keywords))
                            for inner in ast.walk(argument)
                            if isinstance(inner, ast.Name)
                        }
                        calls.append(Call(callee, frozenset(reads), node.lineno))
            decorators = tuple(
                name
                for decorator in statement.decorator_list
                if (name := _dotted(decorator.func if isinstance(decorator, ast.Call) else decorator))
            )
            found[statement.name] = Function(
                statement.name,
                path,
                statement.lineno,
                tuple(parameters),
                decorators,
                tuple(calls),
                declares_global,
            )
    return found


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, not entering nested functions, classes or lambdas."""
    pending = list(ast.iter_child_nodes(function))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _qualified(node: ast.AST, imports: dict[str, str]) -> str | None:
    dotted = _dotted(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    base = imports.get(head, head)
    return f"{base}.{rest}" if rest else base
