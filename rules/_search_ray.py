"""Ray Tune searches, for GL104: the scheduler a `tune.Tuner(...)`'s `TuneConfig` or a
`tune.run(...)` is given, and trainables of the file with no loop (one evaluation per
trial, nothing a scheduler could stop early)."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._loops import nodes_of
from green_lint.rules._search_names import function_named, one_value
from green_lint.rules._search_training import MAX_DEPTH, trains_in_loop
from green_lint.rules._syntax import LOOPS, argument, has_keyword
from green_lint.semantic.values import UNKNOWN

TUNER = ("ray.tune.Tuner", "ray.tune.tuner.Tuner")
TUNE_CONFIG = ("ray.tune.TuneConfig", "ray.tune.tune_config.TuneConfig")
TUNE_RUN = ("ray.tune.run", "ray.tune.tune.run")
TRAINABLE_WRAPPERS = ("ray.tune.with_parameters", "ray.tune.with_resources")
# What a Tuner lacks: no tune_config at all, or a TuneConfig without a scheduler.
NO_TUNE_CONFIG = "tune_config"
NO_SCHEDULER = "scheduler"


def tuner_without_scheduler(context: RuleContext, node: cst.Call) -> str | None:
    """NO_TUNE_CONFIG or NO_SCHEDULER for a `tune.Tuner(...)` call that runs every trial
    to its full budget; None when it has a scheduler or cannot be read."""
    if one_shot_trainable(context, argument(node, 0, "trainable")):
        return None
    config = argument(node, None, "tune_config")
    if config is None:
        return None if any(arg.star == "**" for arg in node.args) else NO_TUNE_CONFIG
    config = one_value(context, config)
    if not isinstance(config, cst.Call) or not context.resolves_to(config.func, *TUNE_CONFIG):
        return None
    if any(arg.star == "**" for arg in config.args):
        return None
    scheduler = argument(config, None, "scheduler")
    if scheduler is None or _is_none(context, scheduler):
        return NO_SCHEDULER
    return None


def tune_run_without_scheduler(context: RuleContext, node: cst.Call) -> bool:
    """Whether a legacy `tune.run(...)` call has no scheduler (and trains in a loop)."""
    if any(arg.star == "**" for arg in node.args):
        return False
    if one_shot_trainable(context, argument(node, 0, "run_or_experiment")):
        return False
    scheduler = argument(node, None, "scheduler")
    return not (has_keyword(node, "scheduler") and not _is_none(context, scheduler))


def one_shot_trainable(context: RuleContext, node: cst.BaseExpression | None) -> bool:
    """A trainable function of the file without any loop: one evaluation per trial,
    nothing a scheduler could stop early."""
    for _ in range(MAX_DEPTH):
        if isinstance(node, cst.Call) and context.resolves_to(node.func, *TRAINABLE_WRAPPERS):
            node = argument(node, 0, "trainable")
        else:
            break
    if not isinstance(node, cst.Name):
        return False
    function = function_named(context, node)
    if function is None:
        return False
    return not nodes_of(function.body, *LOOPS) and not trains_in_loop(context, function)


def _is_none(context: RuleContext, node: cst.BaseExpression | None) -> bool:
    return node is not None and context.values.constant(node, default=UNKNOWN) is None
