"""torch.hub for GL101 train-from-scratch: `torch.hub.load(repo, name)` with random
weights (`pretrained=False`, `weights=None`, or pytorch/vision's default)."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rule import Fix
from green_lint.rules._scratch_build import Build, is_false_value, is_none_value
from green_lint.rules._syntax import argument, has_star, keyword, keywords, positional, string_value
from green_lint.rules._training_edits import replace_arg, with_keyword

# torch.hub.load's own keywords; the others go to the repository's entry point.
HUB_OWN_KEYWORDS = frozenset(
    {
        "repo_or_dir",
        "model",
        "source",
        "trust_repo",
        "force_reload",
        "verbose",
        "skip_validation",
        "pretrained",
        "weights",
    }
)


def hub_build(context: RuleContext, node: cst.Call) -> Build | None:
    """`torch.hub.load(repo, name, **kwargs)`: kwargs go to the repository's entry point."""
    if has_star(node):
        return Build(node, random=False)
    repo = string_value(argument(node, 0, "repo_or_dir"))
    name = string_value(argument(node, 1, "model"))
    if repo is None or name is None:
        return None
    torchvision_repo = repo.split(":", 1)[0] == "pytorch/vision"
    weights_value = '"DEFAULT"' if torchvision_repo else "True"
    weights_name = "weights" if torchvision_repo else "pretrained"
    pretrained, weights = keyword(node, "pretrained"), keyword(node, "weights")
    if weights is not None and is_none_value(context, weights.value):
        why, arg = "`weights=None`", weights
        weights_name, weights_value = "weights", '"DEFAULT"'
    elif pretrained is not None and is_false_value(context, pretrained.value):
        why, arg = "`pretrained=False`", pretrained
    elif weights is None and pretrained is None and torchvision_repo:
        why, arg = "torchvision's entry points default to `weights=None`", None
    else:
        return Build(node, random=False)
    load = f"`{weights_name}={weights_value}`"
    message = (
        f'`torch.hub.load("{repo}", "{name}")` builds random weights ({why}) and the model is '
        "trained here, although the repository publishes pretrained weights: fine-tuning "
        f"from them reaches the same accuracy in a fraction of the epochs and energy. Load them with {load}"
    )
    entry_point_arguments = [
        keyword_name for keyword_name in keywords(node) if keyword_name not in HUB_OWN_KEYWORDS
    ]
    if entry_point_arguments or len(positional(node)) > 2:
        # `num_classes=10` and the like change the model: the weights may not fit it.
        message += " and replace the head after loading, instead of building it changed."
        return Build(node, random=True, message=message)
    new = (
        with_keyword(node, weights_name, weights_value)
        if arg is None
        else replace_arg(node, arg, weights_name, weights_value)
    )
    fix = Fix(f"Load the pretrained weights ({weights_name}={weights_value})", {node: new})
    return Build(node, random=True, message=message + ".", fix=fix)
