"""timm for GL101 train-from-scratch: `timm.create_model(name)` without `pretrained=True`."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rule import Fix
from green_lint.rules._scratch_build import Build, is_false_value, is_none_value
from green_lint.rules._syntax import argument, has_star, keyword, positional, string_value
from green_lint.rules._training_edits import with_keyword

TIMM_CREATE = (
    "timm.create_model",
    "timm.models.create_model",
    "timm.models._factory.create_model",
    "timm.models.factory.create_model",
)


def timm_build(context: RuleContext, node: cst.Call) -> Build | None:
    if has_star(node):
        return Build(node, random=False)
    name_node = argument(node, 0, "model_name")
    name = string_value(name_node)
    if name is not None and name in context.semantic.definition_names:
        return None  # an architecture registered by the file itself
    checkpoint = keyword(node, "checkpoint_path")
    if checkpoint is not None and not (
        is_none_value(context, checkpoint.value) or string_value(checkpoint.value) == ""
    ):
        return Build(node, random=False)
    pretrained_kw = keyword(node, "pretrained")
    args = positional(node)
    pretrained_pos = args[1] if len(args) > 1 else None
    pretrained = pretrained_kw or pretrained_pos
    if pretrained is not None and not is_false_value(context, pretrained.value):
        return Build(node, random=False)
    why = "`pretrained=False`" if pretrained is not None else "`pretrained` defaults to False"
    shown = f'`timm.create_model("{name}")`' if name else "`timm.create_model(...)`"
    message = (
        f"{shown} builds random weights ({why}) and the model is trained here, although "
        "timm publishes pretrained weights for its architectures: fine-tuning from them "
        "reaches the same accuracy in a fraction of the epochs and energy. Pass "
        "`pretrained=True` (timm resets the classifier for `num_classes`)."
    )
    if pretrained_pos is not None and pretrained_kw is None:
        new = node.with_changes(
            args=[
                arg.with_changes(value=cst.Name("True")) if arg is pretrained_pos else arg
                for arg in node.args
            ]
        )
    else:
        new = with_keyword(node, "pretrained", "True")
    return Build(node, random=True, message=message, fix=Fix("Load the pretrained weights", {node: new}))
