"""GL201 dataframe-row-loop."""

from __future__ import annotations

import libcst as cst

from green_lint.rule import Fix, Rule
from green_lint.rules._data import (
    PANDAS,
    POLARS,
    SERIES_ATTRIBUTES,
    Frames,
    block_statements,
    code,
    column_expression,
    column_of,
    defined_function_names,
    imports_pandas,
    is_literal,
    is_simple_reference,
    label_access,
    loop_body_lines,
    loop_bound_names,
    names_bound_in,
    needs_parentheses,
    not_a_definition,
    parenthesized,
    receiver_form,
    string_key,
    subscript_indices,
    walk,
)
from green_lint.rules._loops import COMPREHENSIONS

# Receivers whose `.apply(..., axis=1)` is not a row loop over a frame.
NOT_FRAMES = frozenset({"groupby", "rolling", "expanding", "ewm", "resample", "style", "str", "dt"})
ACCESSORS = frozenset({"loc", "iloc", "at", "iat"})
# Calls that keep a row loop vectorisable (arithmetic, building a list).
CHEAP_BUILTINS = tuple(
    f"builtins.{name}" for name in ("abs", "min", "max", "round", "int", "float", "bool", "len", "str", "sum")
)
CHEAP_METHODS = frozenset({"append", "extend", "add", "sum", "mean", "max", "min", "round"})
# `len(df.<these>)` is not the number of rows.
NOT_ROWS = frozenset({"columns", "dtypes", "axes", "T", "keys", "names", "levels"})
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
        self._own_functions: set[str] | None = None

    # -- receivers --------------------------------------------------------------------
    def _is_pandas_receiver(self, receiver: cst.BaseExpression, method: str) -> bool:
        if not imports_pandas(self.context):
            return False
        origin = self.frames.origin(receiver)
        if origin is not None:
            return origin != POLARS
        if self._own_functions is None:
            self._own_functions = defined_function_names(self.context.module)
        return method not in self._own_functions

    def _numpy(self) -> str:
        return self.context.imports.local_name_for("numpy") or "np"

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
        suggestion = self._row_loop_suggestion(site, receiver, method, direct) if direct else None
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
        leaf = _row_leaf(receiver, row.value)
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

    def _row_loop_suggestion(
        self, site: cst.CSTNode, receiver: cst.BaseExpression, method: str, direct: bool
    ) -> str | None:
        target = site.target
        if method == "iterrows":
            if not (
                isinstance(target, cst.Tuple)
                and len(target.elements) == 2
                and all(isinstance(e.value, cst.Name) for e in target.elements)
            ):
                return None
            index_name, row_name = (e.value.value for e in target.elements)
        else:
            if not isinstance(target, cst.Name):
                return None
            index_name, row_name = None, target.value
        if not is_simple_reference(receiver):
            return None
        frame_code = code(receiver)

        def leaf(node: cst.BaseExpression) -> cst.BaseExpression | None:
            if isinstance(node, cst.Subscript) and method == "iterrows" and _is_name(node.value, row_name):
                indices = subscript_indices(node)
                key = string_key(indices[0]) if indices and len(indices) == 1 else None
                return column_of(receiver, key) if key is not None else None
            if isinstance(node, cst.Attribute) and _is_name(node.value, row_name):
                return _attribute_column(receiver, node.attr.value)
            if index_name is not None:
                access = label_access(node, {index_name})
                if access is not None and code(access[0]) == frame_code:
                    return column_of(receiver, access[2])
            return None

        if isinstance(site, cst.For):
            bound = loop_bound_names(site)
            return self._body_suggestion(loop_body_lines(site), leaf, bound, index_name)
        comprehension = next(
            (a for a in reversed(self.context.stack) if isinstance(a, cst.ListComp | cst.GeneratorExp)), None
        )
        if comprehension is None or comprehension.for_in is not site or site.inner_for_in or site.ifs:
            return None
        bound = names_bound_in(comprehension)
        column = column_expression(comprehension.elt, leaf, lambda name: name not in bound)
        if column is None:
            return None
        stack = self.context.stack
        position = stack.index(comprehension)
        if (
            isinstance(comprehension, cst.GeneratorExp)
            and position >= 2
            and isinstance(stack[position - 1], cst.Arg)
            and isinstance(stack[position - 2], cst.Call)
            and len(stack[position - 2].args) == 1
            and self.context.resolves_to(stack[position - 2].func, "builtins.sum")
        ):
            return f"{code(receiver_form(column))}.sum()"
        return f"{code(receiver_form(column))}.tolist()"

    def _body_suggestion(self, statements, leaf, bound: set[str], index_name: str | None) -> str | None:
        """The whole-column form of a one-statement loop body, as text."""
        if len(statements) != 1:
            return None
        statement = statements[0]

        def allow(name: str) -> bool:
            return name not in bound

        def convert(expr):
            return column_expression(expr, leaf, allow)

        if isinstance(statement, cst.Assign) and len(statement.targets) == 1 and index_name is not None:
            access = label_access(statement.targets[0].target, {index_name})
            value = convert(statement.value)
            if access is not None and value is not None:
                return f"{code(column_of(access[0], access[2]))} = {code(value)}"
        if (
            isinstance(statement, cst.AugAssign)
            and isinstance(statement.operator, cst.AddAssign)
            and isinstance(statement.target, cst.Name)
        ):
            value = convert(statement.value)
            if value is not None:
                return f"{statement.target.value} += {code(receiver_form(value))}.sum()"
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            call = statement.value
            if (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "append"
                and isinstance(call.func.value, cst.Name)
                and len(call.args) == 1
            ):
                value = convert(call.args[0].value)
                if value is not None:
                    return f"{call.func.value.value}.extend({code(receiver_form(value))}.tolist())"
        if isinstance(statement, cst.If) and index_name is not None:
            return self._conditional_suggestion(statement, convert, index_name)
        return None

    def _conditional_suggestion(self, statement: cst.If, convert, index_name: str) -> str | None:
        """`if C: df.at[i, "c"] = A [else: df.at[i, "c"] = B]` -> np.where / .loc[mask]."""

        def single_assignment(block):
            lines = block_statements(block)
            if len(lines) != 1 or not isinstance(lines[0], cst.Assign) or len(lines[0].targets) != 1:
                return None
            access = label_access(lines[0].targets[0].target, {index_name})
            return (access, lines[0].value) if access is not None else None

        condition = convert(statement.test)
        then = single_assignment(statement.body)
        if condition is None or then is None:
            return None
        (frame, _, key), then_value = then
        then_column = convert(then_value) or (then_value if is_literal(then_value) else None)
        if then_column is None:
            return None
        if statement.orelse is None:
            return f"{code(frame)}.loc[{code(condition)}, {key.value}] = {code(then_column)}"
        if not isinstance(statement.orelse, cst.Else):
            return None
        other = single_assignment(statement.orelse.body)
        if (
            other is None
            or code(other[0][0]) != code(frame)
            or other[0][2].evaluated_value != key.evaluated_value
        ):
            return None
        else_column = convert(other[1]) or (other[1] if is_literal(other[1]) else None)
        if else_column is None:
            return None
        return (
            f"{code(column_of(frame, key))} = {self._numpy()}.where({code(condition)}, "
            f"{code(then_column)}, {code(else_column)})"
        )

    # -- apply(axis=1) ----------------------------------------------------------------
    def _apply(self, node: cst.Call) -> None:
        receiver = node.func.value
        if not _axis_is_columns(node) or _not_a_frame(receiver):
            return
        if not self._is_pandas_receiver(receiver, "apply"):
            return
        frame = code(receiver)
        head = (
            f"`{frame}.apply(..., axis=1)` calls the function once per row on a new Series "
            "(about 100x slower than a zip comprehension)"
        )
        function = _function_argument(node)
        column = self._apply_rewrite(node, receiver, function)
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
        suggestion = self._apply_suggestion(receiver, function)
        advice = f"write `{suggestion}`" if suggestion else GENERIC_ADVICE
        self.report(node, f"{head}: {advice}.")

    def _apply_rewrite(self, node: cst.Call, receiver, function) -> cst.BaseExpression | None:
        if not is_simple_reference(receiver) or not isinstance(function, cst.Lambda):
            return None
        row = _single_parameter(function)
        if row is None or len(node.args) != 2 or any(arg.star for arg in node.args):
            return None
        return column_expression(function.body, _row_leaf(receiver, row))

    def _apply_suggestion(self, receiver, function) -> str | None:
        if not is_simple_reference(receiver) or not isinstance(function, cst.Lambda):
            return None
        row = _single_parameter(function)
        if row is None:
            return None
        leaf = _row_leaf(receiver, row)

        def allow(name: str) -> bool:
            return name != row

        body = function.body
        if isinstance(body, cst.IfExp):
            parts = [column_expression(part, leaf, allow) for part in (body.test, body.body, body.orelse)]
            test = parts[0]
            values = [
                part if part is not None else (original if is_literal(original) else None)
                for part, original in zip(parts[1:], (body.body, body.orelse), strict=True)
            ]
            if test is not None and None not in values:
                return f"{self._numpy()}.where({code(test)}, {code(values[0])}, {code(values[1])})"
            return None
        column = column_expression(body, leaf, allow)
        return code(column) if column is not None else None

    # -- for i in range(len(df)) / df.index -------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        if not isinstance(node.target, cst.Name) or not imports_pandas(self.context):
            return
        frame = self._indexed_frame(node.iter)
        if frame is None or self.frames.origin(frame) == POLARS:
            return
        index = node.target.value
        nodes = list(walk(node.body, enter=not_a_definition))
        if not any(_indexes_with(n, index) for n in nodes):
            chained = self.frames.origin(frame) == PANDAS and any(
                _chained_cell(n, frame, index) for n in nodes
            )
            if chained:
                self._report_chained(node, frame, index)
            return
        bound = loop_bound_names(node)

        def leaf(expr):
            access = label_access(expr, {index})
            return column_of(access[0], access[2]) if access is not None else None

        suggestion = self._body_suggestion(loop_body_lines(node), leaf, bound, index)
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

    def _indexed_frame(self, iterable: cst.BaseExpression) -> cst.BaseExpression | None:
        """`df` of `range(len(df))`, `range(0, len(df))`, `range(df.shape[0])`, `df.index`."""
        if isinstance(iterable, cst.Attribute) and iterable.attr.value == "index":
            return iterable.value
        if not (isinstance(iterable, cst.Call) and self.context.resolves_to(iterable.func, "builtins.range")):
            return None
        args = [arg.value for arg in iterable.args if arg.keyword is None and not arg.star]
        if len(args) == 2 and isinstance(args[0], cst.Integer) and args[0].value == "0":
            args = args[1:]
        if len(args) != 1:
            return None
        size = args[0]
        if (
            isinstance(size, cst.Call)
            and self.context.resolves_to(size.func, "builtins.len")
            and len(size.args) == 1
        ):
            sized = size.args[0].value
            if isinstance(sized, cst.Attribute) and sized.attr.value == "index":
                return sized.value
            if isinstance(sized, cst.Attribute) and sized.attr.value in NOT_ROWS:
                return None  # `range(len(df.columns))` loops over columns, not rows
            return sized
        if (
            isinstance(size, cst.Subscript)
            and isinstance(size.value, cst.Attribute)
            and size.value.attr.value == "shape"
        ):
            indices = subscript_indices(size)
            if (
                indices
                and len(indices) == 1
                and isinstance(indices[0], cst.Integer)
                and indices[0].value == "0"
            ):
                return size.value.value
            return None
        return None


