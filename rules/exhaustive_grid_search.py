"""GL103 exhaustive-grid-search: scikit-learn's exhaustive searches (`_search_sklearn`) and
hand-written grid searches, loops over literal hyper-parameter values that train
(`_search_grid_loops`)."""

from __future__ import annotations

import re
from math import prod

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._loops import TrainingFunctions
from green_lint.rules._search_grid_loops import GridLoops, Level
from green_lint.rules._search_prefilter import may_hold_search
from green_lint.rules._search_results_shape import reads_results_by_shape
from green_lint.rules._search_sklearn import GRID_SEARCH, PARAMETER_GRID, folds, grid_size, halving_fix
from green_lint.rules._syntax import DEFINITIONS, argument, walk
from green_lint.semantic.scopes import COMPREHENSIONS

_LOOP = r"\bfor\s+[\w, ()]+\s+in\s"
_NESTED_FOR = r"([ \t]*)for\s[^\n]*\n(?:(?:\{0}[ \t]+\S[^\n]*|[ \t]*)\n){{0,30}}?\{0}[ \t]+for\s"
# What a hand-written grid looks like: a `for` statement with another `for` statement
# inside it (more indented, within 30 lines), two `for` clauses on one line (a
# comprehension), or a product. Each alternative starts with a literal (a line break,
# `for`, `product`), the word boundary checked after it: `re` then scans for the literals
# instead of trying every position.
NESTED_LOOPS = re.compile(
    r"\n"
    + _NESTED_FOR.format(1)  # its indentation is group 1
    + r"|\A"
    + _NESTED_FOR.format(2)
    + r"|for(?<=\bfor)"
    + _LOOP[len(r"\bfor") :]
    + r"[^\n]*"
    + _LOOP
    + r"|product\((?<=\bproduct\()"
)
ADVICE = (
    "training a model each time: use Optuna with a pruner, HalvingGridSearchCV or "
    "random search, which try far fewer candidates or stop the bad ones early."
)


