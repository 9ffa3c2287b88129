"""Is a model built by GL101's detectors trained in the file, and does it receive weights
there? Read from the calls that hold the model, followed through the file (`_scratch_flow`)."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._scratch_build import Build
from green_lint.rules._scratch_flow import Flow, Follower
from green_lint.rules._syntax import calls_in, is_false, is_none, is_true, keyword, last_name

OPTIMIZERS = (
    "torch.optim",
    "torch.distributed.optim",
    "timm.optim",
    "transformers.AdamW",
    "transformers.Adafactor",
    "transformers.optimization",
    "bitsandbytes.optim",
    "apex.optimizers",
    "torch_optimizer",
    "deepspeed.initialize",
)
NOT_OPTIMIZERS = ("torch.optim.lr_scheduler", "torch.optim.swa_utils")
FIT_METHODS = frozenset({"fit", "fit_generator", "train_on_batch"})
GRADIENT_METHODS = frozenset({"apply_gradients", "minimize"})
LOAD_METHODS = frozenset(
    {
        "load_state_dict",
        "load_weights",
        "set_weights",
        "load_checkpoint",
        "load_adapter",
        "load_from_checkpoint",
        "from_pretrained",
    }
)
LOAD_NAME = re.compile(r"(^|_)(load|restore)")
RESUME_KEYWORDS = ("ckpt_path", "resume_from_checkpoint", "checkpoint_path")
LOADERS = frozenset({"from_pretrained", "load_model", "load_from_checkpoint"})
LIGHTNING = ("lightning", "pytorch_lightning")


def has_alternative(
    context: RuleContext, flow: Flow, follower: Follower, build: Build, pretrained: set[int]
) -> bool:
    """Whether the variable the model goes to (or the function that returns it) is
    given pretrained weights on another path: the user chose."""
    others = []
    for scope, targets, value in flow.assignments:
        if id(value) not in build.origin_ids and any(
            flow.target_key(scope, target) in follower.direct for target in targets
        ):
            others.append(value)
    builders = {id(function) for function, value in flow.returns if id(value) in build.origin_ids}
    others.extend(
        value
        for function, value in flow.returns
        if id(function) in builders and id(value) not in build.origin_ids
    )
    for value in others:
        for call in calls_in(value):
            if id(call) in pretrained or last_name(call.func) in LOADERS:
                return True
            if context.resolves_to(call.func, "torch.load"):
                return True
    return False


def evidence(context: RuleContext, flow: Flow, follower: Follower, lightning: bool) -> tuple[bool, bool]:
    """(whether the model is trained in the file, whether it receives weights there)."""
    trained = loaded = False
    for scope, call in flow.calls:
        func = call.func
        receiver = func.value if isinstance(func, cst.Attribute) else None
        attr = func.attr.value if isinstance(func, cst.Attribute) else None
        holds_receiver = receiver is not None and follower.holds(receiver, scope)
        holding_args = [arg for arg in call.args if follower.holds(arg.value, scope)]
        if holds_receiver:
            if (attr == "train" and (not call.args or is_true(call.args[0].value))) or attr in FIT_METHODS:
                trained = True
            elif attr in LOAD_METHODS or attr == "restore":
                loaded = True
        if holding_args:
            if attr in GRADIENT_METHODS or (attr == "fit" and lightning):
                trained = True
            qualified = context.resolves_under(func, *OPTIMIZERS)
            if qualified is not None and not any(
                qualified == prefix or qualified.startswith(prefix + ".") for prefix in NOT_OPTIMIZERS
            ):
                trained = True
            name = last_name(func)
            if name is not None and LOAD_NAME.search(name.lower()):
                loaded = True
        if holds_receiver or holding_args:
            for resume in RESUME_KEYWORDS:
                found = keyword(call, resume)
                if found is not None and not (is_none(found.value) or is_false(found.value)):
                    loaded = True
    return trained, loaded
