"""Reading names and statements without visiting expressions: the dotted form of a name
chain, and a walk over a scope's statements (a fraction of the cost of a full traversal).

What a name stands for is the semantic model's question (`green_lint.semantic`).
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst


def dotted_name(node: cst.BaseExpression | cst.ImportFrom | None) -> str | None:
    """`a.b.c` as a string for a Name/Attribute chain; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def statements_of(scope: cst.CSTNode, *, enter_definitions: bool = True) -> Iterator[cst.CSTNode]:
    """Every small and compound statement inside `scope` (a module, function or any
    compound statement), recursively, without entering expressions. With
    `enter_definitions=False`, nested functions and classes are yielded but not entered."""
    bodies = [scope.body] if isinstance(scope, cst.Module) else list(_child_bodies(scope))
    for body in bodies:
        yield from _statements(body, enter_definitions)


# Node types are compared, not isinstance-checked: libcst's node classes are ABCs, slow to
# check, and these walks see every statement of every file.
DEFINITION_TYPES = frozenset({cst.FunctionDef, cst.ClassDef})
# The definitions whose body is a scope of its own.
NESTED_SCOPE_TYPES = DEFINITION_TYPES | {cst.Lambda}
_BLOCKS = frozenset({cst.IndentedBlock, cst.SimpleStatementSuite})


def _statements(body, enter_definitions: bool) -> Iterator[cst.CSTNode]:
    for statement in body:
        kind = type(statement)
        if kind is cst.SimpleStatementLine:
            yield from statement.body
            continue
        yield statement
        if not enter_definitions and kind in DEFINITION_TYPES:
            continue
        for child_body in _child_bodies(statement):
            yield from _statements(child_body, enter_definitions)


def _child_bodies(statement: cst.CSTNode) -> Iterator:
    body = getattr(statement, "body", None)
    if type(body) in _BLOCKS:
        yield body.body
    elif isinstance(body, list | tuple):  # match cases
        yield body
    for attribute in ("orelse", "finalbody"):
        extra = getattr(statement, attribute, None)
        if extra is not None:
            yield from _child_bodies(extra) if type(extra) is not cst.If else [[extra]]
    for handler in getattr(statement, "handlers", ()):
        yield from _child_bodies(handler)
    for case in getattr(statement, "cases", ()):
        yield from _child_bodies(case)
