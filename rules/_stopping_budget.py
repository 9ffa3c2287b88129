"""What every GL102 detector reads of a training call: its budget, whether a stopping
setting is given, and the later calls made on the object a constructor builds."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._syntax import calls_in, is_none
from green_lint.rules._training_numbers import Numbers


def budget_of(numbers: Numbers, node: cst.BaseExpression | None, default: float | None) -> float | None:
    """The number of epochs or rounds `node` sets; `default` when it is absent or None."""
    if node is None:
        return default
    if is_none(node):
        return default
    return numbers.resolve(node)


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
    if not (isinstance(parent, cst.Assign | cst.AnnAssign)):
        return []
    targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
    names = {t.value for t in targets if isinstance(t, cst.Name)}
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
