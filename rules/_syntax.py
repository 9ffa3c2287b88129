"""Syntax helpers shared by every rule family: walks that can stop at nested definitions,
a call's arguments by position or keyword, literal checks, the source text of a node.

One place for each: a rule module that needs one of these imports it from here."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from green_lint.names import NESTED_SCOPE_TYPES
from green_lint.walk import children

# The definitions that open a scope, for isinstance (NESTED_SCOPE_TYPES for look-ups by type).
DEFINITIONS = tuple(NESTED_SCOPE_TYPES)
LOOPS = (cst.For, cst.While)
# Binary operators on numbers (the same on scalars, NumPy arrays and pandas columns).
ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power)
BITWISE = (cst.BitAnd, cst.BitOr, cst.BitXor, cst.LeftShift, cst.RightShift)
# Nodes built by a rule belong to no module: an empty one prints them with default style.
EMPTY_MODULE = cst.Module(body=[])


# -- walks -----------------------------------------------------------------------------
def walk(node: cst.CSTNode, *, enter_definitions: bool = True) -> Iterator[cst.CSTNode]:
    """Every code-carrying node below `node` (inclusive), depth first, in no particular
    order (whitespace and punctuation skipped)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if not enter_definitions and current is not node and isinstance(current, DEFINITIONS):
            continue
        stack.extend(children(current))


def calls_in(node: cst.CSTNode, *, enter_definitions: bool = True) -> Iterator[cst.Call]:
    for found in walk(node, enter_definitions=enter_definitions):
        if type(found) is cst.Call:  # by type: libcst's node classes are ABCs, slow to check
            yield found


def last_name(node: cst.BaseExpression) -> str | None:
    """`b` for `a.b`, `a` for `a`, the base name of `a[0]`; None otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Subscript):
        return last_name(node.value)
    return None


# -- arguments -------------------------------------------------------------------------
def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def keyword_value(call: cst.Call, name: str) -> cst.BaseExpression | None:
    found = keyword(call, name)
    return found.value if found is not None else None


def positional(call: cst.Call) -> list[cst.Arg]:
    return [arg for arg in call.args if arg.keyword is None and not arg.star]


def argument(call: cst.Call, position: int | None, name: str) -> cst.BaseExpression | None:
    found = keyword(call, name)
    if found is not None:
        return found.value
    args = positional(call)
    if position is not None and position < len(args):
        # A positional after a `*args` has an unknown position.
        if any(arg.star == "*" for arg in call.args[: call.args.index(args[position])]):
            return None
        return args[position].value
    return None


def has_keyword(call: cst.Call, name: str) -> bool:
    return keyword(call, name) is not None


def has_star(call: cst.Call) -> bool:
    """Whether the call passes `*args` or `**kwargs` (then its arguments are unknown)."""
    return any(arg.star for arg in call.args)


def keywords(call: cst.Call) -> dict[str, cst.BaseExpression]:
    return {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}


def is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def is_false(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def is_false_or_zero(node: cst.BaseExpression | None) -> bool:
    """`False` or `0`, as torch's mode flags accept both."""
    return is_false(node) or (isinstance(node, cst.Integer) and node.value == "0")


def string_value(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover - libcst evaluates every valid literal
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover - f-strings and mixed bytes
            return None
        return value if isinstance(value, str) else None
    return None


def assignment_targets(statement: cst.CSTNode) -> list[cst.BaseAssignTargetExpression]:
    """What a plain, augmented or annotated assignment assigns to; [] for other statements."""
    if isinstance(statement, cst.Assign):
        return [target.target for target in statement.targets]
    if isinstance(statement, cst.AugAssign | cst.AnnAssign):
        return [statement.target]
    return []


def number(node: cst.BaseExpression | None) -> float | int | None:
    """The value of an integer or float literal, possibly signed."""
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    if isinstance(node, cst.Float):
        return float(node.value.replace("_", ""))
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus | cst.Plus):
        value = number(node.expression)
        if value is None:
            return None
        return -value if isinstance(node.operator, cst.Minus) else value
    return None


def is_docstring(statement: cst.CSTNode) -> bool:
    """A string-literal statement (alone on its line, when given the line)."""
    if isinstance(statement, cst.SimpleStatementLine):
        if len(statement.body) != 1:
            return False
        statement = statement.body[0]
    return isinstance(statement, cst.Expr) and isinstance(
        statement.value, cst.SimpleString | cst.ConcatenatedString
    )


def code(node: cst.CSTNode) -> str:
    """The source text of any node (also of nodes built by a rule)."""
    return EMPTY_MODULE.code_for_node(node)