class ExhaustiveGridSearch(Rule):
    """
    ## What it does
    Flags exhaustive hyper-parameter searches: scikit-learn's `GridSearchCV` and
    iteration over `ParameterGrid`, however they are imported, and grid searches written
    by hand: a `for` loop over `itertools.product(...)` of literal value lists, or two or
    more nested `for` loops over literal lists, tuples or ranges of hyper-parameter
    values (also as the `for` clauses of a list, set, dict or generator comprehension,
    or a loop around one), whose body trains a model (`.fit(`, `.train(...)`, `.backward()`, a
    `Trainer(...)`, `xgb.train`/`lgb.train`, `cross_val_score`, or a function of the same
    file that does one of these). One finding per search, on the outer loop header.
    `RandomizedSearchCV`, `HalvingGridSearchCV` and `HalvingRandomSearchCV` are not
    flagged.

    A loop counts as a hyper-parameter level only when its variable reaches a model: as a
    keyword argument (`SVC(C=c)`), a positional argument of a function or class
    (`train(lr, bs)`, `nn.Linear(4, width)`; not of a method, whose positional arguments
    are data, nor of print/logging/append), a dict value (`{"lr": lr}`), an attribute or
    item assignment (`cfg.lr = lr`), or as the estimator fitted (`for model in [...]:
    model.fit(...)`). So an epoch/batch loop (`for epoch in range(10): for i in
    range(100): ... X[i] ...`) is not mistaken for a search, and a product or nested loop
    that trains nothing is not a search. A product or nest must vary at least two values
    (a one-value list varies nothing). The value lists may be named (`Cs = [...]` then
    `for C in Cs:`), parameter defaults, `self.Cs` set in the class or `args.Cs` with an
    argparse default. A `GridSearchCV` or `ParameterGrid` whose grid holds one candidate
    (`{}`, or every list of length one) is not a search and is not flagged.

    ## Why it wastes energy
    An exhaustive grid fits every candidate on every fold with all the data: the cost is
    the product of the number of values of every parameter, times the folds. Most
    candidates are clearly bad after a fraction of the data. Successive halving
    (`HalvingGridSearchCV`) evaluates all candidates on a small budget and gives more
    data only to the best ones, and Bayesian optimisation (Optuna) needs far fewer
    trials. Bayesian optimisation "significantly dominates" grid and random search on
    energy (Yarally et al., CAIN'23), and Hyperband, the bandit form of successive
    halving, gives "over an order-of-magnitude speedup" (Li et al.).

    ## Example
    ```python
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(SVC(), {"C": [0.1, 1, 10, 100], "gamma": [1e-3, 1e-2, 1e-1]}, cv=5)
    search.fit(X, y)  # 12 candidates x 5 folds = 60 fits on all the data

    for lr, batch_size in itertools.product([1e-1, 1e-2, 1e-3], [32, 64]):
        train(lr=lr, batch_size=batch_size)  # all 3 x 2 = 6 trainings, each to the end
    ```

    ## Use instead
    ```python
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    search = HalvingGridSearchCV(SVC(), {"C": [0.1, 1, 10, 100], "gamma": [1e-3, 1e-2, 1e-1]}, cv=5)
    search.fit(X, y)
    ```
    Or `HalvingRandomSearchCV`, or an Optuna study with a pruner (for the loops):
    ```python
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        batch_size = trial.suggest_categorical("batch_size", [32, 64])
        return train(lr=lr, batch_size=batch_size, trial=trial)  # reports and prunes

    optuna.create_study(pruner=optuna.pruners.HyperbandPruner()).optimize(objective, n_trials=4)
    ```

    ## Fix safety
    Unsafe: successive halving may pick a different best candidate than the full grid
    (the point is to spend less on the losers), and it scores on subsamples early on.
    No fix when the call uses arguments halving does not take (`pre_dispatch`), several
    scorers, or a non-boolean `refit`, nor when the file reads `cv_results_` by its shape
    (halving's has one row per candidate per iteration, not one per grid point): a
    `.reshape(...)`, `.pivot(...)` or `len(...)` of a results column, or a column plotted or
    zipped against the grid's own value lists. No fix for `ParameterGrid` and hand-written loops:
    how to search instead depends on the training code.

    ## Evidence
    - Yarally, Cruz, Feitosa, Sallou, van Deursen, "Uncovering energy-efficient practices
      in deep learning training" (CAIN 2023): Bayesian optimisation dominates grid and
      random search on energy. https://arxiv.org/abs/2303.13972
    - Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
      Optimization": over an order-of-magnitude speedup (in time, against Bayesian
      optimisation baselines; not an energy measurement). https://arxiv.org/abs/1603.06560
    - scikit-learn, "Successive Halving Iterations" and `HalvingGridSearchCV`, which needs
      `from sklearn.experimental import enable_halving_search_cv`.
      https://scikit-learn.org/stable/modules/grid_search.html#successive-halving-user-guide
    - The saving depends on how many candidates are bad and how early that shows: measure
      it on your code with `green-lint verify`.
    """

    code = "GL103"
    needs = (TrainingFunctions,)
    name = "exhaustive-grid-search"
    summary = "Exhaustive grid search fits every candidate on all the data; halve or sample instead"
    fix_safety = "unsafe"
    # The hand-written searches need a training call: its name is in the file.
    triggers = (
        "GridSearchCV",
        "ParameterGrid",
        # A hand-written search: nested loops (or a product) that train. The substring
        # first: it is cheaper than the regex, and most files stop there.
        *(
            (training, loop)
            for loop in (NESTED_LOOPS, "itertools")
            for training in ("fit(", "train(", "backward(", "cross_val", ".cv(", "Trainer(")
        ),
    )

    @classmethod
    def may_flag(cls, tree, text: str, project_function=None) -> bool:
        return may_hold_search(tree, text)

    def visit_Module(self, node: cst.Module) -> None:
        self._loops = GridLoops(self.context)
        # Outer loops already analysed: the loops inside them belong to their search.
        self._analysed: set[int] = set()
        self._results_by_shape: bool | None = None  # computed for the first GridSearchCV

    # -- hand-written searches --------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        self._search(node, end=node.iter)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._search(node)

    visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_ListComp

    def _search(self, node: cst.CSTNode, end: cst.CSTNode | None = None) -> None:
        if not _nests_loops(node):
            return  # one loop varies one value: no search, and reading values is not free
        for ancestor in self.context.ancestors():
            if isinstance(ancestor, DEFINITIONS):
                break
            if id(ancestor) in self._analysed:
                return  # part of the search of an enclosing loop
        level = self._loops.level_of(node)
        if level is None:
            return
        self._analysed.add(id(node))
        paths = self._loops.training_paths(level)
        # A search varies at least two values (a one-value list varies nothing).
        if not any(sum(1 for count in path if count != 1) >= 2 for path in paths):
            return
        comprehension = isinstance(node, COMPREHENSIONS)
        self.report(node, _loop_message(level, paths, comprehension), end_node=end)

    # -- scikit-learn searches ----------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if self.context.resolves_to(node.func, GRID_SEARCH):
            self._report_grid_search(node)
        elif self.context.resolves_to(node.func, PARAMETER_GRID):
            size = grid_size(argument(node, 0, "param_grid"), self.context)
            if size is not None and size <= 1:
                return  # one candidate (or none): nothing is searched
            what = f"all {size} candidates" if size else "every candidate"
            self.report(
                node,
                f"ParameterGrid enumerates {what} of the grid, each trained in full: use "
                "HalvingGridSearchCV (successive halving) or an Optuna study with a pruner, "
                "which drop bad candidates early.",
            )

    def _report_grid_search(self, node: cst.Call) -> None:
        size = grid_size(argument(node, 1, "param_grid"), self.context)
        if size is not None and size <= 1:
            return  # one candidate (or none): a cross-validated fit, not a search
        fold_count = folds(argument(node, None, "cv"))
        if size and fold_count:
            cost = (
                f"fits all {size} candidates x {fold_count} folds = {size * fold_count} fits on all the data"
            )
        elif size:
            cost = f"fits all {size} candidates on every fold with all the data"
        else:
            cost = "fits every candidate on every fold with all the data"
        message = (
            f"GridSearchCV {cost}: use HalvingGridSearchCV (successive halving gives the "
            "full data only to the best candidates) or HalvingRandomSearchCV."
        )
        self.report(node, message, fix=self._fix(node))

    def _fix(self, node: cst.Call):
        # Halving's `cv_results_` has one row per candidate per iteration: code that reads
        # the results as a grid (reshape, row count, plotted against the grid's lists)
        # would break or mislabel after the fix.
        if self._results_by_shape is None:
            self._results_by_shape = reads_results_by_shape(self.context)
        return None if self._results_by_shape else halving_fix(self.context, node)


