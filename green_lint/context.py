"""What a rule can ask about the file it is visiting."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from green_lint.names import ImportTable, statements_of

if TYPE_CHECKING:
    from green_lint.rule import Report


class RuleContext:
    """Shared by all rules during one traversal of one file."""

    def __init__(self, module: cst.Module | None, path: str) -> None:
        # None for files that are read as text (requirements), not parsed.
        self.module = module
        self.path = path
        self.imports = ImportTable.from_module(module) if module is not None else ImportTable()
        # The nodes from the module down to the one being visited (inclusive).
        self.stack: list[cst.CSTNode] = []
        self.reports: list[Report] = []

    # -- names -------------------------------------------------------------------------
    def qualified_name(self, node: cst.CSTNode) -> str | None:
        return self.imports.qualified_name(node)

    def resolves_to(self, node: cst.CSTNode, *qualified_names: str) -> bool:
        """Whether `node` (a Name or Attribute chain) stands for one of `qualified_names`."""
        wanted = set(qualified_names)
        return any(candidate in wanted for candidate in self.imports.candidates(node))

    def resolves_under(self, node: cst.CSTNode, *prefixes: str) -> str | None:
        """The qualified name of `node` when it lies under one of the module `prefixes`."""
        for candidate in self.imports.candidates(node):
            for prefix in prefixes:
                if candidate == prefix or candidate.startswith(prefix + "."):
                    return candidate
        return None

    # -- tree --------------------------------------------------------------------------
    @property
    def node(self) -> cst.CSTNode:
        """The node being visited."""
        return self.stack[-1]

    @property
    def parent(self) -> cst.CSTNode | None:
        """The parent of the node being visited."""
        return self.stack[-2] if len(self.stack) > 1 else None

    def ancestors(self) -> Iterator[cst.CSTNode]:
        """The ancestors of the node being visited, nearest first."""
        return reversed(self.stack[:-1])

    def enclosing(self, *types: type[cst.CSTNode]) -> cst.CSTNode | None:
        """The nearest ancestor of one of `types`."""
        for ancestor in self.ancestors():
            if isinstance(ancestor, types):
                return ancestor
        return None

    def scope(self) -> cst.Module | cst.FunctionDef:
        """The function being visited, or the module."""
        return self.enclosing(cst.FunctionDef) or self.module

    def assigned_values(self, name: str, scope: cst.CSTNode | None = None) -> list[cst.BaseExpression]:
        """The values of the plain assignments `name = value` (and `name: T = value`) in
        `scope` (default: the current function, else the module), nested functions and
        classes excluded, in source order."""
        values = []
        for statement in statements_of(scope or self.scope(), enter_definitions=False):
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    if isinstance(target.target, cst.Name) and target.target.value == name:
                        values.append(statement.value)
            elif (
                isinstance(statement, cst.AnnAssign)
                and statement.value is not None
                and isinstance(statement.target, cst.Name)
                and statement.target.value == name
            ):
                values.append(statement.value)
        return values

    def single_value(self, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """Follow a name to the one value assigned to it in the current scope (or the
        module); anything that is not a name is returned as it is."""
        if not isinstance(node, cst.Name):
            return node
        for scope in dict.fromkeys([self.scope(), self.module]):
            values = self.assigned_values(node.value, scope)
            if values:
                return values[0] if len(values) == 1 else None
        return None

    # -- positions (computed only when asked) ------------------------------------------
    @cached_property
    def _wrapper(self) -> MetadataWrapper:
        return MetadataWrapper(self.module, unsafe_skip_copy=True)

    @cached_property
    def _positions(self):
        return self._wrapper.resolve(PositionProvider)

    def position(self, node: cst.CSTNode) -> CodeRange:
        """The node's range: 1-based lines, 0-based columns (libcst's convention)."""
        return self._positions[node]

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # -- reports -----------------------------------------------------------------------
    def add_report(self, report: Report) -> None:
        self.reports.append(report)
