"""The per-file semantic model every rule queries: scopes, bindings, what a name stands for.

Built lazily: a scope's bindings are read the first time a name is looked up in it, and
where a node sits (its scope and statements) is extended from the traversal's current path
when the node is on it or below it, else read from an index of the whole file, built once.
Nothing here knows a rule.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Sequence
from functools import cached_property

import libcst as cst

from green_lint.names import DEFINITION_TYPES, NESTED_SCOPE_TYPES, statements_of
from green_lint.semantic.scopes import COMPREHENSIONS, Binding, Scope, bind_import, build_scope
from green_lint.walk import children, code_path_to

_BUILTIN_NAMES = frozenset(dir(builtins))
# Every identifier after `lambda` (up to its colon) or between `for` and `in`: the names
# lambdas and comprehensions may bind, over-approximated from the text.
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
# A lambda's parameters; a `for`'s target list (names, commas, brackets, stars only, so
# that prose such as "for the fixture in" in a docstring does not count). Each part of
# the target list can match its whitespace one way only: with two adjacent `\s*` the
# regex backtracked exponentially on a long `for` line without `in` (torch's
# decompositions.py took minutes).
_LAMBDA_OR_FOR_TARGETS = re.compile(
    r"\blambda\b([^:]*)|\bfor\b\s*(\**\(?\s*\w+\s*(?:[,()\[\]]\s*(?:\*+\s*)?(?:\w+\s*)?)*\)?)\s*\bin\b"
)
# Small statements and compound statements: the points where the flow of values is known.
STATEMENTS = (cst.BaseSmallStatement, cst.BaseCompoundStatement)


class Location:
    """Where a node sits: its scopes (module first) and the statements that hold it in
    its innermost def, class or module (outermost first)."""

    __slots__ = ("comprehension", "scope", "scope_nodes", "statement", "statements")

    def __init__(self, scope_nodes: tuple[cst.CSTNode, ...], statements: tuple[cst.CSTNode, ...]) -> None:
        self.scope_nodes = scope_nodes
        self.statements = statements
        self.statement = statements[-1] if statements else None
        # Set on the location of a comprehension node itself (for its first `for`).
        self.comprehension: cst.CSTNode | None = None
        self.scope: Scope | None = None  # the innermost Scope, once asked for


class SemanticModel:
    def __init__(
        self,
        module: cst.Module,
        text: str = "",
        current_path: Callable[[], Sequence[cst.CSTNode]] = tuple,
    ) -> None:
        self.module = module
        self._text = text or module.code  # the text the module was parsed from
        self._with_walrus = ":=" in self._text
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

    def _add_global_assignments(self, module_scope: Scope) -> None:
        """`global x` in a function, then `x = ...` there: that binding is the module's
        (it is what module code and other functions read after the function ran)."""
        if "global" not in self._text:
            return
        for statement in statements_of(self.module):
            if isinstance(statement, cst.FunctionDef):
                function_scope = build_scope(statement, None, self._with_walrus)
                for name in function_scope.declared_global:
                    for binding in function_scope.bindings.get(name, ()):
                        module_scope.add(binding)

    def scope(self, node: cst.CSTNode, parent: Scope | None = None) -> Scope:
        """The scope that `node` (a module, def, class, lambda or comprehension) opens."""
        found = self._scopes.get(id(node))
        if found is None:
            if parent is None and node is not self.module:
                parent = self.scope_of(node)
            found = self._scopes[id(node)] = build_scope(node, parent, self._with_walrus)
            if node is self.module:
                self._add_global_assignments(found)
        return found

    def scope_of(self, node: cst.CSTNode) -> Scope:
        """The innermost scope in which `node` is evaluated."""
        location = self.locate(node)
        if location.scope is None:
            scope = None
            for scope_node in location.scope_nodes:
                scope = self.scope(scope_node, scope)
            location.scope = scope
        return location.scope

    def locate(self, node: cst.CSTNode) -> Location:
        found = self._locations.get(id(node))
        if found is not None:
            return found
        path = self._path_below_current(node)
        if path is not None:
            return self._locate_path(path)
        # Off the traversal's path: index every node of the file once (a search per query
        # would make rules that look around quadratic in the file's size).
        if not self._indexed:
            self._index_everything()
        return self._locations.get(id(node)) or self._locate_path([self.module, node])

    def _path_below_current(self, node: cst.CSTNode) -> list[cst.CSTNode] | None:
        current = self._current_path()
        if not current:
            return None
        for depth in range(len(current) - 1, -1, -1):
            if current[depth] is node:
                return list(current[: depth + 1])
        below = code_path_to(current[-1], node) if len(current) > 1 else None
        return [*current[:-1], *below] if below is not None else None

    def _locate_path(self, path: Sequence[cst.CSTNode]) -> Location:
        """The location of the path's last node, extending the deepest known ancestor's (in
        a depth-first traversal the ancestors were located just before)."""
        locations = self._locations
        start = len(path) - 1
        while start > 0 and id(path[start]) not in locations:
            start -= 1
        location = locations.get(id(path[start])) or Location((path[0],), ())
        for index in range(start + 1, len(path)):
            location = _child_location(path[index - 1], path[index], location)
            locations[id(path[index])] = location
        return location

    def _index_everything(self) -> None:
        self._indexed = True
        locations = self._locations
        pending: list[tuple[cst.CSTNode, Location]] = [(self.module, self._locate_path([self.module]))]
        while pending:
            node, location = pending.pop()
            locations.setdefault(id(node), location)
            for child in children(node):
                pending.append((child, _child_location(node, child, location)))

    # -- names -------------------------------------------------------------------------
    def lookup(self, name: str, node: cst.CSTNode) -> tuple[Scope, list[Binding]] | None:
        """The scope that binds `name` as seen from `node`, and its bindings there; None for
        a name bound nowhere in the file (a builtin, or from a star import)."""
        if name not in self._names_bound_below_module:
            # Most names rules ask about are imports that no function rebinds: where the
            # node sits cannot change the answer, so it need not be located.
            return self.lookup_in(name, self.module_scope)
        return self.lookup_in(name, self.scope_of(node))

    @cached_property
    def _names_bound_below_module(self) -> frozenset[str]:
        """Every name some def, class, lambda or comprehension binds (a superset is fine)."""
        bindings, targets = self._bindings_below_module
        return frozenset(bindings) | targets

    @cached_property
    def _bindings_below_module(self) -> tuple[dict[str, list[Binding]], frozenset[str]]:
        """The bindings every def and class of the file makes, by name; and the names
        lambdas and comprehensions may bind (found in the text: a superset)."""
        bindings: dict[str, list[Binding]] = {}
        for statement in statements_of(self.module):
            if type(statement) in DEFINITION_TYPES:
                for name, found in build_scope(statement, None, self._with_walrus).bindings.items():
                    bindings.setdefault(name, []).extend(found)
        targets: set[str] = set()
        for match in _LAMBDA_OR_FOR_TARGETS.finditer(self._text):
            targets.update(_IDENTIFIER.findall(match.group(1) or match.group(2) or ""))
        return bindings, frozenset(targets)

    @cached_property
    def _same_import_everywhere(self) -> dict[str, str]:
        """Names that the module imports and that every def or class binding them imports
        again as the same thing (`import numpy as np` inside a function): what they stand
        for does not depend on where they are used, so a use need not be located."""
        below, targets = self._bindings_below_module
        found = {}
        for name, bindings in below.items():
            module_bindings = self.module_scope.bindings.get(name)
            if name in targets or not module_bindings:
                continue
            every = [*module_bindings, *bindings]
            qualified = {binding.qualified for binding in every}
            if len(qualified) == 1 and all(binding.is_import for binding in every):
                found[name] = qualified.pop()
        return found

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
        kind = type(node)  # not isinstance: libcst's node classes are ABCs, slow to check
        if kind is cst.Attribute:
            return [f"{base}.{node.attr.value}" for base in self.candidates(node.value)]
        if kind is not cst.Name:
            return []
        name = node.value
        if name not in self._imported_locals and name not in _BUILTIN_NAMES and not self._has_star_import:
            return []  # only an import, a builtin or a star import gives a qualified name
        if name in self._names_bound_below_module and name in self._same_import_everywhere:
            return [self._same_import_everywhere[name]]
        found = self.lookup(name, node)
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

    def bindings_within(self, region: cst.CSTNode, name: str) -> list[Binding]:
        """The bindings of `name` (as code in `region`, a statement, sees it) made inside
        `region`: what a loop's body reassigns, say."""
        found = self.lookup(name, region)
        if found is None:
            return []
        return [
            binding
            for binding in found[1]
            if any(statement is region for statement in self.locate(binding.site).statements)
        ]

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

    def import_statement(self, name: cst.Name) -> cst.Import | cst.ImportFrom | None:
        """The import statement that binds `name` where it is used (the last, if several)."""
        statements = [binding.statement for binding in self.binding_of(name) if binding.is_import]
        return statements[-1] if statements else None

    def module_imports(self) -> dict[str, str]:
        """Module-level names that stand for exactly one imported name: local -> qualified."""
        found = {}
        for name, bindings in self.module_scope.bindings.items():
            qualified = _imported_names(bindings)
            if len(qualified) == 1:
                found[name] = qualified[0]
        return found

    def bound_names(self) -> frozenset[str]:
        """Every name the file binds in any scope (a superset): what a new name must avoid."""
        return frozenset(self.module_scope.bindings) | self._names_bound_below_module

    @cached_property
    def definition_names(self) -> frozenset[str]:
        """The names of every def and class of the file, at any depth (for names that
        arrive as text, such as a model registered by name)."""
        return frozenset(
            statement.name.value
            for statement in statements_of(self.module)
            if isinstance(statement, cst.FunctionDef | cst.ClassDef)
        )

    def imports_module(self, prefix: str) -> bool:
        """Whether the file imports `prefix` or anything below it, in any scope."""
        dotted = prefix + "."
        return any(name == prefix or name.startswith(dotted) for name in self.imported_names)

    @cached_property
    def _every_import(self) -> Scope:
        """The bindings of every import statement of the file, in any scope, as one scope."""
        scratch = Scope(self.module, None)
        for statement in statements_of(self.module):
            if type(statement) in _IMPORT_TYPES:
                bind_import(scratch, statement)
        return scratch

    @cached_property
    def _imported_locals(self) -> frozenset[str]:
        return frozenset(self._every_import.bindings)

    @cached_property
    def _has_star_import(self) -> bool:
        return bool(self.module_scope.star_imports)

    @cached_property
    def imported_names(self) -> list[str]:
        """What every import of the file names, in any scope (star imports' modules too)."""
        imports = self._every_import
        return [
            b.qualified for bindings in imports.bindings.values() for b in bindings
        ] + imports.star_imports

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


