"""Small questions about single nodes, shared by the torch and model-load modules."""

from __future__ import annotations

import libcst as cst

_EMPTY_MODULE = cst.Module(body=[])


def first_argument(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    """The argument passed as `keyword=`, else the first positional one."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[0].value if positional else None


def is_false(node: cst.BaseExpression | None) -> bool:
    return (isinstance(node, cst.Name) and node.value == "False") or (
        isinstance(node, cst.Integer) and node.value == "0"
    )


def is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def last_name(node: cst.BaseExpression) -> str | None:
    """`model` -> "model", `self.model` -> "model"; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def code(node: cst.CSTNode) -> str:
    """The source of a node on its own (no module needed)."""
    return _EMPTY_MODULE.code_for_node(node)
