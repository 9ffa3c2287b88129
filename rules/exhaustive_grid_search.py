"""GL103 exhaustive-grid-search."""

from __future__ import annotations

import libcst as cst

from green_lint.fixes import insert_lines_before, top_level_line_of
from green_lint.names import dotted_name
from green_lint.rule import Fix, Rule

GRID_SEARCH = "sklearn.model_selection.GridSearchCV"
PARAMETER_GRID = "sklearn.model_selection.ParameterGrid"
HALVING = "sklearn.model_selection.HalvingGridSearchCV"
ENABLE_HALVING = "sklearn.experimental.enable_halving_search_cv"
ENABLE_HALVING_IMPORT = "from sklearn.experimental import enable_halving_search_cv  # noqa: F401\n"
# GridSearchCV arguments that HalvingGridSearchCV does not take.
NOT_IN_HALVING = frozenset({"pre_dispatch"})
DEFAULT_FOLDS = 5


class ExhaustiveGridSearch(Rule):
    """
    ## What it does
    Flags scikit-learn's exhaustive search: `GridSearchCV` and iteration over
    `ParameterGrid`, however they are imported.

    ## Why is this bad
    An exhaustive grid fits every candidate on every fold with all the data: the cost is
    the product of the number of values of every parameter, times the folds. Most
    candidates are clearly bad after a fraction of the data. Successive halving
    (`HalvingGridSearchCV`) evaluates all candidates on a small budget and gives more
    data only to the best ones, and Bayesian optimisation (Optuna) needs far fewer
    trials. Bayesian optimisation "significantly dominates" grid and random search on
    energy (Yarally et al., CAIN'23), and Hyperband, the bandit form of successive
    halving, gives "over an order-of-magnitude speedup" (Li et al.).

    ## Example
    ```python
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(SVC(), {"C": [0.1, 1, 10, 100], "gamma": [1e-3, 1e-2, 1e-1]}, cv=5)
    search.fit(X, y)  # 12 candidates x 5 folds = 60 fits on all the data
    ```

    ## Use instead
    ```python
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    search = HalvingGridSearchCV(SVC(), {"C": [0.1, 1, 10, 100], "gamma": [1e-3, 1e-2, 1e-1]}, cv=5)
    search.fit(X, y)
    ```
    Or `HalvingRandomSearchCV`, or an Optuna study with a pruner.

    ## Fix safety
    Unsafe: successive halving may pick a different best candidate than the full grid
    (the point is to spend less on the losers), and it scores on subsamples early on.
    No fix when the call uses arguments halving does not take (`pre_dispatch`), several
    scorers, or a non-boolean `refit`.

    ## Evidence
    - Yarally, Cruz, Feitosa, Sallou, van Deursen, "Uncovering energy-efficient practices
      in deep learning training" (CAIN 2023): Bayesian optimisation dominates grid and
      random search on energy. https://arxiv.org/abs/2303.13972
    - Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
      Optimization": over an order-of-magnitude speedup. https://arxiv.org/abs/1603.06560
    - scikit-learn, "Successive Halving Iterations" and `HalvingGridSearchCV`, which needs
      `from sklearn.experimental import enable_halving_search_cv`.
      https://scikit-learn.org/stable/modules/grid_search.html#successive-halving-user-guide
    - Measure it on your code with `green-lint verify`.
    """

    code = "GL103"
    name = "exhaustive-grid-search"
    summary = "Exhaustive grid search fits every candidate on all the data; halve or sample instead"
    fix_safety = "unsafe"
    triggers = ("GridSearchCV", "ParameterGrid")

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.resolves_to(node.func, GRID_SEARCH):
            self._report_grid_search(node)
        elif self.context.resolves_to(node.func, PARAMETER_GRID):
            size = _grid_size(self._argument(node, 0, "param_grid"), self.context)
            what = f"all {size} candidates" if size else "every candidate"
            self.report(
                node,
                f"ParameterGrid enumerates {what} of the grid, each trained in full: use "
                "HalvingGridSearchCV (successive halving) or an Optuna study with a pruner, "
                "which drop bad candidates early.",
            )

    def _report_grid_search(self, node: cst.Call) -> None:
        size = _grid_size(self._argument(node, 1, "param_grid"), self.context)
        folds = _folds(self._argument(node, None, "cv"))
        if size and folds:
            cost = f"fits all {size} candidates x {folds} folds = {size * folds} fits on all the data"
        elif size:
            cost = f"fits all {size} candidates on every fold with all the data"
        else:
            cost = "fits every candidate on every fold with all the data"
        message = (
            f"GridSearchCV {cost}: use HalvingGridSearchCV (successive halving gives the "
            "full data only to the best candidates) or HalvingRandomSearchCV."
        )
        self.report(node, message, fix=self._halving_fix(node))

    def _argument(self, call: cst.Call, position: int | None, keyword: str) -> cst.BaseExpression | None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if position is not None and position < len(positional):
            return positional[position].value
        return None

    def _halving_fix(self, node: cst.Call) -> Fix | None:
        if not _halving_accepts(node):
            return None
        imports = self.context.imports
        changes: dict = {node.func: _rename_last(node.func, "HalvingGridSearchCV")}
        binding_line = new_binding_line = None
        if isinstance(node.func, cst.Name) and imports.local_name_for(HALVING) != "HalvingGridSearchCV":
            statement = imports.binding_statements.get(node.func.value)
            binding_line = top_level_line_of(self.context, statement) if statement is not None else None
            new_binding_line = binding_line and _with_extra_alias(
                binding_line, statement, "HalvingGridSearchCV"
            )
            if new_binding_line is None:
                return None  # an unusual import layout: leave it to the user
        if imports.local_name_for(ENABLE_HALVING) is None:
            # Every fix of the file puts the experimental import at the same place, so that
            # fixes applied together add it once.
            anchor = self._first_sklearn_import_line()
            if anchor is None:
                return None
            replacement = new_binding_line if anchor is binding_line else None
            changes.update(insert_lines_before(anchor, ENABLE_HALVING_IMPORT, replacement))
            if replacement is None and binding_line is not None:
                changes[binding_line] = new_binding_line
        elif binding_line is not None:
            changes[binding_line] = new_binding_line
        return Fix("Use HalvingGridSearchCV (with the experimental import it needs)", changes)

    def _first_sklearn_import_line(self) -> cst.SimpleStatementLine | None:
        imports = self.context.imports
        for line in self.context.module.body:
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for statement in line.body:
                bound = [
                    q
                    for local, q in imports.bindings.items()
                    if imports.binding_statements[local] is statement
                ]
                if any(q == "sklearn" or q.startswith("sklearn.model_selection") for q in bound) or (
                    isinstance(statement, cst.ImportFrom)
                    and isinstance(statement.names, cst.ImportStar)
                    and dotted_name(statement.module) == "sklearn.model_selection"
                ):
                    return line
        return None

    def _halving_imported(self) -> bool:
        return self.context.imports.local_name_for(HALVING) == "HalvingGridSearchCV"


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


def _grid_size(grid: cst.BaseExpression | None, context) -> int | None:
    """Number of candidates of a literal grid (a dict of lists, or a list of such dicts)."""
    grid = context.single_value(grid)
    if isinstance(grid, cst.Dict):
        size = 1
        for element in grid.elements:
            if not isinstance(element, cst.DictElement):
                return None
            count = _sequence_length(context.single_value(element.value))
            if count is None:
                return None
            size *= count
        return size
    if isinstance(grid, cst.List | cst.Tuple):
        sizes = [_grid_size(element.value, context) for element in grid.elements]
        return None if None in sizes or not sizes else sum(sizes)
    return None


def _sequence_length(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.List | cst.Tuple | cst.Set):
        if any(isinstance(e, cst.StarredElement) for e in node.elements):
            return None
        return len(node.elements)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "range":
        values = [_int(arg.value) for arg in node.args]
        if None in values or not values or len(values) > 3:
            return None
        return len(range(*values))
    return None


def _int(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        value = _int(node.expression)
        return -value if value is not None else None
    return None


def _folds(cv: cst.BaseExpression | None) -> int | None:
    if cv is None:
        return DEFAULT_FOLDS
    return _int(cv)
