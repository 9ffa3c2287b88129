"""Row expressions as whole-column expressions, for GL201's messages and fix: `row["a"]`,
`row.a` and `df.at[i, "a"]` become `df["a"]`, inside arithmetic and single comparisons."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from green_lint.rules._data_nodes import COMPARISONS, is_name, string_key, subscript_indices
from green_lint.rules._syntax import ARITHMETIC

# Attributes of a pandas row (a Series) that are not columns: `row.size` is the length.
SERIES_ATTRIBUTES = frozenset(
    {
        "T",
        "array",
        "at",
        "attrs",
        "axes",
        "cat",
        "dt",
        "dtype",
        "dtypes",
        "empty",
        "flags",
        "hasnans",
        "iat",
        "iloc",
        "index",
        "Index",
        "is_monotonic_decreasing",
        "is_monotonic_increasing",
        "is_unique",
        "loc",
        "name",
        "nbytes",
        "ndim",
        "plot",
        "shape",
        "size",
        "sparse",
        "str",
        "values",
        # methods (meaningless in arithmetic, but never a column access)
        "abs",
        "all",
        "any",
        "apply",
        "astype",
        "count",
        "copy",
        "get",
        "items",
        "keys",
        "map",
        "max",
        "mean",
        "median",
        "min",
        "mode",
        "prod",
        "rank",
        "round",
        "std",
        "sum",
        "to_dict",
        "to_list",
        "to_numpy",
        "tolist",
        "var",
    }
)


# -- whole-column rewrites ----------------------------------------------------------------
Leaf = Callable[[cst.BaseExpression], "cst.BaseExpression | None"]


def column_expression(
    expr: cst.BaseExpression, leaf: Leaf, allow_name: Callable[[str], bool] = lambda name: False
) -> cst.BaseExpression | None:
    """`expr` with every row access replaced by `leaf(access)` (a whole column), when
    `expr` is made only of such accesses, numbers, names allowed by `allow_name`,
    arithmetic and single comparisons; None otherwise or when no column is used."""
    used: list[cst.BaseExpression] = []
    result = _convert(expr, leaf, allow_name, used)
    return result if result is not None and used else None


def _convert(
    node: cst.BaseExpression, leaf: Leaf, allow_name: Callable[[str], bool], used: list
) -> cst.BaseExpression | None:
    # A function of the module, not a recursive closure: a closure that calls itself is a
    # reference cycle, which would keep the nodes it saw alive until the cyclic collector runs.
    column = leaf(node)
    if column is not None:
        used.append(node)
        return column.with_changes(lpar=node.lpar, rpar=node.rpar) if node.lpar else column
    if isinstance(node, cst.Integer | cst.Float):
        return node
    if isinstance(node, cst.Name):
        return node if allow_name(node.value) else None
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, ARITHMETIC):
        left = _convert(node.left, leaf, allow_name, used)
        right = _convert(node.right, leaf, allow_name, used)
        return None if left is None or right is None else node.with_changes(left=left, right=right)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus | cst.Plus):
        inner = _convert(node.expression, leaf, allow_name, used)
        return None if inner is None else node.with_changes(expression=inner)
    if (
        isinstance(node, cst.Comparison)
        and len(node.comparisons) == 1
        and isinstance(node.comparisons[0].operator, COMPARISONS)
    ):
        left = _convert(node.left, leaf, allow_name, used)
        right = _convert(node.comparisons[0].comparator, leaf, allow_name, used)
        if left is None or right is None:
            return None
        target = node.comparisons[0].with_changes(comparator=right)
        return node.with_changes(left=left, comparisons=[target])
    return None


def column_of(frame: cst.BaseExpression, key: cst.SimpleString) -> cst.Subscript:
    """`frame["key"]`."""
    return cst.Subscript(value=frame, slice=[cst.SubscriptElement(slice=cst.Index(value=key))])


def label_access(
    node: cst.BaseExpression, index_names: set[str]
) -> tuple[cst.BaseExpression, str, cst.SimpleString] | None:
    """`X.at[i, "c"]` / `X.loc[i, "c"]` with `i` in `index_names`: (X, accessor, "c")."""
    if not (
        isinstance(node, cst.Subscript)
        and isinstance(node.value, cst.Attribute)
        and node.value.attr.value in ("at", "loc")
    ):
        return None
    indices = subscript_indices(node)
    if indices is None or len(indices) != 2:
        return None
    row, column = indices
    key = string_key(column)
    if isinstance(row, cst.Name) and row.value in index_names and key is not None:
        return node.value.value, node.value.attr.value, key
    return None


def row_leaf(receiver: cst.BaseExpression, row: str) -> Leaf:
    """The column of `receiver` that `row["c"]` or `row.c` reads, for a row variable `row`."""

    def leaf(node: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(node, cst.Subscript) and is_name(node.value, row):
            indices = subscript_indices(node)
            key = string_key(indices[0]) if indices and len(indices) == 1 else None
            return column_of(receiver, key) if key is not None else None
        if isinstance(node, cst.Attribute) and is_name(node.value, row):
            return attribute_column(receiver, node.attr.value)
        return None

    return leaf


def attribute_column(frame: cst.BaseExpression, attribute: str) -> cst.BaseExpression | None:
    """`frame["attribute"]` for `row.attribute`, unless it is a Series attribute."""
    if attribute in SERIES_ATTRIBUTES or attribute.startswith("_"):
        return None
    return column_of(frame, cst.SimpleString(f'"{attribute}"'))
