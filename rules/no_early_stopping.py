"""GL102 no-early-stopping: the rule, its docs, and the dispatch to one detector per library
(`_stopping_keras`, `_stopping_lightning`, `_stopping_transformers`, `_stopping_boosting`,
`_stopping_sklearn`, `_stopping_loops` and `_stopping_steps` for hand-written loops)."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._stopping_boosting import (
    CATBOOST_ESTIMATORS,
    LGB_CV,
    LGB_TRAIN,
    LGBM_ESTIMATORS,
    XGB_CV,
    XGB_ESTIMATORS,
    XGB_TRAIN,
    check_catboost,
    check_lgb_train,
    check_lgbm_estimator,
    check_xgb_estimator,
    check_xgb_train,
)
from green_lint.rules._stopping_budget import budget_origin, shown_budget
from green_lint.rules._stopping_elsewhere import IMPORTS_TRAINING, imports_training_code
from green_lint.rules._stopping_estimator import check_estimator_train
from green_lint.rules._stopping_keras import KERAS_MODULES, check_keras_fit
from green_lint.rules._stopping_lightning import LIGHTNING_TRAINERS, check_lightning
from green_lint.rules._stopping_loops import EpochLoops, loop_unit, training_kind
from green_lint.rules._stopping_sklearn import SKLEARN, check_sklearn
from green_lint.rules._stopping_transformers import HF_TRAINERS, check_hf_trainer

# `w, b = update(x, w, b, lr)`: an update function handed the learning rate.
_RATE_ARGUMENT = re.compile(r"=\s*[\w.]+\([^\n]*\b(?:lr|learn(?:ing)?_?rate)\)")


class NoEarlyStopping(Rule):
    """
    ## What it does
    Flags a training run with a fixed budget of at least `min-epochs` epochs (default 10)
    or `min-rounds` boosting rounds or Estimator steps (default 100) and no early stopping:
    - Keras `model.fit(..., epochs=N)` or `fit_generator(...)` (Keras 1: `nb_epoch=N`)
      with no `EarlyStopping` in `callbacks` (the file must import keras, tensorflow or
      tf_keras);
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
    - a TensorFlow Estimator (`tf.estimator`, `tf.compat.v1.estimator`,
      `tf.contrib.learn`; also the file's subclass of one, or one a function of the file
      returns) trained with `.train(input_fn, steps=N)` or `max_steps=N` (`.fit(...,
      steps=N)` for `tf.contrib.learn`) of at least `min-rounds` steps, with no hook or
      monitor that may stop it: only TensorFlow's logging, saving and counting hooks
      (`LoggingTensorHook`, `CheckpointSaverHook`...) leave it flagged; a
      `stop_if_no_decrease_hook`, the caller's own hooks or a pruner do not.
      `train_and_evaluate` with a `TrainSpec(max_steps=N)` is not flagged: its `EvalSpec`
      evaluates as it trains and the stop, when there is one, is a `TrainSpec` hook that
      is often the caller's own (a pruner), which the rule cannot tell from a logger;
    - a hand-written loop `for epoch in range(N)` (also over `tqdm(range(N))`,
      `trange(N)`, `enumerate(range(1, N + 1))` or any wrapper of one range), a
      TensorFlow 2 step loop over a `tf.data` dataset's `take(N)` (`for step, (x, y) in
      enumerate(train_data.take(training_steps), 1)`, `for x, y in ds.take(N)`; N steps),
      `while step < N` with `step += 1`, or `while run[0] <= N` with `run = [0]` counted up
      by the closure passed to `optimizer.step(closure)` (LBFGS, as in style transfer),
      whose body, a closure it passes to an optimizer's `step`, or a function or method of
      the file it calls, runs a training step (PyTorch's `backward()` and an optimizer `step()`;
      TensorFlow 1's `session.run` of an optimizer's `minimize(...)` op, or of an op named
      as one (`sess.run([net.train, net.loss])`, `sess.run(train_op)`); TensorFlow 2's
      `optimizer.apply_gradients`; `train_on_batch`; scikit-learn's `partial_fit` or the
      `fit` of a `warm_start` estimator; a `fit` of one epoch (`epochs=1`, Keras' default,
      a model built with `max_epochs=1`); TF-Agents' `agent.train`; a hand-written NumPy
      or plain-Python update such as `w -= lr * grad`, `Q[s, a] += alpha * delta`,
      `y_pred -= np.multiply(lr, update)` or `w, b = update_weights(x, y, w, b, learnrate)`), with
      no `break`/`return`/`raise` guarded by a validation measure (a condition naming a
      validation loss, a metric, a patience counter, an early stopper, a tolerance...).
      The message says epochs, steps, iterations or episodes after the loop's names, and
      gives the advice that fits: the return for reinforcement learning, the samples for
      a GAN, a tolerance on the loss for style transfer and LBFGS closure loops, held-out
      data otherwise.

    A missing budget counts as the library default: xgboost's and lightgbm's
    `n_estimators` / `lgb.train`'s `num_boost_round` (100), catboost's `iterations`
    (1000), MLP's `max_iter` (200), SGD's (1000), GradientBoosting's `n_estimators` and
    HistGradientBoosting's `max_iter` (100); `xgb.train`'s default of 10 rounds and Keras'
    1 epoch are below the thresholds. A budget is resolved through literals, constants of
    the file, dict literals, `argparse` defaults (`range(args.epochs)`), the assignment
    that reaches the use (`n = 10 ... fit(epochs=n) ... n = 30 ... fit(epochs=n)`),
    parameter defaults together with the file's own call sites (when they differ, every
    value must reach the threshold and the message gives the range), `self.x` set in
    the class, and constants of the project's other modules the file imports
    (`from config import EPOCHS`, `config.EPOCHS`, `CONFIG["epochs"]`, a config object
    `opt = Config()`; the messages of hand-written loops and Keras `fit` name the module
    that sets it), the `argparse` default of the module that calls `train(args)` or of
    the parser function the file imports (`opt = parse_opts()`), and the numbers the
    project's other modules and notebooks pass a parameter (`train(net, data, 20)`). A
    hand-written loop trains when its turn runs a training step, in the file or in a
    function or class method of another module of the project (`train_one_epoch(...)`,
    `trainer.train_step(...)`); `range(start_epoch, N)` counts from where a fresh run
    starts when a checkpoint may move the start. A budget that does not resolve to numbers is not flagged, nor are callbacks built where the rule
    cannot see them (a function's return value, a parameter). An epoch loop nested in
    another loop (or in a function called from a loop) is taken for the inner steps of an
    epoch and not flagged, unless its variable or budget names an epoch or the outer loop
    runs over a literal list of values (a sweep). Not flagged either: a loop whose turns
    each take the next slice of a stream (`start = step * width`: one pass over the data,
    not epochs; also the next window of a signal, `np.linspace(step * k, (step + 1) * k)`),
    a loop that leaves on `except OutOfRangeError`/`StopIteration` (the data, e.g.
    `dataset.repeat(3)`, sets its budget), a loop that repeats whole trainings whose epoch loops are in the
    functions it calls (trials, seeds), an estimator that only learns through
    `partial_fit` or is only loaded (`load_model`), and one whose budget a search grid
    sets (`GridSearchCV(XGBRegressor(), {"n_estimators": [...]})`).
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
    invent: the message says what to add. No Keras fix when the code reads the returned
    history by the fixed epoch count (`range(epochs)`, `history.history["acc"][epochs - 1]`,
    `len(...) == epochs`), which a shorter run would break; no `early_stopping=True` for
    an estimator that is also trained with `partial_fit` (scikit-learn refuses it there).

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
        ("backward", "torch"),
        ("minimize", "tensorflow"),
        # TensorFlow 1: a session running a training op it is handed (`sess.run(train_op)`).
        ("tensorflow", re.compile(r"sess\w*\.run\(")),
        ("nb_epoch", "keras"),
        "apply_gradients",
        "train_on_batch",
        "partial_fit",
        ("warm_start", "fit"),
        ("episode", "fit"),
        ("tf_agents", "train"),
        ("estimator", ".train("),
        ("contrib", "learn", "steps"),
        re.compile(r"epochs\s*=\s*1\b"),
        # A hand-written gradient update: `w -= lr * grad`, `w = w - 0.01 * grad`,
        # `v = momentum * v - learning_rate * g`, `w, b = update_weights(x, w, b, learnrate)`.
        # Three patterns, the last two behind the word they need (a substring search is far
        # cheaper than trying the pattern at every `-` of a docstring's underlines).
        re.compile(
            r"[-+]=?\s*\(?\s*(?:\w+\.)?(?:lr|learning_rate|LEARNING_RATE|learnrate|alpha|eta|step_size)\w*\s*\*"
        ),
        ("grad", re.compile(r"[-+]=?[^\n]*\*\s*\(?\s*\w*grad")),
        # The same update written with NumPy: `y_pred -= np.multiply(self.learning_rate, g)`.
        re.compile(
            r"[-+]=\s*(?:\w+\.)*multiply\(\s*(?:\w+\.)?(?:lr|learning_rate|LEARNING_RATE|learnrate|alpha|eta|step_size)"
        ),
        *((word, _RATE_ARGUMENT) for word in ("lr)", "rate)")),
    )
    # A loop that trains through a function or class of another module of the project:
    # the file imports something named for training (`train_epoch`, `Trainer`).
    project_triggers = (("torch", IMPORTS_TRAINING),)

    @classmethod
    def may_flag_across_files(cls, tree, project) -> bool:
        return imports_training_code(tree, project)

    def __init__(self, context, options=None) -> None:
        super().__init__(context, options)
        self._epoch_loops = EpochLoops(context)
        self._keras = any(context.semantic.imports_module(name) for name in KERAS_MODULES)
        self._tensorflow = context.semantic.imports_module("tensorflow") or context.semantic.imports_module(
            "tensorflow_estimator"
        )

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
                check_sklearn(self, node, last)
            elif top == "xgboost" and last in XGB_ESTIMATORS:
                check_xgb_estimator(self, node, last)
            elif qualified in XGB_TRAIN or qualified in XGB_CV:
                check_xgb_train(self, node, cross_validated=qualified in XGB_CV)
            elif top == "lightgbm" and last in LGBM_ESTIMATORS:
                check_lgbm_estimator(self, node, last)
            elif qualified in LGB_TRAIN or qualified in LGB_CV:
                check_lgb_train(self, node, cross_validated=qualified in LGB_CV)
            elif top == "catboost" and last in CATBOOST_ESTIMATORS:
                check_catboost(self, node, last)
            elif qualified in LIGHTNING_TRAINERS:
                check_lightning(self, node)
            elif qualified in HF_TRAINERS or (top == "trl" and last.endswith("Trainer")):
                check_hf_trainer(self, node, last)
            return
        if self._tensorflow and isinstance(func, cst.Attribute) and func.attr.value in ("train", "fit"):
            check_estimator_train(self, node)
        if self._keras and isinstance(func, cst.Attribute) and func.attr.value in ("fit", "fit_generator"):
            check_keras_fit(self, node)

    # -- hand-written loops: recorded here, decided once the file's functions are known ---
    def visit_For(self, node: cst.For) -> None:
        self._epoch_loops.add(node, self.min_epochs)

    def visit_While(self, node: cst.While) -> None:
        self._epoch_loops.add(node, self.min_epochs)

    def leave_Module(self, original_node: cst.Module) -> None:
        for loop, budget in self._epoch_loops.unstopped(original_node):
            unit = loop_unit(self.context, loop)
            kind = training_kind(self.context, loop)
            every = "every epoch" if unit == "epochs" else f"every few hundred {unit}"
            if kind == "rl":
                # Reinforcement learning has no held-out set: its stop is the return.
                why, advice = (
                    "no stop on the return",
                    "track the average return over the last episodes and `break` once it has "
                    "reached the task's target or stopped improving for a while.",
                )
            elif kind == "gan":
                # A GAN's losses chase each other: no validation loss says when to stop.
                why, advice = (
                    "no stop on the quality of the samples",
                    f"score the generated samples {every} (FID against real images, or an "
                    "eye on a fixed batch) and `break` once they have stopped improving, or "
                    f"train fewer {unit}.",
                )
            elif kind == "style":
                # Style transfer fits one image: there is nothing to hold out.
                why, advice = (
                    "no stop on the loss",
                    f"`break` once the style and content loss has not decreased by more than a "
                    f"small tolerance for a few {unit}.",
                )
            elif kind == "objective":
                # A closure minimised by `optimizer.step(closure)` (LBFGS): one objective.
                why, advice = (
                    "no stop on the loss",
                    f"`break` once the loss the closure returns has not decreased by more than a "
                    f"small tolerance for a few {unit}.",
                )
            else:
                why, advice = (
                    "no validation-based stop",
                    f"evaluate on held-out data {every} and `break` once the validation loss has "
                    f"not improved for a few {unit} (the patience), keeping the best weights; "
                    "without held-out data, stop once the training loss has stopped decreasing "
                    "by more than a tolerance.",
                )
            header = loop.iter if isinstance(loop, cst.For) else loop.test
            origin = self._epoch_loops.origins.get(id(loop)) or budget_origin(self.context, header)
            self.report(
                loop,
                f"This loop trains all {shown_budget(budget)} {unit}{origin} with {why}: {advice}",
                end_node=header,
            )
