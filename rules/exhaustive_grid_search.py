"""GL103 exhaustive-grid-search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import ceil, prod

import libcst as cst

from green_lint.context import RuleContext
from green_lint.fixes import insert_lines_before, top_level_line_of
from green_lint.names import dotted_name
from green_lint.rule import Fix, Rule
from green_lint.rules._loops import (
    COMPREHENSIONS,
    DEFINITIONS,
    FileFunctions,
    argument,
    number,
    target_names,
    training_call,
    walk_with_parents,
)
from green_lint.walk import children

GRID_SEARCH = "sklearn.model_selection.GridSearchCV"
PARAMETER_GRID = "sklearn.model_selection.ParameterGrid"
HALVING = "sklearn.model_selection.HalvingGridSearchCV"
ENABLE_HALVING = "sklearn.experimental.enable_halving_search_cv"
ENABLE_HALVING_IMPORT = "from sklearn.experimental import enable_halving_search_cv  # noqa: F401\n"
# GridSearchCV arguments that HalvingGridSearchCV does not take.
NOT_IN_HALVING = frozenset({"pre_dispatch"})
DEFAULT_FOLDS = 5
_LITERAL_LOOP = r"\bfor\s+[\w, ()]+\s+in\s+(?:[\[({]|range\(|np\.|numpy\.)"
# Two loops over literal values (a nest), or a product: what a hand-written grid looks like.
LITERAL_LOOPS = re.compile(_LITERAL_LOOP + r"(?s:.*?)" + _LITERAL_LOOP + r"|\bproduct\(")

PRODUCT = "itertools.product"
# Calls a loop may iterate through without changing what it iterates over.
PASS_THROUGH = ("builtins.enumerate", "builtins.list", "builtins.tuple", "builtins.sorted")
MAX_HOPS = 4
DEFAULT_SPACE_NUM = 50  # numpy.linspace/logspace/geomspace
NOT_VALUES = object()  # "not a literal list of values"

# Where a loop value is used without reaching a model: printing, logging, collecting.
NOT_CONSUMING_FUNCTIONS = frozenset(
    {
        "print", "len", "range", "str", "repr", "int", "float", "bool", "round", "enumerate",
        "zip", "format", "isinstance", "sorted", "list", "tuple", "set", "open", "abs", "min",
        "max", "hash", "id", "type", "next", "iter",
    }
)  # fmt: skip
NOT_CONSUMING_METHODS = frozenset(
    {
        "append", "extend", "add", "insert", "write", "writerow", "writelines", "info", "debug",
        "warning", "error", "exception", "critical", "log", "format", "set_description",
        "set_postfix", "join", "index", "count", "step", "add_scalar", "add_scalars",
        "savefig", "plot", "scatter", "echo", "startswith", "endswith",
    }
)  # fmt: skip
LOGGING_KEYWORDS = frozenset({"end", "sep", "file", "flush", "desc", "label", "total", "color", "title"})
# A loop value that is itself the estimator: `for model in [SVC(), ...]: model.fit(X, y)`.
RECEIVING_METHODS = frozenset({"fit", "partial_fit", "fit_generator", "set_params", "train"})


class ExhaustiveGridSearch(Rule):
    """
    ## What it does
    Flags exhaustive hyper-parameter searches: scikit-learn's `GridSearchCV` and
    iteration over `ParameterGrid`, however they are imported, and grid searches written
    by hand: a `for` loop over `itertools.product(...)` of literal value lists, or two or
    more nested `for` loops over literal lists, tuples or ranges of hyper-parameter
    values (also as the `for` clauses of a list, set, dict or generator comprehension,
    or a loop around one), whose body trains a model (`.fit(`, `.train(...)`, `.backward()`, a
    `Trainer(...)`, `xgb.train`/`lgb.train`, `cross_val_score`, or a function of the same
    file that does one of these). One finding per search, on the outer loop header.
    `RandomizedSearchCV`, `HalvingGridSearchCV` and `HalvingRandomSearchCV` are not
    flagged.

    A loop counts as a hyper-parameter level only when its variable reaches a model: as a
    keyword argument (`SVC(C=c)`), a positional argument of a function or class
    (`train(lr, bs)`, `nn.Linear(4, width)`; not of a method, whose positional arguments
    are data, nor of print/logging/append), a dict value (`{"lr": lr}`), an attribute or
    item assignment (`cfg.lr = lr`), or as the estimator fitted (`for model in [...]:
    model.fit(...)`). So an epoch/batch loop (`for epoch in range(10): for i in
    range(100): ... X[i] ...`) is not mistaken for a search, and a product or nested loop
    that trains nothing is not a search. A product or nest must vary at least two values
    (a one-value list varies nothing).

    ## Why it wastes energy
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

    for lr, batch_size in itertools.product([1e-1, 1e-2, 1e-3], [32, 64]):
        train(lr=lr, batch_size=batch_size)  # all 3 x 2 = 6 trainings, each to the end
    ```

    ## Use instead
    ```python
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    search = HalvingGridSearchCV(SVC(), {"C": [0.1, 1, 10, 100], "gamma": [1e-3, 1e-2, 1e-1]}, cv=5)
    search.fit(X, y)
    ```
    Or `HalvingRandomSearchCV`, or an Optuna study with a pruner (for the loops):
    ```python
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        batch_size = trial.suggest_categorical("batch_size", [32, 64])
        return train(lr=lr, batch_size=batch_size, trial=trial)  # reports and prunes

    optuna.create_study(pruner=optuna.pruners.HyperbandPruner()).optimize(objective, n_trials=4)
    ```

    ## Fix safety
    Unsafe: successive halving may pick a different best candidate than the full grid
    (the point is to spend less on the losers), and it scores on subsamples early on.
    No fix when the call uses arguments halving does not take (`pre_dispatch`), several
    scorers, or a non-boolean `refit`. No fix for `ParameterGrid` and hand-written loops:
    how to search instead depends on the training code.

    ## Evidence
    - Yarally, Cruz, Feitosa, Sallou, van Deursen, "Uncovering energy-efficient practices
      in deep learning training" (CAIN 2023): Bayesian optimisation dominates grid and
      random search on energy. https://arxiv.org/abs/2303.13972
    - Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
      Optimization": over an order-of-magnitude speedup (in time, against Bayesian
      optimisation baselines; not an energy measurement). https://arxiv.org/abs/1603.06560
    - scikit-learn, "Successive Halving Iterations" and `HalvingGridSearchCV`, which needs
      `from sklearn.experimental import enable_halving_search_cv`.
      https://scikit-learn.org/stable/modules/grid_search.html#successive-halving-user-guide
    - The saving depends on how many candidates are bad and how early that shows: measure
      it on your code with `green-lint verify`.
    """

    code = "GL103"
    name = "exhaustive-grid-search"
    summary = "Exhaustive grid search fits every candidate on all the data; halve or sample instead"
    fix_safety = "unsafe"
    # The hand-written searches need a training call: its name is in the file.
    triggers = (
        "GridSearchCV",
        "ParameterGrid",
        # A hand-written search: a loop over literal values (or a product) that trains.
        *(
            (loop, training)
            for loop in (LITERAL_LOOPS, "itertools")
            for training in ("fit(", "train(", "backward(", "cross_val", ".cv(", "Trainer(")
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self._functions: FileFunctions | None = None
        # Outer loops already analysed: the loops inside them belong to their search.
        self._analysed: set[int] = set()

    # -- hand-written searches --------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        self._search(node, lambda: self._level(node), end=node.iter)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._search(node, lambda: self._level(node.for_in, _elements(node)))

    visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_ListComp

    def _search(self, node: cst.CSTNode, level_of, end: cst.CSTNode | None = None) -> None:
        for ancestor in self.context.ancestors():
            if isinstance(ancestor, DEFINITIONS):
                break
            if id(ancestor) in self._analysed:
                return  # part of the search of an enclosing loop
        level = level_of()
        if level is None:
            return
        self._analysed.add(id(node))
        paths = self._training_paths(level)
        # A search varies at least two values (a one-value list varies nothing).
        if not any(sum(1 for count in path if count != 1) >= 2 for path in paths):
            return
        comprehension = isinstance(node, COMPREHENSIONS)
        self.report(node, self._loop_message(level, paths, comprehension), end_node=end)

    @property
    def functions(self) -> FileFunctions:
        if self._functions is None:
            self._functions = FileFunctions(self.context)
        return self._functions

    def _level(
        self, loop: cst.For | cst.CompFor, elements: tuple[cst.BaseExpression, ...] = ()
    ) -> _Level | None:
        """The loop (or comprehension clause) as one level of a search, or None."""
        iterable = self._unwrap(loop.iter)
        if isinstance(iterable, cst.Call) and self.context.resolves_to(iterable.func, PRODUCT):
            dims = self._product_dims(iterable)
            return _Level(loop, dims, product=True, elements=elements) if dims else None
        length = self._values_length(iterable)
        if length is NOT_VALUES or not _used_as_hyperparameter(
            loop.target, self._body(loop, elements), self.context
        ):
            return None
        return _Level(loop, [length], product=False, elements=elements)

    @staticmethod
    def _body(loop: cst.For | cst.CompFor, elements: tuple[cst.BaseExpression, ...]) -> list[cst.CSTNode]:
        return [loop.body] if isinstance(loop, cst.For) else _clause_body(loop, elements)

    def _training_paths(self, level: _Level) -> list[list[int | None]]:
        """The value counts along every path from `level` down to a level that trains."""
        loop = level.loop
        if isinstance(loop, cst.CompFor) and loop.inner_for_in is not None:
            inner = self._level(loop.inner_for_in, level.elements)
            if inner is not None:
                children, trains = self._scan([*loop.ifs])
                children.append(inner)
            else:
                children, trains = self._scan(self._body(loop, level.elements))
        else:
            children, trains = self._scan(self._body(loop, level.elements))
        paths = [list(level.dims)] if trains else []
        for child in children:
            paths.extend(level.dims + path for path in self._training_paths(child))
        return paths

    def _scan(self, body: list[cst.CSTNode]) -> tuple[list[_Level], bool]:
        """The search levels directly inside a loop body (not entered), and whether the
        rest of the body (other loops included, nested definitions excluded) trains."""
        levels: list[_Level] = []
        trains = False
        scope = self.context.scope()
        pending: list[cst.CSTNode] = list(reversed(body))
        while pending:
            node = pending.pop()
            if isinstance(node, DEFINITIONS):
                continue
            if isinstance(node, (cst.For, *COMPREHENSIONS)):
                level = (
                    self._level(node)
                    if isinstance(node, cst.For)
                    else self._level(node.for_in, _elements(node))
                )
                if level is not None:
                    levels.append(level)
                    continue
            elif isinstance(node, cst.Call) and not trains:
                trains = training_call(self.context, node, self.functions, scope) is not None
            pending.extend(reversed(list(children(node))))
        return levels, trains

    def _loop_message(self, root: _Level, paths: list[list[int | None]], comprehension: bool = False) -> str:
        if len(paths) == 1 and paths[0] == root.dims and root.product:
            subject, verb = "itertools.product", "tries"
        elif comprehension:
            subject, verb = "This comprehension", "tries"
        else:
            subject, verb = "Nested loops", "try"
        advice = (
            "training a model each time: use Optuna with a pruner, HalvingGridSearchCV or "
            "random search, which try far fewer candidates or stop the bad ones early."
        )
        known = all(None not in path for path in paths)
        if known and len(paths) == 1:
            dims = paths[0]
            return f"{subject} {verb} all {' x '.join(map(str, dims))} = {prod(dims)} combinations, {advice}"
        if known:
            total = sum(prod(path) for path in paths)
            return f"{subject} {verb} all {total} combinations of hyper-parameter values, {advice}"
        return f"{subject} {verb} every combination of the hyper-parameter values, {advice}"

    def _unwrap(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        """Follow names and see through `enumerate(...)`, `list(...)`, `tqdm(...)`."""
        for _ in range(MAX_HOPS):
            if isinstance(node, cst.Name):
                node = self.context.single_value(node)
            elif (
                isinstance(node, cst.Call)
                and node.args
                and node.args[0].keyword is None
                and not node.args[0].star
                and (
                    self.context.resolves_to(node.func, *PASS_THROUGH)
                    or self.context.resolves_under(node.func, "tqdm")
                )
            ):
                node = node.args[0].value
            else:
                return node
        return node

    def _product_dims(self, call: cst.Call) -> list[int | None] | None:
        dims: list[int | None] = []
        repeat = 1
        for arg in call.args:
            if arg.keyword is not None:
                if arg.keyword.value != "repeat" or not isinstance(number(arg.value), int):
                    return None
                repeat = number(arg.value)
            elif arg.star == "*":
                lists = self._starred_lists(arg.value)
                if lists is None:
                    return None
                for values in lists:
                    length = self._values_length(values)
                    if length is NOT_VALUES:
                        return None
                    dims.append(length)
            elif arg.star:
                return None
            else:
                length = self._values_length(arg.value)
                if length is NOT_VALUES:
                    return None
                dims.append(length)
        return dims * repeat

    def _starred_lists(self, node: cst.BaseExpression) -> list[cst.BaseExpression] | None:
        """The value lists of `*grid.values()` (a literal dict) or `*[list_a, list_b]`."""
        node = self.context.single_value(node)
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "values"
            and not node.args
        ):
            grid = self.context.single_value(node.func.value)
            if isinstance(grid, cst.Dict) and all(isinstance(e, cst.DictElement) for e in grid.elements):
                return [element.value for element in grid.elements]
            return None
        if isinstance(node, cst.List | cst.Tuple) and not any(
            isinstance(e, cst.StarredElement) for e in node.elements
        ):
            return [element.value for element in node.elements]
        return None

    def _values_length(self, node: cst.BaseExpression | None, hops: int = 0):
        """The number of values of a literal value list (a list/tuple/set display, a range
        or numpy linspace/logspace/geomspace/arange of literal numbers); None when it is
        one but its length is unknown, NOT_VALUES when it is not one."""
        if hops > MAX_HOPS or node is None:
            return NOT_VALUES
        context = self.context
        if isinstance(node, cst.Name):
            return self._values_length(context.single_value(node), hops + 1)
        if isinstance(node, cst.List | cst.Tuple | cst.Set):
            if any(isinstance(e, cst.StarredElement) for e in node.elements):
                return NOT_VALUES
            return len(node.elements)
        if isinstance(node, cst.Subscript):
            return self._values_length(self._dict_item(node), hops + 1)
        if not isinstance(node, cst.Call):
            return NOT_VALUES
        qualified = context.qualified_name(node.func)
        if qualified in (
            "builtins.list",
            "builtins.tuple",
            "builtins.sorted",
            "numpy.array",
            "numpy.asarray",
        ):
            first = argument(node, 0, "")
            return self._values_length(first, hops + 1)
        if qualified in ("builtins.range", "numpy.arange"):
            values = [number(arg.value) for arg in node.args if arg.keyword is None and not arg.star]
            if None in values or not values or len(values) > 3 or len(values) != len(node.args):
                return NOT_VALUES
            if all(isinstance(v, int) for v in values):
                return len(range(*values))
            start, stop, step = ([0, *values, 1] if len(values) == 1 else [*values, 1])[:3]
            return max(0, ceil((stop - start) / step)) if step else NOT_VALUES
        if qualified in ("numpy.linspace", "numpy.logspace", "numpy.geomspace"):
            start, stop = argument(node, 0, "start"), argument(node, 1, "stop")
            if number(start) is None or number(stop) is None:
                return NOT_VALUES
            count = argument(node, 2, "num")
            if count is None:
                return DEFAULT_SPACE_NUM
            count = number(self.context.single_value(count))
            return count if isinstance(count, int) else None  # a value grid of unknown size
        return NOT_VALUES

    def _dict_item(self, node: cst.Subscript) -> cst.BaseExpression | None:
        """`grid["C"]` where `grid` is a literal dict: the value of key "C"."""
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        key = node.slice[0].slice.value
        grid = self.context.single_value(node.value)
        if not isinstance(key, cst.SimpleString) or not isinstance(grid, cst.Dict):
            return None
        for element in grid.elements:
            if (
                isinstance(element, cst.DictElement)
                and isinstance(element.key, cst.SimpleString)
                and element.key.evaluated_value == key.evaluated_value
            ):
                return element.value
        return None

    # -- scikit-learn searches ----------------------------------------------------------
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


# -- hand-written searches ---------------------------------------------------------------------
@dataclass
class _Level:
    """A loop of a search: the number of values of each of its dimensions (several for
    `itertools.product`), None where unknown."""

    loop: cst.For | cst.CompFor
    dims: list[int | None]
    product: bool
    # For a `for` clause of a comprehension: the element(s) the innermost clause computes.
    elements: tuple[cst.BaseExpression, ...] = ()


def _used_as_hyperparameter(
    target: cst.BaseAssignTargetExpression, body: list[cst.CSTNode], context: RuleContext
) -> bool:
    names = set(target_names(target))
    if not names:
        return False
    for root in body:
        parents: dict[int, cst.CSTNode | None] = {}
        for node, parent in walk_with_parents(root):
            parents[id(node)] = parent
            if (
                isinstance(node, cst.Name)
                and node.value in names
                and _reaches_a_model(node, parents, context)
            ):
                return True
    return False


def _clause_body(clause: cst.CompFor, elements: tuple[cst.BaseExpression, ...]) -> list[cst.CSTNode]:
    """What a comprehension's `for` clause runs for each value: its conditions, the
    clauses inside it and the element(s)."""
    inner = [clause.inner_for_in] if clause.inner_for_in is not None else []
    return [*clause.ifs, *inner, *elements]


def _elements(comprehension: cst.CSTNode) -> tuple[cst.BaseExpression, ...]:
    if isinstance(comprehension, cst.DictComp):
        return (comprehension.key, comprehension.value)
    return (comprehension.elt,)


def _reaches_a_model(name: cst.Name, parents: dict[int, cst.CSTNode | None], context: RuleContext) -> bool:
    """Whether this use of a loop value passes it to something that may build or train a
    model (see the rule's docs), judged from the expression around it."""
    child: cst.CSTNode = name
    in_container = False
    ancestor = parents.get(id(name))
    while ancestor is not None:
        if isinstance(ancestor, cst.Attribute):
            if child is not ancestor.value:
                return False  # `x.lr`: an attribute that happens to share the name
            parent = parents.get(id(ancestor))
            return (
                isinstance(parent, cst.Call)
                and parent.func is ancestor
                and ancestor.attr.value in RECEIVING_METHODS
            )
        if isinstance(ancestor, cst.Arg):
            if child is not ancestor.value:
                return False
            call = parents.get(id(ancestor))
            if ancestor.keyword is not None and ancestor.keyword.value in LOGGING_KEYWORDS:
                return False
            if not isinstance(call, cst.Call) or _not_consuming(call):
                return False
            if isinstance(call.func, cst.Name) and call.func.value == "dict":
                in_container, child, ancestor = True, call, parents.get(id(call))
                continue
            # A positional argument of a method is data (`model.fit(X, y)`, `y.fill(v)`);
            # of a function, a class or a library callable (`nn.Linear(4, width)`), a value.
            return not (
                ancestor.keyword is None
                and not ancestor.star
                and isinstance(call.func, cst.Attribute)
                and context.qualified_name(call.func) is None
            )
        if isinstance(ancestor, cst.DictElement):
            if child is not ancestor.value:
                return False
            in_container = True
        elif isinstance(ancestor, cst.Assign):
            if child is not ancestor.value:
                return False
            return in_container or any(
                isinstance(target.target, cst.Subscript | cst.Attribute) for target in ancestor.targets
            )
        elif not isinstance(
            ancestor,
            cst.Dict | cst.List | cst.Tuple | cst.Element | cst.BinaryOperation | cst.UnaryOperation,
        ):
            return False  # an index, a condition, an f-string, a statement...
        child = ancestor
        ancestor = parents.get(id(ancestor))
    return False


def _not_consuming(call: cst.Call) -> bool:
    if isinstance(call.func, cst.Name):
        return call.func.value in NOT_CONSUMING_FUNCTIONS
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value in NOT_CONSUMING_METHODS
    return False
