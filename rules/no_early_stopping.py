"""GL102 no-early-stopping."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.fixes import add_import
from green_lint.names import statements_of
from green_lint.rule import Fix, Rule
from green_lint.rules._training import (
    DEFINITIONS,
    LOOPS,
    NONE,
    Numbers,
    argument,
    callbacks_state,
    calls_in,
    has_star,
    is_false,
    is_none,
    keyword,
    keyword_value,
    keywords,
    last_name,
    mutated,
    positional,
    string_value,
    walk,
    with_element,
    with_keyword,
    words_of,
)

KERAS_MODULES = ("keras", "tensorflow", "tf_keras")
LIGHTNING_TRAINERS = (
    "lightning.Trainer",
    "lightning.pytorch.Trainer",
    "lightning.pytorch.trainer.Trainer",
    "lightning.pytorch.trainer.trainer.Trainer",
    "pytorch_lightning.Trainer",
    "pytorch_lightning.trainer.Trainer",
    "pytorch_lightning.trainer.trainer.Trainer",
)
HF_TRAINERS = (
    "transformers.Trainer",
    "transformers.Seq2SeqTrainer",
    "transformers.trainer.Trainer",
    "transformers.trainer_seq2seq.Seq2SeqTrainer",
)
HF_ARGUMENTS = (
    "transformers.TrainingArguments",
    "transformers.Seq2SeqTrainingArguments",
    "transformers.training_args.TrainingArguments",
    "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
)
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
OPTIMIZERS = ("torch.optim", "timm.optim", "transformers.AdamW", "bitsandbytes.optim", "apex.optimizers")
# Words in the condition of a `break` that make it an early stop (validation measures,
# patience counters, early stoppers; rewards and thresholds for reinforcement learning).
STOP_WORDS = re.compile(
    r"val|eval|loss|acc|score|metric|best|improv|patien|early|stop|plateau|converg|wait|f1|auc|"
    r"ppl|perplex|bleu|error|prun|tolera|reward|solved|threshold"
)
SHOULD_STOP = re.compile(r"\bshould_stop\s*=\s*True")


class NoEarlyStopping(Rule):
    """
    ## What it does
    Flags a training run with a fixed budget of at least `min-epochs` epochs (default 10)
    or `min-rounds` boosting rounds (default 100) and no early stopping:
    - Keras `model.fit(..., epochs=N)` with no `EarlyStopping` in `callbacks` (the file
      must import keras, tensorflow or tf_keras);
    - Lightning `Trainer(max_epochs=N)` (`lightning`, `lightning.pytorch`,
      `pytorch_lightning`) without an `EarlyStopping` callback; a `Trainer` with neither
      `max_epochs` nor `max_steps`/`max_time` runs 1000 epochs and is flagged when it is
      `fit` in the file;
    - transformers `Trainer` whose `TrainingArguments` set `num_train_epochs >= N` (and no
      `max_steps`), without `EarlyStoppingCallback`;
    - xgboost `XGBClassifier/XGBRegressor/XGBRanker` without `early_stopping_rounds` (in
      the constructor, `set_params` or the old `fit` keyword) and `xgb.train(...,
      num_boost_round=N)` / `xgb.cv(...)` without `early_stopping_rounds` or an `EarlyStopping`
      callback;
    - lightgbm `lgb.train`, `lgb.cv` and `LGBMClassifier/LGBMRegressor/LGBMRanker` without
      `lgb.early_stopping(...)` in `callbacks` or `early_stopping_round(s)` /
      `n_iter_no_change` in the parameters;
    - catboost `CatBoostClassifier/Regressor/Ranker` without `early_stopping_rounds` or
      `od_type`/`od_wait`/`od_pval`;
    - scikit-learn `MLPClassifier/MLPRegressor` (not `solver="lbfgs"`) and
      `SGDClassifier/SGDRegressor` without `early_stopping=True`,
      `GradientBoostingClassifier/Regressor` without `n_iter_no_change`, and
      `HistGradientBoostingClassifier/Regressor` with an explicit `early_stopping=False`;
    - a raw PyTorch loop `for epoch in range(N)` (also `tqdm(range(N))`, `trange(N)`)
      whose body, or a function of the file it calls, does `backward()` and an optimizer
      `step()`, with no `break`/`return`/`raise` guarded by a validation measure (a
      condition naming a validation loss, a metric, a patience counter, an early stopper...).

    A missing budget counts as the library default: xgboost's and lightgbm's
    `n_estimators` / `lgb.train`'s `num_boost_round` (100), catboost's `iterations`
    (1000), MLP's `max_iter` (200), SGD's (1000), GradientBoosting's `n_estimators` and
    HistGradientBoosting's `max_iter` (100); `xgb.train`'s default of 10 rounds and Keras'
    1 epoch are below the thresholds. A budget is resolved through literals, constants of
    the file, dict literals and `argparse` defaults (`range(args.epochs)`); a budget that
    does not resolve to a number is not flagged, nor are callbacks built where the rule
    cannot see them (a function's return value, a parameter). An epoch loop nested in
    another loop (or in a function called from a loop) is taken for the inner steps of an
    epoch and not flagged, unless its variable or budget names an epoch or the outer loop
    runs over a literal list of values (a sweep).
    `SGDClassifier/SGDRegressor(tol=None)` has no stopping criterion at all: it is flagged
    with advice and no fix (`early_stopping=True` needs a `tol`). Test suites that train a
    fixed number of steps on purpose are best silenced with `per-file-ignores`.

    ## Why it wastes energy
    A fixed budget trains until the last epoch even when the validation score stopped
    improving long before: every epoch after the best one costs energy and usually hurts
    generalisation. Early stopping ends the run a few epochs (the patience) after the
    best validation score, which often saves a large share of the epochs or trees.

    ## Example
    ```python
    model.fit(x, y, epochs=100, validation_split=0.2)
    clf = GradientBoostingClassifier(n_estimators=500)
    ```

    ## Use instead
    ```python
    model.fit(
        x, y, epochs=100, validation_split=0.2,
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)],
    )
    clf = GradientBoostingClassifier(n_estimators=500, n_iter_no_change=10)
    ```

    ## Fix safety
    Unsafe: stopping early changes the trained model (the point is to train less). The fix
    adds `callbacks=[...EarlyStopping(monitor="val_loss", patience=5,
    restore_best_weights=True)]` to a Keras `fit` that has validation data, with the
    file's own spelling of keras (adding `from keras.callbacks import EarlyStopping` if it
    has none); `early_stopping=True` for MLP, SGD and HistGradientBoosting;
    `n_iter_no_change=10` for GradientBoosting. Those hold out part of the training data
    (`validation_fraction`, 10%) to decide when to stop. Elsewhere (Lightning, transformers,
    boosting libraries, raw loops) early stopping needs a validation set the rule cannot
    invent: the message says what to add.

    ## Evidence
    - scikit-learn, "Early stopping of Gradient Boosting": almost the same accuracy with
      many fewer estimators, so less training time and memory.
      https://scikit-learn.org/stable/auto_examples/ensemble/plot_gradient_boosting_early_stopping.html
    - scikit-learn PR 14516 made early stopping the default of HistGradientBoosting above
      10,000 samples because it "usually makes the fitting process much faster without a
      substantial difference in terms of predictive performance".
      https://github.com/scikit-learn/scikit-learn/pull/14516
    - Badly set training hyper-parameters cost up to 5x the energy of the best setup for
      the same accuracy ("The Power of Training", https://arxiv.org/abs/2401.01851).
    - The saving depends on where the validation score peaks, which no static rule knows:
      measure it on your code with `green-lint verify`.
    """

    code = "GL102"
    name = "no-early-stopping"
    summary = "A training run with a fixed epoch or round budget and no early stopping"
    fix_safety = "unsafe"
    options = {"min-epochs": 10, "min-rounds": 100}
    triggers = (
        ("epochs", "keras"),
        ("epochs", "tensorflow"),
        ("Trainer", "lightning"),
        ("Trainer", "transformers"),
        ("Trainer", "trl"),
        "xgboost",
        "lightgbm",
        "catboost",
        "MLPClassifier",
        "MLPRegressor",
        "SGDClassifier",
        "SGDRegressor",
        "GradientBoosting",
        ("backward", "torch", "range"),
    )

    def __init__(self, context, options=None) -> None:
        super().__init__(context, options)
        self.numbers = Numbers(context)
        self._loops: list[tuple[cst.For, float, cst.FunctionDef | None, bool]] = []
        self._keras = any(context.imports.imports_module(name) for name in KERAS_MODULES)
        self._torch = context.imports.imports_module("torch")

    @property
    def min_epochs(self) -> float:
        return self.settings["min-epochs"]

    @property
    def min_rounds(self) -> float:
        return self.settings["min-rounds"]

    # -- dispatch ----------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        context = self.context
        qualified = context.resolves_under(
            func,
            "sklearn",
            "xgboost",
            "lightgbm",
            "catboost",
            "transformers",
            "trl",
            "lightning",
            "pytorch_lightning",
        )
        if qualified is not None:
            last = qualified.rsplit(".", 1)[-1]
            top = qualified.split(".", 1)[0]
            if top == "sklearn" and last in SKLEARN:
                self._sklearn(node, last)
            elif top == "xgboost" and last in XGB_ESTIMATORS:
                self._xgb_estimator(node, last)
            elif qualified in XGB_TRAIN or qualified in XGB_CV:
                self._xgb_train(node, cross_validated=qualified in XGB_CV)
            elif top == "lightgbm" and last in LGBM_ESTIMATORS:
                self._lgbm_estimator(node, last)
            elif qualified in LGB_TRAIN or qualified in LGB_CV:
                self._lgb_train(node, cross_validated=qualified in LGB_CV)
            elif top == "catboost" and last in CATBOOST_ESTIMATORS:
                self._catboost(node, last)
            elif qualified in LIGHTNING_TRAINERS:
                self._lightning(node)
            elif qualified in HF_TRAINERS or (top == "trl" and last.endswith("Trainer")):
                self._hf_trainer(node, last)
            return
        if self._keras and isinstance(func, cst.Attribute) and func.attr.value == "fit":
            self._keras_fit(node)

    # -- helpers -----------------------------------------------------------------------
    def _budget(self, node: cst.BaseExpression | None, default: float | None) -> float | None:
        if node is None:
            return default
        if is_none(node):
            return default
        return self.numbers.resolve(node)

    def _followups(self, node: cst.Call, methods: tuple[str, ...]) -> list[cst.Call]:
        """Calls of `methods` on the object `node` builds: chained (`X(...).fit(...)`) or
        on the variable it is assigned to, in the same scope."""
        stack = self.context.stack
        parent = stack[-2] if len(stack) > 1 else None
        grandparent = stack[-3] if len(stack) > 2 else None
        if (
            isinstance(parent, cst.Attribute)
            and isinstance(grandparent, cst.Call)
            and parent.attr.value in methods
        ):
            return [grandparent]
        if not (isinstance(parent, cst.Assign | cst.AnnAssign)):
            return []
        targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
        names = {t.value for t in targets if isinstance(t, cst.Name)}
        found = []
        for call in calls_in(self.context.scope()):
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in methods
                and isinstance(func.value, cst.Name)
                and func.value.value in names
            ):
                found.append(call)
        return found

    def _set(self, value: cst.BaseExpression | None) -> bool:
        """Whether an early-stopping argument is set (present and not literally None)."""
        return value is not None and not is_none(value)

    def _count(self, value: float) -> str:
        return str(int(value)) if float(value).is_integer() else str(value)

    # -- scikit-learn ------------------------------------------------------------------
    def _sklearn(self, node: cst.Call, name: str) -> None:
        if has_star(node):
            return
        parameter, default, kind = SKLEARN[name]
        settings = keywords(node)
        for call in self._followups(node, ("set_params",)):
            if has_star(call):
                return
            settings.update(keywords(call))
        budget = self._budget(settings.get(parameter), default)
        minimum = self.min_epochs if kind == "epochs" else self.min_rounds
        if budget is None or budget < minimum:
            return
        count = self._count(budget)
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
                self.report(
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
            self._report_with_keyword(
                node, message, "early_stopping", "True", "Stop early (early_stopping=True)"
            )
        elif name.startswith("GradientBoosting"):
            if self._set(settings.get("n_iter_no_change")):
                return
            message = (
                f"`{name}` builds all {count} trees ({shown}`n_estimators`) with no early stopping: "
                "`n_iter_no_change=10` holds out `validation_fraction` (10%) of the data and stops "
                "once the validation score has not improved for 10 iterations."
            )
            self._report_with_keyword(
                node, message, "n_iter_no_change", "10", "Stop early (n_iter_no_change=10)"
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
            self._report_with_keyword(
                node, message, "early_stopping", "True", "Stop early (early_stopping=True)"
            )

    def _report_with_keyword(self, node: cst.Call, message: str, name: str, value: str, title: str) -> None:
        found = keyword(node, name)
        fix = None
        if found is not None or not any(
            call is not node and keyword(call, name) for call in self._followups(node, ("set_params",))
        ):
            fix = Fix(title, {node: with_keyword(node, name, value)})
        self.report(node, message, fix=fix)

    # -- boosting libraries ------------------------------------------------------------
    def _xgb_estimator(self, node: cst.Call, name: str) -> None:
        if has_star(node):
            return
        settings = keywords(node)
        if (
            self._set(settings.get("early_stopping_rounds"))
            or callbacks_state(self.context, settings.get("callbacks")) != NONE
        ):
            return
        for call in self._followups(node, ("fit", "set_params")):
            if has_star(call) or self._set(keyword_value(call, "early_stopping_rounds")):
                return
            if callbacks_state(self.context, keyword_value(call, "callbacks")) != NONE:
                return
        budget = self._budget(settings.get("n_estimators"), 100)
        if budget is None or budget < self.min_rounds:
            return
        shown = "" if "n_estimators" in settings else "default "
        self.report(
            node,
            f"`{name}` builds all {self._count(budget)} trees ({shown}`n_estimators`) with no early "
            "stopping: pass `early_stopping_rounds=10` to the constructor and "
            "`eval_set=[(X_val, y_val)]` to `fit`; boosting then stops 10 rounds after the best "
            "validation score.",
        )

    def _xgb_train(self, node: cst.Call, cross_validated: bool) -> None:
        if has_star(node):
            return
        if self._set(keyword_value(node, "early_stopping_rounds")):
            return
        if callbacks_state(self.context, keyword_value(node, "callbacks")) != NONE:
            return
        budget = self._budget(argument(node, 2, "num_boost_round"), 10)
        if budget is None or budget < self.min_rounds:
            return
        if cross_validated:
            message = (
                f"`xgb.cv` runs all {self._count(budget)} boosting rounds in every fold with no early "
                "stopping: pass `early_stopping_rounds=10`; every fold then stops 10 rounds after the "
                "best mean test score."
            )
        else:
            message = (
                f"`xgb.train` runs all {self._count(budget)} boosting rounds with no early stopping: pass "
                '`evals=[(dval, "val")]` and `early_stopping_rounds=10` (or '
                "`callbacks=[xgb.callback.EarlyStopping(rounds=10)]`); it stops 10 rounds after the best "
                "validation score."
            )
        self.report(node, message)

    def _lgbm_estimator(self, node: cst.Call, name: str) -> None:
        if has_star(node):
            return
        settings = keywords(node)
        if any(self._set(settings.get(key)) for key in LGB_STOPPING):
            return
        for call in self._followups(node, ("fit", "set_params")):
            if has_star(call) or any(self._set(keyword_value(call, key)) for key in LGB_STOPPING):
                return
            if callbacks_state(self.context, keyword_value(call, "callbacks")) != NONE:
                return
        rounds = argument(node, 4, "n_estimators")
        for key in LGB_ROUNDS:
            if key in settings:
                rounds = settings[key]
        budget = self._budget(rounds, 100)
        if budget is None or budget < self.min_rounds:
            return
        shown = "" if rounds is not None else "default "
        self.report(
            node,
            f"`{name}` builds all {self._count(budget)} trees ({shown}`n_estimators`) with no early "
            "stopping: fit with `eval_set=[(X_val, y_val)]` and "
            "`callbacks=[lgb.early_stopping(10)]`; boosting then stops 10 rounds after the best "
            "validation score.",
        )

    def _lgb_train(self, node: cst.Call, cross_validated: bool) -> None:
        if has_star(node):
            return
        if any(self._set(keyword_value(node, key)) for key in LGB_STOPPING):
            return
        if callbacks_state(self.context, keyword_value(node, "callbacks")) != NONE:
            return
        params = argument(node, 0, "params")
        value = self.context.single_value(params)
        if not isinstance(value, cst.Dict):
            return  # the parameters may hold early_stopping_round
        if isinstance(params, cst.Name) and mutated(self.context, params.value):
            return
        budget_node = argument(node, 2, "num_boost_round")
        for element in value.elements:
            if not isinstance(element, cst.DictElement):
                return
            key = string_value(element.key)
            if key is None:
                return
            if key in LGB_STOPPING and self._set(element.value):
                return
            if key in LGB_ROUNDS:
                budget_node = element.value
        budget = self._budget(budget_node, 100)
        if budget is None or budget < self.min_rounds:
            return
        if cross_validated:
            message = (
                f"`lgb.cv` runs all {self._count(budget)} boosting rounds in every fold with no early "
                "stopping: pass `callbacks=[lgb.early_stopping(10)]`; every fold then stops 10 rounds "
                "after the best mean validation score."
            )
        else:
            message = (
                f"`lgb.train` runs all {self._count(budget)} boosting rounds with no early stopping: pass "
                "`valid_sets=[dval]` and `callbacks=[lgb.early_stopping(10)]`; it stops 10 rounds after "
                "the best validation score."
            )
        self.report(node, message)

    def _catboost(self, node: cst.Call, name: str) -> None:
        if has_star(node):
            return
        settings = keywords(node)
        if any(self._set(settings.get(key)) for key in CATBOOST_STOPPING):
            return
        for call in self._followups(node, ("fit", "set_params")):
            if has_star(call) or any(self._set(keyword_value(call, key)) for key in CATBOOST_STOPPING):
                return
        rounds = argument(node, 0, "iterations")
        for key in CATBOOST_ROUNDS:
            if key in settings:
                rounds = settings[key]
        budget = self._budget(rounds, 1000)
        if budget is None or budget < self.min_rounds:
            return
        shown = "" if rounds is not None else "default "
        self.report(
            node,
            f"`{name}` builds all {self._count(budget)} trees ({shown}`iterations`) with no early "
            "stopping: pass `early_stopping_rounds=50` and fit with `eval_set=(X_val, y_val)`; "
            "training then stops 50 iterations after the best validation score.",
        )

    # -- deep-learning trainers --------------------------------------------------------
    def _lightning(self, node: cst.Call) -> None:
        if has_star(node):
            return
        settings = keywords(node)
        if callbacks_state(self.context, settings.get("callbacks")) != NONE:
            return
        if SHOULD_STOP.search(self.context.module.code):
            return  # the LightningModule stops the trainer itself
        if "fast_dev_run" in settings and not is_false(settings["fast_dev_run"]):
            return
        if "max_epochs" in settings:
            budget = self.numbers.resolve(settings["max_epochs"])
            shown = f"`max_epochs={self.context.code_for(settings['max_epochs'])}`"
        else:
            if any(key in settings for key in ("max_steps", "max_time")) or not self._followups(
                node, ("fit",)
            ):
                return
            budget, shown = 1000, "no `max_epochs` nor `max_steps`: 1000 epochs by default"
        if budget is None or budget < self.min_epochs:
            return
        self.report(
            node,
            f"`Trainer` runs all {self._count(budget)} epochs ({shown}) with no EarlyStopping callback: "
            'add `callbacks=[EarlyStopping(monitor="val_loss", patience=5)]` (from '
            '`lightning.pytorch.callbacks`) and log `"val_loss"` with `self.log` in `validation_step`; '
            "training then stops 5 epochs after the best validation loss.",
        )

    def _hf_trainer(self, node: cst.Call, name: str) -> None:
        if has_star(node):
            return
        if callbacks_state(self.context, keyword_value(node, "callbacks")) != NONE:
            return
        for call in self._followups(node, ("add_callback",)):
            if (
                not call.args
                or callbacks_state(self.context, cst.List([cst.Element(call.args[0].value)])) != NONE
            ):
                return
        arguments = argument(node, 1, "args")
        value = self.context.single_value(arguments)
        if not isinstance(value, cst.Call) or has_star(value):
            return
        qualified = self.context.resolves_under(value.func, "transformers", "trl")
        if qualified is None or not (
            qualified in HF_ARGUMENTS or (qualified.startswith("trl.") and qualified.endswith("Config"))
        ):
            return
        settings = keywords(value)
        if "max_steps" in settings:
            steps = self.numbers.resolve(settings["max_steps"])
            if steps is None or steps > 0:
                return
        epochs = settings.get("num_train_epochs")
        budget = self._budget(epochs, 3)
        if budget is None or budget < self.min_epochs:
            return
        shown = (
            f"`num_train_epochs={self.context.code_for(epochs)}`" if epochs is not None else "the default 3"
        )
        self.report(
            node,
            f"`{name}` trains all {self._count(budget)} epochs ({shown}) with no EarlyStoppingCallback: add "
            "`callbacks=[EarlyStoppingCallback(early_stopping_patience=3)]`; it needs "
            '`load_best_model_at_end=True`, `metric_for_best_model="eval_loss"` and an evaluation '
            'strategy (`eval_strategy="epoch"`, `evaluation_strategy` in older releases) with the '
            "same `save_strategy` in the TrainingArguments.",
        )

    # -- keras -------------------------------------------------------------------------
    def _keras_fit(self, node: cst.Call) -> None:
        if any(arg.star == "**" for arg in node.args):
            return
        epochs = argument(node, 3, "epochs")
        if epochs is None or not self._keras_receiver(node.func.value):
            return
        budget = self.numbers.resolve(epochs)
        if budget is None or budget < self.min_epochs:
            return
        callbacks = argument(node, 5, "callbacks")
        if callbacks_state(self.context, callbacks) != NONE:
            return
        validation = any(
            self._set(argument(node, position, name))
            for position, name in ((6, "validation_split"), (7, "validation_data"))
        )
        split = argument(node, 6, "validation_split")
        if (
            split is not None
            and self.numbers.resolve(split) == 0
            and argument(node, 7, "validation_data") is None
        ):
            validation = False
        spelled = self._keras_early_stopping(self._keras_family(node.func.value))
        name = spelled[0] if spelled else "keras.callbacks.EarlyStopping"
        callback = f'{name}(monitor="val_loss", patience=5, restore_best_weights=True)'
        message = (
            f"`fit` trains all {self._count(budget)} epochs with no EarlyStopping callback: add "
            f"`callbacks=[{callback}]`, which stops once the validation loss has not improved for 5 "
            "epochs and keeps the best weights"
        )
        fix = None
        if not validation:
            message += (
                "; pass `validation_data=` or `validation_split=` so that it has a validation loss to watch."
            )
        else:
            message += "."
            fix = self._keras_fix(node, callbacks, callback, spelled)
        self.report(node, message, fix=fix)

    def _keras_receiver(self, receiver: cst.BaseExpression) -> bool:
        """False when the object `fit` is called on is known not to be a Keras model."""
        value = self.context.single_value(receiver) if isinstance(receiver, cst.Name) else receiver
        if not isinstance(value, cst.Call):
            return True
        func = value.func
        if isinstance(func, cst.Name) and func.value in self.context.imports.own_definitions:
            for statement in statements_of(self.context.module):
                if isinstance(statement, cst.ClassDef) and statement.name.value == func.value:
                    return any(
                        self.context.resolves_under(base.value, *KERAS_MODULES) for base in statement.bases
                    )
            return True  # a function of the file that builds the model
        qualified = self.context.qualified_name(func)
        if qualified is None or qualified.startswith("builtins."):
            return True
        return qualified.split(".", 1)[0] in KERAS_MODULES

    def _keras_family(self, receiver: cst.BaseExpression) -> str | None:
        """The Keras the model comes from (keras, tensorflow.keras or tf_keras), if known."""
        value = self.context.single_value(receiver) if isinstance(receiver, cst.Name) else receiver
        if not isinstance(value, cst.Call):
            return None
        func = value.func
        candidates = [func]
        if isinstance(func, cst.Name) and func.value in self.context.imports.own_definitions:
            for statement in statements_of(self.context.module):
                if isinstance(statement, cst.ClassDef) and statement.name.value == func.value:
                    candidates = [base.value for base in statement.bases]
        for candidate in candidates:
            qualified = self.context.resolves_under(candidate, *KERAS_MODULES)
            if qualified is not None:
                top = qualified.split(".", 1)[0]
                return "tensorflow.keras" if top == "tensorflow" else top
        return None

    def _keras_early_stopping(self, family: str | None) -> tuple[str, dict] | None:
        """The file's spelling of Keras' EarlyStopping (for the model's Keras when known)
        and the changes that import it."""
        imports = self.context.imports
        bindings = {
            local: target
            for local, target in imports.bindings.items()
            if local not in imports.own_definitions
        }
        targets = set(bindings.values())
        if family is None:
            if any(t == "tf_keras" or t.startswith("tf_keras.") for t in targets):
                family = "tf_keras"
            elif any(t == "keras" or t.startswith("keras.") for t in targets):
                family = "keras"
            else:
                family = "tensorflow.keras"
        preferences = [
            (f"{family}.callbacks.EarlyStopping", ""),
            (f"{family}.callbacks", ".EarlyStopping"),
            (family, ".callbacks.EarlyStopping"),
        ]
        if family == "tensorflow.keras":
            preferences.append(("tensorflow", ".keras.callbacks.EarlyStopping"))
        for target, suffix in preferences:
            for local, bound in bindings.items():
                if bound == target:
                    return local + suffix, {}
        if "EarlyStopping" in bindings or "EarlyStopping" in imports.own_definitions:
            return None
        code = f"from {family}.callbacks import EarlyStopping\n"
        return "EarlyStopping", add_import(self.context, code, binds=f"{family}.callbacks.EarlyStopping")

    def _keras_fix(self, node: cst.Call, callbacks, callback: str, spelled) -> Fix | None:
        if spelled is None:
            return None
        _, imports = spelled
        if callbacks is None:
            new = with_keyword(node, "callbacks", f"[{callback}]")
            return Fix("Stop early (keras EarlyStopping callback)", {node: new, **imports})
        found = keyword(node, "callbacks")
        if found is None or not isinstance(found.value, cst.List):
            return None
        return Fix(
            "Stop early (keras EarlyStopping callback)",
            {found.value: with_element(found.value, callback), **imports},
        )

    # -- raw PyTorch loops -------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        if not self._torch:
            return
        budget = self._range_budget(node.iter)
        if budget is None or budget < self.min_epochs:
            return
        names_epoch = any(
            "epoch" in word
            for word in words_of(self.context, node.target) | words_of(self.context, node.iter)
        )
        for ancestor in self.context.ancestors():
            if isinstance(ancestor, cst.FunctionDef | cst.ClassDef):
                break
            if isinstance(ancestor, LOOPS) and not names_epoch and not _sweep(self.context, ancestor):
                return
        function = self.context.enclosing(cst.FunctionDef)
        self._loops.append((node, budget, function, names_epoch))

    def _range_budget(self, node: cst.BaseExpression) -> float | None:
        if not isinstance(node, cst.Call) or has_star(node):
            return None
        call = node
        tqdm = self.context.resolves_under(node.func, "tqdm")
        if tqdm is not None:
            if tqdm.endswith("trange"):
                return self._range_of(positional(node))
            args = positional(node)
            if not args or not isinstance(args[0].value, cst.Call):
                return None
            call = args[0].value
        if not self._is_range(call.func) or has_star(call) or any(arg.keyword for arg in call.args):
            return None
        return self._range_of(call.args)

    def _range_of(self, args) -> float | None:
        values = [self.numbers.resolve(arg.value) for arg in args]
        if not 1 <= len(values) <= 3 or None in values:
            return None
        if len(values) == 1:
            return values[0]
        if len(values) == 2:
            return values[1] - values[0]
        if int(values[2]) == 0:
            return None
        return len(range(int(values[0]), int(values[1]), int(values[2])))

    def _is_range(self, func: cst.BaseExpression) -> bool:
        if self.context.resolves_to(func, "builtins.range"):
            return True
        imports = self.context.imports
        return (
            isinstance(func, cst.Name)
            and func.value == "range"
            and func.value not in imports.bindings
            and func.value not in imports.own_definitions
        )

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._loops:
            return
        index = _LoopIndex(self.context, original_node)
        for loop, budget, function, names_epoch in self._loops:
            if function is not None and not names_epoch and index.called_in_loop(function.name.value):
                continue
            if not index.trains(loop):
                continue
            if _stops(self.context, loop, function or original_node):
                continue
            self.report(
                loop,
                f"This loop trains all {self._count(budget)} epochs with no validation-based stop: "
                "evaluate on held-out data every epoch and `break` once the validation loss has not "
                "improved for a few epochs (the patience), keeping the best weights.",
                end_node=loop.iter,
            )


def _sweep(context, loop: cst.CSTNode) -> bool:
    """Whether an outer loop runs over a literal list of values (a hyper-parameter sweep)."""
    if not isinstance(loop, cst.For):
        return False
    values = loop.iter
    if isinstance(values, cst.Name):
        values = context.single_value(values)
    return isinstance(values, cst.List | cst.Tuple | cst.Set | cst.Dict)


class _LoopIndex:
    """The file's functions by name, what each loop calls, and its optimizers."""

    def __init__(self, context, module: cst.Module) -> None:
        self.context = context
        self.functions: dict[str, list[cst.FunctionDef]] = {}
        self.loop_calls: dict[str, bool] = {}
        self.optimizers: set[str] = set()
        for statement in statements_of(module):
            if isinstance(statement, cst.FunctionDef):
                self.functions.setdefault(statement.name.value, []).append(statement)
            elif isinstance(statement, LOOPS) and not _sweep(context, statement):
                for call in calls_in(statement.body, enter_definitions=False):
                    name = last_name(call.func)
                    if name is not None:
                        self.loop_calls[name] = True
            elif isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call):
                qualified = context.resolves_under(statement.value.func, *OPTIMIZERS)
                if qualified is not None and "lr_scheduler" not in qualified:
                    for target in statement.targets:
                        name = last_name(target.target)
                        if name is not None:
                            self.optimizers.add(name)

    def called_in_loop(self, name: str) -> bool:
        return name in self.loop_calls

    def trains(self, loop: cst.For) -> bool:
        backward = step = False
        seen: set[int] = set()
        pending: list[tuple[cst.CSTNode, int]] = [(loop.body, 0)]
        while pending:
            node, depth = pending.pop()
            for call in calls_in(node):
                func = call.func
                name = last_name(func)
                if name is None:
                    continue
                if "backward" in name:
                    backward = True
                elif (
                    name == "step"
                    and isinstance(func, cst.Attribute)
                    and (self._optimizer(func.value) or any(self._optimizer(arg.value) for arg in call.args))
                ):
                    step = True
                if depth < 3 and name in self.functions:
                    for function in self.functions[name]:
                        if id(function) not in seen:
                            seen.add(id(function))
                            pending.append((function.body, depth + 1))
            if backward and step:
                return True
        return False

    def _optimizer(self, node: cst.BaseExpression) -> bool:
        name = last_name(node)
        if name is None:
            return False
        lowered = name.lower()
        return name in self.optimizers or ("opt" in lowered and "scheduler" not in lowered)


def _stops(context, loop: cst.For, scope: cst.CSTNode) -> bool:
    """Whether the loop has a `break`/`return`/`raise` guarded by a validation measure
    (or not guarded at all)."""
    assigned = _assigned_words(context, scope)

    def guarded(tests: list[cst.BaseExpression]) -> bool:
        if not tests:
            return True
        words: set[str] = set()
        for test in tests:
            found = words_of(context, test)
            words |= found
            for word in found:
                words |= assigned.get(word, set())
        return any(STOP_WORDS.search(word) for word in words)

    def visit(statements, tests: list, in_inner_loop: bool) -> bool:
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Break) and not in_inner_loop and guarded(tests):
                        return True
                    if isinstance(small, cst.Return | cst.Raise) and guarded(tests):
                        return True
                continue
            if isinstance(statement, DEFINITIONS):
                continue
            if isinstance(statement, cst.If):
                if _visit_if(statement, tests, in_inner_loop):
                    return True
                continue
            inner = in_inner_loop or isinstance(statement, LOOPS)
            for block in _blocks(statement):
                if visit(block, tests, inner):
                    return True
        return False

    def _visit_if(statement: cst.If, tests: list, in_inner_loop: bool) -> bool:
        branch_tests = [*tests, statement.test]
        if visit(_body(statement.body), branch_tests, in_inner_loop):
            return True
        orelse = statement.orelse
        if isinstance(orelse, cst.If):
            return _visit_if(orelse, branch_tests, in_inner_loop)
        if isinstance(orelse, cst.Else):
            return visit(_body(orelse.body), branch_tests, in_inner_loop)
        return False

    return visit(_body(loop.body), [], False)


