"""GL203 python-numeric-loop."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.fixes import add_import
from green_lint.rule import Fix, Rule
from green_lint.rules._data import block_statements, find_parameter, names_in, walk
from green_lint.rules._loops import target_names
from green_lint.walk import children

NUMPY = "numpy"
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
SCALAR_ANNOTATIONS = frozenset({"builtins.int", "builtins.float", "builtins.bool"})

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
BUILTIN_FUNCTIONS = frozenset({"range", "len", "abs", "min", "max", "int", "float", "bool", "round"})
ARRAY_METHODS = frozenset(
    {"sum", "mean", "min", "max", "prod", "std", "var", "argmin", "argmax", "copy", "cumsum", "ravel", "dot"}
)
ARRAY_ATTRIBUTES = frozenset({"shape", "size", "ndim", "T"})
ARITHMETIC = (
    cst.Add,
    cst.Subtract,
    cst.Multiply,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
    cst.BitAnd,
    cst.BitOr,
    cst.BitXor,
    cst.LeftShift,
    cst.RightShift,
)
COMPARISONS = (
    cst.LessThan,
    cst.LessThanEqual,
    cst.GreaterThan,
    cst.GreaterThanEqual,
    cst.Equal,
    cst.NotEqual,
)
# Loops over fewer elements than this (all bounds literal) are not worth a finding.
SMALL_TRIP_COUNT = 64
MAX_DEPTH = 8


# A `for i in range(...)` loop and element arithmetic like `out[i, j] = ...` or `a[i] * b`.
RANGE_LOOP = re.compile(r"\bfor\s+\w+\s+in\s+range\(|\bwhile\s+\w+\s*<")
ELEMENT_ARITHMETIC = re.compile(r"\b\w+\[\s*[a-z_]\w*\s*(?:,\s*[a-z_]\w*\s*)*\]\s*(?:[-+*/%]|[-+*/]?=(?!=))")


class PythonNumericLoop(Rule):
    """
    ## What it does
    Flags `for` loops over `range(...)`, and `while i < n:` loops that step a counter by
    `i += 1`, whose body does element-wise arithmetic on NumPy arrays by index
    (`out[i, j] = ...`, `a[i] * b[i]`): arrays made by `np.*` in the same function (or module), parameters annotated `np.ndarray` / `npt.NDArray`, and
    parameters indexed only as 2-D arrays (`x[i, j]`). Loops that do anything but numbers
    (print, plot, I/O, lists, strings, calls to other functions) are left alone, as are
    loops over a handful of literal elements. One finding per outermost such loop.

    ## Why it wastes energy
    Indexing a NumPy array from Python boxes every element into a Python object and runs
    each operation through the interpreter: the data is in compiled arrays, the work is
    not. The same arithmetic as a whole-array NumPy expression, or the same loop
    compiled by Numba, runs as machine code over contiguous memory.

    ## Example
    ```python
    def pairwise(points):
        n = points.shape[0]
        out = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                out[i, j] = math.sqrt(((points[i] - points[j]) ** 2).sum())
        return out
    ```

    ## Use instead
    ```python
    @numba.njit
    def pairwise(points):
        ...  # the same loop, compiled
    ```
    or the vectorised form: `np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))`.

    ## Fix safety
    Unsafe. The fix adds `@numba.njit` (and `import numba`) to a module-level function
    without decorators when everything in it is known to compile in Numba's nopython
    mode: numbers, NumPy arrays, `range` loops, `math` and a list of NumPy functions; no
    strings, lists, dicts, comprehensions, `print`, `try`, `with`, closures or calls to
    functions that are not themselves jitted; and its callers in the file pass NumPy
    arrays or numbers. Results can still differ: integers are 64-bit (they wrap instead of
    growing), the first call pays the compilation, and a caller elsewhere may pass a
    type Numba rejects. Other loops get advice only (vectorise, or move the loop into a
    `@numba.njit` function).

    ## Evidence
    - Measured on our CI machine with codecarbon 3.3 (machine mode): a Python loop vs
      NumPy over 3M floats, 75 ms vs 17.5 ms, an energy ratio of 4.2x
      (shared/CODECARBON.md, section 6); element-wise arithmetic with several arrays and
      nested loops widens the gap.
    - A harness comparing pure Python, NumPy and Numba (parallel included) on a row-wise
      function: https://aetperf.github.io/2022/03/03/Applying-a-row-wise-function-to-a-Pandas-dataframe.html
    - Numba's nopython mode and the NumPy features it supports:
      https://numba.readthedocs.io/en/stable/reference/numpysupported.html
    - For short loops the compilation of `njit` costs more than it saves: measure with
      `green-lint verify`.
    """

    code = "GL203"
    name = "python-numeric-loop"
    summary = "Element-wise Python loop over NumPy arrays; vectorise or compile it with numba.njit"
    fix_safety = "unsafe"
    triggers = (("numpy", RANGE_LOOP, ELEMENT_ARITHMETIC),)

    def __init__(self, context, options=None) -> None:
        super().__init__(context, options)
        self._reported: set[int] = set()
        self._arrays = _Arrays(context)
        self._numba_arguments: set[str] | None = None

    def visit_For(self, node: cst.For) -> None:
        if _is_range(self.context, node.iter):
            self._check(node, counter=None)

    def visit_While(self, node: cst.While) -> None:
        counter = _counter(node)
        if counter is not None:
            self._check(node, counter=counter)

    def _check(self, node: cst.For | cst.While, counter: str | None) -> None:
        context = self.context
        if not context.imports.imports_module(NUMPY):
            return
        if any(id(ancestor) in self._reported for ancestor in context.ancestors()):
            return
        function = context.enclosing(cst.FunctionDef)
        if self._compiled_by_numba():
            return
        scope = function if function is not None else context.module
        scan = _LoopScan(context, self._arrays, scope)
        if counter is not None:
            scan.counter = counter
            scan.loop_variables.add(counter)
        scan.check_loop(node)
        if not scan.numeric or not scan.elementwise or _is_small(context, node):
            return
        self._reported.add(id(node))
        arrays = ", ".join(f"`{name}`" for name in sorted(scan.arrays_used))
        head = (
            f"Element-wise Python loop over NumPy arrays {arrays}: each element is boxed and each "
            "operation interpreted (a Python loop used 4.2x the energy of NumPy on 3M floats, "
            "codecarbon, our measurement)"
        )
        fix = self._njit_fix(function) if function is not None else None
        if fix is not None:
            advice = f"compile `{function.name.value}` with `@numba.njit` (nothing in it stops Numba)"
        else:
            advice = (
                "write it as whole-array NumPy operations (slices, broadcasting, `np.where`), or "
                "move the loop into a function decorated with `@numba.njit`"
            )
        header_end = node.iter if isinstance(node, cst.For) else node.test
        self.report(node, f"{head}: {advice}.", end_node=header_end, fix=fix)

    def _compiled_by_numba(self) -> bool:
        """The loop is in a function that Numba compiles already: decorated (at any depth,
        e.g. an `impl` returned by an `@overload`) or passed to a numba call (`njit(f)`)."""
        context = self.context
        if self._numba_arguments is None:
            self._numba_arguments = _numba_call_arguments(context)
        for ancestor in context.ancestors():
            if isinstance(ancestor, cst.FunctionDef) and (
                ancestor.name.value in self._numba_arguments
                or any(_is_numba_decorator(context, d) for d in ancestor.decorators)
            ):
                return True
        return False

    # -- the numba fix ----------------------------------------------------------------
    def _njit_fix(self, function: cst.FunctionDef) -> Fix | None:
        context = self.context
        if len(context.stack) < 2 or context.stack[1] is not function or function.decorators:
            return None
        if not _NumbaCheck(context, self._arrays, function).compiles():
            return None
        if not _CallSites(context, self._arrays, function).plausible():
            return None
        imports = context.imports
        numba_local = imports.local_name_for("numba")
        njit_local = imports.local_name_for("numba.njit")
        changes: dict = {}
        if numba_local is not None:
            decorator = cst.Attribute(value=cst.Name(numba_local), attr=cst.Name("njit"))
        elif njit_local is not None:
            decorator = cst.Name(njit_local)
        else:
            decorator = cst.Attribute(value=cst.Name("numba"), attr=cst.Name("njit"))
            changes.update(add_import(context, "import numba\n", binds="numba"))
        changes[function] = function.with_changes(decorators=[cst.Decorator(decorator=decorator)])
        return Fix(f"Compile `{function.name.value}` with @numba.njit", changes, applicability="unsafe")


def _is_range(context, node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and context.resolves_to(node.func, "builtins.range")


def _is_numba_decorator(context, decorator: cst.Decorator) -> bool:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    return context.resolves_under(expr, "numba") is not None


def _index_names(node: cst.Subscript) -> set[str]:
    names: set[str] = set()
    for element in node.slice:
        names |= names_in(element.slice)
    return names


def _numba_call_arguments(context) -> set[str]:
    """Names passed to a numba call anywhere in the file: `njit(f)`, `numba.jit(nopython=True)(f)`,
    `cuda.jit(f)`, `vectorize([...])(f)`."""
    if not context.imports.imports_module("numba"):
        return set()
    names: set[str] = set()
    for node in walk(context.module):
        if not isinstance(node, cst.Call):
            continue
        func = node.func.func if isinstance(node.func, cst.Call) else node.func
        if context.resolves_under(func, "numba") is not None:
            names.update(arg.value.value for arg in node.args if isinstance(arg.value, cst.Name))
    return names


def _counter(loop: cst.While) -> str | None:
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
    assignments = [node for node in walk(loop.body) if name in _bound_names(node)]
    # The one step is the only binding of the counter in the body.
    return name if len(steps) == 1 and [id(node) for node in assignments] == [id(steps[0])] else None


def _steps_by_one(statement: cst.CSTNode, name: str) -> bool:
    return (
        isinstance(statement, cst.AugAssign)
        and _is_name(statement.target, name)
        and isinstance(statement.operator, cst.AddAssign)
        and isinstance(statement.value, cst.Integer)
        and statement.value.value == "1"
    )


def _bound_names(node: cst.CSTNode) -> set[str]:
    """The names an assignment (or a for loop) binds; `a[i] = ...` binds none."""
    if isinstance(node, cst.Assign):
        targets = [target.target for target in node.targets]
    elif isinstance(node, cst.AugAssign | cst.AnnAssign | cst.For | cst.NamedExpr):
        targets = [node.target]
    else:
        return set()
    return {name for target in targets for name in target_names(target)}


def _is_small(context, loop: cst.For | cst.While) -> bool:
    """All the loops of the nest run over literal ranges of few elements in total."""
    if isinstance(loop, cst.While):
        return False  # a counter's bound is not read
    trips = 1
    for node in walk(loop):
        if isinstance(node, cst.For):
            count = _literal_range_length(context, node.iter)
            if count is None:
                return False
            trips *= count
    return trips < SMALL_TRIP_COUNT


def _literal_range_length(context, node: cst.BaseExpression) -> int | None:
    if not _is_range(context, node):
        return None
    values = []
    for arg in node.args:
        if arg.keyword is not None or arg.star or not isinstance(arg.value, cst.Integer):
            return None
        values.append(int(arg.value.value, 0))
    if not 1 <= len(values) <= 3 or (len(values) == 3 and values[2] == 0):
        return None
    return len(range(*values))


# -- which names are NumPy arrays ---------------------------------------------------------
class _Arrays:
    """Whether a name (in a function or the module) holds a NumPy array."""

    def __init__(self, context) -> None:
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
        if isinstance(node, cst.Subscript) and _is_name(node.value, name):
            allowed.add(id(node.value))
            if len(node.slice) >= 2 and all(isinstance(e.slice, cst.Index) for e in node.slice):
                matrix_uses += 1
        elif isinstance(node, cst.Attribute):
            allowed.add(id(node.attr))
            if _is_name(node.value, name) and node.attr.value in ARRAY_ATTRIBUTES:
                allowed.add(id(node.value))
        elif isinstance(node, cst.Call):
            if _is_name(node.func, "len") and len(node.args) == 1 and _is_name(node.args[0].value, name):
                allowed.add(id(node.args[0].value))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            allowed.add(id(node.keyword))
        elif isinstance(node, cst.Name) and node.value == name and id(node) not in allowed:
            other_uses += 1
    return matrix_uses > 0 and not other_uses


def _is_name(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


# -- is the loop numeric, and element-wise ------------------------------------------------
class _LoopScan:
    """Walks a loop nest: only numbers and arrays in it (`numeric`), and arithmetic on
    array elements indexed by a loop variable (`elementwise`)."""

    def __init__(self, context, arrays: _Arrays, scope: cst.CSTNode) -> None:
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
        self.jitted = _jitted_functions(context)

    def _is_container(self, node: cst.BaseExpression) -> bool:
        """A name assigned a dict, set or string (indexing it is not array arithmetic)."""
        if not isinstance(node, cst.Name):
            return False
        values = self.context.assigned_values(node.value, self.scope)
        return any(
            isinstance(v, cst.Dict | cst.DictComp | cst.SimpleString | cst.FormattedString)
            or (isinstance(v, cst.Call) and self.context.resolves_to(v.func, "builtins.dict", "builtins.str"))
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
            if node.orelse is not None or not _is_range(self.context, node.iter):
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
            if any(writes) and self.element_reads > reads:
                # `out[i] = a[i]` copies element by element: as wasteful as arithmetic.
                self.arithmetic = True
        elif isinstance(node, cst.AugAssign):
            if not _is_name(node.target, self.counter or ""):  # `i += 1` steps a while loop
                self.arithmetic = True
            self._target(node.target)
            self._expr(node.value)
        elif isinstance(node, cst.Return):
            if node.value is not None:
                self._expr(node.value)
        elif not isinstance(node, cst.Pass | cst.Break | cst.Continue):
            self.numeric = False

    def _target(self, target: cst.BaseExpression) -> bool:
        """Check an assignment target; True when it is an array element."""
        if isinstance(target, cst.Name):
            return False
        if isinstance(target, cst.Tuple):
            return any([self._target(element.value) for element in target.elements])
        if (
            isinstance(target, cst.Subscript)
            and isinstance(target.value, cst.Name)
            and self.arrays.is_array(target.value.value, self.scope)
        ):
            for element in target.slice:
                self._slice(element.slice)
            return self._is_element(target)
        self.numeric = False
        return False

    def _is_element(self, node: cst.Subscript) -> bool:
        """`a[i]`, `a[i, j + 1]`: a known array indexed (no slices) with loop variables."""
        if not isinstance(node.value, cst.Name) or not self.arrays.is_array(node.value.value, self.scope):
            return False
        if not all(isinstance(e.slice, cst.Index) for e in node.slice):
            return False
        if not _index_names(node) & self.loop_variables:
            return False
        self.element_access = True
        self.arrays_used.add(node.value.value)
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
            elif self._is_container(node.value):
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
        if context.resolves_to(func, *(f"builtins.{name}" for name in BUILTIN_FUNCTIONS)):
            return True
        if isinstance(func, cst.Name) and func.value in self.jitted:
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


# -- does the function compile in nopython mode -------------------------------------------
class _NumbaCheck:
    def __init__(self, context, arrays: _Arrays, function: cst.FunctionDef) -> None:
        self.context = context
        self.arrays = arrays
        self.function = function
        self.locals = _local_names(function)
        self.constants = _module_numeric_constants(context.module)
        self.jitted = _jitted_functions(context)
        self.returns: list[bool] = []

    def compiles(self) -> bool:
        function = self.function
        if function.asynchronous is not None or not self._parameters_ok(function.params):
            return False
        statements = block_statements(function.body)
        if statements and _is_docstring(statements[0]):
            statements = statements[1:]
        if not statements or not all(self._statement(s) for s in statements):
            return False
        return len(set(self.returns)) <= 1  # all returns with a value, or none

    def _parameters_ok(self, params: cst.Parameters) -> bool:
        if params.posonly_params or params.kwonly_params or params.star_kwarg is not None:
            return False
        if not isinstance(params.star_arg, cst.MaybeSentinel):
            return False
        return all(p.default is None or _is_number(p.default) for p in params.params)

    def _block(self, block: cst.BaseSuite) -> bool:
        return all(self._statement(s) for s in block_statements(block))

    def _statement(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.For):
            return (
                node.orelse is None
                and isinstance(node.target, cst.Name)
                and _is_range(self.context, node.iter)
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
        return isinstance(node, cst.Pass | cst.Break | cst.Continue)

    def _target(self, target: cst.BaseExpression) -> bool:
        if isinstance(target, cst.Name):
            return True
        if isinstance(target, cst.Tuple):
            return all(isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in target.elements)
        if isinstance(target, cst.Subscript):
            return (
                isinstance(target.value, cst.Name)
                and target.value.value in self.locals
                and all(self._slice(e.slice) for e in target.slice)
            )
        return False

    def _expr(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        if depth > 50:
            return False
        depth += 1
        if isinstance(node, cst.Integer | cst.Float):
            return True
        if isinstance(node, cst.Name):
            return (
                node.value in self.locals or node.value in ("True", "False") or node.value in self.constants
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
            value = node.value
            local = isinstance(value, cst.Name) and value.value in self.locals
            shape = (
                isinstance(value, cst.Attribute)
                and value.attr.value in ("shape", "T")
                and isinstance(value.value, cst.Name)
                and value.value.value in self.locals
            )
            return (local or shape) and all(self._slice(e.slice, depth) for e in node.slice)
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
        if isinstance(func, cst.Name) and func.value in self.jitted:
            return not keywords
        builtin = context.qualified_name(func)
        if builtin is not None and builtin.startswith("builtins."):
            name = builtin.split(".", 1)[1]
            if name not in BUILTIN_FUNCTIONS or keywords:
                return False
            if name in ("min", "max"):
                return len(positional) >= 2
            if name == "range":
                return 1 <= len(positional) <= 3
            return len(positional) in ((1, 2) if name == "round" else (1,))
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


def _is_docstring(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.Expr) and isinstance(
        statement.value, cst.SimpleString | cst.ConcatenatedString
    )


def _is_number(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    return isinstance(node, cst.Integer | cst.Float)


def _local_names(function: cst.FunctionDef) -> set[str]:
    """Parameters and names bound by plain assignment or `for` in the function."""
    names = {p.name.value for p in function.params.params}
    for node in walk(
        function.body, enter=lambda n: not isinstance(n, cst.FunctionDef | cst.ClassDef | cst.Lambda)
    ):
        targets: list[cst.BaseExpression] = []
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, cst.AugAssign | cst.For):
            targets = [node.target]
        for target in targets:
            if isinstance(target, cst.Name):
                names.add(target.value)
            elif isinstance(target, cst.Tuple):
                names.update(e.value.value for e in target.elements if isinstance(e.value, cst.Name))
    return names


def _module_numeric_constants(module: cst.Module) -> set[str]:
    """Module-level names assigned exactly once, to a number."""
    counts: dict[str, list[cst.BaseExpression]] = {}
    for line in module.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for statement in line.body:
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    if isinstance(target.target, cst.Name):
                        counts.setdefault(target.target.value, []).append(statement.value)
    return {name for name, values in counts.items() if len(values) == 1 and _is_number(values[0])}


def _jitted_functions(context) -> set[str]:
    return {
        line.name.value
        for line in context.module.body
        if isinstance(line, cst.FunctionDef) and any(_is_numba_decorator(context, d) for d in line.decorators)
    }


# -- what the file passes to the function -------------------------------------------------
class _CallSites:
    """The function is only called (never passed around) with arrays or numbers."""

    def __init__(self, context, arrays: _Arrays, function: cst.FunctionDef) -> None:
        self.context = context
        self.arrays = arrays
        self.function = function

    def plausible(self) -> bool:
        name = self.function.name.value
        skip: set[int] = set()  # Name nodes that are not references (parents are seen first)
        pending: list[tuple[cst.CSTNode, cst.CSTNode]] = [(self.context.module, self.context.module)]
        while pending:
            node, scope = pending.pop()
            if isinstance(node, cst.FunctionDef):
                skip.add(id(node.name))
            elif isinstance(node, cst.Attribute):
                skip.add(id(node.attr))
            elif isinstance(node, cst.Arg) and node.keyword is not None:
                skip.add(id(node.keyword))
            elif isinstance(node, cst.Call) and _is_name(node.func, name):
                skip.add(id(node.func))
                if not all(not arg.star and self._numeric(arg.value, scope, 0) for arg in node.args):
                    return False
            elif isinstance(node, cst.Name) and node.value == name and id(node) not in skip:
                return False  # passed as a value: called with who knows what
            inner = node if isinstance(node, cst.FunctionDef) else scope
            pending.extend((child, inner) for child in reversed(list(children(node))))
        return True

    def _numeric(self, expr: cst.BaseExpression, scope: cst.CSTNode, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        context = self.context
        if _is_number(expr):
            return True
        if self.arrays.is_array_expr(expr, scope):
            return True
        if isinstance(expr, cst.BinaryOperation):
            return self._numeric(expr.left, scope, depth + 1) and self._numeric(expr.right, scope, depth + 1)
        if isinstance(expr, cst.Call):
            if context.resolves_to(expr.func, "builtins.len", "builtins.int", "builtins.float"):
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
                values = context.assigned_values(expr.value, scope)
                if not values:
                    scope = context.module
                    values = context.assigned_values(expr.value, scope)
            else:
                values = context.assigned_values(expr.value, scope)
            return bool(values) and all(self._numeric(v, scope, depth + 1) for v in values)
        return False