def names_imported_by(statement: cst.Import | cst.ImportFrom) -> list[str]:
    """The qualified names one import statement binds (a star import: its module)."""
    scratch = Scope(statement, None)
    bind_import(scratch, statement)
    return [
        binding.qualified for bindings in scratch.bindings.values() for binding in bindings
    ] + scratch.star_imports


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


def _child_location(parent: cst.CSTNode, child: cst.CSTNode, location: Location) -> Location:
    """The location of `child` from its parent's: a def, class or lambda body and a
    comprehension (but for its first iterable) open a scope; a def or class starts a new
    list of statements, since a lambda or comprehension runs where its statement does."""
    # Type look-ups, not isinstance: libcst's node classes are ABCs, slow to check.
    parent_type, child_type = type(parent), type(child)
    scopes, statements = location.scope_nodes, location.statements
    if parent_type in NESTED_SCOPE_TYPES and child is parent.body:
        scopes = (*scopes, parent)
        if parent_type is not cst.Lambda:
            statements = ()
    elif parent_type in _COMPREHENSION_TYPES and child is not parent.for_in:
        scopes = (*scopes, parent)
    elif parent_type is cst.CompFor and child is not parent.iter and _first_for(parent, location):
        scopes = (*scopes, location.comprehension)
    if _is_statement(child_type):
        statements = (*statements, child)
    is_comprehension = child_type in _COMPREHENSION_TYPES
    if scopes is location.scope_nodes and statements is location.statements and not is_comprehension:
        return location
    found = Location(scopes, statements)
    if is_comprehension:
        found.comprehension = child
    return found


# Type look-ups, not isinstance, in the walks over every statement (see _child_location).
_IMPORT_TYPES = frozenset((cst.Import, cst.ImportFrom))
_COMPREHENSION_TYPES = frozenset(COMPREHENSIONS)
_statement_types: dict[type, bool] = {}


def _is_statement(node_type: type) -> bool:
    known = _statement_types.get(node_type)
    if known is None:
        known = _statement_types[node_type] = issubclass(node_type, STATEMENTS)
    return known


def _first_for(comp_for: cst.CompFor, location: Location) -> bool:
    comprehension = location.comprehension
    return comprehension is not None and comprehension.for_in is comp_for
