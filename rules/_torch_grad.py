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


def grad_off_expression(context: RuleContext, expr: cst.BaseExpression) -> bool:
    """Whether a `with` item or a decorator turns autograd off (or may: a
    `set_grad_enabled(flag)` with a non-literal flag counts, precision first)."""
    func = expr.func if isinstance(expr, cst.Call) else expr
    if context.resolves_to(func, *NO_GRAD):
        return True
    if context.resolves_to(func, *INFERENCE_MODE):
        mode = argument(expr, 0, "mode") if isinstance(expr, cst.Call) else None
        return not is_false_or_zero(mode)
    if context.resolves_to(func, *SET_GRAD_ENABLED) and isinstance(expr, cst.Call):
        return not is_true(argument(expr, 0, "mode"))
    return False


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
    qualified = context.resolves_under(func, *GRAD_PACKAGES)
    return qualified is not None and qualified not in GRAD_MODE_NAMES


def is_requires_grad_target(target: cst.BaseExpression) -> bool:
    """`x.requires_grad = ...`: the code asks for gradients of `x`."""
    return isinstance(target, cst.Attribute) and target.attr.value == "requires_grad"
