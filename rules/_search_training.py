"""Whether a function trains in a loop, for the search rules (GL104): a `for`/`while` loop
of its own that calls a training call, or a helper of the file it calls that does. With
one evaluation per trial there is nothing a pruner or a scheduler could stop early."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._loops import TrainingFunctions, calls_of, nodes_of, training_call
from green_lint.rules._search_names import function_named
from green_lint.rules._syntax import LOOPS

MAX_DEPTH = 3  # how deep the file's helper functions are followed


def loop_trains(context: RuleContext, function: cst.FunctionDef) -> bool:
    """Whether a loop of `function` itself (nested definitions excluded) trains."""
    functions = context.analysis(TrainingFunctions)
    return any(
        any(training_call(context, call, functions) for call in calls_of(loop.body))
        for loop in nodes_of(function.body, *LOOPS)
    )


def trains_in_loop(context: RuleContext, function: cst.FunctionDef, depth: int = 0) -> bool:
    """Whether `function`, or a helper of the file it calls (to MAX_DEPTH), trains in a loop."""
    if depth >= MAX_DEPTH:
        return False
    if loop_trains(context, function):
        return True
    return any(
        trains_in_loop(context, helper, depth + 1)
        for call in calls_of(function.body)
        if (helper := function_named(context, call.func)) is not None and helper is not function
    )
