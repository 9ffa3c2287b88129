"""Hand-written gradient updates for GL102: a parameter moved by a product with a
learning rate or a gradient (`w -= lr * grad`, `Q[s][a] += alpha * td_error`), or given
back by a function passed the weights and a learning rate, in NumPy or plain Python."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._stopping_words import words_of
from green_lint.rules._syntax import walk

# A factor of a gradient update: a learning rate or a gradient.
_UPDATE_WORDS = re.compile(r"^(lr|eta|alpha|step_?size)$|^lr_|_lr$|learn(ing)?_?rate|grad")
# A learning rate by its name; not `alpha`, which a library call takes for a penalty
# (`non_negative_factorization(X, W, H, alpha_W=alpha)`).
_RATE_WORDS = re.compile(r"^(lr|eta|step_?size)$|^lr_|_lr$|learn(ing)?_?rate")
# Calls that multiply their arguments: `np.multiply(learning_rate, update)`.
_PRODUCTS = frozenset(("numpy.multiply", "torch.mul", "torch.multiply"))


def gradient_update(context: RuleContext, node: cst.AugAssign | cst.Assign) -> bool:
    """`w -= lr * grad`, `Q[s][a] += alpha * delta`, `w = w - 0.01 * grad`: a parameter
    moved by a product with a learning rate or a gradient."""
    if isinstance(node, cst.AugAssign):
        if not isinstance(node.operator, cst.SubtractAssign | cst.AddAssign):
            return False
        change = node.value
        # `Y += velocity` with `velocity = momentum * velocity - lr * grads`.
        changes = context.values.expressions(change) if isinstance(change, cst.Name) else [change]
        target = node.target
    elif len(node.targets) != 1:
        return False
    elif _returned_by_an_update(context, node):
        return True
    else:
        target, value = node.targets[0].target, node.value
        if (
            isinstance(value, cst.BinaryOperation)
            and isinstance(value.operator, cst.Subtract | cst.Add)
            and value.left.deep_equals(target)
        ):
            changes = [value.right]
        elif isinstance(target, cst.Subscript | cst.Attribute):
            # A table entry or a weight stored from a blend with the learning rate:
            # `q[s] = new_q` with `new_q = (1 - lr) * q[s] + lr * target`.
            changes = context.values.expressions(value) if isinstance(value, cst.Name) else [value]
        else:
            return False
    if not isinstance(target, cst.Name | cst.Attribute | cst.Subscript):
        return False
    if any(_UPDATE_WORDS.search(word) for word in words_of(context, target)):
        return False  # the learning rate itself decays: `lr -= lr * decay`
    return any(
        _product(context, part) and any(_UPDATE_WORDS.search(word) for word in words_of(context, part))
        for change in changes
        for part in walk(change)
    )


def _product(context: RuleContext, node: cst.CSTNode) -> bool:
    if isinstance(node, cst.BinaryOperation):
        return isinstance(node.operator, cst.Multiply)
    return isinstance(node, cst.Call) and context.qualified_name(node.func) in _PRODUCTS


def _returned_by_an_update(context: RuleContext, node: cst.Assign) -> bool:
    """`weights, bias = update_weights(x, y, weights, bias, learnrate)`: names given back
    by a call that is passed them and a learning rate (a gradient step written as a
    function of the weights)."""
    value, target = node.value, node.targets[0].target
    if not isinstance(value, cst.Call) or not isinstance(target, cst.Name | cst.Tuple):
        return False
    targets = {name.value for name in walk(target) if isinstance(name, cst.Name)}
    if any(_UPDATE_WORDS.search(word.lower()) for word in targets):
        return False  # the learning rate itself changes: `lr = decay(lr, epoch)`
    passed = [arg.value for arg in value.args]
    return any(isinstance(arg, cst.Name) and arg.value in targets for arg in passed) and any(
        isinstance(arg, cst.Name) and _RATE_WORDS.search(arg.value.lower()) for arg in passed
    )
