"""GL202 dataframe-grow-in-loop."""

from __future__ import annotations

import ast

import libcst as cst

from green_lint.rule import Rule
from green_lint.rules._data import enclosing_loop
from green_lint.rules._data_frames import POLARS, Frames, imports_pandas
from green_lint.rules._data_nodes import is_simple_reference, subscript_indices
from green_lint.rules._loop_prefilter import aliases_of, called_name, nodes_in_loops
from green_lint.rules._syntax import argument, code

CONCAT = "pandas.concat"
APPEND_METHODS = frozenset({"append", "_append"})
ADVICE = (
    "collect the pieces in a list inside the loop and call `pd.concat(pieces, ignore_index=True)` "
    "once after it (or build the rows as dicts and make one `pd.DataFrame(rows)`)"
)


class DataframeGrowInLoop(Rule):
    """
    ## What it does
    Flags a pandas DataFrame grown one piece at a time inside a loop (`for`/`while`, also
    under an `if`/`try` in the loop body): `df = pd.concat([df, piece])`,
    `df = df.append(row)` and `df.loc[len(df)] = row`.

    ## Why it wastes energy
    A DataFrame is a set of fixed-size NumPy columns: it cannot grow in place. Every
    `concat`/`append` copies all the rows gathered so far into new arrays, so n
    iterations copy 1 + 2 + ... + n rows: quadratic time, memory traffic and energy for a
    linear job. `df.loc[len(df)] = row` enlarges the frame (and its index) on every
    assignment too.

    ## Example
    ```python
    results = pd.DataFrame()
    for name in files:
        part = pd.read_csv(name)
        results = pd.concat([results, part], ignore_index=True)
    ```

    ## Use instead
    ```python
    parts = [pd.read_csv(name) for name in files]
    results = pd.concat(parts, ignore_index=True)
    ```
    Or collect the rows as dicts in a list and build `pd.DataFrame(rows)` once.

    ## Fix safety
    No fix: where the pieces are gathered, and whether code in the loop reads the growing
    frame, needs a human.

    ## Evidence
    - pandas user guide, "Merge, join, concatenate and compare": "concat() makes a full
      copy of the data, and iteratively reusing concat() can create unnecessary copies.
      Collect all DataFrame or Series objects in a list before using concat()."
      https://pandas.pydata.org/docs/user_guide/merging.html
    - `DataFrame.append` was deprecated in pandas 1.4 and removed in 2.0 for this reason
      (pandas-dev/pandas#35407). https://github.com/pandas-dev/pandas/issues/35407
    - The cost grows with the square of the number of iterations; no single published
      energy figure applies: measure yours with `green-lint verify`.
    """

    code = "GL202"
    name = "dataframe-grow-in-loop"
    summary = "DataFrame grown inside a loop copies all rows every time; collect the pieces and concat once"
    triggers = tuple(("pandas", growth) for growth in ("concat", ".append(", ".loc["))

    def __init__(self, context, options=None) -> None:
        super().__init__(context, options)
        self.frames = Frames(context)

    @classmethod
    def may_flag(cls, tree: ast.Module, text: str, project_function=None) -> bool:
        """A frame grows only by an assignment inside a loop: to `x.loc[...]`, or of a
        `concat(...)` call (or an alias of it), or of an `x.append(...)` call."""
        concat = aliases_of(tree, text, frozenset({"concat"}))
        for node in nodes_in_loops(tree, text):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target, value = node.targets[0], node.value
            grows_by_loc = (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "loc"
            )
            appends = (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr in APPEND_METHODS
            )
            if grows_by_loc or appends:
                return True
            if any(isinstance(inner, ast.Call) and called_name(inner) in concat for inner in ast.walk(value)):
                return True
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not imports_pandas(self.context):
            return
        target = node.targets[0].target
        message = self._concat(target, node.value) or self._append(target, node.value) or self._loc(target)
        if message is None:
            return
        loop = enclosing_loop(self.context.stack)
        if loop is None:
            return
        self.report(node, message)

    def _concat(self, target: cst.BaseExpression, value: cst.BaseExpression) -> str | None:
        """`df = pd.concat([df, piece])` (also followed by `.reset_index(...)` etc.)."""
        if not _is_stable(target):
            return None
        call = _innermost_call(value)
        while call is not None:
            if self.context.resolves_to(call.func, CONCAT):
                pieces = argument(call, 0, "objs")
                if isinstance(pieces, cst.List | cst.Tuple) and any(
                    code(element.value) == code(target) for element in pieces.elements
                ):
                    name = code(target)
                    return (
                        f"`{name} = {code(call.func)}([{name}, ...])` in a loop copies every row gathered "
                        f"so far on each iteration (quadratic): {ADVICE}."
                    )
                return None
            call = _receiver_call(call)
        return None

    def _append(self, target: cst.BaseExpression, value: cst.BaseExpression) -> str | None:
        """`df = df.append(row)` where `df` is a frame (or of unknown origin in a pandas file)."""
        if not (
            _is_stable(target)
            and isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in APPEND_METHODS
            and code(value.func.value) == code(target)
        ):
            return None
        if isinstance(target, cst.Name):
            # A list (`x = []`) or a polars frame has an `append` of its own.
            values = self.context.values.every_assignment(target)
            if any(isinstance(v, cst.List | cst.ListComp) or _is_list_call(self.context, v) for v in values):
                return None
            if any(self.frames.origin(v) == POLARS for v in values):
                return None
        name = code(target)
        return (
            f"`{name} = {name}.{value.func.attr.value}(...)` in a loop copies the whole frame on each "
            f"iteration (quadratic; `DataFrame.append` was removed in pandas 2.0 for this reason): {ADVICE}."
        )

    def _loc(self, target: cst.BaseExpression) -> str | None:
        """`df.loc[len(df)] = row` (also `df.shape[0]`, `len(df.index)`)."""
        if not (
            isinstance(target, cst.Subscript)
            and isinstance(target.value, cst.Attribute)
            and target.value.attr.value == "loc"
        ):
            return None
        frame = target.value.value
        indices = subscript_indices(target)
        if not indices or len(indices) != 1 or not self._is_length_of(indices[0], frame):
            return None
        if self.frames.origin(frame) == POLARS:
            return None
        name = code(frame)
        return (
            f"`{name}.loc[{code(indices[0])}] = ...` in a loop enlarges the frame one row at a time, "
            f"reallocating its columns: {ADVICE}."
        )

    def _is_length_of(self, expr: cst.BaseExpression, frame: cst.BaseExpression) -> bool:
        frame_code = code(frame)
        if (
            isinstance(expr, cst.Call)
            and self.context.resolves_to(expr.func, "builtins.len")
            and len(expr.args) == 1
        ):
            sized = expr.args[0].value
            if isinstance(sized, cst.Attribute) and sized.attr.value == "index":
                sized = sized.value
            return code(sized) == frame_code
        if (
            isinstance(expr, cst.Subscript)
            and isinstance(expr.value, cst.Attribute)
            and expr.value.attr.value == "shape"
        ):
            indices = subscript_indices(expr)
            return (
                code(expr.value.value) == frame_code
                and indices is not None
                and len(indices) == 1
                and isinstance(indices[0], cst.Integer)
                and indices[0].value == "0"
            )
        return False


def _is_stable(node: cst.BaseExpression) -> bool:
    """`df`, `self.df`, `frames[key]`, `frames["a"]`: the same place when written twice."""
    if is_simple_reference(node):
        return True
    if isinstance(node, cst.Subscript) and _is_stable(node.value):
        indices = subscript_indices(node)
        return bool(indices) and all(
            isinstance(i, cst.Name | cst.Integer | cst.SimpleString) or is_simple_reference(i)
            for i in indices
        )
    return False


def _innermost_call(value: cst.BaseExpression) -> cst.Call | None:
    return value if isinstance(value, cst.Call) else None


def _receiver_call(call: cst.Call) -> cst.Call | None:
    """`pd.concat(...)` of `pd.concat(...).reset_index(drop=True)`."""
    if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Call):
        return call.func.value
    return None


def _is_list_call(context, value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Call) and context.resolves_to(value.func, "builtins.list")
