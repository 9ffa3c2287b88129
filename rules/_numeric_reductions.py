"""GL203 on reductions: `sum(w[i] for i in range(len(label)) if label[i] == 1.0)` and
`sum(1 for i in range(len(p)) if p[i] > .5)` read NumPy arrays one element at a time
through a generator, where a mask and one whole-array reduction would do."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data import names_in, walk
from green_lint.rules._numeric_arrays import Arrays
from green_lint.rules._numeric_loop_scan import is_small, subscript_chain, subscript_root
from green_lint.rules._numeric_vocabulary import BUILTIN_FUNCTIONS, is_builtin, is_range

REDUCERS = frozenset(f"builtins.{name}" for name in ("sum", "min", "max", "any", "all"))
NUMERIC_BUILTINS = frozenset(f"builtins.{name}" for name in BUILTIN_FUNCTIONS if name != "print")


def element_reduction(context: RuleContext, arrays: Arrays, call: cst.Call) -> list[str]:
    """The arrays a builtin reduction over a `for i in range(...)` generator (or list
    comprehension) reads by `i`, when it does nothing but numbers; [] otherwise."""
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return []
    comprehension = call.args[0].value
    if not isinstance(comprehension, cst.GeneratorExp | cst.ListComp):
        return []
    if not is_builtin(context, call.func, *REDUCERS):
        return []
    clause = comprehension.for_in
    if clause.inner_for_in is not None or not isinstance(clause.target, cst.Name):
        return []
    if not is_range(context, clause.iter) or is_small(context, comprehension):
        return []
    index = clause.target.value
    scope = context.scope()
    used: set[str] = set()
    for part in (comprehension.elt, *(condition.test for condition in clause.ifs)):
        for node in walk(part):
            if isinstance(node, cst.Call) and not (
                is_builtin(context, node.func, *NUMERIC_BUILTINS)
                or context.resolves_under(node.func, "numpy", "math") is not None
            ):
                return []  # a call of the user's: more than reading numbers
            if isinstance(node, cst.SimpleString | cst.FormattedString):
                return []
            root = subscript_root(node) if isinstance(node, cst.Subscript) else None
            if root is not None and _indexed_by(node, index) and arrays.is_array(root.value, scope):
                used.add(root.value)
    return sorted(used)


def _indexed_by(node: cst.Subscript, index: str) -> bool:
    chain = subscript_chain(node)
    if not all(isinstance(e.slice, cst.Index) for subscript in chain for e in subscript.slice):
        return False
    return any(index in names_in(e.slice) for subscript in chain for e in subscript.slice)