def _is_name(node: cst.CSTNode, name: str | None) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _attribute_column(frame: cst.BaseExpression, attribute: str) -> cst.BaseExpression | None:
    if attribute in SERIES_ATTRIBUTES or attribute.startswith("_"):
        return None
    return column_of(frame, cst.SimpleString(f'"{attribute}"'))


def _row_leaf(receiver: cst.BaseExpression, row: str):
    def leaf(node: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(node, cst.Subscript) and _is_name(node.value, row):
            indices = subscript_indices(node)
            key = string_key(indices[0]) if indices and len(indices) == 1 else None
            return column_of(receiver, key) if key is not None else None
        if isinstance(node, cst.Attribute) and _is_name(node.value, row):
            return _attribute_column(receiver, node.attr.value)
        return None

    return leaf


def _single_parameter(function: cst.Lambda) -> str | None:
    params = function.params
    if (
        len(params.params) != 1
        or params.posonly_params
        or params.kwonly_params
        or isinstance(params.star_arg, cst.Param)
        or params.star_kwarg is not None
        or params.params[0].default is not None
    ):
        return None
    return params.params[0].name.value


def _function_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "func":
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[0].value if positional else None


def _axis_is_columns(call: cst.Call) -> bool:
    value = None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "axis":
            value = arg.value
    if value is None:
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if len(positional) >= 2:
            value = positional[1].value
    if isinstance(value, cst.Integer):
        return value.value == "1"
    return string_key(value) is not None and value.evaluated_value == "columns"


def _not_a_frame(receiver: cst.BaseExpression) -> bool:
    """`df.groupby(...).apply`, `df.rolling(...).apply`, `df.style.apply`, `s.str.apply`."""
    if isinstance(receiver, cst.Call):
        receiver = receiver.func
    return isinstance(receiver, cst.Attribute) and receiver.attr.value in NOT_FRAMES


def _chained_cell(node: cst.CSTNode, frame: cst.BaseExpression, index: str) -> bool:
    """`frame["column"][i]`: a column of the looped frame, then its i-th cell."""
    if not (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Subscript)):
        return False
    column = node.value
    column_indices = subscript_indices(column)
    cell_indices = subscript_indices(node)
    return (
        column.value.deep_equals(frame)
        and column_indices is not None
        and len(column_indices) == 1
        and isinstance(column_indices[0], cst.SimpleString)
        and cell_indices is not None
        and len(cell_indices) == 1
        and _is_name(cell_indices[0], index)
    )


def _indexes_with(node: cst.CSTNode, index: str) -> bool:
    """`X.loc[i, ...]`, `X.iloc[i]`, `X.at[i, ...]`, `X.iat[i, ...]` with the loop variable."""
    if not (
        isinstance(node, cst.Subscript)
        and isinstance(node.value, cst.Attribute)
        and node.value.attr.value in ACCESSORS
    ):
        return False
    first = node.slice[0].slice
    return isinstance(first, cst.Index) and _is_name(first.value, index)
