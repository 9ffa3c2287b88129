"""GL104 search-without-pruning."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._loops import (
    LOOPS,
    FileFunctions,
    argument,
    calls_of,
    has_keyword,
    is_none,
    nodes_of,
    training_call,
    walk_with_parents,
)

CREATE_STUDY = (
    "optuna.create_study",
    "optuna.study.create_study",
    "optuna.load_study",
    "optuna.study.load_study",
)
LOGGING_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "write"})
TUNER = ("ray.tune.Tuner", "ray.tune.tuner.Tuner")
TUNE_CONFIG = ("ray.tune.TuneConfig", "ray.tune.tune_config.TuneConfig")
TUNE_RUN = ("ray.tune.run", "ray.tune.tune.run")
TRAINABLE_WRAPPERS = ("ray.tune.with_parameters", "ray.tune.with_resources")
FUNCTOOLS_PARTIAL = "functools.partial"
MAX_DEPTH = 3  # how deep the trial is followed into the file's helper functions

OPTUNA_ADVICE = (
    "report the validation metric every epoch with trial.report(value, epoch) and stop with "
    "`if trial.should_prune(): raise optuna.TrialPruned()`, so the study's pruner (MedianPruner by "
    "default, or HyperbandPruner) stops the trials that are clearly worse."
)
RAY_ADVICE = (
    "pass scheduler=ASHAScheduler(metric=..., mode=...) (from ray.tune.schedulers import "
    "ASHAScheduler), which stops the trials that are clearly worse early."
)


@dataclass
class _Objective:
    function: cst.FunctionDef
    trial: str  # the name of the parameter that receives the trial


@dataclass
class _Findings:
    loop: bool = False  # the objective trains in a loop (epochs, steps, folds)
    reports: bool = False
    prunes: bool = False
    # The trial goes somewhere we cannot see (an imported helper, a callback, a variable):
    # it may report and prune there.
    escapes: bool = False

    def merge(self, other: _Findings) -> None:
        self.loop |= other.loop
        self.reports |= other.reports
        self.prunes |= other.prunes
        self.escapes |= other.escapes


class SearchWithoutPruning(Rule):
    """
    ## What it does
    Flags hyper-parameter searches that can never stop a bad trial early:
    - an Optuna `study.optimize(objective, ...)` (the study made by `optuna.create_study`
      or `optuna.load_study`, directly or through a variable) whose `objective`, a
      function of the same file, trains in a loop (a `for`/`while` loop that calls
      `backward`, an optimizer `step`, `fit`, `partial_fit`, `train(...)` or a training
      function of the file) but does not call both `trial.report(...)` and
      `trial.should_prune()`. The trial is the objective's first parameter, whatever its
      name; `lambda trial: objective(trial, data)`, `functools.partial(objective, ...)`
      a callable class of the file and `self.objective` (a method of the enclosing class)
      are followed, and so are helper functions of the file the trial is passed to.
    - a Ray Tune `tune.Tuner(...)` whose `tune_config=tune.TuneConfig(...)` has no
      `scheduler` (or `scheduler=None`), or that has no `tune_config` at all; the legacy
      `tune.run(...)` without a scheduler.

    Not flagged, to stay precise: objectives defined in another module (they cannot be
    read), objectives that pass the trial to something the rule cannot follow (an
    imported helper, an integration pruning callback such as
    `optuna.integration.XGBoostPruningCallback(trial, ...)`), and one-shot objectives or
    trainables with no loop (a single `cross_val_score`, a single `fit`): with one
    evaluation per trial there is nothing to prune. A `Tuner` whose `tune_config` is built
    where the rule cannot follow it is not flagged either.

    ## Why it wastes energy
    A pruner or a scheduler can only stop a trial from the intermediate results the trial
    reports. An objective that never calls `trial.report`/`trial.should_prune` trains
    every trial to the last epoch, even the ones that are clearly worse after one epoch;
    Ray Tune's default FIFO scheduler never stops a trial either. Early-stopping the
    worst trials (successive halving, Hyperband, ASHA) is where most of the saving of a
    modern search comes from: Hyperband gives "over an order-of-magnitude speedup" over
    plain Bayesian optimisation (Li et al.).

    ## Example
    ```python
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        model, optimizer = build(lr)
        for epoch in range(50):
            train_one_epoch(model, optimizer)
        return evaluate(model)

    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=100)

    tuner = tune.Tuner(train_fn, tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=50))
    ```

    ## Use instead
    ```python
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        model, optimizer = build(lr)
        for epoch in range(50):
            train_one_epoch(model, optimizer)
            accuracy = evaluate(model)
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.HyperbandPruner())
    study.optimize(objective, n_trials=100)

    from ray.tune.schedulers import ASHAScheduler

    tuner = tune.Tuner(
        train_fn,
        tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=50, scheduler=ASHAScheduler()),
    )
    ```
    `create_study` uses `MedianPruner` when no pruner is given.

    ## Fix safety
    No fix: where to report and what metric to report depend on the training code.

    ## Evidence
    - Optuna pruners (`MedianPruner`, `HyperbandPruner`, `SuccessiveHalvingPruner`...) act
      only on values reported with `trial.report` and checked with `trial.should_prune`.
      https://optuna.readthedocs.io/en/v4.0.0/reference/pruners.html
    - Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
      Optimization": over an order-of-magnitude speedup (time, not energy).
      https://arxiv.org/abs/1603.06560; ASHA, its asynchronous form, is Ray Tune's
      `ASHAScheduler`: https://arxiv.org/abs/1810.05934,
      https://docs.ray.io/en/latest/tune/api/doc/ray.tune.schedulers.AsyncHyperBandScheduler.html
    - Yarally et al. (CAIN 2023): the search strategy dominates the energy of
      hyper-parameter tuning. https://arxiv.org/abs/2303.13972
    - How much pruning saves depends on how many trials are clearly bad early: measure it
      on your code with `green-lint verify`.
    """

    code = "GL104"
    name = "search-without-pruning"
    summary = (
        "A hyper-parameter search that trains every trial to the end: report and prune, or add a scheduler"
    )
    triggers = ("create_study", "load_study", "Tuner", "tune.run", "ray.tune")

    def visit_Module(self, node: cst.Module) -> None:
        self._functions: FileFunctions | None = None

    @property
    def functions(self) -> FileFunctions:
        if self._functions is None:
            self._functions = FileFunctions(self.context)
        return self._functions

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "optimize":
            if self._is_study(func.value):
                self._check_optimize(node)
        elif self.context.resolves_to(func, *TUNER):
            self._check_tuner(node)
        elif self.context.resolves_to(func, *TUNE_RUN):
            self._check_tune_run(node)

    # -- Optuna ---------------------------------------------------------------------------
    def _is_study(self, node: cst.BaseExpression) -> bool:
        value = self.context.single_value(node)
        return isinstance(value, cst.Call) and self.context.resolves_to(value.func, *CREATE_STUDY)

    def _check_optimize(self, node: cst.Call) -> None:
        objective = self._objective(argument(node, 0, "func"))
        if objective is None:
            return
        found = self._follow_trial(objective, 0)
        if not found.loop or found.escapes or (found.reports and found.prunes):
            return
        name = objective.function.name.value
        if found.reports:
            missing = f"never asks {objective.trial}.should_prune() after {objective.trial}.report"
        elif found.prunes:
            missing = f"never calls {objective.trial}.report before {objective.trial}.should_prune()"
        else:
            missing = f"never calls {objective.trial}.report / {objective.trial}.should_prune()"
        self.report(
            node,
            f"The Optuna objective `{name}` trains in a loop but {missing}: the pruner can never "
            f"stop a bad trial, so every trial trains to the end. In the loop, {OPTUNA_ADVICE}",
        )

    def _objective(self, node: cst.BaseExpression | None, hops: int = 0) -> _Objective | None:
        """The function of the file the study calls, and its trial parameter."""
        if node is None or hops > MAX_DEPTH:
            return None
        functions = self.functions
        if isinstance(node, cst.Name):
            function = functions.function(node.value)
            if function is not None:
                return _objective_at(function, 0, ())
            return self._objective(self.context.single_value(node), hops + 1)
        if isinstance(node, cst.Lambda):
            return self._lambda_objective(node)
        if isinstance(node, cst.Attribute):
            return self._method_objective(node)
        if not isinstance(node, cst.Call):
            return None
        if self.context.resolves_to(node.func, FUNCTOOLS_PARTIAL):
            target = argument(node, 0, "func")
            function = functions.function(target.value) if isinstance(target, cst.Name) else None
            if function is None:
                return None
            bound = sum(1 for arg in node.args[1:] if arg.keyword is None and not arg.star)
            if any(arg.star for arg in node.args):
                return None
            keywords = tuple(arg.keyword.value for arg in node.args if arg.keyword is not None)
            return _objective_at(function, bound, keywords)
        # An instance of a callable class of the file: `Objective(X, y)`.
        if isinstance(node.func, cst.Name):
            call_method = functions.method(node.func.value, "__call__")
            if call_method is not None:
                return _objective_at(call_method, 1, ())
        return None

    def _method_objective(self, node: cst.Attribute) -> _Objective | None:
        """`study.optimize(self.objective)` in a method of the class that defines it."""
        if not (isinstance(node.value, cst.Name) and node.value.value == "self"):
            return None
        owner = self.context.enclosing(cst.ClassDef)
        if owner is None:
            return None
        method = self.functions.method(owner.name.value, node.attr.value)
        if method is None:
            return None
        static = any(
            isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod"
            for decorator in method.decorators
        )
        return _objective_at(method, 0 if static else 1, ())

    def _lambda_objective(self, node: cst.Lambda) -> _Objective | None:
        params = node.params.params
        if not params or not isinstance(node.body, cst.Call) or not isinstance(node.body.func, cst.Name):
            return None
        function = self.functions.function(node.body.func.value)
        if function is None:
            return None
        return _passed_to(function, node.body, params[0].name.value)

    def _follow_trial(self, objective: _Objective, depth: int) -> _Findings:
        """What the objective (and the helpers of the file it passes the trial to) does."""
        found = _Findings()
        function, trial = objective.function, objective.trial
        scope = function
        for loop in nodes_of(function.body, *LOOPS):
            if any(training_call(self.context, call, self.functions, scope) for call in calls_of(loop.body)):
                found.loop = True
                break
        # Nested functions count: a callback defined in the objective may report.
        for call in nodes_of(function.body, cst.Call, enter_definitions=True):
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value == trial
            ):
                if func.attr.value == "report":
                    found.reports = True
                elif func.attr.value == "should_prune":
                    found.prunes = True
                continue
            helper = self.functions.called_function(call)
            if _passes(call, trial):
                inner = _passed_to(helper, call, trial) if helper is not None else None
                if inner is not None and depth < MAX_DEPTH:
                    found.merge(self._follow_trial(inner, depth + 1))
                elif not self._harmless(call):
                    # An imported helper, a pruning callback of optuna.integration /
                    # optuna_integration...: it may report and prune where we cannot see.
                    found.escapes = True
            elif helper is not None and not found.loop:
                found.loop = self._trains_in_loop(helper, depth)
        if _trial_escapes(function.body, trial):
            found.escapes = True
        return found

    def _harmless(self, call: cst.Call) -> bool:
        """Calls that only print or log the trial."""
        qualified = self.context.qualified_name(call.func)
        if qualified is not None and (qualified.startswith("builtins.") or qualified.startswith("logging.")):
            return True
        return isinstance(call.func, cst.Attribute) and call.func.attr.value in LOGGING_METHODS

    def _trains_in_loop(self, function: cst.FunctionDef, depth: int) -> bool:
        if depth >= MAX_DEPTH:
            return False
        for loop in nodes_of(function.body, *LOOPS):
            if any(
                training_call(self.context, call, self.functions, function) for call in calls_of(loop.body)
            ):
                return True
        return any(
            self._trains_in_loop(helper, depth + 1)
            for call in calls_of(function.body)
            if (helper := self.functions.called_function(call)) is not None and helper is not function
        )

    # -- Ray Tune -------------------------------------------------------------------------
    def _check_tuner(self, node: cst.Call) -> None:
        if self._one_shot_trainable(argument(node, 0, "trainable")):
            return
        config = argument(node, None, "tune_config")
        if config is None:
            if any(arg.star == "**" for arg in node.args):
                return
            self.report(
                node,
                "This Ray Tune Tuner has no tune_config, hence no scheduler: the default FIFO "
                "scheduler runs every trial to its full budget. Pass tune_config=tune.TuneConfig("
                "metric=..., mode=..., scheduler=ASHAScheduler()) (from ray.tune.schedulers import "
                "ASHAScheduler), which stops the trials that are clearly worse early.",
            )
            return
        config = self.context.single_value(config)
        if not isinstance(config, cst.Call) or not self.context.resolves_to(config.func, *TUNE_CONFIG):
            return
        if any(arg.star == "**" for arg in config.args):
            return
        scheduler = argument(config, None, "scheduler")
        if scheduler is None or is_none(self.context, scheduler, self.context.scope()):
            self.report(
                node,
                "This Ray Tune TuneConfig has no scheduler: the default FIFO scheduler runs every "
                f"trial to its full budget. In tune.TuneConfig(...), {RAY_ADVICE}",
            )

    def _check_tune_run(self, node: cst.Call) -> None:
        if any(arg.star == "**" for arg in node.args):
            return
        if self._one_shot_trainable(argument(node, 0, "run_or_experiment")):
            return
        scheduler = argument(node, None, "scheduler")
        if has_keyword(node, "scheduler") and not is_none(self.context, scheduler, self.context.scope()):
            return
        self.report(
            node,
            f"tune.run(...) without a scheduler runs every trial to its full budget (FIFO): {RAY_ADVICE}",
        )

    def _one_shot_trainable(self, node: cst.BaseExpression | None) -> bool:
        """A trainable function of the file without any loop: one evaluation per trial,
        nothing a scheduler could stop early."""
        for _ in range(MAX_DEPTH):
            if isinstance(node, cst.Call) and self.context.resolves_to(node.func, *TRAINABLE_WRAPPERS):
                node = argument(node, 0, "trainable")
            else:
                break
        if not isinstance(node, cst.Name):
            return False
        function = self.functions.function(node.value)
        if function is None:
            return False
        return not nodes_of(function.body, *LOOPS) and not self._trains_in_loop(function, 0)


def _objective_at(
    function: cst.FunctionDef, position: int, bound_keywords: tuple[str, ...]
) -> _Objective | None:
    params = [p for p in function.params.params if p.name.value not in bound_keywords]
    if position >= len(params):
        return None
    return _Objective(function, params[position].name.value)


def _passes(call: cst.Call, name: str) -> bool:
    return any(isinstance(arg.value, cst.Name) and arg.value.value == name for arg in call.args)


def _passed_to(function: cst.FunctionDef, call: cst.Call, name: str) -> _Objective | None:
    """The parameter of `function` that receives the value `name` in `call`."""
    params = function.params
    positional = [*params.posonly_params, *params.params]
    index = 0
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            if isinstance(arg.value, cst.Name) and arg.value.value == name:
                return _Objective(function, positional[index].name.value) if index < len(positional) else None
            index += 1
        elif isinstance(arg.value, cst.Name) and arg.value.value == name:
            return _Objective(function, arg.keyword.value)
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
