"""Helpers shared by the data rules (GL201-GL204): what is a pandas/polars frame, where the
loops are, which names a loop binds, and whole-column rewrites of row expressions.

No rule lives here (the registry only collects `Rule` subclasses defined in a module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import dotted_name, statements_of
from green_lint.rules._loops import COMPREHENSIONS
from green_lint.walk import children

PANDAS = "pandas"
POLARS = "polars"

# Module-level pandas functions that return a DataFrame.
FRAME_FUNCTIONS = frozenset(
    f"pandas.{name}"
    for name in (
        "DataFrame",
        "DataFrame.from_dict",
        "DataFrame.from_records",
        "read_csv",
        "read_table",
        "read_fwf",
        "read_parquet",
        "read_json",
        "read_excel",
        "read_feather",
        "read_pickle",
        "read_orc",
        "read_hdf",
        "read_stata",
        "read_sas",
        "read_spss",
        "read_xml",
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
ARITHMETIC = (
    cst.Add,
    cst.Subtract,
    cst.Multiply,
    cst.Divide,
    cst.FloorDivide,
    cst.Modulo,
    cst.Power,
)
COMPARISON = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual, cst.Equal, cst.NotEqual)
LOOPS = (cst.For, cst.While)
BOUNDARIES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
EMPTY_MODULE = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    """The source text of any node (also of nodes built by a rule)."""
    return EMPTY_MODULE.code_for_node(node)


def imports_pandas(context: RuleContext) -> bool:
    return context.imports.imports_module(PANDAS)


def is_simple_reference(node: cst.BaseExpression) -> bool:
    """`df` or `self.data.df`: cheap to evaluate again, no side effects."""
    return dotted_name(node) is not None


# -- frames -------------------------------------------------------------------------------
class Frames:
    """Where an expression's value comes from: "pandas" (a DataFrame), "polars", or None."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    def origin(self, node: cst.BaseExpression | None, scope: cst.CSTNode | None = None) -> str | None:
        if node is None:
            return None
        scope = scope if scope is not None else self.context.scope()
        found = self._origin(node, scope, frozenset())
        return None if found is _CYCLE else found

    def _origin(self, node: cst.BaseExpression, scope: cst.CSTNode, seen: frozenset[str]):
        context = self.context
        if isinstance(node, cst.Call):
            if context.resolves_to(node.func, *FRAME_FUNCTIONS):
                return PANDAS
            if context.resolves_under(node.func, POLARS):
                return POLARS
            if isinstance(node.func, cst.Attribute):
                method = node.func.attr.value
                receiver = self._origin(node.func.value, scope, seen)
                if receiver == PANDAS and method in FRAME_METHODS:
                    return PANDAS
                if receiver == POLARS:
                    return POLARS
                if receiver is _CYCLE and (method in FRAME_METHODS or method in POLARS_FRAME_METHODS):
                    return _CYCLE
            return None
        if isinstance(node, cst.Subscript):
            base = self._origin(node.value, scope, seen)
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
            return self._name_origin(node.value, scope, seen)
        return None

    def _name_origin(self, name: str, scope: cst.CSTNode, seen: frozenset[str]):
        if name in seen:
            return _CYCLE  # `df = df.dropna()`: decided by the other assignments
        seen = seen | {name}
        states: list = []
        if isinstance(scope, cst.FunctionDef):
            parameter = find_parameter(scope, name)
            if parameter is not None:
                states.append(self._annotation_origin(parameter.annotation))
            values = self.context.assigned_values(name, scope)
            states.extend(self._origin(value, scope, seen) for value in values)
            if parameter is None and not values:
                module = self.context.module
                values = self.context.assigned_values(name, module)
                states.extend(self._origin(value, module, seen) for value in values)
        else:
            states.extend(
                self._origin(value, scope, seen) for value in self.context.assigned_values(name, scope)
            )
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


_CYCLE = object()
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


def find_parameter(function: cst.FunctionDef, name: str) -> cst.Param | None:
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name:
            return param
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param) and star.name.value == name:
            return star
    return None


