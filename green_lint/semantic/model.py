"""The per-file semantic model every rule queries: scopes, bindings, what a name stands for.

Built lazily: a scope's bindings are read the first time a name is looked up in it, and
where a node sits (its scope and statement) is found from the traversal's current path
when it can be, else by a search of its top-level statement. Nothing here knows a rule.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence

import libcst as cst

from green_lint.names import statements_of
from green_lint.semantic.scopes import COMPREHENSIONS, SCOPE_NODES, Binding, Scope, bind_import, build_scope
from green_lint.walk import children, path_to

_BUILTIN_NAMES = frozenset(dir(builtins))
# Small statements and compound statements: the points where the flow of values is known.
STATEMENTS = (cst.BaseSmallStatement, cst.BaseCompoundStatement)


class Location:
    """Where a node sits: its scopes (module first) and the statements that hold it in
    its innermost def, class or module (outermost first)."""

    __slots__ = ("comprehension", "scope_nodes", "statement", "statements")

    def __init__(self, scope_nodes: tuple[cst.CSTNode, ...], statements: tuple[cst.CSTNode, ...]) -> None:
        self.scope_nodes = scope_nodes
        self.statements = statements
        self.statement = statements[-1] if statements else None
        # Set on the location of a comprehension node itself (for its first `for`).
        self.comprehension: cst.CSTNode | None = None


class SemanticModel:
    def __init__(
        self,
        module: cst.Module,
        text: str = "",
        current_path: Callable[[], Sequence[cst.CSTNode]] = tuple,
    ) -> None:
        self.module = module
        self._with_walrus = ":=" in text
        # The traversal's path from the module to the node being visited: most queries are
        # about that node or its children, whose place is then known without a search.
        self._current_path = current_path
        self._scopes: dict[int, Scope] = {}
        self._locations: dict[int, Location] = {}
        self._indexed = False

    # -- scopes ------------------------------------------------------------------------
    @property
    def module_scope(self) -> Scope:
        return self.scope(self.module, None)

    def scope(self, node: cst.CSTNode, parent: Scope | None = None) -> Scope:
        """The scope that `node` (a module, def, class, lambda or comprehension) opens."""
        found = self._scopes.get(id(node))
        if found is None:
            if parent is None and node is not self.module:
                parent = self.scope_of(node)
            found = self._scopes[id(node)] = build_scope(node, parent, self._with_walrus)
        return found

    def scope_of(self, node: cst.CSTNode) -> Scope:
        """The innermost scope in which `node` is evaluated."""
        scope = None
        for scope_node in self.locate(node).scope_nodes:
            scope = self.scope(scope_node, scope)
        return scope

    def locate(self, node: cst.CSTNode) -> Location:
        found = self._locations.get(id(node))
        if found is None:
            path = self._path_below_current(node)
            if path is not None:
                found = self._locations[id(node)] = _location(path)
            else:
                # Off the traversal's path: index every node of the file once (a search per
                # query would make rules that look around quadratic in the file's size).
                if not self._indexed:
                    self._index_everything()
                found = self._locations.get(id(node)) or _location([self.module, node])
        return found

    def _path_below_current(self, node: cst.CSTNode) -> list[cst.CSTNode] | None:
        current = self._current_path()
        if not current:
            return None
        for depth in range(len(current) - 1, -1, -1):
            if current[depth] is node:
                return list(current[: depth + 1])
        below = path_to(current[-1], node) if len(current) > 1 else None
        return [*current[:-1], *below] if below is not None else None

    def _index_everything(self) -> None:
        self._indexed = True
        locations = self._locations
        pending: list[tuple[cst.CSTNode, Location]] = [(self.module, Location((self.module,), ()))]
        while pending:
            node, location = pending.pop()
            locations.setdefault(id(node), location)
            for child in children(node):
                pending.append((child, _child_location(node, child, location)))

    # -- names -------------------------------------------------------------------------
    def lookup(self, name: str, node: cst.CSTNode) -> tuple[Scope, list[Binding]] | None:
        """The scope that binds `name` as seen from `node`, and its bindings there; None for
        a name bound nowhere in the file (a builtin, or from a star import)."""
        return self.lookup_in(name, self.scope_of(node))

    def lookup_in(self, name: str, scope: Scope) -> tuple[Scope, list[Binding]] | None:
        start = scope
        while scope is not None:
            if name in scope.declared_global:
                scope = self.module_scope
                return (scope, scope.bindings[name]) if name in scope.bindings else None
            if name in scope.declared_nonlocal:
                scope = _enclosing_function(scope.parent)
                continue
            # Names in a class body are not visible from the functions inside it.
            if scope.binds(name) and (scope is start or scope.kind != "class"):
                return scope, scope.bindings[name]
            scope = scope.parent
        return None

    def candidates(self, node: cst.CSTNode) -> list[str]:
        """Every qualified name `node` (a Name or Attribute chain) may stand for."""
        if isinstance(node, cst.Attribute):
            return [f"{base}.{node.attr.value}" for base in self.candidates(node.value)]
        if not isinstance(node, cst.Name):
            return []
        found = self.lookup(node.value, node)
        if found is None:
            stars = self.module_scope.star_imports
            if stars:
                return [f"{module}.{node.value}" for module in stars]
            return [f"builtins.{node.value}"] if node.value in _BUILTIN_NAMES else []
        return _imported_names(found[1])

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        found = self.candidates(node)
        return found[0] if len(found) == 1 else None

    def binding_of(self, node: cst.Name) -> list[Binding]:
        found = self.lookup(node.value, node)
        return found[1] if found is not None else []

    def is_own_definition(self, name: str, node: cst.CSTNode) -> bool:
        """Whether `name`, seen from `node`, is a class or function the file defines."""
        found = self.lookup(name, node)
        return found is not None and any(b.kind in ("class", "function") for b in found[1])

    def definition(self, node: cst.CSTNode) -> cst.FunctionDef | cst.ClassDef | None:
        """The def or class a Name refers to, when it has exactly one."""
        if not isinstance(node, cst.Name):
            return None
        found = self.lookup(node.value, node)
        if found is None:
            return None
        defs = [b.site for b in found[1] if b.kind in ("function", "class")]
        others = [b for b in found[1] if b.kind not in ("function", "class")]
        return defs[0] if len(defs) == 1 and not others else None

    def imports_module(self, prefix: str) -> bool:
        """Whether the file imports `prefix` or anything below it, in any scope."""
        dotted = prefix + "."
        return any(name == prefix or name.startswith(dotted) for name in self.imported_names())

    def imported_names(self) -> list[str]:
        """What every import of the file names, in any scope (star imports' modules too)."""
        found = self.__dict__.get("_imported")
        if found is None:
            scratch = Scope(self.module, None)
            for statement in statements_of(self.module):
                if isinstance(statement, cst.Import | cst.ImportFrom):
                    bind_import(scratch, statement)
            found = [b.qualified for bs in scratch.bindings.values() for b in bs] + scratch.star_imports
            self.__dict__["_imported"] = found
        return found

    def local_name_for(self, qualified: str, node: cst.CSTNode | None = None) -> str | None:
        """A name that stands for exactly `qualified` where `node` is (default: the module)."""
        start = self.scope_of(node) if node is not None else self.module_scope
        scope = start
        while scope is not None:
            for name, bindings in scope.bindings.items():
                if _imported_names(bindings) == [qualified] and self.lookup_in(name, start) == (
                    scope,
                    bindings,
                ):
                    return name
            scope = scope.parent
        return None


def _imported_names(bindings: list[Binding]) -> list[str]:
    """The qualified names a set of bindings gives a name: its imports, unless the scope
    also binds it to something of its own (a def, a class, a parameter, a value)."""
    names: list[str] = []
    for binding in bindings:
        if binding.is_import:
            if binding.qualified not in names:
                names.append(binding.qualified)
        elif binding.kind == "deletion" or _is_none_fallback(binding):
            continue
        else:
            return []
    return names


def _is_none_fallback(binding: Binding) -> bool:
    # `except ImportError: torch = None` keeps the import's meaning where it is used.
    return (
        binding.kind == "assignment"
        and isinstance(binding.value, cst.Name)
        and binding.value.value == "None"
        and not binding.element
    )


def _enclosing_function(scope: Scope | None) -> Scope | None:
    while scope is not None and scope.kind not in ("function", "lambda", "module"):
        scope = scope.parent
    return scope


def _location(path: Sequence[cst.CSTNode]) -> Location:
    scopes: list[cst.CSTNode] = [path[0]]
    statements: list[cst.CSTNode] = []
    for index in range(len(path) - 1):
        parent, child = path[index], path[index + 1]
        if isinstance(parent, STATEMENTS):
            statements.append(parent)
        if _enters_scope(parent, child, path[index + 2] if index + 2 < len(path) else None):
            scopes.append(parent)
            if isinstance(parent, cst.FunctionDef | cst.ClassDef):
                # A lambda or comprehension runs where its statement does: keep that one.
                statements = []
    if isinstance(path[-1], STATEMENTS) and len(path) > 1:
        statements.append(path[-1])
    return Location(tuple(scopes), tuple(statements))


def _child_location(parent: cst.CSTNode, child: cst.CSTNode, location: Location) -> Location:
    """The location of `child` from its parent's (the incremental form of `_location`)."""
    scopes, statements = location.scope_nodes, location.statements
    if isinstance(parent, cst.FunctionDef | cst.ClassDef | cst.Lambda) and child is parent.body:
        scopes = (*scopes, parent)
        if not isinstance(parent, cst.Lambda):
            statements = ()
    elif isinstance(parent, COMPREHENSIONS) and child is not parent.for_in:
        scopes = (*scopes, parent)
    elif isinstance(parent, cst.CompFor) and child is not parent.iter and _first_for(parent, location):
        scopes = (*scopes, location.comprehension)
    child_statements = (*statements, child) if isinstance(child, STATEMENTS) else statements
    if (
        scopes is location.scope_nodes
        and child_statements is location.statements
        and not isinstance(child, COMPREHENSIONS)
    ):
        return location
    found = Location(scopes, child_statements)
    if isinstance(child, COMPREHENSIONS):
        found.comprehension = child
    return found


def _first_for(comp_for: cst.CompFor, location: Location) -> bool:
    comprehension = location.comprehension
    return comprehension is not None and comprehension.for_in is comp_for


def _enters_scope(parent: cst.CSTNode, child: cst.CSTNode, grandchild: cst.CSTNode | None) -> bool:
    if not isinstance(parent, SCOPE_NODES) or isinstance(parent, cst.Module):
        return False
    if isinstance(parent, cst.FunctionDef | cst.ClassDef | cst.Lambda):
        # Decorators, bases, parameter defaults and annotations are evaluated outside.
        return child is parent.body
    if isinstance(parent, COMPREHENSIONS):
        # The first iterable is evaluated in the enclosing scope.
        return not (child is parent.for_in and grandchild is parent.for_in.iter)
    return False
