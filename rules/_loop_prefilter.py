"""Prefilters on CPython's tree for rules about what a loop repeats (issue #16): the nodes
that run on every turn of a loop, found without parsing the file with libcst."""

from __future__ import annotations

import ast
import bisect
import functools
import re
import unicodedata
from collections.abc import Iterator

from green_lint.lines import count_line_breaks

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def nodes_in_loops(tree: ast.AST, text: str) -> list[ast.AST]:
    """The nodes lexically inside a loop: a `for`/`while` body (and `else`), a `while` test,
    any part of a comprehension, and everything under them (defs included: a superset of
    what runs per turn, as a necessary condition must be). Kept on the tree: several
    rules' prefilters ask for them."""
    found = getattr(tree, "_green_lint_in_loops", None)
    if found is None:
        found = list(_nodes_in_loops(tree, LineIndex(text, ("for", "while"))))
        tree._green_lint_in_loops = found  # type: ignore[attr-defined]
    return found


def _nodes_in_loops(tree: ast.AST, loop_lines: LineIndex) -> Iterator[ast.AST]:
    pending: list[tuple[ast.AST, bool]] = [(tree, False)]
    while pending:
        node, in_loop = pending.pop()
        if in_loop:
            yield node
        elif isinstance(node, ast.stmt) and not loop_lines.mentioned(node):
            continue  # no `for` or `while` in its lines: no loop, no comprehension under it
        if isinstance(node, _LOOPS):
            pending.extend((child, True) for child in (*node.body, *node.orelse))
            # A `while` test runs every turn; a `for`'s iterable once.
            pending.append(
                (node.iter, in_loop) if isinstance(node, ast.For | ast.AsyncFor) else (node.test, True)
            )
            continue
        inner = in_loop or isinstance(node, COMPREHENSIONS)
        pending.extend((child, inner) for child in ast.iter_child_nodes(node))


def as_parsed(text: str) -> str:
    """`text` with its identifiers as CPython's tree spells them: Python reads a full-width
    `GS` as `GS` (NFKC, PEP 3131), so a name from the tree is searched in the normalised text.
    NFKC keeps every line break where it is and makes no new one."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


class LineIndex:
    """Which lines of a file contain one of some words, to skip the statements that cannot
    hold what a prefilter looks for without walking their expressions: a loop or a
    comprehension has `for` or `while` on one of its lines, and so has every statement
    around it. Only statements are judged: their positions are CPython's most reliable."""

    def __init__(self, text: str, words: tuple[str, ...]) -> None:
        self._rows: list[int] = []
        text = as_parsed(text)
        row, counted = 1, 0
        for match in _pattern(words).finditer(text):  # far fewer matches than lines
            row += count_line_breaks(text, counted, match.start())  # Python's line breaks
            counted = match.start()
            if not self._rows or self._rows[-1] != row:
                self._rows.append(row)

    def mentioned(self, statement: ast.stmt) -> bool:
        """Whether a line of `statement`, its decorators included, has one of the words."""
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        last = statement.end_lineno or statement.lineno
        index = bisect.bisect_left(self._rows, first)
        return index < len(self._rows) and self._rows[index] <= last


def called_name(call: ast.Call) -> str | None:
    """`read_csv` for `pd.read_csv(...)` and `read_csv(...)`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def aliases_of(tree: ast.Module, text: str, names: frozenset[str]) -> set[str]:
    """`names` and the local names from-imports give them (`from pandas import concat as cc`)."""
    found = set(names)
    if not any(_renamed(name).search(text) for name in names):  # most files: no walk
        return found
    for node in statements(tree.body):
        if isinstance(node, ast.ImportFrom):
            found.update(alias.asname for alias in node.names if alias.asname and alias.name in names)
    return found


def statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of `body`, at any depth (definitions too), without their expressions."""
    pending = list(body)
    while pending:
        node = pending.pop()
        yield node
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                pending.extend(inner)
        for part in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            pending.extend(part.body)


@functools.lru_cache(maxsize=64)
def _renamed(name: str) -> re.Pattern:
    return re.compile(re.escape(name) + r"\s+as\b")  # a literal first: `re` scans for it


@functools.lru_cache(maxsize=64)
def _pattern(words: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(map(re.escape, words)))
