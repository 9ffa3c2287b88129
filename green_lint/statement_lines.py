"""Where each top-level statement of a libcst module starts, from Python's own parser.

Positions and fix edits are computed per top-level statement, shifted by the line it starts
on. Generating the module's code to count its lines costs a tenth of a parse on a large
file; CPython's parser (in C) gives the same lines far faster. A libcst statement starts
at its leading blank and comment lines, and a line `a = 1; b = 2` is one libcst statement
but two of Python's.
"""

from __future__ import annotations

import ast
import warnings

import libcst as cst


def first_lines(module: cst.Module, text: str, python_module: ast.Module | None = None) -> list[int] | None:
    """The 1-based line each statement of `module.body` starts on (leading lines
    included), or None when Python's parser and libcst's tree do not line up.
    `python_module`: CPython's tree of `text` when the caller has it already."""
    if python_module is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. invalid escape sequences
                python_module = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None  # e.g. syntax newer than this Python: libcst still parses it
    python_statements = python_module.body
    starts, previous_end = [], len(module.header)
    position = 0
    for statement in module.body:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        group = python_statements[position : position + count]
        if len(group) != count:
            return None
        position += count
        decorators = getattr(group[0], "decorator_list", ())
        code_line = min([group[0].lineno, *(decorator.lineno for decorator in decorators)])
        start = code_line - len(statement.leading_lines)
        if start <= previous_end:
            return None
        starts.append(start)
        previous_end = max(getattr(node, "end_lineno", None) or node.lineno for node in group)
    if position != len(python_statements):
        return None
    return starts
