"""What a GL101 detector says of a model-building call: a `Build`, random or not, with the
message and fix to report if the model turns out to be trained in the file."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rule import Fix
from green_lint.rules._syntax import is_false, is_none


@dataclass
class Build:
    """A model built by a call: randomly initialised or not, and how to say and fix it."""

    call: cst.Call
    random: bool
    message: str = ""
    fix: Fix | None = None
    origin_ids: set[int] = field(default_factory=set)


def is_none_value(context: RuleContext, node: cst.BaseExpression) -> bool:
    """`None`, written or the one value of a name."""
    return is_none(node) or is_none(context.single_value(node))


def is_false_value(context: RuleContext, node: cst.BaseExpression) -> bool:
    """`False`, written or the one value of a name."""
    return is_false(node) or is_false(context.single_value(node))


def int_literal(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    return None
