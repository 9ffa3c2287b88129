"""Loads that do not run again with the same result, though they sit in a loop or a
per-call function: lazy loaders (`if model is None: model = load(...)`, a cache entry, a
guarded `self.model`), cached loaders, loads that run on one iteration only, loaders that
only return what they load, and loops or functions that also write the file they read.
"""

from __future__ import annotations

import re

import libcst as cst

from green_lint.names import dotted_name, statements_of
from green_lint.rules._model_load_invariance import Invariance, read_names
from green_lint.rules._syntax import code
from green_lint.rules._torch_model_values import MODULE_CHAIN_METHODS
from green_lint.walk import path_to

# Writing in the loop (or function) suggests the file read is not the same every time.
WRITES = re.compile(r"\b(save|dump|export|write|to_disk)\w*\s*\(")
# `functools.cache`, `lru_cache`, `cached_property`, `joblib.Memory(...).cache`...
CACHE_DECORATOR = re.compile(r"cache|memoize|memoise", re.IGNORECASE)


def load_targets(path: list[cst.CSTNode], call: cst.Call) -> list[cst.BaseExpression]:
    """What the statement holding the load assigns its result to."""
    for node in reversed(path):
        if isinstance(node, cst.Assign) and contains(node.value, call):
            return [target.target for target in node.targets]
        if isinstance(node, cst.AnnAssign | cst.AugAssign) and contains(node.value, call):
            return [node.target]
        if isinstance(node, cst.BaseSmallStatement | cst.BaseCompoundStatement):
            return []
    return []


def guarded_by_target(root: cst.CSTNode, call: cst.Call, path: list[cst.CSTNode] | None = None) -> bool:
    """`if model is None: model = load(...)`: the load runs while its target is unset."""
    path = path if path is not None else path_to(root, call) or []
    targets = load_targets(path, call)
    if not targets:
        return False
    names = [code(target) for target in targets]
    cache_entry = any(isinstance(target, cst.Subscript) for target in targets)
    for index, node in enumerate(path[:-1]):
        if isinstance(node, cst.If | cst.IfExp) and path[index + 1] is not node.test:
            test = code(node.test)
            if cache_entry or any(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", test) for name in names):
                return True  # a cache entry: `if key not in cache: cache[key] = load(...)`
    return False


def lazy_load(func: cst.FunctionDef, call: cst.Call) -> bool:
    """A lazy loader: the load is conditional and its result kept beyond the call (an
    attribute, a global, a cache entry), or it only runs while its target is unset."""
    path = path_to(func, call) or []
    declared = {
        item.name.value
        for statement in statements_of(func, enter_definitions=False)
        if isinstance(statement, cst.Global | cst.Nonlocal)
        for item in statement.names
    }
    conditional = any(
        isinstance(node, cst.If | cst.IfExp) and path[index + 1] is not node.test
        for index, node in enumerate(path[:-1])
    )
    for target in load_targets(path, call):
        kept = isinstance(target, cst.Attribute | cst.Subscript) or (
            isinstance(target, cst.Name) and target.value in declared
        )
        if kept and conditional:
            return True
    return guarded_by_target(func, call, path)


def runs_once(loop: cst.CSTNode, call: cst.Call, invariance: Invariance) -> bool:
    """Whether the load, though inside the loop, runs on one iteration only: under a
    condition on what the loop changes (`if i == rank:`), or followed by `break` or
    `return` in its block."""
    path = path_to(loop, call) or []
    for index, node in enumerate(path[:-1]):
        child = path[index + 1]
        if isinstance(node, cst.If | cst.IfExp) and child is not node.test:
            names, _ = read_names(node.test)
            if any(invariance.rebound_in(name, loop) for name in names):
                return True
        if isinstance(node, cst.IndentedBlock) and index > 0:
            for statement in node.body:
                if isinstance(statement, cst.SimpleStatementLine) and any(
                    isinstance(small, cst.Break | cst.Return) for small in statement.body
                ):
                    return True
    return False


def rewrites_source(scope_code: str, call: cst.Call) -> bool:
    """Whether the loop or function also writes (saves, dumps) what the load reads: then
    the load does not read the same thing every time."""
    if not call.args or not WRITES.search(scope_code):
        return False
    source = call.args[0].value
    if isinstance(source, cst.Call) and source.args:  # pickle.load(open(PATH, "rb"))
        source = source.args[0].value
    return scope_code.count(code(source)) > 1


def is_cached(func: cst.FunctionDef) -> bool:
    for decorator in func.decorators:
        expr = decorator.decorator
        expr = expr.func if isinstance(expr, cst.Call) else expr
        if CACHE_DECORATOR.search(dotted_name(expr) or ""):
            return True
    return False


def contains(expr: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Whether `expr` is `node` or a chain of module methods over it (`load(...).eval()`)."""
    while True:
        if expr is node:
            return True
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            expr = expr.func.value
        elif isinstance(expr, cst.Attribute):
            expr = expr.value
        else:
            return False


def only_returns_load(func: cst.FunctionDef, call: cst.Call, load_name) -> bool:
    """Whether the function only loads and returns what it loaded (a loader)."""
    loaded: set[str] = set()
    returns = []
    for statement in statements_of(func, enter_definitions=False):
        if isinstance(statement, cst.Assign) and _is_loaded(statement.value, load_name, loaded):
            for target in statement.targets:
                if isinstance(target.target, cst.Name):
                    loaded.add(target.target.value)
        elif isinstance(statement, cst.Return):
            returns.append(statement.value)
    if not returns:
        return False
    for value in returns:
        elements = [e.value for e in value.elements] if isinstance(value, cst.Tuple) else [value]
        if not elements or not all(_is_loaded(e, load_name, loaded) for e in elements):
            return False
    return True


def _is_loaded(expr: cst.BaseExpression | None, load_name, loaded: set[str]) -> bool:
    while (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in MODULE_CHAIN_METHODS
    ):
        expr = expr.func.value
    if isinstance(expr, cst.Name):
        return expr.value in loaded
    return isinstance(expr, cst.Call) and load_name(expr) is not None
