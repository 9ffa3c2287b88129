"""Whether a model load reads the same thing every time it runs: its arguments use only
literals, module constants and pure calls on them (`os.path.join`, `Path(...)`), never a
parameter of the function or a name the loop changes.

Names are followed through the assignments of the scopes around the load; a name bound in
a way this does not follow (unpacking, a loop target, a walrus) counts as changing.
"""

from __future__ import annotations

import builtins

import libcst as cst

from green_lint.names import dotted_name, statements_of
from green_lint.rules._syntax import code
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_calls import bound_names_in
from green_lint.walk import children

# Calls whose result depends only on their arguments: an argument built with them from
# constants is a constant.
PURE_FUNCTIONS = frozenset(
    {
        "os.path.join",
        "os.path.abspath",
        "os.path.expanduser",
        "os.path.dirname",
        "os.path.realpath",
        "os.path.normpath",
        "os.getenv",
        "os.environ.get",
        "os.fspath",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "builtins.str",
        "builtins.open",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "torch.device",
        "onnxruntime.get_available_providers",
    }
)
PURE_METHODS = frozenset(
    {"joinpath", "with_suffix", "with_name", "resolve", "absolute", "expanduser", "format", "join", "get"}
)
# Names that need no binding of the file: fixed while the program runs.
BUILTIN_NAMES = frozenset(dir(builtins)) | {"__file__", "__name__"}


def read_names(expr: cst.CSTNode) -> tuple[list[cst.Name], bool]:
    """The names an expression reads (not attribute names or keywords), and whether it
    holds a lambda or a comprehension (their own scopes: not followed)."""
    names: list[cst.Name] = []
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Lambda | cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp):
            return names, True
        if isinstance(node, cst.Name):
            names.append(node)
        elif isinstance(node, cst.Attribute | cst.Arg):
            pending.append(node.value)
        else:
            pending.extend(children(node))
    return names, False


class Invariance:
    """Whether a load's arguments are the same every time it runs."""

    def __init__(self, context, analysis: Analysis) -> None:
        self.context = context
        self.analysis = analysis
        self._bindings: dict[int, dict[str, list]] = {}
        self._globals: set[str] | None = None

    # -- the two questions -------------------------------------------------------------
    def in_function(self, call: cst.Call, func: cst.FunctionDef) -> bool:
        """Same arguments on every call of `func` (its parameters vary)."""
        name_ok = lambda name: self._name_in_function(name, func, set())  # noqa: E731
        return all(self._expression(arg.value, name_ok) for arg in call.args)

    def in_loop(self, call: cst.Call, loop: cst.CSTNode) -> bool:
        """Same arguments on every iteration of `loop`."""
        varying = set(self.analysis.bound_names(loop))
        assigned_attributes = {
            code(target)
            for target in _assignment_targets(loop)
            if isinstance(target, cst.Attribute | cst.Subscript)
        }

        def name_ok(name: str) -> bool:
            return name not in varying

        return all(self._expression(arg.value, name_ok, assigned_attributes) for arg in call.args)

    def only_module_names(self, call: cst.Call, func: cst.FunctionDef) -> bool:
        """Whether the load reads only module-level names (it can move to module level)."""
        names, complex_ = read_names(call)
        if complex_:
            return False
        local = set()
        for info in self.analysis.enclosing_functions(func):
            local.update(self.analysis.bound_names(info.node))
        module_names = self.analysis.bound_names(self.context.module)
        for name in names:
            if name.value in local:
                return False
            if name.value in module_names:
                statement = self.context.semantic.import_statement(name)
                if statement is not None and not _top_level(self.context.module, statement):
                    return False
            elif name.value not in BUILTIN_NAMES:
                return False
        return True

    # -- expressions ---------------------------------------------------------------------
    def _expression(self, expr: cst.CSTNode, name_ok, mutated: frozenset | set = frozenset()) -> bool:
        check = lambda e: self._expression(e, name_ok, mutated)  # noqa: E731
        if mutated and code(expr) in mutated:
            return False
        if isinstance(expr, cst.Call):
            if not all(check(arg.value) for arg in expr.args):
                return False
            return self._pure_callee(expr.func, check)
        if isinstance(expr, cst.Name):
            if expr.value in ("True", "False", "None"):
                return True
            return name_ok(expr.value)
        if isinstance(expr, cst.Attribute):
            return check(expr.value)
        if isinstance(expr, cst.BaseNumber | cst.SimpleString):
            return True
        if isinstance(expr, cst.ConcatenatedString):
            return check(expr.left) and check(expr.right)
        if isinstance(expr, cst.FormattedString):
            return all(
                check(part.expression)
                for part in expr.parts
                if isinstance(part, cst.FormattedStringExpression)
            )
        if isinstance(expr, cst.BinaryOperation):
            return check(expr.left) and check(expr.right)
        if isinstance(expr, cst.UnaryOperation):
            return check(expr.expression)
        if isinstance(expr, cst.Tuple | cst.List | cst.Set):
            return all(check(element.value) for element in expr.elements)
        if isinstance(expr, cst.Dict):
            return all(
                isinstance(element, cst.DictElement) and check(element.key) and check(element.value)
                for element in expr.elements
            )
        if isinstance(expr, cst.Subscript):
            return check(expr.value) and all(
                isinstance(element.slice, cst.Index) and check(element.slice.value) for element in expr.slice
            )
        return False

    def _pure_callee(self, func: cst.BaseExpression, check) -> bool:
        candidates = self.context.semantic.candidates(func)
        for qualified in candidates:
            if qualified in PURE_FUNCTIONS or qualified.startswith("os.path."):
                return True
        if isinstance(func, cst.Attribute) and not candidates:
            return func.attr.value in PURE_METHODS and check(func.value)
        return False

    # -- names -------------------------------------------------------------------------
    def _name_in_function(self, name: str, func: cst.FunctionDef | None, seen: set) -> bool:
        for info in self.analysis.enclosing_functions(func):
            if name in info.parameter_names() or name in _star_parameters(info.node):
                return False
            bindings = self._scope_bindings(info.node)
            if name in bindings:
                return self._bound_values_invariant(name, info.node, bindings[name], seen)
            if name in self.analysis.bound_names(info.node):
                return False  # bound in a way we do not follow (walrus, except ... as)
        bindings = self._scope_bindings(self.context.module)
        if name in bindings:
            values = bindings[name]
            if name in self._declared_global():
                return False
            # Bound once at module level, outside any loop: fixed once the module is loaded.
            if len(values) == 1 and values[0] != "vary":
                return True
            return self._bound_values_invariant(name, None, values, seen)
        return name in BUILTIN_NAMES

    def _declared_global(self) -> set[str]:
        if self._globals is None:
            self._globals = {
                item.name.value
                for statement in statements_of(self.context.module)
                if isinstance(statement, cst.Global)
                for item in statement.names
            }
        return self._globals

    def _bound_values_invariant(self, name: str, scope, values: list, seen: set) -> bool:
        key = (id(scope), name)
        if key in seen:
            return False
        seen = seen | {key}
        for value in values:
            if value == "fixed":
                continue
            if value == "vary":
                return False
            if not self._expression(value, lambda n: self._name_in_function(n, scope, seen)):
                return False
        return True

    def _scope_bindings(self, scope: cst.CSTNode) -> dict[str, list]:
        """name -> the values bound to it in `scope`: expressions, "fixed" (imports,
        definitions) or "vary" (loop targets, augmented assignments, unpacking)."""
        key = id(scope)
        if key in self._bindings:
            return self._bindings[key]
        found: dict[str, list] = {}
        for statement, in_loop in _statements_in_loops(scope):
            if in_loop and isinstance(scope, cst.Module):
                # At module level, what a loop binds changes while the module runs.
                for name in (
                    bound_names_in(statement) if not isinstance(statement, cst.BaseExpression) else []
                ):
                    found.setdefault(name, []).append("vary")
                continue
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    _bind(found, target.target, statement.value)
            elif isinstance(statement, cst.AnnAssign) and statement.value is not None:
                _bind(found, statement.target, statement.value)
            elif isinstance(statement, cst.AugAssign | cst.For):
                _bind(found, statement.target, "vary")
            elif isinstance(statement, cst.With):
                for item in statement.items:
                    if item.asname is not None:
                        _bind(found, item.asname.name, item.item)
            elif isinstance(statement, cst.FunctionDef | cst.ClassDef):
                found.setdefault(statement.name.value, []).append("fixed")
            elif isinstance(statement, cst.Import | cst.ImportFrom) and not isinstance(
                statement.names, cst.ImportStar
            ):
                for alias in statement.names:
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        local = alias.asname.name.value
                    else:
                        local = (dotted_name(alias.name) or "").split(".", 1)[0]
                    found.setdefault(local, []).append("fixed")
        self._bindings[key] = found
        return found


