"""Does a forward pass's output reach a backward pass? Follows the output through one
scope's assignments (flow-insensitively, which can only make the answer "maybe").

The answer is "backward" when a value built from the output is `.backward()`ed or given
to `torch.autograd.grad`/`backward`, or handed to a function of the file that calls
`backward()`; "escapes" when it leaves the scope in a way this file cannot follow
(returned, yielded, stored on `self` or a global, passed to an unknown function); "no"
otherwise. `.detach()`, `.data`, `.item()`, `.numpy()` and `.tolist()` cut the graph.
"""

from __future__ import annotations

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.semantic.scopes import parameters, target_names
from green_lint.walk import children, walk

_GRAPH_CUTS = frozenset(("detach", "data", "item", "numpy", "tolist"))
# Builtins whose result holds no tensor of the graph (`len(outputs)`, `float(loss)`).
_PLAIN_RESULTS = frozenset(
    ("len", "int", "float", "bool", "str", "print", "isinstance", "type", "round", "repr")
)
_MUTATORS = frozenset(("append", "extend", "insert", "add", "update", "__setitem__", "put"))
# Libraries whose functions neither backpropagate nor keep what they are given.
_SAFE_LIBRARIES = (
    "builtins",
    "torch",
    "numpy",
    "math",
    "matplotlib",
    "PIL",
    "torchvision",
    "sklearn",
    "pandas",
    "random",
    "time",
    "logging",
    "json",
    "pickle",
)


def output_fate(context: RuleContext, forward: cst.Call, scope: cst.Module | cst.FunctionDef) -> str:
    """ "backward", "escapes" or "no" for the value of `forward` within `scope`."""
    statements = list(statements_of(scope, enter_definitions=False))
    holder = _statement_holding(statements, forward)
    if holder is None:
        return "escapes"
    tainted: set[str] = set()
    fate = _taint_statement(context, holder, tainted, seed=forward)
    if fate != "no":
        return fate
    for _ in range(8):  # to a fixed point: each pass can only add names
        before = len(tainted)
        for statement in statements:
            fate = _taint_statement(context, statement, tainted)
            if fate != "no":
                return fate
        if len(tainted) == before:
            break
    if isinstance(scope, cst.FunctionDef) and tainted & {p.name.value for p in parameters(scope.params)}:
        return "escapes"  # kept in something the caller passed in
    return "no"


def _statement_holding(statements: list[cst.CSTNode], node: cst.CSTNode) -> cst.CSTNode | None:
    for statement in statements:
        parts = _own_parts(statement)
        if any(_contains(part, node) for part in parts):
            return statement
    return None


def _own_parts(statement: cst.CSTNode) -> list[cst.CSTNode]:
    """The expressions of a statement itself, not of the statements nested in it."""
    if isinstance(statement, cst.BaseSmallStatement):
        return [statement]
    if isinstance(statement, cst.For):
        return [statement.target, statement.iter]
    if isinstance(statement, cst.If | cst.While):
        return [statement.test]
    if isinstance(statement, cst.With):
        return list(statement.items)
    return []


def _contains(root: cst.CSTNode, node: cst.CSTNode) -> bool:
    return any(item is node for item in walk(root))


def _taint_statement(context, statement: cst.CSTNode, tainted: set[str], seed: cst.Call | None = None) -> str:
    def carries(expression: cst.CSTNode | None) -> bool:
        return expression is not None and _carries(expression, tainted, seed)

    for part in _own_parts(statement):
        fate = _calls_fate(context, part, carries, tainted)
        if fate != "no":
            return fate
    if isinstance(statement, cst.Return):
        return "escapes" if carries(statement.value) else "no"
    if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Yield | cst.Await):
        return "escapes" if carries(statement.value) else "no"
    if isinstance(statement, cst.Assign | cst.AugAssign | cst.AnnAssign):
        if not carries(statement.value):
            return "no"
        targets = (
            [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
        )
        for target in targets:
            if _escaping_target(target):
                return "escapes"
            tainted.update(_target_names(target))
    if isinstance(statement, cst.For) and carries(statement.iter):
        tainted.update(_target_names(statement.target))
    if isinstance(statement, cst.Global | cst.Nonlocal) and any(
        n.name.value in tainted for n in statement.names
    ):
        return "escapes"
    return "no"


def _calls_fate(context, part: cst.CSTNode, carries, tainted: set[str]) -> str:
    for node in walk(part):
        if isinstance(node, cst.Yield) and carries(node.value):
            return "escapes"
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "backward" and carries(func.value):
            return "backward"
        arguments = [arg.value for arg in node.args]
        if not any(carries(argument) for argument in arguments):
            continue
        if context.resolves_to(func, "torch.autograd.grad", "torch.autograd.backward"):
            return "backward"
        if isinstance(func, cst.Attribute):
            if func.attr.value in _MUTATORS and isinstance(func.value, cst.Name):
                if func.value.value == "self":
                    return "escapes"
                tainted.add(func.value.value)  # `outputs.append(model(x))`: the list holds it
            continue  # a method of some object: its result carries the graph, nothing more
        fate = _function_fate(context, func)
        if fate != "no":
            return fate
    return "no"


def _function_fate(context, func: cst.BaseExpression) -> str:
    definition = context.semantic.definition(func) if isinstance(func, cst.Name) else None
    if isinstance(definition, cst.FunctionDef):
        backward = any(
            isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "backward"
            for n in walk(definition)
        )
        return "backward" if backward else "no"
    if isinstance(definition, cst.ClassDef):
        return "no"  # building an object from the output: its result carries the graph
    if context.resolves_under(func, *_SAFE_LIBRARIES):
        return "no"
    if isinstance(func, cst.Name) and any(
        b.kind in ("assignment", "with") for b in context.semantic.binding_of(func)
    ):
        return "no"  # an object such as a loss module: its result carries the graph
    return "escapes"


def _carries(expression: cst.CSTNode, tainted: set[str], seed: cst.Call | None) -> bool:
    pending = [expression]
    while pending:
        node = pending.pop()
        if node is seed:
            return True
        if isinstance(node, cst.Name) and node.value in tainted:
            return True
        if isinstance(node, cst.Attribute) and node.attr.value in _GRAPH_CUTS:
            continue
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _GRAPH_CUTS
        ):
            continue
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value in _PLAIN_RESULTS
        ):
            continue
        if isinstance(node, cst.Lambda | cst.FunctionDef):
            continue
        pending.extend(children(node))
    return False


def _escaping_target(target: cst.CSTNode) -> bool:
    base = target
    while isinstance(base, cst.Attribute | cst.Subscript):
        base = base.value
    return (
        isinstance(target, cst.Attribute | cst.Subscript)
        and isinstance(base, cst.Name)
        and base.value == "self"
    )


def _target_names(target: cst.CSTNode) -> set[str]:
    base = target
    while isinstance(base, cst.Attribute | cst.Subscript):
        base = base.value  # `d[k] = output` keeps it in `d`
    if base is not target:
        return {base.value} if isinstance(base, cst.Name) else set()
    return {name for name, _, _ in target_names(target)}
