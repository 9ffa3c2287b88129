"""Whether a file reads a search's `cv_results_` by its shape, for GL103's fix.

`HalvingGridSearchCV.cv_results_` has one row per candidate per halving iteration, not one
per grid point in grid order as `GridSearchCV`'s has. Code that reshapes a results column to
the grid (`.reshape(len(Cs), len(gammas))`), counts its rows (`len(...) == 12`), pivots it,
or plots it against the grid's own value lists (`plt.plot(Cs, scores)`) would break or
silently mislabel after the fix, so the fix is withheld from such a file."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._search_value_lists import NOT_VALUES, values_length
from green_lint.walk import children

RESULTS = "cv_results_"
# Methods whose result depends on the number and order of the rows.
SHAPE_METHODS = frozenset({"reshape", "pivot", "pivot_table", "unstack", "resize"})
SHAPE_FUNCTIONS = ("builtins.len", "numpy.reshape", "numpy.shape", "numpy.size")
MAX_ROUNDS = 4  # `r = s.cv_results_` -> `df = pd.DataFrame(r)` -> `scores = df[...]` -> ...


def reads_results_by_shape(context: RuleContext) -> bool:
    """Whether the file reads some `cv_results_` in a way that depends on its rows being
    exactly the grid's candidates, in grid order (see the module docstring). Every search
    of the file counts: a results table cannot always be traced to its search."""
    if RESULTS not in context.text:
        return False
    holds = _Holds(context.module)
    for node in holds.shape_attributes:
        if holds(node.value):
            return True
    return any(_reads_by_shape(context, call, holds) for call in holds.calls)


def _reads_by_shape(context: RuleContext, call: cst.Call, holds: _Holds) -> bool:
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in SHAPE_METHODS and holds(func.value):
        return True
    values = [arg.value for arg in call.args]
    if not any(holds(value) for value in values):
        return False
    if context.resolves_to(func, *SHAPE_FUNCTIONS):
        return True
    # Results next to a value list: `plt.plot(Cs, scores)`, `zip(gammas, scores)`.
    return any(not holds(value) and values_length(context, value) is not NOT_VALUES for value in values)


class _Holds:
    """Whether an expression reads a `cv_results_` or a name assigned from one (by name, in
    any scope: a wider net only withholds more fixes). One walk of the file: every read is
    marked with its ancestors."""

    def __init__(self, module: cst.Module) -> None:
        self.calls: list[cst.Call] = []
        self.shape_attributes: list[cst.Attribute] = []
        self._parents: dict[int, cst.CSTNode] = {}
        self._marked: set[int] = set()
        names: dict[str, list[cst.Name]] = {}
        assignments: list[tuple[str, cst.BaseExpression]] = []
        pending: list[cst.CSTNode] = [module]
        while pending:
            node = pending.pop()
            for child in children(node):
                self._parents[id(child)] = node
                pending.append(child)
            if isinstance(node, cst.Call):
                self.calls.append(node)
            elif isinstance(node, cst.Attribute):
                if node.attr.value == RESULTS:
                    self._mark(node)
                elif node.attr.value == "shape":
                    self.shape_attributes.append(node)
            elif isinstance(node, cst.Name):
                names.setdefault(node.value, []).append(node)
            elif isinstance(node, cst.Assign):
                assignments.extend(
                    (target.target.value, node.value)
                    for target in node.targets
                    if isinstance(target.target, cst.Name)
                )
        derived: set[str] = set()
        for _ in range(MAX_ROUNDS):
            grown = {name for name, value in assignments if name not in derived and self(value)}
            if not grown:
                break
            derived |= grown
            for name in grown:
                for node in names.get(name, ()):
                    self._mark(node)

    def __call__(self, node: cst.CSTNode) -> bool:
        return id(node) in self._marked

    def _mark(self, node: cst.CSTNode | None) -> None:
        """Mark a read and every expression that holds it."""
        while node is not None and id(node) not in self._marked:
            self._marked.add(id(node))
            node = self._parents.get(id(node))
