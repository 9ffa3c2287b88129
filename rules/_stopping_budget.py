"""What every GL102 detector reads of a training call: its budget, whether a stopping
setting is given, and the later calls made on the object a constructor builds."""

from __future__ import annotations

import os

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import calls_in, is_none, string_value
from green_lint.walk import walk


def budget_of(context: RuleContext, node: cst.BaseExpression | None, default: float | None) -> float | None:
    """The number of epochs or rounds `node` sets; `default` when it is absent or None."""
    if node is None:
        return default
    if is_none(node):
        return default
    return context.values.number(node)


def number_bounds(context: RuleContext, node: cst.BaseExpression) -> tuple[float, float] | None:
    """(smallest, largest) of the numbers `node` may be where it is used: one number, or
    several when a parameter's default and the file's call sites disagree
    (`def train(epochs=10)` called with `epochs=20`); None when one of them is unknown."""
    values = context.values.constants(node)
    if not values or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return None
    return min(values), max(values)


def shown_budget(bounds: tuple[float, float]) -> str:
    """A budget as the message shows it: `20`, or `10 to 20` when the call sites differ."""
    low, high = bounds
    return shown_count(low) if low == high else f"{shown_count(low)} to {shown_count(high)}"


def followups(context: RuleContext, node: cst.Call, methods: tuple[str, ...]) -> list[cst.Call]:
    """Calls of `methods` on the object `node` (the call being visited) builds: chained
    (`X(...).fit(...)`) or on the variable it is assigned to, in the same scope."""
    stack = context.stack
    parent = stack[-2] if len(stack) > 1 else None
    grandparent = stack[-3] if len(stack) > 2 else None
    if (
        isinstance(parent, cst.Attribute)
        and isinstance(grandparent, cst.Call)
        and parent.attr.value in methods
    ):
        return [grandparent]
    names = _assigned_names(context)
    found = []
    for call in calls_in(context.scope()):
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in methods
            and isinstance(func.value, cst.Name)
            and func.value.value in names
        ):
            found.append(call)
    return found


def is_set(value: cst.BaseExpression | None) -> bool:
    """Whether an early-stopping argument is set (present and not literally None)."""
    return value is not None and not is_none(value)


def shown_count(value: float) -> str:
    """A budget as the message shows it: `20`, not `20.0`."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _assigned_names(context: RuleContext) -> set[str]:
    """The names the call being visited is assigned to (`model = X(...)`)."""
    stack = context.stack
    parent = stack[-2] if len(stack) > 1 else None
    if not (isinstance(parent, cst.Assign | cst.AnnAssign)):
        return set()
    targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
    return {t.value for t in targets if isinstance(t, cst.Name)}


def no_run_of_its_own(context: RuleContext, node: cst.Call, budget_keys: tuple[str, ...]) -> bool:
    """Whether the estimator `node` builds runs no fixed budget of its own: it only learns
    through `partial_fit` (the caller's loop is the budget; scikit-learn refuses
    `early_stopping=True` there), it is only loaded (`load_model`), or it is handed to a
    search whose grid sets its budget (`{"n_estimators": [50, 100]}`)."""
    fits = followups(context, node, ("fit",))
    if not fits and followups(context, node, ("partial_fit", "load_model")):
        return True
    stack = context.stack
    if len(stack) > 2 and isinstance(stack[-2], cst.Arg) and isinstance(stack[-3], cst.Call):
        # Built in the search's own call: `GridSearchCV(XGBRegressor(), grid)`.
        return any(_grid_sets(context, arg.value, budget_keys) for arg in stack[-3].args)
    names = _assigned_names(context)
    if not names:
        return False
    for call in calls_in(context.scope()):
        passed = [arg.value for arg in call.args]
        if not any(isinstance(value, cst.Name) and value.value in names for value in passed):
            continue
        for value in passed:
            if _grid_sets(context, value, budget_keys):
                return True
    return False


def _grid_sets(context: RuleContext, node: cst.BaseExpression, keys: tuple[str, ...]) -> bool:
    """Whether `node` is (or names) a parameter grid, or a list of them, that sets one of
    `keys` (also as `step__key` in a pipeline)."""
    for value in context.values.expressions(node) if isinstance(node, cst.Name) else [node]:
        grids = [e.value for e in value.elements] if isinstance(value, cst.List | cst.Tuple) else [value]
        for grid in grids:
            if not isinstance(grid, cst.Dict):
                continue
            for element in grid.elements:
                key = string_value(element.key) if isinstance(element, cst.DictElement) else None
                if key is not None and key.rsplit("__", 1)[-1] in keys:
                    return True
    return False


def budget_origin(context: RuleContext, node: cst.CSTNode) -> str:
    """Where a budget read from another module of the project is set, for the message:
    ` (EPOCHS is set in config.py:3)`, or "" when it is set in this file."""
    for part in walk(node):
        found = context.values.imported_constant(part)
        if found is not None:
            where = found.path.name
            if context.source_path is not None:
                where = os.path.relpath(found.path, context.source_path.parent)
            return f" (`{context.code_for(part)}` is set in `{where}:{found.line}`)"
    return ""
