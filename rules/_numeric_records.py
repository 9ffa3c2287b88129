"""GL203 on per-record loops: `for x, y in zip(features, targets):` over the rows of NumPy
arrays, computing each record's forward pass and gradient with NumPy and adding it into an
array accumulator (`del_w += error * x`). One matrix product over all the records does the
whole epoch: `error = y - sigmoid(X @ w); del_w = X.T @ error`.

The loop is taken only when it does nothing else: assignments of names computed from the
records (NumPy calls, arithmetic, the file's own formula functions called with them) and
`+=`-style updates of names that hold NumPy arrays, with at least one NumPy call on a
record. A loop that trains a model, prints, appends or zips anything but arrays is left
alone; so is a loop whose accumulator is a plain number (a loss summed for a log)."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import block_statements, names_in, walk
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_loop_scan import array_label
from green_lint.rules._numeric_vocabulary import ARITHMETIC, is_builtin

EXPRESSIONS = (
    cst.Name,
    cst.Integer,
    cst.Float,
    cst.Attribute,
    cst.Subscript,
    cst.BinaryOperation,
    cst.UnaryOperation,
    cst.Call,
    cst.Tuple,
)


class RecordLoop:
    """`found` when a `for x, y in zip(arrays...)` loop only computes on its records and
    accumulates into arrays; `arrays_used` names what it zips."""

    def __init__(self, context: RuleContext, arrays: Arrays, scope: cst.CSTNode) -> None:
        self.context = context
        self.arrays = arrays
        self.scope = scope
        self.records: set[str] = set()  # the loop's targets and the names computed from them
        self.arrays_used: set[str] = set()
        self.accumulates = False
        self.numpy_on_record = False
        self.foreign = False

    @property
    def found(self) -> bool:
        return not self.foreign and self.accumulates and self.numpy_on_record

    def scan(self, loop: cst.For) -> None:
        if not self._zip_of_arrays(loop):
            return
        for statement in block_statements(loop.body):
            if self.foreign:
                return
            self._statement(statement)

    def _zip_of_arrays(self, loop: cst.For) -> bool:
        target, iterable = loop.target, loop.iter
        if loop.orelse is not None or not isinstance(target, cst.Tuple):
            return False
        if not (isinstance(iterable, cst.Call) and is_builtin(self.context, iterable.func, "builtins.zip")):
            return False
        names = [element.value for element in target.elements]
        if len(names) != len(iterable.args) or not all(isinstance(name, cst.Name) for name in names):
            return False
        if any(arg.keyword is not None or arg.star for arg in iterable.args):
            return False
        for name, arg in zip(names, iterable.args, strict=True):
            self.records.add(name.value)
            if self.arrays.is_array_expr(arg.value, self.scope):
                self.arrays_used.add(array_label(arg.value))
        return bool(self.arrays_used)

    def _statement(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign) and all(isinstance(t.target, cst.Name) for t in node.targets):
            if not self._computes_on_records(node.value):
                self.foreign = True
                return
            self.records.update(t.target.value for t in node.targets)
        elif isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
            if not (
                self.arrays.is_array(node.target.value, self.scope) and self._computes_on_records(node.value)
            ):
                self.foreign = True  # a number summed for a log, or an accumulator of another kind
                return
            self.accumulates = True
        elif not isinstance(node, cst.Pass):
            self.foreign = True  # prints, appends, training calls, branches: more than arithmetic

    def _computes_on_records(self, expr: cst.BaseExpression) -> bool:
        """Reads a record, and is made of arithmetic and calls of NumPy or of the file's own
        functions (`sigmoid(np.dot(x, w))`, `error_term_formula(x, y, output)`)."""
        if not names_in(expr) & self.records:
            return False
        for node in walk(expr):
            if isinstance(node, cst.BinaryOperation) and not isinstance(node.operator, ARITHMETIC):
                return False
            if isinstance(node, cst.BaseExpression) and not isinstance(node, EXPRESSIONS):
                return False
            if isinstance(node, cst.Call) and not self._numeric_call(node):
                return False
        return True

    def _numeric_call(self, call: cst.Call) -> bool:
        if any(arg.star for arg in call.args):
            return False
        if self.context.resolves_under(call.func, "numpy") is not None:
            if any(names_in(arg.value) & self.records for arg in call.args):
                self.numpy_on_record = True
            return True
        # A function of the file (not a method, not an import): a formula.
        return isinstance(call.func, cst.Name) and isinstance(
            self.context.semantic.definition(call.func), cst.FunctionDef
        )
