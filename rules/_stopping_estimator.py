"""TensorFlow Estimators for GL102 no-early-stopping: `estimator.train(input_fn, steps=N)` or
`max_steps=N` (also `.fit(..., steps=N)` of `tf.contrib.learn`) with no hook that could stop
it early (`tf.estimator.experimental.stop_if_no_decrease_hook(...)`, a monitor)."""

from __future__ import annotations

import libcst as cst

from green_lint.names import statements_of
from green_lint.rules._stopping_budget import shown_count
from green_lint.rules._syntax import argument, has_star, is_none, keyword

ESTIMATOR_MODULES = (
    "tensorflow.estimator",
    "tensorflow.compat.v1.estimator",
    "tensorflow.compat.v2.estimator",
    "tensorflow.contrib.learn",
    "tensorflow.contrib.estimator",
    "tensorflow_estimator",
)
# Hooks of TensorFlow that log, save or count and never end a run before its budget.
_PASSIVE_HOOKS = frozenset(
    (
        "LoggingTensorHook",
        "SummarySaverHook",
        "CheckpointSaverHook",
        "StepCounterHook",
        "ProfilerHook",
        "NanTensorHook",
        "StopAtStepHook",
        "FeedFnHook",
        "FinalOpsHook",
        "GlobalStepWaiterHook",
    )
)
_DEPTH = 3


def check_estimator_train(rule, node: cst.Call) -> None:
    """Report `node`, a `train`/`fit` call, when its receiver is a TensorFlow Estimator
    trained for a fixed number of steps with no hook that may stop it."""
    func = node.func
    if not isinstance(func, cst.Attribute) or has_star(node):
        return
    context = rule.context
    qualified = _estimator(context, func.value, 0)
    if qualified is None:
        return
    contrib = qualified.startswith("tensorflow.contrib.learn")
    if func.attr.value == "fit" and not contrib:
        return
    training = func.attr.value == "train"
    budgets = [
        rule.context.values.number(value)
        for word, position in (("max_steps", 3 if training else None), ("steps", 2 if training else None))
        if (value := argument(node, position, word)) is not None and not is_none(value)
    ]
    if not budgets or None in budgets:
        return
    budget = min(budgets)
    if budget < rule.min_rounds:
        return
    hooks = argument(node, 1 if training else None, "hooks")
    monitors = keyword(node, "monitors")
    if not _passive(context, hooks) or (monitors is not None and not _passive(context, monitors.value)):
        return
    if contrib:
        advice = (
            "pass `monitors=[tf.contrib.learn.monitors.ValidationMonitor(input_fn=..., "
            "early_stopping_rounds=...)]` so that it stops once the validation loss has stopped improving."
        )
    else:
        advice = (
            "evaluate it on held-out data as it trains (`tf.estimator.train_and_evaluate` with an "
            "`EvalSpec`) and pass `hooks=[tf.estimator.experimental.stop_if_no_decrease_hook(estimator, "
            '"loss", max_steps_without_decrease=...)]` so that it stops once the evaluation loss has '
            "stopped improving."
        )
    rule.report(
        node,
        f"This Estimator trains a fixed {shown_count(budget)} steps with no early-stopping hook: {advice}",
    )


def _estimator(context, node: cst.BaseExpression, depth: int) -> str | None:
    """The qualified name of the Estimator class `node` is an instance of: built by a call
    under `ESTIMATOR_MODULES`, of the file's subclass of one, or returned by a function of
    the file that builds one."""
    if depth > _DEPTH:
        return None
    followed = isinstance(node, cst.Name | cst.Attribute)
    for value in context.values.expressions(node) if followed else [node]:
        if not isinstance(value, cst.Call):
            continue
        qualified = context.resolves_under(value.func, *ESTIMATOR_MODULES)
        if qualified is not None:
            return qualified
        definition = context.semantic.definition(value.func)
        if isinstance(definition, cst.ClassDef):
            for base in definition.bases:
                qualified = context.resolves_under(base.value, *ESTIMATOR_MODULES)
                if qualified is not None:
                    return qualified
        elif isinstance(definition, cst.FunctionDef):
            for statement in statements_of(definition, enter_definitions=False):
                if isinstance(statement, cst.Return) and statement.value is not None:
                    qualified = _estimator(context, statement.value, depth + 1)
                    if qualified is not None:
                        return qualified
    return None


def _passive(context, hooks: cst.BaseExpression | None) -> bool:
    """Whether `hooks` is absent, None or a list of TensorFlow hooks that cannot end the
    run early; an unknown hook (a stop hook, a user's own, a pruner) may."""
    if hooks is None:
        return True
    followed = isinstance(hooks, cst.Name | cst.Attribute)
    values = context.values.expressions(hooks) if followed else [hooks]
    for value in values:
        if isinstance(value, cst.Name) and value.value == "None":
            continue
        if not isinstance(value, cst.List | cst.Tuple):
            return False
        for element in value.elements:
            if not isinstance(element, cst.Element) or isinstance(element, cst.StarredElement):
                return False
            built = element.value
            if isinstance(built, cst.Name):
                found = context.values.expressions(built)
                built = found[0] if len(found) == 1 else built
            if not isinstance(built, cst.Call):
                return False
            qualified = context.resolves_under(built.func, "tensorflow", "tensorflow_estimator")
            if qualified is None or qualified.rsplit(".", 1)[-1] not in _PASSIVE_HOOKS:
                return False
    return True