def _body(block) -> list:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    if isinstance(block, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=block.body)]
    return []


def _blocks(statement: cst.CSTNode) -> list[list]:
    blocks = []
    body = getattr(statement, "body", None)
    if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
        blocks.append(_body(body))
    for attribute in ("orelse", "finalbody"):
        extra = getattr(statement, attribute, None)
        if extra is not None and hasattr(extra, "body"):
            blocks.append(_body(extra.body))
    # Not the `except` handlers: leaving on an exception (`except KeyboardInterrupt: break`)
    # is no early stop.
    for case in getattr(statement, "cases", ()):
        blocks.append(_body(case.body))
    return blocks


def _assigned_words(context, scope: cst.CSTNode) -> dict[str, set[str]]:
    """name -> the words of the values assigned to it in `scope` (one level)."""
    found: dict[str, set[str]] = {}
    for statement in statements_of(scope):
        pairs = []
        if isinstance(statement, cst.Assign):
            pairs = [(target.target, statement.value) for target in statement.targets]
        elif isinstance(statement, cst.AugAssign | cst.AnnAssign) and statement.value is not None:
            pairs = [(statement.target, statement.value)]
        for target, value in pairs:
            for node in walk(target):
                if isinstance(node, cst.Name):
                    found.setdefault(node.value.lower(), set()).update(words_of(context, value))
    return found
