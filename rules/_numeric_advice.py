"""GL203's advice tier: a loop nest that works on array elements one at a time but does
something the Numba check does not take (calls to the user's functions, `print` of text,
lists, loops over `enumerate`). It is flagged, with advice and no fix, when it does nothing
but that element work (arithmetic on elements, a store into one element computed from
elements, a scatter of constants or loop variables, a torch tensor filled element by
element): a loop that also trains, plots or reads files is left alone."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import NESTED_SCOPE_TYPES
from green_lint.rules._data import block_statements, names_in, walk
from green_lint.rules._data_nodes import is_number
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_loop_scan import array_label, subscript_chain, subscript_root
from green_lint.rules._numeric_sequences import Sequences
from green_lint.rules._numeric_tensors import tensor_rank
from green_lint.rules._numeric_vocabulary import (
    ARITHMETIC,
    BUILTIN_FUNCTIONS,
    MATH_FUNCTIONS,
    is_builtin,
    is_range,
)

# Methods that collect a result, not work of their own.
COLLECTORS = frozenset({"append", "add", "extend", "appendleft"})
# Functions that only ever take numbers: an element passed to one is a number.
SCALAR_FUNCTIONS = frozenset(f"math.{name}" for name in MATH_FUNCTIONS) | {"builtins.pow"}


class AdviceScan:
    """Walks a loop nest; `found` says which kind of element work makes it a finding
    ("arithmetic", "store", "scatter", "tensor"), None when there is none or when the nest
    does other work too."""

    def __init__(self, context: RuleContext, arrays: Arrays, scope: cst.CSTNode) -> None:
        self.context = context
        self.arrays = arrays
        self.sequences = Sequences(context, arrays, scope)
        self.scope = scope
        self.index_variables: set[str] = set()  # range targets, enumerate counters, counters
        self.loop_variables: set[str] = set()  # every name a loop of the nest binds
        # `v` of `for v in it` / `enumerate(it)` -> `it`; an array's element when `it` is an
        # array (decided when `v` is used: finding callers is not free).
        self.iterated: dict[str, cst.BaseExpression] = {}
        self._elements: dict[str, bool] = {}
        self.derived: set[str] = set()  # locals computed from elements in the nest
        self.array_derived: set[str] = set()  # ... from elements of known arrays
        self.arithmetic_only: set[str] = set()  # ... with arithmetic and NumPy only
        self.arrays_used: set[str] = set()
        self.kinds: set[str] = set()
        self.foreign = False

    @property
    def found(self) -> str | None:
        if self.foreign or not self.kinds:
            return None
        for kind in ("tensor", "arithmetic", "store", "scatter"):
            if kind in self.kinds:
                return kind
        return None

    def scan(self, loop: cst.For | cst.While, counter: str | None = None) -> None:
        if counter is not None:
            self.index_variables.add(counter)
            self.loop_variables.add(counter)
        for node in walk(loop, enter=_not_a_scope):
            if isinstance(node, cst.For):
                self._bind_loop(node)
        self._derive(loop)
        self._statement(loop)

    # -- loop variables and the locals computed from elements ----------------------------
    def _bind_loop(self, loop: cst.For) -> None:
        target, iterable = loop.target, loop.iter
        self.loop_variables |= _target_names(target)
        if is_range(self.context, iterable) and isinstance(target, cst.Name):
            self.index_variables.add(target.value)
            self.sequences.note_range(target.value, iterable)
        elif (
            isinstance(iterable, cst.Call)
            and is_builtin(self.context, iterable.func, "builtins.enumerate")
            and iterable.args
            and isinstance(target, cst.Tuple)
            and len(target.elements) == 2
        ):
            counter, element = (e.value for e in target.elements)
            if isinstance(counter, cst.Name):
                self.index_variables.add(counter.value)
            if isinstance(element, cst.Name):
                self.iterated[element.value] = iterable.args[0].value
        elif isinstance(target, cst.Name):
            self.iterated[target.value] = iterable

    def _derive(self, loop: cst.CSTNode) -> None:
        """Names assigned, in the nest, values that read elements (to a fixed point: a
        value computed late in the body is read early in the next iteration)."""
        assignments = [
            node
            for node in walk(loop, enter=_not_a_scope)
            if isinstance(node, cst.Assign) and all(isinstance(t.target, cst.Name) for t in node.targets)
        ]
        changed = True
        while changed:
            changed = False
            for node in assignments:
                if not self._reads_element(node.value, weak=True):
                    continue
                kinds = [
                    (self.derived, True),
                    (self.array_derived, self._reads_element(node.value, weak=False)),
                    (self.arithmetic_only, self._arithmetic_only(node.value)),
                ]
                for target in node.targets:
                    for names, holds in kinds:
                        if holds and target.target.value not in names:
                            names.add(target.target.value)
                            changed = True

    # -- statements --------------------------------------------------------------------
    def _block(self, block: cst.BaseSuite, guarded: bool) -> None:
        for statement in block_statements(block):
            self._statement(statement, guarded)

    def _statement(self, node: cst.CSTNode, guarded: bool = False) -> None:
        if self.foreign:
            return
        if isinstance(node, cst.For):
            self._calls(node.iter)
            self._block(node.body, guarded)
            if node.orelse is not None:
                self._block(node.orelse.body, guarded)
        elif isinstance(node, cst.While):
            self._calls(node.test)
            self._block(node.body, guarded)
        elif isinstance(node, cst.If):
            self._calls(node.test)
            tested = guarded or (self._reads_element(node.test, weak=False) and not _mentions_text(node.test))
            self._block(node.body, tested)
            if isinstance(node.orelse, cst.If):
                self._statement(node.orelse, tested)
            elif node.orelse is not None:
                self._block(node.orelse.body, tested)
        elif isinstance(node, cst.Assign):
            self._calls(node.value)
            self._arithmetic(node.value)
            for target in node.targets:
                self._store(target.target, node.value)
        elif isinstance(node, cst.AugAssign):
            self._calls(node.value)
            if (
                guarded
                or self._reads_element(node.value, weak=False)
                or self._reads_element(node.target, False)
            ):
                self.kinds.add("arithmetic")
        elif isinstance(node, cst.Expr):
            self._expression_statement(node.value)
        elif isinstance(node, cst.Return | cst.Assert):
            for part in (node.value,) if isinstance(node, cst.Return) else (node.test, node.msg):
                if part is not None:
                    self._calls(part)
        elif not isinstance(node, cst.Pass | cst.Break | cst.Continue):
            self.foreign = True  # with, try, raise, del, a nested def: more than element work

    def _expression_statement(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.SimpleString | cst.ConcatenatedString):
            return
        if not isinstance(value, cst.Call):
            self.foreign = True
            return
        func = value.func
        printing = is_builtin(self.context, func, "builtins.print")
        collecting = isinstance(func, cst.Attribute) and func.attr.value in COLLECTORS
        if not (printing or collecting):
            self.foreign = True  # `model.fit(...)`, `plt.plot(...)`, `update(x[i])`
            return
        for arg in value.args:
            self._calls(arg.value)
            if collecting:
                self._arithmetic(arg.value)

    def _calls(self, expr: cst.BaseExpression) -> None:
        """A call in the nest is fine when it computes on numbers or arrays, or works on an
        element; any other (`lr = schedule(epoch)`, `batch = next(it)`) is other work."""
        for node in walk(expr, enter=_not_a_scope):
            if isinstance(node, cst.Call) and not self._element_call(node):
                self.foreign = True
                return

    def _element_call(self, call: cst.Call) -> bool:
        context = self.context
        func = call.func
        if is_builtin(
            context, func, *(f"builtins.{name}" for name in (*BUILTIN_FUNCTIONS, "sum", "enumerate", "zip"))
        ):
            return True
        if context.resolves_under(func, "numpy", "math", "torch") is not None:
            return True
        if isinstance(func, cst.Attribute) and (
            self._reads_element(func.value, weak=True) or names_in(func.value) & self.loop_variables
        ):
            return True  # a method of an element or a row: `x.dot(v)`, `e[i].unsqueeze(0)`
        return any(self._reads_element(arg.value, weak=True, directly=True) for arg in call.args)

    def _arithmetic(self, expr: cst.BaseExpression) -> None:
        if _mentions_text(expr):
            return  # `text + tokens[i] + " "` joins strings
        for node in walk(expr, enter=_not_a_scope):
            if (
                isinstance(node, cst.BinaryOperation)
                and isinstance(node.operator, ARITHMETIC)
                and (
                    self._reads_element(node.left, weak=False) or self._reads_element(node.right, weak=False)
                )
            ):
                self.kinds.add("arithmetic")
            elif (
                isinstance(node, cst.Call)
                and self.context.resolves_to(node.func, *SCALAR_FUNCTIONS)
                and any(
                    self._reads_element(arg.value, weak=False)
                    or any(self._array_element(name) for name in names_in(arg.value))
                    for arg in node.args
                )
            ):
                # `math.exp(v)` takes one number: `v` is an element, not a row.
                self.kinds.add("arithmetic")

    def _store(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        root = subscript_root(target)
        if root is None:
            return
        chain = subscript_chain(target)
        if not all(isinstance(e.slice, cst.Index) for subscript in chain for e in subscript.slice):
            return  # `a[i, :] = ...`: a row copied from a whole-array expression
        indices = [e.slice.value for subscript in chain for e in subscript.slice]
        if not any(names_in(index) & self.loop_variables for index in indices):
            return
        if not all(self._scalar_index(index) for index in indices):
            return  # `a[mask] = -1`: one whole-array store
        scattered = is_number(value) or (isinstance(value, cst.Name) and value.value in self.loop_variables)
        if self._is_array(root):
            rank = self.arrays.rank(root.value, self.scope)
            whole_element = rank is not None and rank == len(indices)
            # `onehot[i, v] = 1`, `labels[sample] = cluster`; not
            # `x[0, t, ids[c]] = 1`, one sample of a batch encoded (as long as one sequence).
            if scattered and not any(isinstance(index, cst.Integer) for index in indices):
                self._found("scatter", root.value)
            elif self._stored_from_elements(value, whole_element):
                self._found("store", root.value)
            return
        rank = tensor_rank(self.context, root)
        if rank is not None and rank == len(indices) and self._reads_element(value, weak=True):
            self._found("tensor", root.value)

    def _stored_from_elements(self, value: cst.BaseExpression, whole_element: bool) -> bool:
        """An element computed from elements: by arithmetic and NumPy only, or, into one
        whole element, by a function of two elements (`kernel(X[i], X[j])`, a distance);
        a function of one row (`predict_row(X[i])`) may be anything (a tree walk)."""
        if not self._reads_element(value, weak=True) or self._whole_array_operand(value):
            return False
        if self._arithmetic_only(value):
            return True
        if not whole_element:
            return False
        calls = [node for node in walk(value, enter=_not_a_scope) if isinstance(node, cst.Call)]
        return all(self._known_call(call) or self._pairwise(call) for call in calls)

    def _whole_array_operand(self, value: cst.BaseExpression) -> bool:
        """`out[k] = np.average(y == k)`: each iteration already works on a whole array."""
        indexed: set[int] = set()
        for node in walk(value, enter=_not_a_scope):
            if isinstance(node, cst.Subscript | cst.Attribute):
                indexed.add(id(node.value))
            elif isinstance(node, cst.Name) and id(node) not in indexed and self._is_array(node):
                return True
        return False

    def _known_call(self, call: cst.Call) -> bool:
        return self.context.resolves_under(call.func, "numpy", "math", "builtins") is not None

    def _pairwise(self, call: cst.Call) -> bool:
        """A function of two elements (a kernel, a distance), or of one number: one whole
        element of an array of known rank (`helper(a[i])` for a 1-D `a`)."""
        reads = [arg.value for arg in call.args if self._reads_element(arg.value, weak=True, directly=True)]
        return len(reads) >= 2 or any(self._scalar_element(read) for read in reads)

    def _scalar_element(self, node: cst.BaseExpression) -> bool:
        if not isinstance(node, cst.Subscript) or not isinstance(node.value, cst.Name):
            return False
        if not all(isinstance(e.slice, cst.Index) for e in node.slice):
            return False
        return self.arrays.rank(node.value.value, self.scope) == len(node.slice)

    def _scalar_index(self, index: cst.BaseExpression) -> bool:
        """A loop variable, a number, arithmetic on them or a lookup (`ids[c]`, `y[i]`):
        not a mask or an index array."""
        if isinstance(index, cst.Name | cst.Integer):
            return not self._is_array(index)
        if isinstance(index, cst.BinaryOperation):
            return self._scalar_index(index.left) and self._scalar_index(index.right)
        if isinstance(index, cst.Subscript):
            return all(
                isinstance(e.slice, cst.Index) and self._scalar_index(e.slice.value) for e in index.slice
            ) and not self.arrays.is_array_expr(index, self.scope)
        return isinstance(index, cst.UnaryOperation) and self._scalar_index(index.expression)

    def _found(self, kind: str, name: str) -> None:
        self.kinds.add(kind)
        self.arrays_used.add(name)

    # -- what reads an element ------------------------------------------------------------
    def _reads_element(self, expr: cst.BaseExpression, weak: bool, directly: bool = False) -> bool:
        """`expr` reads an element (or a row) of an array by a loop index, or a value
        derived from one. Weak: any indexed name that is not a dict or a string counts,
        not only known arrays (`x[i]` of a parameter that a store puts into an array)."""
        for node in walk(expr, enter=_not_a_scope):
            if isinstance(node, cst.Name) and not directly:
                if node.value in (self.derived if weak else self.array_derived):
                    return True
                if weak and self._array_element(node.value):
                    return True
            elif isinstance(node, cst.Subscript) and self._indexed_by_loop(node):
                root = node.value
                while isinstance(root, cst.Subscript):
                    root = root.value
                if self._is_array(root) or self.sequences.plausible(root):
                    self.arrays_used.add(array_label(root))
                    return True
                if weak and isinstance(root, cst.Name | cst.Attribute) and not self.sequences.container(root):
                    return True
        return False

    def _indexed_by_loop(self, node: cst.Subscript) -> bool:
        names: set[str] = set()
        for subscript in subscript_chain(node):
            for element in subscript.slice:
                names |= names_in(element.slice)
        return bool(names & self.index_variables)

    def _arithmetic_only(self, expr: cst.BaseExpression) -> bool:
        """Arithmetic, NumPy and math calls, element reads: nothing a user wrote."""
        arithmetic = False
        for node in walk(expr, enter=_not_a_scope):
            if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, ARITHMETIC):
                arithmetic = True
            elif isinstance(node, cst.Call):
                if self.context.resolves_under(node.func, "numpy", "math") is None:
                    return False
                arithmetic = True
            elif isinstance(node, cst.Name) and node.value in self.arithmetic_only:
                arithmetic = True
            elif isinstance(node, cst.Name) and node.value in self.derived:
                return False
        return arithmetic

    def _array_element(self, name: str) -> bool:
        """`name` is the loop variable of a loop over an array (`for v in arr`)."""
        if name not in self.iterated:
            return False
        if name not in self._elements:
            iterable = self.iterated[name]
            self._elements[name] = self._is_array(iterable)
            if self._elements[name]:
                self.arrays_used.add(array_label(iterable))
        return self._elements[name]

    def _is_array(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            return self.arrays.is_array(node.value, self.scope)
        if isinstance(node, cst.Attribute):
            return self.arrays.is_array_attribute(node)
        return False


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        return set().union(*(_target_names(e.value) for e in target.elements))
    return set()


def _mentions_text(node: cst.CSTNode) -> bool:
    return any(
        isinstance(n, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString) for n in walk(node)
    )


def _not_a_scope(node: cst.CSTNode) -> bool:
    return type(node) not in NESTED_SCOPE_TYPES
