"""Optuna studies, for GL104: the objective function of the file a `study.optimize(...)`
runs, and what the objective does with its trial (trains in a loop, reports, asks
`should_prune`, or hands the trial to something that cannot be read)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._loops import nodes_of, walk_with_parents
from green_lint.rules._search_names import function_named, one_value
from green_lint.rules._search_training import MAX_DEPTH, loop_trains, trains_in_loop
from green_lint.rules._syntax import argument

CREATE_STUDY = (
    "optuna.create_study",
    "optuna.study.create_study",
    "optuna.load_study",
    "optuna.study.load_study",
)
FUNCTOOLS_PARTIAL = "functools.partial"
LOGGING_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "write"})


@dataclass
class Objective:
    function: cst.FunctionDef
    trial: str  # the name of the parameter that receives the trial


@dataclass
class TrialUse:
    loop: bool = False  # the objective trains in a loop (epochs, steps, folds)
    reports: bool = False
    prunes: bool = False
    # The trial goes somewhere we cannot see (an imported helper, a callback, a variable):
    # it may report and prune there.
    escapes: bool = False

    def merge(self, other: TrialUse) -> None:
        self.loop |= other.loop
        self.reports |= other.reports
        self.prunes |= other.prunes
        self.escapes |= other.escapes


def is_study(context: RuleContext, node: cst.BaseExpression) -> bool:
    value = one_value(context, node)
    return isinstance(value, cst.Call) and context.resolves_to(value.func, *CREATE_STUDY)


# -- the objective ---------------------------------------------------------------------------
def objective_of(context: RuleContext, node: cst.BaseExpression | None, hops: int = 0) -> Objective | None:
    """The function of the file the study calls, and its trial parameter."""
    if node is None or hops > MAX_DEPTH:
        return None
    if isinstance(node, cst.Name):
        function = function_named(context, node)
        if function is not None:
            return _objective_at(function, 0, ())
        return objective_of(context, one_value(context, node), hops + 1)
    if isinstance(node, cst.Lambda):
        return _lambda_objective(context, node)
    if isinstance(node, cst.Attribute):
        return _method_objective(context, node)
    if not isinstance(node, cst.Call):
        return None
    if context.resolves_to(node.func, FUNCTOOLS_PARTIAL):
        return _partial_objective(context, node)
    # An instance of a callable class of the file: `Objective(X, y)`.
    cls = context.semantic.definition(node.func)
    if isinstance(cls, cst.ClassDef):
        call_method = _method(cls, "__call__")
        if call_method is not None:
            return _objective_at(call_method, 1, ())
    return None


def _partial_objective(context: RuleContext, node: cst.Call) -> Objective | None:
    """`functools.partial(objective, ...)`: the trial is the first parameter left unbound."""
    function = function_named(context, argument(node, 0, "func"))
    if function is None:
        return None
    bound = sum(1 for arg in node.args[1:] if arg.keyword is None and not arg.star)
    if any(arg.star for arg in node.args):
        return None
    keywords = tuple(arg.keyword.value for arg in node.args if arg.keyword is not None)
    return _objective_at(function, bound, keywords)


def _method_objective(context: RuleContext, node: cst.Attribute) -> Objective | None:
    """`study.optimize(self.objective)` in a method of the class that defines it."""
    if not (isinstance(node.value, cst.Name) and node.value.value == "self"):
        return None
    owner = context.enclosing(cst.ClassDef)
    if owner is None:
        return None
    method = _method(owner, node.attr.value)
    if method is None:
        return None
    static = any(
        isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod"
        for decorator in method.decorators
    )
    return _objective_at(method, 0 if static else 1, ())


def _lambda_objective(context: RuleContext, node: cst.Lambda) -> Objective | None:
    """`lambda trial: objective(trial, data)`: the parameter the trial is passed to."""
    params = node.params.params
    if not params or not isinstance(node.body, cst.Call) or not isinstance(node.body.func, cst.Name):
        return None
    function = function_named(context, node.body.func)
    if function is None:
        return None
    return _passed_to(function, node.body, params[0].name.value)


def _method(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement
    return None


def _objective_at(
    function: cst.FunctionDef, position: int, bound_keywords: tuple[str, ...]
) -> Objective | None:
    params = [p for p in function.params.params if p.name.value not in bound_keywords]
    if position >= len(params):
        return None
    return Objective(function, params[position].name.value)


# -- what the objective does with the trial -----------------------------------------------
def follow_trial(context: RuleContext, objective: Objective, depth: int = 0) -> TrialUse:
    """What the objective (and the helpers of the file it passes the trial to) does."""
    found = TrialUse()
    function, trial = objective.function, objective.trial
    found.loop = loop_trains(context, function)
    # Nested functions count: a callback defined in the objective may report.
    for call in nodes_of(function.body, cst.Call, enter_definitions=True):
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == trial:
            if func.attr.value == "report":
                found.reports = True
            elif func.attr.value == "should_prune":
                found.prunes = True
            continue
        helper = function_named(context, func)
        if _passes(call, trial):
            inner = _passed_to(helper, call, trial) if helper is not None else None
            if inner is not None and depth < MAX_DEPTH:
                found.merge(follow_trial(context, inner, depth + 1))
            elif not _harmless(context, call):
                # An imported helper, a pruning callback of optuna.integration /
                # optuna_integration...: it may report and prune where we cannot see.
                found.escapes = True
        elif helper is not None and not found.loop:
            found.loop = trains_in_loop(context, helper, depth)
    if _trial_escapes(function.body, trial):
        found.escapes = True
    return found


def _harmless(context: RuleContext, call: cst.Call) -> bool:
    """Calls that only print or log the trial."""
    qualified = context.qualified_name(call.func)
    if qualified is not None and (qualified.startswith("builtins.") or qualified.startswith("logging.")):
        return True
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in LOGGING_METHODS


def _passes(call: cst.Call, name: str) -> bool:
    return any(isinstance(arg.value, cst.Name) and arg.value.value == name for arg in call.args)


def _passed_to(function: cst.FunctionDef, call: cst.Call, name: str) -> Objective | None:
    """The parameter of `function` that receives the value `name` in `call`."""
    params = function.params
    positional = [*params.posonly_params, *params.params]
    index = 0
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            if isinstance(arg.value, cst.Name) and arg.value.value == name:
                return Objective(function, positional[index].name.value) if index < len(positional) else None
            index += 1
        elif isinstance(arg.value, cst.Name) and arg.value.value == name:
            return Objective(function, arg.keyword.value)
    return None


def _trial_escapes(body: cst.CSTNode, trial: str) -> bool:
    """Whether the trial is used other than as `trial.attribute` or a call argument: stored,
    returned, put in a list... where it may report and prune out of sight."""
    for node, parent in walk_with_parents(body, enter_definitions=True):
        if (
            isinstance(node, cst.Name)
            and node.value == trial
            and not isinstance(parent, cst.Attribute | cst.Arg | cst.Param)
        ):
            return True
    return False
