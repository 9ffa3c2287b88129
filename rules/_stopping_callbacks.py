"""Does a `callbacks` argument (followed through a variable and what is added to it) hold
early stopping? For GL102 no-early-stopping."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import dotted_name, statements_of
from green_lint.rules._syntax import calls_in, is_none

STOPS, NONE, UNKNOWN = "stops", "none", "unknown"
# Assignments in a callback class of the file that stop training.
STOP_ATTRIBUTES = ("stop_training", "should_stop", "should_training_stop")


def callbacks_state(context: RuleContext, node: cst.BaseExpression | None, depth: int = 0) -> str:
    """Whether a `callbacks` argument holds early stopping: STOPS, NONE (known callbacks,
    none stops) or UNKNOWN (built somewhere this rule cannot see)."""
    if node is None or is_none(node):
        return NONE
    if depth > 4:
        return UNKNOWN
    if isinstance(node, cst.List | cst.Tuple):
        states = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                states.append(callbacks_state(context, element.value, depth + 1))
            else:
                states.append(_callback_state(context, element.value, depth + 1))
        return _combine(states)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _combine(
            [callbacks_state(context, node.left, depth + 1), callbacks_state(context, node.right, depth + 1)]
        )
    if isinstance(node, cst.Name):
        values = context.values.every_assignment(node)
        if not values:
            return UNKNOWN
        states = [callbacks_state(context, value, depth + 1) for value in values]
        states.extend(_added_callbacks(context, node.value, depth))
        return _combine(states)
    if isinstance(node, cst.Call):
        # A single callback (Lightning accepts one), or a function that builds the list.
        return _callback_state(context, node, depth + 1)
    return UNKNOWN


def _combine(states: list[str]) -> str:
    if STOPS in states:
        return STOPS
    if UNKNOWN in states:
        return UNKNOWN
    return NONE


def _added_callbacks(context: RuleContext, name: str, depth: int) -> list[str]:
    """Callbacks added to the list `name` by `append`/`extend`/`insert`/`+=`."""
    states = []
    scope = context.scope()
    for call in calls_in(scope):
        func = call.func
        if not (
            isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name
        ):
            continue
        if func.attr.value == "append" and call.args:
            states.append(_callback_state(context, call.args[0].value, depth + 1))
        elif func.attr.value == "insert" and len(call.args) == 2:
            states.append(_callback_state(context, call.args[1].value, depth + 1))
        elif func.attr.value == "extend" and call.args:
            states.append(callbacks_state(context, call.args[0].value, depth + 1))
    for statement in statements_of(scope, enter_definitions=False):
        if (
            isinstance(statement, cst.AugAssign)
            and isinstance(statement.target, cst.Name)
            and statement.target.value == name
        ):
            states.append(callbacks_state(context, statement.value, depth + 1))
    return states


def _callback_state(context: RuleContext, node: cst.BaseExpression, depth: int) -> str:
    if depth > 6:
        return UNKNOWN
    if isinstance(node, cst.Name):
        values = context.values.every_assignment(node)
        if not values:
            return UNKNOWN
        return _combine([_callback_state(context, value, depth + 1) for value in values])
    if not isinstance(node, cst.Call):
        return UNKNOWN
    func = node.func
    qualified = context.qualified_name(func)
    if qualified is not None and not qualified.startswith("builtins."):
        last = qualified.rsplit(".", 1)[-1]
        if "EarlyStopping" in last or last == "early_stopping" or "Pruning" in last:
            return STOPS
        return NONE
    # A class of the file, where the name means it (a callback written by the user).
    definition = context.semantic.definition(func)
    if isinstance(definition, cst.ClassDef):
        return STOPS if _class_stops(context, definition) else NONE
    return UNKNOWN


def _class_stops(context: RuleContext, definition: cst.ClassDef) -> bool:
    for base in definition.bases:
        qualified = context.qualified_name(base.value) or dotted_name(base.value) or ""
        if "EarlyStopping" in qualified:
            return True
    code = context.module.code_for_node(definition)
    return any(attribute in code for attribute in STOP_ATTRIBUTES)
