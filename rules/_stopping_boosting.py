"""Boosting libraries for GL102 no-early-stopping: xgboost, lightgbm and catboost, as
estimators and as `train`/`cv` functions, without early stopping rounds or callback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from green_lint.rules._stopping_budget import budget_of, followups, is_set, no_run_of_its_own, shown_count
from green_lint.rules._stopping_callbacks import NONE, callbacks_state
from green_lint.rules._syntax import argument, has_star, keyword_value, keywords, string_value

if TYPE_CHECKING:
    from green_lint.rules.no_early_stopping import NoEarlyStopping

XGB_ESTIMATORS = frozenset({"XGBClassifier", "XGBRegressor", "XGBRanker"})
LGBM_ESTIMATORS = frozenset({"LGBMClassifier", "LGBMRegressor", "LGBMRanker"})
CATBOOST_ESTIMATORS = frozenset({"CatBoostClassifier", "CatBoostRegressor", "CatBoostRanker"})
XGB_TRAIN = ("xgboost.train", "xgboost.training.train")
XGB_CV = ("xgboost.cv", "xgboost.training.cv")
LGB_TRAIN = ("lightgbm.train", "lightgbm.engine.train")
LGB_CV = ("lightgbm.cv", "lightgbm.engine.cv")
# LightGBM parameters (and aliases) that set the number of rounds / early stopping.
LGB_ROUNDS = (
    "num_iterations",
    "num_iteration",
    "n_iter",
    "num_tree",
    "num_trees",
    "num_round",
    "num_rounds",
    "nrounds",
    "num_boost_round",
    "n_estimators",
    "max_iter",
)
LGB_STOPPING = ("early_stopping_round", "early_stopping_rounds", "early_stopping", "n_iter_no_change")
CATBOOST_ROUNDS = ("iterations", "n_estimators", "num_boost_round", "num_trees")
CATBOOST_STOPPING = ("early_stopping_rounds", "od_type", "od_wait", "od_pval")


def check_xgb_estimator(rule: NoEarlyStopping, node: cst.Call, name: str) -> None:
    if has_star(node) or no_run_of_its_own(rule.context, node, ("n_estimators",)):
        return
    settings = keywords(node)
    if _stops_early(rule, node, settings, ("early_stopping_rounds",), callbacks_in=("constructor", "fit")):
        return
    budget = budget_of(rule.context, settings.get("n_estimators"), 100)
    if budget is None or budget < rule.min_rounds:
        return
    shown = "" if "n_estimators" in settings else "default "
    rule.report(
        node,
        f"`{name}` builds all {shown_count(budget)} trees ({shown}`n_estimators`) with no early "
        "stopping: pass `early_stopping_rounds=10` to the constructor and "
        "`eval_set=[(X_val, y_val)]` to `fit`; boosting then stops 10 rounds after the best "
        "validation score.",
    )


def check_xgb_train(rule: NoEarlyStopping, node: cst.Call, cross_validated: bool) -> None:
    if has_star(node):
        return
    if is_set(keyword_value(node, "early_stopping_rounds")):
        return
    if callbacks_state(rule.context, keyword_value(node, "callbacks")) != NONE:
        return
    budget = budget_of(rule.context, argument(node, 2, "num_boost_round"), 10)
    if budget is None or budget < rule.min_rounds:
        return
    if cross_validated:
        message = (
            f"`xgb.cv` runs all {shown_count(budget)} boosting rounds in every fold with no early "
            "stopping: pass `early_stopping_rounds=10`; every fold then stops 10 rounds after the "
            "best mean test score."
        )
    else:
        message = (
            f"`xgb.train` runs all {shown_count(budget)} boosting rounds with no early stopping: pass "
            '`evals=[(dval, "val")]` and `early_stopping_rounds=10` (or '
            "`callbacks=[xgb.callback.EarlyStopping(rounds=10)]`); it stops 10 rounds after the best "
            "validation score."
        )
    rule.report(node, message)


def check_lgbm_estimator(rule: NoEarlyStopping, node: cst.Call, name: str) -> None:
    if has_star(node) or no_run_of_its_own(rule.context, node, LGB_ROUNDS):
        return
    settings = keywords(node)
    if _stops_early(rule, node, settings, LGB_STOPPING, callbacks_in=("fit",)):
        return
    rounds = _rounds(settings, argument(node, 4, "n_estimators"), LGB_ROUNDS)
    budget = budget_of(rule.context, rounds, 100)
    if budget is None or budget < rule.min_rounds:
        return
    shown = "" if rounds is not None else "default "
    rule.report(
        node,
        f"`{name}` builds all {shown_count(budget)} trees ({shown}`n_estimators`) with no early "
        "stopping: fit with `eval_set=[(X_val, y_val)]` and "
        "`callbacks=[lgb.early_stopping(10)]`; boosting then stops 10 rounds after the best "
        "validation score.",
    )


def check_lgb_train(rule: NoEarlyStopping, node: cst.Call, cross_validated: bool) -> None:
    if has_star(node):
        return
    if any(is_set(keyword_value(node, key)) for key in LGB_STOPPING):
        return
    if callbacks_state(rule.context, keyword_value(node, "callbacks")) != NONE:
        return
    params = argument(node, 0, "params")
    value = rule.context.single_value(params)
    if not isinstance(value, cst.Dict):
        return  # the parameters may hold early_stopping_round
    if isinstance(params, cst.Name) and rule.context.values.mutated(params):
        return
    budget_node = argument(node, 2, "num_boost_round")
    for element in value.elements:
        if not isinstance(element, cst.DictElement):
            return
        key = string_value(element.key)
        if key is None:
            return
        if key in LGB_STOPPING and is_set(element.value):
            return
        if key in LGB_ROUNDS:
            budget_node = element.value
    budget = budget_of(rule.context, budget_node, 100)
    if budget is None or budget < rule.min_rounds:
        return
    if cross_validated:
        message = (
            f"`lgb.cv` runs all {shown_count(budget)} boosting rounds in every fold with no early "
            "stopping: pass `callbacks=[lgb.early_stopping(10)]`; every fold then stops 10 rounds "
            "after the best mean validation score."
        )
    else:
        message = (
            f"`lgb.train` runs all {shown_count(budget)} boosting rounds with no early stopping: pass "
            "`valid_sets=[dval]` and `callbacks=[lgb.early_stopping(10)]`; it stops 10 rounds after "
            "the best validation score."
        )
    rule.report(node, message)


def check_catboost(rule: NoEarlyStopping, node: cst.Call, name: str) -> None:
    if has_star(node) or no_run_of_its_own(rule.context, node, CATBOOST_ROUNDS):
        return
    settings = keywords(node)
    if _stops_early(rule, node, settings, CATBOOST_STOPPING, callbacks_in=()):
        return
    rounds = _rounds(settings, argument(node, 0, "iterations"), CATBOOST_ROUNDS)
    budget = budget_of(rule.context, rounds, 1000)
    if budget is None or budget < rule.min_rounds:
        return
    shown = "" if rounds is not None else "default "
    rule.report(
        node,
        f"`{name}` builds all {shown_count(budget)} trees ({shown}`iterations`) with no early "
        "stopping: pass `early_stopping_rounds=50` and fit with `eval_set=(X_val, y_val)`; "
        "training then stops 50 iterations after the best validation score.",
    )


def _stops_early(
    rule: NoEarlyStopping,
    node: cst.Call,
    settings: dict,
    keys: tuple[str, ...],
    *,
    callbacks_in: tuple[str, ...],
) -> bool:
    """Whether the estimator `node` builds stops early: one of the library's stopping
    `keys`, or (where the library reads one there) a stopping callback, in the
    constructor or a later `fit`/`set_params` on it."""
    if any(is_set(settings.get(key)) for key in keys):
        return True
    if "constructor" in callbacks_in and callbacks_state(rule.context, settings.get("callbacks")) != NONE:
        return True
    for call in followups(rule.context, node, ("fit", "set_params")):
        if has_star(call) or any(is_set(keyword_value(call, key)) for key in keys):
            return True
        if "fit" in callbacks_in and callbacks_state(rule.context, keyword_value(call, "callbacks")) != NONE:
            return True
    return False


def _rounds(settings: dict, positional: cst.BaseExpression | None, keys: tuple[str, ...]):
    """The rounds argument: the last of the library's spellings given by keyword, else the
    positional one."""
    rounds = positional
    for key in keys:
        if key in settings:
            rounds = settings[key]
    return rounds
