"""GL103's prefilter on CPython's tree (issue #16): a file can hold an exhaustive search
only if it names scikit-learn's `GridSearchCV` or `ParameterGrid` in code (not in a
docstring), calls something named `product` (a hand-written grid over
`itertools.product`), or nests loops (two `for` levels of a hand-written grid)."""

from __future__ import annotations

import ast

from green_lint.rules._loop_prefilter import COMPREHENSIONS, LineIndex, aliases_of

SEARCH_NAMES = frozenset({"GridSearchCV", "ParameterGrid", "product"})
_LOOPS = (ast.For, ast.AsyncFor, *COMPREHENSIONS)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def may_hold_search(tree: ast.Module, text: str) -> bool:
    names = aliases_of(tree, text, SEARCH_NAMES)
    # What it looks for has a search name or a `for` on its lines.
    lines = LineIndex(text, (*sorted(names), "for"))  # names holds SEARCH_NAMES
    # (node, whether it is inside a loop of the same function)
    pending: list[tuple[ast.AST, bool]] = [(tree, False)]
    while pending:
        node, in_loop = pending.pop()
        if isinstance(node, ast.stmt) and not lines.mentioned(node):
            continue
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.Attribute) and node.attr in SEARCH_NAMES:
            return True
        if isinstance(node, _LOOPS):
            # A loop in a loop, or a comprehension of several `for` clauses: the rule's
            # levels never cross a definition.
            if in_loop or len(getattr(node, "generators", ())) > 1:
                return True
            in_loop = True
        elif isinstance(node, _DEFINITIONS):
            in_loop = False
        pending.extend((child, in_loop) for child in ast.iter_child_nodes(node))
    return False
