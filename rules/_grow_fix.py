"""GL205's fix, for the one shape it can prove: an accumulator set to an empty array just
before a loop, grown once per iteration (`acc = np.append(acc, x)`,
`acc = np.concatenate([acc, x])`, `acc = torch.cat((acc, x), 0)`) and read nowhere else
in the loop. The pieces are collected in a list and joined once after the loop:

    acc_parts = [np.empty(0)]
    for item in items:
        acc_parts.append(x)
    acc = np.concatenate([np.ravel(part) for part in acc_parts])   # np.append, no axis

Joining the pieces at once gives the array the repeated joins give: every join function
here is associative over its sequence (`vstack` of a `vstack` is the `vstack` of all).
"""

from __future__ import annotations

import libcst as cst

from green_lint.rule import Fix
from green_lint.rules._grow_calls import Growth, _reads, is_empty_array, sequence_argument, uses_in_loop
from green_lint.rules._syntax import argument, code, positional
from green_lint.walk import children

# Between the loop and the growing statement: only `if` branches.
PASSABLE = (cst.IndentedBlock, cst.SimpleStatementSuite, cst.SimpleStatementLine, cst.If, cst.Else)


def grow_fix(context, assign: cst.Assign, growth: Growth, loop: cst.CSTNode) -> Fix | None:
    target = assign.targets[0].target
    if not isinstance(target, cst.Name) or not isinstance(loop, cst.For | cst.While) or loop.orelse:
        return None
    if assign.value is not growth.call or growth.kind == "index":
        return None
    stack = context.stack
    try:
        start = next(i for i, node in enumerate(stack) if node is loop)
    except StopIteration:
        return None
    between = stack[start + 1 : -1]
    if not between or between[0] is not loop.body or not all(isinstance(n, PASSABLE) for n in between):
        return None
    block = stack[start - 1] if start > 0 else None
    init = _init_before(context, block, loop, target.value)
    if init is None:
        return None
    uses = uses_in_loop(context, loop, target, assign)
    if uses.cheap_reads or uses.costly_reads or uses.guarded_writes or uses.resets:
        return None
    parts = _parts_name(context, target.value)
    piece, finish = _rewrite(context, growth, target.value, parts)
    if piece is None or _changed_in_place(loop, piece):
        return None
    new_loop = loop.deep_replace(assign, cst.Expr(cst.parse_expression(f"{parts}.append({code(piece)})")))
    after = cst.parse_statement(f"{target.value} = {finish}\n")
    init_line, init_assign = init
    new_init = init_line.with_changes(
        body=[cst.parse_statement(f"{parts} = [{code(init_assign.value)}]\n").body[0]]
    )
    return Fix(
        f"Collect the pieces in the list `{parts}` and join them once after the loop",
        {init_line: new_init, loop: cst.FlattenSentinel([new_loop, after])},
        applicability="unsafe",
    )


def _init_before(context, block, loop, name: str):
    """`acc = <empty array>` as the statement just before the loop."""
    if not isinstance(block, cst.IndentedBlock | cst.Module):
        return None
    body = list(block.body)
    index = next((i for i, statement in enumerate(body) if statement is loop), None)
    if not index:
        return None
    line = body[index - 1]
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        return None
    assign = line.body[0]
    if (
        isinstance(assign, cst.Assign)
        and len(assign.targets) == 1
        and isinstance(assign.targets[0].target, cst.Name)
        and assign.targets[0].target.value == name
        and is_empty_array(context, assign.value)
    ):
        return line, assign
    return None


def _rewrite(context, growth: Growth, name: str, parts: str) -> tuple[cst.BaseExpression | None, str]:
    """The piece appended on each iteration, and the join after the loop."""
    call = growth.call
    if growth.kind == "append":
        args = positional(call)
        piece = argument(call, 1, "values")
        axis = argument(call, 2, "axis")
        if piece is None or len(call.args) != 2 + (axis is not None) or len(args) > 3:
            return None, ""
        module = _module_name(context, call.func, growth.qualified)
        if module is None:
            return None, ""
        if axis is None:
            return piece, f"{module}.concatenate([{module}.ravel(part) for part in {parts}])"
        return piece, f"{module}.concatenate({parts}, axis={code(axis)})"
    pieces = sequence_argument(call)
    if (
        not isinstance(pieces, cst.List | cst.Tuple)
        or len(pieces.elements) != 2
        or any(isinstance(e, cst.StarredElement) for e in pieces.elements)
        or code(pieces.elements[0].value) != name
    ):
        return None, ""
    args = [arg.with_changes(value=cst.Name(parts)) if arg.value is pieces else arg for arg in call.args]
    return pieces.elements[1].value, code(call.with_changes(args=args))


def _module_name(context, func: cst.BaseExpression, qualified: str) -> str | None:
    """How the file names the module of `np.append` (`np`), for its `concatenate`."""
    if isinstance(func, cst.Attribute):
        return code(func.value)
    module = qualified.rsplit(".", 1)[0]
    return context.semantic.local_name_for(module, func)


def _changed_in_place(loop: cst.CSTNode, piece: cst.BaseExpression) -> bool:
    """Whether the loop may change a name the piece reads in place (`buf[:] = ...`,
    `buf += 1`, `buf.add_(1)`, `out=buf`): the list would keep the changed array, where
    the join copied it at once."""
    names = {node.value for node in _names(piece)}
    if not names:
        return False
    pending = [loop.body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Assign):
            for target in node.targets:
                if isinstance(target.target, cst.Subscript | cst.Attribute) and _reads_any(
                    target.target, names
                ):
                    return True
        if isinstance(node, cst.AugAssign) and _reads_any(node.target, names):
            return True
        if isinstance(node, cst.Call) and (_mutating_method(node, names) or _writes_out(node, names)):
            return True
        pending.extend(children(node))
    return False


IN_PLACE_METHODS = frozenset({"fill", "sort", "resize", "put", "itemset"})


def _mutating_method(call: cst.Call, names: set[str]) -> bool:
    """`buf.add_(1)`, `buf.fill(0)`: a method that changes its receiver in place."""
    func = call.func
    if not isinstance(func, cst.Attribute) or not _reads_any(func.value, names):
        return False
    method = func.attr.value
    return (method.endswith("_") and not method.endswith("__")) or method in IN_PLACE_METHODS


def _writes_out(call: cst.Call, names: set[str]) -> bool:
    return any(
        arg.keyword is not None and arg.keyword.value == "out" and _reads_any(arg.value, names)
        for arg in call.args
    )


def _names(expr: cst.CSTNode) -> list[cst.Name]:
    found, pending = [], [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Name):
            found.append(node)
        for child in children(node):
            if isinstance(node, cst.Attribute) and child is node.attr:
                continue
            pending.append(child)
    return found


def _reads_any(expr: cst.CSTNode, names: set[str]) -> bool:
    return any(_reads(expr, name) for name in names)


def _parts_name(context, name: str) -> str:
    taken = context.semantic.bound_names()
    base = f"{name}_parts"
    candidate, counter = base, 2
    while candidate in taken:
        candidate, counter = f"{base}_{counter}", counter + 1
    return candidate