def _statements_in_loops(scope: cst.CSTNode, in_loop: bool = False):
    """(statement, inside a loop of the scope?) for the statements of `scope`, nested
    functions and classes yielded but not entered."""
    body = scope.body if isinstance(scope, cst.Module) else getattr(scope, "body", None)
    if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
        body = body.body
    for statement in body if isinstance(body, list | tuple) else ():
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                yield small, in_loop
        else:
            yield from _compound_in_loops(statement, in_loop)


def _compound_in_loops(statement: cst.CSTNode, in_loop: bool):
    yield statement, in_loop
    if isinstance(statement, cst.FunctionDef | cst.ClassDef):
        return
    inner = in_loop or isinstance(statement, cst.For | cst.While)
    yield from _statements_in_loops(statement, inner)
    for part in ("orelse", "finalbody"):
        extra = getattr(statement, part, None)
        if isinstance(extra, cst.If):  # elif
            yield from _compound_in_loops(extra, in_loop)
        elif extra is not None:
            yield from _statements_in_loops(extra, in_loop)
    for handler in getattr(statement, "handlers", ()):
        yield from _statements_in_loops(handler, in_loop)


def _bind(found: dict[str, list], target: cst.BaseExpression, value) -> None:
    if isinstance(target, cst.Name):
        found.setdefault(target.value, []).append(value)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _bind(found, element.value, "vary")
    elif isinstance(target, cst.StarredElement):
        _bind(found, target.value, "vary")


def _star_parameters(func: cst.FunctionDef) -> list[str]:
    names = []
    for star in (func.params.star_arg, func.params.star_kwarg):
        if isinstance(star, cst.Param):
            names.append(star.name.value)
    return names


def _assignment_targets(node: cst.CSTNode) -> list[cst.BaseExpression]:
    targets = []
    for statement in statements_of(node) if not isinstance(node, cst.BaseExpression) else []:
        if isinstance(statement, cst.Assign):
            targets.extend(t.target for t in statement.targets)
        elif isinstance(statement, cst.AnnAssign | cst.AugAssign):
            targets.append(statement.target)
    return targets


def _top_level(module: cst.Module, statement: cst.CSTNode) -> bool:
    return any(
        isinstance(line, cst.SimpleStatementLine) and any(s is statement for s in line.body)
        for line in module.body
    )
