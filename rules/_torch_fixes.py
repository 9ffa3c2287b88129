"""GL301's fixes: `@torch.no_grad()` on a function (nothing re-indented), a `with
torch.no_grad():` block around a coroutine's body or a module-level loop (libcst writes it
in the file's own indentation unit)."""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.fixes import add_import
from green_lint.rule import Fix
from green_lint.rules._syntax import is_docstring
from green_lint.rules._torch import with_block
from green_lint.rules._torch_calls import FunctionInfo


def _torch_name(context: RuleContext) -> tuple[str, dict]:
    local = context.semantic.local_name_for("torch")
    if local is not None:
        return local, {}
    return "torch", add_import(context, "import torch", binds="torch")


def function_fix(context: RuleContext, info: FunctionInfo) -> Fix | None:
    """`@torch.no_grad()` on the function: nothing is re-indented, and a generator keeps
    the mode at each `yield` (a `with` block would leak it to the consumer). A coroutine
    runs after the decorator has returned, so an `async def` is wrapped in a `with`
    block instead, and only when it never awaits (the mode would leak to other tasks)."""
    func = info.node
    if info.awaits:
        return None
    torch_name, import_changes = _torch_name(context)
    no_grad = cst.parse_expression(f"{torch_name}.no_grad()")
    if func.asynchronous is None:
        decorated = func.with_changes(decorators=[*func.decorators, cst.Decorator(decorator=no_grad)])
        return Fix(
            "Decorate the function with @torch.no_grad()",
            {func: decorated, **import_changes},
            applicability="safe",
        )
    body = func.body
    if isinstance(body, cst.SimpleStatementSuite):
        statements = [cst.SimpleStatementLine(body=list(body.body))]
        docstring: list = []
    else:
        statements = list(body.body)
        docstring = statements[:1] if is_docstring(statements[0]) else []
    rest = statements[len(docstring) :]
    if not rest:
        return None
    wrapped = with_block(no_grad, rest)
    if isinstance(body, cst.SimpleStatementSuite):
        new_body = cst.IndentedBlock(body=[wrapped], header=body.trailing_whitespace)
    else:
        new_body = body.with_changes(body=[*docstring, wrapped])
    return Fix(
        "Wrap the coroutine's body in `with torch.no_grad():`",
        {func: func.with_changes(body=new_body), **import_changes},
        applicability="safe",
    )


def loop_fix(context: RuleContext, loop: cst.For | cst.While) -> Fix:
    torch_name, import_changes = _torch_name(context)
    wrapped = with_block(cst.parse_expression(f"{torch_name}.no_grad()"), [loop])
    return Fix(
        "Wrap the loop in `with torch.no_grad():`",
        {loop: wrapped, **import_changes},
        applicability="safe",
    )
