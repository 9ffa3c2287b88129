"""Inputs wrapped with `Variable(x, volatile=True)`, PyTorch's way of saying "inference"
before 0.4: a forward pass on them built no graph. Since 0.4 `volatile` has no effect (a
warning says to use `torch.no_grad()`), so that code, written for inference, now runs with
autograd on. The author's intent is on the page: such a forward is inference.

No rule class lives here: GL301 asks `volatile_input` and `volatile_callee`.
"""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import is_true
from green_lint.rules._torch_calls import State
from green_lint.rules._torch_grad import VARIABLE
from green_lint.rules._torch_model_evidence import MODULE_ONLY_METHODS, NOT_MODEL_CONSTRUCTOR
from green_lint.rules._torch_model_values import MODULE_CHAIN_METHODS
from green_lint.rules._torch_names import name_words

# Tensor methods that keep the (non-)volatility of what they are called on.
_TENSOR_KEEPING = MODULE_CHAIN_METHODS | {"unsqueeze", "view", "contiguous", "long", "squeeze"}
# Methods called on a name that show it holds a module (with MODULE_ONLY_METHODS):
# moving it to a device or switching its mode.
_MODULE_EVIDENCE = MODULE_ONLY_METHODS | {"cuda", "cpu", "to", "eval", "train", "state_dict"}
# Names of callables that take the volatile outputs without being models.
_NOT_MODEL_WORDS = frozenset({"loss", "criterion", "metric", "metrics", "acc", "accuracy", "score"})


def is_volatile(context: RuleContext, expression: cst.BaseExpression) -> bool:
    """`Variable(x, volatile=True)`, possibly moved or reshaped (`.cuda()`, `[None]`)."""
    while True:
        if (
            isinstance(expression, cst.Call)
            and isinstance(expression.func, cst.Attribute)
            and expression.func.attr.value in _TENSOR_KEEPING
        ):
            expression = expression.func.value
        elif isinstance(expression, cst.Subscript):
            expression = expression.value
        else:
            break
    if not isinstance(expression, cst.Call) or not context.resolves_to(expression.func, *VARIABLE):
        return False
    return any(
        arg.keyword is not None and arg.keyword.value == "volatile" and is_true(arg.value)
        for arg in expression.args
    )


def volatile_input(context: RuleContext, call: cst.Call) -> bool:
    """Whether an argument of `call` is (or is bound, where the call reads it, to) a
    volatile Variable."""
    return any(
        is_volatile(context, value) for arg in call.args for value in context.values.expressions(arg.value)
    )


def volatile_callee(context: RuleContext, calls, call: cst.Call, state: State) -> cst.Name | None:
    """The callee of `call` when it is a name bound to an object the file builds with a
    constructor it cannot see (`featurenet = feature_net(model)`) and uses as a module
    (`featurenet.cuda()`, `.eval()`, `.parameters()`): with volatile inputs, a model run
    for inference. Losses and metrics are not models."""
    func = call.func
    if not isinstance(func, cst.Name) or set(name_words(func.value)) & _NOT_MODEL_WORDS:
        return None
    bindings = context.values.reaching(func)
    if not bindings or any(binding.kind != "assignment" or binding.element for binding in bindings):
        return None
    for binding in bindings:
        value = binding.value
        while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            if value.func.attr.value not in MODULE_CHAIN_METHODS:
                return None
            value = value.func.value
        if not isinstance(value, cst.Call) or context.resolves_under(value.func, "torch", "builtins"):
            return None  # a torch object the model tables would know, or not built at all
        if NOT_MODEL_CONSTRUCTOR.search(context.code_for(value.func)):
            return None
    for other, other_state in calls:
        receiver = other.func.value if isinstance(other.func, cst.Attribute) else None
        if (
            other_state.func is state.func
            and isinstance(receiver, cst.Name)
            and receiver.value == func.value
            and other.func.attr.value in _MODULE_EVIDENCE
        ):
            return func
    return None
