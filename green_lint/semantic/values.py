"""The values a name or expression may have where it is used, folded to constants where
they are simple: literals, arithmetic, names whose reaching assignments agree, tuple
unpacking, parameter defaults and the arguments of the file's own call sites, `self.x` set
in the class, `args.x` with an argparse default, literal dict configs, and the constants
of the project's other modules this file imports (`from config import EPOCHS`)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import libcst as cst

from green_lint.semantic.calls import CallGraph
from green_lint.semantic.flow import ReachingBindings
from green_lint.semantic.model import SemanticModel
from green_lint.semantic.scopes import Binding, Scope
from green_lint.walk import walk

UNKNOWN = object()
_MAX_DEPTH = 8
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}


class Values:
    def __init__(self, model: SemanticModel, project: Any = None, importer: Path | None = None) -> None:
        self.model = model
        # The project's other modules (a `ProjectModules`), and this file's path: what it
        # imports from them is followed.
        self._project = project
        self._across_files = False
        self._importer = importer
        self._flows: dict[int, ReachingBindings] = {}
        self._calls: CallGraph | None = None
        # (node, depth, across files) -> its expressions. Parameters are followed through
        # every call site, and a recursive function's call sites pass its own parameters:
        # without the memo each path was walked again (exponential in the depth; torch's
        # collate.py took minutes). The answer depends on nothing else.
        self._expressions: dict[tuple[int, int, bool], tuple[cst.CSTNode, list[cst.BaseExpression]]] = {}

    @property
    def calls(self) -> CallGraph:
        if self._calls is None:
            self._calls = CallGraph(self.model)
        return self._calls

    # -- bindings that reach a use --------------------------------------------------------
    def reaching(self, name: cst.Name) -> list[Binding]:
        """The bindings of `name` that may reach this use of it."""
        found = self.model.lookup(name.value, name)
        if found is None:
            return []
        scope, bindings = found
        location = self.model.locate(name)
        depth = max(
            index
            for index, node in enumerate(location.scope_nodes)
            if isinstance(node, cst.Module | cst.FunctionDef | cst.ClassDef)
        )
        flow_scope = location.scope_nodes[depth]
        # A lambda's body runs when it is called, not where its statement runs.
        deferred = any(isinstance(node, cst.Lambda) for node in location.scope_nodes[depth + 1 :])
        if scope.node is flow_scope and location.statement is not None and not deferred:
            reached = self._flow(scope).at(location.statement, name.value)
            if reached:
                return [binding for binding in bindings if binding in reached]
        # Bound in an enclosing scope (it may change whenever this runs), or not tracked.
        return list(bindings)

    def _flow(self, scope: Scope) -> ReachingBindings:
        flow = self._flows.get(id(scope.node))
        if flow is None:
            flow = self._flows[id(scope.node)] = ReachingBindings(scope)
        return flow

    # -- expressions --------------------------------------------------------------------
    def expressions(self, node: cst.BaseExpression, depth: int = 0) -> list[cst.BaseExpression]:
        """The expressions `node` may evaluate to, following names, parameters, `self.x`,
        `args.x` and dict configs; `node` itself when nothing can be followed."""
        if depth > _MAX_DEPTH:
            return [node]
        key = (id(node), depth, self._across_files)
        entry = self._expressions.get(key)
        if entry is None:
            # The node is kept with its answer: its id cannot be reused by another node.
            entry = self._expressions[key] = (node, self._follow(node, depth))
        return list(entry[1])

    def _follow(self, node: cst.BaseExpression, depth: int) -> list[cst.BaseExpression]:
        if isinstance(node, cst.Name) and node.value not in ("True", "False", "None"):
            found: list[cst.BaseExpression] = []
            for binding in self.reaching(node):
                # A binding whose value cannot be followed (a loop target, an import, `+=`)
                # leaves the name itself among the candidates: it may hold anything.
                found.extend(self._binding_expressions(binding, depth + 1) or [node])
            return list({id(value): value for value in found}.values()) or [node]
        if isinstance(node, cst.Attribute):
            followed = self._attribute_values(node, depth + 1)
            return followed or [node]
        if isinstance(node, cst.Subscript):
            followed = self._dict_entry(node, depth + 1)
            return followed or [node]
        return [node]

    # -- every assignment of a scope (flow-insensitive) ---------------------------------
    def assignments(self, name: str, scope_node: cst.CSTNode) -> tuple[cst.CSTNode, list[cst.BaseExpression]]:
        """The def or module whose scope binds `name` as code directly in `scope_node` (a
        def or the module) sees it, and the values its assignments there give it."""
        found = self.model.lookup_in(name, self.model.scope(scope_node))
        owner = found[0].node if found is not None else scope_node
        return owner, self.assigned(name, owner)

    def every_assignment(self, name: cst.Name) -> list[cst.BaseExpression]:
        """The values every assignment of the scope that binds `name` gives it, wherever
        they sit in that scope (not only those that reach this use)."""
        scope = self.model.scope_of(name)
        return self.assignments(name.value, scope.node)[1]

    def assignments_in(self, scope_node: cst.CSTNode) -> list[tuple[str, cst.BaseExpression]]:
        """(name, value) of every assignment of `scope_node`'s own scope (see `assigned`)."""
        return [
            (name, value)
            for name in self.model.scope(scope_node).bindings
            for value in self.assigned(name, scope_node)
        ]

    def assigned(self, name: str, scope_node: cst.CSTNode) -> list[cst.BaseExpression]:
        """The values the assignments in `scope_node`'s own scope give `name`, in source
        order, wherever they sit in it (for questions every assignment must agree on, such
        as "is this always an array"). An unpacking target gives its element of a literal
        tuple, nothing otherwise."""
        values = []
        for binding in self.model.scope(scope_node).bindings.get(name, ()):
            if binding.kind != "assignment" or binding.value is None:
                continue
            value: cst.BaseExpression | None = binding.value
            for index in binding.element:
                value = _element(value, index) if value is not None else None
            if value is not None:
                values.append(value)
        return values

    def _binding_expressions(self, binding: Binding, depth: int) -> list[cst.BaseExpression]:
        if binding.kind == "parameter":
            values = [binding.value] if binding.value is not None else []
            values.extend(self.calls.argument_values(binding))
            return [v for value in values for v in self.expressions(value, depth)]
        if binding.kind in ("assignment", "walrus") and binding.value is not None:
            value = binding.value
            for index in binding.element:
                value = _element(value, index)
                if value is None:
                    return []
            return self.expressions(value, depth)
        return []

    def constants(self, node: cst.BaseExpression) -> list[Any]:
        """Every constant `node` may fold to; UNKNOWN among them when one does not fold."""
        return [self.fold(expression) for expression in self.expressions(node)]

    def constant(self, node: cst.BaseExpression | None, default: Any = UNKNOWN) -> Any:
        """The one constant `node` folds to, or `default` when it has none or several."""
        value = UNKNOWN if node is None else self.fold(node)
        return default if value is UNKNOWN else value

    def number(self, node: cst.BaseExpression | None) -> int | float | None:
        """The one number (not a bool) `node` folds to, or None."""
        value = self.constant(node)
        return value if _number(value) else None

    def fold(self, node: cst.BaseExpression, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            return UNKNOWN
        if isinstance(node, cst.Integer | cst.Float | cst.SimpleString | cst.ConcatenatedString):
            try:
                return node.evaluated_value
            except Exception:  # an f-string piece or bytes that does not evaluate
                return UNKNOWN
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.value]
            value = self._single(node, depth)
            return value if value is not UNKNOWN else self._from_project(node)
        if isinstance(node, cst.UnaryOperation):
            value = self.fold(node.expression, depth + 1)
            if isinstance(value, int | float) and not isinstance(value, bool):
                if isinstance(node.operator, cst.Minus):
                    return -value
                if isinstance(node.operator, cst.Plus):
                    return value
            if isinstance(node.operator, cst.Not) and value is not UNKNOWN:
                return not value
            return UNKNOWN
        if isinstance(node, cst.BinaryOperation):
            apply = _ARITHMETIC.get(type(node.operator))
            left, right = self.fold(node.left, depth + 1), self.fold(node.right, depth + 1)
            if apply is None or not _number(left) or not _number(right):
                return UNKNOWN
            try:
                return apply(left, right)
            except (ArithmeticError, ValueError):
                return UNKNOWN
        if isinstance(node, cst.Tuple | cst.List):
            items = [
                self.fold(e.value, depth + 1) for e in node.elements if not isinstance(e, cst.StarredElement)
            ]
            if len(items) != len(node.elements) or UNKNOWN in items:
                return UNKNOWN
            return tuple(items) if isinstance(node, cst.Tuple) else items
        if isinstance(node, cst.Attribute | cst.Subscript):
            value = self._single(node, depth)
            if value is UNKNOWN and isinstance(node, cst.Attribute):
                return self._from_project(node)
            if value is UNKNOWN and isinstance(node, cst.Subscript):
                return self._project_entry(node, depth)
            return value
        if isinstance(node, cst.Call) and len(node.args) == 1 and not node.args[0].keyword:
            return self._builtin_call(node, depth)
        return UNKNOWN

    def _builtin_call(self, node: cst.Call, depth: int) -> Any:
        """`len(...)` of a folded sequence, `int(...)`/`float(...)` of a folded number."""
        name = self.model.qualified_name(node.func)
        if name not in ("builtins.len", "builtins.int", "builtins.float") or node.args[0].star:
            return UNKNOWN
        value = self.fold(node.args[0].value, depth + 1)
        if name == "builtins.len":
            return len(value) if isinstance(value, list | tuple | str) else UNKNOWN
        if not _number(value):
            return UNKNOWN
        return int(value) if name == "builtins.int" else float(value)

    def _from_project(self, node: cst.Name | cst.Attribute) -> Any:
        """The value of a constant of another module of the project, imported here."""
        found = self.imported_constant(node)
        return found.value if found is not None else UNKNOWN

    def imported_constant(self, node: cst.BaseExpression) -> Any:
        """The constant of another module of the project that a name or attribute
        imported here stands for (`.value`, `.path`, `.line`), or that another module
        gives a parameter of this one (`args.epochs`, see `_default_from_callers`); None."""
        found = self._from_imports(node, "constant")
        if found is None and self._across_files:
            found = self._default_from_callers(node) or self._default_from_imported_parser(node)
        return found

    @contextmanager
    def across_files(self) -> Iterator[None]:
        """Within it, what a parameter's options hold (`args.epochs`) is also looked for
        in the project's other modules: the parsers of the modules that call this file's
        function, or of the parser function this file imports. That reads other files, so
        a rule asks for it only about what it is about to report."""
        self._across_files = True
        try:
            yield
        finally:
            self._across_files = False

    def values_from_callers(self, name: cst.Name) -> list[tuple[Any, Any]] | None:
        """What the project's other modules give the parameter `name` of a top-level
        function of this file: (value, caller) for each of their calls, the parameter's
        default where a call leaves it out. None when no other module calls the function,
        or one passes something other than a literal (or `*args`)."""
        parameter = self._top_level_parameter(name)
        if parameter is None:
            return None
        function, index, default = parameter
        found = []
        for caller in self._project.callers(function.name.value, self._importer):
            literals = dict(caller.use.literals)
            literal = literals.get(str(index)) if index is not None else None
            literal = literal if literal is not None else literals.get(name.value)
            if literal is not None:
                found.append((ast.literal_eval(literal), caller))
            elif default is not None and not caller.use.passes(index, name.value):
                found.append((self.fold(default), caller))
            else:
                return None
        return found or None

    def _top_level_parameter(self, name: cst.Name) -> tuple[cst.FunctionDef, int | None, Any] | None:
        """(the def, the parameter's position, its default) when `name` is read where only
        a parameter of a top-level function of this file binds it."""
        if self._project is None or self._importer is None:
            return None
        found = self.model.lookup(name.value, name)
        if found is None or not found[1] or any(binding.kind != "parameter" for binding in found[1]):
            return None
        function = found[0].node
        if not any(statement is function for statement in self.model.module.body):
            return None
        positional = [*function.params.posonly_params, *function.params.params]
        index = next((i for i, param in enumerate(positional) if param is found[1][0].site), None)
        return function, index, found[1][0].value

    def _default_from_imported_parser(self, node: cst.BaseExpression) -> Any:
        """`opt.n_epochs` where `opt` holds parsed options and the parser is built in
        another module of the project, by a function this file imports (`from opts import
        parse_opts`, whose body calls `parse_args()`): that module's `default=` for it,
        when the imported parsers agree."""
        if self._project is None or not (
            isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
        ):
            return None
        parsers = []
        for bindings in self.model.module_scope.bindings.values():
            for binding in bindings:
                if binding.kind != "import" or binding.qualified is None:
                    continue
                function = self._project.function(binding.qualified, self._importer)
                if function is not None and any(
                    call.callee.rsplit(".", 1)[-1] in ("parse_args", "parse_known_args")
                    for call in function.calls
                ):
                    parsers.append((binding.name, function))
        if not parsers or not self._holds_options(node.value, {name for name, _ in parsers}):
            return None
        if self.calls.argparse_default(node.attr.value) is not None:
            return None  # the file's own parser has the option
        defaults = [self._project.summary(f.path).argument_defaults.get(node.attr.value) for _, f in parsers]
        defaults = [default for default in defaults if default is not None]
        if not defaults or any(default.value != defaults[0].value for default in defaults):
            return None
        return defaults[0]

    def _holds_options(self, receiver: cst.Name, parsers: set[str]) -> bool:
        """`receiver` is what `parse_args()` (or an imported parser function) returned, or
        a parameter given the options from outside."""
        if self._is_parsed_args(receiver, 0):
            return True
        assigned = [binding for binding in self.reaching(receiver) if binding.kind == "assignment"]
        return bool(assigned) and all(
            isinstance(binding.value, cst.Call)
            and isinstance(binding.value.func, cst.Name)
            and binding.value.func.value in parsers
            and not binding.element
            for binding in assigned
        )

    def _default_from_callers(self, node: cst.BaseExpression) -> Any:
        """`args.epochs` where `args` is a parameter of a top-level function that the
        project's other modules call with what `parser.parse_args()` returned: the
        `default=` their `add_argument("--epochs", ...)` gives, when they all agree (None
        when one gives none, or they differ: which one runs is not known)."""
        if not (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)):
            return None
        parameter = self._top_level_parameter(node.value)
        if parameter is None:
            return None
        function, index, _default = parameter
        defaults = []
        for caller in self._project.callers(function.name.value, self._importer):
            passed = caller.use.parsed_arguments
            if str(index) in passed or node.value.value in passed:
                default = self._project.summary(caller.path).argument_defaults.get(node.attr.value)
                if default is None:
                    return None
                defaults.append(default)
        if not defaults or any(default.value != defaults[0].value for default in defaults):
            return None
        return defaults[0]

    def imported_function(self, node: cst.BaseExpression) -> Any:
        """The top-level function of another module of the project that a name or
        attribute imported here stands for (a `project.Function`), or None."""
        return self._from_imports(node, "function")

    def imported_class(self, node: cst.BaseExpression) -> Any:
        """The top-level class of another module of the project that a name or attribute
        imported here stands for (a `project.ProjectClass`), or None."""
        return self._from_imports(node, "project_class")

    def _from_imports(self, node: cst.BaseExpression, kind: str) -> Any:
        """What the project's `kind` lookup finds for what `node` is imported as: the one
        candidate that resolves (a name from `from models import *` may come from any of
        the file's star imports; the project's modules say which defines it)."""
        if self._project is None or not isinstance(node, cst.Name | cst.Attribute):
            return None
        lookup = getattr(self._project, kind)
        found = [item for name in self.model.candidates(node) if (item := lookup(name, self._importer))]
        return found[0] if len(found) == 1 else None

    def _project_entry(self, node: cst.Subscript, depth: int) -> Any:
        """`CONFIG["epochs"]` of a dict another module of the project defines."""
        if self._project is None or len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return UNKNOWN
        if not isinstance(node.value, cst.Name | cst.Attribute):
            return UNKNOWN
        container = self._from_project(node.value)
        key = self.fold(node.slice[0].slice.value, depth + 1)
        if isinstance(container, dict) and key is not UNKNOWN:
            try:
                return container.get(key, UNKNOWN)
            except TypeError:  # an unhashable key
                return UNKNOWN
        return UNKNOWN

    def _single(self, node: cst.BaseExpression, depth: int) -> Any:
        """The constant every value a name, `self.x` or `cfg[k]` may have agrees on."""
        expressions = self.expressions(node, depth + 1)
        if any(expression is node for expression in expressions):
            return UNKNOWN
        values = [self.fold(expression, depth + 1) for expression in expressions]
        first = values[0]
        # 1, 1.0 and True are equal but not the same budget.
        agreed = all(v is not UNKNOWN and v == first and type(v) is type(first) for v in values)
        return first if agreed else UNKNOWN

    def range_bounds(self, node: cst.BaseExpression) -> tuple[Any, Any] | None:
        """(start, stop) of `range(...)` or `enumerate(range(...))`, folded where possible."""
        if not isinstance(node, cst.Call):
            return None
        name = self.model.qualified_name(node.func)
        if name == "builtins.enumerate" and node.args:
            return self.range_bounds(node.args[0].value)
        if name != "builtins.range" or not node.args or any(a.star for a in node.args):
            return None
        values = [self.constant(arg.value) for arg in node.args]
        if len(values) == 1:
            return 0, values[0]
        return values[0], values[1]

    # -- attributes and subscripts ---------------------------------------------------------
    def _attribute_values(self, node: cst.Attribute, depth: int) -> list[cst.BaseExpression]:
        receiver = node.value
        if not isinstance(receiver, cst.Name):
            return []
        attribute = node.attr.value
        cls = self._class_of_self(receiver)
        if cls is not None:
            return [v for value in _self_assignments(cls, attribute) for v in self.expressions(value, depth)]
        if self._is_parsed_args(receiver, depth):
            default = self.calls.argparse_default(attribute)
            return self.expressions(default, depth) if default is not None else []
        return []

    def _class_of_self(self, receiver: cst.Name) -> cst.ClassDef | None:
        """The class whose method has `receiver` as its first parameter."""
        scope = self.model.scope_of(receiver)
        while scope is not None and scope.kind in ("lambda", "comprehension"):
            scope = scope.parent
        if scope is None or scope.kind != "function" or scope.parent is None or scope.parent.kind != "class":
            return None
        params = scope.node.params.params
        if not params or params[0].name.value != receiver.value:
            return None
        if any(_decorator_name(d) == "staticmethod" for d in scope.node.decorators):
            return None
        return scope.parent.node

    def _is_parsed_args(self, receiver: cst.Name, depth: int) -> bool:
        """`receiver` is what `parse_args()` returned, or is given from outside this code
        (`def main(args)`, `args, _ = parser.parse_known_args()`) in a file that declares
        the option: no other assignment makes it something else."""
        assigned = [binding for binding in self.reaching(receiver) if binding.kind == "assignment"]
        if not assigned:
            return all(binding.kind == "parameter" for binding in self.reaching(receiver))
        return all(not binding.element and _parses_args(binding.value) for binding in assigned) or (
            len(assigned) == 1 and _parses_args(assigned[0].value, known=True)
        )

    def _dict_entry(self, node: cst.Subscript, depth: int) -> list[cst.BaseExpression]:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return []
        key = self.fold(node.slice[0].slice.value, depth + 1)
        if key is UNKNOWN:
            return []
        if isinstance(node.value, cst.Name) and self.mutated(node.value):
            return []
        found = []
        for container in self.expressions(node.value, depth):
            if not isinstance(container, cst.Dict):
                return []
            for element in container.elements:
                if isinstance(element, cst.DictElement) and self.fold(element.key, depth + 1) == key:
                    found.extend(self.expressions(element.value, depth))
        return found

    def mutated(self, name: cst.Name) -> bool:
        """Whether the container `name` is changed in place in the scope that binds it
        (`d.update(...)`, `d[k] = v`, `del d[k]`): its literal then says nothing."""
        found = self.model.lookup(name.value, name)
        if found is None:
            return False
        for node in walk(found[0].node):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                receiver = node.func.value
                if (
                    node.func.attr.value in _MUTATORS
                    and isinstance(receiver, cst.Name)
                    and receiver.value == name.value
                ):
                    return True
            target = node.target if isinstance(node, cst.AssignTarget | cst.AugAssign | cst.Del) else None
            if (
                isinstance(target, cst.Subscript)
                and isinstance(target.value, cst.Name)
                and target.value.value == name.value
            ):
                return True
        return False


