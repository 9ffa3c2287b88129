"""Torch tensors of known rank, for GL203: `scores = torch.zeros(n)` (through `Variable(...)`,
`.cuda()`, `.to(device)` or a helper of the file that only wraps its argument) filled one
element at a time from Python."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import walk

# torch functions whose positional arguments are the sizes of the tensor they make.
SIZED_MAKERS = frozenset(
    f"torch.{name}" for name in ("zeros", "ones", "empty", "rand", "randn", "Tensor", "FloatTensor")
)
# Methods and wrappers that return the same elements (moved, cast or wrapped).
SAME_ELEMENTS = frozenset({"cuda", "cpu", "to", "float", "double", "half", "detach", "requires_grad_"})
INTEGER_CASTS = frozenset({"long", "int", "short", "byte"})
INTEGER_DTYPES = frozenset(
    f"torch.{name}" for name in ("long", "int64", "int", "int32", "int16", "uint8", "int8")
)
MAX_DEPTH = 6


def tensor_rank(context: RuleContext, name: cst.Name) -> int | None:
    """The rank every value reaching this use of `name` agrees on, when each is a torch
    tensor made with its sizes written out."""
    if not context.semantic.imports_module("torch"):
        return None
    return _rank_of_name(context, name, 0)


def _rank_of_name(context: RuleContext, name: cst.Name, depth: int) -> int | None:
    values = [value for value in context.values.expressions(name) if value is not name]
    ranks = {_rank(context, value, depth + 1) for value in values}
    return ranks.pop() if len(ranks) == 1 else None


def _rank(context: RuleContext, expr: cst.BaseExpression, depth: int) -> int | None:
    if depth > MAX_DEPTH:
        return None
    if isinstance(expr, cst.Name):
        return _rank_of_name(context, expr, depth)
    if not isinstance(expr, cst.Call):
        return None
    func = expr.func
    positional = [arg.value for arg in expr.args if arg.keyword is None and not arg.star]
    if _integer_dtype(context, expr):
        return None  # token ids filled one by one: an encoding step, not arithmetic
    if context.resolves_to(func, *SIZED_MAKERS):
        if len(positional) == 1 and isinstance(positional[0], cst.Tuple | cst.List):
            return len(positional[0].elements)
        return len(positional) or None
    if isinstance(func, cst.Attribute) and func.attr.value in INTEGER_CASTS:
        return None
    if isinstance(func, cst.Attribute) and func.attr.value in SAME_ELEMENTS:
        return _rank(context, func.value, depth + 1)
    if len(positional) == 1 and (
        context.resolves_to(func, "torch.autograd.Variable") or _wraps_its_argument(context, func)
    ):
        return _rank(context, positional[0], depth + 1)
    return None


def _wraps_its_argument(context: RuleContext, func: cst.BaseExpression) -> bool:
    """A function of the file with one parameter whose every return hands it back moved
    or wrapped: `def cuda_variable(t): return Variable(t.cuda()) if ... else Variable(t)`."""
    definition = context.semantic.definition(func)
    if not isinstance(definition, cst.FunctionDef) or len(definition.params.params) != 1:
        return False
    parameter = definition.params.params[0].name.value
    returns = [node for node in walk(definition.body) if isinstance(node, cst.Return)]
    return bool(returns) and all(
        node.value is not None and _hands_back(context, node.value, parameter) for node in returns
    )


def _hands_back(context: RuleContext, expr: cst.BaseExpression, parameter: str) -> bool:
    while True:
        if isinstance(expr, cst.Name):
            return expr.value == parameter
        if not isinstance(expr, cst.Call):
            return False
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in SAME_ELEMENTS:
            expr = func.value
        elif context.resolves_to(func, "torch.autograd.Variable") and len(expr.args) == 1:
            expr = expr.args[0].value
        else:
            return False


def _integer_dtype(context: RuleContext, call: cst.Call) -> bool:
    return any(
        arg.keyword is not None
        and arg.keyword.value == "dtype"
        and context.resolves_to(arg.value, *INTEGER_DTYPES)
        for arg in call.args
    )
