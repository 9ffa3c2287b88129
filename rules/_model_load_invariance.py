"""Whether a model load reads the same thing every time it runs: its arguments use only
literals, module constants and pure calls on them (`os.path.join`, `Path(...)`), never a
parameter of the function or a name the loop changes.

Names are followed, from where they are used, to the bindings of the scope that binds them
(the semantic model); a name bound in a way this does not follow (unpacking, a loop target,
a walrus) counts as changing.
"""

from __future__ import annotations

import builtins

import libcst as cst

from green_lint.names import statements_of
from green_lint.rules._syntax import code
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

    def __init__(self, context) -> None:
        self.context = context
        self.semantic = context.semantic
        self._globals: set[str] | None = None

    # -- the two questions -------------------------------------------------------------
    def in_function(self, call: cst.Call) -> bool:
        """Same arguments every time the function holding the call runs (its parameters
        vary)."""
        name_ok = lambda name: self._name_invariant(name, set())  # noqa: E731
        return all(self._expression(arg.value, name_ok) for arg in call.args)

    def in_loop(self, call: cst.Call, loop: cst.CSTNode) -> bool:
        """Same arguments on every iteration of `loop`."""
        assigned_attributes = {
            code(target)
            for target in _assignment_targets(loop)
            if isinstance(target, cst.Attribute | cst.Subscript)
        }

        def name_ok(name: cst.Name) -> bool:
            return not self.rebound_in(name, loop)

        return all(self._expression(arg.value, name_ok, assigned_attributes) for arg in call.args)

    def rebound_in(self, name: cst.Name, loop: cst.CSTNode) -> bool:
        """Whether `loop` binds what `name` stands for where it is used (a binding inside
        the loop, its target, a comprehension of the loop): it may change per iteration."""
        found = self.semantic.lookup(name.value, name)
        if found is None:
            return False
        scope, bindings = found
        if scope.kind == "comprehension" and self._inside(scope.node, loop):
            return True
        return any(self._inside(binding.site, loop) for binding in bindings)

    def _inside(self, node: cst.CSTNode, loop: cst.CSTNode) -> bool:
        if node is loop:
            return True
        location = self.semantic.locate(node)
        # A `for`/`while` loop is one of the statements holding the node; a comprehension
        # is one of the scopes around it.
        return any(held is loop for held in location.statements) or any(
            held is loop for held in location.scope_nodes
        )

    def only_module_names(self, call: cst.Call) -> bool:
        """Whether the load reads only module-level names (it can move to module level)."""
        names, complex_ = read_names(call)
        if complex_:
            return False
        for name in names:
            found = self.semantic.lookup(name.value, name)
            if found is None:
                if name.value not in BUILTIN_NAMES:
                    return False
            elif found[0].kind != "module":
                return False
            else:
                statement = self.semantic.import_statement(name)
                if statement is not None and not _top_level(self.context.module, statement):
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
            return name_ok(expr)
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
    def _name_invariant(self, name: cst.Name, seen: set) -> bool:
        """Whether `name` holds the same value every time its function runs: bound only to
        invariant expressions, imports and definitions, in its function or at module level."""
        found = self.semantic.lookup(name.value, name)
        if found is None:
            return name.value in BUILTIN_NAMES
        scope, bindings = found
        if scope.kind not in ("function", "module"):
            return False  # a comprehension's or a lambda's own name: changes per item
        if any(binding.kind == "parameter" for binding in bindings):
            return False
        at_module = scope.kind == "module"
        values = [
            value for binding in bindings if (value := self._bound_value(binding, at_module)) is not None
        ]
        if not values:
            return False
        if at_module:
            if name.value in self._declared_global():
                return False
            # Bound once at module level, outside any loop: fixed once the module is loaded.
            if len(values) == 1 and values[0] != "vary":
                return True
        key = (id(scope.node), name.value)
        if key in seen:
            return False
        seen = seen | {key}
        for value in values:
            if value == "fixed":
                continue
            if value == "vary":
                return False
            if not self._expression(value, lambda inner: self._name_invariant(inner, seen)):
                return False
        return True

    def _bound_value(self, binding, at_module: bool):
        """What a binding gives its name: an expression, "fixed" (an import, a definition),
        "vary" (a loop target, an augmented assignment, unpacking, a walrus, a binding in a
        module-level loop...) or None (a declaration without a value, a `del`)."""
        kind = binding.kind
        if kind == "deletion" or (isinstance(binding.statement, cst.AnnAssign) and binding.value is None):
            return None
        if at_module and self._in_module_loop(binding.site):
            return "vary"  # at module level, what a loop binds changes while the module runs
        if kind in ("import", "function", "class"):
            return "fixed"
        if kind in ("assignment", "with") and binding.value is not None and not binding.element:
            return binding.value
        return "vary"

    def _in_module_loop(self, site: cst.CSTNode) -> bool:
        return any(isinstance(held, cst.For | cst.While) for held in self.semantic.locate(site).statements)

    def _declared_global(self) -> set[str]:
        if self._globals is None:
            self._globals = {
                item.name.value
                for statement in statements_of(self.context.module)
                if isinstance(statement, cst.Global)
                for item in statement.names
            }
        return self._globals


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
