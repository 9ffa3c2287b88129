"""Which names hold NumPy arrays, for GL203: made by `np.*` (or a random Generator) in
the same function or the module, parameters annotated `np.ndarray` / `npt.NDArray`, and
parameters only ever indexed as 2-D (or more) arrays."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import walk
from green_lint.rules._data_nodes import find_parameter, is_name
from green_lint.rules._numeric_vocabulary import ARRAY_ATTRIBUTES

# numpy functions that return a new array.
ARRAY_MAKERS = frozenset(
    f"numpy.{name}"
    for name in (
        "array",
        "asarray",
        "ascontiguousarray",
        "zeros",
        "ones",
        "empty",
        "full",
        "zeros_like",
        "ones_like",
        "empty_like",
        "full_like",
        "arange",
        "linspace",
        "logspace",
        "eye",
        "identity",
        "copy",
        "load",
        "loadtxt",
        "genfromtxt",
        "fromfile",
        "frombuffer",
        "concatenate",
        "stack",
        "vstack",
        "hstack",
        "outer",
        "cumsum",
        "diff",
        "sort",
    )
)
RANDOM_GENERATORS = frozenset(
    {"numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.Generator"}
)
GENERATOR_METHODS = frozenset(
    {
        "random",
        "normal",
        "uniform",
        "integers",
        "standard_normal",
        "rand",
        "randn",
        "randint",
        "exponential",
        "poisson",
        "binomial",
        "gamma",
        "beta",
    }
)
ARRAY_RETURNING_METHODS = frozenset(
    {"copy", "astype", "reshape", "ravel", "flatten", "transpose", "to_numpy"}
)
ARRAY_ANNOTATIONS = frozenset({"numpy.ndarray", "numpy.typing.NDArray", "numpy.typing.ArrayLike"})


class Arrays:
    """Whether a name (in a function or the module) holds a NumPy array."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self._cache: dict[tuple[int, str], bool] = {}

    def is_array(self, name: str, scope: cst.CSTNode) -> bool:
        key = (id(scope), name)
        if key not in self._cache:
            # `x = np.zeros(n); x = x * 2`: the self-reference decides nothing; the other
            # assignments do (a name is never only assigned from itself).
            self._cache[key] = True
            self._cache[key] = self._compute(name, scope)
        return self._cache[key]

    def _compute(self, name: str, scope: cst.CSTNode) -> bool:
        context = self.context
        if isinstance(scope, cst.FunctionDef):
            parameter = find_parameter(scope, name)
            values = context.assigned_values(name, scope)
            if parameter is not None:
                if parameter.annotation is not None:
                    return self.is_array_annotation(parameter.annotation) and all(
                        self.is_array_expr(value, scope) for value in values
                    )
                return not values and _indexed_as_matrix(scope, name)
            if not values:
                return self.is_array(name, context.module)
        else:
            values = context.assigned_values(name, scope)
        return bool(values) and all(self.is_array_expr(value, scope) for value in values)

    def is_array_annotation(self, annotation: cst.Annotation) -> bool:
        expr = annotation.annotation
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        return self.context.resolves_to(expr, *ARRAY_ANNOTATIONS)

    def is_array_expr(self, expr: cst.BaseExpression, scope: cst.CSTNode) -> bool:
        context = self.context
        if isinstance(expr, cst.Name):
            return self.is_array(expr.value, scope)
        if isinstance(expr, cst.Call):
            if context.resolves_to(expr.func, *ARRAY_MAKERS):
                return True
            qualified = context.resolves_under(expr.func, "numpy.random")
            if (
                qualified is not None
                and qualified not in RANDOM_GENERATORS
                and qualified != "numpy.random.seed"
            ):
                return True
            if isinstance(expr.func, cst.Attribute):
                method, receiver = expr.func.attr.value, expr.func.value
                if method == "to_numpy":
                    return True
                if method in GENERATOR_METHODS and self._is_generator(receiver, scope):
                    return True
                if method in ARRAY_RETURNING_METHODS:
                    return self.is_array_expr(receiver, scope)
            return False
        if isinstance(expr, cst.Attribute):
            return expr.attr.value == "values" or (
                expr.attr.value == "T" and self.is_array_expr(expr.value, scope)
            )
        if isinstance(expr, cst.BinaryOperation):
            return self.is_array_expr(expr.left, scope) or self.is_array_expr(expr.right, scope)
        return False

    def _is_generator(self, expr: cst.BaseExpression, scope: cst.CSTNode) -> bool:
        if isinstance(expr, cst.Call):
            return self.context.resolves_to(expr.func, *RANDOM_GENERATORS)
        if isinstance(expr, cst.Name):
            values = self.context.assigned_values(expr.value, scope)
            if not values and isinstance(scope, cst.FunctionDef):
                values = self.context.assigned_values(expr.value, self.context.module)
                scope = self.context.module
            return bool(values) and all(self._is_generator(v, scope) for v in values)
        return False


def _indexed_as_matrix(function: cst.FunctionDef, name: str) -> bool:
    """Every use of parameter `name` is `name[i, j, ...]`, `name.shape` / `.ndim` / `.size`
    or `len(name)`, and at least one is a 2-D (or more) index: a list would not take it."""
    matrix_uses = other_uses = 0
    allowed: set[int] = set()  # Name nodes that are fine uses (parents are seen first)
    for node in walk(function.body, enter=lambda n: not isinstance(n, cst.FunctionDef | cst.ClassDef)):
        if isinstance(node, cst.Subscript) and is_name(node.value, name):
            allowed.add(id(node.value))
            if len(node.slice) >= 2 and all(isinstance(e.slice, cst.Index) for e in node.slice):
                matrix_uses += 1
        elif isinstance(node, cst.Attribute):
            allowed.add(id(node.attr))
            if is_name(node.value, name) and node.attr.value in ARRAY_ATTRIBUTES:
                allowed.add(id(node.value))
        elif isinstance(node, cst.Call):
            if is_name(node.func, "len") and len(node.args) == 1 and is_name(node.args[0].value, name):
                allowed.add(id(node.args[0].value))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            allowed.add(id(node.keyword))
        elif isinstance(node, cst.Name) and node.value == name and id(node) not in allowed:
            other_uses += 1
    return matrix_uses > 0 and not other_uses
