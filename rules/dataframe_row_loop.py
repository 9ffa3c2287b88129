"""GL201 dataframe-row-loop."""

from __future__ import annotations

import libcst as cst

from green_lint.names import statements_of
from green_lint.rule import Fix, Rule
from green_lint.rules._data import loop_body_lines, loop_bound_names, not_a_definition, walk
from green_lint.rules._data_frames import PANDAS, POLARS, Frames, imports_pandas
from green_lint.rules._data_nodes import is_simple_reference, needs_parentheses, parenthesized
from green_lint.rules._rowloop_columns import column_of, label_access, row_leaf
from green_lint.rules._rowloop_shapes import (
    axis_is_columns,
    chained_cell,
    indexed_frame,
    indexes_with,
    not_a_frame,
)
from green_lint.rules._rowloop_suggestions import Suggestions
from green_lint.rules._syntax import argument, code
from green_lint.semantic.scopes import COMPREHENSIONS

# Calls that keep a row loop vectorisable (arithmetic, building a list).
CHEAP_BUILTINS = tuple(
    f"builtins.{name}" for name in ("abs", "min", "max", "round", "int", "float", "bool", "len", "str", "sum")
)
CHEAP_METHODS = frozenset({"append", "extend", "add", "sum", "mean", "max", "min", "round"})
GENERIC_ADVICE = (
    "write the body as whole-column operations (`np.where`/`np.select` for conditions), use "
    "Polars expressions for heavy pipelines, or run a true loop (state carried from row to row) "
    "with `numba.njit` over `df[cols].to_numpy()` arrays"
)
MEASURED = "1,161x the energy of the vectorised form on 200k rows, measured with codecarbon"


