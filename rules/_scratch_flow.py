"""Follows a model through the file for GL101 train-from-scratch: the file's assignments,
calls and returns, indexed once, with every name resolved through the semantic model's
scopes, so that a value is followed through variables, attributes of `self`, function
parameters and return values."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._data_nodes import is_name
from green_lint.rules._syntax import has_star, positional
from green_lint.semantic.scopes import Binding, Scope
from green_lint.walk import children, traverse

# The nodes whose scope a statement runs in (lambdas and comprehensions bind only their
# own parameters and targets, which the follower does not track).
ScopeNode = cst.Module | cst.FunctionDef | cst.ClassDef


def _flatten(targets: list[cst.BaseExpression]) -> Iterator[cst.BaseExpression]:
    for target in targets:
        if isinstance(target, cst.Tuple | cst.List):
            yield from _flatten([element.value for element in target.elements])
        elif isinstance(target, cst.StarredElement):
            yield from _flatten([target.value])
        else:
            yield target


def _positional_parameters(function: cst.FunctionDef) -> list[str]:
    return [param.name.value for param in (*function.params.posonly_params, *function.params.params)]


class Flow:
    """The assignments, calls and returns of a module, for following values.

    Keys of followed values: ("var", id(scope), name) for a name bound in a scope (a def,
    class or the module), ("attr", id(class), name) for `self.name`, ("self", id(class))
    for the instance itself, ("fn", id(def)) and ("method", id(class), name) for what a
    function returns, ("cls", id(class)) for instances of a class of the file."""

    def __init__(self, context: RuleContext) -> None:
        module = context.module
        self.model = context.semantic
        self.module = module
        self.assignments: list[tuple[ScopeNode, list[cst.BaseExpression], cst.BaseExpression]] = []
        self.calls: list[tuple[ScopeNode, cst.Call]] = []
        self.returns: list[tuple[cst.FunctionDef, cst.BaseExpression]] = []
        # Attributes assigned through `self` in the methods of each class.
        self.class_attributes: dict[int, set[str]] = {}
        self._scopes: dict[int, Scope] = {id(module): self.model.module_scope}
        self._stack: list[ScopeNode] = [module]
        self._refs: dict[tuple[int, int], frozenset] = {}
        traverse(module, self._visit, self._leave)

    # -- the index -----------------------------------------------------------------------
    def _visit(self, node: cst.CSTNode) -> None:
        scope = self._stack[-1]
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            # The parent is passed, not searched for: the traversal knows where it is.
            self._scopes[id(node)] = self.model.scope(node, self._scopes[id(scope)])
            self._stack.append(node)
        elif isinstance(node, cst.Assign):
            self._bind(scope, [target.target for target in node.targets], node.value)
        elif isinstance(node, cst.AnnAssign | cst.AugAssign | cst.NamedExpr):
            if node.value is not None:
                self._bind(scope, [node.target], node.value)
        elif isinstance(node, cst.For):
            self._bind(scope, [node.target], node.iter)
        elif isinstance(node, cst.WithItem):
            if node.asname is not None:
                self._bind(scope, [node.asname.name], node.item)
        elif isinstance(node, cst.Call):
            self.calls.append((scope, node))
        elif isinstance(node, cst.Return) and node.value is not None and isinstance(scope, cst.FunctionDef):
            self.returns.append((scope, node.value))

    def _leave(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            self._stack.pop()

    def _bind(self, scope: ScopeNode, targets: list[cst.BaseExpression], value: cst.BaseExpression) -> None:
        flat = list(_flatten(targets))
        self.assignments.append((scope, flat, value))
        method = self.method_of(scope)
        if method is None:
            return
        owner, self_name = method
        for target in flat:
            if isinstance(target, cst.Attribute) and is_name(target.value, self_name):
                self.class_attributes.setdefault(id(owner), set()).add(target.attr.value)

    # -- names -----------------------------------------------------------------------------
    def method_of(self, scope: ScopeNode) -> tuple[cst.ClassDef, str] | None:
        """For a method: its class and the name of its first parameter (`self`)."""
        if not isinstance(scope, cst.FunctionDef):
            return None
        parent = self._scopes[id(scope)].parent
        params = _positional_parameters(scope)
        if parent is None or not isinstance(parent.node, cst.ClassDef) or not params:
            return None
        return parent.node, params[0]

    def _lookup(self, scope: ScopeNode, name: str) -> tuple[Scope, list[Binding]] | None:
        return self.model.lookup_in(name, self._scopes[id(scope)])

    def resolve(self, scope: ScopeNode, name: str) -> tuple:
        found = self._lookup(scope, name)
        return ("var", id(found[0].node if found is not None else self.module), name)

    def definitions(self, scope: ScopeNode, name: str, kind: str) -> list:
        """The defs (kind "function") or classes (kind "class") `name` may be, seen from `scope`."""
        found = self._lookup(scope, name)
        return [binding.site for binding in found[1] if binding.kind == kind] if found is not None else []

    def method(self, owner: cst.ClassDef, name: str) -> cst.FunctionDef | None:
        bindings = self._scopes[id(owner)].bindings.get(name, [])
        functions = [binding.site for binding in bindings if binding.kind == "function"]
        return functions[-1] if functions else None  # a property's setter follows its getter

    def target_key(self, scope: ScopeNode, target: cst.BaseExpression) -> tuple | None:
        if isinstance(target, cst.Name):
            return self.resolve(scope, target.value)
        method = self.method_of(scope)
        if (
            method is not None
            and isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == method[1]
        ):
            return ("attr", id(method[0]), target.attr.value)
        return None

    def refs(self, node: cst.CSTNode, scope: ScopeNode) -> frozenset:
        """The keys an expression reads."""
        cache_key = (id(node), id(scope))
        if cache_key in self._refs:
            return self._refs[cache_key]
        method = self.method_of(scope)
        self_name = method[1] if method is not None else None
        found = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Attribute):
                if (
                    method is not None
                    and isinstance(current.value, cst.Name)
                    and current.value.value == self_name
                ):
                    found.add(self._self_attribute(method[0], current.attr.value))
                    continue
                stack.append(current.value)
            elif isinstance(current, cst.Arg):
                stack.append(current.value)
            elif isinstance(current, cst.Name):
                if current.value == self_name:
                    found.add(("self", id(method[0])))
                    continue
                found.add(self.resolve(scope, current.value))
                found.update(
                    ("fn", id(function)) for function in self.definitions(scope, current.value, "function")
                )
                found.update(("cls", id(owner)) for owner in self.definitions(scope, current.value, "class"))
            else:
                stack.extend(children(current))
        result = frozenset(found)
        self._refs[cache_key] = result
        return result

    def _self_attribute(self, owner: cst.ClassDef, attr: str) -> tuple:
        if attr in self.class_attributes.get(id(owner), ()):
            return ("attr", id(owner), attr)
        if self.method(owner, attr) is not None:
            return ("method", id(owner), attr)
        return ("self", id(owner))


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

    def holds(self, node: cst.CSTNode | None, scope: ScopeNode) -> bool:
        if node is None:
            return False
        if id(node) in self.origin_ids:
            return True
        return any(self._is_followed(key) for key in self.flow.refs(node, scope))

    def _is_followed(self, key: tuple) -> bool:
        if key in self.keys:
            return True
        kind = key[0]
        # The instance (`self` in a method, an instance of a class of the file) holds the
        # value when one of its attributes does.
        return kind in ("self", "cls") and key[1] in self.classes

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
                    method = flow.method_of(function)
                    if method is not None:
                        changed |= self._add(("method", id(method[0]), function.name.value))
                    else:
                        changed |= self._add(("fn", id(function)))
            for scope, call in flow.calls:
                changed |= self._into_parameters(scope, call)

    def _into_parameters(self, scope: ScopeNode, call: cst.Call) -> bool:
        """A followed value passed to a function or class of the file: its parameter."""
        flow = self.flow
        function = None
        skip = 0  # `self`, bound by the call
        func = call.func
        method = flow.method_of(scope)
        if isinstance(func, cst.Name):
            functions = flow.definitions(scope, func.value, "function")
            classes = flow.definitions(scope, func.value, "class")
            if len(functions) == 1 and not classes:
                function = functions[0]
            elif len(classes) == 1 and not functions:
                function = flow.method(classes[0], "__init__")
                skip = 1
        elif (
            isinstance(func, cst.Attribute)
            and method is not None
            and isinstance(func.value, cst.Name)
            and func.value.value == method[1]
        ):
            function = flow.method(method[0], func.attr.value)
            skip = 1
        if function is None or has_star(call):
            return False
        if flow.method_of(function) is not None and skip == 0:
            return False
        params = _positional_parameters(function)[skip:]
        changed = False
        for index, arg in enumerate(positional(call)):
            if index < len(params) and self.holds(arg.value, scope):
                changed |= self._add(flow.resolve(function, params[index]))
        for arg in call.args:
            if arg.keyword is not None and self.holds(arg.value, scope):
                changed |= self._add(flow.resolve(function, arg.keyword.value))
        return changed
