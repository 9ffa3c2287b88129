"""Follows a model through the file for GL101 train-from-scratch: a scoped,
flow-insensitive index of the file's assignments, calls and returns, which follows a value
through variables, attributes of `self`, function parameters and return values."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from green_lint.rules._syntax import has_star, positional
from green_lint.walk import children, traverse

Scope = cst.Module | cst.FunctionDef | cst.ClassDef


@dataclass
class _ScopeInfo:
    node: Scope
    parent: Scope | None
    locals: set[str] = field(default_factory=set)
    # Methods: the class and the name of the first parameter (`self`).
    owner: cst.ClassDef | None = None
    self_name: str | None = None
    params: list[str] = field(default_factory=list)


class _Indexer:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.scopes: list[Scope] = [flow.module]
        self._visits: dict[type, object] = {}
        self._leaves: dict[type, object] = {}

    def on_visit(self, node: cst.CSTNode) -> None:
        kind = type(node)
        method = self._visits.get(kind, 0)
        if method == 0:
            method = self._visits[kind] = getattr(self, f"visit_{kind.__name__}", None)
        if method is not None:
            method(node)

    def on_leave(self, node: cst.CSTNode) -> None:
        kind = type(node)
        method = self._leaves.get(kind, 0)
        if method == 0:
            method = self._leaves[kind] = getattr(self, f"leave_{kind.__name__}", None)
        if method is not None:
            method(node)

    # scopes
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self.scopes[-1]
        info = _ScopeInfo(node, parent)
        params = [*node.params.posonly_params, *node.params.params]
        info.params = [param.name.value for param in params]
        every = [*params, *node.params.kwonly_params]
        for extra in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(extra, cst.Param):
                every.append(extra)
        info.locals.update(param.name.value for param in every)
        if isinstance(parent, cst.ClassDef) and info.params:
            info.owner = parent
            info.self_name = info.params[0]
            self.flow.methods[(id(parent), node.name.value)] = node
        else:
            self.flow.functions.setdefault(node.name.value, node)
        self.flow.scopes[id(node)] = info
        self.flow.scopes[id(parent)].locals.add(node.name.value)
        self.scopes.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        parent = self.scopes[-1]
        self.flow.scopes[id(node)] = _ScopeInfo(node, parent)
        self.flow.scopes[id(parent)].locals.add(node.name.value)
        self.flow.classes.setdefault(node.name.value, node)
        self.scopes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    # bindings
    def _bind(self, targets: list[cst.BaseExpression], value: cst.BaseExpression) -> None:
        scope = self.scopes[-1]
        flat = list(_flatten(targets))
        self.flow.assignments.append((scope, flat, value))
        for target in flat:
            if isinstance(target, cst.Name):
                self.flow.scopes[id(scope)].locals.add(target.value)
            elif (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and isinstance(scope, cst.FunctionDef)
            ):
                info = self.flow.scopes[id(scope)]
                if info.owner is not None and target.value.value == info.self_name:
                    self.flow.class_attributes.setdefault(id(info.owner), set()).add(target.attr.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._bind([target.target for target in node.targets], node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind([node.target], node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind([node.target], node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind([node.target], node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind([node.target], node.iter)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind([node.asname.name], node.item)

    def visit_Call(self, node: cst.Call) -> None:
        self.flow.calls.append((self.scopes[-1], node))

    def visit_Return(self, node: cst.Return) -> None:
        scope = self.scopes[-1]
        if node.value is not None and isinstance(scope, cst.FunctionDef):
            self.flow.returns.append((scope, node.value))


def _flatten(targets: list[cst.BaseExpression]) -> Iterator[cst.BaseExpression]:
    for target in targets:
        if isinstance(target, cst.Tuple | cst.List):
            yield from _flatten([element.value for element in target.elements])
        elif isinstance(target, cst.StarredElement):
            yield from _flatten([target.value])
        else:
            yield target


class Flow:
    """Scopes, assignments, calls and returns of a module, for following values.

    Keys of followed values: ("var", id(scope), name), ("attr", id(class), name) for
    `self.name`, ("self", id(class)) for the instance itself, ("fn", name) and
    ("method", id(class), name) for what a function returns, ("cls", name) for
    instances of a class of the file."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.scopes: dict[int, _ScopeInfo] = {id(module): _ScopeInfo(module, None)}
        self.assignments: list[tuple[Scope, list[cst.BaseExpression], cst.BaseExpression]] = []
        self.calls: list[tuple[Scope, cst.Call]] = []
        self.returns: list[tuple[cst.FunctionDef, cst.BaseExpression]] = []
        self.functions: dict[str, cst.FunctionDef] = {}
        self.methods: dict[tuple[int, str], cst.FunctionDef] = {}
        self.classes: dict[str, cst.ClassDef] = {}
        self.class_attributes: dict[int, set[str]] = {}
        self._refs: dict[tuple[int, int], frozenset] = {}
        # Feed it the nodes of a traversal (`on_visit`/`on_leave`), or call `build`.
        self.indexer = _Indexer(self)

    @classmethod
    def build(cls, module: cst.Module) -> Flow:
        flow = cls(module)
        traverse(module, flow.indexer.on_visit, flow.indexer.on_leave)
        return flow

    def resolve(self, scope: Scope, name: str) -> tuple:
        current: Scope | None = scope
        while current is not None:
            info = self.scopes[id(current)]
            if name in info.locals and (current is scope or not isinstance(current, cst.ClassDef)):
                return ("var", id(current), name)
            current = info.parent
        return ("var", id(self.module), name)

    def defines_function(self, scope_id: int, name: str) -> bool:
        function = self.functions.get(name)
        return function is not None and id(self.scopes[id(function)].parent) == scope_id

    def defines_class(self, scope_id: int, name: str) -> bool:
        owner = self.classes.get(name)
        return owner is not None and id(self.scopes[id(owner)].parent) == scope_id

    def method_info(self, scope: Scope) -> _ScopeInfo | None:
        if isinstance(scope, cst.FunctionDef):
            info = self.scopes[id(scope)]
            if info.owner is not None:
                return info
        return None

    def target_key(self, scope: Scope, target: cst.BaseExpression) -> tuple | None:
        if isinstance(target, cst.Name):
            return ("var", id(scope), target.value)
        info = self.method_info(scope)
        if (
            info is not None
            and isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == info.self_name
        ):
            return ("attr", id(info.owner), target.attr.value)
        return None

    def refs(self, node: cst.CSTNode, scope: Scope) -> frozenset:
        """The keys an expression reads."""
        cache_key = (id(node), id(scope))
        if cache_key in self._refs:
            return self._refs[cache_key]
        info = self.method_info(scope)
        found = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Attribute):
                if (
                    info is not None
                    and isinstance(current.value, cst.Name)
                    and current.value.value == info.self_name
                ):
                    owner = id(info.owner)
                    attr = current.attr.value
                    if attr in self.class_attributes.get(owner, ()):
                        found.add(("attr", owner, attr))
                    elif (owner, attr) in self.methods:
                        found.add(("method", owner, attr))
                    else:
                        found.add(("self", owner))
                    continue
                stack.append(current.value)
                continue
            if isinstance(current, cst.Arg):
                stack.append(current.value)
                continue
            if isinstance(current, cst.Name):
                name = current.value
                if info is not None and name == info.self_name:
                    found.add(("self", id(info.owner)))
                    continue
                key = self.resolve(scope, name)
                found.add(key)
                if self.defines_function(key[1], name):
                    found.add(("fn", name))
                if self.defines_class(key[1], name):
                    found.add(("cls", name))
                continue
            stack.extend(children(current))
        result = frozenset(found)
        self._refs[cache_key] = result
        return result


