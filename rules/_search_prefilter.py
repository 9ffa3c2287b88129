"""GL103's prefilter on CPython's tree (issue #16): a file can hold an exhaustive search
only if it names scikit-learn's `GridSearchCV` or `ParameterGrid` in code (not in a
docstring), calls something named `product` (a hand-written grid over
`itertools.product`), or nests loops (two `for` levels of a hand-written grid)."""

from __future__ import annotations

import ast

from green_lint.rules._loop_prefilter import aliases_of

SEARCH_NAMES = frozenset({"GridSearchCV", "ParameterGrid", "product"})
_LOOPS = (ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def may_hold_search(tree: ast.Module, text: str) -> bool:
    names = aliases_of(tree, text, SEARCH_NAMES)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.Attribute) and node.attr in SEARCH_NAMES:
            return True
        if isinstance(node, _LOOPS) and _nests_a_loop(node):
            return True
    return False


def _nests_a_loop(loop: ast.AST) -> bool:
    """A comprehension of several `for` clauses, or a loop with another loop (or
    comprehension) inside it, in the same function: the rule's levels never cross a
    definition."""
    if isinstance(loop, ast.comprehension):
        return False
    generators = getattr(loop, "generators", ())
    if len(generators) > 1:
        return True
    pending = list(ast.iter_child_nodes(loop))
    while pending:
        node = pending.pop()
        if isinstance(node, _LOOPS):
            return True
        if not isinstance(node, _DEFINITIONS):
            pending.extend(ast.iter_child_nodes(node))
    return False
