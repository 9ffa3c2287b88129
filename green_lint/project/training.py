"""Which top-level functions and class methods of a module run a training step: a
`backward()` and an optimizer's `step()`, in their own body or in the module's functions
and methods they call (`self.train_step(...)` from `fit`). Read from CPython's tree; what
another module does is not followed."""

from __future__ import annotations

import ast
import re

# The receivers of an optimizer's `step()`: `optimizer`, `opt`, `self.optim_g`, `self.optimizer`.
_OPTIMIZER = re.compile(r"(?i)optim|^opt(_|$)|_opt$")

_Definition = ast.FunctionDef | ast.AsyncFunctionDef


def training_definitions(tree: ast.Module) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(the top-level functions that train, {class: its methods that train})."""
    functions = {s.name: s for s in tree.body if isinstance(s, _Definition)}
    classes = {
        s.name: {m.name: m for m in s.body if isinstance(m, _Definition)}
        for s in tree.body
        if isinstance(s, ast.ClassDef)
    }
    facts: dict[tuple[str, str], tuple[bool, bool, set[tuple[str, str]]]] = {}
    for name, function in functions.items():
        facts[("", name)] = _own_facts(function, "", functions, {})
    for cls, methods in classes.items():
        for name, method in methods.items():
            facts[(cls, name)] = _own_facts(method, cls, functions, methods)
    backward = {key for key, (b, _s, _c) in facts.items() if b}
    step = {key for key, (_b, s, _c) in facts.items() if s}
    changed = True
    while changed:
        changed = False
        for key, (_b, _s, callees) in facts.items():
            if key not in backward and callees & backward:
                backward.add(key)
                changed = True
            if key not in step and callees & step:
                step.add(key)
                changed = True
    trains = backward & step
    return (
        frozenset(name for cls, name in trains if not cls),
        {
            cls: frozenset(name for owner, name in trains if owner == cls)
            for cls in classes
            if any(o == cls for o, _ in trains)
        },
    )


def _own_facts(
    definition, cls: str, functions: dict, methods: dict
) -> tuple[bool, bool, set[tuple[str, str]]]:
    backward = step = False
    callees: set[tuple[str, str]] = set()
    for node in ast.walk(definition):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr == "backward":
                backward = True
            elif func.attr == "step" and _OPTIMIZER.search(_last(func.value)):
                step = True
            elif isinstance(func.value, ast.Name) and func.value.id == "self" and func.attr in methods:
                callees.add((cls, func.attr))
        elif isinstance(func, ast.Name) and func.id in functions:
            callees.add(("", func.id))
    return backward, step, callees


def _last(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""
