"""Loops as the data rules (GL201-GL204) see them: which loop runs a node once per
iteration, the statements of a loop body, and the names that change from one iteration to
the next. No rule lives here (the registry only collects `Rule` subclasses)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import libcst as cst

from green_lint.rules._syntax import DEFINITIONS, LOOPS
from green_lint.semantic.scopes import COMPREHENSIONS
from green_lint.walk import children


# -- loops --------------------------------------------------------------------------------
def enclosing_loop(stack: list[cst.CSTNode]) -> cst.CSTNode | None:
    """The innermost loop that runs the last node of `stack` once per iteration: a
    For/While whose body holds it, or a comprehension whose element, condition or inner
    `for` holds it. None outside loops; nested functions, lambdas and classes stop the
    search (their body runs when called, not per iteration)."""
    for index in range(len(stack) - 2, -1, -1):
        ancestor, child = stack[index], stack[index + 1]
        if isinstance(ancestor, DEFINITIONS):
            return None
        if isinstance(ancestor, LOOPS) and child is ancestor.body:
            return ancestor
        if isinstance(ancestor, COMPREHENSIONS) and child is not ancestor.for_in:
            return ancestor
        if isinstance(ancestor, cst.CompFor) and child is not ancestor.iter and child is not ancestor.target:
            return _comprehension_of(stack, index)
        if isinstance(ancestor, cst.CompFor) and child is ancestor.iter:
            # The outermost `for`'s iterable runs once; an inner one's once per outer item.
            if not isinstance(stack[index - 1], cst.CompFor):
                continue
            return _comprehension_of(stack, index)
    return None


def _comprehension_of(stack: list[cst.CSTNode], index: int) -> cst.CSTNode | None:
    for ancestor in reversed(stack[:index]):
        if isinstance(ancestor, COMPREHENSIONS):
            return ancestor
    return None


def loop_body_lines(loop: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements of a For/While body (a one-line suite included)."""
    return block_statements(loop.body)


def block_statements(block: cst.BaseSuite) -> list[cst.CSTNode]:
    """The small and compound statements of an indented block or one-line suite."""
    if isinstance(block, cst.SimpleStatementSuite):
        return list(block.body)
    statements: list[cst.CSTNode] = []
    for line in block.body:
        if isinstance(line, cst.SimpleStatementLine):
            statements.extend(line.body)
        else:
            statements.append(line)
    return statements


MUTATORS = frozenset(
    {"append", "extend", "insert", "pop", "update", "setdefault", "clear", "remove", "add", "discard"}
)


def walk(
    node: cst.CSTNode, *, enter: Callable[[cst.CSTNode], bool] = lambda n: True
) -> Iterable[cst.CSTNode]:
    """Every code-carrying node under `node` (included), parents first; `enter` says
    whether to go inside a node (the root is always entered)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        if current is node or enter(current):
            pending.extend(reversed(list(children(current))))


def base_name(node: cst.BaseExpression) -> str | None:
    """`a` for `a`, `a.b`, `a[i].c`."""
    while isinstance(node, cst.Attribute | cst.Subscript):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _bind(target: cst.CSTNode | None, names: set[str]) -> None:
    if isinstance(target, cst.Name):
        names.add(target.value)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _bind(element.value, names)
    elif isinstance(target, cst.StarredElement):
        _bind(target.value, names)
    elif isinstance(target, cst.Subscript | cst.Attribute):
        base = base_name(target)
        if base is not None:
            names.add(base)


def names_bound_in(*nodes: cst.CSTNode | None) -> set[str]:
    """Names bound (or mutated in place: `x[i] = ...`, `x.append(...)`) in the subtrees;
    nested functions and classes count by their name only."""
    names: set[str] = set()
    for root in nodes:
        if root is None:
            continue
        for node in walk(root, enter=not_a_definition):
            if isinstance(node, cst.Assign):
                for target in node.targets:
                    _bind(target.target, names)
            elif isinstance(
                node, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor | cst.NamedExpr | cst.Del
            ):
                _bind(node.target, names)
            elif isinstance(node, cst.AsName):
                _bind(node.name, names)
            elif isinstance(node, cst.FunctionDef | cst.ClassDef):
                names.add(node.name.value)
            elif (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value in MUTATORS
            ):
                base = base_name(node.func.value)
                if base is not None:
                    names.add(base)
    return names


def loop_bound_names(loop: cst.CSTNode) -> set[str]:
    """The names that may change from one iteration of `loop` to the next."""
    if isinstance(loop, cst.For):
        names: set[str] = set()
        _bind(loop.target, names)
        return names | names_bound_in(loop.body)
    if isinstance(loop, cst.While):
        return names_bound_in(loop.body)
    return names_bound_in(loop)  # a comprehension: its targets and walruses


def names_in(node: cst.CSTNode) -> set[str]:
    """Every name an expression mentions (not attribute names, not keyword names)."""
    found: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Name):
            found.add(current.value)
        elif isinstance(current, cst.Attribute | cst.Arg):
            pending.append(current.value)
        else:
            pending.extend(children(current))
    return found


def not_a_definition(node: cst.CSTNode) -> bool:
    return not isinstance(node, DEFINITIONS)
