"""scikit-learn estimators for GL102 no-early-stopping: MLP, SGD, GradientBoosting and
HistGradientBoosting with a fixed budget and no early stopping (fixed by a keyword)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from green_lint.rule import Fix
from green_lint.rules._stopping_budget import budget_of, followups, is_set, no_run_of_its_own, shown_count
from green_lint.rules._syntax import has_star, is_false, is_none, keyword, keywords, string_value
from green_lint.rules._training_edits import with_keyword

if TYPE_CHECKING:
    from green_lint.rules.no_early_stopping import NoEarlyStopping

# scikit-learn: class -> (budget parameter, its default, what kind of budget).
SKLEARN = {
    "MLPClassifier": ("max_iter", 200, "epochs"),
    "MLPRegressor": ("max_iter", 200, "epochs"),
    "SGDClassifier": ("max_iter", 1000, "epochs"),
    "SGDRegressor": ("max_iter", 1000, "epochs"),
    "GradientBoostingClassifier": ("n_estimators", 100, "rounds"),
    "GradientBoostingRegressor": ("n_estimators", 100, "rounds"),
    "HistGradientBoostingClassifier": ("max_iter", 100, "rounds"),
    "HistGradientBoostingRegressor": ("max_iter", 100, "rounds"),
}


def check_sklearn(rule: NoEarlyStopping, node: cst.Call, name: str) -> None:
    if has_star(node):
        return
    parameter, default, kind = SKLEARN[name]
    if no_run_of_its_own(rule.context, node, (parameter,)):
        return
    settings = keywords(node)
    for call in followups(rule.context, node, ("set_params",)):
        if has_star(call):
            return
        settings.update(keywords(call))
    budget = budget_of(rule.context, settings.get(parameter), default)
    minimum = rule.min_epochs if kind == "epochs" else rule.min_rounds
    if budget is None or budget < minimum:
        return
    count = shown_count(budget)
    shown = "default " if parameter not in settings else ""
    if name.startswith(("MLP", "SGD")):
        stopping = settings.get("early_stopping")
        if stopping is not None and not is_false(stopping):
            return
        if name.startswith("MLP") and "solver" in settings:
            solver = string_value(settings["solver"])
            if solver is None or solver == "lbfgs":
                return
        patience = 10 if name.startswith("MLP") else 5
        if is_none(settings.get("tol")):
            # No tolerance, no stopping at all, even with early_stopping=True.
            rule.report(
                node,
                f"`{name}` runs all {count} epochs ({shown}`{parameter}`): `tol=None` turns "
                "off every stopping criterion. Set `early_stopping=True` and keep a `tol` "
                f"(default 1e-3): training then stops once the validation score has not "
                f"improved by `tol` for {patience} epochs.",
            )
            return
        message = (
            f"`{name}` runs up to {count} epochs ({shown}`{parameter}`) and stops only when "
            "the training loss plateaus: `early_stopping=True` holds out 10% of the data "
            f"and stops once the validation score has not improved for {patience} epochs "
            "(`n_iter_no_change`)."
        )
        _report_with_keyword(
            rule, node, message, "early_stopping", "True", "Stop early (early_stopping=True)"
        )
    elif name.startswith("GradientBoosting"):
        if is_set(settings.get("n_iter_no_change")):
            return
        message = (
            f"`{name}` builds all {count} trees ({shown}`n_estimators`) with no early stopping: "
            "`n_iter_no_change=10` holds out `validation_fraction` (10%) of the data and stops "
            "once the validation score has not improved for 10 iterations."
        )
        _report_with_keyword(
            rule, node, message, "n_iter_no_change", "10", "Stop early (n_iter_no_change=10)"
        )
    else:
        if not is_false(settings.get("early_stopping")):
            return
        message = (
            f"`early_stopping=False` makes `{name}` build all {count} iterations ({shown}"
            '`max_iter`): leave the default `early_stopping="auto"` (on above 10,000 samples) or '
            "set `early_stopping=True`, which stops once the validation score has not improved "
            "for 10 iterations."
        )
        _report_with_keyword(
            rule, node, message, "early_stopping", "True", "Stop early (early_stopping=True)"
        )


def _report_with_keyword(
    rule: NoEarlyStopping, node: cst.Call, message: str, name: str, value: str, title: str
) -> None:
    found = keyword(node, name)
    fix = None
    # scikit-learn refuses early stopping in `partial_fit`: no fix where it is called.
    online = bool(followups(rule.context, node, ("partial_fit",)))
    if not online and (
        found is not None
        or not any(
            call is not node and keyword(call, name)
            for call in followups(rule.context, node, ("set_params",))
        )
    ):
        fix = Fix(title, {node: with_keyword(node, name, value)})
    rule.report(node, message, fix=fix)
