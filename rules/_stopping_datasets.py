"""TensorFlow 2 step loops bounded by a dataset for GL102 no-early-stopping: `for step, (x, y)
in enumerate(train_data.take(training_steps), 1)` or `for x, y in ds.take(n)`. The
`take(N)` of a (usually repeated) `tf.data` dataset is the budget: N steps."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import has_star, positional

# Where a `tf.data` dataset comes from: TensorFlow itself or TensorFlow Datasets.
_DATA_MODULES = ("tensorflow", "tensorflow_datasets", "keras", "tf_keras")
_DEPTH = 4


def take_call(context: RuleContext, node: cst.BaseExpression) -> cst.Call | None:
    """The `X.take(N)` call a loop runs over, directly or through the builtin
    `enumerate(X.take(N)[, start])`."""
    if isinstance(node, cst.Call) and context.resolves_to(node.func, "builtins.enumerate"):
        args = positional(node)
        if not 1 <= len(args) <= 2 or has_star(node):
            return None
        node = args[0].value
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "take"
        and len(node.args) == 1
        and not node.args[0].keyword
        and not node.args[0].star
    ):
        return node
    return None


def take_budget(context: RuleContext, node: cst.BaseExpression) -> float | None:
    """The number of steps of a loop over `dataset.take(N)` (N folded through the semantic
    model), when the dataset is TensorFlow's: a `tf.data`/`tfds` dataset, or one of unknown
    origin in a file that imports TensorFlow."""
    take = take_call(context, node)
    if take is None:
        return None
    origin = _data_origin(context, take.func.value, 0)
    if origin is False or (origin is None and not context.semantic.imports_module("tensorflow")):
        return None
    return context.values.number(take.args[0].value)


def _data_origin(context: RuleContext, node: cst.BaseExpression, depth: int) -> bool | None:
    """True when the chain `node` (`train_data.repeat().shuffle(5000).batch(256)`,
    `data["train"]`) starts at a TensorFlow call, False when it starts at another
    library's (`np.arange(10)`: numpy's `take` picks indices), None when unknown."""
    while True:
        if isinstance(node, cst.Call):
            qualified = context.qualified_name(node.func)
            if context.resolves_under(node.func, *_DATA_MODULES):
                return True
            if qualified is not None and "." in qualified and not qualified.startswith("builtins."):
                return False
            if isinstance(context.semantic.definition(node.func), cst.ClassDef):
                return False  # the file's own class with a `take` method
            node = node.func
        elif isinstance(node, cst.Attribute | cst.Subscript):  # `.batch`, `data["train"]`
            node = node.value
        else:
            break
    if not isinstance(node, cst.Name) or depth >= _DEPTH:
        return None
    values = [value for value in context.values.expressions(node) if value is not node]
    found = {_data_origin(context, value, depth + 1) for value in values}
    if True in found:
        return True
    if found == {False}:
        return False
    return None
