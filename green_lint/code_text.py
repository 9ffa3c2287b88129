"""A file's text without its docstrings, for the rules' text triggers (issue #16).

A trigger names what a rule looks for in code: `GridSearchCV`, `SGDClassifier`,
`DataLoader`. Library sources and well-documented projects mention these names far more
often in docstrings ("See Also: GridSearchCV") than they call them, and each mention made
libcst parse the file for nothing. The triggers are checked again on the code alone, once
CPython's tree (which the engine has already) says where the docstrings are.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_HAVE_DOCSTRINGS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def without_docstrings(text: str, tree: ast.Module) -> str | None:
    """`text` with every docstring that stands alone on its lines blanked to an empty
    line; None when there is none (or the line breaks are not all `\\n`/`\\r\\n`, where
    CPython's line numbers and ours could disagree)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    lines = text.split("\n")
    docstrings = [node for node in _docstrings(tree) if _alone_on_its_lines(node, lines)]
    if not docstrings:
        return None
    for node in docstrings:
        for index in range(node.lineno - 1, node.end_lineno):
            lines[index] = ""
    return "\n".join(lines)


def _docstrings(tree: ast.Module) -> Iterator[ast.Expr]:
    """Each docstring: the leading string of a module, class or function body. Statements
    only are visited, not expressions: a few nodes per line."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, _HAVE_DOCSTRINGS) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
                and first.end_lineno is not None
            ):
                yield first
        for name in _STATEMENT_LISTS:
            children = getattr(node, name, None)
            if isinstance(children, list):
                pending.extend(child for child in children if isinstance(child, ast.AST))


def _alone_on_its_lines(node: ast.Expr, lines: list[str]) -> bool:
    """Nothing but indentation before the docstring, and nothing but a comment after it:
    blanking its lines then removes no code. (Columns are UTF-8 byte offsets.)"""
    if node.end_lineno > len(lines):
        return False
    before = lines[node.lineno - 1].encode("utf-8")[: node.col_offset]
    after = lines[node.end_lineno - 1].encode("utf-8")[node.end_col_offset :].strip()
    return not before.strip() and (not after or after.startswith(b"#"))
