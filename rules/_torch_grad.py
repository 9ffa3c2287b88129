"""Autograd's grad mode, as a file sets it: what turns autograd off (`torch.no_grad()`,
`torch.inference_mode()`, `torch.set_grad_enabled(False)`, as a `with` item or a
decorator) and what asks for gradients (`backward()`, an optimiser step,
`torch.autograd`, `requires_grad`).
"""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import dotted_name
from green_lint.rules._syntax import argument, is_false_or_zero, is_true
from green_lint.walk import walk

NO_GRAD = (
    "torch.no_grad",
    "torch.autograd.no_grad",
    "torch.autograd.grad_mode.no_grad",
)
INFERENCE_MODE = (
    "torch.inference_mode",
    "torch.autograd.inference_mode",
    "torch.autograd.grad_mode.inference_mode",
)
SET_GRAD_ENABLED = (
    "torch.set_grad_enabled",
    "torch.autograd.set_grad_enabled",
    "torch.autograd.grad_mode.set_grad_enabled",
)
ENABLE_GRAD = ("torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad")

# Calls that ask for gradients: their function is training (or attribution) code.
GRAD_METHODS = frozenset({"backward", "requires_grad_", "retain_grad", "register_hook", "zero_grad"})
GRAD_PACKAGES = ("torch.autograd", "torch.func", "functorch")
GRAD_MODE_NAMES = (*NO_GRAD, *INFERENCE_MODE, *SET_GRAD_ENABLED)
# How deep a project's decorators may wrap one another.
_MAX_WRAPPING = 3
# `Variable(x)` has been a no-op wrapper since torch 0.4: it asks for gradients only with
# `requires_grad=True`.
VARIABLE = ("torch.autograd.Variable", "torch.autograd.variable.Variable")


def grad_off_expression(context: RuleContext, expr: cst.BaseExpression, depth: int = 0) -> bool:
    """Whether a `with` item or a decorator turns autograd off (or may: a
    `set_grad_enabled(flag)` with a non-literal flag counts, precision first). A project's
    own decorator or context manager built on one counts too (`wraps_grad_off`), and so
    does a name bound to one (`inference = torch.inference_mode()`)."""
    func = expr.func if isinstance(expr, cst.Call) else expr
    if context.resolves_to(func, *NO_GRAD):
        return True
    if context.resolves_to(func, *INFERENCE_MODE):
        mode = argument(expr, 0, "mode") if isinstance(expr, cst.Call) else None
        return not is_false_or_zero(mode)
    if context.resolves_to(func, *SET_GRAD_ENABLED) and isinstance(expr, cst.Call):
        return not is_true(argument(expr, 0, "mode"))
    if depth >= _MAX_WRAPPING or not isinstance(func, cst.Name):
        return False
    definition = context.semantic.definition(func)
    if isinstance(definition, cst.FunctionDef):
        return wraps_grad_off(context, definition, depth + 1)
    bindings = context.semantic.binding_of(func)
    return bool(bindings) and all(
        b.kind == "assignment"
        and b.value is not None
        and not b.element
        and grad_off_expression(context, b.value, depth + 1)
        for b in bindings
    )


def wraps_grad_off(context: RuleContext, func: cst.FunctionDef, depth: int = 0) -> bool:
    """Whether a function of the file, used as a decorator or a context manager, runs
    what it wraps with autograd off: it returns a grad-off object or a function wrapped
    in one (`return torch.inference_mode()`, `return torch.no_grad()(fn)`), or it runs
    the wrapped function, or yields, inside a grad-off `with` block (a wrapper it
    defines, a `@contextmanager`)."""
    wrapped = {
        p.name.value for node in walk(func) if isinstance(node, cst.FunctionDef) for p in _params(node)
    }
    for node in walk(func.body):
        if isinstance(node, cst.Return) and node.value is not None:
            value = node.value
            inner = value.func if isinstance(value, cst.Call) else None
            if grad_off_expression(context, value, depth) or (
                inner is not None and grad_off_expression(context, inner, depth)
            ):
                return True
        elif isinstance(node, cst.With) and any(
            grad_off_expression(context, item.item, depth) for item in node.items
        ):
            if any(_runs_wrapped(inner, wrapped) for inner in walk(node.body)):
                return True
        elif isinstance(node, cst.FunctionDef) and any(
            grad_off_expression(context, d.decorator, depth) for d in node.decorators
        ):
            return True  # a wrapper decorated with no_grad, returned as the new function
    return False


def _runs_wrapped(node: cst.CSTNode, wrapped: set[str]) -> bool:
    if isinstance(node, cst.Yield):
        return True
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in wrapped


def _params(func: cst.FunctionDef) -> list[cst.Param]:
    params = func.params
    return [*params.posonly_params, *params.params, *params.kwonly_params]


def is_set_grad_false(context: RuleContext, call: cst.Call) -> bool:
    """`torch.set_grad_enabled(False)` as a plain call: autograd is off from there on."""
    return context.resolves_to(call.func, *SET_GRAD_ENABLED) and is_false_or_zero(argument(call, 0, "mode"))


def asks_for_grad(context: RuleContext, call: cst.Call) -> bool:
    """Whether the call needs gradients: `backward()`, `zero_grad()`, an optimiser's
    `step()`, `torch.enable_grad()`, or anything of `torch.autograd`/`torch.func` but
    the grad-mode switches."""
    func = call.func
    if isinstance(func, cst.Attribute):
        if func.attr.value in GRAD_METHODS:
            return True
        if func.attr.value == "step" and "optim" in (dotted_name(func.value) or "").lower():
            return True
    if context.resolves_to(func, *ENABLE_GRAD):
        return True
    if context.resolves_to(func, *VARIABLE):
        flag = argument(call, 1, "requires_grad")
        return flag is not None and not is_false_or_zero(flag)
    qualified = context.resolves_under(func, *GRAD_PACKAGES)
    return qualified is not None and qualified not in GRAD_MODE_NAMES


def is_requires_grad_target(target: cst.BaseExpression) -> bool:
    """`x.requires_grad = ...`: the code asks for gradients of `x`."""
    return isinstance(target, cst.Attribute) and target.attr.value == "requires_grad"
