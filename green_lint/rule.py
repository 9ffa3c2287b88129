"""The rule model: a rule is a small libcst visitor class with its docs beside its code.

A rule module in the rule pack defines one subclass of `Rule`:

    class ExhaustiveGridSearch(Rule):
        '''## What it does ... ## Why it wastes energy ... (markdown docs)'''

        code = "GL103"
        name = "exhaustive-grid-search"
        summary = "Exhaustive grid search fits every candidate on all the data"
        fix_safety = "unsafe"
        triggers = ("GridSearchCV", "ParameterGrid")

        def visit_Call(self, node: cst.Call) -> None:
            if self.context.resolves_to(node.func, "sklearn.model_selection.GridSearchCV"):
                self.report(node, "...", fix=Fix("Use HalvingGridSearchCV", {node.func: ...}))

The engine runs the visit_*/leave_* methods of every selected rule in one traversal of the
tree; a rule reports nodes and offers fixes as libcst node replacements. A rule knows
nothing of output formats, files or suppressions.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pathlib import Path

    import libcst as cst

    from green_lint.context import RuleContext

DOCS_URL = "https://github.com/green-lint/green-lint/blob/main/docs/rules.md#{code}"


@dataclass
class Fix:
    """A fix offered by a rule: libcst nodes of the current tree and their replacements.

    `changes` maps an original node (taken from the tree being visited) to its new node,
    or to a `cst.FlattenSentinel` (insert statements around it) or `cst.RemovalSentinel`.
    All changes of one fix are applied together or not at all.
    """

    message: str
    changes: Mapping[cst.CSTNode, Any]
    applicability: str = "unsafe"  # "safe" | "unsafe"

    def __post_init__(self) -> None:
        if self.applicability not in ("safe", "unsafe"):
            raise ValueError(f"fix applicability must be 'safe' or 'unsafe', not {self.applicability!r}")


@dataclass
class Report:
    """What a rule reported, before the engine turns it into a `Finding` with positions."""

    rule: Rule
    node: cst.CSTNode | None
    message: str
    fix: Fix | None = None
    severity: str | None = None
    # The range ends at this node's end instead of `node`'s.
    end_node: cst.CSTNode | None = field(default=None)
    # For rules that read text rather than a tree (requirements files): explicit
    # 1-based (row, column) start and end; `node` is None then.
    span: tuple[tuple[int, int], tuple[int, int]] | None = None
    # Other places the message names, often in other files of the project: (absolute
    # path, 1-based line, short message) each; SARIF shows them as related locations.
    related: tuple[tuple[Path, int, str], ...] = ()


class Rule:
    """Base class of every green-lint rule. Subclasses set the class attributes below."""

    code: ClassVar[str]
    name: ClassVar[str]
    # One line: what is found and why it costs energy (shown by `green-lint rules`).
    summary: ClassVar[str]
    severity: ClassVar[str] = "warning"  # "warning" | "info"
    # "safe", "unsafe" or None when the rule never offers a fix; shown in the docs.
    fix_safety: ClassVar[str | None] = None
    # Preview rules run only when selected explicitly or with `preview = true`.
    preview: ClassVar[bool] = False
    # Rules off by default run only when selected explicitly (by their full code).
    default_enabled: ClassVar[bool] = True
    # What must appear in a file's text for the rule to run; the engine skips the rule (and
    # parsing, if no rule remains) otherwise. Each trigger is a substring, a tuple of
    # substrings that must all appear, or a compiled regex; one hit suffices. Empty: always.
    triggers: ClassVar[tuple[str | tuple[str, ...] | re.Pattern, ...]] = ()
    # Triggers (of the same kinds) for what the rule finds only through the project's other
    # modules: when the project is followed and one hits (and none of `triggers` does),
    # the rule runs on the file if `may_flag_across_files` says so.
    project_triggers: ClassVar[tuple[str | tuple[str, ...] | re.Pattern, ...]] = ()
    # Per-rule options with their defaults, set under [tool.green-lint.rules.CODE].
    options: ClassVar[Mapping[str, Any]] = {}
    # Whether the engine reports files that cannot be parsed or decoded through this rule.
    handles_parse_errors: ClassVar[bool] = False
    # Whether the engine reports noqa codes that hid nothing through this rule.
    reports_unused_suppressions: ClassVar[bool] = False
    # Whether the engine reports files it did not check (caps, parser limits, crashes)
    # through this rule.
    reports_unchecked_files: ClassVar[bool] = False
    # The file kinds the rule reads: "python" (also notebooks) or "requirements".
    file_kinds: ClassVar[tuple[str, ...]] = ("python",)
    # Whole-file analyses the rule reads through `self.context.analysis(Kind)`: classes
    # taking the RuleContext, built once per file on first use and shared by the rules
    # that declare them (libcst's METADATA_DEPENDENCIES); asking for an undeclared one is
    # an error, so what a rule depends on is written on the rule.
    needs: ClassVar[tuple[type, ...]] = ()

    def __init__(self, context: RuleContext, options: Mapping[str, Any] | None = None) -> None:
        self.context = context
        self.settings: dict[str, Any] = {**self.options, **(options or {})}

    @classmethod
    def docs(cls) -> str:
        """The rule's markdown documentation (its docstring)."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def url(cls) -> str:
        return DOCS_URL.format(code=cls.code.lower())

    @classmethod
    def may_flag(
        cls, tree: ast.Module, text: str, project_function: Callable[[str], Any] | None = None
    ) -> bool:
        """A second, cheap prefilter for a file whose text hit a trigger: whether, judging
        by CPython's tree of it (which the engine has already), the rule can flag anything
        in it. It must be a necessary condition: False means the rule is not run on the
        file, and the file is not parsed with libcst unless another rule needs it.
        `project_function` gives the summary of a top-level function of another module of
        the project by its qualified name as imported here (None when not followed)."""
        return True

    @classmethod
    def may_flag_across_files(cls, tree: ast.Module, project: Any) -> bool:
        """For a file that hit only a `project_triggers` entry: whether, judging by
        CPython's tree of it and the project's other modules (`project.function(q)`,
        `project.project_class(q)` for a name as imported here), the rule can flag anything.
        A necessary condition, like `may_flag`."""
        return False

    @classmethod
    def parse_error_message(cls, text: str, message: str, row: int, column: int) -> str:
        """For the rule that `handles_parse_errors`: the message for a file CPython fails
        to parse with `message` at `row`, `column` (1-based)."""
        return message

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        fix: Fix | None = None,
        severity: str | None = None,
        end_node: cst.CSTNode | None = None,
        related: tuple[tuple[Path, int, str], ...] = (),
    ) -> None:
        self.context.add_report(
            Report(
                rule=self,
                node=node,
                message=message,
                fix=fix,
                severity=severity,
                end_node=end_node,
                related=tuple(related),
            )
        )

    def report_span(self, start: tuple[int, int], end: tuple[int, int], message: str) -> None:
        """Report a 1-based (row, column) range; for rules that read text, not a tree."""
        self.context.add_report(Report(rule=self, node=None, message=message, span=(start, end)))
