"""The shapes GL201 recognises: a `range(len(df))` / `df.index` loop and the cells it reads,
chained cells `df["c"][i]`, and the arguments of a row-wise `apply(func, axis=1)`."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data_nodes import is_name, string_key, subscript_indices
from green_lint.rules._syntax import argument

# Receivers whose `.apply(..., axis=1)` is not a row loop over a frame.
NOT_FRAMES = frozenset({"groupby", "rolling", "expanding", "ewm", "resample", "style", "str", "dt"})
ACCESSORS = frozenset({"loc", "iloc", "at", "iat"})
# `len(df.<these>)` is not the number of rows.
NOT_ROWS = frozenset({"columns", "dtypes", "axes", "T", "keys", "names", "levels"})


def indexed_frame(context: RuleContext, iterable: cst.BaseExpression) -> cst.BaseExpression | None:
    """`df` of `range(len(df))`, `range(0, len(df))`, `range(df.shape[0])`, `df.index`."""
    if isinstance(iterable, cst.Attribute) and iterable.attr.value == "index":
        return iterable.value
    if not (isinstance(iterable, cst.Call) and context.resolves_to(iterable.func, "builtins.range")):
        return None
    args = [arg.value for arg in iterable.args if arg.keyword is None and not arg.star]
    if len(args) == 2 and isinstance(args[0], cst.Integer) and args[0].value == "0":
        args = args[1:]
    if len(args) != 1:
        return None
    size = args[0]
    if isinstance(size, cst.Call) and context.resolves_to(size.func, "builtins.len") and len(size.args) == 1:
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
        if indices and len(indices) == 1 and isinstance(indices[0], cst.Integer) and indices[0].value == "0":
            return size.value.value
        return None
    return None


def single_parameter(function: cst.Lambda) -> str | None:
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


def axis_is_columns(call: cst.Call) -> bool:
    value = argument(call, 1, "axis")
    if isinstance(value, cst.Integer):
        return value.value == "1"
    return string_key(value) is not None and value.evaluated_value == "columns"


def not_a_frame(receiver: cst.BaseExpression) -> bool:
    """`df.groupby(...).apply`, `df.rolling(...).apply`, `df.style.apply`, `s.str.apply`."""
    if isinstance(receiver, cst.Call):
        receiver = receiver.func
    return isinstance(receiver, cst.Attribute) and receiver.attr.value in NOT_FRAMES


def chained_cell(node: cst.CSTNode, frame: cst.BaseExpression, index: str) -> bool:
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
        and is_name(cell_indices[0], index)
    )


def indexes_with(node: cst.CSTNode, index: str) -> bool:
    """`X.loc[i, ...]`, `X.iloc[i]`, `X.at[i, ...]`, `X.iat[i, ...]` with the loop variable."""
    if not (
        isinstance(node, cst.Subscript)
        and isinstance(node.value, cst.Attribute)
        and node.value.attr.value in ACCESSORS
    ):
        return False
    first = node.slice[0].slice
    return isinstance(first, cst.Index) and is_name(first.value, index)
