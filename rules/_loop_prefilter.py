"""Prefilters on CPython's tree for rules about what a loop repeats (issue #16): the nodes
that run on every turn of a loop, found without parsing the file with libcst."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def nodes_in_loops(tree: ast.AST) -> list[ast.AST]:
    """The nodes lexically inside a loop: a `for`/`while` body (and `else`), a `while` test,
    any part of a comprehension, and everything under them (defs included: a superset of
    what runs per turn, as a necessary condition must be). Kept on the tree: several
    rules' prefilters ask for them."""
    found = getattr(tree, "_green_lint_in_loops", None)
    if found is None:
        found = list(_nodes_in_loops(tree))
        tree._green_lint_in_loops = found  # type: ignore[attr-defined]
    return found


def _nodes_in_loops(tree: ast.AST) -> Iterator[ast.AST]:
    pending: list[tuple[ast.AST, bool]] = [(tree, False)]
    while pending:
        node, in_loop = pending.pop()
        if in_loop:
            yield node
        if isinstance(node, _LOOPS):
            pending.extend((child, True) for child in (*node.body, *node.orelse))
            # A `while` test runs every turn; a `for`'s iterable once.
            pending.append(
                (node.iter, in_loop) if isinstance(node, ast.For | ast.AsyncFor) else (node.test, True)
            )
            continue
        inner = in_loop or isinstance(node, _COMPREHENSIONS)
        pending.extend((child, inner) for child in ast.iter_child_nodes(node))


def called_name(call: ast.Call) -> str | None:
    """`read_csv` for `pd.read_csv(...)` and `read_csv(...)`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def aliases_of(tree: ast.Module, text: str, names: frozenset[str]) -> set[str]:
    """`names` and the local names from-imports give them (`from pandas import concat as cc`)."""
    found = set(names)
    renamed = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\s+as\b")
    if renamed.search(text) is None:  # most files: no walk of the tree
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.update(alias.asname for alias in node.names if alias.asname and alias.name in names)
    return found
