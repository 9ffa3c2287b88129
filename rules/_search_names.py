"""What a name of the file stands for where it is used, for the search rules (GL104),
answered by the semantic model: the def it refers to, the one value it holds."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext


def function_named(context: RuleContext, node: cst.BaseExpression | None) -> cst.FunctionDef | None:
    """The one def of the file that a name stands for where it is used."""
    found = context.semantic.definition(node) if isinstance(node, cst.Name) else None
    return found if isinstance(found, cst.FunctionDef) else None


def one_value(context: RuleContext, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """The one expression a name may hold where it is used (the assignments that reach
    it, a parameter's default and call-site arguments); anything else as it is."""
    if not isinstance(node, cst.Name):
        return node
    found = context.values.expressions(node)
    return found[0] if len(found) == 1 and found[0] is not node else None