def defined_function_names(module: cst.Module) -> set[str]:
    """Names of every function and method the file defines (at any depth)."""
    return {s.name.value for s in statements_of(module) if isinstance(s, cst.FunctionDef)}


# -- loops --------------------------------------------------------------------------------
def enclosing_loop(stack: list[cst.CSTNode]) -> cst.CSTNode | None:
    """The innermost loop that runs the last node of `stack` once per iteration: a
    For/While whose body holds it, or a comprehension whose element, condition or inner
    `for` holds it. None outside loops; nested functions, lambdas and classes stop the
    search (their body runs when called, not per iteration)."""
    for index in range(len(stack) - 2, -1, -1):
        ancestor, child = stack[index], stack[index + 1]
        if isinstance(ancestor, BOUNDARIES):
            return None
        if isinstance(ancestor, LOOPS) and child is ancestor.body:
            return ancestor
        if isinstance(ancestor, COMPREHENSIONS) and child is not ancestor.for_in:
            return ancestor
        if isinstance(ancestor, cst.CompFor) and child is not ancestor.iter and child is not ancestor.target:
            return _comprehension_of(stack, index)
        if isinstance(ancestor, cst.CompFor) and child is ancestor.iter:
            # The outermost `for`'s iterable runs once; an inner one's once per outer item.
            if not isinstance(stack[index - 1], cst.CompFor):
                continue
            return _comprehension_of(stack, index)
    return None


def _comprehension_of(stack: list[cst.CSTNode], index: int) -> cst.CSTNode | None:
    for ancestor in reversed(stack[:index]):
        if isinstance(ancestor, COMPREHENSIONS):
            return ancestor
    return None


def loop_body_lines(loop: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements of a For/While body (a one-line suite included)."""
    return block_statements(loop.body)


def block_statements(block: cst.BaseSuite) -> list[cst.CSTNode]:
    """The small and compound statements of an indented block or one-line suite."""
    if isinstance(block, cst.SimpleStatementSuite):
        return list(block.body)
    statements: list[cst.CSTNode] = []
    for line in block.body:
        if isinstance(line, cst.SimpleStatementLine):
            statements.extend(line.body)
        else:
            statements.append(line)
    return statements


MUTATORS = frozenset(
    {"append", "extend", "insert", "pop", "update", "setdefault", "clear", "remove", "add", "discard"}
)


def walk(
    node: cst.CSTNode, *, enter: Callable[[cst.CSTNode], bool] = lambda n: True
) -> Iterable[cst.CSTNode]:
    """Every code-carrying node under `node` (included), parents first; `enter` says
    whether to go inside a node (the root is always entered)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        if current is node or enter(current):
            pending.extend(reversed(list(children(current))))


def base_name(node: cst.BaseExpression) -> str | None:
    """`a` for `a`, `a.b`, `a[i].c`."""
    while isinstance(node, cst.Attribute | cst.Subscript):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _bind(target: cst.CSTNode | None, names: set[str]) -> None:
    if isinstance(target, cst.Name):
        names.add(target.value)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _bind(element.value, names)
    elif isinstance(target, cst.StarredElement):
        _bind(target.value, names)
    elif isinstance(target, cst.Subscript | cst.Attribute):
        base = base_name(target)
        if base is not None:
            names.add(base)


def names_bound_in(*nodes: cst.CSTNode | None) -> set[str]:
    """Names bound (or mutated in place: `x[i] = ...`, `x.append(...)`) in the subtrees;
    nested functions and classes count by their name only."""
    names: set[str] = set()
    for root in nodes:
        if root is None:
            continue
        for node in walk(root, enter=not_a_definition):
            if isinstance(node, cst.Assign):
                for target in node.targets:
                    _bind(target.target, names)
            elif isinstance(
                node, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor | cst.NamedExpr | cst.Del
            ):
                _bind(node.target, names)
            elif isinstance(node, cst.AsName):
                _bind(node.name, names)
            elif isinstance(node, cst.FunctionDef | cst.ClassDef):
                names.add(node.name.value)
            elif (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value in MUTATORS
            ):
                base = base_name(node.func.value)
                if base is not None:
                    names.add(base)
    return names


def loop_bound_names(loop: cst.CSTNode) -> set[str]:
    """The names that may change from one iteration of `loop` to the next."""
    if isinstance(loop, cst.For):
        names: set[str] = set()
        _bind(loop.target, names)
        return names | names_bound_in(loop.body)
    if isinstance(loop, cst.While):
        return names_bound_in(loop.body)
    return names_bound_in(loop)  # a comprehension: its targets and walruses


def names_in(node: cst.CSTNode) -> set[str]:
    """Every name an expression mentions (not attribute names, not keyword names)."""
    found: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Name):
            found.add(current.value)
        elif isinstance(current, cst.Attribute | cst.Arg):
            pending.append(current.value)
        else:
            pending.extend(children(current))
    return found


