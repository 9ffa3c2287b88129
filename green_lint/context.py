"""What a rule can ask about the file it is visiting."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from green_lint.lines import count_line_breaks, split_lines
from green_lint.semantic import SemanticModel
from green_lint.semantic.values import Values
from green_lint.statement_lines import first_lines
from green_lint.walk import path_to

if TYPE_CHECKING:
    from green_lint.project import Caller, ProjectModules
    from green_lint.rule import Report

AnalysisT = TypeVar("AnalysisT")


class RuleContext:
    """Shared by all rules during one traversal of one file."""

    def __init__(
        self,
        module: cst.Module | None,
        path: str,
        text: str = "",
        python_module: ast.Module | None = None,
        source_path: Path | None = None,
        project: ProjectModules | None = None,
    ) -> None:
        # None for files that are read as text (requirements), not parsed.
        self.module = module
        # CPython's tree of the same text, when the engine parsed it first (for positions).
        self.python_module = python_module
        self.path = path
        # The file on disk, and the project's other modules its imports name.
        self.source_path = source_path
        self.project = project
        # The text the module was parsed from (libcst round-trips it exactly).
        self.text = text
        # The nodes from the module down to the one being visited (inclusive).
        self.stack: list[cst.CSTNode] = []
        # id(node) -> index in module.body of the top-level statement holding it; filled
        # by the engine's traversal, which passes every node anyway.
        self.top_level_indexes: dict[int, int | None] = {}
        self.reports: list[Report] = []
        self._analyses: dict[type, object] = {}
        # What the running rules declare in `needs` (set by the engine; None: not checked).
        self.declared_analyses: frozenset[type] | None = None

    def close(self) -> None:
        """Drop the file's analyses and reports once its findings are made: each refers
        back to the context (a report through its rule), and the cycle would keep the whole
        tree alive until the cyclic collector runs, which then scans it again and again
        while the next files are linted."""
        self._analyses.clear()
        self.reports.clear()

    # -- names and values: answered by the semantic model, from the scope of the node ----
    @cached_property
    def semantic(self) -> SemanticModel:
        """Scopes and bindings of the file (built lazily, shared by every rule)."""
        stack = self.stack  # not `self`: a model that refers back to the context would
        # make a cycle, and keep the file's tree alive until the cyclic collector runs
        return SemanticModel(self.module, self.text, lambda: stack)

    @cached_property
    def values(self) -> Values:
        """The values that reach a use: reaching assignments, constants, call-site arguments."""
        return Values(self.semantic, self.project, self.source_path)

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        return self.semantic.qualified_name(node)

    def resolves_to(self, node: cst.CSTNode, *qualified_names: str) -> bool:
        """Whether `node` (a Name or Attribute chain) stands for one of `qualified_names`
        where it is: a parameter or local of the same name shadows an import."""
        if type(node) is cst.Attribute:
            # `x.y.fit` can only stand for a name that ends in `.fit`. Most calls of a file
            # are method calls that rules ask about: none of them is resolved in vain.
            last = "." + node.attr.value
            if not any(name.endswith(last) for name in qualified_names):
                return False
        wanted = set(qualified_names)
        return any(candidate in wanted for candidate in self.semantic.candidates(node))

    def resolves_under(self, node: cst.CSTNode, *prefixes: str) -> str | None:
        """The qualified name of `node` when it lies under one of the module `prefixes`."""
        for candidate in self.semantic.candidates(node):
            for prefix in prefixes:
                if candidate == prefix or candidate.startswith(prefix + "."):
                    return candidate
        return None

    def analysis(self, kind: type[AnalysisT]) -> AnalysisT:
        """The file's one instance of an analysis class, built from this context on first
        use (not before: a rule that returns early costs nothing)."""
        found = self._analyses.get(kind)
        if found is None:
            if self.declared_analyses is not None and kind not in self.declared_analyses:
                raise LookupError(f"{kind.__name__} is not declared in the `needs` of any running rule")
            found = self._analyses[kind] = kind(self)
        return found

    # -- the project's other modules ----------------------------------------------------
    def project_callers(self, definition: cst.FunctionDef | cst.ClassDef) -> list[Caller]:
        """The calls, in the project's other modules, of a top-level function or class of
        this file (none when the project is not followed or the def is nested)."""
        if self.project is None or self.source_path is None:
            return []
        if not any(statement is definition for statement in self.module.body):
            return []
        return self.project.callers(definition.name.value, self.source_path)

    def project_place(self, caller: Caller) -> str:
        """How a message names a caller in another file: `train.py:88`, relative to the
        folder of this file's project."""
        from green_lint.project.modules import caller_place

        return caller_place(caller, self.source_path)

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

    def single_value(self, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """The one expression a name has where it is used (the semantic model's reaching
        values, followed through names, parameters, `self.x` and configs), or None when it
        may have several or none is known; anything that is not a name is returned as it is."""
        if not isinstance(node, cst.Name):
            return node
        values = self.values.expressions(node)
        return values[0] if len(values) == 1 and values[0] is not node else None

    # -- positions (computed only when asked) ------------------------------------------
    # libcst's PositionProvider generates the code of the whole file with bookkeeping, which
    # costs more than parsing it. Findings are few: positions are computed for the
    # top-level statement that holds the node only, and shifted to its first line.
    def position(self, node: cst.CSTNode) -> CodeRange:
        """The node's range: 1-based lines, 0-based columns (libcst's convention)."""
        located = self.top_level_index(node)
        if located is None or not self.splits_by_statement():
            return self._whole_file_positions[node]
        local = self._statement_positions(located)[node]
        shift = self.statement_first_line(located) - 1
        return CodeRange(
            CodePosition(local.start.line + shift, local.start.column),
            CodePosition(local.end.line + shift, local.end.column),
        )

    def splits_by_statement(self) -> bool:
        """Whether positions and fix edits can be computed per top-level statement."""
        return self._statement_first_lines is not None

    def statement_first_line(self, index: int) -> int:
        """The first line (comments above included) of the index-th top-level statement."""
        return self._statement_first_lines[index]

    def top_level_index(self, node: cst.CSTNode) -> int | None:
        """The index in `module.body` of the top-level statement that holds `node`."""
        index = self.top_level_indexes.get(id(node))
        if index is not None:
            return index
        for index, statement in enumerate(self.module.body):  # trivia nodes are not visited
            if path_to(statement, node) is not None:
                return index
        return None

    @cached_property
    def _whole_file_positions(self):
        return _positions(self.module)

    @cached_property
    def _statement_first_lines(self) -> list[int] | None:
        """None when the statements' texts do not add up to the file (e.g. no newline at
        its end): positions and fixes then take the whole-file path."""
        if not self.module.has_trailing_newline:
            return None
        found = first_lines(self.module, self.text, self.python_module)
        if found is not None:
            return found
        texts = [self.module.code_for_node(statement) for statement in self.module.body]
        header = "".join(self.module.code_for_node(line) for line in self.module.header)
        footer = "".join(self.module.code_for_node(line) for line in self.module.footer)
        if header + "".join(texts) + footer != self.text:
            return None
        line, found = 1 + count_line_breaks(header), []
        for text in texts:
            found.append(line)
            line += count_line_breaks(text)
        return found

    def _statement_positions(self, index: int):
        cache = self.__dict__.setdefault("_positions_by_statement", {})
        if index not in cache:
            alone = self.module.with_changes(header=(), footer=(), body=(self.module.body[index],))
            cache[index] = _positions(alone)
        return cache[index]

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # -- texts of top-level statements, for turning fixes into edits --------------------
    def statement_text(self, index: int) -> str:
        """The exact source text of the index-th top-level statement (when
        `splits_by_statement()`)."""
        starts = self._statement_first_lines
        lines = self._source_lines
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines) - len(self.module.footer)
        return "".join(lines[starts[index] - 1 : end])

    @cached_property
    def _source_lines(self) -> list[str]:
        return split_lines(self.text, keepends=True)

    # -- reports -----------------------------------------------------------------------
    def add_report(self, report: Report) -> None:
        self.reports.append(report)


def _positions(module: cst.Module):
    """libcst's positions of every node of `module`, from its PositionProvider run alone:
    through a MetadataWrapper each call also walked the whole tree for batchable
    providers (there are none here), which doubled the cost of a finding's position."""
    try:
        provider = PositionProvider()
        provider._gen_impl(module)
        return provider._computed
    except AttributeError:  # a libcst whose providers work otherwise
        return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
