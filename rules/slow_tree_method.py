"""GL206 slow-tree-method."""

from __future__ import annotations

import libcst as cst

from green_lint.rule import Fix, Rule
from green_lint.rules._syntax import argument, string_value, walk

# The xgboost estimators (also under xgboost.sklearn, xgboost.dask, xgboost.spark).
XGB_ESTIMATORS = frozenset(
    {
        "XGBClassifier",
        "XGBRegressor",
        "XGBRanker",
        "XGBRFClassifier",
        "XGBRFRegressor",
        "XGBModel",
        "DaskXGBClassifier",
        "DaskXGBRegressor",
        "DaskXGBRanker",
        "DaskXGBRFClassifier",
        "DaskXGBRFRegressor",
        "SparkXGBClassifier",
        "SparkXGBRegressor",
        "SparkXGBRanker",
    }
)
# Functions that take a params dict first.
XGB_TRAIN = frozenset(
    {"xgboost.train", "xgboost.training.train", "xgboost.cv", "xgboost.training.cv", "xgboost.dask.train"}
)
SLOW = "exact"
FAST = "hist"
WHY = (
    "makes XGBoost enumerate every value of every feature as a split candidate at each node "
    "(the exact greedy algorithm): much slower on large data than the histogram method, which "
    "bins each feature once (256 bins by default) and is XGBoost's default since 2.0"
)


