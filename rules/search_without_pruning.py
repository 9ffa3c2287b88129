"""GL104 search-without-pruning: Optuna studies whose objective never reports or prunes
(`_search_optuna`) and Ray Tune searches without a scheduler (`_search_ray`)."""

from __future__ import annotations

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._loops import TrainingFunctions
from green_lint.rules._search_optuna import follow_trial, is_study, objective_of
from green_lint.rules._search_ray import (
    NO_TUNE_CONFIG,
    TUNE_RUN,
    TUNER,
    tune_run_without_scheduler,
    tuner_without_scheduler,
)
from green_lint.rules._syntax import argument

OPTUNA_ADVICE = (
    "report the validation metric every epoch with trial.report(value, epoch) and stop with "
    "`if trial.should_prune(): raise optuna.TrialPruned()`, so the study's pruner (MedianPruner by "
    "default, or HyperbandPruner) stops the trials that are clearly worse."
)
RAY_ADVICE = (
    "pass scheduler=ASHAScheduler(metric=..., mode=...) (from ray.tune.schedulers import "
    "ASHAScheduler), which stops the trials that are clearly worse early."
)


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
    needs = (TrainingFunctions,)
    name = "search-without-pruning"
    summary = (
        "A hyper-parameter search that trains every trial to the end: report and prune, or add a scheduler"
    )
    triggers = ("create_study", "load_study", "Tuner", "tune.run", "ray.tune")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "optimize":
            if is_study(self.context, func.value):
                self._check_optimize(node)
        elif self.context.resolves_to(func, *TUNER):
            self._check_tuner(node)
        elif self.context.resolves_to(func, *TUNE_RUN):
            self._check_tune_run(node)

    def _check_optimize(self, node: cst.Call) -> None:
        objective = objective_of(self.context, argument(node, 0, "func"))
        if objective is None:
            return
        found = follow_trial(self.context, objective)
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

    def _check_tuner(self, node: cst.Call) -> None:
        lacking = tuner_without_scheduler(self.context, node)
        if lacking == NO_TUNE_CONFIG:
            self.report(
                node,
                "This Ray Tune Tuner has no tune_config, hence no scheduler: the default FIFO "
                "scheduler runs every trial to its full budget. Pass tune_config=tune.TuneConfig("
                "metric=..., mode=..., scheduler=ASHAScheduler()) (from ray.tune.schedulers import "
                "ASHAScheduler), which stops the trials that are clearly worse early.",
            )
        elif lacking is not None:
            self.report(
                node,
                "This Ray Tune TuneConfig has no scheduler: the default FIFO scheduler runs every "
                f"trial to its full budget. In tune.TuneConfig(...), {RAY_ADVICE}",
            )

    def _check_tune_run(self, node: cst.Call) -> None:
        if tune_run_without_scheduler(self.context, node):
            self.report(
                node,
                f"tune.run(...) without a scheduler runs every trial to its full budget (FIFO): {RAY_ADVICE}",
            )
