"""Is a loop nest numeric, and element-wise? GL203's walk over a `for i in range(...)` or
`while i < n: ... i += 1` loop: only numbers and arrays in it, and arithmetic on array
elements indexed by a loop variable."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import block_statements, names_in, walk
from green_lint.rules._data_nodes import COMPARISONS, is_name, is_number
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_vocabulary import (
    ARRAY_ATTRIBUTES,
    ARRAY_METHODS,
    BUILTIN_FUNCTIONS,
    MATH_FUNCTIONS,
    NUMBA_NUMPY_FUNCTIONS,
    calls_jitted,
    is_builtin,
    is_range,
)

# Loops over fewer elements than this (all bounds literal) are not worth a finding.
SMALL_TRIP_COUNT = 64


class LoopScan:
    """Walks a loop nest: only numbers and arrays in it (`numeric`), and arithmetic on
    array elements indexed by a loop variable (`elementwise`)."""

    def __init__(self, context: RuleContext, arrays: Arrays, scope: cst.CSTNode) -> None:
        self.context = context
        self.arrays = arrays
        self.scope = scope
        self.numeric = True
        self.loop_variables: set[str] = set()
        # The counter of a `while i < n:` loop, stepped by `i += 1`.
        self.counter: str | None = None
        self.arrays_used: set[str] = set()
        self.element_access = False
        self.element_reads = 0
        self.arithmetic = False

    def _is_container(self, node: cst.BaseExpression) -> bool:
        """A name assigned a dict, set or string (indexing it is not array arithmetic)."""
        if not isinstance(node, cst.Name):
            return False
        _, values = self.context.values.assignments(node.value, self.scope)
        return any(
            isinstance(v, cst.Dict | cst.DictComp | cst.SimpleString | cst.FormattedString)
            or (isinstance(v, cst.Call) and is_builtin(self.context, v.func, "builtins.dict", "builtins.str"))
            for v in values
        )

    @property
    def elementwise(self) -> bool:
        return self.element_access and self.arithmetic

    def check_loop(self, loop: cst.For | cst.While) -> None:
        for node in walk(loop):
            if isinstance(node, cst.For):
                if isinstance(node.target, cst.Name):
                    self.loop_variables.add(node.target.value)
                else:
                    self.numeric = False
        self._statement(loop)

    def _block(self, block: cst.BaseSuite) -> None:
        for statement in block_statements(block):
            self._statement(statement)

    def _statement(self, node: cst.CSTNode) -> None:
        if not self.numeric:
            return
        if isinstance(node, cst.For):
            if node.orelse is not None or not is_range(self.context, node.iter):
                self.numeric = False
                return
            for arg in node.iter.args:
                self._expr(arg.value)
            self._block(node.body)
        elif isinstance(node, cst.While):
            self._expr(node.test)
            self._block(node.body)
        elif isinstance(node, cst.If):
            self._expr(node.test)
            self._block(node.body)
            if isinstance(node.orelse, cst.If):
                self._statement(node.orelse)
            elif node.orelse is not None:
                self._block(node.orelse.body)
        elif isinstance(node, cst.Assign):
            reads = self.element_reads
            self._expr(node.value)
            writes = [self._target(target.target) for target in node.targets]
            if any(writes) and (self.element_reads > reads or self._scattered(node.value)):
                # `out[i] = a[i]` copies element by element, `out[i, y[i]] = 1` scatters a
                # constant: as wasteful as arithmetic.
                self.arithmetic = True
        elif isinstance(node, cst.Expr) and _is_print(self.context, node.value):
            self._expr(node.value)
        elif isinstance(node, cst.AugAssign):
            if not is_name(node.target, self.counter or ""):  # `i += 1` steps a while loop
                self.arithmetic = True
            self._target(node.target)
            self._expr(node.value)
        elif isinstance(node, cst.Return):
            if node.value is not None:
                self._expr(node.value)
        elif not isinstance(node, cst.Pass | cst.Break | cst.Continue):
            self.numeric = False

    def _scattered(self, value: cst.BaseExpression) -> bool:
        """A constant or a loop variable stored into an element: a fill or a scatter."""
        return is_number(value) or (isinstance(value, cst.Name) and value.value in self.loop_variables)

    def _target(self, target: cst.BaseExpression) -> bool:
        """Check an assignment target; True when it is an array element."""
        if isinstance(target, cst.Name):
            return False
        if isinstance(target, cst.Tuple):
            return any([self._target(element.value) for element in target.elements])
        root = subscript_root(target)
        if root is not None and self.arrays.is_array(root.value, self.scope):
            for subscript in subscript_chain(target):
                for element in subscript.slice:
                    self._slice(element.slice)
            return self._is_element(target)
        self.numeric = False
        return False

    def _is_element(self, node: cst.Subscript) -> bool:
        """`a[i]`, `a[i, j + 1]`, `a[i][j]`: a known array indexed (no slices) with loop
        variables."""
        root = subscript_root(node)
        if root is None or not self.arrays.is_array(root.value, self.scope):
            return False
        chain = subscript_chain(node)
        indices = [e.slice for subscript in chain for e in subscript.slice]
        if not all(isinstance(index, cst.Index) for index in indices):
            return False
        if any(self.arrays.is_array_expr(index.value, self.scope) for index in indices):
            return False  # `a[mask]`, `a[idx]`: a whole-array (fancy) index
        if not set().union(*(_index_names(subscript) for subscript in chain)) & self.loop_variables:
            return False
        self.element_access = True
        self.arrays_used.add(root.value)
        return True

    def _expr(self, node: cst.BaseExpression) -> None:
        if not self.numeric:
            return
        context = self.context
        if isinstance(node, cst.Name | cst.Integer | cst.Float):
            return
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.MatrixMultiply):
                self.numeric = False
                return
            self.arithmetic = True
            self._expr(node.left)
            self._expr(node.right)
        elif isinstance(node, cst.UnaryOperation):
            self._expr(node.expression)
        elif isinstance(node, cst.BooleanOperation):
            self._expr(node.left)
            self._expr(node.right)
        elif isinstance(node, cst.Comparison):
            if not all(isinstance(c.operator, COMPARISONS) for c in node.comparisons):
                self.numeric = False
                return
            self._expr(node.left)
            for comparison in node.comparisons:
                self._expr(comparison.comparator)
        elif isinstance(node, cst.IfExp):
            for part in (node.test, node.body, node.orelse):
                self._expr(part)
        elif isinstance(node, cst.Tuple):
            for element in node.elements:
                if isinstance(element, cst.StarredElement):
                    self.numeric = False
                    return
                self._expr(element.value)
        elif isinstance(node, cst.Subscript):
            if self._is_element(node):
                self.element_reads += 1
                for subscript in subscript_chain(node):
                    for element in subscript.slice:
                        self._slice(element.slice)
                return
            if self._is_container(node.value):
                self.numeric = False  # a dict or a string, not numbers
                return
            self._expr(node.value)
            for element in node.slice:
                self._slice(element.slice)
        elif isinstance(node, cst.Attribute):
            if isinstance(node.value, cst.Name) and node.attr.value in ARRAY_ATTRIBUTES:
                return
            if not (context.resolves_under(node, "numpy", "math")):
                self.numeric = False
        elif isinstance(node, cst.Call):
            if not self._numeric_call(node):
                self.numeric = False
                return
            for arg in node.args:
                if arg.star:
                    self.numeric = False
                    return
                self._expr(arg.value)
        else:
            self.numeric = False

    def _slice(self, node: cst.BaseSlice) -> None:
        if isinstance(node, cst.Index):
            self._expr(node.value)
        else:
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self._expr(part)

    def _numeric_call(self, node: cst.Call) -> bool:
        context = self.context
        func = node.func
        if is_builtin(context, func, *(f"builtins.{name}" for name in BUILTIN_FUNCTIONS)):
            return True
        if isinstance(func, cst.Name) and calls_jitted(self.context, func):
            return True
        qualified = context.resolves_under(func, "numpy", "math")
        if qualified is not None:
            module, _, name = qualified.partition(".")
            return name in (NUMBA_NUMPY_FUNCTIONS if module == "numpy" else MATH_FUNCTIONS)
        return (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in ARRAY_METHODS
            and self.arrays.is_array(func.value.value, self.scope)
        )


def while_counter(context: RuleContext, loop: cst.While) -> str | None:
    """`i` of `while i < n:` (or `<=`) whose body steps it once by `i += 1` at its top
    level and assigns it nowhere else: a range loop written by hand."""
    test = loop.test
    if not (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, cst.Name)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.LessThan | cst.LessThanEqual)
        and loop.orelse is None
    ):
        return None
    name = test.left.value
    steps = [statement for statement in block_statements(loop.body) if _steps_by_one(statement, name)]
    bindings = context.semantic.bindings_within(loop, name)
    # The one step is the only binding of the counter in the body.
    return name if len(steps) == 1 and [id(b.statement) for b in bindings] == [id(steps[0])] else None


def _steps_by_one(statement: cst.CSTNode, name: str) -> bool:
    return (
        isinstance(statement, cst.AugAssign)
        and is_name(statement.target, name)
        and isinstance(statement.operator, cst.AddAssign)
        and isinstance(statement.value, cst.Integer)
        and statement.value.value == "1"
    )


def is_small(context: RuleContext, loop: cst.CSTNode) -> bool:
    """All the loops of the nest run over few elements in total: ranges whose bounds are
    literal or names that fold to constants (`k = 10; for i in range(k)`), or literal
    lists and tuples (`for i, cm in enumerate(COLORMAP)` over 21 colours)."""
    if isinstance(loop, cst.While):
        return False  # a counter's bound is not read
    trips = 1
    for node in walk(loop):
        if isinstance(node, cst.For | cst.CompFor):
            if _counts_a_batch(context, node.iter):
                return False  # `range(batch_size)` runs again for every batch of the data
            count = constant_range_length(context, node.iter)
            if count is None:
                count = literal_length(context, node.iter)
            if count is None:
                return False
            trips *= count
    return trips < SMALL_TRIP_COUNT


def _counts_a_batch(context: RuleContext, node: cst.BaseExpression) -> bool:
    return is_range(context, node) and any(
        isinstance(name, cst.Name) and "batch" in name.value.lower()
        for arg in node.args
        for name in walk(arg.value)
    )


def literal_length(context: RuleContext, node: cst.BaseExpression) -> int | None:
    """The number of elements of a literal list, tuple or set iterated (or enumerated),
    written out or through a name whose every value is one and that nothing appends to."""
    if (
        isinstance(node, cst.Call)
        and is_builtin(context, node.func, "builtins.enumerate")
        and node.args
        and node.args[0].keyword is None
        and not node.args[0].star
    ):
        node = node.args[0].value
    if isinstance(node, cst.Name):
        if context.values.mutated(node):
            return None
        values = context.values.expressions(node)
    else:
        values = [node]
    lengths = []
    for value in values:
        if not isinstance(value, cst.List | cst.Tuple | cst.Set) or any(
            isinstance(element, cst.StarredElement) for element in value.elements
        ):
            return None
        lengths.append(len(value.elements))
    return max(lengths) if lengths else None


def constant_range_length(context: RuleContext, node: cst.BaseExpression) -> int | None:
    if not is_range(context, node):
        return None
    values = []
    for arg in node.args:
        if arg.keyword is not None or arg.star:
            return None
        value = context.values.constant(arg.value)
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        values.append(value)
    if not 1 <= len(values) <= 3 or (len(values) == 3 and values[2] == 0):
        return None
    return len(range(*values))


def subscript_chain(node: cst.BaseExpression) -> list[cst.Subscript]:
    """`p[i][j]` -> [p[i][j], p[i]]: the subscripts down to the root name."""
    chain = []
    while isinstance(node, cst.Subscript):
        chain.append(node)
        node = node.value
    return chain


def array_label(node: cst.BaseExpression) -> str:
    """How a message names an array: `x`, `self.w`."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        return f"{node.value.value}.{node.attr.value}"
    return node.value if isinstance(node, cst.Name) else "?"


def subscript_root(node: cst.BaseExpression) -> cst.Name | None:
    """`p` of `p[i]` and `p[i][j]`."""
    if not isinstance(node, cst.Subscript):
        return None
    while isinstance(node, cst.Subscript):
        node = node.value
    return node if isinstance(node, cst.Name) else None


def _is_print(context: RuleContext, node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and is_builtin(context, node.func, "builtins.print")


def _index_names(node: cst.Subscript) -> set[str]:
    names: set[str] = set()
    for element in node.slice:
        names |= names_in(element.slice)
    return names
