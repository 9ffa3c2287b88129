"""Small reads and rewrites of libcst nodes shared by the data rules (GL201-GL204): the
source text of a node, the indices of a subscript, string keys, literals, parentheses."""

from __future__ import annotations

import libcst as cst

from green_lint.names import dotted_name
from green_lint.semantic.scopes import parameters

COMPARISONS = (
    cst.LessThan,
    cst.LessThanEqual,
    cst.GreaterThan,
    cst.GreaterThanEqual,
    cst.Equal,
    cst.NotEqual,
)


def is_name(node: cst.CSTNode, name: str | None) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def find_parameter(function: cst.FunctionDef, name: str) -> cst.Param | None:
    """The parameter of `function` called `name`, if it has one."""
    return next((param for param in parameters(function.params) if param.name.value == name), None)


def is_simple_reference(node: cst.BaseExpression) -> bool:
    """`df` or `self.data.df`: cheap to evaluate again, no side effects."""
    return dotted_name(node) is not None


def subscript_indices(node: cst.Subscript) -> list[cst.BaseExpression] | None:
    """The index expressions of `x[a]` / `x[a, b]` (None when there is a slice)."""
    indices = []
    for element in node.slice:
        if not isinstance(element.slice, cst.Index) or element.slice.star is not None:
            return None
        indices.append(element.slice.value)
    return indices


def string_key(node: cst.BaseExpression) -> cst.SimpleString | None:
    """The plain string literal of `x["col"]` (no f-string, no bytes)."""
    if (
        isinstance(node, cst.SimpleString)
        and "b" not in node.prefix.lower()
        and "f" not in node.prefix.lower()
    ):
        return node
    return None


def is_literal(node: cst.BaseExpression) -> bool:
    """A string or number literal, or True/False/None."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    return isinstance(node, cst.SimpleString | cst.ConcatenatedString | cst.Integer | cst.Float)


def is_number(node: cst.BaseExpression) -> bool:
    """An integer or float literal, possibly negated."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    return isinstance(node, cst.Integer | cst.Float)


def needs_parentheses(expr: cst.BaseExpression, parent: cst.CSTNode | None) -> bool:
    """Whether `expr` must be parenthesised where a call used to be."""
    if expr.lpar or isinstance(
        expr, cst.Name | cst.Attribute | cst.Subscript | cst.Call | cst.Integer | cst.Float
    ):
        return False
    return not isinstance(
        parent, cst.Assign | cst.AnnAssign | cst.AugAssign | cst.Return | cst.Arg | cst.Expr | cst.Element
    )


def parenthesized(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def receiver_form(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr` ready to take `.method()`: parenthesised unless it is atomic."""
    if expr.lpar or isinstance(expr, cst.Name | cst.Attribute | cst.Subscript | cst.Call):
        return expr
    return parenthesized(expr)
