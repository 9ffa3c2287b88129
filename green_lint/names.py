"""The import table of a file: which local name stands for which qualified name.

Rules ask "is this call `sklearn.model_selection.GridSearchCV`?" and the table answers by
following the file's imports (`import pandas as pd`, `from sklearn import model_selection
as ms`, `import sklearn.model_selection`, star imports). A name the file defines itself
(a class or function of the same name) is the user's own and resolves to nothing.

The table is built by a walk over statements only (never into expressions), which costs a
fraction of a full traversal.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator

import libcst as cst

_BUILTIN_NAMES = frozenset(dir(builtins))


def dotted_name(node: cst.BaseExpression | cst.ImportFrom | None) -> str | None:
    """`a.b.c` as a string for a Name/Attribute chain; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


class ImportTable:
    def __init__(self) -> None:
        self.bindings: dict[str, str] = {}
        # The Import/ImportFrom statement that bound each local name (fixes edit them).
        self.binding_statements: dict[str, cst.Import | cst.ImportFrom] = {}
        self.star_modules: list[str] = []
        # Names bound by the file's own `class`/`def` statements.
        self.own_definitions: set[str] = set()

    @classmethod
    def from_module(cls, module: cst.Module) -> ImportTable:
        table = cls()
        for statement in statements_of(module):
            if isinstance(statement, cst.Import | cst.ImportFrom):
                table._add_import(statement)
            elif isinstance(statement, cst.ClassDef | cst.FunctionDef):
                table.own_definitions.add(statement.name.value)
        return table

    def _add_import(self, node: cst.Import | cst.ImportFrom) -> None:
        # One reading of import statements for the whole program: the semantic model's.
        from green_lint.semantic.scopes import Scope, bind_import

        scratch = Scope(node, None)
        bind_import(scratch, node)
        self.star_modules.extend(scratch.star_imports)
        for local, bindings in scratch.bindings.items():
            # `import a.b` then `import a.c` keep `a` bound to `a`.
            if not (
                isinstance(node, cst.Import) and local in self.bindings and bindings[-1].qualified == local
            ):
                self._bind(local, bindings[-1].qualified, node)

    def _bind(self, local: str, qualified: str, statement: cst.Import | cst.ImportFrom) -> None:
        self.bindings[local] = qualified
        self.binding_statements[local] = statement

    def candidates(self, node: cst.CSTNode) -> list[str]:
        """Every qualified name `node` may stand for (several only through star imports)."""
        if isinstance(node, cst.Name):
            name = node.value
            if name in self.own_definitions:
                return []
            if name in self.bindings:
                return [self.bindings[name]]
            if self.star_modules:
                return [f"{module}.{name}" for module in self.star_modules]
            if name in _BUILTIN_NAMES:
                return [f"builtins.{name}"]
            return []
        if isinstance(node, cst.Attribute):
            return [f"{base}.{node.attr.value}" for base in self.candidates(node.value)]
        return []

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        """The qualified name `node` stands for, or None when unknown or ambiguous."""
        found = self.candidates(node)
        return found[0] if len(found) == 1 else None

    def local_name_for(self, qualified: str) -> str | None:
        """The local name bound to exactly `qualified`, if the file imports it."""
        for local, target in self.bindings.items():
            if target == qualified and local not in self.own_definitions:
                return local
        return None

    def imports_module(self, prefix: str) -> bool:
        """Whether the file imports `prefix` or anything below it."""
        dotted = prefix + "."
        return any(
            target == prefix or target.startswith(dotted)
            for target in (*self.bindings.values(), *self.star_modules)
        )


def statements_of(scope: cst.CSTNode, *, enter_definitions: bool = True) -> Iterator[cst.CSTNode]:
    """Every small and compound statement inside `scope` (a module, function or any
    compound statement), recursively, without entering expressions. With
    `enter_definitions=False`, nested functions and classes are yielded but not entered."""
    bodies = [scope.body] if isinstance(scope, cst.Module) else list(_child_bodies(scope))
    for body in bodies:
        yield from _statements(body, enter_definitions)


def _statements(body, enter_definitions: bool) -> Iterator[cst.CSTNode]:
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
            continue
        yield statement
        if not enter_definitions and isinstance(statement, cst.FunctionDef | cst.ClassDef):
            continue
        for child_body in _child_bodies(statement):
            yield from _statements(child_body, enter_definitions)


def _child_bodies(statement: cst.CSTNode) -> Iterator:
    body = getattr(statement, "body", None)
    if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
        yield body.body
    elif isinstance(body, list | tuple):  # match cases
        yield body
    for attribute in ("orelse", "finalbody"):
        extra = getattr(statement, attribute, None)
        if extra is not None:
            yield from _child_bodies(extra) if not isinstance(extra, cst.If) else [[extra]]
    for handler in getattr(statement, "handlers", ()):
        yield from _child_bodies(handler)
    for case in getattr(statement, "cases", ()):
        yield from _child_bodies(case)