def _loop_message(root: Level, paths: list[list[int | None]], comprehension: bool) -> str:
    if len(paths) == 1 and paths[0] == root.dims and root.product:
        subject, verb = "itertools.product", "tries"
    elif comprehension:
        subject, verb = "This comprehension", "tries"
    else:
        subject, verb = "Nested loops", "try"
    known = all(None not in path for path in paths)
    if known and len(paths) == 1:
        dims = paths[0]
        return f"{subject} {verb} all {' x '.join(map(str, dims))} = {prod(dims)} combinations, {ADVICE}"
    if known:
        total = sum(prod(path) for path in paths)
        return f"{subject} {verb} all {total} combinations of hyper-parameter values, {ADVICE}"
    return f"{subject} {verb} every combination of the hyper-parameter values, {ADVICE}"


def _nests_loops(node: cst.CSTNode) -> bool:
    """A `for` statement or a comprehension with another loop inside it (or over a
    `product(...)`): a search varies at least two values."""
    if isinstance(node, cst.For):
        if isinstance(node.iter, cst.Call):
            return True  # maybe `itertools.product(...)`: the level reads it
        body = node.body
    else:
        if node.for_in.inner_for_in is not None or isinstance(node.for_in.iter, cst.Call):
            return True
        body = node
    own_clause = getattr(node, "for_in", None)
    return any(
        isinstance(inner, cst.For | cst.CompFor) and inner is not own_clause
        for inner in walk(body, enter_definitions=False)
    )