def not_a_definition(node: cst.CSTNode) -> bool:
    return not isinstance(node, BOUNDARIES)


# -- whole-column rewrites ----------------------------------------------------------------
Leaf = Callable[[cst.BaseExpression], "cst.BaseExpression | None"]


def column_expression(
    expr: cst.BaseExpression, leaf: Leaf, allow_name: Callable[[str], bool] = lambda name: False
) -> cst.BaseExpression | None:
    """`expr` with every row access replaced by `leaf(access)` (a whole column), when
    `expr` is made only of such accesses, numbers, names allowed by `allow_name`,
    arithmetic and single comparisons; None otherwise or when no column is used."""
    used = []

    def convert(node: cst.BaseExpression) -> cst.BaseExpression | None:
        column = leaf(node)
        if column is not None:
            used.append(node)
            return column.with_changes(lpar=node.lpar, rpar=node.rpar) if node.lpar else column
        if isinstance(node, cst.Integer | cst.Float):
            return node
        if isinstance(node, cst.Name):
            return node if allow_name(node.value) else None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, ARITHMETIC):
            left, right = convert(node.left), convert(node.right)
            return None if left is None or right is None else node.with_changes(left=left, right=right)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus | cst.Plus):
            inner = convert(node.expression)
            return None if inner is None else node.with_changes(expression=inner)
        if (
            isinstance(node, cst.Comparison)
            and len(node.comparisons) == 1
            and isinstance(node.comparisons[0].operator, COMPARISON)
        ):
            left, right = convert(node.left), convert(node.comparisons[0].comparator)
            if left is None or right is None:
                return None
            target = node.comparisons[0].with_changes(comparator=right)
            return node.with_changes(left=left, comparisons=[target])
        return None

    result = convert(expr)
    return result if result is not None and used else None


def string_key(node: cst.BaseExpression) -> cst.SimpleString | None:
    """The plain string literal of `x["col"]` (no f-string, no bytes)."""
    if (
        isinstance(node, cst.SimpleString)
        and "b" not in node.prefix.lower()
        and "f" not in node.prefix.lower()
    ):
        return node
    return None


def subscript_indices(node: cst.Subscript) -> list[cst.BaseExpression] | None:
    """The index expressions of `x[a]` / `x[a, b]` (None when there is a slice)."""
    indices = []
    for element in node.slice:
        if not isinstance(element.slice, cst.Index) or element.slice.star is not None:
            return None
        indices.append(element.slice.value)
    return indices


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


def is_literal(node: cst.BaseExpression) -> bool:
    """A string or number literal, or True/False/None."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    return isinstance(node, cst.SimpleString | cst.ConcatenatedString | cst.Integer | cst.Float)


def needs_parentheses(expr: cst.BaseExpression, parent: cst.CSTNode | None) -> bool:
    """Whether `expr` must be parenthesised where a call used to be."""
    if expr.lpar or isinstance(
        expr, cst.Name | cst.Attribute | cst.Subscript | cst.Call | cst.Integer | cst.Float
    ):
        return False
    return not isinstance(
        parent, cst.Assign | cst.AnnAssign | cst.AugAssign | cst.Return | cst.Arg | cst.Expr | cst.Element
    )


def parenthesized(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def receiver_form(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr` ready to take `.method()`: parenthesised unless it is atomic."""
    if expr.lpar or isinstance(expr, cst.Name | cst.Attribute | cst.Subscript | cst.Call):
        return expr
    return parenthesized(expr)
