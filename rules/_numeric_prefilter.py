"""GL203's second prefilter, on CPython's tree of a file whose text hit a trigger: can any
loop of the file be one the rule flags? Every loop GL203 flags indexes something by one of
its nest's loop variables (`a[i]`, `m[i, j]`, `w[idx[k]]`), hands a loop variable to
`math`, or runs over `zip(...)` (a loop over records); its reductions are builtin
reductions over a `for ... in range(...)` generator. A file with none of these is not
parsed for GL203. This reads statements and the loops' own lines only: a walk of every
expression would cost a good part of what it saves."""

from __future__ import annotations

import ast
import re

from green_lint.lines import split_lines
from green_lint.rules._loop_prefilter import as_parsed, statements

# `sum(a[i] for i in range(n))`, also with the generator's `for` on the next line: the
# text trigger and the tree prefilter share it.
REDUCTION = re.compile(
    r"(?:sum|min|max|any|all)\((?<=\b\w\w\w\()[^\n]*(?:\n[^\n]*)?\bfor\s+\w+\s+in\s+range\("
)
_LOOPS = (ast.For, ast.AsyncFor)


def may_hold_element_loops(tree: ast.Module, text: str) -> bool:
    if REDUCTION.search(text):
        return True
    lines: list[str] | None = None
    for node in statements(tree.body):
        if isinstance(node, _LOOPS):
            if _is_zip(node.iter):
                return True
            variables = _names(node.target)
        elif isinstance(node, ast.While) and isinstance(node.test, ast.Compare):
            if not isinstance(node.test.left, ast.Name):
                continue
            variables = {node.test.left.id}
        else:
            continue
        for inner in statements([*node.body, *node.orelse]):
            if isinstance(inner, _LOOPS):
                variables |= _names(inner.target)
        if lines is None:
            # Python's line breaks, not str.splitlines'; the names as the tree spells them.
            lines = split_lines(as_parsed(text), keepends=True)
        loop_text = "".join(lines[node.lineno - 1 : node.end_lineno])
        if "math." in loop_text or _indexed_by(loop_text, variables):
            return True
    return False


def _names(target: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}


def _is_zip(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "zip"


def _indexed_by(text: str, variables: set[str]) -> bool:
    """Whether a loop variable appears inside square brackets in the loop's text: a
    superset of its subscripts by a loop variable (list literals and comments count too)."""
    if not variables:
        return False
    alternatives = "|".join(re.escape(name) for name in variables)
    return re.search(r"\[[^\[\]]*?\b(?:" + alternatives + r")\b", text) is not None
