"""scikit-learn's exhaustive searches for GL103: how many candidates a literal grid holds,
how many folds a `cv=` asks for, and the fix that turns `GridSearchCV` into
`HalvingGridSearchCV` (with the experimental import halving needs)."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.fixes import insert_lines_before, top_level_line_of
from green_lint.names import dotted_name
from green_lint.rule import Fix
from green_lint.rules._search_names import one_value
from green_lint.rules._search_value_lists import NOT_VALUES, values_length
from green_lint.rules._syntax import number
from green_lint.semantic.model import names_imported_by

GRID_SEARCH = "sklearn.model_selection.GridSearchCV"
PARAMETER_GRID = "sklearn.model_selection.ParameterGrid"
HALVING = "sklearn.model_selection.HalvingGridSearchCV"
ENABLE_HALVING = "sklearn.experimental.enable_halving_search_cv"
ENABLE_HALVING_IMPORT = "from sklearn.experimental import enable_halving_search_cv  # noqa: F401\n"
# GridSearchCV arguments that HalvingGridSearchCV does not take.
NOT_IN_HALVING = frozenset({"pre_dispatch"})
DEFAULT_FOLDS = 5


# -- the size of the search ----------------------------------------------------------------
def grid_size(grid: cst.BaseExpression | None, context: RuleContext) -> int | None:
    """Number of candidates of a literal grid (a dict of value lists, or a list of such
    dicts): `{}` holds one candidate (the estimator as it is), `[]` none; None when unknown."""
    grid = one_value(context, grid)
    if isinstance(grid, cst.Dict):
        size = 1
        for element in grid.elements:
            if not isinstance(element, cst.DictElement):
                return None
            count = values_length(context, element.value)
            if count is NOT_VALUES or count is None:
                return None
            size *= count
        return size
    if isinstance(grid, cst.List | cst.Tuple):
        if any(isinstance(element, cst.StarredElement) for element in grid.elements):
            return None
        sizes = [grid_size(element.value, context) for element in grid.elements]
        return None if None in sizes else sum(sizes)
    return None


def folds(cv: cst.BaseExpression | None) -> int | None:
    if cv is None:
        return DEFAULT_FOLDS
    return _integer(cv)


def _integer(node: cst.BaseExpression) -> int | None:
    """An integer literal (`-3` included); `+3` is not one here."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Plus):
        return None
    value = number(node)
    return value if isinstance(value, int) else None


# -- the fix --------------------------------------------------------------------------------
def halving_fix(context: RuleContext, node: cst.Call) -> Fix | None:
    """Rename the `GridSearchCV` call to `HalvingGridSearchCV`, import it beside the name
    the call uses, and add the experimental import; None where that is not safe to do."""
    if not _halving_accepts(node):
        return None
    imports = context.semantic
    changes: dict = {node.func: _rename_last(node.func, "HalvingGridSearchCV")}
    binding_line = new_binding_line = None
    if isinstance(node.func, cst.Name) and imports.local_name_for(HALVING) != "HalvingGridSearchCV":
        statement = imports.import_statement(node.func)
        binding_line = top_level_line_of(context, statement) if statement is not None else None
        new_binding_line = binding_line and _with_extra_alias(binding_line, statement, "HalvingGridSearchCV")
        if new_binding_line is None:
            return None  # an unusual import layout: leave it to the user
    if imports.local_name_for(ENABLE_HALVING) is None:
        # Every fix of the file puts the experimental import at the same place, so that
        # fixes applied together add it once.
        anchor = _first_sklearn_import_line(context)
        if anchor is None:
            return None
        replacement = new_binding_line if anchor is binding_line else None
        changes.update(insert_lines_before(anchor, ENABLE_HALVING_IMPORT, replacement))
        if replacement is None and binding_line is not None:
            changes[binding_line] = new_binding_line
    elif binding_line is not None:
        changes[binding_line] = new_binding_line
    return Fix("Use HalvingGridSearchCV (with the experimental import it needs)", changes)


def _first_sklearn_import_line(context: RuleContext) -> cst.SimpleStatementLine | None:
    for line in context.module.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for statement in line.body:
            bound = names_imported_by(statement) if isinstance(statement, cst.Import | cst.ImportFrom) else []
            if any(q == "sklearn" or q.startswith("sklearn.model_selection") for q in bound) or (
                isinstance(statement, cst.ImportFrom)
                and isinstance(statement.names, cst.ImportStar)
                and dotted_name(statement.module) == "sklearn.model_selection"
            ):
                return line
    return None


def _halving_accepts(call: cst.Call) -> bool:
    for arg in call.args:
        if arg.star:
            return False
        name = arg.keyword.value if arg.keyword is not None else None
        if name in NOT_IN_HALVING:
            return False
        if name == "scoring" and isinstance(arg.value, cst.List | cst.Tuple | cst.Dict | cst.Set):
            return False
        if name == "refit" and not (isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False")):
            return False
    return True


def _rename_last(func: cst.BaseExpression, name: str) -> cst.BaseExpression:
    if isinstance(func, cst.Attribute):
        return func.with_changes(attr=cst.Name(name))
    return cst.Name(name)


def _with_extra_alias(
    line: cst.SimpleStatementLine, statement: cst.CSTNode, name: str
) -> cst.SimpleStatementLine | None:
    if not isinstance(statement, cst.ImportFrom) or isinstance(statement.names, cst.ImportStar):
        return None
    names = list(statement.names)
    last = names[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    names[-1] = last
    names.append(cst.ImportAlias(name=cst.Name(name)))
    new_statement = statement.with_changes(names=names)
    return line.with_changes(body=[new_statement if s is statement else s for s in line.body])
