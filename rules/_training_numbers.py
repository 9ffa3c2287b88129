"""A training budget (`epochs=EPOCHS`, `range(1, args.epochs + 1)`) resolved to a number
through literals, constants, dict literals and `argparse` defaults."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.rules._syntax import assignment_targets, calls_in, string_value


class Numbers:
    """Resolves an expression to a number: literals, `-x`, `+ - * //` of numbers, names
    with one assigned value (current function, else module), `d["key"]` of a dict
    literal, and `args.name` where `args` comes from `parse_args()` and the file has an
    `add_argument("--name", default=N)`. Anything else is unknown (None)."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    def resolve(self, node: cst.BaseExpression | None) -> float | None:
        found = self._resolve(node)
        if found is None and node is not None:
            # The semantic model follows what this does not: the assignment that reaches
            # this use, parameter defaults with the file's call-site arguments, `self.x`.
            value = self.context.values.constant(node)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        return found

    def _resolve(self, node: cst.BaseExpression | None, depth: int = 0) -> float | None:
        if node is None or depth > 8:
            return None
        if isinstance(node, cst.Integer):
            return int(node.value.replace("_", ""), 0)
        if isinstance(node, cst.Float):
            return float(node.value.replace("_", ""))
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus | cst.Plus):
            value = self._resolve(node.expression, depth + 1)
            if value is None:
                return None
            return -value if isinstance(node.operator, cst.Minus) else value
        if isinstance(node, cst.BinaryOperation):
            left = self._resolve(node.left, depth + 1)
            right = self._resolve(node.right, depth + 1)
            if left is None or right is None:
                return None
            operator = node.operator
            if isinstance(operator, cst.Add):
                return left + right
            if isinstance(operator, cst.Subtract):
                return left - right
            if isinstance(operator, cst.Multiply):
                return left * right
            if isinstance(operator, cst.FloorDivide) and right:
                return left // right
            return None
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value in ("int", "float")
        ):
            if len(node.args) == 1 and not node.args[0].keyword and not node.args[0].star:
                return self._resolve(node.args[0].value, depth + 1)
            return None
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return None
            value = self.context.single_value(node)
            if value is None or value is node:
                return None
            return self._resolve(value, depth + 1)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, depth)
        if isinstance(node, cst.Attribute):
            found = self._argparse_value(node)
            if found is None and isinstance(node.value, cst.Name) and node.value.value == "self":
                found = self._self_value(node, depth)
            return found
        return None

    def _self_value(self, node: cst.Attribute, depth: int) -> float | None:
        """`self.num_epochs` set in the class to something this resolves and the semantic
        model does not (`self.num_epochs = args.epochs` with `args` a parameter)."""
        values = self.context.values.expressions(node)
        if values == [node]:
            return None
        found = {self._resolve(value, depth + 1) for value in values}
        return found.pop() if len(found) == 1 else None

    def _subscript(self, node: cst.Subscript, depth: int) -> float | None:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        key = string_value(node.slice[0].slice.value)
        container = self.context.single_value(node.value) if isinstance(node.value, cst.Name) else None
        if key is None or not isinstance(container, cst.Dict):
            return None
        if mutated(self.context, node.value.value):
            return None
        for element in container.elements:
            if isinstance(element, cst.DictElement) and string_value(element.key) == key:
                return self._resolve(element.value, depth + 1)
        return None

    def _argparse_value(self, node: cst.Attribute) -> float | None:
        """The default of `args.name` when `args` is the result of `parse_args()` (or is not
        assigned in the file, as in `def main(args)` or `args, _ = parse_known_args()`)."""
        receiver = node.value
        if not isinstance(receiver, cst.Name) or receiver.value in ("self", "cls"):
            return None
        assigned = [
            binding.value
            for binding in self.context.semantic.binding_of(receiver)
            if binding.kind == "assignment" and not binding.element and binding.value is not None
        ]
        if assigned and (len(assigned) != 1 or not _is_parse_args(assigned[0])):
            return None
        default = self.context.values.calls.argparse_default(node.attr.value)
        return _literal_number(default) if default is not None else None


def _literal_number(node: cst.BaseExpression) -> float | None:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    if isinstance(node, cst.Float):
        return float(node.value.replace("_", ""))
    return None


def _is_parse_args(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Subscript):  # parser.parse_known_args()[0]
        node = node.value
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("parse_args", "parse_known_args")
    )


def mutated(context: RuleContext, name: str) -> bool:
    """Whether `name` (a dict or list) is changed in place in the current scope."""
    scope = context.scope()
    for call in calls_in(scope):
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == name
            and func.attr.value in ("update", "setdefault", "pop", "__setitem__")
        ):
            return True
    for statement in statements_of(scope, enter_definitions=False):
        for target in assignment_targets(statement):
            if (
                isinstance(target, cst.Subscript)
                and isinstance(target.value, cst.Name)
                and target.value.value == name
            ):
                return True
    return False