class DataframeRowLoop(Rule):
    """
    ## What it does
    Flags Python-level iteration over the rows of a pandas DataFrame: `for ... in
    df.iterrows()` / `df.itertuples()` (also in comprehensions), `df.apply(func, axis=1)`
    (or `axis="columns"`), and `for i in range(len(df))` / `for i in df.index` loops whose
    body reads or writes `df.loc[i, ...]`, `df.iloc[i]`, `df.at[i, ...]` or `df.iat[i, ...]`,
    or, when `df` is known to be a pandas frame, chained cells `df["column"][i]`.

    A receiver counts as a DataFrame when it comes from a pandas constructor or reader, a
    frame method, or a parameter annotated `pd.DataFrame`; when its origin is unknown, the
    rule still flags `iterrows`/`itertuples`/`apply(axis=1)` if the file imports pandas
    (these methods exist essentially only on pandas frames), but not when the file defines
    a function of the same name or the receiver is a Polars frame.

    ## Why it wastes energy
    pandas stores a frame as columns of NumPy arrays. A row loop builds a new Series (or
    tuple) for every row and runs the body in the interpreter, one boxed scalar at a time,
    where a whole-column expression runs one compiled loop. `iterrows` is about 235x
    slower than a list comprehension over `zip` of the columns, `apply(axis=1)` about
    100x, and a true vectorised expression is faster still.

    ## Example
    ```python
    for i, row in df.iterrows():
        df.at[i, "total"] = row["price"] * row["qty"]

    df["total"] = df.apply(lambda r: r["price"] * r["qty"], axis=1)
    ```

    ## Use instead
    ```python
    df["total"] = df["price"] * df["qty"]
    df["band"] = np.where(df["price"] > 100, "high", "low")  # conditions: np.where / np.select
    ```
    For heavy pipelines, Polars expressions; for a true loop (a state carried from row to
    row), a `numba.njit` function over `df[cols].to_numpy()` arrays.

    ## Fix safety
    Unsafe, offered only for `df.apply(lambda r: EXPR, axis=1)` where `EXPR` uses only
    `r["col"]` / `r.col`, numbers, arithmetic and single comparisons: it becomes the same
    expression on whole columns. The result can differ in edge cases: integer columns
    that `apply` would have upcast through an object row, NaN handling in comparisons, the
    result's name, and an empty frame (`apply` returns an empty DataFrame). Every other
    form gets a message naming the concrete alternative (the column expression when the
    loop body is one).

    ## Evidence
    - Row-wise timings for 100k rows (pandas 0.23): `iterrows` 11.6 s, `apply(axis=1)`
      4.83 s, `itertuples` 112 ms, list comprehension over `zip` 49.4 ms: `iterrows` is
      about 235x slower. Stack Overflow q. 52673285, mirrored at
      https://makemeengr.com/performance-of-pandas-apply-vs-np-vectorize-to-create-new-column-from-existing-columns/
    - Measured on our CI machine with codecarbon 3.3 (machine mode): `iterrows` vs the
      vectorised expression on 200k rows, 3.85 s vs 3.2 ms, an energy ratio of 1,161x
      (shared/CODECARBON.md, section 6).
    - A harness comparing iterrows, apply, itertuples, Polars and Numba:
      https://aetperf.github.io/2022/03/03/Applying-a-row-wise-function-to-a-Pandas-dataframe.html
    - Polars vs pandas energy (EASE 2024): Polars is more energy-efficient on large
      frames, no significant difference on small ones.
      https://conf.researchr.org/details/ease-2024/ease-2024-papers/12/An-Empirical-Study-on-the-Energy-Usage-and-Performance-of-Pandas-and-Polars-Data-Anal
    - The gap depends on the row count and the body: measure yours with `green-lint verify`.
    """

    code = "GL201"
    name = "dataframe-row-loop"
    summary = "Python-level loop over pandas rows; use whole-column expressions, Polars or Numba"
    fix_safety = "unsafe"
    triggers = tuple(
        ("pandas", access)
        for access in ("iterrows", "itertuples", "apply(", ".loc[", ".iloc[", ".at[", ".iat[")
    )

    def __init__(self, context, options=None) -> None:
        super().__init__(context, options)
        self.frames = Frames(context)
        self.suggestions = Suggestions(context)
        self._own_functions: set[str] | None = None

    # -- receivers --------------------------------------------------------------------
    def _is_pandas_receiver(self, receiver: cst.BaseExpression, method: str) -> bool:
        if not imports_pandas(self.context):
            return False
        origin = self.frames.origin(receiver)
        if origin is not None:
            return origin != POLARS
        if self._own_functions is None:
            self._own_functions = _defined_function_names(self.context.module)
        return method not in self._own_functions

    # -- iterrows / itertuples --------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method in ("iterrows", "itertuples"):
            self._row_iterator(node, method)
        elif method == "apply":
            self._apply(node)

    def _row_iterator(self, node: cst.Call, method: str) -> None:
        receiver = node.func.value
        if not self._is_pandas_receiver(receiver, method):
            return
        site, direct = self._iteration_site()
        if site is None:
            return
        frame = code(receiver)
        suggestion = self.suggestions.row_loop(site, receiver, method, direct) if direct else None
        advice = f"write `{suggestion}`" if suggestion else GENERIC_ADVICE
        call = self._per_row_call(site) if not suggestion else None
        if call is not None:
            # A call per row (I/O, a model, an API) may not take whole columns: iterate cheaply.
            columns = self._row_columns(site, method, receiver) if direct else []
            if len(columns) == 1:
                cheap = f"`{columns[0]}`"
            elif columns:
                cheap = f"`zip({', '.join(columns)})`"
            else:
                cheap = f"the rows of `{frame}.to_numpy()`"
            if method == "iterrows":
                cheap += f" or `{frame}.itertuples()` (about 100x faster than iterrows: no Series per row)"
            advice = (
                f"the body calls `{call}` for each row; if it cannot take whole columns, iterate over {cheap}"
            )
        if method == "iterrows":
            what = (
                f"`{frame}.iterrows()` builds a pandas Series for every row and runs the body in the "
                f"interpreter (about 235x slower than a zip comprehension; {MEASURED})"
            )
        else:
            what = (
                f"`{frame}.itertuples()` runs the body in the interpreter once per row (about 2x "
                "slower than a zip comprehension, and far slower than whole-column operations)"
            )
        self.report(node, f"{what}: {advice}.")

    def _per_row_call(self, site: cst.CSTNode) -> str | None:
        """The first call in the loop body that is not arithmetic or list building."""
        if isinstance(site, cst.For):
            parts: list[cst.CSTNode] = [site.body]
        else:
            comprehension = next(
                (a for a in reversed(self.context.stack) if isinstance(a, COMPREHENSIONS)), None
            )
            if comprehension is None:
                return None
            parts = [
                getattr(comprehension, name)
                for name in ("elt", "key", "value")
                if hasattr(comprehension, name)
            ]
        for part in parts:
            for node in walk(part, enter=not_a_definition):
                if isinstance(node, cst.Call) and not self._is_cheap_call(node):
                    return code(node.func)
        return None

    def _is_cheap_call(self, node: cst.Call) -> bool:
        context = self.context
        if context.resolves_to(node.func, *CHEAP_BUILTINS) or context.resolves_under(
            node.func, "math", "numpy"
        ):
            return True
        func = node.func
        return isinstance(func, cst.Attribute) and func.attr.value in CHEAP_METHODS

    def _row_columns(self, site: cst.CSTNode, method: str, receiver: cst.BaseExpression) -> list[str]:
        """`df["a"]`, `df["b"]` for the columns the loop reads through its row variable."""
        target = site.target
        if method == "iterrows" and isinstance(target, cst.Tuple) and len(target.elements) == 2:
            row = target.elements[1].value
        else:
            row = target
        if not isinstance(row, cst.Name) or not is_simple_reference(receiver):
            return []
        leaf = row_leaf(receiver, row.value)
        columns: dict[str, None] = {}
        scope = (
            site.body if isinstance(site, cst.For) else self.context.stack[self.context.stack.index(site) - 1]
        )
        for node in walk(scope, enter=not_a_definition):
            column = leaf(node) if isinstance(node, cst.Subscript | cst.Attribute) else None
            if column is not None:
                columns[code(column)] = None
        return list(columns)

    def _iteration_site(self) -> tuple[cst.CSTNode | None, bool]:
        """The For/CompFor whose iterable is the current call (possibly wrapped in calls such
        as `enumerate(...)` or `tqdm(...)`), and whether it is the iterable itself."""
        stack = self.context.stack
        child = stack[-1]
        direct = True
        for ancestor in reversed(stack[:-1]):
            if isinstance(ancestor, cst.Arg) and ancestor.keyword is None and not ancestor.star:
                child = ancestor
                continue
            if isinstance(ancestor, cst.Call) and isinstance(child, cst.Arg):
                if self.context.resolves_to(ancestor.func, "builtins.next"):
                    return None, False
                child, direct = ancestor, False
                continue
            if isinstance(ancestor, cst.For | cst.CompFor) and child is ancestor.iter:
                return ancestor, direct
            return None, False
        return None, False

    # -- apply(axis=1) ----------------------------------------------------------------
    def _apply(self, node: cst.Call) -> None:
        receiver = node.func.value
        if not axis_is_columns(node) or not_a_frame(receiver):
            return
        if not self._is_pandas_receiver(receiver, "apply"):
            return
        frame = code(receiver)
        head = (
            f"`{frame}.apply(..., axis=1)` calls the function once per row on a new Series "
            "(about 100x slower than a zip comprehension)"
        )
        function = argument(node, 0, "func")
        column = self.suggestions.apply_fix(node, receiver, function)
        if column is not None:
            new = column.with_changes(lpar=node.lpar, rpar=node.rpar) if node.lpar else column
            if needs_parentheses(new, self.context.parent):
                new = parenthesized(new)
            self.report(
                node,
                f"{head}: the same arithmetic on whole columns is `{code(column)}`.",
                fix=Fix("Compute the expression on whole columns", {node: new}, applicability="unsafe"),
            )
            return
        suggestion = self.suggestions.apply(receiver, function)
        advice = f"write `{suggestion}`" if suggestion else GENERIC_ADVICE
        self.report(node, f"{head}: {advice}.")

    # -- for i in range(len(df)) / df.index -------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        if not isinstance(node.target, cst.Name) or not imports_pandas(self.context):
            return
        frame = indexed_frame(self.context, node.iter)
        if frame is None or self.frames.origin(frame) == POLARS:
            return
        index = node.target.value
        nodes = list(walk(node.body, enter=not_a_definition))
        if not any(indexes_with(n, index) for n in nodes):
            chained = self.frames.origin(frame) == PANDAS and any(
                chained_cell(n, frame, index) for n in nodes
            )
            if chained:
                self._report_chained(node, frame, index)
            return
        bound = loop_bound_names(node)

        def leaf(expr):
            access = label_access(expr, {index})
            return column_of(access[0], access[2]) if access is not None else None

        suggestion = self.suggestions.body(loop_body_lines(node), leaf, bound, index)
        advice = f"write `{suggestion}`" if suggestion else GENERIC_ADVICE
        self.report(
            node,
            f"`for {index} in {code(node.iter)}` reads and writes `{code(frame)}` one cell at a time "
            "through `.loc`/`.iloc`/`.at`/`.iat`, each an interpreted index lookup: "
            f"{advice}.",
            end_node=node.iter,
        )

    def _report_chained(self, node: cst.For, frame: cst.BaseExpression, index: str) -> None:
        self.report(
            node,
            f"`for {index} in {code(node.iter)}` reads and writes `{code(frame)}` one cell at a time "
            f'through chained indexing (`{code(frame)}["column"][{index}]`): each cell is a Series '
            "lookup, and a write may land on a copy (pandas' SettingWithCopyWarning; with "
            f"copy-on-write it never reaches `{code(frame)}`): {GENERIC_ADVICE}.",
            end_node=node.iter,
        )


def _defined_function_names(module: cst.Module) -> set[str]:
    """Names of every function and method the file defines (at any depth)."""
    return {s.name.value for s in statements_of(module) if isinstance(s, cst.FunctionDef)}
