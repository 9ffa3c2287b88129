"""Private helpers of the search and training-loop rules (GL103, GL104, GL105).

What "trains a model" means for a call, which functions of the file train, walks over a subtree that stay out of nested definitions (on the
engine's fast read-only walk), and small value helpers. No rule lives here.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import DEFINITIONS, has_keyword
from green_lint.walk import children

# Library calls that train one or several models each time they run.
LIBRARY_TRAINING = frozenset(
    {
        "xgboost.train",
        "xgboost.cv",
        "lightgbm.train",
        "lightgbm.cv",
        "catboost.train",
        "catboost.cv",
        "sklearn.model_selection.cross_val_score",
        "sklearn.model_selection.cross_validate",
        "sklearn.model_selection.cross_val_predict",
        "sklearn.model_selection.learning_curve",
        "sklearn.model_selection.validation_curve",
        "torch.autograd.backward",
    }
)
FIT_METHODS = frozenset({"fit", "fit_generator", "partial_fit"})


# -- walks ------------------------------------------------------------------------------
def nodes_of(
    root: cst.CSTNode, *types: type[cst.CSTNode], enter_definitions: bool = False
) -> list[cst.CSTNode]:
    """The nodes of `types` in `root` (root included), in source order; nested functions,
    classes and lambdas are not entered unless asked (the root itself always is)."""
    return [
        node
        for node, _ in walk_with_parents(root, enter_definitions=enter_definitions)
        if isinstance(node, types)
    ]


def walk_with_parents(
    root: cst.CSTNode, *, enter_definitions: bool = False
) -> Iterator[tuple[cst.CSTNode, cst.CSTNode | None]]:
    """(node, parent) for every code-carrying node of `root`, parents first, in source
    order, without entering nested definitions unless asked. Uses the engine's read-only
    walk: libcst's `visit` rebuilds every node it passes."""
    pending: list[tuple[cst.CSTNode, cst.CSTNode | None]] = [(root, None)]
    while pending:
        node, parent = pending.pop()
        yield node, parent
        if node is root or enter_definitions or not isinstance(node, DEFINITIONS):
            pending.extend((child, node) for child in reversed(list(children(node))))


def calls_of(root: cst.CSTNode) -> list[cst.Call]:
    return nodes_of(root, cst.Call)  # type: ignore[return-value]


# -- the file's own functions -------------------------------------------------------------
class TrainingFunctions:
    """Which functions of the file train a model, each answered once per file. A call's
    function is the def its name stands for where it is called (`CallGraph.target`):
    a def elsewhere with the same name, or a method, is not it."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self._trains: dict[int, bool] = {}

    def called(self, call: cst.Call) -> cst.FunctionDef | None:
        """The def of the file `call` runs when it calls a plain name."""
        if not isinstance(call.func, cst.Name):
            return None
        return self.context.values.calls.target(call)

    def trains(self, function: cst.FunctionDef) -> bool:
        """Whether `function` trains a model (fits, trains, calls backward or an optimizer
        step, or calls a function of the file that does)."""
        key = id(function)
        if key not in self._trains:
            self._trains[key] = False  # guard against recursion
            self._trains[key] = any(
                training_call(self.context, call, self) is not None for call in calls_of(function)
            )
        return self._trains[key]


# -- what trains ----------------------------------------------------------------------------
def training_call(context: RuleContext, call: cst.Call, functions: TrainingFunctions) -> str | None:
    """The kind of training `call` does ("backward", "step", "fit", "train", "trainer",
    "library", "function"), or None when it trains nothing we know of."""
    func = call.func
    if isinstance(func, cst.Attribute):
        attr = func.attr.value
        if attr == "backward":
            return "backward"
        if attr in FIT_METHODS:
            return "fit"
        if attr == "train" and (_train_with_data(call) or _is_trainer(context, func.value)):
            return "train"
        if attr == "step" and is_optimizer(context, func.value):
            return "step"
    qualified = context.qualified_name(func)
    if qualified in LIBRARY_TRAINING:
        return "library"
    if _trainer_name(qualified):
        return "trainer"
    called = functions.called(call)
    if called is not None and functions.trains(called):
        return "function"
    return None


def _train_with_data(call: cst.Call) -> bool:
    """`xgb.train(params, dtrain)`, `model.train(X, y)`; not `module.train()` /
    `module.train(False)` / `module.train(mode=True)`, which only set the mode."""
    if not call.args:
        return False
    if has_keyword(call, "mode"):
        return False
    if len(call.args) == 1:
        value = call.args[0].value
        if isinstance(value, cst.Name) and value.value in ("True", "False"):
            return False
    return True


def _trainer_name(qualified: str | None) -> bool:
    if not qualified or qualified.startswith("builtins."):
        return False
    return qualified.rsplit(".", 1)[-1].endswith("Trainer")


def _is_trainer(context: RuleContext, receiver: cst.BaseExpression) -> bool:
    value = context.single_value(receiver)
    return isinstance(value, cst.Call) and _trainer_name(context.qualified_name(value.func))


def is_optimizer(context: RuleContext, receiver: cst.BaseExpression) -> bool:
    value = context.single_value(receiver)
    if not isinstance(value, cst.Call):
        return False
    qualified = context.resolves_under(value.func, "torch.optim")
    return qualified is not None and not qualified.startswith("torch.optim.lr_scheduler")
