"""GL302's fix: the load moves into a module-level `functools.cache`d loader (reused when
the file already has one for the same call), and the function calls the loader.

The loader takes no parameters: the fix is offered only for a load whose arguments are
constants and module-level names (`Invariance.only_module_names`), so its cache holds one
entry and `functools.cache` is bounded. A loader with parameters would need
`functools.lru_cache(maxsize=...)` (unbounded caches: creedengo GCI89); the fix never
writes one.
"""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.fixes import add_import
from green_lint.names import statements_of
from green_lint.rule import Fix
from green_lint.rules._model_load_exemptions import contains, is_cached
from green_lint.rules._model_load_invariance import Invariance
from green_lint.rules._syntax import code
from green_lint.rules._torch_calls import FunctionInfo


def existing_loaders(context: RuleContext) -> dict[str, str]:
    """Module-level cached loaders `def f(): return <load>` already in the file."""
    found = {}
    for statement in context.module.body:
        if not isinstance(statement, cst.FunctionDef) or not is_cached(statement):
            continue
        body = statement.body
        if isinstance(body, cst.SimpleStatementSuite):
            smalls = list(body.body)
        elif len(body.body) == 1 and isinstance(body.body[0], cst.SimpleStatementLine):
            smalls = list(body.body[0].body)
        else:
            continue
        small = smalls[0] if len(smalls) == 1 else None
        if (
            not statement.params.params
            and isinstance(small, cst.Return)
            and isinstance(small.value, cst.Call)
        ):
            found[code(small.value)] = statement.name.value
    return found


def loader_fix(
    context: RuleContext,
    invariance: Invariance,
    call: cst.Call,
    info: FunctionInfo,
    planned: dict[str, str],
    inserted: set[str],
) -> Fix | None:
    module = context.module
    if info.outer is not None:
        return None
    anchor = info.method_of if info.method_of is not None else info.node
    if not any(statement is anchor for statement in module.body):
        return None
    if not invariance.only_module_names(call):
        return None
    source = code(call)
    if source in inserted:
        return None  # another fix of this round inserts the loader; the next round reuses it
    functools_name = context.semantic.local_name_for("functools") or "functools"
    import_changes = add_import(context, "import functools", binds="functools")
    insert = source not in planned
    if insert:
        planned[source] = _loader_name(context, call, info.node, planned)
        inserted.add(source)
    name = planned[source]
    new_anchor = anchor.deep_replace(call, cst.parse_expression(f"{name}()"))
    if not insert:
        changes = {anchor: new_anchor}
    else:
        loader = cst.parse_statement(f"@{functools_name}.cache\ndef {name}():\n    return {source}\n")
        blank = [line for line in _leading_blank_run(anchor.leading_lines)]
        kept = list(anchor.leading_lines[len(blank) :])
        loader = loader.with_changes(leading_lines=blank)
        new_anchor = new_anchor.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *kept])
        changes = {anchor: cst.FlattenSentinel([loader, new_anchor]), **import_changes}
    return Fix(f"Load once, in the `functools.cache`d loader `{name}()`", changes, applicability="unsafe")


def _loader_name(context: RuleContext, call: cst.Call, func: cst.FunctionDef, planned: dict[str, str]) -> str:
    target = "model"
    for statement in statements_of(func, enter_definitions=False):
        if isinstance(statement, cst.Assign) and contains(statement.value, call):
            first = statement.targets[0].target
            if isinstance(first, cst.Name):
                target = first.value.lstrip("_")
            break
    base = f"_load_{target}"
    taken = set(planned.values()) | context.semantic.bound_names()
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}_{counter}", counter + 1
    return name


def _leading_blank_run(lines) -> list[cst.EmptyLine]:
    run = []
    for line in lines:
        if line.comment is not None:
            break
        run.append(line)
    return run
