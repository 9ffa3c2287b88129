"""The whole-column form of a row loop or a row-wise `apply`, as GL201 suggests it: the
text of the column expression (or `np.where`) that does what the loop body does."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import block_statements, loop_body_lines, loop_bound_names, names_bound_in
from green_lint.rules._data_nodes import (
    is_literal,
    is_name,
    is_simple_reference,
    receiver_form,
    string_key,
    subscript_indices,
)
from green_lint.rules._rowloop_columns import (
    attribute_column,
    column_expression,
    column_of,
    label_access,
    row_leaf,
)
from green_lint.rules._rowloop_shapes import single_parameter
from green_lint.rules._syntax import code


class Suggestions:
    """Builds the suggested code for the loop or call being visited (None: no simple form)."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    def numpy(self) -> str:
        return self.context.semantic.local_name_for("numpy") or "np"

    def row_loop(
        self, site: cst.CSTNode, receiver: cst.BaseExpression, method: str, direct: bool
    ) -> str | None:
        target = site.target
        if method == "iterrows":
            if not (
                isinstance(target, cst.Tuple)
                and len(target.elements) == 2
                and all(isinstance(e.value, cst.Name) for e in target.elements)
            ):
                return None
            index_name, row_name = (e.value.value for e in target.elements)
        else:
            if not isinstance(target, cst.Name):
                return None
            index_name, row_name = None, target.value
        if not is_simple_reference(receiver):
            return None
        frame_code = code(receiver)

        def leaf(node: cst.BaseExpression) -> cst.BaseExpression | None:
            if isinstance(node, cst.Subscript) and method == "iterrows" and is_name(node.value, row_name):
                indices = subscript_indices(node)
                key = string_key(indices[0]) if indices and len(indices) == 1 else None
                return column_of(receiver, key) if key is not None else None
            if isinstance(node, cst.Attribute) and is_name(node.value, row_name):
                return attribute_column(receiver, node.attr.value)
            if index_name is not None:
                access = label_access(node, {index_name})
                if access is not None and code(access[0]) == frame_code:
                    return column_of(receiver, access[2])
            return None

        if isinstance(site, cst.For):
            bound = loop_bound_names(site)
            return self.body(loop_body_lines(site), leaf, bound, index_name)
        comprehension = next(
            (a for a in reversed(self.context.stack) if isinstance(a, cst.ListComp | cst.GeneratorExp)), None
        )
        if comprehension is None or comprehension.for_in is not site or site.inner_for_in or site.ifs:
            return None
        bound = names_bound_in(comprehension)
        column = column_expression(comprehension.elt, leaf, lambda name: name not in bound)
        if column is None:
            return None
        stack = self.context.stack
        position = stack.index(comprehension)
        if (
            isinstance(comprehension, cst.GeneratorExp)
            and position >= 2
            and isinstance(stack[position - 1], cst.Arg)
            and isinstance(stack[position - 2], cst.Call)
            and len(stack[position - 2].args) == 1
            and self.context.resolves_to(stack[position - 2].func, "builtins.sum")
        ):
            return f"{code(receiver_form(column))}.sum()"
        return f"{code(receiver_form(column))}.tolist()"

    def body(self, statements, leaf, bound: set[str], index_name: str | None) -> str | None:
        """The whole-column form of a one-statement loop body, as text."""
        if len(statements) != 1:
            return None
        statement = statements[0]

        def allow(name: str) -> bool:
            return name not in bound

        def convert(expr):
            return column_expression(expr, leaf, allow)

        if isinstance(statement, cst.Assign) and len(statement.targets) == 1 and index_name is not None:
            access = label_access(statement.targets[0].target, {index_name})
            value = convert(statement.value)
            if access is not None and value is not None:
                return f"{code(column_of(access[0], access[2]))} = {code(value)}"
        if (
            isinstance(statement, cst.AugAssign)
            and isinstance(statement.operator, cst.AddAssign)
            and isinstance(statement.target, cst.Name)
        ):
            value = convert(statement.value)
            if value is not None:
                return f"{statement.target.value} += {code(receiver_form(value))}.sum()"
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            call = statement.value
            if (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "append"
                and isinstance(call.func.value, cst.Name)
                and len(call.args) == 1
            ):
                value = convert(call.args[0].value)
                if value is not None:
                    return f"{call.func.value.value}.extend({code(receiver_form(value))}.tolist())"
        if isinstance(statement, cst.If) and index_name is not None:
            return self._conditional(statement, convert, index_name)
        return None

    def _conditional(self, statement: cst.If, convert, index_name: str) -> str | None:
        """`if C: df.at[i, "c"] = A [else: df.at[i, "c"] = B]` -> np.where / .loc[mask]."""

        def single_assignment(block):
            lines = block_statements(block)
            if len(lines) != 1 or not isinstance(lines[0], cst.Assign) or len(lines[0].targets) != 1:
                return None
            access = label_access(lines[0].targets[0].target, {index_name})
            return (access, lines[0].value) if access is not None else None

        condition = convert(statement.test)
        then = single_assignment(statement.body)
        if condition is None or then is None:
            return None
        (frame, _, key), then_value = then
        then_column = convert(then_value) or (then_value if is_literal(then_value) else None)
        if then_column is None:
            return None
        if statement.orelse is None:
            return f"{code(frame)}.loc[{code(condition)}, {key.value}] = {code(then_column)}"
        if not isinstance(statement.orelse, cst.Else):
            return None
        other = single_assignment(statement.orelse.body)
        if (
            other is None
            or code(other[0][0]) != code(frame)
            or other[0][2].evaluated_value != key.evaluated_value
        ):
            return None
        else_column = convert(other[1]) or (other[1] if is_literal(other[1]) else None)
        if else_column is None:
            return None
        return (
            f"{code(column_of(frame, key))} = {self.numpy()}.where({code(condition)}, "
            f"{code(then_column)}, {code(else_column)})"
        )

    def apply_fix(self, node: cst.Call, receiver, function) -> cst.BaseExpression | None:
        if not is_simple_reference(receiver) or not isinstance(function, cst.Lambda):
            return None
        row = single_parameter(function)
        if row is None or len(node.args) != 2 or any(arg.star for arg in node.args):
            return None
        return column_expression(function.body, row_leaf(receiver, row))

    def apply(self, receiver, function) -> str | None:
        if not is_simple_reference(receiver) or not isinstance(function, cst.Lambda):
            return None
        row = single_parameter(function)
        if row is None:
            return None
        leaf = row_leaf(receiver, row)

        def allow(name: str) -> bool:
            return name != row

        body = function.body
        if isinstance(body, cst.IfExp):
            parts = [column_expression(part, leaf, allow) for part in (body.test, body.body, body.orelse)]
            test = parts[0]
            values = [
                part if part is not None else (original if is_literal(original) else None)
                for part, original in zip(parts[1:], (body.body, body.orelse), strict=True)
            ]
            if test is not None and None not in values:
                return f"{self.numpy()}.where({code(test)}, {code(values[0])}, {code(values[1])})"
            return None
        column = column_expression(body, leaf, allow)
        return code(column) if column is not None else None