# Methods that change a dict or list in place.
_MUTATORS = frozenset(
    ("update", "setdefault", "pop", "popitem", "clear", "append", "extend", "insert", "remove")
)


def _parses_args(value: cst.BaseExpression | None, known: bool = False) -> bool:
    """`parser.parse_args()`; with `known`, also `parser.parse_known_args()[0]` or the
    tuple `parse_known_args()` unpacks to."""
    if known and isinstance(value, cst.Subscript):
        value = value.value
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
        return False
    return value.func.attr.value == "parse_args" or (known and value.func.attr.value == "parse_known_args")


def _element(value: cst.BaseExpression, index: int) -> cst.BaseExpression | None:
    if isinstance(value, cst.Tuple | cst.List) and index < len(value.elements):
        element = value.elements[index]
        return None if isinstance(element, cst.StarredElement) else element.value
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decorator_name(decorator: cst.Decorator) -> str | None:
    node = decorator.decorator
    return node.value if isinstance(node, cst.Name) else None


def _self_assignments(cls: cst.ClassDef, attribute: str) -> list[cst.BaseExpression]:
    """Values given to `self.<attribute>` in the class's methods, or to the class attribute
    (a dataclass field's default)."""
    from green_lint.names import statements_of

    found = []
    for statement in statements_of(cls, enter_definitions=False):
        if isinstance(statement, cst.Assign | cst.AnnAssign) and statement.value is not None:
            targets = (
                [t.target for t in statement.targets]
                if isinstance(statement, cst.Assign)
                else [statement.target]
            )
            if any(isinstance(t, cst.Name) and t.value == attribute for t in targets):
                found.append(statement.value)
        if isinstance(statement, cst.FunctionDef) and statement.params.params:
            self_name = statement.params.params[0].name.value
            for inner in statements_of(statement, enter_definitions=False):
                if isinstance(inner, cst.Assign | cst.AnnAssign) and inner.value is not None:
                    targets = (
                        [t.target for t in inner.targets] if isinstance(inner, cst.Assign) else [inner.target]
                    )
                    if any(
                        isinstance(t, cst.Attribute)
                        and isinstance(t.value, cst.Name)
                        and t.value.value == self_name
                        and t.attr.value == attribute
                        for t in targets
                    ):
                        found.append(inner.value)
    return found