class Follower:
    """Follows one value (e.g. the model a builder call returns) through a `Flow`.

    `origin_ids`: the ids of the node that creates the value and of its ancestors, so
    that any expression containing it counts as holding the value."""

    def __init__(self, flow: Flow, origin_ids: set[int]) -> None:
        self.flow = flow
        self.origin_ids = origin_ids
        self.keys: set[tuple] = set()
        self.classes: set[int] = set()
        # The keys the value is assigned to directly.
        self.direct: set[tuple] = set()
        self._propagate()

    def holds(self, node: cst.CSTNode | None, scope: Scope) -> bool:
        if node is None:
            return False
        if id(node) in self.origin_ids:
            return True
        return any(self._is_followed(key) for key in self.flow.refs(node, scope))

    def _is_followed(self, key: tuple) -> bool:
        if key in self.keys:
            return True
        kind = key[0]
        if kind == "self":
            return key[1] in self.classes
        if kind == "cls":
            return id(self.flow.classes[key[1]]) in self.classes
        return False

    def _add(self, key: tuple | None) -> bool:
        if key is None or key in self.keys:
            return False
        self.keys.add(key)
        if key[0] == "attr":
            self.classes.add(key[1])
        return True

    def _propagate(self) -> None:
        flow = self.flow
        for scope, targets, value in flow.assignments:
            if id(value) in self.origin_ids:
                for target in targets:
                    key = flow.target_key(scope, target)
                    if key is not None:
                        self.direct.add(key)
        changed = True
        rounds = 0
        while changed and rounds < 20:
            changed = False
            rounds += 1
            for scope, targets, value in flow.assignments:
                if self.holds(value, scope):
                    for target in targets:
                        changed |= self._add(flow.target_key(scope, target))
            for function, value in flow.returns:
                if self.holds(value, function):
                    info = flow.scopes[id(function)]
                    if info.owner is not None:
                        changed |= self._add(("method", id(info.owner), function.name.value))
                    else:
                        changed |= self._add(("fn", function.name.value))
            for scope, call in flow.calls:
                changed |= self._into_parameters(scope, call)

    def _into_parameters(self, scope: Scope, call: cst.Call) -> bool:
        """A followed value passed to a function or class of the file: its parameter."""
        function = None
        skip = 0
        func = call.func
        info = self.flow.method_info(scope)
        if isinstance(func, cst.Name):
            defined_in = self.flow.resolve(scope, func.value)[1]
            if self.flow.defines_function(defined_in, func.value):
                function = self.flow.functions[func.value]
            elif self.flow.defines_class(defined_in, func.value):
                owner = self.flow.classes[func.value]
                function = self.flow.methods.get((id(owner), "__init__"))
                skip = 1
        elif (
            isinstance(func, cst.Attribute)
            and info is not None
            and isinstance(func.value, cst.Name)
            and func.value.value == info.self_name
        ):
            function = self.flow.methods.get((id(info.owner), func.attr.value))
            skip = 1
        if function is None or has_star(call):
            return False
        callee = self.flow.scopes[id(function)]
        if callee.owner is not None and skip == 0:
            return False
        params = callee.params[skip:]
        changed = False
        for index, arg in enumerate(positional(call)):
            if index < len(params) and self.holds(arg.value, scope):
                changed |= self._add(("var", id(function), params[index]))
        for arg in call.args:
            if arg.keyword is not None and self.holds(arg.value, scope):
                changed |= self._add(("var", id(function), arg.keyword.value))
        return changed
