"""GL203 python-numeric-loop."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.fixes import add_import
from green_lint.rule import Fix, Rule
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_loop_scan import LoopScan, is_small, while_counter
from green_lint.rules._numeric_numba import CallSites, NumbaCheck
from green_lint.rules._numeric_vocabulary import is_numba_decorator, is_range, numba_call_arguments

NUMPY = "numpy"

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
        self._arrays = Arrays(context)
        self._numba_arguments: set[str] | None = None

    def visit_For(self, node: cst.For) -> None:
        if is_range(self.context, node.iter):
            self._check(node, counter=None)

    def visit_While(self, node: cst.While) -> None:
        counter = while_counter(node)
        if counter is not None:
            self._check(node, counter=counter)

    def _check(self, node: cst.For | cst.While, counter: str | None) -> None:
        context = self.context
        if not context.semantic.imports_module(NUMPY):
            return
        if any(id(ancestor) in self._reported for ancestor in context.ancestors()):
            return
        function = context.enclosing(cst.FunctionDef)
        if self._compiled_by_numba():
            return
        scope = function if function is not None else context.module
        scan = LoopScan(context, self._arrays, scope)
        if counter is not None:
            scan.counter = counter
            scan.loop_variables.add(counter)
        scan.check_loop(node)
        if not scan.numeric or not scan.elementwise or is_small(context, node):
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
            self._numba_arguments = numba_call_arguments(context)
        for ancestor in context.ancestors():
            if isinstance(ancestor, cst.FunctionDef) and (
                ancestor.name.value in self._numba_arguments
                or any(is_numba_decorator(context, d) for d in ancestor.decorators)
            ):
                return True
        return False

    # -- the numba fix ----------------------------------------------------------------
    def _njit_fix(self, function: cst.FunctionDef) -> Fix | None:
        context = self.context
        if len(context.stack) < 2 or context.stack[1] is not function or function.decorators:
            return None
        if not NumbaCheck(context, self._arrays, function).compiles():
            return None
        if not CallSites(context, self._arrays, function).plausible():
            return None
        imports = context.semantic
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
