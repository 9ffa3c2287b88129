"""Helpers for rules that build fixes: find statements, add imports once, in the right place.

Each helper returns `changes` entries for a `Fix` (original node -> replacement), so a rule
composes them: `Fix("...", {**replace_call, **add_import(...)})`.
"""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext


def top_level_line_of(context: RuleContext, node: cst.CSTNode) -> cst.SimpleStatementLine | None:
    """The module-level statement line that holds the small statement `node`."""
    for line in context.module.body:
        if isinstance(line, cst.SimpleStatementLine) and any(s is node for s in line.body):
            return line
    return None


def import_insertion_anchor(module: cst.Module) -> cst.CSTNode | None:
    """The module-level statement after which new imports go: the last leading import,
    else the docstring or `__future__` import; None to insert before the first statement."""
    anchor = None
    for index, line in enumerate(module.body):
        if not isinstance(line, cst.SimpleStatementLine):
            break
        first = line.body[0] if line.body else None
        is_docstring = (
            index == 0 and isinstance(first, cst.Expr) and isinstance(first.value, cst.SimpleString)
        )
        if is_docstring or isinstance(first, cst.Import | cst.ImportFrom):
            anchor = line
            continue
        break
    return anchor


def insert_lines_before(line: cst.CSTNode, code: str, replacement: cst.CSTNode | None = None) -> dict:
    """Put the statements of `code` just before `line` (optionally replacing `line`)."""
    new_statements = list(cst.parse_module(code).body)
    kept = replacement if replacement is not None else line
    # Comments and blank lines above `line` stay above the whole group.
    if isinstance(kept, cst.SimpleStatementLine | cst.BaseCompoundStatement) and kept.leading_lines:
        new_statements[0] = new_statements[0].with_changes(leading_lines=kept.leading_lines)
        kept = kept.with_changes(leading_lines=())
    return {line: cst.FlattenSentinel([*new_statements, kept])}


def add_import(context: RuleContext, code: str, binds: str) -> dict:
    """Changes that add the import statement `code` unless `binds` is already imported.

    `binds` is the qualified name the import makes available (e.g. "numba" or
    "sklearn.experimental.enable_halving_search_cv"). The import goes after the file's
    leading imports.
    """
    # Asked of the module scope: an import inside some function does not serve the fix.
    if context.semantic.local_name_for(binds) is not None:
        return {}
    module = context.module
    anchor = import_insertion_anchor(module)
    new_statements = list(cst.parse_module(code).body)
    if anchor is None:
        if not module.body:
            return {module: module.with_changes(body=new_statements)}
        return insert_lines_before(module.body[0], code)
    return {anchor: cst.FlattenSentinel([anchor, *new_statements])}
