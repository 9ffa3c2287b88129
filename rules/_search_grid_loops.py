"""Hand-written grid searches, for GL103: the loops (and comprehension `for` clauses) that
iterate over literal hyper-parameter values or an `itertools.product` of them, nested into
levels, and the value counts along every path down to a level that trains a model."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._loops import TrainingFunctions, training_call
from green_lint.rules._search_hyperparameters import used_as_hyperparameter
from green_lint.rules._search_value_lists import NOT_VALUES, product_dims, unwrap, values_length
from green_lint.rules._syntax import DEFINITIONS
from green_lint.semantic.scopes import COMPREHENSIONS
from green_lint.walk import children

PRODUCT = "itertools.product"


@dataclass
class Level:
    """A loop of a search: the number of values of each of its dimensions (several for
    `itertools.product`), None where unknown."""

    loop: cst.For | cst.CompFor
    dims: list[int | None]
    product: bool
    # For a `for` clause of a comprehension: the element(s) the innermost clause computes.
    elements: tuple[cst.BaseExpression, ...] = ()


class GridLoops:
    """Reads the search levels of the loops of one file."""

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    def level_of(self, node: cst.For | cst.CSTNode) -> Level | None:
        """A `for` statement or a comprehension as the outer level of a search, or None."""
        if isinstance(node, cst.For):
            return self.level(node)
        return self.level(node.for_in, elements(node))

    def level(
        self, loop: cst.For | cst.CompFor, elements: tuple[cst.BaseExpression, ...] = ()
    ) -> Level | None:
        """The loop (or comprehension clause) as one level of a search, or None."""
        iterable = unwrap(self.context, loop.iter)
        if isinstance(iterable, cst.Call) and self.context.resolves_to(iterable.func, PRODUCT):
            dims = product_dims(self.context, iterable)
            return Level(loop, dims, product=True, elements=elements) if dims else None
        length = values_length(self.context, iterable)
        if length is NOT_VALUES or not used_as_hyperparameter(
            loop.target, _body(loop, elements), self.context
        ):
            return None
        return Level(loop, [length], product=False, elements=elements)

    def training_paths(self, level: Level) -> list[list[int | None]]:
        """The value counts along every path from `level` down to a level that trains."""
        loop = level.loop
        if isinstance(loop, cst.CompFor) and loop.inner_for_in is not None:
            inner = self.level(loop.inner_for_in, level.elements)
            if inner is not None:
                levels, trains = self._scan([*loop.ifs])
                levels.append(inner)
            else:
                levels, trains = self._scan(_body(loop, level.elements))
        else:
            levels, trains = self._scan(_body(loop, level.elements))
        paths = [list(level.dims)] if trains else []
        for child in levels:
            paths.extend(level.dims + path for path in self.training_paths(child))
        return paths

    def _scan(self, body: list[cst.CSTNode]) -> tuple[list[Level], bool]:
        """The search levels directly inside a loop body (not entered), and whether the
        rest of the body (other loops included, nested definitions excluded) trains."""
        levels: list[Level] = []
        trains = False
        context = self.context
        functions = context.analysis(TrainingFunctions)
        pending: list[cst.CSTNode] = list(reversed(body))
        while pending:
            node = pending.pop()
            if isinstance(node, DEFINITIONS):
                continue
            if isinstance(node, (cst.For, *COMPREHENSIONS)):
                level = self.level_of(node)
                if level is not None:
                    levels.append(level)
                    continue
            elif isinstance(node, cst.Call) and not trains:
                trains = training_call(context, node, functions) is not None
            pending.extend(reversed(list(children(node))))
        return levels, trains


def elements(comprehension: cst.CSTNode) -> tuple[cst.BaseExpression, ...]:
    """What a comprehension computes for each value: its element, or key and value."""
    if isinstance(comprehension, cst.DictComp):
        return (comprehension.key, comprehension.value)
    return (comprehension.elt,)


def _body(loop: cst.For | cst.CompFor, elements: tuple[cst.BaseExpression, ...]) -> list[cst.CSTNode]:
    """What a loop runs for each value; for a comprehension's `for` clause, its
    conditions, the clauses inside it and the element(s)."""
    if isinstance(loop, cst.For):
        return [loop.body]
    inner = [loop.inner_for_in] if loop.inner_for_in is not None else []
    return [*loop.ifs, *inner, *elements]
