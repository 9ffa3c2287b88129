"""Scopes and the bindings each one holds, read from statements without visiting expressions.

Python's rules, as CPython applies them: a name bound anywhere in a function is local to
the whole function unless declared `global` or `nonlocal`; a class body is a scope that
the functions inside it do not see; a comprehension is a scope of its own whose first
iterable is evaluated outside it; a walrus in a comprehension binds in the enclosing
function. Parameter defaults, decorators and annotations belong to the enclosing scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from green_lint.names import NESTED_SCOPE_TYPES, dotted_name, statements_of

COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


@dataclass(eq=False)
class Binding:
    """One place that binds a name.

    `value` is the whole expression assigned when one is (`x = value`, `x: T = value`, a
    parameter's default); `element` is the position inside an unpacked tuple
    (`a, b = 1, 2` binds `b` with value `1, 2` and element 1)."""

    name: str
    kind: str  # import, assignment, augmented, parameter, function, class, loop, with, except, walrus, deletion, comprehension, global
    site: cst.CSTNode  # the node that binds: a Name target, an import alias, a Param, a def
    statement: cst.CSTNode | None = None
    value: cst.BaseExpression | None = None
    element: tuple[int, ...] = ()
    qualified: str | None = None  # for imports: what the name stands for

    @property
    def is_import(self) -> bool:
        return self.kind == "import"


@dataclass(eq=False)
class Scope:
    node: cst.CSTNode
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    star_imports: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        node = self.node
        if isinstance(node, cst.Module):
            return "module"
        if isinstance(node, cst.FunctionDef):
            return "function"
        if isinstance(node, cst.ClassDef):
            return "class"
        if isinstance(node, cst.Lambda):
            return "lambda"
        return "comprehension"

    def add(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    def binds(self, name: str) -> bool:
        return (
            name in self.bindings and name not in self.declared_global and name not in self.declared_nonlocal
        )


def build_scope(node: cst.CSTNode, parent: Scope | None, with_walrus: bool) -> Scope:
    """The scope `node` opens (a Module, FunctionDef, ClassDef, Lambda or comprehension)."""
    scope = Scope(node, parent)
    if isinstance(node, cst.FunctionDef | cst.Lambda):
        for param in parameters(node.params):
            scope.add(Binding(param.name.value, "parameter", param, node, param.default))
    if isinstance(node, COMPREHENSIONS):
        comp_for = node.for_in
        while comp_for is not None:
            for name, element, site in target_names(comp_for.target):
                scope.add(Binding(name, "comprehension", site, comp_for, element=element))
            comp_for = comp_for.inner_for_in
        return scope
    if isinstance(node, cst.Lambda):
        return scope
    for statement in statements_of(node, enter_definitions=False):
        _bind_statement(scope, statement)
    if with_walrus:
        _bind_walruses(scope)
    return scope


def parameters(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found


def _bind_statement(scope: Scope, statement: cst.CSTNode) -> None:
    # By the exact type, not a chain of isinstance: libcst's node classes are ABCs, slow to
    # check, and most statements (expressions, returns, ifs) bind nothing.
    binder = _BINDERS.get(type(statement))
    if binder is not None:
        binder(scope, statement)


def _bind_assign(scope: Scope, statement: cst.Assign) -> None:
    for target in statement.targets:
        for name, element, site in target_names(target.target):
            scope.add(Binding(name, "assignment", site, statement, statement.value, element))


def _bind_ann_assign(scope: Scope, statement: cst.AnnAssign) -> None:
    for name, element, site in target_names(statement.target):
        scope.add(Binding(name, "assignment", site, statement, statement.value, element))


def _bind_aug_assign(scope: Scope, statement: cst.AugAssign) -> None:
    for name, _, site in target_names(statement.target):
        scope.add(Binding(name, "augmented", site, statement))


def _bind_for(scope: Scope, statement: cst.For) -> None:
    for name, element, site in target_names(statement.target):
        scope.add(Binding(name, "loop", site, statement, statement.iter, element))


def _bind_with(scope: Scope, statement: cst.With) -> None:
    for item in statement.items:
        if item.asname is not None:
            for name, element, site in target_names(item.asname.name):
                scope.add(Binding(name, "with", site, statement, item.item, element))


def _bind_try(scope: Scope, statement: cst.Try | cst.TryStar) -> None:
    for handler in statement.handlers:
        if handler.name is not None and isinstance(handler.name.name, cst.Name):
            scope.add(Binding(handler.name.name.value, "except", handler.name.name, handler))


def _bind_function(scope: Scope, statement: cst.FunctionDef) -> None:
    scope.add(Binding(statement.name.value, "function", statement, statement))


def _bind_class(scope: Scope, statement: cst.ClassDef) -> None:
    scope.add(Binding(statement.name.value, "class", statement, statement))


def _declare_global(scope: Scope, statement: cst.Global) -> None:
    scope.declared_global.update(item.name.value for item in statement.names)


def _declare_nonlocal(scope: Scope, statement: cst.Nonlocal) -> None:
    scope.declared_nonlocal.update(item.name.value for item in statement.names)


def _bind_del(scope: Scope, statement: cst.Del) -> None:
    for name, _, site in target_names(statement.target):
        scope.add(Binding(name, "deletion", site, statement))


def _bind_match(scope: Scope, statement: cst.Match) -> None:
    for case in statement.cases:
        for site in _capture_names(case.pattern):
            scope.add(Binding(site.value, "assignment", site, case))


def bind_import(scope: Scope, statement: cst.Import | cst.ImportFrom) -> None:
    if isinstance(statement, cst.Import):
        _bind_import(scope, statement)
    else:
        _bind_import_from(scope, statement)


def _bind_import(scope: Scope, statement: cst.Import) -> None:
    for alias in statement.names:
        full = dotted_name(alias.name)
        if full is None:
            continue
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local, qualified = alias.asname.name.value, full
        else:
            # `import a.b.c` binds `a`; `a.b.c.X` then resolves through attributes.
            local = qualified = full.split(".", 1)[0]
        scope.add(Binding(local, "import", alias, statement, qualified=qualified))


def _bind_import_from(scope: Scope, statement: cst.ImportFrom) -> None:
    module = dotted_name(statement.module) if statement.module is not None else ""
    if module is None:
        return
    prefix = "." * len(statement.relative) + module
    if isinstance(statement.names, cst.ImportStar):
        scope.star_imports.append(prefix)
        return
    joiner = "" if prefix.endswith(".") else "."
    for alias in statement.names:
        name = dotted_name(alias.name)
        if name is None:
            continue
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        qualified = f"{prefix}{joiner}{name}" if prefix else name
        scope.add(Binding(local, "import", alias, statement, qualified=qualified))


def target_names(
    target: cst.CSTNode, element: tuple[int, ...] = ()
) -> Iterator[tuple[str, tuple[int, ...], cst.Name]]:
    """The names an assignment target binds, with their position in an unpacking."""
    if isinstance(target, cst.Name):
        yield target.value, element, target
    elif isinstance(target, cst.Tuple | cst.List):
        for index, item in enumerate(target.elements):
            inner = item.value
            if isinstance(item, cst.StarredElement):
                # A starred target takes a list of the rest: its value is not one element.
                for name, _, site in target_names(inner):
                    yield name, (), site
            else:
                yield from target_names(inner, (*element, index))
    elif isinstance(target, cst.StarredElement):
        yield from target_names(target.value)


def _capture_names(pattern: cst.CSTNode) -> Iterator[cst.Name]:
    from green_lint.walk import walk

    for node in walk(pattern):
        if isinstance(node, cst.MatchAs | cst.MatchStar) and node.name is not None:
            yield node.name


def _bind_walruses(scope: Scope) -> None:
    """`(x := value)` binds in the nearest enclosing function or module scope, even when
    written inside a comprehension."""
    from green_lint.walk import children

    pending = list(children(scope.node)) if not isinstance(scope.node, cst.Module) else list(scope.node.body)
    while pending:
        node = pending.pop()
        kind = type(node)  # not isinstance: libcst's node classes are ABCs, slow to check
        if kind in NESTED_SCOPE_TYPES:
            continue  # their own scopes
        if kind is cst.NamedExpr and isinstance(node.target, cst.Name):
            scope.add(Binding(node.target.value, "walrus", node.target, node, node.value))
        pending.extend(children(node))


_BINDERS: dict[type, Callable[[Scope, Any], None]] = {
    cst.Assign: _bind_assign,
    cst.AnnAssign: _bind_ann_assign,
    cst.AugAssign: _bind_aug_assign,
    cst.For: _bind_for,
    cst.With: _bind_with,
    cst.Try: _bind_try,
    cst.TryStar: _bind_try,
    cst.FunctionDef: _bind_function,
    cst.ClassDef: _bind_class,
    cst.Import: bind_import,
    cst.ImportFrom: bind_import,
    cst.Global: _declare_global,
    cst.Nonlocal: _declare_nonlocal,
    cst.Del: _bind_del,
    cst.Match: _bind_match,
}