class SlowTreeMethod(Rule):
    """
    ## What it does
    Flags XGBoost training set to the exact greedy split finder, `tree_method="exact"`:
    - in the constructor of an xgboost estimator (`XGBClassifier`, `XGBRegressor`,
      `XGBRanker`, the random-forest, Dask and Spark variants), also through
      `**{"tree_method": "exact"}`, and in `set_params(tree_method="exact")` on one;
    - in the params of `xgb.train(params, dtrain)`/`xgb.cv(...)`: a dict literal
      (`{"tree_method": "exact"}` or `dict(tree_method="exact")`) written in the call or
      assigned to the name passed to it;
    - in any dict literal of a file that imports xgboost with the entry
      `"tree_method": "exact"` (a params dict built apart from the call).

    Names resolve through the imports, so a class of your own named `XGBClassifier`
    never fires. Not flagged: `"hist"`, `"approx"`, `"auto"`, `"gpu_hist"`, a value the
    rule cannot read, and search spaces that list `"exact"` among other candidates.

    LightGBM has no counterpart to flag: it always grows its trees from feature
    histograms (there is no exact mode to switch off); a very large `max_bin` only makes
    the histograms finer.

    ## Why it wastes energy
    The exact method considers every distinct feature value as a split point: at each
    node it scans all the (pre-sorted) entries of every feature. The histogram method
    quantises each feature into at most `max_bin` (256) bins once, before training, and
    then finds splits by scanning the bins, with fewer memory accesses per node; it also
    parallelises better. XGBoost's documentation describes `exact` as computationally
    slower than the other tree methods and `hist` as the fastest, and made `hist` the
    default in 2.0. On small data the difference is small; on large tables it is the
    bulk of the training time, and training is where a boosting job spends its energy.

    ## Example
    ```python
    model = xgb.XGBClassifier(n_estimators=500, tree_method="exact")
    booster = xgb.train({"tree_method": "exact", "max_depth": 6}, dtrain, num_boost_round=500)
    ```

    ## Use instead
    ```python
    model = xgb.XGBClassifier(n_estimators=500, tree_method="hist")
    booster = xgb.train({"tree_method": "hist", "max_depth": 6}, dtrain, num_boost_round=500)
    ```
    Or leave `tree_method` out on XGBoost 2.0 and later: the default is `hist`.

    ## Fix safety
    Unsafe: `"exact"` becomes `"hist"`. The histogram method picks splits among bin
    boundaries instead of every value, so the trees, the predictions and the metrics
    change slightly (raise `max_bin` if they must stay closer), and a model tuned with
    `exact` may need its hyper-parameters checked. The fix edits the string literal where
    it is written; a value from a variable gets the advice only.

    ## Evidence
    - XGBoost documentation, "Tree Methods": `exact` "iterates over all entries of input
      data" during split finding and is "computationally slower in compared to other tree
      methods"; approximated methods exist because `exact` is slow and difficult to
      scale, and `hist`, which sketches the data once, is the fastest of them.
      https://xgboost.readthedocs.io/en/stable/treemethod.html
    - XGBoost 2.0 release notes: `hist` is the default tree method.
      https://github.com/dmlc/xgboost/releases/tag/v2.0.0 ; parameter reference:
      https://xgboost.readthedocs.io/en/stable/parameter.html
    - Chen and Guestrin, "XGBoost: A Scalable Tree Boosting System" (KDD 2016), section 3:
      the exact greedy algorithm and the approximate (bucketed) algorithm.
      https://arxiv.org/abs/1603.02754
    - LightGBM is histogram-based throughout: https://lightgbm.readthedocs.io/en/latest/Features.html
    - The saving depends on the size of the data; no published energy figure applies to
      a given job: measure yours with `green-lint verify`.
    """

    code = "GL206"
    name = "slow-tree-method"
    summary = 'XGBoost tree_method="exact" scans every value of every feature; use the histogram method'
    fix_safety = "unsafe"
    triggers = (("xgboost", "exact"),)

    def visit_Module(self, node: cst.Module) -> None:
        self._reported: set[int] = set()
        self._imports_xgboost = _imports(node, "xgboost")

    def visit_Call(self, node: cst.Call) -> None:
        context = self.context
        func = node.func
        qualified = context.resolves_under(func, "xgboost")
        if qualified is not None and qualified.rsplit(".", 1)[-1] in XGB_ESTIMATORS:
            self._check_keywords(node, f"in `{qualified.rsplit('.', 1)[-1]}(...)`")
            return
        if qualified is not None and qualified in XGB_TRAIN:
            params = argument(node, 0, "params")
            if isinstance(params, cst.Name):
                params = context.single_value(params)
            if isinstance(params, cst.Dict):
                self._check_dict(params)
            elif isinstance(params, cst.Call) and context.resolves_to(params.func, "builtins.dict"):
                self._check_keywords(params, "in the training params")
            return
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "set_params"
            and self._is_estimator(func.value)
        ):
            self._check_keywords(node, "in `set_params(...)`")

    def visit_Dict(self, node: cst.Dict) -> None:
        if self._imports_xgboost:
            self._check_dict(node)

    # -- the checks ----------------------------------------------------------------------
    def _check_keywords(self, call: cst.Call, where: str) -> None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "tree_method":
                self._check_value(arg.value, where)
            elif arg.star == "**":
                value = arg.value
                if isinstance(value, cst.Name):
                    value = self.context.single_value(value)
                if isinstance(value, cst.Dict):
                    self._check_dict(value)

    def _check_dict(self, node: cst.Dict) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement) and string_value(element.key) == "tree_method":
                self._check_value(element.value, "in the training params")

    def _check_value(self, value: cst.BaseExpression, where: str) -> None:
        literal = value
        if isinstance(value, cst.Name):
            literal = self.context.single_value(value)
        if string_value(literal) != SLOW or id(literal) in self._reported:
            return
        self._reported.add(id(literal))
        fix = None
        if literal is value and isinstance(value, cst.SimpleString):
            fix = Fix(
                f'Use tree_method="{FAST}"',
                {value: value.with_changes(value=value.value.replace(SLOW, FAST))},
                applicability="unsafe",
            )
        self.report(
            value,
            f'`tree_method="exact"` {where} {WHY}. Use tree_method="hist" (or leave it out on XGBoost 2.0+).',
            fix=fix,
        )

    def _is_estimator(self, receiver: cst.BaseExpression) -> bool:
        value = self.context.single_value(receiver) if isinstance(receiver, cst.Name) else receiver
        if not isinstance(value, cst.Call):
            return False
        qualified = self.context.resolves_under(value.func, "xgboost")
        return qualified is not None and qualified.rsplit(".", 1)[-1] in XGB_ESTIMATORS


def _imports(module: cst.Module, package: str) -> bool:
    """Whether an import anywhere in the file names `package` (`import xgboost as xgb`,
    `from xgboost import XGBClassifier`)."""
    for node in walk(module):
        if isinstance(node, cst.Import):
            if any(_dotted(alias.name).split(".")[0] == package for alias in node.names):
                return True
        elif (
            isinstance(node, cst.ImportFrom)
            and node.module is not None
            and _dotted(node.module).split(".")[0] == package
        ):
            return True
    return False


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return node.value if isinstance(node, cst.Name) else ""
