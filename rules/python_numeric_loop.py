"""GL203 python-numeric-loop."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.fixes import add_import
from green_lint.rule import Fix, Rule
from green_lint.rules._numeric_advice import AdviceScan
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_index_loops import INDEX_ADVICE, IndexLoop
from green_lint.rules._numeric_loop_scan import LoopScan, is_small, while_counter
from green_lint.rules._numeric_numba import CallSites, NameUses, NumbaCheck
from green_lint.rules._numeric_prefilter import REDUCTION, may_hold_element_loops
from green_lint.rules._numeric_records import RecordLoop
from green_lint.rules._numeric_reductions import element_reduction
from green_lint.rules._numeric_vocabulary import is_numba_decorator, is_range, numba_call_arguments
from green_lint.rules._numeric_whole_arrays import is_group_loop_of_whole_arrays, touches_elements

NUMPY = "numpy"

# A loop (or a generator) and an element read by a variable: `a[i]`, `out[i, j]`, `p[r][c]`.
# Each pattern starts with a literal (`for`, `[`) and checks the word boundary before it
# with a lookbehind: Python's `re` then scans for the literal instead of trying every
# position, which makes the prefilter several times faster on large files.
LOOP = re.compile(r"for(?<=\bfor)\s+[\w\s,()]+\s+in\s|while(?<=\bwhile)\s+\w+\s*<")
RANGE_LOOP = re.compile(r"for(?<=\bfor)\s+\w+\s+in\s+range\(")
# Loops that hand out indices, and an element used in arithmetic or stored to (`a[i] *`,
# `out[i, j] =`, `s += x[k]`, `counts[idx[i]] +=`, `layer[0][word2index[w]] +=`,
# `bins[hash(i) % n] += 1`, `+= self.w[index]`): what every loop the rule flags has (the prefilter: a file without
# them is never parsed for GL203).
INDEX_LOOP = re.compile(
    r"for(?<=\bfor)\s+[\w\s,()]+\s+in\s+(?:range|enumerate|zip)\(|while(?<=\bwhile)\s+\w+\s*<"
)
ELEMENT_USE = re.compile(
    r"\[(?<=[\w\]]\[)(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]"
    r"\s*(?:[-+*/%]|[-+*/]?=(?!=))"
    r"|[-+*/=]=?\s*\(?\s*[\w.]+\[\s*[a-z_]\w*\s*[],]"
)
# `for x, y in zip(features, targets):`: a loop over records (accumulating with `+=`).
ZIP_LOOP = re.compile(r"for(?<=\bfor)\s+\w+\s*,[\w\s,]*\bin\s+zip\(")
# The builtin reductions over an index generator: `sum(w[i] for i in range(n) if ...)`.
REDUCER_NAMES = frozenset({"sum", "min", "max", "any", "all"})
BOXED = (
    "each element is boxed into a Python object and each operation interpreted (a Python loop "
    "used 4.2x the energy of NumPy on 3M floats, codecarbon, our measurement)"
)
# What to write instead, by the kind of element work the loop does (advice tier).
ADVICE = {
    "arithmetic": "write it as whole-array NumPy operations (slices, broadcasting, `np.where`, "
    "reductions with `axis=`), or move the loop into a function decorated with `@numba.njit`",
    "store": "compute all the elements at once (`np.diag(x)`, `p.argmax(axis=1)`, a kernel or "
    "distance on whole matrices with broadcasting), or move the loop into a `@numba.njit` function",
    "scatter": "assign every element at once with fancy indexing (`onehot[np.arange(n), labels] = 1`, "
    "`out[indices] = values`)",
}


class PythonNumericLoop(Rule):
    """
    ## What it does
    Flags Python loops that work on array elements one at a time, in two tiers.

    Compilable loops: `for` loops over `range(...)`, and `while i < n:` loops that step a
    counter by `i += 1`, made only of numbers, arrays and what Numba compiles (`math`, a
    list of NumPy functions including `np.outer` and `np.linalg.solve`/`inv`/`det`/`norm`,
    casts, `print` of numbers), that read or write elements of NumPy arrays by index:
    arithmetic (`out[i, j] = ...`, `a[i] * b[i]`), copies, casts (`int(a[i])`), stores under
    a test, constants stored or scattered into elements (`eye[i, i] = 1.0`,
    `onehot[i, y[i]] = 1`), chained indexing (`p[i][j]`).

    Other element-wise loops, advice only: loops over `range`, `enumerate` or an array whose
    body also calls the user's functions or prints text, when all they do is element work:
    arithmetic on elements (`total += self.alphas[i] * self.kernel(sv[i], x)`,
    `d += pow(x1[i] - x2[i], 2)`, `math.exp(v)` for `v` of `for v in arr`), a store into one
    element from elements (`out[r] = np.argmax(p[r])`, `k[i, j] = kernel(X[i], X[j])`,
    `m[i, i] = x[i]`), a scatter (`onehot[i, v] = 1` through `enumerate`,
    `labels[sample] = cluster`), or a torch tensor filled one element at a time
    (`scores[i] = self.score(h, enc[i])`). Also builtin reductions over a generator that
    index arrays: `sum(w[i] for i in range(len(y)) if y[i] == 1)`; loops over a collection
    of indices (or of words looked up to indices) that only gather, update or scatter one
    element or row per turn (`for index in review: layer_1 += weights[index]`,
    `for word in words: layer_0[0][word2index[word]] += 1`); and per-record loops over
    `zip(features, targets)` of arrays that compute with NumPy and add into an array
    accumulator (`del_w += error * x`). A per-sample loop over `range(batch_size)` is never
    taken as small: it runs again for every batch.

    Arrays are names made by `np.*` (or a random Generator), slices and masks of arrays,
    the results of `.predict(...)` / `.predict_proba(...)`, `self.x` attributes assigned
    arrays, parameters annotated `np.ndarray` / `npt.NDArray`, parameters the file's own
    call sites pass arrays to, parameters indexed only as 2-D arrays, and (advice only) a
    parameter that bounds the loop by `range(len(p))` and is indexed in arithmetic. Loops
    that also train, plot or do I/O, loops over text or dicts, loops over a handful of
    elements (literal or constant bounds), mask stores, per-row user functions
    (`predict_row(X[i, :])`), integer token tensors, and loops already compiled by Numba
    are left alone. One finding per outermost such loop.

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
    Unsafe, and only for the compilable tier. The fix adds `@numba.njit` (and
    `import numba`) to a module-level function without decorators when everything in it is
    known to compile in Numba's nopython mode: numbers, NumPy arrays, `range` loops, `math`,
    a list of NumPy functions and `print` of numbers; no strings, lists, dicts,
    comprehensions, `try`, `with`, closures or calls to functions that are not themselves
    jitted; and its callers in the file pass NumPy arrays or numbers. Results can still
    differ: integers are 64-bit (they wrap instead of growing), the first call pays the
    compilation, `np.linalg` needs SciPy at run time, and a caller elsewhere may pass a
    type Numba rejects. Every other finding (methods, module-level loops, the advice tier,
    generator reductions, torch tensors) gets advice only: vectorise, use fancy indexing,
    or move the loop into a `@numba.njit` function.

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
    # A model's predictions are arrays too, in a file that never imports NumPy.
    triggers = (
        (NUMPY, LOOP, ELEMENT_USE),  # `for index in review:` as well as `for i in range(n):`
        (NUMPY, LOOP, "math."),  # `for v in arr: math.exp(v)`
        (NUMPY, ZIP_LOOP, "+="),  # `for x, y in zip(X, Y): del_w += ...`
        ("torch", RANGE_LOOP, ELEMENT_USE),
        (NUMPY, REDUCTION),
        (".predict", REDUCTION),
        (".predict", INDEX_LOOP, ELEMENT_USE),
    )

    @classmethod
    def may_flag(cls, tree, text: str, project_function=None) -> bool:
        return may_hold_element_loops(tree, text)

    def __init__(self, context, options=None) -> None:
        super().__init__(context, options)
        self._reported: set[int] = set()
        # Loops inside a nest that indexes nothing by its loop variables.
        self._quiet_loops: set[int] = set()
        self._arrays = Arrays(context)
        self._numba_arguments: set[str] | None = None
        self._name_uses: NameUses | None = None

    def visit_For(self, node: cst.For) -> None:
        self._check(node, counter=None)

    def visit_While(self, node: cst.While) -> None:
        counter = while_counter(self.context, node)
        if counter is not None:
            self._check(node, counter=counter)

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Name) or node.func.value not in REDUCER_NAMES:
            return
        if not self._candidate_place():
            return
        arrays = element_reduction(self.context, self._arrays, node)
        if arrays:
            names = ", ".join(f"`{name}`" for name in arrays)
            self.report(
                node,
                f"`{node.func.value}(...)` over a generator reads NumPy arrays {names} one element at a "
                f"time: {BOXED}: reduce the whole array instead, with a boolean mask "
                "(`w[label == 1].sum()`, `np.count_nonzero((p > 0.5) != y)`, `np.max(a[mask])`).",
            )

    def _candidate_place(self) -> bool:
        context = self.context
        if any(id(ancestor) in self._reported for ancestor in context.ancestors()):
            return False
        return not self._compiled_by_numba()

    def _check(self, node: cst.For | cst.While, counter: str | None) -> None:
        context = self.context
        if not self._candidate_place():
            return
        # A record loop indexes nothing: looked at before the element test (and its quiet loops).
        if isinstance(node, cst.For) and self._record_loop(node):
            return
        if id(node) in self._quiet_loops:
            return
        touches, inner_loops = touches_elements(node, counter)
        if not touches:
            # Its inner loops see fewer loop variables: none of them touches elements either.
            self._quiet_loops.update(inner_loops)
            return
        function = context.enclosing(cst.FunctionDef)
        scope = function if function is not None else context.module
        if is_group_loop_of_whole_arrays(context, self._arrays, node, scope):
            return
        if context.semantic.imports_module(NUMPY) and (counter is not None or is_range(context, node.iter)):
            scan = LoopScan(context, self._arrays, scope)
            if counter is not None:
                scan.counter = counter
                scan.loop_variables.add(counter)
            scan.check_loop(node)
            if scan.numeric and scan.elementwise:
                if not is_small(context, node):
                    self._report_compilable(node, function, scan.arrays_used)
                return
        advice = AdviceScan(context, self._arrays, scope)
        advice.scan(node, counter)
        # Looked at last: few loops get this far, and a walk of the nest is not free.
        if advice.found is not None and not is_small(context, node):
            self._report_advice(node, advice.found, advice.arrays_used)
        elif advice.found is None and isinstance(node, cst.For):
            index_loop = IndexLoop(context, self._arrays, scope)
            index_loop.scan(node)
            if index_loop.found is not None and not is_small(context, node):
                self._report_index_loop(node, index_loop.found, index_loop.arrays_used)

    def _record_loop(self, node: cst.For) -> bool:
        """`for x, y in zip(features, targets):` computing on each record with NumPy and
        adding into an array accumulator (its rows are not indexed: no element test)."""
        function = self.context.enclosing(cst.FunctionDef)
        records = RecordLoop(
            self.context, self._arrays, function if function is not None else self.context.module
        )
        records.scan(node)
        if not records.found:
            return False
        self._reported.add(id(node))
        names = ", ".join(f"`{name}`" for name in sorted(records.arrays_used))
        message = (
            f"Python loop computes on the rows of {names} one record at a time and adds each result "
            "into an array: every record is a separate round of small NumPy calls: compute all the "
            "records at once with matrix products (`error = y - sigmoid(X @ w)`, `del_w = X.T @ error`)."
        )
        self.report(node, message, end_node=node.iter)
        return True

    def _report_compilable(self, node: cst.For | cst.While, function, arrays_used: set[str]) -> None:
        self._reported.add(id(node))
        arrays = ", ".join(f"`{name}`" for name in sorted(arrays_used))
        head = f"Element-wise Python loop over NumPy arrays {arrays}: {BOXED}"
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

    def _report_advice(self, node: cst.For | cst.While, kind: str, arrays_used: set[str]) -> None:
        self._reported.add(id(node))
        arrays = ", ".join(f"`{name}`" for name in sorted(arrays_used))
        header_end = node.iter if isinstance(node, cst.For) else node.test
        if kind == "tensor":
            message = (
                f"Python loop fills tensor {arrays} one element at a time: each element is a "
                "separate indexing call (a kernel launch and a sync on a GPU): compute all the "
                "elements in one tensor operation (`torch.bmm`, `@`, broadcasting, `.sum(dim=...)`)."
            )
        else:
            advice = ADVICE[kind]
            message = f"Element-wise Python loop over arrays {arrays}: {BOXED}: {advice}."
        self.report(node, message, end_node=header_end)

    def _report_index_loop(self, node: cst.For, kind: str, arrays_used: set[str]) -> None:
        self._reported.add(id(node))
        arrays = ", ".join(f"`{name}`" for name in sorted(arrays_used))
        verb = {"gather": "adds up rows of", "update": "updates", "scatter": "writes into"}[kind]
        message = (
            f"Python loop over a collection of indices {verb} NumPy array {arrays} one index at a "
            "time: each turn is an interpreted indexing call and a tiny array operation: "
            f"{INDEX_ADVICE[kind]}."
        )
        self.report(node, message, end_node=node.iter)

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
        if self._name_uses is None:
            self._name_uses = NameUses(context.module)
        if not CallSites(context, self._arrays, function, self._name_uses).plausible():
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
