"""Where a frame expression comes from: a pandas DataFrame, a Polars frame, or unknown.

An expression is a pandas frame when it is a call of a pandas constructor or reader, a
frame method on a pandas frame, a column list `df[["a", "b"]]`, or a name whose every
assignment (or parameter annotation) says so; Polars likewise. Used by GL201 and GL202.
"""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data_nodes import subscript_indices

PANDAS = "pandas"
POLARS = "polars"

# The pandas readers that load a whole file each time they are called (GL204 reads these).
PANDAS_FILE_READERS = frozenset(
    f"pandas.{name}"
    for name in (
        "read_csv",
        "read_table",
        "read_parquet",
        "read_json",
        "read_excel",
        "read_feather",
        "read_pickle",
        "read_orc",
        "read_hdf",
        "read_stata",
        "read_sas",
        "read_xml",
        "read_fwf",
    )
)
# Module-level pandas functions that return a DataFrame.
FRAME_FUNCTIONS = PANDAS_FILE_READERS | frozenset(
    f"pandas.{name}"
    for name in (
        "DataFrame",
        "DataFrame.from_dict",
        "DataFrame.from_records",
        "read_spss",
        "read_html",
        "read_sql",
        "read_sql_query",
        "read_sql_table",
        "concat",
        "merge",
        "merge_asof",
        "merge_ordered",
        "pivot_table",
        "crosstab",
        "get_dummies",
        "json_normalize",
    )
)
# DataFrame methods that return a DataFrame.
FRAME_METHODS = frozenset(
    {
        "copy",
        "query",
        "assign",
        "dropna",
        "fillna",
        "ffill",
        "bfill",
        "interpolate",
        "sort_values",
        "sort_index",
        "reset_index",
        "set_index",
        "head",
        "tail",
        "merge",
        "join",
        "drop",
        "drop_duplicates",
        "rename",
        "rename_axis",
        "astype",
        "sample",
        "filter",
        "select_dtypes",
        "replace",
        "round",
        "abs",
        "clip",
        "transpose",
        "pivot",
        "pivot_table",
        "melt",
        "explode",
        "nlargest",
        "nsmallest",
        "where",
        "mask",
        "reindex",
        "convert_dtypes",
        "infer_objects",
        "to_frame",
    }
)

# Polars frame methods (only to follow `df = df.with_columns(...)` on a polars frame).
POLARS_FRAME_METHODS = frozenset(
    {
        "with_columns",
        "select",
        "filter",
        "sort",
        "join",
        "drop",
        "rename",
        "unique",
        "drop_nulls",
        "fill_null",
        "collect",
        "lazy",
        "head",
        "tail",
        "with_row_index",
    }
)
# A name met again while following its own assignments: `df = df.dropna()`.
_CYCLE = object()


def imports_pandas(context: RuleContext) -> bool:
    return context.semantic.imports_module(PANDAS)


class Frames:
    """Where an expression's value comes from: "pandas" (a DataFrame), "polars", or None."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    def origin(self, node: cst.BaseExpression | None) -> str | None:
        if node is None:
            return None
        found = self._origin(node, frozenset())
        return None if found is _CYCLE else found

    def _origin(self, node: cst.BaseExpression, seen: frozenset[str]):
        context = self.context
        if isinstance(node, cst.Call):
            if context.resolves_to(node.func, *FRAME_FUNCTIONS):
                return PANDAS
            if context.resolves_under(node.func, POLARS):
                return POLARS
            if isinstance(node.func, cst.Attribute):
                method = node.func.attr.value
                receiver = self._origin(node.func.value, seen)
                if receiver == PANDAS and method in FRAME_METHODS:
                    return PANDAS
                if receiver == POLARS:
                    return POLARS
                if receiver is _CYCLE and (method in FRAME_METHODS or method in POLARS_FRAME_METHODS):
                    return _CYCLE
            return None
        if isinstance(node, cst.Subscript):
            base = self._origin(node.value, seen)
            indices = subscript_indices(node)
            if (
                base in (PANDAS, _CYCLE)
                and indices
                and len(indices) == 1
                and isinstance(indices[0], cst.List)
            ):
                return base
            return POLARS if base == POLARS else None
        if isinstance(node, cst.Name):
            return self._name_origin(node, seen)
        return None

    def _name_origin(self, name: cst.Name, seen: frozenset[str]):
        """Agreed by every binding of the name where it is used: a parameter's annotation,
        or the value of a plain assignment (other bindings say nothing either way)."""
        if name.value in seen:
            return _CYCLE  # `df = df.dropna()`: decided by the other assignments
        seen = seen | {name.value}
        states: list = []
        for binding in self.context.semantic.binding_of(name):
            if binding.kind == "parameter":
                states.append(self._annotation_origin(binding.site.annotation))
            elif binding.kind == "assignment" and binding.value is not None and not binding.element:
                states.append(self._origin(binding.value, seen))
        decided = [state for state in states if state is not _CYCLE]
        if not decided:
            return _CYCLE if states else None
        if None in decided or len(set(decided)) != 1:
            return None
        return decided[0]

    def _annotation_origin(self, annotation: cst.Annotation | None) -> str | None:
        if annotation is None:
            return None
        if self.context.resolves_to(annotation.annotation, "pandas.DataFrame", "pandas.core.frame.DataFrame"):
            return PANDAS
        if self.context.resolves_to(annotation.annotation, "polars.DataFrame", "polars.LazyFrame"):
            return POLARS
        return None
