"""transformers for GL101 train-from-scratch: `AutoModel*.from_config(config)` and
`XxxForYyy(config)` when the config is loaded from a pretrained checkpoint."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.rule import Fix
from green_lint.rules._scratch_build import Build
from green_lint.rules._syntax import argument, assignment_targets, calls_in, has_star, keywords

AUTO_PREFIXES = ("AutoModel", "TFAutoModel", "FlaxAutoModel")
# Config arguments that keep the architecture of the checkpoint's weights.
CONFIG_KEEPS = frozenset(
    {
        "num_labels",
        "id2label",
        "label2id",
        "problem_type",
        "finetuning_task",
        "output_hidden_states",
        "output_attentions",
        "return_dict",
        "use_cache",
        "trust_remote_code",
        "revision",
        "cache_dir",
        "token",
        "use_auth_token",
        "local_files_only",
        "force_download",
        "torch_dtype",
    }
)


def transformers_build(
    context: RuleContext, node: cst.Call, class_name: str, *, from_config: bool
) -> Build | None:
    if has_star(node):
        return None
    config = argument(node, 0, "config")
    if config is None:
        return None
    source = _config_source(context, config)
    if source is None:
        return None
    config_call, checkpoint, overrides = source
    shown_checkpoint = context.code_for(checkpoint)
    built = f"`{class_name}.from_config(...)`" if from_config else f"`{class_name}(config)`"
    message = (
        f"{built} builds random weights although its config comes from the pretrained "
        f"checkpoint {shown_checkpoint}, and the model is trained here: that redoes the "
        "pre-training, which costs far more energy than fine-tuning. Load the weights "
        f"with `{class_name}.from_pretrained({shown_checkpoint}"
        + (", config=config" if overrides else "")
        + ")`."
    )
    fix = None
    others = [arg for arg in node.args if arg.value is not config]
    same_scope = config is config_call or (
        isinstance(config, cst.Name) and context.values.assigned(config.value, context.scope())
    )
    if same_scope and (from_config or not others):
        parts = [context.code_for(checkpoint)]
        if overrides:
            parts.append(f"config={context.code_for(config)}")
        for arg in others:
            value = context.code_for(arg.value)
            parts.append(f"{arg.keyword.value}={value}" if arg.keyword is not None else value)
        owner = node.func.value if from_config else node.func
        code = f"{context.code_for(owner)}.from_pretrained({', '.join(parts)})"
        fix = Fix("Load the pretrained weights (from_pretrained)", {node: cst.parse_expression(code)})
    return Build(node, random=True, message=message, fix=fix)


def _config_source(context: RuleContext, config: cst.BaseExpression):
    """(the `from_pretrained` call, the checkpoint, whether it overrides arguments)
    when the config is loaded from a checkpoint and keeps its architecture."""
    value = config
    if isinstance(config, cst.Name):
        values = context.values.every_assignment(config)
        if len(values) != 1 or _config_changed(context, config.value):
            return None
        value = values[0]
    if not (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == "from_pretrained"
        and not has_star(value)
    ):
        return None
    owner = context.resolves_under(value.func.value, "transformers")
    if owner is None or not owner.endswith("Config"):
        return None
    checkpoint = argument(value, 0, "pretrained_model_name_or_path")
    if checkpoint is None:
        return None
    overrides = [name for name in keywords(value) if name != "pretrained_model_name_or_path"]
    if any(not keeps_architecture(name) for name in overrides):
        return None
    return value, checkpoint, bool(overrides)


def _config_changed(context: RuleContext, name: str) -> bool:
    """Whether the config `name` gets architecture attributes set in the scope."""
    scope = context.scope()
    for statement in statements_of(scope, enter_definitions=False):
        for target in assignment_targets(statement):
            if (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and target.value.value == name
                and not keeps_architecture(target.attr.value)
            ):
                return True
    for call in calls_in(scope, enter_definitions=False):
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == name
            and func.attr.value in ("update", "update_from_string")
        ):
            return True
        if context.resolves_to(func, "builtins.setattr") and call.args:
            first = call.args[0].value
            if isinstance(first, cst.Name) and first.value == name:
                return True
    return False


def is_transformers_model_class(name: str) -> bool:
    return (
        name[:1].isupper()
        and ("For" in name or name.endswith("Model"))
        and not name.startswith(AUTO_PREFIXES)
        and "PreTrained" not in name
        and not name.endswith(("Config", "Output", "Tokenizer", "Processor"))
    )


def keeps_architecture(name: str) -> bool:
    return name in CONFIG_KEEPS or "dropout" in name
