"""keras.applications for GL101 train-from-scratch: an application built with
`weights=None`."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rule import Fix
from green_lint.rules._scratch_build import Build, int_literal, is_false_value, is_none_value
from green_lint.rules._syntax import argument, has_star, keyword, positional
from green_lint.rules._training_edits import replace_arg

KERAS_APPLICATIONS = (
    "keras.applications",
    "keras.src.applications",
    "tensorflow.keras.applications",
    "tensorflow.python.keras.applications",
    "tf_keras.applications",
)


def keras_build(context: RuleContext, node: cst.Call, name: str) -> Build:
    if has_star(node):
        return Build(node, random=False)
    weights_kw = keyword(node, "weights")
    args = positional(node)
    weights_pos = args[1] if weights_kw is None and len(args) > 1 else None
    weights = weights_kw or weights_pos
    if weights is None or not is_none_value(context, weights.value):
        return Build(node, random=False)
    include_top = argument(node, 0, "include_top")
    no_top = include_top is not None and is_false_value(context, include_top)
    classes = keyword(node, "classes")
    input_shape = keyword(node, "input_shape")
    input_tensor = keyword(node, "input_tensor")
    message = (
        f"`{name}(weights=None)` builds random weights and the model is trained here, "
        "although Keras publishes ImageNet weights for it: fine-tuning from them reaches "
        "the same accuracy in a fraction of the epochs and energy. "
    )
    head = None
    if no_top:
        if input_shape is not None and not _three_channels(context.single_value(input_shape.value)):
            head = 'Load them with `weights="imagenet"` (they need 3 input channels: check `input_shape`).'
    else:
        count = int_literal(context.single_value(classes.value)) if classes is not None else 1000
        if classes is not None and count != 1000:
            shown = context.code_for(classes.value)
            head = (
                f"`classes={shown}` with the ImageNet top cannot load the weights: load the base "
                f'and add a new head instead: `base = {name}(weights="imagenet", include_top=False, '
                f'pooling="avg")` then `outputs = keras.layers.Dense({shown}, '
                'activation="softmax")(base.output)`.'
            )
        elif input_shape is not None or input_tensor is not None:
            head = (
                "The ImageNet top needs the default input size: load the base with "
                '`weights="imagenet", include_top=False, pooling="avg"` and add a new '
                "`Dense` head."
            )
    if head is not None:
        return Build(node, random=True, message=message + head)
    message += 'Load them with `weights="imagenet"`.'
    if weights_kw is not None:
        new = replace_arg(node, weights_kw, "weights", '"imagenet"')
    else:
        new = node.with_changes(
            args=[
                arg.with_changes(value=cst.SimpleString('"imagenet"')) if arg is weights_pos else arg
                for arg in node.args
            ]
        )
    fix = Fix('Load the ImageNet weights (weights="imagenet")', {node: new})
    return Build(node, random=True, message=message, fix=fix)


def _three_channels(node: cst.BaseExpression | None) -> bool:
    if not isinstance(node, cst.Tuple | cst.List):
        return False
    values = [int_literal(element.value) for element in node.elements]
    return bool(values) and (values[-1] == 3 or values[0] == 3)
