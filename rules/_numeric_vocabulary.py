"""What GL203 counts as plain numbers: the NumPy and `math` functions Numba compiles in
nopython mode (a conservative subset), builtins, array methods and operators, and how a
function is known to be compiled by Numba."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import walk
from green_lint.rules._syntax import ARITHMETIC as SYNTAX_ARITHMETIC
from green_lint.rules._syntax import BITWISE

# What Numba compiles in nopython mode (a conservative subset).
NUMBA_NUMPY_FUNCTIONS = frozenset(
    {
        "zeros",
        "ones",
        "empty",
        "zeros_like",
        "ones_like",
        "empty_like",
        "full",
        "full_like",
        "arange",
        "linspace",
        "sqrt",
        "exp",
        "exp2",
        "log",
        "log2",
        "log10",
        "log1p",
        "expm1",
        "abs",
        "absolute",
        "fabs",
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "arctan2",
        "sinh",
        "cosh",
        "tanh",
        "hypot",
        "floor",
        "ceil",
        "trunc",
        "sign",
        "square",
        "power",
        "minimum",
        "maximum",
        "fmin",
        "fmax",
        "isnan",
        "isinf",
        "isfinite",
        "dot",
        "sum",
        "prod",
        "mean",
        "std",
        "var",
        "min",
        "max",
        "amin",
        "amax",
        "argmin",
        "argmax",
        "cumsum",
        "cumprod",
        "copy",
        "sort",
        "argsort",
        "where",
        "clip",
        "outer",
        # np.linalg in nopython mode (Numba calls LAPACK through SciPy).
        "linalg.solve",
        "linalg.inv",
        "linalg.det",
        "linalg.norm",
    }
)
NUMBA_NUMPY_CONSTANTS = frozenset(
    {"pi", "e", "inf", "nan", "float64", "float32", "int64", "int32", "int16", "int8", "uint8", "bool_"}
)
NUMPY_DTYPES = frozenset({"float64", "float32", "int64", "int32", "int16", "int8", "uint8", "bool_"})
MATH_FUNCTIONS = frozenset(
    {
        "sqrt",
        "exp",
        "log",
        "log10",
        "log2",
        "log1p",
        "expm1",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "atan2",
        "sinh",
        "cosh",
        "tanh",
        "floor",
        "ceil",
        "fabs",
        "pow",
        "hypot",
        "isnan",
        "isinf",
        "isfinite",
        "copysign",
        "erf",
        "erfc",
        "gamma",
        "lgamma",
        "trunc",
        "degrees",
        "radians",
    }
)
MATH_CONSTANTS = frozenset({"pi", "e", "inf", "nan", "tau"})
BUILTIN_FUNCTIONS = frozenset(
    {"range", "len", "abs", "min", "max", "int", "float", "bool", "round", "pow", "print"}
)
ARRAY_METHODS = frozenset(
    {"sum", "mean", "min", "max", "prod", "std", "var", "argmin", "argmax", "copy", "cumsum", "ravel", "dot"}
)
ARRAY_ATTRIBUTES = frozenset({"shape", "size", "ndim", "T"})
# Operators Numba compiles on integers and floats.
ARITHMETIC = (*SYNTAX_ARITHMETIC, *BITWISE)


def is_range(context: RuleContext, node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and is_builtin(context, node.func, "builtins.range")


def is_builtin(context: RuleContext, node: cst.CSTNode, *qualified: str) -> bool:
    """`node` is one of the builtins `qualified`; a name a star import might bring in
    (`from pkg.utils import *`) but that the file never binds is taken as the builtin."""
    if context.resolves_to(node, *qualified):
        return True
    return (
        isinstance(node, cst.Name)
        and f"builtins.{node.value}" in qualified
        and context.semantic.lookup(node.value, node) is None
        and bool(context.semantic.module_scope.star_imports)
    )


def is_numba_decorator(context: RuleContext, decorator: cst.Decorator) -> bool:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    return context.resolves_under(expr, "numba") is not None


def calls_jitted(context: RuleContext, func: cst.BaseExpression) -> bool:
    """`func` names a module-level function of the file decorated by Numba: calling it
    from compiled code keeps the caller compilable."""
    definition = context.semantic.definition(func)
    return (
        isinstance(definition, cst.FunctionDef)
        and any(statement is definition for statement in context.module.body)
        and any(is_numba_decorator(context, d) for d in definition.decorators)
    )


def numba_call_arguments(context: RuleContext) -> set[str]:
    """Names passed to a numba call anywhere in the file: `njit(f)`, `numba.jit(nopython=True)(f)`,
    `cuda.jit(f)`, `vectorize([...])(f)`."""
    if not context.semantic.imports_module("numba"):
        return set()
    names: set[str] = set()
    for node in walk(context.module):
        if not isinstance(node, cst.Call):
            continue
        func = node.func.func if isinstance(node.func, cst.Call) else node.func
        if context.resolves_under(func, "numba") is not None:
            names.update(arg.value.value for arg in node.args if isinstance(arg.value, cst.Name))
    return names
