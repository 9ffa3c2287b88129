"""Which names hold NumPy arrays, for GL203: made by `np.*` (or a random Generator) in
the same function or the module, slices and masks of arrays, the results of a model's
`predict` / `predict_proba`, `self.x` attributes assigned arrays, parameters annotated
`np.ndarray` / `npt.NDArray`, parameters the file's own call sites pass arrays to, and
parameters only ever indexed as 2-D (or more) arrays. Also the rank of an array made by
`np.zeros(shape)` and the like, when its shape says it."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import walk
from green_lint.rules._data_nodes import find_parameter, is_name
from green_lint.rules._numeric_vocabulary import ARRAY_ATTRIBUTES
from green_lint.rules._syntax import is_none

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
        "ravel",
        "unique",
        "argsort",
        "squeeze",
        "expand_dims",
        "tile",
        "repeat",
        "diag",
        "clip",
        "exp",
        "log",
        "sqrt",
        "abs",
        "absolute",
        "square",
        "tanh",
        "maximum",
        "minimum",
    )
)
# Functions whose first argument is the shape of the array they make.
SHAPED_MAKERS = frozenset(f"numpy.{name}" for name in ("zeros", "ones", "empty", "full"))
LIKE_MAKERS = frozenset(f"numpy.{name}" for name in ("zeros_like", "ones_like", "empty_like", "full_like"))
# What a fitted model answers with: arrays, whatever the library.
PREDICTION_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function"})
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
        self._attributes: dict[int, bool] = {}

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
        owner, values = context.values.assignments(name, scope)
        if owner is not scope:  # bound in an enclosing function or the module
            return self.is_array(name, owner)
        if isinstance(scope, cst.FunctionDef):
            parameter = find_parameter(scope, name)
            if parameter is not None:
                if parameter.annotation is not None:
                    given = self.is_array_annotation(parameter.annotation)
                else:
                    # `def f(x): x = x.copy()` keeps what the callers pass.
                    given = self._callers_pass_arrays(scope, name) or (
                        not values and _indexed_as_matrix(scope, name)
                    )
                return given and all(self.is_array_expr(value, scope) for value in values)
        return bool(values) and all(self.is_array_expr(value, scope) for value in values)

    def _callers_pass_arrays(self, function: cst.FunctionDef, name: str) -> bool:
        """Every call site of `function` in the file passes an array for `name` (a `None`
        default or argument aside), and there is at least one."""
        semantic = self.context.semantic
        bindings = [b for b in semantic.scope(function).bindings.get(name, ()) if b.kind == "parameter"]
        if len(bindings) != 1:
            return False
        passed = [v for v in self.context.values.calls.argument_values(bindings[0]) if not is_none(v)]
        return bool(passed) and all(self.is_array_here(value) for value in passed)

    def is_array_here(self, expr: cst.BaseExpression) -> bool:
        """An array where `expr` is evaluated: a name by the assignments that reach this
        use (a notebook reuses `x` for anything), else by its scope."""
        if isinstance(expr, cst.Name):
            reaching = [v for v in self.context.values.expressions(expr) if v is not expr]
            if reaching and all(
                isinstance(v, cst.Call | cst.Subscript | cst.BinaryOperation) for v in reaching
            ):
                return all(self.is_array_expr(v, owner_scope(self.context, v)) for v in reaching)
        return self.is_array_expr(expr, owner_scope(self.context, expr))

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
                if method in ("to_numpy", *PREDICTION_METHODS):
                    return True
                if method in GENERATOR_METHODS and self._is_generator(receiver, scope):
                    return True
                if method in ARRAY_RETURNING_METHODS:
                    return self.is_array_expr(receiver, scope)
            return False
        if isinstance(expr, cst.Attribute):
            if expr.attr.value == "values":
                return True
            if expr.attr.value == "T":
                return self.is_array_expr(expr.value, scope)
            return self.is_array_attribute(expr)
        if isinstance(expr, cst.Subscript):
            # A slice, a mask or an index array of an array is an array: `x[:, 3]`, `x[x > 0]`.
            return self.is_array_expr(expr.value, scope) and any(
                not isinstance(element.slice, cst.Index)
                or is_none(element.slice.value)
                or self.is_array_expr(element.slice.value, scope)
                for element in expr.slice
            )
        if isinstance(expr, cst.BinaryOperation):
            return self.is_array_expr(expr.left, scope) or self.is_array_expr(expr.right, scope)
        if isinstance(expr, cst.IfExp):  # `np.squeeze(a) if cpu else np.squeeze(b)`
            return self.is_array_expr(expr.body, scope) and self.is_array_expr(expr.orelse, scope)
        if isinstance(expr, cst.Comparison):  # a boolean mask
            return self.is_array_expr(expr.left, scope) or any(
                self.is_array_expr(c.comparator, scope) for c in expr.comparisons
            )
        return False

    def is_array_attribute(self, node: cst.Attribute) -> bool:
        """`self.x` whose every value assigned in the class (but `None`) is an array."""
        if not (isinstance(node.value, cst.Name) and node.value.value == "self"):
            return False
        key = id(node)
        if key not in self._attributes:
            self._attributes[key] = True  # a value that reads `self.x` again decides nothing
            values = [v for v in self.context.values.expressions(node) if v is not node and not is_none(v)]
            self._attributes[key] = bool(values) and all(
                self.is_array_expr(value, owner_scope(self.context, value)) for value in values
            )
        return self._attributes[key]

    def rank(self, name: str, scope: cst.CSTNode, depth: int = 0) -> int | None:
        """The number of dimensions every assignment of `name` in `scope` agrees on."""
        scope, values = self.context.values.assignments(name, scope)
        if not values and isinstance(scope, cst.FunctionDef) and find_parameter(scope, name) is not None:
            return self._rank_passed(scope, name, depth)
        ranks = {self.rank_of(value, scope, depth + 1) for value in values}
        return ranks.pop() if len(ranks) == 1 else None

    def _rank_passed(self, function: cst.FunctionDef, name: str, depth: int) -> int | None:
        """The rank of the arrays the file's call sites pass for parameter `name`."""
        bindings = [
            b for b in self.context.semantic.scope(function).bindings.get(name, ()) if b.kind == "parameter"
        ]
        if len(bindings) != 1:
            return None
        passed = self.context.values.calls.argument_values(bindings[0])
        ranks = {self.rank_of(value, owner_scope(self.context, value), depth + 1) for value in passed}
        return ranks.pop() if len(ranks) == 1 else None

    def rank_of(self, expr: cst.BaseExpression, scope: cst.CSTNode, depth: int = 0) -> int | None:
        context = self.context
        if depth > 6:
            return None
        if isinstance(expr, cst.Name):
            return self.rank(expr.value, scope, depth)
        if not isinstance(expr, cst.Call) or not expr.args:
            return None
        first = expr.args[0].value
        if context.resolves_to(expr.func, *SHAPED_MAKERS):
            return shape_rank(context, first)
        if context.resolves_to(expr.func, *LIKE_MAKERS):
            return self.rank_of(first, scope, depth + 1)
        if context.resolves_to(expr.func, "numpy.eye", "numpy.identity"):
            return 2
        if context.resolves_to(expr.func, "numpy.arange", "numpy.linspace"):
            return 1
        return None

    def _is_generator(self, expr: cst.BaseExpression, scope: cst.CSTNode) -> bool:
        if isinstance(expr, cst.Call):
            return self.context.resolves_to(expr.func, *RANDOM_GENERATORS)
        if isinstance(expr, cst.Name):
            scope, values = self.context.values.assignments(expr.value, scope)
            return bool(values) and all(self._is_generator(v, scope) for v in values)
        return False


def shape_rank(context: RuleContext, shape: cst.BaseExpression, depth: int = 0) -> int | None:
    """The rank a shape argument gives: `(n, m)` 2, `n` or `len(x)` 1, `x.shape` unknown."""
    if isinstance(shape, cst.Name) and depth < 3:
        ranks = {
            None if value is shape else shape_rank(context, value, depth + 1)
            for value in context.values.expressions(shape)
        }
        return ranks.pop() if len(ranks) == 1 else None
    if isinstance(shape, cst.Tuple | cst.List):
        if any(isinstance(e, cst.StarredElement) for e in shape.elements):
            return None
        return len(shape.elements)
    if isinstance(shape, cst.Integer | cst.BinaryOperation | cst.Subscript):
        return 1
    if isinstance(shape, cst.Call) and isinstance(shape.func, cst.Name) and shape.func.value == "len":
        return 1
    return None


def owner_scope(context: RuleContext, node: cst.CSTNode) -> cst.CSTNode:
    """The function (or the module) whose names `node` reads."""
    for scope_node in reversed(context.semantic.locate(node).scope_nodes):
        if isinstance(scope_node, cst.FunctionDef):
            return scope_node
    return context.module


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
