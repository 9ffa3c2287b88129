"""Does a function compile in Numba's nopython mode? GL203 offers `@numba.njit` only for a
function made of numbers, arrays, `range` loops, `math` and the NumPy functions Numba
supports, whose callers in the file pass arrays or numbers."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import block_statements
from green_lint.rules._data_nodes import COMPARISONS, find_parameter, is_number
from green_lint.rules._numeric_arrays import RANDOM_GENERATORS, Arrays
from green_lint.rules._numeric_vocabulary import (
    ARITHMETIC,
    ARRAY_ATTRIBUTES,
    ARRAY_METHODS,
    BUILTIN_FUNCTIONS,
    MATH_CONSTANTS,
    MATH_FUNCTIONS,
    NUMBA_NUMPY_CONSTANTS,
    NUMBA_NUMPY_FUNCTIONS,
    NUMPY_DTYPES,
    calls_jitted,
    is_builtin,
    is_range,
)
from green_lint.rules._syntax import is_docstring
from green_lint.walk import children

SCALAR_ANNOTATIONS = frozenset({"builtins.int", "builtins.float", "builtins.bool"})
MAX_DEPTH = 8


class NumbaCheck:
    def __init__(self, context: RuleContext, arrays: Arrays, function: cst.FunctionDef) -> None:
        self.context = context
        self.arrays = arrays
        self.function = function
        # Every name the function binds: a compilable body binds them only by assignment
        # or `for` (anything else stops the check), so these are its numeric locals.
        self.locals = set(context.semantic.scope(function).bindings)
        self.returns: list[bool] = []

    def compiles(self) -> bool:
        function = self.function
        if function.asynchronous is not None or not self._parameters_ok(function.params):
            return False
        statements = block_statements(function.body)
        if statements and is_docstring(statements[0]):
            statements = statements[1:]
        if not statements or not all(self._statement(s) for s in statements):
            return False
        return len(set(self.returns)) <= 1  # all returns with a value, or none

    def _parameters_ok(self, params: cst.Parameters) -> bool:
        if params.posonly_params or params.kwonly_params or params.star_kwarg is not None:
            return False
        if not isinstance(params.star_arg, cst.MaybeSentinel):
            return False
        return all(p.default is None or is_number(p.default) for p in params.params)

    def _block(self, block: cst.BaseSuite) -> bool:
        return all(self._statement(s) for s in block_statements(block))

    def _statement(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.For):
            return (
                node.orelse is None
                and isinstance(node.target, cst.Name)
                and is_range(self.context, node.iter)
                and 1 <= len(node.iter.args) <= 3
                and all(a.keyword is None and not a.star and self._expr(a.value) for a in node.iter.args)
                and self._block(node.body)
            )
        if isinstance(node, cst.While):
            return node.orelse is None and self._expr(node.test) and self._block(node.body)
        if isinstance(node, cst.If):
            if not (self._expr(node.test) and self._block(node.body)):
                return False
            if isinstance(node.orelse, cst.If):
                return self._statement(node.orelse)
            return node.orelse is None or self._block(node.orelse.body)
        if isinstance(node, cst.Assign):
            return all(self._target(t.target) for t in node.targets) and self._expr(node.value)
        if isinstance(node, cst.AugAssign):
            return self._target(node.target) and self._expr(node.value)
        if isinstance(node, cst.Return):
            self.returns.append(node.value is not None)
            return node.value is None or self._expr(node.value)
        if isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
            return is_builtin(self.context, node.value.func, "builtins.print") and self._expr(node.value)
        return isinstance(node, cst.Pass | cst.Break | cst.Continue)

    def _target(self, target: cst.BaseExpression) -> bool:
        if isinstance(target, cst.Name):
            return True
        if isinstance(target, cst.Tuple):
            return all(isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in target.elements)
        if isinstance(target, cst.Subscript):
            return self._local_subscript(target, 0)
        return False

    def _local_subscript(self, node: cst.Subscript, depth: int) -> bool:
        """`a[i]`, `a[i][j]` or `a.shape[0]` of a local array."""
        value = node.value
        if isinstance(value, cst.Subscript):
            inner = self._local_subscript(value, depth)
        else:
            inner = (isinstance(value, cst.Name) and value.value in self.locals) or (
                isinstance(value, cst.Attribute)
                and value.attr.value in ("shape", "T")
                and isinstance(value.value, cst.Name)
                and value.value.value in self.locals
            )
        return inner and all(self._slice(e.slice, depth) for e in node.slice)

    def _expr(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        if depth > 50:
            return False
        depth += 1
        if isinstance(node, cst.Integer | cst.Float):
            return True
        if isinstance(node, cst.Name):
            return (
                node.value in self.locals
                or node.value in ("True", "False")
                or _is_module_constant(self.context, node)
            )
        if isinstance(node, cst.BinaryOperation):
            return (
                isinstance(node.operator, ARITHMETIC)
                and self._expr(node.left, depth)
                and self._expr(node.right, depth)
            )
        if isinstance(node, cst.UnaryOperation):
            return self._expr(node.expression, depth)
        if isinstance(node, cst.BooleanOperation):
            return self._expr(node.left, depth) and self._expr(node.right, depth)
        if isinstance(node, cst.Comparison):
            return (
                all(isinstance(c.operator, COMPARISONS) for c in node.comparisons)
                and self._expr(node.left, depth)
                and all(self._expr(c.comparator, depth) for c in node.comparisons)
            )
        if isinstance(node, cst.IfExp):
            return all(self._expr(part, depth) for part in (node.test, node.body, node.orelse))
        if isinstance(node, cst.Tuple):
            return all(isinstance(e, cst.Element) and self._expr(e.value, depth) for e in node.elements)
        if isinstance(node, cst.Subscript):
            return self._local_subscript(node, depth)
        if isinstance(node, cst.Attribute):
            return self._attribute(node)
        if isinstance(node, cst.Call):
            return self._call(node, depth)
        return False

    def _slice(self, node: cst.BaseSlice, depth: int = 0) -> bool:
        if isinstance(node, cst.Index):
            return node.star is None and self._expr(node.value, depth)
        return all(part is None or self._expr(part, depth) for part in (node.lower, node.upper, node.step))

    def _attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name) and node.value.value in self.locals:
            return node.attr.value in ARRAY_ATTRIBUTES
        qualified = self.context.qualified_name(node)
        if qualified is None:
            return False
        module, _, name = qualified.partition(".")
        if module == "numpy":
            return name in NUMBA_NUMPY_CONSTANTS
        return module == "math" and name in MATH_CONSTANTS

    def _call(self, node: cst.Call, depth: int) -> bool:
        context = self.context
        func = node.func
        positional = [a for a in node.args if a.keyword is None]
        keywords = [a for a in node.args if a.keyword is not None]
        if any(a.star for a in node.args):
            return False
        if not all(self._expr(a.value, depth) for a in positional):
            return False
        if isinstance(func, cst.Name) and calls_jitted(self.context, func):
            return not keywords
        builtin = context.qualified_name(func)
        if builtin is not None and builtin.startswith("builtins."):
            name = builtin.split(".", 1)[1]
            if name not in BUILTIN_FUNCTIONS or keywords:
                return False
            if name in ("min", "max"):
                return len(positional) >= 2
            if name == "print":  # numbers and arrays only: no strings, no `sep=` / `end=`
                return True
            if name == "range":
                return 1 <= len(positional) <= 3
            return len(positional) in ((1, 2) if name in ("round", "pow") else (1,))
        qualified = context.qualified_name(func)
        if qualified is not None and qualified.startswith(("numpy.", "math.")):
            module, _, name = qualified.partition(".")
            if module == "math":
                return name in MATH_FUNCTIONS and not keywords
            return name in NUMBA_NUMPY_FUNCTIONS and all(
                a.keyword.value == "dtype" and self._dtype(a.value) for a in keywords
            )
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in self.locals
        ):
            return func.attr.value in ARRAY_METHODS and not keywords
        return False

    def _dtype(self, node: cst.BaseExpression) -> bool:
        qualified = self.context.qualified_name(node)
        return qualified is not None and qualified.startswith("numpy.") and qualified[6:] in NUMPY_DTYPES


def _is_module_constant(context: RuleContext, name: cst.Name) -> bool:
    """`name` is bound once, by a top-level `NAME = <number>` of the module: Numba freezes
    such a global into the compiled code."""
    bindings = context.semantic.binding_of(name)
    if len(bindings) != 1:
        return False
    (binding,) = bindings
    statement = binding.statement
    return (
        binding.kind == "assignment"
        and isinstance(statement, cst.Assign)
        and not binding.element
        and is_number(statement.value)
        and any(
            isinstance(line, cst.SimpleStatementLine) and any(small is statement for small in line.body)
            for line in context.module.body
        )
    )


# -- what the file passes to the function -------------------------------------------------
class NameUses:
    """Where the file uses each name: the calls `name(...)` (with the function they sit in,
    or the module) and whether the name also appears as a value. One walk of the file,
    shared by every function a rule asks about (asking per function walked the file once
    each: quadratic in a file of many numeric functions)."""

    def __init__(self, module: cst.Module) -> None:
        self.calls: dict[str, list[tuple[cst.Call, cst.CSTNode]]] = {}
        self.as_value: set[str] = set()
        skip: set[int] = set()  # Name nodes that are not references (parents are seen first)
        pending: list[tuple[cst.CSTNode, cst.CSTNode]] = [(module, module)]
        while pending:
            node, scope = pending.pop()
            if isinstance(node, cst.FunctionDef):
                skip.add(id(node.name))
            elif isinstance(node, cst.Attribute):
                skip.add(id(node.attr))
            elif isinstance(node, cst.Arg) and node.keyword is not None:
                skip.add(id(node.keyword))
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
                skip.add(id(node.func))
                self.calls.setdefault(node.func.value, []).append((node, scope))
            elif isinstance(node, cst.Name) and id(node) not in skip:
                self.as_value.add(node.value)
            inner = node if isinstance(node, cst.FunctionDef) else scope
            pending.extend((child, inner) for child in children(node))


class CallSites:
    """The function is only called (never passed around) with arrays or numbers."""

    def __init__(
        self, context: RuleContext, arrays: Arrays, function: cst.FunctionDef, uses: NameUses
    ) -> None:
        self.context = context
        self.arrays = arrays
        self.function = function
        self.uses = uses

    def plausible(self) -> bool:
        name = self.function.name.value
        if name in self.uses.as_value:
            return False  # passed as a value: called with who knows what
        return all(
            not arg.star and self._numeric(arg.value, scope, 0)
            for call, scope in self.uses.calls.get(name, ())
            for arg in call.args
        )

    def _numeric(self, expr: cst.BaseExpression, scope: cst.CSTNode, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        context = self.context
        if is_number(expr):
            return True
        if self.arrays.is_array_expr(expr, scope):
            return True
        if isinstance(expr, cst.BinaryOperation):
            return self._numeric(expr.left, scope, depth + 1) and self._numeric(expr.right, scope, depth + 1)
        if isinstance(expr, cst.Call):
            if is_builtin(context, expr.func, "builtins.len", "builtins.int", "builtins.float"):
                return True
            # numpy functions return arrays or numbers (not the random Generator factories).
            qualified = context.qualified_name(expr.func)
            return (
                qualified is not None
                and qualified.startswith("numpy.")
                and qualified not in RANDOM_GENERATORS
                and all(not arg.star and self._numeric(arg.value, scope, depth + 1) for arg in expr.args)
            )
        if isinstance(expr, cst.Subscript):
            if isinstance(expr.value, cst.Attribute) and expr.value.attr.value == "shape":
                return True
            return self._numeric(expr.value, scope, depth + 1)
        if isinstance(expr, cst.Name):
            if isinstance(scope, cst.FunctionDef):
                parameter = find_parameter(scope, expr.value)
                if parameter is not None:
                    annotation = parameter.annotation
                    return annotation is not None and (
                        self.arrays.is_array_annotation(annotation)
                        or context.resolves_to(annotation.annotation, *SCALAR_ANNOTATIONS)
                    )
            scope, values = context.values.assignments(expr.value, scope)
            return bool(values) and all(self._numeric(v, scope, depth + 1) for v in values)
        return False
